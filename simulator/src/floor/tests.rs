//! The floor model, stepped by hand with a controller that keeps its heartbeats alive.

use super::*;
use floorctl_protocol::packml::Command;

const CONVEYOR: &str = include_str!("../../../plc-maps/conveyor-cv4.toml");
const SORTER: &str = include_str!("../../../plc-maps/sorter-ts8.toml");

/// The floor with its two process images and a controller that keeps its heartbeats alive.
struct Rig {
    floor: Floor,
    cv: Image,
    so: Image,
    cmap: PlcMap,
    smap: PlcMap,
    now: u64,
}

impl Rig {
    fn new() -> Rig {
        let cmap = PlcMap::parse(CONVEYOR).unwrap();
        let smap = PlcMap::parse(SORTER).unwrap();
        let timing = FloorTiming {
            zone_ms: 100,
            divert_window_ms: 300,
            recirculation_ms: 500,
            induct_gap_ms: 50,
            chute_capacity: 2,
            acting_ms: 20,
            ..FloorTiming::default()
        };
        let mut rig = Rig {
            floor: Floor::new(cmap.clone(), smap.clone(), timing),
            cv: Image::for_map(&cmap),
            so: Image::for_map(&smap),
            cmap,
            smap,
            now: 0,
        };
        for z in 0..4 {
            rig.cv.set(rig.cmap.signal("zone_run").unwrap(), z, 1);
        }
        rig.start();
        rig
    }

    /// Sends a PackML command to the conveyor and lets the PLC act on it.
    fn command(&mut self, cmd: Command) {
        let p = self.cmap.packml.as_ref().unwrap();
        let seq = self.cmap.signal(&p.command_seq).unwrap();
        let next = self.cv.get(seq, 0) + 1;
        let value = u32::from(p.command_value(cmd).unwrap());
        self.cv.set(self.cmap.signal(&p.command).unwrap(), 0, value);
        self.cv.set(seq, 0, next);
        self.run(50, true);
    }

    /// Resets and starts both machines, as the controller does.
    fn start(&mut self) {
        for cmd in [Command::Reset, Command::Start] {
            for (map, img) in [(&self.cmap, &mut self.cv), (&self.smap, &mut self.so)] {
                let p = map.packml.as_ref().unwrap();
                let seq = map.signal(&p.command_seq).unwrap();
                let next = img.get(seq, 0) + 1;
                img.set(
                    map.signal(&p.command).unwrap(),
                    0,
                    u32::from(p.command_value(cmd).unwrap()),
                );
                img.set(seq, 0, next);
            }
            self.run(50, true);
        }
    }

    /// Advances `ms` in 10 ms steps, the controller's heartbeats ticking when `alive`.
    fn run(&mut self, ms: u64, alive: bool) {
        for _ in 0..ms / 10 {
            self.now += 10;
            if alive {
                let hb = (self.now / 10) as u32;
                self.cv
                    .set(self.cmap.signal("ctl_heartbeat").unwrap(), 0, hb);
                self.so
                    .set(self.smap.signal("ctl_heartbeat").unwrap(), 0, hb);
            }
            self.floor.step(self.now, &mut self.cv, &mut self.so);
        }
    }

    fn so(&self, name: &str) -> u32 {
        self.so.get(self.smap.signal(name).unwrap(), 0)
    }

    fn divert(&mut self, tote: u32, chute: u32, seq: u32) {
        self.so
            .set(self.smap.signal("divert_tote").unwrap(), 0, tote);
        self.so
            .set(self.smap.signal("divert_chute").unwrap(), 0, chute);
        self.so.set(self.smap.signal("divert_seq").unwrap(), 0, seq);
    }

    /// Places a tote, diverts it at the induct under `seq` and acknowledges its result.
    fn sort_through(&mut self, tote: u32, chute: u32, seq: u32) {
        self.floor.place_tote(tote);
        self.run(500, true);
        self.divert(tote, chute, seq);
        self.run(400, true);
        self.ack_confirm();
    }

    fn ack_confirm(&mut self) {
        let seq = self.so("confirm_seq");
        self.so
            .set(self.smap.signal("confirm_ack_seq").unwrap(), 0, seq);
    }
}

#[test]
fn a_placed_tote_is_scanned_at_the_entry_and_read_at_the_induct() {
    let mut rig = Rig::new();
    rig.run(20, true);
    rig.floor.place_tote(42);
    rig.run(20, true);
    assert_eq!(rig.cv.get(rig.cmap.signal("entry_tote").unwrap(), 0), 42);
    assert_eq!(rig.cv.get(rig.cmap.signal("entry_seq").unwrap(), 0), 1);
    rig.run(500, true);
    assert_eq!((rig.so("induct_tote"), rig.so("induct_seq")), (42, 1));
}

#[test]
fn a_divert_in_time_sorts_the_tote_into_the_commanded_chute_once() {
    let mut rig = Rig::new();
    rig.floor.place_tote(7);
    rig.run(500, true);
    rig.divert(7, 3, 1);
    rig.run(20, true);
    assert_eq!(rig.so("divert_ack_seq"), 1);
    rig.run(400, true);
    assert_eq!(rig.floor.snapshot().chutes, BTreeMap::from([(3, vec![7])]));
    assert_eq!(
        (
            rig.so("confirm_tote"),
            rig.so("confirm_chute"),
            rig.so("confirm_outcome")
        ),
        (7, 3, SORTED)
    );
    // The same sequence number written again is not applied again.
    rig.divert(7, 3, 1);
    rig.run(400, true);
    assert_eq!(rig.floor.snapshot().chutes[&3], vec![7]);
}

#[test]
fn a_tote_without_a_divert_recirculates_and_comes_back() {
    let mut rig = Rig::new();
    rig.floor.place_tote(9);
    rig.run(900, true);
    assert_eq!(
        (rig.so("confirm_tote"), rig.so("confirm_outcome")),
        (9, WINDOW_MISSED)
    );
    assert_eq!(rig.floor.snapshot().recirculations, 1);
    rig.run(600, true);
    assert_eq!(
        (rig.so("induct_tote"), rig.so("induct_seq")),
        (9, 2),
        "read again on its next pass"
    );
}

#[test]
fn sort_results_are_shown_one_at_a_time_until_acknowledged() {
    let mut rig = Rig::new();
    rig.floor.place_tote(1);
    rig.floor.place_tote(2);
    rig.run(1200, true);
    assert_eq!(
        (rig.so("confirm_tote"), rig.so("confirm_seq")),
        (1, 1),
        "the oldest result stays until acknowledged"
    );
    rig.ack_confirm();
    rig.run(20, true);
    assert_eq!((rig.so("confirm_tote"), rig.so("confirm_seq")), (2, 2));
}

#[test]
fn a_full_chute_sets_its_bit_and_turns_totes_away() {
    let mut rig = Rig::new();
    for (i, tote) in [11, 12, 13].into_iter().enumerate() {
        rig.sort_through(tote, 2, i as u32 + 1);
        rig.run(20, true);
    }
    assert_eq!(rig.floor.snapshot().chutes[&2], vec![11, 12]);
    assert_eq!(
        rig.so.get(rig.smap.signal("chute_full").unwrap(), 1),
        1,
        "chute 2's bit"
    );
    assert_eq!(rig.floor.snapshot().recirculations, 1);
}

#[test]
fn a_stale_controller_heartbeat_stops_the_line() {
    let mut rig = Rig::new();
    rig.run(100, true);
    rig.run(1200, false);
    assert!(rig.floor.snapshot().stopped_by_watchdog);
    rig.floor.place_tote(5);
    rig.run(600, false);
    assert_eq!(rig.so("induct_seq"), 0, "nothing inducted while stopped");
    assert_eq!(rig.cv.get(rig.cmap.signal("zone_running").unwrap(), 0), 0);
    assert_eq!(
        rig.floor.snapshot().states,
        (State::Stopped, State::Stopped)
    );
    rig.run(100, true);
    rig.start();
    rig.run(600, true);
    assert_eq!(
        rig.so("induct_tote"),
        5,
        "the line runs again once reset and started"
    );
}

fn rig_with(timing: impl FnOnce(&mut FloorTiming)) -> Rig {
    let mut rig = Rig::new();
    let mut t = rig.floor.timing.clone();
    timing(&mut t);
    rig.floor = Floor::new(rig.cmap.clone(), rig.smap.clone(), t);
    rig.start();
    rig
}

#[test]
fn a_jam_holds_the_conveyor_until_cleared_and_unheld() {
    let mut rig = Rig::new();
    rig.floor.jam(2);
    rig.run(100, true);
    assert_eq!(rig.floor.snapshot().states.0, State::Held);
    assert_eq!(rig.cv.get(rig.cmap.signal("zone_fault").unwrap(), 2), 1);
    assert_eq!(rig.cv.get(rig.cmap.signal("zone_running").unwrap(), 0), 0);
    rig.floor.clear_jam(2);
    rig.run(100, true);
    assert_eq!(
        rig.floor.snapshot().states.0,
        State::Held,
        "held until unheld"
    );
    rig.command(Command::Unhold);
    assert_eq!(rig.floor.snapshot().states.0, State::Execute);
}

#[test]
fn random_jams_and_no_reads_follow_their_rates() {
    let mut rig = rig_with(|t| {
        t.no_read_rate = 1.0;
        t.jam_rate = 0.0;
    });
    rig.floor.place_tote(3);
    rig.run(700, true);
    assert_eq!(
        (rig.so("induct_tote"), rig.so("induct_seq")),
        (0, 1),
        "a no-read shows tote 0"
    );
    rig.divert(3, 1, 1);
    rig.run(400, true);
    assert_eq!(
        (rig.so("confirm_tote"), rig.so("confirm_outcome")),
        (3, NO_READ)
    );

    let mut rig = rig_with(|t| t.jam_rate = 1.0);
    rig.floor.place_tote(4);
    rig.run(300, true);
    assert_eq!(
        rig.floor.snapshot().states.0,
        State::Held,
        "the first transfer jams"
    );
}

#[test]
fn disabled_chutes_lost_totes_and_operators_emptying_full_chutes() {
    let mut rig = rig_with(|t| t.chute_empty_ms = Some(800));
    rig.floor.disable_chute(1, true);
    rig.run(20, true);
    assert_eq!(rig.so.get(rig.smap.signal("chute_disabled").unwrap(), 0), 1);
    rig.floor.place_tote(5);
    rig.run(500, true);
    rig.divert(5, 1, 1);
    rig.run(400, true);
    assert_eq!(
        (rig.so("confirm_tote"), rig.so("confirm_outcome")),
        (5, CHUTE_DISABLED)
    );
    rig.ack_confirm();

    rig.floor.lose_next_tote();
    rig.run(1200, true);
    assert_eq!(rig.floor.snapshot().lost, vec![5]);
    assert_eq!(rig.so("confirm_outcome"), LOST);
    rig.ack_confirm();

    for (i, tote) in [6, 7].into_iter().enumerate() {
        rig.sort_through(tote, 2, i as u32 + 2);
    }
    rig.run(20, true);
    assert_eq!(
        rig.so.get(rig.smap.signal("chute_full").unwrap(), 1),
        1,
        "chute 2 full"
    );
    rig.run(900, true);
    assert_eq!(
        rig.so.get(rig.smap.signal("chute_full").unwrap(), 1),
        0,
        "emptied by an operator"
    );
    assert_eq!(rig.floor.snapshot().chutes_emptied, 1);
    assert_eq!(
        rig.floor.snapshot().chutes[&2],
        vec![6, 7],
        "every arrival is still recorded"
    );
}

#[test]
fn zone_motors_draw_energy_only_while_running() {
    let mut rig = Rig::new();
    rig.run(1000, true);
    let e = rig.floor.snapshot().zone_energy_kwh;
    assert!(
        (e[0] - 40.0 / 3.6e6).abs() < 5e-6,
        "about 40 J in the second: {e:?}"
    );
    rig.cv.set(rig.cmap.signal("zone_run").unwrap(), 0, 0);
    rig.run(1000, true);
    let after = rig.floor.snapshot().zone_energy_kwh;
    assert_eq!(after[0], e[0], "zone 0 asleep");
    assert!(after[1] > e[1]);
    let reg = rig.cv.value(rig.cmap.signal("zone_energy").unwrap(), 1);
    assert!(
        matches!(reg, Value::Number(k) if (k - after[1]).abs() < 1e-6),
        "{reg:?}"
    );
}

#[test]
fn a_speed_setpoint_beyond_the_limit_is_clamped_and_shown() {
    let mut rig = Rig::new();
    let sp = rig.cmap.signal("speed_setpoint").unwrap().clone();
    rig.cv.set_value(&sp, 0, &Value::Number(5.0)).unwrap();
    rig.run(20, true);
    assert_eq!(rig.cv.value(&sp, 0), Value::Number(3.0));
    assert_eq!(
        rig.cv.value(rig.cmap.signal("speed_actual").unwrap(), 0),
        Value::Number(3.0)
    );
}

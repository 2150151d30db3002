//! The physical floor: a conveyor that carries totes zone by zone to a sorter that reads each
//! tote at its induct, waits for the divert within its window and diverts or recirculates it.
//!
//! The model reads commands from and writes status to the PLCs' process images, through the
//! signal names of their maps, and advances with the time it is given.

use std::collections::{BTreeMap, VecDeque};

use floorctl_protocol::image::Image;
use floorctl_protocol::map::{PlcMap, Signal};

/// Timing and capacity of the simulated equipment.
#[derive(Debug, Clone)]
pub struct FloorTiming {
    /// Time a tote needs to cross one conveyor zone.
    pub zone_ms: u64,
    /// Time from the induct read to the divert point: the divert must arrive within it.
    pub divert_window_ms: u64,
    /// Time a recirculated tote takes to come back to the induct.
    pub recirculation_ms: u64,
    /// Least time between two totes read at the induct.
    pub induct_gap_ms: u64,
    /// Totes a chute holds before its full signal is set.
    pub chute_capacity: usize,
}

impl Default for FloorTiming {
    fn default() -> Self {
        FloorTiming {
            zone_ms: 400,
            divert_window_ms: 1500,
            recirculation_ms: 3000,
            induct_gap_ms: 300,
            chute_capacity: 10_000,
        }
    }
}

/// Outcome codes of the sorter map.
const SORTED: u32 = 1;
const WINDOW_MISSED: u32 = 2;
const CHUTE_FULL: u32 = 3;

/// A tote on the sorter, read at the induct and travelling to the divert point.
#[derive(Debug, Clone)]
struct AtInduct {
    tote: u32,
    divert_at: u64,
    chute: Option<u16>,
}

/// One sort result waiting for the controller's acknowledgement.
#[derive(Debug, Clone, Copy)]
struct Confirm {
    tote: u32,
    chute: u16,
    outcome: u32,
    seq: u16,
}

/// What is where on the floor, for tests and progress lines.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FloorSnapshot {
    /// Totes in each chute, in arrival order.
    pub chutes: BTreeMap<u16, Vec<u32>>,
    /// Totes placed on the conveyor so far.
    pub placed: usize,
    /// Times a tote went round the sorter again.
    pub recirculations: usize,
    /// Whether the conveyor and sorter are stopped for a stale controller heartbeat.
    pub stopped_by_watchdog: bool,
}

/// A signal looked up once, by name, in a validated map.
fn sig<'m>(map: &'m PlcMap, name: &str) -> &'m Signal {
    map.signal(name)
        .unwrap_or_else(|| panic!("validated {} map lacks `{name}`", map.kind))
}

/// Tracks a counter the other side must keep changing.
#[derive(Debug, Clone, Default)]
struct Watchdog {
    last: u32,
    changed_at: u64,
}

impl Watchdog {
    fn fresh(&mut self, value: u32, now: u64, stale_after_ms: u64) -> bool {
        if value != self.last {
            self.last = value;
            self.changed_at = now;
        }
        now.saturating_sub(self.changed_at) <= stale_after_ms && value != 0
    }
}

/// Increments a 16-bit sequence number, skipping 0 (which means "none").
fn next_seq(seq: u16) -> u16 {
    seq.checked_add(1).unwrap_or(1)
}

/// The floor model.
#[derive(Debug)]
pub struct Floor {
    conveyor_map: PlcMap,
    sorter_map: PlcMap,
    timing: FloorTiming,
    entry: VecDeque<u32>,
    /// Per zone: the tote in it and when it entered the zone.
    zones: Vec<Option<(u32, u64)>>,
    entry_seq: u16,
    induct_queue: VecDeque<u32>,
    recirculating: Vec<(u64, u32)>,
    /// Totes read at the induct and travelling to the divert point, oldest first.
    on_sorter: VecDeque<AtInduct>,
    last_induct_at: Option<u64>,
    induct_seq: u16,
    last_divert_seq: u32,
    confirms: VecDeque<Confirm>,
    confirm_seq: u16,
    chutes: BTreeMap<u16, Vec<u32>>,
    placed: usize,
    recirculations: usize,
    heartbeat: u16,
    conveyor_watchdog: Watchdog,
    sorter_watchdog: Watchdog,
    stopped: bool,
}

impl Floor {
    /// A floor with empty conveyor and sorter.
    pub fn new(conveyor_map: PlcMap, sorter_map: PlcMap, timing: FloorTiming) -> Floor {
        let zones = sig(&conveyor_map, "zone_run").count as usize;
        Floor {
            conveyor_map,
            sorter_map,
            timing,
            entry: VecDeque::new(),
            zones: vec![None; zones],
            entry_seq: 0,
            induct_queue: VecDeque::new(),
            recirculating: Vec::new(),
            on_sorter: VecDeque::new(),
            last_induct_at: None,
            induct_seq: 0,
            last_divert_seq: 0,
            confirms: VecDeque::new(),
            confirm_seq: 0,
            chutes: BTreeMap::new(),
            placed: 0,
            recirculations: 0,
            heartbeat: 0,
            conveyor_watchdog: Watchdog::default(),
            sorter_watchdog: Watchdog::default(),
            stopped: false,
        }
    }

    /// A picker puts a closed tote at the conveyor entry.
    pub fn place_tote(&mut self, tote: u32) {
        self.entry.push_back(tote);
        self.placed += 1;
    }

    /// What is where.
    pub fn snapshot(&self) -> FloorSnapshot {
        FloorSnapshot {
            chutes: self.chutes.clone(),
            placed: self.placed,
            recirculations: self.recirculations,
            stopped_by_watchdog: self.stopped,
        }
    }

    /// Advances the floor to `now`, reading commands from and writing status to the images.
    pub fn step(&mut self, now: u64, conveyor: &mut Image, sorter: &mut Image) {
        self.heartbeat = next_seq(self.heartbeat);
        let cm = &self.conveyor_map;
        let sm = &self.sorter_map;
        conveyor.set(sig(cm, "plc_heartbeat"), 0, u32::from(self.heartbeat));
        sorter.set(sig(sm, "plc_heartbeat"), 0, u32::from(self.heartbeat));
        let conveyor_alive = self.conveyor_watchdog.fresh(
            conveyor.get(sig(cm, &cm.handshakes.heartbeat.controller), 0),
            now,
            cm.handshakes.heartbeat.stale_after_ms,
        );
        let sorter_alive = self.sorter_watchdog.fresh(
            sorter.get(sig(sm, &sm.handshakes.heartbeat.controller), 0),
            now,
            sm.handshakes.heartbeat.stale_after_ms,
        );
        self.stopped = !(conveyor_alive && sorter_alive);
        self.step_conveyor(now, conveyor_alive, conveyor);
        self.step_sorter(now, sorter_alive, sorter);
    }

    fn step_conveyor(&mut self, now: u64, alive: bool, img: &mut Image) {
        let map = &self.conveyor_map;
        let n = self.zones.len();
        let running: Vec<bool> = (0..n as u16)
            .map(|z| alive && img.get(sig(map, "zone_run"), z) != 0)
            .collect();
        // Last zone hands over to the sorter induct, then each zone to the next, back to front.
        for z in (0..n).rev() {
            let Some((tote, since)) = self.zones[z] else {
                continue;
            };
            if !running[z] || now.saturating_sub(since) < self.timing.zone_ms {
                continue;
            }
            if z + 1 == n {
                self.induct_queue.push_back(tote);
                self.zones[z] = None;
            } else if self.zones[z + 1].is_none() && running[z + 1] {
                self.zones[z + 1] = Some((tote, now));
                self.zones[z] = None;
            }
        }
        if self.zones[0].is_none() && running[0] {
            if let Some(tote) = self.entry.pop_front() {
                self.zones[0] = Some((tote, now));
                self.entry_seq = next_seq(self.entry_seq);
                img.set(sig(map, "entry_tote"), 0, tote);
                img.set(sig(map, "entry_seq"), 0, u32::from(self.entry_seq));
            }
        }
        for (z, (zone, run)) in self.zones.iter().zip(&running).enumerate() {
            let blocked =
                zone.is_some_and(|(_, since)| now.saturating_sub(since) >= self.timing.zone_ms);
            let z = z as u16;
            img.set(sig(map, "zone_running"), z, u32::from(*run));
            img.set(sig(map, "zone_photo_eye"), z, u32::from(blocked));
            img.set(sig(map, "zone_fault"), z, 0);
        }
    }

    fn step_sorter(&mut self, now: u64, alive: bool, img: &mut Image) {
        let map = &self.sorter_map;
        // Recirculated totes come back to the induct.
        let (back, still): (Vec<_>, Vec<_>) =
            self.recirculating.iter().partition(|(due, _)| *due <= now);
        self.recirculating = still;
        self.induct_queue.extend(back.into_iter().map(|(_, t)| t));

        // A new divert command: accept each sequence number once.
        let seq = img.get(sig(map, "divert_seq"), 0);
        if seq != self.last_divert_seq {
            self.last_divert_seq = seq;
            img.set(sig(map, "divert_ack_seq"), 0, seq);
            let tote = img.get(sig(map, "divert_tote"), 0);
            let chute = img.get(sig(map, "divert_chute"), 0) as u16;
            if let Some(at) = self.on_sorter.iter_mut().find(|a| a.tote == tote) {
                at.chute = Some(chute);
            }
        }

        // Totes at the divert point go into their chute or round again.
        while let Some(at) = self.on_sorter.pop_front_if(|a| now >= a.divert_at) {
            let full =
                |c: u16| self.chutes.get(&c).map_or(0, Vec::len) >= self.timing.chute_capacity;
            let (chute, outcome) = match at.chute {
                Some(c) if full(c) => (0, CHUTE_FULL),
                Some(c) => (c, SORTED),
                None => (0, WINDOW_MISSED),
            };
            if outcome == SORTED {
                self.chutes.entry(chute).or_default().push(at.tote);
            } else {
                self.recirculations += 1;
                self.recirculating
                    .push((now + self.timing.recirculation_ms, at.tote));
            }
            self.confirm_seq = next_seq(self.confirm_seq);
            self.confirms.push_back(Confirm {
                tote: at.tote,
                chute,
                outcome,
                seq: self.confirm_seq,
            });
        }

        // The next tote is read at the induct while the controller's heartbeat is alive.
        let gap_passed = self
            .last_induct_at
            .is_none_or(|t| now.saturating_sub(t) >= self.timing.induct_gap_ms);
        if alive && gap_passed {
            if let Some(tote) = self.induct_queue.pop_front() {
                self.induct_seq = next_seq(self.induct_seq);
                self.last_induct_at = Some(now);
                img.set(sig(map, "induct_tote"), 0, tote);
                img.set(sig(map, "induct_seq"), 0, u32::from(self.induct_seq));
                self.on_sorter.push_back(AtInduct {
                    tote,
                    divert_at: now + self.timing.divert_window_ms,
                    chute: None,
                });
            }
        }

        // Sort results are shown one at a time until the controller acknowledges each.
        let acked = img.get(sig(map, "confirm_ack_seq"), 0) as u16;
        if self.confirms.front().is_some_and(|c| c.seq == acked) {
            self.confirms.pop_front();
        }
        if let Some(c) = self.confirms.front() {
            img.set(sig(map, "confirm_tote"), 0, c.tote);
            img.set(sig(map, "confirm_chute"), 0, u32::from(c.chute));
            img.set(sig(map, "confirm_outcome"), 0, c.outcome);
            img.set(sig(map, "confirm_seq"), 0, u32::from(c.seq));
        }

        let chutes = sig(map, "chute_full").count;
        for c in 0..chutes {
            let count = self.chutes.get(&(c + 1)).map_or(0, Vec::len);
            img.set(
                sig(map, "chute_full"),
                c,
                u32::from(count >= self.timing.chute_capacity),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CONVEYOR: &str = include_str!("../../plc-maps/conveyor-cv4.toml");
    const SORTER: &str = include_str!("../../plc-maps/sorter-ts8.toml");

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
            rig
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
            rig.floor.place_tote(tote);
            rig.run(500, true);
            rig.divert(tote, 2, i as u32 + 1);
            rig.run(400, true);
            rig.ack_confirm();
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
        rig.run(600, true);
        assert!(!rig.floor.snapshot().stopped_by_watchdog);
        assert_eq!(
            rig.so("induct_tote"),
            5,
            "the line runs again once the heartbeat is back"
        );
    }
}

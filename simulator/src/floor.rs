//! The physical floor: a conveyor that carries totes zone by zone to a sorter that reads each
//! tote at its induct, waits for the divert within its window and diverts or recirculates it.
//!
//! The model reads commands from and writes status to the PLCs' process images, through the
//! signal names of their maps, and advances with the time it is given.

use std::collections::{BTreeMap, VecDeque};

use floorctl_protocol::image::Image;
use floorctl_protocol::map::{PlcMap, Signal};
use floorctl_protocol::value::Value;
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

use crate::machine::Machine;
use floorctl_protocol::packml::State;

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
    /// Time an operator takes to empty a full chute (`None`: chutes are never emptied).
    pub chute_empty_ms: Option<u64>,
    /// Time a PackML acting state (Starting, Resetting, Holding, ...) takes.
    pub acting_ms: u64,
    /// Share of induct reads that fail (0 to 1).
    pub no_read_rate: f64,
    /// Chance that a tote jams a zone as it enters it (0 to 1).
    pub jam_rate: f64,
    /// Power a zone motor draws while running.
    pub zone_power_w: f64,
    /// Zone length: with a speed setpoint, a zone takes length / speed to cross.
    pub zone_length_m: f64,
    /// Fastest belt speed the PLC accepts; a higher setpoint is clamped to it.
    pub max_speed_mps: f64,
    /// Seed of the random faults.
    pub seed: u64,
}

impl Default for FloorTiming {
    fn default() -> Self {
        FloorTiming {
            zone_ms: 400,
            divert_window_ms: 1500,
            recirculation_ms: 3000,
            induct_gap_ms: 300,
            chute_capacity: 10_000,
            chute_empty_ms: None,
            acting_ms: 100,
            no_read_rate: 0.0,
            jam_rate: 0.0,
            zone_power_w: 40.0,
            zone_length_m: 1.0,
            max_speed_mps: 3.0,
            seed: 1,
        }
    }
}

/// Outcome codes of the sorter map.
const SORTED: u32 = 1;
const WINDOW_MISSED: u32 = 2;
const CHUTE_FULL: u32 = 3;
const NO_READ: u32 = 4;
const CHUTE_DISABLED: u32 = 5;
const LOST: u32 = 6;

/// A tote on the sorter, read at the induct and travelling to the divert point.
#[derive(Debug, Clone)]
struct AtInduct {
    tote: u32,
    /// Whether the induct scanner read it.
    read: bool,
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
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FloorSnapshot {
    /// Totes in each chute, in arrival order.
    pub chutes: BTreeMap<u16, Vec<u32>>,
    /// Totes placed on the conveyor so far.
    pub placed: usize,
    /// Times a tote went round the sorter again.
    pub recirculations: usize,
    /// Whether a watchdog has stopped the conveyor or the sorter for a stale controller heartbeat.
    pub stopped_by_watchdog: bool,
    /// PackML state of the conveyor and of the sorter.
    pub states: (State, State),
    /// Energy drawn per conveyor zone, kWh.
    pub zone_energy_kwh: Vec<f64>,
    /// Totes lost on the sorter.
    pub lost: Vec<u32>,
    /// Times an operator emptied a full chute.
    pub chutes_emptied: usize,
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
    conveyor_machine: Machine,
    sorter_machine: Machine,
    /// Zones jammed (fault bit set) until cleared.
    jams: Vec<bool>,
    /// Totes in each chute now (operators empty full ones); `chutes` keeps every arrival.
    chute_load: BTreeMap<u16, (usize, Option<u64>)>,
    disabled: Vec<bool>,
    lose_next: bool,
    lost: Vec<u32>,
    chutes_emptied: usize,
    energy_j: Vec<f64>,
    last_step: Option<u64>,
    rng: SmallRng,
}

impl Floor {
    /// A floor with empty conveyor and sorter.
    pub fn new(conveyor_map: PlcMap, sorter_map: PlcMap, timing: FloorTiming) -> Floor {
        let zones = sig(&conveyor_map, "zone_run").count as usize;
        let chutes = sig(&sorter_map, "chute_full").count as usize;
        let rng = SmallRng::seed_from_u64(timing.seed);
        Floor {
            conveyor_machine: Machine::new(),
            sorter_machine: Machine::new(),
            jams: vec![false; zones],
            chute_load: BTreeMap::new(),
            disabled: vec![false; chutes],
            lose_next: false,
            lost: Vec::new(),
            chutes_emptied: 0,
            energy_j: vec![0.0; zones],
            last_step: None,
            rng,
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
            states: (self.conveyor_machine.state(), self.sorter_machine.state()),
            zone_energy_kwh: self.energy_j.iter().map(|j| j / 3.6e6).collect(),
            lost: self.lost.clone(),
            chutes_emptied: self.chutes_emptied,
        }
    }

    /// Jams a zone (its fault bit is set; the conveyor holds) until [`Floor::clear_jam`].
    pub fn jam(&mut self, zone: usize) {
        if let Some(j) = self.jams.get_mut(zone) {
            *j = true;
        }
    }

    /// An operator clears a jammed zone.
    pub fn clear_jam(&mut self, zone: usize) {
        if let Some(j) = self.jams.get_mut(zone) {
            *j = false;
        }
    }

    /// Someone presses a machine's emergency stop: it goes to Aborted until it is cleared and
    /// reset.
    pub fn emergency_stop(&mut self, plc: crate::SimPlc) {
        match plc {
            crate::SimPlc::Conveyor => self.conveyor_machine.emergency_stop(),
            crate::SimPlc::Sorter => self.sorter_machine.emergency_stop(),
        }
    }

    /// An operator takes a chute out of service (or back in).
    pub fn disable_chute(&mut self, chute: u16, disabled: bool) {
        if let Some(d) = self.disabled.get_mut(usize::from(chute).wrapping_sub(1)) {
            *d = disabled;
        }
    }

    /// The next tote to reach the divert point falls off the sorter.
    pub fn lose_next_tote(&mut self) {
        self.lose_next = true;
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
        if !(conveyor_alive && sorter_alive) && now > cm.handshakes.heartbeat.stale_after_ms {
            self.stopped = true;
        }
        let jammed = self.jams.iter().any(|j| *j);
        let acting = self.timing.acting_ms;
        self.conveyor_machine
            .step(cm, conveyor, now, acting, !conveyor_alive, jammed);
        self.sorter_machine
            .step(sm, sorter, now, acting, !sorter_alive, false);
        let dt = now.saturating_sub(self.last_step.unwrap_or(now));
        self.last_step = Some(now);
        let conveyor_runs = conveyor_alive && self.conveyor_machine.executing();
        let sorter_runs = sorter_alive && self.sorter_machine.executing();
        self.step_conveyor(now, dt, conveyor_runs, conveyor);
        self.step_sorter(now, sorter_runs, sorter);
    }

    fn step_conveyor(&mut self, now: u64, dt: u64, alive: bool, img: &mut Image) {
        let map = &self.conveyor_map;
        let n = self.zones.len();
        let running: Vec<bool> = (0..n as u16)
            .map(|z| alive && img.get(sig(map, "zone_run"), z) != 0)
            .collect();
        let zone_ms = self.zone_ms(img);
        // Last zone hands over to the sorter induct, then each zone to the next, back to front.
        for z in (0..n).rev() {
            let Some((tote, since)) = self.zones[z] else {
                continue;
            };
            if !running[z] || now.saturating_sub(since) < zone_ms {
                continue;
            }
            if z + 1 == n {
                self.induct_queue.push_back(tote);
                self.zones[z] = None;
            } else if self.zones[z + 1].is_none() && running[z + 1] {
                self.zones[z + 1] = Some((tote, now));
                self.zones[z] = None;
                if self.timing.jam_rate > 0.0 && self.rng.gen_bool(self.timing.jam_rate.min(1.0)) {
                    self.jams[z + 1] = true;
                }
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
            let blocked = zone.is_some_and(|(_, since)| now.saturating_sub(since) >= zone_ms);
            if *run {
                self.energy_j[z] += self.timing.zone_power_w * dt as f64 / 1000.0;
            }
            let z16 = z as u16;
            img.set(sig(map, "zone_running"), z16, u32::from(*run));
            img.set(sig(map, "zone_photo_eye"), z16, u32::from(blocked));
            img.set(sig(map, "zone_fault"), z16, u32::from(self.jams[z]));
            if let Some(e) = map.signal("zone_energy") {
                img.set(e, z16, self.energy_j[z] as u32);
            }
        }
        if let Some(s) = map.signal("entry_present") {
            img.set(s, 0, u32::from(!self.entry.is_empty()));
        }
    }

    /// Time to cross a zone: from the speed setpoint when one is set (clamped to the PLC's
    /// limit, which the PLC writes back), otherwise the configured time.
    fn zone_ms(&self, img: &mut Image) -> u64 {
        let map = &self.conveyor_map;
        let Some(sp) = map.signal("speed_setpoint") else {
            return self.timing.zone_ms;
        };
        let speed = match img.value(sp, 0) {
            Value::Number(v) if v > 0.0 => v,
            _ => return self.timing.zone_ms,
        };
        let speed = if speed > self.timing.max_speed_mps {
            let limit = Value::Number(self.timing.max_speed_mps);
            let _ = img.set_value(sp, 0, &limit);
            self.timing.max_speed_mps
        } else {
            speed
        };
        if let Some(actual) = map.signal("speed_actual") {
            let _ = img.set_value(actual, 0, &Value::Number(speed));
        }
        (self.timing.zone_length_m / speed * 1000.0) as u64
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
                |c: u16| self.chute_load.get(&c).map_or(0, |l| l.0) >= self.timing.chute_capacity;
            let disabled =
                |c: u16| self.disabled.get(usize::from(c).wrapping_sub(1)) == Some(&true);
            let (chute, outcome) = match at.chute {
                _ if std::mem::take(&mut self.lose_next) => (0, LOST),
                _ if !at.read => (0, NO_READ),
                Some(c) if disabled(c) => (0, CHUTE_DISABLED),
                Some(c) if full(c) => (0, CHUTE_FULL),
                Some(c) => (c, SORTED),
                None => (0, WINDOW_MISSED),
            };
            if outcome == SORTED {
                self.chutes.entry(chute).or_default().push(at.tote);
                self.chute_load.entry(chute).or_default().0 += 1;
            } else if outcome == LOST {
                self.lost.push(at.tote);
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
                let read = !(self.timing.no_read_rate > 0.0
                    && self.rng.gen_bool(self.timing.no_read_rate.min(1.0)));
                img.set(sig(map, "induct_tote"), 0, if read { tote } else { 0 });
                img.set(sig(map, "induct_seq"), 0, u32::from(self.induct_seq));
                self.on_sorter.push_back(AtInduct {
                    tote,
                    read,
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

        // Operators empty a full chute after a while.
        for (&c, (load, full_since)) in self.chute_load.iter_mut() {
            let _ = c;
            if *load < self.timing.chute_capacity {
                *full_since = None;
                continue;
            }
            let since = *full_since.get_or_insert(now);
            if self
                .timing
                .chute_empty_ms
                .is_some_and(|ms| now.saturating_sub(since) >= ms)
            {
                *load = 0;
                *full_since = None;
                self.chutes_emptied += 1;
            }
        }
        let chutes = sig(map, "chute_full").count;
        for c in 0..chutes {
            let load = self.chute_load.get(&(c + 1)).map_or(0, |l| l.0);
            img.set(
                sig(map, "chute_full"),
                c,
                u32::from(load >= self.timing.chute_capacity),
            );
            if let Some(d) = map.signal("chute_disabled") {
                img.set(d, c, u32::from(self.disabled[usize::from(c)]));
            }
        }
    }
}

#[cfg(test)]
mod tests;

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

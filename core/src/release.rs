//! Paced release: orders wait until their cut-off is near (or the overnight pre-pick window),
//! pickers are handed released orders by priority and cut-off while work in process stays under
//! each zone's cap, and a cut-off whose orders cannot be finished in time at the current pick
//! rate raises an alarm.

use std::collections::BTreeMap;

use super::clock::{LocalClock, TimeOfDay};
use super::{Core, Millis, Note, OrderStatus, Reaction};
use crate::AlarmText;

/// How often the at-risk projection is made while orders with a due time are open.
pub(super) const RISK_CHECK_MS: Millis = 30_000;
/// The span over which the pick rate is measured.
pub(super) const RATE_WINDOW_MS: Millis = 600_000;
/// Lines confirmed within the window before the measured rate replaces the planned one.
const MIN_LINES_MEASURED: usize = 20;

/// A delivery cut-off.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cutoff {
    /// Name orders carry, for example `11:00`.
    pub name: String,
    /// Dispatch lane its totes are sorted to.
    pub lane: String,
    /// Orders received before this time of day without a cut-off of their own get this one
    /// (the earliest such cut-off still open).
    pub ordered_before: Option<TimeOfDay>,
    /// Every tote of the cut-off must be in its lane by this time of day.
    pub sorted_by: Option<TimeOfDay>,
}

impl Cutoff {
    /// A cut-off with a lane and no times: its orders are released at once and never due.
    pub fn untimed(name: &str, lane: &str) -> Cutoff {
        Cutoff {
            name: name.into(),
            lane: lane.into(),
            ordered_before: None,
            sorted_by: None,
        }
    }
}

/// An order not yet in its lane, as the projection sees it.
pub(super) struct OpenOrder<'a> {
    pub(super) key: super::QueueKey,
    pub(super) id: &'a str,
    /// Lines still to pick.
    pub(super) left: u64,
    pub(super) due: Option<Millis>,
    /// When it may be started.
    pub(super) start: Millis,
}

/// How orders are released to the floor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Release {
    /// An order is released this long before its cut-off's `sorted_by`.
    pub lead_ms: Millis,
    /// Orders being picked at once that touch one zone (0: no cap).
    pub wip_per_zone: u32,
    /// Zones by location prefix, longest prefix first.
    pub zones: Vec<(String, String)>,
    /// Pick rate assumed per picker logged in, until one has been measured.
    pub lines_per_picker_hour: u32,
    /// Time from a tote's close to its lane, allowed for in the projection.
    pub sort_allowance_ms: Millis,
    /// Daily window in which every known order is released (overnight pre-pick).
    pub prepick: Option<(TimeOfDay, TimeOfDay)>,
    /// The site's clock.
    pub clock: LocalClock,
}

impl Default for Release {
    fn default() -> Release {
        Release {
            lead_ms: 3 * 3_600_000,
            wip_per_zone: 0,
            zones: Vec::new(),
            lines_per_picker_hour: 120,
            sort_allowance_ms: 10 * 60_000,
            prepick: None,
            clock: LocalClock::default(),
        }
    }
}

impl Release {
    /// The zone of a location, when one is configured for it.
    pub fn zone_of(&self, location: &str) -> Option<&str> {
        self.zones
            .iter()
            .find(|(prefix, _)| location.starts_with(prefix.as_str()))
            .map(|(_, zone)| zone.as_str())
    }
}

/// Progress of one cut-off's orders.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Wave {
    /// Orders received for it.
    pub orders: usize,
    /// Orders waiting for their release time.
    pub waiting: usize,
    /// Orders whose tote is closed or further.
    pub picked: usize,
    /// Orders in their lane.
    pub sorted: usize,
    /// Earliest due time of its open orders, as of the last projection.
    pub due: Option<Millis>,
    /// Lines left to pick, as of the last projection.
    pub lines_left: u64,
    /// When its last open order is projected to be in its lane.
    pub projected: Option<Millis>,
    /// Projected to miss its due time.
    pub at_risk: bool,
    /// Held by a supervisor: no new trips start for its orders.
    pub held: bool,
    /// Orders in their lane by their due time.
    pub on_time: usize,
    /// Orders in their lane after their due time.
    pub late: usize,
    /// Pickers it takes, at the pace pickers go now, to have its lines and those due before
    /// it picked by its due time (as of the last projection); `None` when its time is up or
    /// nothing is left.
    #[serde(default)]
    pub pickers_needed: Option<u32>,
}

impl Core {
    /// When the core next needs a [`super::Event::Tick`]: an order's release time, the start of
    /// the pre-pick window, the next at-risk projection, a shelved alarm's time up, or an alarm
    /// leaving the rate's window.
    pub fn next_tick(&self) -> Option<Millis> {
        let r = &self.layout.release;
        let release = self.pending.first().map(|(at, _)| *at);
        let prepick = match (r.prepick, self.pending.is_empty()) {
            (Some((from, _)), false) => Some(r.clock.next(self.now, from)),
            _ => None,
        };
        let timed_open = self.layout.cutoffs.iter().any(|c| {
            c.sorted_by.is_some()
                && self
                    .summary
                    .waves
                    .get(&c.name)
                    .is_some_and(|w| w.sorted < w.orders || w.at_risk)
        });
        let risk = timed_open.then_some(self.last_projection + RISK_CHECK_MS);
        let moves = self
            .replenishments
            .values()
            .filter(|r| r.assigned.is_none() && r.not_before > self.now)
            .map(|r| r.not_before)
            .min();
        let shelved = self
            .summary
            .alarm_log
            .values()
            .filter_map(|a| a.shelved.as_ref().map(|s| s.until))
            .min();
        // The alarm rate falls as alarms age out of its window.
        let rate = self
            .recent_alarms
            .front()
            .map(|at| at + super::alarms::RATE_WINDOW_MS);
        [release, prepick, risk, moves, shelved, rate]
            .into_iter()
            .flatten()
            .min()
    }

    /// The clock moved: release what is due, project the cut-offs, give idle pickers work.
    pub(super) fn tick(&mut self, out: &mut Reaction) {
        self.unshelve_due();
        self.alarm_rate_now();
        self.release_due(out);
        if self.now >= self.last_projection + RISK_CHECK_MS {
            self.project(out);
        }
        self.wake_idle(out);
    }

    /// The cut-off for an order that came without one: the first whose `ordered_before` is
    /// still to come today, else tomorrow's first.
    pub(super) fn cutoff_by_time(&self, now: Millis) -> Option<String> {
        let now = self.layout.release.clock.time_of_day(now);
        let timed = || {
            self.layout
                .cutoffs
                .iter()
                .filter_map(|c| c.ordered_before.map(|t| (t, &c.name)))
        };
        timed()
            .filter(|(t, _)| now < *t)
            .min()
            .or_else(|| timed().min())
            .map(|(_, name)| name.clone())
    }

    /// When an order of cut-off `i` (of the layout's) received now is due in its lane: ordered
    /// past the cut-off's `ordered_before`, the next day's.
    pub(super) fn due_of(&self, i: usize, now: Millis) -> Option<Millis> {
        let r = &self.layout.release;
        let c = self.layout.cutoffs.get(i)?;
        let from = c.ordered_before.map_or(now, |t| r.clock.next(now, t));
        c.sorted_by.map(|t| r.clock.next(from, t))
    }

    /// When an order due at `due` may be released.
    pub(super) fn release_at(&self, due: Option<Millis>, now: Millis) -> Millis {
        let r = &self.layout.release;
        match due {
            None => 0,
            Some(_) if r.prepick.is_some_and(|(f, t)| r.clock.within(now, f, t)) => 0,
            Some(d) => d.saturating_sub(r.lead_ms),
        }
    }

    /// Releases every waiting order whose time has come (all of them in the pre-pick window).
    fn release_due(&mut self, out: &mut Reaction) {
        let r = &self.layout.release;
        let all = r
            .prepick
            .is_some_and(|(f, t)| r.clock.within(self.now, f, t));
        // Faces are looked at once the whole wave is released: one refill (or transfer) each
        // for the wave's demand, not one per order.
        let mut faces = std::collections::BTreeSet::new();
        while let Some((at, _)) = self.pending.first() {
            if !all && *at > self.now {
                break;
            }
            if let Some((_, id)) = self.pending.pop_first() {
                faces.extend(self.release_unchecked(&id, out));
            }
        }
        for location in faces {
            self.check_face(&location, false, out);
        }
    }

    /// Puts an order in the pickers' queue; the faces its lines draw on are looked at.
    pub(super) fn release(&mut self, id: &str, out: &mut Reaction) {
        for location in self.release_unchecked(id, out) {
            self.check_face(&location, false, out);
        }
    }

    /// Puts an order in the pickers' queue and returns the locations whose demand it raised.
    fn release_unchecked(&mut self, id: &str, out: &mut Reaction) -> Vec<String> {
        let Some((status, key)) = self.orders.get(id).map(|o| (o.status, o.key)) else {
            return Vec::new();
        };
        // Released for the first time: its lines are demand on their faces now.
        let raised = if status == OrderStatus::Waiting {
            self.add_demand(id, 1)
        } else {
            Vec::new()
        };
        self.queue.insert(key, id.to_string());
        self.set_order_status(id, OrderStatus::Released);
        self.record_order(id, out);
        raised
    }

    /// Whether every zone the order touches has room for one more order in process.
    pub(super) fn has_room(&self, id: &str) -> bool {
        let cap = self.layout.release.wip_per_zone;
        if self.wave_held(id) {
            return false;
        }
        cap == 0
            || self
                .zones_of(id)
                .iter()
                .all(|z| self.wip.get(z).copied().unwrap_or(0) < cap)
    }

    /// Counts an order in (or out of) process in the zones it touches.
    pub(super) fn count_wip(&mut self, id: &str, entering: bool) {
        for z in self.zones_of(id) {
            let n = self.wip.entry(z).or_default();
            *n = if entering {
                *n + 1
            } else {
                n.saturating_sub(1)
            };
        }
    }

    /// Adds (`sign` 1) or takes back (-1) the demand of an order's lines on their faces;
    /// returns the locations.
    pub(super) fn add_demand(&mut self, id: &str, sign: i64) -> Vec<String> {
        let lines: Vec<(String, u32)> = self
            .orders
            .get(id)
            .map(|o| {
                o.order
                    .lines
                    .iter()
                    .map(|l| (l.location.clone(), l.qty))
                    .collect()
            })
            .unwrap_or_default();
        lines
            .into_iter()
            .map(|(location, qty)| {
                self.add_open_picks(&location, sign * i64::from(qty));
                location
            })
            .collect()
    }

    fn zones_of(&self, id: &str) -> Vec<String> {
        let Some(o) = self.orders.get(id) else {
            return Vec::new();
        };
        let mut zones: Vec<String> = o
            .order
            .lines
            .iter()
            .filter_map(|l| self.layout.release.zone_of(&l.location))
            .map(str::to_string)
            .collect();
        zones.sort();
        zones.dedup();
        zones
    }

    /// Notes a confirmed line for the pick rate.
    pub(super) fn line_confirmed(&mut self) {
        self.count_done(super::kpi::Done::Line);
        self.recent_lines.push_back(self.now);
        self.first_line.get_or_insert(self.now);
        while self
            .recent_lines
            .front()
            .is_some_and(|t| *t + RATE_WINDOW_MS < self.now)
        {
            self.recent_lines.pop_front();
        }
    }

    /// Lines per millisecond: measured over the last window once there is one, else planned
    /// from the pickers at work.
    pub(super) fn pick_rate(&self, now: Millis) -> f64 {
        let measured_for = self.first_line.map_or(0, |t| now.saturating_sub(t));
        let recent = self
            .recent_lines
            .iter()
            .filter(|t| **t + RATE_WINDOW_MS >= now)
            .count();
        if measured_for >= RATE_WINDOW_MS && recent >= MIN_LINES_MEASURED {
            return recent as f64 / RATE_WINDOW_MS as f64;
        }
        self.pickers_working() as f64 * f64::from(self.layout.release.lines_per_picker_hour)
            / 3_600_000.0
    }

    /// Pickers logged in, at work and online.
    fn pickers_working(&self) -> usize {
        self.scanners
            .values()
            .filter(|s| !s.picker.is_empty() && !s.paused && s.offline_since.is_none())
            .count()
    }

    /// Lines a millisecond one picker picks: the measured pace shared among those working, or
    /// the site's planning figure.
    fn pace_per_picker(&self, now: Millis) -> f64 {
        let working = self.pickers_working();
        let rate = self.pick_rate(now);
        if working > 0 && rate > 0.0 {
            rate / working as f64
        } else {
            f64::from(self.layout.release.lines_per_picker_hour) / 3_600_000.0
        }
    }

    /// Per cut-off (`(name, lines left, due)`), the pickers it takes to pick its lines and
    /// those due before it by its due time, less the sort allowance.
    fn pickers_needed(&self, left: &[(String, u64, Option<Millis>)]) -> BTreeMap<String, u32> {
        let pace = self.pace_per_picker(self.now);
        let mut by_due: Vec<&(String, u64, Option<Millis>)> =
            left.iter().filter(|(_, _, due)| due.is_some()).collect();
        by_due.sort_by_key(|(_, _, due)| *due);
        let mut lines = 0;
        let mut out = BTreeMap::new();
        for (name, left, due) in by_due {
            lines += left;
            let Some(due) = due else { continue };
            let time = due
                .saturating_sub(self.layout.release.sort_allowance_ms)
                .saturating_sub(self.now);
            if *left > 0 && time > 0 && pace > 0.0 {
                out.insert(
                    name.clone(),
                    (lines as f64 / (time as f64 * pace)).ceil() as u32,
                );
            }
        }
        out
    }

    /// Says once of each open order whose due time has passed that it is late.
    fn note_late(&mut self, out: &mut Reaction) {
        let now = self.now;
        for (id, o) in self.orders.iter_mut() {
            let open = !matches!(o.status, OrderStatus::Sorted | OrderStatus::Cancelled);
            if let Some(due) = o.due.filter(|d| open && !o.late && *d < now) {
                o.late = true;
                out.note(Note::OrderLate {
                    order: id.clone(),
                    cutoff: o.order.cutoff.clone(),
                    due,
                });
            }
        }
    }

    /// The orders not yet in their lane, in the order pickers get them.
    pub(super) fn open_orders(&self, now: Millis) -> Vec<OpenOrder<'_>> {
        let mut open: Vec<OpenOrder<'_>> = self
            .orders
            .iter()
            .filter(|(_, o)| !matches!(o.status, OrderStatus::Sorted | OrderStatus::Cancelled))
            .map(|(id, o)| OpenOrder {
                key: o.key,
                id: id.as_str(),
                left: match o.status {
                    OrderStatus::Picked => 0,
                    _ => o.picked.iter().filter(|p| p.is_none()).count() as u64,
                },
                due: o.due,
                // A waiting order cannot be started before its release.
                start: match o.status {
                    OrderStatus::Waiting => o.release_at.max(now),
                    _ => now,
                },
            })
            .collect();
        open.sort_by_key(|o| o.key);
        open
    }

    /// When an order of `left` lines that may start at `start` is in its lane, the pickers
    /// being busy until `busy_until` (moved on past it) at `rate` lines a millisecond; `None`
    /// when nobody picks.
    pub(super) fn finish(
        &self,
        busy_until: &mut f64,
        rate: f64,
        start: Millis,
        left: u64,
    ) -> Option<Millis> {
        if rate <= 0.0 {
            return None;
        }
        *busy_until = busy_until.max(start as f64) + left as f64 / rate;
        Some(*busy_until as Millis + self.layout.release.sort_allowance_ms)
    }

    /// Projects when each open order will be in its lane, working through them in the order
    /// pickers get them, and raises (or clears) a cut-off's at-risk alarm.
    fn project(&mut self, out: &mut Reaction) {
        self.last_projection = self.now;
        let rate = self.pick_rate(self.now);
        let open = self.open_orders(self.now);
        // When the pickers are through the orders before this one, in ms.
        let mut busy_until = self.now as f64;
        let mut per_cutoff: BTreeMap<String, (u64, Option<Millis>, Option<Millis>, bool)> =
            BTreeMap::new();
        for o in open {
            let finish = self.finish(&mut busy_until, rate, o.start, o.left);
            // Without a pick rate there is nothing to project from: an order nobody picks is
            // late once it is within its release lead of its due time (not hours before, when
            // the pickers have yet to log in).
            let late = match (o.due, finish) {
                (Some(d), Some(f)) => f > d,
                (Some(d), None) => d.saturating_sub(self.now) < self.layout.release.lead_ms,
                (None, _) => false,
            };
            let Some(state) = self.orders.get(o.id) else {
                continue;
            };
            let entry = per_cutoff
                .entry(state.order.cutoff.clone())
                .or_insert((0, None, None, false));
            entry.0 += o.left;
            entry.1 = match (entry.1, o.due) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
            entry.2 = finish.max(entry.2);
            entry.3 |= late;
        }
        self.note_late(out);
        let clock = self.layout.release.clock;
        let left: Vec<(String, u64, Option<Millis>)> = per_cutoff
            .iter()
            .map(|(name, (left, due, _, _))| (name.clone(), *left, *due))
            .collect();
        let mut needed = self.pickers_needed(&left);
        let names: Vec<String> = self.summary.waves.keys().cloned().collect();
        for name in names {
            let (left, due, projected, late) = per_cutoff.remove(&name).unwrap_or_default();
            let Some(wave) = self.summary.waves.get_mut(&name) else {
                continue;
            };
            wave.lines_left = left;
            wave.pickers_needed = needed.remove(&name);
            wave.due = due;
            wave.projected = projected;
            wave.at_risk = late;
            let source = format!("cut-off {name}");
            match (late, due) {
                (true, Some(due)) => {
                    let text = AlarmText::CutoffAtRisk {
                        cutoff: name.clone(),
                        lane: self
                            .layout
                            .cutoffs
                            .iter()
                            .find(|c| c.name == name)
                            .map_or("?", |c| c.lane.as_str())
                            .to_string(),
                        due: clock.show(due).to_string(),
                    };
                    self.raise_alarm(&source, "at risk", text, out);
                }
                _ => self.clear_alarm(&source, "at risk", out),
            }
        }
    }
}

//! Pure decision logic: the warehouse state and `handle(event, now) -> Reaction`.
//!
//! No sockets, no clock reads, no database. The same events in the same order give the same
//! commands, which is what makes replay after a restart and deterministic tests possible.

mod alarms;
mod batching;
mod clock;
mod command;
mod equipment;
mod event;
mod handhelds;
mod kpi;
mod layout;
mod pairs;
mod picking;
mod release;
mod replenish;
pub use floorctl_protocol::routing;
pub mod slotting;
mod sorting;
mod supervision;

use std::collections::{BTreeMap, BTreeSet, VecDeque};

pub use alarms::{Alarm, AlarmState};
pub use batching::{BatchPolicy, Batching};
pub use clock::{LocalClock, TimeOfDay};
pub use command::{Command, Note, OrderStatus, Reaction, Record, Refusal, ToteStatus};
pub use equipment::Equipment;
pub use event::{Event, HandheldCommand, PlcCondition, SortOutcome};
pub use handhelds::HandheldView;
pub use kpi::{key_figures, KeyFigure, Kpis, Minute, Throughput};
pub use layout::{ChuteChoice, Layout, DEFAULT_HANDHELD_SILENT_MS};
#[cfg(test)]
use release::RISK_CHECK_MS;
pub use release::{Cutoff, Release, Wave};
pub use replenish::{FaceStatus, Move, PickFace};

use floorctl_protocol::order::{Order, Priority};
use floorctl_protocol::scanner::{Direction, Expect};

/// Milliseconds since the Unix epoch, as read by the shell.
pub type Millis = u64;

/// How many message ids per handheld are remembered to recognise re-deliveries. A handheld
/// sends one message and waits for its answer, so only its last few can be delivered again (by
/// the broker, after a controller restart); an older repeat carries a counter already taken
/// and is refused as stale. Kept small: a thousand handhelds hold 64 answers each.
const SEEN_IDS_PER_SCANNER: usize = 64;

/// Where an order stands in the release queue: priority, due time (none: last), cut-off rank,
/// arrival.
type QueueKey = (Priority, Millis, usize, u64);

/// An order and its progress.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
struct OrderState {
    order: Order,
    status: OrderStatus,
    tote: Option<u32>,
    /// Position in the release queue.
    key: QueueKey,
    /// When every tote of the order must be in its lane, when its cut-off says.
    due: Option<Millis>,
    /// When it is released to the pickers.
    release_at: Millis,
    /// Units put in the tote, per line; `None` while the line is open.
    picked: Vec<Option<u32>>,
    /// Totes of the order closed full before `tote`.
    full_totes: Vec<u32>,
    /// Units that could not be found anywhere, back-ordered.
    backordered: u32,
}

/// A tote and its progress.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
struct ToteState {
    order: String,
    status: ToteStatus,
    chute: Option<u16>,
    /// Chute the last divert asked for.
    target: Option<u16>,
    recirculations: u32,
    /// The DC transfer order it carries, for a tote coming in from the DC.
    transfer: Option<u64>,
    /// Units of the transfer the DC put in it, when it said.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    units: Option<u32>,
}

/// What a handheld is doing.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
enum Work {
    /// A trip is offered, waiting for the picker to accept it.
    Offered,
    /// Picking `order` into `tote`; `line` is the next line to pick, `expect` the next scan.
    Picking {
        order: String,
        tote: u32,
        line: u32,
        expect: Expect,
    },
    /// All lines picked; waiting for the tote to be closed.
    Closing { order: String, tote: u32 },
    /// Carrying the closed totes to the conveyor; done when the conveyor has seen them all.
    Delivering { totes: Vec<u32> },
    /// Moving stock from reserve to a pick face.
    Replenishing { task: u64 },
}

/// One handheld.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
struct ScannerState {
    picker: String,
    work: Option<Work>,
    /// The trip the work belongs to.
    trip: batching::Trip,
    /// The last direction sent, re-sent on reconnect.
    direction: Option<Direction>,
    /// Recent message ids with the answer each got, to answer a re-delivery the same way.
    answers: VecDeque<(String, Vec<Reply>)>,
    /// The highest message counter taken.
    last_seq: Option<u64>,
    /// The session of its last login, and earlier ones (a login of one of those is stale).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    session: Option<String>,
    #[serde(default, skip_serializing_if = "VecDeque::is_empty")]
    past_sessions: VecDeque<String>,
    /// When it was last heard from (any message).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    last_heard: Option<Millis>,
    /// On a break.
    paused: bool,
    /// When the handheld went offline, while it is.
    offline_since: Option<Millis>,
}

/// What a handheld's message was answered with, kept to answer a re-delivery the same way. A
/// direction is not kept whole: a re-delivery is sent the handheld's current one.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
enum Reply {
    Directed,
    Refused(floorctl_protocol::scanner::ErrorReply),
}

/// Counts shown as progress.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Summary {
    /// Orders received.
    pub orders: usize,
    /// Orders whose tote is closed or further.
    pub picked: usize,
    /// Orders whose tote is in a chute.
    pub sorted: usize,
    /// Totes sorted, per chute.
    pub per_chute: BTreeMap<u16, usize>,
    /// Totes sent round the sorter again.
    pub recirculations: u32,
    /// Sort results by outcome.
    pub outcomes: BTreeMap<SortOutcome, u32>,
    /// Sort results by the chute the divert asked for (0: none) and outcome.
    #[serde(with = "pairs")]
    pub chute_outcomes: BTreeMap<(u16, SortOutcome), u32>,
    /// Alarms raised.
    pub alarms: usize,
    /// Units back-ordered because no location held them.
    pub backordered: u32,
    /// Short picks reported.
    pub shorts: u32,
    /// Handheld messages refused (wrong scans, stale or undirected messages).
    pub refused: u32,
    /// Alarms whose condition still holds, by (source, condition), with their text.
    #[serde(with = "pairs")]
    pub active_alarms: BTreeMap<(String, String), String>,
    /// Conveyors and sorters.
    pub equipment: BTreeMap<String, Equipment>,
    /// Progress per cut-off.
    pub waves: BTreeMap<String, Wave>,
    /// Replenishment tasks made.
    pub replenishments: u32,
    /// Replenishment tasks done.
    pub replenished: u32,
    /// Emergency replenishments (a short found a face empty).
    pub emergencies: u32,
    /// Lines picked, and of them at a forward pick face.
    pub lines_picked: u32,
    /// Lines picked at a forward pick face.
    pub lines_forward: u32,
    /// Picks of more than a face's book stock held (the face ran empty before its refill).
    pub empty_face_picks: u32,
    /// Forward pick faces with their stock, by location (shared: copying the summary after
    /// every event must not copy every face).
    pub forward: std::sync::Arc<BTreeMap<String, FaceStatus>>,
    /// Replenishment tasks not yet done.
    pub open_replenishments: usize,
    /// Faces whose projected stock is below zero: a stock-out coming.
    pub stockouts: BTreeSet<String>,
    /// Open alarms and the last finished ones, by number.
    pub alarm_log: std::sync::Arc<BTreeMap<u64, Alarm>>,
    /// Counts behind the key figures.
    pub kpis: Kpis,
    /// Work done per minute over the last hour.
    pub throughput: Throughput,
    /// Totes on the conveyor or circulating on the sorter.
    pub in_flight: usize,
    /// Chutes reporting full.
    pub full_chutes: BTreeSet<u16>,
    /// Chutes out of service.
    pub disabled_chutes: BTreeSet<u16>,
    /// Handhelds and what each is doing (filled by the shell now and then: see
    /// [`Core::handhelds`]).
    pub handhelds: std::sync::Arc<Vec<HandheldView>>,
}

/// The warehouse state.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Core {
    #[serde(skip, default = "Layout::empty")]
    layout: Layout,
    orders: BTreeMap<String, OrderState>,
    /// Orders waiting for a picker, urgent first, then by cut-off and arrival.
    #[serde(with = "pairs")]
    queue: BTreeMap<QueueKey, String>,
    arrivals: u64,
    totes: BTreeMap<u32, ToteState>,
    next_tote: u32,
    scanners: BTreeMap<String, ScannerState>,
    next_direction: u64,
    /// Conveyors and sorters by PLC id.
    equipment: BTreeMap<String, Equipment>,
    /// Last sequence number acted on, per (PLC, channel).
    #[serde(with = "pairs")]
    plc_seqs: BTreeMap<(String, String), u16>,
    full_chutes: BTreeSet<u16>,
    disabled_chutes: BTreeSet<u16>,
    /// Units on hand per SKU and location, as last reported and since picked.
    stock: BTreeMap<String, BTreeMap<String, u32>>,
    /// Progress counts, kept up to date by every change so reading them costs nothing.
    summary: Summary,
    /// The time of the event being handled.
    now: Millis,
    /// Orders waiting for their release time.
    pending: BTreeSet<(Millis, String)>,
    /// Orders in process per zone.
    wip: BTreeMap<String, u32>,
    /// When lines were confirmed, over the last rate window.
    recent_lines: VecDeque<Millis>,
    /// When the first line was confirmed.
    first_line: Option<Millis>,
    /// When the cut-offs were last projected.
    last_projection: Millis,
    /// Forward pick faces by location.
    faces: BTreeMap<String, PickFace>,
    /// Units released orders will still pick, per location.
    open_picks: BTreeMap<String, u32>,
    /// Replenishment tasks not yet done.
    replenishments: BTreeMap<u64, replenish::Replenishment>,
    next_replenishment: u64,
    /// Number of the last transfer order.
    next_transfer: u64,
    /// Transfer orders not yet arrived: SKU, units, face.
    transfer_orders: BTreeMap<u64, (String, u32, String)>,
    /// Number of the last alarm raised.
    next_alarm: u64,
    /// The alarm standing for each (source, condition).
    #[serde(with = "pairs")]
    alarm_ids: BTreeMap<(String, String), u64>,
    /// The one-off alarm waiting unacknowledged for each (source, kind), which repeats of that
    /// kind are counted on.
    #[serde(with = "pairs", default)]
    open_one_off: BTreeMap<(String, String), u64>,
    /// Cut-offs whose waves a supervisor holds.
    held_waves: BTreeSet<String>,
}

impl Core {
    /// An empty floor with this layout.
    pub fn new(layout: Layout) -> Core {
        Core {
            next_tote: layout.first_tote.max(1),
            layout,
            orders: BTreeMap::new(),
            queue: BTreeMap::new(),
            arrivals: 0,
            totes: BTreeMap::new(),
            scanners: BTreeMap::new(),
            next_direction: 1,
            plc_seqs: BTreeMap::new(),
            equipment: BTreeMap::new(),
            full_chutes: BTreeSet::new(),
            disabled_chutes: BTreeSet::new(),
            stock: BTreeMap::new(),
            summary: Summary::default(),
            now: 0,
            pending: BTreeSet::new(),
            wip: BTreeMap::new(),
            recent_lines: VecDeque::new(),
            first_line: None,
            last_projection: 0,
            faces: BTreeMap::new(),
            open_picks: BTreeMap::new(),
            replenishments: BTreeMap::new(),
            next_replenishment: 1,
            next_transfer: 0,
            transfer_orders: BTreeMap::new(),
            next_alarm: 0,
            alarm_ids: BTreeMap::new(),
            open_one_off: BTreeMap::new(),
            held_waves: BTreeSet::new(),
        }
    }

    /// Applies one event and returns what the shell must do.
    pub fn handle(&mut self, event: &Event, now: Millis) -> Reaction {
        let mut out = Reaction::default();
        self.now = self.now.max(now);
        match event {
            Event::Tick => self.tick(&mut out),
            Event::OrderReceived { order } => self.order_received(order, &mut out),
            Event::Scanner { scanner, msg } => self.scanner_message(scanner, msg, now, &mut out),
            Event::Stock { sku, location, qty } => {
                self.stock
                    .entry(sku.clone())
                    .or_default()
                    .insert(location.clone(), *qty);
                self.refresh_face(location);
                self.check_face(location, false, &mut out);
            }
            Event::PickFaces { faces } => self.set_faces(faces, &mut out),
            Event::Moves { moves, not_before } => self.plan_moves(moves, *not_before, &mut out),
            Event::TransferShipped {
                transfer,
                tote,
                qty,
            } => self.transfer_shipped(*transfer, *tote, *qty, &mut out),
            Event::HandheldLost { scanner } => self.handheld_lost(scanner, &mut out),
            Event::ToteEntered {
                conveyor,
                tote,
                seq,
            } => {
                if self.fresh_seq(conveyor, "entry", *seq) {
                    self.tote_entered(conveyor, *tote, &mut out);
                }
            }
            Event::ToteInducted { sorter, tote, seq } => {
                if self.fresh_seq(sorter, "induct", *seq) {
                    self.tote_inducted(sorter, *tote, &mut out);
                }
            }
            Event::SortConfirmed {
                sorter,
                tote,
                chute,
                outcome,
                seq,
            } => {
                if self.fresh_seq(sorter, "confirm", *seq) {
                    self.sort_confirmed(sorter, *tote, *chute, *outcome, &mut out);
                }
            }
            Event::ChuteFull { chute, full, .. } => {
                if *full {
                    self.full_chutes.insert(*chute);
                } else {
                    self.full_chutes.remove(chute);
                }
            }
            Event::ChuteDisabled {
                chute, disabled, ..
            } => {
                if *disabled {
                    self.disabled_chutes.insert(*chute);
                } else {
                    self.disabled_chutes.remove(chute);
                }
            }
            Event::ZoneFault {
                conveyor,
                zone,
                fault,
            } => self.zone_fault(conveyor, *zone, *fault, &mut out),
            Event::EquipmentState { plc, state, raw } => {
                self.state_changed(plc, *state, *raw, &mut out)
            }
            Event::PlcFault {
                plc,
                condition,
                fault,
            } => self.plc_fault(plc, *condition, fault.as_deref(), &mut out),
            Event::EquipmentCommand { plc, command, by } => {
                self.supervisor_command(plc, *command, by, &mut out)
            }
            Event::PlcLink { plc, up, reason } => {
                self.link_changed(plc, *up, reason.as_deref(), &mut out)
            }
            Event::AlarmAck { alarm, by } => self.acknowledge(*alarm, by, &mut out),
            Event::WaveHold { cutoff, held, .. } => self.hold_wave(cutoff, *held, &mut out),
            Event::OrderPriority {
                order, priority, ..
            } => self.set_priority(order, *priority, &mut out),
            Event::Counted {
                sku, location, qty, ..
            } => self.counted(sku, location, *qty, &mut out),
            Event::HandheldCommand {
                scanner, command, ..
            } => self.handheld_command(scanner, *command, now, &mut out),
            Event::LoginsRefused { source, failures } => {
                let text = format!(
                    "{failures} failed logins in a row for {source}; its further attempts wait \
                     longer each time (someone may be guessing passwords)"
                );
                self.alarm(source, text, &mut out);
            }
        }
        out
    }

    /// Whether handling `event` could change anything: not for an order already known, which
    /// the core ignores. The shell journals only news.
    pub fn is_news(&self, event: &Event) -> bool {
        match event {
            Event::OrderReceived { order } => !self.orders.contains_key(&order.id),
            _ => true,
        }
    }

    /// The whole state (not the layout) as bytes (JSON): what the journal's events built. The same
    /// events in the same order give the same bytes.
    pub fn snapshot(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("the core's state always serialises")
    }

    /// A core from a [`Core::snapshot`], on `layout`; the journal's later events are then
    /// handled as usual.
    pub fn restore(layout: Layout, snapshot: &[u8]) -> Result<Core, String> {
        let mut core: Core = serde_json::from_slice(snapshot)
            .map_err(|e| format!("the snapshot cannot be read: {e}"))?;
        core.layout = layout;
        Ok(core)
    }

    /// Commands that restore the outside world after a restart: every handheld's current
    /// direction again (handhelds ignore a direction id they already have).
    pub fn resume(&self) -> Reaction {
        let commands = self
            .scanners
            .iter()
            .filter_map(|(id, s)| {
                s.direction.clone().map(|direction| Command::Direct {
                    scanner: id.clone(),
                    direction,
                })
            })
            .collect();
        Reaction {
            commands,
            ..Reaction::default()
        }
    }

    /// The time of the latest event handled (0 before the first).
    pub fn last_event_at(&self) -> Millis {
        self.now
    }

    /// How long a handheld may stay offline before its work is handed over.
    pub fn handheld_timeout_ms(&self) -> Millis {
        self.layout.handheld_timeout_ms
    }

    /// Progress counts.
    pub fn summary(&self) -> Summary {
        let mut s = self.summary.clone();
        s.equipment = self.equipment.clone();
        s.open_replenishments = self.replenishments.len();
        s.full_chutes = self.full_chutes.clone();
        s.disabled_chutes = self.disabled_chutes.clone();
        s
    }

    /// Progress counts recomputed from the state, to check the maintained ones.
    #[cfg(test)]
    fn recount(&self) -> Summary {
        let mut s = Summary {
            orders: self.orders.len(),
            alarms: self.summary.alarms,
            backordered: self.summary.backordered,
            shorts: self.summary.shorts,
            refused: self.summary.refused,
            replenishments: self.summary.replenishments,
            replenished: self.summary.replenished,
            emergencies: self.summary.emergencies,
            lines_picked: self.summary.lines_picked,
            lines_forward: self.summary.lines_forward,
            empty_face_picks: self.summary.empty_face_picks,
            outcomes: self.summary.outcomes.clone(),
            chute_outcomes: self.summary.chute_outcomes.clone(),
            active_alarms: self.summary.active_alarms.clone(),
            equipment: self.equipment.clone(),
            alarm_log: self.summary.alarm_log.clone(),
            kpis: self.summary.kpis.clone(),
            throughput: self.summary.throughput.clone(),
            full_chutes: self.full_chutes.clone(),
            disabled_chutes: self.disabled_chutes.clone(),
            ..Summary::default()
        };
        s.forward = std::sync::Arc::new(self.faces().into_iter().collect());
        s.open_replenishments = self.replenishments.len();
        s.stockouts = s
            .forward
            .iter()
            .filter(|(_, f)| f.projected() < 0)
            .map(|(l, _)| l.clone())
            .collect();
        for o in self.orders.values() {
            s.picked += usize::from(is_picked(o.status));
            s.sorted += usize::from(o.status == OrderStatus::Sorted);
            let w = s
                .waves
                .entry(o.order.cutoff.clone())
                .or_insert_with(|| Wave {
                    orders: 0,
                    waiting: 0,
                    picked: 0,
                    sorted: 0,
                    held: self.held_waves.contains(&o.order.cutoff),
                    ..self.summary.waves[&o.order.cutoff].clone()
                });
            w.orders += 1;
            w.picked += usize::from(is_picked(o.status));
            w.sorted += usize::from(o.status == OrderStatus::Sorted);
            w.waiting += usize::from(o.status == OrderStatus::Waiting);
        }
        for t in self.totes.values() {
            s.recirculations += t.recirculations;
            s.in_flight += usize::from(t.status == ToteStatus::Conveying);
            if let (ToteStatus::Sorted, Some(c)) = (t.status, t.chute) {
                *s.per_chute.entry(c).or_default() += 1;
            }
        }
        s
    }

    /// Moves an order to `status`, keeping the counts.
    fn set_order_status(&mut self, id: &str, status: OrderStatus) {
        let Some(o) = self.orders.get_mut(id) else {
            return;
        };
        let old = std::mem::replace(&mut o.status, status);
        let s = &mut self.summary;
        s.picked = s.picked + usize::from(is_picked(status)) - usize::from(is_picked(old));
        s.sorted = s.sorted + usize::from(status == OrderStatus::Sorted)
            - usize::from(old == OrderStatus::Sorted);
        let w = s.waves.entry(o.order.cutoff.clone()).or_default();
        w.picked = w.picked + usize::from(is_picked(status)) - usize::from(is_picked(old));
        w.sorted = w.sorted + usize::from(status == OrderStatus::Sorted)
            - usize::from(old == OrderStatus::Sorted);
        w.waiting = w.waiting + usize::from(status == OrderStatus::Waiting)
            - usize::from(old == OrderStatus::Waiting);
        if is_picked(status) && !is_picked(old) {
            self.count_done(kpi::Done::Order);
        }
        if status == OrderStatus::Sorted && old != OrderStatus::Sorted {
            self.order_shipped(id);
        }
    }

    /// Counts a shipped order for the fill rate and its cut-off's on-time rate.
    fn order_shipped(&mut self, id: &str) {
        let Some(o) = self.orders.get(id) else {
            return;
        };
        let complete = o.backordered == 0
            && o.order
                .lines
                .iter()
                .zip(&o.picked)
                .all(|(l, p)| p.is_some_and(|p| p >= l.qty));
        let on_time = o.due.map(|due| self.now <= due);
        let k = &mut self.summary.kpis;
        k.orders_shipped += 1;
        k.orders_complete += u32::from(complete);
        let w = self
            .summary
            .waves
            .entry(o.order.cutoff.clone())
            .or_default();
        match on_time {
            Some(true) => w.on_time += 1,
            Some(false) => w.late += 1,
            None => {}
        }
    }

    /// True when the PLC sequence number differs from the last one acted on for this channel;
    /// a replayed read of the same number is ignored.
    fn fresh_seq(&mut self, plc: &str, channel: &'static str, seq: u16) -> bool {
        let last = self
            .plc_seqs
            .insert((plc.to_string(), channel.to_string()), seq);
        last != Some(seq)
    }

    /// Raises a one-off alarm: it stays on the supervisors' list until acknowledged.
    fn alarm(&mut self, source: &str, text: String, out: &mut Reaction) {
        self.emit_alarm(source, text, false, out);
    }

    fn emit_alarm(
        &mut self,
        source: &str,
        text: String,
        standing: bool,
        out: &mut Reaction,
    ) -> u64 {
        self.summary.alarms += 1;
        let id = self.log_alarm(source, &text, standing);
        out.push(Command::Alarm {
            source: source.to_string(),
            text,
        });
        id
    }

    /// Raises a standing alarm for a condition of `source`, once while the condition lasts.
    fn raise_alarm(&mut self, source: &str, condition: &str, text: String, out: &mut Reaction) {
        let key = (source.to_string(), condition.to_string());
        if self.summary.active_alarms.get(&key) == Some(&text) {
            return;
        }
        // The same condition with other words: the old alarm gives way to the new one.
        if let Some(old) = self.alarm_ids.remove(&key) {
            self.alarm_cleared(old);
        }
        self.summary.active_alarms.insert(key.clone(), text.clone());
        let id = self.emit_alarm(source, text, true, out);
        self.alarm_ids.insert(key, id);
    }

    /// Clears a standing alarm when its condition is gone.
    fn clear_alarm(&mut self, source: &str, condition: &str, out: &mut Reaction) {
        let key = (source.to_string(), condition.to_string());
        if let Some(id) = self.alarm_ids.remove(&key) {
            self.alarm_cleared(id);
        }
        if let Some(text) = self.summary.active_alarms.remove(&key) {
            out.push(Command::AlarmCleared {
                source: source.to_string(),
                text,
            });
        }
    }

    fn record_order(&self, id: &str, out: &mut Reaction) {
        if let Some(o) = self.orders.get(id) {
            out.record(Record::Order {
                id: id.to_string(),
                cutoff: o.order.cutoff.clone(),
                status: o.status,
                tote: o.tote,
                picked: o.picked.iter().flatten().sum(),
            });
        }
    }

    fn record_tote(&self, id: u32, out: &mut Reaction) {
        if let Some(t) = self.totes.get(&id) {
            out.record(Record::Tote {
                id,
                order: t.order.clone(),
                status: t.status,
                chute: t.chute,
            });
        }
    }
}

/// Whether an order counts as picked: its tote is closed.
fn is_picked(status: OrderStatus) -> bool {
    matches!(status, OrderStatus::Picked | OrderStatus::Sorted)
}

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_batching;
#[cfg(test)]
mod tests_equipment;
#[cfg(test)]
mod tests_handhelds;
#[cfg(test)]
mod tests_release;
#[cfg(test)]
mod tests_replenish;
#[cfg(test)]
mod tests_supervision;

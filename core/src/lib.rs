//! Pure decision logic: the warehouse state and `handle(event, now) -> Reaction`.
//!
//! No sockets, no clock reads, no database. The same events in the same order give the same
//! commands, which is what makes replay after a restart and deterministic tests possible.

mod alarm_text;
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
mod presence;
mod promise;
mod published;
mod refusal_text;
mod release;
mod replenish;
pub use floorctl_protocol::routing;
pub mod slotting;
mod sorting;
mod state;
mod summary;
mod supervision;

use std::collections::{BTreeMap, BTreeSet, VecDeque};

pub use alarm_text::{AlarmText, LinkTrouble};
pub use alarms::{
    default_priority, Alarm, AlarmPriority, AlarmState, Shelf, ALARM_KINDS, MANAGEABLE_PER_10_MIN,
    MAX_SHELVE_MINUTES,
};
pub use batching::{BatchPolicy, Batching};
pub use clock::{utc_text, LocalClock, TimeOfDay};
pub use command::{Command, Note, OrderStatus, Reaction, Record, Refusal, ToteStatus};
pub use equipment::Equipment;
pub use event::{Event, HandheldCommand, PlcCondition, SortOutcome, StockMovement};
pub use kpi::{key_figures, KeyFigure, Kpis, Minute, Throughput};
pub use layout::{ChuteChoice, LaneRule, Layout, SorterChutes, DEFAULT_HANDHELD_SILENT_MS};
pub use presence::{Activity, HandheldView};
pub use promise::{Outlook, Promise};
pub use published::{Kind as PublishedKind, Published};
pub use refusal_text::RefusalText;
#[cfg(test)]
use release::RISK_CHECK_MS;
pub use release::{Cutoff, Release, Wave};
pub use replenish::{FaceStatus, Move, PickFace};
use state::{OrderState, QueueKey, Reply, ScannerState, ToteState, Work, SEEN_IDS_PER_SCANNER};
pub use summary::Summary;

/// Milliseconds since the Unix epoch, as read by the shell.
pub type Millis = u64;

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
    /// Handling journalled events again at a restart: what they published is in the outbox.
    #[serde(skip)]
    replaying: bool,
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
    /// Standing alarms whose condition went lately, and when: one that comes back soon after
    /// is the same alarm again (a flapping link is one line with a count).
    #[serde(with = "pairs", default)]
    recently_cleared: BTreeMap<(String, String), (u64, Millis)>,
    /// When alarms were shown to supervisors over the last 10 minutes.
    #[serde(default)]
    recent_alarms: VecDeque<Millis>,
    /// Cut-offs whose waves a supervisor holds.
    held_waves: BTreeSet<String>,
    /// Events handled that may have changed a handheld, as of the last one.
    #[serde(skip)]
    handheld_generation: u64,
    #[serde(skip)]
    views: presence::Views,
}

impl Core {
    /// An empty floor with this layout.
    pub fn new(layout: Layout) -> Core {
        Core {
            replaying: false,
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
            recently_cleared: BTreeMap::new(),
            recent_alarms: VecDeque::new(),
            held_waves: BTreeSet::new(),
            handheld_generation: 0,
            views: presence::Views::default(),
        }
    }

    /// Applies one event and returns what the shell must do.
    pub fn handle(&mut self, event: &Event, now: Millis) -> Reaction {
        let mut out = Reaction::default();
        self.now = self.now.max(now);
        if presence::may_change_handhelds(event) {
            self.handheld_generation += 1;
        }
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
            Event::AlarmAckAll { source, by } => {
                self.acknowledge_all(source.as_deref(), by, &mut out)
            }
            Event::AlarmShelve {
                alarm,
                reason,
                minutes,
                by,
            } => self.shelve(*alarm, reason, *minutes, by, &mut out),
            Event::WaveHold { cutoff, held, .. } => self.hold_wave(cutoff, *held, &mut out),
            Event::OrderPriority {
                order, priority, ..
            } => self.set_priority(order, *priority, &mut out),
            Event::OrderCancelled { order, .. } => self.cancel(order, &mut out),
            Event::Counted {
                sku, location, qty, ..
            } => self.counted(sku, location, *qty, &mut out),
            Event::StockMoved { movements, .. } => self.stock_moved(movements, &mut out),
            Event::HandheldCommand {
                scanner, command, ..
            } => self.handheld_command(scanner, *command, now, &mut out),
            Event::LoginsRefused { source, failures } => {
                let text = AlarmText::LoginsRefused {
                    whose: source.clone(),
                    failures: *failures,
                };
                self.alarm(source, text, &mut out);
            }
            Event::Delivery { endpoint, fault } => {
                let source = format!("webhook {endpoint}");
                match fault {
                    Some(fault) => {
                        let text = AlarmText::DeliveryFailing {
                            endpoint: endpoint.clone(),
                            fault: fault.clone(),
                        };
                        self.raise_alarm(&source, "delivery", text, &mut out);
                    }
                    None => self.clear_alarm(&source, "delivery", &mut out),
                }
            }
        }
        if !self.replaying {
            let published = self.publish(event, &out);
            out.published.extend(published);
        }
        out
    }

    /// Handles a journalled event again, at a restart: the same state as the first time,
    /// without making again what it published (that is in the outbox).
    pub fn replay(&mut self, event: &Event, at: Millis) {
        self.replaying = true;
        self.handle(event, at);
        self.replaying = false;
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

    /// True when the PLC sequence number differs from the last one acted on for this channel;
    /// a replayed read of the same number is ignored.
    fn fresh_seq(&mut self, plc: &str, channel: &'static str, seq: u16) -> bool {
        let last = self
            .plc_seqs
            .insert((plc.to_string(), channel.to_string()), seq);
        last != Some(seq)
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

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_alarms;
#[cfg(test)]
mod tests_batching;
#[cfg(test)]
mod tests_equipment;
#[cfg(test)]
mod tests_handhelds;
#[cfg(test)]
mod tests_published;
#[cfg(test)]
mod tests_release;
#[cfg(test)]
mod tests_replenish;
#[cfg(test)]
mod tests_supervision;

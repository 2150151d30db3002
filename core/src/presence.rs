//! Whether each handheld is there: online, offline, silent too long, lost (its work handed
//! over), and what each is doing as supervisors see it.

use std::sync::{Arc, Mutex};

use super::{Core, Event, Millis, Note, Reaction, ScannerState, Work};

/// The handhelds as supervisors see them, built when asked for after a change: a summary after
/// every batch of events costs a walk over every handheld only when one may have changed.
#[derive(Default)]
pub(crate) struct Views(Mutex<Option<(u64, Arc<Vec<HandheldView>>)>>);

impl Clone for Views {
    fn clone(&self) -> Views {
        Views::default()
    }
}

impl std::fmt::Debug for Views {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Views")
    }
}

/// Whether `event` may change what a handheld is doing: not a report of sorters, chutes,
/// machines or links, nor an alarm's acknowledgement.
pub(crate) fn may_change_handhelds(event: &Event) -> bool {
    !matches!(
        event,
        Event::ToteInducted { .. }
            | Event::SortConfirmed { .. }
            | Event::ChuteFull { .. }
            | Event::ChuteDisabled { .. }
            | Event::ZoneFault { .. }
            | Event::EquipmentState { .. }
            | Event::EquipmentCommand { .. }
            | Event::PlcFault { .. }
            | Event::PlcLink { .. }
            | Event::AlarmAck { .. }
            | Event::LoginsRefused { .. }
            | Event::Delivery { .. }
    )
}

impl Core {
    pub(super) fn presence(
        &mut self,
        scanner: &str,
        online: bool,
        now: Millis,
        out: &mut Reaction,
    ) {
        let state = self.scanners.entry(scanner.to_string()).or_default();
        if !online {
            state.offline_since.get_or_insert(now);
            return;
        }
        let was_offline = state.offline_since.take().is_some();
        if state.picker.is_empty() || !was_offline {
            return;
        }
        if state.work.is_none() && !state.paused {
            self.assign_next(scanner, out);
        } else {
            self.direct(scanner, out);
        }
    }

    /// Whether a handheld online has sent nothing for the layout's `handheld_silent_ms`.
    fn silent(&self, s: &ScannerState, now: Millis) -> bool {
        let limit = self.layout.handheld_silent_ms;
        limit > 0
            && s.offline_since.is_none()
            && s.last_heard.is_some_and(|t| now.saturating_sub(t) >= limit)
    }

    pub(super) fn handheld_lost(&mut self, scanner: &str, out: &mut Reaction) {
        let now = self.now;
        let Some(state) = self.scanners.get(scanner) else {
            return;
        };
        if self.silent(state, now) {
            // Offline from the controller's own view: no will needed.
            if let Some(state) = self.scanners.get_mut(scanner) {
                state.offline_since = Some(now);
            }
        }
        if self
            .scanners
            .get(scanner)
            .is_some_and(|s| s.offline_since.is_some())
        {
            out.note(Note::HandheldLost {
                scanner: scanner.to_string(),
            });
            self.release_work(scanner, out);
        }
    }

    /// Handhelds offline for `timeout` or longer at `now`, or silent for the layout's
    /// `handheld_silent_ms`, that still hold work to hand back.
    pub fn lost_handhelds(&self, now: Millis, timeout: Millis) -> Vec<String> {
        self.scanners
            .iter()
            .filter(|(_, s)| {
                (s.offline_since
                    .is_some_and(|t| now.saturating_sub(t) >= timeout)
                    || self.silent(s, now))
                    && matches!(
                        s.work,
                        Some(
                            Work::Offered
                                | Work::Picking { .. }
                                | Work::Closing { .. }
                                | Work::Replenishing { .. }
                        )
                    )
            })
            .map(|(id, _)| id.clone())
            .collect()
    }
}

/// A handheld as supervisors see it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct HandheldView {
    /// Handheld id.
    pub id: String,
    /// Picker logged in (empty: nobody).
    pub picker: String,
    /// Connected.
    pub online: bool,
    /// What it is doing, in a few words.
    pub doing: String,
    /// The same, as a kind and its details, for a page to say in its reader's language.
    pub activity: Activity,
}

/// What a handheld is doing.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "what", rename_all = "snake_case")]
pub enum Activity {
    /// Nobody logged in.
    LoggedOut,
    /// The picker is on a break.
    OnBreak,
    /// No work for it now.
    Waiting,
    /// A trip is offered.
    Offered,
    /// Picking an order into a tote.
    Picking {
        /// Order.
        order: String,
        /// Tote.
        tote: u32,
    },
    /// Closing an order's tote.
    Closing {
        /// Order.
        order: String,
        /// Tote.
        tote: u32,
    },
    /// Taking totes to the conveyor.
    Delivering {
        /// How many.
        totes: usize,
    },
    /// Refilling a pick face.
    Replenishing {
        /// Task.
        task: u64,
    },
}

impl std::fmt::Display for Activity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Activity::LoggedOut => f.write_str("logged out"),
            Activity::OnBreak => f.write_str("on a break"),
            Activity::Waiting => f.write_str("waiting for work"),
            Activity::Offered => f.write_str("offered a trip"),
            Activity::Picking { order, tote } => {
                write!(f, "picking order {order} into tote {tote}")
            }
            Activity::Closing { order, tote } => write!(f, "closing tote {tote} of order {order}"),
            Activity::Delivering { totes } => write!(f, "taking {totes} tote(s) to the conveyor"),
            Activity::Replenishing { task } => write!(f, "replenishing (task {task})"),
        }
    }
}

impl Core {
    /// Every handheld and what it is doing, as of the last event that may have changed one.
    pub(crate) fn handheld_views(&self) -> Arc<Vec<HandheldView>> {
        let mut cache = self.views.0.lock().unwrap_or_else(|p| p.into_inner());
        match &*cache {
            Some((generation, views)) if *generation == self.handheld_generation => views.clone(),
            _ => {
                let views = Arc::new(self.handhelds());
                *cache = Some((self.handheld_generation, views.clone()));
                views
            }
        }
    }

    /// Every handheld seen and what it is doing.
    pub fn handhelds(&self) -> Vec<HandheldView> {
        self.scanners
            .iter()
            .map(|(id, s)| {
                let activity = match &s.work {
                    _ if s.picker.is_empty() => Activity::LoggedOut,
                    _ if s.paused => Activity::OnBreak,
                    None => Activity::Waiting,
                    Some(Work::Offered) => Activity::Offered,
                    Some(Work::Picking { order, tote, .. }) => Activity::Picking {
                        order: order.clone(),
                        tote: *tote,
                    },
                    Some(Work::Closing { order, tote }) => Activity::Closing {
                        order: order.clone(),
                        tote: *tote,
                    },
                    Some(Work::Delivering { totes }) => Activity::Delivering { totes: totes.len() },
                    Some(Work::Replenishing { task }) => Activity::Replenishing { task: *task },
                };
                HandheldView {
                    id: id.clone(),
                    picker: s.picker.clone(),
                    online: s.offline_since.is_none(),
                    doing: activity.to_string(),
                    activity,
                }
            })
            .collect()
    }
}

//! Alarms as supervisors see them: raised, acknowledged by someone, cleared when the condition
//! is gone.

use std::sync::Arc;

use serde::Serialize;

use super::{AlarmText, Command, Core, Millis, Reaction, RefusalText};

/// Finished alarms kept for the dashboard beside the open ones.
const FINISHED_KEPT: usize = 100;

/// A standing alarm whose condition comes back within this long of clearing is the same alarm
/// again, counted on its line (ISA-18.2's chattering alarm), not a new one.
pub(crate) const CHATTER_MS: Millis = 10 * 60 * 1000;

/// Alarms counted over this window for the alarm rate (ISA-18.2 counts per 10 minutes).
pub(crate) const RATE_WINDOW_MS: Millis = 10 * 60 * 1000;

/// Alarms per 10 minutes a supervisor can manage (ISA-18.2: about one is very likely
/// acceptable, up to two manageable, more than ten an overload).
pub const MANAGEABLE_PER_10_MIN: u32 = 2;

/// How urgently an alarm wants a supervisor.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum AlarmPriority {
    /// The floor stops or a cut-off is lost if nobody acts now.
    High,
    /// Something needs a supervisor soon.
    #[default]
    Medium,
    /// Worth knowing.
    Low,
}

impl AlarmPriority {
    /// Its name in a site file and on the page.
    pub fn name(self) -> &'static str {
        match self {
            AlarmPriority::High => "high",
            AlarmPriority::Medium => "medium",
            AlarmPriority::Low => "low",
        }
    }
}

/// The kinds of alarm a site file may give a priority: a PLC link down, a stop nobody
/// commanded, a conveyor zone faulted, a cut-off at risk, a webhook endpoint taking nothing, a
/// PLC state its map does not define, a PLC refusing reads or writes, not holding an
/// acknowledgement, a heartbeat too slow for its watchdog, setpoints it will not take, values
/// out of range, and one-off events (an unknown tote, a short, a refused login …).
pub const ALARM_KINDS: [&str; 13] = [
    "link",
    "stop",
    "zone",
    "at_risk",
    "delivery",
    "state",
    "reads",
    "writes",
    "acknowledgement",
    "heartbeat",
    "setpoints",
    "values",
    "event",
];

/// The kind of a standing alarm by its condition (`zone3` is a `zone`, `at risk` an `at_risk`).
fn kind_of_condition(condition: &str) -> &str {
    if condition.starts_with("zone") {
        "zone"
    } else if condition == "at risk" {
        "at_risk"
    } else {
        condition
    }
}

/// A kind's priority unless the site file says otherwise.
pub fn default_priority(kind: &str) -> AlarmPriority {
    match kind {
        "link" | "stop" | "zone" | "at_risk" => AlarmPriority::High,
        "values" => AlarmPriority::Low,
        _ => AlarmPriority::Medium,
    }
}

/// Where an alarm stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AlarmState {
    /// Raised, nobody has acknowledged it yet.
    Active,
    /// A supervisor has seen it; its condition still holds.
    Acknowledged,
    /// Its condition is gone (or, for a one-off alarm, it was acknowledged).
    Cleared,
    /// Set aside by a supervisor, with a reason, until a time: it asks for nobody meanwhile,
    /// and comes back then if its condition still holds.
    Shelved,
}

/// Longest a supervisor may shelve an alarm.
pub const MAX_SHELVE_MINUTES: u32 = 8 * 60;

/// One alarm.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Alarm {
    /// Number, in the order alarms were raised.
    pub id: u64,
    /// Equipment, handheld, order or cut-off it is about.
    pub source: String,
    /// What happened, in English.
    pub text: String,
    /// What happened, as a code with its details for a page to word (none for an alarm raised
    /// before texts had codes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub said: Option<AlarmText>,
    /// When it was raised.
    pub raised: Millis,
    /// Where it stands.
    pub state: AlarmState,
    /// Who acknowledged it.
    pub acknowledged_by: Option<String>,
    /// When it was acknowledged.
    pub acknowledged: Option<Millis>,
    /// When it cleared.
    pub cleared: Option<Millis>,
    /// Whether it stands for a condition that clears by itself (a jam, a link down); a one-off
    /// alarm (an unknown tote) is cleared by acknowledging it.
    pub standing: bool,
    /// One-off alarms of the same kind from the same source raised again before anyone
    /// acknowledged this one: counted here (`text` is the latest) instead of listed apart.
    #[serde(default)]
    pub repeats: u32,
    /// When it was last raised again.
    #[serde(default)]
    pub last: Option<Millis>,
    /// Its kind (one of [`ALARM_KINDS`]).
    #[serde(default)]
    pub kind: String,
    /// How urgently it wants a supervisor.
    #[serde(default)]
    pub priority: AlarmPriority,
    /// While shelved: who shelved it, why, and until when.
    #[serde(default)]
    pub shelved: Option<Shelf>,
}

/// Who set an alarm aside, why, and until when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Shelf {
    /// Who.
    pub by: String,
    /// Why, in their words.
    pub reason: String,
    /// When it comes back.
    pub until: Millis,
}

/// What makes two one-off alarms of a source the same kind: their text with every run of
/// digits taken out ("unknown tote 17 at the induct" and "unknown tote 9 at the induct").
fn kind_of(text: &str) -> String {
    let mut kind = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_ascii_digit() {
            if !kind.ends_with('#') {
                kind.push('#');
            }
        } else {
            kind.push(c);
        }
    }
    kind
}

impl Core {
    /// Adds an alarm to the supervisors' list and returns its number. A one-off alarm of a kind
    /// its source already has waiting unacknowledged is counted on that one instead, so a flood
    /// (every tote unknown after a label mix-up) is one line, and memory stays bounded.
    pub(super) fn log_alarm(
        &mut self,
        source: &str,
        kind: &str,
        said: &AlarmText,
        standing: bool,
    ) -> u64 {
        let text = said.to_string();
        let key = (!standing).then(|| (source.to_string(), kind_of(&text)));
        if let Some(&id) = key.as_ref().and_then(|k| self.open_one_off.get(k)) {
            let now = self.now;
            let log = Arc::make_mut(&mut self.summary.alarm_log);
            let waiting =
                |a: &&mut Alarm| matches!(a.state, AlarmState::Active | AlarmState::Shelved);
            if let Some(a) = log.get_mut(&id).filter(waiting) {
                a.repeats += 1;
                a.text = text;
                a.said = Some(said.clone());
                a.last = Some(now);
                return id;
            }
        }
        self.next_alarm += 1;
        let id = self.next_alarm;
        let priority = self.priority_of(kind);
        let log = Arc::make_mut(&mut self.summary.alarm_log);
        log.insert(
            id,
            Alarm {
                id,
                source: source.to_string(),
                text,
                said: Some(said.clone()),
                raised: self.now,
                state: AlarmState::Active,
                acknowledged_by: None,
                acknowledged: None,
                cleared: None,
                standing,
                repeats: 0,
                last: None,
                kind: kind.to_string(),
                priority,
                shelved: None,
            },
        );
        if let Some(key) = key {
            self.open_one_off.insert(key, id);
        }
        id
    }

    /// Whether alarm `id` is shelved: it asks for nobody, and is not counted in the rate.
    fn is_shelved(&self, id: u64) -> bool {
        self.summary
            .alarm_log
            .get(&id)
            .is_some_and(|a| a.state == AlarmState::Shelved)
    }

    /// The priority of alarms of `kind` at this site.
    fn priority_of(&self, kind: &str) -> AlarmPriority {
        self.layout
            .alarm_priorities
            .get(kind)
            .copied()
            .unwrap_or_else(|| default_priority(kind))
    }

    /// Counts an alarm shown to supervisors now, for the alarm rate.
    fn annunciated(&mut self) {
        self.summary.alarms += 1;
        self.recent_alarms.push_back(self.now);
        self.alarm_rate_now();
    }

    /// Brings the alarm rate up to date: alarms shown over the last [`RATE_WINDOW_MS`].
    pub(super) fn alarm_rate_now(&mut self) {
        let now = self.now;
        while self
            .recent_alarms
            .front()
            .is_some_and(|at| now.saturating_sub(*at) >= RATE_WINDOW_MS)
        {
            self.recent_alarms.pop_front();
        }
        self.summary.alarm_rate = self.recent_alarms.len() as u32;
    }

    /// Marks a standing alarm's condition gone.
    pub(super) fn alarm_cleared(&mut self, id: u64) {
        let now = self.now;
        if let Some(a) = Arc::make_mut(&mut self.summary.alarm_log).get_mut(&id) {
            a.state = AlarmState::Cleared;
            a.cleared = Some(now);
        }
        self.forget_finished();
    }

    /// Keeps only the last [`FINISHED_KEPT`] cleared alarms.
    pub(super) fn forget_finished(&mut self) {
        let log = &self.summary.alarm_log;
        let finished: Vec<u64> = log
            .values()
            .filter(|a| a.state == AlarmState::Cleared)
            .map(|a| a.id)
            .collect();
        let excess = finished.len().saturating_sub(FINISHED_KEPT);
        if excess > 0 {
            let log = Arc::make_mut(&mut self.summary.alarm_log);
            for id in &finished[..excess] {
                log.remove(id);
            }
        }
    }

    /// A supervisor acknowledges every alarm not yet acknowledged, or every one of `source`;
    /// refused when there is none.
    pub(super) fn acknowledge_all(&mut self, source: Option<&str>, by: &str, out: &mut Reaction) {
        let waiting: Vec<u64> = self
            .summary
            .alarm_log
            .values()
            .filter(|a| a.acknowledged_by.is_none() && a.state != AlarmState::Cleared)
            .filter(|a| source.is_none_or(|s| a.source == s))
            .map(|a| a.id)
            .collect();
        if waiting.is_empty() {
            let subject = source.unwrap_or("alarms");
            let reason = match source {
                Some(s) => RefusalText::NoAlarmWaitingOf { of: s.to_string() },
                None => RefusalText::NoAlarmWaiting,
            };
            return refuse(subject, reason, out);
        }
        for id in waiting {
            self.acknowledge(id, by, out);
        }
    }

    /// A supervisor shelves alarm `id` for `minutes` with a reason: it asks for nobody until
    /// then. Refused for an alarm already cleared, without a reason, or for longer than
    /// [`MAX_SHELVE_MINUTES`].
    pub(super) fn shelve(
        &mut self,
        id: u64,
        reason: &str,
        minutes: u32,
        by: &str,
        out: &mut Reaction,
    ) {
        let subject = format!("alarm {id}");
        let reason = reason.trim();
        if reason.is_empty() || reason.chars().count() > 200 {
            return refuse(&subject, RefusalText::ShelveWhy, out);
        }
        if minutes == 0 || minutes > MAX_SHELVE_MINUTES {
            let max = MAX_SHELVE_MINUTES;
            return refuse(&subject, RefusalText::ShelveMinutes { max }, out);
        }
        let until = self.now + u64::from(minutes) * 60_000;
        let log = Arc::make_mut(&mut self.summary.alarm_log);
        let Some(a) = log.get_mut(&id) else {
            return refuse(&subject, RefusalText::NoAlarm { alarm: id }, out);
        };
        if a.state == AlarmState::Cleared {
            return refuse(&subject, RefusalText::AlarmCleared { alarm: id }, out);
        }
        a.state = AlarmState::Shelved;
        a.shelved = Some(Shelf {
            by: by.to_string(),
            reason: reason.to_string(),
            until,
        });
    }

    /// Shelved alarms whose time is up come back: active again when their condition still
    /// holds (a standing alarm), else cleared.
    pub(super) fn unshelve_due(&mut self) {
        let now = self.now;
        let due: Vec<u64> = self
            .summary
            .alarm_log
            .values()
            .filter(|a| a.state == AlarmState::Shelved)
            .filter(|a| a.shelved.as_ref().is_none_or(|s| s.until <= now))
            .map(|a| a.id)
            .collect();
        for id in due {
            let standing = self.alarm_ids.values().any(|open| *open == id);
            let log = Arc::make_mut(&mut self.summary.alarm_log);
            if let Some(a) = log.get_mut(&id) {
                a.shelved = None;
                if standing {
                    a.state = AlarmState::Active;
                    a.acknowledged_by = None;
                    a.acknowledged = None;
                    a.last = Some(now);
                } else {
                    a.state = AlarmState::Cleared;
                    a.cleared = Some(now);
                }
            }
            if standing {
                self.annunciated();
            }
        }
    }

    /// A supervisor acknowledges alarm `id`.
    pub(super) fn acknowledge(&mut self, id: u64, by: &str, out: &mut Reaction) {
        let now = self.now;
        let log = Arc::make_mut(&mut self.summary.alarm_log);
        let Some(a) = log.get_mut(&id) else {
            return refuse(
                &format!("alarm {id}"),
                RefusalText::NoAlarm { alarm: id },
                out,
            );
        };
        if a.acknowledged_by.is_some() {
            let by = a.acknowledged_by.clone().unwrap_or_default();
            let said = RefusalText::AlreadyAcknowledged { alarm: id, by };
            return refuse(&format!("alarm {id}"), said, out);
        }
        a.acknowledged_by = Some(by.to_string());
        a.acknowledged = Some(now);
        if a.state == AlarmState::Active {
            if a.standing {
                a.state = AlarmState::Acknowledged;
            } else {
                a.state = AlarmState::Cleared;
                a.cleared = Some(now);
                self.open_one_off.retain(|_, open| *open != id);
            }
        }
        self.forget_finished();
    }
}

/// Refuses a supervisor's command: nothing changes, the reason goes back to them.
pub(super) fn refuse(subject: &str, reason: RefusalText, out: &mut Reaction) {
    out.refuse(subject, reason);
}

impl Core {
    /// Raises a one-off alarm: it stays on the supervisors' list until acknowledged.
    pub(super) fn alarm(&mut self, source: &str, said: AlarmText, out: &mut Reaction) {
        self.emit_alarm(source, "event", said, false, out);
    }

    pub(super) fn emit_alarm(
        &mut self,
        source: &str,
        kind: &str,
        said: AlarmText,
        standing: bool,
        out: &mut Reaction,
    ) -> u64 {
        let id = self.log_alarm(source, kind, &said, standing);
        if !self.is_shelved(id) {
            self.annunciated();
        }
        out.push(Command::Alarm {
            source: source.to_string(),
            text: said.to_string(),
            said,
        });
        id
    }

    /// Raises a standing alarm for a condition of `source`, once while the condition lasts.
    pub(super) fn raise_alarm(
        &mut self,
        source: &str,
        condition: &str,
        said: AlarmText,
        out: &mut Reaction,
    ) {
        let key = (source.to_string(), condition.to_string());
        let text = said.to_string();
        if self.summary.active_alarms.get(&key) == Some(&text) {
            return;
        }
        // The same condition with other words: the old alarm gives way to the new one.
        if let Some(old) = self.alarm_ids.remove(&key) {
            self.alarm_cleared(old);
        }
        self.summary.active_alarms.insert(key.clone(), text.clone());
        let id = match self.reopen(&key, &said) {
            Some(id) => {
                if !self.is_shelved(id) {
                    self.annunciated();
                }
                out.push(Command::Alarm {
                    source: source.to_string(),
                    text,
                    said,
                });
                id
            }
            None => self.emit_alarm(source, kind_of_condition(condition), said, true, out),
        };
        self.alarm_ids.insert(key, id);
    }

    /// The alarm of `key` raised again soon after it cleared: its line is active again, counted
    /// once more, waiting for a new acknowledgement. `None` when there is no such line.
    fn reopen(&mut self, key: &(String, String), said: &AlarmText) -> Option<u64> {
        let now = self.now;
        let (id, cleared) = self.recently_cleared.remove(key)?;
        if now.saturating_sub(cleared) > CHATTER_MS {
            return None;
        }
        let log = Arc::make_mut(&mut self.summary.alarm_log);
        let a = log.get_mut(&id)?;
        a.state = match &a.shelved {
            Some(shelf) if shelf.until > now => AlarmState::Shelved,
            _ => AlarmState::Active,
        };
        a.cleared = None;
        a.acknowledged_by = None;
        a.acknowledged = None;
        a.repeats += 1;
        a.last = Some(now);
        a.text = said.to_string();
        a.said = Some(said.clone());
        Some(id)
    }

    /// Clears a standing alarm when its condition is gone.
    pub(super) fn clear_alarm(&mut self, source: &str, condition: &str, out: &mut Reaction) {
        let key = (source.to_string(), condition.to_string());
        let mut said = None;
        if let Some(id) = self.alarm_ids.remove(&key) {
            said = self.summary.alarm_log.get(&id).and_then(|a| a.said.clone());
            self.alarm_cleared(id);
            let now = self.now;
            self.recently_cleared
                .retain(|_, (_, at)| now.saturating_sub(*at) <= CHATTER_MS);
            self.recently_cleared.insert(key.clone(), (id, now));
        }
        if let Some(text) = self.summary.active_alarms.remove(&key) {
            out.push(Command::AlarmCleared {
                source: source.to_string(),
                text,
                said,
            });
        }
    }
}

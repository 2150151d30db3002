//! A supervisor's command from the page as the audit log keeps it: a code with its details for
//! the page to word in its reader's language, and its English words for the log.

use floorctl_core::RefusalText;
use floorctl_protocol::order::Priority;
use serde::Serialize;

/// What a supervisor asked for. Serialised as `"code"` and `"params"`.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "code", content = "params", rename_all = "snake_case")]
pub(super) enum Action {
    AcknowledgeAlarm {
        alarm: u64,
    },
    ShelveAlarm {
        alarm: u64,
        minutes: u32,
        reason: String,
    },
    AcknowledgeAll,
    AcknowledgeAllOf {
        of: String,
    },
    Machine {
        plc: String,
        command: String,
    },
    HoldWave {
        cutoff: String,
    },
    ReleaseWave {
        cutoff: String,
    },
    ReleaseHandheld {
        handheld: String,
    },
    ResetHandheld {
        handheld: String,
    },
    SetPriority {
        order: String,
        priority: Priority,
    },
    Count {
        sku: String,
        location: String,
        qty: u32,
    },
}

impl std::fmt::Display for Action {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Action::AcknowledgeAlarm { alarm } => write!(f, "acknowledge alarm {alarm}"),
            Action::ShelveAlarm {
                alarm,
                minutes,
                reason,
            } => write!(f, "shelve alarm {alarm} for {minutes} min: {reason}"),
            Action::AcknowledgeAll => write!(f, "acknowledge every alarm"),
            Action::AcknowledgeAllOf { of } => write!(f, "acknowledge every alarm of {of}"),
            Action::Machine { plc, command } => write!(f, "{command} {plc}"),
            Action::HoldWave { cutoff } => write!(f, "hold wave {cutoff}"),
            Action::ReleaseWave { cutoff } => write!(f, "release wave {cutoff}"),
            Action::ReleaseHandheld { handheld } => write!(f, "release handheld {handheld}"),
            Action::ResetHandheld { handheld } => write!(f, "reset handheld {handheld}"),
            Action::SetPriority { order, priority } => {
                let priority = match priority {
                    Priority::Urgent => "urgent",
                    Priority::Normal => "normal",
                };
                write!(f, "set order {order} priority {priority}")
            }
            Action::Count { sku, location, qty } => write!(f, "count {sku} at {location}: {qty}"),
        }
    }
}

/// How a command ended. Serialised as `"code"` and, for a refusal, `"params"`: the core's
/// reason as a code with its details.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "code", content = "params", rename_all = "snake_case")]
pub(super) enum Ending {
    /// Taken and journalled.
    Done,
    /// The account has the viewer role.
    Viewer,
    /// The core refused it.
    Refused(RefusalText),
    /// The controller is stopping.
    Stopping,
}

#[cfg(test)]
impl Action {
    /// One action of every kind, for checking that the catalogues word each.
    pub(super) fn every_kind() -> Vec<Action> {
        let s = || "x".to_string();
        let all = vec![
            Action::AcknowledgeAlarm { alarm: 1 },
            Action::ShelveAlarm {
                alarm: 1,
                minutes: 1,
                reason: s(),
            },
            Action::AcknowledgeAll,
            Action::AcknowledgeAllOf { of: s() },
            Action::Machine {
                plc: s(),
                command: s(),
            },
            Action::HoldWave { cutoff: s() },
            Action::ReleaseWave { cutoff: s() },
            Action::ReleaseHandheld { handheld: s() },
            Action::ResetHandheld { handheld: s() },
            Action::SetPriority {
                order: s(),
                priority: Priority::Urgent,
            },
            Action::Count {
                sku: s(),
                location: s(),
                qty: 1,
            },
        ];
        for a in &all {
            match a {
                Action::AcknowledgeAlarm { .. }
                | Action::ShelveAlarm { .. }
                | Action::AcknowledgeAll
                | Action::AcknowledgeAllOf { .. }
                | Action::Machine { .. }
                | Action::HoldWave { .. }
                | Action::ReleaseWave { .. }
                | Action::ReleaseHandheld { .. }
                | Action::ResetHandheld { .. }
                | Action::SetPriority { .. }
                | Action::Count { .. } => {}
            }
        }
        all
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_action_reads_in_english_for_the_log_and_as_a_code_for_the_page() {
        let a = Action::SetPriority {
            order: "A1".into(),
            priority: Priority::Urgent,
        };
        assert_eq!(a.to_string(), "set order A1 priority urgent");
        assert_eq!(
            serde_json::to_value(&a).unwrap(),
            serde_json::json!({"code": "set_priority", "params": {"order": "A1", "priority": "urgent"}})
        );
        let refused = Ending::Refused(RefusalText::NoOrder { order: "A1".into() });
        assert_eq!(
            serde_json::to_value(&refused).unwrap(),
            serde_json::json!({"code": "refused", "params": {"code": "no_order", "params": {"order": "A1"}}})
        );
        assert_eq!(
            serde_json::to_value(Ending::Done).unwrap(),
            serde_json::json!({"code": "done"})
        );
    }
}

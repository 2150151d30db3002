//! Why a supervisor's command was refused: a stable code with its details, so a page can say it
//! in its reader's language, and its English text (the `Display`) for the log and the audit.

use serde::{Deserialize, Serialize};

/// Why a command was refused. Serialised as `"code"` (the variant in snake case) and `"params"`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[serde(tag = "code", content = "params", rename_all = "snake_case")]
pub enum RefusalText {
    /// No handheld of that id.
    #[error("there is no handheld `{handheld}`")]
    NoHandheld {
        /// The id asked for.
        handheld: String,
    },
    /// No cut-off of that name.
    #[error("there is no cut-off `{cutoff}`")]
    NoCutoff {
        /// The name asked for.
        cutoff: String,
    },
    /// The wave is held already.
    #[error("wave {cutoff} is already held")]
    WaveAlreadyHeld {
        /// Its cut-off.
        cutoff: String,
    },
    /// The wave is not held.
    #[error("wave {cutoff} is already not held")]
    WaveNotHeld {
        /// Its cut-off.
        cutoff: String,
    },
    /// No order of that id.
    #[error("there is no order `{order}`")]
    NoOrder {
        /// The id asked for.
        order: String,
    },
    /// The order is past the point where its priority counts.
    #[error("order {order} is already {status}: its priority no longer matters")]
    PriorityTooLate {
        /// The order.
        order: String,
        /// Where it is (`picking`, `picked`, `sorted`, `cancelled`).
        status: String,
    },
    /// The order has that priority already.
    #[error("order {order} already has that priority")]
    SamePriority {
        /// The order.
        order: String,
    },
    /// The order is cancelled already.
    #[error("order {order} is already cancelled")]
    AlreadyCancelled {
        /// The order.
        order: String,
    },
    /// The order is on a cart or further on.
    #[error(
        "order {order} is already {status}{}: it can no longer be cancelled; take it out at packing",
        in_tote(.tote)
    )]
    CancelTooLate {
        /// The order.
        order: String,
        /// Where it is.
        status: String,
        /// Its tote, when it has one.
        tote: Option<u32>,
    },
    /// Stock movements that would leave a location holding less than nothing.
    #[error("{sku} at {location}: the book holds {book}, and the movements would leave {held}; nothing was moved")]
    StockBelowNothing {
        /// The SKU.
        sku: String,
        /// Where.
        location: String,
        /// What the book holds.
        book: u32,
        /// What the movements would leave.
        held: i64,
    },
    /// No alarm waits to be acknowledged.
    #[error("no alarm is waiting to be acknowledged")]
    NoAlarmWaiting,
    /// No alarm of that source waits to be acknowledged.
    #[error("no alarm of {of} is waiting to be acknowledged")]
    NoAlarmWaitingOf {
        /// The source asked for.
        of: String,
    },
    /// A shelving without a reason, or with a reason too long.
    #[error("say why it is shelved, in up to 200 characters")]
    ShelveWhy,
    /// A shelving for too long or for no time.
    #[error("an alarm is shelved for 1 to {max} minutes")]
    ShelveMinutes {
        /// The longest allowed.
        max: u32,
    },
    /// No alarm of that number.
    #[error("there is no alarm {alarm}")]
    NoAlarm {
        /// The number asked for.
        alarm: u64,
    },
    /// The alarm has cleared.
    #[error("alarm {alarm} has already cleared")]
    AlarmCleared {
        /// The alarm.
        alarm: u64,
    },
    /// Somebody acknowledged the alarm already.
    #[error("alarm {alarm} was already acknowledged by {by}")]
    AlreadyAcknowledged {
        /// The alarm.
        alarm: u64,
        /// Who did.
        by: String,
    },
    /// No PLC of that id.
    #[error("{plc} is not a PLC of this site")]
    NoPlc {
        /// The id asked for.
        plc: String,
    },
    /// The PLC's link is down.
    #[error("{command} refused: the link to {plc} is down")]
    PlcLinkDown {
        /// The PLC.
        plc: String,
        /// The command.
        command: String,
    },
    /// The PLC's state is not known.
    #[error("{command} refused: the state of {plc} is not known")]
    StateUnknown {
        /// The PLC.
        plc: String,
        /// The command.
        command: String,
    },
    /// PackML does not allow the command in the machine's state.
    #[error("{plc}: {command} is not allowed in state {state}: {}", accepts(.accepted))]
    NotAllowed {
        /// The PLC.
        plc: String,
        /// The command.
        command: String,
        /// The machine's state.
        state: String,
        /// The commands it takes in that state.
        accepted: Vec<String>,
    },
}

fn in_tote(tote: &Option<u32>) -> String {
    tote.map_or(String::new(), |t| format!(" (tote {t})"))
}

fn accepts(accepted: &[String]) -> String {
    if accepted.is_empty() {
        "it accepts no command until it leaves this state by itself".to_string()
    } else {
        format!("it accepts {}", accepted.join(", "))
    }
}

impl RefusalText {
    /// One refusal of every kind, for checking that a page's catalogues word each: adding a
    /// kind without adding it here fails to compile (the match below).
    pub fn every_kind() -> Vec<RefusalText> {
        let s = || "x".to_string();
        let all = vec![
            RefusalText::NoHandheld { handheld: s() },
            RefusalText::NoCutoff { cutoff: s() },
            RefusalText::WaveAlreadyHeld { cutoff: s() },
            RefusalText::WaveNotHeld { cutoff: s() },
            RefusalText::NoOrder { order: s() },
            RefusalText::PriorityTooLate {
                order: s(),
                status: s(),
            },
            RefusalText::SamePriority { order: s() },
            RefusalText::AlreadyCancelled { order: s() },
            RefusalText::CancelTooLate {
                order: s(),
                status: s(),
                tote: Some(1),
            },
            RefusalText::StockBelowNothing {
                sku: s(),
                location: s(),
                book: 1,
                held: -1,
            },
            RefusalText::NoAlarmWaiting,
            RefusalText::NoAlarmWaitingOf { of: s() },
            RefusalText::ShelveWhy,
            RefusalText::ShelveMinutes { max: 1 },
            RefusalText::NoAlarm { alarm: 1 },
            RefusalText::AlarmCleared { alarm: 1 },
            RefusalText::AlreadyAcknowledged { alarm: 1, by: s() },
            RefusalText::NoPlc { plc: s() },
            RefusalText::PlcLinkDown {
                plc: s(),
                command: s(),
            },
            RefusalText::StateUnknown {
                plc: s(),
                command: s(),
            },
            RefusalText::NotAllowed {
                plc: s(),
                command: s(),
                state: s(),
                accepted: vec![s()],
            },
        ];
        for text in &all {
            match text {
                RefusalText::NoHandheld { .. }
                | RefusalText::NoCutoff { .. }
                | RefusalText::WaveAlreadyHeld { .. }
                | RefusalText::WaveNotHeld { .. }
                | RefusalText::NoOrder { .. }
                | RefusalText::PriorityTooLate { .. }
                | RefusalText::SamePriority { .. }
                | RefusalText::AlreadyCancelled { .. }
                | RefusalText::CancelTooLate { .. }
                | RefusalText::StockBelowNothing { .. }
                | RefusalText::NoAlarmWaiting
                | RefusalText::NoAlarmWaitingOf { .. }
                | RefusalText::ShelveWhy
                | RefusalText::ShelveMinutes { .. }
                | RefusalText::NoAlarm { .. }
                | RefusalText::AlarmCleared { .. }
                | RefusalText::AlreadyAcknowledged { .. }
                | RefusalText::NoPlc { .. }
                | RefusalText::PlcLinkDown { .. }
                | RefusalText::StateUnknown { .. }
                | RefusalText::NotAllowed { .. } => {}
            }
        }
        all
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refusal_is_its_code_and_details_and_reads_as_before_in_english() {
        let text = RefusalText::NotAllowed {
            plc: "sorter1".into(),
            command: "Stop".into(),
            state: "Aborted".into(),
            accepted: vec!["Clear".into()],
        };
        assert_eq!(
            text.to_string(),
            "sorter1: Stop is not allowed in state Aborted: it accepts Clear"
        );
        assert_eq!(
            serde_json::to_value(&text).unwrap(),
            serde_json::json!({"code": "not_allowed", "params":
                {"plc": "sorter1", "command": "Stop", "state": "Aborted", "accepted": ["Clear"]}})
        );
        let unit = serde_json::to_value(RefusalText::NoAlarmWaiting).unwrap();
        assert_eq!(unit, serde_json::json!({"code": "no_alarm_waiting"}));
        let late = RefusalText::CancelTooLate {
            order: "A1".into(),
            status: "picking".into(),
            tote: Some(7),
        };
        assert_eq!(
            late.to_string(),
            "order A1 is already picking (tote 7): it can no longer be cancelled; take it out at packing"
        );
    }
}

//! What an alarm says: a stable code with its details, so a page can word it in its reader's
//! language, and its English text (the `Display`) for the log, the history and webhooks.

use serde::{Deserialize, Serialize};

/// An alarm's text. Serialised as `"code"` (the variant in snake case) and `"params"`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[serde(tag = "code", content = "params", rename_all = "snake_case")]
pub enum AlarmText {
    /// An order line names no location and no location here holds its SKU.
    #[error("order line for {sku} names no location and none holds it here")]
    NoLocation {
        /// Its SKU.
        sku: String,
    },
    /// An order names a cut-off the site does not have.
    #[error(
        "order has unknown cut-off `{cutoff}`; it is picked last and sorted to the exception chute"
    )]
    UnknownCutoff {
        /// The cut-off it names.
        cutoff: String,
    },
    /// Every tote number of the site's range has been given out.
    #[error("tote numbers {first} to {last} are used up; numbering starts again at {first}")]
    ToteNumbersUsedUp {
        /// The range's first number.
        first: u32,
        /// Its last.
        last: u32,
    },
    /// No contact with a PLC.
    #[error("No contact with {plc}: {trouble}. Check its power and network cable; the controller keeps trying.")]
    LinkDown {
        /// The PLC.
        plc: String,
        /// Why, in a supervisor's words.
        trouble: LinkTrouble,
    },
    /// A machine aborted that nobody here commanded to.
    #[error("{plc} is aborted (an emergency stop or a fault) and nobody here commanded it: find the cause on the floor, then Clear and Reset it.")]
    AbortedUnasked {
        /// The machine's PLC.
        plc: String,
    },
    /// A machine held that nobody here commanded to.
    #[error("{plc} is held and nobody here commanded it: find the cause, then Unhold it.")]
    HeldUnasked {
        /// The machine's PLC.
        plc: String,
    },
    /// A running machine stopped that nobody here commanded to.
    #[error("{plc} stopped while running and nobody here commanded it: find the cause, then Reset and Start it.")]
    StoppedUnasked {
        /// The machine's PLC.
        plc: String,
    },
    /// A machine still held after its fault cleared.
    #[error("{plc} is still held now that its fault has cleared: Unhold it to run again.")]
    StillHeld {
        /// The machine's PLC.
        plc: String,
    },
    /// A machine still stopped after its fault cleared.
    #[error(
        "{plc} is still stopped now that its fault has cleared: Reset and Start it to run again."
    )]
    StillStopped {
        /// The machine's PLC.
        plc: String,
    },
    /// A PLC reports a state number its map does not define.
    #[error("PLC reports state number {raw}, which its map does not define")]
    UndefinedState {
        /// The number.
        raw: u16,
    },
    /// A conveyor zone faulted.
    #[error("zone {zone} faulted (jam or motor trip): line held")]
    ZoneFault {
        /// The zone, from 0 at the entry.
        zone: u16,
    },
    /// A PLC answers, but not as it should. `detail` is the link's own account, for the log.
    #[error("{detail}")]
    PlcFault {
        /// Which condition (`reads`, `writes`, `acknowledgement`, `heartbeat`, `setpoints`,
        /// `values`).
        condition: String,
        /// What the link saw.
        detail: String,
    },
    /// A count found other than the book.
    #[error("count of {sku} at {location}: {found} found, {book} on the book; book corrected")]
    CountCorrected {
        /// The SKU.
        sku: String,
        /// Where.
        location: String,
        /// What was counted.
        found: u32,
        /// What the book said.
        book: u32,
    },
    /// A picker found less at a location than the book said, and took it all.
    #[error("{location} held {found} of SKU {sku} where the stock said {book}; counted as {found} and emptied")]
    FoundShort {
        /// Where.
        location: String,
        /// The SKU.
        sku: String,
        /// What was there.
        found: u32,
        /// What the book said.
        book: u32,
    },
    /// Logins refused one after another.
    #[error("{failures} failed logins in a row for {whose}; its further attempts wait longer each time (someone may be guessing passwords)")]
    LoginsRefused {
        /// Whose (`dashboard account sue`, `handheld h1`, an address).
        whose: String,
        /// How many in a row.
        failures: u32,
    },
    /// A webhook endpoint takes no events.
    #[error("events cannot be delivered to {endpoint}: {fault}; they are kept and sent again until it answers")]
    DeliveryFailing {
        /// The endpoint's name.
        endpoint: String,
        /// What it answered, for the log.
        fault: String,
    },
    /// A cut-off's orders will not all be in their lane in time at the current pick rate.
    #[error("cut-off {cutoff} is at risk: at the current pick rate its orders are not all in lane {lane} by {due}")]
    CutoffAtRisk {
        /// The cut-off.
        cutoff: String,
        /// Its lane.
        lane: String,
        /// When they are due, as the site's clock reads it.
        due: String,
    },
    /// The DC shipped a tote for a transfer that is not open.
    #[error("tote {tote} shipped for transfer {transfer}, which is not open")]
    TransferNotOpen {
        /// The tote.
        tote: u32,
        /// The transfer.
        transfer: u64,
    },
    /// The DC shipped a tote whose number is in use here.
    #[error("tote {tote} shipped by the DC is already in use here")]
    TransferToteInUse {
        /// The tote.
        tote: u32,
    },
    /// A transfer received short or over.
    #[error(
        "transfer {transfer} of {sku} received in tote {tote}: {asked} asked, {received} received ({})",
        difference(*.asked, *.received)
    )]
    TransferDifference {
        /// The transfer.
        transfer: u64,
        /// Its SKU.
        sku: String,
        /// Its tote.
        tote: u32,
        /// Units asked.
        asked: u32,
        /// Units received.
        received: u32,
    },
    /// A tote the controller does not know entered a conveyor.
    #[error("unknown tote {tote} entered the conveyor")]
    UnknownToteEntered {
        /// The tote.
        tote: u32,
    },
    /// A tote already sorted entered a conveyor again.
    #[error("tote {tote} entered the conveyor again after it was sorted")]
    SortedToteEntered {
        /// The tote.
        tote: u32,
    },
    /// A tote the controller does not know reached the induct.
    #[error("unknown tote {tote} at the induct; sent to the exception chute")]
    UnknownToteInducted {
        /// The tote.
        tote: u32,
    },
    /// A tote went round the sorter too often.
    #[error("tote {tote} went round the sorter {times} times; sent to the exception chute")]
    Recirculated {
        /// The tote.
        tote: u32,
        /// How many times.
        times: u32,
    },
    /// A tote's cut-off has no lane.
    #[error("tote {tote}: cut-off \"{cutoff}\" has no lane; sent to the exception chute")]
    NoLane {
        /// The tote.
        tote: u32,
        /// Its cut-off.
        cutoff: String,
    },
    /// A tote's lane has no chute on the sorter it reached.
    #[error("tote {tote}: the lane of cut-off {cutoff} has no chute on {sorter}; sent to its exception chute")]
    NoLaneHere {
        /// The tote.
        tote: u32,
        /// Its cut-off.
        cutoff: String,
        /// The sorter.
        sorter: String,
    },
    /// Every chute of a tote's lane is full or disabled.
    #[error("every chute of the lane for cut-off {cutoff} is full or disabled; tote {tote} recirculates")]
    LaneFull {
        /// The tote.
        tote: u32,
        /// Its cut-off.
        cutoff: String,
    },
    /// The sorter reports a chute the layout does not have.
    #[error("sorter reports tote {tote} sorted to chute {chute}, which the layout does not have")]
    NoSuchChute {
        /// The tote.
        tote: u32,
        /// The chute reported.
        chute: u16,
    },
    /// A tote the controller does not know was sorted.
    #[error("unknown tote {tote} sorted to chute {chute}")]
    UnknownToteSorted {
        /// The tote.
        tote: u32,
        /// Its chute.
        chute: u16,
    },
    /// A tote reported sorted a second time.
    #[error("tote {tote} reported sorted again, to chute {chute}")]
    SortedAgain {
        /// The tote.
        tote: u32,
        /// The chute reported.
        chute: u16,
    },
    /// A tote lost on the sorter.
    #[error("tote {tote} of order {order} lost on the sorter: find it and induct it again")]
    ToteLost {
        /// The tote.
        tote: u32,
        /// Its order.
        order: String,
    },
    /// A tote sorted to a chute outside its lane.
    #[error("tote {tote} of order {order} went to chute {chute}, outside its lane")]
    OutsideLane {
        /// The tote.
        tote: u32,
        /// Its order.
        order: String,
        /// The chute.
        chute: u16,
    },
}

/// Why a PLC link is down, in a supervisor's words (the link's own account goes to the log).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[serde(rename_all = "snake_case")]
pub enum LinkTrouble {
    /// The connection is refused.
    #[error("it refuses the connection (is its Modbus server running?)")]
    Refused,
    /// The network does not reach it.
    #[error("it cannot be reached on the network")]
    Unreachable,
    /// It does not answer.
    #[error("it does not answer")]
    Silent,
    /// Its answers cannot be read.
    #[error("its answers cannot be read")]
    Unreadable,
    /// Its heartbeat does not change.
    #[error("its program has stopped (its heartbeat does not change)")]
    ProgramStopped,
    /// Anything else.
    #[error("the connection failed")]
    Failed,
}

impl LinkTrouble {
    /// The trouble a link's own account of a failure tells of.
    pub fn of(reason: &str) -> LinkTrouble {
        if reason.starts_with("connect failed") {
            if reason.contains("refused") {
                LinkTrouble::Refused
            } else {
                LinkTrouble::Unreachable
            }
        } else if reason.starts_with("no answer") || reason.contains("timed out") {
            LinkTrouble::Silent
        } else if reason.starts_with("transport error") || reason.starts_with("malformed answer") {
            LinkTrouble::Unreadable
        } else if reason.contains("heartbeat") {
            LinkTrouble::ProgramStopped
        } else {
            LinkTrouble::Failed
        }
    }

    /// Every trouble, for checking that each is worded.
    pub const ALL: [LinkTrouble; 6] = [
        LinkTrouble::Refused,
        LinkTrouble::Unreachable,
        LinkTrouble::Silent,
        LinkTrouble::Unreadable,
        LinkTrouble::ProgramStopped,
        LinkTrouble::Failed,
    ];
}

/// How far a count received is from the count asked, in words.
fn difference(asked: u32, received: u32) -> String {
    if received < asked {
        format!("{} short", asked - received)
    } else {
        format!("{} over", received - asked)
    }
}

impl AlarmText {
    /// One text of every kind, for checking that a page's catalogues word each: adding a kind
    /// without adding it here fails to compile (the match below).
    pub fn every_kind() -> Vec<AlarmText> {
        let s = || "x".to_string();
        let all = vec![
            AlarmText::NoLocation { sku: s() },
            AlarmText::UnknownCutoff { cutoff: s() },
            AlarmText::ToteNumbersUsedUp { first: 1, last: 2 },
            AlarmText::LinkDown {
                plc: s(),
                trouble: LinkTrouble::Failed,
            },
            AlarmText::AbortedUnasked { plc: s() },
            AlarmText::HeldUnasked { plc: s() },
            AlarmText::StoppedUnasked { plc: s() },
            AlarmText::StillHeld { plc: s() },
            AlarmText::StillStopped { plc: s() },
            AlarmText::UndefinedState { raw: 1 },
            AlarmText::ZoneFault { zone: 1 },
            AlarmText::PlcFault {
                condition: s(),
                detail: s(),
            },
            AlarmText::CountCorrected {
                sku: s(),
                location: s(),
                found: 1,
                book: 2,
            },
            AlarmText::FoundShort {
                location: s(),
                sku: s(),
                found: 1,
                book: 2,
            },
            AlarmText::LoginsRefused {
                whose: s(),
                failures: 1,
            },
            AlarmText::DeliveryFailing {
                endpoint: s(),
                fault: s(),
            },
            AlarmText::CutoffAtRisk {
                cutoff: s(),
                lane: s(),
                due: s(),
            },
            AlarmText::TransferNotOpen {
                tote: 1,
                transfer: 1,
            },
            AlarmText::TransferToteInUse { tote: 1 },
            AlarmText::TransferDifference {
                transfer: 1,
                sku: s(),
                tote: 1,
                asked: 1,
                received: 2,
            },
            AlarmText::UnknownToteEntered { tote: 1 },
            AlarmText::SortedToteEntered { tote: 1 },
            AlarmText::UnknownToteInducted { tote: 1 },
            AlarmText::Recirculated { tote: 1, times: 1 },
            AlarmText::NoLane {
                tote: 1,
                cutoff: s(),
            },
            AlarmText::NoLaneHere {
                tote: 1,
                cutoff: s(),
                sorter: s(),
            },
            AlarmText::LaneFull {
                tote: 1,
                cutoff: s(),
            },
            AlarmText::NoSuchChute { tote: 1, chute: 1 },
            AlarmText::UnknownToteSorted { tote: 1, chute: 1 },
            AlarmText::SortedAgain { tote: 1, chute: 1 },
            AlarmText::ToteLost {
                tote: 1,
                order: s(),
            },
            AlarmText::OutsideLane {
                tote: 1,
                order: s(),
                chute: 1,
            },
        ];
        for text in &all {
            match text {
                AlarmText::NoLocation { .. }
                | AlarmText::UnknownCutoff { .. }
                | AlarmText::ToteNumbersUsedUp { .. }
                | AlarmText::LinkDown { .. }
                | AlarmText::AbortedUnasked { .. }
                | AlarmText::HeldUnasked { .. }
                | AlarmText::StoppedUnasked { .. }
                | AlarmText::StillHeld { .. }
                | AlarmText::StillStopped { .. }
                | AlarmText::UndefinedState { .. }
                | AlarmText::ZoneFault { .. }
                | AlarmText::PlcFault { .. }
                | AlarmText::CountCorrected { .. }
                | AlarmText::FoundShort { .. }
                | AlarmText::LoginsRefused { .. }
                | AlarmText::DeliveryFailing { .. }
                | AlarmText::CutoffAtRisk { .. }
                | AlarmText::TransferNotOpen { .. }
                | AlarmText::TransferToteInUse { .. }
                | AlarmText::TransferDifference { .. }
                | AlarmText::UnknownToteEntered { .. }
                | AlarmText::SortedToteEntered { .. }
                | AlarmText::UnknownToteInducted { .. }
                | AlarmText::Recirculated { .. }
                | AlarmText::NoLane { .. }
                | AlarmText::NoLaneHere { .. }
                | AlarmText::LaneFull { .. }
                | AlarmText::NoSuchChute { .. }
                | AlarmText::UnknownToteSorted { .. }
                | AlarmText::SortedAgain { .. }
                | AlarmText::ToteLost { .. }
                | AlarmText::OutsideLane { .. } => {}
            }
        }
        all
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_alarm_text_is_its_code_and_details_and_reads_as_before_in_english() {
        let text = AlarmText::LinkDown {
            plc: "sorter".into(),
            trouble: LinkTrouble::of("connect failed: Connection refused (os error 111)"),
        };
        assert_eq!(
            serde_json::to_value(&text).unwrap(),
            serde_json::json!({"code": "link_down", "params": {"plc": "sorter", "trouble": "refused"}})
        );
        assert_eq!(
            text.to_string(),
            "No contact with sorter: it refuses the connection (is its Modbus server running?). \
             Check its power and network cable; the controller keeps trying."
        );
        let back: AlarmText = serde_json::from_value(serde_json::to_value(&text).unwrap()).unwrap();
        assert_eq!(back, text);
    }

    #[test]
    fn every_kind_has_its_own_code() {
        let codes: std::collections::BTreeSet<String> = AlarmText::every_kind()
            .iter()
            .map(|t| {
                serde_json::to_value(t).unwrap()["code"]
                    .as_str()
                    .unwrap()
                    .to_string()
            })
            .collect();
        assert_eq!(codes.len(), AlarmText::every_kind().len());
    }
}

//! Why a handheld's message was refused: a stable code with its parameters, so a handheld can
//! say it in its picker's language, and an English text for logs and older handhelds.

use serde::{Deserialize, Serialize};

/// A refusal. On the wire (protocol version 3) it is `"code"` (the variant in snake case) and
/// `"params"` (an object, empty when there are none) beside the English `reason`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[serde(tag = "code", content = "params", rename_all = "snake_case")]
pub enum Refusal {
    /// The payload is larger than the controller reads.
    #[error("payload of {bytes} bytes is larger than {limit}")]
    TooLarge {
        /// Its size.
        bytes: usize,
        /// The largest read.
        limit: usize,
    },
    /// Not UTF-8 JSON of a known message.
    #[error("malformed payload: {detail}")]
    Malformed {
        /// What the parser said.
        detail: String,
    },
    /// A schema version the controller does not speak.
    #[error("schema version {got} is not supported (this controller speaks 2 and 3)")]
    Version {
        /// The version sent.
        got: u32,
    },
    /// The body's kind differs from its topic's.
    #[error("message kind `{body}` sent on topic kind `{topic}`")]
    KindMismatch {
        /// Kind from the topic.
        topic: String,
        /// Kind from the body.
        body: String,
    },
    /// The message counter is not above one already taken.
    #[error("stale message: counter {seq} is not above {last}, already taken; nothing changed")]
    Stale {
        /// The counter sent.
        seq: u64,
        /// The highest taken.
        last: u64,
    },
    /// A login of an earlier session of this handheld.
    #[error("stale login: session {session} was followed by another; nothing changed")]
    StaleSession {
        /// The session sent.
        session: String,
    },
    /// Anything but a login while logged out.
    #[error("log in first")]
    LogInFirst {},
    /// Anything but resume or log out while on a break.
    #[error("on a break: resume first")]
    OnBreak {},
    /// A pick, short or scan with no pick directed.
    #[error("no pick is directed to this handheld now")]
    NoPick {},
    /// A pick or short of another line than the one directed.
    #[error(
        "this pick is not the one directed: expected order {order} line {line} into tote {tote}"
    )]
    NotDirected {
        /// The order directed.
        order: String,
        /// Its line.
        line: u32,
        /// Its tote.
        tote: u32,
    },
    /// The order line directed is no longer known.
    #[error("order {order} line {line} is not known here")]
    UnknownLine {
        /// Order.
        order: String,
        /// Line.
        line: u32,
    },
    /// The location must be scanned before this.
    #[error("scan the location {location} first")]
    ScanLocationFirst {
        /// The location directed.
        location: String,
    },
    /// The SKU must be scanned before this.
    #[error("scan the SKU {sku} first")]
    ScanSkuFirst {
        /// The SKU directed.
        sku: String,
    },
    /// A location scanned that is not the one directed.
    #[error("wrong location {got}: go to {expected}")]
    WrongLocation {
        /// The location directed.
        expected: String,
        /// The code scanned.
        got: String,
    },
    /// A SKU scanned that is not the one directed.
    #[error("wrong SKU {got}: pick {expected} at {location}")]
    WrongSku {
        /// The SKU directed.
        expected: String,
        /// The code scanned.
        got: String,
        /// Where it is picked.
        location: String,
    },
    /// A tote scanned, closed or reported full that is not the one it should be.
    #[error("wrong tote {got}: the tote is {expected}")]
    WrongTote {
        /// The tote it should be.
        expected: u32,
        /// The code scanned or the tote sent.
        got: String,
    },
    /// More units confirmed than directed.
    #[error("over-pick: {confirmed} confirmed, {directed} directed; put {} back", confirmed - directed)]
    OverPick {
        /// Units confirmed.
        confirmed: u32,
        /// Units directed.
        directed: u32,
    },
    /// Fewer units confirmed as a pick than directed: a short it is.
    #[error(
        "{confirmed} is fewer than the {directed} directed: report a short with the units found"
    )]
    UnderPick {
        /// Units confirmed.
        confirmed: u32,
        /// Units directed.
        directed: u32,
    },
    /// A short of as many units as directed, or more: a pick it is.
    #[error("{found} found is not short of the {directed} directed: confirm it as a pick")]
    NotShort {
        /// Units found.
        found: u32,
        /// Units directed.
        directed: u32,
    },
    /// An accept with no trip offered.
    #[error("no trip is offered to this handheld now")]
    NoOffer {},
    /// A tote closed with none waiting to be closed.
    #[error("no tote is waiting to be closed on this handheld")]
    NoToteToClose {},
    /// A tote reported full with none being picked into.
    #[error("no tote is being picked into on this handheld")]
    NoToteOpen {},
    /// A replenishment confirmed with none directed.
    #[error("no replenishment is directed to this handheld now")]
    NoReplenishment {},
    /// A replenishment confirmed that is not the one directed.
    #[error("this is not the replenishment directed: expected task {expected}")]
    WrongReplenishment {
        /// The task directed.
        expected: u64,
        /// The task sent.
        got: u64,
    },
    /// More units moved than the reserve location holds.
    #[error(
        "{moved} moved is more than the {held} {location} holds; count it and send what was moved"
    )]
    MoreThanHeld {
        /// Units sent.
        moved: u32,
        /// Units the location holds.
        held: u32,
        /// The reserve location.
        location: String,
    },
}

impl Refusal {
    /// The stable code, as on the wire.
    pub fn code(&self) -> &'static str {
        match self {
            Refusal::TooLarge { .. } => "too_large",
            Refusal::Malformed { .. } => "malformed",
            Refusal::Version { .. } => "version",
            Refusal::KindMismatch { .. } => "kind_mismatch",
            Refusal::Stale { .. } => "stale",
            Refusal::StaleSession { .. } => "stale_session",
            Refusal::LogInFirst { .. } => "log_in_first",
            Refusal::OnBreak { .. } => "on_break",
            Refusal::NoPick { .. } => "no_pick",
            Refusal::NotDirected { .. } => "not_directed",
            Refusal::UnknownLine { .. } => "unknown_line",
            Refusal::ScanLocationFirst { .. } => "scan_location_first",
            Refusal::ScanSkuFirst { .. } => "scan_sku_first",
            Refusal::WrongLocation { .. } => "wrong_location",
            Refusal::WrongSku { .. } => "wrong_sku",
            Refusal::WrongTote { .. } => "wrong_tote",
            Refusal::OverPick { .. } => "over_pick",
            Refusal::UnderPick { .. } => "under_pick",
            Refusal::NotShort { .. } => "not_short",
            Refusal::NoOffer { .. } => "no_offer",
            Refusal::NoToteToClose { .. } => "no_tote_to_close",
            Refusal::NoToteOpen { .. } => "no_tote_open",
            Refusal::NoReplenishment { .. } => "no_replenishment",
            Refusal::WrongReplenishment { .. } => "wrong_replenishment",
            Refusal::MoreThanHeld { .. } => "more_than_held",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refusal_is_a_code_with_its_parameters() {
        let r = Refusal::WrongLocation {
            expected: "A03-07".into(),
            got: "A03-08".into(),
        };
        let v = serde_json::to_value(&r).unwrap();
        assert_eq!(
            v,
            serde_json::json!({"code": "wrong_location", "params": {"expected": "A03-07", "got": "A03-08"}})
        );
        assert_eq!(r.code(), "wrong_location");
        assert_eq!(r.to_string(), "wrong location A03-08: go to A03-07");
        let none = serde_json::to_value(Refusal::LogInFirst {}).unwrap();
        assert_eq!(
            none,
            serde_json::json!({"code": "log_in_first", "params": {}})
        );
        let back: Refusal = serde_json::from_value(v).unwrap();
        assert_eq!(back, r);
    }
}

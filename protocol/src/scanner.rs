//! The handheld scanner protocol over MQTT.
//!
//! Topics: `floorctl/{site}/scanners/{scanner}/up/{kind}` for what a handheld sends and
//! `floorctl/{site}/scanners/{scanner}/down/{kind}` for what the controller sends. Payloads are
//! JSON objects carrying the schema version `v` and a message id `id`.

use serde::{Deserialize, Serialize};

pub use crate::refusal::Refusal;

/// Schema version of every payload the controller and the simulator write.
pub const SCHEMA_VERSION: u32 = 3;
/// Versions the controller reads. A version 2 handheld is answered in version 2: the same
/// messages, with refusals as an English `reason` only.
pub const SUPPORTED_VERSIONS: [u32; 2] = [2, 3];

/// The version to answer a handheld in that sent `v`: its own when it is spoken here, else the
/// newest.
pub fn answer_version(v: Option<u32>) -> u32 {
    v.filter(|v| SUPPORTED_VERSIONS.contains(v))
        .unwrap_or(SCHEMA_VERSION)
}

/// Largest payload the controller accepts from a handheld.
pub const MAX_PAYLOAD_BYTES: usize = 4096;
/// Longest message id a refusal repeats.
pub const MAX_ID_BYTES: usize = 128;

/// Topic a handheld publishes `kind` messages on.
pub fn up_topic(site: &str, scanner: &str, kind: &str) -> String {
    format!("floorctl/{site}/scanners/{scanner}/up/{kind}")
}

/// Topic the controller publishes `kind` messages to a handheld on.
pub fn down_topic(site: &str, scanner: &str, kind: &str) -> String {
    format!("floorctl/{site}/scanners/{scanner}/down/{kind}")
}

/// Filter matching every handheld's `up` messages of a site.
pub fn up_filter(site: &str) -> String {
    format!("floorctl/{site}/scanners/+/up/#")
}

/// Splits an `up` topic into (scanner id, message kind).
pub fn parse_up_topic<'a>(site: &str, topic: &'a str) -> Option<(&'a str, &'a str)> {
    let rest = topic
        .strip_prefix("floorctl/")?
        .strip_prefix(site)?
        .strip_prefix("/scanners/")?;
    let (scanner, rest) = rest.split_once('/')?;
    let kind = rest.strip_prefix("up/")?;
    let id_ok = crate::id::HandheldId::try_from(scanner).is_ok();
    (id_ok && !kind.is_empty() && !kind.contains('/')).then_some((scanner, kind))
}

/// What a handheld sends.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Up {
    /// Schema version.
    pub v: u32,
    /// Message id, unique per handheld; a repeated id is a duplicate delivery.
    pub id: String,
    /// The handheld's message counter, rising with every new message; a message whose counter
    /// is below one already taken is stale and refused. Optional.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seq: Option<u64>,
    /// The message body, by kind.
    #[serde(flatten)]
    pub body: UpBody,
}

/// What a handheld scanned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ScanWhat {
    /// A location label.
    Location,
    /// A SKU barcode.
    Sku,
    /// A tote label.
    Tote,
}

/// The next scan a pick direction expects, in the order they come.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Expect {
    /// Scan the location label.
    Location,
    /// Scan the SKU's barcode.
    Sku,
    /// Put the quantity in the tote and confirm it (`pick`), or report a short (`short`).
    Quantity,
}

/// The body of a handheld message; the `kind` field names it and matches the topic's last level.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum UpBody {
    /// The picker logged in (or the handheld reconnected) and wants work.
    Login {
        /// Picker's badge.
        picker: String,
        /// The handheld's session: new for each start of the app (a reinstall, a swapped
        /// device). A login of a session not seen before starts the message counter afresh.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        session: Option<String>,
    },
    /// One order line picked into the tote.
    Pick {
        /// Order.
        order: String,
        /// Line number within the order (0-based).
        line: u32,
        /// Quantity put in the tote.
        qty: u32,
        /// Tote picked into.
        tote: u32,
    },
    /// The tote is closed and ready for the conveyor.
    ToteClosed {
        /// Tote.
        tote: u32,
    },
    /// The tote being picked into is full: it is closed as it is and the order goes on in a new
    /// tote, which the next direction names.
    ToteFull {
        /// The full tote.
        tote: u32,
    },
    /// A scan, checked against the direction: the location, then the SKU.
    Scan {
        /// What was scanned.
        what: ScanWhat,
        /// The code read.
        code: String,
    },
    /// Fewer units at the location than directed: `found` were put in the tote.
    Short {
        /// Order.
        order: String,
        /// Line number within the order.
        line: u32,
        /// Units found and picked (0 to fewer than directed).
        found: u32,
        /// Tote picked into.
        tote: u32,
    },
    /// The picker takes the trip offered.
    Accept,
    /// Stock moved from reserve to a pick face, as directed.
    Replenished {
        /// Replenishment task.
        task: u64,
        /// Units moved (fewer than directed when reserve held fewer).
        qty: u32,
    },
    /// The picker takes a break; the work waits.
    Break,
    /// Back from the break.
    Resume,
    /// The picker logs out; unfinished work goes to another picker.
    Logout,
    /// Online or offline (retained; the broker publishes `online: false` as the last will).
    Presence {
        /// Whether the handheld is connected.
        online: bool,
    },
}

impl UpBody {
    /// The topic level this body is sent under.
    pub fn kind(&self) -> &'static str {
        match self {
            UpBody::Login { .. } => "login",
            UpBody::Pick { .. } => "pick",
            UpBody::ToteClosed { .. } => "tote_closed",
            UpBody::ToteFull { .. } => "tote_full",
            UpBody::Scan { .. } => "scan",
            UpBody::Short { .. } => "short",
            UpBody::Accept => "accept",
            UpBody::Replenished { .. } => "replenished",
            UpBody::Break => "break",
            UpBody::Resume => "resume",
            UpBody::Logout => "logout",
            UpBody::Presence { .. } => "presence",
        }
    }
}

/// Why a handheld message was refused before it reached the controller's state.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// Larger than [`MAX_PAYLOAD_BYTES`].
    #[error("payload of {0} bytes is larger than {MAX_PAYLOAD_BYTES}")]
    TooLarge(usize),
    /// Not UTF-8 JSON of the expected shape.
    #[error("malformed payload: {0}")]
    Malformed(String),
    /// A schema version this controller does not speak.
    #[error("schema version {0} is not supported (this controller speaks 2 and 3)")]
    Version(u32),
    /// The body's kind differs from the topic's.
    #[error("message kind `{body}` sent on topic kind `{topic}`")]
    KindMismatch {
        /// Kind from the topic.
        topic: String,
        /// Kind from the body.
        body: String,
    },
}

impl DecodeError {
    /// The refusal a handheld is sent.
    pub fn refusal(&self) -> Refusal {
        match self {
            DecodeError::TooLarge(bytes) => Refusal::TooLarge {
                bytes: *bytes,
                limit: MAX_PAYLOAD_BYTES,
            },
            DecodeError::Malformed(detail) => Refusal::Malformed {
                detail: detail.clone(),
            },
            DecodeError::Version(got) => Refusal::Version { got: *got },
            DecodeError::KindMismatch { topic, body } => Refusal::KindMismatch {
                topic: topic.clone(),
                body: body.clone(),
            },
        }
    }
}

/// One field of a JSON object whose whole may not decode as a message.
fn readable_field<T: serde::de::DeserializeOwned>(payload: &[u8], field: &str) -> Option<T> {
    if payload.len() > MAX_PAYLOAD_BYTES {
        return None;
    }
    let mut object: serde_json::Map<String, serde_json::Value> =
        serde_json::from_slice(payload).ok()?;
    serde_json::from_value(object.remove(field)?).ok()
}

impl Up {
    /// The schema version of a payload that may not decode, so its refusal is written in the
    /// handheld's version; `None` when there is none to read.
    pub fn readable_version(payload: &[u8]) -> Option<u32> {
        readable_field(payload, "v")
    }

    /// The message id of a payload that may not decode (a wrong field, a wrong version), so a
    /// refusal can name the message it answers; `None` when there is none to read.
    pub fn readable_id(payload: &[u8]) -> Option<String> {
        readable_field::<String>(payload, "id")
            .filter(|id| !id.is_empty() && id.len() <= MAX_ID_BYTES)
    }

    /// Decodes a handheld's payload sent on its `up/{kind}` topic.
    pub fn decode(kind: &str, payload: &[u8]) -> Result<Up, DecodeError> {
        if payload.len() > MAX_PAYLOAD_BYTES {
            return Err(DecodeError::TooLarge(payload.len()));
        }
        let up: Up =
            serde_json::from_slice(payload).map_err(|e| DecodeError::Malformed(e.to_string()))?;
        if !SUPPORTED_VERSIONS.contains(&up.v) {
            return Err(DecodeError::Version(up.v));
        }
        if up.body.kind() != kind {
            return Err(DecodeError::KindMismatch {
                topic: kind.into(),
                body: up.body.kind().into(),
            });
        }
        Ok(up)
    }
}

/// A direction to a handheld (topic kind `direction`). A handheld shows the newest; `id` changes
/// only when the direction does, so a repeated one can be ignored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Direction {
    /// Schema version.
    pub v: u32,
    /// Direction id.
    pub id: String,
    /// What to do.
    #[serde(flatten)]
    pub task: Task,
}

/// What the handheld is told to do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Task {
    /// A trip is offered: these orders into these totes, `lines` lines starting at `location`.
    /// The handheld answers `accept`.
    Offer {
        /// Orders on the cart.
        orders: Vec<String>,
        /// Their totes, in the same order.
        totes: Vec<u32>,
        /// Lines to pick.
        lines: u32,
        /// The first location.
        location: String,
    },
    /// Go to `location`, pick `qty` of `sku` into `tote`.
    Pick {
        /// Order.
        order: String,
        /// Line number.
        line: u32,
        /// Pick face.
        location: String,
        /// SKU code.
        sku: String,
        /// What the SKU is, for the picker.
        #[serde(default, skip_serializing_if = "String::is_empty")]
        description: String,
        /// Quantity.
        qty: u32,
        /// Tote to pick into.
        tote: u32,
        /// Lines left in the order after this one.
        lines_left: u32,
        /// The scan expected next.
        expect: Expect,
    },
    /// Move `qty` of `sku` from the reserve location `from` to the pick face `to`.
    Replenish {
        /// Replenishment task.
        task: u64,
        /// SKU.
        sku: String,
        /// Reserve location.
        from: String,
        /// Pick face.
        to: String,
        /// Units.
        qty: u32,
    },
    /// All lines picked: close the tote.
    CloseTote {
        /// Tote.
        tote: u32,
    },
    /// Tote complete: put it on this conveyor.
    ToteComplete {
        /// Tote.
        tote: u32,
        /// Conveyor id.
        conveyor: String,
    },
    /// No work for now.
    Wait,
    /// On a break: resume to carry on.
    Paused,
    /// Logged out.
    LoggedOut,
}

/// An error sent to a handheld (topic kind `error`): its message was refused and changed
/// nothing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorReply {
    /// Schema version.
    pub v: u32,
    /// Id of the message refused, when it could be read.
    pub reply_to: Option<String>,
    /// Why, as a code and its parameters (version 3).
    #[serde(flatten)]
    pub refusal: Refusal,
    /// Why, in English.
    pub reason: String,
}

impl ErrorReply {
    /// A refusal of message `reply_to`, in version `v`.
    pub fn new(v: u32, reply_to: Option<String>, refusal: Refusal) -> ErrorReply {
        ErrorReply {
            v,
            reply_to,
            reason: refusal.to_string(),
            refusal,
        }
    }

    /// The payload sent: version 2 has no code and parameters, only the English reason.
    pub fn payload(&self) -> Vec<u8> {
        #[derive(Serialize)]
        struct Version2<'a> {
            v: u32,
            reply_to: &'a Option<String>,
            reason: &'a str,
        }
        let bytes = if self.v == 2 {
            serde_json::to_vec(&Version2 {
                v: 2,
                reply_to: &self.reply_to,
                reason: &self.reason,
            })
        } else {
            serde_json::to_vec(self)
        };
        bytes.expect("a refusal serialises")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn up_topics_round_trip() {
        let t = up_topic("fw1", "h7", "pick");
        assert_eq!(parse_up_topic("fw1", &t), Some(("h7", "pick")));
        assert_eq!(parse_up_topic("fw2", &t), None);
        assert_eq!(
            parse_up_topic("fw1", "floorctl/fw1/scanners/h7/down/pick"),
            None
        );
        assert_eq!(
            parse_up_topic("fw1", "floorctl/fw1/scanners/h7/up/a/b"),
            None
        );
    }

    #[test]
    fn a_topic_whose_handheld_id_is_no_identifier_names_no_handheld() {
        let long = "h".repeat(65);
        for id in [long.as_str(), "h\u{7}", " h7"] {
            let t = format!("floorctl/fw1/scanners/{id}/up/pick");
            assert_eq!(parse_up_topic("fw1", &t), None, "{id:?}");
        }
    }

    #[test]
    fn a_pick_confirmation_decodes() {
        let p = br#"{"v":2,"id":"m1","kind":"pick","order":"o1","line":0,"qty":2,"tote":5}"#;
        let up = Up::decode("pick", p).unwrap();
        assert_eq!(
            up.body,
            UpBody::Pick {
                order: "o1".into(),
                line: 0,
                qty: 2,
                tote: 5
            }
        );
    }

    #[test]
    fn scans_shorts_and_bodiless_messages_decode() {
        let up = Up::decode(
            "scan",
            br#"{"v":2,"id":"a","seq":4,"kind":"scan","what":"sku","code":"S1"}"#,
        )
        .unwrap();
        assert_eq!(up.seq, Some(4));
        assert_eq!(
            up.body,
            UpBody::Scan {
                what: ScanWhat::Sku,
                code: "S1".into()
            }
        );
        let up = Up::decode("break", br#"{"v":2,"id":"b","kind":"break"}"#).unwrap();
        assert_eq!(up.body, UpBody::Break);
        let up = Up::decode(
            "presence",
            br#"{"v":2,"id":"c","kind":"presence","online":false}"#,
        )
        .unwrap();
        assert_eq!(up.body, UpBody::Presence { online: false });
        assert!(Up::decode(
            "scan",
            br#"{"v":2,"id":"a","kind":"scan","what":"shelf","code":"x"}"#
        )
        .is_err());
    }

    #[test]
    fn a_refusal_is_written_in_the_version_of_the_handheld_it_answers() {
        let refusal = Refusal::OverPick {
            confirmed: 3,
            directed: 2,
        };
        let v3 = ErrorReply::new(3, Some("h1-12".into()), refusal.clone());
        let sent: serde_json::Value = serde_json::from_slice(&v3.payload()).unwrap();
        assert_eq!(
            sent,
            serde_json::json!({"v": 3, "reply_to": "h1-12", "code": "over_pick",
                "params": {"confirmed": 3, "directed": 2},
                "reason": "over-pick: 3 confirmed, 2 directed; put 1 back"})
        );
        let back: ErrorReply = serde_json::from_value(sent).unwrap();
        assert_eq!(back, v3);
        let v2 = ErrorReply::new(2, None, refusal);
        let sent: serde_json::Value = serde_json::from_slice(&v2.payload()).unwrap();
        assert_eq!(
            sent,
            serde_json::json!({"v": 2, "reply_to": null,
                "reason": "over-pick: 3 confirmed, 2 directed; put 1 back"})
        );
        assert_eq!(answer_version(Some(2)), 2);
        assert_eq!(answer_version(Some(9)), SCHEMA_VERSION);
        assert_eq!(answer_version(None), SCHEMA_VERSION);
    }

    #[test]
    fn a_version_2_message_still_decodes() {
        let up = Up::decode("break", br#"{"v":3,"id":"b","kind":"break"}"#).unwrap();
        assert_eq!(up.v, 3);
        assert_eq!(
            Up::readable_version(br#"{"v":2,"id":"x","kind":"nonsense"}"#),
            Some(2)
        );
    }

    #[test]
    fn bad_payloads_are_refused_with_a_reason() {
        assert!(matches!(
            Up::decode("pick", b"\xff\xfe"),
            Err(DecodeError::Malformed(_))
        ));
        assert!(matches!(
            Up::decode("pick", br#"{"v":2,"id":"m1","kind":"pick"}"#),
            Err(DecodeError::Malformed(_))
        ));
        assert!(matches!(
            Up::decode("pick", br#"{"v":4,"id":"m","kind":"tote_closed","tote":1}"#),
            Err(DecodeError::Version(4))
        ));
        assert!(matches!(
            Up::decode("pick", br#"{"v":2,"id":"m","kind":"tote_closed","tote":1}"#),
            Err(DecodeError::KindMismatch { .. })
        ));
        assert!(matches!(
            Up::decode("pick", &vec![b' '; 5000]),
            Err(DecodeError::TooLarge(5000))
        ));
    }
}

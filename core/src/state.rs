//! What the core keeps per order, tote and handheld.

use std::collections::VecDeque;

use floorctl_protocol::order::{Order, Priority};
use floorctl_protocol::scanner::{Direction, Expect};

use super::{batching, Millis, OrderStatus, ToteStatus};

/// How many message ids per handheld are remembered to recognise re-deliveries. A handheld
/// sends one message and waits for its answer, so only its last few can be delivered again (by
/// the broker, after a controller restart); an older repeat carries a counter already taken
/// and is refused as stale. Kept small: a thousand handhelds hold 64 answers each.
pub(crate) const SEEN_IDS_PER_SCANNER: usize = 64;

/// Where an order stands in the release queue: priority, due time (none: last), cut-off rank,
/// arrival.
pub(crate) type QueueKey = (Priority, Millis, usize, u64);

/// An order and its progress.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub(crate) struct OrderState {
    pub(crate) order: Order,
    pub(crate) status: OrderStatus,
    pub(crate) tote: Option<u32>,
    /// Position in the release queue.
    pub(crate) key: QueueKey,
    /// When every tote of the order must be in its lane, when its cut-off says.
    pub(crate) due: Option<Millis>,
    /// When it is released to the pickers.
    pub(crate) release_at: Millis,
    /// Units put in the tote, per line; `None` while the line is open.
    pub(crate) picked: Vec<Option<u32>>,
    /// Totes of the order closed full before `tote`.
    pub(crate) full_totes: Vec<u32>,
    /// Units that could not be found anywhere, back-ordered.
    pub(crate) backordered: u32,
    /// Its due time passed before it was in its lane (and that was said).
    #[serde(default)]
    pub(crate) late: bool,
}

/// A tote and its progress.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub(crate) struct ToteState {
    pub(crate) order: String,
    pub(crate) status: ToteStatus,
    pub(crate) chute: Option<u16>,
    /// Chute the last divert asked for.
    pub(crate) target: Option<u16>,
    pub(crate) recirculations: u32,
    /// The DC transfer order it carries, for a tote coming in from the DC.
    pub(crate) transfer: Option<u64>,
    /// Units of the transfer the DC put in it, when it said.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) units: Option<u32>,
}

/// What a handheld is doing.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub(crate) enum Work {
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
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub(crate) struct ScannerState {
    pub(crate) picker: String,
    pub(crate) work: Option<Work>,
    /// The trip the work belongs to.
    pub(crate) trip: batching::Trip,
    /// The last direction sent, re-sent on reconnect.
    pub(crate) direction: Option<Direction>,
    /// Recent message ids with the answer each got, to answer a re-delivery the same way.
    pub(crate) answers: VecDeque<(String, Vec<Reply>)>,
    /// The highest message counter taken.
    pub(crate) last_seq: Option<u64>,
    /// The session of its last login, and earlier ones (a login of one of those is stale).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) session: Option<String>,
    #[serde(default, skip_serializing_if = "VecDeque::is_empty")]
    pub(crate) past_sessions: VecDeque<String>,
    /// When it was last heard from (any message).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) last_heard: Option<Millis>,
    /// On a break.
    pub(crate) paused: bool,
    /// When the handheld went offline, while it is.
    pub(crate) offline_since: Option<Millis>,
    /// The protocol version it speaks (of its last message), which its answers are written in.
    #[serde(default = "version_2")]
    pub(crate) version: u32,
}

/// The version of a handheld kept before versions were: all spoke 2.
fn version_2() -> u32 {
    2
}

impl Default for ScannerState {
    /// A handheld not heard from yet: answered in the newest version until it says its own.
    fn default() -> ScannerState {
        ScannerState {
            picker: String::new(),
            work: None,
            trip: batching::Trip::default(),
            direction: None,
            answers: VecDeque::new(),
            last_seq: None,
            session: None,
            past_sessions: VecDeque::new(),
            last_heard: None,
            paused: false,
            offline_since: None,
            version: floorctl_protocol::scanner::SCHEMA_VERSION,
        }
    }
}

/// What a handheld's message was answered with, kept to answer a re-delivery the same way. A
/// direction is not kept whole: a re-delivery is sent the handheld's current one.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub(crate) enum Reply {
    Directed,
    Refused(floorctl_protocol::scanner::ErrorReply),
}

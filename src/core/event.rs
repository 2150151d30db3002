//! Facts from outside the core. Every event is journalled before its commands are acted on.

use floorctl_protocol::order::Order;
use floorctl_protocol::scanner::Up;
use serde::{Deserialize, Serialize};

/// How a tote left the sorter's divert point, as the sorter PLC reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SortOutcome {
    /// Diverted into the reported chute.
    Sorted,
    /// No divert arrived within the window: the tote recirculates.
    WindowMissed,
    /// The commanded chute was full: the tote recirculates.
    ChuteFull,
    /// The induct scanner could not read the tote: the tote recirculates.
    NoRead,
}

impl SortOutcome {
    /// The outcome for a PLC outcome code, or `None` for a code the map does not define.
    pub fn from_code(code: u16) -> Option<SortOutcome> {
        match code {
            1 => Some(SortOutcome::Sorted),
            2 => Some(SortOutcome::WindowMissed),
            3 => Some(SortOutcome::ChuteFull),
            4 => Some(SortOutcome::NoRead),
            _ => None,
        }
    }

    /// The PLC outcome code.
    pub fn code(self) -> u16 {
        match self {
            SortOutcome::Sorted => 1,
            SortOutcome::WindowMissed => 2,
            SortOutcome::ChuteFull => 3,
            SortOutcome::NoRead => 4,
        }
    }
}

/// A fact the controller learned.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Event {
    /// An order arrived from the order system.
    OrderReceived {
        /// The order.
        order: Order,
    },
    /// A handheld sent a well-formed message.
    Scanner {
        /// Handheld id, from the topic.
        scanner: String,
        /// The message.
        msg: Up,
    },
    /// A tote was scanned at a conveyor's entry.
    ToteEntered {
        /// Conveyor id.
        conveyor: String,
        /// Tote.
        tote: u32,
        /// The PLC's entry sequence number.
        seq: u16,
    },
    /// A tote was read at the sorter induct (tote 0: no-read).
    ToteInducted {
        /// Sorter id.
        sorter: String,
        /// Tote.
        tote: u32,
        /// The PLC's induct sequence number.
        seq: u16,
    },
    /// The sorter reported where a tote went.
    SortConfirmed {
        /// Sorter id.
        sorter: String,
        /// Tote.
        tote: u32,
        /// Chute (0 when not diverted).
        chute: u16,
        /// Outcome.
        outcome: SortOutcome,
        /// The PLC's confirmation sequence number.
        seq: u16,
    },
    /// A chute's full signal changed.
    ChuteFull {
        /// Sorter id.
        sorter: String,
        /// Chute.
        chute: u16,
        /// Whether it is full now.
        full: bool,
    },
    /// The link to a PLC came up or went down.
    PlcLink {
        /// PLC id.
        plc: String,
        /// Up or down.
        up: bool,
        /// Why, when down.
        reason: Option<String>,
    },
}

impl Event {
    /// A short name for the journal's `kind` column and for logs.
    pub fn kind(&self) -> &'static str {
        match self {
            Event::OrderReceived { .. } => "order_received",
            Event::Scanner { .. } => "scanner",
            Event::ToteEntered { .. } => "tote_entered",
            Event::ToteInducted { .. } => "tote_inducted",
            Event::SortConfirmed { .. } => "sort_confirmed",
            Event::ChuteFull { .. } => "chute_full",
            Event::PlcLink { .. } => "plc_link",
        }
    }
}

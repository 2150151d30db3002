//! What the shell must do after an event.

use floorctl_protocol::packml::Command as PackCommand;
use floorctl_protocol::scanner::{Direction, ErrorReply};
use serde::Serialize;

use crate::{AlarmText, RefusalText};

/// An action for the shell.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Command {
    /// Send a direction to a handheld.
    Direct {
        /// Handheld id.
        scanner: String,
        /// Direction.
        direction: Direction,
    },
    /// Tell a handheld its message was refused.
    Reject {
        /// Handheld id.
        scanner: String,
        /// Reason.
        reply: ErrorReply,
    },
    /// Divert a tote at the sorter.
    Divert {
        /// Sorter id.
        sorter: String,
        /// Tote.
        tote: u32,
        /// Chute.
        chute: u16,
    },
    /// Send a PackML command to a machine.
    Packml {
        /// PLC id.
        plc: String,
        /// Command.
        command: PackCommand,
    },
    /// Raise an alarm for supervisors.
    Alarm {
        /// Equipment, handheld or order the alarm is about.
        source: String,
        /// What happened, in English.
        text: String,
        /// What happened, as a code with its details.
        said: AlarmText,
    },
    /// A standing alarm's condition is gone.
    AlarmCleared {
        /// Source of the alarm.
        source: String,
        /// Its text.
        text: String,
        /// Its text as a code with its details (none for an alarm raised before texts had
        /// codes).
        said: Option<AlarmText>,
    },
    /// Ask the distribution centre for stock (an inter-site transfer order).
    Transfer {
        /// SKU.
        sku: String,
        /// Units.
        qty: u32,
        /// The pick face they are for.
        to: String,
    },
}

/// What the core made of one event: the actions for the shell, the rows journalled with the
/// event, the refusal of a supervisor's command, lines for the operator's log, and what the
/// systems around the floor are told.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Reaction {
    /// Actions for the shell, in order.
    pub commands: Vec<Command>,
    /// Orders, totes and transfers as they now stand, to persist with the event.
    pub records: Vec<Record>,
    /// Why a supervisor's command was refused (then nothing changed).
    pub refusal: Option<Refusal>,
    /// Facts worth a line in the operator's log; they change nothing outside.
    pub notes: Vec<Note>,
    /// What the systems around the floor are told, journalled with the event (the outbox).
    pub published: Vec<super::Published>,
}

impl Reaction {
    pub(crate) fn push(&mut self, command: Command) {
        self.commands.push(command);
    }

    pub(crate) fn record(&mut self, record: Record) {
        self.records.push(record);
    }

    pub(crate) fn note(&mut self, note: Note) {
        self.notes.push(note);
    }

    /// Refuses a supervisor's command: nothing changes, the reason goes back to them.
    pub(crate) fn refuse(&mut self, subject: &str, said: RefusalText) {
        self.refusal = Some(Refusal {
            subject: subject.to_string(),
            reason: said.to_string(),
            said,
        });
    }
}

/// A supervisor's command that was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// What the command was about (a PLC, `alarm 12`, `wave 11:00`, `order A1`).
    pub subject: String,
    /// Why, in English words for the supervisor and the log.
    pub reason: String,
    /// Why, as a code with its details for a page to word.
    pub said: RefusalText,
}

/// A fact the shell writes to its log. The core logs nothing itself.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Note {
    /// A machine reported a PackML state.
    EquipmentState {
        /// PLC id.
        plc: String,
        /// The state it reported.
        state: floorctl_protocol::packml::State,
    },
    /// A supervisor's command was accepted and goes to the machine.
    SupervisorCommand {
        /// PLC id.
        plc: String,
        /// The command.
        command: PackCommand,
        /// Who gave it.
        by: String,
    },
    /// Units of a line found nowhere, back-ordered.
    BackOrdered {
        /// Order.
        order: String,
        /// SKU.
        sku: String,
        /// Units missing.
        missing: u32,
        /// The handheld that found the face short.
        scanner: String,
    },
    /// A handheld offline too long: its work goes to another picker.
    HandheldLost {
        /// Handheld id.
        scanner: String,
    },
    /// An order's due time passed before it was in its lane.
    OrderLate {
        /// Order.
        order: String,
        /// Its cut-off.
        cutoff: String,
        /// When it was due.
        due: super::Millis,
    },
}

/// A row of the orders or totes table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub enum Record {
    /// An order's state.
    Order {
        /// Order number.
        id: String,
        /// Cut-off.
        cutoff: String,
        /// Status.
        status: OrderStatus,
        /// Tote it is picked into.
        tote: Option<u32>,
        /// Units picked so far.
        picked: u32,
    },
    /// A transfer order to the distribution centre, as requested.
    Transfer {
        /// Transfer number.
        id: u64,
        /// SKU.
        sku: String,
        /// Units.
        qty: u32,
        /// The pick face they are for.
        face: String,
    },
    /// A transfer from the DC arrived: units received against it.
    TransferReceived {
        /// Transfer number.
        id: u64,
        /// Units received.
        received: u32,
    },
    /// A tote's state.
    Tote {
        /// Tote.
        id: u32,
        /// Order it carries.
        order: String,
        /// Status.
        status: ToteStatus,
        /// Chute, once sorted.
        chute: Option<u16>,
    },
}

/// Where an order is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrderStatus {
    /// Known, waiting for its release time.
    Waiting,
    /// Waiting for a picker.
    Released,
    /// A picker is on it.
    Picking,
    /// All lines picked and the tote closed.
    Picked,
    /// Its tote is in its dispatch lane.
    Sorted,
    /// Withdrawn before any picker took it; it leaves the counts.
    Cancelled,
}

/// Where a tote is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ToteStatus {
    /// Being picked into.
    Picking,
    /// Closed, on its way to the conveyor.
    Closed,
    /// On the conveyor or circulating on the sorter.
    Conveying,
    /// In a chute.
    Sorted,
    /// The sorter lost track of it; someone must find it.
    Lost,
}

impl OrderStatus {
    /// Every status.
    pub const ALL: [OrderStatus; 6] = [
        OrderStatus::Waiting,
        OrderStatus::Released,
        OrderStatus::Picking,
        OrderStatus::Picked,
        OrderStatus::Sorted,
        OrderStatus::Cancelled,
    ];

    /// The name stored in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            OrderStatus::Waiting => "waiting",
            OrderStatus::Released => "released",
            OrderStatus::Picking => "picking",
            OrderStatus::Picked => "picked",
            OrderStatus::Sorted => "sorted",
            OrderStatus::Cancelled => "cancelled",
        }
    }
}

impl ToteStatus {
    /// The name stored in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            ToteStatus::Picking => "picking",
            ToteStatus::Closed => "closed",
            ToteStatus::Conveying => "conveying",
            ToteStatus::Sorted => "sorted",
            ToteStatus::Lost => "lost",
        }
    }
}

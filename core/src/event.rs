//! Facts from outside the core. Every event is journalled before its commands are acted on.

use floorctl_protocol::order::Order;
use floorctl_protocol::packml::{Command as PackCommand, State};
use floorctl_protocol::scanner::Up;
use serde::{Deserialize, Serialize};

/// How a tote left the sorter's divert point, as the sorter PLC reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
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
    /// The commanded chute is disabled: the tote recirculates.
    ChuteDisabled,
    /// The sorter lost track of the tote (it left the sorter unseen).
    Lost,
}

impl SortOutcome {
    /// The outcome for a PLC outcome code, or `None` for a code the map does not define.
    pub fn from_code(code: u16) -> Option<SortOutcome> {
        match code {
            1 => Some(SortOutcome::Sorted),
            2 => Some(SortOutcome::WindowMissed),
            3 => Some(SortOutcome::ChuteFull),
            4 => Some(SortOutcome::NoRead),
            5 => Some(SortOutcome::ChuteDisabled),
            6 => Some(SortOutcome::Lost),
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
            SortOutcome::ChuteDisabled => 5,
            SortOutcome::Lost => 6,
        }
    }

    /// Every outcome.
    pub const ALL: [SortOutcome; 6] = [
        SortOutcome::Sorted,
        SortOutcome::WindowMissed,
        SortOutcome::ChuteFull,
        SortOutcome::NoRead,
        SortOutcome::ChuteDisabled,
        SortOutcome::Lost,
    ];

    /// Whether the tote goes round the sorter again.
    pub fn recirculates(self) -> bool {
        !matches!(self, SortOutcome::Sorted | SortOutcome::Lost)
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
    /// Units on hand at a location, as the stock system counts them.
    Stock {
        /// SKU code.
        sku: String,
        /// Location.
        location: String,
        /// Units on hand.
        qty: u32,
    },
    /// A handheld stayed offline past the timeout: its unfinished work goes to another picker.
    HandheldLost {
        /// Handheld id.
        scanner: String,
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
    /// A chute's disabled signal changed (an operator took it out of service).
    ChuteDisabled {
        /// Sorter id.
        sorter: String,
        /// Chute.
        chute: u16,
        /// Whether it is disabled now.
        disabled: bool,
    },
    /// A conveyor zone's fault (jam, motor trip) came or went.
    ZoneFault {
        /// Conveyor id.
        conveyor: String,
        /// Zone, from 0 at the entry.
        zone: u16,
        /// Whether it is faulted now.
        fault: bool,
    },
    /// A PLC's PackML state changed. `state` is `None` for a number its map does not define.
    EquipmentState {
        /// PLC id.
        plc: String,
        /// The state.
        state: Option<State>,
        /// The number the PLC reported.
        raw: u16,
    },
    /// A PLC answers, but not as it should (exception responses, a setpoint that does not
    /// stick, an impossible value): `Some(text)` while it lasts, `None` once it is gone.
    PlcFault {
        /// PLC id.
        plc: String,
        /// Which condition: each is raised and cleared alone.
        condition: PlcCondition,
        /// What is wrong.
        fault: Option<String>,
    },
    /// A supervisor commands a machine.
    EquipmentCommand {
        /// PLC id.
        plc: String,
        /// PackML command.
        command: PackCommand,
        /// Who.
        by: String,
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
    /// The forward-area plan's pick faces (replacing any before).
    PickFaces {
        /// Faces.
        faces: Vec<super::PickFace>,
    },
    /// Stock to bring forward ahead of a peak, moved from `not_before` on (the night before).
    Moves {
        /// Moves.
        moves: Vec<super::Move>,
        /// When the tasks may start.
        not_before: u64,
    },
    /// The DC shipped a transfer order in a tote; it comes in on the conveyor.
    TransferShipped {
        /// Transfer order.
        transfer: u64,
        /// Tote it travels in.
        tote: u32,
        /// Units the DC put in it (unknown: the units asked).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        qty: Option<u32>,
    },
    /// A supervisor acknowledges an alarm.
    AlarmAck {
        /// Alarm number.
        alarm: u64,
        /// Who.
        by: String,
    },
    /// A supervisor sets an alarm aside for a while, saying why.
    AlarmShelve {
        /// Alarm number.
        alarm: u64,
        /// Why.
        reason: String,
        /// For how long, in minutes.
        minutes: u32,
        /// Who.
        by: String,
    },
    /// A supervisor acknowledges every alarm waiting for it, or every one of a source.
    AlarmAckAll {
        /// Only this source's; none: all.
        source: Option<String>,
        /// Who.
        by: String,
    },
    /// A supervisor holds or releases a cut-off's wave.
    WaveHold {
        /// Cut-off name.
        cutoff: String,
        /// Held (true) or released.
        held: bool,
        /// Who.
        by: String,
    },
    /// A supervisor moves an order to another priority class.
    OrderPriority {
        /// Order number.
        order: String,
        /// The new class.
        priority: floorctl_protocol::order::Priority,
        /// Who.
        by: String,
    },
    /// An order withdrawn by the system that sent it, before any picker took it.
    OrderCancelled {
        /// Order number.
        order: String,
        /// Who.
        by: String,
    },
    /// Units found at a location by a cycle count; the book follows the count.
    Counted {
        /// SKU.
        sku: String,
        /// Location.
        location: String,
        /// Units found.
        qty: u32,
        /// Who counted.
        by: String,
    },
    /// Units received at or adjusted at locations, as the stock system says: taken whole, or
    /// refused whole when one would leave a location holding less than nothing.
    StockMoved {
        /// The movements, in order.
        movements: Vec<StockMovement>,
        /// Who.
        by: String,
    },
    /// A supervisor's command on a handheld.
    HandheldCommand {
        /// Handheld id.
        scanner: String,
        /// What to do.
        command: HandheldCommand,
        /// Who.
        by: String,
    },
    /// Logins of one account, handheld or address failed again and again: further attempts
    /// wait (someone may be guessing passwords).
    LoginsRefused {
        /// What was guessed at and where (`dashboard account sue`, `handheld h1`, an address).
        source: String,
        /// Failures in a row.
        failures: u32,
    },
    /// A webhook endpoint stopped taking events (`Some(why)`) or takes them again (`None`).
    Delivery {
        /// The subscription's name.
        endpoint: String,
        /// What is wrong, while it lasts.
        fault: Option<String>,
    },
    /// Time passed: orders whose release time came are released, cut-offs are projected.
    /// Journalled when [`super::Core::next_tick`] says so; its time is the journal's.
    Tick,
}

impl Event {
    /// A short name for the journal's `kind` column and for logs.
    pub fn kind(&self) -> &'static str {
        match self {
            Event::OrderReceived { .. } => "order_received",
            Event::Scanner { .. } => "scanner",
            Event::Stock { .. } => "stock",
            Event::HandheldLost { .. } => "handheld_lost",
            Event::ToteEntered { .. } => "tote_entered",
            Event::ToteInducted { .. } => "tote_inducted",
            Event::SortConfirmed { .. } => "sort_confirmed",
            Event::ChuteFull { .. } => "chute_full",
            Event::ChuteDisabled { .. } => "chute_disabled",
            Event::ZoneFault { .. } => "zone_fault",
            Event::EquipmentState { .. } => "equipment_state",
            Event::PlcFault { .. } => "plc_fault",
            Event::EquipmentCommand { .. } => "equipment_command",
            Event::PlcLink { .. } => "plc_link",
            Event::Tick => "tick",
            Event::Delivery { .. } => "delivery",
            Event::AlarmAck { .. } => "alarm_ack",
            Event::AlarmAckAll { .. } => "alarm_ack_all",
            Event::AlarmShelve { .. } => "alarm_shelve",
            Event::WaveHold { .. } => "wave_hold",
            Event::OrderPriority { .. } => "order_priority",
            Event::OrderCancelled { .. } => "order_cancelled",
            Event::Counted { .. } => "counted",
            Event::StockMoved { .. } => "stock_moved",
            Event::PickFaces { .. } => "pick_faces",
            Event::Moves { .. } => "moves",
            Event::TransferShipped { .. } => "transfer_shipped",
            Event::HandheldCommand { .. } => "handheld_command",
            Event::LoginsRefused { .. } => "logins_refused",
        }
    }
}

/// Units put at or taken from a location, and why.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct StockMovement {
    /// SKU.
    pub sku: String,
    /// Location.
    pub location: String,
    /// Units added (a receipt, units found) or, below zero, taken away (damaged, lost).
    pub change: i64,
    /// Why: `receipt`, or the adjustment's reason.
    pub reason: String,
}

/// What a supervisor can do to a handheld.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HandheldCommand {
    /// Hand its unfinished work to other pickers (a handheld lost, broken or left behind); it
    /// gets new work once it logs in again.
    Release,
    /// Forget its message counter and session (a swapped or reinstalled device refused as
    /// stale).
    Reset,
}

/// A fault a PLC link reports, each raised and cleared on its own (the alarm's condition).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PlcCondition {
    /// The PLC answers reads with exceptions: its values are stale.
    Reads,
    /// The PLC answers writes with exceptions: commands and the heartbeat do not reach it.
    Writes,
    /// The sort-result acknowledgement written does not take.
    Acknowledgement,
    /// The controller's heartbeat reaches the PLC slower than its watchdog allows.
    Heartbeat,
    /// A setpoint written is not kept.
    Setpoints,
    /// A value no map allows.
    Values,
}

impl PlcCondition {
    /// Every condition.
    pub const ALL: [PlcCondition; 6] = [
        PlcCondition::Reads,
        PlcCondition::Writes,
        PlcCondition::Acknowledgement,
        PlcCondition::Heartbeat,
        PlcCondition::Setpoints,
        PlcCondition::Values,
    ];

    /// Conditions one link session reports: cleared when a new session starts, which reports
    /// them again if they last. (Setpoints and values are seen again on their own.)
    pub const OF_A_SESSION: [PlcCondition; 4] = [
        PlcCondition::Reads,
        PlcCondition::Writes,
        PlcCondition::Acknowledgement,
        PlcCondition::Heartbeat,
    ];

    /// The name an alarm keys the condition by.
    pub fn name(self) -> &'static str {
        match self {
            PlcCondition::Reads => "reads",
            PlcCondition::Writes => "writes",
            PlcCondition::Acknowledgement => "acknowledgement",
            PlcCondition::Heartbeat => "heartbeat",
            PlcCondition::Setpoints => "setpoints",
            PlcCondition::Values => "values",
        }
    }
}

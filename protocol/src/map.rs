//! PLC register maps: one TOML file per equipment model, read by the controller and the simulator.
//!
//! A map names every signal the equipment exposes (table, address, type, count, access) and the
//! handshakes it expects. Code refers to signals by name only; addresses live in the map files.

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;

use serde::Deserialize;

use crate::packml::{Command as PackCommand, State};
pub use crate::value::{SignalType, WordOrder};

mod check;
#[cfg(test)]
mod tests;

/// The four Modbus data tables.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Table {
    /// Read-write single bits.
    Coil,
    /// Read-only single bits.
    DiscreteInput,
    /// Read-write 16-bit registers.
    HoldingRegister,
    /// Read-only 16-bit registers.
    InputRegister,
}

impl Table {
    /// Whether the table holds bits rather than 16-bit words.
    pub fn is_bits(self) -> bool {
        matches!(self, Table::Coil | Table::DiscreteInput)
    }

    /// Whether the controller may write this table.
    pub fn is_writable(self) -> bool {
        matches!(self, Table::Coil | Table::HoldingRegister)
    }
}

/// Who may write a signal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Access {
    /// The controller only reads it.
    Read,
    /// The controller writes it (commands, heartbeat).
    ReadWrite,
}

/// The kind of equipment a map describes; the controller expects a fixed set of signal names per kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EquipmentKind {
    /// A conveyor line of zones that carries totes from the pick area to the sorter.
    Conveyor,
    /// A tote sorter that diverts totes into chutes.
    Sorter,
}

impl EquipmentKind {
    /// The signals a map of this kind must declare.
    pub fn required_signals(self) -> &'static [&'static str] {
        match self {
            EquipmentKind::Conveyor => &[
                "zone_run",
                "zone_running",
                "zone_fault",
                "zone_photo_eye",
                "entry_tote",
                "entry_seq",
                "plc_heartbeat",
                "ctl_heartbeat",
            ],
            EquipmentKind::Sorter => &[
                "induct_tote",
                "induct_seq",
                "divert_tote",
                "divert_chute",
                "divert_seq",
                "divert_ack_seq",
                "confirm_tote",
                "confirm_chute",
                "confirm_outcome",
                "confirm_seq",
                "confirm_ack_seq",
                "chute_full",
                "plc_heartbeat",
                "ctl_heartbeat",
            ],
        }
    }
}

impl fmt::Display for EquipmentKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            EquipmentKind::Conveyor => "conveyor",
            EquipmentKind::Sorter => "sorter",
        })
    }
}

/// One named signal.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Signal {
    /// Modbus table.
    pub table: Table,
    /// Address of the first element on the wire (the map's `address_base` already subtracted).
    pub address: u16,
    /// Element type.
    #[serde(rename = "type")]
    pub ty: SignalType,
    /// For `bit` signals: the first bit in the register (0 = least significant).
    #[serde(default)]
    pub bit: Option<u8>,
    /// Number of consecutive elements (one per zone, per chute, ...).
    #[serde(default = "one")]
    pub count: u16,
    /// Who writes it.
    pub access: Access,
    /// Byte order of multi-register values; the map's `word_order` when absent.
    #[serde(default)]
    pub word_order: Option<WordOrder>,
    /// Engineering value = raw × scale + offset (numbers only).
    #[serde(default)]
    pub scale: Option<f64>,
    /// See `scale`.
    #[serde(default)]
    pub offset: Option<f64>,
    /// Engineering unit, for people and the dashboard.
    #[serde(default)]
    pub unit: String,
    /// What the signal means, for people reading the map.
    #[serde(default)]
    pub description: String,
}

fn one() -> u16 {
    1
}

impl Signal {
    /// Registers (or bits) the whole signal occupies.
    pub fn span(&self) -> u16 {
        if self.ty == SignalType::Bit {
            1
        } else {
            self.ty.width().saturating_mul(self.count)
        }
    }

    /// One past the last address the signal occupies.
    pub fn end(&self) -> u32 {
        u32::from(self.address) + u32::from(self.span())
    }

    /// The byte order of its values.
    pub fn order(&self) -> WordOrder {
        self.word_order.unwrap_or_default()
    }

    /// Multiplier from raw to engineering value.
    pub fn scale(&self) -> f64 {
        self.scale.unwrap_or(1.0)
    }

    /// Added after scaling.
    pub fn offset(&self) -> f64 {
        self.offset.unwrap_or(0.0)
    }

    /// The bits a `bit` signal covers in its register.
    fn bits(&self) -> std::ops::Range<u32> {
        let first = u32::from(self.bit.unwrap_or(0));
        first..first + u32::from(self.count)
    }

    fn overlaps(&self, other: &Signal) -> bool {
        let disjoint_words =
            self.end() <= u32::from(other.address) || other.end() <= u32::from(self.address);
        if self.table != other.table || disjoint_words {
            return false;
        }
        if self.ty == SignalType::Bit && other.ty == SignalType::Bit {
            let (a, b) = (self.bits(), other.bits());
            return a.start < b.end && b.start < a.end;
        }
        true
    }
}

/// The heartbeat handshake: each side keeps changing its counter; a stale counter stops the line.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Heartbeat {
    /// Signal the controller increments every cycle.
    pub controller: String,
    /// Signal the PLC increments at least once per poll interval.
    pub plc: String,
    /// How long the PLC lets the controller's counter stay unchanged before it stops the line.
    pub stale_after_ms: u64,
    /// Consecutive polls with the PLC's counter unchanged after which the controller declares the
    /// link dead (1 to 3).
    #[serde(default = "three")]
    pub missed_cycles: u32,
}

fn three() -> u32 {
    3
}

/// The handshakes a PLC expects.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Handshakes {
    /// Heartbeat in each direction.
    pub heartbeat: Heartbeat,
}

/// How the equipment exposes its PackML state machine.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Packml {
    /// Signal holding the current state's number.
    pub state: String,
    /// Signal the controller writes a command's number into.
    pub command: String,
    /// Signal the controller writes a fresh sequence number into after the command.
    pub command_seq: String,
    /// Signal where the PLC echoes the sequence number of the last command it took.
    pub command_ack_seq: String,
    /// State name (as the standard spells it: `Execute`) → the number the PLC uses.
    pub states: BTreeMap<String, u16>,
    /// Command name (`Start`) → the number the PLC expects.
    pub commands: BTreeMap<String, u16>,
}

impl Packml {
    /// The state a PLC number stands for.
    pub fn state_of(&self, value: u16) -> Option<State> {
        self.states
            .iter()
            .find(|(_, v)| **v == value)
            .and_then(|(name, _)| State::from_name(name))
    }

    /// The number of a state, when the map defines it.
    pub fn state_value(&self, state: State) -> Option<u16> {
        self.states.get(state.name()).copied()
    }

    /// The number of a command, when the map defines it.
    pub fn command_value(&self, cmd: PackCommand) -> Option<u16> {
        self.commands.get(cmd.name()).copied()
    }

    /// The command a PLC number stands for.
    pub fn command_of(&self, value: u16) -> Option<PackCommand> {
        self.commands
            .iter()
            .find(|(_, v)| **v == value)
            .and_then(|(name, _)| PackCommand::from_name(name))
    }
}

/// A whole map file.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlcMap {
    /// Equipment model name.
    pub model: String,
    /// What kind of equipment the model is.
    pub kind: EquipmentKind,
    /// What the model is, for people reading the map.
    #[serde(default)]
    pub description: String,
    /// How often the controller polls the PLC.
    pub poll_interval_ms: u64,
    /// Largest number of registers one read request may ask for (Modbus allows 125).
    #[serde(default = "default_max_registers")]
    pub max_registers_per_request: u16,
    /// Whether the addresses in this file count from 0 (wire addresses) or from 1 (as many
    /// vendors' manuals number them).
    #[serde(default)]
    pub address_base: u16,
    /// Byte order of multi-register values unless a signal says otherwise.
    #[serde(default)]
    pub word_order: WordOrder,
    /// Signals by name.
    pub signals: BTreeMap<String, Signal>,
    /// Handshakes.
    pub handshakes: Handshakes,
    /// The PackML state machine, when the equipment has one.
    #[serde(default)]
    pub packml: Option<Packml>,
}

fn default_max_registers() -> u16 {
    125
}

/// One thing wrong with a map: where (the line in the file, when known) and how to fix it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// 1-based line of the file.
    pub line: Option<usize>,
    /// What is wrong and how to fix it.
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(l) => write!(f, "line {l}: {}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

/// Why a map was refused. Every problem found is listed.
#[derive(Debug, thiserror::Error)]
pub enum MapError {
    /// The file could not be read.
    #[error("{path}: cannot read: {source}")]
    Io {
        /// File.
        path: String,
        /// Cause.
        source: std::io::Error,
    },
    /// The file is not a valid map; each entry is one problem with how to fix it.
    #[error("{}", problems.iter().map(|p| match p.line {
        Some(l) => format!("{path}:{l}: {}", p.message),
        None => format!("{path}: {}", p.message),
    }).collect::<Vec<_>>().join("\n"))]
    Invalid {
        /// File.
        path: String,
        /// Every problem.
        problems: Vec<Problem>,
    },
}

impl PlcMap {
    /// Reads and validates a map file.
    pub fn load(path: &Path) -> Result<PlcMap, MapError> {
        let text =
            crate::text::read_text(path, crate::text::MAX_CONFIG_BYTES).map_err(|source| {
                MapError::Io {
                    path: path.display().to_string(),
                    source,
                }
            })?;
        PlcMap::parse(&text).map_err(|problems| MapError::Invalid {
            path: path.display().to_string(),
            problems,
        })
    }

    /// Parses and validates map text, returning every problem found.
    pub fn parse(text: &str) -> Result<PlcMap, Vec<Problem>> {
        let mut map: PlcMap = toml::from_str(text).map_err(|e| {
            vec![Problem {
                line: e.span().map(|s| check::line_at(text, s.start)),
                message: e.message().to_string(),
            }]
        })?;
        let problems = check::problems(&map, text);
        if !problems.is_empty() {
            return Err(problems);
        }
        for s in map.signals.values_mut() {
            s.address -= map.address_base;
            s.word_order.get_or_insert(map.word_order);
        }
        Ok(map)
    }

    /// The signal of this name. Maps are validated at load, so a required name is always there.
    pub fn signal(&self, name: &str) -> Option<&Signal> {
        self.signals.get(name)
    }

    /// The address ranges to read each poll: readable signals of one table merged into runs,
    /// each within the request limit (registers) or 2000 bits.
    pub fn read_plan(&self) -> Vec<ReadRange> {
        let mut spans: Vec<(Table, u16, u32)> = self
            .signals
            .values()
            .map(|s| (s.table, s.address, s.end()))
            .collect();
        spans.sort();
        let mut plan: Vec<ReadRange> = Vec::new();
        for (table, start, end) in spans {
            let limit = if table.is_bits() {
                2000
            } else {
                u32::from(self.max_registers_per_request)
            };
            if let Some(last) = plan.last_mut() {
                let last_end = u32::from(last.start) + u32::from(last.count);
                if last.table == table
                    && u32::from(start) <= last_end
                    && end.max(last_end) - u32::from(last.start) <= limit
                {
                    last.count = (end.max(last_end) - u32::from(last.start)) as u16;
                    continue;
                }
            }
            let mut s = u32::from(start);
            while s < end {
                let n = (end - s).min(limit);
                plan.push(ReadRange {
                    table,
                    start: s as u16,
                    count: n as u16,
                });
                s += n;
            }
        }
        plan
    }
}

/// One read request: a run of consecutive addresses in one table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReadRange {
    /// Table.
    pub table: Table,
    /// First address.
    pub start: u16,
    /// Number of registers or bits.
    pub count: u16,
}

//! PLC register maps: one TOML file per equipment model, read by the controller and the simulator.
//!
//! A map names every signal the equipment exposes (table, address, type, count, access) and the
//! handshakes it expects. Code refers to signals by name only; addresses live in the map files.

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;

use serde::Deserialize;

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

/// The type of one signal element.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SignalType {
    /// One bit (coils and discrete inputs only).
    Bool,
    /// One unsigned 16-bit register.
    U16,
    /// Two registers, high word first (ABCD).
    U32,
}

impl SignalType {
    /// Registers (or bits) one element occupies.
    pub fn width(self) -> u16 {
        match self {
            SignalType::Bool | SignalType::U16 => 1,
            SignalType::U32 => 2,
        }
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
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Signal {
    /// Modbus table.
    pub table: Table,
    /// Zero-based address of the first element.
    pub address: u16,
    /// Element type.
    #[serde(rename = "type")]
    pub ty: SignalType,
    /// Number of consecutive elements (one per zone, per chute, ...).
    #[serde(default = "one")]
    pub count: u16,
    /// Who writes it.
    pub access: Access,
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
        self.ty.width().saturating_mul(self.count)
    }

    /// One past the last address the signal occupies.
    pub fn end(&self) -> u32 {
        u32::from(self.address) + u32::from(self.span())
    }
}

/// The heartbeat handshake: each side keeps changing its counter; a stale counter stops the line.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Heartbeat {
    /// Signal the controller increments every cycle.
    pub controller: String,
    /// Signal the PLC increments every cycle.
    pub plc: String,
    /// How long a counter may stay unchanged before the link counts as dead.
    pub stale_after_ms: u64,
}

/// The handshakes a PLC expects.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Handshakes {
    /// Heartbeat in each direction.
    pub heartbeat: Heartbeat,
}

/// A whole map file.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
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
    /// Signals by name.
    pub signals: BTreeMap<String, Signal>,
    /// Handshakes.
    pub handshakes: Handshakes,
}

fn default_max_registers() -> u16 {
    125
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
    #[error("{path}: {}", problems.join(&format!("\n{path}: ")))]
    Invalid {
        /// File.
        path: String,
        /// One line per problem.
        problems: Vec<String>,
    },
}

impl PlcMap {
    /// Reads and validates a map file.
    pub fn load(path: &Path) -> Result<PlcMap, MapError> {
        let text = std::fs::read_to_string(path).map_err(|source| MapError::Io {
            path: path.display().to_string(),
            source,
        })?;
        PlcMap::parse(&text).map_err(|problems| MapError::Invalid {
            path: path.display().to_string(),
            problems,
        })
    }

    /// Parses and validates map text, returning every problem found.
    pub fn parse(text: &str) -> Result<PlcMap, Vec<String>> {
        let map: PlcMap = toml::from_str(text).map_err(|e| vec![e.to_string()])?;
        let problems = map.problems();
        if problems.is_empty() {
            Ok(map)
        } else {
            Err(problems)
        }
    }

    /// The signal of this name. Maps are validated at load, so a required name is always there.
    pub fn signal(&self, name: &str) -> Option<&Signal> {
        self.signals.get(name)
    }

    fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        if self.poll_interval_ms == 0 {
            problems.push(
                "poll_interval_ms is 0: give the poll period in milliseconds, for example 100"
                    .into(),
            );
        }
        if self.max_registers_per_request == 0 || self.max_registers_per_request > 125 {
            problems.push(format!(
                "max_registers_per_request is {}: it must be between 1 and 125",
                self.max_registers_per_request
            ));
        }
        for name in self.kind.required_signals() {
            if !self.signals.contains_key(*name) {
                problems.push(format!(
                    "signal `{name}` is missing: a {} map must declare it under [signals.{name}]",
                    self.kind
                ));
            }
        }
        for (name, s) in &self.signals {
            if s.count == 0 {
                problems.push(format!("signal `{name}`: count is 0; give at least 1"));
            }
            if s.table.is_bits() != (s.ty == SignalType::Bool) {
                problems.push(format!(
                    "signal `{name}`: type {:?} does not fit table {:?}; bits go in coil or discrete_input, words in holding_register or input_register",
                    s.ty, s.table
                ));
            }
            if s.access == Access::ReadWrite && !s.table.is_writable() {
                problems.push(format!(
                    "signal `{name}`: access read-write on a read-only table {:?}; use coil or holding_register, or access = \"read\"",
                    s.table
                ));
            }
            if s.end() > 65536 {
                problems.push(format!("signal `{name}`: ends past address 65535"));
            }
        }
        let mut by_table: Vec<(&String, &Signal)> = self.signals.iter().collect();
        by_table.sort_by_key(|(_, s)| (s.table, s.address));
        for pair in by_table.windows(2) {
            let ((a, sa), (b, sb)) = (pair[0], pair[1]);
            if sa.table == sb.table && sa.end() > u32::from(sb.address) {
                problems.push(format!(
                    "signals `{a}` and `{b}` overlap in {:?} at address {}; move one of them",
                    sa.table, sb.address
                ));
            }
        }
        let hb = &self.handshakes.heartbeat;
        for (role, name, table) in [
            ("controller", &hb.controller, Table::HoldingRegister),
            ("plc", &hb.plc, Table::InputRegister),
        ] {
            match self.signals.get(name) {
                None => problems.push(format!(
                    "handshakes.heartbeat.{role} names `{name}`, which is not a signal; declare it or name an existing one"
                )),
                Some(s) if s.table != table || s.ty != SignalType::U16 => problems.push(format!(
                    "handshakes.heartbeat.{role} `{name}` must be a u16 {table:?}"
                )),
                Some(_) => {}
            }
        }
        problems
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

#[cfg(test)]
mod tests {
    use super::*;

    fn conveyor() -> String {
        std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../plc-maps/conveyor-cv4.toml"
        ))
        .unwrap()
    }

    #[test]
    fn shipped_maps_are_valid() {
        for f in ["conveyor-cv4.toml", "sorter-ts8.toml"] {
            let p = Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../plc-maps")
                .join(f);
            PlcMap::load(&p).unwrap_or_else(|e| panic!("{e}"));
        }
    }

    #[test]
    fn every_problem_is_reported_at_once() {
        let text = conveyor()
            .replace("[signals.entry_seq]", "[signals.entry_sequence]")
            .replace("poll_interval_ms = 100", "poll_interval_ms = 0");
        let problems = PlcMap::parse(&text).unwrap_err();
        assert!(
            problems
                .iter()
                .any(|p| p.contains("`entry_seq` is missing")),
            "{problems:?}"
        );
        assert!(
            problems.iter().any(|p| p.contains("poll_interval_ms is 0")),
            "{problems:?}"
        );
    }

    #[test]
    fn overlapping_signals_are_refused() {
        let text = conveyor() + "\n[signals.extra]\ntable = \"input_register\"\naddress = 1\ntype = \"u16\"\naccess = \"read\"\n";
        let problems = PlcMap::parse(&text).unwrap_err();
        assert!(
            problems.iter().any(|p| p.contains("overlap")),
            "{problems:?}"
        );
    }

    #[test]
    fn a_word_type_in_a_bit_table_is_refused() {
        let text = conveyor().replacen("type = \"bool\"", "type = \"u16\"", 1);
        let problems = PlcMap::parse(&text).unwrap_err();
        assert!(
            problems.iter().any(|p| p.contains("does not fit table")),
            "{problems:?}"
        );
    }

    #[test]
    fn read_plan_merges_adjacent_signals_and_respects_the_limit() {
        let mut map = PlcMap::parse(&conveyor()).unwrap();
        let ir: Vec<_> = map
            .read_plan()
            .into_iter()
            .filter(|r| r.table == Table::InputRegister)
            .collect();
        assert_eq!(ir.len(), 1, "{ir:?}");
        map.max_registers_per_request = 2;
        let ir: Vec<_> = map
            .read_plan()
            .into_iter()
            .filter(|r| r.table == Table::InputRegister)
            .collect();
        assert!(ir.len() > 1 && ir.iter().all(|r| r.count <= 2), "{ir:?}");
    }
}

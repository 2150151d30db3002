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

/// Where things are in the file, to put line numbers on problems.
#[derive(Debug, Default, Deserialize)]
struct Spans {
    #[serde(default)]
    signals: BTreeMap<String, toml::Spanned<serde::de::IgnoredAny>>,
}

/// Turns byte offsets into 1-based line numbers.
struct Lines<'t>(&'t str);

impl Lines<'_> {
    fn at(&self, offset: usize) -> usize {
        self.0[..offset.min(self.0.len())].matches('\n').count() + 1
    }
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
    pub fn parse(text: &str) -> Result<PlcMap, Vec<Problem>> {
        let lines = Lines(text);
        let mut map: PlcMap = toml::from_str(text).map_err(|e| {
            vec![Problem {
                line: e.span().map(|s| lines.at(s.start)),
                message: e.message().to_string(),
            }]
        })?;
        let spans: Spans = toml::from_str(text).unwrap_or_default();
        let mut check = Check {
            problems: Vec::new(),
            lines,
            spans: &spans,
        };
        map.check(&mut check);
        if !check.problems.is_empty() {
            return Err(check.problems);
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

    fn check(&self, c: &mut Check<'_>) {
        if self.poll_interval_ms == 0 {
            c.top("poll_interval_ms is 0: give the poll period in milliseconds, for example 100");
        }
        if self.max_registers_per_request == 0 || self.max_registers_per_request > 125 {
            c.top(format!(
                "max_registers_per_request is {}: it must be between 1 and 125",
                self.max_registers_per_request
            ));
        }
        if self.address_base > 1 {
            c.top(format!(
                "address_base is {}: use 0 when the file gives wire addresses, 1 when it counts from 1",
                self.address_base
            ));
        }
        for name in self.kind.required_signals() {
            match self.signals.get(*name) {
                None => c.top(format!(
                    "signal `{name}` is missing: a {} map must declare it under [signals.{name}]",
                    self.kind
                )),
                Some(s) if !s.ty.is_unsigned() => c.signal(
                    name,
                    format!("type {} is not allowed here: the controller reads `{name}` as an unsigned number; use bool, bit, u16 or u32", s.ty),
                ),
                Some(_) => {}
            }
        }
        for (name, s) in &self.signals {
            self.check_signal(name, s, c);
        }
        let names: Vec<&String> = self.signals.keys().collect();
        for (i, a) in names.iter().enumerate() {
            for b in &names[i + 1..] {
                let (sa, sb) = (&self.signals[*a], &self.signals[*b]);
                if sa.overlaps(sb) {
                    c.signal(
                        b,
                        format!(
                            "overlaps `{a}` in {:?} (addresses {}..{} and {}..{}); move one of them",
                            sa.table,
                            sa.address,
                            sa.end(),
                            sb.address,
                            sb.end()
                        ),
                    );
                }
            }
        }
        self.check_heartbeat(c);
        if let Some(p) = &self.packml {
            self.check_packml(p, c);
        }
    }

    fn check_signal(&self, name: &str, s: &Signal, c: &mut Check<'_>) {
        if s.count == 0 {
            c.signal(name, "count is 0; give at least 1".into());
        }
        if s.table.is_bits() != (s.ty == SignalType::Bool) {
            c.signal(name, format!(
                "type {} does not fit table {:?}: bool goes in coil or discrete_input, every other type in holding_register or input_register",
                s.ty, s.table
            ));
        }
        match (s.ty, s.bit) {
            (SignalType::Bit, None) => c.signal(
                name,
                "type bit needs `bit = N` (0 to 15): which bit of the register".into(),
            ),
            (SignalType::Bit, Some(b)) if u32::from(b) + u32::from(s.count) > 16 => c.signal(
                name,
                format!(
                    "bits {b}..{} do not fit one 16-bit register; lower `bit` or `count`",
                    u32::from(b) + u32::from(s.count)
                ),
            ),
            (SignalType::Bit, Some(_)) => {
                if s.access == Access::ReadWrite {
                    c.signal(name, "a bit inside a register cannot be written without rewriting its neighbours; make it access = \"read\" or give it its own coil".into());
                }
            }
            (_, Some(_)) => c.signal(
                name,
                format!("`bit` only applies to type bit, not {}; remove it", s.ty),
            ),
            (_, None) => {}
        }
        if s.access == Access::ReadWrite && !s.table.is_writable() {
            c.signal(name, format!(
                "access read-write on a read-only table {:?}; use coil or holding_register, or access = \"read\"",
                s.table
            ));
        }
        if (s.scale.is_some() || s.offset.is_some()) && !s.ty.is_numeric() {
            c.signal(
                name,
                format!(
                    "scale and offset apply to numbers, not to type {}; remove them",
                    s.ty
                ),
            );
        }
        if let Some(k) = s.scale {
            if k == 0.0 || !k.is_finite() {
                c.signal(
                    name,
                    format!("scale {k} cannot be inverted; give a non-zero finite number"),
                );
            }
        }
        if s.offset.is_some_and(|o| !o.is_finite()) {
            c.signal(name, "offset must be a finite number".into());
        }
        if s.address < self.address_base {
            c.signal(
                name,
                format!(
                    "address {} is below address_base {}: this file counts addresses from {}",
                    s.address, self.address_base, self.address_base
                ),
            );
        } else if s.end() - u32::from(self.address_base) > 65536 {
            c.signal(
                name,
                format!(
                    "ends past the last Modbus address (it needs {} from address {})",
                    s.span(),
                    s.address
                ),
            );
        }
    }

    fn check_heartbeat(&self, c: &mut Check<'_>) {
        let hb = &self.handshakes.heartbeat;
        if !(1..=3).contains(&hb.missed_cycles) {
            c.section("handshakes", format!(
                "handshakes.heartbeat.missed_cycles is {}: the link must be declared dead within 1 to 3 missed polls",
                hb.missed_cycles
            ));
        }
        if hb.stale_after_ms == 0 {
            c.section("handshakes", "handshakes.heartbeat.stale_after_ms is 0: give the PLC's watchdog time, for example 1000".into());
        }
        self.check_ref(
            c,
            "handshakes",
            "handshakes.heartbeat.controller",
            &hb.controller,
            Want::Command,
        );
        self.check_ref(
            c,
            "handshakes",
            "handshakes.heartbeat.plc",
            &hb.plc,
            Want::Counter,
        );
    }

    fn check_packml(&self, p: &Packml, c: &mut Check<'_>) {
        self.check_ref(c, "packml", "packml.state", &p.state, Want::Counter);
        self.check_ref(c, "packml", "packml.command", &p.command, Want::Command);
        self.check_ref(
            c,
            "packml",
            "packml.command_seq",
            &p.command_seq,
            Want::Command,
        );
        self.check_ref(
            c,
            "packml",
            "packml.command_ack_seq",
            &p.command_ack_seq,
            Want::Counter,
        );
        let mut seen = BTreeMap::new();
        for (name, v) in &p.states {
            if State::from_name(name).is_none() {
                let all: Vec<&str> = State::ALL.iter().map(|s| s.name()).collect();
                c.section(
                    "packml",
                    format!(
                        "packml.states: `{name}` is not a PackML state; use one of {}",
                        all.join(", ")
                    ),
                );
            }
            if let Some(other) = seen.insert(*v, name) {
                c.section("packml", format!("packml.states: `{other}` and `{name}` both have number {v}; each state needs its own"));
            }
        }
        if p.states.is_empty() {
            c.section(
                "packml",
                "packml.states is empty: map each state the PLC reports to its number".into(),
            );
        }
        let mut seen = BTreeMap::new();
        for (name, v) in &p.commands {
            if PackCommand::from_name(name).is_none() {
                let all: Vec<&str> = PackCommand::ALL.iter().map(|s| s.name()).collect();
                c.section(
                    "packml",
                    format!(
                        "packml.commands: `{name}` is not a PackML command; use one of {}",
                        all.join(", ")
                    ),
                );
            }
            if *v == 0 {
                c.section("packml", format!("packml.commands: `{name}` has number 0, which means \"no command\"; give it another"));
            }
            if let Some(other) = seen.insert(*v, name) {
                c.section("packml", format!("packml.commands: `{other}` and `{name}` both have number {v}; each command needs its own"));
            }
        }
    }

    /// Checks that a handshake names a signal of the right shape.
    fn check_ref(&self, c: &mut Check<'_>, section: &str, key: &str, name: &str, want: Want) {
        let Some(s) = self.signals.get(name) else {
            c.section(section, format!("{key} names `{name}`, which is not a signal; declare [signals.{name}] or name an existing one"));
            return;
        };
        let ok = match want {
            Want::Command => {
                s.table == Table::HoldingRegister
                    && s.ty == SignalType::U16
                    && s.access == Access::ReadWrite
            }
            Want::Counter => !s.table.is_bits() && s.ty == SignalType::U16,
        };
        if !ok {
            let need = match want {
                Want::Command => "a u16 holding_register with access = \"read-write\"",
                Want::Counter => "a u16 input_register or holding_register",
            };
            c.section(
                section,
                format!("{key} names `{name}`, which must be {need}"),
            );
        }
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

/// What a handshake needs of the signal it names.
#[derive(Clone, Copy)]
enum Want {
    /// Written by the controller.
    Command,
    /// Read by the controller.
    Counter,
}

/// Collects problems with the line they are on.
struct Check<'a> {
    problems: Vec<Problem>,
    lines: Lines<'a>,
    spans: &'a Spans,
}

impl Check<'_> {
    fn push(&mut self, offset: Option<usize>, message: String) {
        let line = offset.map(|o| self.lines.at(o));
        self.problems.push(Problem { line, message });
    }

    fn top(&mut self, message: impl Into<String>) {
        self.push(None, message.into());
    }

    fn signal(&mut self, name: &str, message: String) {
        let at = self.spans.signals.get(name).map(|s| s.span().start);
        self.push(at, format!("signal `{name}`: {message}"));
    }

    fn section(&mut self, section: &str, message: String) {
        // Sections are found by their header: an implicitly defined table has no span of its own.
        let header = format!("[{section}");
        let text = self.lines.0;
        let at = text
            .match_indices(&header)
            .map(|(i, _)| i)
            .find(|i| *i == 0 || text.as_bytes()[i - 1] == b'\n');
        self.push(at, message);
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

    fn problems(text: &str) -> Vec<String> {
        PlcMap::parse(text)
            .unwrap_err()
            .iter()
            .map(Problem::to_string)
            .collect()
    }

    fn has(problems: &[String], needle: &str) -> bool {
        problems.iter().any(|p| p.contains(needle))
    }

    const EXTRA: &str = "\n[signals.extra]\ntable = \"input_register\"\naddress = 1\ntype = \"u16\"\naccess = \"read\"\n";

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
            .replace("poll_interval_ms = 100", "poll_interval_ms = 0")
            .replace("controller = \"ctl_heartbeat\"", "controller = \"ctl_hb\"");
        let p = problems(&text);
        assert!(has(&p, "`entry_seq` is missing"), "{p:?}");
        assert!(has(&p, "poll_interval_ms is 0"), "{p:?}");
        assert!(has(&p, "names `ctl_hb`, which is not a signal"), "{p:?}");
    }

    #[test]
    fn problems_carry_the_line_of_the_signal() {
        let text = conveyor() + EXTRA;
        let line = text.lines().position(|l| l == "[signals.extra]").unwrap() + 1;
        let p = PlcMap::parse(&text).unwrap_err();
        let overlap = p.iter().find(|p| p.message.contains("overlaps")).unwrap();
        assert_eq!(overlap.line, Some(line), "{overlap}");
        let err = MapError::Invalid {
            path: "m.toml".into(),
            problems: p,
        };
        assert!(
            err.to_string()
                .contains(&format!("m.toml:{line}: signal `extra`")),
            "{err}"
        );
    }

    #[test]
    fn a_syntax_error_names_its_line() {
        let p =
            PlcMap::parse("model = \"x\"\nkind = \"conveyor\"\npoll_interval_ms = \n").unwrap_err();
        assert_eq!(p[0].line, Some(3), "{:?}", p);
    }

    #[test]
    fn a_type_that_does_not_fit_its_table_is_refused() {
        let p = problems(&conveyor().replacen("type = \"bool\"", "type = \"u16\"", 1));
        assert!(has(&p, "does not fit table"), "{p:?}");
        let p = problems(&(conveyor() + "\n[signals.x]\ntable = \"coil\"\naddress = 90\ntype = \"f32\"\naccess = \"read\"\n"));
        assert!(has(&p, "type f32 does not fit table Coil"), "{p:?}");
    }

    #[test]
    fn bits_in_one_register_may_share_it_but_not_overlap() {
        let bits = |a: u8, b: u8| {
            format!("\n[signals.b1]\ntable = \"input_register\"\naddress = 200\ntype = \"bit\"\nbit = {a}\ncount = 4\naccess = \"read\"\n[signals.b2]\ntable = \"input_register\"\naddress = 200\ntype = \"bit\"\nbit = {b}\naccess = \"read\"\n")
        };
        PlcMap::parse(&(conveyor() + &bits(0, 4))).unwrap();
        let p = problems(&(conveyor() + &bits(0, 3)));
        assert!(has(&p, "overlaps `b1`"), "{p:?}");
        let p = problems(&(conveyor() + &bits(14, 0)));
        assert!(has(&p, "do not fit one 16-bit register"), "{p:?}");
    }

    #[test]
    fn one_based_addresses_are_moved_to_the_wire() {
        let zero = PlcMap::parse(&conveyor()).unwrap();
        let one_based = |t: &str| t.replace("address_base = 0", "address_base = 1");
        let p = problems(&one_based(&conveyor()));
        assert!(has(&p, "below address_base 1"), "{p:?}");
        let shifted = one_based(&shift_addresses(&conveyor(), 1));
        let map = PlcMap::parse(&shifted).unwrap();
        assert_eq!(map.signals, zero.signals);
    }

    fn shift_addresses(text: &str, by: u16) -> String {
        text.lines()
            .map(|l| {
                match l
                    .strip_prefix("address = ")
                    .and_then(|n| n.parse::<u16>().ok())
                {
                    Some(n) => format!("address = {}", n + by),
                    None => l.to_string(),
                }
            })
            .collect::<Vec<_>>()
            .join("\n")
    }

    #[test]
    fn packml_states_and_commands_are_checked_by_name() {
        let text = conveyor()
            .replace("Execute = ", "Running = ")
            .replace("Hold = 4", "Hold = 2");
        let p = problems(&text);
        assert!(has(&p, "`Running` is not a PackML state"), "{p:?}");
        assert!(has(&p, "both have number 2"), "{p:?}");
        let map = PlcMap::parse(&conveyor()).unwrap();
        let pk = map.packml.unwrap();
        let exec = pk.state_value(State::Execute).unwrap();
        assert_eq!(pk.state_of(exec), Some(State::Execute));
    }

    #[test]
    fn scale_on_text_and_unknown_types_are_refused() {
        let p = problems(&(conveyor() + "\n[signals.name]\ntable = \"input_register\"\naddress = 300\ntype = \"string(8)\"\nscale = 2.0\naccess = \"read\"\n"));
        assert!(has(&p, "scale and offset apply to numbers"), "{p:?}");
        let p = problems(&(conveyor() + "\n[signals.n]\ntable = \"input_register\"\naddress = 300\ntype = \"u64\"\naccess = \"read\"\n"));
        assert!(has(&p, "unknown type `u64`"), "{p:?}");
    }

    #[test]
    fn read_plan_merges_adjacent_signals_and_respects_the_limit() {
        let mut map = PlcMap::parse(&conveyor()).unwrap();
        let ir = |m: &PlcMap| -> Vec<ReadRange> {
            m.read_plan()
                .into_iter()
                .filter(|r| r.table == Table::InputRegister)
                .collect()
        };
        assert_eq!(ir(&map).len(), 1, "{:?}", ir(&map));
        map.max_registers_per_request = 2;
        let plan = ir(&map);
        assert!(
            plan.len() > 1 && plan.iter().all(|r| r.count <= 2),
            "{plan:?}"
        );
    }
}

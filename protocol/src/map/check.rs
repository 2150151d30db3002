//! Map validation: every problem at once, each with the line it is on and how to fix it.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::{Access, Packml, PlcMap, Problem, Signal, SignalType, Table};
use crate::packml::{Command as PackCommand, State};

/// Every problem of a parsed map; `text` is the file it came from, for line numbers.
pub(super) fn problems(map: &PlcMap, text: &str) -> Vec<Problem> {
    let spans: Spans = toml::from_str(text).unwrap_or_default();
    let mut check = Check {
        problems: Vec::new(),
        lines: Lines(text),
        spans: &spans,
    };
    map.check(&mut check);
    check.problems
}

/// The 1-based line of a byte offset.
pub(super) fn line_at(text: &str, offset: usize) -> usize {
    Lines(text).at(offset)
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

//! Conveyors and sorters as machines: link, PackML state, faults and supervisors' commands.

use floorctl_protocol::packml::{Command as PackCommand, State};

use super::{Command, Core, Note, PlcCondition, Reaction};

/// What the core knows of one PLC-driven machine.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Equipment {
    /// Whether the link is up (values are fresh).
    pub link_up: bool,
    /// Last PackML state reported; `None` before the first report or when not understood.
    pub state: Option<State>,
    /// Whether the machine should be producing: cleared by a supervisor's Stop or Abort, set by
    /// Start or Reset. Automatic start-up only acts while it is set.
    pub wanted: bool,
}

impl Default for Equipment {
    fn default() -> Self {
        Equipment {
            link_up: false,
            state: None,
            wanted: true,
        }
    }
}

impl Core {
    pub(super) fn link_changed(
        &mut self,
        plc: &str,
        up: bool,
        reason: Option<&str>,
        out: &mut Reaction,
    ) {
        let e = self.equipment.entry(plc.to_string()).or_default();
        e.link_up = up;
        if up {
            self.clear_alarm(plc, "link", out);
            // A new session reports these again while they last.
            for condition in PlcCondition::OF_A_SESSION {
                self.clear_alarm(plc, condition.name(), out);
            }
            self.auto_start(plc, out);
        } else {
            // Nothing read from it can be trusted until the link is back.
            e.state = None;
            let text = format!("link down: {}", reason.unwrap_or("no reason given"));
            self.raise_alarm(plc, "link", text, out);
        }
    }

    pub(super) fn state_changed(
        &mut self,
        plc: &str,
        state: Option<State>,
        raw: u16,
        out: &mut Reaction,
    ) {
        let e = self.equipment.entry(plc.to_string()).or_default();
        e.state = state;
        match state {
            None => self.raise_alarm(
                plc,
                "state",
                format!("PLC reports state number {raw}, which its map does not define"),
                out,
            ),
            Some(s) => {
                out.note(Note::EquipmentState {
                    plc: plc.to_string(),
                    state: s,
                });
                self.clear_alarm(plc, "state", out);
                self.auto_start(plc, out);
            }
        }
    }

    /// Brings a stopped machine back to Execute, one transition at a time, unless a supervisor
    /// stopped it or automatic start-up is off. Held and Aborted need a supervisor.
    fn auto_start(&mut self, plc: &str, out: &mut Reaction) {
        let Some(e) = self.equipment.get(plc) else {
            return;
        };
        if !self.layout.auto_start || !e.wanted || !e.link_up {
            return;
        }
        let command = match e.state {
            Some(State::Stopped | State::Complete) => PackCommand::Reset,
            Some(State::Idle) => PackCommand::Start,
            _ => return,
        };
        out.push(Command::Packml {
            plc: plc.to_string(),
            command,
        });
    }

    pub(super) fn supervisor_command(
        &mut self,
        plc: &str,
        command: PackCommand,
        by: &str,
        out: &mut Reaction,
    ) {
        let refuse = |reason: String, out: &mut Reaction| super::alarms::refuse(plc, reason, out);
        let Some(e) = self.equipment.get_mut(plc) else {
            return refuse(format!("{plc} is not a PLC of this site"), out);
        };
        if !e.link_up {
            return refuse(format!("{command} refused: the link to {plc} is down"), out);
        }
        let Some(state) = e.state else {
            return refuse(
                format!("{command} refused: the state of {plc} is not known"),
                out,
            );
        };
        if let Err(reason) = state.accept(command) {
            return refuse(format!("{plc}: {reason}"), out);
        }
        match command {
            PackCommand::Stop | PackCommand::Abort => e.wanted = false,
            PackCommand::Start | PackCommand::Reset => e.wanted = true,
            _ => {}
        }
        out.note(Note::SupervisorCommand {
            plc: plc.to_string(),
            command,
            by: by.to_string(),
        });
        out.push(Command::Packml {
            plc: plc.to_string(),
            command,
        });
    }

    pub(super) fn zone_fault(
        &mut self,
        conveyor: &str,
        zone: u16,
        fault: bool,
        out: &mut Reaction,
    ) {
        let key = format!("zone{zone}");
        if fault {
            let text = format!("zone {zone} faulted (jam or motor trip): line held");
            self.raise_alarm(conveyor, &key, text, out);
        } else {
            self.clear_alarm(conveyor, &key, out);
        }
    }

    pub(super) fn plc_fault(
        &mut self,
        plc: &str,
        condition: PlcCondition,
        fault: Option<&str>,
        out: &mut Reaction,
    ) {
        match fault {
            Some(text) => self.raise_alarm(plc, condition.name(), text.to_string(), out),
            None => self.clear_alarm(plc, condition.name(), out),
        }
    }
}

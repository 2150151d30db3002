//! Conveyors and sorters as machines: link, PackML state, faults and supervisors' commands.

use floorctl_protocol::packml::{Command as PackCommand, State};

use super::{Command, Core, Note, PlcCondition, Reaction};
use crate::{AlarmText, LinkTrouble, RefusalText};

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
    /// The last command a supervisor gave it: a stop it matches was planned.
    #[serde(default)]
    pub commanded: Option<PackCommand>,
}

impl Default for Equipment {
    fn default() -> Self {
        Equipment {
            link_up: false,
            state: None,
            wanted: true,
            commanded: None,
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
            let text = AlarmText::LinkDown {
                plc: plc.to_string(),
                trouble: LinkTrouble::of(reason.unwrap_or("")),
            };
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
        let before = std::mem::replace(&mut e.state, state);
        let faulted = self
            .summary
            .active_alarms
            .keys()
            .any(|(source, condition)| source == plc && condition != "stop" && condition != "link");
        match state.and_then(|s| unplanned_stop(plc, before, s, e.commanded, faulted)) {
            Some(text) => self.raise_alarm(plc, "stop", text, out),
            None if state.is_some_and(|s| !STOP_STATES.contains(&s)) => {
                self.clear_alarm(plc, "stop", out);
            }
            None => {}
        }
        match state {
            None => self.raise_alarm(plc, "state", AlarmText::UndefinedState { raw }, out),
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

    /// A fault of `plc` now explains why it is held or stopped: its own alarm says what to do,
    /// so the stop's alarm gives way to it (one cause, one alarm).
    fn explained_stop(&mut self, plc: &str, out: &mut Reaction) {
        let aborted = self
            .equipment
            .get(plc)
            .is_some_and(|e| e.state == Some(State::Aborted));
        if !aborted {
            self.clear_alarm(plc, "stop", out);
        }
    }

    /// A fault of `plc` cleared: a machine it held or stopped that is still so, with no other
    /// fault left, needs a supervisor to run again, and is alarmed until it does.
    fn still_stopped(&mut self, plc: &str, out: &mut Reaction) {
        let Some(e) = self.equipment.get(plc) else {
            return;
        };
        let faulted = self
            .summary
            .active_alarms
            .keys()
            .any(|(source, condition)| source == plc && condition != "stop" && condition != "link");
        let plc = plc.to_string();
        let text = match e.state {
            Some(State::Held) if e.commanded != Some(PackCommand::Hold) => {
                AlarmText::StillHeld { plc: plc.clone() }
            }
            Some(State::Stopped) if !e.wanted || !self.layout.auto_start => {
                AlarmText::StillStopped { plc: plc.clone() }
            }
            _ => return,
        };
        if faulted || !e.link_up {
            return;
        }
        self.raise_alarm(&plc, "stop", text, out);
    }

    pub(super) fn supervisor_command(
        &mut self,
        plc: &str,
        command: PackCommand,
        by: &str,
        out: &mut Reaction,
    ) {
        let refuse =
            |reason: RefusalText, out: &mut Reaction| super::alarms::refuse(plc, reason, out);
        let (plc_id, name) = (plc.to_string(), command.name().to_string());
        let Some(e) = self.equipment.get_mut(plc) else {
            return refuse(RefusalText::NoPlc { plc: plc_id }, out);
        };
        if !e.link_up {
            let said = RefusalText::PlcLinkDown {
                plc: plc_id,
                command: name,
            };
            return refuse(said, out);
        }
        let Some(state) = e.state else {
            let said = RefusalText::StateUnknown {
                plc: plc_id,
                command: name,
            };
            return refuse(said, out);
        };
        if state.accept(command).is_err() {
            let said = RefusalText::NotAllowed {
                plc: plc_id,
                command: name,
                state: state.name().to_string(),
                accepted: state.accepted().map(|c| c.name().to_string()).collect(),
            };
            return refuse(said, out);
        }
        match command {
            PackCommand::Stop | PackCommand::Abort => e.wanted = false,
            PackCommand::Start | PackCommand::Reset => e.wanted = true,
            _ => {}
        }
        e.commanded = Some(command);
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
            self.raise_alarm(conveyor, &key, AlarmText::ZoneFault { zone }, out);
            self.explained_stop(conveyor, out);
        } else {
            self.clear_alarm(conveyor, &key, out);
            self.still_stopped(conveyor, out);
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
            Some(detail) => {
                let text = AlarmText::PlcFault {
                    condition: condition.name().to_string(),
                    detail: detail.to_string(),
                };
                self.raise_alarm(plc, condition.name(), text, out);
                self.explained_stop(plc, out);
            }
            None => {
                self.clear_alarm(plc, condition.name(), out);
                self.still_stopped(plc, out);
            }
        }
    }
}

/// States a machine is in, or on its way to, when it has stopped producing.
const STOP_STATES: [State; 6] = [
    State::Aborting,
    State::Aborted,
    State::Holding,
    State::Held,
    State::Stopping,
    State::Stopped,
];

/// What to tell a supervisor when a machine reaches `now` from `before` without their command
/// (`commanded` is the last one given): aborted (an emergency stop), held, or stopped while it
/// was running. `None` when the stop was commanded or is no stop, or when a fault of the
/// machine (`faulted`) already explains a hold or a stop.
fn unplanned_stop(
    plc: &str,
    before: Option<State>,
    now: State,
    commanded: Option<PackCommand>,
    faulted: bool,
) -> Option<AlarmText> {
    if faulted && now != State::Aborted {
        return None;
    }
    let plc = plc.to_string();
    let text = match now {
        State::Aborted if commanded != Some(PackCommand::Abort) => {
            AlarmText::AbortedUnasked { plc }
        }
        State::Held if commanded != Some(PackCommand::Hold) => AlarmText::HeldUnasked { plc },
        State::Stopped
            if before.is_some_and(|b| !matches!(b, State::Stopped | State::Clearing))
                && !matches!(
                    commanded,
                    Some(PackCommand::Stop | PackCommand::Abort | PackCommand::Clear)
                ) =>
        {
            AlarmText::StoppedUnasked { plc }
        }
        _ => return None,
    };
    Some(text)
}

//! The PackML state model (ISA-TR88.00.02): machine states, the commands that move between them,
//! and which command each state accepts. Vendors number states differently; maps name them.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A PackML machine state.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
pub enum State {
    /// Powered, not running; waiting for Reset.
    #[default]
    Stopped,
    /// Reset done; waiting for Start.
    Idle,
    /// Acting: starting up.
    Starting,
    /// Running.
    Execute,
    /// Acting: going to Held.
    Holding,
    /// Paused for an internal condition (a jam, a fault on the machine itself).
    Held,
    /// Acting: going to Suspended.
    Suspending,
    /// Paused for an external condition (starved upstream, blocked downstream).
    Suspended,
    /// Acting: leaving Suspended.
    Unsuspending,
    /// Acting: leaving Held.
    Unholding,
    /// Acting: stopping.
    Stopping,
    /// Acting: aborting.
    Aborting,
    /// Stopped hard (emergency stop, fault); needs Clear.
    Aborted,
    /// Acting: clearing a fault.
    Clearing,
    /// Acting: resetting.
    Resetting,
    /// Acting: completing the production order.
    Completing,
    /// Production order complete; waiting for Reset.
    Complete,
}

/// A command to a PackML machine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Command {
    /// Stopped or Complete → Resetting → Idle.
    Reset,
    /// Idle → Starting → Execute.
    Start,
    /// Any state but Stopped, Stopping, Clearing and the abort states → Stopping → Stopped.
    Stop,
    /// Execute → Holding → Held.
    Hold,
    /// Held → Unholding → Execute.
    Unhold,
    /// Execute → Suspending → Suspended.
    Suspend,
    /// Suspended → Unsuspending → Execute.
    Unsuspend,
    /// Any state but Aborting and Aborted → Aborting → Aborted.
    Abort,
    /// Aborted → Clearing → Stopped.
    Clear,
}

impl State {
    /// Every state, in the standard's order.
    pub const ALL: [State; 17] = [
        State::Stopped,
        State::Idle,
        State::Starting,
        State::Execute,
        State::Holding,
        State::Held,
        State::Suspending,
        State::Suspended,
        State::Unsuspending,
        State::Unholding,
        State::Stopping,
        State::Aborting,
        State::Aborted,
        State::Clearing,
        State::Resetting,
        State::Completing,
        State::Complete,
    ];

    /// The state of this name (as the standard spells it: `Execute`, `Held`, ...).
    pub fn from_name(name: &str) -> Option<State> {
        State::ALL.into_iter().find(|s| s.name() == name)
    }

    /// The state's number in ISA-TR88.00.02 (PackTags `StateCurrent`): Clearing 1, Stopped 2,
    /// Starting 3, Idle 4, Suspended 5, Execute 6, Stopping 7, Aborting 8, Aborted 9, Holding 10,
    /// Held 11, Unholding 12, Suspending 13, Unsuspending 14, Resetting 15, Completing 16,
    /// Complete 17.
    pub fn code(self) -> u8 {
        match self {
            State::Clearing => 1,
            State::Stopped => 2,
            State::Starting => 3,
            State::Idle => 4,
            State::Suspended => 5,
            State::Execute => 6,
            State::Stopping => 7,
            State::Aborting => 8,
            State::Aborted => 9,
            State::Holding => 10,
            State::Held => 11,
            State::Unholding => 12,
            State::Suspending => 13,
            State::Unsuspending => 14,
            State::Resetting => 15,
            State::Completing => 16,
            State::Complete => 17,
        }
    }

    /// The standard's name.
    pub fn name(self) -> &'static str {
        match self {
            State::Stopped => "Stopped",
            State::Idle => "Idle",
            State::Starting => "Starting",
            State::Execute => "Execute",
            State::Holding => "Holding",
            State::Held => "Held",
            State::Suspending => "Suspending",
            State::Suspended => "Suspended",
            State::Unsuspending => "Unsuspending",
            State::Unholding => "Unholding",
            State::Stopping => "Stopping",
            State::Aborting => "Aborting",
            State::Aborted => "Aborted",
            State::Clearing => "Clearing",
            State::Resetting => "Resetting",
            State::Completing => "Completing",
            State::Complete => "Complete",
        }
    }

    /// Whether the state is an acting state, left by the machine itself when its work is done.
    pub fn is_acting(self) -> bool {
        matches!(
            self,
            State::Starting
                | State::Holding
                | State::Suspending
                | State::Unsuspending
                | State::Unholding
                | State::Stopping
                | State::Aborting
                | State::Clearing
                | State::Resetting
                | State::Completing
        )
    }

    /// The acting state `cmd` leads to from this state, or `None` when the state refuses it.
    pub fn target(self, cmd: Command) -> Option<State> {
        use State::*;
        match (cmd, self) {
            (Command::Abort, Aborting | Aborted) => None,
            (Command::Abort, _) => Some(Aborting),
            (Command::Stop, Stopped | Stopping | Aborting | Aborted | Clearing) => None,
            (Command::Stop, _) => Some(Stopping),
            (Command::Reset, Stopped | Complete) => Some(Resetting),
            (Command::Start, Idle) => Some(Starting),
            (Command::Hold, Execute) => Some(Holding),
            (Command::Unhold, Held) => Some(Unholding),
            (Command::Suspend, Execute) => Some(Suspending),
            (Command::Unsuspend, Suspended) => Some(Unsuspending),
            (Command::Clear, Aborted) => Some(Clearing),
            _ => None,
        }
    }

    /// The acting state `cmd` leads to from this state, or why the command is refused here.
    pub fn accept(self, cmd: Command) -> Result<State, String> {
        self.target(cmd).ok_or_else(|| {
            let accepted: Vec<&str> = self.accepted().map(Command::name).collect();
            let hint = if accepted.is_empty() {
                "it accepts no command until it leaves this state by itself".to_string()
            } else {
                format!("it accepts {}", accepted.join(", "))
            };
            format!(
                "{} is not allowed in state {}: {hint}",
                cmd.name(),
                self.name()
            )
        })
    }
}

impl State {
    /// The commands this state takes.
    pub fn accepted(self) -> impl Iterator<Item = Command> {
        Command::ALL
            .into_iter()
            .filter(move |c| self.target(*c).is_some())
    }
}

impl Command {
    /// Every command.
    pub const ALL: [Command; 9] = [
        Command::Reset,
        Command::Start,
        Command::Stop,
        Command::Hold,
        Command::Unhold,
        Command::Suspend,
        Command::Unsuspend,
        Command::Abort,
        Command::Clear,
    ];

    /// The command of this name (`Start`, `Hold`, ...).
    pub fn from_name(name: &str) -> Option<Command> {
        Command::ALL.into_iter().find(|c| c.name() == name)
    }

    /// The standard's name.
    pub fn name(self) -> &'static str {
        match self {
            Command::Reset => "Reset",
            Command::Start => "Start",
            Command::Stop => "Stop",
            Command::Hold => "Hold",
            Command::Unhold => "Unhold",
            Command::Suspend => "Suspend",
            Command::Unsuspend => "Unsuspend",
            Command::Abort => "Abort",
            Command::Clear => "Clear",
        }
    }
}

/// Where an acting state goes once its work is done (the "state complete" transitions).
pub fn completes_to(state: State) -> State {
    match state {
        State::Starting | State::Unholding | State::Unsuspending => State::Execute,
        State::Holding => State::Held,
        State::Suspending => State::Suspended,
        State::Stopping | State::Clearing => State::Stopped,
        State::Aborting => State::Aborted,
        State::Resetting => State::Idle,
        State::Completing => State::Complete,
        s => s,
    }
}

impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl fmt::Display for Command {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_normal_cycle_runs_stopped_idle_execute_and_back() {
        let mut s = State::Stopped;
        for cmd in [
            Command::Reset,
            Command::Start,
            Command::Hold,
            Command::Unhold,
            Command::Stop,
        ] {
            s = completes_to(s.accept(cmd).unwrap());
        }
        assert_eq!(s, State::Stopped);
    }

    #[test]
    fn illegal_commands_are_refused_with_what_is_accepted() {
        let err = State::Stopped.accept(Command::Start).unwrap_err();
        assert!(
            err.contains("Start is not allowed in state Stopped"),
            "{err}"
        );
        assert!(err.contains("Reset") && err.contains("Abort"), "{err}");
        assert!(State::Held.accept(Command::Start).is_err());
        assert!(State::Aborted.accept(Command::Reset).is_err());
        assert!(State::Aborted.accept(Command::Stop).is_err());
        assert_eq!(State::Aborted.accept(Command::Clear), Ok(State::Clearing));
        assert_eq!(State::Execute.accept(Command::Abort), Ok(State::Aborting));
        assert!(State::Aborting.accept(Command::Abort).is_err());
    }

    #[test]
    fn every_state_has_one_name() {
        for s in State::ALL {
            assert_eq!(State::from_name(s.name()), Some(s));
        }
        for c in Command::ALL {
            assert_eq!(Command::from_name(c.name()), Some(c));
        }
    }
}

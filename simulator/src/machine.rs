//! A PLC's PackML state machine: commands taken once by sequence number, acting states that
//! finish by themselves, and the internal conditions that hold or stop the machine.

use floorctl_protocol::image::Image;
use floorctl_protocol::map::PlcMap;
use floorctl_protocol::packml::{completes_to, Command, State};

/// One machine.
#[derive(Debug, Clone)]
pub struct Machine {
    state: State,
    since: u64,
    last_seq: u32,
}

impl Machine {
    /// A machine powered up in Stopped.
    pub fn new() -> Machine {
        Machine {
            state: State::Stopped,
            since: 0,
            last_seq: 0,
        }
    }

    /// Current state.
    pub fn state(&self) -> State {
        self.state
    }

    fn enter(&mut self, state: State, now: u64) {
        self.state = state;
        self.since = now;
    }

    /// Takes a new command from the image (once per sequence number; an illegal one is
    /// acknowledged and ignored), applies the watchdog and fault conditions, finishes acting
    /// states after `acting_ms`, and shows the state in the image.
    pub fn step(
        &mut self,
        map: &PlcMap,
        img: &mut Image,
        now: u64,
        acting_ms: u64,
        watchdog_tripped: bool,
        jammed: bool,
    ) {
        let Some(p) = &map.packml else {
            return;
        };
        let seq_sig = map.signal(&p.command_seq).expect("validated map");
        let seq = img.get(seq_sig, 0);
        if seq != self.last_seq {
            self.last_seq = seq;
            let value = img.get(map.signal(&p.command).expect("validated map"), 0) as u16;
            if let Some(to) = p.command_of(value).and_then(|c| self.state.target(c)) {
                self.enter(to, now);
            }
            img.set(
                map.signal(&p.command_ack_seq).expect("validated map"),
                0,
                seq,
            );
        }
        if watchdog_tripped {
            if let Some(to) = self.state.target(Command::Stop) {
                self.enter(to, now);
            }
        }
        if jammed && self.state == State::Execute {
            self.enter(State::Holding, now);
        }
        if self.state.is_acting() && now.saturating_sub(self.since) >= acting_ms {
            let to = completes_to(self.state);
            // Unholding with the jam still there goes back to holding.
            let to = if jammed && to == State::Execute {
                State::Holding
            } else {
                to
            };
            self.enter(to, now);
        }
        if let Some(v) = p.state_value(self.state) {
            img.set(
                map.signal(&p.state).expect("validated map"),
                0,
                u32::from(v),
            );
        }
    }

    /// Its emergency stop is pressed: it aborts at once, whatever it was doing.
    pub fn emergency_stop(&mut self) {
        self.state = State::Aborted;
    }

    /// Whether the machine produces (moves totes).
    pub fn executing(&self) -> bool {
        self.state == State::Execute
    }
}

impl Default for Machine {
    fn default() -> Self {
        Machine::new()
    }
}

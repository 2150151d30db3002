//! What travels between the adapters and the controller's core task: events in (each with an
//! optional receipt), and what the core made of them.

use floorctl_core::Event;
use tokio::sync::oneshot;

/// What the core made of an event: `Err(reason)` when it refused it (a supervisor's command
/// not allowed in the machine's state, say). Either way the event is journalled.
pub type Outcome = Result<(), String>;

/// An event on its way to the core, with an optional receipt fired once it is journalled.
#[derive(Debug)]
pub struct Inbound {
    event: Event,
    journalled: Option<oneshot::Sender<Outcome>>,
}

impl Inbound {
    /// An event nobody waits on.
    pub fn new(event: Event) -> Inbound {
        Inbound {
            event,
            journalled: None,
        }
    }

    /// The event.
    pub fn event(&self) -> &Event {
        &self.event
    }

    /// The event, and the receipt to fire once it is handled (for consumers other than the core).
    pub fn into_parts(self) -> (Event, Option<oneshot::Sender<Outcome>>) {
        (self.event, self.journalled)
    }

    /// An event and the receipt that fires once it is durable.
    pub fn with_receipt(event: Event) -> (Inbound, oneshot::Receiver<Outcome>) {
        let (tx, rx) = oneshot::channel();
        (
            Inbound {
                event,
                journalled: Some(tx),
            },
            rx,
        )
    }
}

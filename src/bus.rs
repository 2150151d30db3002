//! What travels between the adapters and the controller's core task: events in (each with an
//! optional receipt), and what the core made of them.

use floorctl_core::Event;
use tokio::sync::{mpsc, oneshot};

use crate::telemetry::names;

/// What the core made of an event: `Err(reason)` when it refused it (a supervisor's command
/// not allowed in the machine's state, say). Either way the event is journalled.
pub type Outcome = Result<(), floorctl_core::Refusal>;

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

/// Hands `item` to the queue of an adapter (`to`: a PLC's id, or `handhelds`) without waiting:
/// the core task never stalls on a PLC or a broker that is away. A full queue drops the item,
/// counted and logged; false when it was not queued.
pub fn offer<T>(queue: &mpsc::Sender<T>, to: &str, item: T) -> bool {
    match queue.try_send(item) {
        Ok(()) => true,
        Err(mpsc::error::TrySendError::Full(_)) => {
            metrics::counter!(names::COMMANDS_DROPPED_TOTAL, "to" => to.to_string()).increment(1);
            tracing::warn!(
                to,
                "command queue full (the receiver has been away long); command dropped"
            );
            false
        }
        // The adapter stopped: the controller is stopping.
        Err(mpsc::error::TrySendError::Closed(_)) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_full_queue_drops_the_newest_without_waiting_and_keeps_the_rest() {
        let (tx, mut rx) = mpsc::channel(2);
        assert!(offer(&tx, "sorter1", 1));
        assert!(offer(&tx, "sorter1", 2));
        assert!(!offer(&tx, "sorter1", 3), "a third does not fit");
        assert_eq!(rx.recv().await, Some(1));
        assert_eq!(rx.recv().await, Some(2));
        assert!(
            offer(&tx, "sorter1", 4),
            "room again once the receiver reads"
        );
        assert_eq!(rx.recv().await, Some(4));
        drop(rx);
        assert!(!offer(&tx, "sorter1", 5), "nobody reads any more");
    }
}

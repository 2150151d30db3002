//! Events on MQTT: each published at QoS 1 on `floorctl/{site}/events/{kind}`, in order, through
//! the controller's own broker connection.
//!
//! How far it has come is kept in the database once the MQTT client has taken each event. The
//! client keeps what it has not yet sent in memory, so a start first sends again the last
//! [`REPLAYED`] events before that point: an event is published at least once across a crash,
//! and consumers de-duplicate by its id.

use std::time::Duration;

use tokio::sync::{mpsc, oneshot, watch};
use tokio_util::sync::CancellationToken;

use super::body;
use crate::scanners::Broadcast;
use crate::store::Store;

/// The publisher's name among the outbox's cursors.
const CURSOR: &str = "mqtt";

/// Events sent again at a start: more than the MQTT client can hold unsent (its request queue
/// and in-flight window).
pub(super) const REPLAYED: i64 = 512;

/// Events read from the outbox at a time.
const READ: u32 = 100;

pub(super) async fn run(
    store: Store,
    site: String,
    broker: mpsc::Sender<Broadcast>,
    mut published: watch::Receiver<u64>,
    cancel: CancellationToken,
) {
    let mut sent = loop {
        let start = match store.outbox_cursor(CURSOR).await {
            // A first start publishes from now on, not the whole history.
            Ok(None) => store.last_published().await,
            Ok(Some(seq)) => Ok((seq - REPLAYED).max(0)),
            Err(err) => Err(err),
        };
        match start {
            Ok(seq) => break seq,
            Err(err) => {
                tracing::warn!(%err, "cannot read how far events were published on MQTT");
                tokio::select! {
                    () = cancel.cancelled() => return,
                    () = tokio::time::sleep(Duration::from_secs(1)) => {}
                }
            }
        }
    };
    loop {
        let batch = match store.published_after(sent, READ, &[]).await {
            Ok(b) => b,
            Err(err) => {
                tracing::warn!(%err, "cannot read the outbox");
                Vec::new()
            }
        };
        if batch.is_empty() {
            tokio::select! {
                () = cancel.cancelled() => return,
                _ = published.changed() => {}
                () = tokio::time::sleep(Duration::from_secs(1)) => {}
            }
            continue;
        }
        for event in batch {
            let (handed, taken) = oneshot::channel();
            let out = Broadcast {
                kind: event.kind.clone(),
                body: serde_json::to_vec(&body(&site, &event)).expect("events serialise"),
                handed,
            };
            let delivered = tokio::select! {
                () = cancel.cancelled() => return,
                r = broker.send(out) => r.is_ok(),
            };
            if !delivered || taken.await.is_err() {
                // The connection's tasks ended: the controller is stopping.
                return;
            }
            sent = event.seq;
        }
        if let Err(err) = store.set_outbox_cursor(CURSOR, sent).await {
            tracing::warn!(%err, "cannot record how far events were published on MQTT");
        }
    }
}

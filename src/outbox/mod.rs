//! Events out: what the floor publishes (journalled into the outbox with the events it comes
//! from) leaves by webhooks (`webhooks.rs`, `delivery.rs`) and on MQTT (`mqtt.rs`); consumers
//! that were away catch up with `GET /api/v1/events`. Every channel carries the same body with
//! the same id, so a consumer de-duplicates by it.

mod delivery;
mod mqtt;
pub mod signing;
mod webhooks;

use serde_json::{json, Value};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::bus::Inbound;
use crate::scanners::Broadcast;
use crate::store::{OutboxEvent, Store};
pub use delivery::ALARM_AFTER;
pub use webhooks::subscription;

/// The id of a site's event `seq`, the same at every attempt and on every channel (consumers
/// de-duplicate by it).
pub fn message_id(site: &str, seq: i64) -> String {
    format!("{site}-{seq}")
}

/// An event as consumers get it, by webhook and from `GET /api/v1/events`.
pub fn body(site: &str, event: &OutboxEvent) -> Value {
    json!({
        "id": message_id(site, event.seq),
        "seq": event.seq,
        "type": event.kind,
        "timestamp": floorctl_core::utc_text(event.at),
        "site": site,
        "order": event.order,
        "data": event.data,
    })
}

/// Starts the outbox's publishers: the webhook deliveries and the MQTT one (through `broker`,
/// the controller's broker connection). `published` is bumped whenever new events are in the
/// outbox.
pub fn spawn(
    store: Store,
    site: String,
    core: mpsc::Sender<Inbound>,
    published: watch::Receiver<u64>,
    broker: mpsc::Sender<Broadcast>,
    cancel: CancellationToken,
) -> Vec<JoinHandle<()>> {
    vec![
        webhooks::spawn(
            store.clone(),
            site.clone(),
            core,
            published.clone(),
            cancel.clone(),
        ),
        tokio::spawn(mqtt::run(store, site, broker, published, cancel)),
    ]
}

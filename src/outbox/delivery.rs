//! One subscription's delivery: its events in order, each posted until its endpoint takes it,
//! every attempt logged, a standing alarm while it has not taken any for a while.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::{mpsc, watch};
use tokio_util::sync::CancellationToken;

use super::{body, message_id, signing};
use crate::bus::Inbound;
use crate::http_client::{post, Endpoint};
use crate::retry::Backoff;
use crate::store::{Attempt, OutboxEvent, Store, Webhook};
use crate::wall_clock::now_ms;
use floorctl_core::Event;

/// Events read from the outbox at a time.
const READ: u32 = 100;

/// An endpoint that has taken nothing for this long is alarmed.
pub const ALARM_AFTER: Duration = Duration::from_secs(20);

/// Waits between attempts: doubling from half a second to five minutes, for as long as it takes
/// (an event is never given up).
const FIRST_WAIT: Duration = Duration::from_millis(500);
const LONGEST_WAIT: Duration = Duration::from_secs(300);

/// What a delivery task shares with whoever started it.
pub(super) struct Delivery {
    pub(super) store: Store,
    pub(super) site: String,
    pub(super) hook: Webhook,
    pub(super) core: mpsc::Sender<Inbound>,
    pub(super) published: watch::Receiver<u64>,
    /// Whether its endpoint's alarm stands.
    pub(super) alarmed: Arc<AtomicBool>,
}

impl Delivery {
    pub(super) async fn run(mut self, cancel: CancellationToken) {
        let endpoint = match Endpoint::parse(&self.hook.url) {
            Ok(e) => e,
            Err(why) => {
                self.alarm(Some(why)).await;
                return;
            }
        };
        let key = match signing::key(&self.hook.secret) {
            Ok(k) => k,
            Err(why) => {
                self.alarm(Some(why)).await;
                return;
            }
        };
        let mut delivered = self.hook.delivered;
        let mut backoff = Backoff::new(FIRST_WAIT, LONGEST_WAIT, delivered as u64);
        loop {
            let batch = match self.store.published_after(delivered, READ, &[]).await {
                Ok(b) => b,
                Err(err) => {
                    tracing::warn!(%err, webhook = %self.hook.name, "cannot read the outbox");
                    if sleep(Duration::from_secs(1), &cancel).await {
                        return;
                    }
                    continue;
                }
            };
            if batch.is_empty() {
                tokio::select! {
                    () = cancel.cancelled() => return,
                    _ = self.published.changed() => {}
                    () = tokio::time::sleep(Duration::from_secs(1)) => {}
                }
                continue;
            }
            // Attempts and progress are written once a batch, in one commit.
            let mut log = Vec::new();
            for event in batch {
                if self.hook.takes(&event.kind) {
                    let taken = self
                        .deliver(&endpoint, &key, &event, &mut backoff, &mut log, &cancel)
                        .await;
                    if !taken {
                        self.record(&log, delivered).await;
                        return;
                    }
                }
                delivered = event.seq;
            }
            self.record(&log, delivered).await;
        }
    }

    /// Posts one event until its endpoint takes it, its attempts added to `log` (a failed one
    /// written at once, with those before it); false when stopped first.
    async fn deliver(
        &self,
        endpoint: &Endpoint,
        key: &[u8],
        event: &OutboxEvent,
        backoff: &mut Backoff,
        log: &mut Vec<Attempt>,
        cancel: &CancellationToken,
    ) -> bool {
        let id = message_id(&self.site, event.seq);
        let payload = serde_json::to_vec(&body(&self.site, event)).expect("events serialise");
        let failing_since = Instant::now();
        loop {
            let timestamp = now_ms() / 1000;
            let headers = [
                ("webhook-id", id.clone()),
                ("webhook-timestamp", timestamp.to_string()),
                (
                    "webhook-signature",
                    signing::sign(key, &id, timestamp, &payload),
                ),
            ];
            let started = Instant::now();
            let answer = tokio::select! {
                () = cancel.cancelled() => return false,
                a = post(endpoint, &headers, payload.clone()) => a,
            };
            let fault = match &answer {
                Ok(status) if (200..300).contains(status) => None,
                Ok(status) => Some(format!("it answered HTTP {status}")),
                Err(why) => Some(why.clone()),
            };
            let attempt = Attempt {
                seq: event.seq,
                at: now_ms(),
                status: answer.as_ref().ok().copied(),
                error: fault.clone(),
                took_ms: started.elapsed().as_millis() as u64,
            };
            log.push(attempt);
            let Some(fault) = fault else {
                backoff.reset();
                if self.alarmed.load(Ordering::Relaxed) {
                    self.alarm(None).await;
                }
                return true;
            };
            self.record(log, event.seq - 1).await;
            log.clear();
            let wait = backoff.next_delay();
            tracing::info!(webhook = %self.hook.name, seq = event.seq, %fault, retry_in = ?wait, "webhook delivery failed");
            if failing_since.elapsed() >= ALARM_AFTER && !self.alarmed.load(Ordering::Relaxed) {
                self.alarm(Some(fault)).await;
            }
            if sleep(wait, cancel).await {
                return false;
            }
        }
    }

    /// Writes `attempts` and that every event up to `seq` is delivered (or passed over).
    async fn record(&self, attempts: &[Attempt], seq: i64) {
        if let Err(err) = self
            .store
            .record_deliveries(&self.hook.name, attempts, seq)
            .await
        {
            tracing::warn!(%err, webhook = %self.hook.name, "cannot record delivery attempts");
        }
    }

    /// Raises (`Some(why)`) or clears the endpoint's alarm through the core.
    async fn alarm(&self, fault: Option<String>) {
        self.alarmed.store(fault.is_some(), Ordering::Relaxed);
        raise(&self.core, &self.hook.name, fault).await;
    }
}

/// Hands the core a webhook's fault, or its end.
pub(super) async fn raise(core: &mpsc::Sender<Inbound>, endpoint: &str, fault: Option<String>) {
    let event = Event::Delivery {
        endpoint: endpoint.to_string(),
        fault,
    };
    let _ = core.send(Inbound::new(event)).await;
}

/// Sleeps; true when stopped first.
async fn sleep(wait: Duration, cancel: &CancellationToken) -> bool {
    tokio::select! {
        () = cancel.cancelled() => true,
        () = tokio::time::sleep(wait) => false,
    }
}

//! Webhook subscriptions: every one in force gets its own delivery task, which posts the
//! outbox's events of its kinds in order, signed the Standard Webhooks way, retried until
//! taken. A dead endpoint raises an alarm and holds back only its own deliveries.

use crate::wall_clock::now_ms;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::delivery::{self, Delivery};
use super::signing;
use crate::bus::Inbound;
use crate::http_client::Endpoint;
use crate::store::{Store, Webhook};
use floorctl_core::PublishedKind;

/// How often the subscriptions in force are read again.
const RELOAD: Duration = Duration::from_secs(1);

/// How long delivery attempts are kept in the log.
const ATTEMPTS_KEPT_MS: u64 = 7 * 86_400_000;

/// A new subscription, checked: its name an identifier, its URL one floorctl can post to, its
/// kinds known (none: every kind); it starts after event `from`. Every problem is listed.
pub fn subscription(
    name: &str,
    url: &str,
    kinds: &[String],
    from: i64,
    created: u64,
) -> Result<Webhook, Vec<String>> {
    let mut problems = Vec::new();
    if let Err(e) = floorctl_protocol::id::WebhookName::try_from(name) {
        problems.push(e.to_string());
    }
    if let Err(e) = Endpoint::parse(url) {
        problems.push(e);
    }
    for k in kinds {
        if PublishedKind::parse(k).is_none() {
            let known: Vec<&str> = PublishedKind::ALL.iter().map(|k| k.as_str()).collect();
            problems.push(format!(
                "`{k}` is no event kind; the kinds are {}",
                known.join(", ")
            ));
        }
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    let mut kinds = kinds.to_vec();
    kinds.sort();
    kinds.dedup();
    Ok(Webhook {
        name: name.to_string(),
        url: url.to_string(),
        kinds,
        secret: signing::new_secret(),
        created,
        delivered: from,
    })
}

/// A subscription's running delivery.
struct Running {
    hook: Webhook,
    alarmed: Arc<AtomicBool>,
    stop: CancellationToken,
    task: JoinHandle<()>,
}

/// Starts delivering to every subscription in force, and to those made or changed later.
pub(super) fn spawn(
    store: Store,
    site: String,
    core: mpsc::Sender<Inbound>,
    published: watch::Receiver<u64>,
    cancel: CancellationToken,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut running: BTreeMap<String, Running> = BTreeMap::new();
        let mut reload = tokio::time::interval(RELOAD);
        let mut pruned = 0;
        loop {
            tokio::select! {
                () = cancel.cancelled() => break,
                _ = reload.tick() => {}
            }
            let hooks = match store.webhooks().await {
                Ok(h) => h,
                Err(err) => {
                    tracing::warn!(%err, "cannot read the webhook subscriptions");
                    continue;
                }
            };
            let same = |a: &Webhook, b: &Webhook| {
                (&a.url, &a.kinds, &a.secret) == (&b.url, &b.kinds, &b.secret)
            };
            // Ended or changed: stopped (a changed one starts again below).
            let gone: Vec<String> = running
                .iter()
                .filter(|(name, r)| !hooks.iter().any(|h| &h.name == *name && same(h, &r.hook)))
                .map(|(name, _)| name.clone())
                .collect();
            for name in gone {
                if let Some(r) = running.remove(&name) {
                    r.stop.cancel();
                    let _ = r.task.await;
                    if r.alarmed.load(Ordering::Relaxed) {
                        delivery::raise(&core, &name, None).await;
                    }
                }
            }
            for hook in hooks {
                if running.contains_key(&hook.name) {
                    continue;
                }
                let alarmed = Arc::new(AtomicBool::new(false));
                let stop = cancel.child_token();
                let task = tokio::spawn(
                    Delivery {
                        store: store.clone(),
                        site: site.clone(),
                        hook: hook.clone(),
                        core: core.clone(),
                        published: published.clone(),
                        alarmed: alarmed.clone(),
                    }
                    .run(stop.clone()),
                );
                tracing::info!(webhook = %hook.name, url = %hook.url, "delivering events");
                running.insert(
                    hook.name.clone(),
                    Running {
                        hook,
                        alarmed,
                        stop,
                        task,
                    },
                );
            }
            pruned += 1;
            if pruned >= 3600 {
                pruned = 0;
                let before = now_ms().saturating_sub(ATTEMPTS_KEPT_MS);
                if let Err(err) = store.forget_attempts(before).await {
                    tracing::warn!(%err, "cannot forget old delivery attempts");
                }
            }
        }
        for (_, r) in running {
            r.stop.cancel();
            let _ = r.task.await;
        }
    })
}

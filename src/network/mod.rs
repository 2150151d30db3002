//! A site as one of a network: its lease (who owns the site, fail-over to a standby, fencing of
//! a stale owner) and what it tells the network (transfers, status).
//!
//! Ownership lives in PostgreSQL: a row per site with an owner, an expiry the owner keeps
//! pushing forward and a token that goes up at each change of hands. Every journal write checks
//! the token in its own transaction, so an owner that was paused or cut off and comes back after
//! a standby took over cannot write a thing.

use std::time::{Duration, Instant};

use tokio_util::sync::CancellationToken;

use crate::store::{Lease, Store, StoreError};
use crate::telemetry::names;

mod settings;
pub mod sync;

pub use settings::Network;

/// This instance's name in a lease: host and process.
pub fn instance_name() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "host".into());
    format!("{host}/{}", std::process::id())
}

/// How often a standby tries to take the site.
const STANDBY_POLL: Duration = Duration::from_millis(500);

/// Waits until this instance owns `site` (a standby meanwhile), then fences the store's
/// journal writes under the lease. `None` when `stop` fired first.
pub async fn take_site(
    store: &Store,
    site: &str,
    lease: Duration,
    stop: &CancellationToken,
) -> Result<Option<Lease>, StoreError> {
    let owner = instance_name();
    let mut said = false;
    loop {
        match store
            .take_lease(site, &owner, lease.as_millis() as i64)
            .await
        {
            Ok(Some(l)) => {
                tracing::info!(site, owner, token = l.token, "this instance owns the site");
                store.fence(&l);
                return Ok(Some(l));
            }
            Ok(None) if !said => {
                let holder = store
                    .sites()
                    .await?
                    .into_iter()
                    .find(|s| s.site == site)
                    .map(|s| s.owner)
                    .unwrap_or_default();
                tracing::info!(site, %holder, "standby: the site is owned by another instance; taking it over when its lease runs out");
                said = true;
            }
            Ok(None) => {}
            Err(err) => {
                tracing::warn!(%err, "cannot reach the database to take the site; trying again")
            }
        }
        tokio::select! {
            () = stop.cancelled() => return Ok(None),
            () = tokio::time::sleep(STANDBY_POLL) => {}
        }
    }
}

/// Keeps `lease` renewed until `stop` fires (then gives it up, so a standby takes over at once)
/// or the lease is lost: renewed by nobody for its length, or taken by another instance. Fires
/// `lost` in that case.
pub async fn keep_lease(
    store: Store,
    lease: Lease,
    length: Duration,
    stop: CancellationToken,
    lost: CancellationToken,
) {
    let every = length / 5;
    let mut renewed = Instant::now();
    let owned = metrics::gauge!(names::SITE_OWNED, "site" => lease.site.clone());
    owned.set(1.0);
    loop {
        tokio::select! {
            () = stop.cancelled() => {
                owned.set(0.0);
                if let Err(err) = store.release_lease(&lease).await {
                    tracing::warn!(%err, "cannot give the site's lease up; a standby takes over when it runs out");
                }
                return;
            }
            () = tokio::time::sleep(every) => {}
        }
        // Paused (a stopped process, a frozen VM) past the lease: another may own the site now.
        if renewed.elapsed() >= length {
            tracing::error!(site = %lease.site, late = ?renewed.elapsed(), "the site's lease ran out before it was renewed; stopping");
            owned.set(0.0);
            lost.cancel();
            return;
        }
        match store.renew_lease(&lease, length.as_millis() as i64).await {
            Ok(true) => renewed = Instant::now(),
            Ok(false) => {
                tracing::error!(site = %lease.site, "another instance owns the site now; stopping");
                owned.set(0.0);
                lost.cancel();
                return;
            }
            Err(err) => {
                metrics::counter!(names::LEASE_RENEWALS_FAILED_TOTAL).increment(1);
                tracing::warn!(%err, "cannot renew the site's lease; trying again");
            }
        }
    }
}

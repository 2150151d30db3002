//! `floorctl run`: one site's controller, its dashboard, and — for a site of a network — its
//! lease (standby until it owns the site) and its sync with the network.

use std::time::Duration;

use floorctl_protocol::order::Order;
use tokio_util::sync::CancellationToken;

use crate::config::Config;
use crate::controller::{Controller, StartError};
use crate::dashboard::ListenError;
use crate::network;
use crate::store::{Store, StoreError};

/// Why a site stopped other than when asked.
#[derive(Debug, thiserror::Error)]
pub enum SiteError {
    /// Its database of the network could not be opened.
    #[error("cannot open site {site} of network {network}: {source}")]
    OpenSite {
        /// Site id.
        site: String,
        /// Network schema.
        network: String,
        /// Why.
        #[source]
        source: StoreError,
    },
    /// The database.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The controller did not start.
    #[error(transparent)]
    Start(#[from] StartError),
    /// The dashboard or metrics listener did not open.
    #[error(transparent)]
    Listen(#[from] ListenError),
    /// It ran, then stopped on its own.
    #[error("site {site}: {why}; this one stopped")]
    Stopped {
        /// Site id.
        site: String,
        /// Why.
        why: &'static str,
    },
}

/// Why a running site ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum End {
    /// SIGINT or SIGTERM.
    Stopped,
    /// Another instance owns the site now.
    TakenOver,
    /// The core failed.
    Failed,
}

/// Runs the site until SIGINT/SIGTERM (`Ok`), until another instance takes it over or until its
/// core fails (`Err`): with `[network]`, first as a standby until this instance owns the site.
pub async fn run(config: Config, orders: Vec<Order>) -> Result<(), SiteError> {
    // Listening from the first moment: a stop asked during a long recovery or while standing
    // by is a clean one.
    let stop = CancellationToken::new();
    tokio::spawn({
        let stop = stop.clone();
        async move {
            crate::shutdown::signal().await;
            stop.cancel();
        }
    });
    let (store, lease) = match &config.network {
        None => (Store::connect(&config.database).await?, None),
        Some(net) => {
            let store = Store::connect_site(&config.database, &net.schema, &config.site)
                .await
                .map_err(|source| SiteError::OpenSite {
                    site: config.site.clone(),
                    network: net.schema.clone(),
                    source,
                })?;
            match network::take_site(&store, &config.site, net.lease, &stop).await? {
                Some(lease) => (store, Some(lease)),
                None => {
                    store.close().await;
                    return Ok(());
                }
            }
        }
    };
    let controller = Controller::start_on(config.clone(), store).await?;
    let cancel = CancellationToken::new();
    let lost = controller.fenced().clone();
    let mut tasks = Vec::new();
    if let (Some(net), Some(lease)) = (&config.network, &lease) {
        tasks.push(tokio::spawn(network::keep_lease(
            controller.store().clone(),
            lease.clone(),
            net.lease,
            cancel.clone(),
            lost.clone(),
        )));
        tasks.push(tokio::spawn(network::sync::run(
            controller.handle(),
            config.site.clone(),
            net.clone(),
            lease.clone(),
            cancel.child_token(),
        )));
    }
    let listening = crate::dashboard::start(&controller, &config, &cancel).await?;
    if let Some(addr) = listening.dashboard {
        tracing::info!("dashboard on http://{addr}/");
    }
    if let Some(addr) = listening.metrics {
        tracing::info!("metrics on http://{addr}/metrics");
    }
    for order in orders {
        controller.submit(order).await;
    }
    let failed = controller.failed().clone();
    let ended = tokio::select! {
        () = stop.cancelled() => End::Stopped,
        () = lost.cancelled() => End::TakenOver,
        () = failed.cancelled() => End::Failed,
    };
    let why = match ended {
        End::Stopped => None,
        // Nothing more goes out: the new owner acts for the site.
        End::TakenOver => Some("another instance owns it now"),
        End::Failed => Some("the controller's core failed (the log says why)"),
    };
    if let Some(why) = why {
        controller.shutdown(Duration::from_secs(2)).await;
        cancel.cancel();
        return Err(SiteError::Stopped {
            site: config.site,
            why,
        });
    }
    controller.shutdown(Duration::from_secs(5)).await;
    // The lease is given up last, once the journal is closed.
    cancel.cancel();
    for t in tasks {
        let _ = t.await;
    }
    Ok(())
}

//! What the network run checks and measures: the fail-over, every order sorted, PostgreSQL's load.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use floorctl::store::{Database, Store};

use super::{SiteRun, DC};
use crate::{cpu_time, percentile};

/// The fail-over measured.
pub(super) struct Failover {
    pub(super) sorted_at_kill: u64,
    pub(super) took: Duration,
}

/// SIGKILLs the site's owner and waits for the standby to own the site.
pub(super) async fn kill_owner(network: &Store, site: &mut SiteRun) -> anyhow::Result<Failover> {
    let row = |sites: Vec<floorctl::store::SiteRow>| sites.into_iter().find(|s| s.site == site.id);
    let before = row(network.sites().await?).context("the site has an owner")?;
    site.processes[0].kill()?;
    let killed = Instant::now();
    loop {
        if let Some(now) = row(network.sites().await?) {
            if now.token > before.token {
                let took = killed.elapsed();
                println!(
                    "fail-over: owner of {} killed, standby owned the site after {took:?}",
                    site.id
                );
                return Ok(Failover {
                    sorted_at_kill: before.status["sorted"].as_u64().unwrap_or(0),
                    took,
                });
            }
        }
        anyhow::ensure!(
            killed.elapsed() < Duration::from_secs(60),
            "no standby took {} over",
            site.id
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A site's own tables.
pub(super) async fn site_store(
    server: &Database,
    schema: &str,
    site: &str,
) -> anyhow::Result<Store> {
    Ok(Store::connect_site(server, schema, site).await?)
}

/// Whether every forward warehouse's orders are all sorted, by its own tables.
pub(super) async fn sorted_everywhere(
    sites: &[SiteRun],
    schema: &str,
    server: &Database,
) -> anyhow::Result<bool> {
    for site in sites.iter().filter(|s| s.id != DC) {
        let store = site_store(server, schema, &site.id).await?;
        let orders = store.orders().await?;
        store.close().await;
        if orders.iter().filter(|(_, s)| s == "sorted").count() < site.orders.len() {
            return Ok(false);
        }
    }
    Ok(true)
}

/// What the run's end is checked for.
pub(super) struct Checked {
    pub(super) in_lane: usize,
    pub(super) lead_p50: f64,
}

/// Every order sorted once at its site; every transfer received at most once, each received one
/// shipped in a DC tote sorted to its destination's lane, its units as shipped.
pub(super) async fn check_sites(
    sites: &[SiteRun],
    schema: &str,
    server: &Database,
    transfers: &[floorctl::store::NetTransfer],
    forwards: &[String],
) -> anyhow::Result<Checked> {
    for site in sites.iter().filter(|s| s.id != DC) {
        let store = site_store(server, schema, &site.id).await?;
        let orders = store.orders().await?;
        store.close().await;
        let sorted = orders.iter().filter(|(_, s)| s == "sorted").count();
        anyhow::ensure!(
            sorted == site.orders.len() && orders.len() == site.orders.len(),
            "{}: {sorted} of {} orders sorted",
            site.id,
            site.orders.len()
        );
    }
    let dc = site_store(server, schema, DC).await?;
    let totes: BTreeMap<u32, (String, Option<u16>)> = dc
        .totes()
        .await?
        .into_iter()
        .map(|(t, order, _, chute)| (t, (order, chute)))
        .collect();
    let lead = dc.transfer_lead_times().await?;
    dc.close().await;
    let mut in_lane = 0;
    for t in transfers.iter().filter(|t| t.status == "received") {
        let tote = t.tote.context("a received transfer has a tote")? as u32;
        let (order, chute) = totes.get(&tote).context("the DC knows the tote")?;
        anyhow::ensure!(
            *order == floorctl::network::sync::transfer_order_id(&t.site, t.id),
            "tote {tote} carries {order}, not transfer {} of {}",
            t.id,
            t.site
        );
        let i = forwards
            .iter()
            .position(|f| *f == t.site)
            .context("a known site")?;
        anyhow::ensure!(
            *chute == Some((i % 7 + 1) as u16),
            "tote {tote} for {} went to chute {chute:?}",
            t.site
        );
        anyhow::ensure!(
            t.received == t.shipped,
            "transfer {} of {}: shipped {:?}, received {:?}",
            t.id,
            t.site,
            t.shipped,
            t.received
        );
        in_lane += 1;
    }
    let mut lead = lead;
    lead.sort_by(f64::total_cmp);
    Ok(Checked {
        in_lane,
        lead_p50: percentile(&lead, 50.0),
    })
}

/// The database's counters (pg_stat_database).
pub(super) async fn pg_stats(network: &Store) -> anyhow::Result<BTreeMap<&'static str, i64>> {
    Ok(network.server_counters().await?)
}

/// Connections to the database now.
pub(super) async fn connections(network: &Store) -> anyhow::Result<i64> {
    Ok(network.server_connections().await?)
}

/// CPU time of every PostgreSQL process on this machine.
pub(super) fn postgres_cpu() -> Duration {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return Duration::ZERO;
    };
    dir.filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().parse::<u32>().is_ok())
        .filter(|e| {
            std::fs::read_to_string(e.path().join("comm"))
                .is_ok_and(|c| c.trim().starts_with("postgres"))
        })
        .map(|e| cpu_time(&e.path().join("stat").to_string_lossy()))
        .sum()
}

/// Drops the run's schemas.
pub(super) async fn drop_schemas(
    url: &str,
    schema: &str,
    forwards: &[String],
) -> anyhow::Result<()> {
    let mut all = vec![schema.to_string(), format!("{schema}_{DC}")];
    all.extend(forwards.iter().map(|f| format!("{schema}_{f}")));
    for s in all {
        crate::fixtures::drop_schema(url, &s).await?;
    }
    Ok(())
}

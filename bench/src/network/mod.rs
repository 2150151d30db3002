//! `floorctl-bench network`: a distribution centre and its forward warehouses, each site a
//! simulated floor (PLCs over Modbus TCP, pickers over MQTT) run by a controller process of its
//! own, all sites on one PostgreSQL server and one broker. Each forward warehouse plans its
//! forward faces from its own day's demand and asks the DC for the stock (transfers ahead of the
//! day, refills during it); the DC picks the transfers and sorts them to each destination's lane;
//! a truck takes each tote to its forward warehouse, which receives it against the transfer.
//! One forward warehouse runs with a standby, and its owner is killed half-way through.
//!
//! Reports orders per hour, transfers, PostgreSQL's load and the fail-over time.

use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use floorctl_protocol::order::Order;
use floorsim::Simulator;
use serde_json::json;

mod checks;
mod sites;

use checks::{
    check_sites, connections, drop_schemas, kill_owner, pg_stats, postgres_cpu, sorted_everywhere,
    Failover,
};
use sites::{book, spawn, start_site, Trucks};

use super::{cpu_time, write_json};
use floorctl::store::{Database, Store};
use floorctl_core::PickFace;

/// What to run.
#[derive(Debug, Clone, clap::Args)]
pub struct NetworkBenchOptions {
    /// Forward warehouses fed by the one DC.
    #[arg(long, default_value_t = 10)]
    pub forwards: usize,
    /// Orders of each forward warehouse's day.
    #[arg(long, default_value_t = 1_000)]
    pub orders: usize,
    /// Simulated pickers at each forward warehouse.
    #[arg(long, default_value_t = 6)]
    pub pickers: usize,
    /// Simulated pickers at the DC.
    #[arg(long, default_value_t = 12)]
    pub dc_pickers: usize,
    /// Seed of the order books.
    #[arg(long, default_value_t = 7)]
    pub seed: u64,
    /// The PostgreSQL server all sites share (a schema of the run's own is made on it and
    /// dropped after).
    #[arg(long, default_value = "postgres://postgres@127.0.0.1:5432/test")]
    pub database: String,
    /// An external broker `host:port` for every site; default: one embedded broker.
    #[arg(long)]
    pub broker: Option<SocketAddr>,
    /// Milliseconds a truck takes from the DC to a forward warehouse.
    #[arg(long, default_value_t = 3_000)]
    pub truck_ms: u64,
    /// Kill the owner of the first forward warehouse half-way (a standby takes over).
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set)]
    pub failover: bool,
    /// Seconds the run may take before it is called failed.
    #[arg(long, default_value_t = 3_600)]
    pub limit_seconds: u64,
    /// Where the figures are written.
    #[arg(long, default_value = "target/bench/network.json")]
    pub out: PathBuf,
    /// The `floorctl` program each site runs (default: the one beside this program, as
    /// `cargo build --release --bin floorctl` leaves it).
    #[arg(long)]
    pub floorctl: Option<PathBuf>,
}

impl NetworkBenchOptions {
    /// A short network for tests: `forwards` sites of `orders` orders.
    pub fn short(database: &str, forwards: usize, orders: usize) -> NetworkBenchOptions {
        NetworkBenchOptions {
            forwards,
            orders,
            pickers: 4,
            dc_pickers: 4,
            seed: 7,
            database: database.into(),
            broker: None,
            truck_ms: 1_000,
            failover: true,
            limit_seconds: 600,
            out: PathBuf::from("target/bench/network-short.json"),
            floorctl: None,
        }
    }
}

/// The DC's site id.
pub const DC: &str = "dc";
/// The DC numbers its totes from here, apart from the forward warehouses' own.
const DC_FIRST_TOTE: u32 = 1_000_000;
/// Chute the forward warehouses take DC totes in at.
const INBOUND_CHUTE: u16 = 7;
/// Share of a SKU's day on its face at the start; the rest comes from the DC.
const START_SHARE: f64 = 0.5;

/// One site of the run: its simulated floor, files and processes.
struct SiteRun {
    id: String,
    sim: Simulator,
    dir: PathBuf,
    orders: Vec<Order>,
    faces: Vec<PickFace>,
    processes: Vec<Child>,
}

/// Runs the network, prints the figures and writes them as JSON.
pub async fn run(opts: &NetworkBenchOptions) -> anyhow::Result<()> {
    let exe = match &opts.floorctl {
        Some(p) => p.clone(),
        None => crate::fixtures::floorctl_beside_this_program()?,
    };
    let figures = scenario(opts, &exe).await?;
    println!("{}", serde_json::to_string_pretty(&figures)?);
    write_json(&opts.out, &figures)?;
    println!("written to {}", opts.out.display());
    Ok(())
}

/// Runs the network with controller processes of `exe` and returns its figures. Fails when an
/// order is not sorted, a transfer is lost or received twice, or a process does not stop cleanly.
pub async fn scenario(opts: &NetworkBenchOptions, exe: &Path) -> anyhow::Result<serde_json::Value> {
    let schema = format!("net{:012x}", rand::random::<u64>() >> 16);
    let root = std::env::temp_dir().join(format!("floorctl-{schema}"));
    std::fs::create_dir_all(&root)?;
    let broker = match opts.broker {
        Some(b) => b,
        None => {
            let addr = crate::fixtures::free_addr("127.0.0.1:0".parse()?)?;
            floorctl::scanners::start_embedded(addr, None).await?;
            addr
        }
    };
    let server = Database::Postgres(opts.database.clone());
    let network = Store::connect_site(&server, &schema, DC).await?;
    let forward_ids: Vec<String> = (1..=opts.forwards).map(|i| format!("fwd{i:02}")).collect();

    let mut sites = Vec::new();
    for (n, id) in std::iter::once(DC.to_string())
        .chain(forward_ids.iter().cloned())
        .enumerate()
    {
        sites.push(start_site(opts, &root, &schema, broker, &id, n as u64, &forward_ids).await?);
    }
    // Stock and faces, booked before the controllers start.
    let dc_skus: BTreeSet<String> = sites
        .iter()
        .flat_map(|s| s.faces.iter().map(|f| f.sku.clone()))
        .collect();
    for site in &sites {
        book(site, &server, &schema, broker, &dc_skus).await?;
    }
    let started = Instant::now();
    let pg_before = pg_stats(&network).await?;
    let pg_cpu_before = postgres_cpu();
    let sims_cpu_before = cpu_time("/proc/self/stat");
    for site in &mut sites {
        site.processes.push(spawn(exe, site, "owner")?);
    }
    // The first forward warehouse has a standby.
    if opts.failover {
        tokio::time::sleep(Duration::from_secs(1)).await;
        let fwd = &mut sites[1];
        fwd.processes.push(spawn(exe, fwd, "standby")?);
    }
    let total: usize = sites.iter().map(|s| s.orders.len()).sum();
    let mut failover = None;
    let mut trucks = Trucks {
        after: Duration::from_millis(opts.truck_ms),
        ..Trucks::default()
    };
    let mut max_connections = 0;
    let mut last_report = Instant::now();
    let limit = Duration::from_secs(opts.limit_seconds);
    loop {
        anyhow::ensure!(
            started.elapsed() < limit,
            "the network's day did not finish within {limit:?}"
        );
        for site in &mut sites {
            if let Some(status) = site.processes[0].try_wait()? {
                anyhow::ensure!(
                    failover.is_some() && site.id == forward_ids[0],
                    "the controller of {} stopped by itself ({status}); see {}",
                    site.id,
                    site.dir.join("owner.log").display()
                );
            }
        }
        trucks.drive(&network, &sites).await?;
        let statuses = network.sites().await?;
        let sorted: usize = statuses
            .iter()
            .filter(|s| s.site != DC)
            .map(|s| s.status["sorted"].as_u64().unwrap_or(0) as usize)
            .sum();
        max_connections = max_connections.max(connections(&network).await?);
        if opts.failover && failover.is_none() && sorted * 2 >= total {
            failover = Some(kill_owner(&network, &mut sites[1]).await?);
        }
        if last_report.elapsed() >= Duration::from_secs(30) {
            println!(
                "{:>5.0} s: {sorted} of {total} orders sorted, {} DC totes delivered",
                started.elapsed().as_secs_f64(),
                trucks.delivered.len()
            );
            last_report = Instant::now();
        }
        if sorted >= total && sorted_everywhere(&sites, &schema, &server).await? {
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let day = started.elapsed();
    // Transfers still on their way are let finish.
    let settle = Instant::now();
    while settle.elapsed() < Duration::from_secs(60) {
        let open = network
            .net_transfers(None, None, None)
            .await?
            .into_iter()
            .filter(|t| t.status != "received")
            .count();
        if open == 0 {
            break;
        }
        trucks.drive(&network, &sites).await?;
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let elapsed = started.elapsed();
    let pg_after = pg_stats(&network).await?;
    let pg_cpu = postgres_cpu().saturating_sub(pg_cpu_before);
    let sims_cpu = cpu_time("/proc/self/stat").saturating_sub(sims_cpu_before);
    let controllers_cpu: Duration = sites
        .iter()
        .flat_map(|s| &s.processes)
        .map(|p| cpu_time(&format!("/proc/{}/stat", p.id())))
        .sum();
    let transfers = network.net_transfers(None, None, None).await?;
    // Clean stops.
    for site in &mut sites {
        for p in &mut site.processes {
            if p.try_wait()?.is_none() {
                let _ = Command::new("kill")
                    .args(["-TERM", &p.id().to_string()])
                    .status();
            }
        }
    }
    for site in &mut sites {
        for (i, p) in site.processes.iter_mut().enumerate() {
            let status = p.wait()?;
            let killed = failover.is_some() && site.id == forward_ids[0] && i == 0;
            anyhow::ensure!(
                killed || status.success(),
                "the controller of {} did not stop cleanly ({status})",
                site.id
            );
        }
    }
    let check = check_sites(&sites, &schema, &server, &transfers, &forward_ids).await?;
    let secs = elapsed.as_secs_f64();
    let per_sec = |k: &str| (pg_after[k] - pg_before[k]) as f64 / secs;
    let received: Vec<_> = transfers
        .iter()
        .filter(|t| t.status == "received")
        .collect();
    let mut open: BTreeMap<&str, usize> = BTreeMap::new();
    for t in transfers.iter().filter(|t| t.status != "received") {
        *open.entry(t.status.as_str()).or_default() += 1;
        let at = sites.iter().find(|s| s.id == t.site).and_then(|s| {
            let tote = t.tote? as u32;
            let snap = s.sim.snapshot();
            snap.chutes
                .iter()
                .find(|(_, totes)| totes.contains(&tote))
                .map(|(c, _)| *c)
        });
        println!("not received: {t:?}, in chute {at:?} of its site");
    }
    let short: usize = received
        .iter()
        .filter(|t| t.received != Some(t.qty))
        .count();
    let units: i64 = received.iter().filter_map(|t| t.received).sum();
    let figures = json!({
        "bench": "network",
        "sites": { "dc": 1, "forward": opts.forwards },
        "controller_processes": sites.iter().map(|s| s.processes.len()).sum::<usize>(),
        "orders": total,
        "pickers_per_site": opts.pickers,
        "day_seconds": day.as_secs_f64(),
        "orders_per_hour": total as f64 / day.as_secs_f64() * 3600.0,
        "orders_per_hour_per_forward_site": total as f64 / day.as_secs_f64() * 3600.0 / opts.forwards as f64,
        "transfers": {
            "asked": transfers.len(),
            "received": received.len(),
            "units_received": units,
            "received_short_or_over": short,
            "open_at_end": open,
            "dc_totes_in_destination_lane": check.in_lane,
            "lead_time_s_p50": check.lead_p50,
        },
        "postgres": {
            "commits_per_s": per_sec("xact_commit"),
            "rows_inserted_per_s": per_sec("tup_inserted"),
            "rows_updated_per_s": per_sec("tup_updated"),
            "rows_read_per_s": per_sec("tup_fetched"),
            "blocks_read_from_disk_per_s": per_sec("blks_read"),
            "connections_peak": max_connections,
            "cpu_cores": pg_cpu.as_secs_f64() / secs,
        },
        "controllers_cpu_cores": controllers_cpu.as_secs_f64() / secs,
        "simulators_and_broker_cpu_cores": sims_cpu.as_secs_f64() / secs,
        "pickers_at_dc": opts.dc_pickers,
        "failover": failover.as_ref().map(|f: &Failover| json!({
            "site": forward_ids[0],
            "orders_sorted_at_kill": f.sorted_at_kill,
            "standby_owned_site_after_s": f.took.as_secs_f64(),
        })),
        "seconds": secs,
    });
    for site in sites {
        site.sim.shutdown().await;
    }
    drop_schemas(&opts.database, &schema, &forward_ids).await?;
    network.close().await;
    let _ = std::fs::remove_dir_all(&root);
    Ok(figures)
}

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
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use floorctl_protocol::order::Order;
use floorsim::floor::FloorTiming;
use floorsim::{PickersConfig, SimConfig, Simulator};
use serde_json::json;

use super::{cpu_time, percentile, write_json};
use floorctl::config::{Broker, Config};
use floorctl::controller::Controller;
use floorctl::demo::{self, shipped_map, CONVEYOR_MAP, SORTER_MAP};
use floorctl::store::{Database, Store};
use floorctl_core::slotting::peak::peak_moves;
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

/// The trucks from the DC: each tote a forward warehouse expects (its transfer in transit) is
/// put on that site's conveyor `after` it was shipped, once.
#[derive(Default)]
struct Trucks {
    after: Duration,
    since: BTreeMap<(String, i64), Instant>,
    delivered: BTreeSet<(String, i64)>,
}

impl Trucks {
    async fn drive(&mut self, network: &Store, sites: &[SiteRun]) -> anyhow::Result<()> {
        for t in network
            .net_transfers(Some("in_transit"), None, None)
            .await?
        {
            let key = (t.site.clone(), t.id);
            let since = *self.since.entry(key.clone()).or_insert_with(Instant::now);
            if since.elapsed() < self.after || self.delivered.contains(&key) {
                continue;
            }
            if let (Some(site), Some(tote)) = (sites.iter().find(|s| s.id == t.site), t.tote) {
                site.sim.with_floor(|f| f.place_tote(tote as u32));
                self.delivered.insert(key);
            }
        }
        Ok(())
    }
}

/// The site's floor, order book, faces and files.
async fn start_site(
    opts: &NetworkBenchOptions,
    root: &Path,
    schema: &str,
    broker: SocketAddr,
    id: &str,
    n: u64,
    forwards: &[String],
) -> anyhow::Result<SiteRun> {
    let timing = FloorTiming {
        zone_ms: 200,
        divert_window_ms: 600,
        recirculation_ms: 1000,
        induct_gap_ms: 150,
        chute_capacity: 10_000,
        ..FloorTiming::default()
    };
    let mut sim = Simulator::start(SimConfig {
        conveyor_map: shipped_map(CONVEYOR_MAP),
        sorter_map: shipped_map(SORTER_MAP),
        conveyor_listen: "127.0.0.1:0".parse()?,
        sorter_listen: "127.0.0.1:0".parse()?,
        timing,
    })
    .await?;
    let count = if id == DC {
        opts.dc_pickers
    } else {
        opts.pickers
    };
    let mut pickers =
        PickersConfig::steady(id, &broker.ip().to_string(), broker.port(), count, 60, 60);
    pickers.seed = opts.seed + n;
    if id == DC {
        // Now and then a DC picker finds fewer units than asked: the transfer ships short.
        pickers.short_rate = 0.05;
    }
    sim.start_pickers(&pickers);
    let dir = root.join(id);
    std::fs::create_dir_all(&dir)?;
    let (orders, faces) = if id == DC {
        (Vec::new(), Vec::new())
    } else {
        let cutoffs: Vec<String> = demo::layout().cutoffs.into_iter().map(|c| c.name).collect();
        let orders = floorsim::orders::generate(opts.seed * 1_000 + n, opts.orders, &cutoffs);
        let faces = plan_faces(&orders);
        (orders, faces)
    };
    std::fs::write(
        dir.join("orders.csv"),
        floorctl_protocol::order::to_csv(&orders),
    )?;
    let site_file = site_file(id, &sim, broker, &opts.database, schema, forwards);
    std::fs::write(dir.join("site.toml"), site_file)?;
    Ok(SiteRun {
        id: id.into(),
        sim,
        dir,
        orders,
        faces,
        processes: Vec::new(),
    })
}

/// The forward faces of a site, from its own day's demand: the busier half of its (SKU,
/// location)s, each sized to the day, refilled at a third of it.
fn plan_faces(orders: &[Order]) -> Vec<PickFace> {
    let mut demand: BTreeMap<(String, String), u32> = BTreeMap::new();
    for l in orders.iter().flat_map(|o| &o.lines) {
        *demand
            .entry((l.sku.clone(), l.location.clone()))
            .or_default() += l.qty;
    }
    let mut by_units: Vec<_> = demand.into_iter().collect();
    by_units.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    by_units.truncate(by_units.len() / 2);
    by_units
        .into_iter()
        .map(|((sku, location), units)| PickFace {
            location,
            sku,
            min: (units / 3).max(2),
            max: units.max(4),
        })
        .collect()
}

/// A site file: the demo's floor; for the DC a lane per destination and its totes numbered
/// apart; for a forward warehouse an inbound chute and its DC.
fn site_file(
    id: &str,
    sim: &Simulator,
    broker: SocketAddr,
    database: &str,
    schema: &str,
    forwards: &[String],
) -> String {
    let mut text = format!(
        r#"site = "{id}"
database = "{database}"
exception_chute = 8
{top}
[mqtt]
broker = "{broker}"

[dashboard]
listen = "off"
metrics_listen = "off"

{plcs}"#,
        plcs = crate::fixtures::plc_sections(sim.conveyor_addr, sim.sorter_addr),
        top = if id == DC {
            format!("first_tote = {DC_FIRST_TOTE}")
        } else {
            format!("inbound_chute = {INBOUND_CHUTE}")
        },
    );
    if id == DC {
        // The simulated DC sorter has 8 chutes: 7 lanes, shared when there are more sites.
        text.push_str("\n[lanes]\n");
        for (i, f) in forwards.iter().enumerate() {
            text.push_str(&format!("to-{f} = [{}]\n", i % 7 + 1));
        }
        for f in forwards {
            text.push_str(&format!(
                "\n[[cutoff]]\nname = \"truck {f}\"\nlane = \"to-{f}\"\n"
            ));
        }
        text.push_str(&format!(
            "\n[network]\nschema = \"{schema}\"\n\n[network.destinations]\n"
        ));
        for f in forwards {
            text.push_str(&format!("{f} = \"truck {f}\"\n"));
        }
    } else {
        text.push_str(&format!(
            r#"
{lanes}
[network]
schema = "{schema}"
dc = "{DC}"
"#,
            lanes = crate::fixtures::LANE_SECTIONS,
        ));
    }
    text
}

/// Books a site's stock and faces in its journal, and for a forward warehouse queues the moves
/// that bring each face up to its day (asked of the DC: the site holds no reserve of them).
async fn book(
    site: &SiteRun,
    server: &Database,
    schema: &str,
    broker: SocketAddr,
    dc_skus: &BTreeSet<String>,
) -> anyhow::Result<()> {
    let mut config = Config::load(&site.dir.join("site.toml"))?;
    config.plcs.clear();
    config.broker = Broker::External {
        host: broker.ip().to_string(),
        port: broker.port(),
        credentials: None,
    };
    let store = Store::connect_site(server, schema, &site.id).await?;
    let c = Controller::start_on(config, store).await?;
    if site.id == DC {
        for sku in dc_skus {
            anyhow::ensure!(c.stock(sku, &format!("DC-{sku}"), 1_000_000).await);
        }
    } else {
        let face_at: BTreeSet<&str> = site.faces.iter().map(|f| f.location.as_str()).collect();
        let mut forecast: BTreeMap<String, f64> = BTreeMap::new();
        let mut on_hand: BTreeMap<String, u32> = BTreeMap::new();
        for l in site.orders.iter().flat_map(|o| &o.lines) {
            if !face_at.contains(l.location.as_str()) {
                anyhow::ensure!(c.stock(&l.sku, &l.location, 10_000).await);
            }
        }
        for f in &site.faces {
            let start = (f64::from(f.max) * START_SHARE).ceil() as u32;
            anyhow::ensure!(c.stock(&f.sku, &f.location, start).await);
            on_hand.insert(f.location.clone(), start);
            forecast.insert(f.sku.clone(), f64::from(f.max));
        }
        anyhow::ensure!(c.set_pick_faces(site.faces.clone()).await);
        let moves = peak_moves(
            &site.faces,
            &|_, loc| on_hand.get(loc).copied().unwrap_or(0),
            &forecast,
        );
        anyhow::ensure!(c.preposition(moves, 0).await);
    }
    c.shutdown(Duration::from_secs(5)).await;
    Ok(())
}

/// `floorctl run` for a site, its log in `{role}.log`.
fn spawn(exe: &Path, site: &SiteRun, role: &str) -> anyhow::Result<Child> {
    let log = std::fs::File::create(site.dir.join(format!("{role}.log")))?;
    Command::new(exe)
        .args(["run", "--config"])
        .arg(site.dir.join("site.toml"))
        .arg("--orders")
        .arg(site.dir.join("orders.csv"))
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .context("starting a controller")
}

/// The fail-over measured.
struct Failover {
    sorted_at_kill: u64,
    took: Duration,
}

/// SIGKILLs the site's owner and waits for the standby to own the site.
async fn kill_owner(network: &Store, site: &mut SiteRun) -> anyhow::Result<Failover> {
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
async fn site_store(server: &Database, schema: &str, site: &str) -> anyhow::Result<Store> {
    Ok(Store::connect_site(server, schema, site).await?)
}

/// Whether every forward warehouse's orders are all sorted, by its own tables.
async fn sorted_everywhere(
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
struct Checked {
    in_lane: usize,
    lead_p50: f64,
}

/// Every order sorted once at its site; every transfer received at most once, each received one
/// shipped in a DC tote sorted to its destination's lane, its units as shipped.
async fn check_sites(
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
async fn pg_stats(network: &Store) -> anyhow::Result<BTreeMap<&'static str, i64>> {
    Ok(network.server_counters().await?)
}

/// Connections to the database now.
async fn connections(network: &Store) -> anyhow::Result<i64> {
    Ok(network.server_connections().await?)
}

/// CPU time of every PostgreSQL process on this machine.
fn postgres_cpu() -> Duration {
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
async fn drop_schemas(url: &str, schema: &str, forwards: &[String]) -> anyhow::Result<()> {
    let mut all = vec![schema.to_string(), format!("{schema}_{DC}")];
    all.extend(forwards.iter().map(|f| format!("{schema}_{f}")));
    for s in all {
        crate::fixtures::drop_schema(url, &s).await?;
    }
    Ok(())
}

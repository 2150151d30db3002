//! The sites of the network run: their files, processes, stock and the trucks between them.

use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use floorctl::config::{Broker, Config};
use floorctl::controller::Controller;
use floorctl::demo::{self, shipped_map, CONVEYOR_MAP, SORTER_MAP};
use floorctl::store::{Database, Store};
use floorctl_core::slotting::peak::peak_moves;
use floorctl_core::PickFace;
use floorctl_protocol::order::Order;
use floorsim::floor::FloorTiming;
use floorsim::{PickersConfig, SimConfig, Simulator};

use super::{NetworkBenchOptions, SiteRun, DC, DC_FIRST_TOTE, INBOUND_CHUTE, START_SHARE};

/// The trucks from the DC: each tote a forward warehouse expects (its transfer in transit) is
/// put on that site's conveyor `after` it was shipped, once.
#[derive(Default)]
pub(super) struct Trucks {
    pub(super) after: Duration,
    pub(super) since: BTreeMap<(String, i64), Instant>,
    pub(super) delivered: BTreeSet<(String, i64)>,
}

impl Trucks {
    pub(super) async fn drive(&mut self, network: &Store, sites: &[SiteRun]) -> anyhow::Result<()> {
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
pub(super) async fn start_site(
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
pub(super) fn plan_faces(orders: &[Order]) -> Vec<PickFace> {
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
pub(super) fn site_file(
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
pub(super) async fn book(
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
pub(super) fn spawn(exe: &Path, site: &SiteRun, role: &str) -> anyhow::Result<Child> {
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

//! `floorctl demo`: controller, embedded broker, SQLite and simulator in one process.

use std::collections::BTreeMap;
use std::net::{SocketAddr, TcpListener};
use std::path::PathBuf;
use std::time::Duration;

use floorctl_protocol::map::PlcMap;
use floorsim::floor::FloorTiming;
use floorsim::{PickersConfig, SimConfig, Simulator};

use crate::config::{Broker, Config, DashboardSettings, PlcSpec};
use crate::controller::{Controller, StartError};
use crate::dashboard::ListenError;
use crate::plc::PlcStatus;
use floorctl_core::{Cutoff, Layout, Summary};

/// The conveyor map, as shipped in `plc-maps/`.
pub const CONVEYOR_MAP: &str = include_str!("../plc-maps/conveyor-cv4.toml");
/// The sorter map, as shipped in `plc-maps/`.
pub const SORTER_MAP: &str = include_str!("../plc-maps/sorter-ts8.toml");

/// Demo settings.
#[derive(Debug, Clone)]
pub struct DemoOptions {
    /// Orders in the order book.
    pub orders: usize,
    /// Virtual pickers.
    pub pickers: usize,
    /// Seed of the order book.
    pub seed: u64,
    /// Folder for the database.
    pub dir: PathBuf,
    /// Embedded broker address (port 0: any free port).
    pub broker: SocketAddr,
    /// Dashboard address (another free port when it is taken).
    pub dashboard: SocketAddr,
    /// Prometheus metrics address (another free port when it is taken).
    pub metrics: SocketAddr,
    /// Stop once every order is sorted, instead of serving the dashboard until told to stop.
    pub exit_when_sorted: bool,
}

/// Why the demo did not start or stopped on its own.
#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    /// Its folder, the simulator's listeners or a free port.
    #[error("{what}: {source}")]
    Io {
        /// What could not be done.
        what: &'static str,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The controller did not start.
    #[error(transparent)]
    Start(#[from] StartError),
    /// The dashboard or metrics listener did not open.
    #[error(transparent)]
    Listen(#[from] ListenError),
    /// The controller's core failed.
    #[error("the controller's core failed (the log says why); stopped")]
    Failed,
}

fn io(what: &'static str) -> impl FnOnce(std::io::Error) -> DemoError {
    move |source| DemoError::Io { what, source }
}

/// A running demo: simulator, controller, dashboard.
#[derive(Debug)]
pub struct Demo {
    /// The controller.
    pub controller: Controller,
    /// The simulated floor (inject faults through it).
    pub sim: Simulator,
    /// Where the dashboard and metrics are served.
    pub listening: crate::dashboard::Listening,
    /// The database file.
    pub database: PathBuf,
    cancel: tokio_util::sync::CancellationToken,
}

/// The demo layout: two cut-offs, each with its lane of chutes.
pub fn layout() -> Layout {
    Layout {
        cutoffs: vec![
            Cutoff::untimed("11:00", "PM"),
            Cutoff::untimed("17:00", "AM"),
        ],
        lanes: BTreeMap::from([("PM".into(), vec![1, 2, 3]), ("AM".into(), vec![4, 5, 6])]),
        exception_chute: 8,
        pick_conveyor: "cv1".into(),
        max_recirculations: 3,
        auto_start: true,
        handheld_timeout_ms: 30_000,
        handheld_silent_ms: floorctl_core::DEFAULT_HANDHELD_SILENT_MS,
        lines: BTreeMap::from([("sorter1".into(), vec!["cv1".into()])]),
        ..Layout::empty()
    }
}

/// Parses a shipped map; they are checked by the tests, so failure is a build defect.
pub fn shipped_map(text: &str) -> PlcMap {
    PlcMap::parse(text).unwrap_or_else(|p| panic!("shipped PLC map is invalid: {p:?}"))
}

/// `preferred` when it is free, or else a free port on 127.0.0.1.
fn preferred_or_free(preferred: SocketAddr) -> std::io::Result<SocketAddr> {
    match TcpListener::bind(preferred) {
        Ok(l) => l.local_addr(),
        Err(_) => TcpListener::bind("127.0.0.1:0")?.local_addr(),
    }
}

fn line(s: &Summary, plcs: &BTreeMap<String, PlcStatus>) -> String {
    let chutes: Vec<String> = s
        .per_chute
        .iter()
        .map(|(c, n)| format!("{c}:{n}"))
        .collect();
    let machines: Vec<String> = plcs
        .iter()
        .map(|(id, p)| {
            let state = p.state.map_or("?".to_string(), |s| s.to_string());
            let kwh: f64 = p.zone_energy_kwh.iter().sum();
            if p.zone_energy_kwh.is_empty() {
                format!("{id} {state}")
            } else {
                let asleep = p.zones_asleep.iter().filter(|a| **a).count();
                format!("{id} {state} ({kwh:.4} kWh, {asleep} zones asleep)")
            }
        })
        .collect();
    format!(
        "orders picked {}/{}, sorted {}/{}; totes per chute [{}]; recirculations {}; alarms {}; {}",
        s.picked,
        s.orders,
        s.sorted,
        s.orders,
        chutes.join(" "),
        s.recirculations,
        s.alarms,
        machines.join(", ")
    )
}

impl Demo {
    /// Starts the simulator, the controller with its dashboard, the virtual pickers, and hands
    /// the order book to the controller.
    pub async fn start(opts: &DemoOptions) -> Result<Demo, DemoError> {
        std::fs::create_dir_all(&opts.dir).map_err(io("cannot make the demo's folder"))?;
        let database = opts.dir.join("floorctl.db");
        let conveyor_map = shipped_map(CONVEYOR_MAP);
        let sorter_map = shipped_map(SORTER_MAP);
        let mut sim = Simulator::start(SimConfig {
            conveyor_map: conveyor_map.clone(),
            sorter_map: sorter_map.clone(),
            conveyor_listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            sorter_listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            timing: FloorTiming::default(),
        })
        .await
        .map_err(io("cannot start the simulated PLCs"))?;
        let broker = preferred_or_free(opts.broker).map_err(io("no free port for the broker"))?;
        let plc = |id: &str, address, map: PlcMap| {
            let mut spec = PlcSpec::new(id, address, map);
            if spec.map.signal("speed_setpoint").is_some() {
                spec.setpoints.insert("speed_setpoint".into(), 2.5);
            }
            spec
        };
        let config = Config {
            site: "demo".into(),
            database: database.clone().into(),
            broker: Broker::Embedded {
                listen: broker,
                handhelds: None,
            },
            plcs: vec![
                plc("cv1", sim.conveyor_addr, conveyor_map),
                plc("sorter1", sim.sorter_addr, sorter_map),
            ],
            layout: layout(),
            dashboard: DashboardSettings {
                listen: Some(
                    preferred_or_free(opts.dashboard)
                        .map_err(io("no free port for the dashboard"))?,
                ),
                metrics_listen: Some(
                    preferred_or_free(opts.metrics).map_err(io("no free port for the metrics"))?,
                ),
                ..DashboardSettings::default()
            },
            network: None,
        };
        let controller = Controller::start(config.clone()).await?;
        let cancel = tokio_util::sync::CancellationToken::new();
        let listening = crate::dashboard::start(&controller, &config, &cancel).await?;
        // Now and then a picker scans the wrong label first; the handheld refuses it.
        sim.start_pickers(&PickersConfig {
            wrong_scan_rate: 0.05,
            ..PickersConfig::steady(
                "demo",
                &broker.ip().to_string(),
                broker.port(),
                opts.pickers,
                300,
                400,
            )
        });
        let cutoffs: Vec<String> = layout().cutoffs.into_iter().map(|c| c.name).collect();
        for order in floorsim::orders::generate(opts.seed, opts.orders, &cutoffs) {
            controller.submit(order).await;
        }
        Ok(Demo {
            controller,
            sim,
            listening,
            database,
            cancel,
        })
    }

    /// Stops the dashboard, the controller and the simulator.
    pub async fn shutdown(self) {
        self.cancel.cancel();
        self.controller.shutdown(Duration::from_secs(5)).await;
        self.sim.shutdown().await;
    }
}

/// Runs the demo until the process is told to stop (or, with `exit_when_sorted`, until every
/// order is sorted).
pub async fn run(opts: DemoOptions) -> Result<(), DemoError> {
    let demo = Demo::start(&opts).await?;
    println!("database: {}", demo.database.display());
    println!(
        "simulated PLCs: conveyor cv1 on {}, sorter sorter1 on {}",
        demo.sim.conveyor_addr, demo.sim.sorter_addr
    );
    println!("embedded MQTT broker; {} virtual pickers", opts.pickers);
    if let Some(addr) = demo.listening.dashboard {
        println!("dashboard: http://{addr}/");
        println!(
            "  make a supervisor account first: floorctl user add --database {} NAME --role supervisor",
            demo.database.display()
        );
    }
    if let Some(addr) = demo.listening.metrics {
        println!("metrics: http://{addr}/metrics");
    }
    let mut summary = demo.controller.summary();
    let mut tick = tokio::time::interval(Duration::from_secs(2));
    tick.tick().await;
    let stop = crate::shutdown::signal();
    tokio::pin!(stop);
    let mut all_sorted = false;
    let failed = demo.controller.failed().clone();
    loop {
        tokio::select! {
            () = &mut stop => { println!("stopping"); break; }
            () = failed.cancelled() => {
                demo.shutdown().await;
                return Err(DemoError::Failed);
            }
            _ = tick.tick(), if !all_sorted => {
                println!("{}", line(&summary.borrow(), &demo.controller.plc_status()));
            }
            changed = summary.changed() => {
                if changed.is_err() { break; }
                let s = summary.borrow().clone();
                if !all_sorted && s.orders >= opts.orders && s.sorted >= s.orders {
                    all_sorted = true;
                    println!("{}", line(&s, &demo.controller.plc_status()));
                    println!("all {} orders sorted", s.orders);
                    if opts.exit_when_sorted {
                        break;
                    }
                    println!("the dashboard stays up until Ctrl-C");
                }
            }
        }
    }
    demo.shutdown().await;
    Ok(())
}

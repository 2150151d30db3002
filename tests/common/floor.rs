//! The test floor: the simulator's PLCs and pickers, a broker of its own, and controllers on
//! a database of its own; the demo.

use std::net::SocketAddr;
use std::path::Path;

use floorctl::config::{Broker, Config, PlcSpec};
use floorctl::controller::Controller;
use floorctl::demo::{self, shipped_map, CONVEYOR_MAP, SORTER_MAP};
use floorctl::store::Database;
use floorctl_protocol::map::PlcMap;
use floorctl_protocol::order::Order;
use floorsim::floor::FloorTiming;
use floorsim::{PickersConfig, SimConfig, Simulator};

/// Orders in the standard test order book.
pub const ORDERS: usize = 50;
const SITE: &str = "e2e";

pub fn fast_floor() -> FloorTiming {
    FloorTiming {
        zone_ms: 200,
        divert_window_ms: 600,
        recirculation_ms: 1000,
        induct_gap_ms: 150,
        chute_capacity: 1000,
        ..FloorTiming::default()
    }
}

/// A broker of the test's own, outliving controller restarts.
pub async fn broker() -> SocketAddr {
    let addr = floorctl_bench::fixtures::free_addr("127.0.0.1:0".parse().unwrap()).unwrap();
    floorctl::scanners::start_embedded(addr, None)
        .await
        .unwrap();
    addr
}

/// A simulated floor with its order book and database file.
pub struct Floor {
    pub sim: Simulator,
    pub broker: SocketAddr,
    pub orders: Vec<Order>,
    _dir: tempfile::TempDir,
    pub db: std::path::PathBuf,
    /// The database controllers on this floor use: the SQLite file `db` unless moved.
    pub database: Database,
    /// The sorter's register map, as the simulated PLC and the controller both read it.
    pub sorter_map: PlcMap,
}

impl Floor {
    /// A controller on this floor's database.
    pub async fn controller(&self) -> Controller {
        let mut c = config(self, &self.db);
        c.database = self.database.clone();
        Controller::start(c).await.unwrap()
    }

    /// A controller on this floor's database, handed the order book.
    pub async fn controller_with_orders(&self) -> Controller {
        let c = self.controller().await;
        for o in &self.orders {
            c.submit(o.clone()).await;
        }
        c
    }
}

/// A test floor to build: unless told otherwise, 50 orders, fast timing, six steady pickers,
/// the shipped sorter map and a broker of its own. `floor(seed).await` builds it.
pub fn floor(seed: u64) -> FloorBuilder {
    FloorBuilder {
        seed,
        orders: ORDERS,
        timing: fast_floor(),
        pickers: Box::new(|_| {}),
        sorter_map: shipped_map(SORTER_MAP),
        broker: None,
    }
}

/// What a test floor is made of; see [`floor`].
pub struct FloorBuilder {
    seed: u64,
    orders: usize,
    timing: FloorTiming,
    pickers: Box<dyn FnOnce(&mut PickersConfig)>,
    sorter_map: PlcMap,
    broker: Option<SocketAddr>,
}

impl FloorBuilder {
    /// Orders in the order book.
    pub fn orders(mut self, orders: usize) -> Self {
        self.orders = orders;
        self
    }

    /// The floor's timing.
    pub fn timing(mut self, timing: FloorTiming) -> Self {
        self.timing = timing;
        self
    }

    /// The pickers set up by `pickers` (mistakes, outages).
    pub fn pickers(mut self, pickers: impl FnOnce(&mut PickersConfig) + 'static) -> Self {
        self.pickers = Box::new(pickers);
        self
    }

    /// The sorter PLC running `map` (a watchdog of another length, say).
    pub fn sorter_map(mut self, map: PlcMap) -> Self {
        self.sorter_map = map;
        self
    }

    /// Pickers and controllers on the broker at `broker` (a Mosquitto, say).
    pub fn broker(mut self, broker: SocketAddr) -> Self {
        self.broker = Some(broker);
        self
    }

    /// Starts the simulated floor and its pickers.
    pub async fn build(self) -> Floor {
        build_floor(self).await
    }
}

impl std::future::IntoFuture for FloorBuilder {
    type Output = Floor;
    type IntoFuture = std::pin::Pin<Box<dyn std::future::Future<Output = Floor>>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(self.build())
    }
}

async fn build_floor(b: FloorBuilder) -> Floor {
    let FloorBuilder {
        seed,
        orders,
        timing,
        pickers,
        sorter_map,
        broker: broker_at,
    } = b;
    let broker = match broker_at {
        Some(b) => b,
        None => broker().await,
    };
    let mut sim = Simulator::start(SimConfig {
        conveyor_map: shipped_map(CONVEYOR_MAP),
        sorter_map: sorter_map.clone(),
        conveyor_listen: "127.0.0.1:0".parse().unwrap(),
        sorter_listen: "127.0.0.1:0".parse().unwrap(),
        timing,
    })
    .await
    .unwrap();
    let mut cfg = PickersConfig::steady(SITE, &broker.ip().to_string(), broker.port(), 6, 60, 60);
    pickers(&mut cfg);
    sim.start_pickers(&cfg);
    let cutoffs: Vec<String> = demo::layout().cutoffs.into_iter().map(|c| c.name).collect();
    let orders = floorsim::orders::generate(seed, orders, &cutoffs);
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("floorctl.db");
    Floor {
        sim,
        broker,
        orders,
        _dir: dir,
        database: db.clone().into(),
        db,
        sorter_map,
    }
}

pub fn config(f: &Floor, database: &Path) -> Config {
    let plc = |id: &str, address, map| PlcSpec::new(id, address, map);
    Config {
        site: SITE.into(),
        database: database.into(),
        broker: Broker::External {
            host: f.broker.ip().to_string(),
            port: f.broker.port(),
            credentials: None,
        },
        plcs: vec![
            plc("cv1", f.sim.conveyor_addr, shipped_map(CONVEYOR_MAP)),
            plc("sorter1", f.sim.sorter_addr, f.sorter_map.clone()),
        ],
        layout: demo::layout(),
        dashboard: Default::default(),
        network: None,
    }
}

/// A pick area holding every location the simulator's orders use: aisles A01 to A12, slots 1
/// to 17 every 1.2 m.
pub fn sim_pick_area() -> floorctl_protocol::routing::Warehouse {
    use floorctl_protocol::routing::{Pick, Warehouse};
    Warehouse {
        aisles: 12,
        aisle_length_m: 22.0,
        aisle_pitch_m: 3.0,
        cross_aisle_width_m: 2.0,
        depot_m: 0.0,
        slots: (1..=12u32)
            .flat_map(|aisle| {
                (1..=17u32).map(move |slot| {
                    let pick = Pick {
                        aisle,
                        position_m: f64::from(slot) * 1.2,
                    };
                    (format!("A{aisle:02}-{slot:02}"), pick)
                })
            })
            .collect(),
    }
}

/// A demo on its own database folder, every listener on a free port.
pub async fn demo(dir: &Path, orders: usize, pickers: usize) -> floorctl::demo::Demo {
    let any: SocketAddr = "127.0.0.1:0".parse().unwrap();
    floorctl::demo::Demo::start(&floorctl::demo::DemoOptions {
        orders,
        pickers,
        seed: 7,
        dir: dir.to_path_buf(),
        broker: any,
        dashboard: any,
        metrics: any,
        exit_when_sorted: false,
    })
    .await
    .unwrap()
}

/// A controller on `config` with its dashboard's listener (`config.dashboard.listen`, any free
/// port when unset), served until the token is cancelled.
pub async fn controller_with_dashboard(
    mut config: Config,
) -> (Controller, SocketAddr, tokio_util::sync::CancellationToken) {
    config
        .dashboard
        .listen
        .get_or_insert("127.0.0.1:0".parse().unwrap());
    let controller = Controller::start(config.clone()).await.unwrap();
    let cancel = tokio_util::sync::CancellationToken::new();
    let listening = floorctl::dashboard::start(&controller, &config, &cancel)
        .await
        .unwrap();
    (controller, listening.dashboard.unwrap(), cancel)
}

/// Makes a dashboard account on a running demo's database.
pub async fn account(controller: &Controller, name: &str, role: &str, password: &str) {
    let hash = floorctl::dashboard::auth::hash_password(password).unwrap();
    controller
        .store()
        .set_user(name, role, &hash, 0)
        .await
        .unwrap();
}

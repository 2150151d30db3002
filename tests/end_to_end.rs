//! The controller against the simulator over real sockets: Modbus TCP to the simulated PLCs,
//! MQTT through a real broker to virtual pickers, SQLite on disk.

use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use floorctl::config::{Broker, Config, PlcSpec};
use floorctl::controller::Controller;
use floorctl::core::{Event, SortOutcome};
use floorctl::demo::{self, shipped_map, CONVEYOR_MAP, SORTER_MAP};
use floorctl::store::Store;
use floorctl_protocol::order::Order;
use floorctl_protocol::scanner::UpBody;
use floorsim::floor::FloorTiming;
use floorsim::{PickersConfig, SimConfig, SimPlc, Simulator};

const ORDERS: usize = 50;
const SITE: &str = "e2e";

fn fast_floor() -> FloorTiming {
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
async fn broker() -> SocketAddr {
    let addr = demo::free_addr("127.0.0.1:0".parse().unwrap()).unwrap();
    floorctl::scanners::start_embedded(addr).await.unwrap();
    addr
}

struct Floor {
    sim: Simulator,
    broker: SocketAddr,
    orders: Vec<Order>,
    _dir: tempfile::TempDir,
    db: std::path::PathBuf,
}

impl Floor {
    /// A controller on this floor's database.
    async fn controller(&self) -> Controller {
        Controller::start(config(self, &self.db)).await.unwrap()
    }

    /// A controller on this floor's database, handed the order book.
    async fn controller_with_orders(&self) -> Controller {
        let c = self.controller().await;
        for o in &self.orders {
            c.submit(o.clone()).await;
        }
        c
    }
}

async fn floor(seed: u64) -> Floor {
    let broker = broker().await;
    let mut sim = Simulator::start(SimConfig {
        conveyor_map: shipped_map(CONVEYOR_MAP),
        sorter_map: shipped_map(SORTER_MAP),
        conveyor_listen: "127.0.0.1:0".parse().unwrap(),
        sorter_listen: "127.0.0.1:0".parse().unwrap(),
        timing: fast_floor(),
    })
    .await
    .unwrap();
    sim.start_pickers(&PickersConfig {
        site: SITE.into(),
        host: broker.ip().to_string(),
        port: broker.port(),
        count: 6,
        pick_ms: 60,
        deliver_ms: 60,
    });
    let cutoffs: Vec<String> = demo::layout().cutoffs.into_iter().map(|(c, _)| c).collect();
    let orders = floorsim::orders::generate(seed, ORDERS, &cutoffs);
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("floorctl.db");
    Floor {
        sim,
        broker,
        orders,
        _dir: dir,
        db,
    }
}

fn config(f: &Floor, database: &Path) -> Config {
    let plc = |id: &str, address, text| PlcSpec::new(id, address, shipped_map(text));
    Config {
        site: SITE.into(),
        database: database.to_path_buf(),
        broker: Broker::External {
            host: f.broker.ip().to_string(),
            port: f.broker.port(),
        },
        plcs: vec![
            plc("cv1", f.sim.conveyor_addr, CONVEYOR_MAP),
            plc("sorter1", f.sim.sorter_addr, SORTER_MAP),
        ],
        layout: demo::layout(),
    }
}

/// Waits until `sorted` orders are in their chutes, or fails after `limit`.
async fn wait_sorted(c: &Controller, sorted: usize, limit: Duration) {
    let mut summary = c.summary();
    let reached = tokio::time::timeout(limit, summary.wait_for(|s| s.sorted >= sorted))
        .await
        .is_ok_and(|r| r.is_ok());
    let now = summary.borrow().clone();
    assert!(
        reached,
        "only {} of {sorted} orders sorted within {limit:?}: {now:?}",
        now.sorted
    );
}

/// Every order's tote is in exactly one chute, of its cut-off's lane, on the floor and in the
/// database; the journal holds every event that got it there.
async fn assert_every_order_accounted_for(f: &Floor) {
    let store = Store::open(&f.db).await.unwrap();
    let totes = store.totes().await.unwrap();
    let journal = store.journal().await.unwrap();
    store.close().await;
    let layout = demo::layout();
    let cutoff_of: BTreeMap<&str, &str> = f
        .orders
        .iter()
        .map(|o| (o.id.as_str(), o.cutoff.as_str()))
        .collect();

    // On the floor: each tote in one chute, once.
    let physical: Vec<(u16, u32)> = f
        .sim
        .snapshot()
        .chutes
        .iter()
        .flat_map(|(c, ts)| ts.iter().map(move |t| (*c, *t)))
        .collect();
    let distinct: BTreeSet<u32> = physical.iter().map(|(_, t)| *t).collect();
    assert_eq!(
        physical.len(),
        distinct.len(),
        "a tote was sorted twice: {physical:?}"
    );
    assert_eq!(distinct.len(), ORDERS, "totes in chutes");

    // In the database: each order has one tote, sorted into the chute the floor shows, in its lane.
    let orders_with_totes: BTreeSet<&str> = totes.iter().map(|(_, o, _, _)| o.as_str()).collect();
    assert_eq!(
        orders_with_totes.len(),
        ORDERS,
        "each order picked into exactly one tote"
    );
    assert_eq!(totes.len(), ORDERS, "no extra totes");
    for (tote, order, status, chute) in &totes {
        assert_eq!(status, "sorted", "tote {tote} of {order}");
        let chute = chute.expect("sorted totes have a chute");
        assert!(
            physical.contains(&(chute, *tote)),
            "tote {tote}: database says chute {chute}, floor disagrees"
        );
        assert!(
            layout.in_lane(cutoff_of[order.as_str()], chute),
            "tote {tote} of {order} in chute {chute}, outside its lane"
        );
    }

    // In the journal: every order, every picked line, every tote's entry and sort.
    let mut received = BTreeSet::new();
    let mut picks = BTreeSet::new();
    let mut sorted = BTreeMap::new();
    for e in &journal {
        match &e.event {
            Event::OrderReceived { order } => {
                received.insert(order.id.clone());
            }
            Event::Scanner { msg, .. } => {
                if let UpBody::Pick { order, line, .. } = &msg.body {
                    picks.insert((order.clone(), *line));
                }
            }
            Event::SortConfirmed {
                tote,
                outcome: SortOutcome::Sorted,
                seq,
                ..
            } => {
                sorted
                    .entry(*tote)
                    .or_insert_with(BTreeSet::new)
                    .insert(*seq);
            }
            _ => {}
        }
    }
    assert_eq!(received.len(), ORDERS);
    let lines: usize = f.orders.iter().map(|o| o.lines.len()).sum();
    assert_eq!(
        picks.len(),
        lines,
        "every order line's pick confirmation is journalled"
    );
    assert_eq!(sorted.len(), ORDERS, "every tote's sort is journalled");
    assert!(
        sorted.values().all(|seqs| seqs.len() == 1),
        "a tote reported sorted under two sequence numbers"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_orders_over_two_cutoffs_each_reach_their_lane_once() {
    let f = floor(11).await;
    let controller = f.controller_with_orders().await;
    wait_sorted(&controller, ORDERS, Duration::from_secs(120)).await;
    controller.shutdown(Duration::from_secs(5)).await;
    assert_every_order_accounted_for(&f).await;
    f.sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_controller_stopped_mid_run_resumes_from_its_database_and_finishes() {
    let f = floor(12).await;
    let first = f.controller_with_orders().await;
    wait_sorted(&first, ORDERS / 3, Duration::from_secs(120)).await;
    first.shutdown(Duration::from_secs(5)).await;

    // The floor goes on without it: pickers publish, totes queue, the PLCs' watchdogs stop the line.
    let stale_since = std::time::Instant::now();
    while !f.sim.snapshot().stopped_by_watchdog {
        assert!(
            stale_since.elapsed() < Duration::from_secs(10),
            "the PLCs stop the line when the controller's heartbeat goes stale"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    let second = f.controller().await;
    let resumed = second.summary().borrow().clone();
    assert_eq!(
        resumed.orders, ORDERS,
        "orders rebuilt from the journal, not submitted again"
    );
    assert!(
        resumed.sorted >= ORDERS / 3,
        "progress rebuilt from the journal: {resumed:?}"
    );
    wait_sorted(&second, ORDERS, Duration::from_secs(120)).await;
    second.shutdown(Duration::from_secs(5)).await;
    assert_every_order_accounted_for(&f).await;
    f.sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sorter_plc_that_drops_off_the_network_is_reconnected_and_nothing_is_lost() {
    let mut f = floor(13).await;
    let controller = f.controller_with_orders().await;
    wait_sorted(&controller, ORDERS / 4, Duration::from_secs(120)).await;
    f.sim
        .cut(SimPlc::Sorter, Duration::from_secs(2))
        .await
        .unwrap();
    wait_sorted(&controller, ORDERS, Duration::from_secs(120)).await;
    controller.shutdown(Duration::from_secs(5)).await;
    assert_every_order_accounted_for(&f).await;

    let store = Store::open(&f.db).await.unwrap();
    let links: Vec<bool> = store
        .journal()
        .await
        .unwrap()
        .into_iter()
        .filter_map(|e| match e.event {
            Event::PlcLink { plc, up, .. } if plc == "sorter1" => Some(up),
            _ => None,
        })
        .collect();
    assert_eq!(
        links,
        vec![true, false, true],
        "link up, lost during the outage, up again"
    );
    f.sim.shutdown().await;
}

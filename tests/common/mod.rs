//! The test floor: the simulator's PLCs and pickers, a broker of its own, a controller on a
//! database of its own, and the checks that every order is accounted for.

#![allow(dead_code, unreachable_pub)]

pub mod cdp;
pub mod http;
pub mod process;

use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use floorctl::config::{Broker, Config, PlcSpec};
use floorctl::controller::Controller;
use floorctl::demo::{self, shipped_map, CONVEYOR_MAP, SORTER_MAP};
use floorctl::store::{Database, Store};
use floorctl_core::{Event, SortOutcome, Summary};
use floorctl_protocol::map::PlcMap;
use floorctl_protocol::order::Order;
use floorctl_protocol::scanner::UpBody;
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

/// The standard floor: 50 orders, fast timing.
pub async fn floor(seed: u64) -> Floor {
    floor_with(seed, ORDERS, fast_floor()).await
}

/// A floor with `orders` orders and the given timing.
pub async fn floor_with(seed: u64, orders: usize, timing: FloorTiming) -> Floor {
    floor_with_pickers(seed, orders, timing, |_| {}).await
}

/// A floor whose pickers are set up by `pickers` (mistakes, outages).
pub async fn floor_with_pickers(
    seed: u64,
    orders: usize,
    timing: FloorTiming,
    pickers: impl FnOnce(&mut PickersConfig),
) -> Floor {
    build_floor(seed, orders, timing, pickers, shipped_map(SORTER_MAP), None).await
}

/// A floor whose sorter PLC runs `sorter_map` (a watchdog of another length, say).
pub async fn floor_with_sorter_map(
    seed: u64,
    orders: usize,
    timing: FloorTiming,
    sorter_map: PlcMap,
) -> Floor {
    build_floor(seed, orders, timing, |_| {}, sorter_map, None).await
}

/// A floor whose pickers and controllers use the broker at `broker` (a Mosquitto, say).
pub async fn floor_on_broker(seed: u64, orders: usize, broker: SocketAddr) -> Floor {
    build_floor(
        seed,
        orders,
        fast_floor(),
        |_| {},
        shipped_map(SORTER_MAP),
        Some(broker),
    )
    .await
}

async fn build_floor(
    seed: u64,
    orders: usize,
    timing: FloorTiming,
    pickers: impl FnOnce(&mut PickersConfig),
    sorter_map: PlcMap,
    broker_at: Option<SocketAddr>,
) -> Floor {
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

/// Waits until `sorted` orders are in their chutes, or fails after `limit`.
pub async fn wait_sorted(c: &Controller, sorted: usize, limit: Duration) {
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

/// Every order's totes (one, or more when one filled up) are each in exactly one chute, of its
/// cut-off's lane, on the floor and in the database; the journal holds every event that got
/// them there.
pub async fn assert_every_order_accounted_for(f: &Floor) {
    let store = Store::connect(&f.database).await.unwrap();
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
    assert_eq!(distinct.len(), totes.len(), "every tote in a chute");

    // In the database: each order has its totes, sorted into the chutes the floor shows, in its
    // lane.
    let orders_with_totes: BTreeSet<&str> = totes
        .iter()
        .map(|(_, o, _, _)| o.as_str())
        .filter(|o| cutoff_of.contains_key(o))
        .collect();
    assert_eq!(
        orders_with_totes.len(),
        f.orders.len(),
        "each order picked into its totes"
    );
    for (tote, order, status, chute) in &totes {
        assert_eq!(status, "sorted", "tote {tote} of {order}");
        let chute = chute.expect("sorted totes have a chute");
        assert!(
            physical.contains(&(chute, *tote)),
            "tote {tote}: database says chute {chute}, floor disagrees"
        );
        // A tote in from the DC carries a transfer order, not a customer's.
        if let Some(cutoff) = cutoff_of.get(order.as_str()) {
            assert!(
                layout.in_lane(cutoff, chute),
                "tote {tote} of {order} in chute {chute}, outside its lane"
            );
        } else {
            assert!(
                order.starts_with("transfer "),
                "tote {tote} of unknown {order}"
            );
        }
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
            Event::Scanner { msg, .. } => match &msg.body {
                UpBody::Pick { order, line, .. } | UpBody::Short { order, line, .. } => {
                    picks.insert((order.clone(), *line));
                }
                _ => {}
            },
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
    assert_eq!(received.len(), f.orders.len());
    for o in &f.orders {
        for line in 0..o.lines.len() as u32 {
            assert!(
                picks.contains(&(o.id.clone(), line)),
                "order {} line {line}: its pick or short confirmation is journalled",
                o.id
            );
        }
    }
    assert_eq!(sorted.len(), totes.len(), "every tote's sort is journalled");
    assert!(
        sorted.values().all(|seqs| seqs.len() == 1),
        "a tote reported sorted under two sequence numbers"
    );
}

/// Waits until `check` holds for the controller's summary, or fails with `what` after `limit`.
pub async fn wait_for(
    c: &Controller,
    what: &str,
    limit: Duration,
    check: impl Fn(&Summary) -> bool,
) -> Summary {
    let mut summary = c.summary();
    let reached = tokio::time::timeout(limit, summary.wait_for(|s| check(s)))
        .await
        .is_ok_and(|r| r.is_ok());
    let now = summary.borrow().clone();
    assert!(reached, "{what} not seen within {limit:?}: {now:?}");
    now
}

/// The journalled events.
pub async fn journal(f: &Floor) -> Vec<Event> {
    journal_at(&f.db).await
}

/// The events journalled in a database file.
pub async fn journal_at(db: &Path) -> Vec<Event> {
    timed_journal_at(db)
        .await
        .into_iter()
        .map(|(_, e)| e)
        .collect()
}

/// The events journalled in a database file, each with the time it was journalled.
pub async fn timed_journal_at(db: &Path) -> Vec<(u64, Event)> {
    let store = Store::open(db).await.unwrap();
    let j = store.journal().await.unwrap();
    store.close().await;
    j.into_iter().map(|e| (e.at, e.event)).collect()
}

/// The state the controller saved when it stopped equals, byte for byte, the state rebuilt by
/// replaying its whole journal from nothing, and survives being read back.
pub async fn assert_replay_reproduces_state(database: &Database) {
    let store = Store::connect(database).await.unwrap();
    let (seq, saved) = store
        .latest_snapshot()
        .await
        .unwrap()
        .expect("a stopped controller leaves a snapshot");
    let journal = store.journal().await.unwrap();
    store.close().await;
    assert_eq!(
        journal.last().unwrap().seq,
        seq,
        "the last snapshot covers the journal"
    );
    let layout = demo::layout();
    let mut replayed = floorctl_core::Core::new(layout.clone());
    for e in &journal {
        replayed.handle(&e.event, e.at);
    }
    let bytes = replayed.snapshot();
    assert_eq!(bytes.len(), saved.len(), "replayed state size");
    assert!(
        bytes == saved,
        "replaying the journal gives other state bytes"
    );
    let restored = floorctl_core::Core::restore(layout, &saved).unwrap();
    assert!(
        restored.snapshot() == saved,
        "a restored snapshot gives the same bytes"
    );
}

/// A new schema of its own on the test PostgreSQL server (`FLOORCTL_TEST_POSTGRES`), or `None`
/// (skipped, saying why) when none is given outside CI.
pub async fn postgres(prefix: &str) -> Option<Database> {
    let url = peer("FLOORCTL_TEST_POSTGRES", "PostgreSQL (a postgres:// URL)")?;
    Some(floorctl::store::fresh_schema(&url, prefix).await.unwrap())
}

/// The path or address of a peer tool from `var`. Unset: the test is skipped with a printed
/// reason, unless `CI` is set, where a missing peer is a failure.
pub fn peer(var: &str, what: &str) -> Option<String> {
    match std::env::var(var) {
        Ok(v) if !v.is_empty() => Some(v),
        _ if std::env::var_os("CI").is_some() => {
            panic!("{var} is not set: CI must provide {what} (see .ci/run)")
        }
        _ => {
            // Written to the process's stderr directly, past the test harness's capture, so the
            // reason shows in a passing run.
            use std::io::Write;
            let _ = writeln!(
                std::io::stderr(),
                "skipped: set {var} to run this test against {what}"
            );
            None
        }
    }
}

/// Checks a payload the controller sent on a handheld's `down/{kind}` topic against the
/// protocol's JSON Schema (docs/schemas).
pub fn assert_matches_schema(kind: &str, payload: &[u8]) {
    let path = format!(
        "{}/docs/schemas/down.{kind}.schema.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let schema: serde_json::Value = serde_json::from_str(&text).unwrap();
    let v = jsonschema::validator_for(&schema).unwrap_or_else(|e| panic!("{path}: {e}"));
    let instance: serde_json::Value =
        serde_json::from_slice(payload).unwrap_or_else(|e| panic!("down/{kind} is not JSON: {e}"));
    let errors: Vec<String> = v.iter_errors(&instance).map(|e| e.to_string()).collect();
    assert!(errors.is_empty(), "down/{kind}: {instance} — {errors:?}");
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

/// Makes a dashboard account on a running demo's database.
pub async fn account(controller: &Controller, name: &str, role: &str, password: &str) {
    let hash = floorctl::dashboard::auth::hash_password(password).unwrap();
    controller
        .store()
        .set_user(name, role, &hash, 0)
        .await
        .unwrap();
}

/// Waits until the summary satisfies `done`, failing after `secs` seconds with `what`.
pub async fn until_summary(
    controller: &Controller,
    secs: u64,
    what: &str,
    done: impl Fn(&Summary) -> bool,
) -> Summary {
    let mut rx = controller.summary();
    tokio::time::timeout(Duration::from_secs(secs), async {
        loop {
            let s = rx.borrow_and_update().clone();
            if done(&s) {
                return s;
            }
            rx.changed().await.unwrap();
        }
    })
    .await
    .unwrap_or_else(|_| panic!("not within {secs} s: {what}"))
}

/// Units received at each (SKU, location) the order book picks from: plenty for the day.
pub fn receipts(orders: &[Order]) -> BTreeMap<(String, String), u32> {
    orders
        .iter()
        .flat_map(|o| &o.lines)
        .map(|l| ((l.sku.clone(), l.location.clone()), 10_000))
        .collect()
}

/// Books each receipt through a controller on the floor's database.
pub async fn receive_stock(f: &Floor, received: &BTreeMap<(String, String), u32>) {
    let c = f.controller().await;
    for ((sku, location), qty) in received {
        assert!(
            c.stock(sku, location, *qty).await,
            "stock of {sku} journalled"
        );
    }
    c.shutdown(Duration::from_secs(5)).await;
}

/// The inventory balances in the state the controller saved last: for every SKU and location,
/// units received − units picked there (the orders' picked lines) = units on hand.
pub async fn assert_inventory_balances(
    database: &Database,
    received: &BTreeMap<(String, String), u32>,
) {
    let store = Store::connect(database).await.unwrap();
    let (_, saved) = store.latest_snapshot().await.unwrap().expect("a snapshot");
    store.close().await;
    let state: serde_json::Value = serde_json::from_slice(&saved).unwrap();
    let mut picked: BTreeMap<(String, String), u64> = BTreeMap::new();
    let orders = state["orders"].as_object().expect("orders in the state");
    for o in orders.values() {
        let lines = o["order"]["lines"].as_array().expect("lines");
        for (line, qty) in lines.iter().zip(o["picked"].as_array().expect("picked")) {
            let key = (
                line["sku"].as_str().unwrap().to_string(),
                line["location"].as_str().unwrap().to_string(),
            );
            *picked.entry(key).or_default() += qty.as_u64().unwrap_or(0);
        }
    }
    assert!(picked.values().sum::<u64>() > 0, "nothing was picked");
    for ((sku, location), got) in received {
        let taken = picked
            .get(&(sku.clone(), location.clone()))
            .copied()
            .unwrap_or(0);
        let on_hand = state["stock"][sku][location].as_u64();
        assert_eq!(
            on_hand,
            Some(u64::from(*got) - taken),
            "{sku} at {location}: received {got}, picked {taken}"
        );
    }
}

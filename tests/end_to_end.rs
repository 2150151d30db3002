//! The controller against the simulator over real sockets: Modbus TCP to the simulated PLCs,
//! MQTT through a real broker to virtual pickers, SQLite on disk (and PostgreSQL).

mod common;

use std::time::Duration;

use common::{assert_every_order_accounted_for, floor, wait_sorted, ORDERS};
use floorctl::store::Store;
use floorctl_core::Event;
use floorsim::SimPlc;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_orders_over_two_cutoffs_each_reach_their_lane_once() {
    let f = floor(11).await;
    let controller = f.controller_with_orders().await;
    wait_sorted(&controller, ORDERS, Duration::from_secs(120)).await;
    controller.shutdown(Duration::from_secs(5)).await;
    assert_every_order_accounted_for(&f).await;
    common::assert_replay_reproduces_state(&f.database).await;
    f.sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_controller_stopped_mid_run_resumes_from_its_database_and_finishes() {
    resumes_and_finishes(floor(12).await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_postgresql_a_controller_stopped_mid_run_resumes_and_finishes() {
    let Some(database) = common::postgres("e2e").await else {
        return;
    };
    let mut f = floor(14).await;
    f.database = database;
    resumes_and_finishes(f).await;
}

async fn resumes_and_finishes(f: common::Floor) {
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
    // The second controller started from the first one's snapshot plus the journal's tail.
    common::assert_replay_reproduces_state(&f.database).await;
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_controller_on_the_same_sqlite_file_is_refused_while_the_first_runs() {
    let f = floor(13).await;
    let first = f.controller().await;
    let refused = floorctl::controller::Controller::start(common::config(&f, &f.db))
        .await
        .expect_err("a second controller on the same database is refused");
    let text = refused.to_string();
    assert!(
        text.contains("another floorctl") && text.contains(&f.db.display().to_string()),
        "{text}"
    );
    first.shutdown(Duration::from_secs(5)).await;
    // Stopped, the first leaves the database to the next.
    let again = f.controller().await;
    again.shutdown(Duration::from_secs(5)).await;
    f.sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn orders_handed_again_after_a_restart_are_not_journalled_again() {
    let f = floor(14).await;
    let first = f.controller_with_orders().await;
    wait_sorted(&first, 3, Duration::from_secs(60)).await;
    first.shutdown(Duration::from_secs(5)).await;
    // `floorctl run --orders` hands the whole file to every start.
    let again = f.controller().await;
    for o in &f.orders {
        assert!(again.submit_journalled(o.clone()).await);
    }
    again.shutdown(Duration::from_secs(5)).await;
    let received = common::journal_at(&f.db)
        .await
        .iter()
        .filter(|e| matches!(e, Event::OrderReceived { .. }))
        .count();
    assert_eq!(received, ORDERS, "each order journalled once");
    f.sim.shutdown().await;
}

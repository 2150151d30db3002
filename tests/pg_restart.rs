//! The PostgreSQL server itself restarted twice mid-day under a running controller. A test binary
//! of its own: cargo runs test binaries one after another, so no other test is using the server
//! while it is down.

mod common;

use std::time::{Duration, Instant};

use common::{
    assert_every_order_accounted_for, assert_replay_reproduces_state, floor, wait_sorted,
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgresql_restarted_twice_mid_day_loses_and_repeats_nothing() {
    let Some(restart) = common::peer(
        "FLOORCTL_TEST_PG_RESTART",
        "a shell command restarting the PostgreSQL server of FLOORCTL_TEST_POSTGRES \
         (pg_ctlcluster 15 main restart)",
    ) else {
        return;
    };
    let Some(database) = common::postgres("restart").await else {
        return;
    };
    let mut f = floor(44).await;
    f.database = database;
    let controller = f.controller_with_orders().await;
    let mut outages = Vec::new();
    for at in [10, 30] {
        wait_sorted(&controller, at, Duration::from_secs(120)).await;
        let before = controller.summary().borrow().sorted;
        let down = Instant::now();
        let status = std::process::Command::new("sh")
            .args(["-c", &restart])
            .status()
            .unwrap();
        assert!(status.success(), "`{restart}` failed");
        outages.push((down.elapsed(), before, controller.summary().borrow().sorted));
    }
    wait_sorted(&controller, common::ORDERS, Duration::from_secs(180)).await;
    println!("server restarted (taking, orders sorted before, and when it was back): {outages:?}");
    controller.shutdown(Duration::from_secs(5)).await;
    assert_every_order_accounted_for(&f).await;
    assert_replay_reproduces_state(&f.database).await;
    f.sim.shutdown().await;
}

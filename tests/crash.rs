//! The controller as a real process, killed with SIGKILL at random points of a running day in
//! the simulator, several times, then left to finish: every order ends sorted once, every tote
//! is in one chute once, the stock balances (received − picked = on hand, per SKU and location),
//! and the state it saved is the journal's, on SQLite and PostgreSQL.

mod common;

use std::process::Command;
use std::time::{Duration, Instant};

use common::process::{orders_csv, site_file, sorted, start};
use common::{assert_every_order_accounted_for, assert_replay_reproduces_state, floor, Floor};
use floorctl::store::Database;
use rand::{Rng, SeedableRng};

async fn killed_again_and_again(
    mut f: Floor,
    database: Database,
    text: &str,
    seed: u64,
    embedded: bool,
) {
    f.database = database.clone();
    let received = common::receipts(&f.orders);
    common::receive_stock(&f, &received).await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("site.toml"),
        site_file(&f, text, embedded, ""),
    )
    .unwrap();
    std::fs::write(dir.path().join("orders.csv"), orders_csv(&f)).unwrap();
    let mut rng = rand::rngs::SmallRng::seed_from_u64(seed);
    let mut kills = Vec::new();
    for _ in 0..4 {
        let mut child = start(dir.path());
        let after = Duration::from_millis(rng.gen_range(1_500..5_000));
        tokio::time::sleep(after).await;
        assert!(
            child.try_wait().unwrap().is_none(),
            "the controller died by itself"
        );
        child.kill().unwrap(); // SIGKILL: no shutdown, no last snapshot
        child.wait().unwrap();
        kills.push((after, sorted(&database).await));
    }
    println!("killed after (run time, orders sorted so far): {kills:?}");
    let mut last = start(dir.path());
    let since = Instant::now();
    // Stopped while still starting, a controller dies by the signal's default action (nothing
    // is lost, but it is not the clean stop checked below): let it start first.
    tokio::time::sleep(Duration::from_secs(3)).await;
    while sorted(&database).await < f.orders.len() {
        assert!(
            since.elapsed() < Duration::from_secs(180),
            "only {} of {} orders sorted after the kills",
            sorted(&database).await,
            f.orders.len()
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let term = Command::new("kill")
        .args(["-TERM", &last.id().to_string()])
        .status()
        .unwrap();
    assert!(term.success());
    assert!(last.wait().unwrap().success(), "a clean stop after the day");
    assert_every_order_accounted_for(&f).await;
    assert_replay_reproduces_state(&f.database).await;
    common::assert_inventory_balances(&f.database, &received).await;
    f.sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_killed_four_times_loses_and_repeats_nothing() {
    let f = floor(31).await;
    let db = f.db.clone();
    let text = db.display().to_string();
    killed_again_and_again(f, Database::Sqlite(db), &text, 31, false).await;
}

// The broker the handhelds use is the controller's embedded one: each kill takes it down with
// every session in it, mid-task, and the handhelds find the next one when it starts.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_its_embedded_broker_killed_four_times_loses_and_repeats_nothing() {
    let addr = floorctl_bench::fixtures::free_addr("127.0.0.1:0".parse().unwrap()).unwrap();
    let f = common::floor(33).broker(addr).await;
    let db = f.db.clone();
    let text = db.display().to_string();
    killed_again_and_again(f, Database::Sqlite(db), &text, 33, true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgresql_killed_four_times_loses_and_repeats_nothing() {
    let Some(database) = common::postgres("crash").await else {
        return;
    };
    let Database::Postgres(url) = &database else {
        unreachable!()
    };
    let url = url.clone();
    killed_again_and_again(floor(32).await, database, &url, 32, false).await;
}

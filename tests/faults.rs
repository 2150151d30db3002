//! Faults around the controller that its adapters must ride out: here, the database going away
//! under it mid-day, a lossy PLC link and the MQTT broker restarted. (PLC drop-outs, exceptions and impossible values are in plc_link.rs,
//! malformed and repeated handheld messages in handhelds.rs, kills in crash.rs.)

mod common;

use std::time::Duration;

use common::{
    assert_every_order_accounted_for, assert_replay_reproduces_state, floor, wait_sorted,
};
use sqlx::Connection;

/// Ends every other session on the test server's database, as a server restart would.
async fn drop_connections(url: &str) -> u64 {
    sqlx::any::install_default_drivers();
    let mut conn = sqlx::AnyConnection::connect(url).await.unwrap();
    let ended: Vec<bool> = sqlx::query_scalar(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
         WHERE datname = current_database() AND pid <> pg_backend_pid()",
    )
    .fetch_all(&mut conn)
    .await
    .unwrap();
    conn.close().await.unwrap();
    ended.into_iter().filter(|e| *e).count() as u64
}

/// Holds the journal locked for `hold`, as a database that stops answering writes would.
async fn lock_journal(url: &str, schema: &str, hold: Duration) {
    let mut conn = sqlx::AnyConnection::connect(url).await.unwrap();
    let mut tx = conn.begin().await.unwrap();
    sqlx::query(&format!(
        "LOCK TABLE \"{schema}\".journal IN ACCESS EXCLUSIVE MODE"
    ))
    .execute(&mut *tx)
    .await
    .unwrap();
    tokio::time::sleep(hold).await;
    tx.commit().await.unwrap();
    conn.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_postgresql_sessions_ended_mid_day_are_reopened_and_nothing_is_lost() {
    let Some(database) = common::postgres("faults").await else {
        return;
    };
    let url = std::env::var("FLOORCTL_TEST_POSTGRES").unwrap();
    let mut f = floor(41).await;
    f.database = database;
    let controller = f.controller_with_orders().await;
    let mut ended = Vec::new();
    for share in [5, 3, 2] {
        wait_sorted(
            &controller,
            common::ORDERS / share,
            Duration::from_secs(120),
        )
        .await;
        ended.push(drop_connections(&url).await);
    }
    println!("sessions ended at each of three points: {ended:?}");
    assert!(
        ended.iter().all(|n| *n > 0),
        "the controller's sessions were ended"
    );
    // The journal refuses writes for 3 s: the controller holds (nothing is acted on unjournalled)
    // and carries on when it answers again.
    let floorctl::store::Database::Postgres(db_url) = &f.database else {
        unreachable!()
    };
    let schema = db_url.rsplit('=').next().unwrap().to_string();
    let before = controller.summary().borrow().sorted;
    let stalled = std::time::Instant::now();
    lock_journal(&url, &schema, Duration::from_secs(3)).await;
    let during = controller.summary().borrow().sorted;
    println!(
        "journal locked {:?}: orders sorted {before} before, {during} when it was released",
        stalled.elapsed()
    );
    assert!(
        during <= before + 1,
        "nothing moves while nothing can be journalled"
    );
    wait_sorted(&controller, common::ORDERS, Duration::from_secs(120)).await;
    controller.shutdown(Duration::from_secs(5)).await;
    assert_every_order_accounted_for(&f).await;
    assert_replay_reproduces_state(&f.database).await;
    f.sim.shutdown().await;
}

// Through this proxy every request and every answer waits 200 ms and one in ten is lost for
// good: a lost one is sent again after the answer timeout, and the link is declared down only
// when the retries are spent too. A poll cycle then takes seconds, so the sorter's watchdog on
// the controller's heartbeat is set to 10 s, as it must be on such a link (with the shipped
// 1 s the PLC stops itself, and the controller raises an alarm saying so).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sorter_link_with_200_ms_latency_and_10_percent_lost_segments_sorts_every_tote_once() {
    let Some(faulty) = common::peer("FAULTY", "the faulty TCP chaos proxy (pip install faulty)")
    else {
        return;
    };
    // A poll cycle over this link takes three seconds and more (five requests of 400 ms, and a
    // lost one costs the 1 s answer timeout), and a tote needs a cycle to be seen and three
    // requests to be diverted and confirmed: this sorter inducts one tote every 6 s (its induct
    // register holds only the last tote read) and reaches the divert point 15 s after.
    let timing = floorsim::floor::FloorTiming {
        induct_gap_ms: 6_000,
        divert_window_ms: 15_000,
        ..common::fast_floor()
    };
    let mut sorter_map = floorctl::demo::shipped_map(floorctl::demo::SORTER_MAP);
    sorter_map.handshakes.heartbeat.stale_after_ms = 10_000;
    let f = common::floor(42)
        .orders(12)
        .timing(timing)
        .sorter_map(sorter_map)
        .await;
    let proxy = floorctl_bench::fixtures::free_addr("127.0.0.1:0".parse().unwrap()).unwrap();
    let mut chaos = tokio::process::Command::new(&faulty)
        .arg(proxy.to_string())
        .arg(f.sim.sorter_addr.to_string())
        .args(["--delay", "200", "--drop", "0.1"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let up = std::time::Instant::now();
    while tokio::net::TcpStream::connect(proxy).await.is_err() {
        assert!(
            up.elapsed() < Duration::from_secs(20),
            "faulty did not listen"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let mut config = common::config(&f, &f.db);
    config.plcs[1].address = proxy;
    let controller = floorctl::controller::Controller::start(config)
        .await
        .unwrap();
    for o in &f.orders {
        controller.submit(o.clone()).await;
    }
    wait_sorted(&controller, f.orders.len(), Duration::from_secs(240)).await;
    let s = controller.summary().borrow().clone();
    let sorter = controller.plc_status()["sorter1"].clone();
    println!(
        "through the chaos proxy: {} orders sorted, {} recirculations, {} requests sent again, \
         sorter link lost {} times",
        s.sorted, s.recirculations, sorter.requests_resent, sorter.links_lost
    );
    assert!(
        sorter.requests_resent > 0,
        "the proxy lost nothing: the test did not test retries"
    );
    controller.shutdown(Duration::from_secs(5)).await;
    let _ = chaos.kill().await;
    assert_every_order_accounted_for(&f).await;
    f.sim.shutdown().await;
}

/// A Mosquitto of the test's own on `port`, without persistence: a restart forgets every session.
fn mosquitto(bin: &str, port: u16) -> std::process::Child {
    std::process::Command::new(bin)
        .args(["-p", &port.to_string()])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap()
}

async fn listening(addr: std::net::SocketAddr) {
    let since = std::time::Instant::now();
    while tokio::net::TcpStream::connect(addr).await.is_err() {
        assert!(
            since.elapsed() < Duration::from_secs(10),
            "nothing on {addr}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

// The broker is killed twice mid-day, with handhelds mid-pick, and comes back empty (no
// persistence): the controller and the handhelds reconnect, subscribe again and re-send what
// the broker had not acknowledged; nothing is lost or done twice.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mosquitto_restarted_twice_mid_day_loses_and_repeats_nothing() {
    let Some(bin) = common::peer(
        "MOSQUITTO",
        "the mosquitto broker (Debian package mosquitto)",
    ) else {
        return;
    };
    let addr = floorctl_bench::fixtures::free_addr("127.0.0.1:0".parse().unwrap()).unwrap();
    let mut broker = mosquitto(&bin, addr.port());
    listening(addr).await;
    let f = common::floor(43).broker(addr).await;
    let controller = f.controller_with_orders().await;
    let mut sorted_at_restart = Vec::new();
    for at in [5, 25] {
        wait_sorted(&controller, at, Duration::from_secs(120)).await;
        broker.kill().unwrap();
        broker.wait().unwrap();
        sorted_at_restart.push(controller.summary().borrow().sorted);
        tokio::time::sleep(Duration::from_secs(2)).await;
        broker = mosquitto(&bin, addr.port());
        listening(addr).await;
    }
    wait_sorted(&controller, common::ORDERS, Duration::from_secs(180)).await;
    println!("broker killed and restarted with orders sorted at {sorted_at_restart:?}");
    controller.shutdown(Duration::from_secs(5)).await;
    let _ = broker.kill();
    assert_every_order_accounted_for(&f).await;
    assert_replay_reproduces_state(&f.database).await;
    f.sim.shutdown().await;
}

/// Opens up to `n` connections to `addr` from the loopback address `from` and keeps them.
async fn hold_connections(
    from: std::net::IpAddr,
    addr: std::net::SocketAddr,
    n: usize,
) -> Vec<tokio::net::TcpStream> {
    let mut held = Vec::with_capacity(n);
    for _ in 0..n {
        let socket = tokio::net::TcpSocket::new_v4().unwrap();
        socket.bind(std::net::SocketAddr::new(from, 0)).unwrap();
        if let Ok(s) = socket.connect(addr).await {
            held.push(s);
        }
    }
    held
}

/// How many of `held` the far end still keeps open (a closed one reads end of stream).
async fn still_open(held: &mut [tokio::net::TcpStream]) -> usize {
    use tokio::io::AsyncReadExt;
    let mut open = 0;
    for s in held.iter_mut() {
        let mut buf = [0u8; 64];
        match tokio::time::timeout(Duration::from_millis(5), s.read(&mut buf)).await {
            Err(_) => open += 1,
            Ok(Ok(n)) if n > 0 => open += 1,
            Ok(_) => {}
        }
    }
    open
}

// Thousands of idle connections opened on the dashboard and on the MQTT gateway while a day
// runs: each listener keeps only its share, the rest are closed at once, the dashboard still
// answers a user from elsewhere and every order is sorted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_of_connections_on_every_listener_leaves_the_floor_sorting() {
    let f = floor(46).await;
    let (controller, web, cancel) =
        common::controller_with_dashboard(common::config(&f, &f.db)).await;
    for o in &f.orders {
        controller.submit(o.clone()).await;
    }
    wait_sorted(&controller, 5, Duration::from_secs(120)).await;

    let attacker: std::net::IpAddr = "127.0.0.77".parse().unwrap();
    let mut on_dashboard = hold_connections(attacker, web, 2_000).await;
    let mut on_broker = hold_connections(attacker, f.broker, 2_000).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let (dashboard_open, broker_open) = (
        still_open(&mut on_dashboard).await,
        still_open(&mut on_broker).await,
    );
    println!(
        "of 2,000 connections each, the dashboard keeps {dashboard_open}, the MQTT gateway {broker_open}"
    );
    assert!(dashboard_open <= floorctl::dashboard::MAX_CONNECTIONS_PER_PEER);
    assert!(broker_open <= 64, "{broker_open} not logged in kept");
    let r = common::http::request(web, "GET", "/login", &[], "").await;
    assert_eq!(r.status, 200, "the dashboard answers another address");

    wait_sorted(&controller, common::ORDERS, Duration::from_secs(180)).await;
    drop(on_dashboard);
    drop(on_broker);
    cancel.cancel();
    controller.shutdown(Duration::from_secs(5)).await;
    assert_every_order_accounted_for(&f).await;
    f.sim.shutdown().await;
}

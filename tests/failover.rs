//! A site of a network on PostgreSQL with an owner and a standby, as real processes: the owner
//! is SIGKILLed mid-wave and the standby takes the site over within 10 s and goes on with the
//! wave; the new owner is then frozen (SIGSTOP) until the restarted first instance takes over,
//! and when it wakes up it writes nothing and stops. Every order ends sorted once, the journal's
//! entries were written under lease tokens that never go back, the stock balances and the state
//! is the journal's.

mod common;

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::process::{orders_csv, site_file, sorted};
use common::{assert_every_order_accounted_for, assert_replay_reproduces_state, floor};
use floorctl::store::{Database, Store};

/// `floorctl run` on the site, its log in `log`.
fn start(dir: &Path, log: &str) -> Child {
    let file = std::fs::File::create(dir.join(log)).unwrap();
    Command::new(env!("CARGO_BIN_EXE_floorctl"))
        .args(["run", "--config"])
        .arg(dir.join("site.toml"))
        .arg("--orders")
        .arg(dir.join("orders.csv"))
        .env("RUST_LOG", "info")
        .stdout(Stdio::null())
        .stderr(file)
        .spawn()
        .unwrap()
}

fn signal(child: &Child, sig: &str) {
    let ok = Command::new("kill")
        .args([sig, &child.id().to_string()])
        .status()
        .unwrap();
    assert!(ok.success(), "kill {sig}");
}

/// The site's lease token and owner, as the network sees them.
async fn owner(network: &Store) -> Option<(i64, String)> {
    let sites = network.sites().await.ok()?;
    sites
        .into_iter()
        .find(|s| s.site == "e2e" && s.lease_left_ms > 0)
        .map(|s| (s.token, s.owner))
}

async fn wait_sorted(database: &Database, n: usize, secs: u64) {
    let since = Instant::now();
    while sorted(database).await < n {
        assert!(
            since.elapsed() < Duration::from_secs(secs),
            "{} of {n} orders sorted after {secs} s",
            sorted(database).await
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Waits for the lease to pass to a token above `token`; returns how long that took.
async fn wait_takeover(network: &Store, token: i64, since: Instant) -> (Duration, i64, String) {
    loop {
        if let Some((t, who)) = owner(network).await {
            if t > token {
                return (since.elapsed(), t, who);
            }
        }
        assert!(
            since.elapsed() < Duration::from_secs(30),
            "no standby took the site over within 30 s"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_standby_takes_over_a_killed_owner_mid_wave_and_a_stale_owner_cannot_write() {
    let Some(url) = common::peer("FLOORCTL_TEST_POSTGRES", "PostgreSQL (a postgres:// URL)") else {
        return;
    };
    let schema = format!("fo_{:012x}", rand::random::<u64>() >> 16);
    let site_db = Database::Postgres(format!("{url}?options[search_path]={schema}_e2e"));
    let mut f = floor(41).await;
    // The site's tables are made (and the stock booked) as the instances will find them.
    let network = Store::connect_site(&Database::Postgres(url.clone()), &schema, "e2e")
        .await
        .unwrap();
    f.database = site_db.clone();
    let received = common::receipts(&f.orders);
    common::receive_stock(&f, &received).await;

    let dir = tempfile::tempdir().unwrap();
    let more = format!("\n[network]\nschema = \"{schema}\"\n");
    std::fs::write(
        dir.path().join("site.toml"),
        site_file(&f, &url, false, &more),
    )
    .unwrap();
    std::fs::write(dir.path().join("orders.csv"), orders_csv(&f)).unwrap();

    let mut first = start(dir.path(), "first.log");
    let (token1, owner1) = loop {
        if let Some(o) = owner(&network).await {
            break o;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(owner1.ends_with(&format!("/{}", first.id())), "{owner1}");
    let mut second = start(dir.path(), "second.log");

    // Mid-wave: the owner dies without a word.
    wait_sorted(&site_db, 10, 120).await;
    let at_kill = sorted(&site_db).await;
    let killed = Instant::now();
    first.kill().unwrap();
    first.wait().unwrap();
    let (took, token2, owner2) = wait_takeover(&network, token1, killed).await;
    assert!(
        owner2.ends_with(&format!("/{}", second.id())),
        "the standby owns the site: {owner2}"
    );
    assert!(
        took < Duration::from_secs(10),
        "the standby took over {took:?} after the owner died"
    );
    // It goes on with the wave.
    wait_sorted(&site_db, at_kill + 5, 60).await;
    let resumed = killed.elapsed();
    println!(
        "owner killed with {at_kill} orders sorted: standby owned the site after {took:?}, 5 more orders sorted {resumed:?} after the kill"
    );

    // The first instance comes back as the standby; the owner is frozen past its lease.
    let mut third = start(dir.path(), "third.log");
    tokio::time::sleep(Duration::from_secs(2)).await;
    signal(&second, "-STOP");
    let frozen = Instant::now();
    let (took2, token3, owner3) = wait_takeover(&network, token2, frozen).await;
    assert!(owner3.ends_with(&format!("/{}", third.id())), "{owner3}");
    let journal_before = Store::connect(&site_db)
        .await
        .unwrap()
        .journal_leases()
        .await
        .unwrap();
    // Woken up, the stale owner finds the site taken and stops, writing nothing.
    signal(&second, "-CONT");
    let since = Instant::now();
    let status = loop {
        if let Some(s) = second.try_wait().unwrap() {
            break s;
        }
        assert!(
            since.elapsed() < Duration::from_secs(15),
            "the stale owner still runs 15 s after waking"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(!status.success(), "a fenced instance exits with an error");
    let log = std::fs::read_to_string(dir.path().join("second.log")).unwrap();
    assert!(
        log.contains("another instance owns") || log.contains("ran out before it was renewed"),
        "the stale owner says why it stopped:\n{log}"
    );
    println!(
        "frozen owner replaced after {took2:?}; it stopped {:?} after waking",
        since.elapsed()
    );

    // A standby asked to stop while it waits stops cleanly.
    let mut fourth = start(dir.path(), "fourth.log");
    tokio::time::sleep(Duration::from_secs(1)).await;
    signal(&fourth, "-TERM");
    assert!(fourth.wait().unwrap().success(), "a standby stops cleanly");

    wait_sorted(&site_db, f.orders.len(), 180).await;
    signal(&third, "-TERM");
    assert!(
        third.wait().unwrap().success(),
        "a clean stop after the day"
    );

    // No entry under token2 was written once token3 had written: tokens never go back.
    let leases = Store::connect(&site_db)
        .await
        .unwrap()
        .journal_leases()
        .await
        .unwrap();
    let tokens: Vec<i64> = leases.iter().filter_map(|(_, l)| *l).collect();
    assert!(
        tokens.windows(2).all(|w| w[0] <= w[1]),
        "journal entries written under an older lease after a newer one"
    );
    assert!(tokens.contains(&token1) && tokens.contains(&token2) && tokens.contains(&token3));
    let stale_after: Vec<_> = leases[journal_before.len()..]
        .iter()
        .filter(|(_, l)| *l != Some(token3))
        .collect();
    assert!(
        stale_after.is_empty(),
        "entries written after the take-over by another than the new owner: {stale_after:?}"
    );
    assert_every_order_accounted_for(&f).await;
    assert_replay_reproduces_state(&f.database).await;
    common::assert_inventory_balances(&f.database, &received).await;
    for s in [format!("{schema}_e2e"), schema.clone()] {
        floorctl_bench::fixtures::drop_schema(&url, &s)
            .await
            .unwrap();
    }
    network.close().await;
    f.sim.shutdown().await;
}

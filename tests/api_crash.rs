//! An outside client (a Python script, standard library only) posts 500 orders in batches to
//! the HTTP API during a running day while the controller process is SIGKILLed three times;
//! afterwards every order answered 200 or 201 exists exactly once and is sorted, and no order of
//! a batch answered with an error exists.

mod common;

use std::collections::BTreeMap;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::process::{site_file, start};
use floorctl::api::token;
use floorctl::store::{ApiToken, Store};
use floorctl_core::Event;
use rand::{Rng, SeedableRng};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn orders_posted_by_an_outside_client_through_three_kills_exist_once_and_are_sorted() {
    let Some(python) = common::peer("PYTHON3", "Python 3 (the outside client)") else {
        return;
    };
    let f = common::floor(41).orders(0).await;
    let web = floorctl_bench::fixtures::free_addr("127.0.0.1:0".parse().unwrap()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let text = f.db.display().to_string();
    let site = site_file(&f, &text, false, "").replace(
        "listen = \"off\"\nmetrics_listen",
        &format!("listen = \"{web}\"\nmetrics_listen"),
    );
    assert!(site.contains(&web.to_string()), "{site}");
    std::fs::write(dir.path().join("site.toml"), site).unwrap();
    std::fs::write(
        dir.path().join("orders.csv"),
        floorctl_protocol::order::to_csv(&[]),
    )
    .unwrap();
    let secret = token::new();
    let store = Store::connect(&f.database).await.unwrap();
    let shop = ApiToken {
        name: "shop".into(),
        scopes: vec!["orders:write".into()],
        sites: None,
        created: 0,
        revoked: None,
    };
    assert!(store.add_token(&shop, &token::hash(&secret)).await.unwrap());
    store.close().await;

    let mut controller = start(dir.path());
    tokio::time::sleep(Duration::from_secs(2)).await;
    let answers = dir.path().join("answers.json");
    let mut client = Command::new(python)
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/peers/post_orders.py"
        ))
        .arg(format!("http://{web}/api/v1/orders"))
        .arg(&secret)
        .args(["500", "10", "0.2"])
        .arg(&answers)
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let mut rng = rand::rngs::SmallRng::seed_from_u64(41);
    for _ in 0..3 {
        tokio::time::sleep(Duration::from_millis(rng.gen_range(1_500..4_000))).await;
        assert!(
            controller.try_wait().unwrap().is_none(),
            "the controller died by itself"
        );
        controller.kill().unwrap(); // SIGKILL: no shutdown
        controller.wait().unwrap();
        tokio::time::sleep(Duration::from_millis(300)).await;
        controller = start(dir.path());
    }
    let since = Instant::now();
    while client.try_wait().unwrap().is_none() {
        assert!(
            since.elapsed() < Duration::from_secs(120),
            "the client did not finish"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(client.wait().unwrap().success(), "the client failed");
    let written: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&answers).unwrap()).unwrap();
    let answered: BTreeMap<String, u64> = written["answers"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), v.as_u64().unwrap()))
        .collect();
    assert_eq!(answered.len(), 500);
    let accepted: Vec<&String> = answered
        .iter()
        .filter(|(_, s)| matches!(s, 200 | 201))
        .map(|(k, _)| k)
        .collect();
    let refused: Vec<&String> = answered
        .iter()
        .filter(|(_, s)| **s == 400)
        .map(|(k, _)| k)
        .collect();
    assert_eq!(
        accepted.len() + refused.len(),
        500,
        "every answer is 200, 201 or 400: {answered:?}"
    );
    assert_eq!(
        refused.len(),
        120,
        "every fourth batch of 10 is refused whole"
    );

    // Every accepted order sorted, once; nothing of a refused batch taken.
    let deadline = Instant::now() + Duration::from_secs(150);
    loop {
        let sorted = common::process::sorted(&f.database).await;
        if sorted >= accepted.len() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "{sorted} of {} orders sorted",
            accepted.len()
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let term = Command::new("kill")
        .args(["-TERM", &controller.id().to_string()])
        .status()
        .unwrap();
    assert!(term.success());
    assert!(
        controller.wait().unwrap().success(),
        "a clean stop after the day"
    );
    let store = Store::connect(&f.database).await.unwrap();
    let rows: BTreeMap<String, String> = store.orders().await.unwrap().into_iter().collect();
    for id in &accepted {
        assert_eq!(rows.get(*id).map(String::as_str), Some("sorted"), "{id}");
    }
    for id in &refused {
        assert!(!rows.contains_key(*id), "{id} was refused but exists");
    }
    assert_eq!(rows.len(), accepted.len(), "no order but the accepted ones");
    let mut received: BTreeMap<String, usize> = BTreeMap::new();
    for entry in store.journal().await.unwrap() {
        if let Event::OrderReceived { order } = entry.event {
            *received.entry(order.id).or_default() += 1;
        }
    }
    assert!(
        received.values().all(|n| *n == 1),
        "each order journalled once"
    );
    assert_eq!(received.len(), accepted.len());
    store.close().await;
    println!(
        "the client made {} requests for 50 batches",
        written["requests"]
    );
    f.sim.shutdown().await;
}

//! The network view of the dashboard over real HTTP: two forward warehouses of one network on
//! PostgreSQL, each a controller owning its site and publishing its status; one account for
//! every site, another limited to one. The limited supervisor sees only their site (and its
//! pending transfer) and has no access at the other; the network-wide viewer sees both.

mod common;

use std::time::Duration;

use common::http::request;
use floorctl::controller::Controller;
use floorctl::store::Store;
use floorctl_core::PickFace;
use tokio_util::sync::CancellationToken;

struct Site {
    controller: Controller,
    web: std::net::SocketAddr,
    sync: tokio::task::JoinHandle<()>,
}

async fn site(url: &str, schema: &str, id: &str, cancel: &CancellationToken) -> Site {
    let broker = common::broker().await;
    let dir = tempfile::tempdir().unwrap();
    let text = format!(
        r#"site = "{id}"
database = "{url}"
exception_chute = 8
[mqtt]
broker = "{broker}"
[dashboard]
listen = "127.0.0.1:0"
metrics_listen = "off"
[[plc]]
id = "cv1"
address = "127.0.0.1:1"
map = "{maps}/conveyor-cv4.toml"
[[plc]]
id = "sorter1"
address = "127.0.0.1:1"
map = "{maps}/sorter-ts8.toml"
[lanes]
PM = [1]
[[cutoff]]
name = "11:00"
lane = "PM"
[network]
schema = "{schema}"
dc = "dc"
"#,
        maps = concat!(env!("CARGO_MANIFEST_DIR"), "/plc-maps"),
    );
    std::fs::write(dir.path().join("site.toml"), text).unwrap();
    let mut config = floorctl::config::Config::load(&dir.path().join("site.toml")).unwrap();
    config.plcs.clear();
    config.dashboard.listen =
        Some(floorctl_bench::fixtures::free_addr("127.0.0.1:0".parse().unwrap()).unwrap());
    let net = config.network.clone().unwrap();
    let store = Store::connect_site(&config.database, &net.schema, id)
        .await
        .unwrap();
    let lease = floorctl::network::take_site(&store, id, net.lease, cancel)
        .await
        .unwrap()
        .unwrap();
    let controller = Controller::start_on(config.clone(), store).await.unwrap();
    let listening = floorctl::dashboard::start(&controller, &config, cancel)
        .await
        .unwrap();
    let sync = tokio::spawn(floorctl::network::sync::run(
        controller.handle(),
        id.into(),
        net,
        lease,
        cancel.clone(),
    ));
    Site {
        controller,
        web: listening.dashboard.unwrap(),
        sync,
    }
}

async fn login(web: std::net::SocketAddr, user: &str, password: &str) -> Option<String> {
    let r = common::http::log_in(web, user, password).await;
    (r.status == 303).then(|| r.cookie().unwrap())
}

async fn network(web: std::net::SocketAddr, cookie: &str) -> serde_json::Value {
    let r = request(web, "GET", "/api/network", &[("Cookie", cookie)], "").await;
    assert_eq!(r.status, 200, "{}", r.body);
    serde_json::from_str(&r.body).unwrap()
}

fn names(v: &serde_json::Value) -> Vec<&str> {
    v["sites"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["site"].as_str().unwrap())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_supervisor_limited_to_a_site_sees_and_commands_only_that_site() {
    let Some(url) = common::peer("FLOORCTL_TEST_POSTGRES", "PostgreSQL (a postgres:// URL)") else {
        return;
    };
    let schema = format!("nv_{:012x}", rand::random::<u64>() >> 16);
    let cancel = CancellationToken::new();
    let a = site(&url, &schema, "fwd01", &cancel).await;
    let b = site(&url, &schema, "fwd02", &cancel).await;
    // fwd01 holds one unit of a SKU whose face wants two: it asks the DC for more.
    assert!(a.controller.stock("S1", "A-01", 1).await);
    let face = PickFace {
        location: "A-01".into(),
        sku: "S1".into(),
        min: 2,
        max: 10,
    };
    assert!(a.controller.set_pick_faces(vec![face]).await);

    let hash = |p: &str| floorctl::dashboard::auth::hash_password(p).unwrap();
    let store = a.controller.store();
    let only = ["fwd01".to_string()];
    store
        .set_user_at("ann", "supervisor", &hash("ann-password-1"), Some(&only), 0)
        .await
        .unwrap();
    store
        .set_user_at("rob", "viewer", &hash("rob-password-1"), None, 0)
        .await
        .unwrap();

    // One account table for the network: ann logs in at fwd01 only.
    let ann = login(a.web, "ann", "ann-password-1")
        .await
        .expect("ann at fwd01");
    assert_eq!(
        login(b.web, "ann", "ann-password-1").await,
        None,
        "ann has no access at fwd02"
    );
    let rob_b = login(b.web, "rob", "rob-password-1")
        .await
        .expect("rob at fwd02");

    // Both sites publish their status within a couple of seconds.
    let mut seen = serde_json::Value::Null;
    for _ in 0..50 {
        seen = network(b.web, &rob_b).await;
        let pending = seen["pending_transfers"].as_array().unwrap().len();
        if names(&seen) == ["fwd01", "fwd02"] && pending == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(
        names(&seen),
        ["fwd01", "fwd02"],
        "rob sees every site: {seen:#}"
    );
    let t = &seen["pending_transfers"][0];
    assert_eq!(
        (t["site"].as_str(), t["dc"].as_str(), t["sku"].as_str()),
        (Some("fwd01"), Some("dc"), Some("S1"))
    );
    assert_eq!(t["qty"], 9, "the face's max less what it holds");
    assert!(seen["sites"][0]["owned"].as_bool().unwrap());
    assert_eq!(seen["sites"][0]["pending_transfers"], 1);

    let mine = network(a.web, &ann).await;
    assert_eq!(names(&mine), ["fwd01"], "ann sees only her site: {mine:#}");
    assert_eq!(mine["pending_transfers"].as_array().unwrap().len(), 1);

    // A site outside any network has no network view.
    let plain_dir = tempfile::tempdir().unwrap();
    let plain = common::demo(plain_dir.path(), 1, 1).await;
    common::account(&plain.controller, "sue", "viewer", "sue-password-1").await;
    let web = plain.listening.dashboard.unwrap();
    let sue = login(web, "sue", "sue-password-1").await.unwrap();
    let r = request(web, "GET", "/api/network", &[("Cookie", &sue)], "").await;
    assert_eq!(r.status, 404, "{}", r.body);
    plain.shutdown().await;

    cancel.cancel();
    for s in [a, b] {
        let _ = s.sync.await;
        s.controller.shutdown(Duration::from_secs(5)).await;
    }
    for s in [
        schema.clone(),
        format!("{schema}_fwd01"),
        format!("{schema}_fwd02"),
    ] {
        floorctl_bench::fixtures::drop_schema(&url, &s)
            .await
            .unwrap();
    }
}

//! Events out, over real sockets against the simulated floor: a webhook receiver verifies every
//! signature (its own HMAC, the Standard Webhooks way), is down for 30 s mid-day (the endpoint
//! is alarmed, then cleared), and afterwards holds every event exactly once after de-duplication
//! by id, numbered without gaps and in order per order; `GET /api/v1/events` pages through the
//! same events; bad subscriptions and queries are refused and change nothing.

mod common;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use hmac::{Hmac, Mac};
use serde_json::Value;
use sha2::Sha256;
use tokio_util::sync::CancellationToken;

use common::api::{call, fits, json, openapi, service_account};

/// What the receiver got: each delivery's id and body, and any it could not verify.
#[derive(Clone, Default)]
struct Inbox {
    key: Vec<u8>,
    got: Arc<Mutex<Vec<(String, Value)>>>,
    forged: Arc<Mutex<Vec<String>>>,
}

async fn receive(State(inbox): State<Inbox>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let header = |n: &str| {
        headers
            .get(n)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string()
    };
    let (id, ts, sig) = (
        header("webhook-id"),
        header("webhook-timestamp"),
        header("webhook-signature"),
    );
    let mut mac = Hmac::<Sha256>::new_from_slice(&inbox.key).unwrap();
    mac.update(format!("{id}.{ts}.").as_bytes());
    mac.update(&body);
    let expected = format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()));
    let fresh = ts.parse::<u64>().is_ok_and(|t| {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs();
        now.abs_diff(t) < 300
    });
    if sig.split(' ').all(|s| s != expected) || !fresh {
        inbox.forged.lock().unwrap().push(id);
        return StatusCode::UNAUTHORIZED;
    }
    let body: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(body["id"], id.as_str(), "the body's id is the header's");
    inbox.got.lock().unwrap().push((id, body));
    StatusCode::NO_CONTENT
}

/// Serves the receiver on `addr` until `stop`.
async fn serve(
    addr: SocketAddr,
    inbox: Inbox,
    stop: CancellationToken,
) -> tokio::task::JoinHandle<()> {
    let listener = tokio::net::TcpListener::bind(addr).await.unwrap();
    let app = axum::Router::new()
        .route("/hook", axum::routing::post(receive))
        .with_state(inbox);
    tokio::spawn(async move {
        axum::serve(listener, app)
            .with_graceful_shutdown(async move { stop.cancelled().await })
            .await
            .unwrap();
    })
}

fn order(id: &str, n: u32) -> String {
    format!(
        r#"{{"order":"{id}","cutoff":"11:00","lines":[{{"sku":"SKU{n:04}","qty":1,"location":"A{:02}-{:02}"}}]}}"#,
        n % 12 + 1,
        n / 12 + 1
    )
}

fn batch(prefix: &str, n: u32) -> String {
    let orders: Vec<String> = (0..n).map(|i| order(&format!("{prefix}-{i}"), i)).collect();
    format!("{{\"orders\":[{}]}}", orders.join(","))
}

async fn until(what: &str, secs: u64, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while !done() {
        assert!(Instant::now() < deadline, "not within {secs} s: {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_webhook_down_for_30_s_gets_every_event_once_signed_and_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let demo = common::demo(dir.path(), 0, 3).await;
    let web = demo.listening.dashboard.expect("dashboard listening");
    let store = demo.controller.store();
    let doc = openapi(web).await;
    let erp = service_account(store, "erp", &["events:read", "webhooks:write"]).await;
    let shop = service_account(store, "shop", &["orders:write"]).await;

    // Bad subscriptions are refused with every problem, and nothing is kept.
    let bad = r#"{"name":"a b","url":"https://erp.example/hook","kinds":["order.shipped.twice"]}"#;
    let a = call(web, "POST", "/api/v1/webhooks", &erp, bad).await;
    assert_eq!(a.status, 400, "{}", a.body);
    fits(&doc, "Error", &a);
    assert_eq!(
        json(&a)["problems"].as_array().unwrap().len(),
        3,
        "{}",
        a.body
    );
    let a = call(
        web,
        "POST",
        "/api/v1/webhooks",
        &shop,
        r#"{"name":"x","url":"http://127.0.0.1:1/"}"#,
    )
    .await;
    assert_eq!(a.status, 403, "{}", a.body);
    assert!(store.webhooks().await.unwrap().is_empty());

    // The receiver, and its subscription to every kind.
    let probe = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = probe.local_addr().unwrap();
    drop(probe);
    let body = format!(r#"{{"name":"floor-erp","url":"http://{addr}/hook","from":"start"}}"#);
    let a = call(web, "POST", "/api/v1/webhooks", &erp, &body).await;
    assert_eq!(a.status, 201, "{}", a.body);
    fits(&doc, "WebhookCreated", &a);
    let secret = json(&a)["secret"].as_str().unwrap().to_string();
    let a = call(web, "POST", "/api/v1/webhooks", &erp, &body).await;
    assert_eq!(a.status, 409, "the name is taken: {}", a.body);
    let inbox = Inbox {
        key: STANDARD
            .decode(secret.strip_prefix("whsec_").unwrap())
            .unwrap(),
        ..Inbox::default()
    };
    let stop = CancellationToken::new();
    let server = serve(addr, inbox.clone(), stop.clone()).await;

    // Orders in; events flow.
    let a = call(web, "POST", "/api/v1/orders", &shop, &batch("E", 6)).await;
    assert_eq!(a.status, 201, "{}", a.body);
    let got = inbox.got.clone();
    until("the first events delivered", 30, || {
        got.lock().unwrap().len() >= 6
    })
    .await;

    // The receiver goes down for 30 s while the floor works on: the endpoint is alarmed.
    stop.cancel();
    server.await.unwrap();
    let down = Instant::now();
    let a = call(web, "POST", "/api/v1/orders", &shop, &batch("F", 6)).await;
    assert_eq!(a.status, 201, "{}", a.body);
    let alarm = ("webhook floor-erp".to_string(), "delivery".to_string());
    let s = common::until_summary(&demo.controller, 40, "the dead endpoint alarmed", |s| {
        s.active_alarms.contains_key(&alarm)
    })
    .await;
    assert!(
        s.active_alarms[&alarm].contains("cannot be delivered"),
        "{:?}",
        s.active_alarms
    );
    tokio::time::sleep(Duration::from_secs(30).saturating_sub(down.elapsed())).await;
    let a = call(web, "GET", "/api/v1/webhooks/floor-erp", &erp, "").await;
    assert_eq!(a.status, 200, "{}", a.body);
    fits(&doc, "WebhookState", &a);
    assert!(
        json(&a)["attempts"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["error"].is_string()),
        "failed attempts are logged: {}",
        a.body
    );
    let stop = CancellationToken::new();
    let server = serve(addr, inbox.clone(), stop.clone()).await;

    // Back up: everything arrives, and the alarm clears.
    common::until_summary(&demo.controller, 90, "every order sorted", |s| {
        s.sorted >= 12
    })
    .await;
    common::until_summary(&demo.controller, 60, "the endpoint's alarm cleared", |s| {
        !s.active_alarms.contains_key(&alarm)
    })
    .await;
    // Its clearing is an event too, journalled (and published) before the summary shows it.
    let last = store.last_published().await.unwrap();
    until("every event delivered", 60, || {
        let g = got.lock().unwrap();
        g.iter().any(|(_, b)| b["seq"].as_i64() == Some(last))
    })
    .await;
    assert!(
        inbox.forged.lock().unwrap().is_empty(),
        "every signature verifies"
    );

    // Once each after de-duplication by id, numbered 1..=last, each order's events in order.
    let deliveries = got.lock().unwrap().clone();
    let mut once: BTreeMap<i64, (String, Value)> = BTreeMap::new();
    let mut first_seen = Vec::new();
    for (id, body) in &deliveries {
        let seq = body["seq"].as_i64().unwrap();
        if let Some((seen, before)) = once.get(&seq) {
            assert_eq!((seen, before), (id, body), "a repeat is the same event");
            continue;
        }
        once.insert(seq, (id.clone(), body.clone()));
        first_seen.push(seq);
    }
    let expected: Vec<i64> = (1..=last).collect();
    assert_eq!(
        once.keys().copied().collect::<Vec<_>>(),
        expected,
        "no gap, nothing invented"
    );
    assert!(
        first_seen.windows(2).all(|w| w[0] < w[1]),
        "delivered in order"
    );
    let mut per_order: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (_, body) in once.values() {
        if let Some(o) = body["order"].as_str() {
            per_order
                .entry(o.to_string())
                .or_default()
                .push(body["type"].as_str().unwrap().to_string());
        }
    }
    assert_eq!(per_order.len(), 12, "{per_order:?}");
    for (order, kinds) in &per_order {
        let milestones: Vec<&str> = kinds
            .iter()
            .map(String::as_str)
            .filter(|k| {
                [
                    "order.received",
                    "order.released",
                    "order.picked",
                    "order.sorted",
                ]
                .contains(k)
            })
            .collect();
        assert_eq!(
            milestones,
            [
                "order.received",
                "order.released",
                "order.picked",
                "order.sorted"
            ],
            "{order}: {kinds:?}"
        );
    }

    // The same events, with the same ids and bodies, a page at a time from the API.
    let mut after = 0;
    let mut paged = Vec::new();
    loop {
        let a = call(
            web,
            "GET",
            &format!("/api/v1/events?after={after}&limit=7"),
            &erp,
            "",
        )
        .await;
        assert_eq!(a.status, 200, "{}", a.body);
        fits(&doc, "EventPage", &a);
        let page = json(&a);
        let events = page["events"].as_array().unwrap().clone();
        after = page["next"].as_i64().unwrap();
        if events.is_empty() {
            break;
        }
        paged.extend(events);
    }
    assert_eq!(after, last);
    let from_hooks: Vec<Value> = once.into_values().map(|(_, b)| b).collect();
    assert_eq!(paged, from_hooks);
    let a = call(
        web,
        "GET",
        "/api/v1/events?after=0&kinds=order.sorted",
        &erp,
        "",
    )
    .await;
    let sorted = json(&a)["events"].as_array().unwrap().len();
    assert_eq!(sorted, 12, "{}", a.body);

    // Bad queries, a token without the scope.
    for q in ["after=-1", "limit=0", "kinds=order.nope", "late=true"] {
        let a = call(web, "GET", &format!("/api/v1/events?{q}"), &erp, "").await;
        assert_eq!(a.status, 400, "{q}: {}", a.body);
    }
    let a = call(web, "GET", "/api/v1/events", &shop, "").await;
    assert_eq!(a.status, 403, "{}", a.body);

    // Removed, the subscription is posted to no more.
    let a = call(web, "DELETE", "/api/v1/webhooks/floor-erp", &erp, "").await;
    assert_eq!(a.status, 204, "{}", a.body);
    let a = call(web, "GET", "/api/v1/webhooks", &erp, "").await;
    assert_eq!(
        json(&a)["webhooks"].as_array().unwrap().len(),
        0,
        "{}",
        a.body
    );
    stop.cancel();
    server.await.unwrap();
    demo.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_go_out_on_mqtt_in_order_and_none_is_missed_across_a_restart() {
    use rumqttc::{AsyncClient, Event as MqttEvent, MqttOptions, Packet, QoS};
    let floor = common::floor(11).orders(12).await;
    let mut opts = MqttOptions::new(
        "erp-listener",
        floor.broker.ip().to_string(),
        floor.broker.port(),
    );
    opts.set_keep_alive(Duration::from_secs(5));
    let (client, mut eventloop) = AsyncClient::new(opts, 64);
    client
        .subscribe("floorctl/+/events/#", QoS::AtLeastOnce)
        .await
        .unwrap();
    let heard: Arc<Mutex<Vec<(String, Value)>>> = Arc::default();
    let listener = tokio::spawn({
        let heard = heard.clone();
        async move {
            loop {
                match eventloop.poll().await {
                    Ok(MqttEvent::Incoming(Packet::Publish(p))) => {
                        let body: Value = serde_json::from_slice(&p.payload).unwrap();
                        heard.lock().unwrap().push((p.topic.clone(), body));
                    }
                    Ok(_) => {}
                    Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
                }
            }
        }
    });
    tokio::time::sleep(Duration::from_millis(300)).await;

    // Half the day, a stop, the rest of the day.
    let controller = floor.controller_with_orders().await;
    common::until_summary(&controller, 60, "a few orders sorted", |s| s.sorted >= 4).await;
    controller.shutdown(Duration::from_secs(5)).await;
    let controller = floor.controller().await;
    common::until_summary(&controller, 90, "every order sorted", |s| s.sorted >= 12).await;
    let last = controller.store().last_published().await.unwrap();
    let got = heard.clone();
    until("every event heard", 30, || {
        got.lock()
            .unwrap()
            .iter()
            .any(|(_, b)| b["seq"].as_i64() == Some(last))
    })
    .await;
    controller.shutdown(Duration::from_secs(5)).await;
    listener.abort();

    let heard = heard.lock().unwrap().clone();
    let mut once: BTreeMap<i64, Value> = BTreeMap::new();
    for (topic, body) in &heard {
        let kind = body["type"].as_str().unwrap();
        assert_eq!(
            topic,
            &format!("floorctl/{}/events/{kind}", body["site"].as_str().unwrap())
        );
        let seq = body["seq"].as_i64().unwrap();
        if let Some(before) = once.insert(seq, body.clone()) {
            assert_eq!(&before, body, "a repeat is the same event");
        }
    }
    let expected: Vec<i64> = (1..=last).collect();
    assert_eq!(
        once.keys().copied().collect::<Vec<_>>(),
        expected,
        "nothing missed across the restart"
    );
    let sorted = once
        .values()
        .filter(|b| b["type"] == "order.sorted")
        .count();
    assert_eq!(sorted, 12);
}

//! Handhelds over a real MQTT broker: bad messages, and messages sent while the controller is down.

mod common;

use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use floorctl::config::{Broker, Config};
use floorctl::controller::Controller;
use floorctl::demo;
use floorctl_core::Summary;
use floorctl_protocol::order::Order;
use floorctl_protocol::scanner::{
    down_topic, up_topic, Direction, ErrorReply, Refusal, Task, SCHEMA_VERSION,
};
use rumqttc::{AsyncClient, Event, MqttOptions, Packet, QoS};
use tokio::sync::mpsc;

const SITE: &str = "errs";

/// A raw handheld: everything it receives on its `down/` topics, as (kind, payload).
async fn handheld(
    port: u16,
    id: &str,
) -> (AsyncClient, mpsc::UnboundedReceiver<(String, Vec<u8>)>) {
    let (client, mut eventloop) = AsyncClient::new(MqttOptions::new(id, "127.0.0.1", port), 16);
    client
        .subscribe(down_topic(SITE, id, "#"), QoS::AtLeastOnce)
        .await
        .unwrap();
    let (tx, rx) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        loop {
            match eventloop.poll().await {
                Ok(Event::Incoming(Packet::Publish(p))) => {
                    let kind = p.topic.rsplit('/').next().unwrap_or_default().to_string();
                    let _ = tx.send((kind, p.payload.to_vec()));
                }
                Ok(_) => {}
                Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
            }
        }
    });
    (client, rx)
}

/// Logs in, repeating until the controller is subscribed and answers; returns the direction.
async fn log_in(
    client: &AsyncClient,
    rx: &mut mpsc::UnboundedReceiver<(String, Vec<u8>)>,
    id: &str,
) -> Direction {
    let login = br#"{"v":2,"id":"l1","kind":"login","picker":"p9"}"#.to_vec();
    for _ in 0..40 {
        client
            .publish(
                up_topic(SITE, id, "login"),
                QoS::AtLeastOnce,
                false,
                login.clone(),
            )
            .await
            .unwrap();
        if let Ok(Some((kind, body))) =
            tokio::time::timeout(Duration::from_millis(500), rx.recv()).await
        {
            assert_eq!(kind, "direction");
            common::assert_matches_schema(&kind, &body);
            return serde_json::from_slice(&body).unwrap();
        }
    }
    panic!("no answer to a login within 20 s");
}

/// An embedded broker of the test's own, and a folder for the database.
async fn broker_and_folder() -> (SocketAddr, tempfile::TempDir) {
    let broker = floorctl_bench::fixtures::free_addr("127.0.0.1:0".parse().unwrap()).unwrap();
    floorctl::scanners::start_embedded(broker, None)
        .await
        .unwrap();
    (broker, tempfile::tempdir().unwrap())
}

fn site_config(broker: SocketAddr, database: &Path) -> Config {
    Config {
        site: SITE.into(),
        database: database.into(),
        broker: Broker::External {
            host: "127.0.0.1".into(),
            port: broker.port(),
            credentials: None,
        },
        plcs: vec![],
        layout: demo::layout(),
        dashboard: Default::default(),
        network: None,
    }
}

/// The next message the controller sends the handheld, checked against the protocol's schema.
/// Sends h9 a pick of schema version `v` that nothing directed; returns the error it gets.
async fn undirected_pick(
    client: &AsyncClient,
    rx: &mut mpsc::UnboundedReceiver<(String, Vec<u8>)>,
    v: u32,
    id: &str,
) -> Vec<u8> {
    let pick =
        format!(r#"{{"v":{v},"id":"{id}","kind":"pick","order":"X","line":0,"qty":1,"tote":1}}"#);
    client
        .publish(up_topic(SITE, "h9", "pick"), QoS::AtLeastOnce, false, pick)
        .await
        .unwrap();
    let (kind, body) = next(rx).await;
    assert_eq!(kind, "error");
    body
}

async fn next(rx: &mut mpsc::UnboundedReceiver<(String, Vec<u8>)>) -> (String, Vec<u8>) {
    let (kind, body) = tokio::time::timeout(Duration::from_secs(10), rx.recv())
        .await
        .expect("an answer within 10 s")
        .unwrap();
    common::assert_matches_schema(&kind, &body);
    (kind, body)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_and_undirected_messages_get_an_error_and_change_nothing() {
    let (broker, dir) = broker_and_folder().await;
    let config = site_config(broker, &dir.path().join("floorctl.db"));
    let controller = Controller::start(config).await.unwrap();
    let (client, mut rx) = handheld(broker.port(), "h9").await;
    // Wait until the controller is subscribed: a login is answered with a direction.
    let login = br#"{"v":2,"id":"l1","kind":"login","picker":"p9"}"#.to_vec();
    let answer = loop {
        client
            .publish(
                up_topic(SITE, "h9", "login"),
                QoS::AtLeastOnce,
                false,
                login.clone(),
            )
            .await
            .unwrap();
        match tokio::time::timeout(Duration::from_millis(500), rx.recv()).await {
            Ok(Some(a)) => {
                common::assert_matches_schema(&a.0, &a.1);
                break a;
            }
            _ => continue,
        }
    };
    assert_eq!(answer.0, "direction");
    let d: Direction = serde_json::from_slice(&answer.1).unwrap();
    assert_eq!(d.task, Task::Wait, "no orders yet");
    let before = controller.summary().borrow().clone();

    // Refused before the core: each answered with a reason, and with the message id where
    // it could be read.
    for (kind, payload, id) in [
        ("pick", b"\xff\xfe not json".to_vec(), None),
        (
            "pick",
            br#"{"v":2,"id":"m1","kind":"pick","order":"X"}"#.to_vec(),
            Some("m1"),
        ),
        (
            "pick",
            br#"{"v":9,"id":"m2","kind":"pick","order":"X","line":0,"qty":1,"tote":1}"#.to_vec(),
            Some("m2"),
        ),
        ("pick", vec![b'{'; 10_000], None),
    ] {
        client
            .publish(up_topic(SITE, "h9", kind), QoS::AtLeastOnce, false, payload)
            .await
            .unwrap();
        let (kind, body) = next(&mut rx).await;
        assert_eq!(kind, "error");
        let reply: serde_json::Value = serde_json::from_slice(&body).unwrap();
        let reason = reply["reason"].as_str().unwrap();
        assert!(!reason.is_empty());
        assert_eq!(reply["reply_to"].as_str(), id, "{reason}");
        // A version 2 message is answered in version 2; one of no version spoken here, or
        // none readable, in the newest, with the refusal's code.
        match reply["v"].as_u64() {
            Some(2) => assert!(reply.get("code").is_none(), "{reply}"),
            _ => {
                let reply: ErrorReply = serde_json::from_slice(&body).unwrap();
                assert_eq!(reply.v, SCHEMA_VERSION);
                assert!(
                    ["malformed", "too_large", "version"].contains(&reply.refusal.code()),
                    "{reply:?}"
                );
            }
        }
    }

    // Well-formed but not directed: refused with the message id and a reason; in version 2
    // the English reason only, in version 3 its code too.
    let body = undirected_pick(&client, &mut rx, 2, "m3").await;
    let reply: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(
        reply,
        serde_json::json!({"v": 2, "reply_to": "m3", "reason": "no pick is directed to this handheld now"})
    );
    let body = undirected_pick(&client, &mut rx, 3, "m4").await;
    let reply: ErrorReply = serde_json::from_slice(&body).unwrap();
    assert_eq!(reply.reply_to.as_deref(), Some("m4"));
    assert_eq!(reply.refusal, Refusal::NoPick {});

    let after = controller.summary().borrow().clone();
    assert_eq!(
        after.refused,
        before.refused + 2,
        "the refusals are counted"
    );
    assert_eq!(
        Summary {
            refused: before.refused,
            ..after
        },
        before,
        "nothing else changed"
    );
    controller.shutdown(Duration::from_secs(5)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pick_confirmed_while_the_controller_is_down_is_acted_on_when_it_returns() {
    let (broker, dir) = broker_and_folder().await;
    let db = dir.path().join("floorctl.db");
    let first = Controller::start(site_config(broker, &db)).await.unwrap();
    let order = Order::one_line("O1", "11:00", "S1", 2, "A01-01");
    first.submit(order).await;
    let (client, mut rx) = handheld(broker.port(), "h9").await;
    let d = log_in(&client, &mut rx, "h9").await;
    let Task::Pick { tote, .. } = d.task else {
        panic!("expected a pick, got {d:?}")
    };
    first.shutdown(Duration::from_secs(5)).await;

    // Scans and the pick, all sent while the controller is down: the broker keeps them, in order.
    for (kind, payload) in [
        (
            "scan",
            r#"{"v":2,"id":"m1","kind":"scan","what":"location","code":"A01-01"}"#.to_string(),
        ),
        (
            "scan",
            r#"{"v":2,"id":"m2","kind":"scan","what":"sku","code":"S1"}"#.to_string(),
        ),
        (
            "pick",
            format!(
                r#"{{"v":2,"id":"m3","kind":"pick","order":"O1","line":0,"qty":2,"tote":{tote}}}"#
            ),
        ),
    ] {
        client
            .publish(
                up_topic(SITE, "h9", kind),
                QoS::AtLeastOnce,
                false,
                payload.into_bytes(),
            )
            .await
            .unwrap();
    }
    // Give the broker the message before the controller is back, so it must hold it for the
    // controller's session (the outcome asserted does not depend on this pause, only what it proves).
    tokio::time::sleep(Duration::from_millis(200)).await;

    let _second = Controller::start(site_config(broker, &db)).await.unwrap();
    loop {
        let (kind, body) = next(&mut rx).await;
        assert_eq!(kind, "direction");
        let d: Direction = serde_json::from_slice(&body).unwrap();
        match d.task {
            Task::Pick { .. } => continue, // the direction re-sent at start
            Task::CloseTote { tote: t } => {
                assert_eq!(t, tote);
                break;
            }
            other => panic!("unexpected direction {other:?}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_handheld_flooding_the_controller_has_its_excess_dropped_and_the_others_carry_on() {
    let (broker, dir) = broker_and_folder().await;
    let db = dir.path().join("floorctl.db");
    let controller = Controller::start(site_config(broker, &db)).await.unwrap();
    controller
        .submit(Order::one_line("O1", "11:00", "S1", 2, "A01-01"))
        .await;
    let (h9, mut rx9) = handheld(broker.port(), "h9").await;
    log_in(&h9, &mut rx9, "h9").await;
    let (h8, mut rx8) = handheld(broker.port(), "h8").await;
    log_in(&h8, &mut rx8, "h8").await;

    // h8 sends 3,000 messages as fast as it can, each new and each refused.
    const FLOOD: usize = 3_000;
    for n in 0..FLOOD {
        let pick =
            format!(r#"{{"v":2,"id":"f{n}","kind":"pick","order":"X","line":0,"qty":1,"tote":1}}"#);
        h8.publish(up_topic(SITE, "h8", "pick"), QoS::AtMostOnce, false, pick)
            .await
            .unwrap();
    }
    // Meanwhile h9 is answered as ever.
    let scan = br#"{"v":2,"id":"s1","kind":"scan","what":"location","code":"Z-99"}"#.to_vec();
    h9.publish(up_topic(SITE, "h9", "scan"), QoS::AtLeastOnce, false, scan)
        .await
        .unwrap();
    let (kind, _) = tokio::time::timeout(Duration::from_secs(5), rx9.recv())
        .await
        .expect("h9 answered within 5 s")
        .unwrap();
    assert_eq!(kind, "error", "the wrong scan refused");
    tokio::time::sleep(Duration::from_secs(1)).await;
    controller.shutdown(Duration::from_secs(5)).await;
    let journalled = common::journal_at(&db)
        .await
        .iter()
        .filter(|e| matches!(e, floorctl_core::Event::Scanner { scanner, .. } if scanner == "h8"))
        .count();
    println!("{journalled} of h8's {FLOOD} messages journalled");
    assert!(
        journalled < FLOOD / 5,
        "{journalled} of h8's {FLOOD} messages journalled: the excess is dropped"
    );
}

//! A handheld's malformed or undirected messages, over a real MQTT broker.

use std::time::Duration;

use floorctl::config::{Broker, Config};
use floorctl::controller::Controller;
use floorctl::demo;
use floorctl_protocol::scanner::{down_topic, up_topic, Direction, ErrorReply, Task};
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

async fn next(rx: &mut mpsc::UnboundedReceiver<(String, Vec<u8>)>) -> (String, Vec<u8>) {
    tokio::time::timeout(Duration::from_secs(10), rx.recv())
        .await
        .expect("an answer within 10 s")
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_and_undirected_messages_get_an_error_and_change_nothing() {
    let broker = demo::free_addr("127.0.0.1:0".parse().unwrap()).unwrap();
    floorctl::scanners::start_embedded(broker).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let config = Config {
        site: SITE.into(),
        database: dir.path().join("floorctl.db"),
        broker: Broker::External {
            host: "127.0.0.1".into(),
            port: broker.port(),
        },
        plcs: vec![],
        layout: demo::layout(),
    };
    let controller = Controller::start(config).await.unwrap();
    let (client, mut rx) = handheld(broker.port(), "h9").await;
    // Wait until the controller is subscribed: a login is answered with a direction.
    let login = br#"{"v":1,"id":"l1","kind":"login","picker":"p9"}"#.to_vec();
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
            Ok(Some(a)) => break a,
            _ => continue,
        }
    };
    assert_eq!(answer.0, "direction");
    let d: Direction = serde_json::from_slice(&answer.1).unwrap();
    assert_eq!(d.task, Task::Wait, "no orders yet");
    let before = controller.summary().borrow().clone();

    for (kind, payload) in [
        ("pick", b"\xff\xfe not json".to_vec()),
        (
            "pick",
            br#"{"v":1,"id":"m1","kind":"pick","order":"X"}"#.to_vec(),
        ),
        (
            "pick",
            br#"{"v":9,"id":"m2","kind":"pick","order":"X","line":0,"qty":1,"tote":1}"#.to_vec(),
        ),
        ("pick", vec![b'{'; 10_000]),
    ] {
        client
            .publish(up_topic(SITE, "h9", kind), QoS::AtLeastOnce, false, payload)
            .await
            .unwrap();
        let (kind, body) = next(&mut rx).await;
        assert_eq!(kind, "error");
        let reply: ErrorReply = serde_json::from_slice(&body).unwrap();
        assert!(!reply.reason.is_empty());
    }

    // Well-formed but not directed: refused with the message id and a reason.
    let pick = br#"{"v":1,"id":"m3","kind":"pick","order":"X","line":0,"qty":1,"tote":1}"#.to_vec();
    client
        .publish(up_topic(SITE, "h9", "pick"), QoS::AtLeastOnce, false, pick)
        .await
        .unwrap();
    let (kind, body) = next(&mut rx).await;
    assert_eq!(kind, "error");
    let reply: ErrorReply = serde_json::from_slice(&body).unwrap();
    assert_eq!(reply.reply_to.as_deref(), Some("m3"));
    assert!(
        reply.reason.contains("no pick is directed"),
        "{}",
        reply.reason
    );

    assert_eq!(*controller.summary().borrow(), before, "nothing changed");
    controller.shutdown(Duration::from_secs(5)).await;
}

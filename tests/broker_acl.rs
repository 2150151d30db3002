//! Logins and topic rules, the same through the embedded broker (given deploy/mosquitto's
//! password file) and through a real Mosquitto configured with deploy/mosquitto: a client without
//! the right password is refused, and a handheld can neither publish as another nor read
//! another's directions.
//!
//! `MOSQUITTO_ACL_ADDR` is the Mosquitto's `host:port`; it must use deploy/mosquitto/floorctl.acl
//! and the users of deploy/mosquitto/floorctl.passwd.example (`.ci/run` starts such a broker).

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use floorctl::config::{Broker, Config, Credentials};
use floorctl::controller::Controller;
use floorctl::demo;
use floorctl::scanners::passwd::Passwords;
use floorctl_core::Event;
use floorctl_protocol::order::Order;
use floorctl_protocol::scanner::{down_topic, up_topic, Direction, Task, UpBody};
use rumqttc::{AsyncClient, ConnectReturnCode, Event as MqttEvent, MqttOptions, Packet, QoS};
use tokio::sync::mpsc;

/// Said on a client's channel when the broker has taken a subscription of its.
const SUBSCRIBED: &str = "$subscribed";

/// What a handheld receives: (topic, payload).
type Received = mpsc::UnboundedReceiver<(String, Vec<u8>)>;

/// Whether the broker refuses a login as `user` with `password` (`None`: no credentials).
async fn refused(host: &str, port: u16, user: &str, password: Option<&str>) -> bool {
    let mut opts = MqttOptions::new(user, host, port);
    if let Some(p) = password {
        opts.set_credentials(user, p);
    }
    let (_client, mut el) = AsyncClient::new(opts, 8);
    loop {
        match tokio::time::timeout(Duration::from_secs(5), el.poll()).await {
            Ok(Ok(MqttEvent::Incoming(Packet::ConnAck(_)))) => return false,
            Ok(Ok(_)) => {}
            Ok(Err(rumqttc::ConnectionError::ConnectionRefused(_))) => return true,
            other => panic!("neither accepted nor refused: {other:?}"),
        }
    }
}

/// A handheld logged in as `user` (its client id is its user name), with everything it
/// receives and a count of the times its connection was ended.
async fn handheld(host: &str, port: u16, user: &str) -> (AsyncClient, Received, Arc<AtomicUsize>) {
    connected(host, port, user, user).await
}

/// A client logged in as `user` under `client_id`, as [`handheld`].
async fn connected(
    host: &str,
    port: u16,
    user: &str,
    client_id: &str,
) -> (AsyncClient, Received, Arc<AtomicUsize>) {
    let mut opts = MqttOptions::new(client_id, host, port);
    opts.set_credentials(user, format!("{user}-secret"))
        .set_clean_session(false)
        .set_keep_alive(Duration::from_secs(5));
    let (client, mut el) = AsyncClient::new(opts, 64);
    let (tx, rx) = mpsc::unbounded_channel();
    let drops = Arc::new(AtomicUsize::new(0));
    let dropped = drops.clone();
    tokio::spawn(async move {
        loop {
            match el.poll().await {
                Ok(MqttEvent::Incoming(Packet::Publish(p))) => {
                    let _ = tx.send((p.topic.clone(), p.payload.to_vec()));
                }
                Ok(MqttEvent::Incoming(Packet::SubAck(_))) => {
                    let _ = tx.send((SUBSCRIBED.to_string(), Vec::new()));
                }
                Ok(_) => {}
                Err(rumqttc::ConnectionError::ConnectionRefused(_)) => return,
                Err(_) => {
                    dropped.fetch_add(1, Ordering::SeqCst);
                    tokio::time::sleep(Duration::from_millis(200)).await
                }
            }
        }
    });
    (client, rx, drops)
}

/// The answer to a CONNECT as `user` (right password) under `client_id`: `None` when accepted.
async fn refusal(host: &str, port: u16, user: &str, client_id: &str) -> Option<ConnectReturnCode> {
    let mut opts = MqttOptions::new(client_id, host, port);
    opts.set_credentials(user, format!("{user}-secret"));
    let (_client, mut el) = AsyncClient::new(opts, 8);
    loop {
        match tokio::time::timeout(Duration::from_secs(5), el.poll()).await {
            Ok(Ok(MqttEvent::Incoming(Packet::ConnAck(_)))) => return None,
            Ok(Ok(_)) => {}
            Ok(Err(rumqttc::ConnectionError::ConnectionRefused(code))) => return Some(code),
            other => panic!("neither accepted nor refused: {other:?}"),
        }
    }
}

fn login(id: &str, picker: &str) -> Vec<u8> {
    format!(r#"{{"v":2,"id":"{id}","kind":"login","picker":"{picker}"}}"#).into_bytes()
}

/// Publishes `handheld`'s login until its direction comes back; returns it.
async fn log_in(
    client: &AsyncClient,
    rx: &mut Received,
    site: &str,
    handheld: &str,
    picker: &str,
) -> Direction {
    let (up, down) = (
        up_topic(site, handheld, "login"),
        down_topic(site, handheld, "direction"),
    );
    let (up, down) = (up.as_str(), down.as_str());
    for n in 0..40 {
        client
            .publish(
                up,
                QoS::AtLeastOnce,
                false,
                login(&format!("{picker}-{n}"), picker),
            )
            .await
            .unwrap();
        let deadline = tokio::time::Instant::now() + Duration::from_millis(500);
        while let Ok(Some((topic, body))) = tokio::time::timeout_at(deadline, rx.recv()).await {
            if topic == down {
                return serde_json::from_slice(&body).unwrap();
            }
        }
    }
    panic!("no direction on {down}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn through_mosquitto_a_handheld_can_neither_publish_as_another_nor_read_its_directions() {
    let Some(addr) = common::peer(
        "MOSQUITTO_ACL_ADDR",
        "a Mosquitto configured with deploy/mosquitto",
    ) else {
        return;
    };
    let (host, port) = addr
        .rsplit_once(':')
        .map(|(h, p)| (h.to_string(), p.parse::<u16>().unwrap()))
        .unwrap();
    let broker = Broker::External {
        host: host.clone(),
        port,
        credentials: Some(Credentials {
            username: "floorctl".into(),
            password: "floorctl-secret".into(),
        }),
    };
    scenario(&host, port, broker, Gateway::Mosquitto).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn through_the_embedded_broker_a_handheld_can_neither_publish_as_another_nor_read_its_directions(
) {
    let listen = floorctl_bench::fixtures::free_addr("127.0.0.1:0".parse().unwrap()).unwrap();
    let passwords = Passwords::load(std::path::Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/deploy/mosquitto/floorctl.passwd.example"
    )))
    .unwrap();
    let broker = Broker::Embedded {
        listen,
        handhelds: Some(passwords),
    };
    scenario(
        &listen.ip().to_string(),
        listen.port(),
        broker,
        Gateway::Embedded,
    )
    .await;
}

/// Which broker a scenario runs through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Gateway {
    /// floorctl's gateway: a client id not bound to the login is refused.
    Embedded,
    /// deploy/mosquitto (`use_username_as_clientid`): the client id is replaced by the login.
    Mosquitto,
}

async fn scenario(host: &str, port: u16, broker: Broker, gateway: Gateway) {
    let host = host.to_string();
    let site = format!("acl{}", std::process::id());
    let dir = tempfile::tempdir().unwrap();
    let config = Config {
        site: site.clone(),
        database: dir.path().join("floorctl.db").into(),
        broker,
        plcs: Vec::new(),
        layout: demo::layout(),
        dashboard: Default::default(),
        network: None,
    };
    let controller = Controller::start(config.clone()).await.unwrap();
    controller
        .submit(Order::one_line("O1", "11:00", "S1", 1, "A-01"))
        .await;

    // Logins: a wrong password, no password and an unknown user are refused.
    assert!(refused(&host, port, "h1", Some("h2-secret")).await);
    assert!(refused(&host, port, "h1", None).await);
    assert!(refused(&host, port, "h9", Some("h9-secret")).await);
    assert!(!refused(&host, port, "h1", Some("h1-secret")).await);

    let (h1, mut rx1, _) = handheld(&host, port, "h1").await;
    let (h2, mut rx2, h2_drops) = handheld(&host, port, "h2").await;
    h1.subscribe(down_topic(&site, "h1", "#"), QoS::AtLeastOnce)
        .await
        .unwrap();
    h2.subscribe(down_topic(&site, "h2", "#"), QoS::AtLeastOnce)
        .await
        .unwrap();

    // The protocol works through the broker for a handheld on its own topics.
    let d1 = log_in(&h1, &mut rx1, &site, "h1", "alice").await;
    assert!(matches!(d1.task, Task::Pick { .. }), "{d1:?}");
    let d2 = log_in(&h2, &mut rx2, &site, "h2", "bob").await;
    assert_eq!(d2.task, Task::Wait);

    // Logged in as h1, a client claims h2's session, then the controller's: the embedded broker
    // refuses it ("identifier rejected"), Mosquitto gives it h1's own. Either way h2 keeps its
    // connection, the controller keeps directing it, and nothing of h2's reaches the impostor.
    for claimed in ["h2".to_string(), format!("floorctl-{site}")] {
        if gateway == Gateway::Embedded {
            assert_eq!(
                refusal(&host, port, "h1", &claimed).await,
                Some(ConnectReturnCode::BadClientId),
                "h1 under client id {claimed}"
            );
        }
        let (_impostor, mut stolen, _) = connected(&host, port, "h1", &claimed).await;
        tokio::time::sleep(Duration::from_millis(300)).await;
        log_in(&h2, &mut rx2, &site, "h2", "bob").await;
        assert_eq!(h2_drops.load(Ordering::SeqCst), 0, "h2 was not knocked off");
        while let Ok((topic, _)) = stolen.try_recv() {
            assert!(
                !topic.contains("/scanners/h2/"),
                "the impostor received {topic}"
            );
        }
    }

    // h1 tries to listen to h2's directions, to log in as h2 and to hand h2's tote over: the
    // broker drops them (Mosquitto silently, the embedded broker by closing h1's connection).
    h1.subscribe(down_topic(&site, "h2", "#"), QoS::AtLeastOnce)
        .await
        .unwrap();
    h1.publish(
        up_topic(&site, "h2", "login"),
        QoS::AtLeastOnce,
        false,
        login("forged-1", "mallory"),
    )
    .await
    .unwrap();
    h1.publish(
        up_topic(&site, "h2", "logout"),
        QoS::AtLeastOnce,
        false,
        br#"{"v":2,"id":"forged-2","kind":"logout"}"#.to_vec(),
    )
    .await
    .unwrap();
    // h2 is answered again (a fresh login), and h1 must not see it.
    log_in(&h2, &mut rx2, &site, "h2", "bob").await;
    tokio::time::sleep(Duration::from_millis(500)).await;

    // Nothing of h2's reached h1.
    while let Ok((topic, _)) = rx1.try_recv() {
        assert!(
            !topic.contains("/scanners/h2/"),
            "h1 received h2's message on {topic}"
        );
    }

    // The site's events are read by the `events` login, and by no handheld.
    let events_filter = format!("floorctl/{site}/events/#");
    let (reader, mut events_rx, _) = handheld(&host, port, "events").await;
    reader
        .subscribe(&events_filter, QoS::AtLeastOnce)
        .await
        .unwrap();
    // Nothing is published before the broker has taken the subscription.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        match tokio::time::timeout_at(deadline, events_rx.recv()).await {
            Ok(Some((topic, _))) if topic == SUBSCRIBED => break,
            Ok(Some(_)) => {}
            other => panic!("the events login's subscription was not taken: {other:?}"),
        }
    }
    let (h3, mut rx3, _) = handheld(&host, port, "h3").await;
    h3.subscribe(&events_filter, QoS::AtLeastOnce)
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(500)).await;
    controller
        .submit(Order::one_line("O2", "11:00", "S1", 1, "A-01"))
        .await;
    let received = format!("floorctl/{site}/events/order.received");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        match tokio::time::timeout_at(deadline, events_rx.recv()).await {
            Ok(Some((topic, body))) if topic == received => {
                let event: serde_json::Value = serde_json::from_slice(&body).unwrap();
                if event["order"] == "O2" {
                    break;
                }
            }
            Ok(Some(_)) => {}
            other => panic!("the events login received no order.received for O2: {other:?}"),
        }
    }
    // The reader may not act as a handheld or read one's directions.
    reader
        .subscribe(down_topic(&site, "h1", "#"), QoS::AtLeastOnce)
        .await
        .unwrap();
    reader
        .publish(
            up_topic(&site, "h1", "logout"),
            QoS::AtLeastOnce,
            false,
            br#"{"v":2,"id":"forged-3","kind":"logout"}"#.to_vec(),
        )
        .await
        .unwrap();
    log_in(&h1, &mut rx1, &site, "h1", "alice").await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    while let Ok((topic, _)) = rx3.try_recv() {
        assert!(!topic.contains("/events/"), "handheld h3 read {topic}");
    }
    while let Ok((topic, _)) = events_rx.try_recv() {
        assert!(
            topic.contains("/events/") || topic == SUBSCRIBED,
            "the events login read {topic}"
        );
    }

    controller.shutdown(Duration::from_secs(5)).await;
    let events = common::journal_at(config.database.file().unwrap()).await;
    let h2_logins: Vec<String> = events
        .iter()
        .filter_map(|e| match e {
            Event::Scanner { scanner, msg } if scanner == "h2" => match &msg.body {
                UpBody::Login { picker, .. } => Some(picker.clone()),
                UpBody::Logout => Some("logout".into()),
                _ => None,
            },
            _ => None,
        })
        .collect();
    assert!(
        !h2_logins.is_empty() && h2_logins.iter().all(|p| p == "bob"),
        "only h2 itself acts as h2: {h2_logins:?}"
    );
    let h1_logouts = events.iter().any(|e| {
        matches!(e, Event::Scanner { scanner, msg } if scanner == "h1" && matches!(msg.body, UpBody::Logout))
    });
    assert!(!h1_logouts, "the events login cannot log h1 out");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn through_the_embedded_broker_password_guessing_is_slowed_per_handheld_and_alarmed() {
    let listen = floorctl_bench::fixtures::free_addr("127.0.0.1:0".parse().unwrap()).unwrap();
    let passwords = Passwords::load(std::path::Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/deploy/mosquitto/floorctl.passwd.example"
    )))
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let controller = Controller::start(Config {
        site: "guess".into(),
        database: dir.path().join("floorctl.db").into(),
        broker: Broker::Embedded {
            listen,
            handhelds: Some(passwords),
        },
        plcs: Vec::new(),
        layout: demo::layout(),
        dashboard: Default::default(),
        network: None,
    })
    .await
    .unwrap();
    let (host, port) = (listen.ip().to_string(), listen.port());
    for _ in 0..6 {
        assert!(refused(&host, port, "h1", Some("a-wrong-guess")).await);
    }
    assert!(
        refused(&host, port, "h1", Some("h1-secret")).await,
        "the right password waits too"
    );
    assert!(
        !refused(&host, port, "h2", Some("h2-secret")).await,
        "another handheld is not held up"
    );
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert!(
        !refused(&host, port, "h1", Some("h1-secret")).await,
        "after the wait, the right password is let in"
    );
    let alarmed = controller.summary().borrow().alarm_log.values().any(|a| {
        a.source == "MQTT login, handheld h1" && a.text.contains("failed logins in a row")
    });
    assert!(alarmed, "the guessing is an alarm");
    controller.shutdown(Duration::from_secs(5)).await;
}

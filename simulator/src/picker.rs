//! A virtual picker: a real MQTT client that follows the controller's directions on its handheld,
//! confirms each pick, closes totes and puts them on the conveyor.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use floorctl_protocol::scanner::{
    down_topic, up_topic, Direction, Task, Up, UpBody, SCHEMA_VERSION,
};
use rumqttc::{AsyncClient, Event, LastWill, MqttOptions, Packet, QoS};
use tokio::sync::mpsc;
use tokio::time::{sleep_until, Instant};
use tokio_util::sync::CancellationToken;

use crate::floor::Floor;

/// How a virtual picker connects and how fast it works.
#[derive(Debug, Clone)]
pub struct PickerConfig {
    /// Site id in the topics.
    pub site: String,
    /// Handheld id (also its MQTT client id).
    pub scanner: String,
    /// Broker host.
    pub host: String,
    /// Broker port.
    pub port: u16,
    /// Time to walk to a location and pick one line.
    pub pick_ms: u64,
    /// Time to close a tote and carry it to the conveyor.
    pub deliver_ms: u64,
    /// Time without an answer after which the handheld logs in again to get its direction.
    pub resync_ms: u64,
}

enum Inbound {
    Connected,
    Direction(Direction),
}

enum Action {
    Send(UpBody),
    Place(u32),
}

/// Runs one picker until `cancel` fires.
pub async fn run(cfg: PickerConfig, floor: Arc<Mutex<Floor>>, cancel: CancellationToken) {
    let mut opts = MqttOptions::new(&cfg.scanner, &cfg.host, cfg.port);
    opts.set_clean_session(false)
        .set_keep_alive(Duration::from_secs(5))
        .set_last_will(LastWill::new(
            up_topic(&cfg.site, &cfg.scanner, "presence"),
            r#"{"v":1,"online":false}"#,
            QoS::AtLeastOnce,
            true,
        ));
    let (client, eventloop) = AsyncClient::new(opts, 64);
    let (tx, rx) = mpsc::channel(64);
    let poller = tokio::spawn(poll(eventloop, tx, cancel.clone(), cfg.scanner.clone()));
    work(&cfg, &client, rx, floor, cancel).await;
    let _ = client.disconnect().await;
    let _ = poller.await;
}

/// Drives the MQTT connection and forwards what arrives; reconnects with doubling backoff.
async fn poll(
    mut eventloop: rumqttc::EventLoop,
    tx: mpsc::Sender<Inbound>,
    cancel: CancellationToken,
    scanner: String,
) {
    let mut backoff = Duration::from_millis(100);
    loop {
        let event = tokio::select! {
            () = cancel.cancelled() => return,
            e = eventloop.poll() => e,
        };
        let inbound = match event {
            Ok(Event::Incoming(Packet::ConnAck(_))) => {
                backoff = Duration::from_millis(100);
                Some(Inbound::Connected)
            }
            Ok(Event::Incoming(Packet::Publish(p))) => {
                match serde_json::from_slice::<Direction>(&p.payload) {
                    Ok(d) => Some(Inbound::Direction(d)),
                    Err(_) => None, // error replies and anything else are shown, not acted on
                }
            }
            Ok(_) => None,
            Err(err) => {
                tracing::debug!(%scanner, %err, "handheld connection lost");
                tokio::select! {
                    () = cancel.cancelled() => return,
                    () = tokio::time::sleep(backoff) => {}
                }
                backoff = (backoff * 2).min(Duration::from_secs(2));
                None
            }
        };
        if let Some(i) = inbound {
            if tx.send(i).await.is_err() {
                return;
            }
        }
    }
}

/// The handheld's outgoing side: message ids unique across restarts, and the last message kept
/// so that it can be sent again, under the same id, when no answer comes.
struct Handheld<'a> {
    cfg: &'a PickerConfig,
    client: &'a AsyncClient,
    session: u32,
    sent: u64,
    last: Option<Up>,
}

impl Handheld<'_> {
    async fn send(&mut self, body: UpBody) {
        self.sent += 1;
        let id = format!("{}-{:08x}-{}", self.cfg.scanner, self.session, self.sent);
        let msg = Up {
            v: SCHEMA_VERSION,
            id,
            body,
        };
        self.publish(&msg).await;
        self.last = Some(msg);
    }

    async fn login(&mut self) {
        let picker = format!("picker-{}", self.cfg.scanner);
        self.send(UpBody::Login { picker }).await;
    }

    /// No answer: send the last message again under its id (the controller answers a duplicate
    /// with the current direction), or log in when there was none.
    async fn resend(&mut self) {
        match self.last.clone() {
            Some(msg) => self.publish(&msg).await,
            None => self.login().await,
        }
    }

    async fn publish(&self, msg: &Up) {
        let topic = up_topic(&self.cfg.site, &self.cfg.scanner, msg.body.kind());
        let payload = serde_json::to_vec(msg).expect("messages serialise");
        if let Err(err) = self
            .client
            .publish(topic, QoS::AtLeastOnce, false, payload)
            .await
        {
            tracing::warn!(scanner = %self.cfg.scanner, %err, "handheld cannot queue a message");
        }
    }
}

async fn work(
    cfg: &PickerConfig,
    client: &AsyncClient,
    mut rx: mpsc::Receiver<Inbound>,
    floor: Arc<Mutex<Floor>>,
    cancel: CancellationToken,
) {
    let session = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos())
        ^ std::process::id();
    let mut handheld = Handheld {
        cfg,
        client,
        session,
        sent: 0,
        last: None,
    };
    let mut current: Option<String> = None;
    let mut pending: Option<(Instant, Action)> = None;
    let mut placed = HashSet::new();
    let mut waiting_since: Option<Instant> = None;
    let far = Duration::from_secs(3600);
    loop {
        let due = pending.as_ref().map_or(Instant::now() + far, |(d, _)| *d);
        let resync = waiting_since.map_or(Instant::now() + far, |w| {
            w + Duration::from_millis(cfg.resync_ms)
        });
        tokio::select! {
            () = cancel.cancelled() => return,
            inbound = rx.recv() => match inbound {
                None => return,
                Some(Inbound::Connected) => {
                    let _ = client.subscribe(down_topic(&cfg.site, &cfg.scanner, "#"), QoS::AtLeastOnce).await;
                    handheld.login().await;
                    waiting_since = Some(Instant::now());
                }
                Some(Inbound::Direction(d)) => {
                    if current.as_deref() == Some(d.id.as_str()) {
                        continue;
                    }
                    current = Some(d.id.clone());
                    waiting_since = None;
                    let at = |ms| Instant::now() + Duration::from_millis(ms);
                    pending = match d.task {
                        Task::Pick { order, line, qty, tote, .. } => {
                            Some((at(cfg.pick_ms), Action::Send(UpBody::Pick { order, line, qty, tote })))
                        }
                        Task::CloseTote { tote } => Some((at(cfg.pick_ms / 2), Action::Send(UpBody::ToteClosed { tote }))),
                        Task::ToteComplete { tote, .. } => Some((at(cfg.deliver_ms), Action::Place(tote))),
                        Task::Wait => None,
                    };
                }
            },
            () = sleep_until(due), if pending.is_some() => {
                match pending.take().map(|(_, a)| a) {
                    Some(Action::Send(body)) => handheld.send(body).await,
                    Some(Action::Place(tote)) if placed.insert(tote) => {
                        floor.lock().unwrap_or_else(|p| p.into_inner()).place_tote(tote);
                    }
                    Some(Action::Place(_)) | None => {}
                }
                waiting_since = Some(Instant::now());
            }
            () = sleep_until(resync), if waiting_since.is_some() => {
                handheld.resend().await;
                waiting_since = Some(Instant::now());
            }
        }
    }
}

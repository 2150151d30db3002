//! The controller's MQTT client: one task drives the connection, one publishes, one acknowledges
//! each handheld message once its event is journalled.

use super::flood::{Floods, Verdict};
use crate::telemetry::names;
use std::time::Duration;

use floorctl_protocol::scanner::{self, Direction, ErrorReply, Refusal, Up};
use rumqttc::{AsyncClient, Event as MqttEvent, MqttOptions, Packet, Publish, QoS};
use tokio::sync::{mpsc, oneshot, watch};
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use crate::bus::Inbound;
use crate::link_state::LinkState;
use crate::retry::{self, Backoff};
use crate::scanners::Credentials;
use floorctl_core::Event;

/// A message for a handheld.
#[derive(Debug, Clone)]
pub enum Outgoing {
    /// A direction.
    Direction {
        /// Handheld id.
        scanner: String,
        /// Direction.
        direction: Direction,
    },
    /// An error reply.
    Error {
        /// Handheld id.
        scanner: String,
        /// Reply.
        reply: ErrorReply,
    },
}

/// An event for the systems around the floor, published at QoS 1 on
/// `floorctl/{site}/events/{kind}`; `handed` fires once the MQTT client has taken it.
#[derive(Debug)]
pub struct Broadcast {
    /// Its kind, the topic's last level.
    pub kind: String,
    /// Its JSON.
    pub body: Vec<u8>,
    /// Told when the client has it.
    pub handed: oneshot::Sender<()>,
}

/// Messages waiting for the broker, at most: past this (the broker away for long) the newest
/// are dropped; a handheld gets its current direction again when it logs in.
const OUTGOING_QUEUE: usize = 8192;

/// Connects to the broker and starts the scanner tasks. Returns the sender for outgoing
/// messages and the connection's state.
pub fn spawn(
    site: &str,
    host: &str,
    port: u16,
    credentials: Option<Credentials>,
    events: mpsc::Sender<Inbound>,
    broadcasts: mpsc::Receiver<Broadcast>,
    cancel: CancellationToken,
) -> (
    mpsc::Sender<Outgoing>,
    watch::Receiver<LinkState>,
    Vec<tokio::task::JoinHandle<()>>,
) {
    let mut opts = MqttOptions::new(format!("floorctl-{site}"), host, port);
    opts.set_clean_session(false)
        .set_manual_acks(true)
        .set_keep_alive(Duration::from_secs(5));
    if let Some(c) = credentials {
        opts.set_credentials(c.username, c.password);
    }
    let (client, mut eventloop) = AsyncClient::new(opts, 256);
    // Acknowledgements and directions are small packets sent back to back: without NODELAY,
    // Nagle's algorithm holds the second until the broker's delayed ACK (~40 ms).
    let mut net = rumqttc::NetworkOptions::new();
    net.set_tcp_nodelay(true);
    eventloop.set_network_options(net);
    let (out_tx, out_rx) = mpsc::channel(OUTGOING_QUEUE);
    // Unbounded but never long: the broker sends a client only so many messages it has not
    // acknowledged (its in-flight window), and `poll` must never wait on a full channel while
    // the acknowledging task waits on the client's requests that only `poll` drains.
    let (ack_tx, ack_rx) = mpsc::unbounded_channel();
    let (state_tx, state) = watch::channel(LinkState::Connecting);
    let span = tracing::info_span!("mqtt", broker = %format!("{host}:{port}"));
    let handles = vec![
        tokio::spawn(
            poll(
                site.to_string(),
                client.clone(),
                eventloop,
                Sinks {
                    events,
                    acks: ack_tx,
                    out: out_tx.clone(),
                    state: StoppedOnDrop(state_tx),
                },
                cancel.clone(),
            )
            .instrument(span.clone()),
        ),
        tokio::spawn(
            publish(
                site.to_string(),
                client.clone(),
                out_rx,
                broadcasts,
                cancel.clone(),
            )
            .instrument(span.clone()),
        ),
        tokio::spawn(acknowledge(client, ack_rx, cancel).instrument(span)),
    ];
    (out_tx, state, handles)
}

/// Where the connection's reader hands what it reads.
struct Sinks {
    /// Handheld messages, as events for the core.
    events: mpsc::Sender<Inbound>,
    /// Messages to acknowledge, each once its event is journalled.
    acks: mpsc::UnboundedSender<(Publish, Option<oneshot::Receiver<crate::bus::Outcome>>)>,
    /// Refusals to send back.
    out: mpsc::Sender<Outgoing>,
    /// The connection's state.
    state: StoppedOnDrop,
}

/// Drives the connection: subscribes on every (re)connect, decodes handheld messages, backs off
/// when the broker is away. Never awaits the client's request channel.
async fn poll(
    site: String,
    client: AsyncClient,
    mut eventloop: rumqttc::EventLoop,
    sinks: Sinks,
    cancel: CancellationToken,
) {
    let Sinks {
        events,
        acks,
        out,
        state,
    } = sinks;
    let mut floods = Floods::default();
    let mut backoff = Backoff::new(
        Duration::from_millis(100),
        Duration::from_secs(5),
        retry::seed(&site),
    );
    loop {
        let event = tokio::select! {
            () = cancel.cancelled() => return,
            e = eventloop.poll() => e,
        };
        match event {
            Ok(MqttEvent::Incoming(Packet::ConnAck(_))) => {
                tracing::info!("connected to MQTT broker");
                state.0.send_replace(LinkState::Connected);
                backoff.reset();
                if let Err(err) = client.try_subscribe(scanner::up_filter(&site), QoS::AtLeastOnce)
                {
                    tracing::error!(%err, "cannot subscribe to handheld topics");
                }
            }
            Ok(MqttEvent::Incoming(Packet::Publish(p))) => {
                if let Some((scanner, _)) = scanner::parse_up_topic(&site, &p.topic) {
                    match floods.check(scanner, std::time::Instant::now()) {
                        Verdict::Pass => {}
                        Verdict::Drop => {
                            metrics::counter!(names::HANDHELD_FLOOD_DROPPED_TOTAL).increment(1);
                            let _ = acks.send((p, None));
                            continue;
                        }
                        Verdict::DropAndReport(dropped) => {
                            metrics::counter!(names::HANDHELD_FLOOD_DROPPED_TOTAL).increment(1);
                            tracing::warn!(
                                %scanner,
                                dropped,
                                "handheld sends faster than any picker can; its excess messages are dropped"
                            );
                            let _ = acks.send((p, None));
                            continue;
                        }
                    }
                }
                let receipt = match decode(&site, &p) {
                    Ok(event) => {
                        let (inbound, receipt) = Inbound::with_receipt(event);
                        if events.send(inbound).await.is_err() {
                            return;
                        }
                        Some(receipt)
                    }
                    Err(Some((scanner, refusal))) => {
                        tracing::warn!(%scanner, topic = %p.topic, %refusal, "handheld message refused");
                        let reply = ErrorReply::new(
                            scanner::answer_version(Up::readable_version(&p.payload)),
                            Up::readable_id(&p.payload),
                            refusal,
                        );
                        crate::bus::offer(&out, "handhelds", Outgoing::Error { scanner, reply });
                        None
                    }
                    Err(None) => None,
                };
                let _ = acks.send((p, receipt));
            }
            Ok(_) => {}
            Err(err) => {
                let delay = backoff.next_delay();
                tracing::warn!(%err, retry_in = ?delay, "MQTT connection lost");
                state.0.send_replace(LinkState::BackingOff);
                tokio::select! {
                    () = cancel.cancelled() => return,
                    () = tokio::time::sleep(delay) => {}
                }
                state.0.send_replace(LinkState::Connecting);
            }
        }
    }
}

/// The connection's state, set to stopped however the task holding it ends.
struct StoppedOnDrop(watch::Sender<LinkState>);

impl Drop for StoppedOnDrop {
    fn drop(&mut self) {
        self.0.send_replace(LinkState::Stopped);
    }
}

/// A handheld message as an event; or the handheld and the reason it was refused (`None` when the
/// topic names no handheld, such as a presence message, which is not an order of work).
fn decode(site: &str, p: &Publish) -> Result<Event, Option<(String, Refusal)>> {
    let Some((scanner, kind)) = scanner::parse_up_topic(site, &p.topic) else {
        return Err(None);
    };
    match Up::decode(kind, &p.payload) {
        Ok(msg) => Ok(Event::Scanner {
            scanner: scanner.to_string(),
            msg,
        }),
        Err(e) => Err(Some((scanner.to_string(), e.refusal()))),
    }
}

async fn publish(
    site: String,
    client: AsyncClient,
    mut rx: mpsc::Receiver<Outgoing>,
    mut broadcasts: mpsc::Receiver<Broadcast>,
    cancel: CancellationToken,
) {
    let mut broadcasting = true;
    loop {
        let (topic, payload, handed) = tokio::select! {
            () = cancel.cancelled() => return,
            m = rx.recv() => match m {
                Some(msg) => {
                    let (topic, payload) = match &msg {
                        Outgoing::Direction { scanner, direction } => (
                            scanner::down_topic(&site, scanner, "direction"),
                            serde_json::to_vec(direction),
                        ),
                        Outgoing::Error { scanner, reply } => (
                            scanner::down_topic(&site, scanner, "error"),
                            Ok(reply.payload()),
                        ),
                    };
                    (topic, payload.expect("messages serialise"), None)
                }
                None => return,
            },
            b = broadcasts.recv(), if broadcasting => match b {
                Some(b) => (format!("floorctl/{site}/events/{}", b.kind), b.body, Some(b.handed)),
                None => {
                    broadcasting = false;
                    continue;
                }
            },
        };
        match client
            .publish(topic, QoS::AtLeastOnce, false, payload)
            .await
        {
            Ok(()) => {
                if let Some(handed) = handed {
                    let _ = handed.send(());
                }
            }
            Err(err) => tracing::error!(%err, "cannot queue a message for the broker"),
        }
    }
}

/// Acknowledges handheld messages in arrival order, each once its event is journalled.
async fn acknowledge(
    client: AsyncClient,
    mut rx: mpsc::UnboundedReceiver<(Publish, Option<oneshot::Receiver<crate::bus::Outcome>>)>,
    cancel: CancellationToken,
) {
    loop {
        let (publish, receipt) = tokio::select! {
            () = cancel.cancelled() => return,
            m = rx.recv() => match m { Some(m) => m, None => return },
        };
        if let Some(receipt) = receipt {
            // Not journalled (controller stopping): leave it unacknowledged for redelivery.
            if receipt.await.is_err() {
                return;
            }
        }
        if let Err(err) = client.ack(&publish).await {
            tracing::warn!(%err, "cannot acknowledge a handheld message");
        }
    }
}

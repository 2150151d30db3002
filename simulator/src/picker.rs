//! A virtual picker: a real MQTT client that follows the controller's directions on its
//! handheld — scans the location and the SKU, confirms the quantity or reports a short, closes
//! totes and puts them on the conveyor — and makes the mistakes real pickers make.

use std::collections::HashSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use floorctl_protocol::routing::{Stop as Place, Warehouse};
use floorctl_protocol::scanner::{
    down_topic, up_topic, Direction, ErrorReply, Expect, ScanWhat, Task, Up, UpBody, SCHEMA_VERSION,
};
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use rumqttc::{AsyncClient, Event, LastWill, MqttOptions, Packet, QoS};
use tokio::sync::mpsc;
use tokio::time::{sleep_until, Instant};
use tokio_util::sync::CancellationToken;

use crate::floor::Floor;

/// How a virtual picker connects, how fast it works and how it errs.
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
    /// Time to walk to a location and pick one line (split between the walk and the scans).
    pub pick_ms: u64,
    /// Time to close a tote and carry it to the conveyor.
    pub deliver_ms: u64,
    /// Time without an answer after which the handheld sends its last message again.
    pub resync_ms: u64,
    /// Chance that a scan reads the wrong label first (the handheld refuses it; the picker then
    /// scans the right one).
    pub wrong_scan_rate: f64,
    /// Chance that a location holds fewer units than directed.
    pub short_rate: f64,
    /// Chance that the tote is full before a line after the first.
    pub tote_full_rate: f64,
    /// Goes offline (connection dropped, no goodbye) right after confirming its `.0`-th line
    /// (mid-order, holding work), for `.1` ms.
    pub offline: Option<(u32, u64)>,
    /// Seed of the mistakes.
    pub seed: u64,
    /// The pick area to walk and the walking speed; without it a line's walk is in `pick_ms`.
    pub walk: Option<Walk>,
    /// Metres walked by every picker together, in millimetres.
    pub walked_mm: Arc<AtomicU64>,
    /// Password for the broker (the handheld id is the user name); none: no login.
    pub password: Option<String>,
}

/// Walking the pick area: from the depot to each location along the aisles' and cross-aisles'
/// centre lines and back to the depot (where the conveyor takes the totes).
#[derive(Debug, Clone)]
pub struct Walk {
    /// The pick area with its slots.
    pub area: Warehouse,
    /// Walking speed, m/s.
    pub speed_m_s: f64,
}

/// The content of an MQTT message the handheld acts on.
enum Inbound {
    Connected,
    Direction(Direction),
    Error(ErrorReply),
}

enum Action {
    Send(UpBody),
    Place(u32),
}

/// The label a mistaken scan reads.
const WRONG_CODE: &str = "NOT-THIS-ONE";

/// Runs one picker until `cancel` fires.
pub async fn run(cfg: PickerConfig, floor: Arc<Mutex<Floor>>, cancel: CancellationToken) {
    let mut handheld = Handheld::new(&cfg);
    let mut offline = cfg.offline;
    loop {
        let (client, poller, rx) = connect(&cfg, cancel.clone());
        handheld.client = Some(client.clone());
        // Online until cancelled, or until the planned outage starts.
        let outage = offline
            .take()
            .map(|(after, dur)| (after, Duration::from_millis(dur)));
        let until = outage.map(|(after, _)| after);
        let stopped = work(&cfg, &mut handheld, rx, &floor, &cancel, until).await;
        match (stopped, outage) {
            (Stop::Cancelled, _) | (Stop::Outage, None) => {
                let _ = client.disconnect().await;
                let _ = poller.await;
                return;
            }
            (Stop::Outage, Some((_, dur))) => {
                // Dropped without a goodbye: the broker publishes the last will.
                poller.abort();
                let _ = poller.await;
                tracing::info!(scanner = %cfg.scanner, "handheld offline");
                tokio::select! {
                    () = cancel.cancelled() => return,
                    () = tokio::time::sleep(dur) => {}
                }
                tracing::info!(scanner = %cfg.scanner, "handheld back online");
            }
        }
    }
}

fn connect(
    cfg: &PickerConfig,
    cancel: CancellationToken,
) -> (
    AsyncClient,
    tokio::task::JoinHandle<()>,
    mpsc::Receiver<Inbound>,
) {
    let will = Up {
        v: SCHEMA_VERSION,
        id: format!("{}-will", cfg.scanner),
        seq: None,
        body: UpBody::Presence { online: false },
    };
    // The client id is the broker's key for a session. Logged in, it is the handheld's user
    // name (brokers bind the two); anonymous, it carries the site, unique across the sites
    // sharing one broker, where handheld ids repeat.
    let client_id = match cfg.password {
        Some(_) => cfg.scanner.clone(),
        None => format!("{}-{}", cfg.site, cfg.scanner),
    };
    let mut opts = MqttOptions::new(client_id, &cfg.host, cfg.port);
    opts.set_clean_session(false)
        .set_keep_alive(Duration::from_secs(5))
        .set_last_will(LastWill::new(
            up_topic(&cfg.site, &cfg.scanner, "presence"),
            serde_json::to_vec(&will).expect("messages serialise"),
            QoS::AtLeastOnce,
            true,
        ));
    if let Some(password) = &cfg.password {
        opts.set_credentials(cfg.scanner.clone(), password.clone());
    }
    let (client, eventloop) = AsyncClient::new(opts, 64);
    let (tx, rx) = mpsc::channel(64);
    let poller = tokio::spawn(poll(eventloop, tx, cancel, cfg.scanner.clone()));
    (client, poller, rx)
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
            Ok(Event::Incoming(Packet::Publish(p))) if p.topic.ends_with("/error") => {
                serde_json::from_slice::<ErrorReply>(&p.payload)
                    .ok()
                    .map(Inbound::Error)
            }
            Ok(Event::Incoming(Packet::Publish(p))) => {
                serde_json::from_slice::<Direction>(&p.payload)
                    .ok()
                    .map(Inbound::Direction)
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

/// The handheld's outgoing side: message ids and counters unique across restarts, and the last
/// message kept so that it can be sent again, under the same id, when no answer comes.
struct Handheld<'a> {
    cfg: &'a PickerConfig,
    client: Option<AsyncClient>,
    session: u32,
    sent: u64,
    last: Option<Up>,
    rng: SmallRng,
    /// The right message to send after a deliberate mistake is refused.
    correction: Option<UpBody>,
    /// Where the picker stands, when it walks the pick area.
    at: Option<Place>,
}

impl<'a> Handheld<'a> {
    fn new(cfg: &'a PickerConfig) -> Handheld<'a> {
        let session = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos())
            ^ std::process::id();
        let seed = cfg.scanner.bytes().fold(cfg.seed, |h, b| {
            h.wrapping_mul(31).wrapping_add(u64::from(b))
        });
        Handheld {
            cfg,
            client: None,
            session,
            sent: 0,
            last: None,
            rng: SmallRng::seed_from_u64(seed),
            correction: None,
            at: cfg.walk.as_ref().map(|w| w.area.depot()),
        }
    }

    /// Walks to `location` (the depot when `None`) and returns the time it takes; a location
    /// the pick area does not name costs no walk.
    fn walk_to(&mut self, location: Option<&str>) -> u64 {
        let (Some(walk), Some(from)) = (&self.cfg.walk, self.at) else {
            return 0;
        };
        let to = match location {
            None => walk.area.depot(),
            Some(l) => match walk.area.slots.get(l) {
                Some(p) => walk.area.stop(*p),
                None => return 0,
            },
        };
        let metres = walk.area.distance(from, to);
        self.at = Some(to);
        self.cfg
            .walked_mm
            .fetch_add((metres * 1000.0) as u64, Ordering::Relaxed);
        (metres / walk.speed_m_s * 1000.0) as u64
    }

    async fn send(&mut self, body: UpBody) {
        self.sent += 1;
        let msg = Up {
            v: SCHEMA_VERSION,
            id: format!("{}-{:08x}-{}", self.cfg.scanner, self.session, self.sent),
            seq: Some((u64::from(self.session) << 24) + self.sent),
            body,
        };
        self.publish(&msg, false).await;
        self.last = Some(msg);
    }

    async fn hello(&mut self) {
        let presence = Up {
            v: SCHEMA_VERSION,
            id: format!("{}-{:08x}-online", self.cfg.scanner, self.session),
            seq: None,
            body: UpBody::Presence { online: true },
        };
        self.publish(&presence, true).await;
        let picker = format!("picker-{}", self.cfg.scanner);
        let session = Some(format!("{:08x}", self.session));
        self.send(UpBody::Login { picker, session }).await;
    }

    /// No answer: send the last message again under its id (the controller answers a
    /// re-delivery as it answered the first), or log in when there was none.
    async fn resend(&mut self) {
        match self.last.clone() {
            Some(msg) => self.publish(&msg, false).await,
            None => self.hello().await,
        }
    }

    async fn publish(&self, msg: &Up, retain: bool) {
        let Some(client) = &self.client else { return };
        let topic = up_topic(&self.cfg.site, &self.cfg.scanner, msg.body.kind());
        let payload = serde_json::to_vec(msg).expect("messages serialise");
        if let Err(err) = client
            .publish(topic, QoS::AtLeastOnce, retain, payload)
            .await
        {
            tracing::warn!(scanner = %self.cfg.scanner, %err, "handheld cannot queue a message");
        }
    }

    /// What the picker does for a direction: the right message, or now and then a wrong scan or
    /// a short (the right one is kept to follow the refusal).
    fn respond(&mut self, task: Task) -> Option<(u64, Action)> {
        let scan_ms = self.cfg.pick_ms / 4;
        let scan = |rng: &mut SmallRng, correction: &mut Option<UpBody>, what, code: String| {
            let right = UpBody::Scan { what, code };
            if rng.gen_bool(self.cfg.wrong_scan_rate.clamp(0.0, 1.0)) {
                *correction = Some(right);
                UpBody::Scan {
                    what,
                    code: WRONG_CODE.into(),
                }
            } else {
                right
            }
        };
        match task {
            Task::Offer { .. } => Some((scan_ms, Action::Send(UpBody::Accept))),
            Task::Replenish { task, to, qty, .. } => {
                let walk_ms = self.walk_to(Some(&to));
                Some((
                    self.cfg.pick_ms + walk_ms,
                    Action::Send(UpBody::Replenished { task, qty }),
                ))
            }
            Task::Pick {
                order,
                line,
                location,
                sku,
                qty,
                tote,
                expect,
                ..
            } => Some(match expect {
                Expect::Location
                    if line > 0 && self.rng.gen_bool(self.cfg.tote_full_rate.clamp(0.0, 1.0)) =>
                {
                    (scan_ms, Action::Send(UpBody::ToteFull { tote }))
                }
                Expect::Location => {
                    let walk_ms = self.walk_to(Some(&location));
                    let body = scan(
                        &mut self.rng,
                        &mut self.correction,
                        ScanWhat::Location,
                        location,
                    );
                    (self.cfg.pick_ms / 2 + walk_ms, Action::Send(body))
                }
                Expect::Sku => {
                    let body = scan(&mut self.rng, &mut self.correction, ScanWhat::Sku, sku);
                    (scan_ms, Action::Send(body))
                }
                Expect::Quantity if self.rng.gen_bool(self.cfg.short_rate.clamp(0.0, 1.0)) => {
                    let found = self.rng.gen_range(0..qty);
                    let body = UpBody::Short {
                        order,
                        line,
                        found,
                        tote,
                    };
                    (scan_ms, Action::Send(body))
                }
                Expect::Quantity => (
                    scan_ms,
                    Action::Send(UpBody::Pick {
                        order,
                        line,
                        qty,
                        tote,
                    }),
                ),
            }),
            Task::CloseTote { tote } => Some((
                self.cfg.pick_ms / 2,
                Action::Send(UpBody::ToteClosed { tote }),
            )),
            Task::ToteComplete { tote, .. } => {
                let walk_ms = self.walk_to(None);
                Some((self.cfg.deliver_ms + walk_ms, Action::Place(tote)))
            }
            Task::Wait | Task::Paused | Task::LoggedOut => None,
        }
    }
}

/// Why [`work`] returned.
enum Stop {
    Cancelled,
    Outage,
}

async fn work(
    cfg: &PickerConfig,
    handheld: &mut Handheld<'_>,
    mut rx: mpsc::Receiver<Inbound>,
    floor: &Arc<Mutex<Floor>>,
    cancel: &CancellationToken,
    until: Option<u32>,
) -> Stop {
    let mut lines_confirmed = 0u32;
    let mut outage_at: Option<Instant> = None;
    let mut current: Option<String> = None;
    let mut pending: Option<(Instant, Action)> = None;
    let mut placed = HashSet::new();
    let mut waiting_since: Option<Instant> = None;
    // A handheld with nothing to do logs in again now and then, as real ones do, so a direction
    // lost on the way is found again.
    let mut idle_since = Instant::now();
    let far = Instant::now() + Duration::from_secs(3600);
    loop {
        let due = pending.as_ref().map_or(far, |(d, _)| *d);
        let resync = match waiting_since {
            Some(w) => w + Duration::from_millis(cfg.resync_ms),
            None if pending.is_none() => idle_since + Duration::from_millis(4 * cfg.resync_ms),
            None => far,
        };
        let at = |ms| Instant::now() + Duration::from_millis(ms);
        tokio::select! {
            () = cancel.cancelled() => return Stop::Cancelled,
            () = sleep_until(outage_at.unwrap_or(far)), if outage_at.is_some() => return Stop::Outage,
            // Once the outage is coming nothing more is done: the handheld is dropping off.
            inbound = rx.recv(), if outage_at.is_none() => match inbound {
                None => return Stop::Cancelled,
                Some(Inbound::Connected) => {
                    if let Some(c) = &handheld.client {
                        let _ = c.subscribe(down_topic(&cfg.site, &cfg.scanner, "#"), QoS::AtLeastOnce).await;
                    }
                    handheld.hello().await;
                    waiting_since = Some(Instant::now());
                }
                Some(Inbound::Error(e)) => {
                    waiting_since = None;
                    idle_since = Instant::now();
                    match handheld.correction.take() {
                        // The mistake was noticed: scan the right label.
                        Some(body) => pending = Some((at(cfg.pick_ms / 4), Action::Send(body))),
                        None => tracing::debug!(scanner = %cfg.scanner, reason = %e.reason, "refused"),
                    }
                }
                Some(Inbound::Direction(d)) => {
                    if current.as_deref() == Some(d.id.as_str()) {
                        // Unchanged. While an answer is awaited it says nothing; to an idle
                        // handheld's login it says to carry on with it.
                        if waiting_since.is_none() && pending.is_none() {
                            idle_since = Instant::now();
                            pending = handheld.respond(d.task).map(|(ms, a)| (at(ms), a));
                        }
                        continue;
                    }
                    current = Some(d.id.clone());
                    waiting_since = None;
                    idle_since = Instant::now();
                    handheld.correction = None;
                    pending = handheld.respond(d.task).map(|(ms, a)| (at(ms), a));
                }
            },
            () = sleep_until(due), if pending.is_some() && outage_at.is_none() => {
                match pending.take().map(|(_, a)| a) {
                    Some(Action::Send(body)) => {
                        let confirms = matches!(body, UpBody::Pick { .. } | UpBody::Short { .. });
                        handheld.send(body).await;
                        if confirms {
                            lines_confirmed += 1;
                            if until == Some(lines_confirmed) {
                                // Let the confirmation leave, then drop off the network.
                                outage_at = Some(Instant::now() + Duration::from_millis(100));
                            }
                        }
                    }
                    Some(Action::Place(tote)) if placed.insert(tote) => {
                        floor.lock().unwrap_or_else(|p| p.into_inner()).place_tote(tote);
                    }
                    Some(Action::Place(_)) | None => {}
                }
                waiting_since = Some(Instant::now());
            }
            () = sleep_until(resync), if waiting_since.is_some() || pending.is_none() => {
                if waiting_since.is_some() {
                    handheld.resend().await;
                    waiting_since = Some(Instant::now());
                } else {
                    handheld.hello().await;
                    idle_since = Instant::now();
                }
            }
        }
    }
}

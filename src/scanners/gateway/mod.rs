//! The embedded broker's front door. Handhelds and the controller connect here; each CONNECT is
//! checked against the handheld password file, and every PUBLISH and SUBSCRIBE against the
//! topic rules (a handheld writes only its own `up/`, reads only its own `down/`). Accepted
//! connections are passed to the broker behind, which listens on loopback and admits only the
//! gateway. Both sockets send at once (no Nagle delay) and acknowledge the broker's segments at
//! once, so a direction is not held back by a delayed ACK.

mod acl;
mod packet;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use super::passwd::Passwords;
use crate::bus::Inbound;
use crate::connections::{Admission, Limits};
use crate::scanners::Credentials;
use crate::telemetry::names;
use crate::throttle::Throttle;
use acl::Role;
use floorctl_core::Event;
use packet::{connack, read_frame, Connect, Frame, CONNECT, PUBLISH, SUBSCRIBE};
use tokio::sync::mpsc;

/// Largest packet passed on; the broker behind applies its own payload limit.
const MAX_PACKET: usize = 64 * 1024;
/// Time a new connection has to send its CONNECT.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// What the gateway checks against and where it passes connections on.
pub(super) struct Gateway {
    /// Handhelds' passwords; none: every client is let in unchecked.
    pub handhelds: Option<Passwords>,
    /// The controller's own login.
    pub controller: Credentials,
    /// The login the broker behind admits.
    pub inner: Credentials,
    /// The broker behind.
    pub broker: SocketAddr,
    /// Failed logins by handheld id and by peer address.
    pub logins: Throttle,
    pub peers: Throttle,
    /// Where logins refused again and again are told (the controller's core: an alarm).
    pub alarms: Option<mpsc::Sender<Inbound>>,
}

/// Failed logins a handheld id may have in a row before each attempt waits (1 s, doubling).
pub(super) const FREE_FAILURES_PER_HANDHELD: u32 = 5;
/// The same for one address (handhelds behind one access point share it: more).
pub(super) const FREE_FAILURES_PER_PEER: u32 = 50;
/// The longest wait between two attempts.
pub(super) const MAX_LOGIN_WAIT: Duration = Duration::from_secs(300);

impl Gateway {
    /// Throttles for failed logins with the gateway's limits.
    pub(super) fn throttles() -> (Throttle, Throttle) {
        let first = Duration::from_secs(1);
        (
            Throttle::new(FREE_FAILURES_PER_HANDHELD, first, MAX_LOGIN_WAIT),
            Throttle::new(FREE_FAILURES_PER_PEER, first, MAX_LOGIN_WAIT),
        )
    }
}

/// Connections the gateway serves at once (each logged-in one is a handheld or a controller:
/// one connection per handheld id, since its client id is its login).
const MAX_CONNECTIONS: usize = 8_192;
/// Connections not yet logged in, in all and from one address.
const MAX_PENDING: usize = 1_024;
const MAX_PENDING_PER_PEER: usize = 64;
/// Largest CONNECT read before the login is checked.
const MAX_CONNECT: usize = 4 * 1024;

/// Accepts connections until the listener fails. Connections beyond the caps are closed at
/// once; one not logged in within [`CONNECT_TIMEOUT`] is closed.
pub(super) async fn serve(listener: TcpListener, gateway: Arc<Gateway>) {
    // Logged-in connections end when the broker behind drops them (MQTT keep-alive): no idle
    // limit of the gateway's own.
    let idle = Duration::from_secs(24 * 3600);
    // Three file handles a logged-in connection (the client's, the gateway's to the broker and
    // the broker's own): a quarter of the handles left, in connections, is three quarters.
    let all = Limits::new("mqtt", MAX_CONNECTIONS, 0.25, MAX_CONNECTIONS, idle);
    let pending = Limits::new("mqtt_login", MAX_PENDING, 0.1, MAX_PENDING_PER_PEER, idle);
    loop {
        let (socket, peer) = all.accept(&listener).await;
        let Some(waiting) = pending.admit(peer.ip()) else {
            metrics::counter!(names::CONNECTIONS_REFUSED_TOTAL, "listener" => "mqtt_login")
                .increment(1);
            continue;
        };
        let g = gateway.clone();
        tokio::spawn(async move {
            let (socket, _place) = socket.into_parts();
            if let Err(reason) = socket.set_nodelay(true) {
                tracing::warn!(%peer, %reason, "MQTT connection closed by the gateway");
                return;
            }
            if let Err(reason) = connection(socket, peer, Some(waiting), &g).await {
                metrics::counter!(names::MQTT_GATEWAY_CLOSED_TOTAL).increment(1);
                tracing::warn!(%peer, reason, "MQTT connection closed by the gateway");
            }
        });
    }
}

/// Serves one MQTT connection over any byte stream (a TCP socket, a WebSocket's messages):
/// the CONNECT checked, then every packet both ways until either side ends.
pub(super) async fn connection<S>(
    client: S,
    peer: SocketAddr,
    waiting: Option<Admission>,
    g: &Gateway,
) -> Result<(), String>
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Send + Unpin,
{
    let (from_client, mut to_client) = tokio::io::split(client);
    // Frames are read a few bytes at a time: from a buffer, not a system call each. Small: a
    // connection not logged in holds little.
    let mut from_client = tokio::io::BufReader::with_capacity(2 * 1024, from_client);
    let first = tokio::time::timeout(CONNECT_TIMEOUT, read_frame(&mut from_client, MAX_CONNECT))
        .await
        .map_err(|_| "no CONNECT within 10 s".to_string())??;
    let Some(first) = first.filter(|f| f.kind() == CONNECT) else {
        return Err("the first packet is not a CONNECT".into());
    };
    let mut connect = Connect::parse(&first.body)?;
    if connect.protocol != "MQTT" || connect.level != 4 {
        let why = format!(
            "protocol {} level {}: only MQTT 3.1.1 is spoken",
            connect.protocol, connect.level
        );
        return refuse(&mut to_client, 1, why).await;
    }
    let Some(role) = authenticate(g, &connect, peer).await else {
        let why = format!(
            "client `{}`: bad user name or password for `{}`",
            connect.client_id,
            connect.username.as_deref().unwrap_or("")
        );
        return refuse(&mut to_client, 4, why).await;
    };
    if let Err(why) = acl::may_use_client_id(&role, &connect.client_id) {
        return refuse(&mut to_client, 2, why).await;
    }
    if let Some((topic, ..)) = &connect.will {
        if !acl::may_publish(&role, topic) {
            let why = format!("{role:?}: a last will on {topic} is not its to publish");
            return refuse(&mut to_client, 5, why).await;
        }
    }
    drop(waiting);
    connect.username = Some(g.inner.username.clone());
    connect.password = Some(g.inner.password.clone().into_bytes());
    let broker = TcpStream::connect(g.broker)
        .await
        .map_err(|e| format!("embedded broker at {}: {e}", g.broker))?;
    broker.set_nodelay(true).map_err(|e| e.to_string())?;
    let (mut from_broker, mut to_broker) = broker.into_split();
    to_broker
        .write_all(&connect.to_frame().to_bytes())
        .await
        .map_err(|e| e.to_string())?;
    let down = async {
        let mut buf = vec![0u8; 16 * 1024];
        loop {
            let n = from_broker
                .read(&mut buf)
                .await
                .map_err(|e| e.to_string())?;
            if n == 0 {
                return Ok(());
            }
            ack_now(from_broker.as_ref());
            to_client
                .write_all(&buf[..n])
                .await
                .map_err(|e| e.to_string())?;
        }
    };
    let up = async {
        while let Some(frame) = read_frame(&mut from_client, MAX_PACKET).await? {
            check(&role, &frame)?;
            to_broker
                .write_all(&frame.to_bytes())
                .await
                .map_err(|e| e.to_string())?;
        }
        Ok(())
    };
    // Whichever side ends, both sockets close; the broker then publishes the client's will.
    tokio::select! {
        r = down => r,
        r = up => r,
    }
}

/// Answers a CONNECT with a refusal code and ends the connection.
async fn refuse(
    to_client: &mut (impl tokio::io::AsyncWrite + Unpin),
    code: u8,
    why: String,
) -> Result<(), String> {
    let _ = to_client.write_all(&connack(code).to_bytes()).await;
    let code = match code {
        1 => "protocol",
        2 => "client_id",
        4 => "login",
        _ => "will",
    };
    metrics::counter!(names::MQTT_REFUSED_TOTAL, "reason" => code).increment(1);
    Err(why)
}

/// The role of a CONNECT's login, or `None` when it is refused. A handheld id or address
/// that failed again and again waits before it may try (the right password is refused while it
/// waits); an unknown id costs as much time as a known one, so ids cannot be told by timing.
async fn authenticate(g: &Gateway, c: &Connect, peer: SocketAddr) -> Option<Role> {
    let user = c.username.clone().unwrap_or_default();
    let password = c.password.clone().unwrap_or_default();
    if user == g.controller.username && same(&password, g.controller.password.as_bytes()) {
        return Some(Role::Controller);
    }
    let Some(passwords) = &g.handhelds else {
        return Some(Role::Open);
    };
    let now = std::time::Instant::now();
    let (user_key, peer_key) = (format!("handheld {user}"), format!("address {}", peer.ip()));
    if g.logins
        .wait(&user_key, now)
        .or(g.peers.wait(&peer_key, now))
        .is_some()
    {
        metrics::counter!(names::MQTT_REFUSED_TOTAL, "reason" => "throttled").increment(1);
        return None;
    }
    // Hashing takes milliseconds: off the async threads.
    let passwords = passwords.clone();
    let user2 = user.clone();
    let ok = tokio::task::spawn_blocking(move || passwords.verify(&user2, &password))
        .await
        .unwrap_or(false);
    if ok {
        g.logins.succeeded(&user_key);
        g.peers.succeeded(&peer_key);
        return Some(acl::of_login(user));
    }
    for (key, failed) in [
        (&user_key, g.logins.failed(&user_key, now)),
        (&peer_key, g.peers.failed(&peer_key, now)),
    ] {
        if failed.locked_now {
            metrics::counter!(names::MQTT_LOGIN_BURSTS_TOTAL).increment(1);
            tracing::warn!(%key, failures = failed.count, "MQTT logins refused again and again; further attempts wait");
            if let Some(alarms) = &g.alarms {
                let event = Event::LoginsRefused {
                    source: format!("MQTT login, {key}"),
                    failures: failed.count,
                };
                // Never waits: a full channel means the core is busy, and the log has it.
                let _ = alarms.try_send(Inbound::new(event));
            }
        }
    }
    None
}

/// Whether two secrets are equal, comparing every byte.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// A client's packet is passed on only when its role allows it.
fn check(role: &Role, frame: &Frame) -> Result<(), String> {
    match frame.kind() {
        CONNECT => Err("a second CONNECT".into()),
        PUBLISH => {
            let topic = packet::publish_topic(&frame.body)?;
            if acl::may_publish(role, &topic) {
                Ok(())
            } else {
                Err(format!("{role:?} may not publish to {topic}"))
            }
        }
        SUBSCRIBE => {
            for f in packet::subscribe_filters(&frame.body)? {
                if !acl::may_subscribe(role, &f) {
                    return Err(format!("{role:?} may not subscribe to {f}"));
                }
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

/// Acknowledges what the broker sent at once, so its next small packet is not held back.
fn ack_now(socket: &TcpStream) {
    #[cfg(target_os = "linux")]
    {
        let _ = socket2::SockRef::from(socket).set_tcp_quickack(true);
    }
    #[cfg(not(target_os = "linux"))]
    let _ = socket;
}

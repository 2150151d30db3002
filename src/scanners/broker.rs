//! The embedded MQTT broker (rumqttd behind floorctl's gateway), started when no external
//! broker is configured.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;

use floorctl_protocol::scanner::up_filter;
use rand::RngCore;
use rumqttd::{Broker, Config, ConnectionSettings, RouterConfig, SegmentConfig, ServerSettings};
use tokio::net::TcpListener;
use tokio::sync::mpsc;

use super::gateway::{self, Gateway};
use super::passwd::Passwords;
use super::websocket::Door;
use crate::bus::Inbound;
use crate::scanners::Credentials;

/// The embedded broker could not start.
#[derive(Debug, thiserror::Error)]
pub enum BrokerError {
    /// The listen address is taken or not available.
    #[error("the embedded MQTT broker cannot listen on {addr}: {source}; set mqtt.embedded_listen to a free address or point mqtt.broker at a running broker")]
    Listen {
        /// Address.
        addr: SocketAddr,
        /// Cause.
        source: std::io::Error,
    },
}

/// Starts the embedded broker with its gateway listening on `listen` and returns the login the
/// controller uses on it. With `handhelds`, every handheld logs in with its id and password and
/// is confined to its own topics; without, clients are let in unchecked. The broker runs on its
/// own thread for the life of the process (rumqttd has no shutdown).
pub async fn start_embedded(
    listen: SocketAddr,
    handhelds: Option<Passwords>,
) -> Result<Credentials, BrokerError> {
    Ok(start_embedded_with_alarms(listen, handhelds, None)
        .await?
        .controller)
}

/// A started embedded broker.
#[derive(Debug)]
pub struct Embedded {
    /// The login the controller uses on it.
    pub controller: Credentials,
    /// Its door for MQTT over WebSocket (the handheld app).
    pub door: Door,
}

/// As [`start_embedded`], the gateway handing `alarms` an event when logins of one handheld
/// or address fail again and again.
pub async fn start_embedded_with_alarms(
    listen: SocketAddr,
    handhelds: Option<Passwords>,
    alarms: Option<mpsc::Sender<Inbound>>,
) -> Result<Embedded, BrokerError> {
    let listen_err = |addr, source| BrokerError::Listen { addr, source };
    let listener = TcpListener::bind(listen)
        .await
        .map_err(|e| listen_err(listen, e))?;
    // The broker itself listens on a loopback port of its own and admits only the gateway.
    let inner_addr = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map_err(|e| listen_err(listen, e))?;
    let inner = Credentials {
        username: "floorctl-gateway".into(),
        password: secret(),
    };
    let controller = Credentials {
        username: "floorctl".into(),
        password: secret(),
    };
    let server = ServerSettings {
        name: "floorctl-v4".into(),
        listen: inner_addr,
        tls: None,
        next_connection_delay_ms: 1,
        connections: ConnectionSettings {
            connection_timeout_ms: 60_000,
            max_payload_size: 20_480,
            // The controller's one connection carries every handheld's traffic: at the old
            // limits (100 in flight, 200 queued out) a burst paused it for seconds.
            max_inflight_count: 1_000,
            auth: Some(HashMap::from([(
                inner.username.clone(),
                inner.password.clone(),
            )])),
            external_auth: None,
            dynamic_filters: true,
        },
    };
    let config = Config {
        id: 0,
        router: RouterConfig {
            max_connections: 10_010,
            max_outgoing_packet_count: 10_000,
            // The broker keeps what was published to each subscribed filter in a log of its own
            // until the log is full, however long ago it was read, and each log segment reserves
            // room for 1,024 messages (about 240 KB) when it is made. A handheld's filter needs
            // only its newest directions: one segment of 32 KB, so a handheld costs about 270 KB
            // however long the controller runs. The controller's filter of every handheld's
            // messages keeps 4 segments of 8 MB: minutes of traffic at peak (500 messages/s)
            // should the controller stop reading a while.
            max_segment_size: 32 * 1024,
            max_segment_count: 1,
            custom_segment: Some(HashMap::from([(
                up_filter("+"),
                SegmentConfig {
                    max_segment_size: 8 * 1024 * 1024,
                    max_segment_count: 4,
                },
            )])),
            ..RouterConfig::default()
        },
        v4: Some(HashMap::from([("v4".to_string(), server)])),
        ..Config::default()
    };
    std::thread::Builder::new()
        .name("mqtt-broker".into())
        .spawn(move || {
            let mut broker = Broker::new(config);
            if let Err(err) = broker.start() {
                tracing::error!(%err, "embedded MQTT broker stopped");
            }
        })
        .map_err(|e| listen_err(inner_addr, e))?;
    // rumqttd binds inside its thread and reports nothing back: wait until it answers.
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(5);
    while tokio::net::TcpStream::connect(inner_addr).await.is_err() {
        if tokio::time::Instant::now() > deadline {
            return Err(listen_err(
                inner_addr,
                std::io::Error::other("the broker did not start listening within 5 s"),
            ));
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    if handhelds.is_none() {
        tracing::warn!(%listen, "embedded MQTT broker without a handheld password file: any client may connect and act as any handheld");
    }
    let (logins, peers) = Gateway::throttles();
    let gateway = Gateway {
        handhelds,
        controller: controller.clone(),
        inner,
        broker: inner_addr,
        logins,
        peers,
        alarms,
    };
    let gateway = Arc::new(gateway);
    tokio::spawn(gateway::serve(listener, gateway.clone()));
    Ok(Embedded {
        controller,
        door: Door::new(gateway),
    })
}

/// A random password for a login that never leaves the process.
fn secret() -> String {
    let mut bytes = [0u8; 24];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

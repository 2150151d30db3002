//! MQTT over WebSocket, for the handheld app in a browser: each WebSocket's binary messages are
//! the bytes of one MQTT connection, served by the embedded broker's gateway exactly as a TCP
//! one (the same logins, topic rules and failed-login waits, keyed by the browser's address).

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::ws::{Message, WebSocket};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::gateway::{self, Gateway};
use crate::telemetry::names;

/// The WebSocket subprotocol MQTT clients ask for (MQTT 3.1.1, section 6).
pub const SUBPROTOCOL: &str = "mqtt";
/// Largest WebSocket message taken: an MQTT packet the gateway passes on, with room to spare.
pub const MAX_MESSAGE: usize = 128 * 1024;
/// Bytes buffered between the WebSocket and the gateway each way.
const BUFFER: usize = 32 * 1024;

/// The embedded broker's door for WebSocket connections; cheap to clone.
#[derive(Clone)]
pub struct Door {
    gateway: Arc<Gateway>,
}

impl std::fmt::Debug for Door {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Door")
    }
}

impl Door {
    pub(super) fn new(gateway: Arc<Gateway>) -> Door {
        Door { gateway }
    }

    /// Serves one WebSocket from `peer` until either side ends it.
    pub async fn serve(&self, socket: WebSocket, peer: SocketAddr) {
        let (ours, theirs) = tokio::io::duplex(BUFFER);
        let mqtt = async {
            if let Err(reason) = gateway::connection(ours, peer, None, &self.gateway).await {
                metrics::counter!(names::MQTT_GATEWAY_CLOSED_TOTAL).increment(1);
                tracing::warn!(%peer, reason, "MQTT WebSocket closed by the gateway");
            }
        };
        tokio::join!(mqtt, pump(socket, theirs));
    }
}

/// Carries bytes between the WebSocket and the gateway's end of the stream until either ends.
async fn pump(mut socket: WebSocket, stream: tokio::io::DuplexStream) {
    let (mut from_gateway, mut to_gateway) = tokio::io::split(stream);
    let mut buf = vec![0u8; BUFFER];
    loop {
        tokio::select! {
            m = socket.recv() => match m {
                Some(Ok(Message::Binary(bytes))) => {
                    if to_gateway.write_all(&bytes).await.is_err() {
                        break;
                    }
                }
                // Pings are answered by the WebSocket layer; MQTT is carried in binary only.
                Some(Ok(Message::Ping(_) | Message::Pong(_))) => {}
                Some(Ok(Message::Text(_))) => {
                    tracing::warn!("MQTT WebSocket sent text, not MQTT packets; closed");
                    break;
                }
                Some(Ok(Message::Close(_)) | Err(_)) | None => break,
            },
            n = from_gateway.read(&mut buf) => match n {
                Ok(n) if n > 0 => {
                    let bytes = axum::body::Bytes::copy_from_slice(&buf[..n]);
                    if socket.send(Message::Binary(bytes)).await.is_err() {
                        break;
                    }
                }
                _ => break,
            },
        }
    }
    let _ = to_gateway.shutdown().await;
    let _ = socket.send(Message::Close(None)).await;
}

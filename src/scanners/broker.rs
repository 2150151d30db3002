//! The embedded MQTT broker (rumqttd), started when no external broker is configured.

use std::collections::HashMap;
use std::net::SocketAddr;

use rumqttd::{Broker, Config, ConnectionSettings, RouterConfig, ServerSettings};

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

/// Starts the embedded broker on `listen` and returns once it accepts connections. It runs on its
/// own thread for the life of the process (rumqttd has no shutdown).
pub async fn start_embedded(listen: SocketAddr) -> Result<(), BrokerError> {
    // rumqttd binds inside its own thread and reports nothing back, so check the address first.
    std::net::TcpListener::bind(listen).map_err(|source| BrokerError::Listen {
        addr: listen,
        source,
    })?;
    let server = ServerSettings {
        name: "floorctl-v4".into(),
        listen,
        tls: None,
        next_connection_delay_ms: 1,
        connections: ConnectionSettings {
            connection_timeout_ms: 60_000,
            max_payload_size: 20_480,
            max_inflight_count: 100,
            auth: None,
            external_auth: None,
            dynamic_filters: true,
        },
    };
    let config = Config {
        id: 0,
        router: RouterConfig {
            max_connections: 10_010,
            max_outgoing_packet_count: 200,
            max_segment_size: 104_857_600,
            max_segment_count: 10,
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
        .map_err(|source| BrokerError::Listen {
            addr: listen,
            source,
        })?;
    Ok(())
}

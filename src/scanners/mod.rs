//! MQTT adapter: handheld messages in, directions and errors out; the embedded broker.

mod broker;
mod client;
mod flood;
mod gateway;
mod login;
pub mod passwd;
mod websocket;

pub use broker::{start_embedded, start_embedded_with_alarms, BrokerError, Embedded};
pub use client::{spawn, Broadcast, Outgoing};
pub use login::Credentials;
pub use websocket::{
    Door, MAX_MESSAGE as WEBSOCKET_MAX_MESSAGE, SUBPROTOCOL as WEBSOCKET_SUBPROTOCOL,
};

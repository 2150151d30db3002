//! MQTT adapter: handheld messages in, directions and errors out; the embedded broker.

mod broker;
mod client;
mod flood;
mod gateway;
mod login;
pub mod passwd;

pub use broker::{start_embedded, start_embedded_with_alarms, BrokerError};
pub use client::{spawn, Broadcast, Outgoing};
pub use login::Credentials;

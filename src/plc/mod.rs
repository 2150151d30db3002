//! Modbus adapter: one task per PLC that polls its map, turns register changes into events and
//! writes commands with the sequence/acknowledge handshake, keeping the heartbeat alive.

mod chutes;
mod equipment;
mod handshake;
mod link;
mod modbus;
mod signals;
mod sleep;
mod spec;
mod status;

pub use link::{spawn, PlcCommand};
pub use signals::SignalError;
pub use spec::{default_answer_timeout_ms, PlcSpec, DEFAULT_RETRIES, DEFAULT_ZONE_SLEEP_MS};
pub use status::{PlcStatus, StatusBoard};

//! Modbus adapter: one task per PLC that polls its map, turns register changes into events and
//! writes commands with the sequence/acknowledge handshake, keeping the heartbeat alive.

mod equipment;
mod link;

pub use link::{spawn, PlcCommand};

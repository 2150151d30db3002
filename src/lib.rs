//! floorctl: a warehouse floor controller for forward warehouses.

pub mod api;
pub mod bus;
pub mod config;
pub mod connections;
pub mod controller;
pub mod dashboard;
pub mod demo;
pub mod handheld;
pub mod health;
pub mod http_client;
#[cfg(test)]
mod i18n;
pub mod link_state;
pub mod logging;
pub mod network;
pub mod outbox;
pub mod plc;
pub mod rate;
pub mod retry;
pub mod scanners;
pub mod shutdown;
pub mod site;
pub mod slot;
pub mod store;
pub mod telemetry;
pub mod throttle;
pub mod wall_clock;

//! floorctl: a warehouse floor controller for forward warehouses.

pub mod config;
pub mod controller;
pub mod core;
pub mod plc;
pub mod scanners;
pub mod store;
pub mod demo;
pub mod shutdown;

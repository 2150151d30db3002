//! floorctl: a warehouse floor controller for forward warehouses.

pub mod core;
pub mod store;

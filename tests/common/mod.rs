//! What the integration tests share: the test floor, waiting, the checks that everything is
//! accounted for, peers from the environment, and clients (HTTP, the browser, processes).

#![allow(dead_code, unreachable_pub, unused_imports)]

pub mod api;
pub mod cdp;
mod checks;
mod floor;
pub mod http;
mod peers;
pub mod process;
mod wait;

pub use checks::*;
pub use floor::*;
pub use peers::*;
pub use wait::*;

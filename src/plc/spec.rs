//! A PLC ready to connect to: the settings of one link, as the site file gives them.

use std::collections::BTreeMap;
use std::net::SocketAddr;

use floorctl_protocol::map::PlcMap;

/// Default idle time after which a conveyor zone sleeps.
pub const DEFAULT_ZONE_SLEEP_MS: u64 = 10_000;

/// Times an unanswered Modbus request is sent again before the link is declared down.
pub const DEFAULT_RETRIES: u32 = 2;

/// How long a request waits for its answer by default: four poll intervals, at least one second.
pub fn default_answer_timeout_ms(poll_interval_ms: u64) -> u64 {
    poll_interval_ms.max(250) * 4
}

/// A PLC ready to connect to.
#[derive(Debug, Clone)]
pub struct PlcSpec {
    /// Equipment id.
    pub id: String,
    /// Address.
    pub address: SocketAddr,
    /// Unit id.
    pub unit: u8,
    /// Its map.
    pub map: PlcMap,
    /// Poll interval.
    pub poll_interval_ms: u64,
    /// How long a request waits for its answer before it is sent again.
    pub answer_timeout_ms: u64,
    /// Times an unanswered request is sent again before the link is declared down.
    pub retries: u32,
    /// Setpoints to write and verify after each connect.
    pub setpoints: BTreeMap<String, f64>,
    /// Idle time after which a conveyor zone sleeps (0: never).
    pub zone_sleep_after_ms: u64,
    /// Sorters: the site's number of its chute 1 (its chute k is the site's chute
    /// `first_chute + k - 1`); 1 when the site numbers chutes as the sorter does.
    pub first_chute: u16,
}

impl PlcSpec {
    /// A PLC with unit 1, the map's poll interval, no setpoints and the default zone sleep.
    pub fn new(id: &str, address: SocketAddr, map: PlcMap) -> PlcSpec {
        PlcSpec {
            id: id.to_string(),
            address,
            unit: 1,
            poll_interval_ms: map.poll_interval_ms,
            answer_timeout_ms: default_answer_timeout_ms(map.poll_interval_ms),
            retries: DEFAULT_RETRIES,
            setpoints: BTreeMap::new(),
            zone_sleep_after_ms: DEFAULT_ZONE_SLEEP_MS,
            first_chute: 1,
            map,
        }
    }
}

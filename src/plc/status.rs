//! The live status of each PLC link, for the dashboard, the demo and benchmarks.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use floorctl_protocol::packml::State;

use crate::link_state::LinkState;

/// What a PLC link knows now.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PlcStatus {
    /// Where the link stands: connected once the PLC answers with a whole image.
    pub link: LinkState,
    /// When the values were last read whole; older values are stale.
    pub fresh_at: Option<SystemTime>,
    /// Complete poll cycles.
    pub polls: u64,
    /// Modbus exception answers.
    pub exceptions: u64,
    /// Requests sent again because their answer did not come in time.
    pub requests_resent: u64,
    /// Sessions lost (transport failure, timeout, stale heartbeat).
    pub links_lost: u64,
    /// PackML state, when the map has one and the number is known.
    pub state: Option<State>,
    /// Commands written or waiting, not yet acknowledged.
    pub pending_commands: usize,
    /// Energy per conveyor zone since the PLC's power-up.
    pub zone_energy_kwh: Vec<f64>,
    /// Conveyor zones put to sleep.
    pub zones_asleep: Vec<bool>,
}

impl PlcStatus {
    /// Connected, and its last poll read a whole image.
    pub fn link_up(&self) -> bool {
        self.link == LinkState::Connected
    }

    pub(super) fn link_lost(&mut self) {
        self.link = LinkState::BackingOff;
        self.links_lost += 1;
    }
}

/// Every PLC's status, shared by the link tasks and readers.
#[derive(Debug, Clone, Default)]
pub struct StatusBoard(Arc<Mutex<BTreeMap<String, Arc<Mutex<PlcStatus>>>>>);

impl StatusBoard {
    /// The slot one link writes.
    pub(super) fn register(&self, id: &str) -> Arc<Mutex<PlcStatus>> {
        let mut all = self.0.lock().unwrap_or_else(|p| p.into_inner());
        all.entry(id.to_string()).or_default().clone()
    }

    /// A copy of every PLC's status.
    pub fn snapshot(&self) -> BTreeMap<String, PlcStatus> {
        let all = self.0.lock().unwrap_or_else(|p| p.into_inner());
        all.iter()
            .map(|(id, s)| {
                (
                    id.clone(),
                    s.lock().unwrap_or_else(|p| p.into_inner()).clone(),
                )
            })
            .collect()
    }
}

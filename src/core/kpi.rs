//! Key figures of the floor, counted as events are handled (so they follow from the journal),
//! and throughput per minute over the last hour.

use std::collections::VecDeque;
use std::sync::Arc;

use serde::Serialize;

use super::{Core, Millis};

/// Minutes of throughput kept.
const MINUTES: usize = 60;

/// Counts behind the key figures; each rate is one count over another.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Kpis {
    /// Orders in their lane.
    pub orders_shipped: u32,
    /// Of them, orders with every unit ordered in their totes.
    pub orders_complete: u32,
    /// Cycle counts recorded.
    pub counts: u32,
    /// Of them, counts that found what the book said.
    pub counts_matching: u32,
    /// Order totes that left the sorter into a chute.
    pub totes_sorted: u32,
    /// Of them, totes in their order's dispatch lane.
    pub totes_right_lane: u32,
}

/// Work done in one minute.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Minute {
    /// Start of the minute, ms since the epoch.
    pub at: Millis,
    /// Totes sorted.
    pub totes: u32,
    /// Lines picked.
    pub lines: u32,
    /// Orders picked.
    pub orders: u32,
}

/// What a throughput count is of.
#[derive(Debug, Clone, Copy)]
pub(super) enum Done {
    Tote,
    Line,
    Order,
}

impl Core {
    /// Counts one piece of work in the current minute.
    pub(super) fn count_done(&mut self, what: Done) {
        let at = self.now - self.now % 60_000;
        let minutes = Arc::make_mut(&mut self.summary.throughput);
        if minutes.back().is_none_or(|m| m.at < at) {
            minutes.push_back(Minute {
                at,
                ..Minute::default()
            });
        }
        while minutes.len() > MINUTES {
            minutes.pop_front();
        }
        let m = minutes.back_mut().expect("pushed above");
        match what {
            Done::Tote => m.totes += 1,
            Done::Line => m.lines += 1,
            Done::Order => m.orders += 1,
        }
    }
}

/// Per-minute counts over the last hour, oldest first.
pub type Throughput = Arc<VecDeque<Minute>>;

//! Picker trips: which released orders go on one cart (each in its own tote), chosen first come
//! first served or by a seed order and the orders closest to it, and the trip's stops in the
//! order of the shortest route through all their locations.

use std::collections::{BTreeSet, VecDeque};

use super::routing::{Pick, Policy};
use super::Core;

/// How orders are combined on a cart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BatchPolicy {
    /// One order per trip.
    Single,
    /// The released orders in queue order, as many as the cart takes.
    Fcfs,
    /// The first order in the queue as seed, then each time the waiting order that lengthens the
    /// route least (with the pick area known; else the one adding fewest new locations).
    Seed,
}

impl BatchPolicy {
    /// The policy of a name in the site file.
    pub fn from_name(name: &str) -> Option<BatchPolicy> {
        match name {
            "single" => Some(BatchPolicy::Single),
            "fcfs" => Some(BatchPolicy::Fcfs),
            "seed" => Some(BatchPolicy::Seed),
            _ => None,
        }
    }
}

/// Cart capacity and the batching rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Batching {
    /// How orders are combined.
    pub policy: BatchPolicy,
    /// Totes a cart carries: orders per trip.
    pub totes_per_cart: usize,
    /// Lines a trip may hold (a cart's volume, in lines); an order is never split.
    pub max_lines: usize,
}

impl Default for Batching {
    fn default() -> Batching {
        Batching {
            policy: BatchPolicy::Single,
            totes_per_cart: 1,
            max_lines: usize::MAX,
        }
    }
}

/// How many waiting orders the seed rule looks at to fill a cart.
const SEED_CANDIDATES: usize = 40;

/// A handheld's trip: its cart's orders and totes, the stops left and how many totes are closed.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub(super) struct Trip {
    /// Orders on the cart with their totes, in the order they close.
    pub cart: Vec<(String, u32)>,
    /// Lines left to pick, (order, line), in route order.
    pub stops: VecDeque<(String, u32)>,
    /// Totes of the cart already closed (the first ones).
    pub closed: usize,
    /// Totes closed full on the way, carried to the conveyor with the rest.
    pub full: Vec<u32>,
}

impl Trip {
    /// The tote `order` is picked into on this trip.
    pub(super) fn tote_of(&self, order: &str) -> Option<u32> {
        self.cart.iter().find(|(o, _)| o == order).map(|(_, t)| *t)
    }
}

impl Core {
    /// Takes the orders of the next trip out of the queue, counted in process: the first
    /// released order with room in its zones, then others of the same priority as the cart and
    /// the rule allow.
    pub(super) fn choose_batch(&mut self) -> Vec<String> {
        let Some(seed) = self.queue.values().find(|id| self.has_room(id)).cloned() else {
            return Vec::new();
        };
        self.take_from_queue(&seed);
        let priority = self
            .orders
            .get(&seed)
            .map_or(floorctl_protocol::order::Priority::Normal, |o| o.key.0);
        let mut lines = self.lines_left(&seed);
        let mut batch = vec![seed];
        let b = self.layout.batching.clone();
        while batch.len() < b.totes_per_cart && b.policy != BatchPolicy::Single {
            let fits = |core: &Core, id: &String| {
                core.orders.get(id).is_some_and(|o| o.key.0 == priority)
                    && core.has_room(id)
                    && lines + core.lines_left(id) <= b.max_lines
            };
            let candidates: Vec<String> = self
                .queue
                .values()
                .filter(|id| fits(self, id))
                .take(if b.policy == BatchPolicy::Fcfs {
                    1
                } else {
                    SEED_CANDIDATES
                })
                .cloned()
                .collect();
            let next = match b.policy {
                BatchPolicy::Seed => {
                    let base = self.trip_cost(&batch, None);
                    candidates
                        .into_iter()
                        .enumerate()
                        .map(|(i, id)| (self.trip_cost(&batch, Some(&id)) - base, i, id))
                        .min_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)))
                        .map(|(_, _, id)| id)
                }
                _ => candidates.into_iter().next(),
            };
            let Some(next) = next else { break };
            self.take_from_queue(&next);
            lines += self.lines_left(&next);
            batch.push(next);
        }
        batch
    }

    fn take_from_queue(&mut self, id: &str) {
        let Some(key) = self.orders.get(id).map(|o| o.key) else {
            return;
        };
        self.queue.remove(&key);
        self.count_wip(id, true);
    }

    /// Lines of an order not yet picked.
    pub(super) fn lines_left(&self, id: &str) -> usize {
        self.orders
            .get(id)
            .map_or(0, |o| o.picked.iter().filter(|p| p.is_none()).count())
    }

    /// The length of the shortest route through the open lines of `batch` (and `extra`), when
    /// the pick area names all their locations; else the number of distinct locations.
    fn trip_cost(&self, batch: &[String], extra: Option<&String>) -> f64 {
        let locations: BTreeSet<&str> = batch
            .iter()
            .chain(extra)
            .filter_map(|id| self.orders.get(id))
            .flat_map(|o| {
                o.order
                    .lines
                    .iter()
                    .zip(&o.picked)
                    .filter(|(_, p)| p.is_none())
                    .map(|(l, _)| l.location.as_str())
            })
            .collect();
        let Some(w) = &self.layout.warehouse else {
            return locations.len() as f64;
        };
        let picks: Option<Vec<Pick>> = locations.iter().map(|l| w.slots.get(*l).copied()).collect();
        match picks.map(|p| w.route(&p, Policy::Optimal)) {
            Some(Ok(route)) => route.length_m,
            _ => locations.len() as f64,
        }
    }

    /// The open lines of the cart's orders in the order of the shortest route through their
    /// locations (when the pick area names them all), else order by order.
    pub(super) fn route_trip(&self, cart: &[(String, u32)]) -> VecDeque<(String, u32)> {
        let stops: Vec<(String, u32)> = cart
            .iter()
            .filter_map(|(id, _)| self.orders.get(id).map(|o| (id, o)))
            .flat_map(|(id, o)| {
                o.picked
                    .iter()
                    .enumerate()
                    .filter(|(_, p)| p.is_none())
                    .map(|(i, _)| (id.clone(), i as u32))
            })
            .collect();
        let Some(w) = &self.layout.warehouse else {
            return stops.into();
        };
        let picks: Option<Vec<Pick>> = stops
            .iter()
            .map(|(id, line)| {
                let line = self
                    .orders
                    .get(id)
                    .and_then(|o| o.order.lines.get(*line as usize))?;
                w.slots.get(&line.location).copied()
            })
            .collect();
        match picks.map(|p| w.route(&p, Policy::Optimal)) {
            Some(Ok(route)) => route.order.iter().map(|i| stops[*i].clone()).collect(),
            _ => stops.into(),
        }
    }
}

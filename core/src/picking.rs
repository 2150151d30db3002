//! Orders handed to pickers one direction at a time; unfinished work handed back and taken over.

use floorctl_protocol::order::Order;
use floorctl_protocol::scanner::{Direction, Expect, Task, SCHEMA_VERSION};

use super::batching::Trip;
use super::{
    Command, Core, Millis, OrderState, OrderStatus, Reaction, ToteState, ToteStatus, Work,
};
use crate::AlarmText;

impl Core {
    pub(super) fn order_received(&mut self, order: &Order, out: &mut Reaction) {
        if self.orders.contains_key(&order.id) {
            return;
        }
        let mut order = order.clone();
        if order.cutoff.is_empty() {
            order.cutoff = self.cutoff_by_time(self.now).unwrap_or_default();
        }
        for line in order.lines.iter_mut().filter(|l| l.location.is_empty()) {
            match self.fullest_location(&line.sku) {
                Some(loc) => line.location = loc,
                None => {
                    let text = AlarmText::NoLocation {
                        sku: line.sku.clone(),
                    };
                    self.alarm(&order.id, text, out);
                }
            }
        }
        let cutoff = self
            .layout
            .cutoffs
            .iter()
            .position(|c| c.name == order.cutoff);
        let rank = match cutoff {
            Some(r) => r,
            None => {
                let text = AlarmText::UnknownCutoff {
                    cutoff: order.cutoff.clone(),
                };
                self.alarm(&order.id, text, out);
                usize::MAX
            }
        };
        let due = cutoff.and_then(|i| self.due_of(i, self.now));
        let key = (
            order.priority,
            due.unwrap_or(Millis::MAX),
            rank,
            self.arrivals,
        );
        let release_at = self.release_at(due, self.now);
        let id = order.id.clone();
        self.summary
            .waves
            .entry(order.cutoff.clone())
            .or_default()
            .orders += 1;
        let cutoff = order.cutoff.clone();
        let picked = vec![None; order.lines.len()];
        self.orders.insert(
            id.clone(),
            OrderState {
                order,
                status: OrderStatus::Waiting,
                tote: None,
                key,
                due,
                release_at,
                picked,
                full_totes: Vec::new(),
                backordered: 0,
                late: false,
            },
        );
        self.summary.waves.entry(cutoff).or_default().waiting += 1;
        self.summary.orders += 1;
        self.arrivals += 1;
        if release_at <= self.now {
            self.release(&id, out);
            self.wake_idle(out);
        } else {
            self.pending.insert((release_at, id.clone()));
            self.record_order(&id, out);
        }
    }

    /// Gives work to every handheld that is logged in, online, not on a break and idle.
    pub(super) fn wake_idle(&mut self, out: &mut Reaction) {
        let idle: Vec<String> = self
            .scanners
            .iter()
            .filter(|(_, s)| {
                s.work.is_none() && !s.picker.is_empty() && !s.paused && s.offline_since.is_none()
            })
            .map(|(id, _)| id.clone())
            .collect();
        for scanner in idle {
            // An idle handheld already shows Wait: only news is worth a message.
            if !self.queue.values().any(|id| self.has_room(id))
                && self.next_replenishment().is_none()
            {
                break;
            }
            self.assign_next(&scanner, out);
        }
    }

    /// Hands the next trip to a handheld (orders on its cart, each in its own tote, lines in
    /// route order), or tells it to wait. An order handed back unfinished keeps its tote and the
    /// lines already picked.
    pub(super) fn assign_next(&mut self, scanner: &str, out: &mut Reaction) {
        // Keeping the pick faces stocked comes before picking from them.
        if let Some(task) = self.next_replenishment() {
            self.scanners.entry(scanner.to_string()).or_default().trip = Trip::default();
            self.assign_replenishment(scanner, task);
            self.direct(scanner, out);
            return;
        }
        let batch = self.choose_batch();
        let mut cart = Vec::new();
        for order in batch {
            let Some(held) = self.orders.get(&order).map(|o| o.tote) else {
                continue;
            };
            let tote = match held {
                Some(t) => t,
                None => self.new_tote(&order, out),
            };
            if let Some(o) = self.orders.get_mut(&order) {
                o.tote = Some(tote);
            }
            self.set_order_status(&order, OrderStatus::Picking);
            self.record_order(&order, out);
            self.record_tote(tote, out);
            cart.push((order, tote));
        }
        let stops = self.route_trip(&cart);
        // Totes a previous picker closed full on these orders still have to reach the conveyor.
        let full = cart
            .iter()
            .filter_map(|(o, _)| self.orders.get(o))
            .flat_map(|o| o.full_totes.iter().copied())
            .filter(|t| {
                self.totes
                    .get(t)
                    .is_some_and(|t| t.status == ToteStatus::Closed)
            })
            .collect();
        let state = self.scanners.entry(scanner.to_string()).or_default();
        state.trip = Trip {
            cart,
            stops,
            closed: 0,
            full,
        };
        state.work = None;
        if self.layout.offer_trips && !state.trip.cart.is_empty() {
            state.work = Some(Work::Offered);
        } else {
            self.advance(scanner);
        }
        self.direct(scanner, out);
    }

    /// A fresh tote for `order`. Numbers run from the layout's `first_tote` to its
    /// `last_tote`, then start again at `first_tote` (with an alarm), skipping numbers a tote
    /// still on the floor carries (a DC's tote, say); never 0, the sorter's no-read.
    pub(super) fn new_tote(&mut self, order: &str, out: &mut Reaction) -> u32 {
        let first = self.layout.first_tote.max(1);
        let last = self.layout.last_tote.max(first);
        let in_use = |totes: &std::collections::BTreeMap<u32, ToteState>, t: u32| {
            totes
                .get(&t)
                .is_some_and(|s| !matches!(s.status, ToteStatus::Sorted))
        };
        // At most one pass over the range: with every number in use, the next is taken anyway.
        let mut left = u64::from(last - first) + 1;
        let t = loop {
            if self.next_tote < first || self.next_tote > last {
                self.next_tote = first;
                self.alarm("totes", AlarmText::ToteNumbersUsedUp { first, last }, out);
            }
            let t = self.next_tote;
            // Past u32::MAX, 0: below `first`, so the next call starts again.
            self.next_tote = t.wrapping_add(1);
            left -= 1;
            if !in_use(&self.totes, t) || left == 0 {
                break t;
            }
        };
        self.totes.insert(
            t,
            ToteState {
                order: order.to_string(),
                status: ToteStatus::Picking,
                chute: None,
                target: None,
                recirculations: 0,
                transfer: None,
                units: None,
            },
        );
        t
    }

    /// Moves a handheld to the next step of its trip: the next stop, else the next tote to
    /// close, else carrying the totes to the conveyor; no work when the trip is empty.
    pub(super) fn advance(&mut self, scanner: &str) {
        let Some(state) = self.scanners.get_mut(scanner) else {
            return;
        };
        let trip = &mut state.trip;
        // A stop of an order not on the cart (none is made so) is passed over.
        let mut stop = None;
        while let Some((order, line)) = trip.stops.pop_front() {
            if let Some(tote) = trip.tote_of(&order) {
                stop = Some((order, line, tote));
                break;
            }
        }
        state.work = if let Some((order, line, tote)) = stop {
            Some(Work::Picking {
                order,
                tote,
                line,
                expect: Expect::Location,
            })
        } else if let Some((order, tote)) = trip.cart.get(trip.closed) {
            Some(Work::Closing {
                order: order.clone(),
                tote: *tote,
            })
        } else if trip.cart.is_empty() {
            None
        } else {
            Some(Work::Delivering {
                totes: trip
                    .full
                    .iter()
                    .copied()
                    .chain(trip.cart.iter().map(|(_, t)| *t))
                    .collect(),
            })
        };
    }

    /// Takes unfinished work back from a handheld (logged out, or offline too long): the orders
    /// of its cart not yet closed go back to their place in the queue with their totes and the
    /// lines already picked.
    pub(super) fn release_work(&mut self, scanner: &str, out: &mut Reaction) {
        let Some(state) = self.scanners.get_mut(scanner) else {
            return;
        };
        if let Some(Work::Replenishing { task }) = state.work {
            state.work = None;
            state.direction = None;
            self.unassign_replenishment(task);
            self.wake_idle(out);
            return;
        }
        if !matches!(
            state.work,
            Some(Work::Offered | Work::Picking { .. } | Work::Closing { .. })
        ) {
            // Totes being carried to the conveyor are finished when the conveyor sees them.
            return;
        }
        state.work = None;
        state.direction = None;
        let trip = std::mem::take(&mut state.trip);
        for (order, _) in &trip.cart[trip.closed..] {
            self.count_wip(order, false);
            self.release(order, out);
        }
        self.wake_idle(out);
    }

    /// Sends the handheld the direction for its current work.
    pub(super) fn direct(&mut self, scanner: &str, out: &mut Reaction) {
        let Some(state) = self.scanners.get(scanner) else {
            return;
        };
        let task = match &state.work {
            _ if state.picker.is_empty() => Task::LoggedOut,
            _ if state.paused => Task::Paused,
            None => Task::Wait,
            Some(Work::Offered) => {
                let trip = &state.trip;
                let (order, line) = trip.stops.front().cloned().unwrap_or_default();
                let location = self
                    .orders
                    .get(&order)
                    .and_then(|o| o.order.lines.get(line as usize))
                    .map(|l| l.location.clone())
                    .unwrap_or_default();
                Task::Offer {
                    orders: trip.cart.iter().map(|(o, _)| o.clone()).collect(),
                    totes: trip.cart.iter().map(|(_, t)| *t).collect(),
                    lines: trip.stops.len() as u32,
                    location,
                }
            }
            Some(Work::Picking {
                order,
                tote,
                line,
                expect,
            }) => match self
                .orders
                .get(order)
                .and_then(|o| o.order.lines.get(*line as usize))
            {
                Some(l) => Task::Pick {
                    order: order.clone(),
                    line: *line,
                    location: l.location.clone(),
                    sku: l.sku.clone(),
                    description: String::new(),
                    qty: l.qty,
                    tote: *tote,
                    lines_left: state.trip.stops.len() as u32,
                    expect: *expect,
                },
                None => Task::Wait,
            },
            Some(Work::Closing { tote, .. }) => Task::CloseTote { tote: *tote },
            Some(Work::Replenishing { task }) => match self.replenishments.get(task) {
                Some(r) => Task::Replenish {
                    task: *task,
                    sku: r.sku.clone(),
                    from: r.from.clone(),
                    to: r.to.clone(),
                    qty: r.qty,
                },
                None => Task::Wait,
            },
            Some(Work::Delivering { totes }) => {
                let tote = totes.first().copied().unwrap_or_default();
                // Where the trip ended: the last line of the tote's order.
                let last = self
                    .totes
                    .get(&tote)
                    .and_then(|t| self.orders.get(&t.order))
                    .and_then(|o| o.order.lines.last())
                    .map_or("", |l| l.location.as_str());
                Task::ToteComplete {
                    tote,
                    conveyor: self.layout.conveyor_for(last).to_string(),
                }
            }
        };
        let v = self
            .scanners
            .get(scanner)
            .map_or(SCHEMA_VERSION, |s| s.version);
        let direction = Direction {
            v,
            id: format!("{scanner}:{}", self.next_direction),
            task,
        };
        self.next_direction += 1;
        if let Some(state) = self.scanners.get_mut(scanner) {
            state.direction = Some(direction.clone());
        }
        out.push(Command::Direct {
            scanner: scanner.to_string(),
            direction,
        });
    }
}

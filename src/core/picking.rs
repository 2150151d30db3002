//! Orders handed to pickers one direction at a time; unfinished work handed back and taken over.

use floorctl_protocol::order::Order;
use floorctl_protocol::scanner::{Direction, Expect, Task, SCHEMA_VERSION};

use super::routing::Policy;
use super::{
    Command, Core, Millis, OrderState, OrderStatus, ScannerState, ToteState, ToteStatus, Work,
};

impl Core {
    pub(super) fn order_received(&mut self, order: &Order, out: &mut Vec<Command>) {
        if self.orders.contains_key(&order.id) {
            return;
        }
        let mut order = order.clone();
        if order.cutoff.is_empty() {
            order.cutoff = self.cutoff_by_time().unwrap_or_default();
        }
        let cutoff = self
            .layout
            .cutoffs
            .iter()
            .position(|c| c.name == order.cutoff);
        let rank = match cutoff {
            Some(r) => r,
            None => {
                self.alarm(&order.id, format!("order has unknown cut-off `{}`; it is picked last and sorted to the exception chute", order.cutoff), out);
                usize::MAX
            }
        };
        let r = &self.layout.release;
        // Ordered past a cut-off's `ordered_before`: the next day's cut-off of that name.
        let due = cutoff.and_then(|i| {
            let c = &self.layout.cutoffs[i];
            let from = c
                .ordered_before
                .map_or(self.now, |t| r.clock.next(self.now, t));
            c.sorted_by.map(|t| r.clock.next(from, t))
        });
        let key = (
            order.priority,
            due.unwrap_or(Millis::MAX),
            rank,
            self.arrivals,
        );
        let release_at = self.release_at(due);
        let id = order.id.clone();
        self.summary
            .waves
            .entry(order.cutoff.clone())
            .or_default()
            .orders += 1;
        self.orders.insert(
            id.clone(),
            OrderState {
                order,
                status: OrderStatus::Waiting,
                tote: None,
                key,
                due,
                next_line: 0,
                picked: Vec::new(),
                backordered: 0,
            },
        );
        let o = self.orders.get_mut(&id).expect("inserted above");
        o.picked = vec![0; o.order.lines.len()];
        self.summary
            .waves
            .get_mut(&o.order.cutoff)
            .expect("counted above")
            .waiting += 1;
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
    pub(super) fn wake_idle(&mut self, out: &mut Vec<Command>) {
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
            if !self.queue.values().any(|id| self.has_room(id)) {
                break;
            }
            self.assign_next(&scanner, out);
        }
    }

    /// Hands the next waiting order to a handheld, or tells it to wait. An order handed back
    /// unfinished keeps its tote and carries on from its next line.
    pub(super) fn assign_next(&mut self, scanner: &str, out: &mut Vec<Command>) {
        let next = self
            .queue
            .iter()
            .find(|(_, id)| self.has_room(id))
            .map(|(k, _)| *k);
        let work = match next.and_then(|k| self.queue.remove(&k)) {
            None => None,
            Some(order) => {
                self.count_wip(&order, true);
                let o = &self.orders[&order];
                let (tote, line) = match (o.tote, o.next_line) {
                    (Some(t), next) => (t, next),
                    (None, _) => {
                        self.route_lines(&order);
                        let t = self.next_tote;
                        self.next_tote += 1;
                        self.totes.insert(
                            t,
                            ToteState {
                                order: order.clone(),
                                status: ToteStatus::Picking,
                                chute: None,
                                target: None,
                                recirculations: 0,
                            },
                        );
                        (t, 0)
                    }
                };
                let o = self.orders.get_mut(&order).expect("queued orders exist");
                o.tote = Some(tote);
                let lines = o.order.lines.len() as u32;
                self.set_order_status(&order, OrderStatus::Picking);
                self.record_order(&order, out);
                self.record_tote(tote, out);
                Some(if line < lines {
                    Work::Picking {
                        order,
                        tote,
                        line,
                        expect: Expect::Location,
                    }
                } else {
                    Work::Closing { order, tote }
                })
            }
        };
        self.scanners.entry(scanner.to_string()).or_default().work = work;
        self.direct(scanner, out);
    }

    /// Puts a fresh order's lines in the order of the shortest route through their locations,
    /// when the pick area is known and names every location.
    fn route_lines(&mut self, order: &str) {
        let Some(w) = &self.layout.warehouse else {
            return;
        };
        let Some(o) = self.orders.get_mut(order) else {
            return;
        };
        let stops: Option<Vec<_>> = o
            .order
            .lines
            .iter()
            .map(|l| w.slots.get(&l.location).copied())
            .collect();
        let Some(stops) = stops else {
            return;
        };
        if let Ok(route) = w.route(&stops, Policy::Optimal) {
            o.order.lines = route
                .order
                .iter()
                .map(|i| o.order.lines[*i].clone())
                .collect();
        }
    }

    /// Takes unfinished work back from a handheld (logged out, or offline too long): an order
    /// being picked or waiting to be closed goes back to the head of its place in the queue with
    /// its tote and the lines already picked.
    pub(super) fn release_work(&mut self, scanner: &str, out: &mut Vec<Command>) {
        let Some(state) = self.scanners.get_mut(scanner) else {
            return;
        };
        let order = match state.work.take() {
            Some(Work::Picking { order, .. } | Work::Closing { order, .. }) => order,
            other => {
                // A tote being carried to the conveyor is finished when the conveyor sees it.
                state.work = other.filter(|w| matches!(w, Work::Delivering { .. }));
                return;
            }
        };
        state.direction = None;
        self.count_wip(&order, false);
        self.release(&order, out);
        self.wake_idle(out);
    }

    /// Sends the handheld the direction for its current work.
    pub(super) fn direct(&mut self, scanner: &str, out: &mut Vec<Command>) {
        let Some(state) = self.scanners.get(scanner) else {
            return;
        };
        let task = match &state.work {
            _ if state.picker.is_empty() => Task::LoggedOut,
            _ if state.paused => Task::Paused,
            None => Task::Wait,
            Some(Work::Picking {
                order,
                tote,
                line,
                expect,
            }) => {
                let lines = &self.orders[order].order.lines;
                let l = &lines[*line as usize];
                Task::Pick {
                    order: order.clone(),
                    line: *line,
                    location: l.location.clone(),
                    sku: l.sku.clone(),
                    description: String::new(),
                    qty: l.qty,
                    tote: *tote,
                    lines_left: lines.len() as u32 - line - 1,
                    expect: *expect,
                }
            }
            Some(Work::Closing { tote, .. }) => Task::CloseTote { tote: *tote },
            Some(Work::Delivering { tote }) => Task::ToteComplete {
                tote: *tote,
                conveyor: self.layout.pick_conveyor.clone(),
            },
        };
        let direction = Direction {
            v: SCHEMA_VERSION,
            id: format!("{scanner}:{}", self.next_direction),
            task,
        };
        self.next_direction += 1;
        let state: &mut ScannerState = self.scanners.get_mut(scanner).expect("checked above");
        state.direction = Some(direction.clone());
        out.push(Command::Direct {
            scanner: scanner.to_string(),
            direction,
        });
    }
}

//! Handhelds: orders handed to pickers, one direction at a time, every confirmation verified.

use floorctl_protocol::order::Order;
use floorctl_protocol::scanner::{Direction, ErrorReply, Task, Up, UpBody, SCHEMA_VERSION};

use super::{
    Command, Core, OrderState, OrderStatus, ScannerState, ToteState, ToteStatus, Work,
    SEEN_IDS_PER_SCANNER,
};

impl Core {
    pub(super) fn order_received(&mut self, order: &Order, out: &mut Vec<Command>) {
        if self.orders.contains_key(&order.id) {
            return;
        }
        let rank = match self.layout.cutoff_rank(&order.cutoff) {
            Some(r) => r,
            None => {
                self.alarm(&order.id, format!("order has unknown cut-off `{}`; it is picked last and sorted to the exception chute", order.cutoff), out);
                usize::MAX
            }
        };
        self.orders.insert(
            order.id.clone(),
            OrderState {
                order: order.clone(),
                status: OrderStatus::Released,
                tote: None,
            },
        );
        self.queue.insert((rank, self.arrivals), order.id.clone());
        self.summary.orders += 1;
        self.arrivals += 1;
        self.record_order(&order.id, out);
        let idle: Vec<String> = self
            .scanners
            .iter()
            .filter(|(_, s)| s.work.is_none() && !s.picker.is_empty())
            .map(|(id, _)| id.clone())
            .collect();
        for scanner in idle {
            self.assign_next(&scanner, out);
        }
    }

    pub(super) fn scanner_message(&mut self, scanner: &str, msg: &Up, out: &mut Vec<Command>) {
        let state = self.scanners.entry(scanner.to_string()).or_default();
        if state.seen.contains(&msg.id) {
            // A re-delivery: change nothing, answer as before.
            if let Some(direction) = state.direction.clone() {
                out.push(Command::Direct {
                    scanner: scanner.to_string(),
                    direction,
                });
            }
            return;
        }
        if state.seen.len() == SEEN_IDS_PER_SCANNER {
            state.seen.pop_front();
        }
        state.seen.push_back(msg.id.clone());
        let result = match &msg.body {
            UpBody::Login { picker } => {
                state.picker = picker.clone();
                match state.direction.clone() {
                    Some(direction) => {
                        out.push(Command::Direct {
                            scanner: scanner.to_string(),
                            direction,
                        });
                        Ok(())
                    }
                    None => {
                        self.assign_next(scanner, out);
                        Ok(())
                    }
                }
            }
            UpBody::Pick {
                order,
                line,
                qty,
                tote,
            } => self.pick(scanner, order, *line, *qty, *tote, out),
            UpBody::ToteClosed { tote } => self.tote_closed(scanner, *tote, out),
        };
        if let Err(reason) = result {
            out.push(Command::Reject {
                scanner: scanner.to_string(),
                reply: ErrorReply {
                    v: SCHEMA_VERSION,
                    reply_to: Some(msg.id.clone()),
                    reason,
                },
            });
        }
    }

    fn pick(
        &mut self,
        scanner: &str,
        order: &str,
        line: u32,
        qty: u32,
        tote: u32,
        out: &mut Vec<Command>,
    ) -> Result<(), String> {
        let state = self
            .scanners
            .get_mut(scanner)
            .expect("scanner state exists");
        let Some(Work::Picking {
            order: o,
            tote: t,
            line: l,
        }) = &state.work
        else {
            return Err("no pick is directed to this handheld now".into());
        };
        if o != order || *l != line || *t != tote {
            return Err(format!(
                "this pick is not the one directed: expected order {o} line {l} into tote {t}"
            ));
        }
        let expected = self.orders[o].order.lines[*l as usize].qty;
        if qty != expected {
            return Err(format!(
                "quantity {qty} differs from the {expected} directed; pick {expected}"
            ));
        }
        let (o, t, next) = (o.clone(), *t, l + 1);
        state.work = if (next as usize) < self.orders[&o].order.lines.len() {
            Some(Work::Picking {
                order: o,
                tote: t,
                line: next,
            })
        } else {
            Some(Work::Closing { order: o, tote: t })
        };
        self.direct(scanner, out);
        Ok(())
    }

    fn tote_closed(
        &mut self,
        scanner: &str,
        tote: u32,
        out: &mut Vec<Command>,
    ) -> Result<(), String> {
        let state = self
            .scanners
            .get_mut(scanner)
            .expect("scanner state exists");
        let Some(Work::Closing { order, tote: t }) = &state.work else {
            return Err("no tote is waiting to be closed on this handheld".into());
        };
        if *t != tote {
            return Err(format!(
                "tote {tote} is not the tote of this order; close tote {t}"
            ));
        }
        let order = order.clone();
        state.work = Some(Work::Delivering { tote });
        self.set_order_status(&order, OrderStatus::Picked);
        if let Some(t) = self.totes.get_mut(&tote) {
            t.status = ToteStatus::Closed;
        }
        self.record_order(&order, out);
        self.record_tote(tote, out);
        self.direct(scanner, out);
        Ok(())
    }

    /// Hands the next waiting order to a handheld, or tells it to wait.
    pub(super) fn assign_next(&mut self, scanner: &str, out: &mut Vec<Command>) {
        let next = self.queue.pop_first();
        let state = self.scanners.entry(scanner.to_string()).or_default();
        match next {
            Some((_, order)) => {
                let tote = self.next_tote;
                self.next_tote += 1;
                state.work = Some(Work::Picking {
                    order: order.clone(),
                    tote,
                    line: 0,
                });
                self.totes.insert(
                    tote,
                    ToteState {
                        order: order.clone(),
                        status: ToteStatus::Picking,
                        chute: None,
                        target: None,
                        recirculations: 0,
                    },
                );
                if let Some(o) = self.orders.get_mut(&order) {
                    o.tote = Some(tote);
                }
                self.set_order_status(&order, OrderStatus::Picking);
                self.record_order(&order, out);
                self.record_tote(tote, out);
            }
            None => state.work = None,
        }
        self.direct(scanner, out);
    }

    /// Sends the handheld the direction for its current work.
    fn direct(&mut self, scanner: &str, out: &mut Vec<Command>) {
        let Some(state) = self.scanners.get(scanner) else {
            return;
        };
        let task = match &state.work {
            None => Task::Wait,
            Some(Work::Picking { order, tote, line }) => {
                let lines = &self.orders[order].order.lines;
                let l = &lines[*line as usize];
                Task::Pick {
                    order: order.clone(),
                    line: *line,
                    location: l.location.clone(),
                    sku: l.sku.clone(),
                    qty: l.qty,
                    tote: *tote,
                    lines_left: lines.len() as u32 - line - 1,
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

//! Supervisors' commands on the work: hold or release a cut-off's wave, raise an order's
//! priority, record a cycle count.

use std::collections::BTreeMap;

use floorctl_protocol::order::Priority;

use super::alarms::refuse;
use super::{Core, HandheldCommand, Millis, OrderStatus, Reaction, StockMovement};
use crate::{AlarmText, RefusalText};

impl Core {
    /// A supervisor's command on a handheld: its work handed back, or its counter reset.
    pub(super) fn handheld_command(
        &mut self,
        scanner: &str,
        command: HandheldCommand,
        now: Millis,
        out: &mut Reaction,
    ) {
        let Some(state) = self.scanners.get_mut(scanner) else {
            let said = RefusalText::NoHandheld {
                handheld: scanner.to_string(),
            };
            return refuse(&format!("handheld {scanner}"), said, out);
        };
        match command {
            HandheldCommand::Release => {
                // Offline until it logs in again, so the work does not come straight back to it.
                state.offline_since.get_or_insert(now);
                self.release_work(scanner, out);
                self.direct(scanner, out);
            }
            HandheldCommand::Reset => {
                state.last_seq = None;
                state.session = None;
                state.past_sessions.clear();
            }
        }
    }

    /// Holds (no new trips start for its orders) or releases a cut-off's wave.
    pub(super) fn hold_wave(&mut self, cutoff: &str, held: bool, out: &mut Reaction) {
        let subject = format!("wave {cutoff}");
        if !self.layout.cutoffs.iter().any(|c| c.name == cutoff) {
            let cutoff = cutoff.to_string();
            return refuse(&subject, RefusalText::NoCutoff { cutoff }, out);
        }
        if held == self.held_waves.contains(cutoff) {
            let cutoff = cutoff.to_string();
            let said = if held {
                RefusalText::WaveAlreadyHeld { cutoff }
            } else {
                RefusalText::WaveNotHeld { cutoff }
            };
            return refuse(&subject, said, out);
        }
        if held {
            self.held_waves.insert(cutoff.to_string());
        } else {
            self.held_waves.remove(cutoff);
        }
        self.summary
            .waves
            .entry(cutoff.to_string())
            .or_default()
            .held = held;
        if !held {
            self.wake_idle(out);
        }
    }

    /// Whether an order's wave is held by a supervisor.
    pub(super) fn wave_held(&self, id: &str) -> bool {
        !self.held_waves.is_empty()
            && self
                .orders
                .get(id)
                .is_some_and(|o| self.held_waves.contains(&o.order.cutoff))
    }

    /// Moves an order to another priority class. A waiting order raised to urgent is released
    /// at once; an order already on a cart keeps its place there.
    pub(super) fn set_priority(&mut self, id: &str, priority: Priority, out: &mut Reaction) {
        let subject = format!("order {id}");
        let Some(o) = self.orders.get_mut(id) else {
            let order = id.to_string();
            return refuse(&subject, RefusalText::NoOrder { order }, out);
        };
        if !matches!(o.status, OrderStatus::Waiting | OrderStatus::Released) {
            let said = RefusalText::PriorityTooLate {
                order: id.to_string(),
                status: o.status.as_str().to_string(),
            };
            return refuse(&subject, said, out);
        }
        if o.order.priority == priority {
            let order = id.to_string();
            return refuse(&subject, RefusalText::SamePriority { order }, out);
        }
        let old = o.key;
        o.order.priority = priority;
        o.key.0 = priority;
        let (new, status, release_at) = (o.key, o.status, o.release_at);
        if status == OrderStatus::Released {
            self.queue.remove(&old);
            self.queue.insert(new, id.to_string());
            self.wake_idle(out);
        } else if priority == Priority::Urgent {
            self.pending.remove(&(release_at, id.to_string()));
            self.release(id, out);
            self.wake_idle(out);
        }
    }

    /// Withdraws an order no picker has taken yet: it leaves the release queue, the demand of
    /// its lines leaves their faces, and it leaves the counts. An order on a cart or further on is
    /// refused with where it is.
    pub(super) fn cancel(&mut self, id: &str, out: &mut Reaction) {
        let subject = format!("order {id}");
        let Some(o) = self.orders.get(id) else {
            let order = id.to_string();
            return refuse(&subject, RefusalText::NoOrder { order }, out);
        };
        let (status, key, release_at, cutoff) =
            (o.status, o.key, o.release_at, o.order.cutoff.clone());
        match status {
            OrderStatus::Waiting => {
                self.pending.remove(&(release_at, id.to_string()));
            }
            OrderStatus::Released => {
                self.queue.remove(&key);
                self.add_demand(id, -1);
            }
            OrderStatus::Cancelled => {
                let order = id.to_string();
                return refuse(&subject, RefusalText::AlreadyCancelled { order }, out);
            }
            _ => {
                let said = RefusalText::CancelTooLate {
                    order: id.to_string(),
                    status: status.as_str().to_string(),
                    tote: o.tote,
                };
                return refuse(&subject, said, out);
            }
        }
        self.set_order_status(id, OrderStatus::Cancelled);
        self.summary.orders = self.summary.orders.saturating_sub(1);
        self.summary.cancelled += 1;
        if let Some(w) = self.summary.waves.get_mut(&cutoff) {
            w.orders = w.orders.saturating_sub(1);
        }
        self.record_order(id, out);
    }

    /// A counted quantity at a location: compared with the book for inventory accuracy, then
    /// the book is set to it.
    pub(super) fn counted(&mut self, sku: &str, location: &str, qty: u32, out: &mut Reaction) {
        let book = self
            .stock
            .get(sku)
            .and_then(|l| l.get(location))
            .copied()
            .unwrap_or(0);
        self.summary.kpis.counts += 1;
        self.summary.kpis.counts_matching += u32::from(book == qty);
        if book != qty {
            let text = AlarmText::CountCorrected {
                sku: sku.to_string(),
                location: location.to_string(),
                found: qty,
                book,
            };
            self.alarm(location, text, out);
        }
        self.stock
            .entry(sku.to_string())
            .or_default()
            .insert(location.to_string(), qty);
        self.refresh_face(location);
        self.check_face(location, false, out);
    }

    /// Receipts and adjustments from the stock system, all or none: refused whole when one
    /// would leave a location holding less than nothing (or more than a location can count).
    pub(super) fn stock_moved(&mut self, movements: &[StockMovement], out: &mut Reaction) {
        let mut after: BTreeMap<(&str, &str), i64> = BTreeMap::new();
        for m in movements {
            let held = after.entry((&m.sku, &m.location)).or_insert_with(|| {
                let book = self.stock.get(&m.sku).and_then(|l| l.get(&m.location));
                i64::from(book.copied().unwrap_or(0))
            });
            *held = held.saturating_add(m.change);
        }
        for ((sku, location), held) in &after {
            if *held < 0 || *held > i64::from(u32::MAX) {
                let book = self
                    .stock
                    .get(*sku)
                    .and_then(|l| l.get(*location))
                    .copied()
                    .unwrap_or(0);
                let said = RefusalText::StockBelowNothing {
                    sku: sku.to_string(),
                    location: location.to_string(),
                    book,
                    held: *held,
                };
                return refuse("stock", said, out);
            }
        }
        for ((sku, location), held) in after {
            self.stock
                .entry(sku.to_string())
                .or_default()
                .insert(location.to_string(), held as u32);
            self.refresh_face(location);
            self.check_face(location, false, out);
        }
    }
}

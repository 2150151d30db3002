//! Conveyor and sorter: totes tracked from the pick area to their dispatch chute.

use super::{ChuteChoice, Command, Core, OrderStatus, SortOutcome, ToteStatus, Work};

impl Core {
    pub(super) fn tote_entered(&mut self, conveyor: &str, tote: u32, out: &mut Vec<Command>) {
        let Some(t) = self.totes.get_mut(&tote) else {
            self.alarm(
                conveyor,
                format!("unknown tote {tote} entered the conveyor"),
                out,
            );
            return;
        };
        if t.status == ToteStatus::Sorted {
            self.alarm(
                conveyor,
                format!("tote {tote} entered the conveyor again after it was sorted"),
                out,
            );
            return;
        }
        t.status = ToteStatus::Conveying;
        self.record_tote(tote, out);
        let carrier = self
            .scanners
            .iter()
            .find(|(_, s)| s.work == Some(Work::Delivering { tote }))
            .map(|(id, _)| id.clone());
        if let Some(scanner) = carrier {
            self.assign_next(&scanner, out);
        }
    }

    pub(super) fn tote_inducted(&mut self, sorter: &str, tote: u32, out: &mut Vec<Command>) {
        if tote == 0 {
            return; // a no-read: the sorter recirculates it and reports the outcome
        }
        if self
            .totes
            .get(&tote)
            .is_some_and(|t| t.status == ToteStatus::Closed)
        {
            // Its entry scan was missed (the link was down): the induct read proves it is conveyed.
            self.tote_entered(sorter, tote, out);
        }
        let cutoff = self
            .totes
            .get(&tote)
            .and_then(|t| self.orders.get(&t.order))
            .map(|o| o.order.cutoff.clone());
        let chute = match cutoff {
            Some(c) => match self.layout.chute_for(&c, &self.full_chutes) {
                ChuteChoice::Lane(chute) => chute,
                ChuteChoice::Exception => self.layout.exception_chute,
                ChuteChoice::LaneFull => {
                    self.alarm(sorter, format!("every chute of the lane for cut-off {c} is full; tote {tote} recirculates"), out);
                    return;
                }
            },
            None => {
                self.alarm(
                    sorter,
                    format!("unknown tote {tote} at the induct; sent to the exception chute"),
                    out,
                );
                self.layout.exception_chute
            }
        };
        out.push(Command::Divert {
            sorter: sorter.to_string(),
            tote,
            chute,
        });
    }

    pub(super) fn sort_confirmed(
        &mut self,
        sorter: &str,
        tote: u32,
        chute: u16,
        outcome: SortOutcome,
        out: &mut Vec<Command>,
    ) {
        let Some(t) = self.totes.get_mut(&tote) else {
            if outcome == SortOutcome::Sorted {
                self.alarm(
                    sorter,
                    format!("unknown tote {tote} sorted to chute {chute}"),
                    out,
                );
            }
            return;
        };
        if outcome != SortOutcome::Sorted {
            t.recirculations += 1;
            self.summary.recirculations += 1;
            return;
        }
        if t.status == ToteStatus::Sorted {
            let text = format!("tote {tote} reported sorted again, to chute {chute}");
            self.alarm(sorter, text, out);
            return;
        }
        t.status = ToteStatus::Sorted;
        t.chute = Some(chute);
        let order = t.order.clone();
        let cutoff = self
            .orders
            .get(&order)
            .map(|o| o.order.cutoff.clone())
            .unwrap_or_default();
        if !self.layout.in_lane(&cutoff, chute) {
            self.alarm(
                sorter,
                format!("tote {tote} of order {order} went to chute {chute}, outside its lane"),
                out,
            );
        }
        *self.summary.per_chute.entry(chute).or_default() += 1;
        self.set_order_status(&order, OrderStatus::Sorted);
        self.record_tote(tote, out);
        self.record_order(&order, out);
    }
}

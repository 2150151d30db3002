//! Conveyor and sorter: totes tracked from the pick area to their dispatch chute.

use std::collections::BTreeSet;

use super::{
    AlarmText, ChuteChoice, Command, Core, OrderStatus, Reaction, SortOutcome, ToteStatus, Work,
};

impl Core {
    pub(super) fn tote_entered(&mut self, conveyor: &str, tote: u32, out: &mut Reaction) {
        let Some(t) = self.totes.get_mut(&tote) else {
            self.alarm(conveyor, AlarmText::UnknownToteEntered { tote }, out);
            return;
        };
        if t.status == ToteStatus::Sorted {
            self.alarm(conveyor, AlarmText::SortedToteEntered { tote }, out);
            return;
        }
        if t.status != ToteStatus::Conveying {
            t.status = ToteStatus::Conveying;
            self.summary.in_flight += 1;
        }
        self.record_tote(tote, out);
        let carrier = self
            .scanners
            .iter_mut()
            .find_map(|(id, s)| match &mut s.work {
                Some(Work::Delivering { totes }) if totes.contains(&tote) => {
                    totes.retain(|t| *t != tote);
                    Some((id.clone(), totes.is_empty()))
                }
                _ => None,
            });
        match carrier {
            Some((scanner, true)) => {
                if let Some(s) = self.scanners.get_mut(&scanner) {
                    s.trip = Default::default();
                }
                self.assign_next(&scanner, out);
            }
            // More totes of the cart to come: the direction names the next one.
            Some((scanner, false)) => self.direct(&scanner, out),
            None => {}
        }
    }

    pub(super) fn tote_inducted(&mut self, sorter: &str, tote: u32, out: &mut Reaction) {
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
        let chute = self.chute_for_tote(sorter, tote, out);
        if let Some(t) = self.totes.get_mut(&tote) {
            t.target = chute;
        }
        if let Some(chute) = chute {
            out.push(Command::Divert {
                sorter: sorter.to_string(),
                tote,
                chute,
            });
        }
    }

    /// Where a tote read at the induct goes: a chute of its cut-off's lane that is neither full
    /// nor disabled; the exception chute when it is unknown, has no lane or has gone round too
    /// often; `None` (recirculate) when its whole lane is unavailable.
    fn chute_for_tote(&mut self, sorter: &str, tote: u32, out: &mut Reaction) -> Option<u16> {
        let exception = self.layout.exception_for(sorter);
        let Some(t) = self.totes.get(&tote) else {
            self.alarm(sorter, AlarmText::UnknownToteInducted { tote }, out);
            return Some(exception);
        };
        if t.recirculations >= self.layout.max_recirculations {
            let text = AlarmText::Recirculated {
                tote,
                times: t.recirculations,
            };
            self.alarm(sorter, text, out);
            return Some(exception);
        }
        if t.transfer.is_some() {
            return Some(self.layout.inbound_chute.unwrap_or(exception));
        }
        let order = self.orders.get(&t.order).map(|o| &o.order);
        let cutoff = order.map(|o| o.cutoff.clone()).unwrap_or_default();
        let lane = order
            .and_then(|o| self.layout.lane_of(o))
            .map(str::to_string);
        let unavailable: BTreeSet<u16> = self
            .full_chutes
            .union(&self.disabled_chutes)
            .copied()
            .collect();
        match self.layout.chute_for(sorter, lane.as_deref(), &unavailable) {
            ChuteChoice::Lane(chute) => Some(chute),
            ChuteChoice::Exception => {
                let text = AlarmText::NoLane { tote, cutoff };
                self.alarm(sorter, text, out);
                Some(exception)
            }
            ChuteChoice::NotOnSorter => {
                let text = AlarmText::NoLaneHere {
                    tote,
                    cutoff,
                    sorter: sorter.to_string(),
                };
                self.alarm(sorter, text, out);
                Some(exception)
            }
            ChuteChoice::LaneFull => {
                let text = AlarmText::LaneFull { tote, cutoff };
                self.alarm(sorter, text, out);
                None
            }
        }
    }

    pub(super) fn sort_confirmed(
        &mut self,
        sorter: &str,
        tote: u32,
        chute: u16,
        outcome: SortOutcome,
        out: &mut Reaction,
    ) {
        let target = self.totes.get(&tote).and_then(|t| t.target).unwrap_or(0);
        *self.summary.outcomes.entry(outcome).or_default() += 1;
        *self
            .summary
            .chute_outcomes
            .entry((
                if outcome == SortOutcome::Sorted {
                    chute
                } else {
                    target
                },
                outcome,
            ))
            .or_default() += 1;
        match outcome {
            // The sorter found the chute unavailable before its sensor said so: choose another
            // chute of the lane next time round.
            SortOutcome::ChuteFull if target != 0 => {
                self.full_chutes.insert(target);
            }
            SortOutcome::ChuteDisabled if target != 0 => {
                self.disabled_chutes.insert(target);
            }
            _ => {}
        }
        if outcome == SortOutcome::Sorted && !self.layout.knows_chute(chute) {
            self.alarm(sorter, AlarmText::NoSuchChute { tote, chute }, out);
        }
        let Some(t) = self.totes.get_mut(&tote) else {
            if outcome == SortOutcome::Sorted {
                self.alarm(sorter, AlarmText::UnknownToteSorted { tote, chute }, out);
            }
            return;
        };
        if outcome.recirculates() {
            t.recirculations += 1;
            self.summary.recirculations += 1;
            return;
        }
        if t.status == ToteStatus::Sorted {
            self.alarm(sorter, AlarmText::SortedAgain { tote, chute }, out);
            return;
        }
        let order = t.order.clone();
        if t.status == ToteStatus::Conveying {
            self.summary.in_flight -= 1;
        }
        if outcome == SortOutcome::Lost {
            t.status = ToteStatus::Lost;
            self.record_tote(tote, out);
            self.alarm(sorter, AlarmText::ToteLost { tote, order }, out);
            return;
        }
        t.status = ToteStatus::Sorted;
        t.chute = Some(chute);
        if let Some(transfer) = t.transfer {
            self.record_tote(tote, out);
            self.transfer_arrived(transfer, tote, out);
            return;
        }
        let right_lane = self
            .orders
            .get(&order)
            .and_then(|o| self.layout.lane_of(&o.order))
            .is_some_and(|lane| self.layout.lane_has(lane, chute));
        self.summary.kpis.totes_sorted += 1;
        self.summary.kpis.totes_right_lane += u32::from(right_lane);
        self.count_done(super::kpi::Done::Tote);
        if !right_lane && chute != self.layout.exception_for(sorter) {
            let text = AlarmText::OutsideLane {
                tote,
                order: order.clone(),
                chute,
            };
            self.alarm(sorter, text, out);
        }
        *self.summary.per_chute.entry(chute).or_default() += 1;
        // An order that filled totes on the way is sorted when its last tote is.
        let all_sorted = self.orders.get(&order).is_some_and(|o| {
            o.status == OrderStatus::Picked
                && o.full_totes.iter().chain(&o.tote).all(|t| {
                    self.totes
                        .get(t)
                        .is_some_and(|t| t.status == ToteStatus::Sorted)
                })
        });
        if all_sorted {
            self.set_order_status(&order, OrderStatus::Sorted);
        }
        self.record_tote(tote, out);
        self.record_order(&order, out);
    }
}

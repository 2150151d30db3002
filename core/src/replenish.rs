//! Forward pick faces kept stocked: a face's projected stock (on hand, less released picks not
//! yet made, plus replenishments on their way) at or below its minimum makes a task to refill it
//! to its maximum from the reserve location holding most of the SKU; what reserve cannot give is
//! asked of the distribution centre as a transfer. A short at a face makes an emergency task.
//! Peak pre-positioning moves are the same tasks, held until their time (the night before).

use serde::{Deserialize, Serialize};

use floorctl_protocol::scanner::Refusal;

use super::{Command, Core, Millis, Reaction, Work};
use crate::AlarmText;

/// A forward pick face and its stock limits, from the forward-area plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PickFace {
    /// Location of the face.
    pub location: String,
    /// SKU it holds.
    pub sku: String,
    /// Refill when projected stock falls to this (cover for the replenishment's lead time).
    pub min: u32,
    /// Refill up to this (the face's allocated space, in units).
    pub max: u32,
}

/// Units to bring forward ahead of a peak.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Move {
    /// SKU.
    pub sku: String,
    /// Units.
    pub qty: u32,
    /// The pick face they go to.
    pub to: String,
}

/// A replenishment task: units from a reserve location to a pick face.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub(super) struct Replenishment {
    pub sku: String,
    pub from: String,
    pub to: String,
    pub qty: u32,
    pub emergency: bool,
    pub not_before: Millis,
    pub assigned: Option<String>,
}

/// A pick face as the dashboard shows it.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct FaceStatus {
    /// SKU.
    pub sku: String,
    /// Units on hand.
    pub on_hand: u32,
    /// Units released orders will still pick here.
    pub open_picks: u32,
    /// Units on their way from reserve.
    pub inbound: u32,
    /// Refill trigger.
    pub min: u32,
    /// Refill level.
    pub max: u32,
}

impl FaceStatus {
    /// On hand less open picks plus inbound: below zero, a stock-out is coming.
    pub fn projected(&self) -> i64 {
        i64::from(self.on_hand) - i64::from(self.open_picks) + i64::from(self.inbound)
    }
}

impl Core {
    /// Installs the forward-area plan's faces and refills any that need it.
    pub(super) fn set_faces(&mut self, faces: &[PickFace], out: &mut Reaction) {
        self.faces = faces
            .iter()
            .map(|f| (f.location.clone(), f.clone()))
            .collect();
        self.summary.forward = Default::default();
        self.summary.stockouts.clear();
        let locations: Vec<String> = self.faces.keys().cloned().collect();
        for l in locations {
            self.refresh_face(&l);
            self.check_face(&l, false, out);
        }
    }

    /// Brings the summary's view of the face at `location` up to date (after its stock, open
    /// picks or inbound refills changed).
    pub(super) fn refresh_face(&mut self, location: &str) {
        if !self.faces.contains_key(location) {
            return;
        }
        let status = self.face_status(location);
        if status.projected() < 0 {
            self.summary.stockouts.insert(location.to_string());
        } else {
            self.summary.stockouts.remove(location);
        }
        std::sync::Arc::make_mut(&mut self.summary.forward).insert(location.to_string(), status);
    }

    /// Queues peak moves, each from the reserve location holding most of its SKU, held until
    /// `not_before`; what reserve cannot give is asked of the DC.
    pub(super) fn plan_moves(&mut self, moves: &[Move], not_before: Millis, out: &mut Reaction) {
        for m in moves {
            self.refill(&m.sku, &m.to, m.qty, false, not_before, out);
        }
    }

    /// Status of every face.
    pub fn faces(&self) -> Vec<(String, FaceStatus)> {
        self.faces
            .keys()
            .map(|l| (l.clone(), self.face_status(l)))
            .collect()
    }

    fn face_status(&self, location: &str) -> FaceStatus {
        let Some(f) = self.faces.get(location) else {
            return FaceStatus::default();
        };
        FaceStatus {
            sku: f.sku.clone(),
            on_hand: self.on_hand(&f.sku, location),
            open_picks: self.open_picks.get(location).copied().unwrap_or(0),
            // Tasks to the face, and units asked of the DC for it and not yet arrived.
            inbound: self
                .replenishments
                .values()
                .filter(|r| r.to == location)
                .map(|r| r.qty)
                .chain(
                    self.transfer_orders
                        .values()
                        .filter(|(_, _, face)| face == location)
                        .map(|(_, qty, _)| *qty),
                )
                .sum(),
            min: f.min,
            max: f.max,
        }
    }

    fn on_hand(&self, sku: &str, location: &str) -> u32 {
        self.stock
            .get(sku)
            .and_then(|s| s.get(location))
            .copied()
            .unwrap_or(0)
    }

    /// Counts units released orders will pick at `location` (negative: picked or withdrawn).
    pub(super) fn add_open_picks(&mut self, location: &str, qty: i64) {
        let n = self.open_picks.entry(location.to_string()).or_default();
        *n = (i64::from(*n) + qty).clamp(0, i64::from(u32::MAX)) as u32;
        self.refresh_face(location);
    }

    /// Refills the face at `location` when its projected stock is at or below its minimum; an
    /// emergency (a short found it empty) goes before every other task.
    pub(super) fn check_face(&mut self, location: &str, emergency: bool, out: &mut Reaction) {
        let Some(face) = self.faces.get(location).cloned() else {
            return;
        };
        let status = self.face_status(location);
        let projected = status.projected();
        if projected > i64::from(face.min) && !emergency {
            return;
        }
        let need = i64::from(face.max) - projected;
        if need <= 0 {
            return;
        }
        let need = need.min(i64::from(u32::MAX)) as u32;
        out.published.push(super::published::face_below_minimum(
            location, &face.sku, projected, face.min, need,
        ));
        self.refill(&face.sku, location, need, emergency, self.now, out);
    }

    fn refill(
        &mut self,
        sku: &str,
        to: &str,
        qty: u32,
        emergency: bool,
        not_before: Millis,
        out: &mut Reaction,
    ) {
        // Reserve: any location of the SKU that is not a pick face, with what is not already
        // promised to another task.
        let promised = |core: &Core, loc: &str| -> u32 {
            core.replenishments
                .values()
                .filter(|r| r.from == loc && r.sku == sku)
                .map(|r| r.qty)
                .sum()
        };
        let reserve = self.stock.get(sku).and_then(|places| {
            places
                .iter()
                .filter(|(loc, _)| !self.faces.contains_key(*loc))
                .map(|(loc, qty)| (loc.clone(), qty.saturating_sub(promised(self, loc))))
                .filter(|(_, free)| *free > 0)
                .max_by_key(|(loc, free)| (*free, std::cmp::Reverse(loc.clone())))
        });
        let mut left = qty;
        if let Some((from, free)) = reserve {
            let take = left.min(free);
            left -= take;
            let task = Replenishment {
                sku: sku.to_string(),
                from,
                to: to.to_string(),
                qty: take,
                emergency,
                not_before,
                assigned: None,
            };
            self.add_task(task, out);
        }
        // What reserve lacks is asked of the DC; units already asked count as inbound to the
        // face, so `left` is new need only.
        if left > 0 {
            self.next_transfer += 1;
            self.transfer_orders
                .insert(self.next_transfer, (sku.to_string(), left, to.to_string()));
            out.record(super::Record::Transfer {
                id: self.next_transfer,
                sku: sku.to_string(),
                qty: left,
                face: to.to_string(),
            });
            out.push(Command::Transfer {
                sku: sku.to_string(),
                qty: left,
                to: to.to_string(),
            });
            self.refresh_face(to);
        }
    }

    /// The location holding most units of `sku`, if any holds some.
    pub(super) fn fullest_location(&self, sku: &str) -> Option<String> {
        self.stock
            .get(sku)?
            .iter()
            .filter(|(_, q)| **q > 0)
            .max_by_key(|(loc, q)| (**q, std::cmp::Reverse(loc.as_str())))
            .map(|(loc, _)| loc.clone())
    }

    /// A new replenishment task; idle handhelds are woken for it.
    fn add_task(&mut self, task: Replenishment, out: &mut Reaction) {
        let id = self.next_replenishment;
        self.next_replenishment += 1;
        self.summary.replenishments += 1;
        self.summary.emergencies += u32::from(task.emergency);
        let to = task.to.clone();
        self.replenishments.insert(id, task);
        self.refresh_face(&to);
        self.wake_idle(out);
    }

    /// The DC shipped transfer `transfer` in `tote`: the tote is expected on the conveyor and
    /// is sorted to the inbound chute.
    pub(super) fn transfer_shipped(
        &mut self,
        transfer: u64,
        tote: u32,
        units: Option<u32>,
        out: &mut Reaction,
    ) {
        // Told twice (the network said it again after a restart): nothing new.
        if self
            .totes
            .get(&tote)
            .is_some_and(|t| t.transfer == Some(transfer))
        {
            return;
        }
        if !self.transfer_orders.contains_key(&transfer) {
            self.alarm("dc", AlarmText::TransferNotOpen { tote, transfer }, out);
            return;
        }
        if self.totes.contains_key(&tote) {
            self.alarm("dc", AlarmText::TransferToteInUse { tote }, out);
            return;
        }
        self.totes.insert(
            tote,
            super::ToteState {
                order: format!("transfer {transfer}"),
                status: super::ToteStatus::Closed,
                chute: None,
                target: None,
                recirculations: 0,
                transfer: Some(transfer),
                units,
            },
        );
        self.record_tote(tote, out);
    }

    /// A transfer tote reached the inbound chute: its units are stock there, all put away to
    /// the face they were asked for.
    pub(super) fn transfer_arrived(&mut self, transfer: u64, tote: u32, out: &mut Reaction) {
        let Some((sku, asked_qty, face)) = self.transfer_orders.remove(&transfer) else {
            return;
        };
        let qty = self
            .totes
            .get(&tote)
            .and_then(|t| t.units)
            .unwrap_or(asked_qty);
        out.record(super::Record::TransferReceived {
            id: transfer,
            received: qty,
        });
        if qty != asked_qty {
            let text = AlarmText::TransferDifference {
                transfer,
                sku: sku.clone(),
                tote,
                asked: asked_qty,
                received: qty,
            };
            self.alarm("dc", text, out);
        }
        if qty == 0 {
            self.refresh_face(&face);
            return;
        }
        let from = format!("inbound tote {tote}");
        self.stock
            .entry(sku.clone())
            .or_default()
            .insert(from.clone(), qty);
        let task = Replenishment {
            sku,
            from,
            to: face,
            qty,
            emergency: false,
            not_before: self.now,
            assigned: None,
        };
        self.add_task(task, out);
    }

    /// The task a handheld should do before any pick: the first emergency, else the oldest
    /// task whose time has come.
    pub(super) fn next_replenishment(&self) -> Option<u64> {
        let due = self
            .replenishments
            .iter()
            .filter(|(_, r)| r.assigned.is_none() && r.not_before <= self.now);
        due.clone()
            .find(|(_, r)| r.emergency)
            .or_else(|| due.clone().next())
            .map(|(id, _)| *id)
    }

    /// Hands replenishment `id` to a handheld.
    pub(super) fn assign_replenishment(&mut self, scanner: &str, id: u64) {
        if let Some(r) = self.replenishments.get_mut(&id) {
            r.assigned = Some(scanner.to_string());
        }
        if let Some(s) = self.scanners.get_mut(scanner) {
            s.work = Some(Work::Replenishing { task: id });
        }
    }

    /// A replenishment handed back (its handheld left) waits for another.
    pub(super) fn unassign_replenishment(&mut self, id: u64) {
        if let Some(r) = self.replenishments.get_mut(&id) {
            r.assigned = None;
        }
    }

    /// The handheld moved `qty` units of its task: reserve less, face more; the task is done.
    pub(super) fn replenished(
        &mut self,
        scanner: &str,
        task: u64,
        qty: u32,
        out: &mut Reaction,
    ) -> Result<(), Refusal> {
        let Some(Work::Replenishing { task: t }) =
            self.scanners.get(scanner).and_then(|s| s.work.clone())
        else {
            return Err(Refusal::NoReplenishment {});
        };
        if t != task {
            return Err(Refusal::WrongReplenishment {
                expected: t,
                got: task,
            });
        }
        let Some(r) = self.replenishments.get(&task).cloned() else {
            return Err(Refusal::NoReplenishment {});
        };
        let held = self.on_hand(&r.sku, &r.from);
        if qty > held {
            return Err(Refusal::MoreThanHeld {
                moved: qty,
                held,
                location: r.from.clone(),
            });
        }
        self.replenishments.remove(&task);
        let places = self.stock.entry(r.sku.clone()).or_default();
        places.insert(r.from.clone(), held - qty);
        *places.entry(r.to.clone()).or_default() += qty;
        self.summary.replenished += 1;
        self.refresh_face(&r.to);
        if let Some(s) = self.scanners.get_mut(scanner) {
            s.work = None;
        }
        // A short move leaves the face low: look again.
        self.check_face(&r.to, false, out);
        self.assign_next(scanner, out);
        Ok(())
    }
}

//! The progress counts: kept up to date by every change, so reading them costs nothing.

use std::collections::{BTreeMap, BTreeSet};

use super::{
    kpi, pairs, Alarm, Core, Equipment, FaceStatus, HandheldView, Kpis, OrderStatus, SortOutcome,
    Throughput, Wave,
};

/// Counts shown as progress.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Summary {
    /// Orders received, less those cancelled.
    pub orders: usize,
    /// Orders cancelled before any picker took them.
    #[serde(default)]
    pub cancelled: usize,
    /// Orders whose tote is closed or further.
    pub picked: usize,
    /// Orders whose tote is in a chute.
    pub sorted: usize,
    /// Totes sorted, per chute.
    pub per_chute: BTreeMap<u16, usize>,
    /// Totes sent round the sorter again.
    pub recirculations: u32,
    /// Sort results by outcome.
    pub outcomes: BTreeMap<SortOutcome, u32>,
    /// Sort results by the chute the divert asked for (0: none) and outcome.
    #[serde(with = "pairs")]
    pub chute_outcomes: BTreeMap<(u16, SortOutcome), u32>,
    /// Alarms raised.
    pub alarms: usize,
    /// Alarms shown to supervisors over the last 10 minutes (ISA-18.2's alarm rate).
    #[serde(default)]
    pub alarm_rate: u32,
    /// Units back-ordered because no location held them.
    pub backordered: u32,
    /// Short picks reported.
    pub shorts: u32,
    /// Handheld messages refused (wrong scans, stale or undirected messages).
    pub refused: u32,
    /// Alarms whose condition still holds, by (source, condition), with their text.
    #[serde(with = "pairs")]
    pub active_alarms: BTreeMap<(String, String), String>,
    /// Conveyors and sorters.
    pub equipment: BTreeMap<String, Equipment>,
    /// Progress per cut-off.
    pub waves: BTreeMap<String, Wave>,
    /// Replenishment tasks made.
    pub replenishments: u32,
    /// Replenishment tasks done.
    pub replenished: u32,
    /// Emergency replenishments (a short found a face empty).
    pub emergencies: u32,
    /// Lines picked, and of them at a forward pick face.
    pub lines_picked: u32,
    /// Lines picked at a forward pick face.
    pub lines_forward: u32,
    /// Picks of more than a face's book stock held (the face ran empty before its refill).
    pub empty_face_picks: u32,
    /// Forward pick faces with their stock, by location (shared: copying the summary after
    /// every event must not copy every face).
    pub forward: std::sync::Arc<BTreeMap<String, FaceStatus>>,
    /// Replenishment tasks not yet done.
    pub open_replenishments: usize,
    /// Faces whose projected stock is below zero: a stock-out coming.
    pub stockouts: BTreeSet<String>,
    /// Open alarms and the last finished ones, by number.
    pub alarm_log: std::sync::Arc<BTreeMap<u64, Alarm>>,
    /// Counts behind the key figures.
    pub kpis: Kpis,
    /// Work done per minute over the last hour.
    pub throughput: Throughput,
    /// Work done per five minutes over the last twelve hours, oldest first.
    #[serde(default)]
    pub shift: Throughput,
    /// Totes on the conveyor or circulating on the sorter.
    pub in_flight: usize,
    /// Chutes reporting full.
    pub full_chutes: BTreeSet<u16>,
    /// Chutes out of service.
    pub disabled_chutes: BTreeSet<u16>,
    /// Handhelds and what each is doing.
    pub handhelds: std::sync::Arc<Vec<HandheldView>>,
}

impl Core {
    /// Progress counts.
    pub fn summary(&self) -> Summary {
        let mut s = self.summary.clone();
        s.equipment = self.equipment.clone();
        s.open_replenishments = self.replenishments.len();
        s.full_chutes = self.full_chutes.clone();
        s.disabled_chutes = self.disabled_chutes.clone();
        s.handhelds = self.handheld_views();
        s
    }

    /// Progress counts recomputed from the state, to check the maintained ones.
    #[cfg(test)]
    pub(super) fn recount(&self) -> Summary {
        let mut s = Summary {
            orders: self
                .orders
                .values()
                .filter(|o| o.status != OrderStatus::Cancelled)
                .count(),
            alarms: self.summary.alarms,
            alarm_rate: self.summary.alarm_rate,
            backordered: self.summary.backordered,
            shorts: self.summary.shorts,
            refused: self.summary.refused,
            replenishments: self.summary.replenishments,
            replenished: self.summary.replenished,
            emergencies: self.summary.emergencies,
            lines_picked: self.summary.lines_picked,
            lines_forward: self.summary.lines_forward,
            empty_face_picks: self.summary.empty_face_picks,
            outcomes: self.summary.outcomes.clone(),
            chute_outcomes: self.summary.chute_outcomes.clone(),
            active_alarms: self.summary.active_alarms.clone(),
            equipment: self.equipment.clone(),
            alarm_log: self.summary.alarm_log.clone(),
            kpis: self.summary.kpis.clone(),
            throughput: self.summary.throughput.clone(),
            shift: self.summary.shift.clone(),
            full_chutes: self.full_chutes.clone(),
            disabled_chutes: self.disabled_chutes.clone(),
            ..Summary::default()
        };
        s.forward = std::sync::Arc::new(self.faces().into_iter().collect());
        s.open_replenishments = self.replenishments.len();
        s.handhelds = std::sync::Arc::new(self.handhelds());
        s.stockouts = s
            .forward
            .iter()
            .filter(|(_, f)| f.projected() < 0)
            .map(|(l, _)| l.clone())
            .collect();
        for o in self.orders.values() {
            s.picked += usize::from(is_picked(o.status));
            s.sorted += usize::from(o.status == OrderStatus::Sorted);
            let w = s
                .waves
                .entry(o.order.cutoff.clone())
                .or_insert_with(|| Wave {
                    orders: 0,
                    waiting: 0,
                    picked: 0,
                    sorted: 0,
                    held: self.held_waves.contains(&o.order.cutoff),
                    ..self.summary.waves[&o.order.cutoff].clone()
                });
            if o.status == OrderStatus::Cancelled {
                // Its cut-off keeps its wave, without it.
                s.cancelled += 1;
                continue;
            }
            w.orders += 1;
            w.picked += usize::from(is_picked(o.status));
            w.sorted += usize::from(o.status == OrderStatus::Sorted);
            w.waiting += usize::from(o.status == OrderStatus::Waiting);
        }
        for t in self.totes.values() {
            s.recirculations += t.recirculations;
            s.in_flight += usize::from(t.status == super::ToteStatus::Conveying);
            if let (super::ToteStatus::Sorted, Some(c)) = (t.status, t.chute) {
                *s.per_chute.entry(c).or_default() += 1;
            }
        }
        s
    }

    /// Moves an order to `status`, keeping the counts.
    pub(super) fn set_order_status(&mut self, id: &str, status: OrderStatus) {
        let Some(o) = self.orders.get_mut(id) else {
            return;
        };
        let old = std::mem::replace(&mut o.status, status);
        let s = &mut self.summary;
        s.picked = s.picked + usize::from(is_picked(status)) - usize::from(is_picked(old));
        s.sorted = s.sorted + usize::from(status == OrderStatus::Sorted)
            - usize::from(old == OrderStatus::Sorted);
        let w = s.waves.entry(o.order.cutoff.clone()).or_default();
        w.picked = w.picked + usize::from(is_picked(status)) - usize::from(is_picked(old));
        w.sorted = w.sorted + usize::from(status == OrderStatus::Sorted)
            - usize::from(old == OrderStatus::Sorted);
        w.waiting = w.waiting + usize::from(status == OrderStatus::Waiting)
            - usize::from(old == OrderStatus::Waiting);
        if is_picked(status) && !is_picked(old) {
            self.count_done(kpi::Done::Order);
        }
        if status == OrderStatus::Sorted && old != OrderStatus::Sorted {
            self.order_shipped(id);
        }
    }

    /// Counts a shipped order for the fill rate and its cut-off's on-time rate.
    pub(super) fn order_shipped(&mut self, id: &str) {
        let Some(o) = self.orders.get(id) else {
            return;
        };
        let complete = o.backordered == 0
            && o.order
                .lines
                .iter()
                .zip(&o.picked)
                .all(|(l, p)| p.is_some_and(|p| p >= l.qty));
        let on_time = o.due.map(|due| self.now <= due);
        let k = &mut self.summary.kpis;
        k.orders_shipped += 1;
        k.orders_complete += u32::from(complete);
        let w = self
            .summary
            .waves
            .entry(o.order.cutoff.clone())
            .or_default();
        match on_time {
            Some(true) => w.on_time += 1,
            Some(false) => w.late += 1,
            None => {}
        }
    }
}

/// Whether an order counts as picked: its tote is closed.
pub(crate) fn is_picked(status: OrderStatus) -> bool {
    matches!(status, OrderStatus::Picked | OrderStatus::Sorted)
}

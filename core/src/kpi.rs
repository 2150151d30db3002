//! Key figures of the floor, counted as events are handled (so they follow from the journal),
//! and throughput per minute over the last hour.

use std::collections::VecDeque;
use std::sync::Arc;

use serde::Serialize;

use super::{Core, Millis};

/// Minutes of throughput kept.
const MINUTES: usize = 60;
/// Five-minute spans of throughput kept: twelve hours, a long shift.
const SPANS: usize = 12 * 12;
/// A span of the shift's throughput.
const SPAN_MS: Millis = 5 * 60_000;

/// Counts behind the key figures; each rate is one count over another.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
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
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
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
    /// Counts one piece of work in the current minute and the current five minutes.
    pub(super) fn count_done(&mut self, what: Done) {
        let now = self.now;
        count_in(&mut self.summary.throughput, now, 60_000, MINUTES, what);
        count_in(&mut self.summary.shift, now, SPAN_MS, SPANS, what);
    }
}

/// Counts one piece of work at `now` in `spans` of `span_ms` each, keeping the last `kept`.
fn count_in(spans: &mut Throughput, now: Millis, span_ms: Millis, kept: usize, what: Done) {
    let at = now - now % span_ms;
    let spans = Arc::make_mut(spans);
    if spans.back().is_none_or(|m| m.at < at) {
        spans.push_back(Minute {
            at,
            ..Minute::default()
        });
    }
    while spans.len() > kept {
        spans.pop_front();
    }
    let Some(m) = spans.back_mut() else {
        return;
    };
    match what {
        Done::Tote => m.totes += 1,
        Done::Line => m.lines += 1,
        Done::Order => m.orders += 1,
    }
}

/// Per-minute counts over the last hour, oldest first.
pub type Throughput = Arc<VecDeque<Minute>>;

/// One key figure as the dashboard shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct KeyFigure {
    /// Which figure: `fill_rate`, `inventory_accuracy`, `on_time` (of `cutoff`),
    /// `shipment_accuracy`, `no_read_rate`, `recirculation_rate`.
    pub key: &'static str,
    /// The cut-off of an on-time figure.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cutoff: Option<String>,
    /// Name.
    pub name: String,
    /// The share, 0 to 1; `None` while nothing has been counted.
    pub value: Option<f64>,
    /// What was counted as good.
    pub good: u64,
    /// What was counted.
    pub of: u64,
    /// How it is computed.
    pub definition: &'static str,
}

fn figure(
    key: &'static str,
    name: String,
    good: u64,
    of: u64,
    definition: &'static str,
) -> KeyFigure {
    KeyFigure {
        key,
        cutoff: None,
        name,
        value: (of > 0).then(|| good as f64 / of as f64),
        good,
        of,
        definition,
    }
}

/// The key figures of a summary: fill rate, inventory accuracy, on-time shipment per cut-off,
/// shipment accuracy, sorter no-read and recirculation rates.
pub fn key_figures(s: &super::Summary) -> Vec<KeyFigure> {
    use super::SortOutcome;
    let k = &s.kpis;
    let results: u64 = s.outcomes.values().map(|n| u64::from(*n)).sum();
    let outcome = |o: SortOutcome| u64::from(s.outcomes.get(&o).copied().unwrap_or(0));
    let recirculated: u64 = SortOutcome::ALL
        .into_iter()
        .filter(|o| o.recirculates())
        .map(outcome)
        .sum();
    let mut figures = vec![
        figure(
            "fill_rate",
            "Order fill rate".into(),
            k.orders_complete.into(),
            k.orders_shipped.into(),
            "Orders in their dispatch lane with every unit ordered picked, of all orders in their lane.",
        ),
        figure(
            "inventory_accuracy",
            "Inventory accuracy".into(),
            k.counts_matching.into(),
            k.counts.into(),
            "Cycle counts that found the quantity the book held, of all cycle counts recorded.",
        ),
    ];
    for (cutoff, w) in &s.waves {
        figures.push(KeyFigure {
            cutoff: Some(cutoff.clone()),
            ..figure(
                "on_time",
                format!("On-time shipment, cut-off {cutoff}"),
                w.on_time as u64,
                (w.on_time + w.late) as u64,
                "Orders in their lane by their cut-off's sorted-by time, of the cut-off's orders in their lane (cut-offs with a time only).",
            )
        });
    }
    figures.push(figure(
        "shipment_accuracy",
        "Shipment accuracy".into(),
        k.totes_right_lane.into(),
        k.totes_sorted.into(),
        "Order totes diverted into a chute of their order's dispatch lane, of all order totes diverted.",
    ));
    figures.push(figure(
        "no_read_rate",
        "Sorter no-read rate".into(),
        outcome(SortOutcome::NoRead),
        results,
        "Sort results where the induct scanner could not read the tote, of all sort results.",
    ));
    figures.push(figure(
        "recirculation_rate",
        "Recirculation rate".into(),
        recirculated,
        results,
        "Sort results that sent the tote round again (no divert in time, chute full or disabled, no-read), of all sort results.",
    ));
    figures
}

//! `floorctl-bench slotting`: forward areas chosen at random, by ABC class and by the fluid
//! model, learnt on the first three weeks of real order lines and judged on the rest of the
//! month: lines served forward, restocks, pick travel per order; and the time to plan 100,000
//! SKUs.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::time::Instant;

use anyhow::Context as _;
use rand::rngs::SmallRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use serde_json::json;

use super::write_json;
use floorctl::slot::Columns;
use floorctl_core::routing::{Pick, Policy, Warehouse};
use floorctl_core::slotting::fluid::{self, Allocation, Costs, SkuDemand};
use floorctl_core::slotting::velocity::{self, Class, Day, Line};

/// What to plan and how it is judged.
#[derive(Debug, Clone, clap::Args)]
pub struct SlottingBenchOptions {
    /// Order lines (TSV: DATE FORMAT, ORDER_NUMBER, SKU, PCS).
    #[arg(long, default_value = "../shared/data/order-lines-2017-01.tsv")]
    pub data: PathBuf,
    /// The warehouse routed in.
    #[arg(long, default_value = "layouts/slotting-bench.toml")]
    pub layout: PathBuf,
    /// Days learnt from, from the first day; the rest of the file is judged on.
    #[arg(long, default_value_t = 21)]
    pub learn_days: i64,
    /// Forward volume, in units (no item master: a unit's volume is 1).
    #[arg(long, default_value_t = 2000.0)]
    pub volume: f64,
    /// Saving per pick served forward.
    #[arg(long, default_value_t = 1.0)]
    pub saving_per_pick: f64,
    /// Cost of one restock, in picks' worth.
    #[arg(long, default_value_t = 5.0)]
    pub restock_cost: f64,
    /// Where the figures are written.
    #[arg(long, default_value = "target/bench/slotting.json")]
    pub out: PathBuf,
}

/// A forward area: SKU to its space.
type Forward = BTreeMap<String, f64>;

/// Runs the benchmark.
pub fn run(o: &SlottingBenchOptions) -> anyhow::Result<()> {
    let columns = Columns {
        sku_column: "SKU".into(),
        picks_column: String::new(),
        flow_column: String::new(),
        min_column: String::new(),
        max_column: String::new(),
        date_column: "DATE FORMAT".into(),
        order_column: "ORDER_NUMBER".into(),
        units_column: "PCS".into(),
        volume_column: String::new(),
    };
    let lines = floorctl::slot::read_lines(&o.data, &columns)
        .with_context(|| format!("reading {}", o.data.display()))?;
    let text = std::fs::read_to_string(&o.layout)
        .with_context(|| format!("reading {}", o.layout.display()))?;
    let w = Warehouse::parse(&text)
        .map_err(|p| anyhow::anyhow!("{}: {}", o.layout.display(), p.join("; ")))?;
    let first = lines
        .iter()
        .map(|l| l.day)
        .min()
        .context("no order lines")?;
    let split: Day = first + o.learn_days;
    let (learn, judge): (Vec<Line>, Vec<Line>) = lines.into_iter().partition(|l| l.day < split);
    let judge_days = judge
        .iter()
        .map(|l| l.day)
        .collect::<BTreeSet<_>>()
        .len()
        .max(1) as f64;
    println!(
        "== learn on {} lines ({} days), judge on {} lines ({judge_days} days); unit volume 1",
        learn.len(),
        o.learn_days,
        judge.len()
    );
    let v = velocity::velocities(&learn, f64::INFINITY, &|_| 1.0);
    let skus = velocity::demands(&v);
    let costs = Costs {
        volume: o.volume,
        saving_per_pick: o.saving_per_pick,
        restock_cost: o.restock_cost,
    };
    let optimal = fluid::plan(&skus, &costs, Allocation::Optimal)?;
    let k = optimal.slots.len();
    let forward_of = |chosen: &[usize], rule| -> Forward {
        fluid::allocate(&skus, chosen, o.volume, rule)
            .into_iter()
            .map(|(i, vol)| (skus[i].sku.clone(), vol))
            .collect()
    };
    let mut rng = SmallRng::seed_from_u64(2017);
    let mut all: Vec<usize> = (0..skus.len()).collect();
    all.shuffle(&mut rng);
    let random = forward_of(&all[..k.min(all.len())], Allocation::EqualSpace);
    let classes = velocity::abc(&v);
    let a: Vec<usize> = (0..skus.len())
        .filter(|&i| classes[&skus[i].sku] == Class::A)
        .collect();
    let abc = forward_of(&a, Allocation::EqualSpace);
    let fluid_area: Forward = optimal
        .slots
        .iter()
        .map(|s| (skus[s.index].sku.clone(), s.volume))
        .collect();

    // Judged on the later days.
    let mut flow: BTreeMap<&str, f64> = BTreeMap::new();
    let mut orders: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for l in &judge {
        *flow.entry(&l.sku).or_default() += l.units / judge_days;
        orders.entry(&l.order).or_default().insert(&l.sku);
    }
    let mut rows = Vec::new();
    let mut report = serde_json::Map::new();
    for (name, area) in [
        ("random", &random),
        ("abc", &abc),
        ("fluid-optimal", &fluid_area),
    ] {
        let served = judge.iter().filter(|l| area.contains_key(&l.sku)).count();
        let restocks: f64 = area
            .iter()
            .map(|(sku, vol)| {
                flow.get(sku.as_str()).copied().unwrap_or(0.0) / vol.max(f64::MIN_POSITIVE)
            })
            .sum();
        let slots = place(&w, area, &v, &judge);
        let started = Instant::now();
        let mut metres = 0.0;
        for skus in orders.values() {
            let picks: Vec<Pick> = skus.iter().map(|s| slots[*s]).collect();
            metres += w
                .route(&picks, Policy::Optimal)
                .map_err(|e| anyhow::anyhow!("{e}"))?
                .length_m;
        }
        let per_order = metres / orders.len() as f64;
        let share = served as f64 / judge.len() as f64;
        let benefit = o.saving_per_pick * served as f64 / judge_days - o.restock_cost * restocks;
        rows.push(format!(
            "  {name:<14} {:>5} SKUs forward  lines served forward {:>5.1} %  restocks/day {:>7.1}  benefit/day {:>8.1}  travel/order {:>6.1} m  ({} orders routed in {:.2} s)",
            area.len(),
            100.0 * share,
            restocks,
            benefit,
            per_order,
            orders.len(),
            started.elapsed().as_secs_f64()
        ));
        report.insert(
            name.into(),
            json!({
                "skus_forward": area.len(),
                "lines_served_forward": share,
                "restocks_per_day": restocks,
                "benefit_per_day": benefit,
                "travel_per_order_m": per_order,
            }),
        );
    }
    for r in &rows {
        println!("{r}");
    }
    let (plan_s, n) = time_plan(100_000, &costs);
    println!(
        "  planning {n} SKUs (choose and size, optimal): {:.1} ms (target under 1 s)",
        plan_s * 1e3
    );
    let value = json!({
        "data": o.data.display().to_string(),
        "layout": o.layout.display().to_string(),
        "learn_days": o.learn_days,
        "judge_days": judge_days,
        "forward_volume": o.volume,
        "saving_per_pick": o.saving_per_pick,
        "restock_cost": o.restock_cost,
        "unit_volume": 1.0,
        "areas": report,
        "plan_100k_skus_s": plan_s,
        "plan_target_met": plan_s < 1.0,
    });
    write_json(&o.out, &value)?;
    println!("\nwritten to {}", o.out.display());
    Ok(())
}

/// Slots for every SKU seen: the forward SKUs, busiest first, in the slots nearest the depot;
/// the others in the remaining slots in a seeded random order.
fn place<'a>(
    w: &Warehouse,
    forward: &Forward,
    v: &BTreeMap<String, velocity::Velocity>,
    judge: &'a [Line],
) -> BTreeMap<&'a str, Pick> {
    let rack_start = w.cross_aisle_width_m / 2.0;
    let mut slots: Vec<Pick> = (1..=w.aisles)
        .flat_map(|aisle| {
            let n = (w.aisle_length_m / 0.5) as u32;
            (0..n).flat_map(move |i| {
                let p = Pick {
                    aisle,
                    position_m: rack_start + 0.25 + 0.5 * f64::from(i),
                };
                [p, p]
            })
        })
        .collect();
    let depot = w.depot();
    slots.sort_by(|a, b| {
        w.distance(depot, w.stop(*a))
            .total_cmp(&w.distance(depot, w.stop(*b)))
    });
    let lines = |s: &str| v.get(s).map_or(0.0, |v| v.lines);
    let mut front: Vec<&str> = judge
        .iter()
        .map(|l| l.sku.as_str())
        .filter(|s| forward.contains_key(*s))
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    front.sort_by(|a, b| lines(b).total_cmp(&lines(a)).then(a.cmp(b)));
    let mut back: Vec<&str> = judge
        .iter()
        .map(|l| l.sku.as_str())
        .filter(|s| !forward.contains_key(*s))
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    back.shuffle(&mut SmallRng::seed_from_u64(7));
    // Forward SKUs take the first slots; reserve starts after the whole forward area's slots so
    // the forward area has the same footprint whichever SKUs it holds.
    let forward_slots = forward.len();
    let mut out = BTreeMap::new();
    for (i, s) in front.into_iter().enumerate() {
        out.insert(s, slots[i.min(slots.len() - 1)]);
    }
    for (i, s) in back.into_iter().enumerate() {
        out.insert(s, slots[(forward_slots + i) % slots.len()]);
    }
    out
}

/// Seconds to plan `n` synthetic SKUs (picks falling off by rank, flows 1 to 5 units a pick):
/// the best of five runs.
fn time_plan(n: usize, costs: &Costs) -> (f64, usize) {
    let mut rng = SmallRng::seed_from_u64(100_000);
    let skus: Vec<SkuDemand> = (0..n)
        .map(|i| {
            let picks = 1000.0 / (i as f64 + 1.0).powf(0.9) + rng.gen_range(0.0..0.01);
            SkuDemand::new(&format!("S{i}"), picks, picks * rng.gen_range(1.0..5.0))
        })
        .collect();
    let best = (0..5)
        .map(|_| {
            let t = Instant::now();
            let p = fluid::plan(&skus, costs, Allocation::Optimal).expect("valid synthetic input");
            std::hint::black_box(p);
            t.elapsed().as_secs_f64()
        })
        .fold(f64::INFINITY, f64::min);
    (best, n)
}

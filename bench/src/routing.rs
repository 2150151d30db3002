//! `floorctl-bench routing`: every routing policy on real pick lines, per order and per batch of
//! orders, with each heuristic's gap to the optimum and the time the optimum takes.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::Context as _;
use serde_json::json;

use super::write_json;
use floorctl_core::routing::{Pick, Policy, Warehouse};

/// What to route.
#[derive(Debug, Clone, clap::Args)]
pub struct RoutingBenchOptions {
    /// Pick lines with locations (CSV with `OrderNumber`, `Alley_Number` like A07 and `Coord`
    /// like "[x, y]" in metres).
    #[arg(long, default_value = "../shared/data/pick-lines-with-locations.csv")]
    pub data: PathBuf,
    /// The layout the coordinates map onto.
    #[arg(long, default_value = "layouts/pick-area-2018.toml")]
    pub layout: PathBuf,
    /// Metres subtracted from a line's y to give its position in the aisle.
    #[arg(long, default_value_t = 5.25)]
    pub y_offset_m: f64,
    /// Orders per batch for the batched run.
    #[arg(long, default_value_t = 10)]
    pub batch: usize,
    /// Where the figures are written.
    #[arg(long, default_value = "target/bench/routing.json")]
    pub out: PathBuf,
}

/// Orders in file order, each with its picks: alley `Ann` becomes aisle `aisles + 1 - nn`
/// (aisle 1 at the depot's end, where the smallest x is), y becomes `y - y_offset`.
fn orders(text: &str, w: &Warehouse, y_offset: f64) -> anyhow::Result<Vec<(String, Vec<Pick>)>> {
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let header: Vec<String> = reader.headers()?.iter().map(str::to_string).collect();
    let col = |name: &str| {
        header
            .iter()
            .position(|h| h == name)
            .with_context(|| format!("no `{name}` column"))
    };
    let (order, alley, coord) = (col("OrderNumber")?, col("Alley_Number")?, col("Coord")?);
    let mut by_order: Vec<(String, Vec<Pick>)> = Vec::new();
    let mut index: BTreeMap<String, usize> = BTreeMap::new();
    for (n, row) in reader.records().enumerate() {
        let c = row?;
        let bad = || {
            format!(
                "line {}: `{}`",
                n + 2,
                c.iter().collect::<Vec<_>>().join(",")
            )
        };
        let nn: u32 = c
            .get(alley)
            .and_then(|a| a.trim().strip_prefix('A')?.parse().ok())
            .with_context(bad)?;
        let y: f64 = c
            .get(coord)
            .and_then(|xy| {
                xy.trim()
                    .trim_matches(['[', ']'])
                    .split(',')
                    .nth(1)?
                    .trim()
                    .parse()
                    .ok()
            })
            .with_context(bad)?;
        anyhow::ensure!(
            nn >= 1 && nn <= w.aisles,
            "{}: alley {nn} is not in the layout",
            bad()
        );
        let pick = Pick {
            aisle: w.aisles + 1 - nn,
            position_m: y - y_offset,
        };
        let id = c.get(order).with_context(bad)?.to_string();
        let i = *index.entry(id.clone()).or_insert_with(|| {
            by_order.push((id, Vec::new()));
            by_order.len() - 1
        });
        by_order[i].1.push(pick);
    }
    Ok(by_order)
}

/// Every policy over `routes`: mean length, gap to the optimum, share routed optimally.
fn compare(w: &Warehouse, routes: &[Vec<Pick>]) -> anyhow::Result<serde_json::Value> {
    let mut lengths: BTreeMap<Policy, Vec<f64>> = BTreeMap::new();
    let mut optimal_time = std::time::Duration::ZERO;
    for picks in routes {
        for p in Policy::ALL {
            let t = Instant::now();
            let r = w.route(picks, p)?;
            if p == Policy::Optimal {
                optimal_time += t.elapsed();
            }
            lengths.entry(p).or_default().push(r.length_m);
        }
    }
    let opt = &lengths[&Policy::Optimal];
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len().max(1) as f64;
    let mut policies = serde_json::Map::new();
    println!(
        "  {:<12} {:>10} {:>12} {:>14}",
        "policy", "mean m", "gap to opt", "routes optimal"
    );
    for p in Policy::ALL {
        let v = &lengths[&p];
        let gap = (mean(v) - mean(opt)) / mean(opt);
        let at_opt = v
            .iter()
            .zip(opt)
            .filter(|(a, b)| (*a - *b).abs() < 1e-6)
            .count() as f64
            / v.len().max(1) as f64;
        println!(
            "  {:<12} {:>10.1} {:>11.1}% {:>13.1}%",
            p.name(),
            mean(v),
            gap * 100.0,
            at_opt * 100.0
        );
        policies.insert(
            p.name().into(),
            json!({"mean_length_m": mean(v), "gap_to_optimal": gap, "share_optimal": at_opt}),
        );
    }
    let per_route_us = optimal_time.as_secs_f64() * 1e6 / routes.len().max(1) as f64;
    println!("  optimal route computed in {per_route_us:.1} µs on average");
    Ok(json!({"routes": routes.len(), "policies": policies, "optimal_us_per_route": per_route_us}))
}

/// Batches by the seed rule the controller uses: the first order left is the seed, then each
/// time the order among the next 40 that lengthens the batch's optimal route least.
fn seed_batches(
    w: &Warehouse,
    orders: &[Vec<Pick>],
    size: usize,
) -> anyhow::Result<Vec<Vec<Pick>>> {
    const CANDIDATES: usize = 40;
    let mut left: std::collections::VecDeque<&Vec<Pick>> = orders.iter().collect();
    let mut out = Vec::new();
    while let Some(seed) = left.pop_front() {
        let mut batch = seed.clone();
        let mut count = 1;
        while count < size {
            let base = w.route(&batch, Policy::Optimal)?.length_m;
            let mut best: Option<(f64, usize)> = None;
            for (i, o) in left.iter().take(CANDIDATES).enumerate() {
                let mut with = batch.clone();
                with.extend_from_slice(o);
                let added = w.route(&with, Policy::Optimal)?.length_m - base;
                if best.is_none_or(|(b, _)| added < b) {
                    best = Some((added, i));
                }
            }
            let Some((_, i)) = best else { break };
            let o = left.remove(i).expect("chosen from left");
            batch.extend_from_slice(o);
            count += 1;
        }
        out.push(batch);
    }
    Ok(out)
}

/// Runs the benchmark and writes its JSON.
pub fn run(opts: &RoutingBenchOptions) -> anyhow::Result<()> {
    let read =
        |p: &Path| std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display()));
    let w = Warehouse::parse(&read(&opts.layout)?)
        .map_err(|p| anyhow::anyhow!("{}: {}", opts.layout.display(), p.join("; ")))?;
    let orders = orders(&read(&opts.data)?, &w, opts.y_offset_m)?;
    let lines: usize = orders.iter().map(|(_, p)| p.len()).sum();
    println!(
        "== {} orders, {lines} lines from {}; layout {}",
        orders.len(),
        opts.data.display(),
        opts.layout.display()
    );
    println!("\n== one route per order");
    let per_order: Vec<Vec<Pick>> = orders.iter().map(|(_, p)| p.clone()).collect();
    let single = compare(&w, &per_order)?;
    println!(
        "\n== one route per batch of {} orders (in file order)",
        opts.batch
    );
    let batches: Vec<Vec<Pick>> = per_order
        .chunks(opts.batch.max(1))
        .map(|c| c.concat())
        .collect();
    let batched = compare(&w, &batches)?;
    let seeded = seed_batches(&w, &per_order, opts.batch.max(1))?;
    let optimal_total = |bs: &[Vec<Pick>]| -> anyhow::Result<f64> {
        let mut m = 0.0;
        for b in bs {
            m += w.route(b, Policy::Optimal)?.length_m;
        }
        Ok(m)
    };
    let (fcfs_m, seed_m) = (optimal_total(&batches)?, optimal_total(&seeded)?);
    let per = |m: f64| m / per_order.len().max(1) as f64;
    println!(
        "
== batching {} orders a trip, optimal routes: first come first served {:.1} m per order, seed {:.1} m per order ({:+.1} %)",
        opts.batch,
        per(fcfs_m),
        per(seed_m),
        (seed_m - fcfs_m) / fcfs_m * 100.0
    );
    let report = json!({
        "data": opts.data.display().to_string(),
        "layout": w,
        "orders": orders.len(),
        "lines": lines,
        "mapping": format!("aisle = {} - alley number; position_m = y - {}", w.aisles + 1, opts.y_offset_m),
        "per_order": single,
        "per_batch": {"orders_per_batch": opts.batch, "result": batched},
        "batching": {
            "orders_per_batch": opts.batch,
            "fcfs_m_per_order": per(fcfs_m),
            "seed_m_per_order": per(seed_m),
        },
    });
    write_json(&opts.out, &report)?;
    println!("\nwritten to {}", opts.out.display());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoted_coordinates_are_one_cell_and_alleys_map_to_aisles_from_the_depot_end() {
        let w = Warehouse::parse(include_str!("../../layouts/pick-area-2018.toml")).unwrap();
        let text = ",OrderNumber,Alley_Number,Coord\n0,7,A11,\"[19.5, 21.0]\"\n1,7,A01,\"[50.75, 6.0]\"\n2,8,A05,\"[37.75, 22.5]\"\n";
        let o = orders(text, &w, 5.25).unwrap();
        assert_eq!(o.len(), 2);
        assert_eq!(
            o[0].1,
            vec![
                Pick {
                    aisle: 1,
                    position_m: 15.75
                },
                Pick {
                    aisle: 11,
                    position_m: 0.75
                }
            ]
        );
        assert_eq!(
            o[1].1,
            vec![Pick {
                aisle: 7,
                position_m: 17.25
            }]
        );
        assert!(orders(
            ",OrderNumber,Alley_Number,Coord\n0,7,B11,\"[1, 2]\"\n",
            &w,
            5.25
        )
        .is_err());
    }
}

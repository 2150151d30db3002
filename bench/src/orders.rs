//! `floorctl-bench orders`: reading an order book as CSV (what `floorctl run --orders` does at
//! start), lines per second, for books of growing size: the time should grow with the lines,
//! not with their square.

use std::path::PathBuf;
use std::time::Instant;

use floorctl_protocol::order::{parse_csv, to_csv, Order, OrderLine, Priority};
use serde_json::json;

use super::write_json;

/// What to read.
#[derive(Debug, Clone, clap::Args)]
pub struct OrdersBenchOptions {
    /// Lines of the largest book; books of a tenth and a hundredth of it are read too.
    #[arg(long, default_value_t = 100_000)]
    pub lines: usize,
    /// Where the figures are written.
    #[arg(long, default_value = "target/bench/orders.json")]
    pub out: PathBuf,
}

/// A book of `lines` lines, two lines an order.
fn book(lines: usize) -> String {
    let orders: Vec<Order> = (0..lines.div_ceil(2))
        .map(|n| Order {
            id: format!("D{n:07}"),
            cutoff: "11:00".into(),
            priority: Priority::Normal,
            destination: None,
            lines: (0..2)
                .map(|l| OrderLine {
                    sku: format!("SKU{:04}", (n * 7 + l) % 5000),
                    qty: 1 + (n % 3) as u32,
                    location: format!("A-{:02}", (n + l) % 40),
                })
                .collect(),
        })
        .collect();
    to_csv(&orders)
}

/// Reads each book, prints and writes the figures.
pub fn run(opts: &OrdersBenchOptions) -> anyhow::Result<()> {
    let mut rows = Vec::new();
    for lines in [opts.lines / 100, opts.lines / 10, opts.lines] {
        let text = book(lines);
        let started = Instant::now();
        let orders = parse_csv(&text).map_err(|p| anyhow::anyhow!("{p:?}"))?;
        let secs = started.elapsed().as_secs_f64();
        println!(
            "{lines:>9} lines ({:>7} orders): {:>9.1} ms, {:>12.0} lines/s",
            orders.len(),
            secs * 1e3,
            lines as f64 / secs
        );
        rows.push(json!({"lines": lines, "orders": orders.len(), "ms": secs * 1e3, "lines_per_s": lines as f64 / secs}));
    }
    let figures = json!({"bench": "orders", "books": rows});
    write_json(&opts.out, &figures)?;
    println!("written to {}", opts.out.display());
    Ok(())
}

//! `floorctl route`: a picker's route through a layout.

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use floorctl_core::routing::{parse_picks, Policy, Warehouse};
use floorctl_protocol::text::{read_text, MAX_CONFIG_BYTES};

/// Arguments of `floorctl route`.
#[derive(Debug, clap::Args)]
pub(super) struct RouteArgs {
    /// Layout file (TOML: aisles, aisle_length_m, aisle_pitch_m, cross_aisle_width_m,
    /// depot_m, optional [slots]).
    #[arg(long)]
    layout: PathBuf,
    /// Picks as CSV with the header `aisle,position_m`.
    #[arg(long)]
    picks: PathBuf,
    /// s-shape, return, midpoint, largest-gap, combined or optimal.
    #[arg(long, default_value = "optimal")]
    policy: String,
    /// Also print the visiting order as JSON.
    #[arg(long)]
    json: bool,
}

fn read(path: &Path) -> anyhow::Result<String> {
    read_text(path, MAX_CONFIG_BYTES).with_context(|| format!("reading {}", path.display()))
}

pub(super) fn run(a: &RouteArgs) -> anyhow::Result<()> {
    let policy = Policy::from_name(&a.policy).ok_or_else(|| {
        let names: Vec<&str> = Policy::ALL.iter().map(|p| p.name()).collect();
        anyhow::anyhow!(
            "unknown policy `{}`: use one of {}",
            a.policy,
            names.join(", ")
        )
    })?;
    let w = Warehouse::parse(&read(&a.layout)?).map_err(|p| super::listed(&a.layout, p))?;
    let stops = parse_picks(&read(&a.picks)?).map_err(|p| super::listed(&a.picks, p))?;
    let r = w
        .route(&stops, policy)
        .with_context(|| format!("routing {}", a.picks.display()))?;
    if a.json {
        let visits: Vec<_> = r.order.iter().map(|i| stops[*i]).collect();
        println!(
            "{}",
            serde_json::json!({"policy": policy.name(), "length_m": r.length_m, "visits": visits})
        );
    }
    println!("policy: {policy}, {} picks", stops.len());
    println!("route length: {:.2} m", r.length_m);
    Ok(())
}

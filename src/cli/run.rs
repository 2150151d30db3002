//! `floorctl run`: a site's controller.

use std::path::PathBuf;

use anyhow::Context as _;
use floorctl::config::Config;
use floorctl_protocol::text::{read_text, MAX_ORDERS_BYTES};

/// Arguments of `floorctl run`.
#[derive(Debug, clap::Args)]
pub(super) struct RunArgs {
    /// Site configuration file (see floorctl.example.toml).
    #[arg(long)]
    config: PathBuf,
    /// Orders to load at start, as CSV (order,cutoff,sku,qty,location, then optionally priority
    /// and destination); known orders are skipped.
    #[arg(long)]
    orders: Option<PathBuf>,
}

pub(super) async fn run(a: RunArgs) -> anyhow::Result<()> {
    let config = Config::load(&a.config)?;
    let orders = match a.orders {
        Some(path) => {
            let text = read_text(&path, MAX_ORDERS_BYTES)
                .with_context(|| format!("reading {}", path.display()))?;
            floorctl_protocol::order::parse_csv(&text)
                .map_err(|problems| super::listed(&path, problems))?
        }
        None => Vec::new(),
    };
    Ok(floorctl::site::run(config, orders).await?)
}

//! `floorctl demo`.

use std::net::SocketAddr;
use std::path::PathBuf;

use floorctl::demo::DemoOptions;

/// Arguments of `floorctl demo`.
#[derive(Debug, clap::Args)]
pub(super) struct DemoArgs {
    /// Orders in the order book.
    #[arg(long, default_value_t = 60)]
    orders: usize,
    /// Virtual pickers.
    #[arg(long, default_value_t = 6)]
    pickers: usize,
    /// Seed of the order book.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Folder for the database (default: a new folder under the system temp folder).
    #[arg(long)]
    dir: Option<PathBuf>,
    /// Address of the embedded broker (another free port is used when it is taken).
    #[arg(long, default_value = floorctl::config::DEFAULT_EMBEDDED_LISTEN)]
    broker: SocketAddr,
    /// Address of the dashboard (another free port is used when it is taken).
    #[arg(long, default_value = "127.0.0.1:8080")]
    dashboard: SocketAddr,
    /// Address of the Prometheus metrics (another free port is used when it is taken).
    #[arg(long, default_value = "127.0.0.1:9464")]
    metrics: SocketAddr,
    /// Stop once every order is sorted instead of serving the dashboard until Ctrl-C.
    #[arg(long)]
    exit_when_sorted: bool,
}

pub(super) async fn run(a: DemoArgs) -> anyhow::Result<()> {
    let dir = a.dir.unwrap_or_else(|| {
        std::env::temp_dir().join(format!("floorctl-demo-{}", std::process::id()))
    });
    Ok(floorctl::demo::run(DemoOptions {
        orders: a.orders,
        pickers: a.pickers,
        seed: a.seed,
        dir,
        broker: a.broker,
        dashboard: a.dashboard,
        metrics: a.metrics,
        exit_when_sorted: a.exit_when_sorted,
    })
    .await?)
}

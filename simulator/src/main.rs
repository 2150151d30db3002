//! `floorsim`: runs the virtual floor on its own, for a controller started with `floorctl run`.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context;
use clap::Parser;
use floorctl_protocol::map::PlcMap;
use floorsim::floor::FloorTiming;
use floorsim::{PickersConfig, SimConfig, Simulator};

/// Virtual forward warehouse: conveyor and sorter PLCs over Modbus TCP, pickers over MQTT.
#[derive(Debug, Parser)]
struct Args {
    /// Register map of the conveyor PLC.
    #[arg(long, default_value = "plc-maps/conveyor-cv4.toml")]
    conveyor_map: PathBuf,
    /// Register map of the sorter PLC.
    #[arg(long, default_value = "plc-maps/sorter-ts8.toml")]
    sorter_map: PathBuf,
    /// Address the conveyor PLC listens on.
    #[arg(long, default_value = "127.0.0.1:5021")]
    conveyor: SocketAddr,
    /// Address the sorter PLC listens on.
    #[arg(long, default_value = "127.0.0.1:5022")]
    sorter: SocketAddr,
    /// MQTT broker host the pickers connect to.
    #[arg(long, default_value = "127.0.0.1")]
    broker_host: String,
    /// MQTT broker port.
    #[arg(long, default_value_t = 11883)]
    broker_port: u16,
    /// Site id.
    #[arg(long, default_value = "fwd1")]
    site: String,
    /// Number of pickers.
    #[arg(long, default_value_t = 4)]
    pickers: usize,
    /// Each handheld's broker password, `{id}` standing for its id (h1, h2, …), for a broker
    /// that wants logins (see deploy/mosquitto). Default: no login.
    #[arg(long)]
    handheld_password: Option<String>,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .init();
    let args = Args::parse();
    let load = |p: &PathBuf| PlcMap::load(p).with_context(|| format!("loading {}", p.display()));
    let mut sim = Simulator::start(SimConfig {
        conveyor_map: load(&args.conveyor_map)?,
        sorter_map: load(&args.sorter_map)?,
        conveyor_listen: args.conveyor,
        sorter_listen: args.sorter,
        timing: FloorTiming::default(),
    })
    .await
    .context("starting the simulated PLCs")?;
    println!(
        "conveyor PLC on {}, sorter PLC on {}",
        sim.conveyor_addr, sim.sorter_addr
    );
    sim.start_pickers(&PickersConfig {
        password: args.handheld_password.clone(),
        ..PickersConfig::steady(
            &args.site,
            &args.broker_host,
            args.broker_port,
            args.pickers,
            800,
            1000,
        )
    });
    // Ctrl-C, or SIGTERM from a service manager or container runtime.
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .context("listening for SIGTERM")?;
    tokio::select! {
        r = tokio::signal::ctrl_c() => r.context("waiting for Ctrl-C")?,
        _ = term.recv() => {}
    }
    println!("stopping; chutes: {:?}", sim.snapshot().chutes);
    sim.shutdown().await;
    Ok(())
}

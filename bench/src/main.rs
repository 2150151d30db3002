//! The `floorctl-bench` command: each benchmark prints its figures and writes them as JSON
//! under `target/bench/`.

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use floorctl_bench::{intake, load, network, orders, plc, recovery, routing, scanners, slotting};

/// floorctl's benchmarks.
#[derive(Debug, Parser)]
#[command(version)]
struct Cli {
    #[command(subcommand)]
    which: Bench,
}

#[derive(Debug, Subcommand)]
enum Bench {
    /// Modbus polling capacity beside libmodbus's bandwidth client, PLCs sustained at a fixed
    /// cycle on one core, and divert decision latency with many sorters.
    Plc(plc::PlcBenchOptions),
    /// Every routing policy on real pick lines: mean route length and gap to the optimum.
    Routing(routing::RoutingBenchOptions),
    /// Scan to next-direction latency with many handhelds, beside the bare broker round trip.
    Scanners(scanners::ScannersBenchOptions),
    /// A whole floor at once: 20 sorters at 30,000 totes/h and 1,000 handhelds scanning against
    /// one controller; latencies, peak memory and CPU (target/bench/load.json).
    Load(load::LoadBenchOptions),
    /// A DC and its forward warehouses, each a simulated floor with a controller process of
    /// its own on one PostgreSQL: orders per hour, transfers, PostgreSQL load, fail-over time
    /// (target/bench/network.json).
    Network(network::NetworkBenchOptions),
    /// Orders made durable through the HTTP API, single and batched, on SQLite and PostgreSQL,
    /// beside the raw insert rate; POST latency; webhook delivery lag (target/bench/intake.json).
    Intake(intake::IntakeBenchOptions),
    /// Reading order books as CSV, from a thousand to a hundred thousand lines.
    Orders(orders::OrdersBenchOptions),
    /// Recovery time from snapshot + journal tail beside a full replay, for a large journal.
    Recovery(recovery::RecoveryBenchOptions),
    /// Random, ABC and fluid-optimal forward areas on real order lines, and planning time.
    Slotting(slotting::SlottingBenchOptions),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // Benchmarks print figures; log lines would only get in the way.
    floorctl::logging::init("error,rumqttd=off");
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(r) => r,
        Err(err) => {
            eprintln!("error: cannot start the runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    let done = runtime.block_on(async {
        match cli.which {
            Bench::Plc(opts) => plc::run(&opts).await,
            Bench::Routing(opts) => routing::run(&opts),
            Bench::Scanners(opts) => scanners::run(&opts).await,
            Bench::Load(opts) => load::run(&opts).await,
            Bench::Network(opts) => network::run(&opts).await,
            Bench::Orders(opts) => orders::run(&opts),
            Bench::Intake(opts) => intake::run(&opts).await,
            Bench::Recovery(opts) => recovery::run(&opts).await,
            Bench::Slotting(opts) => slotting::run(&opts),
        }
    });
    match done {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

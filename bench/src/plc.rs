//! `floorctl-bench plc`: polling capacity beside libmodbus's own bandwidth client, PLCs sustained
//! at a 10 ms cycle on one core, and divert decision latency with many sorters.
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::json;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::capacity::capacity;
use super::farm::{bench_site, sorter_map, wait_listening, DivertHook, PlcFarm};
use super::{percentile, write_json};
use floorctl::config::{Broker, PlcSpec};
use floorctl::controller::Controller;
use floorctl::demo::{shipped_map, SORTER_MAP};
use floorctl::plc::{self, StatusBoard};

/// What to measure.
#[derive(Debug, Clone, clap::Args)]
pub struct PlcBenchOptions {
    /// Requests per phase of the capacity run (libmodbus's client does 100000).
    #[arg(long, default_value_t = 100_000)]
    pub loops: u32,
    /// Runs of each client/server pair (the median is reported).
    #[arg(long, default_value_t = 3)]
    pub repeat: usize,
    /// Poll cycle of the PLC-count run, ms.
    #[arg(long, default_value_t = 10)]
    pub cycle_ms: u64,
    /// Largest number of PLCs to try at that cycle.
    #[arg(long, default_value_t = 800)]
    pub max_plcs: usize,
    /// Seconds each PLC count is held.
    #[arg(long, default_value_t = 5)]
    pub plcs_seconds: u64,
    /// Sorters of the latency run.
    #[arg(long, default_value_t = 20)]
    pub sorters: usize,
    /// Totes per hour per sorter.
    #[arg(long, default_value_t = 30_000)]
    pub totes_per_hour: u32,
    /// Seconds of the latency run.
    #[arg(long, default_value_t = 60)]
    pub latency_seconds: u64,
    /// Where the figures are written.
    #[arg(long, default_value = "target/bench/plc.json")]
    pub out: PathBuf,
}

/// Runs every part and writes the JSON.
pub async fn run(opts: &PlcBenchOptions) -> anyhow::Result<()> {
    println!(
        "== polling capacity against one PLC ({} requests per phase)",
        opts.loops
    );
    let capacity = capacity(opts.loops, opts.repeat.max(1)).await?;
    println!("\n== PLCs polled every {} ms from one core", opts.cycle_ms);
    let sustained = plcs_sustained(opts).await?;
    println!(
        "\n== divert decision latency: {} sorters x {} totes/h, {} s",
        opts.sorters, opts.totes_per_hour, opts.latency_seconds
    );
    let latency = divert_latency(opts).await?;
    let report = json!({
        "capacity": capacity,
        "plcs_at_cycle": sustained,
        "divert_latency": latency,
    });
    write_json(&opts.out, &report)?;
    println!("\nwritten to {}", opts.out.display());
    Ok(())
}

/// How many sorter PLCs the link sustains at `cycle_ms` with every link task on one thread.
async fn plcs_sustained(opts: &PlcBenchOptions) -> anyhow::Result<serde_json::Value> {
    let mut steps = Vec::new();
    let (mut best, mut failed) = (0, None::<usize>);
    let mut n = 10;
    while n <= opts.max_plcs {
        let farm = PlcFarm::start(n, None)?;
        for a in &farm.addrs {
            wait_listening(*a).await;
        }
        let addrs = farm.addrs.clone();
        let (cycle_ms, seconds) = (opts.cycle_ms, opts.plcs_seconds);
        let (rate, cpu) =
            tokio::task::spawn_blocking(move || poll_on_one_core(&addrs, cycle_ms, seconds))
                .await??;
        drop(farm);
        let ok = rate >= 0.95;
        println!(
            "  {n:>4} PLCs: {:>5.1}% of cycles on time (slowest PLC), client thread CPU {:>5.1}% -> {}",
            rate * 100.0,
            cpu * 100.0,
            if ok { "sustained" } else { "not sustained" }
        );
        steps.push(json!({"plcs": n, "slowest_cycle_share": rate, "client_cpu_share": cpu, "sustained": ok}));
        if ok {
            best = best.max(n);
        } else {
            failed = Some(failed.map_or(n, |f| f.min(n)));
        }
        // Grow until a count fails, then halve the gap until it is within 10 %.
        n = match failed {
            None if n < 50 => n + 15,
            None => n * 2,
            Some(f) if f - best > (best / 10).max(5) => best + (f - best) / 2,
            Some(_) => break,
        };
    }
    println!("  sustained at {} ms: {best} PLCs", opts.cycle_ms);
    Ok(json!({"cycle_ms": opts.cycle_ms, "sustained_plcs": best, "steps": steps}))
}

/// Runs one PLC link per address on a single-threaded runtime for `seconds`; returns the share
/// of expected cycles the slowest link completed and the thread's CPU share.
fn poll_on_one_core(
    addrs: &[SocketAddr],
    cycle_ms: u64,
    seconds: u64,
) -> anyhow::Result<(f64, f64)> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let cpu0 = thread_cpu();
    let share = rt.block_on(async {
        let cancel = CancellationToken::new();
        let board = StatusBoard::default();
        let (tx, mut rx) = mpsc::channel(4096);
        let drain = tokio::spawn(async move {
            while let Some(inbound) = rx.recv().await {
                let inbound: floorctl::controller::Inbound = inbound;
                if let (_, Some(receipt)) = inbound.into_parts() {
                    let _ = receipt.send(Ok(()));
                }
            }
        });
        let map = shipped_map(SORTER_MAP);
        let mut senders = Vec::new();
        for (i, a) in addrs.iter().enumerate() {
            let mut spec = PlcSpec::new(&format!("s{i}"), *a, map.clone());
            spec.poll_interval_ms = cycle_ms;
            let (cmd, _task) = plc::spawn(spec, tx.clone(), board.clone(), cancel.clone())
                .expect("the shipped sorter map has every signal a link needs");
            senders.push(cmd);
        }
        // Let every link connect, then count polls over the window.
        tokio::time::sleep(Duration::from_millis(500)).await;
        let before = board.snapshot();
        tokio::time::sleep(Duration::from_secs(seconds)).await;
        let after = board.snapshot();
        cancel.cancel();
        drop(tx);
        drain.abort();
        let expected = (seconds * 1000 / cycle_ms) as f64;
        after
            .iter()
            .map(|(id, s)| (s.polls - before.get(id).map_or(0, |b| b.polls)) as f64 / expected)
            .fold(f64::INFINITY, f64::min)
    });
    let cpu = (thread_cpu() - cpu0).as_secs_f64() / (seconds as f64 + 0.5);
    Ok((share.min(1.0), cpu))
}

/// CPU time of the calling thread.
fn thread_cpu() -> Duration {
    super::cpu_time("/proc/thread-self/stat")
}

/// Shows each sorter of the farm a new tote every 3600 / `totes_per_hour` seconds (staggered
/// across sorters) until `stop`, noting when each was inducted.
pub(super) fn feed_sorters(
    farm: &PlcFarm,
    hook: &Arc<DivertHook>,
    totes_per_hour: u32,
    stop: &CancellationToken,
) -> Vec<tokio::task::JoinHandle<()>> {
    let period = Duration::from_secs_f64(3600.0 / f64::from(totes_per_hour));
    let sorters = farm.images.len();
    let mut feeders = Vec::new();
    for (i, img) in farm.images.iter().enumerate() {
        let (img, hook, stop) = (img.clone(), hook.clone(), stop.clone());
        let offset = period.mul_f64(i as f64 / sorters as f64);
        feeders.push(tokio::spawn(async move {
            tokio::time::sleep(offset).await;
            let mut tick = tokio::time::interval(period);
            let (tote_sig, seq_sig) = (
                sorter_map().signal("induct_tote").expect("signal"),
                sorter_map().signal("induct_seq").expect("signal"),
            );
            let mut n = 0u32;
            while !stop.is_cancelled() {
                tick.tick().await;
                n += 1;
                let tote = (i as u32 + 1) * 1_000_000 + n;
                let mut g = img.lock().unwrap_or_else(|p| p.into_inner());
                g.set(tote_sig, 0, tote);
                g.set(seq_sig, 0, n % 65_535 + 1);
                hook.inducted
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .insert(tote, Instant::now());
            }
        }));
    }
    feeders
}

/// Induct → divert latencies in ms, sorted, and the totes inducted that got no divert.
pub(super) fn divert_figures(hook: &DivertHook) -> (Vec<f64>, usize) {
    let mut lat = hook
        .latencies_ms
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .clone();
    lat.sort_by(f64::total_cmp);
    let missing = hook
        .inducted
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .len();
    (lat, missing)
}

/// Runs a controller (SQLite journal, embedded broker) against `sorters` simulated sorters that
/// each show a new tote every 3600 / totes_per_hour seconds, and measures induct → divert.
async fn divert_latency(opts: &PlcBenchOptions) -> anyhow::Result<serde_json::Value> {
    let hook = Arc::new(DivertHook::default());
    let farm = PlcFarm::start(opts.sorters, Some(hook.clone()))?;
    let dir = std::env::temp_dir().join(format!("floorctl-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let map = sorter_map().clone();
    let broker = Broker::Embedded {
        listen: crate::fixtures::free_addr("127.0.0.1:0".parse()?)?,
        handhelds: None,
    };
    let config = bench_site(&dir, broker, &farm.addrs);
    let controller = Controller::start(config).await?;
    tokio::time::sleep(Duration::from_secs(1)).await;

    let stop = CancellationToken::new();
    let feeders = feed_sorters(&farm, &hook, opts.totes_per_hour, &stop);
    tokio::time::sleep(Duration::from_secs(opts.latency_seconds)).await;
    stop.cancel();
    for f in feeders {
        let _ = f.await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    controller.shutdown(Duration::from_secs(5)).await;
    drop(farm);
    let _ = std::fs::remove_dir_all(&dir);

    let (lat, missing) = divert_figures(&hook);
    let cycle = map.poll_interval_ms as f64;
    let (p50, p99, max) = (
        percentile(&lat, 50.0),
        percentile(&lat, 99.0),
        lat.last().copied().unwrap_or(f64::NAN),
    );
    println!(
        "  {} diverts ({missing} totes without one): p50 {p50:.1} ms, p99 {p99:.1} ms, max {max:.1} ms; target p99 <= poll cycle {cycle} ms + 2 ms: {}",
        lat.len(),
        if p99 <= cycle + 2.0 { "met" } else { "not met" }
    );
    Ok(json!({
        "sorters": opts.sorters,
        "totes_per_hour_per_sorter": opts.totes_per_hour,
        "seconds": opts.latency_seconds,
        "poll_cycle_ms": cycle,
        "diverts": lat.len(),
        "totes_without_divert": missing,
        "p50_ms": p50,
        "p99_ms": p99,
        "max_ms": max,
        "target_p99_ms": cycle + 2.0,
        "target_met": p99 <= cycle + 2.0,
    }))
}

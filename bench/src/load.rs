//! `floorctl-bench load`: one controller under a whole floor's load at once: many sorters showing
//! totes at full rate over Modbus TCP and many handhelds scanning over MQTT, every event
//! journalled. Reports divert and scan latencies, peak memory and CPU.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::json;
use tokio_util::sync::CancellationToken;

use super::farm::{bench_site, DivertHook, PlcFarm};
use super::plc::{divert_figures, feed_sorters};
use super::scanners::{hand_out_picks, run_phase, scanning_handheld, summarise};
use super::{cpu_time, percentile, write_json};
use floorctl::config::Broker;
use floorctl::controller::Controller;

/// What to run.
#[derive(Debug, Clone, clap::Args)]
pub struct LoadBenchOptions {
    /// Handhelds connected and scanning.
    #[arg(long, default_value_t = 1000)]
    pub handhelds: usize,
    /// Scans per second, all handhelds together.
    #[arg(long, default_value_t = 500)]
    pub scans_per_second: u32,
    /// Sorter PLCs.
    #[arg(long, default_value_t = 20)]
    pub sorters: usize,
    /// Totes each sorter inducts per hour.
    #[arg(long, default_value_t = 30_000)]
    pub totes_per_hour: u32,
    /// Seconds measured (after 3 s of warm-up).
    #[arg(long, default_value_t = 600)]
    pub seconds: u64,
    /// An external broker `host:port` (for example Mosquitto) instead of the controller's
    /// embedded one.
    #[arg(long)]
    pub broker: Option<std::net::SocketAddr>,
    /// Where the figures are written.
    #[arg(long, default_value = "target/bench/load.json")]
    pub out: PathBuf,
    /// Run only the controller, in this process, for a load run in another: its embedded
    /// broker's address, then the sorters' addresses (the load run starts it so).
    #[arg(long, hide = true, value_delimiter = ',')]
    pub controller_only: Vec<std::net::SocketAddr>,
    /// With `controller_only`: the broker's address is an external broker's.
    #[arg(long, hide = true)]
    pub external_broker: bool,
}

/// Peak resident memory allowed, MB.
const TARGET_PEAK_RSS_MB: f64 = 256.0;

/// What the controller process says once it is serving.
const READY: &str = "controller ready";

/// Runs the load and writes the JSON (or, with `controller_only`, the controller under it).
pub async fn run(opts: &LoadBenchOptions) -> anyhow::Result<()> {
    if let [broker, sorters @ ..] = &opts.controller_only[..] {
        let broker = if opts.external_broker {
            Broker::External {
                host: broker.ip().to_string(),
                port: broker.port(),
                credentials: None,
            }
        } else {
            Broker::Embedded {
                listen: *broker,
                handhelds: None,
            }
        };
        return serve_controller(opts.handhelds, broker, sorters).await;
    }
    println!(
        "== {} sorters x {} totes/h, {} handhelds scanning {} times/s in all, {} s measured",
        opts.sorters, opts.totes_per_hour, opts.handhelds, opts.scans_per_second, opts.seconds
    );
    let hook = Arc::new(DivertHook::default());
    let farm = PlcFarm::start(opts.sorters, Some(hook.clone()))?;
    let broker = match opts.broker {
        Some(b) => b,
        None => crate::fixtures::free_addr("127.0.0.1:0".parse()?)?,
    };
    let mut addrs = vec![broker];
    addrs.extend(&farm.addrs);
    let addrs: Vec<String> = addrs.iter().map(ToString::to_string).collect();
    // FLOORCTL_BENCH_WRAP runs the controller under a profiler ("heaptrack", say).
    let exe = std::env::current_exe()?;
    let mut command = match std::env::var("FLOORCTL_BENCH_WRAP") {
        Ok(wrap) if !wrap.is_empty() => {
            let mut c = std::process::Command::new(wrap);
            c.arg(exe);
            c
        }
        _ => std::process::Command::new(exe),
    };
    let mut controller = command
        .args(["load", "--handhelds", &opts.handhelds.to_string()])
        .args(opts.broker.map(|_| "--external-broker"))
        .arg("--controller-only")
        .arg(addrs.join(","))
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()?;
    let pid = controller.id();
    let said = controller.stdout.take().expect("piped");
    let ready = tokio::task::spawn_blocking(move || {
        use std::io::BufRead;
        std::io::BufReader::new(said)
            .lines()
            .map_while(Result::ok)
            .any(|l| l == READY)
    });
    if !ready.await? {
        let _ = controller.kill();
        anyhow::bail!("the controller process stopped before it was ready");
    }
    tokio::time::sleep(Duration::from_secs(1)).await;

    let started = Instant::now();
    let stat = format!("/proc/{pid}/stat");
    let status = format!("/proc/{pid}/status");
    let cpu0 = cpu_time(&stat);
    let stop_feeding = CancellationToken::new();
    let feeders = feed_sorters(&farm, &hook, opts.totes_per_hour, &stop_feeding);
    let (host, port) = (broker.ip().to_string(), broker.port());
    let period = Duration::from_secs_f64(opts.handhelds as f64 / f64::from(opts.scans_per_second));
    let totes = Arc::new(Mutex::new(std::collections::HashMap::new()));
    let sampling = CancellationToken::new();
    let rss_sampler = tokio::spawn(sample_rss(status.clone(), sampling.clone()));
    let scans = run_phase(
        opts.handhelds,
        opts.seconds,
        |i, samples, measuring, stop| {
            let offset = period.mul_f64(i as f64 / opts.handhelds as f64);
            let at = (period, offset);
            scanning_handheld(&host, port, i, at, &totes, samples, measuring, stop)
        },
    )
    .await;
    stop_feeding.cancel();
    for f in feeders {
        let _ = f.await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let wall = started.elapsed().as_secs_f64();
    let cpu = (cpu_time(&stat) - cpu0).as_secs_f64();
    sampling.cancel();
    let rss_mb = rss_sampler.await.unwrap_or_default();
    let peak = status_kb(&status, "VmHWM:") / 1024.0;
    drop(controller.stdin.take());
    let _ = tokio::task::spawn_blocking(move || controller.wait()).await;
    drop(farm);

    let (lat, missing) = divert_figures(&hook);
    let (p50, p99, max) = (
        percentile(&lat, 50.0),
        percentile(&lat, 99.0),
        lat.last().copied().unwrap_or(f64::NAN),
    );
    println!();
    println!(
        "  induct -> divert             {:>7} diverts, {missing} totes without one; p50 {p50:>6.2} ms  p99 {p99:>6.2} ms  max {max:>7.2} ms",
        lat.len()
    );
    let scan = summarise("scan -> next direction", &scans, opts.seconds);
    let rss_p50 = percentile(&rss_mb, 50.0);
    println!(
        "  memory: peak RSS {peak:.1} MB (median while running {rss_p50:.1} MB); target under {TARGET_PEAK_RSS_MB} MB: {}",
        if peak < TARGET_PEAK_RSS_MB { "met" } else { "not met" }
    );
    println!(
        "  CPU: {cpu:.1} s over {wall:.1} s = {:.2} cores (the controller process: core, journal, PLC links{})",
        cpu / wall,
        if opts.broker.is_some() { "" } else { ", embedded broker" }
    );
    write_json(
        &opts.out,
        &json!({
            "broker": opts.broker.map_or("embedded in the controller".to_string(), |b| format!("external on {b}")),
            "sorters": opts.sorters,
            "totes_per_hour_per_sorter": opts.totes_per_hour,
            "handhelds": opts.handhelds,
            "scans_per_second": opts.scans_per_second,
            "seconds": opts.seconds,
            "divert": {
                "diverts": lat.len(),
                "totes_without_divert": missing,
                "p50_ms": p50,
                "p99_ms": p99,
                "max_ms": max,
            },
            "scan_to_direction": scan,
            "peak_rss_mb": peak,
            "median_rss_mb": rss_p50,
            "target_peak_rss_mb": TARGET_PEAK_RSS_MB,
            "target_met": peak < TARGET_PEAK_RSS_MB,
            "cpu_seconds": cpu,
            "wall_seconds": wall,
            "cores_used": cpu / wall,
            "process": "memory and CPU are the controller process's (core, SQLite journal, PLC links, and the broker when embedded); sorters and handhelds run in the benchmark's own process",
        }),
    )?;
    println!("\nwritten to {}", opts.out.display());
    Ok(())
}

/// The controller of a load run: its broker, a sorter at each address, a pick
/// for each handheld; serves until its standard input closes.
async fn serve_controller(
    handhelds: usize,
    broker: Broker,
    sorters: &[std::net::SocketAddr],
) -> anyhow::Result<()> {
    let dir = std::env::temp_dir().join(format!("floorctl-bench-load-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let controller = Controller::start(bench_site(&dir, broker, sorters)).await?;
    hand_out_picks(&controller, handhelds).await;
    println!("{READY}");
    // Standard input closes when the load run is over (or has died).
    tokio::task::spawn_blocking(|| std::io::copy(&mut std::io::stdin(), &mut std::io::sink()))
        .await??;
    controller.shutdown(Duration::from_secs(5)).await;
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

/// Resident memory of the process whose `/proc/…/status` is `status`, once a second until
/// `stop`, in MB, sorted.
async fn sample_rss(status: String, stop: CancellationToken) -> Vec<f64> {
    let mut samples = Vec::new();
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    while !stop.is_cancelled() {
        tokio::select! {
            () = stop.cancelled() => break,
            _ = tick.tick() => samples.push(status_kb(&status, "VmRSS:") / 1024.0),
        }
    }
    samples.sort_by(f64::total_cmp);
    samples
}

/// A `kB` line of a `/proc/…/status` file.
fn status_kb(status: &str, key: &str) -> f64 {
    std::fs::read_to_string(status)
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix(key))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(f64::NAN)
}

//! Modbus polling capacity: floorctl's client beside libmodbus's own bandwidth client, each
//! against libmodbus's bandwidth server and against the simulator.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use floorctl_protocol::image::Image;
use floorctl_protocol::map::PlcMap;
use serde_json::json;
use tokio_modbus::client::{tcp, Reader};
use tokio_modbus::Slave;
use tokio_util::sync::CancellationToken;

use super::farm::{bind, serve_on_thread, wait_listening};
use floorctl::demo::CONVEYOR_MAP;

/// Where libmodbus's examples are, as the Debian package `libmodbus-dev` installs them.
pub(super) const LIBMODBUS_EXAMPLES: &str = "/usr/share/doc/libmodbus-dev/examples";
/// The port libmodbus's bandwidth client and server use (fixed in their source).
const C_PORT: u16 = 1502;
/// Bits, registers and write-read registers per request, as in libmodbus's bandwidth client.
const BITS: u16 = 2000;
const REGISTERS: u16 = 125;
const WR_REGISTERS: u16 = 121;

/// Transactions and points per second of one client over one connection.
#[derive(Debug, Clone, Copy, Default, serde::Serialize)]
struct Rates {
    bits_per_s: f64,
    registers_per_s: f64,
    write_read_registers_per_s: f64,
    transactions_per_s: f64,
}

impl Rates {
    fn print(&self, who: &str) {
        println!(
            "  {who:<44} {:>12.0} bits/s {:>10.0} registers/s {:>10.0} write+read registers/s {:>8.0} transactions/s",
            self.bits_per_s, self.registers_per_s, self.write_read_registers_per_s, self.transactions_per_s
        );
    }
}

/// The shipped conveyor map widened to cover the ranges libmodbus's bandwidth client reads.
fn bandwidth_map() -> PlcMap {
    let text = format!(
        "{CONVEYOR_MAP}\n[signals.bench_bits]\ntable = \"coil\"\naddress = 4\ntype = \"bool\"\ncount = {}\naccess = \"read-write\"\n\n[signals.bench_words]\ntable = \"holding_register\"\naddress = 4\ntype = \"u16\"\ncount = {}\naccess = \"read-write\"\n",
        BITS - 4,
        REGISTERS - 4
    );
    PlcMap::parse(&text).expect("the bandwidth map is valid")
}

/// Our side of the capacity run on a thread and runtime of its own, as libmodbus's client has
/// its own process: the same requests, each under a timeout as the PLC link sends them.
async fn rust_client(addr: SocketAddr, loops: u32) -> anyhow::Result<Rates> {
    tokio::task::spawn_blocking(move || {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?
            .block_on(rust_client_requests(addr, loops))
    })
    .await?
}

async fn rust_client_requests(addr: SocketAddr, loops: u32) -> anyhow::Result<Rates> {
    let mut ctx = tcp::connect_slave(addr, Slave(1)).await?;
    let limit = Duration::from_secs(2);
    let t = Instant::now();
    for _ in 0..loops {
        tokio::time::timeout(limit, ctx.read_coils(0, BITS)).await???;
    }
    let bits = t.elapsed().as_secs_f64();
    let t = Instant::now();
    for _ in 0..loops {
        tokio::time::timeout(limit, ctx.read_holding_registers(0, REGISTERS)).await???;
    }
    let regs = t.elapsed().as_secs_f64();
    let values = vec![0u16; usize::from(WR_REGISTERS)];
    let t = Instant::now();
    for _ in 0..loops {
        tokio::time::timeout(
            limit,
            ctx.read_write_multiple_registers(0, WR_REGISTERS, 0, &values),
        )
        .await???;
    }
    let wr = t.elapsed().as_secs_f64();
    let n = f64::from(loops);
    Ok(Rates {
        bits_per_s: n * f64::from(BITS) / bits,
        registers_per_s: n * f64::from(REGISTERS) / regs,
        write_read_registers_per_s: n * f64::from(WR_REGISTERS) / wr,
        transactions_per_s: 3.0 * n / (bits + regs + wr),
    })
}

/// Builds libmodbus's bandwidth client and server from the Debian package's examples.
fn build_c_peers(dir: &Path) -> anyhow::Result<(PathBuf, PathBuf)> {
    std::fs::create_dir_all(dir)?;
    let mut built = Vec::new();
    for name in ["bandwidth-client", "bandwidth-server-one"] {
        let out = dir.join(name);
        let src = Path::new(LIBMODBUS_EXAMPLES).join(format!("{name}.c"));
        anyhow::ensure!(
            src.exists(),
            "{} not found: install libmodbus-dev",
            src.display()
        );
        let status = std::process::Command::new("cc")
            .arg(&src)
            .args(["-O2", "-I/usr/include/modbus", "-lmodbus", "-o"])
            .arg(&out)
            .status()
            .context("running cc")?;
        anyhow::ensure!(status.success(), "cc failed on {}", src.display());
        built.push(out);
    }
    Ok((built[0].clone(), built[1].clone()))
}

/// Runs libmodbus's bandwidth client against 127.0.0.1:1502. Its own rates overflow 32-bit
/// arithmetic at 100000 loops, so the rates are computed here from the elapsed time it prints
/// for each phase (`* 1234.000 ms for ... bytes`).
async fn c_client(bin: &Path) -> anyhow::Result<Rates> {
    let out = tokio::task::spawn_blocking({
        let bin = bin.to_path_buf();
        move || std::process::Command::new(bin).arg("tcp").output()
    })
    .await??;
    let text = String::from_utf8_lossy(&out.stdout);
    anyhow::ensure!(
        out.status.success(),
        "bandwidth-client failed: {text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let loops = text
        .lines()
        .find_map(|l| {
            l.trim()
                .strip_prefix("* ")?
                .split_once(" x ")?
                .0
                .parse::<f64>()
                .ok()
        })
        .context("bandwidth-client printed no loop count")?;
    // Two "ms for" lines per phase (values, then values with overhead), same elapsed time.
    let ms: Vec<f64> = text
        .lines()
        .filter(|l| l.contains(" ms for "))
        .filter_map(|l| {
            l.trim()
                .strip_prefix("* ")?
                .split_whitespace()
                .next()?
                .parse()
                .ok()
        })
        .step_by(2)
        .collect();
    anyhow::ensure!(ms.len() == 3, "unexpected bandwidth-client output: {text}");
    let per = [
        f64::from(BITS),
        f64::from(REGISTERS),
        f64::from(WR_REGISTERS),
    ];
    let rate = |i: usize| loops * per[i] / (ms[i] / 1000.0);
    Ok(Rates {
        bits_per_s: rate(0),
        registers_per_s: rate(1),
        write_read_registers_per_s: rate(2),
        transactions_per_s: 3.0 * loops / (ms.iter().sum::<f64>() / 1000.0),
    })
}

/// The run with the median transaction rate.
fn median(mut runs: Vec<Rates>) -> Rates {
    runs.sort_by(|a, b| a.transactions_per_s.total_cmp(&b.transactions_per_s));
    runs[runs.len() / 2]
}

/// Both clients against both servers, one pair at a time, `repeat` times interleaved.
pub(super) async fn capacity(loops: u32, repeat: usize) -> anyhow::Result<serde_json::Value> {
    let mut runs: std::collections::BTreeMap<String, Vec<Rates>> = Default::default();
    for _ in 0..repeat {
        for (k, r) in capacity_once(loops).await? {
            runs.entry(k).or_default().push(r);
        }
    }
    let mut results = serde_json::Map::new();
    for (k, r) in runs {
        let m = median(r);
        m.print(&k.replace('_', " "));
        results.insert(k, json!(m));
    }
    let ratio = |server: &str| {
        let t = |c: &str| {
            results
                .get(&format!("{c}_client_{server}_server"))
                .and_then(|v| v["transactions_per_s"].as_f64())
        };
        Some(t("floorctl")? / t("libmodbus")?)
    };
    let ratios: Vec<(&str, f64)> = ["floorsim", "libmodbus"]
        .into_iter()
        .filter_map(|server| Some((server, ratio(server)?)))
        .collect();
    for (server, r) in ratios {
        println!("  against the {server} server floorctl's client does {r:.2}x libmodbus's transactions/s");
        results.insert(format!("floorctl_over_libmodbus_{server}_server"), json!(r));
    }
    Ok(serde_json::Value::Object(results))
}

/// One run of each client/server pair.
async fn capacity_once(loops: u32) -> anyhow::Result<Vec<(String, Rates)>> {
    let c_addr: SocketAddr = ([127, 0, 0, 1], C_PORT).into();
    let peers = build_c_peers(Path::new("target/bench/peers"));
    let map = bandwidth_map();
    let mut results = Vec::new();

    // The simulator's server, serving the widened map.
    for client in ["floorctl", "libmodbus"] {
        if client == "libmodbus" && peers.is_err() {
            continue;
        }
        let stop = CancellationToken::new();
        let image = Arc::new(Mutex::new(Image::for_map(&map)));
        let server = serve_on_thread(vec![(bind(c_addr)?, image)], None, stop.clone());
        wait_listening(c_addr).await;
        let rates = match (client, &peers) {
            ("floorctl", _) => rust_client(c_addr, loops).await,
            (_, Ok((c, _))) => c_client(c).await,
            _ => unreachable!(),
        };
        stop.cancel();
        let _ = server.join();
        results.push((format!("{client}_client_floorsim_server"), rates?));
    }
    // libmodbus's own server (it serves one connection, then exits).
    match &peers {
        Ok((c, s)) => {
            for client in ["floorctl", "libmodbus"] {
                // It serves one connection and exits: no readiness probe, a pause instead.
                let mut server = std::process::Command::new(s)
                    .stdout(std::process::Stdio::null())
                    .spawn()
                    .context("starting bandwidth-server-one")?;
                tokio::time::sleep(Duration::from_millis(300)).await;
                let rates = if client == "floorctl" {
                    rust_client(c_addr, loops).await
                } else {
                    c_client(c).await
                };
                let _ = server.kill();
                let _ = server.wait();
                results.push((format!("{client}_client_libmodbus_server"), rates?));
            }
        }
        Err(err) => println!("  libmodbus peers not built ({err:#}); C side skipped"),
    }
    Ok(results)
}

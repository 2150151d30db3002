//! `floorctl-bench scanners`: scan → next-direction latency through the broker with many
//! handhelds, beside the bare broker round trip (a client receiving its own message) measured in
//! the same run on the same broker at the same rate.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use floorctl_protocol::order::Order;
use floorctl_protocol::scanner::{
    down_topic, up_topic, Direction, ScanWhat, Task, Up, UpBody, SCHEMA_VERSION,
};
use rumqttc::{AsyncClient, Event, MqttOptions, Packet, QoS};
use serde_json::json;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::{percentile, write_json};
use floorctl::config::{Broker, Config};
use floorctl::controller::Controller;
use floorctl::demo;

/// What to measure.
#[derive(Debug, Clone, clap::Args)]
pub struct ScannersBenchOptions {
    /// Handhelds connected at once.
    #[arg(long, default_value_t = 500)]
    pub handhelds: usize,
    /// Messages per second, all handhelds together.
    #[arg(long, default_value_t = 2000)]
    pub rate: u32,
    /// Seconds each of the two runs lasts.
    #[arg(long, default_value_t = 20)]
    pub seconds: u64,
    /// An external broker `host:port` (for example Mosquitto) instead of the embedded one.
    #[arg(long)]
    pub broker: Option<std::net::SocketAddr>,
    /// Where the figures are written.
    #[arg(long, default_value = "target/bench/scanners.json")]
    pub out: PathBuf,
}

pub(super) const SITE: &str = "bench";

/// Latencies in ms, and messages sent but not answered in time.
#[derive(Debug, Default)]
pub(super) struct Samples {
    ms: Vec<f64>,
    unanswered: u64,
}

fn client(host: &str, port: u16, id: &str) -> (AsyncClient, rumqttc::EventLoop) {
    let mut opts = MqttOptions::new(id, host, port);
    opts.set_keep_alive(Duration::from_secs(30))
        .set_inflight(100);
    AsyncClient::new(opts, 64)
}

/// One loop per client: every `period` it sends one message, unless the last is unanswered;
/// `message(n)` builds the n-th, `answer` says whether a publish received answers it.
#[allow(clippy::too_many_arguments)]
async fn drive(
    client: AsyncClient,
    mut eventloop: rumqttc::EventLoop,
    subscribe: String,
    period: Duration,
    offset: Duration,
    start_sending: impl Fn(&rumqttc::Publish) -> Option<Option<(String, Vec<u8>)>>,
    message: impl Fn(u64) -> (String, Vec<u8>),
    samples: Arc<Mutex<Samples>>,
    measuring: CancellationToken,
    stop: CancellationToken,
) {
    let mut sent: Option<Instant> = None;
    let mut ready = false;
    let mut n = 0u64;
    let mut tick = tokio::time::interval_at(Instant::now() + offset, period);
    loop {
        tokio::select! {
            () = stop.cancelled() => return,
            ev = eventloop.poll() => match ev {
                Ok(Event::Incoming(Packet::ConnAck(_))) => {
                    let _ = client.subscribe(subscribe.clone(), QoS::AtLeastOnce).await;
                    if let Some(Some((topic, payload))) = start_sending(&rumqttc::Publish::new("", QoS::AtMostOnce, Vec::new())) {
                        let _ = client.publish(topic, QoS::AtLeastOnce, false, payload).await;
                    } else {
                        ready = true;
                    }
                }
                Ok(Event::Incoming(Packet::Publish(p))) => {
                    if !ready {
                        if start_sending(&p).is_some() {
                            ready = true;
                        }
                        continue;
                    }
                    if let Some(t) = sent.take() {
                        if measuring.is_cancelled() {
                            let ms = t.elapsed().as_secs_f64() * 1000.0;
                            samples.lock().unwrap_or_else(|p| p.into_inner()).ms.push(ms);
                        }
                    }
                }
                Ok(_) => {}
                Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
            },
            _ = tick.tick(), if ready => {
                if sent.is_some() {
                    if measuring.is_cancelled() {
                        samples.lock().unwrap_or_else(|p| p.into_inner()).unanswered += 1;
                    }
                    continue;
                }
                n += 1;
                let (topic, payload) = message(n);
                sent = Some(Instant::now());
                let _ = client.publish(topic, QoS::AtLeastOnce, false, payload).await;
            }
        }
    }
}

pub(super) fn summarise(name: &str, s: &Samples, seconds: u64) -> serde_json::Value {
    let mut ms = s.ms.clone();
    ms.sort_by(f64::total_cmp);
    let (p50, p99, max) = (
        percentile(&ms, 50.0),
        percentile(&ms, 99.0),
        ms.last().copied().unwrap_or(f64::NAN),
    );
    println!(
        "  {name:<28} {:>7} answered ({:>6.0}/s), {:>5} unanswered at the next send; p50 {p50:>6.2} ms  p99 {p99:>6.2} ms  max {max:>7.2} ms",
        ms.len(),
        ms.len() as f64 / seconds as f64,
        s.unanswered
    );
    json!({"answered": ms.len(), "per_second": ms.len() as f64 / seconds as f64, "unanswered": s.unanswered, "p50_ms": p50, "p99_ms": p99, "max_ms": max})
}

/// Runs `n` drivers built by `make`: warm-up, then `seconds` measured.
pub(super) async fn run_phase<F>(n: usize, seconds: u64, make: F) -> Samples
where
    F: Fn(
        usize,
        Arc<Mutex<Samples>>,
        CancellationToken,
        CancellationToken,
    ) -> tokio::task::JoinHandle<()>,
{
    let samples = Arc::new(Mutex::new(Samples::default()));
    let (measuring, stop) = (CancellationToken::new(), CancellationToken::new());
    let tasks: Vec<_> = (0..n)
        .map(|i| make(i, samples.clone(), measuring.clone(), stop.clone()))
        .collect();
    tokio::time::sleep(Duration::from_secs(3)).await;
    measuring.cancel();
    tokio::time::sleep(Duration::from_secs(seconds)).await;
    stop.cancel();
    for t in tasks {
        let _ = t.await;
    }
    let s = std::mem::take(&mut *samples.lock().unwrap_or_else(|p| p.into_inner()));
    s
}

/// Handheld `i`: logs in, takes the pick it is given, then scans its tote every `period` (from
/// `offset`), timing each scan to the next direction.
#[allow(clippy::too_many_arguments)]
pub(super) fn scanning_handheld(
    host: &str,
    port: u16,
    i: usize,
    (period, offset): (Duration, Duration),
    totes: &Arc<Mutex<std::collections::HashMap<usize, u32>>>,
    samples: Arc<Mutex<Samples>>,
    measuring: CancellationToken,
    stop: CancellationToken,
) -> tokio::task::JoinHandle<()> {
    let id = format!("h{i}");
    let (c, el) = client(host, port, &id);
    let login = serde_json::to_vec(&Up {
        v: SCHEMA_VERSION,
        id: format!("{id}-login"),
        seq: None,
        body: UpBody::Login {
            picker: id.clone(),
            session: None,
        },
    })
    .expect("serialises");
    let login_topic = up_topic(SITE, &id, "login");
    let scan_topic = up_topic(SITE, &id, "scan");
    let totes_in = totes.clone();
    let totes_out = totes.clone();
    let id2 = id.clone();
    tokio::spawn(drive(
        c,
        el,
        down_topic(SITE, &id, "#"),
        period,
        offset,
        move |p| {
            if p.topic.is_empty() {
                return Some(Some((login_topic.clone(), login.clone())));
            }
            match serde_json::from_slice::<Direction>(&p.payload).map(|d| d.task) {
                Ok(Task::Pick { tote, .. }) => {
                    totes_in
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .insert(i, tote);
                    Some(None)
                }
                _ => None,
            }
        },
        move |n| {
            let tote = totes_out
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .get(&i)
                .copied()
                .unwrap_or(0);
            let msg = Up {
                v: SCHEMA_VERSION,
                id: format!("{id2}-{n}"),
                seq: Some(n),
                body: UpBody::Scan {
                    what: ScanWhat::Tote,
                    code: tote.to_string(),
                },
            };
            (
                scan_topic.clone(),
                serde_json::to_vec(&msg).expect("serialises"),
            )
        },
        samples,
        measuring,
        stop,
    ))
}

/// Hands each of `handhelds` handhelds a one-line order to pick.
pub(super) async fn hand_out_picks(controller: &Controller, handhelds: usize) {
    for i in 0..handhelds {
        let order = Order::one_line(&format!("B{i:05}"), "11:00", "S1", 1, "A-01");
        controller.submit(order).await;
    }
}

/// Runs both phases and writes the JSON.
pub async fn run(opts: &ScannersBenchOptions) -> anyhow::Result<()> {
    let (addr, which) = match opts.broker {
        Some(a) => (a, "external broker"),
        None => {
            let a = crate::fixtures::free_addr("127.0.0.1:0".parse()?)?;
            floorctl::scanners::start_embedded(a, None).await?;
            (a, "embedded broker")
        }
    };
    let port = addr.port();
    let host = addr.ip().to_string();
    let period = Duration::from_secs_f64(opts.handhelds as f64 / f64::from(opts.rate));
    let offset = |i: usize| period.mul_f64(i as f64 / opts.handhelds as f64);
    println!(
        "== {} clients, {} messages/s in all (one every {:?} each), {} s measured per run; {which} on {addr}",
        opts.handhelds, opts.rate, period, opts.seconds
    );

    // The bare broker round trip: each client publishes to a topic it subscribes to.
    let bare = run_phase(
        opts.handhelds,
        opts.seconds,
        |i, samples, measuring, stop| {
            let (c, el) = client(&host, port, &format!("bare{i}"));
            let topic = format!("bench/bare/{i}");
            let t = topic.clone();
            tokio::spawn(drive(
                c,
                el,
                topic,
                period,
                offset(i),
                |_| Some(None),
                move |n| (t.clone(), n.to_string().into_bytes()),
                samples,
                measuring,
                stop,
            ))
        },
    )
    .await;

    // floorctl: each handheld holds a pick and scans its tote; every scan is journalled and
    // answered with the next direction.
    let dir = std::env::temp_dir().join(format!("floorctl-bench-scanners-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let controller = Controller::start(Config {
        site: SITE.into(),
        database: dir.join("floorctl.db").into(),
        broker: Broker::External {
            host: host.clone(),
            port,
            credentials: None,
        },
        plcs: Vec::new(),
        layout: demo::layout(),
        dashboard: Default::default(),
        network: None,
    })
    .await?;
    hand_out_picks(&controller, opts.handhelds).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let totes: Arc<Mutex<std::collections::HashMap<usize, u32>>> = Default::default();
    let scanned = run_phase(
        opts.handhelds,
        opts.seconds,
        |i, samples, measuring, stop| {
            let at = (period, offset(i));
            scanning_handheld(&host, port, i, at, &totes, samples, measuring, stop)
        },
    )
    .await;
    controller.shutdown(Duration::from_secs(5)).await;
    let _ = std::fs::remove_dir_all(&dir);

    println!();
    let b = summarise("bare broker round trip", &bare, opts.seconds);
    let f = summarise("scan -> next direction", &scanned, opts.seconds);
    let (bp99, fp99) = (
        b["p99_ms"].as_f64().unwrap_or(f64::NAN),
        f["p99_ms"].as_f64().unwrap_or(f64::NAN),
    );
    let added = fp99 / bp99 - 1.0;
    println!(
        "  floorctl adds {:.0}% to the bare round trip at p99 (target under 50%): {}",
        added * 100.0,
        if added < 0.5 { "met" } else { "not met" }
    );
    write_json(
        &opts.out,
        &json!({
            "broker": format!("{which} on {addr}"),
            "handhelds": opts.handhelds,
            "rate_per_second": opts.rate,
            "seconds": opts.seconds,
            "bare_broker": b,
            "scan_to_direction": f,
            "added_at_p99": added,
            "target_met": added < 0.5,
        }),
    )?;
    println!("\nwritten to {}", opts.out.display());
    Ok(())
}

//! `floorctl-bench intake`: orders made durable through the HTTP API, one per request and in
//! batches of 1,000, on SQLite and on PostgreSQL, beside the raw rate of writing the same rows
//! into the same kind of database (the limit); POST latency; and the lag from an event's journal
//! entry to its webhook delivery with a healthy receiver (target/bench/intake.json).

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use floorctl::api::token;
use floorctl::config::{Broker, Config, DashboardSettings};
use floorctl::controller::Controller;
use floorctl::http_client::{post, Endpoint};
use floorctl::store::{fresh_schema, ApiToken, Database, Store};
use floorctl::wall_clock::now_ms;
use floorctl_core::{Core, Event, Millis, Published, Reaction, Record};
use floorctl_protocol::order::{Order, OrderLine, Priority};
use serde_json::{json, Value};
use tokio_util::sync::CancellationToken;

use super::{percentile, write_json};
use crate::fixtures::free_addr;

/// What to measure.
#[derive(Debug, Clone, clap::Args)]
pub struct IntakeBenchOptions {
    /// Orders posted one per request.
    #[arg(long, default_value_t = 2_000)]
    pub single: usize,
    /// Clients posting single orders at once.
    #[arg(long, default_value_t = 8)]
    pub clients: usize,
    /// Batches of 1,000 orders posted one after another.
    #[arg(long, default_value_t = 20)]
    pub batches: usize,
    /// Orders a second posted while the webhook lag is measured (a busy site takes a few).
    #[arg(long, default_value_t = 20)]
    pub lag_rate: u32,
    /// Seconds the webhook lag is measured for.
    #[arg(long, default_value_t = 15)]
    pub lag_seconds: u64,
    /// A PostgreSQL server to measure on too (postgres://…; default: FLOORCTL_TEST_POSTGRES);
    /// a schema of its own is made.
    #[arg(long)]
    pub postgres: Option<String>,
    /// Where the figures are written.
    #[arg(long, default_value = "target/bench/intake.json")]
    pub out: PathBuf,
}

const BATCH: usize = 1_000;

fn order(id: &str, n: usize) -> Order {
    Order {
        id: id.into(),
        cutoff: "11:00".into(),
        priority: Priority::Normal,
        destination: None,
        lines: (0..2)
            .map(|l| OrderLine {
                sku: format!("SKU{:04}", (n * 7 + l) % 144),
                qty: 1 + (n % 3) as u32,
                location: format!("A{:02}-{:02}", (n + l) % 12 + 1, (n / 12 + l) % 12 + 1),
            })
            .collect(),
    }
}

/// The order as the API takes it.
fn order_json(id: &str, n: usize) -> Value {
    let o = order(id, n);
    let lines: Vec<Value> = o
        .lines
        .iter()
        .map(|l| json!({"sku": l.sku, "qty": l.qty, "location": l.location}))
        .collect();
    json!({"order": o.id, "cutoff": o.cutoff, "lines": lines})
}

/// Runs the benchmark on every database given, prints and writes the figures.
pub async fn run(opts: &IntakeBenchOptions) -> anyhow::Result<()> {
    let dir = std::env::temp_dir().join(format!("floorctl-bench-intake-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let mut results = Vec::new();
    let sqlite = (
        "sqlite",
        Database::Sqlite(dir.join("raw.db")),
        Database::Sqlite(dir.join("floorctl.db")),
    );
    let mut databases = vec![sqlite];
    let postgres = opts
        .postgres
        .clone()
        .or_else(|| std::env::var("FLOORCTL_TEST_POSTGRES").ok())
        .filter(|u| !u.is_empty());
    match &postgres {
        Some(url) => databases.push((
            "postgresql",
            fresh_schema(url, "intake_raw").await?,
            fresh_schema(url, "intake").await?,
        )),
        None => println!("PostgreSQL skipped: give --postgres or set FLOORCTL_TEST_POSTGRES"),
    }
    for (name, raw, db) in databases {
        println!("— {name}");
        let raw_rate = raw_inserts(&raw, opts.batches * BATCH).await?;
        println!("  raw insert of the same rows, {RAW_COMMIT} orders a commit: {raw_rate:>8.0} orders/s (the limit)");
        let measured = through_the_api(opts, db, &dir.join(name)).await?;
        let batched = measured["batched"]["orders_per_s"].as_f64().unwrap_or(0.0);
        println!(
            "  batched intake is {:.0} % of the raw insert rate (target: at least 50 %)",
            100.0 * batched / raw_rate
        );
        results.push(json!({
            "database": name,
            "raw_insert_orders_per_s": raw_rate,
            "batched_share_of_raw": batched / raw_rate,
            "api": measured,
        }));
    }
    let _ = std::fs::remove_dir_all(&dir);
    let figures = json!({"bench": "intake", "databases": results});
    write_json(&opts.out, &figures)?;
    println!("written to {}", opts.out.display());
    Ok(())
}

/// Orders a commit when the rows are written straight to the database: the controller's own
/// most events a commit, which writes them faster than larger commits do.
const RAW_COMMIT: usize = 256;

/// Orders a second when the rows the controller writes for received orders (journal entry,
/// order as received, its state and history, its published events) are written straight to the
/// database, [`RAW_COMMIT`] orders a commit.
async fn raw_inserts(db: &Database, orders: usize) -> anyhow::Result<f64> {
    let store = Store::connect(db).await?;
    let mut core = Core::new(floorctl::demo::layout());
    let at: Millis = now_ms();
    let handled: Vec<(Event, Reaction)> = (0..orders)
        .map(|n| {
            let event = Event::OrderReceived {
                order: order(&format!("R{n:07}"), n),
            };
            let reaction = core.handle(&event, at);
            (event, reaction)
        })
        .collect();
    let started = Instant::now();
    for chunk in handled.chunks(RAW_COMMIT) {
        let batch: Vec<(Millis, &Event, &[Record], &[Published])> = chunk
            .iter()
            .map(|(e, r)| (at, e, r.records.as_slice(), r.published.as_slice()))
            .collect();
        store.append_all(&batch).await?;
    }
    let rate = orders as f64 / started.elapsed().as_secs_f64();
    store.close().await;
    Ok(rate)
}

/// Webhook deliveries as received: event number → when.
type Received = Arc<Mutex<BTreeMap<i64, Millis>>>;

/// Waits up to `within` for event `last` (or a later one) to be received; whether it was.
async fn delivered(received: &Received, last: i64, within: Duration) -> bool {
    let deadline = Instant::now() + within;
    loop {
        let got = received
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .range(last..)
            .next()
            .is_some();
        if got || Instant::now() >= deadline {
            return got;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn receiver(received: Received) -> anyhow::Result<SocketAddr> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let app = axum::Router::new()
        .route(
            "/hook",
            axum::routing::post(
                |axum::extract::State(r): axum::extract::State<Received>,
                 body: axum::body::Bytes| async move {
                    let at = now_ms();
                    if let Ok(v) = serde_json::from_slice::<Value>(&body) {
                        if let Some(seq) = v["seq"].as_i64() {
                            r.lock()
                                .unwrap_or_else(|p| p.into_inner())
                                .entry(seq)
                                .or_insert(at);
                        }
                    }
                    axum::http::StatusCode::NO_CONTENT
                },
            ),
        )
        .with_state(received);
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Ok(addr)
}

/// Posts `body` as service account `token`; the status and how long the answer took.
async fn post_orders(endpoint: &Endpoint, token: &str, body: &Value) -> (u16, Duration) {
    let started = Instant::now();
    let headers = [("authorization", format!("Bearer {token}"))];
    let status = post(endpoint, &headers, body.to_string().into_bytes())
        .await
        .unwrap_or(0);
    (status, started.elapsed())
}

fn latency(mut ms: Vec<f64>) -> Value {
    ms.sort_by(f64::total_cmp);
    json!({"p50_ms": percentile(&ms, 50.0), "p99_ms": percentile(&ms, 99.0), "max_ms": ms.last()})
}

async fn through_the_api(
    opts: &IntakeBenchOptions,
    db: Database,
    dir: &std::path::Path,
) -> anyhow::Result<Value> {
    std::fs::create_dir_all(dir)?;
    let any: SocketAddr = "127.0.0.1:0".parse()?;
    let config = Config {
        site: "intake".into(),
        database: db,
        broker: Broker::Embedded {
            listen: free_addr(any)?,
            handhelds: None,
        },
        plcs: Vec::new(),
        layout: floorctl::demo::layout(),
        dashboard: DashboardSettings {
            listen: Some(any),
            metrics_listen: None,
            api_requests_per_s: 100_000,
            ..DashboardSettings::default()
        },
        network: None,
    };
    let controller = Controller::start(config.clone()).await?;
    let cancel = CancellationToken::new();
    let web = floorctl::dashboard::start(&controller, &config, &cancel)
        .await?
        .dashboard
        .ok_or_else(|| anyhow::anyhow!("the API is not listening"))?;
    let endpoint =
        Endpoint::parse(&format!("http://{web}/api/v1/orders")).map_err(anyhow::Error::msg)?;
    let store = controller.store().clone();
    let mut tokens = Vec::new();
    for i in 0..opts.clients.max(1) {
        let secret = token::new();
        let account = ApiToken {
            name: format!("bench{i}"),
            scopes: vec!["orders:write".into()],
            sites: None,
            created: now_ms(),
            revoked: None,
        };
        store.add_token(&account, &token::hash(&secret)).await?;
        tokens.push(secret);
    }

    // One order a request, from several clients at once.
    let started = Instant::now();
    let per_client = opts.single / tokens.len();
    let mut clients = Vec::new();
    for (c, secret) in tokens.iter().enumerate() {
        let (endpoint, secret) = (endpoint.clone(), secret.clone());
        clients.push(tokio::spawn(async move {
            let mut ms = Vec::new();
            for n in 0..per_client {
                let body = order_json(&format!("S{c:02}-{n:06}"), n);
                let (status, took) = post_orders(&endpoint, &secret, &body).await;
                anyhow::ensure!(status == 201, "a single order was answered {status}");
                ms.push(took.as_secs_f64() * 1e3);
            }
            Ok(ms)
        }));
    }
    let mut single_ms = Vec::new();
    for c in clients {
        single_ms.extend(c.await??);
    }
    let single_rate = single_ms.len() as f64 / started.elapsed().as_secs_f64();
    let single = json!({"orders": single_ms.len(), "clients": tokens.len(), "orders_per_s": single_rate, "latency": latency(single_ms)});
    println!(
        "  single, {} clients:  {single_rate:>8.0} orders/s, POST p50 {:.1} ms, p99 {:.1} ms",
        tokens.len(),
        single["latency"]["p50_ms"].as_f64().unwrap_or(f64::NAN),
        single["latency"]["p99_ms"].as_f64().unwrap_or(f64::NAN)
    );

    // Batches of 1,000, one after another.
    let started = Instant::now();
    let mut batch_ms = Vec::new();
    for b in 0..opts.batches {
        let orders: Vec<Value> = (0..BATCH)
            .map(|n| order_json(&format!("B{b:03}-{n:04}"), n))
            .collect();
        let (status, took) = post_orders(&endpoint, &tokens[0], &json!({"orders": orders})).await;
        anyhow::ensure!(status == 201, "a batch was answered {status}");
        batch_ms.push(took.as_secs_f64() * 1e3);
    }
    let batched_rate = (opts.batches * BATCH) as f64 / started.elapsed().as_secs_f64();
    let batched = json!({"orders": opts.batches * BATCH, "batch": BATCH, "orders_per_s": batched_rate, "latency": latency(batch_ms)});
    println!(
        "  batched, 1,000 each: {batched_rate:>8.0} orders/s, POST p50 {:.0} ms, p99 {:.0} ms",
        batched["latency"]["p50_ms"].as_f64().unwrap_or(f64::NAN),
        batched["latency"]["p99_ms"].as_f64().unwrap_or(f64::NAN)
    );

    // Webhook lag at a steady rate: journalled → received.
    let received: Received = Arc::default();
    let hook_at = receiver(received.clone()).await?;
    let from = store.last_published().await?;
    let hook = floorctl::outbox::subscription(
        "bench",
        &format!("http://{hook_at}/hook"),
        &[],
        from,
        now_ms(),
    )
    .map_err(|p| anyhow::anyhow!(p.join("; ")))?;
    store.add_webhook(&hook).await?;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let mut tick = tokio::time::interval(Duration::from_secs_f64(
        1.0 / f64::from(opts.lag_rate.max(1)),
    ));
    let until = Instant::now() + Duration::from_secs(opts.lag_seconds);
    let mut n = 0;
    while Instant::now() < until {
        tick.tick().await;
        let (status, _) =
            post_orders(&endpoint, &tokens[0], &order_json(&format!("L{n:06}"), n)).await;
        anyhow::ensure!(status == 201, "an order was answered {status}");
        n += 1;
    }
    let last = store.last_published().await?;
    delivered(&received, last, Duration::from_secs(30)).await;
    let journalled: BTreeMap<i64, Millis> = store
        .published_after(
            from,
            u32::try_from(last - from).unwrap_or(u32::MAX).max(1),
            &[],
        )
        .await?
        .into_iter()
        .map(|e| (e.seq, e.at))
        .collect();
    let got = received.lock().unwrap_or_else(|p| p.into_inner()).clone();
    let lags: Vec<f64> = journalled
        .iter()
        .filter_map(|(seq, at)| got.get(seq).map(|r| r.saturating_sub(*at) as f64))
        .collect();
    let missing = journalled.len() - lags.len();
    let lag = latency(lags);
    println!(
        "  webhook lag at {} orders/s ({} events): p50 {:.0} ms, p99 {:.0} ms (target: p99 under 1 s), {missing} not delivered within 30 s",
        opts.lag_rate,
        journalled.len(),
        lag["p50_ms"].as_f64().unwrap_or(f64::NAN),
        lag["p99_ms"].as_f64().unwrap_or(f64::NAN)
    );
    // A burst: one batch of 1,000 orders, and how fast the webhook catches up with it.
    let before = store.last_published().await?;
    let burst: Vec<Value> = (0..BATCH)
        .map(|n| order_json(&format!("D{n:04}"), n))
        .collect();
    let started = Instant::now();
    let (status, _) = post_orders(&endpoint, &tokens[0], &json!({"orders": burst})).await;
    anyhow::ensure!(status == 201, "the burst was answered {status}");
    let last = store.last_published().await?;
    let drained = delivered(&received, last, Duration::from_secs(120)).await;
    let drain_rate = (last - before) as f64 / started.elapsed().as_secs_f64();
    println!(
        "  webhook after a burst of 1,000 orders ({} events): {}",
        last - before,
        if drained {
            format!("caught up at {drain_rate:.0} events/s")
        } else {
            "not caught up within 120 s".into()
        }
    );
    cancel.cancel();
    controller.shutdown(Duration::from_secs(5)).await;
    Ok(json!({
        "webhook_burst": {"events": last - before, "caught_up": drained, "events_per_s": drain_rate},
        "single": single,
        "batched": batched,
        "webhook_lag": {"orders_per_s": opts.lag_rate, "events": journalled.len(), "undelivered": missing, "latency": lag},
    }))
}

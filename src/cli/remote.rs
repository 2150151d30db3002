//! Commands a person at the site gives a running controller through its HTTP API, as a service
//! account: `floorctl orders add|show`, `floorctl stock load`, `floorctl faces load`. The token
//! is read from `FLOORCTL_TOKEN` (never from the command line, where other users could see it).

use std::path::{Path, PathBuf};

use anyhow::Context;
use floorctl::http_client::{request, Endpoint};
use floorctl_core::PickFace;
use serde::Deserialize;
use serde_json::{json, Value};

/// Where the controller's API is.
#[derive(Debug, clap::Args)]
pub(super) struct Remote {
    /// The controller's dashboard and API address.
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    api: String,
}

/// Bytes of an answer read at most.
const ANSWER_BYTES: usize = 16 * 1024 * 1024;

impl Remote {
    /// One call; its JSON answer, or the API's refusal in plain words (each problem on a line).
    async fn call(&self, method: &str, path: &str, body: Option<&Value>) -> anyhow::Result<Value> {
        let token = std::env::var("FLOORCTL_TOKEN").ok().filter(|t| !t.is_empty()).context(
            "set FLOORCTL_TOKEN to a service account's token (floorctl token add NAME --scopes ...)",
        )?;
        let url = format!("{}{path}", self.api.trim_end_matches('/'));
        let endpoint = Endpoint::parse(&url).map_err(anyhow::Error::msg)?;
        let headers = [("authorization", format!("Bearer {token}"))];
        let body = body.map(|b| b.to_string().into_bytes()).unwrap_or_default();
        let reply = request(&endpoint, method, &headers, body, ANSWER_BYTES)
            .await
            .map_err(|e| anyhow::anyhow!("the controller at {} does not answer: {e}", self.api))?;
        let answer: Value = serde_json::from_slice(&reply.body).unwrap_or(Value::Null);
        if reply.status >= 400 {
            let mut text = answer["message"].as_str().map_or_else(
                || format!("refused with HTTP {}", reply.status),
                str::to_string,
            );
            for p in answer["problems"].as_array().into_iter().flatten() {
                let at = p["path"].as_str().unwrap_or("");
                let what = p["problem"].as_str().unwrap_or("");
                text.push_str(&format!("\n  {at}: {what}"));
            }
            anyhow::bail!(text);
        }
        Ok(answer)
    }
}

fn read(path: &Path) -> anyhow::Result<String> {
    std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))
}

/// Rows of a CSV file with a header, each read as a `T`; every bad row named by its line.
fn rows<T: serde::de::DeserializeOwned>(path: &Path) -> anyhow::Result<Vec<T>> {
    let text = read(path)?;
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let mut out = Vec::new();
    let mut problems = Vec::new();
    for (i, row) in reader.deserialize::<T>().enumerate() {
        match row {
            Ok(r) => out.push(r),
            Err(e) => problems.push(format!("  line {}: {e}", i + 2)),
        }
    }
    anyhow::ensure!(
        problems.is_empty(),
        "{} has problems:\n{}",
        path.display(),
        problems.join("\n")
    );
    Ok(out)
}

#[derive(Debug, clap::Subcommand)]
pub(super) enum OrdersCmd {
    /// Send the orders of an order book (the CSV `floorctl run --orders` reads) to the running
    /// controller, 1,000 at a time; orders it has already are recognised, not doubled.
    Add {
        /// The order book.
        file: PathBuf,
        #[command(flatten)]
        remote: Remote,
    },
    /// An order's status, totes and history.
    Show {
        /// The order number.
        id: String,
        #[command(flatten)]
        remote: Remote,
    },
}

pub(super) async fn orders(cmd: OrdersCmd) -> anyhow::Result<()> {
    match cmd {
        OrdersCmd::Add { file, remote } => {
            let book = floorctl_protocol::order::parse_csv(&read(&file)?).map_err(|problems| {
                anyhow::anyhow!(
                    "{} has problems:\n  {}",
                    file.display(),
                    problems.join("\n  ")
                )
            })?;
            let (mut created, mut known) = (0, 0);
            for chunk in book.chunks(1000) {
                let orders: Vec<Value> = chunk.iter().map(floorctl::api::order_json).collect();
                let answer = remote
                    .call("POST", "/api/v1/orders", Some(&json!({"orders": orders})))
                    .await?;
                for o in answer["orders"].as_array().into_iter().flatten() {
                    match o["result"].as_str() {
                        Some("created") => created += 1,
                        _ => known += 1,
                    }
                }
            }
            println!("{created} order(s) added, {known} already there");
            Ok(())
        }
        OrdersCmd::Show { id, remote } => {
            let o = remote
                .call("GET", &format!("/api/v1/orders/{id}"), None)
                .await?;
            let text = |v: &Value| match v {
                Value::Null => "-".to_string(),
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            println!("order {}", text(&o["order"]));
            println!("status {}", text(&o["status"]));
            println!("cut-off {}", text(&o["cutoff"]));
            println!("tote {}", text(&o["tote"]));
            println!("units picked {}", text(&o["units_picked"]));
            for h in o["history"].as_array().into_iter().flatten() {
                println!(
                    "  {}  {}  tote {}",
                    text(&h["at"]),
                    text(&h["status"]),
                    text(&h["tote"])
                );
            }
            Ok(())
        }
    }
}

/// A row of a stock file.
#[derive(Debug, Deserialize)]
struct StockRow {
    sku: String,
    location: String,
    qty: u64,
}

#[derive(Debug, clap::Args)]
pub(super) struct LoadArgs {
    /// The CSV file.
    file: PathBuf,
    #[command(flatten)]
    remote: Remote,
}

/// `floorctl stock load FILE`: units on hand per SKU and location (`sku,location,qty`).
pub(super) async fn stock(args: LoadArgs) -> anyhow::Result<()> {
    let rows: Vec<StockRow> = rows(&args.file)?;
    for chunk in rows.chunks(10_000) {
        let stock: Vec<Value> = chunk
            .iter()
            .map(|r| json!({"sku": r.sku, "location": r.location, "qty": r.qty}))
            .collect();
        args.remote
            .call("PUT", "/api/v1/stock", Some(&json!({"stock": stock})))
            .await?;
    }
    println!("stock set at {} location(s)", rows.len());
    Ok(())
}

/// `floorctl faces load FILE`: the whole forward area (`location,sku,min,max`).
pub(super) async fn faces(args: LoadArgs) -> anyhow::Result<()> {
    let faces: Vec<PickFace> = rows(&args.file)?;
    args.remote.install_faces(&faces).await
}

impl Remote {
    /// Installs `faces` as the whole forward area and says so.
    pub(super) async fn install_faces(&self, faces: &[PickFace]) -> anyhow::Result<()> {
        self.call("PUT", "/api/v1/pick-faces", Some(&json!({"faces": faces})))
            .await?;
        println!("{} pick face(s) installed", faces.len());
        Ok(())
    }
}

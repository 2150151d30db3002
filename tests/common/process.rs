//! The controller as a process of its own: its site file for a test floor, the floor's order
//! book as a CSV file, and `floorctl run` on them.

use std::path::Path;
use std::process::{Child, Command, Stdio};

use floorctl::store::{Database, Store};

use super::Floor;

/// A site file for the floor: its PLCs, its broker (the controller's own embedded one when
/// `embedded`), `database`, the demo's lanes, then `more` (further sections).
pub fn site_file(f: &Floor, database: &str, embedded: bool, more: &str) -> String {
    let mqtt = if embedded {
        format!("embedded_listen = \"{}\"\nallow_anonymous = true", f.broker)
    } else {
        format!("broker = \"{}\"", f.broker)
    };
    format!(
        r#"site = "e2e"
database = "{database}"
exception_chute = 8
max_recirculations = 3

[mqtt]
{mqtt}

[dashboard]
listen = "off"
metrics_listen = "off"

{plcs}
{lanes}{more}
"#,
        plcs = floorctl_bench::fixtures::plc_sections(f.sim.conveyor_addr, f.sim.sorter_addr),
        lanes = floorctl_bench::fixtures::LANE_SECTIONS,
    )
}

/// The floor's order book as an orders CSV file's text.
pub fn orders_csv(f: &Floor) -> String {
    floorctl_protocol::order::to_csv(&f.orders)
}

/// `floorctl run` on `dir`'s site.toml and orders.csv, its log (errors only) on stderr.
pub fn start(dir: &Path) -> Child {
    Command::new(env!("CARGO_BIN_EXE_floorctl"))
        .args(["run", "--config"])
        .arg(dir.join("site.toml"))
        .arg("--orders")
        .arg(dir.join("orders.csv"))
        .env("RUST_LOG", "error")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap()
}

/// Orders sorted, by the database's order rows (0 while it cannot be opened).
pub async fn sorted(database: &Database) -> usize {
    let Ok(store) = Store::connect(database).await else {
        return 0;
    };
    let n = store
        .orders()
        .await
        .unwrap_or_default()
        .iter()
        .filter(|(_, s)| s == "sorted")
        .count();
    store.close().await;
    n
}

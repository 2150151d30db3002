//! The `floorctl` command.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};
use floorctl::config::Config;
use floorctl::demo::{self, DemoOptions};
use floorctl_protocol::map::PlcMap;

/// Warehouse floor controller: PLCs over Modbus TCP, handhelds over MQTT.
#[derive(Debug, Parser)]
#[command(version)]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Debug, Subcommand)]
enum Cmd {
    /// Run controller, embedded broker, SQLite and simulator together on an order book.
    Demo {
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
        broker: std::net::SocketAddr,
        /// Address of the dashboard (another free port is used when it is taken).
        #[arg(long, default_value = "127.0.0.1:8080")]
        dashboard: std::net::SocketAddr,
        /// Address of the Prometheus metrics (another free port is used when it is taken).
        #[arg(long, default_value = "127.0.0.1:9464")]
        metrics: std::net::SocketAddr,
        /// Stop once every order is sorted instead of serving the dashboard until Ctrl-C.
        #[arg(long)]
        exit_when_sorted: bool,
    },
    /// Dashboard accounts.
    User {
        #[command(subcommand)]
        which: UserCmd,
    },
    /// Run the controller against the PLCs and broker of a site file.
    Run {
        /// Site configuration file (see floorctl.example.toml).
        #[arg(long)]
        config: PathBuf,
        /// Orders to load at start, as CSV (order,cutoff,sku,qty,location); known orders are skipped.
        #[arg(long)]
        orders: Option<PathBuf>,
    },
    /// Route a picker through a warehouse layout and print the route length (last line, metres).
    Route {
        /// Layout file (TOML: aisles, aisle_length_m, aisle_pitch_m, cross_aisle_width_m,
        /// depot_m, optional [slots]).
        #[arg(long)]
        layout: PathBuf,
        /// Picks as CSV with the header `aisle,position_m`.
        #[arg(long)]
        picks: PathBuf,
        /// s-shape, return, midpoint, largest-gap, combined or optimal.
        #[arg(long, default_value = "optimal")]
        policy: String,
        /// Also print the visiting order as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Forward-area planning.
    Slot {
        #[command(subcommand)]
        which: Box<SlotCmd>,
    },
    /// Set a handheld's password in the embedded broker's password file (Mosquitto's format, so
    /// the file also serves a Mosquitto). The password is read from standard input, one line.
    Passwd {
        /// Password file (created when missing).
        file: PathBuf,
        /// Handheld id (its MQTT user name).
        user: String,
        /// PBKDF2 iterations.
        #[arg(long, default_value_t = floorctl::scanners::passwd::ITERATIONS)]
        iterations: u32,
    },
    /// Check PLC map files and list every problem found.
    CheckMap {
        /// Map files.
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Check site files (with the maps, pick area and password files they name, and the
    /// environment variables they read) and list every problem found; connects to nothing.
    CheckConfig {
        /// Site files.
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
}

#[derive(Debug, Subcommand)]
enum UserCmd {
    /// Create a dashboard account, or set its role and password. The password (at least 10
    /// characters) is read from standard input, one line; only its argon2 hash is stored.
    Add {
        /// Account name.
        name: String,
        /// viewer (read-only) or supervisor (may command the floor).
        #[arg(long)]
        role: String,
        /// The controller's database: a SQLite file or a postgres:// URL.
        #[arg(long, conflicts_with = "config", required_unless_present = "config")]
        database: Option<String>,
        /// The site file naming the database. For a site of a network ([network]), the account
        /// is the network's: one login for every site's dashboard.
        #[arg(long)]
        config: Option<PathBuf>,
        /// In a network: the sites (comma-separated) where the account has its role; it has
        /// no access at the others and sees only these in the network view. Default: every site.
        #[arg(long, value_delimiter = ',')]
        sites: Vec<String>,
    },
    /// Remove a dashboard account; its sessions end at once.
    Remove {
        /// Account name.
        name: String,
        /// The controller's database: a SQLite file or a postgres:// URL.
        #[arg(long, conflicts_with = "config", required_unless_present = "config")]
        database: Option<String>,
        /// The site file naming the database (for a network, the network's accounts).
        #[arg(long)]
        config: Option<PathBuf>,
    },
}

#[derive(Debug, Subcommand)]
enum SlotCmd {
    /// Choose the SKUs for the forward area and size their space (fluid model); the last two
    /// lines are `skus_forward: N` and `benefit: X`.
    Plan(floorctl::slot::PlanOptions),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let default_filter = "warn,floorctl=info,rumqttd=off";
    floorctl::logging::init(default_filter);
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(r) => r,
        Err(err) => {
            eprintln!("error: cannot start the runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(execute(cli.command)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

async fn execute(cmd: Cmd) -> anyhow::Result<()> {
    match cmd {
        Cmd::Demo {
            orders,
            pickers,
            seed,
            dir,
            broker,
            dashboard,
            metrics,
            exit_when_sorted,
        } => {
            let dir = dir.unwrap_or_else(|| {
                std::env::temp_dir().join(format!("floorctl-demo-{}", std::process::id()))
            });
            demo::run(DemoOptions {
                orders,
                pickers,
                seed,
                dir,
                broker,
                dashboard,
                metrics,
                exit_when_sorted,
            })
            .await
        }
        Cmd::User {
            which:
                UserCmd::Add {
                    name,
                    role,
                    database,
                    config,
                    sites,
                },
        } => {
            let store = accounts(database, config).await?;
            let sites = (!sites.is_empty()).then_some(sites);
            let done = add_user(&store, &name, &role, sites.as_deref()).await;
            store.close().await;
            done
        }
        Cmd::User {
            which:
                UserCmd::Remove {
                    name,
                    database,
                    config,
                },
        } => {
            let store = accounts(database, config).await?;
            let removed = store.remove_user(&name).await;
            store.close().await;
            anyhow::ensure!(removed?, "there is no account `{name}`");
            println!("account {name} removed; its dashboard sessions end at once");
            Ok(())
        }
        Cmd::Run { config, orders } => {
            let config = Config::load(&config)?;
            let orders = match orders {
                Some(path) => {
                    let text = floorctl_protocol::text::read_text(
                        &path,
                        floorctl_protocol::text::MAX_ORDERS_BYTES,
                    )
                    .with_context(|| format!("reading {}", path.display()))?;
                    floorctl_protocol::order::parse_csv(&text).map_err(|problems| {
                        anyhow::anyhow!(
                            "{} has {} problem(s):\n  - {}",
                            path.display(),
                            problems.len(),
                            problems.join("\n  - ")
                        )
                    })?
                }
                None => Vec::new(),
            };
            floorctl::site::run(config, orders).await
        }
        Cmd::Route {
            layout,
            picks,
            policy,
            json,
        } => route(&layout, &picks, &policy, json),
        Cmd::Slot { which } => match *which {
            SlotCmd::Plan(opts) => floorctl::slot::plan(&opts).await,
        },
        Cmd::Passwd {
            file,
            user,
            iterations,
        } => {
            let mut password = String::new();
            std::io::stdin()
                .read_line(&mut password)
                .context("reading the password from standard input")?;
            let password = password.trim_end_matches(['\r', '\n']);
            floorctl::scanners::passwd::set(&file, &user, password, iterations)
                .map_err(anyhow::Error::msg)?;
            println!("{user}: password set in {}", file.display());
            Ok(())
        }
        Cmd::CheckMap { files } => {
            let mut failed = 0;
            for f in &files {
                match PlcMap::load(f) {
                    Ok(map) => println!(
                        "{}: ok ({} {}, {} signals)",
                        f.display(),
                        map.kind,
                        map.model,
                        map.signals.len()
                    ),
                    Err(err) => {
                        failed += 1;
                        eprintln!("{err}");
                    }
                }
            }
            anyhow::ensure!(
                failed == 0,
                "{failed} of {} map(s) have problems",
                files.len()
            );
            Ok(())
        }
        Cmd::CheckConfig { files } => {
            let mut failed = 0;
            for f in &files {
                match Config::load(f) {
                    Ok(c) => println!(
                        "{}: ok (site {}, {} PLC(s), {}{})",
                        f.display(),
                        c.site,
                        c.plcs.len(),
                        c.database,
                        c.network
                            .as_ref()
                            .map(|n| format!(", network {}", n.schema))
                            .unwrap_or_default()
                    ),
                    Err(err) => {
                        failed += 1;
                        eprintln!("{err}");
                    }
                }
            }
            anyhow::ensure!(
                failed == 0,
                "{failed} of {} site file(s) have problems",
                files.len()
            );
            Ok(())
        }
    }
}

/// The store holding the dashboard accounts named by `--database` or `--config`.
async fn accounts(
    database: Option<String>,
    config: Option<PathBuf>,
) -> anyhow::Result<floorctl::store::Store> {
    Ok(match (database, config) {
        (Some(d), _) => {
            let db = floorctl::store::Database::parse(&d, std::path::Path::new(""));
            floorctl::store::Store::connect(&db).await?
        }
        (None, Some(c)) => {
            let config = Config::load(&c)?;
            match &config.network {
                Some(n) => {
                    floorctl::store::Store::connect_site(&config.database, &n.schema, &config.site)
                        .await?
                }
                None => floorctl::store::Store::connect(&config.database).await?,
            }
        }
        (None, None) => anyhow::bail!("give --database or --config"),
    })
}

async fn add_user(
    store: &floorctl::store::Store,
    name: &str,
    role: &str,
    sites: Option<&[String]>,
) -> anyhow::Result<()> {
    use floorctl::dashboard::auth::{hash_password, Role};
    let role = Role::from_name(role)
        .ok_or_else(|| anyhow::anyhow!("unknown role `{role}`: use viewer or supervisor"))?;
    anyhow::ensure!(
        !name.is_empty()
            && name
                .chars()
                .all(|c| c.is_alphanumeric() || "._-@".contains(c)),
        "account names are letters, digits and . _ - @"
    );
    let mut password = String::new();
    std::io::stdin()
        .read_line(&mut password)
        .context("reading the password from standard input")?;
    let password = password.trim_end_matches(['\r', '\n']);
    let hash = hash_password(password).map_err(anyhow::Error::msg)?;
    if let Some(sites) = sites {
        anyhow::ensure!(
            sites.iter().all(|s| !s.is_empty()),
            "--sites lists site ids, comma-separated"
        );
        anyhow::ensure!(
            store.in_network(),
            "--sites limits an account to sites of a network: give --config with a site file that has [network]"
        );
    }
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64);
    store
        .set_user_at(name, role.name(), &hash, sites, now)
        .await?;
    let at = match sites {
        Some(s) => format!(" at {}", s.join(", ")),
        None => String::new(),
    };
    println!("{name}: {} account set{at}", role.name());
    Ok(())
}

fn read(path: &std::path::Path) -> anyhow::Result<String> {
    floorctl_protocol::text::read_text(path, floorctl_protocol::text::MAX_CONFIG_BYTES)
        .with_context(|| format!("reading {}", path.display()))
}

fn listed(path: &std::path::Path, problems: Vec<String>) -> anyhow::Error {
    anyhow::anyhow!(
        "{} has {} problem(s):\n  - {}",
        path.display(),
        problems.len(),
        problems.join("\n  - ")
    )
}

fn route(
    layout: &std::path::Path,
    picks: &std::path::Path,
    policy: &str,
    json: bool,
) -> anyhow::Result<()> {
    use floorctl_core::routing::{parse_picks, Policy, Warehouse};
    let policy = Policy::from_name(policy).ok_or_else(|| {
        let names: Vec<&str> = Policy::ALL.iter().map(|p| p.name()).collect();
        anyhow::anyhow!("unknown policy `{policy}`: use one of {}", names.join(", "))
    })?;
    let w = Warehouse::parse(&read(layout)?).map_err(|p| listed(layout, p))?;
    let stops = parse_picks(&read(picks)?).map_err(|p| listed(picks, p))?;
    let r = w
        .route(&stops, policy)
        .with_context(|| format!("routing {}", picks.display()))?;
    if json {
        let visits: Vec<_> = r.order.iter().map(|i| stops[*i]).collect();
        println!(
            "{}",
            serde_json::json!({"policy": policy.name(), "length_m": r.length_m, "visits": visits})
        );
    }
    println!("policy: {policy}, {} picks", stops.len());
    println!("route length: {:.2} m", r.length_m);
    Ok(())
}

//! The `floorctl` command line: one file per command, each with its arguments and its `run`.

mod check;
mod demo;
mod passwd;
mod remote;
mod route;
mod run;
mod slot;
mod token;
mod user;
mod webhook;

use clap::{Parser, Subcommand};

/// Warehouse floor controller: PLCs over Modbus TCP, handhelds over MQTT.
#[derive(Debug, Parser)]
#[command(version)]
pub(crate) struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Debug, Subcommand)]
enum Cmd {
    /// Run controller, embedded broker, SQLite and simulator together on an order book.
    Demo(demo::DemoArgs),
    /// Dashboard accounts.
    User {
        #[command(subcommand)]
        which: user::UserCmd,
    },
    /// Service accounts of the HTTP API (/api/v1): tokens with scopes.
    Token {
        #[command(subcommand)]
        which: token::TokenCmd,
    },
    /// Webhooks: where the site's events are posted, signed, retried until taken.
    Webhook {
        #[command(subcommand)]
        which: webhook::WebhookCmd,
    },
    /// Orders on a running controller, through its API (token in FLOORCTL_TOKEN).
    Orders {
        #[command(subcommand)]
        which: remote::OrdersCmd,
    },
    /// Stock on a running controller, through its API (token in FLOORCTL_TOKEN).
    Stock {
        #[command(subcommand)]
        which: StockCmd,
    },
    /// Forward pick faces on a running controller, through its API (token in FLOORCTL_TOKEN).
    Faces {
        #[command(subcommand)]
        which: FacesCmd,
    },
    /// Run the controller against the PLCs and broker of a site file.
    Run(run::RunArgs),
    /// Route a picker through a warehouse layout and print the route length (last line, metres).
    Route(route::RouteArgs),
    /// Forward-area planning.
    Slot {
        #[command(subcommand)]
        which: slot::SlotCmd,
    },
    /// Set a handheld's password in the embedded broker's password file (Mosquitto's format, so
    /// the file also serves a Mosquitto). The password is read from standard input, one line.
    Passwd(passwd::PasswdArgs),
    /// Check PLC map files and list every problem found.
    CheckMap(check::CheckMapArgs),
    /// Check site files (with the maps, pick area and password files they name, and the
    /// environment variables they read) and list every problem found; connects to nothing.
    CheckConfig(check::CheckConfigArgs),
}

#[derive(Debug, Subcommand)]
enum StockCmd {
    /// Set units on hand from a CSV file with the columns sku, location, qty.
    Load(remote::LoadArgs),
}

#[derive(Debug, Subcommand)]
enum FacesCmd {
    /// Install the forward area from a CSV file with the columns location, sku, min, max.
    Load(remote::LoadArgs),
}

impl Cli {
    /// Runs the command.
    pub(crate) async fn run(self) -> anyhow::Result<()> {
        match self.command {
            Cmd::Demo(args) => demo::run(args).await,
            Cmd::User { which } => user::run(which).await,
            Cmd::Token { which } => token::run(which).await,
            Cmd::Webhook { which } => webhook::run(which).await,
            Cmd::Orders { which } => remote::orders(which).await,
            Cmd::Stock {
                which: StockCmd::Load(args),
            } => remote::stock(args).await,
            Cmd::Faces {
                which: FacesCmd::Load(args),
            } => remote::faces(args).await,
            Cmd::Run(args) => run::run(args).await,
            Cmd::Route(args) => route::run(&args),
            Cmd::Slot { which } => slot::run(which).await,
            Cmd::Passwd(args) => passwd::run(&args),
            Cmd::CheckMap(args) => check::maps(&args),
            Cmd::CheckConfig(args) => check::configs(&args),
        }
    }
}

/// One line read from standard input, without its line end (a password).
fn read_line() -> anyhow::Result<String> {
    use anyhow::Context as _;
    let mut line = String::new();
    std::io::stdin()
        .read_line(&mut line)
        .context("reading the password from standard input")?;
    Ok(line.trim_end_matches(['\r', '\n']).to_string())
}

/// A file's problems as one error, each on a line of its own.
fn listed(path: &std::path::Path, problems: Vec<String>) -> anyhow::Error {
    anyhow::anyhow!(
        "{} has {} problem(s):\n  - {}",
        path.display(),
        problems.len(),
        problems.join("\n  - ")
    )
}

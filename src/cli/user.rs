//! `floorctl user add|remove`: dashboard accounts.

use floorctl::wall_clock::now_ms;
use std::path::PathBuf;

use floorctl::config::Config;
use floorctl::dashboard::auth::{hash_password, Role};
use floorctl::store::{Database, Store};

#[derive(Debug, clap::Subcommand)]
pub(super) enum UserCmd {
    /// Create a dashboard account, or set its role and password. The password (at least 10
    /// characters) is read from standard input, one line; only its argon2 hash is stored.
    Add {
        /// Account name.
        name: String,
        /// viewer (read-only) or supervisor (may command the floor).
        #[arg(long, value_enum)]
        role: RoleArg,
        #[command(flatten)]
        accounts: Accounts,
        /// In a network: the sites (comma-separated) where the account has its role; it has
        /// no access at the others and sees only these in the network view. Default: every site.
        #[arg(long, value_delimiter = ',')]
        sites: Vec<String>,
    },
    /// Remove a dashboard account; its sessions end at once.
    Remove {
        /// Account name.
        name: String,
        #[command(flatten)]
        accounts: Accounts,
    },
    /// List the dashboard accounts: name, role, sites, when set, whether disabled.
    List {
        #[command(flatten)]
        accounts: Accounts,
    },
    /// Disable a dashboard account (kept, with its audit history): it logs in no more and its
    /// sessions end at once.
    Disable {
        /// Account name.
        name: String,
        #[command(flatten)]
        accounts: Accounts,
    },
    /// Enable a disabled dashboard account again.
    Enable {
        /// Account name.
        name: String,
        #[command(flatten)]
        accounts: Accounts,
    },
}

/// Where the accounts are.
#[derive(Debug, clap::Args)]
pub(super) struct Accounts {
    /// The controller's database: a SQLite file or a postgres:// URL.
    #[arg(long, conflicts_with = "config", required_unless_present = "config")]
    database: Option<String>,
    /// The site file naming the database. For a site of a network ([network]), the account
    /// is the network's: one login for every site's dashboard.
    #[arg(long)]
    config: Option<PathBuf>,
}

/// An account's role.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub(super) enum RoleArg {
    /// Sees everything, commands nothing.
    Viewer,
    /// Sees everything and commands the floor.
    Supervisor,
}

impl From<RoleArg> for Role {
    fn from(r: RoleArg) -> Role {
        match r {
            RoleArg::Viewer => Role::Viewer,
            RoleArg::Supervisor => Role::Supervisor,
        }
    }
}

pub(super) async fn run(cmd: UserCmd) -> anyhow::Result<()> {
    match cmd {
        UserCmd::Add {
            name,
            role,
            accounts,
            sites,
        } => {
            let store = accounts.open().await?;
            let sites = (!sites.is_empty()).then_some(sites);
            let done = add(&store, &name, role.into(), sites.as_deref()).await;
            store.close().await;
            done
        }
        UserCmd::List { accounts } => {
            let store = accounts.open().await?;
            let rows = store.accounts().await;
            store.close().await;
            let rows = rows?;
            if rows.is_empty() {
                println!("no dashboard account yet (floorctl user add NAME --role ROLE ...)");
            }
            for a in rows {
                let sites = a.sites.map_or("every site".to_string(), |s| s.join(","));
                let state = match a.disabled {
                    Some(at) => format!("disabled {}", floorctl_core::utc_text(at)),
                    None => "enabled".to_string(),
                };
                println!(
                    "{}\t{}\t{sites}\tset {}\t{state}",
                    a.name,
                    a.role,
                    floorctl_core::utc_text(a.updated)
                );
            }
            Ok(())
        }
        UserCmd::Disable { name, accounts } => {
            let store = accounts.open().await?;
            let done = store.disable_user(&name, Some(now_ms())).await;
            store.close().await;
            anyhow::ensure!(done?, "there is no account `{name}`");
            println!("account {name} disabled; its dashboard sessions end at once");
            Ok(())
        }
        UserCmd::Enable { name, accounts } => {
            let store = accounts.open().await?;
            let done = store.disable_user(&name, None).await;
            store.close().await;
            anyhow::ensure!(done?, "there is no account `{name}`");
            println!("account {name} enabled");
            Ok(())
        }
        UserCmd::Remove { name, accounts } => {
            let store = accounts.open().await?;
            let removed = store.remove_user(&name).await;
            store.close().await;
            anyhow::ensure!(removed?, "there is no account `{name}`");
            println!("account {name} removed; its dashboard sessions end at once");
            Ok(())
        }
    }
}

impl Accounts {
    /// The store holding the accounts.
    pub(super) async fn open(self) -> anyhow::Result<Store> {
        Ok(match (self.database, self.config) {
            (Some(d), _) => Store::connect(&Database::parse(&d, std::path::Path::new(""))).await?,
            (None, Some(c)) => {
                let config = Config::load(&c)?;
                match &config.network {
                    Some(n) => {
                        Store::connect_site(&config.database, &n.schema, &config.site).await?
                    }
                    None => Store::connect(&config.database).await?,
                }
            }
            (None, None) => anyhow::bail!("give --database or --config"),
        })
    }
}

async fn add(
    store: &Store,
    name: &str,
    role: Role,
    sites: Option<&[String]>,
) -> anyhow::Result<()> {
    anyhow::ensure!(
        !name.is_empty()
            && name
                .chars()
                .all(|c| c.is_alphanumeric() || "._-@".contains(c)),
        "account names are letters, digits and . _ - @"
    );
    let hash = hash_password(&super::read_line()?).map_err(anyhow::Error::msg)?;
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
    store
        .set_user_at(name, role.name(), &hash, sites, now_ms())
        .await?;
    let at = match sites {
        Some(s) => format!(" at {}", s.join(", ")),
        None => String::new(),
    };
    println!("{name}: {} account set{at}", role.name());
    Ok(())
}

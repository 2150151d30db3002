//! `floorctl token add|list|revoke`: service accounts of the HTTP API.

use floorctl::api::token::{self, SCOPES};
use floorctl::store::ApiToken;
use floorctl::wall_clock::now_ms;

use super::user::Accounts;

#[derive(Debug, clap::Subcommand)]
pub(super) enum TokenCmd {
    /// Make a service account and print its token, once: only a hash of it is kept.
    Add {
        /// The account's name (who, in the audit log).
        name: String,
        /// What it may do, comma-separated: orders:write, orders:read, stock:write, events:read,
        /// webhooks:write.
        #[arg(long, value_delimiter = ',', required = true)]
        scopes: Vec<String>,
        /// The sites (comma-separated) where it may act. Default: every site.
        #[arg(long, value_delimiter = ',')]
        sites: Vec<String>,
        #[command(flatten)]
        accounts: Accounts,
    },
    /// List the service accounts, revoked ones too.
    List {
        #[command(flatten)]
        accounts: Accounts,
    },
    /// Revoke a service account's token at once.
    Revoke {
        /// The account's name.
        name: String,
        #[command(flatten)]
        accounts: Accounts,
    },
}

pub(super) async fn run(cmd: TokenCmd) -> anyhow::Result<()> {
    match cmd {
        TokenCmd::Add {
            name,
            scopes,
            sites,
            accounts,
        } => {
            anyhow::ensure!(
                !name.is_empty()
                    && name
                        .chars()
                        .all(|c| c.is_alphanumeric() || "._-@".contains(c)),
                "service account names are letters, digits and . _ - @"
            );
            let unknown: Vec<&String> = scopes
                .iter()
                .filter(|s| !SCOPES.contains(&s.as_str()))
                .collect();
            anyhow::ensure!(
                unknown.is_empty(),
                "unknown scope(s) {unknown:?}: give some of {}",
                SCOPES.join(", ")
            );
            let store = accounts.open().await?;
            let secret = token::new();
            let account = ApiToken {
                name: name.clone(),
                scopes,
                sites: (!sites.is_empty()).then_some(sites),
                created: now_ms(),
                revoked: None,
            };
            let added = store.add_token(&account, &token::hash(&secret)).await;
            store.close().await;
            anyhow::ensure!(
                added?,
                "there is already a service account `{name}`; revoke it or choose another name"
            );
            println!("{secret}");
            eprintln!("service account {name} made; its token is above and is shown only now");
            Ok(())
        }
        TokenCmd::List { accounts } => {
            let store = accounts.open().await?;
            let all = store.tokens().await;
            store.close().await;
            for t in all? {
                let sites = t.sites.map_or("every site".to_string(), |s| s.join(","));
                let state = if t.revoked.is_some() {
                    "revoked"
                } else {
                    "active"
                };
                println!("{}\t{}\t{sites}\t{state}", t.name, t.scopes.join(","));
            }
            Ok(())
        }
        TokenCmd::Revoke { name, accounts } => {
            let store = accounts.open().await?;
            let revoked = store.revoke_token(&name, now_ms()).await;
            store.close().await;
            anyhow::ensure!(revoked?, "there is no active service account `{name}`");
            println!("service account {name} revoked; its token is refused from now on");
            Ok(())
        }
    }
}

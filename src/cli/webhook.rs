//! `floorctl webhook add|list|remove|attempts`: where the site's events are posted.

use floorctl::outbox;
use floorctl::wall_clock::now_ms;

use super::user::Accounts;

#[derive(Debug, clap::Subcommand)]
pub(super) enum WebhookCmd {
    /// Post the site's events to a URL, signed with a secret printed once.
    Add {
        /// The subscription's name (the source of its alarm).
        name: String,
        /// Where events are posted: http://host:port/path.
        url: String,
        /// The kinds it takes, comma-separated (order.sorted, alarm.raised, ...). Default: all.
        #[arg(long, value_delimiter = ',')]
        kinds: Vec<String>,
        /// Send every event kept, not only those from now on.
        #[arg(long)]
        from_start: bool,
        #[command(flatten)]
        accounts: Accounts,
    },
    /// List the subscriptions in force and how far each has come.
    List {
        #[command(flatten)]
        accounts: Accounts,
    },
    /// End a subscription.
    Remove {
        /// Its name.
        name: String,
        #[command(flatten)]
        accounts: Accounts,
    },
    /// A subscription's latest delivery attempts, newest first.
    Attempts {
        /// Its name.
        name: String,
        #[command(flatten)]
        accounts: Accounts,
    },
}

pub(super) async fn run(cmd: WebhookCmd) -> anyhow::Result<()> {
    match cmd {
        WebhookCmd::Add {
            name,
            url,
            kinds,
            from_start,
            accounts,
        } => {
            let store = accounts.open().await?;
            let from = if from_start {
                0
            } else {
                store.last_published().await?
            };
            let hook = match outbox::subscription(&name, &url, &kinds, from, now_ms()) {
                Ok(h) => h,
                Err(problems) => {
                    store.close().await;
                    anyhow::bail!("{}", problems.join("\n"));
                }
            };
            let added = store.add_webhook(&hook).await;
            store.close().await;
            anyhow::ensure!(
                added?,
                "there is (or was) a webhook `{name}`; choose another name"
            );
            println!("{}", hook.secret);
            eprintln!(
                "webhook {name} made; the controller posts to {url} within a second; the secret above \
                 verifies its signatures and is shown only now"
            );
            Ok(())
        }
        WebhookCmd::List { accounts } => {
            let store = accounts.open().await?;
            let (all, last) = (store.webhooks().await, store.last_published().await);
            store.close().await;
            let last = last?;
            for h in all? {
                let kinds = if h.kinds.is_empty() {
                    "every kind".to_string()
                } else {
                    h.kinds.join(",")
                };
                println!(
                    "{}\t{}\t{kinds}\t{} of {last} delivered",
                    h.name, h.url, h.delivered
                );
            }
            Ok(())
        }
        WebhookCmd::Remove { name, accounts } => {
            let store = accounts.open().await?;
            let removed = store.remove_webhook(&name, now_ms()).await;
            store.close().await;
            anyhow::ensure!(removed?, "there is no webhook `{name}`");
            println!("webhook {name} removed; nothing more is posted to it");
            Ok(())
        }
        WebhookCmd::Attempts { name, accounts } => {
            let store = accounts.open().await?;
            let attempts = store.attempts(&name, 50).await;
            store.close().await;
            for a in attempts? {
                let outcome = match (a.status, a.error) {
                    (_, Some(e)) => e,
                    (Some(s), None) => format!("HTTP {s}"),
                    (None, None) => "no answer".into(),
                };
                println!(
                    "{}\tevent {}\t{outcome}\t{} ms",
                    floorctl_core::utc_text(a.at),
                    a.seq,
                    a.took_ms
                );
            }
            Ok(())
        }
    }
}

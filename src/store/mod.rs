//! Persistence: the event journal and the orders, totes, transfers, accounts and audit tables,
//! on SQLite (a file, WAL) or PostgreSQL, through the same queries.
//!
//! An event and the rows it changes are written in one transaction before any of its commands
//! leave the controller.

use std::borrow::Cow;

use std::path::Path;
use std::time::Duration;

use sqlx::any::AnyPoolOptions;
use sqlx::AnyPool;
use sqlx::Row;

use floorctl_core::{Event, Millis};

mod api;
mod database;
mod instance;
mod journal;
mod network;
mod outbox;
mod users;
pub use api::ApiToken;
use database::sqlite_url;
pub use database::Database;
pub use instance::{InstanceError, InstanceLock};
pub use network::{Lease, NetTransfer, SiteRow};
pub use outbox::{Attempt, OutboxEvent, Webhook};
pub use users::{covers, Account, AuditEntry};

/// A storage failure. The cause stays inside this module's message.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database could not be opened or migrated.
    #[error("cannot open database {path}: {source}")]
    Open {
        /// Database file or address (without password).
        path: String,
        /// Cause.
        source: sqlx::Error,
    },
    /// A query failed.
    #[error("database error: {0}")]
    Query(#[from] sqlx::Error),
    /// A migration failed.
    #[error("database migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// Another instance owns the site now: this one may no longer write its journal.
    #[error("site {site}: the lease this instance held (token {token}) has passed to another instance; it writes nothing more")]
    Fenced {
        /// Site.
        site: String,
        /// The token this instance held.
        token: i64,
    },
    /// A stored row holds JSON that cannot be read back.
    #[error("{what} cannot be read: {source}")]
    Decode {
        /// What the row is.
        what: String,
        /// Cause.
        source: serde_json::Error,
    },
    /// A journalled event could not be read back.
    #[error("journal entry {seq} cannot be read: {source}")]
    Corrupt {
        /// Journal sequence number.
        seq: i64,
        /// Cause.
        source: serde_json::Error,
    },
}

/// Rows read one by one; the first that cannot be read (a column of another type than its
/// reader expects) is an error, not a panic.
fn each<T>(
    rows: &[sqlx::any::AnyRow],
    read: impl FnMut(&sqlx::any::AnyRow) -> Result<T, sqlx::Error>,
) -> Result<Vec<T>, StoreError> {
    Ok(rows.iter().map(read).collect::<Result<_, _>>()?)
}

/// A row, when there is one, read as [`each`] reads rows.
fn maybe<T>(
    row: Option<sqlx::any::AnyRow>,
    read: impl FnOnce(&sqlx::any::AnyRow) -> Result<T, sqlx::Error>,
) -> Result<Option<T>, StoreError> {
    Ok(row.as_ref().map(read).transpose()?)
}

/// A journal row as an entry.
fn entry(row: &sqlx::any::AnyRow) -> Result<Entry, StoreError> {
    let seq: i64 = row.try_get("seq")?;
    let body: String = row.try_get("body")?;
    let event =
        serde_json::from_str(&body).map_err(|source| StoreError::Corrupt { seq, source })?;
    Ok(Entry {
        seq,
        at: row.try_get::<i64, _>("at_ms")? as Millis,
        event,
    })
}

/// Every SQLite connection: write-ahead log, a sync per commit, wait for a busy file.
const SQLITE_PRAGMAS: &[&str] = &[
    "PRAGMA journal_mode = WAL",
    "PRAGMA synchronous = FULL",
    "PRAGMA busy_timeout = 5000",
];

/// A new, empty schema on the PostgreSQL server at `url`, named `prefix` and a random suffix,
/// and the database that uses it: tests and trial runs on one server do not meet.
pub async fn fresh_schema(url: &str, prefix: &str) -> Result<Database, StoreError> {
    sqlx::any::install_default_drivers();
    let schema = format!("{prefix}_{:016x}", rand::random::<u64>());
    create_schema(url, &schema).await?;
    let sep = if url.contains('?') { '&' } else { '?' };
    Ok(Database::Postgres(format!(
        "{url}{sep}options[search_path]={schema}"
    )))
}

/// One journalled event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Position in the journal.
    pub seq: i64,
    /// When the event was handled.
    pub at: Millis,
    /// The event.
    pub event: Event,
}

/// A handle on the database; cheap to clone.
#[derive(Debug, Clone)]
pub struct Store {
    pool: AnyPool,
    postgres: bool,
    /// Schema of the network tables, for a site of a network.
    network: Option<std::sync::Arc<str>>,
    /// The site lease journal writes are made under, once taken: site, token, lease length (ms).
    fence: std::sync::Arc<std::sync::OnceLock<(String, i64, i64)>>,
}

/// Creates schema `name` on the server at `url` unless it exists.
async fn create_schema(url: &str, name: &str) -> Result<(), StoreError> {
    use sqlx::Connection;
    let mut conn = sqlx::AnyConnection::connect(url)
        .await
        .map_err(|source| StoreError::Open {
            path: Database::Postgres(url.to_string()).to_string(),
            source,
        })?;
    // Two instances starting at once may both try: the loser's error is no error.
    let made = sqlx::query(&format!("CREATE SCHEMA IF NOT EXISTS \"{name}\""))
        .execute(&mut conn)
        .await;
    conn.close().await?;
    match made {
        Err(sqlx::Error::Database(e)) if e.code().is_some_and(|c| c == "23505" || c == "42P06") => {
            Ok(())
        }
        other => other.map(drop).map_err(StoreError::from),
    }
}

impl Store {
    /// Opens (creating if needed) the SQLite database at `path` and applies migrations.
    pub async fn open(path: &Path) -> Result<Store, StoreError> {
        Store::connect(&Database::Sqlite(path.to_path_buf())).await
    }

    /// Opens a database and applies its migrations. SQLite runs in WAL mode with a sync per
    /// commit; PostgreSQL commits are durable by the server's own settings.
    pub async fn connect(db: &Database) -> Result<Store, StoreError> {
        Store::connect_in(db, None).await
    }

    /// Opens the database of `site` in a network whose tables are in schema `network`: the
    /// site's own tables go in schema `{network}_{site}`; both schemas are made and migrated
    /// when missing. PostgreSQL only.
    pub async fn connect_site(
        db: &Database,
        network: &str,
        site: &str,
    ) -> Result<Store, StoreError> {
        sqlx::any::install_default_drivers();
        let Database::Postgres(url) = db else {
            let io = std::io::Error::other("a network of sites needs PostgreSQL");
            return Err(StoreError::Open {
                path: db.to_string(),
                source: sqlx::Error::Io(io),
            });
        };
        create_schema(url, network).await?;
        network::migrate(url, network).await?;
        let schema = format!("{network}_{site}");
        create_schema(url, &schema).await?;
        let mut store = Store::connect_in(db, Some(schema)).await?;
        store.network = Some(network.into());
        Ok(store)
    }

    async fn connect_in(db: &Database, schema: Option<String>) -> Result<Store, StoreError> {
        sqlx::any::install_default_drivers();
        let open_err = |source| StoreError::Open {
            path: db.to_string(),
            source,
        };
        let (url, postgres) = match db {
            Database::Sqlite(path) => {
                // The SQLite driver opens the file itself: a missing folder is a clear error.
                if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                    if !dir.is_dir() {
                        let io = std::io::Error::new(
                            std::io::ErrorKind::NotFound,
                            format!("folder {} does not exist", dir.display()),
                        );
                        return Err(open_err(sqlx::Error::Io(io)));
                    }
                }
                (sqlite_url(path), false)
            }
            Database::Postgres(url) => (url.clone(), true),
        };
        let pool = AnyPoolOptions::new()
            .max_connections(if postgres { 4 } else { 2 })
            .acquire_timeout(Duration::from_secs(10))
            .after_connect(move |conn, _| {
                let schema = schema.clone();
                Box::pin(async move {
                    use sqlx::Executor;
                    if !postgres {
                        for pragma in SQLITE_PRAGMAS {
                            conn.execute(*pragma).await?;
                        }
                    }
                    if let Some(schema) = schema {
                        conn.execute(format!("SET search_path TO \"{schema}\"").as_str())
                            .await?;
                    }
                    Ok(())
                })
            })
            .connect(&url)
            .await
            .map_err(open_err)?;
        if postgres {
            sqlx::migrate!("./migrations/postgres").run(&pool).await?;
        } else {
            sqlx::migrate!("./migrations/sqlite").run(&pool).await?;
        }
        Ok(Store {
            pool,
            postgres,
            network: None,
            fence: Default::default(),
        })
    }

    /// A query written with `?` placeholders, numbered `$1, $2, …` for PostgreSQL.
    pub(crate) fn sql(&self, text: &'static str) -> Cow<'static, str> {
        if !self.postgres {
            return Cow::Borrowed(text);
        }
        Cow::Owned(self.sql_owned(text.to_string()))
    }

    /// As [`Store::sql`], for a query made at run time.
    pub(crate) fn sql_owned(&self, text: String) -> String {
        if !self.postgres {
            return text;
        }
        let mut out = String::with_capacity(text.len() + 8);
        let mut n = 0;
        for c in text.chars() {
            if c == '?' {
                n += 1;
                out.push('$');
                out.push_str(&n.to_string());
            } else {
                out.push(c);
            }
        }
        out
    }

    /// Orders with their status, by id.
    pub async fn orders(&self) -> Result<Vec<(String, String)>, StoreError> {
        let rows = sqlx::query(&self.sql("SELECT id, status FROM orders ORDER BY id"))
            .fetch_all(&self.pool)
            .await?;
        each(&rows, |r| Ok((r.try_get("id")?, r.try_get("status")?)))
    }

    /// Totes by status, as (tote, order, status, chute).
    pub async fn totes(&self) -> Result<Vec<(u32, String, String, Option<u16>)>, StoreError> {
        let rows =
            sqlx::query(&self.sql("SELECT id, order_id, status, chute FROM totes ORDER BY id"))
                .fetch_all(&self.pool)
                .await?;
        each(&rows, tote_row)
    }

    /// Totes lost, or sorted to the exception chute `chute`, newest first: (tote, order,
    /// status, chute).
    pub async fn exception_totes(
        &self,
        chutes: &[u16],
        limit: u32,
    ) -> Result<Vec<(u32, String, String, Option<u16>)>, StoreError> {
        let listed: Vec<String> = chutes.iter().map(u16::to_string).collect();
        let sql =
            format!(
            "SELECT id, order_id, status, chute FROM totes WHERE status = 'lost' OR chute IN ({})
             ORDER BY updated_ms DESC, id DESC LIMIT ?",
            if listed.is_empty() { "NULL".to_string() } else { listed.join(", ") }
        );
        let rows = sqlx::query(&self.sql_owned(sql))
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await?;
        each(&rows, tote_row)
    }

    /// Whether the database answers at all.
    pub async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").fetch_one(&self.pool).await?;
        Ok(())
    }

    /// Tote `id` as last recorded: (order, status, chute).
    pub async fn tote(&self, id: u32) -> Result<Option<(String, String, Option<u16>)>, StoreError> {
        let row =
            sqlx::query(&self.sql("SELECT id, order_id, status, chute FROM totes WHERE id = ?"))
                .bind(i64::from(id))
                .fetch_optional(&self.pool)
                .await?;
        Ok(maybe(row, tote_row)?.map(|(_, order, status, chute)| (order, status, chute)))
    }

    /// Transfer orders asked of the DC: (id, SKU, units, face, status).
    pub async fn transfers(&self) -> Result<Vec<(u64, String, u32, String, String)>, StoreError> {
        let rows =
            sqlx::query(&self.sql("SELECT id, sku, qty, face, status FROM transfers ORDER BY id"))
                .fetch_all(&self.pool)
                .await?;
        each(&rows, |r| {
            Ok({
                (
                    r.try_get::<i64, _>("id")? as u64,
                    r.try_get("sku")?,
                    r.try_get::<i64, _>("qty")? as u32,
                    r.try_get("face")?,
                    r.try_get("status")?,
                )
            })
        })
    }

    /// Closes the pool, waiting for connections to finish.
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

#[cfg(test)]
mod tests;

/// A tote as last recorded: (tote, order, status, chute).
fn tote_row(r: &sqlx::any::AnyRow) -> Result<(u32, String, String, Option<u16>), sqlx::Error> {
    Ok((
        r.try_get::<i64, _>("id")? as u32,
        r.try_get("order_id")?,
        r.try_get("status")?,
        r.try_get::<Option<i64>, _>("chute")?.map(|c| c as u16),
    ))
}

//! Persistence: the event journal and the orders, totes, transfers, accounts and audit tables,
//! on SQLite (a file, WAL) or PostgreSQL, through the same queries.
//!
//! An event and the rows it changes are written in one transaction before any of its commands
//! leave the controller.

use std::borrow::Cow;
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use sqlx::any::AnyPoolOptions;
use sqlx::AnyPool;
use sqlx::Row;

use floorctl_core::{Event, Millis, Record};

mod instance;
mod network;
mod users;
pub use instance::{InstanceError, InstanceLock};
pub use network::{Lease, NetTransfer, SiteRow};
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
    /// A journalled event could not be read back.
    #[error("journal entry {seq} cannot be read: {source}")]
    Corrupt {
        /// Journal sequence number.
        seq: i64,
        /// Cause.
        source: serde_json::Error,
    },
}

/// Which database: a SQLite file, or a PostgreSQL server by URL.
#[derive(Clone, PartialEq, Eq)]
pub enum Database {
    /// SQLite file (created when missing).
    Sqlite(PathBuf),
    /// `postgres://user:password@host:port/database` (URL parameters such as
    /// `options[search_path]=schema` pass through).
    Postgres(String),
}

impl Database {
    /// A database named in a site file: a `postgres://` or `postgresql://` URL, else a SQLite
    /// file relative to `base`.
    pub fn parse(text: &str, base: &Path) -> Database {
        if text.starts_with("postgres://") || text.starts_with("postgresql://") {
            Database::Postgres(text.to_string())
        } else {
            Database::Sqlite(base.join(text))
        }
    }

    /// The SQLite file, for a SQLite database.
    pub fn file(&self) -> Option<&Path> {
        match self {
            Database::Sqlite(p) => Some(p),
            Database::Postgres(_) => None,
        }
    }
}

impl From<PathBuf> for Database {
    fn from(p: PathBuf) -> Database {
        Database::Sqlite(p)
    }
}

impl From<&Path> for Database {
    fn from(p: &Path) -> Database {
        Database::Sqlite(p.to_path_buf())
    }
}

/// Shown without the password.
impl fmt::Display for Database {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Database::Sqlite(p) => write!(f, "{}", p.display()),
            Database::Postgres(url) => {
                let shown = match (url.find("://"), url.rfind('@')) {
                    (Some(scheme), Some(at)) if at > scheme => {
                        let userinfo = &url[scheme + 3..at];
                        let user = userinfo.split(':').next().unwrap_or("");
                        format!("{}{user}@{}", &url[..scheme + 3], &url[at + 1..])
                    }
                    _ => url.clone(),
                };
                f.write_str(&shown)
            }
        }
    }
}

impl fmt::Debug for Database {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Database({self})")
    }
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

/// A SQLite URL for a file, created when missing; `%`, `?` and `#` in the path are escaped.
fn sqlite_url(path: &Path) -> String {
    let mut escaped = String::new();
    for c in path.to_string_lossy().chars() {
        match c {
            '%' => escaped.push_str("%25"),
            '?' => escaped.push_str("%3F"),
            '#' => escaped.push_str("%23"),
            c => escaped.push(c),
        }
    }
    format!("sqlite://{escaped}?mode=rwc")
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
    /// The site lease journal writes are made under, once taken.
    fence: std::sync::Arc<std::sync::OnceLock<(String, i64)>>,
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

    /// Writes an event and the rows it changes in one transaction; returns its journal position.
    pub async fn append(
        &self,
        at: Millis,
        event: &Event,
        records: &[Record],
    ) -> Result<i64, StoreError> {
        let last = self.append_all(&[(at, event, records)]).await?;
        Ok(last)
    }

    /// Writes events, each with the rows it changes, in one transaction (one sync to disk for
    /// all of them); returns the journal position of the last.
    pub async fn append_all(
        &self,
        batch: &[(Millis, &Event, &[Record])],
    ) -> Result<i64, StoreError> {
        let mut tx = self.pool.begin().await?;
        let lease = self.check_fence(&mut tx).await?;
        let mut seq = 0;
        for (at, event, records) in batch {
            let at = *at;
            let body = serde_json::to_string(event).expect("events always serialise");
            seq = sqlx::query(&self.sql(
                "INSERT INTO journal (at_ms, kind, body, lease) VALUES (?, ?, ?, ?) RETURNING seq",
            ))
            .bind(at as i64)
            .bind(event.kind())
            .bind(body)
            .bind(lease)
            .fetch_one(&mut *tx)
            .await?
            .try_get::<i64, _>(0)?;
            for record in records.iter() {
                match record {
                    Record::Order {
                        id,
                        cutoff,
                        status,
                        tote,
                        picked,
                    } => {
                        sqlx::query(&self.sql(
                            "INSERT INTO orders (id, cutoff, status, tote, picked, updated_ms) VALUES (?, ?, ?, ?, ?, ?)
                             ON CONFLICT(id) DO UPDATE SET status = excluded.status, tote = excluded.tote,
                             picked = excluded.picked, updated_ms = excluded.updated_ms",
                        ))
                        .bind(id)
                        .bind(cutoff)
                        .bind(status.as_str())
                        .bind(tote.map(i64::from))
                        .bind(i64::from(*picked))
                        .bind(at as i64)
                        .execute(&mut *tx)
                        .await?;
                    }
                    Record::Transfer { id, sku, qty, face } => {
                        sqlx::query(&self.sql(
                            "INSERT INTO transfers (id, sku, qty, face, status, updated_ms) VALUES (?, ?, ?, ?, 'requested', ?)
                             ON CONFLICT(id) DO NOTHING",
                        ))
                        .bind(*id as i64)
                        .bind(sku)
                        .bind(i64::from(*qty))
                        .bind(face)
                        .bind(at as i64)
                        .execute(&mut *tx)
                        .await?;
                    }
                    Record::TransferReceived { id, received } => {
                        sqlx::query(&self.sql(
                            "UPDATE transfers SET status = 'received', received = ?, updated_ms = ? WHERE id = ?",
                        ))
                        .bind(i64::from(*received))
                        .bind(at as i64)
                        .bind(*id as i64)
                        .execute(&mut *tx)
                        .await?;
                    }
                    Record::Tote {
                        id,
                        order,
                        status,
                        chute,
                    } => {
                        sqlx::query(&self.sql(
                            "INSERT INTO totes (id, order_id, status, chute, updated_ms) VALUES (?, ?, ?, ?, ?)
                             ON CONFLICT(id) DO UPDATE SET status = excluded.status, chute = excluded.chute,
                             updated_ms = excluded.updated_ms",
                        ))
                        .bind(i64::from(*id))
                        .bind(order)
                        .bind(status.as_str())
                        .bind(chute.map(i64::from))
                        .bind(at as i64)
                        .execute(&mut *tx)
                        .await?;
                    }
                }
            }
        }
        tx.commit().await?;
        Ok(seq)
    }

    /// The journal's entries with the lease token each was written under, oldest first.
    pub async fn journal_leases(&self) -> Result<Vec<(i64, Option<i64>)>, StoreError> {
        let rows = sqlx::query(&self.sql("SELECT seq, lease FROM journal ORDER BY seq"))
            .fetch_all(&self.pool)
            .await?;
        each(&rows, |r| {
            Ok((r.try_get("seq")?, r.try_get::<Option<i64>, _>("lease")?))
        })
    }

    /// The whole journal, oldest first.
    pub async fn journal(&self) -> Result<Vec<Entry>, StoreError> {
        self.journal_after(0).await
    }

    /// The journal after entry `seq`, oldest first.
    pub async fn journal_after(&self, seq: i64) -> Result<Vec<Entry>, StoreError> {
        let rows = sqlx::query(
            &self.sql("SELECT seq, at_ms, body FROM journal WHERE seq > ? ORDER BY seq"),
        )
        .bind(seq)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(entry).collect()
    }

    /// Keeps the core's state as of journal entry `seq`; older snapshots but the one before
    /// are removed.
    pub async fn save_snapshot(
        &self,
        seq: i64,
        at: Millis,
        state: &[u8],
    ) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        // An instance that no longer owns the site saves nothing either.
        self.check_fence(&mut tx).await?;
        sqlx::query(&self.sql(
            "INSERT INTO snapshots (seq, at_ms, state) VALUES (?, ?, ?) ON CONFLICT (seq) DO NOTHING",
        ))
        .bind(seq)
        .bind(at as i64)
        .bind(state.to_vec())
        .execute(&mut *tx)
        .await?;
        sqlx::query(&self.sql(
            "DELETE FROM snapshots WHERE seq < (SELECT MIN(seq) FROM (SELECT seq FROM snapshots ORDER BY seq DESC LIMIT 2) AS kept)",
        ))
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The latest snapshot: the journal entry it covers, and the state.
    pub async fn latest_snapshot(&self) -> Result<Option<(i64, Vec<u8>)>, StoreError> {
        let row =
            sqlx::query(&self.sql("SELECT seq, state FROM snapshots ORDER BY seq DESC LIMIT 1"))
                .fetch_optional(&self.pool)
                .await?;
        maybe(row, |r| {
            Ok((r.try_get::<i64, _>("seq")?, r.get::<Vec<u8>, _>("state")))
        })
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
        each(&rows, |r| {
            Ok({
                (
                    r.try_get::<i64, _>("id")? as u32,
                    r.try_get("order_id")?,
                    r.try_get("status")?,
                    r.try_get::<Option<i64>, _>("chute")?.map(|c| c as u16),
                )
            })
        })
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
mod tests {
    use super::*;
    use floorctl_core::{OrderStatus, ToteStatus};
    use floorctl_protocol::order::{Order, OrderLine};

    fn order_event(id: &str) -> Event {
        Event::OrderReceived {
            order: Order {
                id: id.into(),
                cutoff: "11:00".into(),
                priority: Default::default(),
                lines: vec![OrderLine {
                    sku: "S".into(),
                    qty: 1,
                    location: "A".into(),
                }],
            },
        }
    }

    /// The databases the storage tests run on: a SQLite file, and a schema of its own on the
    /// PostgreSQL server in `FLOORCTL_TEST_POSTGRES` (skipped with a reason when unset, unless
    /// `CI` is set).
    async fn databases(dir: &Path) -> Vec<Database> {
        let mut all = vec![Database::Sqlite(dir.join("floor.db"))];
        match std::env::var("FLOORCTL_TEST_POSTGRES") {
            Ok(url) if !url.is_empty() => all.push(fresh_schema(&url, "store").await.unwrap()),
            _ if std::env::var_os("CI").is_some() => {
                panic!("FLOORCTL_TEST_POSTGRES is not set: CI must provide PostgreSQL")
            }
            _ => {
                use std::io::Write;
                let _ = writeln!(
                    std::io::stderr(),
                    "skipped on PostgreSQL: set FLOORCTL_TEST_POSTGRES to a postgres:// URL"
                );
            }
        }
        all
    }

    #[tokio::test]
    async fn journal_and_rows_survive_reopening_on_both_stores() {
        let dir = tempfile::tempdir().unwrap();
        for db in databases(dir.path()).await {
            journal_and_rows_survive_reopening(&db).await;
            accounts_and_audit_are_kept(&db).await;
        }
    }

    async fn accounts_and_audit_are_kept(db: &Database) {
        let store = Store::connect(db).await.unwrap();
        store.set_user("sue", "viewer", "h1", 1).await.unwrap();
        store.set_user("sue", "supervisor", "h2", 2).await.unwrap();
        assert_eq!(
            store.user("sue").await.unwrap(),
            Some(("supervisor".into(), "h2".into())),
            "{db}"
        );
        assert_eq!(store.user("tom").await.unwrap(), None);
        for (at, action) in [(5, "first"), (6, "second")] {
            let entry = AuditEntry {
                at,
                user: "sue".into(),
                action: action.into(),
                outcome: "done".into(),
            };
            store.audit(&entry).await.unwrap();
        }
        let log = store.audit_log(1).await.unwrap();
        assert_eq!(
            (log.len(), log[0].action.as_str(), log[0].at),
            (1, "second", 6)
        );
        store.close().await;
    }

    async fn journal_and_rows_survive_reopening(db: &Database) {
        let store = Store::connect(db).await.unwrap();
        let rec = Record::Order {
            id: "o1".into(),
            cutoff: "11:00".into(),
            status: OrderStatus::Released,
            tote: None,
            picked: 0,
        };
        store
            .append(10, &order_event("o1"), std::slice::from_ref(&rec))
            .await
            .unwrap();
        let tote = Record::Tote {
            id: 4,
            order: "o1".into(),
            status: ToteStatus::Sorted,
            chute: Some(2),
        };
        store
            .append(20, &order_event("o2"), std::slice::from_ref(&tote))
            .await
            .unwrap();
        store.close().await;

        let store = Store::connect(db).await.unwrap();
        let journal = store.journal().await.unwrap();
        assert_eq!(journal.len(), 2, "{db}");
        assert!(journal[0].seq < journal[1].seq);
        assert_eq!(journal[0].event, order_event("o1"));
        assert_eq!(journal[1].at, 20);
        assert_eq!(
            store.totes().await.unwrap(),
            vec![(4, "o1".into(), "sorted".into(), Some(2))]
        );
        let transfer = Record::Transfer {
            id: 1,
            sku: "S".into(),
            qty: 6,
            face: "A-01".into(),
        };
        store
            .append(30, &order_event("o3"), std::slice::from_ref(&transfer))
            .await
            .unwrap();
        assert_eq!(
            store.transfers().await.unwrap(),
            vec![(1, "S".into(), 6, "A-01".into(), "requested".into())],
            "a transfer order to the DC is kept"
        );
        store.close().await;
    }

    #[tokio::test]
    async fn a_column_of_another_type_than_expected_is_an_error_not_a_panic() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("floor.db")).await.unwrap();
        // SQLite keeps what it is given: a chute written as words by some other program.
        sqlx::query(
            "INSERT INTO totes (id, order_id, status, chute, updated_ms) VALUES (1, 'O1', 'sorted', 'left', 0)",
        )
        .execute(&store.pool)
        .await
        .unwrap();
        let err = store.totes().await.unwrap_err();
        assert!(matches!(err, StoreError::Query(_)), "{err}");
        store.close().await;
    }

    #[tokio::test]
    async fn a_directory_that_does_not_exist_is_a_clear_error() {
        let err = Store::open(Path::new("/nonexistent/dir/floor.db"))
            .await
            .unwrap_err();
        assert!(
            err.to_string().contains("/nonexistent/dir/floor.db"),
            "{err}"
        );
    }

    #[test]
    fn a_postgres_url_is_shown_without_its_password_and_queries_are_numbered() {
        let db = Database::parse(
            "postgres://floor:s3cret@db.example:5432/site",
            Path::new("/etc"),
        );
        assert_eq!(db.to_string(), "postgres://floor@db.example:5432/site");
        assert!(!format!("{db:?}").contains("s3cret"));
        assert_eq!(
            Database::parse("floorctl.db", Path::new("/srv")),
            Database::Sqlite(PathBuf::from("/srv/floorctl.db"))
        );
        assert_eq!(
            sqlite_url(Path::new("/a b/x?#%.db")),
            "sqlite:///a b/x%3F%23%25.db?mode=rwc"
        );
    }
}

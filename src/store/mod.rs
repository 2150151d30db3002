//! Persistence: the event journal and the orders and totes tables, on SQLite (WAL).
//!
//! An event and the rows it changes are written in one transaction before any of its commands
//! leave the controller.

use std::path::Path;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Row, SqlitePool};

use crate::core::{Event, Millis, Record};

mod users;
pub use users::AuditEntry;

/// A storage failure. The cause stays inside this module's message.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database could not be opened or migrated.
    #[error("cannot open database {path}: {source}")]
    Open {
        /// Database file.
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
    /// A journalled event could not be read back.
    #[error("journal entry {seq} cannot be read: {source}")]
    Corrupt {
        /// Journal sequence number.
        seq: i64,
        /// Cause.
        source: serde_json::Error,
    },
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
    pool: SqlitePool,
}

impl Store {
    /// Opens (creating if needed) the SQLite database at `path` and applies migrations.
    pub async fn open(path: &Path) -> Result<Store, StoreError> {
        let open_err = |source| StoreError::Open {
            path: path.display().to_string(),
            source,
        };
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .busy_timeout(std::time::Duration::from_secs(5));
        let pool = SqlitePoolOptions::new()
            .max_connections(2)
            .connect_with(options)
            .await
            .map_err(open_err)?;
        sqlx::migrate!("./migrations").run(&pool).await?;
        Ok(Store { pool })
    }

    /// Writes an event and the rows it changes in one transaction; returns its journal position.
    pub async fn append(
        &self,
        at: Millis,
        event: &Event,
        records: &[&Record],
    ) -> Result<i64, StoreError> {
        let last = self.append_all(&[(at, event, records)]).await?;
        Ok(last)
    }

    /// Writes events, each with the rows it changes, in one transaction (one sync to disk for
    /// all of them); returns the journal position of the last.
    pub async fn append_all(
        &self,
        batch: &[(Millis, &Event, &[&Record])],
    ) -> Result<i64, StoreError> {
        let mut tx = self.pool.begin().await?;
        let mut seq = 0;
        for (at, event, records) in batch {
            let at = *at;
            let body = serde_json::to_string(event).expect("events always serialise");
            seq = sqlx::query("INSERT INTO journal (at_ms, kind, body) VALUES (?, ?, ?)")
                .bind(at as i64)
                .bind(event.kind())
                .bind(body)
                .execute(&mut *tx)
                .await?
                .last_insert_rowid();
            for record in records.iter() {
                match record {
                    Record::Order {
                        id,
                        cutoff,
                        status,
                        tote,
                    } => {
                        sqlx::query(
                            "INSERT INTO orders (id, cutoff, status, tote, updated_ms) VALUES (?, ?, ?, ?, ?)
                             ON CONFLICT(id) DO UPDATE SET status = excluded.status, tote = excluded.tote,
                             updated_ms = excluded.updated_ms",
                        )
                        .bind(id)
                        .bind(cutoff)
                        .bind(status.as_str())
                        .bind(tote.map(i64::from))
                        .bind(at as i64)
                        .execute(&mut *tx)
                        .await?;
                    }
                    Record::Transfer { id, sku, qty, face } => {
                        sqlx::query(
                            "INSERT INTO transfers (id, sku, qty, face, status, updated_ms) VALUES (?, ?, ?, ?, 'requested', ?)
                             ON CONFLICT(id) DO NOTHING",
                        )
                        .bind(*id as i64)
                        .bind(sku)
                        .bind(i64::from(*qty))
                        .bind(face)
                        .bind(at as i64)
                        .execute(&mut *tx)
                        .await?;
                    }
                    Record::Tote {
                        id,
                        order,
                        status,
                        chute,
                    } => {
                        sqlx::query(
                            "INSERT INTO totes (id, order_id, status, chute, updated_ms) VALUES (?, ?, ?, ?, ?)
                             ON CONFLICT(id) DO UPDATE SET status = excluded.status, chute = excluded.chute,
                             updated_ms = excluded.updated_ms",
                        )
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

    /// The whole journal, oldest first.
    pub async fn journal(&self) -> Result<Vec<Entry>, StoreError> {
        let rows = sqlx::query("SELECT seq, at_ms, body FROM journal ORDER BY seq")
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|row| {
                let seq: i64 = row.get("seq");
                let body: String = row.get("body");
                let event = serde_json::from_str(&body)
                    .map_err(|source| StoreError::Corrupt { seq, source })?;
                Ok(Entry {
                    seq,
                    at: row.get::<i64, _>("at_ms") as Millis,
                    event,
                })
            })
            .collect()
    }

    /// Totes by status, as (tote, order, status, chute).
    pub async fn totes(&self) -> Result<Vec<(u32, String, String, Option<u16>)>, StoreError> {
        let rows = sqlx::query("SELECT id, order_id, status, chute FROM totes ORDER BY id")
            .fetch_all(&self.pool)
            .await?;
        Ok(rows
            .iter()
            .map(|r| {
                (
                    r.get::<i64, _>("id") as u32,
                    r.get("order_id"),
                    r.get("status"),
                    r.get::<Option<i64>, _>("chute").map(|c| c as u16),
                )
            })
            .collect())
    }

    /// Transfer orders asked of the DC: (id, SKU, units, face, status).
    pub async fn transfers(&self) -> Result<Vec<(u64, String, u32, String, String)>, StoreError> {
        let rows = sqlx::query("SELECT id, sku, qty, face, status FROM transfers ORDER BY id")
            .fetch_all(&self.pool)
            .await?;
        Ok(rows
            .iter()
            .map(|r| {
                (
                    r.get::<i64, _>("id") as u64,
                    r.get("sku"),
                    r.get::<i64, _>("qty") as u32,
                    r.get("face"),
                    r.get("status"),
                )
            })
            .collect())
    }

    /// Closes the pool, waiting for connections to finish.
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::{OrderStatus, ToteStatus};
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

    #[tokio::test]
    async fn journal_and_rows_survive_reopening_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("floor.db");
        let store = Store::open(&path).await.unwrap();
        let rec = Record::Order {
            id: "o1".into(),
            cutoff: "11:00".into(),
            status: OrderStatus::Released,
            tote: None,
        };
        store.append(10, &order_event("o1"), &[&rec]).await.unwrap();
        let tote = Record::Tote {
            id: 4,
            order: "o1".into(),
            status: ToteStatus::Sorted,
            chute: Some(2),
        };
        store
            .append(20, &order_event("o2"), &[&tote])
            .await
            .unwrap();
        store.close().await;

        let store = Store::open(&path).await.unwrap();
        let journal = store.journal().await.unwrap();
        assert_eq!(journal.len(), 2);
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
            .append(30, &order_event("o3"), &[&transfer])
            .await
            .unwrap();
        assert_eq!(
            store.transfers().await.unwrap(),
            vec![(1, "S".into(), 6, "A-01".into(), "requested".into())],
            "a transfer order to the DC is kept"
        );
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
}

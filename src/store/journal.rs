//! The journal: events with the rows they change, written before anything leaves the
//! controller; and the snapshots a restart starts from.

use sqlx::Row;

use floorctl_core::{Event, Millis, Published, Record};

use super::{each, entry, maybe, Entry, Store, StoreError};

impl Store {
    /// Writes an event and the rows it changes in one transaction; returns its journal position.
    pub async fn append(
        &self,
        at: Millis,
        event: &Event,
        records: &[Record],
    ) -> Result<i64, StoreError> {
        let last = self.append_all(&[(at, event, records, &[])]).await?;
        Ok(last)
    }

    /// Writes events, each with the rows it changes and what it publishes (into the outbox,
    /// numbered on from its last entry without gaps), in one transaction (one sync to disk for
    /// all of them); returns the journal position of the last.
    pub async fn append_all(
        &self,
        batch: &[(Millis, &Event, &[Record], &[Published])],
    ) -> Result<i64, StoreError> {
        let mut tx = self.pool.begin().await?;
        let lease = self.check_fence(&mut tx).await?;
        let mut seq = 0;
        let mut published = None;
        for (at, event, records, outgoing) in batch {
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
            if let Event::OrderReceived { order } = event {
                let body = serde_json::to_string(order).expect("orders always serialise");
                sqlx::query(&self.sql(
                    "INSERT INTO order_bodies (id, body, received_ms) VALUES (?, ?, ?)
                     ON CONFLICT(id) DO NOTHING",
                ))
                .bind(&order.id)
                .bind(body)
                .bind(at as i64)
                .execute(&mut *tx)
                .await?;
            }
            for p in outgoing.iter() {
                let last = match published {
                    Some(last) => last,
                    None => sqlx::query("SELECT COALESCE(MAX(seq), 0) FROM outbox")
                        .fetch_one(&mut *tx)
                        .await?
                        .try_get::<i64, _>(0)?,
                };
                published = Some(last + 1);
                sqlx::query(&self.sql(
                    "INSERT INTO outbox (seq, journal_seq, at_ms, kind, order_id, data) VALUES (?, ?, ?, ?, ?, ?)",
                ))
                .bind(last + 1)
                .bind(seq)
                .bind(at as i64)
                .bind(p.kind.as_str())
                .bind(p.order.as_deref())
                .bind(p.data.to_string())
                .execute(&mut *tx)
                .await?;
            }
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
                        sqlx::query(&self.sql(
                            "INSERT INTO order_history (seq, id, at_ms, status, tote, picked) VALUES (?, ?, ?, ?, ?, ?)",
                        ))
                        .bind(seq)
                        .bind(id)
                        .bind(at as i64)
                        .bind(status.as_str())
                        .bind(tote.map(i64::from))
                        .bind(i64::from(*picked))
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
            Ok((
                r.try_get::<i64, _>("seq")?,
                r.try_get::<Vec<u8>, _>("state")?,
            ))
        })
    }
}

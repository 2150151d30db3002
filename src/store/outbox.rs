//! What the floor publishes (the outbox, written with the journal) and where it goes: webhook
//! subscriptions, each attempt to deliver to them, and how far each publisher has come.

use sqlx::Row;

use super::{each, maybe, Store, StoreError};
use floorctl_core::Millis;

/// One published event as it is kept.
#[derive(Debug, Clone, PartialEq)]
pub struct OutboxEvent {
    /// Its number: the site's events counted without gaps.
    pub seq: i64,
    /// When it was journalled.
    pub at: Millis,
    /// Its kind (`order.sorted`).
    pub kind: String,
    /// The order it is about, if any.
    pub order: Option<String>,
    /// Its details.
    pub data: serde_json::Value,
}

/// A webhook subscription.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Webhook {
    /// Its name (the alarm's source, the attempts' key).
    pub name: String,
    /// Where events are posted (`http://host:port/path`).
    pub url: String,
    /// The kinds it takes; empty: every kind.
    pub kinds: Vec<String>,
    /// The secret deliveries are signed with (`whsec_` and base64).
    pub secret: String,
    /// When it was made.
    pub created: Millis,
    /// The last event delivered to it or passed over (not of its kinds).
    pub delivered: i64,
}

impl Webhook {
    /// Whether it takes events of `kind`.
    pub fn takes(&self, kind: &str) -> bool {
        self.kinds.is_empty() || self.kinds.iter().any(|k| k == kind)
    }
}

/// One attempt to deliver an event to a webhook.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attempt {
    /// The event.
    pub seq: i64,
    /// When it was made.
    pub at: Millis,
    /// The HTTP status answered, if any.
    pub status: Option<u16>,
    /// What went wrong, if it did.
    pub error: Option<String>,
    /// How long it took.
    pub took_ms: u64,
}

fn outbox_event(r: &sqlx::any::AnyRow) -> Result<OutboxEvent, StoreError> {
    let seq: i64 = r.try_get("seq")?;
    let data: String = r.try_get("data")?;
    Ok(OutboxEvent {
        seq,
        at: r.try_get::<i64, _>("at_ms")? as Millis,
        kind: r.try_get("kind")?,
        order: r.try_get("order_id")?,
        data: serde_json::from_str(&data).map_err(|source| StoreError::Decode {
            what: format!("published event {seq}"),
            source,
        })?,
    })
}

fn webhook_of(r: &sqlx::any::AnyRow) -> Result<Webhook, sqlx::Error> {
    let kinds: String = r.try_get("kinds")?;
    Ok(Webhook {
        name: r.try_get("name")?,
        url: r.try_get("url")?,
        kinds: kinds
            .split(',')
            .filter(|k| !k.is_empty())
            .map(str::to_string)
            .collect(),
        secret: r.try_get("secret")?,
        created: r.try_get::<i64, _>("created_ms")? as Millis,
        delivered: r.try_get("delivered")?,
    })
}

impl Store {
    /// Published events after `after`, oldest first, at most `limit`, of `kinds` when given.
    pub async fn published_after(
        &self,
        after: i64,
        limit: u32,
        kinds: &[String],
    ) -> Result<Vec<OutboxEvent>, StoreError> {
        let mut text =
            "SELECT seq, at_ms, kind, order_id, data FROM outbox WHERE seq > ?".to_string();
        if !kinds.is_empty() {
            let marks = vec!["?"; kinds.len()].join(", ");
            text.push_str(&format!(" AND kind IN ({marks})"));
        }
        text.push_str(" ORDER BY seq LIMIT ?");
        let sql = self.sql_owned(text);
        let mut query = sqlx::query(&sql).bind(after);
        for k in kinds {
            query = query.bind(k);
        }
        let rows = query.bind(i64::from(limit)).fetch_all(&self.pool).await?;
        rows.iter().map(outbox_event).collect()
    }

    /// The events about one order, oldest first.
    pub async fn published_about(&self, order: &str) -> Result<Vec<OutboxEvent>, StoreError> {
        let rows = sqlx::query(&self.sql(
            "SELECT seq, at_ms, kind, order_id, data FROM outbox WHERE order_id = ? ORDER BY seq",
        ))
        .bind(order)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(outbox_event).collect()
    }

    /// Alarms raised and cleared, newest first, at most `limit`, whose source or text holds
    /// `text` (any case; empty: all).
    pub async fn alarm_history(
        &self,
        text: &str,
        limit: u32,
    ) -> Result<Vec<OutboxEvent>, StoreError> {
        let mut pattern = String::from("%");
        for c in text.to_lowercase().chars() {
            if matches!(c, '%' | '_' | '\\') {
                pattern.push('\\');
            }
            pattern.push(c);
        }
        pattern.push('%');
        let rows = sqlx::query(&self.sql(
            "SELECT seq, at_ms, kind, order_id, data FROM outbox
             WHERE kind IN ('alarm.raised', 'alarm.cleared') AND LOWER(data) LIKE ? ESCAPE '\\'
             ORDER BY seq DESC LIMIT ?",
        ))
        .bind(pattern)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(outbox_event).collect()
    }

    /// The number of the last published event (0: none yet).
    pub async fn last_published(&self) -> Result<i64, StoreError> {
        let row = sqlx::query("SELECT COALESCE(MAX(seq), 0) FROM outbox")
            .fetch_one(&self.pool)
            .await?;
        Ok(row.try_get::<i64, _>(0)?)
    }

    /// How far the publisher `name` has come through the outbox, if it has started.
    pub async fn outbox_cursor(&self, name: &str) -> Result<Option<i64>, StoreError> {
        let row = sqlx::query(&self.sql("SELECT seq FROM outbox_cursors WHERE name = ?"))
            .bind(name)
            .fetch_optional(&self.pool)
            .await?;
        maybe(row, |r| r.try_get::<i64, _>("seq"))
    }

    /// Records how far the publisher `name` has come.
    pub async fn set_outbox_cursor(&self, name: &str, seq: i64) -> Result<(), StoreError> {
        sqlx::query(&self.sql(
            "INSERT INTO outbox_cursors (name, seq) VALUES (?, ?)
             ON CONFLICT(name) DO UPDATE SET seq = excluded.seq",
        ))
        .bind(name)
        .bind(seq)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Keeps a new webhook subscription; false when the name is taken.
    pub async fn add_webhook(&self, hook: &Webhook) -> Result<bool, StoreError> {
        let done = sqlx::query(&self.sql(
            "INSERT INTO webhooks (name, url, kinds, secret, created_ms, delivered) VALUES (?, ?, ?, ?, ?, ?)
             ON CONFLICT(name) DO NOTHING",
        ))
        .bind(&hook.name)
        .bind(&hook.url)
        .bind(hook.kinds.join(","))
        .bind(&hook.secret)
        .bind(hook.created as i64)
        .bind(hook.delivered)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// The webhook subscriptions in force, by name.
    pub async fn webhooks(&self) -> Result<Vec<Webhook>, StoreError> {
        let rows = sqlx::query(
            "SELECT name, url, kinds, secret, created_ms, delivered FROM webhooks
             WHERE removed_ms IS NULL ORDER BY name",
        )
        .fetch_all(&self.pool)
        .await?;
        each(&rows, webhook_of)
    }

    /// The webhook subscription in force of this name.
    pub async fn webhook(&self, name: &str) -> Result<Option<Webhook>, StoreError> {
        let row = sqlx::query(&self.sql(
            "SELECT name, url, kinds, secret, created_ms, delivered FROM webhooks
             WHERE name = ? AND removed_ms IS NULL",
        ))
        .bind(name)
        .fetch_optional(&self.pool)
        .await?;
        maybe(row, webhook_of)
    }

    /// Ends a webhook subscription; false when none of that name is in force. Its name stays
    /// taken (its attempts keep it).
    pub async fn remove_webhook(&self, name: &str, at: Millis) -> Result<bool, StoreError> {
        let done = sqlx::query(
            &self.sql("UPDATE webhooks SET removed_ms = ? WHERE name = ? AND removed_ms IS NULL"),
        )
        .bind(at as i64)
        .bind(name)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Logs attempts to deliver to a webhook and records that it has every event up to `seq`,
    /// in one commit.
    pub async fn record_deliveries(
        &self,
        name: &str,
        attempts: &[Attempt],
        seq: i64,
    ) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        for a in attempts {
            sqlx::query(&self.sql(
                "INSERT INTO webhook_attempts (webhook, seq, at_ms, status, error, took_ms) VALUES (?, ?, ?, ?, ?, ?)",
            ))
            .bind(name)
            .bind(a.seq)
            .bind(a.at as i64)
            .bind(a.status.map(i64::from))
            .bind(a.error.as_deref())
            .bind(a.took_ms as i64)
            .execute(&mut *tx)
            .await?;
        }
        sqlx::query(
            &self.sql("UPDATE webhooks SET delivered = ? WHERE name = ? AND delivered < ?"),
        )
        .bind(seq)
        .bind(name)
        .bind(seq)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// A webhook's latest attempts, newest first.
    pub async fn attempts(&self, name: &str, limit: u32) -> Result<Vec<Attempt>, StoreError> {
        let rows = sqlx::query(&self.sql(
            "SELECT seq, at_ms, status, error, took_ms FROM webhook_attempts WHERE webhook = ?
             ORDER BY at_ms DESC, seq DESC LIMIT ?",
        ))
        .bind(name)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        each(&rows, |r| {
            Ok(Attempt {
                seq: r.try_get("seq")?,
                at: r.try_get::<i64, _>("at_ms")? as Millis,
                status: r.try_get::<Option<i64>, _>("status")?.map(|s| s as u16),
                error: r.try_get("error")?,
                took_ms: r.try_get::<i64, _>("took_ms")? as u64,
            })
        })
    }

    /// Forgets attempts made before `before` (the log stays bounded).
    pub async fn forget_attempts(&self, before: Millis) -> Result<u64, StoreError> {
        let done = sqlx::query(&self.sql("DELETE FROM webhook_attempts WHERE at_ms < ?"))
            .bind(before as i64)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected())
    }
}

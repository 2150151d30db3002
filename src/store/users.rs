//! Dashboard accounts and the audit log of supervisors' commands.

use sqlx::Row;

use super::{Store, StoreError};
use crate::core::Millis;

/// One line of the audit log.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct AuditEntry {
    /// When, ms since the epoch.
    pub at: Millis,
    /// Who.
    pub user: String,
    /// What they asked for.
    pub action: String,
    /// `done`, or why it was refused.
    pub outcome: String,
}

impl Store {
    /// Creates or replaces an account.
    pub async fn set_user(
        &self,
        name: &str,
        role: &str,
        hash: &str,
        at: Millis,
    ) -> Result<(), StoreError> {
        sqlx::query(&self.sql(
            "INSERT INTO users (name, role, hash, updated_ms) VALUES (?, ?, ?, ?)
             ON CONFLICT (name) DO UPDATE SET role = excluded.role, hash = excluded.hash,
             updated_ms = excluded.updated_ms",
        ))
        .bind(name)
        .bind(role)
        .bind(hash)
        .bind(at as i64)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// An account's role and password hash.
    pub async fn user(&self, name: &str) -> Result<Option<(String, String)>, StoreError> {
        let row = sqlx::query(&self.sql("SELECT role, hash FROM users WHERE name = ?"))
            .bind(name)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(|r| (r.get("role"), r.get("hash"))))
    }

    /// Appends to the audit log.
    pub async fn audit(&self, entry: &AuditEntry) -> Result<(), StoreError> {
        sqlx::query(
            &self.sql("INSERT INTO audit (at_ms, who, action, outcome) VALUES (?, ?, ?, ?)"),
        )
        .bind(entry.at as i64)
        .bind(&entry.user)
        .bind(&entry.action)
        .bind(&entry.outcome)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The last `limit` audit entries, newest first.
    pub async fn audit_log(&self, limit: u32) -> Result<Vec<AuditEntry>, StoreError> {
        let rows = sqlx::query(
            &self.sql("SELECT at_ms, who, action, outcome FROM audit ORDER BY seq DESC LIMIT ?"),
        )
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .iter()
            .map(|r| AuditEntry {
                at: r.get::<i64, _>("at_ms") as Millis,
                user: r.get("who"),
                action: r.get("action"),
                outcome: r.get("outcome"),
            })
            .collect())
    }
}

//! Dashboard accounts and the audit log of supervisors' commands.

use sqlx::Row;

use super::{each, maybe, Store, StoreError};
use floorctl_core::Millis;

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
    /// The command and its outcome as codes with their details, for a page to word (none for
    /// a call through the API).
    pub said: Option<serde_json::Value>,
}

/// A dashboard account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    /// `viewer` or `supervisor`.
    pub role: String,
    /// argon2 hash (PHC string).
    pub hash: String,
    /// The sites the role covers; `None`: every site.
    pub sites: Option<Vec<String>>,
    /// Disabled: it logs in no more.
    pub disabled: bool,
    /// The language it reads the dashboard in; none: the browser's.
    pub language: Option<String>,
}

/// An account as listed: name, role, sites, when last set, when disabled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountRow {
    /// Name.
    pub name: String,
    /// `viewer` or `supervisor`.
    pub role: String,
    /// The sites its role covers; `None`: every site.
    pub sites: Option<Vec<String>>,
    /// When it was last set.
    pub updated: Millis,
    /// When it was disabled.
    pub disabled: Option<Millis>,
}

fn sites_of(text: Option<String>) -> Option<Vec<String>> {
    text.map(|s| s.split(',').map(str::to_string).collect())
}

impl Account {
    /// Whether the account has access at `site`.
    pub fn covers(&self, site: &str) -> bool {
        covers(self.sites.as_deref(), site)
    }
}

/// Whether an account limited to `sites` (`None`: every site) has access at `site`.
pub fn covers(sites: Option<&[String]>, site: &str) -> bool {
    sites.is_none_or(|s| s.iter().any(|x| x == site))
}

impl Store {
    /// The accounts table: the network's for a site of a network (one login for every
    /// site), else the site's own.
    fn users(&self) -> String {
        match &self.network {
            Some(n) => format!("\"{n}\".users"),
            None => "users".into(),
        }
    }

    /// Creates or replaces an account.
    pub async fn set_user(
        &self,
        name: &str,
        role: &str,
        hash: &str,
        at: Millis,
    ) -> Result<(), StoreError> {
        self.set_user_at(name, role, hash, None, at).await
    }

    /// Creates or replaces an account whose role covers only `sites` (every site: `None`).
    pub async fn set_user_at(
        &self,
        name: &str,
        role: &str,
        hash: &str,
        sites: Option<&[String]>,
        at: Millis,
    ) -> Result<(), StoreError> {
        let q = format!(
            "INSERT INTO {} (name, role, hash, sites, updated_ms) VALUES (?, ?, ?, ?, ?)
             ON CONFLICT (name) DO UPDATE SET role = excluded.role, hash = excluded.hash,
             sites = excluded.sites, updated_ms = excluded.updated_ms",
            self.users()
        );
        sqlx::query(&self.sql_owned(q))
            .bind(name)
            .bind(role)
            .bind(hash)
            .bind(sites.map(|s| s.join(",")))
            .bind(at as i64)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// An account's role and password hash.
    pub async fn user(&self, name: &str) -> Result<Option<(String, String)>, StoreError> {
        Ok(self.account(name).await?.map(|a| (a.role, a.hash)))
    }

    /// An account.
    pub async fn account(&self, name: &str) -> Result<Option<Account>, StoreError> {
        let q = format!(
            "SELECT role, hash, sites, disabled_ms, language FROM {} WHERE name = ?",
            self.users()
        );
        let row = sqlx::query(&self.sql_owned(q))
            .bind(name)
            .fetch_optional(&self.pool)
            .await?;
        maybe(row, |r| {
            Ok(Account {
                role: r.try_get("role")?,
                hash: r.try_get("hash")?,
                sites: sites_of(r.try_get("sites")?),
                disabled: r.try_get::<Option<i64>, _>("disabled_ms")?.is_some(),
                language: r.try_get("language")?,
            })
        })
    }

    /// Every account, by name.
    pub async fn accounts(&self) -> Result<Vec<AccountRow>, StoreError> {
        let q = format!(
            "SELECT name, role, sites, updated_ms, disabled_ms FROM {} ORDER BY name",
            self.users()
        );
        let rows = sqlx::query(&q).fetch_all(&self.pool).await?;
        each(&rows, |r| {
            Ok(AccountRow {
                name: r.try_get("name")?,
                role: r.try_get("role")?,
                sites: sites_of(r.try_get("sites")?),
                updated: r.try_get::<i64, _>("updated_ms")? as Millis,
                disabled: r
                    .try_get::<Option<i64>, _>("disabled_ms")?
                    .map(|t| t as Millis),
            })
        })
    }

    /// Disables an account from `at` (`None`: enables it again); `false` when there is none of
    /// that name.
    pub async fn disable_user(&self, name: &str, at: Option<Millis>) -> Result<bool, StoreError> {
        let q = format!("UPDATE {} SET disabled_ms = ? WHERE name = ?", self.users());
        let done = sqlx::query(&self.sql_owned(q))
            .bind(at.map(|t| t as i64))
            .bind(name)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() > 0)
    }

    /// Sets the language an account reads the dashboard in; `false` when there is none of that
    /// name.
    pub async fn set_language(&self, name: &str, language: &str) -> Result<bool, StoreError> {
        let q = format!("UPDATE {} SET language = ? WHERE name = ?", self.users());
        let done = sqlx::query(&self.sql_owned(q))
            .bind(language)
            .bind(name)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() > 0)
    }

    /// Removes an account; `false` when there was none of that name.
    pub async fn remove_user(&self, name: &str) -> Result<bool, StoreError> {
        let q = format!("DELETE FROM {} WHERE name = ?", self.users());
        let done = sqlx::query(&self.sql_owned(q))
            .bind(name)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() > 0)
    }

    /// Appends to the audit log.
    pub async fn audit(&self, entry: &AuditEntry) -> Result<(), StoreError> {
        sqlx::query(
            &self.sql(
                "INSERT INTO audit (at_ms, who, action, outcome, said) VALUES (?, ?, ?, ?, ?)",
            ),
        )
        .bind(entry.at as i64)
        .bind(&entry.user)
        .bind(&entry.action)
        .bind(&entry.outcome)
        .bind(entry.said.as_ref().map(|s| s.to_string()))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The last `limit` audit entries, newest first.
    pub async fn audit_log(&self, limit: u32) -> Result<Vec<AuditEntry>, StoreError> {
        let rows =
            sqlx::query(&self.sql(
                "SELECT at_ms, who, action, outcome, said FROM audit ORDER BY seq DESC LIMIT ?",
            ))
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await?;
        each(&rows, |r| {
            Ok(AuditEntry {
                at: r.try_get::<i64, _>("at_ms")? as Millis,
                user: r.try_get("who")?,
                action: r.try_get("action")?,
                outcome: r.try_get("outcome")?,
                said: r
                    .try_get::<Option<String>, _>("said")?
                    .and_then(|s| serde_json::from_str(&s).ok()),
            })
        })
    }
}

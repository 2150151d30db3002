//! What the HTTP API keeps: service accounts (only a hash of each token) and each order as it
//! was received.

use floorctl_protocol::order::Order;
use sqlx::Row;

use super::{each, maybe, Store, StoreError};
use floorctl_core::Millis;

/// A service account of the API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiToken {
    /// Its name (who, in the audit log).
    pub name: String,
    /// What it may do (`orders:write`, `orders:read`, ...).
    pub scopes: Vec<String>,
    /// The sites it may act at; `None`: every site.
    pub sites: Option<Vec<String>>,
    /// When it was made.
    pub created: Millis,
    /// When it was revoked, if it was.
    pub revoked: Option<Millis>,
}

impl ApiToken {
    /// Whether the token may do `scope` at `site`.
    pub fn allows(&self, scope: &str, site: &str) -> bool {
        self.revoked.is_none()
            && self.scopes.iter().any(|s| s == scope)
            && super::users::covers(self.sites.as_deref(), site)
    }
}

fn token_of(r: &sqlx::any::AnyRow) -> Result<ApiToken, sqlx::Error> {
    let list = |text: String| -> Vec<String> {
        text.split(',')
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect()
    };
    Ok(ApiToken {
        name: r.try_get("name")?,
        scopes: list(r.try_get("scopes")?),
        sites: r.try_get::<Option<String>, _>("sites")?.map(list),
        created: r.try_get::<i64, _>("created_ms")? as Millis,
        revoked: r
            .try_get::<Option<i64>, _>("revoked_ms")?
            .map(|t| t as Millis),
    })
}

/// The orders said late (an `order.late` event published).
const LATE: &str =
    " AND id IN (SELECT order_id FROM outbox WHERE kind = 'order.late' AND order_id IS NOT NULL)";

impl Store {
    /// Keeps a new service account with the hash of its token; false when the name is taken.
    pub async fn add_token(&self, token: &ApiToken, hash: &str) -> Result<bool, StoreError> {
        let sites = token.sites.as_ref().map(|s| s.join(","));
        let done = sqlx::query(&self.sql(
            "INSERT INTO api_tokens (name, hash, scopes, sites, created_ms) VALUES (?, ?, ?, ?, ?)
             ON CONFLICT(name) DO NOTHING",
        ))
        .bind(&token.name)
        .bind(hash)
        .bind(token.scopes.join(","))
        .bind(sites)
        .bind(token.created as i64)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Every service account, revoked ones too, by name.
    pub async fn tokens(&self) -> Result<Vec<ApiToken>, StoreError> {
        let rows = sqlx::query(&self.sql(
            "SELECT name, scopes, sites, created_ms, revoked_ms FROM api_tokens ORDER BY name",
        ))
        .fetch_all(&self.pool)
        .await?;
        each(&rows, token_of)
    }

    /// Revokes a service account at once; false when there is none of that name.
    pub async fn revoke_token(&self, name: &str, at: Millis) -> Result<bool, StoreError> {
        let done = sqlx::query(
            &self.sql("UPDATE api_tokens SET revoked_ms = ? WHERE name = ? AND revoked_ms IS NULL"),
        )
        .bind(at as i64)
        .bind(name)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// The service account whose token has this hash.
    pub async fn token_by_hash(&self, hash: &str) -> Result<Option<ApiToken>, StoreError> {
        let row = sqlx::query(&self.sql(
            "SELECT name, scopes, sites, created_ms, revoked_ms FROM api_tokens WHERE hash = ?",
        ))
        .bind(hash)
        .fetch_optional(&self.pool)
        .await?;
        maybe(row, token_of)
    }

    /// Orders as they were received, of these numbers (one query per 500 numbers).
    pub async fn received_orders(&self, ids: &[&str]) -> Result<Vec<Order>, StoreError> {
        let mut out = Vec::new();
        for chunk in ids.chunks(500) {
            let marks = vec!["?"; chunk.len()].join(", ");
            let sql = self.sql_owned(format!(
                "SELECT id, body, received_ms FROM order_bodies WHERE id IN ({marks})"
            ));
            let mut query = sqlx::query(&sql);
            for id in chunk {
                query = query.bind(*id);
            }
            let rows = query.fetch_all(&self.pool).await?;
            out.extend(each(&rows, order_body)?.into_iter().map(|(_, o)| o));
        }
        Ok(out)
    }

    /// Orders received at or after `from`, with when, oldest first: the site's own demand.
    pub async fn received_since(&self, from: Millis) -> Result<Vec<(Millis, Order)>, StoreError> {
        let rows = sqlx::query(&self.sql(
            "SELECT id, body, received_ms FROM order_bodies WHERE received_ms >= ?
             ORDER BY received_ms",
        ))
        .bind(i64::try_from(from).unwrap_or(i64::MAX))
        .fetch_all(&self.pool)
        .await?;
        each(&rows, order_body)
    }

    /// Orders not yet in their lane nor cancelled (id, cut-off, status, tote, units picked), by
    /// id, at most `limit`: those said late, or those of `cutoffs`.
    pub async fn orders_needing_attention(
        &self,
        late: bool,
        cutoffs: &[&str],
        limit: u32,
    ) -> Result<Vec<OrderRow>, StoreError> {
        let mut text = "SELECT id, cutoff, status, tote, picked FROM orders
                        WHERE status NOT IN ('sorted', 'cancelled')"
            .to_string();
        if late {
            text.push_str(LATE);
        } else {
            if cutoffs.is_empty() {
                return Ok(Vec::new());
            }
            let marks = vec!["?"; cutoffs.len()].join(", ");
            text.push_str(&format!(" AND cutoff IN ({marks})"));
        }
        text.push_str(" ORDER BY id LIMIT ?");
        let sql = self.sql_owned(text);
        let mut query = sqlx::query(&sql);
        if !late {
            for c in cutoffs {
                query = query.bind(*c);
            }
        }
        let rows = query.bind(i64::from(limit)).fetch_all(&self.pool).await?;
        each(&rows, order_row)
    }

    /// A page of orders as last recorded (id, cut-off, status, tote, units picked), by id after
    /// `after`, of one status and one cut-off when given, and late (said so) or not.
    pub async fn orders_page(
        &self,
        status: Option<&str>,
        cutoff: Option<&str>,
        late: Option<bool>,
        after: Option<&str>,
        limit: u32,
    ) -> Result<Vec<OrderRow>, StoreError> {
        let mut text =
            "SELECT id, cutoff, status, tote, picked FROM orders WHERE 1 = 1".to_string();
        let mut binds = Vec::new();
        for (column, value) in [("status", status), ("cutoff", cutoff)] {
            if let Some(v) = value {
                text.push_str(&format!(" AND {column} = ?"));
                binds.push(v);
            }
        }
        match late {
            Some(true) => text.push_str(LATE),
            Some(false) => text.push_str(&LATE.replacen(" IN ", " NOT IN ", 1)),
            None => {}
        }
        if let Some(a) = after {
            text.push_str(" AND id > ?");
            binds.push(a);
        }
        text.push_str(" ORDER BY id LIMIT ?");
        let sql = self.sql_owned(text);
        let mut query = sqlx::query(&sql);
        for b in binds {
            query = query.bind(b);
        }
        let rows = query.bind(i64::from(limit)).fetch_all(&self.pool).await?;
        each(&rows, order_row)
    }

    /// An order's states as they were recorded, oldest first: when, status, tote, units picked.
    pub async fn order_history(
        &self,
        id: &str,
    ) -> Result<Vec<(Millis, String, Option<u32>, u32)>, StoreError> {
        let rows = sqlx::query(&self.sql(
            "SELECT at_ms, status, tote, picked FROM order_history WHERE id = ? ORDER BY seq",
        ))
        .bind(id)
        .fetch_all(&self.pool)
        .await?;
        each(&rows, |r| {
            Ok((
                r.try_get::<i64, _>("at_ms")? as Millis,
                r.try_get("status")?,
                r.try_get::<Option<i64>, _>("tote")?.map(|t| t as u32),
                r.try_get::<i64, _>("picked")? as u32,
            ))
        })
    }

    /// An order's state as last recorded: cut-off, status, tote, units picked.
    pub async fn order_state(
        &self,
        id: &str,
    ) -> Result<Option<(String, String, Option<u32>, u32)>, StoreError> {
        let row =
            sqlx::query(&self.sql("SELECT cutoff, status, tote, picked FROM orders WHERE id = ?"))
                .bind(id)
                .fetch_optional(&self.pool)
                .await?;
        maybe(row, |r| {
            Ok((
                r.try_get("cutoff")?,
                r.try_get("status")?,
                r.try_get::<Option<i64>, _>("tote")?.map(|t| t as u32),
                r.try_get::<i64, _>("picked")? as u32,
            ))
        })
    }
}

/// An order as received, and when, from a row of `order_bodies`.
fn order_body(r: &sqlx::any::AnyRow) -> Result<(Millis, Order), sqlx::Error> {
    let id: String = r.try_get("id")?;
    let body: String = r.try_get("body")?;
    let at: i64 = r.try_get("received_ms").unwrap_or(0);
    let order = serde_json::from_str(&body)
        .map_err(|e| sqlx::Error::Decode(format!("order {id}: {e}").into()))?;
    Ok((u64::try_from(at).unwrap_or(0), order))
}

/// An order as last recorded: id, cut-off, status, tote, units picked.
type OrderRow = (String, String, String, Option<u32>, u32);

fn order_row(r: &sqlx::any::AnyRow) -> Result<OrderRow, sqlx::Error> {
    Ok((
        r.try_get("id")?,
        r.try_get("cutoff")?,
        r.try_get("status")?,
        r.try_get::<Option<i64>, _>("tote")?.map(|t| t as u32),
        r.try_get::<i64, _>("picked")? as u32,
    ))
}

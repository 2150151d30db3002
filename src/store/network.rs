//! The network's tables on PostgreSQL: site leases (ownership, fencing, published status) and
//! the transfers between a distribution centre and its forward warehouses.
//!
//! Times are the server's (`now()`), so instances on hosts whose clocks differ agree on when a
//! lease runs out.

use sqlx::Row;

use super::{each, maybe, Store, StoreError};

/// Migrates the network schema `schema` on the server at `url`.
pub(super) async fn migrate(url: &str, schema: &str) -> Result<(), StoreError> {
    use sqlx::{Connection, Executor};
    let mut conn = sqlx::AnyConnection::connect(url).await?;
    conn.execute(format!("SET search_path TO \"{schema}\"").as_str())
        .await?;
    sqlx::migrate!("./migrations/network")
        .run(&mut conn)
        .await?;
    conn.close().await?;
    Ok(())
}

/// A site lease held by this instance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lease {
    /// Site.
    pub site: String,
    /// This instance's name in the lease.
    pub owner: String,
    /// Fencing token: goes up each time the site changes hands.
    pub token: i64,
    /// How long it lasts unrenewed, in milliseconds.
    pub lease_ms: i64,
}

/// A site as the network sees it.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct SiteRow {
    /// Site.
    pub site: String,
    /// Instance that owns (or last owned) it.
    pub owner: String,
    /// Fencing token.
    pub token: i64,
    /// Milliseconds the lease has left (negative: run out, no owner).
    pub lease_left_ms: i64,
    /// The status the owner last published (JSON).
    pub status: serde_json::Value,
    /// How old that status is, in milliseconds.
    pub status_age_ms: Option<i64>,
}

/// A transfer between sites.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct NetTransfer {
    /// Forward warehouse that asked.
    pub site: String,
    /// Its transfer number.
    pub id: i64,
    /// The DC asked.
    pub dc: String,
    /// SKU.
    pub sku: String,
    /// Units asked.
    pub qty: i64,
    /// The pick face they are for.
    pub face: String,
    /// requested, accepted, shipped or received.
    pub status: String,
    /// Tote it travels in, once shipped.
    pub tote: Option<i64>,
    /// Units shipped.
    pub shipped: Option<i64>,
    /// Units received.
    pub received: Option<i64>,
}

const TRANSFER_COLUMNS: &str = "site, id, dc, sku, qty, face, status, tote, shipped, received";

fn transfer(r: &sqlx::any::AnyRow) -> Result<NetTransfer, sqlx::Error> {
    Ok(NetTransfer {
        site: r.try_get("site")?,
        id: r.try_get("id")?,
        dc: r.try_get("dc")?,
        sku: r.try_get("sku")?,
        qty: r.try_get("qty")?,
        face: r.try_get("face")?,
        status: r.try_get("status")?,
        tote: r.try_get("tote")?,
        shipped: r.try_get("shipped")?,
        received: r.try_get("received")?,
    })
}

impl Store {
    /// The network schema, quoted, for a site of a network.
    fn net(&self) -> Result<String, StoreError> {
        match &self.network {
            Some(n) => Ok(format!("\"{n}\"")),
            None => Err(StoreError::Query(sqlx::Error::Configuration(
                "this database is not opened as a site of a network".into(),
            ))),
        }
    }

    /// Whether this database is a site's of a network.
    pub fn in_network(&self) -> bool {
        self.network.is_some()
    }

    /// Transfers not yet received, oldest first, and received ones whose units differ from
    /// those asked (newest first), at most `limit` of each.
    pub async fn transfers_to_watch(
        &self,
        limit: i64,
    ) -> Result<(Vec<NetTransfer>, Vec<NetTransfer>), StoreError> {
        let net = self.net()?;
        let open = format!(
            "SELECT {TRANSFER_COLUMNS} FROM {net}.transfers WHERE status <> 'received'
             ORDER BY requested_at, site, id LIMIT $1"
        );
        let off = format!(
            "SELECT {TRANSFER_COLUMNS} FROM {net}.transfers
             WHERE status = 'received' AND received <> qty
             ORDER BY updated_at DESC LIMIT $1"
        );
        let open = sqlx::query(&open).bind(limit).fetch_all(&self.pool).await?;
        let off = sqlx::query(&off).bind(limit).fetch_all(&self.pool).await?;
        Ok((each(&open, transfer)?, each(&off, transfer)?))
    }

    /// Within a journal write: the lease token it is made under, after checking (and holding,
    /// until the commit) that the site's lease is still this instance's.
    ///
    /// The check holds the lease row, which a standby's takeover waits on: should this instance
    /// freeze before the commit, the server ends the transaction once it has sat idle for a
    /// lease (`idle_in_transaction_session_timeout`, for this transaction only), so the site
    /// passes on and the frozen commit is refused.
    pub(super) async fn check_fence(
        &self,
        tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    ) -> Result<Option<i64>, StoreError> {
        let Some((site, token, lease_ms)) = self.fence.get() else {
            return Ok(None);
        };
        let q = format!(
            "SELECT token, set_config('idle_in_transaction_session_timeout', $2, true)
             FROM {}.sites WHERE site = $1 FOR SHARE",
            self.net()?
        );
        let now: Option<i64> = sqlx::query(&q)
            .bind(site)
            .bind(lease_ms.to_string())
            .fetch_optional(&mut **tx)
            .await?
            .map(|r| r.try_get(0))
            .transpose()?;
        if now != Some(*token) {
            return Err(StoreError::Fenced {
                site: site.clone(),
                token: *token,
            });
        }
        Ok(Some(*token))
    }

    /// Takes site `site` for `owner` for `lease_ms` when nobody holds it (or the holder's lease
    /// ran out); the lease, with a token higher than any before, or `None` when another holds it.
    pub async fn take_lease(
        &self,
        site: &str,
        owner: &str,
        lease_ms: i64,
    ) -> Result<Option<Lease>, StoreError> {
        let q = format!(
            "INSERT INTO {net}.sites (site, owner, token, expires_at, acquired_at)
             VALUES ($1, $2, 1, now() + $3 * interval '1 millisecond', now())
             ON CONFLICT (site) DO UPDATE SET owner = excluded.owner, token = sites.token + 1,
               expires_at = excluded.expires_at, acquired_at = now()
             WHERE sites.expires_at < now()
             RETURNING token",
            net = self.net()?
        );
        let row = sqlx::query(&q)
            .bind(site)
            .bind(owner)
            .bind(lease_ms)
            .fetch_optional(&self.pool)
            .await?;
        maybe(row, |r| {
            Ok(Lease {
                site: site.into(),
                owner: owner.into(),
                token: r.try_get(0)?,
                lease_ms,
            })
        })
    }

    /// Journal writes from now on are made under `lease`, and refused once it has passed on.
    pub fn fence(&self, lease: &Lease) {
        let _ = self
            .fence
            .set((lease.site.clone(), lease.token, lease.lease_ms));
    }

    /// Extends `lease` by `lease_ms`; `false` when it is no longer this instance's.
    pub async fn renew_lease(&self, lease: &Lease, lease_ms: i64) -> Result<bool, StoreError> {
        let q = format!(
            "UPDATE {}.sites SET expires_at = now() + $3 * interval '1 millisecond'
             WHERE site = $1 AND token = $2 RETURNING token",
            self.net()?
        );
        let row = sqlx::query(&q)
            .bind(&lease.site)
            .bind(lease.token)
            .bind(lease_ms)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.is_some())
    }

    /// Gives `lease` up (a clean stop): a standby may take the site at once.
    pub async fn release_lease(&self, lease: &Lease) -> Result<(), StoreError> {
        let q = format!(
            "UPDATE {}.sites SET expires_at = now() - interval '1 millisecond'
             WHERE site = $1 AND token = $2",
            self.net()?
        );
        sqlx::query(&q)
            .bind(&lease.site)
            .bind(lease.token)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Publishes the site's status (JSON) for the network view, under `lease`.
    pub async fn publish_status(&self, lease: &Lease, status: &str) -> Result<(), StoreError> {
        let q = format!(
            "UPDATE {}.sites SET status = $3, status_at = now() WHERE site = $1 AND token = $2",
            self.net()?
        );
        sqlx::query(&q)
            .bind(&lease.site)
            .bind(lease.token)
            .bind(status)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Every site of the network, by id.
    pub async fn sites(&self) -> Result<Vec<SiteRow>, StoreError> {
        let q = format!(
            "SELECT site, owner, token,
               CAST(EXTRACT(EPOCH FROM (expires_at - now())) * 1000 AS BIGINT) AS left_ms,
               status,
               CAST(EXTRACT(EPOCH FROM (now() - status_at)) * 1000 AS BIGINT) AS age_ms
             FROM {}.sites ORDER BY site",
            self.net()?
        );
        let rows = sqlx::query(&q).fetch_all(&self.pool).await?;
        each(&rows, |r| {
            Ok(SiteRow {
                site: r.try_get("site")?,
                owner: r.try_get("owner")?,
                token: r.try_get("token")?,
                lease_left_ms: r.try_get("left_ms")?,
                status: serde_json::from_str(&r.try_get::<String, _>("status")?)
                    .unwrap_or(serde_json::Value::Null),
                status_age_ms: r.try_get("age_ms")?,
            })
        })
    }

    /// A forward warehouse: its transfer orders not yet known to the network are published to
    /// its DC `dc`. Idempotent. Returns how many were new.
    pub async fn publish_transfers(&self, site: &str, dc: &str) -> Result<u64, StoreError> {
        let q = format!(
            "INSERT INTO {}.transfers (site, id, dc, sku, qty, face, status)
             SELECT $1, id, $2, sku, qty, face, 'requested' FROM transfers
             ON CONFLICT (site, id) DO NOTHING",
            self.net()?
        );
        let done = sqlx::query(&q)
            .bind(site)
            .bind(dc)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected())
    }

    /// Transfers of the network in `status`, asked of DC `dc` (any DC when `None`) or by
    /// forward warehouse `site` (any when `None`).
    pub async fn net_transfers(
        &self,
        status: Option<&str>,
        dc: Option<&str>,
        site: Option<&str>,
    ) -> Result<Vec<NetTransfer>, StoreError> {
        let q = format!(
            "SELECT {TRANSFER_COLUMNS} FROM {}.transfers
             WHERE ($1 IS NULL OR status = $1) AND ($2 IS NULL OR dc = $2)
               AND ($3 IS NULL OR site = $3)
             ORDER BY requested_at, site, id",
            self.net()?
        );
        let rows = sqlx::query(&q)
            .bind(status)
            .bind(dc)
            .bind(site)
            .fetch_all(&self.pool)
            .await?;
        each(&rows, transfer)
    }

    /// A transfer moves from status `from` to `to`; `false` when it was not in `from`.
    pub async fn advance_transfer(
        &self,
        site: &str,
        id: i64,
        from: &str,
        to: &str,
    ) -> Result<bool, StoreError> {
        let q = format!(
            "UPDATE {}.transfers SET status = $4, updated_at = now()
             WHERE site = $1 AND id = $2 AND status = $3",
            self.net()?
        );
        let done = sqlx::query(&q)
            .bind(site)
            .bind(id)
            .bind(from)
            .bind(to)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    /// The DC `dc`: its accepted transfers whose order is sorted (in the destination's lane)
    /// become shipped, with the order's tote and the units picked.
    pub async fn ship_sorted_transfers(&self, dc: &str) -> Result<u64, StoreError> {
        let q = format!(
            "UPDATE {}.transfers t SET status = 'shipped', tote = o.tote, shipped = o.picked,
               updated_at = now()
             FROM orders o
             WHERE t.dc = $1 AND t.status = 'accepted' AND o.status = 'sorted'
               AND o.id = 'transfer:' || t.site || ':' || CAST(t.id AS TEXT)",
            self.net()?
        );
        let done = sqlx::query(&q).bind(dc).execute(&self.pool).await?;
        Ok(done.rows_affected())
    }

    /// A forward warehouse: its transfers it has received (in its own tables) are received in
    /// the network's, with the units counted.
    pub async fn note_received_transfers(&self, site: &str) -> Result<u64, StoreError> {
        let q = format!(
            "UPDATE {}.transfers t SET status = 'received', received = l.received,
               updated_at = now()
             FROM transfers l
             WHERE t.site = $1 AND t.id = l.id AND l.status = 'received'
               AND t.status <> 'received'",
            self.net()?
        );
        let done = sqlx::query(&q).bind(site).execute(&self.pool).await?;
        Ok(done.rows_affected())
    }

    /// Seconds from asking to receiving, for each received transfer.
    pub async fn transfer_lead_times(&self) -> Result<Vec<f64>, StoreError> {
        let q = format!(
            "SELECT CAST(EXTRACT(EPOCH FROM (updated_at - requested_at)) * 1000 AS BIGINT) AS ms
             FROM {}.transfers WHERE status = 'received'",
            self.net()?
        );
        let rows = sqlx::query(&q).fetch_all(&self.pool).await?;
        each(&rows, |r| Ok(r.try_get::<i64, _>("ms")? as f64 / 1000.0))
    }

    /// The server's counters for this database (pg_stat_database): commits, rows, blocks.
    pub async fn server_counters(
        &self,
    ) -> Result<std::collections::BTreeMap<&'static str, i64>, StoreError> {
        const COUNTERS: [&str; 6] = [
            "xact_commit",
            "tup_inserted",
            "tup_updated",
            "tup_fetched",
            "blks_read",
            "blks_hit",
        ];
        let q = format!(
            "SELECT {} FROM pg_stat_database WHERE datname = current_database()",
            COUNTERS
                .map(|c| format!("CAST({c} AS BIGINT) AS {c}"))
                .join(", ")
        );
        let row = sqlx::query(&q).fetch_one(&self.pool).await?;
        Ok(COUNTERS
            .iter()
            .map(|c| Ok((*c, row.try_get::<i64, _>(*c)?)))
            .collect::<Result<_, sqlx::Error>>()?)
    }

    /// Connections open to this database now.
    pub async fn server_connections(&self) -> Result<i64, StoreError> {
        let row = sqlx::query(
            "SELECT CAST(count(*) AS BIGINT) FROM pg_stat_activity WHERE datname = current_database()",
        )
        .fetch_one(&self.pool)
        .await?;
        Ok(row.try_get(0)?)
    }
}

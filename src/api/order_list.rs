//! `GET /api/v1/orders?status=&cutoff=&late=&after=&limit=`: orders by number, a page at a
//! time.

use std::sync::Arc;

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

use super::{asked, refusal, unavailable, Api, Problem};

/// The query of `GET /api/v1/orders`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ListQuery {
    status: Option<String>,
    cutoff: Option<String>,
    after: Option<String>,
    limit: Option<u32>,
    late: Option<bool>,
}

/// Orders listed per page by default, and at most.
const PAGE: u32 = 100;
const MAX_PAGE: u32 = 1_000;

/// `GET /api/v1/orders?status=&cutoff=&after=&limit=`: orders by number, a page at a time;
/// `next` is the `after` of the next page (none on the last).
pub(super) async fn list(
    State(api): State<Arc<Api>>,
    headers: HeaderMap,
    query: Result<Query<ListQuery>, QueryRejection>,
) -> Response {
    let q = match asked(
        &api,
        &headers,
        "orders:read",
        query,
        "status, cutoff, late, after and limit",
    )
    .await
    {
        Ok(q) => q,
        Err(answer) => return answer,
    };
    let mut problems = Vec::new();
    if let Some(s) = q.status.as_deref().filter(|s| !STATUSES.contains(s)) {
        problems.push(Problem::at(
            "status",
            format!("{s} is none of {}", STATUSES.join(", ")),
        ));
    }
    let limit = q.limit.unwrap_or(PAGE);
    if !(1..=MAX_PAGE).contains(&limit) {
        problems.push(Problem::at(
            "limit",
            format!("{limit}: a page holds 1 to {MAX_PAGE}"),
        ));
    }
    if !problems.is_empty() {
        return refusal(
            StatusCode::BAD_REQUEST,
            "invalid",
            "the query has problems",
            &problems,
        );
    }
    let page = api
        .controller
        .store()
        .orders_page(
            q.status.as_deref(),
            q.cutoff.as_deref(),
            q.late,
            q.after.as_deref(),
            limit,
        )
        .await;
    let rows = match page {
        Ok(r) => r,
        Err(err) => {
            tracing::error!(%err, "cannot list orders");
            return unavailable();
        }
    };
    let next = (rows.len() == limit as usize).then(|| rows.last().map(|r| r.0.clone()));
    let orders: Vec<Value> = rows
        .into_iter()
        .map(|(id, cutoff, status, tote, picked)| {
            json!({"order": id, "cutoff": cutoff, "status": status, "tote": tote, "units_picked": picked})
        })
        .collect();
    Json(json!({"orders": orders, "next": next.flatten()})).into_response()
}

/// Where an order can be, as listed.
const STATUSES: &[&str] = &[
    "waiting",
    "released",
    "picking",
    "picked",
    "sorted",
    "cancelled",
];

//! `GET /api/v1/promise?lines=N&priority=normal`: which cut-off an order placed now would make
//! at this site, from the projection the at-risk alarm uses.

use std::sync::Arc;

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use floorctl_core::{utc_text, Outlook};
use floorctl_protocol::order::Priority;
use serde::Deserialize;
use serde_json::{json, Value};

use super::{asked, refusal, Api, Problem};

/// The query of `GET /api/v1/promise`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct PromiseQuery {
    lines: u32,
    #[serde(default)]
    priority: Option<Priority>,
}

/// Most lines an order is asked about with.
const MAX_LINES: u32 = 10_000;

fn shown(o: Option<Outlook>) -> Value {
    match o {
        None => Value::Null,
        Some(o) => json!({
            "cutoff": o.cutoff,
            "due": o.due.map(utc_text),
            "projected": o.projected.map(utc_text),
            "on_time": o.on_time,
        }),
    }
}

/// `GET /api/v1/promise?lines=N&priority=normal|urgent`.
pub(super) async fn get(
    State(api): State<Arc<Api>>,
    headers: HeaderMap,
    query: Result<Query<PromiseQuery>, QueryRejection>,
) -> Response {
    let q = match asked(
        &api,
        &headers,
        "orders:read",
        query,
        &format!("lines (1 to {MAX_LINES}) and priority (normal or urgent)"),
    )
    .await
    {
        Ok(q) => q,
        Err(answer) => return answer,
    };
    if !(1..=MAX_LINES).contains(&q.lines) {
        let problem = Problem::at(
            "lines",
            format!("{}: an order has 1 to {MAX_LINES} lines", q.lines),
        );
        return refusal(
            StatusCode::BAD_REQUEST,
            "invalid",
            "the query has problems",
            &[problem],
        );
    }
    let priority = q.priority.unwrap_or_default();
    let Some(p) = api.controller.promise(q.lines, priority).await else {
        return super::unavailable_stopping();
    };
    Json(json!({
        "lines": q.lines,
        "priority": priority,
        "given": shown(p.given),
        "makes": shown(p.makes),
        "lines_per_hour": p.lines_per_hour,
    }))
    .into_response()
}

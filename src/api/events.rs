//! `GET /api/v1/events?after=&limit=&kinds=`: the site's published events in order, so a
//! consumer that was away catches up (the same events, with the same ids, as its webhooks).

use std::sync::Arc;

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

use super::{asked, refusal, unavailable, Api, Problem};
use floorctl_core::PublishedKind;

/// The query of `GET /api/v1/events`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct EventsQuery {
    after: Option<i64>,
    limit: Option<u32>,
    kinds: Option<String>,
}

/// Events per page by default, and at most.
const PAGE: u32 = 100;
const MAX_PAGE: u32 = 1_000;

/// `GET /api/v1/events?after=SEQ&limit=N&kinds=a,b`: events after `after` (0: from the first),
/// oldest first; `next` is the `after` of the next call.
pub(super) async fn list(
    State(api): State<Arc<Api>>,
    headers: HeaderMap,
    query: Result<Query<EventsQuery>, QueryRejection>,
) -> Response {
    let q = match asked(
        &api,
        &headers,
        "events:read",
        query,
        "after, limit and kinds",
    )
    .await
    {
        Ok(q) => q,
        Err(answer) => return answer,
    };
    let mut problems = Vec::new();
    let after = q.after.unwrap_or(0);
    if after < 0 {
        problems.push(Problem::at(
            "after",
            format!("{after}: events are numbered from 1; send 0 for the first"),
        ));
    }
    let limit = q.limit.unwrap_or(PAGE);
    if !(1..=MAX_PAGE).contains(&limit) {
        problems.push(Problem::at(
            "limit",
            format!("{limit}: a page holds 1 to {MAX_PAGE}"),
        ));
    }
    let kinds: Vec<String> = q
        .kinds
        .as_deref()
        .unwrap_or("")
        .split(',')
        .filter(|k| !k.is_empty())
        .map(str::to_string)
        .collect();
    for k in kinds.iter().filter(|k| PublishedKind::parse(k).is_none()) {
        problems.push(Problem::at("kinds", format!("`{k}` is no event kind")));
    }
    if !problems.is_empty() {
        return refusal(
            StatusCode::BAD_REQUEST,
            "invalid",
            "the query has problems",
            &problems,
        );
    }
    let store = api.controller.store();
    let (page, last) = match (
        store.published_after(after, limit, &kinds).await,
        store.last_published().await,
    ) {
        (Ok(page), Ok(last)) => (page, last),
        (Err(err), _) | (_, Err(err)) => {
            tracing::error!(%err, "cannot read the outbox");
            return unavailable();
        }
    };
    // With kinds, a short page may still have passed over others: go on after the last read.
    let next = if page.len() < limit as usize {
        last.max(after)
    } else {
        page.last().map_or(after, |e| e.seq)
    };
    let events: Vec<Value> = page
        .iter()
        .map(|e| crate::outbox::body(&api.site, e))
        .collect();
    Json(json!({"events": events, "next": next})).into_response()
}

//! `GET /api/search?q=…`: an order, a tote, a handheld or a SKU found by what the supervisor
//! types, with where it is now and (for an order or a tote) its history.

use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

use super::{refusal, Dashboard, UNAVAILABLE};
use crate::store::{Store, StoreError};

/// Longest text searched for (the longest identifier).
const MAX_QUERY: usize = 64;

#[derive(Deserialize)]
pub(super) struct Asked {
    #[serde(default)]
    q: String,
}

/// The words asked by a signed-in user, trimmed: at most `longest` characters, no control
/// character, none at all only when `empty` may be; else the refusal, `what` saying what to
/// ask.
async fn asked_by_user<'a>(
    d: &Dashboard,
    headers: &HeaderMap,
    asked: &'a Asked,
    longest: usize,
    empty: bool,
    what: &str,
) -> Result<&'a str, Response> {
    if d.current(headers).await.is_none() {
        return Err(refusal(StatusCode::UNAUTHORIZED, "log in first"));
    }
    let q = asked.q.trim();
    if (q.is_empty() && !empty) || q.chars().count() > longest || q.chars().any(char::is_control) {
        return Err(refusal(StatusCode::BAD_REQUEST, what));
    }
    Ok(q)
}

pub(super) async fn search(
    State(d): State<Arc<Dashboard>>,
    headers: HeaderMap,
    Query(asked): Query<Asked>,
) -> Response {
    let what = "Type an order number, a tote number, a handheld or a SKU.";
    let q = match asked_by_user(&d, &headers, &asked, MAX_QUERY, false, what).await {
        Ok(q) => q,
        Err(refused) => return refused,
    };
    let mut found = match stored(d.controller.store(), q).await {
        Ok(found) => found,
        Err(err) => {
            tracing::error!(%err, "cannot search the database");
            return refusal(StatusCode::SERVICE_UNAVAILABLE, UNAVAILABLE);
        }
    };
    let summary = d.controller.summary().borrow().clone();
    if let Some(h) = summary.handhelds.iter().find(|h| h.id == q) {
        found.push(json!({"found": "handheld", "id": h.id, "handheld": h}));
    }
    let faces: Vec<Value> = summary
        .forward
        .iter()
        .filter(|(_, f)| f.sku == q)
        .map(|(location, f)| {
            json!({"location": location, "on_hand": f.on_hand, "min": f.min, "max": f.max,
                   "inbound": f.inbound, "projected": f.projected()})
        })
        .collect();
    if !faces.is_empty() {
        found.push(json!({"found": "sku", "id": q, "faces": faces}));
    }
    if found.is_empty() {
        return refusal(
            StatusCode::NOT_FOUND,
            &format!(
                "Nothing here is called “{q}”: no order, tote, handheld or SKU with a pick face."
            ),
        );
    }
    Json(json!({"ok": true, "results": found})).into_response()
}

/// Orders listed at most in each list of those needing attention.
const ATTENTION_LINES: u32 = 100;

/// `GET /api/attention`: the orders a supervisor should look at: late and not yet in their
/// lane, of cut-offs at risk, and totes lost or sent to the exception chute.
pub(super) async fn attention(State(d): State<Arc<Dashboard>>, headers: HeaderMap) -> Response {
    if d.current(&headers).await.is_none() {
        return refusal(StatusCode::UNAUTHORIZED, "log in first");
    }
    let at_risk: Vec<String> = d
        .controller
        .summary()
        .borrow()
        .waves
        .iter()
        .filter(|(_, w)| w.at_risk)
        .map(|(c, _)| c.clone())
        .collect();
    let at_risk: Vec<&str> = at_risk.iter().map(String::as_str).collect();
    let store = d.controller.store();
    let found = async {
        Ok::<_, StoreError>((
            store
                .orders_needing_attention(true, &[], ATTENTION_LINES)
                .await?,
            store
                .orders_needing_attention(false, &at_risk, ATTENTION_LINES)
                .await?,
            store
                .exception_totes(&d.layout.exception_chutes(), ATTENTION_LINES)
                .await?,
        ))
    };
    match found.await {
        Ok((late, risky, totes)) => {
            let order = |(id, cutoff, status, tote, _): &(
                String,
                String,
                String,
                Option<u32>,
                u32,
            )| {
                json!({"order": id, "cutoff": cutoff, "status": status, "tote": tote})
            };
            let totes: Vec<Value> = totes
                .iter()
                .map(|(tote, order, status, chute)| {
                    json!({"tote": tote, "order": order, "status": status, "chute": chute})
                })
                .collect();
            Json(json!({
                "ok": true,
                "late": late.iter().map(order).collect::<Vec<_>>(),
                "at_risk": risky.iter().map(order).collect::<Vec<_>>(),
                "exceptions": totes,
            }))
            .into_response()
        }
        Err(err) => {
            tracing::error!(%err, "cannot read the orders needing attention");
            refusal(StatusCode::SERVICE_UNAVAILABLE, UNAVAILABLE)
        }
    }
}

/// Lines of alarm history sent at most.
const HISTORY_LINES: u32 = 200;

/// `GET /api/alarms/history?q=…`: alarms raised and cleared, newest first, whose source or
/// text holds the words asked (all of them when none).
pub(super) async fn alarm_history(
    State(d): State<Arc<Dashboard>>,
    headers: HeaderMap,
    Query(asked): Query<Asked>,
) -> Response {
    let what = "Search for a few words of an alarm or its source.";
    let q = match asked_by_user(&d, &headers, &asked, 200, true, what).await {
        Ok(q) => q,
        Err(refused) => return refused,
    };
    match d.controller.store().alarm_history(q, HISTORY_LINES).await {
        Ok(events) => {
            let lines: Vec<Value> = events
                .iter()
                .map(|e| {
                    let said = e.data.get("code").map(
                        |code| json!({"code": code, "params": e.data.get("params").unwrap_or(&json!({}))}),
                    );
                    json!({"at": e.at, "raised": e.kind == "alarm.raised",
                           "source": e.data["source"], "text": e.data["text"], "said": said})
                })
                .collect();
            Json(json!({"ok": true, "alarms": lines})).into_response()
        }
        Err(err) => {
            tracing::error!(%err, "cannot read the alarm history");
            refusal(StatusCode::SERVICE_UNAVAILABLE, UNAVAILABLE)
        }
    }
}

/// What the database knows by this name: the order, and the tote of that number with its
/// order.
async fn stored(store: &Store, q: &str) -> Result<Vec<Value>, StoreError> {
    let mut found = Vec::new();
    if let Some(order) = crate::api::order_detail(store, q).await? {
        found.push(json!({"found": "order", "id": q, "order": order}));
    }
    let number = q.strip_prefix(['T', 't']).unwrap_or(q);
    if let Ok(tote) = number.parse::<u32>() {
        if let Some((order, status, chute)) = store.tote(tote).await? {
            let detail = crate::api::order_detail(store, &order).await?;
            found.push(
                json!({"found": "tote", "id": tote, "order_id": order, "status": status,
                              "chute": chute, "order": detail}),
            );
        }
    }
    Ok(found)
}

//! The HTTP API under `/api/v1`, on the dashboard's listener, for the shops, WMSs and ERPs
//! around a site: service accounts with bearer tokens and scopes (separate from dashboard
//! logins), answers and problems as JSON, every call written to the audit log.

mod events;
mod order_changes;
mod order_list;
mod orders;
mod preposition;
pub use orders::detail as order_detail;
pub use orders::shown as order_json;
mod promise;
mod stock;
pub mod token;
mod webhooks;

use crate::wall_clock::now_ms;
use std::sync::Arc;

use axum::extract::DefaultBodyLimit;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use serde::de::DeserializeOwned;
use serde_json::{json, Value};

use crate::controller::Handle;
use crate::rate::Buckets;
use crate::store::{ApiToken, AuditEntry};
use floorctl_core::Layout;

/// Largest request body: a batch of 1,000 orders of several lines fits well within it.
pub const MAX_BODY_BYTES: usize = 4 * 1024 * 1024;

/// What every API handler shares.
#[derive(Debug)]
pub struct Api {
    controller: Handle,
    layout: Layout,
    site: String,
    /// Each service account's share of requests.
    limits: std::sync::Mutex<Buckets>,
    /// Its rate, requests a second.
    rate: f64,
}

impl Api {
    /// The API of the controller behind `controller`, at `site`; each service account may make
    /// `rate` requests a second, sustained, and twice as many at once after a quiet spell.
    pub fn new(controller: Handle, layout: Layout, site: &str, rate: f64) -> Api {
        Api {
            controller,
            layout,
            site: site.to_string(),
            limits: std::sync::Mutex::new(Buckets::new(rate, 2.0 * rate, 10_000)),
            rate,
        }
    }
}

/// The API's routes.
pub fn router(api: Arc<Api>) -> Router {
    Router::new()
        .route("/api/v1/orders", post(orders::post).get(order_list::list))
        .route(
            "/api/v1/orders/{id}",
            get(orders::get).delete(order_changes::cancel),
        )
        .route(
            "/api/v1/orders/{id}/priority",
            post(order_changes::priority),
        )
        .route("/api/v1/stock", put(stock::put_stock))
        .route("/api/v1/stock/movements", post(stock::post_movements))
        .route("/api/v1/pick-faces", put(stock::put_faces))
        .route("/api/v1/preposition", post(preposition::post))
        .route("/api/v1/promise", get(promise::get))
        .route("/api/v1/events", get(events::list))
        .route("/api/v1/webhooks", post(webhooks::add).get(webhooks::list))
        .route(
            "/api/v1/webhooks/{name}",
            get(webhooks::get).delete(webhooks::remove),
        )
        .route("/api/v1/openapi.json", get(openapi))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(api)
}

/// The API described in OpenAPI 3.1, as committed in `docs/openapi.json`.
pub const OPENAPI: &str = include_str!("../../docs/openapi.json");

async fn openapi() -> Response {
    ([(header::CONTENT_TYPE, "application/json")], OPENAPI).into_response()
}

/// A problem with a request, at a place in its JSON body (`orders[2].lines[0].qty`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub(crate) struct Problem {
    /// Where in the body; empty for the body as a whole.
    path: String,
    /// What is wrong, and what would be right.
    problem: String,
}

impl Problem {
    fn at(path: impl Into<String>, problem: impl Into<String>) -> Problem {
        Problem {
            path: path.into(),
            problem: problem.into(),
        }
    }
}

/// The entries of a JSON body `{"<key>": [...]}` (with `single`, also one bare object), in
/// order, each with its path (`orders[2]`; empty for a bare object) and read as a `T` or not
/// (the problem at its path); or the problem with the body as a whole.
#[allow(clippy::type_complexity)]
fn entries<T: DeserializeOwned>(
    body: &[u8],
    key: &str,
    single: bool,
    max: usize,
) -> Result<Vec<(String, Result<T, Problem>)>, Vec<Problem>> {
    let shape = if single {
        format!("send one object, or {{\"{key}\": [...]}}")
    } else {
        format!("send {{\"{key}\": [...]}}")
    };
    let value: Value = serde_json::from_slice(body).map_err(|e| {
        vec![Problem::at(
            "",
            format!("the body is not JSON: {e} ({shape})"),
        )]
    })?;
    let items: Vec<(String, Value)> = match value {
        Value::Object(mut map) if map.contains_key(key) => {
            let others: Vec<&String> = map.keys().filter(|k| *k != key).collect();
            if !others.is_empty() {
                return Err(vec![Problem::at(
                    "",
                    format!("the body holds only \"{key}\"; remove {others:?}"),
                )]);
            }
            match map.remove(key) {
                Some(Value::Array(list)) if list.is_empty() => {
                    return Err(vec![Problem::at(key, "the list is empty")])
                }
                Some(Value::Array(list)) if list.len() > max => {
                    return Err(vec![Problem::at(
                        key,
                        format!("{} entries: send at most {max} at once", list.len()),
                    )])
                }
                Some(Value::Array(list)) => list
                    .into_iter()
                    .enumerate()
                    .map(|(i, v)| (format!("{key}[{i}]"), v))
                    .collect(),
                _ => return Err(vec![Problem::at(key, "must be a list")]),
            }
        }
        v @ Value::Object(_) if single => vec![(String::new(), v)],
        _ => return Err(vec![Problem::at("", shape)]),
    };
    let mut out = Vec::new();
    for (at, v) in items {
        match serde_path_to_error::deserialize(v) {
            Ok(t) => out.push((at, Ok(t))),
            Err(e) => {
                let inner = e.path().to_string();
                let inner = if inner == "." { String::new() } else { inner };
                let number = ["qty", "min", "max"]
                    .into_iter()
                    .find(|f| inner == *f || inner.ends_with(&format!(".{f}")));
                let problem = match number {
                    Some(f) => format!("{f} must be a whole number"),
                    None => e.into_inner().to_string(),
                };
                let problem = Problem::at(join(&at, &inner), problem);
                out.push((at, Err(problem)));
            }
        }
    }
    Ok(out)
}

/// An entry as read, or its problem noted in `problems`.
fn noted<T>(entry: Result<T, Problem>, problems: &mut Vec<Problem>) -> Option<T> {
    entry.map_err(|p| problems.push(p)).ok()
}

/// A path inside the entry at `at`.
fn join(at: &str, field: &str) -> String {
    match (at.is_empty(), field.is_empty()) {
        (true, _) => field.to_string(),
        (_, true) => at.to_string(),
        _ => format!("{at}.{field}"),
    }
}

/// An error answer: a short code, a sentence, and the problems found.
fn refusal(status: StatusCode, code: &str, message: &str, problems: &[Problem]) -> Response {
    let mut body = json!({"error": code, "message": message});
    if !problems.is_empty() {
        body["problems"] = json!(problems);
    }
    (status, Json(body)).into_response()
}

/// The service account calling, when its bearer token is known, not revoked and has `scope`
/// at this site; else the answer to send.
async fn caller(api: &Api, headers: &HeaderMap, scope: &str) -> Result<ApiToken, Response> {
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim);
    let Some(presented) = bearer.filter(|t| !t.is_empty()) else {
        return Err(refusal(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "send the service account's token as Authorization: Bearer TOKEN",
            &[],
        ));
    };
    let found = api
        .controller
        .store()
        .token_by_hash(&token::hash(presented))
        .await;
    let unknown = || {
        refusal(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "this token is not known here or has been revoked",
            &[],
        )
    };
    match found {
        Ok(Some(t)) if t.revoked.is_some() => Err(unknown()),
        Ok(Some(t)) if t.allows(scope, &api.site) => {
            let taken = api
                .limits
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .take(&t.name, std::time::Instant::now());
            match taken {
                Ok(()) => Ok(t),
                Err(wait) => {
                    let secs = wait.as_secs_f64().ceil().max(1.0) as u64;
                    let mut answer = refusal(
                        StatusCode::TOO_MANY_REQUESTS,
                        "too_many_requests",
                        &format!(
                            "service account {} sends more than {} requests a second; send batches, or try again in {secs} s",
                            t.name, api.rate
                        ),
                        &[],
                    );
                    answer
                        .headers_mut()
                        .insert(header::RETRY_AFTER, header::HeaderValue::from(secs));
                    Err(answer)
                }
            }
        }
        Ok(Some(t)) => Err(refusal(
            StatusCode::FORBIDDEN,
            "forbidden",
            &format!(
                "service account {} may not do {scope} at site {}",
                t.name, api.site
            ),
            &[],
        )),
        Ok(None) => Err(unknown()),
        Err(err) => {
            tracing::error!(%err, "cannot check an API token");
            Err(unavailable())
        }
    }
}

/// The query of a call by a caller with `scope`, read; else the answer to send (a bad query
/// says what the query `takes`).
async fn asked<T>(
    api: &Api,
    headers: &HeaderMap,
    scope: &str,
    query: Result<axum::extract::Query<T>, axum::extract::rejection::QueryRejection>,
    takes: &str,
) -> Result<T, Response> {
    caller(api, headers, scope).await?;
    query.map(|q| q.0).map_err(|e| {
        refusal(
            StatusCode::BAD_REQUEST,
            "invalid",
            &format!("{e}; the query takes {takes}"),
            &[],
        )
    })
}

/// What a caller is told when the database does not answer; the log has the detail.
fn unavailable() -> Response {
    refusal(
        StatusCode::SERVICE_UNAVAILABLE,
        "unavailable",
        "the database does not answer; try again shortly",
        &[],
    )
}

/// What a caller is told when the controller is stopping.
fn unavailable_stopping() -> Response {
    refusal(
        StatusCode::SERVICE_UNAVAILABLE,
        "unavailable",
        "the controller is stopping; ask again shortly",
        &[],
    )
}

/// Writes a call to the audit log: who, what, outcome.
async fn audit(api: &Api, who: &ApiToken, action: String, outcome: &str) {
    let entry = AuditEntry {
        at: now_ms(),
        user: format!("api:{}", who.name),
        action,
        outcome: outcome.to_string(),
        said: None,
    };
    if let Err(err) = api.controller.store().audit(&entry).await {
        tracing::error!(%err, "cannot write the audit log");
    }
}

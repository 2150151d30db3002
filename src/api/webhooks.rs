//! Webhook subscriptions: `POST /api/v1/webhooks` (the secret is shown once),
//! `GET /api/v1/webhooks`, `GET /api/v1/webhooks/{name}` (with its latest attempts) and
//! `DELETE /api/v1/webhooks/{name}`.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

use super::{audit, caller, refusal, unavailable, Api, Problem};
use crate::store::Webhook;
use crate::wall_clock::now_ms;

/// The body of `POST /api/v1/webhooks`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NewWebhook {
    name: String,
    url: String,
    #[serde(default)]
    kinds: Vec<String>,
    /// `now` (the default): events from now on; `start`: every event kept.
    #[serde(default)]
    from: From,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
enum From {
    #[default]
    Now,
    Start,
}

/// A subscription as listed (never its secret).
fn shown(hook: &Webhook) -> Value {
    json!({"name": hook.name, "url": hook.url, "kinds": hook.kinds, "delivered": hook.delivered})
}

/// `POST /api/v1/webhooks`.
pub(super) async fn add(State(api): State<Arc<Api>>, headers: HeaderMap, body: Bytes) -> Response {
    let who = match caller(&api, &headers, "webhooks:write").await {
        Ok(t) => t,
        Err(answer) => return answer,
    };
    let asked = match serde_path_to_error::deserialize::<_, NewWebhook>(
        &mut serde_json::Deserializer::from_slice(&body),
    ) {
        Ok(b) => b,
        Err(e) => {
            audit(&api, &who, "POST /api/v1/webhooks".into(), "refused: body").await;
            let path = e.path().to_string();
            return refusal(
                StatusCode::BAD_REQUEST,
                "invalid",
                "send {\"name\": ..., \"url\": \"http://...\", \"kinds\": [...]}",
                &[Problem::at(path, e.into_inner().to_string())],
            );
        }
    };
    let action = format!("POST /api/v1/webhooks {}", asked.name);
    let store = api.controller.store();
    let from = match asked.from {
        From::Start => Ok(0),
        From::Now => store.last_published().await,
    };
    let Ok(from) = from else {
        return unavailable();
    };
    let hook =
        match crate::outbox::subscription(&asked.name, &asked.url, &asked.kinds, from, now_ms()) {
            Ok(h) => h,
            Err(problems) => {
                audit(&api, &who, action, "refused: invalid").await;
                let problems: Vec<Problem> =
                    problems.into_iter().map(|p| Problem::at("", p)).collect();
                return refusal(
                    StatusCode::BAD_REQUEST,
                    "invalid",
                    "the subscription has problems",
                    &problems,
                );
            }
        };
    match store.add_webhook(&hook).await {
        Ok(true) => {
            audit(&api, &who, action, "done").await;
            let mut answer = shown(&hook);
            answer["secret"] = json!(hook.secret);
            (StatusCode::CREATED, Json(answer)).into_response()
        }
        Ok(false) => {
            audit(&api, &who, action, "refused: name taken").await;
            refusal(
                StatusCode::CONFLICT,
                "conflict",
                &format!(
                    "a webhook named {} exists (or existed); choose another name",
                    hook.name
                ),
                &[],
            )
        }
        Err(err) => {
            tracing::error!(%err, "cannot keep a webhook");
            unavailable()
        }
    }
}

/// `GET /api/v1/webhooks`.
pub(super) async fn list(State(api): State<Arc<Api>>, headers: HeaderMap) -> Response {
    if let Err(answer) = caller(&api, &headers, "webhooks:write").await {
        return answer;
    }
    match api.controller.store().webhooks().await {
        Ok(hooks) => {
            Json(json!({"webhooks": hooks.iter().map(shown).collect::<Vec<_>>()})).into_response()
        }
        Err(err) => {
            tracing::error!(%err, "cannot list webhooks");
            unavailable()
        }
    }
}

/// Attempts shown with a subscription.
const ATTEMPTS_SHOWN: u32 = 20;

/// `GET /api/v1/webhooks/{name}`: the subscription and its latest attempts.
pub(super) async fn get(
    State(api): State<Arc<Api>>,
    headers: HeaderMap,
    Path(name): Path<String>,
) -> Response {
    if let Err(answer) = caller(&api, &headers, "webhooks:write").await {
        return answer;
    }
    let store = api.controller.store();
    let (hook, attempts) = match (
        store.webhook(&name).await,
        store.attempts(&name, ATTEMPTS_SHOWN).await,
    ) {
        (Ok(h), Ok(a)) => (h, a),
        (Err(err), _) | (_, Err(err)) => {
            tracing::error!(%err, "cannot read a webhook");
            return unavailable();
        }
    };
    let Some(hook) = hook else {
        return not_found(&name);
    };
    let mut answer = shown(&hook);
    answer["attempts"] = attempts
        .iter()
        .map(|a| {
            json!({
                "seq": a.seq,
                "at": floorctl_core::utc_text(a.at),
                "status": a.status,
                "error": a.error,
                "took_ms": a.took_ms,
            })
        })
        .collect();
    Json(answer).into_response()
}

/// `DELETE /api/v1/webhooks/{name}`.
pub(super) async fn remove(
    State(api): State<Arc<Api>>,
    headers: HeaderMap,
    Path(name): Path<String>,
) -> Response {
    let who = match caller(&api, &headers, "webhooks:write").await {
        Ok(t) => t,
        Err(answer) => return answer,
    };
    let action = format!("DELETE /api/v1/webhooks/{name}");
    match api.controller.store().remove_webhook(&name, now_ms()).await {
        Ok(true) => {
            audit(&api, &who, action, "done").await;
            StatusCode::NO_CONTENT.into_response()
        }
        Ok(false) => {
            audit(&api, &who, action, "refused: unknown").await;
            not_found(&name)
        }
        Err(err) => {
            tracing::error!(%err, "cannot remove a webhook");
            unavailable()
        }
    }
}

fn not_found(name: &str) -> Response {
    refusal(
        StatusCode::NOT_FOUND,
        "not_found",
        &format!("there is no webhook named {name}"),
        &[],
    )
}

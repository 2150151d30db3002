//! Changes to an order already received: `POST /api/v1/orders/{id}/priority` and
//! `DELETE /api/v1/orders/{id}` (cancel), each refused with the core's reason when the order is
//! too far on.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use floorctl_protocol::order::Priority;
use serde::Deserialize;
use serde_json::json;

use super::{audit, caller, refusal, unavailable, Api, Problem};

/// The body of `POST /api/v1/orders/{id}/priority`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PriorityBody {
    priority: Priority,
}

/// `POST /api/v1/orders/{id}/priority`: `{"priority": "urgent" | "normal"}`.
pub(super) async fn priority(
    State(api): State<Arc<Api>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let who = match caller(&api, &headers, "orders:write").await {
        Ok(t) => t,
        Err(answer) => return answer,
    };
    let action = format!("POST /api/v1/orders/{id}/priority");
    let wanted = match serde_path_to_error::deserialize::<_, PriorityBody>(
        &mut serde_json::Deserializer::from_slice(&body),
    ) {
        Ok(b) => b.priority,
        Err(e) => {
            audit(&api, &who, action, "refused: body").await;
            let path = e.path().to_string();
            return refusal(
                StatusCode::BAD_REQUEST,
                "invalid",
                "send {\"priority\": \"urgent\"} or {\"priority\": \"normal\"}",
                &[Problem::at(path, e.into_inner().to_string())],
            );
        }
    };
    let by = format!("api:{}", who.name);
    match api.controller.set_priority(&id, wanted, &by).await {
        Ok(()) => {
            audit(&api, &who, action, "done").await;
            Json(json!({"order": id, "priority": wanted})).into_response()
        }
        Err(e) => {
            let reason = e.to_string();
            audit(&api, &who, action, &format!("refused: {reason}")).await;
            refusal(StatusCode::CONFLICT, "refused", &reason, &[])
        }
    }
}

/// `DELETE /api/v1/orders/{id}`: withdraws an order no picker has taken yet; 409 with where it
/// is when it is further on.
pub(super) async fn cancel(
    State(api): State<Arc<Api>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let who = match caller(&api, &headers, "orders:write").await {
        Ok(t) => t,
        Err(answer) => return answer,
    };
    let action = format!("DELETE /api/v1/orders/{id}");
    match api.controller.store().received_orders(&[id.as_str()]).await {
        Ok(found) if found.is_empty() => {
            audit(&api, &who, action, "refused: no such order").await;
            return refusal(
                StatusCode::NOT_FOUND,
                "not_found",
                &format!("no order {id} has been received at this site"),
                &[],
            );
        }
        Ok(_) => {}
        Err(err) => {
            tracing::error!(%err, "cannot look an order up");
            return unavailable();
        }
    }
    let by = format!("api:{}", who.name);
    match api.controller.cancel_order(&id, &by).await {
        Ok(()) => {
            audit(&api, &who, action, "done").await;
            Json(json!({"order": id, "status": "cancelled"})).into_response()
        }
        Err(e) => {
            let reason = e.to_string();
            audit(&api, &who, action, &format!("refused: {reason}")).await;
            refusal(StatusCode::CONFLICT, "refused", &reason, &[])
        }
    }
}

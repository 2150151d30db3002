//! Supervisors' commands: each checked for session, CSRF token and role, run, and written to
//! the audit log whatever its outcome.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use floorctl_core::HandheldCommand;
use floorctl_protocol::order::Priority;
use floorctl_protocol::packml::Command as PackCommand;
use serde::Deserialize;

use super::auth::{Role, Session};
use super::{now_ms, refusal, Dashboard};
use crate::controller::{CommandError, Handle};
use crate::store::AuditEntry;

/// The session of a request that carries its CSRF token.
pub(super) async fn signed(
    d: &Dashboard,
    headers: &HeaderMap,
) -> Result<Session, (StatusCode, &'static str)> {
    let Some(s) = d.current(headers).await else {
        return Err((StatusCode::UNAUTHORIZED, "log in first"));
    };
    let token = headers.get("x-csrf-token").and_then(|v| v.to_str().ok());
    if token != Some(s.csrf.as_str()) {
        return Err((
            StatusCode::FORBIDDEN,
            "the request does not carry this session's CSRF token: reload the page",
        ));
    }
    Ok(s)
}

/// Runs a supervisor's command: session, CSRF token and role checked, then the command, and
/// the outcome written to the audit log (refusals too).
pub(super) async fn command<F, Fut>(
    d: &Dashboard,
    headers: &HeaderMap,
    action: String,
    run: F,
) -> Response
where
    F: FnOnce(Handle, String) -> Fut,
    Fut: std::future::Future<Output = Result<(), CommandError>>,
{
    let s = match signed(d, headers).await {
        Ok(s) => s,
        Err((status, why)) => return refusal(status, why),
    };
    let (status, outcome) = if s.role != Role::Supervisor {
        (
            StatusCode::FORBIDDEN,
            format!(
                "refused: {} has the viewer role and may not command",
                s.user
            ),
        )
    } else {
        match run(d.controller.clone(), s.user.clone()).await {
            Ok(()) => (StatusCode::OK, "done".to_string()),
            Err(CommandError::Refused(why)) => (StatusCode::CONFLICT, format!("refused: {why}")),
            Err(CommandError::Stopping) => (
                StatusCode::SERVICE_UNAVAILABLE,
                "refused: the controller is stopping".to_string(),
            ),
        }
    };
    let entry = AuditEntry {
        at: now_ms(),
        user: s.user.clone(),
        action: action.clone(),
        outcome: outcome.clone(),
    };
    if let Err(err) = d.controller.store().audit(&entry).await {
        tracing::error!(%err, user = %s.user, %action, "cannot write the audit log");
    }
    tracing::info!(user = %s.user, %action, %outcome, "dashboard command");
    let ok = status == StatusCode::OK;
    (
        status,
        Json(serde_json::json!({"ok": ok, "message": outcome})),
    )
        .into_response()
}

pub(super) async fn ack_alarm(
    State(d): State<Arc<Dashboard>>,
    headers: HeaderMap,
    Path(id): Path<u64>,
) -> Response {
    let action = format!("acknowledge alarm {id}");
    command(&d, &headers, action, |c, by| async move {
        c.acknowledge(id, &by).await
    })
    .await
}

/// Why and for how long an alarm is shelved.
#[derive(Deserialize)]
pub(super) struct ShelveBody {
    reason: String,
    minutes: u32,
}

pub(super) async fn shelve(
    State(d): State<Arc<Dashboard>>,
    headers: HeaderMap,
    Path(id): Path<u64>,
    Json(body): Json<ShelveBody>,
) -> Response {
    let action = format!(
        "shelve alarm {id} for {} min: {}",
        body.minutes,
        body.reason.trim()
    );
    command(&d, &headers, action, |c, by| async move {
        c.shelve(id, &body.reason, body.minutes, &by).await
    })
    .await
}

/// What to acknowledge at once: every waiting alarm, or every one of a source.
#[derive(Deserialize)]
pub(super) struct AckAllBody {
    #[serde(default)]
    source: Option<String>,
}

pub(super) async fn ack_all(
    State(d): State<Arc<Dashboard>>,
    headers: HeaderMap,
    Json(body): Json<AckAllBody>,
) -> Response {
    let action = match &body.source {
        Some(s) => format!("acknowledge every alarm of {s}"),
        None => "acknowledge every alarm".to_string(),
    };
    command(&d, &headers, action, |c, by| async move {
        c.acknowledge_all(body.source.as_deref(), &by).await
    })
    .await
}

pub(super) async fn equipment(
    State(d): State<Arc<Dashboard>>,
    headers: HeaderMap,
    Path((plc, name)): Path<(String, String)>,
) -> Response {
    let Some(cmd) = PackCommand::ALL
        .into_iter()
        .find(|c| c.name().eq_ignore_ascii_case(&name))
    else {
        return refusal(
            StatusCode::NOT_FOUND,
            &format!("`{name}` is not a PackML command"),
        );
    };
    let action = format!("{} {plc}", cmd.name());
    command(&d, &headers, action, |c, by| async move {
        c.equipment_command(&plc, cmd, &by).await
    })
    .await
}

pub(super) async fn wave(
    State(d): State<Arc<Dashboard>>,
    headers: HeaderMap,
    Path((cutoff, act)): Path<(String, String)>,
) -> Response {
    let held = match act.as_str() {
        "hold" => true,
        "release" => false,
        _ => return refusal(StatusCode::NOT_FOUND, "waves are held or released"),
    };
    let action = format!("{act} wave {cutoff}");
    command(&d, &headers, action, |c, by| async move {
        c.hold_wave(&cutoff, held, &by).await
    })
    .await
}

pub(super) async fn handheld(
    State(d): State<Arc<Dashboard>>,
    headers: HeaderMap,
    Path((id, act)): Path<(String, String)>,
) -> Response {
    let cmd = match act.as_str() {
        "release" => HandheldCommand::Release,
        "reset" => HandheldCommand::Reset,
        _ => {
            return refusal(
                StatusCode::NOT_FOUND,
                "a handheld's work is released or its counter reset",
            )
        }
    };
    let action = format!("{act} handheld {id}");
    command(&d, &headers, action, |c, by| async move {
        c.handheld_command(&id, cmd, &by).await
    })
    .await
}

#[derive(Deserialize)]
pub(super) struct PriorityBody {
    priority: Priority,
}

pub(super) async fn priority(
    State(d): State<Arc<Dashboard>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Json(body): Json<PriorityBody>,
) -> Response {
    let action = format!("set order {id} priority {:?}", body.priority).to_lowercase();
    command(&d, &headers, action, |c, by| async move {
        c.set_priority(&id, body.priority, &by).await
    })
    .await
}

#[derive(Deserialize)]
pub(super) struct CountBody {
    sku: String,
    location: String,
    qty: u32,
}

pub(super) async fn count(
    State(d): State<Arc<Dashboard>>,
    headers: HeaderMap,
    Json(c): Json<CountBody>,
) -> Response {
    let action = format!("count {} at {}: {}", c.sku, c.location, c.qty);
    command(&d, &headers, action, |h, by| async move {
        h.counted(&c.sku, &c.location, c.qty, &by).await
    })
    .await
}

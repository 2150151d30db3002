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

use super::action::{Action, Ending};
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
    action: Action,
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
    let (status, ending) = if s.role != Role::Supervisor {
        (StatusCode::FORBIDDEN, Ending::Viewer)
    } else {
        match run(d.controller.clone(), s.user.clone()).await {
            Ok(()) => (StatusCode::OK, Ending::Done),
            Err(CommandError::Refused(why)) => (StatusCode::CONFLICT, Ending::Refused(why.said)),
            Err(CommandError::Stopping) => (StatusCode::SERVICE_UNAVAILABLE, Ending::Stopping),
        }
    };
    let outcome = match &ending {
        Ending::Done => "done".to_string(),
        Ending::Viewer => format!(
            "refused: {} has the viewer role and may not command",
            s.user
        ),
        Ending::Refused(why) => format!("refused: {why}"),
        Ending::Stopping => "refused: the controller is stopping".to_string(),
    };
    let said = serde_json::json!({"action": &action, "outcome": &ending});
    let action = action.to_string();
    let entry = AuditEntry {
        at: now_ms(),
        user: s.user.clone(),
        action: action.clone(),
        outcome: outcome.clone(),
        said: Some(said.clone()),
    };
    if let Err(err) = d.controller.store().audit(&entry).await {
        tracing::error!(%err, user = %s.user, %action, "cannot write the audit log");
    }
    tracing::info!(user = %s.user, %action, %outcome, "dashboard command");
    let ok = status == StatusCode::OK;
    (
        status,
        Json(serde_json::json!({"ok": ok, "message": outcome, "said": said["outcome"]})),
    )
        .into_response()
}

pub(super) async fn ack_alarm(
    State(d): State<Arc<Dashboard>>,
    headers: HeaderMap,
    Path(id): Path<u64>,
) -> Response {
    let action = Action::AcknowledgeAlarm { alarm: id };
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
    let action = Action::ShelveAlarm {
        alarm: id,
        minutes: body.minutes,
        reason: body.reason.trim().to_string(),
    };
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
        Some(s) => Action::AcknowledgeAllOf { of: s.clone() },
        None => Action::AcknowledgeAll,
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
    let action = Action::Machine {
        plc: plc.clone(),
        command: cmd.name().to_string(),
    };
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
    let action = if held {
        Action::HoldWave {
            cutoff: cutoff.clone(),
        }
    } else {
        Action::ReleaseWave {
            cutoff: cutoff.clone(),
        }
    };
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
    let handheld = id.clone();
    let action = match cmd {
        HandheldCommand::Release => Action::ReleaseHandheld { handheld },
        HandheldCommand::Reset => Action::ResetHandheld { handheld },
    };
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
    let action = Action::SetPriority {
        order: id.clone(),
        priority: body.priority,
    };
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
    let action = Action::Count {
        sku: c.sku.clone(),
        location: c.location.clone(),
        qty: c.qty,
    };
    command(&d, &headers, action, |h, by| async move {
        h.counted(&c.sku, &c.location, c.qty, &by).await
    })
    .await
}

//! `GET /api/network`: every site of the network the user may see — who owns it, its state,
//! its cut-offs at risk — and the transfers between them still on their way or received short
//! or over.

use std::sync::Arc;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

use super::{refusal, Dashboard};

/// Transfers listed at most, of each kind.
const LISTED: i64 = 200;

pub(super) async fn view(State(d): State<Arc<Dashboard>>, headers: HeaderMap) -> Response {
    let Some(session) = d.current(&headers).await else {
        return refusal(StatusCode::UNAUTHORIZED, "log in first");
    };
    let store = d.controller.store();
    if !store.in_network() {
        return refusal(
            StatusCode::NOT_FOUND,
            "this site is not part of a network ([network] in its site file)",
        );
    }
    let seen = |site: &str| crate::store::covers(session.sites.as_deref(), site);
    let (sites, watched) = match tokio::try_join!(store.sites(), store.transfers_to_watch(LISTED)) {
        Ok(v) => v,
        Err(err) => {
            tracing::error!(%err, "cannot read the network's sites");
            return refusal(StatusCode::SERVICE_UNAVAILABLE, super::UNAVAILABLE);
        }
    };
    let (open, off) = watched;
    let open: Vec<_> = open
        .into_iter()
        .filter(|t| seen(&t.site) || seen(&t.dc))
        .collect();
    let off: Vec<_> = off
        .into_iter()
        .filter(|t| seen(&t.site) || seen(&t.dc))
        .collect();
    let sites: Vec<serde_json::Value> = sites
        .into_iter()
        .filter(|s| seen(&s.site))
        .map(|s| {
            let at_risk: Vec<&serde_json::Value> = s.status["waves"]
                .as_array()
                .map(|w| w.iter().filter(|w| w["at_risk"] == true).collect())
                .unwrap_or_default();
            let pending = open
                .iter()
                .filter(|t| t.site == s.site || t.dc == s.site)
                .count();
            json!({
                "site": s.site,
                "owner": s.owner,
                "owned": s.lease_left_ms > 0,
                "lease_left_ms": s.lease_left_ms,
                "status_age_ms": s.status_age_ms,
                "status": s.status,
                "at_risk": at_risk,
                "pending_transfers": pending,
            })
        })
        .collect();
    Json(json!({
        "here": d.site,
        "sites": sites,
        "pending_transfers": open,
        "discrepancies": off,
    }))
    .into_response()
}

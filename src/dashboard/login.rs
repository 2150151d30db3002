//! Logging in and out: the login form bound to its browser, failed logins made to wait, the
//! session a page asks about.

use std::sync::Arc;
use std::time::Instant;

use axum::extract::{ConnectInfo, Form, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::Json;
use serde::Deserialize;

use super::auth::{self, Role};
use super::commands::signed;
use super::{refusal, Dashboard, LOGIN, LOGIN_COOKIE};
use crate::connections::Peer;

/// The login page with `message`, and a fresh token bound to it by a cookie of its own: a
/// login posted from another site's page carries no such pair and is refused.
pub(super) fn login_form(status: StatusCode, message: &str) -> Response {
    let token = auth::token();
    let page = LOGIN
        .replace("{message}", message)
        .replace("{token}", &token);
    let cookie = format!("{LOGIN_COOKIE}={token}; Path=/login; HttpOnly; SameSite=Strict");
    let mut r = (status, Html(page)).into_response();
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        r.headers_mut().insert(header::SET_COOKIE, v);
    }
    r
}

pub(super) async fn login_page() -> Response {
    login_form(StatusCode::OK, "")
}

#[derive(Deserialize)]
pub(super) struct Login {
    user: String,
    password: String,
    /// The token the login page carried.
    #[serde(default)]
    token: String,
}

/// A hash to verify against for an unknown account, so that a wrong name costs as much time
/// as a wrong password.
pub(super) fn decoy_hash() -> String {
    static DECOY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DECOY
        .get_or_init(|| auth::hash_password("no such account here").unwrap_or_default())
        .clone()
}

pub(super) async fn login(
    State(d): State<Arc<Dashboard>>,
    ConnectInfo(Peer(peer)): ConnectInfo<Peer>,
    headers: HeaderMap,
    Form(f): Form<Login>,
) -> Response {
    if f.token.is_empty() || auth::cookie_named(&headers, LOGIN_COOKIE).as_deref() != Some(&f.token)
    {
        tracing::warn!(%peer, "dashboard login without its form's token refused");
        let why = "The login form has expired or came from elsewhere; log in again here.";
        return login_form(StatusCode::FORBIDDEN, why);
    }
    let now = Instant::now();
    let (account_key, peer_key) = (
        format!("account {}", f.user),
        format!("address {}", peer.ip()),
    );
    let wait = d
        .logins
        .wait(&account_key, now)
        .max(d.peers.wait(&peer_key, now));
    if let Some(wait) = wait {
        tracing::warn!(user = %f.user, %peer, "dashboard login refused: too many failures");
        let why = format!(
            "Too many failed logins; try again in {} s.",
            wait.as_secs().max(1)
        );
        return login_form(StatusCode::TOO_MANY_REQUESTS, &why);
    }
    let account = match d.controller.store().account(&f.user).await {
        Ok(a) => a,
        Err(err) => {
            tracing::error!(%err, "cannot read dashboard accounts");
            let why = "The database does not answer; try again shortly.";
            return login_form(StatusCode::SERVICE_UNAVAILABLE, why);
        }
    };
    let password = f.password;
    // An account limited to other sites of the network has no access here.
    let account = account.filter(|a| a.covers(&d.site));
    let disabled = account.as_ref().is_some_and(|a| a.disabled);
    let (role, hash, sites) = account.map_or_else(Default::default, |a| (a.role, a.hash, a.sites));
    let stored = hash.clone();
    let verified = tokio::task::spawn_blocking(move || {
        let hash = if hash.is_empty() { decoy_hash() } else { hash };
        auth::verify_password(&password, &hash)
    })
    .await
    .unwrap_or(false);
    if verified && disabled {
        tracing::warn!(user = %f.user, "login to a disabled dashboard account refused");
        return login_form(
            StatusCode::FORBIDDEN,
            "This account is disabled; ask whoever runs floorctl here.",
        );
    }
    match Role::from_name(&role).filter(|_| verified) {
        Some(role) => {
            d.logins.succeeded(&account_key);
            d.peers.succeeded(&peer_key);
            tracing::info!(user = %f.user, role = role.name(), "dashboard login");
            let token = d.sessions.open(&f.user, role, sites, &stored);
            let mut r = Redirect::to("/").into_response();
            if let Ok(v) = HeaderValue::from_str(&d.sessions.set_cookie(&token)) {
                r.headers_mut().insert(header::SET_COOKIE, v);
            }
            r
        }
        None => {
            tracing::warn!(user = %f.user, %peer, "dashboard login refused");
            let by_account = d.logins.failed(&account_key, now);
            let by_peer = d.peers.failed(&peer_key, now);
            for (key, failed) in [(&account_key, by_account), (&peer_key, by_peer)] {
                if failed.locked_now {
                    let source = format!("dashboard login, {key}");
                    d.controller.logins_refused(&source, failed.count).await;
                }
            }
            login_form(StatusCode::UNAUTHORIZED, "Wrong user name or password.")
        }
    }
}

pub(super) async fn logout(State(d): State<Arc<Dashboard>>, headers: HeaderMap) -> Response {
    match signed(&d, &headers).await {
        Ok(s) => tracing::info!(user = %s.user, "dashboard logout"),
        Err((status, why)) => return refusal(status, why),
    }
    d.sessions.close(&headers);
    let mut r = Redirect::to("/login").into_response();
    if let Ok(v) = HeaderValue::from_str(&auth::clear_cookie()) {
        r.headers_mut().insert(header::SET_COOKIE, v);
    }
    r
}

pub(super) async fn session(State(d): State<Arc<Dashboard>>, headers: HeaderMap) -> Response {
    match d.current(&headers).await {
        Some(s) => Json(serde_json::json!({
            "user": s.user, "role": s.role, "csrf": s.csrf, "site": d.site, "sites": s.sites,
        }))
        .into_response(),
        None => refusal(StatusCode::UNAUTHORIZED, "log in first"),
    }
}

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

/// The login page's texts, by the blank each fills in the page.
pub(super) const LOGIN_TEXTS: [(&str, &str); 4] = [
    ("{intro}", "login.intro"),
    ("{user}", "login.user"),
    ("{password}", "login.password"),
    ("{submit}", "login.submit"),
];

/// The language of a browser that has no account yet: Chinese when it asks for it first.
fn browser_language(headers: &HeaderMap) -> &'static str {
    let first = headers
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(',').next())
        .unwrap_or("");
    if first.trim().to_ascii_lowercase().starts_with("zh") {
        "zh"
    } else {
        "en"
    }
}

/// The text of `key` in `lang`, its `{name}`s filled from `params`.
fn said(lang: &str, key: &str, params: &[(&str, String)]) -> String {
    type Texts = std::collections::BTreeMap<String, String>;
    static EN: std::sync::OnceLock<Texts> = std::sync::OnceLock::new();
    static ZH: std::sync::OnceLock<Texts> = std::sync::OnceLock::new();
    let (kept, catalogue) = if lang == "zh" {
        (&ZH, super::I18N_ZH)
    } else {
        (&EN, super::I18N_EN)
    };
    let texts = kept.get_or_init(|| serde_json::from_str(catalogue).unwrap_or_default());
    let mut text = texts.get(key).cloned().unwrap_or_else(|| key.to_string());
    for (name, value) in params {
        text = text.replace(&format!("{{{name}}}"), value);
    }
    text
}

/// The login page in the browser's language with the message of `key` (none: no message),
/// and a fresh token bound to it by a cookie of its own: a login posted from another site's
/// page carries no such pair and is refused.
pub(super) fn login_form(
    status: StatusCode,
    headers: &HeaderMap,
    key: Option<&str>,
    params: &[(&str, String)],
) -> Response {
    let lang = browser_language(headers);
    let token = auth::token();
    let mut page = LOGIN
        .replace(
            "{message}",
            &key.map(|k| said(lang, k, params)).unwrap_or_default(),
        )
        .replace("{token}", &token)
        .replace("{lang}", lang);
    for (blank, key) in LOGIN_TEXTS {
        page = page.replace(blank, &said(lang, key, &[]));
    }
    let cookie = format!("{LOGIN_COOKIE}={token}; Path=/login; HttpOnly; SameSite=Strict");
    let mut r = (status, Html(page)).into_response();
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        r.headers_mut().insert(header::SET_COOKIE, v);
    }
    r
}

pub(super) async fn login_page(headers: HeaderMap) -> Response {
    login_form(StatusCode::OK, &headers, None, &[])
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
        return login_form(StatusCode::FORBIDDEN, &headers, Some("login.expired"), &[]);
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
        let s = wait.as_secs().max(1).to_string();
        return login_form(
            StatusCode::TOO_MANY_REQUESTS,
            &headers,
            Some("login.wait"),
            &[("s", s)],
        );
    }
    let account = match d.controller.store().account(&f.user).await {
        Ok(a) => a,
        Err(err) => {
            tracing::error!(%err, "cannot read dashboard accounts");
            return login_form(
                StatusCode::SERVICE_UNAVAILABLE,
                &headers,
                Some("login.unavailable"),
                &[],
            );
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
        return login_form(StatusCode::FORBIDDEN, &headers, Some("login.disabled"), &[]);
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
            login_form(StatusCode::UNAUTHORIZED, &headers, Some("login.wrong"), &[])
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
        Some(s) => {
            // Read again (not kept in the session): a language changed on another page holds.
            let language = match d.controller.store().account(&s.user).await {
                Ok(a) => a.and_then(|a| a.language),
                Err(_) => None,
            };
            Json(serde_json::json!({
                "user": s.user, "role": s.role, "csrf": s.csrf, "site": d.site, "sites": s.sites,
                "language": language,
            }))
            .into_response()
        }
        None => refusal(StatusCode::UNAUTHORIZED, "log in first"),
    }
}

/// The languages the dashboard speaks.
pub(super) const LANGUAGES: [&str; 2] = ["en", "zh"];

#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct LanguageBody {
    language: String,
}

/// Sets the language the logged-in account reads the dashboard in (any role; the page's CSRF
/// token required).
pub(super) async fn set_language(
    State(d): State<Arc<Dashboard>>,
    headers: HeaderMap,
    Json(body): Json<LanguageBody>,
) -> Response {
    let s = match super::commands::signed(&d, &headers).await {
        Ok(s) => s,
        Err((status, why)) => return refusal(status, why),
    };
    if !LANGUAGES.contains(&body.language.as_str()) {
        return refusal(
            StatusCode::BAD_REQUEST,
            "the dashboard speaks `en` (English) and `zh` (简体中文)",
        );
    }
    match d
        .controller
        .store()
        .set_language(&s.user, &body.language)
        .await
    {
        Ok(_) => Json(serde_json::json!({"ok": true, "language": body.language})).into_response(),
        Err(err) => {
            tracing::error!(%err, "cannot keep an account's language");
            refusal(StatusCode::SERVICE_UNAVAILABLE, super::UNAVAILABLE)
        }
    }
}

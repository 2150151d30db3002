//! The supervisor dashboard: a live page of the floor pushed by server-sent events, key
//! figures, and commands (acknowledge alarms, start/stop/hold lines, hold/release waves, raise
//! an order's priority, record a cycle count) for supervisors, each written to the audit log.
//!
//! Without a session only the login page and its style sheet are served. Commands need the
//! supervisor role and the session's CSRF token in `X-CSRF-Token`; a viewer's command is
//! answered 403 and changes nothing.

mod action;
pub mod auth;
mod commands;
mod live;
mod login;
mod network;
mod search;
pub mod view;

use crate::wall_clock::now_ms;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::connections::{LimitedListener, Limits, Peer};
use crate::controller::Handle;
use crate::throttle::Throttle;
use auth::{Session, Sessions};
use floorctl_core::Layout;

const INDEX: &str = include_str!("assets/index.html");
const LOGIN: &str = include_str!("assets/login.html");
const APP_JS: &str = include_str!("assets/app.js");
const STYLE: &str = include_str!("assets/style.css");
/// The page's texts, by language.
const I18N_EN: &str = include_str!("assets/i18n/en.json");
const I18N_ZH: &str = include_str!("assets/i18n/zh.json");
/// The charting library, vendored (see assets/vendor/README.md).
const UPLOT_JS: &str = include_str!("assets/vendor/uplot/uPlot.iife.min.js");
const UPLOT_CSS: &str = include_str!("assets/vendor/uplot/uPlot.min.css");

/// What every handler shares.
#[derive(Debug)]
pub struct Dashboard {
    controller: Handle,
    layout: Layout,
    site: String,
    sessions: Sessions,
    /// Failed logins by account, and by peer address.
    logins: Throttle,
    peers: Throttle,
    /// Requests a second per API service account.
    api_requests_per_s: u32,
    /// The handheld app served beside the dashboard.
    handheld: crate::handheld::App,
}

/// Failed logins an account may have in a row before each attempt waits (1 s, doubling).
const FREE_FAILURES_PER_ACCOUNT: u32 = 5;
/// The same for one address (a shared terminal, a proxy: more).
const FREE_FAILURES_PER_PEER: u32 = 20;
/// The longest wait between two attempts.
const MAX_LOGIN_WAIT: Duration = Duration::from_secs(300);
/// The cookie binding a login form to the browser that loaded it.
const LOGIN_COOKIE: &str = "floorctl_login";

impl Dashboard {
    /// A dashboard on a running controller; logins last `session`.
    pub fn new(controller: Handle, layout: Layout, site: &str, session: Duration) -> Dashboard {
        let door = controller.mqtt_door().cloned();
        Dashboard {
            controller,
            layout,
            site: site.to_string(),
            sessions: Sessions::new(session),
            logins: Throttle::new(
                FREE_FAILURES_PER_ACCOUNT,
                Duration::from_secs(1),
                MAX_LOGIN_WAIT,
            ),
            peers: Throttle::new(
                FREE_FAILURES_PER_PEER,
                Duration::from_secs(1),
                MAX_LOGIN_WAIT,
            ),
            api_requests_per_s: crate::config::DEFAULT_API_REQUESTS_PER_S,
            handheld: crate::handheld::App {
                site: site.to_string(),
                websocket_url: None,
                door,
            },
        }
    }

    /// The session a request's cookie names, while it lasts and while its account is as it was
    /// at login (same role, password and sites, still covering this site). An account changed,
    /// demoted or removed since ends all its sessions here; so does a database that does not
    /// answer, for this request.
    async fn current(&self, headers: &HeaderMap) -> Option<Session> {
        let s = self.sessions.find(headers)?;
        match self.controller.store().account(&s.user).await {
            Ok(account) => {
                let account = account.filter(|a| a.covers(&self.site) && !a.disabled);
                if s.still_holds(account.as_ref()) {
                    Some(s)
                } else {
                    tracing::info!(user = %s.user, "account changed or removed; its sessions end");
                    self.sessions.close_user(&s.user);
                    None
                }
            }
            Err(err) => {
                tracing::error!(%err, "cannot read dashboard accounts");
                None
            }
        }
    }
}

/// Connections the dashboard serves at once.
pub const MAX_CONNECTIONS: usize = 512;
/// Connections from one address (a TLS proxy in front carries every user's: many).
pub const MAX_CONNECTIONS_PER_PEER: usize = 128;
/// A connection without a byte either way this long is closed (an open page's live feed
/// sends one every 15 s).
pub const IDLE: Duration = Duration::from_secs(60);

/// Serves the dashboard on `listener` until cancelled.
pub async fn serve(listener: TcpListener, dashboard: Dashboard, cancel: CancellationToken) {
    // One file handle a connection: a tenth of the handles left.
    let limits = Limits::new(
        "dashboard",
        MAX_CONNECTIONS,
        0.1,
        MAX_CONNECTIONS_PER_PEER,
        IDLE,
    );
    let listener = LimitedListener { listener, limits };
    let app = router(Arc::new(dashboard)).into_make_service_with_connect_info::<Peer>();
    let server = axum::serve(listener, app).with_graceful_shutdown(cancel.cancelled_owned());
    if let Err(err) = server.await {
        tracing::error!(%err, "dashboard listener failed");
    }
}

/// The dashboard's routes.
pub fn router(state: Arc<Dashboard>) -> Router {
    let api = crate::api::router(Arc::new(crate::api::Api::new(
        state.controller.clone(),
        state.layout.clone(),
        &state.site,
        f64::from(state.api_requests_per_s),
    )));
    let health = crate::health::routes(state.controller.clone());
    let handheld = crate::handheld::router(state.handheld.clone());
    Router::new()
        .route("/", get(index))
        .route("/login", get(login::login_page).post(login::login))
        .route("/logout", post(login::logout))
        .route(
            "/assets/style.css",
            get(|| async { asset(STYLE, "text/css") }),
        )
        .route("/assets/app.js", get(app_js))
        .route(
            "/assets/vendor/uplot.js",
            get(|| async { asset(UPLOT_JS, "text/javascript") }),
        )
        .route(
            "/assets/vendor/uplot.css",
            get(|| async { asset(UPLOT_CSS, "text/css") }),
        )
        .route("/api/session", get(login::session))
        .route("/api/session/language", post(login::set_language))
        .route(
            "/assets/i18n/en.json",
            get(|| async { asset(I18N_EN, "application/json") }),
        )
        .route(
            "/assets/i18n/zh.json",
            get(|| async { asset(I18N_ZH, "application/json") }),
        )
        .route("/api/live", get(live::stream))
        .route("/api/audit", get(audit_log))
        .route("/api/search", get(search::search))
        .route("/api/alarms/history", get(search::alarm_history))
        .route("/api/attention", get(search::attention))
        .route("/api/network", get(network::view))
        .route("/api/alarms/{id}/ack", post(commands::ack_alarm))
        .route("/api/alarms/ack", post(commands::ack_all))
        .route("/api/alarms/{id}/shelve", post(commands::shelve))
        .route("/api/equipment/{plc}/{command}", post(commands::equipment))
        .route("/api/waves/{cutoff}/{action}", post(commands::wave))
        .route("/api/handhelds/{id}/{action}", post(commands::handheld))
        .route("/api/orders/{id}/priority", post(commands::priority))
        .route("/api/counts", post(commands::count))
        .layer(axum::middleware::map_response(security_headers))
        .with_state(state)
        .merge(api)
        .merge(health)
        .merge(handheld)
}

/// Headers on every answer: nothing from elsewhere, never in a frame, no type sniffing.
async fn security_headers(mut r: Response) -> Response {
    page_headers(
        &mut r,
        HeaderValue::from_static(
            "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
        ),
        "no-store",
    );
    r
}

/// The headers of a page floorctl serves: the content policy `csp`, never in a frame, no type
/// sniffing, no referrer; `cache` unless the answer says otherwise.
pub(crate) fn page_headers(r: &mut Response, csp: HeaderValue, cache: &'static str) {
    let h = r.headers_mut();
    h.insert(header::CONTENT_SECURITY_POLICY, csp);
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.entry(header::CACHE_CONTROL)
        .or_insert(HeaderValue::from_static(cache));
}

/// A file of a page, as `kind`.
pub(crate) fn asset(body: &'static str, kind: &'static str) -> Response {
    ([(header::CONTENT_TYPE, kind)], body).into_response()
}

async fn index(State(d): State<Arc<Dashboard>>, headers: HeaderMap) -> Response {
    match d.current(&headers).await {
        Some(_) => Html(INDEX).into_response(),
        None => Redirect::to("/login").into_response(),
    }
}

async fn app_js(State(d): State<Arc<Dashboard>>, headers: HeaderMap) -> Response {
    match d.current(&headers).await {
        Some(_) => asset(APP_JS, "text/javascript"),
        None => StatusCode::UNAUTHORIZED.into_response(),
    }
}

async fn audit_log(State(d): State<Arc<Dashboard>>, headers: HeaderMap) -> Response {
    if d.current(&headers).await.is_none() {
        return refusal(StatusCode::UNAUTHORIZED, "log in first");
    }
    match d.controller.store().audit_log(50).await {
        Ok(entries) => Json(entries).into_response(),
        Err(err) => {
            tracing::error!(%err, "cannot read the audit log");
            refusal(StatusCode::SERVICE_UNAVAILABLE, UNAVAILABLE)
        }
    }
}

/// What a user is told when the database does not answer; the log has the detail.
const UNAVAILABLE: &str = "the database does not answer; try again shortly";

fn refusal(status: StatusCode, message: &str) -> Response {
    (
        status,
        Json(serde_json::json!({"ok": false, "message": message})),
    )
        .into_response()
}

/// The addresses the dashboard and the metrics are served on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Listening {
    /// Dashboard.
    pub dashboard: Option<std::net::SocketAddr>,
    /// Prometheus metrics.
    pub metrics: Option<std::net::SocketAddr>,
}

/// A listener could not be opened.
#[derive(Debug, thiserror::Error)]
#[error("cannot serve {what} on {addr}: {source}")]
pub struct ListenError {
    /// The dashboard or the metrics.
    pub what: &'static str,
    /// The address asked for.
    pub addr: std::net::SocketAddr,
    /// Why.
    #[source]
    pub source: std::io::Error,
}

/// Binds `addr` for `what`, and says where it listens.
async fn bind(
    what: &'static str,
    addr: std::net::SocketAddr,
) -> Result<(TcpListener, std::net::SocketAddr), ListenError> {
    let error = |source| ListenError { what, addr, source };
    let listener = TcpListener::bind(addr).await.map_err(error)?;
    let local = listener.local_addr().map_err(error)?;
    Ok((listener, local))
}

/// Starts the dashboard and the metrics listener a configuration asks for, on `controller`,
/// until `cancel`.
pub async fn start(
    controller: &crate::controller::Controller,
    config: &crate::config::Config,
    cancel: &CancellationToken,
) -> Result<Listening, ListenError> {
    let settings = &config.dashboard;
    let mut listening = Listening {
        dashboard: None,
        metrics: None,
    };
    if let Some(addr) = settings.listen {
        let (listener, local) = bind("the dashboard", addr).await?;
        listening.dashboard = Some(local);
        let hours = u64::from(settings.session_hours.max(1));
        let mut d = Dashboard::new(
            controller.handle(),
            config.layout.clone(),
            &config.site,
            Duration::from_secs(hours * 3600),
        );
        d.api_requests_per_s = settings.api_requests_per_s;
        d.handheld.websocket_url = settings.handheld_websocket_url.clone();
        tokio::spawn(serve(listener, d, cancel.clone()));
    }
    if let Some(addr) = settings.metrics_listen {
        let (listener, local) = bind("metrics", addr).await?;
        listening.metrics = Some(local);
        let h = controller.handle();
        let plcs = move || h.plc_status();
        tokio::spawn(crate::telemetry::serve(
            listener,
            controller.handle(),
            controller.summary(),
            plcs,
            controller.broker(),
            cancel.clone(),
        ));
    }
    Ok(listening)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_text_of_the_page_is_in_english_and_chinese_with_the_same_blanks() {
        let problems = crate::i18n::problems(&[("en", I18N_EN), ("zh", I18N_ZH)], &[INDEX, APP_JS]);
        assert!(problems.is_empty(), "{problems:#?}");
        let said: Vec<&str> = login::LOGIN_TEXTS.iter().map(|(_, key)| *key).collect();
        for (lang, text) in [("en", I18N_EN), ("zh", I18N_ZH)] {
            let texts = crate::i18n::catalogue(text);
            for key in said.iter().chain(&[
                "login.expired",
                "login.wait",
                "login.unavailable",
                "login.disabled",
                "login.wrong",
            ]) {
                assert!(texts.contains_key(*key), "{key} in {lang}.json");
            }
        }
        for offered in login::LANGUAGES {
            assert!(
                ["en", "zh"].contains(&offered),
                "the page offers {offered}, which has no catalogue"
            );
        }
    }

    /// Problems with wording `kinds` (codes with their details) from the catalogue's `group`
    /// in both languages: a code without its text, or a text with a blank its details lack.
    fn unworded(group: &str, kinds: &[serde_json::Value]) -> Vec<String> {
        let mut problems = Vec::new();
        for (lang, text) in [("en", I18N_EN), ("zh", I18N_ZH)] {
            let texts = crate::i18n::catalogue(text);
            for said in kinds {
                let code = said["code"].as_str().unwrap();
                let params: std::collections::BTreeSet<String> = said["params"]
                    .as_object()
                    .map(|p| p.keys().cloned().collect())
                    .unwrap_or_default();
                // A machine that takes no command now is said apart.
                let none = said["params"]["accepted"]
                    .is_array()
                    .then(|| format!("{code}_none"));
                for key in std::iter::once(format!("{group}.{code}"))
                    .chain(none.map(|c| format!("{group}.{c}")))
                {
                    match texts.get(&key) {
                        None => problems.push(format!("{key} is not in {lang}.json")),
                        Some(worded) => {
                            let blanks = crate::i18n::placeholders(worded);
                            if !blanks.is_subset(&params) {
                                problems.push(format!(
                                    "{key} in {lang}.json fills in {blanks:?}, of {params:?}"
                                ));
                            }
                        }
                    }
                }
            }
        }
        problems
    }

    fn as_values<T: serde::Serialize>(kinds: Vec<T>) -> Vec<serde_json::Value> {
        kinds
            .iter()
            .map(|k| serde_json::to_value(k).unwrap())
            .collect()
    }

    #[test]
    fn every_text_the_controller_makes_is_worded_in_both_languages_from_its_details() {
        let mut problems = unworded(
            "alarm_text",
            &as_values(floorctl_core::AlarmText::every_kind()),
        );
        problems.extend(unworded(
            "refused",
            &as_values(floorctl_core::RefusalText::every_kind()),
        ));
        problems.extend(unworded("did", &as_values(action::Action::every_kind())));
        // A refusal's ending fills in its reason, worded apart (above).
        let mut endings = as_values(vec![
            action::Ending::Done,
            action::Ending::Viewer,
            action::Ending::Stopping,
        ]);
        endings.push(serde_json::json!({"code": "refused", "params": {"why": "x"}}));
        problems.extend(unworded("ending", &endings));
        // Details that are words themselves, worded from their own groups.
        let trouble = floorctl_core::LinkTrouble::ALL.map(|t| {
            let name = serde_json::to_value(t).unwrap();
            format!("link_trouble.{}", name.as_str().unwrap())
        });
        let words = trouble
            .into_iter()
            .chain(floorctl_core::PlcCondition::ALL.map(|c| format!("plc_condition.{}", c.name())))
            .chain(floorctl_protocol::packml::Command::ALL.map(|c| format!("command.{}", c.name())))
            .chain(floorctl_core::OrderStatus::ALL.map(|s| format!("status.{}", s.as_str())));
        for key in words {
            for (lang, text) in [("en", I18N_EN), ("zh", I18N_ZH)] {
                if !crate::i18n::catalogue(text).contains_key(&key) {
                    problems.push(format!("{key} is not in {lang}.json"));
                }
            }
        }
        assert!(problems.is_empty(), "{problems:#?}");
    }
}

//! The supervisor dashboard: a live page of the floor pushed by server-sent events, key
//! figures, and commands (acknowledge alarms, start/stop/hold lines, hold/release waves, raise
//! an order's priority, record a cycle count) for supervisors, each written to the audit log.
//!
//! Without a session only the login page and its style sheet are served. Commands need the
//! supervisor role and the session's CSRF token in `X-CSRF-Token`; a viewer's command is
//! answered 403 and changes nothing.

pub mod auth;
mod live;
mod network;
pub mod view;

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::extract::{ConnectInfo, Form, Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use floorctl_protocol::order::Priority;
use floorctl_protocol::packml::Command as PackCommand;
use serde::Deserialize;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::connections::{LimitedListener, Limits, Peer};
use crate::controller::{CommandError, Handle};
use crate::store::AuditEntry;
use crate::throttle::Throttle;
use auth::{Role, Session, Sessions};
use floorctl_core::{HandheldCommand, Layout, Millis};

const INDEX: &str = include_str!("assets/index.html");
const LOGIN: &str = include_str!("assets/login.html");
const APP_JS: &str = include_str!("assets/app.js");
const STYLE: &str = include_str!("assets/style.css");

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
                let account = account.filter(|a| a.covers(&self.site));
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
    Router::new()
        .route("/", get(index))
        .route("/login", get(login_page).post(login))
        .route("/logout", post(logout))
        .route(
            "/assets/style.css",
            get(|| async { asset(STYLE, "text/css") }),
        )
        .route("/assets/app.js", get(app_js))
        .route("/api/session", get(session))
        .route("/api/live", get(live::stream))
        .route("/api/audit", get(audit_log))
        .route("/api/network", get(network::view))
        .route("/api/alarms/{id}/ack", post(ack_alarm))
        .route("/api/equipment/{plc}/{command}", post(equipment))
        .route("/api/waves/{cutoff}/{action}", post(wave))
        .route("/api/handhelds/{id}/{action}", post(handheld))
        .route("/api/orders/{id}/priority", post(priority))
        .route("/api/counts", post(count))
        .layer(axum::middleware::map_response(security_headers))
        .with_state(state)
}

/// Headers on every answer: nothing from elsewhere, never in a frame, no type sniffing.
async fn security_headers(mut r: Response) -> Response {
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
        ),
    );
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
        .or_insert(HeaderValue::from_static("no-store"));
    r
}

fn asset(body: &'static str, kind: &'static str) -> Response {
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

/// The login page with `message`, and a fresh token bound to it by a cookie of its own: a
/// login posted from another site's page carries no such pair and is refused.
fn login_form(status: StatusCode, message: &str) -> Response {
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

async fn login_page() -> Response {
    login_form(StatusCode::OK, "")
}

#[derive(Deserialize)]
struct Login {
    user: String,
    password: String,
    /// The token the login page carried.
    #[serde(default)]
    token: String,
}

/// A hash to verify against for an unknown account, so that a wrong name costs as much time
/// as a wrong password.
fn decoy_hash() -> String {
    static DECOY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DECOY
        .get_or_init(|| auth::hash_password("no such account here").unwrap_or_default())
        .clone()
}

async fn login(
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
    let (role, hash, sites) = account.map_or_else(Default::default, |a| (a.role, a.hash, a.sites));
    let stored = hash.clone();
    let verified = tokio::task::spawn_blocking(move || {
        let hash = if hash.is_empty() { decoy_hash() } else { hash };
        auth::verify_password(&password, &hash)
    })
    .await
    .unwrap_or(false);
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

async fn logout(State(d): State<Arc<Dashboard>>, headers: HeaderMap) -> Response {
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

async fn session(State(d): State<Arc<Dashboard>>, headers: HeaderMap) -> Response {
    match d.current(&headers).await {
        Some(s) => Json(serde_json::json!({
            "user": s.user, "role": s.role, "csrf": s.csrf, "site": d.site, "sites": s.sites,
        }))
        .into_response(),
        None => refusal(StatusCode::UNAUTHORIZED, "log in first"),
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

fn now_ms() -> Millis {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as Millis)
}

/// The session of a request that carries its CSRF token.
async fn signed(d: &Dashboard, headers: &HeaderMap) -> Result<Session, (StatusCode, &'static str)> {
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
async fn command<F, Fut>(d: &Dashboard, headers: &HeaderMap, action: String, run: F) -> Response
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

async fn ack_alarm(
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

async fn equipment(
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

async fn wave(
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

async fn handheld(
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
struct PriorityBody {
    priority: Priority,
}

async fn priority(
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
struct CountBody {
    sku: String,
    location: String,
    qty: u32,
}

async fn count(
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

/// The addresses the dashboard and the metrics are served on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Listening {
    /// Dashboard.
    pub dashboard: Option<std::net::SocketAddr>,
    /// Prometheus metrics.
    pub metrics: Option<std::net::SocketAddr>,
}

/// Starts the dashboard and the metrics listener a configuration asks for, on `controller`,
/// until `cancel`.
pub async fn start(
    controller: &crate::controller::Controller,
    config: &crate::config::Config,
    cancel: &CancellationToken,
) -> anyhow::Result<Listening> {
    use anyhow::Context;
    let settings = &config.dashboard;
    let mut listening = Listening {
        dashboard: None,
        metrics: None,
    };
    if let Some(addr) = settings.listen {
        let listener = TcpListener::bind(addr)
            .await
            .with_context(|| format!("cannot serve the dashboard on {addr}"))?;
        listening.dashboard = Some(listener.local_addr()?);
        let hours = u64::from(settings.session_hours.max(1));
        let d = Dashboard::new(
            controller.handle(),
            config.layout.clone(),
            &config.site,
            Duration::from_secs(hours * 3600),
        );
        tokio::spawn(serve(listener, d, cancel.clone()));
    }
    if let Some(addr) = settings.metrics_listen {
        let listener = TcpListener::bind(addr)
            .await
            .with_context(|| format!("cannot serve metrics on {addr}"))?;
        listening.metrics = Some(listener.local_addr()?);
        let h = controller.handle();
        let plcs = move || h.plc_status();
        tokio::spawn(crate::telemetry::serve(
            listener,
            controller.summary(),
            plcs,
            cancel.clone(),
        ));
    }
    Ok(listening)
}

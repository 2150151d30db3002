//! The handheld app: a web app for pickers' Android scanners, served by floorctl itself under
//! `/handheld/`, speaking the handheld protocol over MQTT over WebSocket: through the embedded
//! broker's gateway at `/mqtt` on this same listener, or an external broker's WebSocket
//! listener (`mqtt.websocket_url`). The app logs in as a handheld, with the handheld's id and
//! password; the pages themselves need no login.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::ws::WebSocketUpgrade;
use axum::extract::{ConnectInfo, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};

use crate::dashboard::{asset, page_headers};
use crate::scanners::{Door, WEBSOCKET_MAX_MESSAGE, WEBSOCKET_SUBPROTOCOL};

const INDEX: &str = include_str!("assets/index.html");
const APP_JS: &str = include_str!("assets/app.js");
const STYLE: &str = include_str!("assets/app.css");
const WORKER: &str = include_str!("assets/sw.js");
const EN: &str = include_str!("assets/i18n/en.json");
const ZH: &str = include_str!("assets/i18n/zh.json");
/// The MQTT client library, vendored (see assets/vendor/README.md), plain and compressed.
const MQTT_JS: &str = include_str!("assets/vendor/mqtt/mqtt.min.js");
const MQTT_JS_GZ: &[u8] = include_bytes!("assets/vendor/mqtt/mqtt.min.js.gz");

/// The languages the app and its catalogues speak, by their file names.
pub const CATALOGUES: [(&str, &str); 2] = [("en", EN), ("zh", ZH)];

/// What the app is told about the site.
#[derive(Debug, Clone)]
pub struct App {
    /// The site id (the topics' second level).
    pub site: String,
    /// An external broker's WebSocket URL; none: the embedded broker's door on this listener.
    pub websocket_url: Option<String>,
    /// The embedded broker's door.
    pub door: Option<Door>,
}

/// The app's routes.
pub fn router(app: App) -> Router {
    let csp = csp(app.websocket_url.as_deref());
    Router::new()
        .route(
            "/handheld",
            get(|| async { axum::response::Redirect::permanent("/handheld/") }),
        )
        .route(
            "/handheld/",
            get(|| async { asset(INDEX, "text/html; charset=utf-8") }),
        )
        .route(
            "/handheld/app.js",
            get(|| async { asset(APP_JS, "text/javascript") }),
        )
        .route(
            "/handheld/app.css",
            get(|| async { asset(STYLE, "text/css") }),
        )
        .route(
            "/handheld/sw.js",
            get(|| async { asset(WORKER, "text/javascript") }),
        )
        .route(
            "/handheld/i18n/en.json",
            get(|| async { asset(EN, "application/json") }),
        )
        .route(
            "/handheld/i18n/zh.json",
            get(|| async { asset(ZH, "application/json") }),
        )
        .route("/handheld/vendor/mqtt.min.js", get(mqtt_js))
        .route("/handheld/config.json", get(config))
        .route("/mqtt", get(websocket))
        .layer(axum::middleware::map_response(move |mut r: Response| {
            let csp = csp.clone();
            async move {
                // The service worker keeps its own copy for a gap in the Wi-Fi; the browser
                // asks afresh each time.
                page_headers(&mut r, csp, "no-cache");
                r
            }
        }))
        .with_state(Arc::new(app))
}

/// Scripts and styles from here only; MQTT to here or to the site's broker.
fn csp(websocket_url: Option<&str>) -> HeaderValue {
    let connect = match websocket_url {
        Some(url) => format!("'self' {url}"),
        None => "'self'".to_string(),
    };
    HeaderValue::from_str(&format!(
        "default-src 'self'; connect-src {connect}; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
    ))
    .unwrap_or(HeaderValue::from_static("default-src 'self'"))
}

/// The MQTT library, compressed for a browser that takes gzip (every one the app runs in).
async fn mqtt_js(headers: HeaderMap) -> Response {
    let gzip = headers
        .get(header::ACCEPT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|e| e.trim().starts_with("gzip")));
    if gzip {
        (
            [
                (header::CONTENT_TYPE, "text/javascript"),
                (header::CONTENT_ENCODING, "gzip"),
                (header::VARY, "Accept-Encoding"),
            ],
            MQTT_JS_GZ,
        )
            .into_response()
    } else {
        (
            [
                (header::CONTENT_TYPE, "text/javascript"),
                (header::VARY, "Accept-Encoding"),
            ],
            MQTT_JS,
        )
            .into_response()
    }
}

async fn config(State(app): State<Arc<App>>) -> Response {
    Json(serde_json::json!({
        "site": app.site,
        "mqtt": app.websocket_url,
        "version": floorctl_protocol::scanner::SCHEMA_VERSION,
    }))
    .into_response()
}

/// MQTT over WebSocket into the embedded broker's gateway.
async fn websocket(
    State(app): State<Arc<App>>,
    ConnectInfo(peer): ConnectInfo<crate::connections::Peer>,
    upgrade: WebSocketUpgrade,
) -> Response {
    let Some(door) = app.door.clone() else {
        return (
            StatusCode::NOT_FOUND,
            "this controller uses an external MQTT broker: the handheld app connects to its WebSocket listener (mqtt.websocket_url)",
        )
            .into_response();
    };
    let peer: SocketAddr = peer.0;
    upgrade
        .protocols([WEBSOCKET_SUBPROTOCOL])
        .max_message_size(WEBSOCKET_MAX_MESSAGE)
        .max_frame_size(WEBSOCKET_MAX_MESSAGE)
        .on_upgrade(move |socket| async move { door.serve(socket, peer).await })
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;
    use crate::i18n;

    #[test]
    fn every_text_is_in_both_languages_with_the_same_blanks_and_every_refusal_code_is_said() {
        let problems = i18n::problems(&CATALOGUES, &[INDEX, APP_JS]);
        assert!(problems.is_empty(), "{problems:#?}");
        let en = i18n::catalogue(EN);
        let schema: serde_json::Value =
            serde_json::from_str(include_str!("../../docs/schemas/down.error.schema.json"))
                .unwrap();
        let cases = schema["oneOf"][0]["allOf"].as_array().unwrap();
        assert!(cases.len() > 20);
        for case in cases {
            let code = case["if"]["properties"]["code"]["const"].as_str().unwrap();
            let key = format!("refused.{code}");
            let text = en.get(&key).unwrap_or_else(|| panic!("no text for {key}"));
            let params: BTreeSet<String> = case["then"]["properties"]["params"]["properties"]
                .as_object()
                .unwrap()
                .keys()
                .cloned()
                .collect();
            let blanks = i18n::placeholders(text);
            assert!(
                blanks.is_subset(&params),
                "{key} fills in {blanks:?}, the code carries {params:?}"
            );
        }
    }

    #[test]
    fn the_page_may_reach_the_sites_broker_and_nothing_else() {
        assert_eq!(
            csp(Some("wss://broker.site:9001")).to_str().unwrap(),
            "default-src 'self'; connect-src 'self' wss://broker.site:9001; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
        );
    }
}

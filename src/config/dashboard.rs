//! The site file's `[dashboard]` section: where the dashboard and the metrics are served.

use serde::Deserialize;

/// Where the dashboard and the metrics are served.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DashboardSettings {
    /// Dashboard address; none: no dashboard.
    pub listen: Option<std::net::SocketAddr>,
    /// Prometheus metrics address; none: no metrics listener.
    pub metrics_listen: Option<std::net::SocketAddr>,
    /// Hours a dashboard login lasts.
    pub session_hours: u32,
    /// Requests a second each API service account may make, sustained (twice as many at once).
    pub api_requests_per_s: u32,
    /// Where the handheld app reaches an external broker over WebSocket (`mqtt.websocket_url`);
    /// none: the embedded broker's door on the dashboard's own listener.
    pub handheld_websocket_url: Option<String>,
}

/// The site file's `[dashboard]` section.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DashboardFile {
    /// Dashboard address, or `off`.
    pub listen: Option<String>,
    /// Metrics address, or `off`.
    pub metrics_listen: Option<String>,
    /// Hours a login lasts.
    pub session_hours: Option<u32>,
    /// Requests a second per API service account.
    pub api_requests_per_s: Option<u32>,
}

pub(super) fn default_session_hours() -> u32 {
    12
}

/// Requests a second an API service account may make unless the site file says otherwise.
pub const DEFAULT_API_REQUESTS_PER_S: u32 = 50;

/// A listener address from the site file: its default when absent, none when `off`.
fn listen_address(
    value: &Option<String>,
    default: std::net::SocketAddr,
    key: &str,
    problems: &mut Vec<String>,
) -> Option<std::net::SocketAddr> {
    match value.as_deref() {
        None => Some(default),
        Some("off") => None,
        Some(text) => match text.parse() {
            Ok(a) => Some(a),
            Err(_) => {
                problems.push(format!(
                    "[dashboard] {key} = \"{text}\" is not an address such as 127.0.0.1:8080 (or \"off\")"
                ));
                None
            }
        },
    }
}

/// The dashboard settings of a site file: served on localhost unless the file says otherwise.
pub(super) fn site_dashboard(
    file: &DashboardFile,
    problems: &mut Vec<String>,
) -> DashboardSettings {
    let hours = file.session_hours.unwrap_or(default_session_hours());
    if !(1..=168).contains(&hours) {
        problems.push(format!(
            "[dashboard] session_hours = {hours}: use 1 to 168 hours"
        ));
    }
    let rate = file
        .api_requests_per_s
        .unwrap_or(DEFAULT_API_REQUESTS_PER_S);
    if !(1..=100_000).contains(&rate) {
        problems.push(format!(
            "[dashboard] api_requests_per_s = {rate}: use 1 to 100000 requests a second"
        ));
    }
    DashboardSettings {
        listen: listen_address(
            &file.listen,
            ([127, 0, 0, 1], 8080).into(),
            "listen",
            problems,
        ),
        metrics_listen: listen_address(
            &file.metrics_listen,
            ([127, 0, 0, 1], 9464).into(),
            "metrics_listen",
            problems,
        ),
        session_hours: hours,
        api_requests_per_s: rate,
        handheld_websocket_url: None,
    }
}

impl Default for DashboardSettings {
    fn default() -> Self {
        DashboardSettings {
            listen: None,
            metrics_listen: None,
            session_hours: default_session_hours(),
            api_requests_per_s: DEFAULT_API_REQUESTS_PER_S,
            handheld_websocket_url: None,
        }
    }
}

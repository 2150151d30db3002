//! Site configuration: a TOML file, typed, every problem reported at once with how to fix it.

use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use floorctl_protocol::image::Image;
use floorctl_protocol::map::{Access, EquipmentKind, PlcMap};
use floorctl_protocol::text::{read_text, MAX_CONFIG_BYTES};
use floorctl_protocol::value::Value;
use serde::Deserialize;

pub use crate::plc::PlcSpec;
use crate::plc::{default_answer_timeout_ms, DEFAULT_RETRIES, DEFAULT_ZONE_SLEEP_MS};
pub use crate::scanners::Credentials;
use crate::store::Database;

use crate::scanners::passwd::Passwords;
use floorctl_core::routing::Warehouse;
use floorctl_core::Layout;

mod network;
mod release;
mod totes;
pub use network::{Network, NetworkFile};
pub use release::{BatchingFile, CutoffFile, ReleaseFile, WindowFile};

/// The site file as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SiteFile {
    /// Site id; appears in MQTT topics.
    pub site: String,
    /// SQLite database file holding the journal, orders and totes, relative to the site file, or
    /// a `postgres://` URL.
    pub database: Option<String>,
    /// Name of the environment variable holding the database URL (so a password stays out of
    /// the file).
    pub database_url_env: Option<String>,
    /// MQTT settings.
    #[serde(default)]
    pub mqtt: MqttFile,
    /// Supervisor dashboard and metrics.
    #[serde(default)]
    pub dashboard: DashboardFile,
    /// PLCs of the site.
    #[serde(default)]
    pub plc: Vec<PlcFile>,
    /// Dispatch lanes: lane id to its chutes, in order of preference.
    #[serde(default)]
    pub lanes: BTreeMap<String, Vec<u16>>,
    /// Delivery cut-offs in the order they fall in the day.
    #[serde(default)]
    pub cutoff: Vec<CutoffFile>,
    /// How orders are released to the floor.
    #[serde(default)]
    pub release: ReleaseFile,
    /// Pick zones: zone name to the location prefixes it covers.
    #[serde(default)]
    pub zones: BTreeMap<String, Vec<String>>,
    /// How orders are combined on a picker's cart.
    #[serde(default)]
    pub batching: BatchingFile,
    /// Sorter chute for totes that cannot go to a lane.
    pub exception_chute: u16,
    /// Sorter chute for totes coming in from the DC (default: the exception chute).
    pub inbound_chute: Option<u16>,
    /// Times a tote may go round the sorter before it goes to the exception chute.
    #[serde(default = "default_max_recirculations")]
    pub max_recirculations: u32,
    /// Bring stopped equipment to Execute (Reset, then Start) unless a supervisor stopped it.
    #[serde(default = "yes")]
    pub auto_start: bool,
    /// How long a handheld may stay offline before its unfinished work goes to another picker.
    #[serde(default = "default_handheld_timeout_ms")]
    pub handheld_timeout_ms: u64,
    /// How long a handheld holding work may send nothing before it counts as offline (its
    /// work then goes to another picker after `handheld_timeout_ms`); 0: never.
    #[serde(default = "default_handheld_silent_ms")]
    pub handheld_silent_ms: u64,
    /// Pick-area layout file (see `floorctl route`), relative to the site file; with it, lines
    /// are directed in shortest-route order through the locations its `[slots]` name.
    pub pick_area: Option<PathBuf>,
    /// Number of the first tote this site makes (default 1); sites of a network that send totes
    /// to each other number theirs apart.
    pub first_tote: Option<u32>,
    /// Number of the last tote this site makes before numbering starts again at `first_tote`
    /// (default: the largest the sorter's tote register holds).
    pub last_tote: Option<u32>,
    /// This site in a network of sites on one PostgreSQL server.
    pub network: Option<NetworkFile>,
}

fn default_handheld_silent_ms() -> u64 {
    floorctl_core::DEFAULT_HANDHELD_SILENT_MS
}

fn default_handheld_timeout_ms() -> u64 {
    30_000
}

fn default_max_recirculations() -> u32 {
    3
}

fn yes() -> bool {
    true
}

/// MQTT settings.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MqttFile {
    /// External broker as `host:port`. When absent, floorctl starts its embedded broker.
    pub broker: Option<String>,
    /// Where the embedded broker listens (default 127.0.0.1:11883, clear of a system broker on 1883).
    pub embedded_listen: Option<SocketAddr>,
    /// User name the controller logs in to an external broker with.
    pub username: Option<String>,
    /// Name of the environment variable holding that user's password (kept out of this file).
    pub password_env: Option<String>,
    /// Embedded broker: the handhelds' password file (Mosquitto's format; `floorctl passwd`
    /// writes it), relative to the site file. With it, each handheld logs in with its id and
    /// password and may use only its own topics; without it, any client is let in.
    pub handheld_passwords: Option<PathBuf>,
    /// Let the embedded broker admit handhelds without a login (a trial floor only).
    #[serde(default)]
    pub allow_anonymous: bool,
}

/// One PLC.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlcFile {
    /// Equipment id used in logs, alarms and the dashboard.
    pub id: String,
    /// Modbus TCP address `host:port`.
    pub address: SocketAddr,
    /// Modbus unit id (1 to 247).
    #[serde(default = "default_unit")]
    pub unit: u8,
    /// Register map file, relative to the site file.
    pub map: PathBuf,
    /// Poll interval overriding the map's.
    pub poll_interval_ms: Option<u64>,
    /// How long a request waits for its answer before it is sent again.
    pub answer_timeout_ms: Option<u64>,
    /// Times an unanswered request is sent again before the link is declared down.
    pub retries: Option<u32>,
    /// Setpoints written after every connect and read back: signal name = engineering value.
    #[serde(default)]
    pub setpoints: BTreeMap<String, f64>,
    /// Conveyors: a zone with nothing to carry for this long sleeps until its upstream
    /// photo-eye wakes it (0: never sleep).
    pub zone_sleep_after_ms: Option<u64>,
}

fn default_unit() -> u8 {
    1
}

/// Default embedded broker address.
pub const DEFAULT_EMBEDDED_LISTEN: &str = "127.0.0.1:11883";

/// Where the controller's MQTT client connects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Broker {
    /// Start the embedded broker and connect to it.
    Embedded {
        /// Where it listens.
        listen: SocketAddr,
        /// Handhelds' passwords; none: any client is let in.
        handhelds: Option<Passwords>,
    },
    /// Connect to an external broker.
    External {
        /// Host.
        host: String,
        /// Port.
        port: u16,
        /// User name and password, when the broker asks for them.
        credentials: Option<Credentials>,
    },
}

/// A validated configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// Site id.
    pub site: String,
    /// Database: a SQLite file or a PostgreSQL URL.
    pub database: Database,
    /// MQTT broker.
    pub broker: Broker,
    /// PLCs.
    pub plcs: Vec<PlcSpec>,
    /// Floor layout for the core.
    pub layout: Layout,
    /// Supervisor dashboard and metrics listeners.
    pub dashboard: DashboardSettings,
    /// The network of sites this one belongs to, when it does.
    pub network: Option<Network>,
}

/// Where the dashboard and the metrics are served.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DashboardSettings {
    /// Dashboard address; none: no dashboard.
    pub listen: Option<std::net::SocketAddr>,
    /// Prometheus metrics address; none: no metrics listener.
    pub metrics_listen: Option<std::net::SocketAddr>,
    /// Hours a dashboard login lasts.
    pub session_hours: u32,
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
}

fn default_session_hours() -> u32 {
    12
}

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

/// The database a site file names, directly or through an environment variable.
fn database(file: &SiteFile, problems: &mut Vec<String>) -> Database {
    let fallback = Database::Sqlite(PathBuf::from("floorctl.db"));
    match (&file.database, &file.database_url_env) {
        (Some(text), None) => Database::parse(text, Path::new("")),
        (None, Some(var)) => match std::env::var(var) {
            Ok(url) if !url.is_empty() => Database::parse(&url, Path::new("")),
            _ => {
                problems.push(format!(
                    "database_url_env = \"{var}\": the environment variable {var} is not set"
                ));
                fallback
            }
        },
        (Some(_), Some(_)) => {
            problems.push("give database or database_url_env, not both".into());
            fallback
        }
        (None, None) => {
            problems.push(
                "no database: set database = \"floorctl.db\" (or a postgres:// URL, or database_url_env)"
                    .into(),
            );
            fallback
        }
    }
}

/// The dashboard settings of a site file: served on localhost unless the file says otherwise.
fn site_dashboard(file: &DashboardFile, problems: &mut Vec<String>) -> DashboardSettings {
    let hours = file.session_hours.unwrap_or(default_session_hours());
    if !(1..=168).contains(&hours) {
        problems.push(format!(
            "[dashboard] session_hours = {hours}: use 1 to 168 hours"
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
    }
}

impl Default for DashboardSettings {
    fn default() -> Self {
        DashboardSettings {
            listen: None,
            metrics_listen: None,
            session_hours: default_session_hours(),
        }
    }
}

/// A refused configuration: every problem, each with how to fix it.
#[derive(Debug, thiserror::Error)]
#[error("{} has {} problem(s):\n  - {}", path, problems.len(), problems.join("\n  - "))]
pub struct ConfigError {
    /// The file.
    pub path: String,
    /// One line per problem.
    pub problems: Vec<String>,
}

impl Config {
    /// Reads and validates a site file; map paths are relative to the file's folder.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let err = |problems| ConfigError {
            path: path.display().to_string(),
            problems,
        };
        let text = read_text(path, MAX_CONFIG_BYTES)
            .map_err(|e| err(vec![format!("cannot read the file: {e}")]))?;
        let mut file: SiteFile = toml::from_str(&text).map_err(|e| err(vec![e.to_string()]))?;
        let base = path.parent().unwrap_or(Path::new("."));
        if let Some(p) = &mut file.mqtt.handheld_passwords {
            *p = base.join(&*p);
        }
        let mut config = Config::from_file(
            file,
            |p| PlcMap::load(&base.join(p)).map_err(|e| e.to_string()),
            |p| {
                let text = read_text(&base.join(p), MAX_CONFIG_BYTES)
                    .map_err(|e| vec![format!("cannot read {}: {e}", p.display())])?;
                Warehouse::parse(&text)
            },
        )
        .map_err(err)?;
        if let Database::Sqlite(p) = &config.database {
            config.database = Database::Sqlite(base.join(p));
        }
        Ok(config)
    }

    /// Validates a parsed site file, loading maps with `load_map` and the pick area with
    /// `load_area`.
    pub fn from_file(
        file: SiteFile,
        load_map: impl Fn(&Path) -> Result<PlcMap, String>,
        load_area: impl Fn(&Path) -> Result<Warehouse, Vec<String>>,
    ) -> Result<Config, Vec<String>> {
        let mut problems = Vec::new();
        let warehouse = match &file.pick_area {
            None => None,
            Some(p) => match load_area(p) {
                Ok(w) => Some(w),
                Err(e) => {
                    problems.extend(
                        e.into_iter()
                            .map(|e| format!("pick_area {}: {e}", p.display())),
                    );
                    None
                }
            },
        };
        if file.site.is_empty() || file.site.contains(['/', '+', '#']) {
            problems.push(format!(
                "site `{}` must be non-empty and free of / + #: it is an MQTT topic level",
                file.site
            ));
        }
        let default_listen = || DEFAULT_EMBEDDED_LISTEN.parse().expect("valid default");
        let handhelds = match &file.mqtt.handheld_passwords {
            Some(_) if file.mqtt.broker.is_some() => {
                problems.push("mqtt.handheld_passwords is for the embedded broker; an external broker checks logins with its own password file (see deploy/mosquitto)".into());
                None
            }
            Some(path) => match Passwords::load(path) {
                Ok(p) => Some(p),
                Err(e) => {
                    problems.extend(
                        e.into_iter()
                            .map(|e| format!("mqtt.handheld_passwords: {e}")),
                    );
                    None
                }
            },
            None if file.mqtt.broker.is_none() && !file.mqtt.allow_anonymous => {
                problems.push("the embedded broker refuses anonymous handhelds: set mqtt.handheld_passwords (lines made with `floorctl passwd`), or mqtt.allow_anonymous = true for a trial floor".into());
                None
            }
            None => None,
        };
        let broker = match (&file.mqtt.broker, file.mqtt.embedded_listen) {
            (Some(b), _) => match b.rsplit_once(':').map(|(h, p)| (h, p.parse::<u16>())) {
                Some((host, Ok(port))) if !host.is_empty() => Broker::External {
                    host: host.into(),
                    port,
                    credentials: match (&file.mqtt.username, &file.mqtt.password_env) {
                        (None, None) => None,
                        (Some(username), Some(var)) => match std::env::var(var) {
                            Ok(password) => Some(Credentials {
                                username: username.clone(),
                                password,
                            }),
                            Err(_) => {
                                problems.push(format!(
                                    "mqtt.password_env names `{var}`, which is not set: export the broker password in it"
                                ));
                                None
                            }
                        },
                        _ => {
                            problems.push(
                                "mqtt.username and mqtt.password_env go together: give both or neither".into(),
                            );
                            None
                        }
                    },
                },
                _ => {
                    problems.push(format!(
                        "mqtt.broker `{b}` must be host:port, for example 127.0.0.1:1883"
                    ));
                    Broker::Embedded {
                        listen: default_listen(),
                        handhelds: None,
                    }
                }
            },
            (None, listen) => Broker::Embedded {
                listen: listen.unwrap_or_else(default_listen),
                handhelds,
            },
        };
        let mut plcs = Vec::new();
        let mut ids = BTreeSet::new();
        let mut conveyors = Vec::new();
        let mut sorter_chutes = None;
        let mut tote_register: Option<(String, floorctl_protocol::value::SignalType)> = None;
        for p in &file.plc {
            if !ids.insert(p.id.clone()) {
                problems.push(format!(
                    "plc id `{}` is used twice; give each PLC its own id",
                    p.id
                ));
            }
            if p.unit == 0 || p.unit > 247 {
                problems.push(format!(
                    "plc `{}`: unit {} is outside 1..=247",
                    p.id, p.unit
                ));
            }
            if p.poll_interval_ms == Some(0) {
                problems.push(format!(
                    "plc `{}`: poll_interval_ms must be at least 1",
                    p.id
                ));
            }
            if p.answer_timeout_ms == Some(0) || p.answer_timeout_ms > Some(60_000) {
                problems.push(format!(
                    "plc `{}`: answer_timeout_ms must be 1 to 60000",
                    p.id
                ));
            }
            if p.retries > Some(10) {
                problems.push(format!("plc `{}`: retries must be 0 to 10", p.id));
            }
            match load_map(&p.map) {
                Ok(map) => {
                    problems.extend(setpoint_problems(&p.id, &map, &p.setpoints));
                    match map.kind {
                        EquipmentKind::Conveyor => conveyors.push(p.id.clone()),
                        EquipmentKind::Sorter => {
                            if sorter_chutes.is_some() {
                                problems.push(format!(
                                    "plc `{}`: a second sorter; one sorter per site is supported",
                                    p.id
                                ));
                            }
                            sorter_chutes = map.signal("chute_full").map(|s| s.count);
                            tote_register = map.signal("induct_tote").map(|s| (p.id.clone(), s.ty));
                        }
                    }
                    let poll_interval_ms = p.poll_interval_ms.unwrap_or(map.poll_interval_ms);
                    plcs.push(PlcSpec {
                        id: p.id.clone(),
                        address: p.address,
                        unit: p.unit,
                        poll_interval_ms,
                        answer_timeout_ms: p
                            .answer_timeout_ms
                            .unwrap_or(default_answer_timeout_ms(poll_interval_ms)),
                        retries: p.retries.unwrap_or(DEFAULT_RETRIES),
                        setpoints: p.setpoints.clone(),
                        zone_sleep_after_ms: p.zone_sleep_after_ms.unwrap_or(DEFAULT_ZONE_SLEEP_MS),
                        map,
                    });
                }
                Err(e) => problems.push(format!("plc `{}`: map {}: {e}", p.id, p.map.display())),
            }
        }
        if conveyors.len() != 1 {
            problems.push(format!(
                "exactly one conveyor PLC is needed for closed totes, found {}; add a [[plc]] whose map is of kind conveyor",
                conveyors.len()
            ));
        }
        let chutes = sorter_chutes.unwrap_or_else(|| {
            problems.push("no sorter PLC: add a [[plc]] whose map is of kind sorter".into());
            0
        });
        let chute_ok = |c: u16| (1..=chutes).contains(&c);
        if let Some(c) = file.inbound_chute.filter(|c| chutes > 0 && !chute_ok(*c)) {
            problems.push(format!(
                "inbound_chute {c} is not a chute of the sorter (1..={chutes})"
            ));
        }
        if chutes > 0 && !chute_ok(file.exception_chute) {
            problems.push(format!(
                "exception_chute {} is not a chute of the sorter (1..={chutes})",
                file.exception_chute
            ));
        }
        for (lane, cs) in &file.lanes {
            if cs.is_empty() {
                problems.push(format!("lane `{lane}` has no chutes; list at least one"));
            }
            for c in cs {
                if chutes > 0 && !chute_ok(*c) {
                    problems.push(format!(
                        "lane `{lane}`: chute {c} is not a chute of the sorter (1..={chutes})"
                    ));
                }
            }
        }
        if file.cutoff.is_empty() {
            problems.push(
                "no [[cutoff]]: add at least one, for example name = \"11:00\", lane = \"PM\""
                    .into(),
            );
        }
        let mut names = BTreeSet::new();
        for c in &file.cutoff {
            if !names.insert(&c.name) {
                problems.push(format!("cut-off `{}` is listed twice", c.name));
            }
            if !file.lanes.contains_key(&c.lane) {
                problems.push(format!(
                    "cut-off `{}` names lane `{}`, which is not under [lanes]",
                    c.name, c.lane
                ));
            }
        }
        let cutoffs = release::cutoffs(&file.cutoff, &mut problems);
        let release = release::release(&file.release, &file.zones, &mut problems);
        let batching = release::batching(&file.batching, &mut problems);
        let dashboard = site_dashboard(&file.dashboard, &mut problems);
        let database = database(&file, &mut problems);
        let network = file.network.as_ref().map(|n| {
            let names: Vec<&str> = file.cutoff.iter().map(|c| c.name.as_str()).collect();
            let postgres = matches!(database, Database::Postgres(_));
            network::network(n, &file.site, postgres, &names, &mut problems)
        });
        let (first_tote, last_tote) = totes::tote_numbers(
            file.first_tote,
            file.last_tote,
            tote_register.as_ref().map(|(plc, ty)| (plc.as_str(), *ty)),
            &mut problems,
        );
        if !problems.is_empty() {
            return Err(problems);
        }
        Ok(Config {
            site: file.site,
            database,
            broker,
            layout: Layout {
                cutoffs,
                lanes: file.lanes,
                exception_chute: file.exception_chute,
                pick_conveyor: conveyors.remove(0),
                max_recirculations: file.max_recirculations,
                auto_start: file.auto_start,
                handheld_timeout_ms: file.handheld_timeout_ms,
                handheld_silent_ms: file.handheld_silent_ms,
                warehouse,
                release,
                batching,
                offer_trips: file.batching.offer_trips,
                inbound_chute: file.inbound_chute,
                first_tote,
                last_tote,
            },
            plcs,
            dashboard,
            network,
        })
    }
}

/// Setpoints must name writable numeric signals and hold values their registers can carry.
fn setpoint_problems(plc: &str, map: &PlcMap, setpoints: &BTreeMap<String, f64>) -> Vec<String> {
    let mut problems = Vec::new();
    for (name, value) in setpoints {
        let Some(s) = map.signal(name) else {
            problems.push(format!(
                "plc `{plc}`: setpoint `{name}` is not a signal of map {}",
                map.model
            ));
            continue;
        };
        if s.access != Access::ReadWrite || !s.ty.is_numeric() {
            problems.push(format!(
                "plc `{plc}`: setpoint `{name}` must be a numeric read-write signal; it is a {} with access {:?}",
                s.ty, s.access
            ));
            continue;
        }
        if let Err(e) = Image::encode_value(s, &Value::Number(*value)) {
            problems.push(format!("plc `{plc}`: setpoint `{name}` = {value}: {e}"));
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The example with its maps and password file named by absolute paths, to be written
    /// anywhere.
    fn portable_example() -> String {
        let root = concat!("\"", env!("CARGO_MANIFEST_DIR"), "/");
        example()
            .replace("\"plc-maps/", &format!("{root}plc-maps/"))
            .replace("\"deploy/", &format!("{root}deploy/"))
    }

    fn example() -> String {
        std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/floorctl.example.toml"
        ))
        .unwrap()
    }

    #[cfg(unix)]
    #[test]
    fn files_without_end_are_refused_not_read_until_memory_runs_out() {
        let dir = tempfile::tempdir().unwrap();
        let site = dir.path().join("site.toml");
        let endless = portable_example()
            .replacen("map = \"", "map = \"/dev/zero\" # ", 1)
            .replacen(
                "handheld_passwords = \"",
                "handheld_passwords = \"/dev/zero\" # \"",
                1,
            );
        std::fs::write(&site, endless).unwrap();
        let problems = Config::load(&site).unwrap_err().problems;
        assert!(
            problems
                .iter()
                .any(|p| p.contains("/dev/zero") && p.contains("larger than")),
            "{problems:?}"
        );
        let whole = Config::load(Path::new("/dev/zero")).unwrap_err().problems;
        assert!(whole[0].contains("larger than"), "{whole:?}");
    }

    #[test]
    fn the_example_config_is_valid() {
        let c = Config::load(Path::new(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/floorctl.example.toml"
        )))
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(c.plcs.len(), 2);
        assert_eq!(c.layout.pick_conveyor, "cv1");
        assert!(matches!(c.broker, Broker::Embedded { .. }));
        assert_eq!(
            c.database,
            Database::Sqlite(Path::new(env!("CARGO_MANIFEST_DIR")).join("floorctl.db")),
            "relative to the site file"
        );
        assert_eq!(c.dashboard.listen, Some(([127, 0, 0, 1], 8080).into()));
        assert_eq!(
            c.dashboard.metrics_listen,
            Some(([127, 0, 0, 1], 9464).into())
        );
    }

    #[test]
    fn the_database_is_a_file_a_url_or_a_url_from_the_environment() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("site.toml");
        let with = |line: &str| {
            let text = portable_example().replace("database = \"floorctl.db\"", line);
            std::fs::write(&path, text).unwrap();
            Config::load(&path)
        };
        let url = "postgres://floor@127.0.0.1:5432/site";
        let c = with(&format!("database = \"{url}\"")).unwrap();
        assert_eq!(c.database, Database::Postgres(url.into()));
        std::env::set_var("FLOORCTL_TEST_DB_URL_FOR_CONFIG", url);
        let c = with("database_url_env = \"FLOORCTL_TEST_DB_URL_FOR_CONFIG\"").unwrap();
        assert_eq!(c.database, Database::Postgres(url.into()));
        let err = with("database_url_env = \"FLOORCTL_NO_SUCH_VARIABLE\"").unwrap_err();
        assert!(
            err.problems
                .join("\n")
                .contains("FLOORCTL_NO_SUCH_VARIABLE is not set"),
            "{err}"
        );
        let err = with("").unwrap_err();
        assert!(err.problems.join("\n").contains("no database"), "{err}");
    }

    #[test]
    fn the_embedded_broker_refuses_anonymous_handhelds_unless_told() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("site.toml");
        let without =
            portable_example().replace("handheld_passwords = ", "# handheld_passwords = ");
        let with = |extra: &str| {
            let text = without.replace("[mqtt]", &format!("[mqtt]\n{extra}"));
            std::fs::write(&path, text).unwrap();
            Config::load(&path)
        };
        let err = with("").unwrap_err();
        assert!(
            err.problems
                .join("\n")
                .contains("refuses anonymous handhelds"),
            "{err}"
        );
        assert!(with("allow_anonymous = true").is_ok());
    }

    #[test]
    fn the_dashboard_can_be_moved_or_turned_off_and_a_bad_address_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("site.toml");
        let with = |section: &str| {
            let text =
                portable_example().replace("[dashboard]", &format!("[dashboard]\n{section}"));
            std::fs::write(&path, text).unwrap();
            Config::load(&path)
        };
        let c = with("listen = \"0.0.0.0:9000\"\nmetrics_listen = \"off\"").unwrap();
        assert_eq!(c.dashboard.listen, Some(([0, 0, 0, 0], 9000).into()));
        assert_eq!(c.dashboard.metrics_listen, None);
        let err = with("listen = \"localhost\"\nsession_hours = 0").unwrap_err();
        let all = err.problems.join("\n");
        assert!(
            all.contains("listen = \"localhost\" is not an address"),
            "{all}"
        );
        assert!(all.contains("session_hours = 0"), "{all}");
    }

    #[test]
    fn every_problem_is_listed_with_how_to_fix_it() {
        let text = example()
            .replace("lane = \"AM\"", "lane = \"NIGHT\"")
            .replace("exception_chute = 8", "exception_chute = 12")
            .replace("unit = 1", "unit = 0");
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("site.toml");
        std::fs::write(&path, text.replace("../plc-maps", "/nonexistent")).unwrap();
        let err = Config::load(&path).unwrap_err();
        let all = err.problems.join("\n");
        assert!(all.contains("lane `NIGHT`"), "{all}");
        assert!(all.contains("unit 0"), "{all}");
        assert!(all.contains("cannot read"), "{all}");
        assert!(err.problems.len() >= 4, "{all}");
    }

    #[test]
    fn a_plc_answer_timeout_and_retries_are_read_and_checked() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("site.toml");
        let with = |extra: &str| {
            let text = portable_example().replacen("unit = 1", &format!("unit = 1\n{extra}"), 1);
            std::fs::write(&path, text).unwrap();
            Config::load(&path)
        };
        let c = with("answer_timeout_ms = 2500\nretries = 4").unwrap();
        assert_eq!((c.plcs[0].answer_timeout_ms, c.plcs[0].retries), (2500, 4));
        assert_eq!(
            (c.plcs[1].answer_timeout_ms, c.plcs[1].retries),
            (1000, DEFAULT_RETRIES),
            "defaults: four poll intervals, at least a second"
        );
        let all = with("answer_timeout_ms = 0\nretries = 11")
            .unwrap_err()
            .problems
            .join("\n");
        assert!(
            all.contains("answer_timeout_ms must be 1 to 60000"),
            "{all}"
        );
        assert!(all.contains("retries must be 0 to 10"), "{all}");
    }

    #[test]
    fn release_settings_are_checked() {
        let text = example()
            .replace("sorted_by = \"13:30\"", "sorted_by = \"1:30pm\"")
            .replace("# wip_per_zone = 0", "wip_per_zone = 4")
            .replace("# utc_offset = \"+01:00\"", "utc_offset = \"CET\"");
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("site.toml");
        let text = text.replace(
            "plc-maps/",
            &format!("{}/plc-maps/", env!("CARGO_MANIFEST_DIR")),
        );
        std::fs::write(&path, text).unwrap();
        let all = Config::load(&path).unwrap_err().problems.join("\n");
        assert!(
            all.contains("cut-off `11:00`: sorted_by: `1:30pm` is not a time of day"),
            "{all}"
        );
        assert!(
            all.contains("wip_per_zone caps zones, but [zones] names none"),
            "{all}"
        );
        assert!(all.contains("utc_offset `CET`"), "{all}");
        let c = Config::load(Path::new(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/floorctl.example.toml"
        )))
        .unwrap();
        assert_eq!(
            c.layout.cutoffs[1]
                .sorted_by
                .map(|t| t.to_string())
                .as_deref(),
            Some("21:00")
        );
    }

    #[test]
    fn an_unknown_key_is_refused() {
        let file = example().replace("exception_chute = 8", "exception_chute = 8\nexeption = 1");
        assert!(toml::from_str::<SiteFile>(&file)
            .unwrap_err()
            .to_string()
            .contains("exeption"));
    }
}

//! Site configuration: a TOML file, typed, every problem reported at once with how to fix it.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use floorctl_protocol::map::PlcMap;
use floorctl_protocol::text::{read_text, MAX_CONFIG_BYTES};
use serde::Deserialize;

pub use crate::plc::PlcSpec;
pub use crate::scanners::Credentials;
use crate::store::Database;

use floorctl_core::routing::Warehouse;
use floorctl_core::Layout;

mod dashboard;
mod lane_rules;
mod mqtt;
mod network;
mod plcs;
mod release;
mod topology;
mod totes;
pub use dashboard::{DashboardFile, DashboardSettings, DEFAULT_API_REQUESTS_PER_S};
pub use lane_rules::LaneRuleFile;
pub use mqtt::{Broker, MqttFile, DEFAULT_EMBEDDED_LISTEN};
pub use network::{Network, NetworkFile};
pub use plcs::PlcFile;
pub use release::{BatchingFile, CutoffFile, ReleaseFile, WindowFile};
pub use topology::MergeFile;

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
    /// Merges where conveyors join on their way to a sorter.
    #[serde(default)]
    pub merge: Vec<MergeFile>,
    /// Dispatch lanes: lane id to its chutes, in order of preference.
    #[serde(default)]
    pub lanes: BTreeMap<String, toml::Spanned<Vec<u16>>>,
    /// Delivery cut-offs in the order they fall in the day.
    #[serde(default)]
    pub cutoff: Vec<CutoffFile>,
    /// Rules choosing an order's lane by its cut-off, destination and priority, in order.
    #[serde(default)]
    pub lane_rule: Vec<LaneRuleFile>,
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
    /// How alarms are shown.
    #[serde(default)]
    pub alarms: AlarmsFile,
}

/// The site file's `[alarms]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlarmsFile {
    /// Priority (high, medium or low) by alarm kind, over the defaults.
    #[serde(default)]
    pub priorities: BTreeMap<String, floorctl_core::AlarmPriority>,
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
            &text,
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

    /// Validates a parsed site file (`text` is what it was parsed from, for the lines problems
    /// are on), loading maps with `load_map` and the pick area with `load_area`.
    pub fn from_file(
        file: SiteFile,
        text: &str,
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
        let broker = mqtt::broker(&file.mqtt, &mut problems);
        let plcs::Plcs {
            specs: plcs,
            conveyors,
            sorters,
            tote_register,
        } = plcs::plcs(&file.plc, load_map, &mut problems);
        if conveyors.is_empty() {
            problems.push(
                "no conveyor PLC for closed totes: add a [[plc]] whose map is of kind conveyor"
                    .into(),
            );
        }
        if sorters.is_empty() {
            problems.push("no sorter PLC: add a [[plc]] whose map is of kind sorter".into());
        }
        let names: Vec<&str> = file.cutoff.iter().map(|c| c.name.as_str()).collect();
        let lines = topology::Lines(text);
        let lane_rules =
            lane_rules::lane_rules(&file.lane_rule, &file.lanes, &names, &lines, &mut problems);
        let lanes_used: Vec<(String, &str)> = file
            .cutoff
            .iter()
            .map(|c| (format!("cut-off {}", c.name), c.lane.as_str()))
            .chain(
                file.lane_rule
                    .iter()
                    .map(|r| ("a lane rule".to_string(), r.lane.get_ref().as_str())),
            )
            .collect();
        let topology = topology::topology(
            &lines,
            &conveyors
                .iter()
                .map(|p| topology::ConveyorNode {
                    id: &p.id,
                    feeds: p.feeds.as_ref(),
                })
                .collect::<Vec<_>>(),
            &sorters
                .iter()
                .map(|(p, chutes)| topology::SorterNode {
                    id: &p.id,
                    chutes: *chutes,
                    first_chute: p.first_chute,
                    exception_chute: p.exception_chute,
                    feeds: p.feeds.as_ref(),
                })
                .collect::<Vec<_>>(),
            &file.merge,
            &topology::SiteChutes {
                lanes: &file.lanes,
                used: &lanes_used,
                exception_chute: file.exception_chute,
                inbound_chute: file.inbound_chute,
            },
            &mut problems,
        );
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
        let mut zone_conveyors = BTreeMap::new();
        for p in &file.plc {
            let conveyor = conveyors.iter().any(|c| c.id == p.id);
            for zone in &p.zones {
                if !conveyor {
                    problems.push(format!(
                        "plc `{}`: zones are a conveyor's (where the zone's pickers put totes)",
                        p.id
                    ));
                } else if !file.zones.contains_key(zone) {
                    problems.push(format!(
                        "plc `{}`: zone `{zone}` is not under [zones]",
                        p.id
                    ));
                } else if let Some(other) = zone_conveyors.insert(zone.clone(), p.id.clone()) {
                    problems.push(format!(
                        "zone `{zone}` is given to conveyors `{other}` and `{}`; its totes go on one",
                        p.id
                    ));
                }
            }
        }
        let cutoffs = release::cutoffs(&file.cutoff, &mut problems);
        let release = release::release(&file.release, &file.zones, &mut problems);
        let batching = release::batching(&file.batching, &mut problems);
        let mut dashboard = dashboard::site_dashboard(&file.dashboard, &mut problems);
        dashboard.handheld_websocket_url = mqtt::websocket_url(&file.mqtt, &mut problems);
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
        for kind in file.alarms.priorities.keys() {
            if !floorctl_core::ALARM_KINDS.contains(&kind.as_str()) {
                problems.push(format!(
                    "[alarms] priorities: `{kind}` is no alarm kind; the kinds are {}",
                    floorctl_core::ALARM_KINDS.join(", ")
                ));
            }
        }
        if !problems.is_empty() {
            return Err(problems);
        }
        Ok(Config {
            site: file.site,
            database,
            broker,
            layout: Layout {
                cutoffs,
                lanes: file
                    .lanes
                    .into_iter()
                    .map(|(lane, chutes)| (lane, chutes.into_inner()))
                    .collect(),
                exception_chute: file.exception_chute,
                pick_conveyor: topology.entries.into_iter().next().unwrap_or_default(),
                zone_conveyors,
                sorters: topology.sorters,
                lane_rules,
                lines: topology.lines,
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
                alarm_priorities: file.alarms.priorities,
            },
            plcs,
            dashboard,
            network,
        })
    }
}

#[cfg(test)]
mod tests;

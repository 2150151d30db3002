//! The site file's `[[plc]]` entries: each checked and its map loaded into a [`PlcSpec`].

use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use floorctl_protocol::id::PlcId;
use floorctl_protocol::image::Image;
use floorctl_protocol::map::{Access, EquipmentKind, PlcMap};
use floorctl_protocol::value::{SignalType, Value};
use serde::Deserialize;

use crate::plc::{default_answer_timeout_ms, PlcSpec, DEFAULT_RETRIES, DEFAULT_ZONE_SLEEP_MS};

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
    /// Conveyors: the sorter, merge or conveyor its totes go on to (default: the site's only
    /// sorter).
    pub feeds: Option<toml::Spanned<String>>,
    /// Sorters: the number of its first chute in the site's numbering (default 1), so that a
    /// floor with several sorters gives each chute a number of its own.
    pub first_chute: Option<u16>,
    /// Sorters: its own exception chute, one of its chutes (default: the site's).
    pub exception_chute: Option<u16>,
    /// Conveyors: the pick zones (of `[zones]`) whose pickers put their totes on it.
    #[serde(default)]
    pub zones: Vec<String>,
}

fn default_unit() -> u8 {
    1
}

/// The PLCs of a site file and what the rest of the file is checked against.
pub(super) struct Plcs<'a> {
    /// Every PLC whose map loaded.
    pub(super) specs: Vec<PlcSpec>,
    /// The conveyors' entries, in file order.
    pub(super) conveyors: Vec<&'a PlcFile>,
    /// The sorters' entries with the chutes each map has.
    pub(super) sorters: Vec<(&'a PlcFile, u16)>,
    /// The sorter whose tote register holds the fewest numbers, and its type.
    pub(super) tote_register: Option<(String, SignalType)>,
}

/// Checks each PLC entry and loads its map with `load_map`, adding problems to `problems`.
pub(super) fn plcs<'a>(
    files: &'a [PlcFile],
    load_map: impl Fn(&Path) -> Result<PlcMap, String>,
    problems: &mut Vec<String>,
) -> Plcs<'a> {
    let mut plcs = Vec::new();
    let mut ids = BTreeSet::new();
    let mut conveyors = Vec::new();
    let mut sorters = Vec::new();
    let mut tote_register: Option<(String, SignalType)> = None;
    for p in files {
        if let Err(e) = PlcId::try_from(p.id.as_str()) {
            problems.push(format!("plc id: {e}"));
        }
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
                    EquipmentKind::Conveyor => {
                        conveyors.push(p);
                        if p.first_chute.is_some() || p.exception_chute.is_some() {
                            problems.push(format!(
                                "plc `{}` is a conveyor: first_chute and exception_chute are a sorter's",
                                p.id
                            ));
                        }
                    }
                    EquipmentKind::Sorter => {
                        sorters.push((p, map.signal("chute_full").map_or(0, |s| s.count)));
                        if let Some(s) = map.signal("induct_tote") {
                            let fewer = tote_register.as_ref().is_none_or(|(_, ty)| {
                                super::totes::largest(s.ty) < super::totes::largest(*ty)
                            });
                            if fewer {
                                tote_register = Some((p.id.clone(), s.ty));
                            }
                        }
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
                    first_chute: p.first_chute.unwrap_or(1),
                    map,
                });
            }
            Err(e) => problems.push(format!("plc `{}`: map {}: {e}", p.id, p.map.display())),
        }
    }
    Plcs {
        specs: plcs,
        conveyors,
        sorters,
        tote_register,
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

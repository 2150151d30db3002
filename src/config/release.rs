//! The site file's release settings: cut-off times, pacing, zones, pre-pick and the local clock.

use std::collections::BTreeMap;

use serde::Deserialize;

use floorctl_core::{BatchPolicy, Batching, Cutoff, LocalClock, Release, TimeOfDay};

/// One delivery cut-off.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CutoffFile {
    /// Name orders carry, for example `11:00`.
    pub name: String,
    /// Lane its totes are sorted to.
    pub lane: String,
    /// `HH:MM`: orders arriving without a cut-off before this time get this one.
    pub ordered_before: Option<String>,
    /// `HH:MM`: every tote of the cut-off must be in its lane by then.
    pub sorted_by: Option<String>,
}

/// `[release]`: how orders are released to the floor.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReleaseFile {
    /// Release an order this many minutes before its cut-off's `sorted_by` (default 180).
    pub lead_minutes: Option<u64>,
    /// Orders being picked at once per zone; 0 or absent: no cap.
    #[serde(default)]
    pub wip_per_zone: u32,
    /// Pick rate assumed per picker until one is measured (default 120).
    pub lines_per_picker_hour: Option<u32>,
    /// Minutes from a tote's close to its lane, allowed for when projecting (default 10).
    pub sort_minutes: Option<u64>,
    /// Daily window in which every known order is released, e.g. `{ from = "20:00", to = "05:00" }`.
    pub prepick: Option<WindowFile>,
    /// The site's local time against UTC, `+01:00` (default `Z`: UTC).
    pub utc_offset: Option<String>,
}

/// A daily window.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WindowFile {
    /// `HH:MM`.
    pub from: String,
    /// `HH:MM`.
    pub to: String,
}

/// Reads the cut-offs, listing what is wrong in `problems`.
pub(super) fn cutoffs(file: &[CutoffFile], problems: &mut Vec<String>) -> Vec<Cutoff> {
    let mut time = |c: &CutoffFile, key: &str, value: &Option<String>| {
        value.as_deref().and_then(|v| {
            TimeOfDay::parse(v)
                .map_err(|e| problems.push(format!("cut-off `{}`: {key}: {e}", c.name)))
                .ok()
        })
    };
    file.iter()
        .map(|c| Cutoff {
            name: c.name.clone(),
            lane: c.lane.clone(),
            ordered_before: time(c, "ordered_before", &c.ordered_before),
            sorted_by: time(c, "sorted_by", &c.sorted_by),
        })
        .collect()
}

/// Reads `[release]` and `[zones]`, listing what is wrong in `problems`.
pub(super) fn release(
    file: &ReleaseFile,
    zones: &BTreeMap<String, Vec<String>>,
    problems: &mut Vec<String>,
) -> Release {
    let d = Release::default();
    let mut time = |key: &str, v: &str| {
        TimeOfDay::parse(v)
            .map_err(|e| problems.push(format!("[release] prepick.{key}: {e}")))
            .ok()
    };
    let prepick = file.prepick.as_ref().and_then(|w| {
        let (from, to) = (time("from", &w.from), time("to", &w.to));
        from.zip(to)
    });
    if prepick.is_some_and(|(f, t)| f == t) {
        problems.push(
            "[release] prepick: from and to are the same time; the window would be empty".into(),
        );
    }
    let clock = match file.utc_offset.as_deref().map(LocalClock::parse) {
        None => LocalClock::default(),
        Some(Ok(c)) => c,
        Some(Err(e)) => {
            problems.push(format!("[release] {e}"));
            LocalClock::default()
        }
    };
    if file.lines_per_picker_hour == Some(0) {
        problems.push("[release] lines_per_picker_hour must be above 0".into());
    }
    let mut by_prefix: Vec<(String, String)> = Vec::new();
    for (zone, prefixes) in zones {
        if prefixes.is_empty() {
            problems.push(format!("zone `{zone}` lists no location prefix"));
        }
        for p in prefixes {
            if p.is_empty() {
                problems.push(format!(
                    "zone `{zone}`: an empty prefix would take every location"
                ));
            } else if let Some((_, other)) = by_prefix.iter().find(|(q, _)| q == p) {
                problems.push(format!(
                    "prefix `{p}` is listed under zones `{other}` and `{zone}`"
                ));
            } else {
                by_prefix.push((p.clone(), zone.clone()));
            }
        }
    }
    by_prefix.sort_by_key(|(p, _)| std::cmp::Reverse(p.len()));
    if file.wip_per_zone > 0 && by_prefix.is_empty() {
        problems.push(
            "[release] wip_per_zone caps zones, but [zones] names none: add for example A = [\"A-\"]"
                .into(),
        );
    }
    Release {
        lead_ms: file.lead_minutes.map_or(d.lead_ms, |m| m * 60_000),
        wip_per_zone: file.wip_per_zone,
        zones: by_prefix,
        lines_per_picker_hour: file
            .lines_per_picker_hour
            .unwrap_or(d.lines_per_picker_hour),
        sort_allowance_ms: file
            .sort_minutes
            .map_or(d.sort_allowance_ms, |m| m * 60_000),
        prepick,
        clock,
    }
}

/// `[batching]`: how orders are combined on a picker's cart.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BatchingFile {
    /// `single` (default), `fcfs` or `seed`.
    pub policy: Option<String>,
    /// Totes a cart carries, one order each (default 1; 4 when a policy other than single is set).
    pub totes_per_cart: Option<usize>,
    /// Lines a trip may hold; an order is never split (default: no limit).
    pub max_lines: Option<usize>,
    /// Offer each trip to the picker, who accepts it, before its first direction (default false).
    #[serde(default)]
    pub offer_trips: bool,
}

/// Reads `[batching]`, listing what is wrong in `problems`.
pub(super) fn batching(file: &BatchingFile, problems: &mut Vec<String>) -> Batching {
    let policy = match file.policy.as_deref() {
        None => BatchPolicy::Single,
        Some(name) => BatchPolicy::from_name(name).unwrap_or_else(|| {
            problems.push(format!(
                "[batching] policy `{name}` is not one of single, fcfs, seed"
            ));
            BatchPolicy::Single
        }),
    };
    let default_totes = if policy == BatchPolicy::Single { 1 } else { 4 };
    let totes_per_cart = file.totes_per_cart.unwrap_or(default_totes);
    if totes_per_cart == 0 {
        problems.push("[batching] totes_per_cart must be at least 1".into());
    }
    if file.max_lines == Some(0) {
        problems.push("[batching] max_lines must be at least 1".into());
    }
    Batching {
        policy,
        totes_per_cart: totes_per_cart.max(1),
        max_lines: file.max_lines.unwrap_or(usize::MAX),
    }
}

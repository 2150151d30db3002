//! Pick routing in a single-block warehouse of parallel aisles between a front and a back
//! cross-aisle, with the depot on the front cross-aisle.
//!
//! Geometry: aisle `i` (from 1, at the depot's left end) runs along `x = (i - 1) × pitch`. A pick's
//! position is measured from the front cross-aisle's centre line, so the back cross-aisle's
//! centre line is at `aisle_length + cross_aisle_width` (passing through an aisle from one centre
//! line to the other costs that much). Walking happens along aisle and cross-aisle centre lines.

mod heuristics;
mod optimal;
#[cfg(test)]
mod tests;

use std::fmt;

use serde::{Deserialize, Serialize};

/// The warehouse as routing sees it.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Warehouse {
    /// Number of parallel aisles.
    pub aisles: u32,
    /// Length of an aisle's racks, metres.
    pub aisle_length_m: f64,
    /// Distance between two neighbouring aisles' centre lines, metres.
    pub aisle_pitch_m: f64,
    /// Width of each cross-aisle, metres.
    pub cross_aisle_width_m: f64,
    /// Where the depot is on the front cross-aisle's centre line, metres from aisle 1's centre
    /// line (0: in front of aisle 1).
    #[serde(default)]
    pub depot_m: f64,
    /// Storage locations by code, each an aisle and a position in it.
    #[serde(default)]
    pub slots: std::collections::BTreeMap<String, Pick>,
}

/// One stop: an aisle and a position in it.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Pick {
    /// Aisle, from 1.
    pub aisle: u32,
    /// Metres from the front cross-aisle's centre line.
    pub position_m: f64,
}

/// A routing policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Policy {
    /// Traverse every aisle with picks in turn; an odd last aisle is entered and left from the front.
    SShape,
    /// Enter every aisle with picks from the front and return.
    Return,
    /// First and last aisles traversed; the others picked from the front up to the middle and
    /// from the back beyond it.
    Midpoint,
    /// As midpoint, but each aisle is split at its largest gap between picks.
    LargestGap,
    /// Aisle by aisle, traverse or return, whichever leaves the shorter walk to the next aisle.
    Combined,
    /// The shortest route (Ratliff and Rosenthal's dynamic program).
    Optimal,
}

impl Policy {
    /// Every policy.
    pub const ALL: [Policy; 6] = [
        Policy::SShape,
        Policy::Return,
        Policy::Midpoint,
        Policy::LargestGap,
        Policy::Combined,
        Policy::Optimal,
    ];

    /// The name used on the command line and in reports.
    pub fn name(self) -> &'static str {
        match self {
            Policy::SShape => "s-shape",
            Policy::Return => "return",
            Policy::Midpoint => "midpoint",
            Policy::LargestGap => "largest-gap",
            Policy::Combined => "combined",
            Policy::Optimal => "optimal",
        }
    }

    /// The policy of this name.
    pub fn from_name(name: &str) -> Option<Policy> {
        Policy::ALL.into_iter().find(|p| p.name() == name)
    }
}

impl fmt::Display for Policy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A route: the picks in the order they are visited and the distance walked from the depot
/// back to it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Route {
    /// Metres.
    pub length_m: f64,
    /// Indexes into the picks given, in visiting order.
    pub order: Vec<usize>,
}

/// Why picks cannot be routed in a warehouse.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum RouteError {
    /// The layout itself is wrong.
    #[error("layout: {0}")]
    Layout(String),
    /// A pick outside the layout.
    #[error("pick {index}: {reason}")]
    Pick {
        /// Index in the picks given.
        index: usize,
        /// What is wrong.
        reason: String,
    },
}

impl Warehouse {
    /// Every problem with the layout, each with how to fix it.
    pub fn problems(&self) -> Vec<String> {
        let mut p = Vec::new();
        if self.aisles == 0 {
            p.push("aisles is 0: give the number of aisles".to_string());
        }
        for (name, v) in [
            ("aisle_length_m", self.aisle_length_m),
            ("aisle_pitch_m", self.aisle_pitch_m),
        ] {
            if !(v.is_finite() && v > 0.0) {
                p.push(format!("{name} is {v}: give a positive length in metres"));
            }
        }
        if !(self.cross_aisle_width_m.is_finite() && self.cross_aisle_width_m >= 0.0) {
            p.push(format!(
                "cross_aisle_width_m is {}: give a length in metres, 0 or more",
                self.cross_aisle_width_m
            ));
        }
        let width = f64::from(self.aisles.saturating_sub(1)) * self.aisle_pitch_m;
        if !(self.depot_m.is_finite() && (0.0..=width).contains(&self.depot_m)) {
            p.push(format!(
                "depot_m is {}: the depot must be on the front cross-aisle, 0 to {width} m",
                self.depot_m
            ));
        }
        if p.is_empty() {
            for (code, slot) in &self.slots {
                if let Some(reason) = self.pick_problem(*slot) {
                    p.push(format!("slot {code}: {reason}"));
                }
            }
        }
        p
    }

    /// Reads a layout file's text, listing every problem.
    pub fn parse(text: &str) -> Result<Warehouse, Vec<String>> {
        let w: Warehouse = toml::from_str(text).map_err(|e| vec![e.to_string()])?;
        let problems = w.problems();
        if problems.is_empty() {
            Ok(w)
        } else {
            Err(problems)
        }
    }

    /// Why a pick is not in this warehouse, if it is not.
    fn pick_problem(&self, p: Pick) -> Option<String> {
        let (lo, hi) = (
            self.cross_aisle_width_m / 2.0,
            self.cross_aisle_width_m / 2.0 + self.aisle_length_m,
        );
        if p.aisle == 0 || p.aisle > self.aisles {
            Some(format!(
                "aisle {} is not one of 1 to {}",
                p.aisle, self.aisles
            ))
        } else if !(p.position_m.is_finite() && (lo..=hi).contains(&p.position_m)) {
            Some(format!(
                "position {} m is outside the aisle's racks ({lo} to {hi} m from the front cross-aisle's centre line)",
                p.position_m
            ))
        } else {
            None
        }
    }

    /// Distance between the front and back cross-aisles' centre lines through an aisle.
    pub fn through(&self) -> f64 {
        self.aisle_length_m + self.cross_aisle_width_m
    }

    /// x of an aisle's centre line.
    pub fn x(&self, aisle: u32) -> f64 {
        f64::from(aisle - 1) * self.aisle_pitch_m
    }

    /// Checks the layout and every pick.
    pub fn check(&self, picks: &[Pick]) -> Result<(), RouteError> {
        let problems = self.problems();
        if !problems.is_empty() {
            return Err(RouteError::Layout(problems.join("; ")));
        }
        for (index, p) in picks.iter().enumerate() {
            if let Some(reason) = self.pick_problem(*p) {
                return Err(RouteError::Pick { index, reason });
            }
        }
        Ok(())
    }

    /// The shortest walk between two points of the warehouse (picks, or the depot as
    /// `aisle: 0` with its position on the front cross-aisle).
    pub fn distance(&self, a: Stop, b: Stop) -> f64 {
        let h = self.through();
        let dx = (a.x - b.x).abs();
        if a.aisle.is_some() && a.aisle == b.aisle {
            return (a.p - b.p).abs();
        }
        (a.p + dx + b.p).min((h - a.p) + dx + (h - b.p))
    }

    /// The route of `policy` through `picks`.
    pub fn route(&self, picks: &[Pick], policy: Policy) -> Result<Route, RouteError> {
        self.check(picks)?;
        if picks.is_empty() {
            return Ok(Route {
                length_m: 0.0,
                order: Vec::new(),
            });
        }
        Ok(match policy {
            Policy::Optimal => optimal::route(self, picks),
            heuristic => heuristics::route(self, picks, heuristic),
        })
    }

    /// The depot as a stop.
    pub fn depot(&self) -> Stop {
        Stop {
            aisle: None,
            x: self.depot_m,
            p: 0.0,
        }
    }

    /// A pick as a stop.
    pub fn stop(&self, p: Pick) -> Stop {
        Stop {
            aisle: Some(p.aisle),
            x: self.x(p.aisle),
            p: p.position_m,
        }
    }
}

/// A point a route passes: in an aisle (`aisle`), or on the front cross-aisle (`aisle: None`,
/// `p` 0), at `x` along the cross-aisles and `p` from the front centre line.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Stop {
    /// The aisle it is in, if any.
    pub aisle: Option<u32>,
    /// Along the cross-aisles.
    pub x: f64,
    /// From the front cross-aisle's centre line.
    pub p: f64,
}

/// Reads picks as CSV with the header `aisle,position_m`, listing every bad row.
pub fn parse_picks(text: &str) -> Result<Vec<Pick>, Vec<String>> {
    let mut lines = text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty());
    let header: Vec<&str> = match lines.next() {
        Some((_, h)) => h.split(',').map(str::trim).collect(),
        None => {
            return Err(vec![
                "the file is empty: give a header `aisle,position_m` and one row per pick".into(),
            ])
        }
    };
    let col = |name: &str| header.iter().position(|h| *h == name);
    let (Some(a), Some(p)) = (col("aisle"), col("position_m")) else {
        return Err(vec![format!(
            "line 1: the header must name `aisle` and `position_m`, found {header:?}"
        )]);
    };
    let mut picks = Vec::new();
    let mut problems = Vec::new();
    for (n, line) in lines {
        let cells: Vec<&str> = line.split(',').map(str::trim).collect();
        let aisle = cells.get(a).and_then(|c| c.parse::<u32>().ok());
        let position_m = cells.get(p).and_then(|c| c.parse::<f64>().ok());
        match (aisle, position_m) {
            (Some(aisle), Some(position_m)) => picks.push(Pick { aisle, position_m }),
            _ => problems.push(format!(
                "line {}: `{line}` needs a whole aisle number and a position in metres",
                n + 1
            )),
        }
    }
    if problems.is_empty() {
        Ok(picks)
    } else {
        Err(problems)
    }
}

/// Picks grouped by aisle, each aisle's sorted by position, as (aisle, [(position, index)]).
fn by_aisle(picks: &[Pick]) -> Vec<(u32, Vec<(f64, usize)>)> {
    let mut aisles: std::collections::BTreeMap<u32, Vec<(f64, usize)>> = Default::default();
    for (i, p) in picks.iter().enumerate() {
        aisles.entry(p.aisle).or_default().push((p.position_m, i));
    }
    aisles
        .into_iter()
        .map(|(a, mut v)| {
            v.sort_by(|x, y| x.0.total_cmp(&y.0).then(x.1.cmp(&y.1)));
            (a, v)
        })
        .collect()
}

//! The site file's `[[lane_rule]]`s: an order's lane chosen by its cut-off, destination and
//! priority (route R3 for the 11:00 cut-off to its own chutes, urgent medicine to the priority
//! chute), the first rule it matches winning over its cut-off's lane.

use floorctl_core::LaneRule;
use floorctl_protocol::id::Destination;
use floorctl_protocol::order::Priority;
use serde::Deserialize;
use toml::Spanned;

use super::topology::{Lanes, Lines};

/// One `[[lane_rule]]` as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LaneRuleFile {
    /// Orders of this cut-off.
    pub cutoff: Option<String>,
    /// Orders for this destination.
    pub destination: Option<String>,
    /// Orders of this priority (`urgent` or `normal`).
    pub priority: Option<Priority>,
    /// The lane their totes go to.
    pub lane: Spanned<String>,
}

/// The rules, each checked: a lane under `[lanes]`, a cut-off of the site, a destination that is
/// an identifier, at least one condition.
pub(super) fn lane_rules(
    files: &[LaneRuleFile],
    lanes: &Lanes,
    cutoffs: &[&str],
    lines: &Lines,
    problems: &mut Vec<String>,
) -> Vec<LaneRule> {
    let mut rules = Vec::new();
    for f in files {
        let line = lines.at(f.lane.span().start);
        let lane = f.lane.get_ref();
        let mut say = |text: String| problems.push(format!("line {line}: [[lane_rule]] {text}"));
        if !lanes.contains_key(lane) {
            say(format!("names lane `{lane}`, which is not under [lanes]"));
        }
        if let Some(c) = f.cutoff.as_ref().filter(|c| !cutoffs.contains(&c.as_str())) {
            say(format!(
                "names cut-off `{c}`, which is no [[cutoff]] of this site"
            ));
        }
        if let Some(Err(e)) = f.destination.as_deref().map(Destination::try_from) {
            say(format!("destination: {e}"));
        }
        if f.cutoff.is_none() && f.destination.is_none() && f.priority.is_none() {
            say(format!(
                "to lane `{lane}` has no condition: give it a cutoff, a destination or a priority"
            ));
        }
        rules.push(LaneRule {
            cutoff: f.cutoff.clone(),
            destination: f.destination.clone(),
            priority: f.priority,
            lane: lane.clone(),
        });
    }
    rules
}

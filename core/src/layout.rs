//! The floor layout the core decides with, and the chute assignment rule.

use std::collections::{BTreeMap, BTreeSet};

use floorctl_protocol::order::{Order, Priority};

use super::batching::Batching;
use super::release::{Cutoff, Release};

/// Dispatch lanes, cut-offs and equipment ids, as configured for the site.
#[derive(Debug, Clone, PartialEq)]
pub struct Layout {
    /// Cut-offs in the order they fall in the day, each with the lane its totes go to.
    pub cutoffs: Vec<Cutoff>,
    /// Chutes of each dispatch lane, in order of preference.
    pub lanes: BTreeMap<String, Vec<u16>>,
    /// Chute for totes the sorter must not send to a lane (unknown tote, no lane).
    pub exception_chute: u16,
    /// Conveyor pickers put closed totes on, unless their zone has its own.
    pub pick_conveyor: String,
    /// The conveyor of each pick zone (a zone of `release.zones`): a trip ending in the zone
    /// takes its totes there.
    pub zone_conveyors: BTreeMap<String, String>,
    /// Times a tote may go round the sorter before it is sent to the exception chute.
    pub max_recirculations: u32,
    /// Whether the controller brings stopped equipment to Execute by itself (Reset, then Start)
    /// unless a supervisor stopped it.
    pub auto_start: bool,
    /// How long a handheld may stay offline before its unfinished work goes to another picker.
    pub handheld_timeout_ms: u64,
    /// How long a handheld holding work may be silent (no message at all) before it counts as
    /// offline, whether or not its broker published a last will (0: never).
    pub handheld_silent_ms: u64,
    /// The pick area, when known: an order's lines are then directed in the order of the
    /// shortest route through their locations.
    pub warehouse: Option<super::routing::Warehouse>,
    /// How orders are released to the floor.
    pub release: Release,
    /// How orders are combined on a picker's cart.
    pub batching: Batching,
    /// Whether a trip is offered to the picker, who accepts it, before its first direction.
    pub offer_trips: bool,
    /// Chute for totes coming in from the DC (transfers), whose stock is put away from there;
    /// default the exception chute.
    pub inbound_chute: Option<u16>,
    /// Number of the first tote the site makes.
    pub first_tote: u32,
    /// Number of the last tote the site makes before it starts again at `first_tote`: the
    /// largest the sorter's tote register holds, or less.
    pub last_tote: u32,
    /// Alarm priorities the site sets, by kind, over the defaults.
    pub alarm_priorities: BTreeMap<String, super::AlarmPriority>,
    /// Each sorter's chutes in the site's numbering, and its own exception chute. Empty: every
    /// sorter has every chute (one sorter, or sorters numbered alike).
    pub sorters: BTreeMap<String, SorterChutes>,
    /// Rules choosing an order's lane by its cut-off, destination and priority, in order: the
    /// first an order matches gives its lane; none: its cut-off's lane.
    pub lane_rules: Vec<LaneRule>,
    /// The floor's lines as the site file connects them: each sorter with the conveyors whose
    /// totes reach it, in the site file's order. Empty: not said (one line).
    pub lines: BTreeMap<String, Vec<String>>,
}

/// A rule giving the orders it matches a lane: each condition it sets must hold (a rule sets
/// at least one).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LaneRule {
    /// The order's cut-off.
    pub cutoff: Option<String>,
    /// The order's destination (a route, a van, a locker bank, a pickup point, a site).
    pub destination: Option<String>,
    /// The order's priority.
    pub priority: Option<Priority>,
    /// The lane its totes go to.
    pub lane: String,
}

impl LaneRule {
    /// Whether `order` meets every condition of the rule.
    pub fn matches(&self, order: &Order) -> bool {
        self.cutoff.as_ref().is_none_or(|c| *c == order.cutoff)
            && self
                .destination
                .as_ref()
                .is_none_or(|d| order.destination.as_ref() == Some(d))
            && self.priority.is_none_or(|p| p == order.priority)
    }
}

/// A sorter's chutes, numbered the site's way (a floor numbers its chutes once, across its
/// sorters), and the chute it sends totes that have no lane to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SorterChutes {
    /// Its first chute.
    pub first: u16,
    /// Its last chute.
    pub last: u16,
    /// Its exception chute, one of its own.
    pub exception: u16,
}

/// How long a handheld holding work may be silent by default: no picker goes five minutes
/// without a scan mid-pick.
pub const DEFAULT_HANDHELD_SILENT_MS: u64 = 300_000;

impl Layout {
    /// A layout with nothing configured (no cut-offs, lanes or equipment).
    pub fn empty() -> Layout {
        Layout {
            cutoffs: Vec::new(),
            lanes: BTreeMap::new(),
            exception_chute: 0,
            pick_conveyor: String::new(),
            zone_conveyors: BTreeMap::new(),
            max_recirculations: 0,
            auto_start: false,
            handheld_timeout_ms: 0,
            handheld_silent_ms: 0,
            warehouse: None,
            release: Release::default(),
            batching: Batching::default(),
            offer_trips: false,
            inbound_chute: None,
            first_tote: 1,
            last_tote: u32::MAX,
            alarm_priorities: BTreeMap::new(),
            sorters: BTreeMap::new(),
            lane_rules: Vec::new(),
            lines: BTreeMap::new(),
        }
    }

    /// The lane of a cut-off.
    pub fn cutoff_lane(&self, cutoff: &str) -> Option<&str> {
        self.cutoffs
            .iter()
            .find(|c| c.name == cutoff)
            .map(|c| c.lane.as_str())
    }

    /// The lane an order's totes go to: the first lane rule it matches, else its cut-off's lane;
    /// `None` when neither gives one (an unknown cut-off).
    pub fn lane_of(&self, order: &Order) -> Option<&str> {
        match self.lane_rules.iter().find(|r| r.matches(order)) {
            Some(rule) => Some(rule.lane.as_str()),
            None => self.cutoff_lane(&order.cutoff),
        }
    }

    /// The conveyor totes picked last at `location` go on: its zone's, else the pick conveyor.
    pub fn conveyor_for(&self, location: &str) -> &str {
        self.release
            .zone_of(location)
            .and_then(|z| self.zone_conveyors.get(z))
            .unwrap_or(&self.pick_conveyor)
    }

    /// Whether `chute` is one of `lane`'s.
    pub fn lane_has(&self, lane: &str, chute: u16) -> bool {
        self.lanes.get(lane).is_some_and(|cs| cs.contains(&chute))
    }

    /// Whether `chute` is one of `sorter`'s.
    pub fn on_sorter(&self, sorter: &str, chute: u16) -> bool {
        self.sorters
            .get(sorter)
            .is_none_or(|s| (s.first..=s.last).contains(&chute))
    }

    /// Every exception chute of the site.
    pub fn exception_chutes(&self) -> Vec<u16> {
        let mut chutes: Vec<u16> = std::iter::once(self.exception_chute)
            .chain(self.sorters.values().map(|s| s.exception))
            .collect();
        chutes.sort_unstable();
        chutes.dedup();
        chutes
    }

    /// The chute `sorter` sends totes that have no lane to.
    pub fn exception_for(&self, sorter: &str) -> u16 {
        self.sorters
            .get(sorter)
            .map_or(self.exception_chute, |s| s.exception)
    }

    /// Position of a cut-off in the day, or `None` when it is not configured.
    pub fn cutoff_rank(&self, cutoff: &str) -> Option<usize> {
        self.cutoffs.iter().position(|c| c.name == cutoff)
    }

    /// The chute on `sorter` for a tote going to `lane`: the first chute of the lane on that
    /// sorter that is not full.
    pub fn chute_for(&self, sorter: &str, lane: Option<&str>, full: &BTreeSet<u16>) -> ChuteChoice {
        let Some(lane) = lane else {
            return ChuteChoice::Exception;
        };
        let mut here = self
            .lanes
            .get(lane)
            .map(Vec::as_slice)
            .unwrap_or_default()
            .iter()
            .filter(|c| self.on_sorter(sorter, **c))
            .peekable();
        if here.peek().is_none() {
            return ChuteChoice::NotOnSorter;
        }
        match here.find(|c| !full.contains(c)) {
            Some(&c) => ChuteChoice::Lane(c),
            None => ChuteChoice::LaneFull,
        }
    }

    /// Whether `chute` is a chute of some lane or the exception chute.
    pub fn knows_chute(&self, chute: u16) -> bool {
        chute == self.exception_chute
            || self.sorters.values().any(|s| s.exception == chute)
            || Some(chute) == self.inbound_chute
            || self.lanes.values().any(|l| l.contains(&chute))
    }

    /// Whether `chute` belongs to the lane of `cutoff`.
    pub fn in_lane(&self, cutoff: &str, chute: u16) -> bool {
        self.cutoffs
            .iter()
            .find(|c| c.name == cutoff)
            .and_then(|c| self.lanes.get(&c.lane))
            .is_some_and(|chutes| chutes.contains(&chute))
    }
}

/// Where a tote should go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChuteChoice {
    /// A chute of its lane.
    Lane(u16),
    /// Every chute of its lane is full.
    LaneFull,
    /// It has no lane: the exception chute.
    Exception,
    /// Its lane has no chute on this sorter: the sorter's exception chute.
    NotOnSorter,
}

/// A small layout for tests: cut-off 11:00 to lane PM (chutes 1, 2), 17:00 to AM (chute 3).
#[cfg(test)]
pub(super) fn test_layout() -> Layout {
    Layout {
        cutoffs: vec![
            Cutoff::untimed("11:00", "PM"),
            Cutoff::untimed("17:00", "AM"),
        ],
        lanes: BTreeMap::from([("PM".into(), vec![1, 2]), ("AM".into(), vec![3])]),
        exception_chute: 8,
        pick_conveyor: "cv1".into(),
        zone_conveyors: BTreeMap::new(),
        max_recirculations: 2,
        auto_start: true,
        handheld_timeout_ms: 10_000,
        handheld_silent_ms: 0,
        warehouse: None,
        release: Release::default(),
        batching: Batching::default(),
        offer_trips: false,
        inbound_chute: None,
        first_tote: 1,
        last_tote: u32::MAX,
        alarm_priorities: BTreeMap::new(),
        sorters: BTreeMap::new(),
        lane_rules: Vec::new(),
        lines: BTreeMap::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn layout() -> Layout {
        test_layout()
    }

    #[test]
    fn a_tote_goes_to_the_first_free_chute_of_its_cutoffs_lane() {
        let l = layout();
        assert_eq!(
            l.chute_for("s1", l.cutoff_lane("11:00"), &BTreeSet::new()),
            ChuteChoice::Lane(1)
        );
        assert_eq!(
            l.chute_for("s1", l.cutoff_lane("11:00"), &BTreeSet::from([1])),
            ChuteChoice::Lane(2)
        );
        assert_eq!(
            l.chute_for("s1", l.cutoff_lane("17:00"), &BTreeSet::from([1])),
            ChuteChoice::Lane(3)
        );
    }

    #[test]
    fn a_full_lane_recirculates_and_an_unknown_cutoff_goes_to_exceptions() {
        let l = layout();
        assert_eq!(
            l.chute_for("s1", l.cutoff_lane("17:00"), &BTreeSet::from([3])),
            ChuteChoice::LaneFull
        );
        assert_eq!(
            l.chute_for("s1", l.cutoff_lane("09:00"), &BTreeSet::new()),
            ChuteChoice::Exception
        );
    }

    #[test]
    fn a_tote_goes_to_its_lanes_chutes_on_the_sorter_it_is_on() {
        let mut l = layout();
        l.lanes = BTreeMap::from([("PM".into(), vec![1, 9, 10]), ("AM".into(), vec![3])]);
        l.sorters = BTreeMap::from([
            (
                "s1".into(),
                SorterChutes {
                    first: 1,
                    last: 8,
                    exception: 8,
                },
            ),
            (
                "s2".into(),
                SorterChutes {
                    first: 9,
                    last: 16,
                    exception: 16,
                },
            ),
        ]);
        assert_eq!(
            l.chute_for("s1", l.cutoff_lane("11:00"), &BTreeSet::new()),
            ChuteChoice::Lane(1)
        );
        assert_eq!(
            l.chute_for("s2", l.cutoff_lane("11:00"), &BTreeSet::new()),
            ChuteChoice::Lane(9)
        );
        assert_eq!(
            l.chute_for("s2", l.cutoff_lane("11:00"), &BTreeSet::from([9])),
            ChuteChoice::Lane(10)
        );
        assert_eq!(
            l.chute_for("s1", l.cutoff_lane("11:00"), &BTreeSet::from([1])),
            ChuteChoice::LaneFull,
            "a full lane on this sorter is not passed to another sorter's chutes"
        );
        assert_eq!(
            l.chute_for("s2", l.cutoff_lane("17:00"), &BTreeSet::new()),
            ChuteChoice::NotOnSorter
        );
        assert_eq!((l.exception_for("s1"), l.exception_for("s2")), (8, 16));
        assert_eq!(l.exception_for("elsewhere"), l.exception_chute);
        assert!(l.knows_chute(16) && !l.knows_chute(17));
    }

    #[test]
    fn a_lane_rule_sends_an_orders_totes_by_destination_and_priority_before_its_cutoff() {
        let mut l = layout();
        l.lanes.insert("R3".into(), vec![5, 6]);
        l.lanes.insert("URGENT".into(), vec![7]);
        let rule =
            |cutoff: Option<&str>, destination: Option<&str>, priority, lane: &str| LaneRule {
                cutoff: cutoff.map(String::from),
                destination: destination.map(String::from),
                priority,
                lane: lane.into(),
            };
        l.lane_rules = vec![
            rule(None, None, Some(Priority::Urgent), "URGENT"),
            rule(Some("11:00"), Some("R3"), None, "R3"),
        ];
        let order = |cutoff: &str, destination: Option<&str>, priority| Order {
            destination: destination.map(String::from),
            priority,
            ..Order::one_line("o", cutoff, "S", 1, "A")
        };
        assert_eq!(
            l.lane_of(&order("11:00", Some("R3"), Priority::Normal)),
            Some("R3")
        );
        assert_eq!(
            l.lane_of(&order("11:00", Some("R3"), Priority::Urgent)),
            Some("URGENT")
        );
        assert_eq!(
            l.lane_of(&order("17:00", Some("R3"), Priority::Normal)),
            Some("AM"),
            "route R3 for another cut-off: that cut-off's lane"
        );
        assert_eq!(
            l.lane_of(&order("11:00", None, Priority::Normal)),
            Some("PM")
        );
        assert_eq!(l.lane_of(&order("09:00", None, Priority::Normal)), None);
        assert_eq!(
            l.chute_for("s1", Some("R3"), &BTreeSet::from([5])),
            ChuteChoice::Lane(6)
        );
        assert!(l.lane_has("R3", 6) && !l.lane_has("PM", 6));
    }
}

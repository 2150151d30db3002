use std::collections::BTreeMap;

use floorctl_protocol::order::{Order, OrderLine};
use floorctl_protocol::scanner::{ScanWhat, Task, Up, UpBody, SCHEMA_VERSION};

use super::*;

pub(super) fn layout() -> Layout {
    layout::test_layout()
}

pub(super) fn order(id: &str, cutoff: &str, lines: u32) -> Event {
    Event::OrderReceived {
        order: Order {
            id: id.into(),
            cutoff: cutoff.into(),
            priority: Default::default(),
            destination: None,
            lines: (0..lines)
                .map(|i| OrderLine {
                    sku: format!("S{i}"),
                    qty: i + 1,
                    location: format!("A-{i:02}"),
                })
                .collect(),
        },
    }
}

pub(super) fn up(scanner: &str, id: &str, body: UpBody) -> Event {
    Event::Scanner {
        scanner: scanner.into(),
        msg: Up {
            v: SCHEMA_VERSION,
            id: id.into(),
            seq: None,
            body,
        },
    }
}

pub(super) fn pick(id: &str, order: &str, line: u32, qty: u32, tote: u32) -> Event {
    up(
        "h1",
        id,
        UpBody::Pick {
            order: order.into(),
            line,
            qty,
            tote,
        },
    )
}

/// The location and SKU scans of line `line` of a test order, on h1, as a pick direction asks.
pub(super) fn scans(line: u32) -> [Event; 2] {
    [
        up(
            "h1",
            &format!("loc{line}"),
            UpBody::Scan {
                what: ScanWhat::Location,
                code: format!("A-{line:02}"),
            },
        ),
        up(
            "h1",
            &format!("sku{line}"),
            UpBody::Scan {
                what: ScanWhat::Sku,
                code: format!("S{line}"),
            },
        ),
    ]
}

/// One-line order o1 received (and `more` one-line orders o2, o3, … after it), h1 logged in,
/// o1's line scanned and picked into tote 1.
pub(super) fn picked_o1(core: &mut Core, more: usize) {
    core.handle(&order("o1", "11:00", 1), 0);
    for n in 0..more {
        core.handle(&order(&format!("o{}", n + 2), "11:00", 1), 0);
    }
    login(core, "h1");
    scan(core, 0);
    core.handle(&pick("m1", "o1", 0, 1, 1), 1);
}

/// Scans line `line` on h1.
pub(super) fn scan(core: &mut Core, line: u32) {
    for e in scans(line) {
        core.handle(&e, 0);
    }
}

/// Tote `tote` seen entering conveyor cv1.
pub(super) fn entered(tote: u32, seq: u16) -> Event {
    Event::ToteEntered {
        conveyor: "cv1".into(),
        tote,
        seq,
    }
}

pub(super) fn induct(tote: u32, seq: u16) -> Event {
    Event::ToteInducted {
        sorter: "s1".into(),
        tote,
        seq,
    }
}

pub(super) fn confirm(tote: u32, chute: u16, outcome: SortOutcome, seq: u16) -> Event {
    Event::SortConfirmed {
        sorter: "s1".into(),
        tote,
        chute,
        outcome,
        seq,
    }
}

pub(super) fn divert(tote: u32, chute: u16) -> Command {
    Command::Divert {
        sorter: "s1".into(),
        tote,
        chute,
    }
}

pub(super) fn directions(cmds: &[Command]) -> Vec<Task> {
    cmds.iter()
        .filter_map(|c| match c {
            Command::Direct { direction, .. } => Some(direction.task.clone()),
            _ => None,
        })
        .collect()
}

pub(super) fn rejects(cmds: &[Command]) -> Vec<String> {
    cmds.iter()
        .filter_map(|c| match c {
            Command::Reject { reply, .. } => Some(reply.reason.clone()),
            _ => None,
        })
        .collect()
}

pub(super) fn login(core: &mut Core, scanner: &str) -> Vec<Command> {
    core.handle(
        &up(
            scanner,
            "login",
            UpBody::Login {
                picker: "p1".into(),
                session: None,
            },
        ),
        0,
    )
    .commands
}

#[test]
fn one_order_goes_from_handheld_to_its_cutoffs_chute() {
    let mut core = Core::new(layout());
    core.handle(&order("o1", "17:00", 2), 0);
    let d = directions(&login(&mut core, "h1"));
    assert!(
        matches!(&d[..], [Task::Pick { order, line: 0, qty: 1, tote: 1, lines_left: 1, .. }] if order == "o1")
    );

    scan(&mut core, 0);
    let d = directions(&core.handle(&pick("m1", "o1", 0, 1, 1), 1).commands);
    assert!(matches!(
        &d[..],
        [Task::Pick {
            line: 1,
            qty: 2,
            lines_left: 0,
            ..
        }]
    ));
    scan(&mut core, 1);
    let d = directions(&core.handle(&pick("m2", "o1", 1, 2, 1), 2).commands);
    assert_eq!(d, vec![Task::CloseTote { tote: 1 }]);
    let d = directions(
        &core
            .handle(&up("h1", "m3", UpBody::ToteClosed { tote: 1 }), 3)
            .commands,
    );
    assert_eq!(
        d,
        vec![Task::ToteComplete {
            tote: 1,
            conveyor: "cv1".into()
        }]
    );

    let d = directions(&core.handle(&entered(1, 1), 4).commands);
    assert_eq!(d, vec![Task::Wait], "no more orders: the picker waits");

    let cmds = core.handle(&induct(1, 1), 5).commands;
    assert_eq!(cmds, vec![divert(1, 3)]);
    core.handle(&confirm(1, 3, SortOutcome::Sorted, 1), 6);
    let s = core.summary();
    assert_eq!((s.orders, s.picked, s.sorted, s.alarms), (1, 1, 1, 0));
    assert_eq!(s.per_chute, BTreeMap::from([(3, 1)]));
    assert_eq!(
        core.summary(),
        core.recount(),
        "maintained counts match the state"
    );
}

#[test]
fn earlier_cutoffs_are_picked_first() {
    let mut core = Core::new(layout());
    core.handle(&order("late", "17:00", 1), 0);
    core.handle(&order("early", "11:00", 1), 0);
    let d = directions(&login(&mut core, "h1"));
    assert!(matches!(&d[..], [Task::Pick { order, .. }] if order == "early"));
    assert_eq!(
        core.summary(),
        core.recount(),
        "maintained counts match the state"
    );
}

#[test]
fn a_redelivered_message_changes_nothing_and_gets_the_same_answer() {
    let mut core = Core::new(layout());
    core.handle(&order("o1", "11:00", 2), 0);
    login(&mut core, "h1");
    scan(&mut core, 0);
    let pick = pick("m1", "o1", 0, 1, 1);
    let first = core.handle(&pick, 1).commands;
    let again = core.handle(&pick, 2).commands;
    assert_eq!(directions(&first), directions(&again));
    assert!(rejects(&again).is_empty());
    assert_eq!(
        core.summary(),
        core.recount(),
        "maintained counts match the state"
    );
}

#[test]
fn a_pick_that_was_not_directed_is_refused_and_changes_nothing() {
    let mut core = Core::new(layout());
    core.handle(&order("o1", "11:00", 2), 0);
    login(&mut core, "h1");
    let before = core.summary();
    let cmds = core.handle(&pick("m1", "o1", 1, 2, 1), 1).commands;
    assert_eq!(rejects(&cmds).len(), 1, "{cmds:?}");
    let cmds = core.handle(&pick("m2", "o1", 0, 1, 1), 1).commands;
    assert!(
        rejects(&cmds)[0].contains("scan the location A-00 first"),
        "{cmds:?}"
    );
    scan(&mut core, 0);
    let cmds = core.handle(&pick("m5", "o1", 0, 5, 1), 1).commands;
    assert!(
        rejects(&cmds)[0].contains("over-pick: 5 confirmed, 1 directed"),
        "{cmds:?}"
    );
    let cmds = core
        .handle(&up("h1", "m3", UpBody::ToteClosed { tote: 1 }), 1)
        .commands;
    assert_eq!(rejects(&cmds).len(), 1);
    let after = core.summary();
    assert_eq!(after.refused, 4, "every refusal is counted");
    assert_eq!(
        Summary {
            refused: 0,
            ..after
        },
        before,
        "and changes nothing else"
    );
    // The directed pick still goes through.
    let d = directions(&core.handle(&pick("m4", "o1", 0, 1, 1), 2).commands);
    assert!(matches!(&d[..], [Task::Pick { line: 1, .. }]));
    assert_eq!(
        core.summary(),
        core.recount(),
        "maintained counts match the state"
    );
}

#[test]
fn a_replayed_plc_read_is_acted_on_once() {
    let mut core = Core::new(layout());
    core.handle(&order("o1", "11:00", 1), 0);
    login(&mut core, "h1");
    let induct = induct(1, 7);
    assert_eq!(core.handle(&induct, 1).commands.len(), 1);
    assert!(core.handle(&induct, 2).commands.is_empty());
    assert_eq!(
        core.summary(),
        core.recount(),
        "maintained counts match the state"
    );
}

#[test]
fn a_full_chute_sends_totes_to_the_next_chute_of_the_lane() {
    let mut core = Core::new(layout());
    core.handle(&order("o1", "11:00", 1), 0);
    login(&mut core, "h1");
    core.handle(
        &Event::ChuteFull {
            sorter: "s1".into(),
            chute: 1,
            full: true,
        },
        0,
    );
    let cmds = core.handle(&induct(1, 1), 1).commands;
    assert_eq!(cmds, vec![divert(1, 2)]);
    assert_eq!(
        core.summary(),
        core.recount(),
        "maintained counts match the state"
    );
}

#[test]
fn a_tote_reported_sorted_twice_raises_an_alarm_and_counts_once() {
    let mut core = Core::new(layout());
    core.handle(&order("o1", "11:00", 1), 0);
    login(&mut core, "h1");
    let sorted = |seq| confirm(1, 1, SortOutcome::Sorted, seq);
    core.handle(&sorted(1), 1);
    let cmds = core.handle(&sorted(2), 2).commands;
    assert!(matches!(&cmds[..], [Command::Alarm { .. }]));
    assert_eq!(core.summary().per_chute, BTreeMap::from([(1, 1)]));
    assert_eq!(
        core.summary(),
        core.recount(),
        "maintained counts match the state"
    );
}

#[test]
fn a_recirculated_tote_is_diverted_again_on_its_next_pass() {
    let mut core = Core::new(layout());
    core.handle(&order("o1", "11:00", 1), 0);
    login(&mut core, "h1");
    core.handle(&induct(1, 1), 1);
    core.handle(&confirm(1, 0, SortOutcome::WindowMissed, 1), 2);
    let cmds = core.handle(&induct(1, 2), 3).commands;
    assert_eq!(cmds.len(), 1);
    assert_eq!(core.summary().recirculations, 1);
    assert_eq!(
        core.summary(),
        core.recount(),
        "maintained counts match the state"
    );
}

#[test]
fn replaying_the_same_events_rebuilds_the_same_state_and_resumes_directions() {
    let [loc, sku] = scans(0);
    let events = vec![
        order("o1", "11:00", 2),
        up(
            "h1",
            "login",
            UpBody::Login {
                picker: "p".into(),
                session: None,
            },
        ),
        loc,
        sku,
        pick("m1", "o1", 0, 1, 1),
    ];
    let mut a = Core::new(layout());
    let mut last = Vec::new();
    for e in &events {
        last = a.handle(e, 0).commands;
    }
    let mut b = Core::new(layout());
    for e in &events {
        b.handle(e, 0);
    }
    assert_eq!(a.summary(), b.summary());
    assert_eq!(directions(&b.resume().commands), directions(&last));
    assert_eq!(
        b.summary(),
        b.recount(),
        "maintained counts match the state"
    );
}

#[test]
fn a_tote_read_at_the_induct_without_an_entry_scan_frees_its_picker() {
    let mut core = Core::new(layout());
    picked_o1(&mut core, 1);
    core.handle(&up("h1", "m2", UpBody::ToteClosed { tote: 1 }), 2);
    let cmds = core.handle(&induct(1, 1), 3).commands;
    assert!(
        matches!(&directions(&cmds)[..], [Task::Pick { order, .. }] if order == "o2"),
        "{cmds:?}"
    );
    assert!(cmds.contains(&divert(1, 1)));
    assert_eq!(
        core.summary(),
        core.recount(),
        "maintained counts match the state"
    );
}

#[test]
fn an_order_already_known_is_no_news_and_changes_nothing() {
    let mut core = Core::new(layout());
    let o1 = order("O1", "11:00", 2);
    assert!(core.is_news(&o1));
    core.handle(&o1, 0);
    assert!(!core.is_news(&o1), "known now");
    let before = core.snapshot();
    assert!(core.handle(&o1, 0).commands.is_empty());
    assert_eq!(core.snapshot(), before, "handled again, it changes nothing");
    assert!(core.is_news(&order("O2", "11:00", 1)));
}

#[test]
fn an_orders_destination_chooses_its_lane_by_the_sites_rules() {
    let mut l = layout();
    l.lanes.insert("R3".into(), vec![5, 6]);
    l.lane_rules = vec![crate::LaneRule {
        cutoff: Some("11:00".into()),
        destination: Some("R3".into()),
        priority: None,
        lane: "R3".into(),
    }];
    let mut core = Core::new(l);
    let Event::OrderReceived { mut order } = order("o1", "11:00", 1) else {
        unreachable!()
    };
    order.destination = Some("R3".into());
    core.handle(&Event::OrderReceived { order }, 0);
    login(&mut core, "h1");
    scan(&mut core, 0);
    core.handle(&pick("m1", "o1", 0, 1, 1), 1);
    core.handle(&up("h1", "m2", UpBody::ToteClosed { tote: 1 }), 2);
    core.handle(&entered(1, 1), 3);
    let cmds = core.handle(&induct(1, 1), 4).commands;
    assert_eq!(
        cmds,
        vec![divert(1, 5)],
        "route R3's chute, not the 11:00 lane's"
    );
    core.handle(&confirm(1, 5, SortOutcome::Sorted, 1), 5);
    let s = core.summary();
    assert_eq!((s.sorted, s.alarms), (1, 0), "in its lane: no alarm");
    assert_eq!(s.kpis.totes_right_lane, 1);
}

#[test]
fn a_picker_takes_totes_to_the_conveyor_of_the_zone_the_trip_ended_in() {
    let mut l = layout();
    l.release.zones = vec![("A-".into(), "A".into()), ("B-".into(), "B".into())];
    l.zone_conveyors = BTreeMap::from([("B".into(), "cv-b".into())]);
    let mut core = Core::new(l);
    // o1's one line is at A-00: zone A has no conveyor of its own, the pick conveyor takes it.
    picked_o1(&mut core, 0);
    let d = directions(
        &core
            .handle(&up("h1", "m2", UpBody::ToteClosed { tote: 1 }), 2)
            .commands,
    );
    assert_eq!(
        d,
        vec![Task::ToteComplete {
            tote: 1,
            conveyor: "cv1".into()
        }]
    );
    core.handle(&entered(1, 1), 3);
    // o2's line is in zone B: its tote goes on zone B's conveyor.
    let Event::OrderReceived { mut order } = order("o2", "11:00", 1) else {
        unreachable!()
    };
    order.lines[0].location = "B-07".into();
    core.handle(&Event::OrderReceived { order }, 4);
    for e in [
        up(
            "h1",
            "m3",
            UpBody::Scan {
                what: ScanWhat::Location,
                code: "B-07".into(),
            },
        ),
        up(
            "h1",
            "m4",
            UpBody::Scan {
                what: ScanWhat::Sku,
                code: "S0".into(),
            },
        ),
    ] {
        core.handle(&e, 5);
    }
    core.handle(&pick("m5", "o2", 0, 1, 2), 6);
    let d = directions(
        &core
            .handle(&up("h1", "m6", UpBody::ToteClosed { tote: 2 }), 7)
            .commands,
    );
    assert_eq!(
        d,
        vec![Task::ToteComplete {
            tote: 2,
            conveyor: "cv-b".into()
        }]
    );
}

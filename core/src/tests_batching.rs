//! Trips: orders combined on a cart within its capacity, first come first served or by seed,
//! picked in one route, each into its own tote, closed and carried to the conveyor together.

use floorctl_protocol::order::{Order, OrderLine, Priority};
use floorctl_protocol::scanner::{ScanWhat, Task, UpBody};

use super::routing::{Pick, Warehouse};
use super::tests::{entered, layout, login, up};
use super::*;

fn with_cart(policy: BatchPolicy, totes: usize) -> Layout {
    let mut l = layout();
    l.batching = Batching {
        policy,
        totes_per_cart: totes,
        max_lines: usize::MAX,
    };
    l
}

fn order_at(id: &str, locations: &[&str]) -> Event {
    Event::OrderReceived {
        order: Order {
            id: id.into(),
            cutoff: "11:00".into(),
            priority: Priority::Normal,
            destination: None,
            lines: locations
                .iter()
                .map(|l| OrderLine {
                    sku: format!("S-{l}"),
                    qty: 1,
                    location: l.to_string(),
                })
                .collect(),
        },
    }
}

fn last_task(cmds: &[Command]) -> Option<Task> {
    cmds.iter().rev().find_map(|c| match c {
        Command::Direct { direction, .. } => Some(direction.task.clone()),
        _ => None,
    })
}

/// What a handheld does on its trip, following every direction until it is told to take its
/// totes to the conveyor: (order, tote, location) per pick, then the totes closed in turn.
fn walk_trip(
    core: &mut Core,
    scanner: &str,
    first: Vec<Command>,
) -> (Vec<(String, u32, String)>, Vec<u32>) {
    let mut picks = Vec::new();
    let mut closed = Vec::new();
    let mut cmds = first;
    for n in 0..100 {
        let id = |what: &str| format!("{scanner}-{what}-{n}");
        match last_task(&cmds) {
            Some(Task::Pick {
                order,
                tote,
                location,
                ..
            }) => {
                picks.push((order, tote, location));
                cmds = pick_as_directed(core, scanner, &cmds, &id("m"));
            }
            Some(Task::CloseTote { tote }) => {
                closed.push(tote);
                cmds = core
                    .handle(&up(scanner, &id("c"), UpBody::ToteClosed { tote }), 1)
                    .commands;
            }
            Some(Task::ToteComplete { .. }) => return (picks, closed),
            other => panic!("unexpected direction {other:?}"),
        }
    }
    panic!("the trip never ended")
}

/// Scans the location and SKU of the pick direction in `cmds` and confirms it, with message ids
/// made from `id`; returns what the last message got.
fn pick_as_directed(core: &mut Core, scanner: &str, cmds: &[Command], id: &str) -> Vec<Command> {
    let Some(Task::Pick {
        order,
        line,
        location,
        sku,
        qty,
        tote,
        ..
    }) = last_task(cmds)
    else {
        panic!("a pick direction: {cmds:?}")
    };
    let scan = |what, code: &str| UpBody::Scan {
        what,
        code: code.into(),
    };
    core.handle(
        &up(
            scanner,
            &format!("{id}-l"),
            scan(ScanWhat::Location, &location),
        ),
        1,
    );
    core.handle(
        &up(scanner, &format!("{id}-s"), scan(ScanWhat::Sku, &sku)),
        1,
    );
    let body = UpBody::Pick {
        order,
        line,
        qty,
        tote,
    };
    core.handle(&up(scanner, &format!("{id}-p"), body), 1)
        .commands
}

#[test]
fn first_come_first_served_fills_the_cart_and_the_totes_go_to_the_conveyor_together() {
    let mut core = Core::new(with_cart(BatchPolicy::Fcfs, 3));
    for (id, locs) in [
        ("o1", &["A-01", "A-02"][..]),
        ("o2", &["A-03"]),
        ("o3", &["A-04"]),
        ("o4", &["A-05"]),
    ] {
        core.handle(&order_at(id, locs), 0);
    }
    let first = login(&mut core, "h1");
    let (picks, closed) = walk_trip(&mut core, "h1", first);
    let orders: Vec<&str> = picks.iter().map(|(o, _, _)| o.as_str()).collect();
    assert_eq!(orders, ["o1", "o1", "o2", "o3"], "three orders on the cart");
    let totes: Vec<u32> = picks.iter().map(|(_, t, _)| *t).collect();
    assert_eq!(totes, [1, 1, 2, 3], "each order into its own tote");
    assert_eq!(closed, [1, 2, 3]);
    assert_eq!(core.summary().picked, 3);
    // The conveyor sees the totes one by one; the next trip comes after the last.
    let cmds = core.handle(&entered(1, 1), 2).commands;
    assert!(
        matches!(last_task(&cmds), Some(Task::ToteComplete { tote: 2, .. })),
        "{cmds:?}"
    );
    core.handle(&entered(2, 2), 2);
    let cmds = core.handle(&entered(3, 3), 2).commands;
    assert!(
        matches!(last_task(&cmds), Some(Task::Pick { ref order, .. }) if order == "o4"),
        "{cmds:?}"
    );
    assert_eq!(
        core.summary(),
        core.recount(),
        "maintained counts match the state"
    );
}

#[test]
fn the_seed_rule_takes_the_orders_nearest_the_seed_and_the_trip_is_one_route() {
    let slot = |aisle, position_m| Pick { aisle, position_m };
    let mut l = with_cart(BatchPolicy::Seed, 2);
    l.warehouse = Some(Warehouse {
        aisles: 10,
        aisle_length_m: 20.0,
        aisle_pitch_m: 3.0,
        cross_aisle_width_m: 2.0,
        depot_m: 0.0,
        slots: [
            ("A-01", slot(1, 5.0)),
            ("A-02", slot(1, 8.0)),
            ("J-01", slot(10, 15.0)),
            ("B-01", slot(2, 4.0)),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect(),
    });
    let mut fcfs_layout = l.clone();
    fcfs_layout.batching.policy = BatchPolicy::Fcfs;
    let orders = [
        ("seed", &["A-02"][..]),
        ("far", &["J-01"]),
        ("near", &["A-01"]),
        ("next", &["B-01"]),
    ];
    let mut core = Core::new(l);
    let mut fcfs = Core::new(fcfs_layout);
    for (id, locs) in orders {
        core.handle(&order_at(id, locs), 0);
        fcfs.handle(&order_at(id, locs), 0);
    }
    let first = login(&mut core, "h1");
    let (picks, _) = walk_trip(&mut core, "h1", first);
    let seen: Vec<&str> = picks.iter().map(|(_, _, l)| l.as_str()).collect();
    assert_eq!(
        seen,
        ["A-01", "A-02"],
        "seed and its neighbour, nearest the depot first"
    );
    let first = login(&mut fcfs, "h1");
    let (picks, _) = walk_trip(&mut fcfs, "h1", first);
    let orders: Vec<&str> = picks.iter().map(|(o, _, _)| o.as_str()).collect();
    assert_eq!(
        orders,
        ["seed", "far"],
        "first come first served ignores distance"
    );
}

#[test]
fn a_cart_holds_one_priority_and_no_more_lines_than_it_may() {
    let mut l = with_cart(BatchPolicy::Fcfs, 4);
    l.batching.max_lines = 3;
    let mut core = Core::new(l);
    core.handle(
        &Event::OrderReceived {
            order: Order {
                priority: Priority::Urgent,
                destination: None,
                ..Order::one_line("u1", "11:00", "S", 1, "A-01")
            },
        },
        0,
    );
    core.handle(&order_at("n1", &["A-02", "A-03"]), 0);
    core.handle(&order_at("n2", &["A-04"]), 0);
    core.handle(&order_at("n3", &["A-05", "A-06"]), 0);
    let first = login(&mut core, "h1");
    let (picks, _) = walk_trip(&mut core, "h1", first);
    assert!(
        picks.iter().all(|(o, _, _)| o == "u1"),
        "urgent travels alone: {picks:?}"
    );
    let first = login(&mut core, "h2");
    let (picks, _) = walk_trip(&mut core, "h2", first);
    let orders: Vec<&str> = picks.iter().map(|(o, _, _)| o.as_str()).collect();
    assert_eq!(
        orders,
        ["n1", "n1", "n2"],
        "n3 would take the trip past three lines"
    );
}

#[test]
fn a_trip_handed_back_keeps_its_totes_and_picked_lines() {
    let mut core = Core::new(with_cart(BatchPolicy::Fcfs, 2));
    core.handle(&order_at("o1", &["A-01", "A-02"]), 0);
    core.handle(&order_at("o2", &["A-03"]), 0);
    let cmds = login(&mut core, "h1");
    pick_as_directed(&mut core, "h1", &cmds, "m");
    core.handle(&up("h1", "out", UpBody::Logout), 2);
    let first = login(&mut core, "h2");
    let (picks, closed) = walk_trip(&mut core, "h2", first);
    assert_eq!(
        picks,
        [
            ("o1".into(), 1, "A-02".into()),
            ("o2".into(), 2, "A-03".into())
        ],
        "only the line left, into the same totes"
    );
    assert_eq!(closed, [1, 2]);
}

#[test]
fn a_full_tote_is_closed_and_the_order_goes_on_in_a_new_one_and_is_sorted_with_its_last_tote() {
    let mut core = Core::new(layout());
    core.handle(&order_at("o1", &["A-01", "A-02"]), 0);
    let cmds = login(&mut core, "h1");
    pick_as_directed(&mut core, "h1", &cmds, "m");
    let wrong = core
        .handle(&up("h1", "f0", UpBody::ToteFull { tote: 9 }), 1)
        .commands;
    assert_eq!(
        super::tests::rejects(&wrong),
        ["wrong tote 9: the tote is 1"]
    );
    let cmds = core
        .handle(&up("h1", "f", UpBody::ToteFull { tote: 1 }), 1)
        .commands;
    assert!(
        matches!(
            last_task(&cmds),
            Some(Task::Pick {
                tote: 2,
                line: 1,
                ..
            })
        ),
        "the next line goes into a new tote: {cmds:?}"
    );
    let (picks, closed) = walk_trip(&mut core, "h1", cmds);
    assert_eq!(picks, [("o1".into(), 2, "A-02".into())]);
    assert_eq!(closed, [2]);
    // Both totes go to the conveyor; the order is sorted when the second is.
    core.handle(&entered(1, 1), 2);
    core.handle(&entered(2, 2), 2);
    let sort = |tote, seq| {
        [
            Event::ToteInducted {
                sorter: "s1".into(),
                tote,
                seq,
            },
            Event::SortConfirmed {
                sorter: "s1".into(),
                tote,
                chute: 1,
                outcome: SortOutcome::Sorted,
                seq,
            },
        ]
    };
    for e in sort(1, 1) {
        core.handle(&e, 3);
    }
    assert_eq!(core.summary().sorted, 0, "one tote of two is in its lane");
    for e in sort(2, 2) {
        core.handle(&e, 3);
    }
    assert_eq!(core.summary().sorted, 1);
    assert_eq!(core.summary().per_chute[&1], 2);
    assert_eq!(
        core.summary(),
        core.recount(),
        "maintained counts match the state"
    );
}

#[test]
fn an_offered_trip_is_directed_once_accepted_and_handed_back_if_the_picker_leaves() {
    let mut l = with_cart(BatchPolicy::Fcfs, 2);
    l.offer_trips = true;
    let mut core = Core::new(l);
    core.handle(&order_at("o1", &["A-01", "A-02"]), 0);
    core.handle(&order_at("o2", &["A-03"]), 0);
    let cmds = login(&mut core, "h1");
    assert_eq!(
        last_task(&cmds),
        Some(Task::Offer {
            orders: vec!["o1".into(), "o2".into()],
            totes: vec![1, 2],
            lines: 3,
            location: "A-01".into(),
        })
    );
    let early = core
        .handle(
            &up(
                "h1",
                "p",
                UpBody::Pick {
                    order: "o1".into(),
                    line: 0,
                    qty: 1,
                    tote: 1,
                },
            ),
            1,
        )
        .commands;
    assert_eq!(
        super::tests::rejects(&early),
        ["no pick is directed to this handheld now"]
    );
    // Logging out before accepting hands the trip back; the next picker is offered it.
    core.handle(&up("h1", "out", UpBody::Logout), 1);
    let cmds = login(&mut core, "h2");
    assert!(
        matches!(last_task(&cmds), Some(Task::Offer { ref orders, .. }) if orders.len() == 2),
        "{cmds:?}"
    );
    let accepted = core.handle(&up("h2", "a", UpBody::Accept), 2).commands;
    assert!(
        matches!(last_task(&accepted), Some(Task::Pick { ref location, tote: 1, .. }) if location == "A-01")
    );
    let again = core.handle(&up("h2", "a", UpBody::Accept), 2).commands;
    assert_eq!(
        last_task(&again),
        last_task(&accepted),
        "a re-delivered accept gets the same answer"
    );
    let twice = core.handle(&up("h2", "a2", UpBody::Accept), 2).commands;
    assert_eq!(
        super::tests::rejects(&twice),
        ["no trip is offered to this handheld now"]
    );
    assert_eq!(
        core.summary(),
        core.recount(),
        "maintained counts match the state"
    );
}

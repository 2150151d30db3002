//! Pick faces kept stocked: refills from reserve when projected stock reaches the minimum,
//! emergencies on a short, DC transfers when reserve is out, peak moves held until their time.

use floorctl_protocol::order::Order;
use floorctl_protocol::scanner::{ScanWhat, Task, UpBody};

use super::tests::{layout, login, rejects, up};
use super::*;

fn stock(sku: &str, location: &str, qty: u32) -> Event {
    Event::Stock {
        sku: sku.into(),
        location: location.into(),
        qty,
    }
}

fn face(min: u32, max: u32) -> Event {
    Event::PickFaces {
        faces: vec![PickFace {
            location: "A-01".into(),
            sku: "S".into(),
            min,
            max,
        }],
    }
}

fn want(id: &str, qty: u32) -> Event {
    Event::OrderReceived {
        order: Order::one_line(id, "11:00", "S", qty, "A-01"),
    }
}

fn last_task(cmds: &[Command]) -> Option<Task> {
    cmds.iter().rev().find_map(|c| match c {
        Command::Direct { direction, .. } => Some(direction.task.clone()),
        _ => None,
    })
}

/// h1 scans face A-01 and SKU S, as a pick there asks.
fn scan_face(core: &mut Core, at: Millis) {
    for (id, what, code) in [("l", ScanWhat::Location, "A-01"), ("s", ScanWhat::Sku, "S")] {
        let body = UpBody::Scan {
            what,
            code: code.into(),
        };
        core.handle(&up("h1", id, body), at);
    }
}

/// A face A-01 for SKU S (min 2, max 10) holding 5, and 100 in reserve at R-01.
fn stocked() -> Core {
    let mut core = Core::new(layout());
    core.handle(&stock("S", "A-01", 5), 0);
    core.handle(&stock("S", "R-01", 100), 0);
    core.handle(&face(2, 10), 0);
    core
}

#[test]
fn released_demand_that_takes_a_face_to_its_minimum_refills_it_from_reserve_first() {
    let mut core = stocked();
    assert!(
        core.replenishments.is_empty(),
        "5 on hand is above the minimum"
    );
    core.handle(&want("o1", 4), 0);
    // Projected 5 - 4 = 1: refill to 10 takes 9.
    let cmds = login(&mut core, "h1");
    let Some(Task::Replenish {
        task,
        sku,
        from,
        to,
        qty,
    }) = last_task(&cmds)
    else {
        panic!("a replenishment before the pick: {cmds:?}")
    };
    assert_eq!(
        (sku.as_str(), from.as_str(), to.as_str(), qty),
        ("S", "R-01", "A-01", 9)
    );
    let too_many = core
        .handle(&up("h1", "r0", UpBody::Replenished { task, qty: 101 }), 1)
        .commands;
    assert_eq!(
        rejects(&too_many),
        ["101 moved is more than the 100 R-01 holds; count it and send what was moved"]
    );
    let cmds = core
        .handle(&up("h1", "r1", UpBody::Replenished { task, qty: 9 }), 1)
        .commands;
    assert_eq!(core.stock["S"]["A-01"], 14);
    assert_eq!(core.stock["S"]["R-01"], 91);
    assert!(
        matches!(last_task(&cmds), Some(Task::Pick { .. })),
        "then the pick: {cmds:?}"
    );
    let faces = core.faces();
    assert_eq!(faces[0].1.projected(), 10);
    assert_eq!(core.summary().replenished, 1);
    scan_face(&mut core, 2);
    let body = UpBody::Pick {
        order: "o1".into(),
        line: 0,
        qty: 4,
        tote: 1,
    };
    core.handle(&up("h1", "p", body), 2);
    let face = &core.summary().forward["A-01"];
    assert_eq!((face.on_hand, face.open_picks), (10, 0), "{face:?}");
    assert_eq!(
        core.summary(),
        core.recount(),
        "the summary's faces match the state"
    );
}

#[test]
fn a_short_at_a_face_makes_an_emergency_refill_that_goes_first() {
    let mut core = stocked();
    core.handle(&want("o1", 2), 0);
    login(&mut core, "h1");
    scan_face(&mut core, 1);
    let body = UpBody::Short {
        order: "o1".into(),
        line: 0,
        found: 0,
        tote: 1,
    };
    core.handle(&up("h1", "short", body), 1);
    let urgent: Vec<_> = core
        .replenishments
        .values()
        .filter(|r| r.emergency)
        .collect();
    assert_eq!(urgent.len(), 1, "{:?}", core.replenishments);
    assert_eq!(
        urgent[0].qty, 10,
        "the face was counted empty: refill to its maximum"
    );
}

#[test]
fn what_reserve_cannot_give_is_asked_of_the_distribution_centre_once() {
    let mut core = Core::new(layout());
    core.handle(&stock("S", "A-01", 1), 0);
    core.handle(&stock("S", "R-01", 3), 0);
    let reaction = core.handle(&face(2, 10), 0);
    let cmds = &reaction.commands;
    assert!(
        cmds.contains(&Command::Transfer {
            sku: "S".into(),
            qty: 6,
            to: "A-01".into()
        }),
        "9 needed, 3 in reserve: {cmds:?}"
    );
    let order = Record::Transfer {
        id: 1,
        sku: "S".into(),
        qty: 6,
        face: "A-01".into(),
    };
    assert!(
        reaction.records.contains(&order),
        "kept as a transfer order"
    );
    assert_eq!(
        core.summary(),
        core.recount(),
        "the summary's faces match the state"
    );
    let again = core.handle(&stock("S", "A-01", 1), 0).commands;
    assert!(
        !again.iter().any(|c| matches!(c, Command::Transfer { .. })),
        "{again:?}"
    );
}

#[test]
fn peak_moves_wait_for_their_time_and_then_go_to_the_handhelds() {
    let mut core = stocked();
    login(&mut core, "h1");
    let night = 20 * 3_600_000;
    let moves = vec![Move {
        sku: "S".into(),
        qty: 40,
        to: "A-01".into(),
    }];
    let cmds = core
        .handle(
            &Event::Moves {
                moves,
                not_before: night,
            },
            1_000,
        )
        .commands;
    assert_eq!(last_task(&cmds), None, "held until the night");
    assert_eq!(core.next_tick(), Some(night));
    let cmds = core.handle(&Event::Tick, night).commands;
    assert!(
        matches!(last_task(&cmds), Some(Task::Replenish { qty: 40, .. })),
        "{cmds:?}"
    );
}

#[test]
fn a_transfer_tote_from_the_dc_is_sorted_to_the_inbound_chute_and_put_away_from_there() {
    let mut l = layout();
    l.inbound_chute = Some(7);
    let mut core = Core::new(l);
    core.handle(&stock("S", "A-01", 1), 0);
    core.handle(&face(2, 10), 0);
    assert_eq!(
        core.transfer_orders[&1],
        ("S".to_string(), 9, "A-01".to_string())
    );
    let unknown = core
        .handle(
            &Event::TransferShipped {
                transfer: 9,
                tote: 500,
                qty: None,
            },
            1,
        )
        .commands;
    assert!(
        unknown.iter().any(|c| matches!(c, Command::Alarm { .. })),
        "{unknown:?}"
    );
    core.handle(
        &Event::TransferShipped {
            transfer: 1,
            tote: 500,
            qty: Some(7),
        },
        1,
    );
    core.handle(
        &Event::ToteEntered {
            conveyor: "cv1".into(),
            tote: 500,
            seq: 1,
        },
        2,
    );
    let cmds = core
        .handle(
            &Event::ToteInducted {
                sorter: "s1".into(),
                tote: 500,
                seq: 1,
            },
            2,
        )
        .commands;
    assert!(
        cmds.contains(&Command::Divert {
            sorter: "s1".into(),
            tote: 500,
            chute: 7
        }),
        "{cmds:?}"
    );
    let sorted = Event::SortConfirmed {
        sorter: "s1".into(),
        tote: 500,
        chute: 7,
        outcome: SortOutcome::Sorted,
        seq: 1,
    };
    let reaction = core.handle(&sorted, 3);
    let cmds = reaction.commands;
    assert!(
        reaction
            .records
            .contains(&Record::TransferReceived { id: 1, received: 7 }),
        "received against the transfer: {cmds:?}"
    );
    let alarms: Vec<&String> = cmds
        .iter()
        .filter_map(|c| match c {
            Command::Alarm { text, .. } => Some(text),
            _ => None,
        })
        .collect();
    assert_eq!(
        alarms,
        ["transfer 1 of S received in tote 500: 9 asked, 7 received (2 short)"],
        "the discrepancy, and nothing else, is reported"
    );
    assert_eq!(core.stock["S"]["inbound tote 500"], 7);
    let cmds = login(&mut core, "h1");
    assert!(
        matches!(last_task(&cmds), Some(Task::Replenish { ref from, qty: 7, .. }) if from == "inbound tote 500"),
        "{cmds:?}"
    );
    assert_eq!(
        core.summary().sorted,
        0,
        "a transfer tote is no customer order"
    );
}

#[test]
fn an_order_line_naming_no_location_is_picked_where_most_of_the_sku_is() {
    let mut core = Core::new(layout());
    core.handle(&stock("S", "R-01", 5), 0);
    core.handle(&stock("S", "R-02", 50), 0);
    let order = |id: &str, sku: &str| Event::OrderReceived {
        order: Order::one_line(id, "11:00", sku, 3, ""),
    };
    core.handle(&order("T1", "S"), 1);
    assert_eq!(core.orders["T1"].order.lines[0].location, "R-02");
    let cmds = core.handle(&order("T2", "NONE"), 2).commands;
    assert!(
        cmds.iter().any(|c| matches!(c, Command::Alarm { text, .. }
            if text.contains("NONE names no location and none holds it here"))),
        "{cmds:?}"
    );
}

#[test]
fn a_dc_tote_keeps_its_number_and_the_sites_own_totes_go_round_it() {
    let mut core = Core::new(layout());
    core.handle(&stock("S", "A-01", 1), 0);
    core.handle(&face(2, 10), 0);
    let shipped = |tote| Event::TransferShipped {
        transfer: 1,
        tote,
        qty: None,
    };
    core.handle(&shipped(1), 1);
    assert_eq!(
        core.new_tote("O1", &mut Reaction::default()),
        2,
        "tote 1 is the DC's"
    );
    assert_eq!(core.new_tote("O2", &mut Reaction::default()), 3);
    let again = core.handle(&shipped(1), 2).commands;
    assert!(again.is_empty(), "told twice, nothing new: {again:?}");
}

#[test]
fn tote_numbers_never_reach_the_no_read_but_start_again_past_the_last_skipping_totes_in_use() {
    let mut layout = layout();
    layout.first_tote = u32::MAX - 2;
    let mut core = Core::new(layout);
    let mut out = Reaction::default();
    let made: Vec<u32> = ["O1", "O2", "O3"]
        .iter()
        .map(|o| core.new_tote(o, &mut out))
        .collect();
    assert_eq!(made, [u32::MAX - 2, u32::MAX - 1, u32::MAX]);
    assert_eq!(out, Reaction::default());
    core.totes.get_mut(&(u32::MAX - 1)).unwrap().status = ToteStatus::Sorted;
    let next = core.new_tote("O4", &mut out);
    assert_eq!(
        next,
        u32::MAX - 1,
        "tote {} is still being picked into",
        u32::MAX - 2
    );
    assert!(
        out.commands
            .iter()
            .any(|c| matches!(c, Command::Alarm { text, .. }
            if text.contains("tote numbers") && text.contains(&(u32::MAX - 2).to_string()))),
        "{out:?}"
    );
}

#[test]
fn a_face_falling_to_its_refill_point_is_published_once_while_its_refill_is_on_the_way() {
    let mut core = stocked();
    let below = |out: Reaction| -> Vec<serde_json::Value> {
        out.published
            .into_iter()
            .filter(|p| p.kind == PublishedKind::FaceBelowMinimum)
            .map(|p| p.data)
            .collect()
    };
    // 5 on hand, 4 wanted: projected 1, under the minimum of 2; 9 asked to bring it to 10.
    let first = below(core.handle(&want("o1", 4), 1));
    assert_eq!(first.len(), 1, "{first:?}");
    assert_eq!(
        (&first[0]["location"], &first[0]["refill"]),
        (&serde_json::json!("A-01"), &serde_json::json!(9))
    );
    assert_eq!(
        below(core.handle(&want("o2", 1), 2)),
        Vec::<serde_json::Value>::new(),
        "the refill on its way counts"
    );
}

//! Handheld protocol: scans verified, shorts reallocated or back-ordered, breaks, log-outs,
//! handhelds going offline, stale and re-delivered messages.

use floorctl_protocol::scanner::{Expect, Refusal, ScanWhat, Task, Up, UpBody};

use super::tests::{layout, login, order, pick, rejects, scan, up};
use super::tests_equipment::refusals;
use super::*;

fn scan_as(scanner: &str, id: &str, what: ScanWhat, code: &str) -> Event {
    up(
        scanner,
        id,
        UpBody::Scan {
            what,
            code: code.into(),
        },
    )
}

fn task(cmds: &[Command]) -> Option<Task> {
    cmds.iter().rev().find_map(|c| match c {
        Command::Direct { direction, .. } => Some(direction.task.clone()),
        _ => None,
    })
}

/// A refusal's code and parameters, as a version 3 handheld is sent them.
fn refusal(cmds: &[Command]) -> Option<(u32, Refusal)> {
    cmds.iter().find_map(|c| match c {
        Command::Reject { reply, .. } => Some((reply.v, reply.refusal.clone())),
        _ => None,
    })
}

#[test]
fn a_refusal_names_its_code_and_what_was_expected_and_a_version_2_handheld_is_answered_in_version_2(
) {
    let mut core = Core::new(layout());
    core.handle(&order("o1", "11:00", 1), 0);
    core.handle(&order("o2", "11:00", 1), 0);
    let directed = login(&mut core, "h1");
    let version = |cmds: &[Command]| {
        cmds.iter().find_map(|c| match c {
            Command::Direct { direction, .. } => Some(direction.v),
            _ => None,
        })
    };
    assert_eq!(version(&directed), Some(3));
    let wrong = core.handle(&scan_as("h1", "a", ScanWhat::Location, "B-99"), 1);
    assert_eq!(
        refusal(&wrong.commands),
        Some((
            3,
            Refusal::WrongLocation {
                expected: "A-00".into(),
                got: "B-99".into()
            }
        ))
    );
    let over = core.handle(&pick("b", "o1", 0, 5, 1), 1);
    assert_eq!(
        refusal(&over.commands).map(|(_, r)| r),
        Some(Refusal::ScanLocationFirst {
            location: "A-00".into()
        })
    );

    let v2 = |id: &str, body: UpBody| Event::Scanner {
        scanner: "h2".into(),
        msg: Up {
            v: 2,
            id: id.into(),
            seq: None,
            body,
        },
    };
    let directed = core.handle(
        &v2(
            "l",
            UpBody::Login {
                picker: "p2".into(),
                session: None,
            },
        ),
        2,
    );
    assert_eq!(version(&directed.commands), Some(2));
    let wrong = core.handle(
        &v2(
            "s",
            UpBody::Scan {
                what: ScanWhat::Sku,
                code: "S9".into(),
            },
        ),
        2,
    );
    let Some(Command::Reject { reply, .. }) = wrong.commands.first() else {
        panic!("{:?}", wrong.commands);
    };
    assert_eq!(reply.v, 2);
    let sent: serde_json::Value = serde_json::from_slice(&reply.payload()).unwrap();
    assert_eq!(
        sent,
        serde_json::json!({"v": 2, "reply_to": "s", "reason": "scan the location A-00 first"})
    );
}

#[test]
fn wrong_scans_are_refused_with_what_to_do_and_the_right_ones_move_the_direction_on() {
    let mut core = Core::new(layout());
    core.handle(&order("o1", "11:00", 1), 0);
    login(&mut core, "h1");
    let r = rejects(
        &core
            .handle(&scan_as("h1", "a", ScanWhat::Location, "B-99"), 1)
            .commands,
    );
    assert_eq!(r, vec!["wrong location B-99: go to A-00"]);
    let r = rejects(
        &core
            .handle(&scan_as("h1", "b", ScanWhat::Sku, "S0"), 1)
            .commands,
    );
    assert_eq!(r, vec!["scan the location A-00 first"]);
    let d = task(
        &core
            .handle(&scan_as("h1", "c", ScanWhat::Location, "A-00"), 1)
            .commands,
    );
    assert!(
        matches!(
            d,
            Some(Task::Pick {
                expect: Expect::Sku,
                ..
            })
        ),
        "{d:?}"
    );
    let r = rejects(
        &core
            .handle(&scan_as("h1", "d", ScanWhat::Sku, "S7"), 1)
            .commands,
    );
    assert_eq!(r, vec!["wrong SKU S7: pick S0 at A-00"]);
    let r = rejects(
        &core
            .handle(&scan_as("h1", "e", ScanWhat::Tote, "9"), 1)
            .commands,
    );
    assert_eq!(r, vec!["wrong tote 9: the tote is 1"]);
    let d = task(
        &core
            .handle(&scan_as("h1", "f", ScanWhat::Sku, "S0"), 1)
            .commands,
    );
    assert!(
        matches!(
            d,
            Some(Task::Pick {
                expect: Expect::Quantity,
                ..
            })
        ),
        "{d:?}"
    );
    assert_eq!(core.summary().refused, 4);
}

#[test]
fn a_short_is_picked_from_another_location_holding_the_sku_and_the_rest_back_ordered() {
    let mut core = Core::new(layout());
    for (location, qty) in [("A-00", 5), ("R-01", 1), ("R-02", 0)] {
        core.handle(
            &Event::Stock {
                sku: "S0".into(),
                location: location.into(),
                qty,
            },
            0,
        );
    }
    // One line of 1 unit would not show a reallocation: an order whose first line wants 3.
    let o = Event::OrderReceived {
        order: floorctl_protocol::order::Order {
            id: "o1".into(),
            cutoff: "11:00".into(),
            priority: Default::default(),
            destination: None,
            lines: vec![floorctl_protocol::order::OrderLine {
                sku: "S0".into(),
                qty: 3,
                location: "A-00".into(),
            }],
        },
    };
    core.handle(&o, 0);
    login(&mut core, "h1");
    scan(&mut core, 0);
    let over = core
        .handle(
            &up(
                "h1",
                "s0",
                UpBody::Short {
                    order: "o1".into(),
                    line: 0,
                    found: 3,
                    tote: 1,
                },
            ),
            1,
        )
        .commands;
    assert!(rejects(&over)[0].contains("not short"), "{over:?}");
    let cmds = core
        .handle(
            &up(
                "h1",
                "s1",
                UpBody::Short {
                    order: "o1".into(),
                    line: 0,
                    found: 1,
                    tote: 1,
                },
            ),
            1,
        )
        .commands;
    assert!(cmds.iter().any(|c| matches!(c, Command::Alarm { text, .. } if text.contains("A-00 held 1 of SKU S0 where the stock said 5"))), "{cmds:?}");
    let d = task(&cmds);
    assert!(
        matches!(&d, Some(Task::Pick { location, qty: 1, line: 1, .. }) if location == "R-01"),
        "the one unit left at R-01 is picked next: {d:?}"
    );
    let s = core.summary();
    assert_eq!(
        (s.shorts, s.backordered),
        (1, 1),
        "the third unit is back-ordered"
    );
}

#[test]
fn a_break_pauses_the_work_and_resume_picks_up_where_it_stopped() {
    let mut core = Core::new(layout());
    core.handle(&order("o1", "11:00", 2), 0);
    login(&mut core, "h1");
    assert_eq!(
        task(&core.handle(&up("h1", "b", UpBody::Break), 1).commands),
        Some(Task::Paused)
    );
    let r = rejects(
        &core
            .handle(&scan_as("h1", "x", ScanWhat::Location, "A-00"), 1)
            .commands,
    );
    assert_eq!(r, vec!["on a break: resume first"]);
    let d = task(&core.handle(&up("h1", "r", UpBody::Resume), 2).commands);
    assert!(matches!(d, Some(Task::Pick { line: 0, .. })), "{d:?}");
}

#[test]
fn a_handheld_offline_too_long_hands_its_order_over_with_the_lines_already_picked() {
    let mut core = Core::new(layout());
    core.handle(&order("o1", "11:00", 3), 0);
    login(&mut core, "h1");
    scan(&mut core, 0);
    core.handle(&pick("m1", "o1", 0, 1, 1), 1);
    core.handle(&up("h1", "off", UpBody::Presence { online: false }), 1_000);
    assert!(core.lost_handhelds(5_000, 10_000).is_empty(), "not yet");
    assert_eq!(core.lost_handhelds(11_000, 10_000), vec!["h1".to_string()]);
    core.handle(
        &Event::HandheldLost {
            scanner: "h1".into(),
        },
        11_000,
    );
    let d = task(&login(&mut core, "h2"));
    assert!(
        matches!(&d, Some(Task::Pick { order, line: 1, tote: 1, .. }) if order == "o1"),
        "h2 carries on with line 1 in the same tote: {d:?}"
    );
    // h1 comes back: its old work is gone, and it is told to wait.
    let back = core
        .handle(&up("h1", "on", UpBody::Presence { online: true }), 12_000)
        .commands;
    assert_eq!(task(&back), Some(Task::Wait));
    let r = rejects(&core.handle(&pick("m2", "o1", 1, 2, 1), 12_000).commands);
    assert_eq!(r, vec!["no pick is directed to this handheld now"]);
}

#[test]
fn logging_out_hands_the_work_back() {
    let mut core = Core::new(layout());
    core.handle(&order("o1", "11:00", 1), 0);
    login(&mut core, "h1");
    assert_eq!(
        task(&core.handle(&up("h1", "bye", UpBody::Logout), 1).commands),
        Some(Task::LoggedOut)
    );
    let d = task(&login(&mut core, "h2"));
    assert!(
        matches!(&d, Some(Task::Pick { order, .. }) if order == "o1"),
        "{d:?}"
    );
    let r = rejects(
        &core
            .handle(&scan_as("h1", "z", ScanWhat::Location, "A-00"), 2)
            .commands,
    );
    assert_eq!(r, vec!["log in first"]);
}

#[test]
fn stale_messages_are_refused_and_a_redelivery_gets_the_same_answer_even_a_refusal() {
    let mut core = Core::new(layout());
    core.handle(&order("o1", "11:00", 1), 0);
    login(&mut core, "h1");
    let with_seq = |id: &str, seq, code: &str| Event::Scanner {
        scanner: "h1".into(),
        msg: floorctl_protocol::scanner::Up {
            v: floorctl_protocol::scanner::SCHEMA_VERSION,
            id: id.into(),
            seq: Some(seq),
            body: UpBody::Scan {
                what: ScanWhat::Location,
                code: code.into(),
            },
        },
    };
    let wrong = core.handle(&with_seq("w", 10, "B-1"), 1).commands;
    assert_eq!(
        core.handle(&with_seq("w", 10, "B-1"), 2).commands,
        wrong,
        "the same answer"
    );
    let stale = rejects(&core.handle(&with_seq("old", 9, "A-00"), 3).commands);
    assert!(
        stale[0].starts_with("stale message: counter 9 is not above 10"),
        "{stale:?}"
    );
    let d = task(&core.handle(&with_seq("new", 11, "A-00"), 4).commands);
    assert!(matches!(
        d,
        Some(Task::Pick {
            expect: Expect::Sku,
            ..
        })
    ));
    assert_eq!(
        core.summary().refused,
        2,
        "the re-delivery is not counted again"
    );
}

#[test]
fn lines_are_directed_in_the_order_of_the_shortest_route_when_the_pick_area_is_known() {
    use super::routing::{Pick, Warehouse};
    let slot = |aisle, position_m| Pick { aisle, position_m };
    let mut l = layout();
    l.warehouse = Some(Warehouse {
        aisles: 5,
        aisle_length_m: 10.0,
        aisle_pitch_m: 3.0,
        cross_aisle_width_m: 2.0,
        depot_m: 0.0,
        slots: [
            ("A-00", slot(5, 3.0)),
            ("A-01", slot(1, 3.0)),
            ("A-02", slot(3, 3.0)),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect(),
    });
    let mut core = Core::new(l);
    core.handle(&order("o1", "11:00", 3), 0);
    let mut seen = Vec::new();
    let mut cmds = login(&mut core, "h1");
    for n in 0..3 {
        let Some(Task::Pick {
            location,
            sku,
            qty,
            line,
            ..
        }) = task(&cmds)
        else {
            panic!("a pick direction: {cmds:?}")
        };
        seen.push(location.clone());
        core.handle(
            &scan_as("h1", &format!("l{n}"), ScanWhat::Location, &location),
            1,
        );
        core.handle(&scan_as("h1", &format!("s{n}"), ScanWhat::Sku, &sku), 1);
        cmds = core
            .handle(&pick(&format!("p{n}"), "o1", line, qty, 1), 1)
            .commands;
    }
    let forward = ["A-01", "A-02", "A-00"];
    let backward = ["A-00", "A-02", "A-01"];
    assert!(
        seen == forward || seen == backward,
        "aisle by aisle, not in order-line order: {seen:?}"
    );
}

#[test]
fn a_redelivery_after_the_work_moved_on_gets_the_current_direction_not_an_old_one() {
    let mut core = Core::new(layout());
    super::tests::picked_o1(&mut core, 1);
    let closed = up("h1", "close", UpBody::ToteClosed { tote: 1 });
    assert!(matches!(
        task(&core.handle(&closed, 2).commands),
        Some(Task::ToteComplete { tote: 1, .. })
    ));
    // The tote reaches the conveyor: the picker is given the next order.
    let next = task(&core.handle(&super::tests::entered(1, 1), 3).commands);
    assert!(
        matches!(&next, Some(Task::Pick { order, .. }) if order == "o2"),
        "{next:?}"
    );
    // The handheld sends its tote-closed message again: it is not sent back to delivering.
    let again = task(&core.handle(&closed, 4).commands);
    assert_eq!(again, next);
}

#[test]
fn urgent_orders_are_picked_before_any_normal_one_whatever_their_cutoff() {
    let mut core = Core::new(layout());
    core.handle(&order("early", "11:00", 1), 0);
    let urgent = match order("pharmacy", "17:00", 1) {
        Event::OrderReceived { mut order } => {
            order.priority = floorctl_protocol::order::Priority::Urgent;
            Event::OrderReceived { order }
        }
        other => other,
    };
    core.handle(&urgent, 1);
    let d = task(&login(&mut core, "h1"));
    assert!(
        matches!(&d, Some(Task::Pick { order, .. }) if order == "pharmacy"),
        "{d:?}"
    );
    let d = task(&login(&mut core, "h2"));
    assert!(
        matches!(&d, Some(Task::Pick { order, .. }) if order == "early"),
        "{d:?}"
    );
}

fn login_session(id: &str, session: &str, seq: u64) -> Event {
    let mut e = up(
        "h1",
        id,
        UpBody::Login {
            picker: "p1".into(),
            session: Some(session.into()),
        },
    );
    if let Event::Scanner { msg, .. } = &mut e {
        msg.seq = Some(seq);
    }
    e
}

fn with_seq(mut e: Event, seq: u64) -> Event {
    if let Event::Scanner { msg, .. } = &mut e {
        msg.seq = Some(seq);
    }
    e
}

#[test]
fn a_login_of_a_new_session_starts_the_counter_afresh_and_an_old_one_stays_stale() {
    let mut core = Core::new(layout());
    core.handle(&order("o1", "11:00", 3), 0);
    assert!(rejects(&core.handle(&login_session("a1", "first", 1), 1).commands).is_empty());
    let scan = scan_as("h1", "a2", ScanWhat::Location, "A-00");
    assert!(rejects(&core.handle(&with_seq(scan, 50), 1).commands).is_empty());
    // Reinstalled: the app counts from 1 again, in a session of its own.
    let cmds = core.handle(&login_session("b1", "second", 1), 2).commands;
    assert!(rejects(&cmds).is_empty(), "{cmds:?}");
    assert!(task(&cmds).is_some(), "the current direction again");
    let scan = scan_as("h1", "b2", ScanWhat::Sku, "S0");
    assert!(rejects(&core.handle(&with_seq(scan, 2), 2).commands).is_empty());
    // The first session's login delivered again later changes nothing.
    let r = rejects(&core.handle(&login_session("a9", "first", 51), 3).commands);
    assert!(r[0].contains("stale"), "{r:?}");
}

#[test]
fn a_handheld_silent_past_the_limit_hands_its_work_back_without_a_last_will() {
    let mut layout = layout();
    layout.handheld_silent_ms = 60_000;
    let mut core = Core::new(layout);
    core.handle(&order("o1", "11:00", 1), 0);
    login(&mut core, "h1");
    assert!(core.lost_handhelds(59_999, 10_000).is_empty());
    assert_eq!(core.lost_handhelds(60_000, 10_000), vec!["h1".to_string()]);
    core.handle(
        &Event::HandheldLost {
            scanner: "h1".into(),
        },
        60_000,
    );
    // Another picker takes the order; the silent one gets nothing until it speaks again.
    let d = task(&login(&mut core, "h2"));
    assert!(
        matches!(d, Some(Task::Pick { ref order, .. }) if order == "o1"),
        "{d:?}"
    );
    assert!(!core
        .lost_handhelds(200_000, 10_000)
        .contains(&"h1".to_string()));
}

#[test]
fn a_supervisor_hands_a_handhelds_work_back_and_resets_its_counter() {
    let mut core = Core::new(layout());
    core.handle(&order("o1", "11:00", 1), 0);
    core.handle(&login_session("a1", "s", 100), 0);
    let command = |command| Event::HandheldCommand {
        scanner: "h1".into(),
        command,
        by: "sue".into(),
    };
    core.handle(&command(HandheldCommand::Release), 1);
    let d = task(&login(&mut core, "h2"));
    assert!(
        matches!(d, Some(Task::Pick { ref order, .. }) if order == "o1"),
        "{d:?}"
    );
    let stale = with_seq(up("h1", "x", UpBody::Logout), 5);
    assert!(rejects(&core.handle(&stale, 2).commands)[0].contains("stale"));
    core.handle(&command(HandheldCommand::Reset), 3);
    let fresh = with_seq(up("h1", "y", UpBody::Logout), 5);
    assert!(rejects(&core.handle(&fresh, 4).commands).is_empty());
    let r = refusals(&core.handle(
        &Event::HandheldCommand {
            scanner: "h9".into(),
            command: HandheldCommand::Release,
            by: "sue".into(),
        },
        5,
    ));
    assert!(r[0].contains("h9"), "{r:?}");
}

#[test]
fn the_summary_shows_what_each_handheld_does_as_of_the_last_event() {
    let mut core = Core::new(layout());
    assert!(core.summary().handhelds.is_empty());
    login(&mut core, "h1");
    let views = core.summary().handhelds;
    assert_eq!(views.len(), 1, "{views:?}");
    assert_eq!((views[0].id.as_str(), views[0].online), ("h1", true));
    let before = core.summary().handhelds;
    core.handle(
        &Event::ChuteFull {
            sorter: "s1".into(),
            chute: 1,
            full: true,
        },
        1,
    );
    assert!(
        std::sync::Arc::ptr_eq(&before, &core.summary().handhelds),
        "a sorter's report leaves the handhelds' views as they were, not rebuilt"
    );
    assert_eq!(core.summary(), core.recount());
}

#[test]
fn a_directed_order_missing_from_the_state_refuses_the_handheld_instead_of_panicking() {
    // A state that lost an order its handheld was directed to (a damaged snapshot, say).
    let mut core = Core::new(layout());
    core.handle(&order("o1", "11:00", 1), 0);
    login(&mut core, "h1");
    core.orders.remove("o1");
    let r = rejects(
        &core
            .handle(&scan_as("h1", "a", ScanWhat::Location, "A-00"), 1)
            .commands,
    );
    assert_eq!(r, vec!["order o1 line 0 is not known here"]);
    let r = rejects(&core.handle(&pick("m1", "o1", 0, 1, 1), 2).commands);
    assert_eq!(r, vec!["order o1 line 0 is not known here"]);
}

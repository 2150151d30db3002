use floorctl_protocol::order::Priority;
use floorctl_protocol::scanner::{Task, UpBody};

use super::tests::{confirm, directions, induct, layout, login, order, picked_o1, up};
use super::tests_equipment::refusals;
use super::*;

fn jam(fault: bool) -> Event {
    Event::ZoneFault {
        conveyor: "cv1".into(),
        zone: 2,
        fault,
    }
}

fn ack(alarm: u64, by: &str) -> Event {
    Event::AlarmAck {
        alarm,
        by: by.into(),
    }
}

fn alarm(core: &Core, id: u64) -> Alarm {
    core.summary().alarm_log[&id].clone()
}

#[test]
fn a_standing_alarm_is_acknowledged_once_and_cleared_when_its_condition_goes() {
    let mut core = Core::new(layout());
    core.handle(&jam(true), 10);
    let a = alarm(&core, 1);
    assert_eq!(
        (a.state, a.raised, a.source.as_str()),
        (AlarmState::Active, 10, "cv1")
    );
    assert!(refusals(&core.handle(&ack(1, "sue"), 20)).is_empty());
    let a = alarm(&core, 1);
    assert_eq!(a.state, AlarmState::Acknowledged);
    assert_eq!(
        (a.acknowledged_by.as_deref(), a.acknowledged),
        (Some("sue"), Some(20))
    );
    let again = refusals(&core.handle(&ack(1, "tom"), 21));
    assert!(
        again[0].contains("already acknowledged by sue"),
        "{again:?}"
    );
    assert_eq!(alarm(&core, 1).acknowledged_by.as_deref(), Some("sue"));
    core.handle(&jam(false), 30);
    let a = alarm(&core, 1);
    assert_eq!((a.state, a.cleared), (AlarmState::Cleared, Some(30)));
    let none = refusals(&core.handle(&ack(9, "sue"), 31));
    assert!(none[0].contains("no alarm 9"), "{none:?}");
    assert_eq!(core.summary(), core.recount());
}

#[test]
fn a_one_off_alarm_is_cleared_by_acknowledging_it_and_finished_alarms_are_bounded() {
    let mut core = Core::new(layout());
    let unknown = |tote| Event::ToteEntered {
        conveyor: "cv1".into(),
        tote,
        seq: tote as u16,
    };
    core.handle(&unknown(77), 1);
    assert_eq!(alarm(&core, 1).state, AlarmState::Active);
    core.handle(&ack(1, "sue"), 2);
    assert_eq!(alarm(&core, 1).state, AlarmState::Cleared);
    core.handle(&jam(true), 3);
    for t in 100..400 {
        core.handle(&unknown(t), 4);
        core.handle(
            &ack(
                core.summary().alarm_log.keys().last().copied().unwrap(),
                "sue",
            ),
            5,
        );
    }
    let log = core.summary().alarm_log;
    assert!(log.len() <= 101, "{} kept", log.len());
    assert_eq!(
        log[&2].state,
        AlarmState::Active,
        "an open alarm is never dropped"
    );
}

#[test]
fn a_held_wave_starts_no_trip_until_released() {
    let mut core = Core::new(layout());
    core.handle(&order("o1", "11:00", 1), 0);
    let hold = |held| Event::WaveHold {
        cutoff: "11:00".into(),
        held,
        by: "sue".into(),
    };
    assert!(refusals(&core.handle(&hold(true), 1)).is_empty());
    assert!(core.summary().waves["11:00"].held);
    let twice = refusals(&core.handle(&hold(true), 1));
    assert!(twice[0].contains("already held"), "{twice:?}");
    assert_eq!(directions(&login(&mut core, "h1")), vec![Task::Wait]);
    let d = directions(&core.handle(&hold(false), 2).commands);
    assert!(
        matches!(&d[..], [Task::Pick { order, .. }] if order == "o1"),
        "{d:?}"
    );
    let unknown = Event::WaveHold {
        cutoff: "09:00".into(),
        held: true,
        by: "sue".into(),
    };
    let r = refusals(&core.handle(&unknown, 3));
    assert!(r[0].contains("no cut-off `09:00`"), "{r:?}");
    assert_eq!(core.summary(), core.recount());
}

#[test]
fn raising_an_order_to_urgent_puts_it_first() {
    let mut core = Core::new(layout());
    core.handle(&order("o1", "11:00", 1), 0);
    core.handle(&order("o2", "17:00", 1), 0);
    let raise = |id: &str| Event::OrderPriority {
        order: id.into(),
        priority: Priority::Urgent,
        by: "sue".into(),
    };
    assert!(refusals(&core.handle(&raise("o2"), 1)).is_empty());
    let d = directions(&login(&mut core, "h1"));
    assert!(
        matches!(&d[..], [Task::Pick { order, .. }] if order == "o2"),
        "{d:?}"
    );
    let r = refusals(&core.handle(&raise("o2"), 2));
    assert!(r[0].contains("already picking"), "{r:?}");
    let r = refusals(&core.handle(&raise("nope"), 2));
    assert!(r[0].contains("no order `nope`"), "{r:?}");
}

#[test]
fn key_figures_follow_the_orders_totes_and_counts() {
    let mut core = Core::new(layout());
    picked_o1(&mut core, 0);
    core.handle(&up("h1", "m2", UpBody::ToteClosed { tote: 1 }), 60_001);
    core.handle(&induct(1, 1), 60_002);
    core.handle(&confirm(1, 1, SortOutcome::Sorted, 1), 60_003);
    let s = core.summary();
    assert_eq!((s.kpis.orders_shipped, s.kpis.orders_complete), (1, 1));
    assert_eq!((s.kpis.totes_sorted, s.kpis.totes_right_lane), (1, 1));
    assert_eq!(s.in_flight, 0);
    let minutes: Vec<(Millis, u32, u32, u32)> = s
        .throughput
        .iter()
        .map(|m| (m.at, m.lines, m.orders, m.totes))
        .collect();
    assert_eq!(minutes, vec![(0, 1, 0, 0), (60_000, 0, 1, 1)]);

    let count = |qty| Event::Counted {
        sku: "S0".into(),
        location: "A-00".into(),
        qty,
        by: "sue".into(),
    };
    core.handle(
        &Event::Stock {
            sku: "S0".into(),
            location: "A-00".into(),
            qty: 5,
        },
        60_004,
    );
    core.handle(&count(5), 60_005);
    let alarms = core.handle(&count(4), 60_006).commands;
    assert!(
        matches!(&alarms[..], [Command::Alarm { text, .. }] if text.contains("4 found, 5 on the book")),
        "{alarms:?}"
    );
    core.handle(&count(4), 60_007);
    let k = core.summary().kpis;
    assert_eq!(
        (k.counts, k.counts_matching),
        (3, 2),
        "the book follows the count"
    );
    assert_eq!(core.summary(), core.recount());
}

#[test]
fn a_flood_of_one_off_alarms_of_one_kind_is_one_alarm_counting_repeats() {
    let mut core = Core::new(layout());
    for tote in 1..=5_000u32 {
        core.handle(
            &induct(900_000 + tote, (tote % 60_000) as u16 + 1),
            u64::from(tote),
        );
    }
    let s = core.summary();
    assert_eq!(s.alarm_log.len(), 1, "one line for the flood");
    let a = alarm(&core, 1);
    assert_eq!(a.repeats, 4_999);
    assert_eq!(a.last, Some(5_000));
    assert!(a.text.contains("unknown tote 905000"), "{}", a.text);
    assert_eq!(s.alarms, 5_000, "every alarm is still counted");

    // Another kind from the same source is its own alarm.
    core.handle(
        &Event::PlcFault {
            plc: "s1".into(),
            condition: PlcCondition::Values,
            fault: Some("outcome code 99".into()),
        },
        5_001,
    );
    assert_eq!(core.summary().alarm_log.len(), 2);

    // Once acknowledged, the next of the kind is a new alarm.
    assert!(refusals(&core.handle(&ack(1, "sue"), 5_002)).is_empty());
    core.handle(&induct(999_999, 7), 5_003);
    let newest = core.summary().alarm_log.keys().copied().max().unwrap();
    assert!(newest > 2);
    let a = alarm(&core, newest);
    assert_eq!((a.repeats, a.state), (0, AlarmState::Active));
}

#[test]
fn an_order_no_picker_took_is_cancelled_and_leaves_the_counts_and_the_queue() {
    let mut core = Core::new(layout());
    core.handle(&order("o1", "11:00", 1), 0);
    core.handle(&order("o2", "11:00", 2), 0);
    core.handle(&order("o3", "17:00", 1), 0);
    let cancel = |id: &str| Event::OrderCancelled {
        order: id.into(),
        by: "api:shop".into(),
    };
    let reaction = core.handle(&cancel("o1"), 1);
    assert!(refusals(&reaction).is_empty(), "{reaction:?}");
    assert!(reaction.records.iter().any(|r| matches!(
        r,
        Record::Order { id, status: OrderStatus::Cancelled, .. } if id == "o1"
    )));
    let s = core.summary();
    assert_eq!((s.orders, s.cancelled, s.waves["11:00"].orders), (2, 1, 1));
    assert_eq!(s, core.recount());
    // The next picker gets o2, never o1.
    let d = directions(&login(&mut core, "h1"));
    assert!(
        matches!(&d[..], [Task::Pick { order, .. }] if order == "o2"),
        "{d:?}"
    );
    let r = refusals(&core.handle(&cancel("o2"), 2));
    assert_eq!(
        r,
        ["order o2 is already picking (tote 1): it can no longer be cancelled; take it out at packing"]
    );
    let r = refusals(&core.handle(&cancel("o1"), 2));
    assert_eq!(r, ["order o1 is already cancelled"]);
    let r = refusals(&core.handle(&cancel("nope"), 2));
    assert_eq!(r, ["there is no order `nope`"]);
    assert!(refusals(&core.handle(&cancel("o3"), 3)).is_empty());
    assert_eq!(core.summary(), core.recount());
}

#[test]
fn stock_movements_are_taken_whole_or_refused_whole() {
    let mut core = Core::new(layout());
    let moved = |moves: &[(&str, &str, i64)]| Event::StockMoved {
        movements: moves
            .iter()
            .map(|(sku, location, change)| StockMovement {
                sku: sku.to_string(),
                location: location.to_string(),
                change: *change,
                reason: if *change > 0 {
                    "receipt".into()
                } else {
                    "damaged".into()
                },
            })
            .collect(),
        by: "api:wms".into(),
    };
    let out = core.handle(&moved(&[("S", "A-01", 10), ("T", "A-02", 4)]), 1);
    assert_eq!(out.refusal, None);
    assert_eq!((core.stock["S"]["A-01"], core.stock["T"]["A-02"]), (10, 4));
    // Two movements of one location add up: 10 - 3 - 2 = 5.
    core.handle(&moved(&[("S", "A-01", -3), ("S", "A-01", -2)]), 2);
    assert_eq!(core.stock["S"]["A-01"], 5);
    // One that would leave less than nothing refuses the whole request.
    let out = core.handle(&moved(&[("T", "A-02", 6), ("S", "A-01", -6)]), 3);
    let refusal = out.refusal.expect("refused");
    assert!(
        refusal.reason.contains("S at A-01: the book holds 5"),
        "{}",
        refusal.reason
    );
    assert_eq!(
        (core.stock["S"]["A-01"], core.stock["T"]["A-02"]),
        (5, 4),
        "nothing moved"
    );
}

use floorctl_protocol::scanner::UpBody;

use super::tests::{confirm, entered, induct, layout, login, order, pick, scan, up};
use super::*;
use crate::clock::TimeOfDay;

/// The kinds published by handling `event`, with the order each is about.
fn kinds(core: &mut Core, event: &Event, now: Millis) -> Vec<(PublishedKind, Option<String>)> {
    core.handle(event, now)
        .published
        .into_iter()
        .map(|p| (p.kind, p.order))
        .collect()
}

fn about(kind: PublishedKind, order: &str) -> (PublishedKind, Option<String>) {
    (kind, Some(order.to_string()))
}

#[test]
fn an_orders_life_is_published_step_by_step_and_about_that_order() {
    let mut core = Core::new(layout());
    let received = core.handle(&order("o1", "17:00", 1), 0).published;
    // With no release lead time it goes to the pickers as it arrives.
    let got: Vec<_> = received.iter().map(|p| p.kind).collect();
    assert_eq!(
        got,
        vec![PublishedKind::OrderReceived, PublishedKind::OrderReleased]
    );
    assert_eq!(received[0].data["cutoff"], "17:00");
    assert_eq!(received[0].data["lines"], 1);
    assert_eq!(received[0].order.as_deref(), Some("o1"));

    let taken = kinds(
        &mut core,
        &up(
            "h1",
            "login",
            UpBody::Login {
                picker: "p1".into(),
                session: None,
            },
        ),
        0,
    );
    assert_eq!(
        taken,
        vec![],
        "a picker taking the order is no news outside"
    );
    scan(&mut core, 0);
    let picked = core.handle(&pick("m1", "o1", 0, 1, 1), 1).published;
    assert_eq!(picked.len(), 1, "{picked:?}");
    assert_eq!(picked[0].kind, PublishedKind::OrderLinePicked);
    assert_eq!(
        (
            &picked[0].data["handheld"],
            &picked[0].data["sku"],
            &picked[0].data["tote"]
        ),
        (
            &serde_json::json!("h1"),
            &serde_json::json!("S0"),
            &serde_json::json!(1)
        )
    );
    assert_eq!(
        kinds(&mut core, &pick("m1", "o1", 0, 1, 1), 1),
        vec![],
        "a message delivered again is no news"
    );
    let closed = kinds(
        &mut core,
        &up("h1", "m2", UpBody::ToteClosed { tote: 1 }),
        2,
    );
    assert_eq!(
        closed,
        vec![
            about(PublishedKind::OrderPicked, "o1"),
            about(PublishedKind::ToteClosed, "o1")
        ]
    );
    core.handle(&entered(1, 1), 3);
    let inducted = core.handle(&induct(1, 1), 4).published;
    assert_eq!(inducted.len(), 1, "{inducted:?}");
    assert_eq!(
        (inducted[0].kind, &inducted[0].data["chute"]),
        (PublishedKind::ToteInducted, &serde_json::json!(3))
    );
    assert_eq!(
        kinds(&mut core, &induct(1, 1), 4),
        vec![],
        "a read replayed is no news"
    );
    let sorted = kinds(&mut core, &confirm(1, 3, SortOutcome::Sorted, 1), 5);
    assert_eq!(
        sorted,
        vec![
            about(PublishedKind::ToteSorted, "o1"),
            about(PublishedKind::OrderSorted, "o1")
        ]
    );
}

#[test]
fn a_cancelled_order_is_published_with_who_cancelled_it_and_a_refused_cancel_is_not() {
    let mut core = Core::new(layout());
    core.handle(&order("o1", "17:00", 1), 0);
    core.handle(&order("o2", "17:00", 1), 0);
    let cancel = |id: &str| Event::OrderCancelled {
        order: id.into(),
        by: "api:shop".into(),
    };
    let out = core.handle(&cancel("o2"), 1);
    assert_eq!(out.published.len(), 1);
    assert_eq!(out.published[0].kind, PublishedKind::OrderCancelled);
    assert_eq!(out.published[0].data["by"], "api:shop");
    // o1 is being picked: the cancel is refused and nothing is published.
    login(&mut core, "h1");
    let out = core.handle(&cancel("o1"), 2);
    assert!(out.refusal.is_some());
    assert_eq!(out.published, vec![]);
}

#[test]
fn alarms_raised_and_cleared_are_published() {
    let mut core = Core::new(layout());
    let link = |up: bool| Event::PlcLink {
        plc: "s1".into(),
        up,
        reason: Some("timed out".into()),
    };
    assert_eq!(
        kinds(&mut core, &link(false), 0),
        vec![(PublishedKind::AlarmRaised, None)]
    );
    assert_eq!(
        kinds(&mut core, &link(true), 1),
        vec![(PublishedKind::AlarmCleared, None)]
    );
}

#[test]
fn a_failing_webhook_is_a_standing_alarm_until_it_takes_events_again() {
    let mut core = Core::new(layout());
    let failing = |fault: Option<&str>| Event::Delivery {
        endpoint: "erp".into(),
        fault: fault.map(str::to_string),
    };
    let out = core.handle(&failing(Some("connection refused")), 0);
    assert!(
        matches!(&out.commands[..], [Command::Alarm { source, text, .. }]
        if source == "webhook erp" && text.contains("connection refused"))
    );
    assert!(
        core.handle(&failing(Some("connection refused")), 1)
            .commands
            .is_empty(),
        "the same fault again is the same alarm"
    );
    let out = core.handle(&failing(None), 2);
    assert!(
        matches!(&out.commands[..], [Command::AlarmCleared { source, .. }] if source == "webhook erp")
    );
}

#[test]
fn every_kind_has_a_name_that_parses_back_and_serialises_as_that_name() {
    for kind in PublishedKind::ALL {
        assert_eq!(PublishedKind::parse(kind.as_str()), Some(kind));
        assert_eq!(serde_json::to_value(kind).unwrap(), kind.as_str());
    }
    assert_eq!(PublishedKind::parse("order.shipped.twice"), None);
}

#[test]
fn an_order_past_its_due_time_is_said_late_once() {
    let mut l = layout();
    l.cutoffs[0].ordered_before = Some(TimeOfDay::parse("11:00").unwrap());
    l.cutoffs[0].sorted_by = Some(TimeOfDay::parse("13:30").unwrap());
    let day: Millis = 20_000 * 86_400_000;
    let h: Millis = 3_600_000;
    let mut core = Core::new(l);
    core.handle(&order("o1", "11:00", 1), day + 9 * h);
    let late = |core: &mut Core, at| -> Vec<PublishedKind> {
        let out = core.handle(&Event::Tick, at);
        out.published
            .iter()
            .map(|p| p.kind)
            .filter(|k| *k == PublishedKind::OrderLate)
            .collect()
    };
    assert_eq!(late(&mut core, day + 13 * h), vec![], "not due yet");
    assert_eq!(
        late(&mut core, day + 14 * h),
        vec![PublishedKind::OrderLate],
        "13:30 passed, unsorted"
    );
    assert_eq!(late(&mut core, day + 15 * h), vec![], "said once");
}

#[test]
fn a_line_picked_short_is_published_as_short_too() {
    let mut core = Core::new(layout());
    core.handle(&order("o1", "17:00", 2), 0);
    login(&mut core, "h1");
    scan(&mut core, 0);
    // Line 0 asks for 1 unit of S0; line 1 for 2 of S1: 1 found.
    core.handle(&pick("m1", "o1", 0, 1, 1), 1);
    scan(&mut core, 1);
    let short = UpBody::Short {
        order: "o1".into(),
        line: 1,
        found: 1,
        tote: 1,
    };
    let out = core.handle(&up("h1", "m2", short), 2).published;
    let short = out
        .iter()
        .find(|p| p.kind == PublishedKind::OrderShort)
        .expect("short published");
    assert_eq!(
        (&short.data["wanted"], &short.data["picked"]),
        (&serde_json::json!(2), &serde_json::json!(1))
    );
}

#[test]
fn replaying_the_journal_rebuilds_the_same_state_as_handling_it() {
    let events = [order("o1", "17:00", 2), order("o2", "11:00", 1)];
    let (mut first, mut again) = (Core::new(layout()), Core::new(layout()));
    for (i, e) in events.iter().enumerate() {
        first.handle(e, i as Millis);
        again.replay(e, i as Millis);
    }
    login(&mut first, "h1");
    login(&mut again, "h1");
    assert_eq!(first.snapshot(), again.snapshot());
    // Replaying leaves the core publishing as before.
    assert!(!again
        .handle(&order("o3", "17:00", 1), 9)
        .published
        .is_empty());
}

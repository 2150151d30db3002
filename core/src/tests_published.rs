use floorctl_protocol::scanner::UpBody;

use super::tests::{confirm, entered, induct, layout, login, order, pick, scan, up};
use super::*;

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
    assert_eq!(
        kinds(&mut core, &pick("m1", "o1", 0, 1, 1), 1),
        vec![],
        "a unit picked is no news outside"
    );
    let closed = kinds(
        &mut core,
        &up("h1", "m2", UpBody::ToteClosed { tote: 1 }),
        2,
    );
    assert_eq!(closed, vec![about(PublishedKind::OrderPicked, "o1")]);
    core.handle(&entered(1, 1), 3);
    core.handle(&induct(1, 1), 4);
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
        matches!(&out.commands[..], [Command::Alarm { source, text }]
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

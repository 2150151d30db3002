//! A day of orders picked by the simulator's pickers through real MQTT, with the mistakes of a
//! real floor: wrong scans, short picks and a handheld that drops offline mid-order.

mod common;

use std::time::Duration;

use common::{
    assert_every_order_accounted_for, fast_floor, floor_with_pickers, journal, wait_sorted,
};
use floorctl::controller::Controller;
use floorctl::core::Event;
use floorctl_protocol::scanner::UpBody;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pickers_finish_the_day_through_wrong_scans_shorts_and_an_offline_handheld() {
    let f = floor_with_pickers(31, 40, fast_floor(), |p| {
        p.wrong_scan_rate = 0.15;
        p.short_rate = 0.05;
        // h2 drops off the network right after its third line, mid-order, for six seconds.
        p.offline = vec![(2, 3, 6_000)];
    })
    .await;
    let mut config = common::config(&f, &f.db);
    config.layout.handheld_timeout_ms = 2_000;
    let c = Controller::start(config).await.unwrap();
    for o in &f.orders {
        c.submit(o.clone()).await;
    }
    wait_sorted(&c, f.orders.len(), Duration::from_secs(150)).await;
    let s = c.summary().borrow().clone();
    c.shutdown(Duration::from_secs(5)).await;
    assert_every_order_accounted_for(&f).await;

    assert!(s.refused > 0, "wrong scans were refused: {s:?}");
    assert!(
        s.shorts > 0 && s.backordered > 0,
        "shorts were booked and back-ordered: {s:?}"
    );

    let events = journal(&f).await;
    let lost = events
        .iter()
        .position(|e| matches!(e, Event::HandheldLost { scanner } if scanner == "h2"))
        .expect("h2's work was handed over when it stayed offline");
    // The order h2 held half-picked (a line picked, its tote not closed by h2) is finished by
    // someone else: a later line picked, or its tote closed.
    let closed_by_h2: Vec<u32> = events[..lost]
        .iter()
        .filter_map(|e| match e {
            Event::Scanner { scanner, msg } if scanner == "h2" => match msg.body {
                UpBody::ToteClosed { tote } => Some(tote),
                _ => None,
            },
            _ => None,
        })
        .collect();
    let held = events[..lost].iter().rev().find_map(|e| match e {
        Event::Scanner { scanner, msg } if scanner == "h2" => match &msg.body {
            UpBody::Pick { order, tote, .. } | UpBody::Short { order, tote, .. } => {
                Some((order.clone(), *tote))
            }
            _ => None,
        },
        _ => None,
    });
    // h2 dropped off right after confirming a line, so it held that order when it was lost.
    let (order, tote) = held
        .filter(|(_, tote)| !closed_by_h2.contains(tote))
        .expect("h2 held a half-picked order when it went offline");
    let finished_by_other = events[lost..].iter().any(|e| match e {
        Event::Scanner { scanner, msg } if scanner != "h2" => match &msg.body {
            UpBody::Pick { order: o, .. } | UpBody::Short { order: o, .. } => *o == order,
            UpBody::ToteClosed { tote: t } => *t == tote,
            _ => false,
        },
        _ => false,
    });
    assert!(
        finished_by_other,
        "another picker carried on with order {order} in tote {tote}"
    );
    f.sim.shutdown().await;
}

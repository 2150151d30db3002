//! A day of orders picked by the simulator's pickers through real MQTT, with the mistakes of a
//! real floor: wrong scans, short picks and a handheld that drops offline mid-order.

mod common;

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use common::{assert_every_order_accounted_for, floor, journal, wait_sorted};
use floorctl::controller::Controller;
use floorctl_core::{BatchPolicy, Batching, Event, LocalClock, SortOutcome};
use floorctl_protocol::scanner::UpBody;
use floorsim::picker::Walk;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pickers_finish_the_day_through_wrong_scans_shorts_and_an_offline_handheld() {
    let f = floor(31)
        .orders(40)
        .pickers(|p| {
            p.wrong_scan_rate = 0.15;
            p.short_rate = 0.05;
            p.tote_full_rate = 0.1;
            // h2 drops off the network right after its third line, mid-order, for six seconds.
            p.offline = vec![(2, 3, 6_000)];
        })
        .await;
    let mut config = common::config(&f, &f.db);
    config.layout.handheld_timeout_ms = 2_000;
    let s = run_day(&f, config).await;

    assert!(s.refused > 0, "wrong scans were refused: {s:?}");
    assert!(
        s.shorts > 0 && s.backordered > 0,
        "shorts were booked and back-ordered: {s:?}"
    );
    let totes: usize = s.per_chute.values().sum();
    assert!(
        totes > f.orders.len(),
        "some orders filled a tote and went on in another: {totes} totes sorted for {} orders",
        f.orders.len()
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_timed_day_in_batched_trips_is_released_in_paces_and_every_tote_reaches_its_lane_in_time()
{
    // Pickers walk the pick area at 40 m/s (a fast test; the distances are real).
    let f = floor(32)
        .orders(30)
        .pickers(|p| {
            p.walk = Some(Walk {
                area: common::sim_pick_area(),
                speed_m_s: 40.0,
            });
        })
        .await;
    let mut config = common::config(&f, &f.db);
    config.layout.warehouse = Some(common::sim_pick_area());
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64;
    // Cut-off times are whole minutes: 11:00's due in 3 to 4 minutes, 17:00's two minutes later.
    let clock = LocalClock::default();
    let first = clock.time_of_day(now + 4 * 60_000);
    let second = clock.time_of_day(now + 6 * 60_000);
    let due = [clock.next(now, first), clock.next(now, second)];
    config.layout.cutoffs[0].sorted_by = Some(first);
    config.layout.cutoffs[1].sorted_by = Some(second);
    // 17:00's orders are released eight seconds in; 11:00's at once.
    let release_second = now + 8_000;
    config.layout.release.lead_ms = due[1] - release_second;
    config.layout.release.lines_per_picker_hour = 3_600;
    config.layout.release.wip_per_zone = 2;
    // Pickers are offered trips of up to three orders, the nearest ones together.
    config.layout.offer_trips = true;
    config.layout.batching = Batching {
        policy: BatchPolicy::Seed,
        totes_per_cart: 3,
        max_lines: 8,
    };
    config.layout.release.zones = (1..=12)
        .map(|aisle| (format!("A{aisle:02}-"), format!("Z{}", (aisle - 1) / 4)))
        .collect();
    let s = run_day(&f, config).await;
    assert!(
        s.waves.values().all(|w| w.sorted == w.orders),
        "{:?}",
        s.waves
    );

    let cutoff_of = |order: &str| {
        let o = f.orders.iter().find(|o| o.id == order).unwrap();
        usize::from(o.cutoff == "17:00")
    };
    let events = common::timed_journal_at(&f.db).await;
    let mut tote_order = std::collections::BTreeMap::new();
    let mut open: std::collections::BTreeMap<String, Vec<String>> = Default::default();
    let mut in_zone: std::collections::BTreeMap<String, usize> = Default::default();
    // Totes a picker has picked into and not closed: more than one is a batched trip.
    let mut carts: std::collections::BTreeMap<String, std::collections::BTreeSet<u32>> =
        Default::default();
    let mut batched = false;
    for (at, e) in &events {
        match e {
            Event::Scanner { scanner, msg } => match &msg.body {
                UpBody::Pick { order, tote, .. } | UpBody::Short { order, tote, .. } => {
                    tote_order.insert(*tote, order.clone());
                    let on_cart = carts.entry(scanner.clone()).or_default();
                    batched |= on_cart.iter().any(|t| t != tote);
                    on_cart.insert(*tote);
                    if cutoff_of(order) == 1 {
                        assert!(*at >= release_second, "{order} picked before its release");
                    }
                    // Orders in process per zone, from their first pick to their tote's close:
                    // never above the cap.
                    if !open.contains_key(order) {
                        let o = f.orders.iter().find(|o| o.id == *order).unwrap();
                        let mut zones: Vec<String> =
                            o.lines.iter().map(|l| zone(&l.location)).collect();
                        zones.sort();
                        zones.dedup();
                        for z in &zones {
                            let n = in_zone.entry(z.clone()).or_default();
                            *n += 1;
                            assert!(*n <= 2, "zone {z} had {n} orders in process");
                        }
                        open.insert(order.clone(), zones);
                    }
                }
                UpBody::ToteClosed { tote } => {
                    carts.entry(scanner.clone()).or_default().remove(tote);
                    let order = tote_order.get(tote).cloned().unwrap_or_default();
                    for z in open.remove(&order).unwrap_or_default() {
                        *in_zone.get_mut(&z).unwrap() -= 1;
                    }
                }
                _ => {}
            },
            Event::SortConfirmed {
                tote,
                outcome: SortOutcome::Sorted,
                ..
            } => {
                let order = &tote_order[tote];
                assert!(
                    *at <= due[cutoff_of(order)],
                    "{order} sorted after its cut-off"
                );
            }
            _ => {}
        }
    }
    assert!(batched, "pickers carried several orders' totes at once");
    assert!(
        f.sim.walked_m() > 100.0,
        "pickers walked the routes: {} m",
        f.sim.walked_m()
    );
    f.sim.shutdown().await;
}

/// The test's zones: aisles 1–4, 5–8 and 9–12.
fn zone(location: &str) -> String {
    let aisle: u32 = location[1..3].parse().unwrap();
    format!("Z{}", (aisle - 1) / 4)
}

/// Runs the controller on the floor's orders until all are sorted, checks every tote is
/// accounted for, and returns the final summary.
async fn run_day(f: &common::Floor, config: floorctl::config::Config) -> floorctl_core::Summary {
    let c = Controller::start(config).await.unwrap();
    for o in &f.orders {
        c.submit(o.clone()).await;
    }
    wait_sorted(&c, f.orders.len(), Duration::from_secs(150)).await;
    let s = c.summary().borrow().clone();
    c.shutdown(Duration::from_secs(5)).await;
    assert_every_order_accounted_for(f).await;
    s
}

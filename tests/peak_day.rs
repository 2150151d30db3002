//! A peak day on the simulator: the forward faces are brought up to the day's forecast the night
//! before (replenishment tasks on the handhelds, before any order is released), then the day's
//! orders are picked without a face running empty while reserve holds stock.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use common::{assert_every_order_accounted_for, floor, wait_sorted};
use floorctl::controller::Controller;
use floorctl_core::slotting::peak::peak_moves;
use floorctl_core::{Event, LocalClock, PickFace};
use floorctl_protocol::scanner::UpBody;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn moves_run_the_night_before_and_no_face_runs_empty_on_the_peak_day() {
    let f = floor(34).orders(30).await;
    let mut config = common::config(&f, &f.db);
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64;
    // Both cut-offs due in 3 to 4 minutes; the peak's orders are released 10 s in ("the morning"),
    // the moves may start 1 s in ("the night before").
    let clock = LocalClock::default();
    let due_at = clock.time_of_day(now + 4 * 60_000);
    for c in &mut config.layout.cutoffs {
        c.sorted_by = Some(due_at);
    }
    let due = clock.next(now, due_at);
    let release = now + 10_000;
    config.layout.release.lead_ms = due - release;
    config.layout.release.lines_per_picker_hour = 3_600;
    config.layout.inbound_chute = Some(7);
    let c = Controller::start(config).await.unwrap();

    // The busier half of the SKUs have forward faces holding 3 units, reserve holds 500 each,
    // but for the busiest, which the DC must send.
    let mut demand: BTreeMap<(String, String), f64> = BTreeMap::new();
    for o in &f.orders {
        for l in &o.lines {
            *demand
                .entry((l.sku.clone(), l.location.clone()))
                .or_default() += f64::from(l.qty);
        }
    }
    let mut by_units: Vec<(&(String, String), &f64)> = demand.iter().collect();
    by_units.sort_by(|a, b| b.1.total_cmp(a.1).then(a.0.cmp(b.0)));
    let faces: Vec<PickFace> = by_units[..by_units.len() / 2]
        .iter()
        .map(|((sku, location), _)| PickFace {
            location: location.clone(),
            sku: sku.clone(),
            min: 2,
            max: 40,
        })
        .collect();
    for (n, face) in faces.iter().enumerate() {
        assert!(c.stock(&face.sku, &face.location, 3).await);
        if n > 0 {
            assert!(c.stock(&face.sku, &format!("R-{}", face.sku), 500).await);
        }
    }
    assert!(c.set_pick_faces(faces.clone()).await);
    // The forecast for the peak: the day's units per SKU.
    let forecast: BTreeMap<String, f64> =
        demand.iter().map(|((s, _), u)| (s.clone(), *u)).collect();
    let moves = peak_moves(&faces, &|_, _| 3, &forecast);
    assert!(!moves.is_empty());
    assert!(c.preposition(moves.clone(), now + 1_000).await);
    // The DC ships transfer 1 (the busiest SKU's move) in tote 9000, which arrives on the
    // conveyor, is sorted to the inbound chute and put away to its face.
    assert!(c.transfer_shipped(1, 9000, None).await);
    f.sim.with_floor(|floor| floor.place_tote(9000));
    for o in &f.orders {
        c.submit(o.clone()).await;
    }
    wait_sorted(&c, f.orders.len(), Duration::from_secs(150)).await;
    let s = c.summary().borrow().clone();
    c.shutdown(Duration::from_secs(5)).await;
    assert_every_order_accounted_for(&f).await;

    let events = common::timed_journal_at(&f.db).await;
    let first_pick = events
        .iter()
        .find(|(_, e)| matches!(e, Event::Scanner { msg, .. } if matches!(msg.body, UpBody::Pick { .. })))
        .map(|(at, _)| *at)
        .expect("lines were picked");
    // Every move put forward: the reserve moves and the put-away of the DC's tote.
    let moved: Vec<u64> = events
        .iter()
        .filter_map(|(at, e)| match e {
            Event::Scanner { msg, .. } => match msg.body {
                UpBody::Replenished { .. } => Some(*at),
                _ => None,
            },
            _ => None,
        })
        .collect();
    let store = floorctl::store::Store::open(&f.db).await.unwrap();
    let transfers = store.transfers().await.unwrap();
    store.close().await;
    // The first transfer is the busiest face's move; the day's releases may ask for more.
    let first_move = moves.iter().find(|m| m.to == faces[0].location).unwrap();
    assert_eq!(
        (transfers[0].0, transfers[0].1.as_str(), transfers[0].2),
        (1, first_move.sku.as_str(), first_move.qty),
        "{transfers:?}"
    );
    assert!(
        f.sim
            .snapshot()
            .chutes
            .get(&7)
            .is_some_and(|t| t.contains(&9000)),
        "the transfer tote is in the inbound chute"
    );
    // All of them before the orders were released (refills the day's releases trigger come
    // after).
    let before: Vec<&u64> = moved.iter().filter(|at| **at < release).collect();
    assert_eq!(before.len(), moves.len(), "every move ran the night before");
    assert!(before
        .iter()
        .all(|at| **at >= now + 1_000 && **at < first_pick));
    assert_eq!(s.empty_face_picks, 0, "no face was picked past its stock");
    assert_eq!(s.emergencies, 0);
    assert!(s.stockouts.is_empty(), "{:?}", s.stockouts);
    let faces_at: BTreeSet<&str> = faces.iter().map(|f| f.location.as_str()).collect();
    for (location, face) in s.forward.iter() {
        assert!(faces_at.contains(location.as_str()));
        assert!(face.on_hand <= face.max, "{location}: {face:?}");
    }
    let share = f64::from(s.lines_forward) / f64::from(s.lines_picked);
    println!(
        "lines served forward: {} of {} ({:.1} %)",
        s.lines_forward,
        s.lines_picked,
        100.0 * share
    );
    assert!(
        share > 0.5 && share < 1.0,
        "the busier half of SKUs took most lines: {share}"
    );
    f.sim.shutdown().await;
}

//! A peak day on the simulator: the forward faces are brought up to the day's forecast the night
//! before (replenishment tasks on the handhelds, before any order is released), then the day's
//! orders are picked without a face running empty while reserve holds stock.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use common::{assert_every_order_accounted_for, fast_floor, floor_with_pickers, wait_sorted};
use floorctl::controller::Controller;
use floorctl::core::slotting::peak::peak_moves;
use floorctl::core::{Event, LocalClock, PickFace};
use floorctl_protocol::scanner::UpBody;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn moves_run_the_night_before_and_no_face_runs_empty_on_the_peak_day() {
    let f = floor_with_pickers(34, 30, fast_floor(), |_| {}).await;
    let mut config = common::config(&f, &f.db);
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64;
    // Both cut-offs due in 3 to 4 minutes; the peak's orders are released 6 s in ("the morning"),
    // the moves may start 1 s in ("the night before").
    let clock = LocalClock::default();
    let due_at = clock.time_of_day(now + 4 * 60_000);
    for c in &mut config.layout.cutoffs {
        c.sorted_by = Some(due_at);
    }
    let due = clock.next(now, due_at);
    let release = now + 6_000;
    config.layout.release.lead_ms = due - release;
    config.layout.release.lines_per_picker_hour = 3_600;
    let c = Controller::start(config).await.unwrap();

    // The busier half of the SKUs have forward faces holding 3 units, reserve holds 500 each.
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
    for face in &faces {
        assert!(c.stock(&face.sku, &face.location, 3).await);
        assert!(c.stock(&face.sku, &format!("R-{}", face.sku), 500).await);
    }
    assert!(c.set_pick_faces(faces.clone()).await);
    // The forecast for the peak: the day's units per SKU.
    let forecast: BTreeMap<String, f64> =
        demand.iter().map(|((s, _), u)| (s.clone(), *u)).collect();
    let moves = peak_moves(&faces, &|_, _| 3, &forecast);
    assert!(!moves.is_empty());
    assert!(c.preposition(moves.clone(), now + 1_000).await);
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
    // The moves are the first tasks made (the faces started above their minimum); refills
    // the day's releases trigger come after.
    let moved: BTreeMap<u64, u64> = events
        .iter()
        .filter_map(|(at, e)| match e {
            Event::Scanner { msg, .. } => match msg.body {
                UpBody::Replenished { task, .. } => Some((task, *at)),
                _ => None,
            },
            _ => None,
        })
        .collect();
    for task in 1..=moves.len() as u64 {
        let at = moved
            .get(&task)
            .copied()
            .expect("every move was carried out");
        assert!(
            at >= now + 1_000 && at < release && at < first_pick,
            "move {task} ran after its start and before the orders were released"
        );
    }
    assert_eq!(s.empty_face_picks, 0, "no face was picked past its stock");
    assert_eq!(s.emergencies, 0);
    assert!(s.stockouts.is_empty(), "{:?}", s.stockouts);
    let faces_at: BTreeSet<&str> = faces.iter().map(|f| f.location.as_str()).collect();
    for (location, face) in &s.forward {
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

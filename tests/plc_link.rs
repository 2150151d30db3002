//! The PLC link against the simulator over real Modbus TCP: jams, exception answers, a sorter
//! dying mid-divert, a setpoint the PLC does not keep, conveyor zones sleeping when idle.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use common::{assert_every_order_accounted_for, floor, journal, wait_for, wait_sorted};
use floorctl::controller::{CommandError, Controller};
use floorctl_core::Event;
use floorctl_protocol::packml::{Command as Pack, State};
use floorsim::SimPlc;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const LIMIT: Duration = Duration::from_secs(90);

fn state_of(s: &floorctl_core::Summary, plc: &str) -> Option<State> {
    s.equipment.get(plc).and_then(|e| e.state)
}

fn alarm(s: &floorctl_core::Summary, source: &str, condition: &str) -> Option<String> {
    s.active_alarms
        .get(&(source.to_string(), condition.to_string()))
        .cloned()
}

/// Times the journal shows the sorter's link lost.
async fn sorter_link_losses(f: &common::Floor) -> usize {
    journal(f)
        .await
        .into_iter()
        .filter(|e| matches!(e, Event::PlcLink { plc, up: false, .. } if plc == "sorter1"))
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_jam_holds_the_line_with_an_alarm_until_cleared_and_unheld() {
    let f = floor(21).orders(16).await;
    let c = f.controller_with_orders().await;
    wait_sorted(&c, 3, LIMIT).await;

    f.sim.with_floor(|fl| fl.jam(1));
    let s = wait_for(&c, "conveyor held with a zone 1 alarm", LIMIT, |s| {
        state_of(s, "cv1") == Some(State::Held) && alarm(s, "cv1", "zone1").is_some()
    })
    .await;
    assert!(alarm(&s, "cv1", "zone1").unwrap().contains("line held"));
    assert_eq!(
        f.sim.snapshot().states.0,
        State::Held,
        "the PLC holds the line"
    );
    let held_at = f.sim.snapshot().placed;

    let refused = c.equipment_command("cv1", Pack::Start, "sam").await;
    assert!(
        matches!(&refused, Err(CommandError::Refused(r)) if r.reason.contains("Start is not allowed in state Held")),
        "{refused:?}"
    );

    f.sim.with_floor(|fl| fl.clear_jam(1));
    let s = wait_for(&c, "the jam alarm cleared", LIMIT, |s| {
        alarm(s, "cv1", "zone1").is_none()
    })
    .await;
    assert_eq!(
        state_of(&s, "cv1"),
        Some(State::Held),
        "still held until a supervisor unholds"
    );

    c.equipment_command("cv1", Pack::Unhold, "sam")
        .await
        .unwrap();
    wait_for(&c, "conveyor executing again", LIMIT, |s| {
        state_of(s, "cv1") == Some(State::Execute)
    })
    .await;
    wait_sorted(&c, f.orders.len(), LIMIT).await;
    assert!(f.sim.snapshot().placed >= held_at);
    c.shutdown(Duration::from_secs(5)).await;
    assert_every_order_accounted_for(&f).await;

    let commands: Vec<(Pack, String)> = journal(&f)
        .await
        .into_iter()
        .filter_map(|e| match e {
            Event::EquipmentCommand { command, by, .. } => Some((command, by)),
            _ => None,
        })
        .collect();
    assert_eq!(
        commands,
        vec![(Pack::Start, "sam".into()), (Pack::Unhold, "sam".into())],
        "supervisor commands are journalled with who gave them, refused ones too"
    );
    f.sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plc_answering_exceptions_is_alarmed_and_its_stale_values_are_not_acted_on() {
    let f = floor(22).orders(16).await;
    let c = f.controller_with_orders().await;
    wait_sorted(&c, 2, LIMIT).await;

    f.sim.refuse_reads(SimPlc::Sorter, true);
    let s = wait_for(&c, "a fault alarm on the sorter", LIMIT, |s| {
        alarm(s, "sorter1", "reads").is_some()
    })
    .await;
    assert!(
        alarm(&s, "sorter1", "reads")
            .unwrap()
            .contains("ServerDeviceBusy"),
        "{s:?}"
    );
    let frozen = c.summary().borrow().sorted;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(
        c.summary().borrow().sorted,
        frozen,
        "no sort result read while the PLC refuses"
    );
    let status = &c.plc_status()["sorter1"];
    assert!(status.link_up() && status.exceptions > 0, "{status:?}");

    f.sim.refuse_reads(SimPlc::Sorter, false);
    wait_for(&c, "the fault alarm cleared", LIMIT, |s| {
        alarm(s, "sorter1", "reads").is_none()
    })
    .await;
    wait_sorted(&c, f.orders.len(), LIMIT).await;
    c.shutdown(Duration::from_secs(5)).await;
    assert_every_order_accounted_for(&f).await;
    assert_eq!(
        sorter_link_losses(&f).await,
        0,
        "exception answers do not drop the link"
    );
    f.sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sorter_dying_mid_divert_diverts_no_tote_twice_and_loses_none() {
    let f = floor(23).orders(24).await;
    let c = f.controller_with_orders().await;
    wait_sorted(&c, 2, LIMIT).await;
    // Dies once after a divert's sequence number lands (the acknowledgement is read back after
    // the reconnect) and once before it lands (the divert is written again under its number).
    for (i, (signal, apply)) in [
        ("divert_seq", true),
        ("divert_seq", false),
        ("divert_chute", true),
    ]
    .into_iter()
    .enumerate()
    {
        let back = f
            .sim
            .kill_on_write(SimPlc::Sorter, signal, apply, Duration::from_millis(600));
        tokio::time::timeout(LIMIT, back).await.unwrap().unwrap();
        let sorted = c.summary().borrow().sorted;
        wait_sorted(&c, (sorted + 2).min(f.orders.len()), LIMIT).await;
        tracing::info!(kill = i, "sorter back");
    }
    wait_sorted(&c, f.orders.len(), LIMIT).await;
    c.shutdown(Duration::from_secs(5)).await;
    assert_every_order_accounted_for(&f).await;
    let downs = sorter_link_losses(&f).await;
    assert!(downs >= 3, "each death is seen as a lost link ({downs})");
    f.sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_setpoint_the_plc_does_not_keep_raises_an_alarm() {
    let f = floor(24).orders(4).await;
    let mut config = common::config(&f, &f.db);
    config.plcs[0]
        .setpoints
        .insert("speed_setpoint".into(), 5.0);
    let c = Controller::start(config).await.unwrap();
    let s = wait_for(&c, "a setpoint alarm", LIMIT, |s| {
        alarm(s, "cv1", "setpoints").is_some()
    })
    .await;
    let text = alarm(&s, "cv1", "setpoints").unwrap();
    assert!(text.contains("written as 5 m/s, PLC holds 3 m/s"), "{text}");
    c.shutdown(Duration::from_secs(5)).await;

    let mut config = common::config(&f, &f.db);
    config.plcs[0]
        .setpoints
        .insert("speed_setpoint".into(), 2.0);
    let c = Controller::start(config).await.unwrap();
    wait_for(&c, "the setpoint alarm cleared", LIMIT, |s| {
        alarm(s, "cv1", "setpoints").is_none() && s.equipment.get("cv1").is_some_and(|e| e.link_up)
    })
    .await;
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(alarm(&c.summary().borrow(), "cv1", "setpoints"), None);
    c.shutdown(Duration::from_secs(5)).await;
    f.sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_zones_sleep_draw_no_energy_and_wake_for_totes() {
    let f = floor(25).orders(6).await;
    let mut config = common::config(&f, &f.db);
    config.plcs[0].zone_sleep_after_ms = 1500;
    let c = Controller::start(config).await.unwrap();
    wait_for(&c, "conveyor executing", LIMIT, |s| {
        state_of(s, "cv1") == Some(State::Execute)
    })
    .await;
    let running = |f: &common::Floor| {
        let map = floorctl::demo::shipped_map(floorctl::demo::CONVEYOR_MAP);
        let img = f.sim.image(SimPlc::Conveyor);
        (0..4)
            .filter(|z| img.get(map.signal("zone_running").unwrap(), *z) != 0)
            .count()
    };
    assert_eq!(running(&f), 4, "zones start awake");
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(running(&f), 0, "nothing to carry: every zone asleep");
    assert_eq!(c.plc_status()["cv1"].zones_asleep, vec![true; 4]);
    let asleep = f.sim.snapshot().zone_energy_kwh;
    assert!(
        asleep.iter().all(|e| *e > 0.0),
        "energy drawn while awake: {asleep:?}"
    );
    tokio::time::sleep(Duration::from_millis(1000)).await;
    assert_eq!(
        f.sim.snapshot().zone_energy_kwh,
        asleep,
        "no energy drawn asleep"
    );

    for o in &f.orders {
        c.submit(o.clone()).await;
    }
    wait_sorted(&c, f.orders.len(), LIMIT).await;
    let reported = c.plc_status()["cv1"].zone_energy_kwh.clone();
    assert!(
        reported.iter().zip(&asleep).all(|(r, a)| r > a),
        "zones woke and drew energy again, as the PLC reports it: {reported:?} vs {asleep:?}"
    );
    c.shutdown(Duration::from_secs(5)).await;
    assert_every_order_accounted_for(&f).await;
    f.sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_impossible_sort_outcome_is_alarmed_acknowledged_and_not_acted_on() {
    let f = floor(26).orders(2).await;
    let c = f.controller().await;
    wait_for(&c, "sorter executing", LIMIT, |s| {
        state_of(s, "sorter1") == Some(State::Execute)
    })
    .await;
    for (signal, v) in [
        ("confirm_tote", 777.0),
        ("confirm_outcome", 99.0),
        ("confirm_seq", 500.0),
    ] {
        f.sim
            .write_signal(
                SimPlc::Sorter,
                signal,
                0,
                &floorctl_protocol::value::Value::Number(v),
            )
            .unwrap();
    }
    let s = wait_for(&c, "an alarm on the impossible value", LIMIT, |s| {
        alarm(s, "sorter1", "values").is_some()
    })
    .await;
    assert!(
        alarm(&s, "sorter1", "values")
            .unwrap()
            .contains("outcome code 99"),
        "{s:?}"
    );
    assert!(s.outcomes.is_empty(), "nothing counted: {:?}", s.outcomes);
    let map = floorctl::demo::shipped_map(floorctl::demo::SORTER_MAP);
    // The acknowledgement is written once the event is journalled: it follows the alarm.
    let ack = map.signal("confirm_ack_seq").unwrap();
    let since = std::time::Instant::now();
    while f.sim.image(SimPlc::Sorter).get(ack, 0) != 500 {
        assert!(
            since.elapsed() < LIMIT,
            "not acknowledged, so the sorter's queue would not move on"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    c.shutdown(Duration::from_secs(5)).await;
    f.sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_heartbeat_slower_than_the_plc_watchdog_is_alarmed() {
    // The sorter's watchdog allows 150 ms between heartbeats; the controller polls it every
    // 400 ms, so the PLC stops itself and the controller says why.
    let mut map = floorctl::demo::shipped_map(floorctl::demo::SORTER_MAP);
    map.handshakes.heartbeat.stale_after_ms = 150;
    let f = common::floor(23).orders(4).sorter_map(map).await;
    let mut config = common::config(&f, &f.db);
    config.plcs[1].poll_interval_ms = 400;
    let c = Controller::start(config).await.unwrap();
    let s = wait_for(&c, "an alarm on the sorter's heartbeat", LIMIT, |s| {
        alarm(s, "sorter1", "heartbeat").is_some()
    })
    .await;
    let text = alarm(&s, "sorter1", "heartbeat").unwrap();
    assert!(
        text.contains("longer than the PLC's 150 ms watchdog"),
        "{text}"
    );
    let since = std::time::Instant::now();
    while !f.sim.snapshot().stopped_by_watchdog {
        assert!(
            since.elapsed() < LIMIT,
            "the PLC's watchdog never stopped it"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    c.shutdown(Duration::from_secs(5)).await;
    f.sim.shutdown().await;
}

/// A TCP server at a PLC's address that answers every request with a Modbus header that
/// matches no request; counts the connections made to it.
async fn garbage_plc() -> (std::net::SocketAddr, Arc<AtomicUsize>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let accepted = Arc::new(AtomicUsize::new(0));
    let counted = accepted.clone();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            counted.fetch_add(1, Ordering::SeqCst);
            tokio::spawn(async move {
                let mut buf = [0u8; 300];
                while let Ok(n) = socket.read(&mut buf).await {
                    if n == 0 {
                        break;
                    }
                    let reply = [0xde, 0xad, 0, 0, 0, 5, 1, 3, 2, 0, 0];
                    if socket.write_all(&reply).await.is_err() {
                        break;
                    }
                }
            });
        }
    });
    (addr, accepted)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plc_answering_garbage_is_tried_again_ever_more_slowly_and_alarmed_once() {
    let f = floor(23).orders(4).await;
    let (addr, accepted) = garbage_plc().await;
    let mut config = common::config(&f, &f.db);
    config
        .plcs
        .iter_mut()
        .find(|p| p.id == "sorter1")
        .unwrap()
        .address = addr;
    let c = Controller::start(config).await.unwrap();
    wait_for(&c, "a link alarm on the sorter", LIMIT, |s| {
        alarm(s, "sorter1", "link").is_some()
    })
    .await;
    tokio::time::sleep(Duration::from_secs(4)).await;
    c.shutdown(Duration::from_secs(5)).await;
    let connections = accepted.load(Ordering::SeqCst);
    assert!(
        connections <= 12,
        "{connections} connections in about 4 s: the wait between them must grow"
    );
    let link_rows = journal(&f)
        .await
        .into_iter()
        .filter(|e| matches!(e, Event::PlcLink { plc, .. } if plc == "sorter1"))
        .count();
    assert_eq!(
        link_rows, 1,
        "one row for the link down, none for each drop"
    );
    f.sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plc_refusing_writes_is_alarmed_and_still_read() {
    let f = floor(24).orders(16).await;
    let c = f.controller_with_orders().await;
    wait_sorted(&c, 2, LIMIT).await;

    f.sim.refuse_writes(SimPlc::Sorter, true);
    let s = wait_for(&c, "a write fault alarm on the sorter", LIMIT, |s| {
        alarm(s, "sorter1", "writes").is_some()
    })
    .await;
    assert!(
        alarm(&s, "sorter1", "writes")
            .unwrap()
            .contains("IllegalFunction"),
        "{s:?}"
    );
    let polls = c.plc_status()["sorter1"].polls;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(
        c.plc_status()["sorter1"].polls > polls + 3,
        "the sorter is still read while it refuses writes"
    );

    f.sim.refuse_writes(SimPlc::Sorter, false);
    wait_for(&c, "the write fault cleared", LIMIT, |s| {
        alarm(s, "sorter1", "writes").is_none()
    })
    .await;
    wait_sorted(&c, f.orders.len(), LIMIT).await;
    c.shutdown(Duration::from_secs(5)).await;
    assert_every_order_accounted_for(&f).await;
    f.sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sort_result_acknowledgement_the_plc_lost_is_written_again_until_it_holds() {
    let f = floor(25).orders(16).await;
    let c = f.controller_with_orders().await;
    wait_sorted(&c, 2, LIMIT).await;

    // Writes answered as done and lost: the acknowledgement of the next result never lands.
    f.sim.drop_writes(SimPlc::Sorter, true);
    wait_for(&c, "an alarm for the lost acknowledgement", LIMIT, |s| {
        alarm(s, "sorter1", "acknowledgement").is_some()
    })
    .await;
    f.sim.drop_writes(SimPlc::Sorter, false);
    wait_for(&c, "the acknowledgement taken", LIMIT, |s| {
        alarm(s, "sorter1", "acknowledgement").is_none()
    })
    .await;
    wait_sorted(&c, f.orders.len(), LIMIT).await;
    c.shutdown(Duration::from_secs(5)).await;
    assert_every_order_accounted_for(&f).await;
    f.sim.shutdown().await;
}

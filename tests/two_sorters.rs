//! A floor of two lines over real sockets, each conveyor and sorter a virtual PLC of its own:
//! the second sorter numbers its chutes after the first's (its chute 1 is the site's chute 9),
//! and each sorter has its own exception chute.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use common::{fast_floor, floor, wait_sorted};
use floorctl::config::PlcSpec;
use floorctl::controller::Controller;
use floorctl::demo::{shipped_map, CONVEYOR_MAP};
use floorctl::store::Store;
use floorctl_core::SorterChutes;
use floorsim::{SimConfig, Simulator};

const ORDERS: usize = 16;

/// Line B (pickers, conveyor cv2, sorter2) is the test floor; line A (cv1, sorter1) has no
/// pickers: only a stray tote reaches it. The config drives both.
async fn two_lines(seed: u64) -> (common::Floor, Simulator, floorctl::config::Config) {
    let f = floor(seed).orders(ORDERS).await;
    let line_a = Simulator::start(SimConfig {
        conveyor_map: shipped_map(CONVEYOR_MAP),
        sorter_map: f.sorter_map.clone(),
        conveyor_listen: "127.0.0.1:0".parse().unwrap(),
        sorter_listen: "127.0.0.1:0".parse().unwrap(),
        timing: fast_floor(),
    })
    .await
    .unwrap();
    let mut config = common::config(&f, &f.db);
    config.database = f.database.clone();
    let mut sorter2 = PlcSpec::new("sorter2", f.sim.sorter_addr, f.sorter_map.clone());
    sorter2.first_chute = 9;
    config.plcs = vec![
        PlcSpec::new("cv1", line_a.conveyor_addr, shipped_map(CONVEYOR_MAP)),
        PlcSpec::new("sorter1", line_a.sorter_addr, f.sorter_map.clone()),
        PlcSpec::new("cv2", f.sim.conveyor_addr, shipped_map(CONVEYOR_MAP)),
        sorter2,
    ];
    config.layout.pick_conveyor = "cv2".into();
    config.layout.lanes = BTreeMap::from([
        ("PM".into(), vec![1, 2, 3, 9, 10, 11]),
        ("AM".into(), vec![4, 5, 6, 12, 13, 14]),
    ]);
    config.layout.sorters = BTreeMap::from([
        (
            "sorter1".into(),
            SorterChutes {
                first: 1,
                last: 8,
                exception: 8,
            },
        ),
        (
            "sorter2".into(),
            SorterChutes {
                first: 9,
                last: 16,
                exception: 16,
            },
        ),
    ]);
    config.layout.lines = BTreeMap::from([
        ("sorter1".into(), vec!["cv1".into()]),
        ("sorter2".into(), vec!["cv2".into()]),
    ]);
    (f, line_a, config)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn totes_reaching_the_second_sorter_go_to_their_lanes_chutes_there_in_the_floors_numbering() {
    let (f, line_a, config) = two_lines(21).await;
    let controller = Controller::start(config).await.unwrap();
    for o in &f.orders {
        controller.submit(o.clone()).await;
    }
    wait_sorted(&controller, ORDERS, Duration::from_secs(120)).await;

    // A tote nobody closed turns up on line A: sorter1's exception chute takes it, with an alarm.
    line_a.with_floor(|floor| floor.place_tote(4_000_000));
    common::until_summary(
        &controller,
        30,
        "the stray tote in sorter1's exception chute",
        |s| {
            s.alarm_log.values().any(|a| {
                a.source == "sorter1" && a.text == "unknown tote 4000000 sorted to chute 8"
            })
        },
    )
    .await;
    let s = controller.summary().borrow().clone();
    controller.shutdown(Duration::from_secs(5)).await;

    // Line B's sorter diverted to its own chutes 1 to 8 ...
    let physical = f.sim.snapshot().chutes;
    let own: BTreeSet<u16> = physical.keys().copied().collect();
    assert!(
        own.iter().all(|c| (1..=6).contains(c)),
        "line B's own chutes: {own:?}"
    );
    // ... which the controller counts and keeps as the floor's 9 to 16, each tote in its lane.
    let counted: BTreeSet<u16> = s.per_chute.keys().copied().collect();
    let expected: BTreeSet<u16> = own.iter().map(|c| c + 8).collect();
    assert_eq!(counted, expected);
    for (own_chute, totes) in &physical {
        assert_eq!(s.per_chute[&(own_chute + 8)], totes.len());
    }
    assert_eq!(
        s.kpis.totes_right_lane, s.kpis.totes_sorted,
        "every tote of an order in its lane: {:?}",
        s.kpis
    );
    let store = Store::connect(&f.database).await.unwrap();
    let chutes: BTreeSet<Option<u16>> = store.totes().await.unwrap().iter().map(|t| t.3).collect();
    store.close().await;
    assert!(
        chutes
            .iter()
            .all(|c| c.is_some_and(|c| (9..=14).contains(&c))),
        "the database keeps the floor's numbers: {chutes:?}"
    );
    assert_eq!(
        line_a.snapshot().chutes,
        BTreeMap::from([(8, vec![4_000_000])]),
        "sorter1 diverted the stray tote to its own exception chute"
    );
    line_a.shutdown().await;
    f.sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_control_room_draws_each_line_with_its_conveyor_sorter_and_chutes() {
    let Some(chromium) = common::peer("CHROMIUM", "a Chromium browser (Debian's chromium)") else {
        return;
    };
    let (f, line_a, config) = two_lines(22).await;
    let (controller, listen, cancel) = common::controller_with_dashboard(config).await;
    common::account(&controller, "sue", "supervisor", "sue-password-1").await;
    let web = format!("http://{listen}");
    let mut b = common::cdp::Browser::launch(&chromium, 1280, 900).await;
    b.goto(&format!("{web}/login")).await;
    b.eval(
        "document.querySelector('#user').value = 'sue';
         document.querySelector('#password').value = 'sue-password-1';
         document.querySelector('#login').click(); true",
    )
    .await;
    // Two lines, one under the other: each sorter with the conveyor that feeds it and its own
    // chutes in the floor's numbering (sorter2's exception chute is the floor's 16).
    let drawn = b
        .wait_for(
            "(() => {
               const f = document.querySelector('#floor');
               const label = (id) => f.querySelector(`text[data-machine=\"${id}\"]`);
               const y = (id) => label(id) && label(id).getBBox().y;
               const chutes = [...f.querySelectorAll('rect[data-chute]')].map(r => [Number(r.dataset.chute), r.getBBox().y]);
               const line = (lo, hi) => chutes.filter(([c]) => c >= lo && c <= hi);
               const ok = ['cv1', 'sorter1', 'cv2', 'sorter2'].every(label)
                 && y('cv1') === y('sorter1') && y('cv2') === y('sorter2') && y('sorter2') > y('sorter1')
                 && line(1, 8).length === 7 && line(9, 16).length === 7
                 && line(1, 8).every(([, cy]) => cy < y('sorter2')) && line(9, 16).every(([, cy]) => cy > y('sorter2'));
               return ok && chutes.map(([c]) => c).join(',');
             })()",
            30,
        )
        .await;
    assert_eq!(drawn, "1,2,3,4,5,6,8,9,10,11,12,13,14,16");
    let fits = b
        .eval("document.documentElement.scrollWidth <= window.innerWidth + 1")
        .await;
    assert_eq!(fits, true);
    let dir = std::path::PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/target/dashboard"));
    std::fs::create_dir_all(&dir).unwrap();
    b.screenshot(&dir.join("two-lines-1280.png")).await;
    b.close().await;
    cancel.cancel();
    controller.shutdown(Duration::from_secs(5)).await;
    line_a.shutdown().await;
    f.sim.shutdown().await;
}

//! The dashboard in a real browser (headless Chromium, driven over the DevTools protocol)
//! against a running demo: a supervisor logs in, watches totes sorted grow, acknowledges an
//! injected jam alarm and sees it move to acknowledged; a viewer is refused a command. A
//! screenshot of the supervisor's page is saved under target/.

mod common;

use std::path::PathBuf;

use common::cdp::Browser;
use floorctl_core::AlarmState;
use floorctl_protocol::packml::State;

const SHOT: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/target/dashboard/supervisor.png"
);
const VIEWER_SHOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/target/dashboard/viewer.png");

async fn log_in(b: &mut Browser, web: &str, user: &str, password: &str) {
    b.goto(&format!("{web}/login")).await;
    b.eval(&format!(
        "document.querySelector('#user').value = '{user}';
         document.querySelector('#password').value = '{password}';
         document.querySelector('#login').click(); true"
    ))
    .await;
    b.wait_for(
        "location.pathname === '/' && document.querySelector('#link').textContent === 'live'",
        30,
    )
    .await;
}

fn totes_sorted() -> &'static str {
    "Number(document.querySelector('#totes-sorted').textContent)"
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_supervisor_watches_the_floor_and_acknowledges_a_jam_and_a_viewer_is_refused() {
    let Some(chromium) = common::peer("CHROMIUM", "a Chromium browser (Debian's chromium)") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let demo = common::demo(dir.path(), 80, 6).await;
    let web = format!("http://{}", demo.listening.dashboard.unwrap());
    common::account(&demo.controller, "sue", "supervisor", "sue-password-1").await;
    common::account(&demo.controller, "vic", "viewer", "vic-password-1").await;
    let mut b = Browser::launch(&chromium, 1280, 900).await;

    // Without a session the page sends the browser to the login page.
    b.goto(&web).await;
    b.wait_for("location.pathname === '/login'", 10).await;
    log_in(&mut b, &web, "sue", "sue-password-1").await;
    assert_eq!(
        b.eval("document.querySelector('#role').textContent").await,
        "supervisor"
    );

    // Totes sorted grows as the simulated floor works, pushed to the page.
    let before = b.eval(totes_sorted()).await.as_f64().unwrap();
    let grown = b
        .wait_for(
            &format!("{} > {before} && {}", totes_sorted(), totes_sorted()),
            90,
        )
        .await;
    println!("totes sorted on the page: {before} then {grown}");

    // A jam on the conveyor shows as an active alarm; acknowledging it moves it on.
    demo.sim.with_floor(|f| f.jam(2));
    let row = "[...document.querySelectorAll('#alarms tr[data-alarm]')]
               .find(r => r.textContent.includes('zone 2 faulted'))";
    let id = b
        .wait_for(
            &format!("{row}.classList.contains('alarm-active') && {row}.dataset.alarm"),
            30,
        )
        .await;
    let id: u64 = id.as_str().unwrap().parse().unwrap();
    b.eval(&format!("{row}.querySelector('button.ack').click(); true"))
        .await;
    b.wait_for(
        &format!("{row}.classList.contains('alarm-acknowledged') && {row}.querySelector('.alarm-state').textContent.includes('by sue')"),
        30,
    )
    .await;
    let a = demo.controller.summary().borrow().alarm_log[&id].clone();
    assert_eq!(
        (a.state, a.acknowledged_by.as_deref()),
        (AlarmState::Acknowledged, Some("sue"))
    );
    b.wait_for(
        "[...document.querySelectorAll('#audit td')].some(td => td.textContent.startsWith('acknowledge alarm'))",
        10,
    )
    .await;
    b.screenshot(&PathBuf::from(SHOT)).await;
    println!("screenshot: {SHOT}");

    // A viewer sees the floor but is refused a command, and nothing changes.
    b.eval("document.querySelector('#logout').click(); true")
        .await;
    b.wait_for("location.pathname === '/login'", 10).await;
    log_in(&mut b, &web, "vic", "vic-password-1").await;
    let stop = "[...document.querySelectorAll('#equipment tr')]
                .find(r => r.firstChild.textContent === 'sorter1')
                .querySelector('button:nth-of-type(2)')";
    assert_eq!(b.eval(&format!("{stop}.textContent")).await, "Stop");
    b.eval(&format!("{stop}.click(); true")).await;
    let message = b
        .wait_for(
            "document.querySelector('#message').textContent.startsWith('403') && document.querySelector('#message').textContent",
            10,
        )
        .await;
    assert!(
        message.as_str().unwrap().contains("viewer role"),
        "{message}"
    );
    b.screenshot(&PathBuf::from(VIEWER_SHOT)).await;
    let s = demo.controller.summary().borrow().clone();
    let sorter = &s.equipment["sorter1"];
    assert!(sorter.wanted, "the viewer's Stop changed nothing");
    assert_eq!(sorter.state, Some(State::Execute));
    let audit = demo.controller.store().audit_log(1).await.unwrap();
    assert_eq!(audit[0].user, "vic");
    assert!(audit[0].outcome.starts_with("refused"), "{audit:?}");
    b.close().await;
    demo.shutdown().await;
}

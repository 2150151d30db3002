//! The dashboard in a real browser (headless Chromium, driven over the DevTools protocol)
//! against a running demo, at the widths it is used at (control room 1920, desktop 1280,
//! tablet 800, phone 390): a supervisor watches totes sorted grow, acknowledges an injected jam,
//! sees an emergency stop nobody commanded raised as an alarm with only the commands the
//! machine's state allows, acknowledges every alarm at once and brings the sorter back; a
//! viewer sees no command controls; a controller restart turns the page stale and then asks for
//! a fresh login. Screenshots are saved under target/dashboard/.

mod common;

use std::path::PathBuf;

use common::cdp::Browser;
use floorctl_core::AlarmState;
use floorctl_protocol::packml::State;
use floorsim::SimPlc;
use serde_json::json;

fn shot(name: &str) -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/target/dashboard")).join(name)
}

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

/// Sets the page's width (and a height to match), as a device of that size shows it.
async fn width(b: &mut Browser, width: u32) {
    let height = match width {
        1920 => 1080,
        1280 => 900,
        800 => 1280,
        _ => 844,
    };
    b.call(
        "Emulation.setDeviceMetricsOverride",
        json!({"width": width, "height": height, "deviceScaleFactor": 1, "mobile": width < 600}),
    )
    .await;
}

fn totes_sorted() -> &'static str {
    "Number(document.querySelector('#totes-sorted').textContent)"
}

/// The row of machine `id` in the equipment table.
fn machine(id: &str) -> String {
    format!("document.querySelector('#equipment tr[data-machine=\"{id}\"]')")
}

/// Script: the button `label` of machine `id`.
fn machine_button(id: &str, label: &str) -> String {
    format!(
        "[...{}.querySelectorAll('button')].find(b => b.textContent === '{label}' || b.textContent === 'Confirm {}')",
        machine(id),
        label.to_lowercase()
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_supervisor_runs_the_floor_from_the_page_at_every_width_and_a_viewer_only_watches() {
    let Some(chromium) = common::peer("CHROMIUM", "a Chromium browser (Debian's chromium)") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let demo = common::demo(dir.path(), 80, 6).await;
    let listen = demo.listening.dashboard.unwrap();
    let web = format!("http://{listen}");
    common::account(&demo.controller, "sue", "supervisor", "sue-password-1").await;
    common::account(&demo.controller, "vic", "viewer", "vic-password-1").await;
    let mut b = Browser::launch(&chromium, 1920, 1080).await;

    // Without a session the page sends the browser to the login page.
    b.goto(&web).await;
    b.wait_for("location.pathname === '/login'", 10).await;
    log_in(&mut b, &web, "sue", "sue-password-1").await;
    assert_eq!(
        b.eval("document.querySelector('#role').textContent").await,
        "supervisor"
    );

    // A tote falls off the sorter: the page lists it among the orders needing attention.
    demo.sim.with_floor(|f| f.lose_next_tote());

    // Totes sorted grows as the simulated floor works, pushed to the page.
    let before = b.eval(totes_sorted()).await.as_f64().unwrap();
    let grown = b
        .wait_for(
            &format!("{} > {before} && {}", totes_sorted(), totes_sorted()),
            90,
        )
        .await;
    println!("totes sorted on the page: {before} then {grown}");

    // The shift's chart (uPlot): its series as the controller counts them.
    let charted = b
        .wait_for(
            "document.querySelector('#shift-chart .uplot canvas') !== null
             && document.querySelector('#shift-chart .u-legend').textContent.includes('totes sorted')
             && shiftChart.data[1].reduce((a, b) => a + b, 0)",
            30,
        )
        .await
        .as_u64()
        .unwrap();
    let counted: u64 = demo
        .controller
        .summary()
        .borrow()
        .shift
        .iter()
        .map(|m| u64::from(m.totes))
        .sum();
    assert!(
        charted > 0 && charted <= counted,
        "the chart shows {charted} totes, the controller counts {counted}"
    );

    // Times are in 24-hour form; each cut-off's standing agrees with the controller's
    // projection.
    let times: Vec<String> = serde_json::from_value(
        b.eval("[...document.querySelectorAll('#audit td:first-child, #waves td:nth-child(4)')].map(td => td.textContent)")
            .await,
    )
    .unwrap();
    assert!(
        times.iter().all(|t| !t.contains("AM") && !t.contains("PM")),
        "{times:?}"
    );
    let waves = demo.controller.summary().borrow().waves.clone();
    for (cutoff, w) in &waves {
        let words = b
            .eval(&format!(
                "document.querySelector('#waves tr[data-cutoff=\"{cutoff}\"] td.standing').textContent"
            ))
            .await;
        let words = words.as_str().unwrap_or_default().to_string();
        let expected_late = match (w.due, w.projected) {
            (Some(due), Some(p)) => p > due + 60_000,
            _ => false,
        };
        let done = w.orders > 0 && w.sorted >= w.orders;
        assert!(
            done && words == "done"
                || expected_late && words.starts_with("late by ")
                || !expected_late && !words.starts_with("late by "),
            "{cutoff}: {words} for {w:?}"
        );
    }

    // How the page words a cut-off's standing (the demo's cut-offs have no time of day): late,
    // time to spare, done, and a due time tomorrow with its date.
    let words: Vec<String> = serde_json::from_value(
        b.eval(
            "(() => { const now = Date.now(), min = 60000;
               const w = (o) => ({ orders: 5, sorted: 1, ...o });
               return [
                 standing(w({ due: now + 30 * min, projected: now + 55 * min }), now)[0],
                 standing(w({ due: now - 25 * min, projected: null }), now)[0],
                 standing(w({ due: now + 100 * min, projected: now + 60 * min }), now)[0],
                 standing(w({ sorted: 5, due: now, projected: now }), now)[0],
                 due(now + 24 * 60 * min, now),
                 due(now, now),
               ]; })()",
        )
        .await,
    )
    .unwrap();
    assert_eq!(
        &words[..4],
        [
            "late by 25 min",
            "late by 25 min",
            "40 min to spare",
            "done"
        ],
        "{words:?}"
    );
    assert!(
        words[4].len() > words[5].len() && words[4].ends_with(&words[5]),
        "a due time tomorrow carries its date: {words:?}"
    );
    assert!(
        words[5].len() == 5 && words[5].as_bytes()[2] == b':',
        "HH:MM, 24-hour: {words:?}"
    );

    // A jam on the conveyor shows as an active alarm; acknowledging it moves it on.
    demo.sim.with_floor(|f| f.jam(2));
    let row = "[...document.querySelectorAll('#alarms tr[data-alarm]')]
               .find(r => r.textContent.includes('Zone 2 faulted (a jam or a motor trip): the line is held'))";
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
        &format!("document.querySelector('#message').textContent === 'Alarm {id} acknowledged'"),
        10,
    )
    .await;
    demo.sim.with_floor(|f| f.clear_jam(2));

    // Someone presses the sorter's emergency stop: an alarm says so within a poll or two, and
    // only Clear is offered.
    demo.sim.with_floor(|f| f.emergency_stop(SimPlc::Sorter));
    let aborted = "[...document.querySelectorAll('#alarms tr.alarm-active')]
                   .find(r => r.textContent.includes('sorter1 is aborted'))";
    b.wait_for(aborted, 10).await;
    b.wait_for(
        &format!("{aborted}.querySelector('.priority').textContent === 'high'"),
        5,
    )
    .await;
    let rate = demo.controller.summary().borrow().alarm_rate;
    b.wait_for(
        &format!("document.querySelector('#alarm-rate').textContent.startsWith('{rate} in the last 10 min')"),
        5,
    )
    .await;
    b.wait_for(
        &format!(
            "{}.disabled && {}.disabled && !{}.disabled",
            machine_button("sorter1", "Start"),
            machine_button("sorter1", "Stop"),
            machine_button("sorter1", "Clear")
        ),
        10,
    )
    .await;
    assert!(demo
        .controller
        .summary()
        .borrow()
        .active_alarms
        .contains_key(&("sorter1".to_string(), "stop".to_string())));
    b.screenshot(&shot("supervisor-1920-aborted.png")).await;

    // The aborted sorter's alarm shelved for a quarter of an hour, with the reason.
    let aborted_id: u64 = b
        .eval(&format!("{aborted}.dataset.alarm"))
        .await
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let row = format!("document.querySelector('#alarms tr[data-alarm=\"{aborted_id}\"]')");
    b.eval(&format!(
        "{row}.querySelector('button.shelve').click(); true"
    ))
    .await;
    b.wait_for(&format!("{row}.querySelector('.shelve-form') !== null"), 5)
        .await;
    b.eval(&format!(
        "{row}.querySelector('.shelve-reason').value = 'emergency stop drill';
         {row}.querySelector('.shelve-minutes').value = '15';
         {row}.querySelector('.shelve-form').requestSubmit(); true"
    ))
    .await;
    b.wait_for(
        &format!("{row}.classList.contains('alarm-shelved') && {row}.textContent.includes('by sue until') && {row}.textContent.includes('emergency stop drill')"),
        10,
    )
    .await;
    let a = demo.controller.summary().borrow().alarm_log[&aborted_id].clone();
    assert_eq!(a.state, AlarmState::Shelved);
    let shelf = a.shelved.expect("shelved");
    assert_eq!(
        (shelf.by.as_str(), shelf.reason.as_str()),
        ("sue", "emergency stop drill")
    );
    assert!(
        shelf.until > floorctl::wall_clock::now_ms() + 14 * 60_000,
        "shelved for 15 minutes"
    );

    // The alarm history, searched: the emergency stop, as the database keeps it.
    b.eval(
        "document.querySelector('#history-q').value = 'ABORTED';
         document.querySelector('#history-form').requestSubmit(); true",
    )
    .await;
    let history: Vec<Vec<String>> = serde_json::from_value(
        b.wait_for(
            "document.querySelector('#alarm-history tbody tr td:nth-child(3)')?.textContent === 'sorter1'
             && [...document.querySelectorAll('#alarm-history tbody tr')].map(r => [...r.cells].map(c => c.textContent))",
            10,
        )
        .await,
    )
    .unwrap();
    let stored = demo
        .controller
        .store()
        .alarm_history("aborted", 200)
        .await
        .unwrap();
    assert_eq!(history.len(), stored.len(), "{history:?}");
    assert!(
        history.iter().all(|r| r[3].contains("aborted")) && history[0][1] == "raised",
        "{history:?}"
    );

    // Every waiting alarm acknowledged at once.
    b.eval("document.querySelector('#ack-all').click(); true")
        .await;
    b.wait_for(
        "document.querySelector('#alarms-waiting').textContent === 'none waiting'",
        10,
    )
    .await;
    let waiting: Vec<u64> = demo
        .controller
        .summary()
        .borrow()
        .alarm_log
        .values()
        .filter(|a| a.acknowledged_by.is_none() && a.state != AlarmState::Cleared)
        .map(|a| a.id)
        .collect();
    assert!(waiting.is_empty(), "{waiting:?}");

    // An order nobody has: the refusal says so in words, and the audit log keeps it.
    b.eval(
        "document.querySelector('#priority-order').value = 'NOPE-1';
         document.querySelector('#priority-form').requestSubmit(); true",
    )
    .await;
    b.wait_for(
        "document.querySelector('#message').textContent === 'Refused: there is no order NOPE-1'",
        10,
    )
    .await;
    b.wait_for(
        "[...document.querySelectorAll('#audit tr')].some(r => r.textContent.includes('Set order NOPE-1 to urgent') && r.textContent.includes('Refused: there is no order NOPE-1'))",
        10,
    )
    .await;

    // Clear brings the sorter back (the controller resets and starts it); Stop asks first.
    b.eval(&format!(
        "{}.click(); true",
        machine_button("sorter1", "Clear")
    ))
    .await;
    b.wait_for(
        "document.querySelector('#message').textContent.startsWith('sorter1 took Clear: now ')",
        15,
    )
    .await;
    common::until_summary(&demo.controller, 30, "the sorter running again", |s| {
        s.equipment
            .get("sorter1")
            .is_some_and(|e| e.state == Some(State::Execute))
    })
    .await;
    b.wait_for(
        &format!("!{}.disabled", machine_button("sorter1", "Stop")),
        10,
    )
    .await;
    b.eval(&format!(
        "{}.click(); true",
        machine_button("sorter1", "Stop")
    ))
    .await;
    assert_eq!(
        b.eval(&format!(
            "{}.textContent",
            machine_button("sorter1", "Stop")
        ))
        .await,
        "Confirm stop",
        "one click only asks"
    );
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    assert_eq!(
        b.eval(&format!(
            "{}.textContent",
            machine_button("sorter1", "Stop")
        ))
        .await,
        "Confirm stop",
        "and keeps asking while the live page redraws"
    );
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert!(demo.controller.summary().borrow().equipment["sorter1"].wanted);

    // Search: an order sorted into its lane, with its history step by step, as the database
    // has it; then a tote by its number; and a name nothing has.
    let sorted_order = demo
        .controller
        .store()
        .orders()
        .await
        .unwrap()
        .into_iter()
        .find(|(_, status)| status == "sorted")
        .map(|(id, _)| id)
        .expect("an order sorted by now");
    let events = demo
        .controller
        .store()
        .published_about(&sorted_order)
        .await
        .unwrap();
    let search = |q: &str| {
        format!(
            "document.querySelector('#search').value = '{q}';
             document.querySelector('#search-form').requestSubmit(); true"
        )
    };
    b.eval(&search(&sorted_order)).await;
    let found = format!("document.querySelector('[data-found=\"order:{sorted_order}\"]')");
    let rows = b
        .wait_for(&format!("{found}.querySelectorAll('tbody tr').length"), 10)
        .await;
    assert_eq!(rows.as_u64(), Some(events.len() as u64), "{events:?}");
    let rows: Vec<Vec<String>> = serde_json::from_value(
        b.eval(&format!(
            "[...{found}.querySelectorAll('tbody tr')].map(r => [...r.cells].map(c => c.textContent))"
        ))
        .await,
    )
    .unwrap();
    let chute = events
        .iter()
        .find(|e| e.kind == "tote.sorted")
        .and_then(|e| e.data["chute"].as_u64())
        .expect("its tote was sorted");
    assert!(
        rows.iter()
            .any(|r| r[1] == "line picked" && r[2].starts_with("by h"))
            && rows
                .iter()
                .any(|r| r[1] == "tote sorted" && r[2].ends_with(&format!("chute {chute}")))
            && rows.last().is_some_and(|r| r[1] == "sorted"),
        "{rows:?}"
    );
    let (tote, _, _) = demo
        .controller
        .store()
        .totes()
        .await
        .unwrap()
        .into_iter()
        .find(|t| t.1 == sorted_order)
        .map(|t| (t.0, t.2, t.3))
        .unwrap();
    b.eval(&search(&tote.to_string())).await;
    b.wait_for(
        &format!("document.querySelector('#found h3').textContent.startsWith('Tote {tote} (sorted in chute {chute}) of order {sorted_order}')"),
        10,
    )
    .await;
    b.eval(&search("no-such-thing")).await;
    b.wait_for(
        "document.querySelector('#found').textContent.startsWith('Nothing here is called “no-such-thing”')",
        10,
    )
    .await;
    b.eval(&search(&sorted_order)).await;
    b.wait_for(&format!("{found} !== null"), 10).await;

    // A machine's detail: its link's figures and its energy per zone, as the controller has them.
    b.eval(&format!(
        "{}.querySelector('a').click(); true",
        machine("cv1")
    ))
    .await;
    let detail = b
        .wait_for(
            "document.querySelector('#equipment tr[data-detail=\"cv1\"]')?.textContent",
            10,
        )
        .await;
    let detail = detail.as_str().unwrap();
    let status = demo.controller.plc_status()["cv1"].clone();
    assert!(
        detail.contains(&format!("{} times lost", status.links_lost))
            && detail.contains("zone 0 ")
            && detail.contains("kWh in all"),
        "{detail}"
    );
    b.eval(&format!(
        "{}.querySelector('a').click(); true",
        machine("cv1")
    ))
    .await;

    // The lost tote among the orders needing attention, as the database has it.
    let since = std::time::Instant::now();
    let lost = loop {
        assert!(
            since.elapsed() < std::time::Duration::from_secs(60),
            "no tote lost within 60 s"
        );
        let totes = demo
            .controller
            .store()
            .exception_totes(&[8], 100)
            .await
            .unwrap();
        if let Some(t) = totes.into_iter().find(|t| t.2 == "lost") {
            break t;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    };
    let listed = b
        .wait_for(
            &format!(
                "[...document.querySelectorAll('#attention-exceptions li[data-order=\"{}\"]')].map(li => li.textContent).join('|')",
                lost.1
            ),
            30,
        )
        .await;
    assert_eq!(
        listed.as_str().unwrap(),
        format!("{} tote {} lost", lost.1, lost.0)
    );

    // The page at every width: nothing wider than the screen, type readable.
    for w in [1920, 1280, 800, 390] {
        width(&mut b, w).await;
        tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
        let fits = b
            .eval("document.documentElement.scrollWidth <= window.innerWidth + 1")
            .await;
        assert_eq!(fits, true, "the page overflows at {w} px");
        let smallest = b
            .eval("Math.min(...[...document.querySelectorAll('main td, main button')].map(e => parseFloat(getComputedStyle(e).fontSize)))")
            .await;
        assert!(
            smallest.as_f64().unwrap() >= 12.0,
            "type of {smallest} px at {w} px"
        );
        let drawn = b
            .eval("Math.min(...[...document.querySelectorAll('#floor text')].map(t => t.getBoundingClientRect().height))")
            .await;
        assert!(
            drawn.as_f64().unwrap() >= 11.0,
            "the floor's text is {drawn} px high at {w} px"
        );
        b.screenshot(&shot(&format!("supervisor-{w}.png"))).await;
    }
    println!("screenshots: {}", shot("").display());

    // A viewer sees the floor and no command control at all.
    width(&mut b, 1280).await;
    b.eval("document.querySelector('#logout').click(); true")
        .await;
    b.wait_for("location.pathname === '/login'", 10).await;
    log_in(&mut b, &web, "vic", "vic-password-1").await;
    b.wait_for(&format!("{} !== null", machine("sorter1")), 10)
        .await;
    let buttons = b
        .eval("[...document.querySelectorAll('main button')].filter(x => x.offsetParent !== null && !x.closest('[role=search]')).map(x => x.textContent)")
        .await;
    assert_eq!(
        buttons,
        json!([]),
        "a viewer's page has no commands (searching is no command)"
    );
    // It lists the orders needing attention as soon as it opens (no search asked).
    b.wait_for(
        &format!(
            "document.querySelector('#attention-exceptions li[data-order=\"{}\"]') !== null",
            lost.1
        ),
        10,
    )
    .await;
    b.screenshot(&shot("viewer-1280.png")).await;

    // The viewer reads the page in Chinese: chosen on the page, kept with the account.
    b.eval(
        "const s = document.querySelector('#language'); s.value = 'zh';
         s.dispatchEvent(new Event('change')); true",
    )
    .await;
    b.wait_for(
        "document.documentElement.lang === 'zh-CN'
         && document.querySelector('[data-t=\"section.floor\"]').textContent === '现场'
         && document.querySelector('#role').textContent === '查看者'
         && document.querySelector('#waves tbody .counts').textContent.includes('已分拣')",
        10,
    )
    .await;
    b.wait_for("document.querySelector('#link').textContent === '实时'", 10)
        .await;
    let mut kept = None;
    for _ in 0..50 {
        kept = demo
            .controller
            .store()
            .account("vic")
            .await
            .unwrap()
            .unwrap()
            .language;
        if kept.is_some() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(
        kept.as_deref(),
        Some("zh"),
        "the account keeps its language"
    );
    // Alarm texts too, worded from their codes: the emergency stop and the jam, in the list
    // and in the history the database keeps; no English sentence left among them.
    let alarm_rows =
        "[...document.querySelectorAll('#alarms tr[data-alarm]')].map(r => r.textContent)";
    b.wait_for(
        &format!(
            "{alarm_rows}.some(t => t.includes('sorter1 已急停（急停按钮或故障），并非本处下令'))
             && {alarm_rows}.some(t => t.includes('区段故障（卡箱或电机跳闸）'))
             && !{alarm_rows}.some(t => /nobody|faulted|tote \\d/.test(t))"
        ),
        10,
    )
    .await;
    // The audit log too: who did what, and how it ended, in Chinese.
    let audit_rows = "[...document.querySelectorAll('#audit tbody tr')].map(r => r.textContent)";
    b.wait_for(
        &format!(
            "{audit_rows}.some(t => t.includes('订单 NOPE-1 设为加急') && t.includes('已拒绝：没有订单 NOPE-1'))
             && {audit_rows}.some(t => t.includes('确认全部报警') && t.includes('已完成'))
             && !{audit_rows}.some(t => /acknowledge|refused|done/.test(t))"
        ),
        10,
    )
    .await;
    b.screenshot(&shot("viewer-1280-zh.png")).await;
    // In Chinese too the page fits a phone, its header with the language selector included.
    width(&mut b, 390).await;
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    let fits = b
        .eval("document.documentElement.scrollWidth <= window.innerWidth + 1 && document.querySelector('#language').getBoundingClientRect().right <= window.innerWidth")
        .await;
    assert_eq!(fits, true, "the Chinese page overflows at 390 px");
    b.screenshot(&shot("viewer-390-zh.png")).await;
    width(&mut b, 1280).await;
    b.goto(&web).await;
    b.wait_for(
        "document.documentElement.lang === 'zh-CN' && document.querySelector('#language').value === 'zh'",
        10,
    )
    .await;
    b.wait_for(
        "[...document.querySelectorAll('#alarm-history tbody tr')].some(r => r.textContent.includes('已急停（急停按钮或故障）'))",
        10,
    )
    .await;

    // The controller restarts: the open page goes stale, then asks for a fresh login, in
    // the browser's language (Chinese here).
    b.call("Network.enable", json!({})).await;
    b.call(
        "Network.setExtraHTTPHeaders",
        json!({"headers": {"Accept-Language": "zh-CN,zh;q=0.9"}}),
    )
    .await;
    demo.shutdown().await;
    b.wait_for(
        "document.body.classList.contains('stale') && !document.querySelector('#stale').hidden",
        15,
    )
    .await;
    b.screenshot(&shot("viewer-stale.png")).await;
    let again = floorctl::demo::Demo::start(&floorctl::demo::DemoOptions {
        orders: 0,
        pickers: 0,
        seed: 7,
        dir: dir.path().to_path_buf(),
        broker: "127.0.0.1:0".parse().unwrap(),
        dashboard: listen,
        metrics: "127.0.0.1:0".parse().unwrap(),
        exit_when_sorted: false,
    })
    .await
    .unwrap();
    b.wait_for("location.pathname === '/login'", 30).await;
    let asked = b
        .wait_for(
            "document.querySelector('#login') && document.querySelector('#login').textContent",
            10,
        )
        .await;
    assert_eq!(asked, "登录");
    b.screenshot(&shot("login-zh.png")).await;
    b.close().await;
    again.shutdown().await;
}

//! The dashboard over real HTTP against a running demo: only the login page without a session,
//! logins checked against argon2 hashes, a viewer's and an unsigned command refused and changing
//! nothing, a supervisor's command done and audited, the live feed and the metrics served.

mod common;

use common::http::{log_in, read_until, request};
use floorctl_core::AlarmState;
use floorctl_protocol::packml::State;

fn jam_alarm(s: &floorctl_core::Summary) -> Option<floorctl_core::Alarm> {
    s.alarm_log
        .values()
        .find(|a| a.source == "cv1" && a.text.contains("zone 1 faulted"))
        .cloned()
}

/// Whether the journal holds a supervisor's release of handheld `h`.
async fn journal_has_release(db: &std::path::Path, h: &str) -> bool {
    common::journal_at(db).await.iter().any(|e| {
        matches!(e, floorctl_core::Event::HandheldCommand { scanner, command, by }
            if scanner == h && *command == floorctl_core::HandheldCommand::Release && by == "sue")
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_a_supervisor_with_the_sessions_token_commands_and_every_command_is_audited() {
    let dir = tempfile::tempdir().unwrap();
    let demo = common::demo(dir.path(), 20, 3).await;
    let web = demo.listening.dashboard.unwrap();
    common::account(&demo.controller, "sue", "supervisor", "sue-password-1").await;
    common::account(&demo.controller, "vic", "viewer", "vic-password-1").await;

    // No session: the login page and its style sheet only.
    let r = request(web, "GET", "/", &[], "").await;
    assert_eq!((r.status, r.header("location")), (303, Some("/login")));
    let csp = r.header("content-security-policy").unwrap();
    assert!(csp.contains("frame-ancestors 'none'") && csp.contains("default-src 'self'"));
    assert_eq!(r.header("x-content-type-options"), Some("nosniff"));
    assert_eq!(request(web, "GET", "/login", &[], "").await.status, 200);
    for path in ["/api/live", "/api/session", "/api/audit", "/assets/app.js"] {
        assert_eq!(
            request(web, "GET", path, &[], "").await.status,
            401,
            "{path}"
        );
    }

    // Logins.
    let login = |user: &'static str, pw: &'static str| log_in(web, user, pw);
    assert_eq!(login("sue", "wrong-password").await.status, 401);
    assert_eq!(login("nobody", "sue-password-1").await.status, 401);
    let r = login("sue", "sue-password-1").await;
    assert_eq!((r.status, r.header("location")), (303, Some("/")));
    let set = r.header("set-cookie").unwrap();
    assert!(
        set.contains("HttpOnly") && set.contains("SameSite=Strict"),
        "{set}"
    );
    let sue = r.cookie().unwrap();
    let vic = login("vic", "vic-password-1").await.cookie().unwrap();
    let csrf = |cookie: String| async move {
        let r = request(web, "GET", "/api/session", &[("Cookie", &cookie)], "").await;
        let v: serde_json::Value = serde_json::from_str(&r.body).unwrap();
        v["csrf"].as_str().unwrap().to_string()
    };
    let sue_csrf = csrf(sue.clone()).await;
    let vic_csrf = csrf(vic.clone()).await;
    assert_eq!(
        request(web, "GET", "/", &[("Cookie", &sue)], "")
            .await
            .status,
        200
    );

    // The live feed sends the floor.
    let feed = read_until(web, "/api/live", &[("Cookie", &sue)], "\"totes_sorted\"").await;
    assert!(feed.contains("event: floor"), "{feed}");

    // A jam on the running conveyor becomes an active alarm (and holds the line).
    common::until_summary(&demo.controller, 20, "conveyor running", |s| {
        s.equipment.get("cv1").and_then(|e| e.state) == Some(State::Execute)
    })
    .await;
    demo.sim.with_floor(|f| f.jam(1));
    let s = common::until_summary(&demo.controller, 20, "jam alarm", |s| {
        jam_alarm(s).is_some()
    })
    .await;
    let id = jam_alarm(&s).unwrap().id;
    let ack = format!("/api/alarms/{id}/ack");

    // A viewer's command: 403, nothing changes, the refusal is audited.
    let r = request(
        web,
        "POST",
        &ack,
        &[("Cookie", &vic), ("X-CSRF-Token", &vic_csrf)],
        "",
    )
    .await;
    assert_eq!(r.status, 403, "{}", r.body);
    assert!(r.body.contains("viewer"), "{}", r.body);
    // A supervisor's command without the session's CSRF token (a forged request): 403.
    let r = request(web, "POST", &ack, &[("Cookie", &sue)], "").await;
    assert_eq!(r.status, 403, "{}", r.body);
    let r = request(
        web,
        "POST",
        &ack,
        &[("Cookie", &sue), ("X-CSRF-Token", &vic_csrf)],
        "",
    )
    .await;
    assert_eq!(r.status, 403, "another session's token");
    let a = jam_alarm(&demo.controller.summary().borrow()).unwrap();
    assert_eq!(
        (a.state, a.acknowledged_by),
        (AlarmState::Active, None),
        "nothing changed"
    );

    // The supervisor's signed command is done.
    let signed = [
        ("Cookie", sue.as_str()),
        ("X-CSRF-Token", sue_csrf.as_str()),
    ];
    let r = request(web, "POST", &ack, &signed, "").await;
    assert_eq!(r.status, 200, "{}", r.body);
    let a = jam_alarm(&demo.controller.summary().borrow()).unwrap();
    assert_eq!(
        (a.state, a.acknowledged_by.as_deref()),
        (AlarmState::Acknowledged, Some("sue"))
    );
    // Refused by the rules: 409 with the reason.
    let r = request(web, "POST", &ack, &signed, "").await;
    assert_eq!(r.status, 409);
    assert!(r.body.contains("already acknowledged by sue"), "{}", r.body);
    let r = request(web, "POST", "/api/equipment/nope/stop", &signed, "").await;
    assert_eq!(r.status, 409);
    assert!(r.body.contains("not a PLC of this site"), "{}", r.body);
    let json = [signed[0], signed[1], ("Content-Type", "application/json")];
    let r = request(web, "POST", "/api/waves/11:00/hold", &signed, "").await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(demo.controller.summary().borrow().waves["11:00"].held);
    let r = request(
        web,
        "POST",
        "/api/orders/nope/priority",
        &json,
        r#"{"priority":"urgent"}"#,
    )
    .await;
    assert_eq!(r.status, 409, "{}", r.body);
    // A handheld's work handed back, its counter reset; an unknown handheld refused.
    let r = request(web, "POST", "/api/handhelds/nope/release", &signed, "").await;
    assert_eq!(r.status, 409, "{}", r.body);
    assert!(r.body.contains("no handheld `nope`"), "{}", r.body);
    let h = demo.controller.summary().borrow().handhelds[0].id.clone();
    let r = request(
        web,
        "POST",
        &format!("/api/handhelds/{h}/release"),
        &signed,
        "",
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let r = request(
        web,
        "POST",
        &format!("/api/handhelds/{h}/reset"),
        &signed,
        "",
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);

    // The audit log has who, what and how it ended, newest first.
    let audit = demo.controller.store().audit_log(10).await.unwrap();
    let lines: Vec<(&str, &str, &str)> = audit
        .iter()
        .rev()
        .map(|e| (e.user.as_str(), e.action.as_str(), e.outcome.as_str()))
        .collect();
    let ack_action = format!("acknowledge alarm {id}");
    assert_eq!(lines[0].0, "vic");
    assert!(
        lines[0].2.starts_with("refused: vic has the viewer role"),
        "{lines:?}"
    );
    assert_eq!(lines[1], ("sue", ack_action.as_str(), "done"));
    assert_eq!(
        lines[3],
        (
            "sue",
            "Stop nope",
            "refused: nope is not a PLC of this site"
        )
    );
    assert_eq!(lines[4], ("sue", "hold wave 11:00", "done"));
    let (release, reset) = (
        format!("release handheld {h}"),
        format!("reset handheld {h}"),
    );
    assert_eq!(lines[7], ("sue", release.as_str(), "done"));
    assert_eq!(lines[8], ("sue", reset.as_str(), "done"));
    assert!(journal_has_release(&demo.database, &h).await);
    assert!(audit.iter().all(|e| e.at > 0));
    let journal = common::timed_journal_at(&demo.database).await;
    assert!(journal.iter().any(|(_, e)| matches!(e,
        floorctl_core::Event::AlarmAck { alarm, by } if *alarm == id && by == "sue")));

    // Metrics on their own listener, labelled by equipment.
    let m = request(demo.listening.metrics.unwrap(), "GET", "/metrics", &[], "").await;
    assert_eq!(m.status, 200);
    assert!(
        m.body
            .contains("floorctl_events_total{kind=\"zone_fault\"}"),
        "{}",
        m.body
    );
    assert!(
        m.body.contains("floorctl_journal_commit_seconds_bucket"),
        "{}",
        m.body
    );

    // The jam cleared on the floor, the supervisor brings the line back and releases the wave.
    demo.sim.with_floor(|f| f.clear_jam(1));
    common::until_summary(&demo.controller, 20, "jam cleared", |s| {
        jam_alarm(s).is_some_and(|a| a.state == AlarmState::Cleared)
    })
    .await;
    common::until_summary(&demo.controller, 20, "conveyor held", |s| {
        s.equipment["cv1"].state == Some(State::Held)
    })
    .await;
    let r = request(web, "POST", "/api/equipment/cv1/unhold", &signed, "").await;
    assert_eq!(r.status, 200, "{}", r.body);
    let r = request(web, "POST", "/api/waves/11:00/release", &signed, "").await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(!demo.controller.summary().borrow().waves["11:00"].held);

    // Every metric the shipped Grafana dashboard plots is served, once the floor has sorted.
    common::until_summary(&demo.controller, 60, "a tote sorted", |s| s.sorted > 0).await;
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    let m = request(demo.listening.metrics.unwrap(), "GET", "/metrics", &[], "").await;
    let grafana = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/deploy/grafana/floorctl-dashboard.json"
    ))
    .unwrap();
    let mut plotted: Vec<&str> = grafana
        .match_indices("floorctl_")
        .map(|(at, _)| {
            let rest = &grafana[at..];
            let end = rest
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(rest.len());
            &rest[..end]
        })
        .filter(|name| *name != "floorctl_floor")
        .collect();
    plotted.sort_unstable();
    plotted.dedup();
    // Counted only when it happens: no MQTT login has been refused in this demo.
    let lazy = ["floorctl_mqtt_refused_total"];
    for name in plotted.iter().filter(|n| !lazy.contains(n)) {
        assert!(
            m.body.contains(&format!("\n{name}")),
            "{name} is not served:\n{}",
            m.body
        );
    }

    // Logging out ends the session.
    let r = request(web, "POST", "/logout", &signed, "").await;
    assert_eq!(r.status, 303);
    assert_eq!(
        request(web, "GET", "/api/session", &[("Cookie", &sue)], "")
            .await
            .status,
        401
    );
    demo.shutdown().await;
}

/// Opens the live feed and reads it until it ends; returns whether it ended within `secs`.
async fn live_feed_ends_within(web: std::net::SocketAddr, cookie: String, secs: u64) -> bool {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut s = tokio::net::TcpStream::connect(web).await.unwrap();
    let req = format!("GET /api/live HTTP/1.1\r\nHost: {web}\r\nCookie: {cookie}\r\n\r\n");
    s.write_all(req.as_bytes()).await.unwrap();
    let mut buf = [0u8; 8192];
    let mut seen = String::new();
    let read = async {
        loop {
            match s.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => seen.push_str(&String::from_utf8_lossy(&buf[..n])),
            }
            // Chunked: the stream's last chunk.
            if seen.contains("\r\n0\r\n\r\n") {
                return;
            }
        }
    };
    tokio::time::timeout(std::time::Duration::from_secs(secs), read)
        .await
        .is_ok()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logout_demotion_and_removal_end_the_accounts_sessions_at_once_streams_included() {
    let dir = tempfile::tempdir().unwrap();
    let demo = common::demo(dir.path(), 10, 2).await;
    let web = demo.listening.dashboard.unwrap();
    let login = |user: &'static str, pw: &'static str| async move {
        let r = log_in(web, user, pw).await;
        let cookie = r.cookie().expect("logged in");
        let s = request(web, "GET", "/api/session", &[("Cookie", &cookie)], "").await;
        let v: serde_json::Value = serde_json::from_str(&s.body).unwrap();
        (cookie, v["csrf"].as_str().unwrap().to_string())
    };
    let hold = |cookie: String, csrf: String| async move {
        let h = [("Cookie", cookie.as_str()), ("X-CSRF-Token", csrf.as_str())];
        request(web, "POST", "/api/waves/11:00/hold", &h, "")
            .await
            .status
    };

    // Logged out: the open live feed ends with the session.
    common::account(&demo.controller, "sue", "supervisor", "sue-password-1").await;
    let (sue, sue_csrf) = login("sue", "sue-password-1").await;
    let feed = tokio::spawn(live_feed_ends_within(web, sue.clone(), 10));
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let h = [
        ("Cookie", sue.as_str()),
        ("X-CSRF-Token", sue_csrf.as_str()),
    ];
    assert_eq!(request(web, "POST", "/logout", &h, "").await.status, 303);
    assert!(feed.await.unwrap(), "the live feed ends at logout");

    // Made a viewer with a new password: the supervisor's old session commands nothing.
    let (sue, sue_csrf) = login("sue", "sue-password-1").await;
    let feed = tokio::spawn(live_feed_ends_within(web, sue.clone(), 10));
    common::account(&demo.controller, "sue", "viewer", "sue-password-2").await;
    assert_eq!(
        hold(sue.clone(), sue_csrf).await,
        401,
        "the demoted session is over"
    );
    assert!(feed.await.unwrap(), "and its live feed");

    // Disabled: its session ends, and it logs in no more, with a word saying why.
    let (sue, sue_csrf) = login("sue", "sue-password-2").await;
    assert!(demo
        .controller
        .store()
        .disable_user("sue", Some(1))
        .await
        .unwrap());
    assert_eq!(
        hold(sue, sue_csrf).await,
        401,
        "the disabled account's session is over"
    );
    let refused = log_in(web, "sue", "sue-password-2").await;
    assert_eq!(refused.status, 403, "{}", refused.body);
    assert!(
        refused.body.contains("This account is disabled"),
        "{}",
        refused.body
    );
    assert!(demo
        .controller
        .store()
        .disable_user("sue", None)
        .await
        .unwrap());

    // Removed: its session ends too.
    let (sue, sue_csrf) = login("sue", "sue-password-2").await;
    assert!(demo.controller.store().remove_user("sue").await.unwrap());
    assert_eq!(hold(sue, sue_csrf).await, 401);
    assert!(!demo.controller.summary().borrow().waves["11:00"].held);
    demo.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn password_guessing_is_slowed_alarmed_and_a_login_posted_from_elsewhere_refused() {
    let dir = tempfile::tempdir().unwrap();
    let demo = common::demo(dir.path(), 10, 2).await;
    let web = demo.listening.dashboard.unwrap();
    common::account(&demo.controller, "sue", "supervisor", "sue-password-1").await;
    common::account(&demo.controller, "vic", "viewer", "vic-password-1").await;

    // A login form posted without the token of a page this dashboard served (another site's
    // page posting here): refused, even with the right password.
    let form = [("Content-Type", "application/x-www-form-urlencoded")];
    let r = request(
        web,
        "POST",
        "/login",
        &form,
        "user=sue&password=sue-password-1",
    )
    .await;
    assert_eq!(r.status, 403, "{}", r.body);
    assert!(r
        .cookie()
        .is_none_or(|c| !c.starts_with("floorctl_session=")));

    // Guessing: after five wrong passwords the right one waits too, with the wait said.
    for _ in 0..6 {
        assert_eq!(log_in(web, "sue", "a-wrong-guess").await.status, 401);
    }
    let r = log_in(web, "sue", "sue-password-1").await;
    assert_eq!(r.status, 429, "{}", r.body);
    assert!(r.body.contains("try again in"), "{}", r.body);
    // Another account from the same address is not held up by it.
    assert_eq!(log_in(web, "vic", "vic-password-1").await.status, 303);
    // The guessing is an alarm on the floor.
    let s = common::until_summary(&demo.controller, 10, "an alarm for the guessing", |s| {
        s.alarm_log
            .values()
            .any(|a| a.text.contains("failed logins in a row") && a.source.contains("sue"))
    })
    .await;
    assert!(s
        .alarm_log
        .values()
        .any(|a| a.source.contains("account sue")));
    demo.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_metric_says_what_it_is_and_the_process_answers_health_and_readiness() {
    let dir = tempfile::tempdir().unwrap();
    let demo = common::demo(dir.path(), 10, 2).await;
    let (web, metrics) = (
        demo.listening.dashboard.unwrap(),
        demo.listening.metrics.unwrap(),
    );
    common::until_summary(&demo.controller, 60, "a tote sorted", |s| s.sorted > 0).await;
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    let m = request(metrics, "GET", "/metrics", &[], "").await;
    assert_eq!(m.status, 200);
    let mut typed = 0;
    for line in m.body.lines() {
        let Some(rest) = line.strip_prefix("# TYPE ") else {
            continue;
        };
        let (name, kind) = rest.split_once(' ').unwrap();
        if !(name.starts_with("floorctl_") || name.starts_with("process_")) {
            continue;
        }
        typed += 1;
        assert!(
            m.body.contains(&format!("# HELP {name} ")),
            "{name} has no HELP line"
        );
        assert_eq!(
            kind == "counter",
            name.ends_with("_total"),
            "{name} is a {kind}: counters, and only they, end in _total"
        );
    }
    assert!(typed > 20, "{}", m.body);
    let version = env!("CARGO_PKG_VERSION");
    assert!(
        m.body
            .contains(&format!("floorctl_build_info{{version=\"{version}\"}} 1")),
        "{}",
        m.body
    );
    let rss = m
        .body
        .lines()
        .find_map(|l| l.strip_prefix("process_resident_memory_bytes "))
        .and_then(|v| v.parse::<f64>().ok())
        .expect("resident memory served");
    assert!(rss > 1e6, "{rss}");
    for at in [web, metrics] {
        let h = request(at, "GET", "/healthz", &[], "").await;
        assert_eq!((h.status, h.body.as_str()), (200, "ok\n"));
        let r = request(at, "GET", "/readyz", &[], "").await;
        assert_eq!((r.status, r.body.as_str()), (200, "ready\n"));
    }
    demo.shutdown().await;
}

//! The handheld app in a real browser (headless Chromium at 360×740 with touch, as a 5" Android
//! scanner shows it) against a controller on the simulated floor, over MQTT over WebSocket
//! through the embedded broker's gateway: a refused password, then a picker's trip of three
//! orders with a wrong scan and a short, the totes closed and taken by the conveyor; the
//! connection cut mid-pick and a scan made while it is down, sent once when it is back; the
//! app opened again with no network at all; the same trip in Chinese. Screenshots are saved
//! under target/handheld/.

mod common;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use common::cdp::Browser;
use floorctl::config::Broker;
use floorctl::scanners::passwd::{self, Passwords};
use floorctl_core::BatchPolicy;
use floorctl_protocol::order::{Order, OrderLine, Priority};
use serde_json::{json, Value};

fn shot(name: &str) -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/target/handheld")).join(name)
}

fn order(id: &str, first: u32) -> Order {
    Order {
        id: id.into(),
        cutoff: "11:00".into(),
        priority: Priority::Normal,
        destination: None,
        lines: (0..2)
            .map(|i| OrderLine {
                sku: format!("SKU{:04}", first + i),
                qty: 2 + i,
                location: format!("A{:02}-{:02}", 1 + (first + i) % 12, 1 + i),
            })
            .collect(),
    }
}

/// Types `code` into the focused scan field and presses Enter, as a scanner's keyboard wedge does.
async fn scan(b: &mut Browser, code: &str) {
    b.eval("document.querySelector('#scan').focus(); true")
        .await;
    b.call("Input.insertText", json!({"text": code})).await;
    for kind in ["keyDown", "keyUp"] {
        b.call(
            "Input.dispatchKeyEvent",
            json!({"type": kind, "key": "Enter", "code": "Enter", "windowsVirtualKeyCode": 13}),
        )
        .await;
    }
}

/// Taps the element `selector` (a touch, as on the scanner's screen).
async fn tap(b: &mut Browser, selector: &str) {
    let at = b
        .wait_for(
            &format!(
                "(() => {{ const e = document.querySelector('{selector}'); if (!e || e.getClientRects().length === 0) return false;
                   const r = e.getBoundingClientRect(); return [r.x + r.width / 2, r.y + r.height / 2]; }})()"
            ),
            20,
        )
        .await;
    let (x, y) = (at[0].as_f64().unwrap(), at[1].as_f64().unwrap());
    for kind in ["touchStart", "touchEnd"] {
        let points = if kind == "touchStart" {
            json!([{"x": x, "y": y}])
        } else {
            json!([])
        };
        b.call(
            "Input.dispatchTouchEvent",
            json!({"type": kind, "touchPoints": points}),
        )
        .await;
    }
}

async fn direction(b: &mut Browser) -> Value {
    b.eval("app.direction").await
}

/// Waits for a direction asking for other work than `before` did (a direction sent again
/// with a new id is the same work), and returns it.
async fn next_direction(b: &mut Browser, before: &Value) -> Value {
    b.wait_for(
        &format!("app.direction && !sameWork(app.direction, {before}) && app.direction"),
        60,
    )
    .await
}

/// Does the trip on screen: a wrong location first, the second line short, the connection
/// cut before the third line's SKU scan (sent while it is down), every tote closed and put
/// on the conveyor; returns the words the page showed for the wrong location.
async fn trip(
    b: &mut Browser,
    sim: &floorsim::Simulator,
    lang: &str,
    texts: &Value,
) -> (String, u32) {
    let mut lines = 0;
    let mut wrong = String::new();
    loop {
        let d = direction(b).await;
        let mut now = d.clone();
        match d["kind"].as_str().unwrap() {
            "pick" => {
                assert_eq!(d["expect"], "location", "{d}");
                let step = b.eval("document.querySelector('#step').textContent").await;
                assert_eq!(step, texts["step.location"], "{lang}");
                if lines == 0 {
                    scan(b, "Z-99-99").await;
                    wrong = b
                        .wait_for(
                            "!document.querySelector('#refused').hidden && document.querySelector('#refused').dataset.code === 'wrong_location' && document.querySelector('#refused-text').textContent",
                            20,
                        )
                        .await
                        .as_str()
                        .unwrap()
                        .to_string();
                    b.screenshot(&shot(&format!("{lang}-wrong-scan.png"))).await;
                    tap(b, "#refused").await;
                    b.wait_for("document.querySelector('#refused').hidden", 10)
                        .await;
                }
                scan(b, d["location"].as_str().unwrap()).await;
                let d = next_direction(b, &now).await;
                assert_eq!(d["expect"], "sku");
                now = d.clone();
                if lines == 2 {
                    // The Wi-Fi drops mid-pick; the SKU is scanned while it is down.
                    offline(b, true).await;
                    b.wait_for(
                        "document.querySelector('#link').dataset.state === 'off'",
                        60,
                    )
                    .await;
                    scan(b, d["sku"].as_str().unwrap()).await;
                    b.wait_for(
                        "app.queued === 1 && !document.querySelector('#offline').hidden",
                        10,
                    )
                    .await;
                    let banner = b
                        .eval("document.querySelector('#offline').textContent")
                        .await;
                    assert_eq!(
                        banner.as_str().unwrap(),
                        texts["offline.queued"]
                            .as_str()
                            .unwrap()
                            .replace("{n}", "1")
                    );
                    b.screenshot(&shot(&format!("{lang}-offline.png"))).await;
                    offline(b, false).await;
                } else {
                    scan(b, d["sku"].as_str().unwrap()).await;
                }
                let d = next_direction(b, &now).await;
                assert_eq!(d["expect"], "quantity");
                now = d.clone();
                if lines == 0 {
                    b.screenshot(&shot(&format!("{lang}-pick.png"))).await;
                }
                if lines == 1 {
                    tap(b, "#short-open").await;
                    tap(b, "#short-confirm").await;
                } else {
                    tap(b, "#picked").await;
                }
                lines += 1;
            }
            "close_tote" => {
                tap(b, "#tote-closed").await;
            }
            "tote_complete" => {
                let tote = d["tote"].as_u64().unwrap() as u32;
                if d["conveyor"] == "cv1" && lines > 0 {
                    b.screenshot(&shot(&format!("{lang}-to-conveyor.png")))
                        .await;
                }
                sim.with_floor(|f| f.place_tote(tote));
            }
            "wait" if lines > 0 => return (wrong, lines),
            other => panic!("unexpected direction {other}: {d}"),
        }
        next_direction(b, &now).await;
    }
}

async fn offline(b: &mut Browser, off: bool) {
    b.call(
        "Network.emulateNetworkConditions",
        json!({"offline": off, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1}),
    )
    .await;
}

async fn log_in(b: &mut Browser, web: &str, lang: &str, handheld: &str, password: &str) {
    b.goto(&format!("{web}/handheld/")).await;
    b.wait_for("document.body.dataset.ready === 'true'", 20)
        .await;
    tap(b, &format!(".lang[data-lang=\"{lang}\"]")).await;
    b.wait_for(&format!("app.lang === '{lang}'"), 10).await;
    b.eval(&format!(
        "document.querySelector('#handheld').value = '{handheld}';
         document.querySelector('#password').value = '{password}';
         document.querySelector('#picker').value = 'badge-{handheld}'; true"
    ))
    .await;
    tap(b, "#log-in").await;
}

fn catalogue(lang: &str) -> Value {
    serde_json::from_str(
        floorctl::handheld::CATALOGUES
            .iter()
            .find(|(l, _)| *l == lang)
            .unwrap()
            .1,
    )
    .unwrap()
}

/// A browser as a 5" Android scanner: 360×740, touch, network conditions under the test's hand.
async fn scanner_browser(chromium: &str) -> Browser {
    let mut b = Browser::launch(chromium, 360, 740).await;
    b.call(
        "Emulation.setDeviceMetricsOverride",
        json!({"width": 360, "height": 740, "deviceScaleFactor": 2, "mobile": true}),
    )
    .await;
    b.call(
        "Emulation.setTouchEmulationEnabled",
        json!({"enabled": true, "maxTouchPoints": 5}),
    )
    .await;
    b.call("Network.enable", json!({})).await;
    b
}

/// A controller on the test floor with `broker`, three-tote carts, and its dashboard's listener
/// (where the app is served); returns it with the listener's URL.
async fn controller(
    f: &common::Floor,
    broker: Broker,
    websocket_url: Option<String>,
) -> (
    floorctl::controller::Controller,
    String,
    tokio_util::sync::CancellationToken,
) {
    let mut config = common::config(f, &f.db);
    config.broker = broker;
    config.layout.batching.policy = BatchPolicy::Fcfs;
    config.layout.batching.totes_per_cart = 3;
    config.dashboard.handheld_websocket_url = websocket_url;
    let (controller, web, cancel) = common::controller_with_dashboard(config).await;
    (controller, format!("http://{web}"), cancel)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_picker_does_a_trip_on_the_app_through_a_wrong_scan_a_short_and_a_wifi_gap_in_english_and_chinese(
) {
    let Some(chromium) = common::peer("CHROMIUM", "a Chromium browser (Debian's chromium)") else {
        return;
    };
    let f = common::floor(5)
        .orders(0)
        .pickers(|p| p.count = 0)
        .build()
        .await;
    let broker: SocketAddr =
        floorctl_bench::fixtures::free_addr("127.0.0.1:0".parse().unwrap()).unwrap();
    let lines: String = ["h7", "h8"]
        .iter()
        .map(|h| passwd::line(h, &format!("{h}-secret-pw"), 1_000) + "\n")
        .collect();
    let embedded = Broker::Embedded {
        listen: broker,
        handhelds: Some(Passwords::parse(&lines).unwrap()),
    };
    let (controller, web, cancel) = controller(&f, embedded, None).await;
    let mut b = scanner_browser(&chromium).await;

    // A password that fails: said in the picker's words, and nothing is logged in.
    let en = catalogue("en");
    log_in(&mut b, &web, "en", "h7", "not-the-password").await;
    let said = b
        .wait_for("document.querySelector('#login-message').textContent", 30)
        .await;
    assert_eq!(said, en["login.refused"]);
    assert_eq!(
        b.eval("[...document.querySelectorAll('#always button, #link')].filter(e => e.getClientRects().length > 0).length")
            .await,
        0,
        "nothing of the work screen shows before a login"
    );
    b.screenshot(&shot("en-login-refused.png")).await;
    let sent: u64 = b
        .eval(
            "performance.getEntriesByType('navigation').concat(performance.getEntriesByType('resource'))
               .reduce((n, e) => n + (e.transferSize || 0), 0)",
        )
        .await
        .as_u64()
        .unwrap();
    println!("the app's transferred size on first load: {sent} bytes (goal under 150 kB)");

    // The app keeps its own files: opened again in a Wi-Fi gap, it still comes up.
    b.wait_for("navigator.serviceWorker.controller !== null", 20)
        .await;
    offline(&mut b, true).await;
    b.goto(&format!("{web}/handheld/")).await;
    b.wait_for(
        "document.body.dataset.ready === 'true' && document.querySelector('#log-in').textContent === 'Log in'",
        20,
    )
    .await;
    b.screenshot(&shot("en-opened-offline.png")).await;
    offline(&mut b, false).await;

    // Three orders of two lines each: one trip on a cart of three totes.
    for (i, o) in ["E1", "E2", "E3"].iter().enumerate() {
        controller.submit(order(o, 10 * i as u32)).await;
    }
    log_in(&mut b, &web, "en", "h7", "h7-secret-pw").await;
    b.wait_for(
        "app.direction !== null && app.direction.kind === 'pick'",
        30,
    )
    .await;
    let (wrong, lines) = trip(&mut b, &f.sim, "en", &en).await;
    assert!(wrong.starts_with("Wrong location Z-99-99."), "{wrong}");
    assert_eq!(lines, 6);
    let timings: Vec<f64> = serde_json::from_value(b.eval("app.scanToDirectionMs").await).unwrap();

    // The controller counted each line once, the short as found, and the totes were sorted.
    let summary = controller.summary().borrow().clone();
    assert_eq!(summary.lines_picked, 6, "{summary:?}");
    assert_eq!(summary.shorts, 1);
    assert_eq!(summary.picked, 3);
    common::wait_sorted(&controller, 3, Duration::from_secs(60)).await;
    b.screenshot(&shot("en-done.png")).await;
    tap(&mut b, "#log-out").await;
    b.wait_for("!document.querySelector('#login').hidden", 20)
        .await;

    // The same trip in Chinese, on another handheld.
    let zh = catalogue("zh");
    for (i, o) in ["C1", "C2", "C3"].iter().enumerate() {
        controller.submit(order(o, 40 + 10 * i as u32)).await;
    }
    log_in(&mut b, &web, "zh", "h8", "h8-secret-pw").await;
    b.wait_for(
        "app.direction !== null && app.direction.kind === 'pick'",
        30,
    )
    .await;
    let labels = b
        .eval("[...document.querySelectorAll('.field .name')].map(e => e.textContent).join(' ')")
        .await;
    assert!(labels.as_str().unwrap().contains("库位"), "{labels}");
    let (wrong, lines) = trip(&mut b, &f.sim, "zh", &zh).await;
    assert!(wrong.starts_with("库位错误：Z-99-99。"), "{wrong}");
    assert_eq!(lines, 6);
    let summary = controller.summary().borrow().clone();
    assert_eq!(summary.lines_picked, 12, "{summary:?}");
    common::wait_sorted(&controller, 6, Duration::from_secs(60)).await;

    let mut all: Vec<f64> = timings;
    all.extend(serde_json::from_value::<Vec<f64>>(b.eval("app.scanToDirectionMs").await).unwrap());
    all.sort_by(f64::total_cmp);
    if !all.is_empty() {
        println!(
            "scan to the next direction on screen: median {:.0} ms, slowest {:.0} ms over {} scans (the one sent in the gap included)",
            all[all.len() / 2],
            all[all.len() - 1],
            all.len()
        );
    }
    println!("screenshots in {}", shot("").display());
    b.close().await;
    cancel.cancel();
    controller.shutdown(Duration::from_secs(2)).await;
}

/// The same app against Mosquitto's WebSocket listener (deploy/mosquitto), the controller on
/// Mosquitto too; then another device logs in as the same handheld and the app gives way,
/// saying so, instead of taking the session back and forth.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_app_works_against_mosquittos_websocket_listener_and_gives_way_to_a_second_device() {
    let Some(chromium) = common::peer("CHROMIUM", "a Chromium browser (Debian's chromium)") else {
        return;
    };
    let Some(mqtt) = common::peer(
        "MOSQUITTO_ACL_ADDR",
        "a Mosquitto run with deploy/mosquitto (logins and per-handheld ACL)",
    ) else {
        return;
    };
    let Some(ws) = common::peer(
        "MOSQUITTO_WS_ADDR",
        "the WebSocket listener of that Mosquitto (deploy/mosquitto's listener 9001)",
    ) else {
        return;
    };
    let mqtt: SocketAddr = mqtt.parse().unwrap();
    let f = common::floor(6)
        .orders(0)
        .pickers(|p| p.count = 0)
        .broker(mqtt)
        .build()
        .await;
    let external = Broker::External {
        host: mqtt.ip().to_string(),
        port: mqtt.port(),
        credentials: Some(floorctl::scanners::Credentials {
            username: "floorctl".into(),
            password: "floorctl-secret".into(),
        }),
    };
    let (controller, web, cancel) = controller(&f, external, Some(format!("ws://{ws}"))).await;
    let mut b = scanner_browser(&chromium).await;
    for (i, o) in ["M1", "M2", "M3"].iter().enumerate() {
        controller.submit(order(o, 70 + 10 * i as u32)).await;
    }
    let en = catalogue("en");
    log_in(&mut b, &web, "en", "h2", "h2-secret").await;
    b.wait_for(
        "app.direction !== null && app.direction.kind === 'pick'",
        30,
    )
    .await;
    let (wrong, lines) = trip(&mut b, &f.sim, "mosquitto", &en).await;
    assert!(wrong.starts_with("Wrong location Z-99-99."), "{wrong}");
    assert_eq!(lines, 6);
    assert_eq!(controller.summary().borrow().lines_picked, 6);

    // Another device logs in as h2 and keeps its link up.
    let mut opts = rumqttc::MqttOptions::new("h2", mqtt.ip().to_string(), mqtt.port());
    opts.set_credentials("h2", "h2-secret")
        .set_keep_alive(Duration::from_secs(5))
        .set_clean_session(true);
    let (_client, mut events) = rumqttc::AsyncClient::new(opts, 10);
    let other = tokio::spawn(async move {
        loop {
            if events.poll().await.is_err() {
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }
    });
    let said = b
        .wait_for(
            "!document.querySelector('#login').hidden && document.querySelector('#login-message').textContent",
            60,
        )
        .await;
    assert_eq!(said, en["login.taken_over"]);
    b.screenshot(&shot("mosquitto-taken-over.png")).await;
    other.abort();
    b.close().await;
    cancel.cancel();
    controller.shutdown(Duration::from_secs(2)).await;
}

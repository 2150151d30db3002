//! The command line against a running controller, as a person at the site uses it: orders from
//! an order book, an order shown, stock and the forward area loaded from CSV files, through the
//! HTTP API as a service account whose token is in FLOORCTL_TOKEN.

mod common;

use common::api::service_account;

/// Runs `floorctl ARGS` with `token`; its exit status, output and error output.
async fn floorctl(token: &str, args: &[&str]) -> (bool, String, String) {
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_floorctl"))
        .args(args)
        .env("FLOORCTL_TOKEN", token)
        .env("RUST_LOG", "warn")
        .output()
        .await
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn orders_stock_and_faces_go_to_a_running_controller_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let demo = common::demo(dir.path(), 0, 0).await;
    let web = demo.listening.dashboard.expect("dashboard listening");
    let api = format!("http://{web}");
    let store = demo.controller.store();
    let token = service_account(
        store,
        "clerk",
        &["orders:write", "orders:read", "stock:write"],
    )
    .await;
    let file = |name: &str, text: &str| {
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        path.display().to_string()
    };

    // An order book: added once, recognised the second time.
    let book = file(
        "book.csv",
        "order,cutoff,sku,qty,location\nK-1,11:00,SKU0001,2,A01-01\nK-1,11:00,SKU0002,1,A02-01\nK-2,17:00,SKU0003,1,A03-01\n",
    );
    let (ok, out, err) = floorctl(&token, &["orders", "add", &book, "--api", &api]).await;
    assert!(ok, "{err}");
    assert_eq!(out.trim(), "2 order(s) added, 0 already there");
    let (ok, out, _) = floorctl(&token, &["orders", "add", &book, "--api", &api]).await;
    assert!(ok);
    assert_eq!(out.trim(), "0 order(s) added, 2 already there");
    assert_eq!(demo.controller.summary().borrow().orders, 2);
    let (ok, out, err) = floorctl(&token, &["orders", "show", "K-1", "--api", &api]).await;
    assert!(ok, "{err}");
    assert!(
        out.contains("order K-1\n") && out.contains("cut-off 11:00"),
        "{out}"
    );
    assert!(out.contains("released"), "its history: {out}");
    let (ok, _, err) = floorctl(&token, &["orders", "show", "K-9", "--api", &api]).await;
    assert!(!ok);
    assert!(err.contains("no order K-9 has been received"), "{err}");

    // The forward area and its stock.
    let faces = file(
        "faces.csv",
        "location,sku,min,max\nA01-01,SKU0001,2,20\nA02-01,SKU0002,3,30\n",
    );
    let (ok, out, err) = floorctl(&token, &["faces", "load", &faces, "--api", &api]).await;
    assert!(ok, "{err}");
    assert_eq!(out.trim(), "2 pick face(s) installed");
    let stock = file(
        "stock.csv",
        "sku,location,qty\nSKU0001,A01-01,12\nSKU0002,A02-01,25\n",
    );
    let (ok, out, err) = floorctl(&token, &["stock", "load", &stock, "--api", &api]).await;
    assert!(ok, "{err}");
    assert_eq!(out.trim(), "stock set at 2 location(s)");
    common::until_summary(&demo.controller, 10, "the faces stocked", |s| {
        s.forward.get("A02-01").is_some_and(|f| f.on_hand == 25)
    })
    .await;

    // Bad files and bad tokens: a clear message, nothing changed.
    let bad = file(
        "bad.csv",
        "sku,location,qty\nSKU0001,A01-01,-4\nSKU0002,A02-01,lots\n",
    );
    let (ok, _, err) = floorctl(&token, &["stock", "load", &bad, "--api", &api]).await;
    assert!(!ok);
    assert!(err.contains("line 2") && err.contains("line 3"), "{err}");
    let (ok, _, err) = floorctl("fct_wrong", &["orders", "add", &book, "--api", &api]).await;
    assert!(!ok);
    assert!(err.contains("not known here or has been revoked"), "{err}");
    let (ok, _, err) = floorctl("", &["orders", "add", &book, "--api", &api]).await;
    assert!(!ok);
    assert!(err.contains("set FLOORCTL_TOKEN"), "{err}");
    let (ok, _, err) = floorctl(
        &token,
        &["orders", "add", &book, "--api", "http://127.0.0.1:1"],
    )
    .await;
    assert!(!ok);
    assert!(err.contains("does not answer"), "{err}");
    assert_eq!(
        demo.controller.summary().borrow().forward["A01-01"].on_hand,
        12
    );
    demo.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forward_area_planned_from_order_history_is_installed_and_a_peak_day_brings_stock_forward(
) {
    let dir = tempfile::tempdir().unwrap();
    let demo = common::demo(dir.path(), 0, 0).await;
    let web = demo.listening.dashboard.expect("dashboard listening");
    let api = format!("http://{web}");
    let token = service_account(
        demo.controller.store(),
        "planner",
        &["orders:write", "stock:write"],
    )
    .await;
    let file = |name: &str, text: &str| {
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        path.display().to_string()
    };

    // Tonight's plan from the order history, installed on the running floor.
    let history = file(
        "history.csv",
        "date,order,sku,units\n\
         2026-11-28,h1,SKU0001,4\n2026-11-28,h2,SKU0002,1\n2026-11-28,h3,SKU0001,2\n\
         2026-11-29,h4,SKU0001,5\n2026-11-29,h5,SKU0003,1\n2026-11-29,h6,SKU0002,2\n",
    );
    let plan = dir.path().join("plan.csv").display().to_string();
    let (ok, out, err) = floorctl(
        "",
        &[
            "slot",
            "plan",
            "--order-lines",
            &history,
            "--volume",
            "60",
            "--saving-per-pick",
            "1",
            "--restock-cost",
            "0.2",
            "--out",
            &plan,
        ],
    )
    .await;
    assert!(ok, "{err}");
    assert!(out.contains("plan written to"), "{out}");
    let forward = file("forward.csv", "location\nA01-01\nA02-01\nA03-01\nA04-01\n");
    let apply = |extra: &'static [&'static str]| {
        let mut args = vec![
            "slot",
            "apply",
            plan.as_str(),
            "--locations",
            forward.as_str(),
        ];
        args.extend_from_slice(&["--lead-time-hours", "4", "--api", api.as_str()]);
        args.extend_from_slice(extra);
        args.into_iter().map(str::to_string).collect::<Vec<_>>()
    };
    let dry: Vec<String> = apply(&["--dry-run"]);
    let dry: Vec<&str> = dry.iter().map(String::as_str).collect();
    let (ok, shown, err) = floorctl(&token, &dry).await;
    assert!(ok, "{err}");
    let faces: Vec<(String, String, u32, u32)> = shown
        .lines()
        .skip(1)
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            (
                f[0].into(),
                f[1].into(),
                f[2].parse().unwrap(),
                f[3].parse().unwrap(),
            )
        })
        .collect();
    assert!(!faces.is_empty(), "{shown}");
    let first = faces.iter().find(|f| f.0 == "A01-01").map(|f| f.1.as_str());
    assert_eq!(
        first,
        Some("SKU0001"),
        "the most picked SKU takes the first location: {shown}"
    );
    assert!(faces.iter().all(|f| f.2 <= f.3 && f.3 >= 1), "{shown}");
    assert!(
        demo.controller.summary().borrow().forward.is_empty(),
        "a dry run installs nothing"
    );
    // The face of SKU0001 already holds 3 units, above its refill point.
    let stock = file("stock.csv", "sku,location,qty\nSKU0001,A01-01,3\n");
    let (ok, _, err) = floorctl(&token, &["stock", "load", &stock, "--api", &api]).await;
    assert!(ok, "{err}");
    let real: Vec<String> = apply(&[]);
    let real: Vec<&str> = real.iter().map(String::as_str).collect();
    let (ok, out, err) = floorctl(&token, &real).await;
    assert!(ok, "{err}");
    assert_eq!(
        out.trim(),
        format!("{} pick face(s) installed", faces.len())
    );
    common::until_summary(&demo.controller, 10, "the planned faces installed", |s| {
        s.forward.len() == faces.len() && s.forward.get("A01-01").is_some_and(|f| f.on_hand == 3)
    })
    .await;
    let installed = demo.controller.summary().borrow().forward.clone();
    for (location, sku, min, max) in &faces {
        let f = &installed[location];
        assert_eq!((&f.sku, f.min, f.max), (sku, *min, *max), "{location}");
    }

    // Today's orders are the pace (picked from reserve); a peak tomorrow at twice that brings
    // each face up to it from what it holds.
    let book = file(
        "book.csv",
        "order,cutoff,sku,qty,location\nK-1,17:00,SKU0001,3,R01-01\nK-2,17:00,SKU0001,2,R01-01\n",
    );
    let (ok, _, err) = floorctl(&token, &["orders", "add", &book, "--api", &api]).await;
    assert!(ok, "{err}");
    let tomorrow =
        (floorctl_core::utc_text(floorctl::wall_clock::now_ms() + 86_400_000))[..10].to_string();
    let body = format!(r#"{{"peak":{{"day":"{tomorrow}","uplift":2}},"history_days":3}}"#);
    let a = common::api::call(web, "POST", "/api/v1/preposition", &token, &body).await;
    assert_eq!(a.status, 200, "{}", a.body);
    let doc = common::api::openapi(web).await;
    common::api::fits(&doc, "Preposition", &a);
    let answer = common::api::json(&a);
    let face1 = &installed["A01-01"];
    assert!(face1.min < 3, "{face1:?}");
    let want = 10.min(face1.max) - 3;
    assert_eq!(
        answer["planned"],
        serde_json::json!([{"sku": "SKU0001", "qty": want, "to": "A01-01"}]),
        "5 units today, twice that on the peak, within the face's {} units, less the 3 there: {answer}",
        face1.max
    );
    assert_eq!(answer["history"]["orders"], 2, "{answer}");

    // A peak already past, or sent with moves, is refused and changes nothing.
    for bad in [
        r#"{"peak":{"day":"2020-01-01","uplift":2}}"#,
        r#"{"peak":{"day":"2099-01-01","uplift":2},"moves":[{"sku":"SKU0001","qty":1,"to":"A01-01"}]}"#,
    ] {
        let a = common::api::call(web, "POST", "/api/v1/preposition", &token, bad).await;
        assert_eq!(a.status, 400, "{bad}: {}", a.body);
    }
    demo.shutdown().await;
}

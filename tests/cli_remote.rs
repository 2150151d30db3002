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

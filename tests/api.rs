//! The HTTP API over a real socket against the simulated floor: service-account tokens with
//! scopes, orders posted one at a time and in batches during the day (journalled before 201,
//! idempotent by number, 409 naming a difference), every bad request refused with its JSON
//! paths and nothing changed, every call audited, and the orders picked and sorted.

mod common;

use common::api::{call, fits, json, service_account as account};
use common::http::request;

fn order(id: &str, sku: u32, qty: u32) -> String {
    format!(
        r#"{{"order":"{id}","cutoff":"11:00","lines":[{{"sku":"SKU{sku:04}","qty":{qty},"location":"A{:02}-{:02}"}}]}}"#,
        sku % 12 + 1,
        sku / 12 + 1
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn orders_posted_during_the_day_are_durable_idempotent_checked_and_sorted() {
    let dir = tempfile::tempdir().unwrap();
    let demo = common::demo(dir.path(), 0, 3).await;
    let web = demo.listening.dashboard.expect("dashboard listening");
    let store = demo.controller.store();
    let writer = account(store, "shop", &["orders:write", "orders:read"]).await;
    let reader = account(store, "erp", &["orders:read"]).await;
    let revoked = account(store, "old", &["orders:write"]).await;
    assert!(store.revoke_token("old", 1).await.unwrap());
    let one = order("API-1", 3, 2);
    // The OpenAPI document, served as committed and without a token.
    let a = request(web, "GET", "/api/v1/openapi.json", &[], "").await;
    assert_eq!(a.status, 200);
    let committed =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/openapi.json")).unwrap();
    assert!(
        a.body == committed,
        "the document served differs from docs/openapi.json"
    );
    let doc = json(&a);

    // Who may post: a token, known, not revoked, with the scope.
    for (token, status) in [
        ("", 401),
        ("fct_nothing", 401),
        (revoked.as_str(), 401),
        (reader.as_str(), 403),
    ] {
        let a = call(web, "POST", "/api/v1/orders", token, &one).await;
        assert_eq!(a.status, status, "{token}: {}", a.body);
        fits(&doc, "Error", &a);
    }

    // A batch with bad orders: none is taken, each problem named by its path.
    let bad = format!(
        r#"{{"orders":[{},{{"order":"API-9","cutoff":"25:00","lines":[{{"sku":"SKU0001","qty":0}}]}}]}}"#,
        order("API-8", 1, 1)
    );
    let a = call(web, "POST", "/api/v1/orders", &writer, &bad).await;
    assert_eq!(a.status, 400, "{}", a.body);
    let paths: Vec<String> = json(&a)["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["path"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(paths, ["orders[1].cutoff", "orders[1].lines[0].qty"]);
    fits(&doc, "Error", &a);
    // A body of 5 MB is refused before it is read.
    let huge = format!("{{\"orders\":[{}]}}", "x".repeat(5 * 1024 * 1024));
    let a = call(web, "POST", "/api/v1/orders", &writer, &huge).await;
    assert_eq!(a.status, 413, "{}", &a.body[..a.body.len().min(200)]);
    let a = call(web, "GET", "/api/v1/orders/API-8", &writer, "").await;
    assert_eq!(
        a.status, 404,
        "nothing of the refused batch was taken: {}",
        a.body
    );
    assert_eq!(demo.controller.summary().borrow().orders, 0);

    // One order, then a batch: 201 once journalled; the same again is 200, nothing doubled.
    let a = call(web, "POST", "/api/v1/orders", &writer, &one).await;
    assert_eq!(a.status, 201, "{}", a.body);
    let batch: Vec<String> = (2..=6).map(|i| order(&format!("API-{i}"), i, 1)).collect();
    let batch = format!("{{\"orders\":[{}]}}", batch.join(","));
    let a = call(web, "POST", "/api/v1/orders", &writer, &batch).await;
    assert_eq!(a.status, 201, "{}", a.body);
    fits(&doc, "OrderResults", &a);
    assert!(json(&a)["orders"]
        .as_array()
        .unwrap()
        .iter()
        .all(|o| o["result"] == "created"));
    let a = call(web, "POST", "/api/v1/orders", &writer, &batch).await;
    assert_eq!(a.status, 200, "{}", a.body);
    fits(&doc, "OrderResults", &a);
    assert_eq!(json(&a)["orders"][0]["result"], "already received");
    assert_eq!(
        json(&a)["orders"][0]["stored"]["lines"][0]["sku"],
        "SKU0002"
    );
    // Another body under a known number: 409 naming the difference, nothing taken.
    let changed = format!(
        "{{\"orders\":[{},{}]}}",
        order("API-7", 7, 1),
        order("API-2", 2, 5)
    );
    let a = call(web, "POST", "/api/v1/orders", &writer, &changed).await;
    assert_eq!(a.status, 409, "{}", a.body);
    let problem = json(&a)["problems"][0]["problem"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        problem.contains("order API-2 line 0 was received as 1 × SKU0002"),
        "{problem}"
    );
    let a = call(web, "GET", "/api/v1/orders/API-7", &reader, "").await;
    assert_eq!(a.status, 404, "{}", a.body);
    assert_eq!(demo.controller.summary().borrow().orders, 6);

    // Each is tracked, and picked and sorted on the floor like any other order.
    common::until_summary(&demo.controller, 60, "the API's orders sorted", |s| {
        s.sorted >= 6
    })
    .await;
    let a = call(web, "GET", "/api/v1/orders/API-1", &reader, "").await;
    assert_eq!(a.status, 200, "{}", a.body);
    fits(&doc, "OrderState", &a);
    let shown = json(&a);
    let statuses: Vec<&str> = shown["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["status"].as_str().unwrap())
        .collect();
    let mut seen = statuses.clone();
    seen.dedup();
    assert_eq!(seen, ["released", "picking", "picked", "sorted"], "{shown}");
    // Step by step: each line by its handheld, the tote closed, inducted, sorted into a chute.
    let events: Vec<&serde_json::Value> = shown["events"].as_array().unwrap().iter().collect();
    let kinds: Vec<&str> = events.iter().map(|e| e["type"].as_str().unwrap()).collect();
    for kind in [
        "order.received",
        "order.released",
        "order.line_picked",
        "order.picked",
        "tote.closed",
        "tote.inducted",
        "tote.sorted",
        "order.sorted",
    ] {
        assert!(kinds.contains(&kind), "{kind} not in {kinds:?}");
    }
    let line = events
        .iter()
        .find(|e| e["type"] == "order.line_picked")
        .unwrap();
    assert!(line["data"]["handheld"].is_string(), "{line}");
    let sorted = events.iter().find(|e| e["type"] == "tote.sorted").unwrap();
    assert!(sorted["data"]["chute"].as_u64().is_some(), "{sorted}");
    assert_eq!(
        (
            shown["status"].as_str(),
            shown["cutoff"].as_str(),
            shown["units_picked"].as_u64()
        ),
        (Some("sorted"), Some("11:00"), Some(2)),
        "{shown}"
    );

    // Listed by number a page at a time, filtered by status and cut-off.
    let a = call(web, "GET", "/api/v1/orders?limit=4", &reader, "").await;
    assert_eq!(a.status, 200, "{}", a.body);
    fits(&doc, "OrderPage", &a);
    let page = json(&a);
    let ids: Vec<&str> = page["orders"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["order"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["API-1", "API-2", "API-3", "API-4"]);
    assert_eq!(page["next"], "API-4");
    let a = call(
        web,
        "GET",
        "/api/v1/orders?limit=4&after=API-4&status=sorted&cutoff=11:00",
        &reader,
        "",
    )
    .await;
    let page = json(&a);
    assert_eq!(page["orders"].as_array().unwrap().len(), 2, "{page}");
    assert_eq!(page["next"], serde_json::Value::Null);
    let a = call(
        web,
        "GET",
        "/api/v1/orders?status=lost&limit=0",
        &reader,
        "",
    )
    .await;
    assert_eq!(a.status, 400, "{}", a.body);
    assert_eq!(json(&a)["problems"].as_array().unwrap().len(), 2);
    // None is late (the demo's cut-offs have no times), all are not.
    let a = call(web, "GET", "/api/v1/orders?late=true", &reader, "").await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(
        json(&a)["orders"].as_array().unwrap().len(),
        0,
        "{}",
        a.body
    );
    let a = call(web, "GET", "/api/v1/orders?late=false", &reader, "").await;
    assert_eq!(
        json(&a)["orders"].as_array().unwrap().len(),
        6,
        "{}",
        a.body
    );
    let a = call(web, "GET", "/api/v1/orders?late=maybe", &reader, "").await;
    assert_eq!(a.status, 400, "{}", a.body);

    // Every call is in the audit log under its service account.
    let log = store.audit_log(100).await.unwrap();
    let shop: Vec<&str> = log
        .iter()
        .filter(|e| e.user == "api:shop")
        .map(|e| e.outcome.as_str())
        .collect();
    for outcome in [
        "refused: 2 problem(s)",
        "1 created, 0 already received",
        "5 created, 0 already received",
        "0 created, 5 already received",
        "refused: order numbers received with other contents",
    ] {
        assert!(shop.contains(&outcome), "{outcome} not in {shop:?}");
    }
    demo.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stock_system_sets_faces_and_stock_and_a_shop_raises_a_priority() {
    let dir = tempfile::tempdir().unwrap();
    let demo = common::demo(dir.path(), 0, 0).await;
    let web = demo.listening.dashboard.expect("dashboard listening");
    let store = demo.controller.store();
    let wms = account(store, "wms", &["stock:write"]).await;
    let shop = account(store, "shop", &["orders:write"]).await;

    // The shop may not touch stock; a bad face list changes nothing.
    let faces = r#"{"faces":[{"location":"A01-01","sku":"SKU0000","min":2,"max":20},{"location":"A02-01","sku":"SKU0001","min":3,"max":30}]}"#;
    let a = call(web, "PUT", "/api/v1/pick-faces", &shop, faces).await;
    assert_eq!(a.status, 403, "{}", a.body);
    let bad = r#"{"faces":[{"location":"A01-01","sku":"SKU0000","min":20,"max":20}]}"#;
    let a = call(web, "PUT", "/api/v1/pick-faces", &wms, bad).await;
    assert_eq!(a.status, 400, "{}", a.body);
    assert_eq!(json(&a)["problems"][0]["path"], "faces[0].min");
    assert!(demo.controller.summary().borrow().forward.is_empty());

    // The forward area and its stock, as the stock system has them.
    let a = call(web, "PUT", "/api/v1/pick-faces", &wms, faces).await;
    assert_eq!(a.status, 200, "{}", a.body);
    let stock = r#"{"stock":[{"sku":"SKU0000","location":"A01-01","qty":15},{"sku":"SKU0001","location":"A02-01","qty":25}]}"#;
    let a = call(web, "PUT", "/api/v1/stock", &wms, stock).await;
    assert_eq!(a.status, 200, "{}", a.body);
    let s = common::until_summary(&demo.controller, 10, "two faces stocked", |s| {
        s.forward.get("A02-01").is_some_and(|f| f.on_hand == 25)
    })
    .await;
    let face = &s.forward["A01-01"];
    assert_eq!(
        (face.sku.as_str(), face.on_hand, face.min, face.max),
        ("SKU0000", 15, 2, 20)
    );

    // Receipts and adjustments, each with its reason; one taking more than is there refuses
    // the whole request.
    let too_many = r#"{"movements":[{"kind":"receipt","sku":"SKU0000","location":"A01-01","qty":3},{"kind":"adjustment","sku":"SKU0001","location":"A02-01","qty":-26,"reason":"damaged"}]}"#;
    let a = call(web, "POST", "/api/v1/stock/movements", &wms, too_many).await;
    assert_eq!(a.status, 409, "{}", a.body);
    assert!(
        json(&a)["message"]
            .as_str()
            .unwrap()
            .contains("SKU0001 at A02-01: the book holds 25"),
        "{}",
        a.body
    );
    let moves = r#"{"movements":[{"kind":"receipt","sku":"SKU0000","location":"A01-01","qty":3,"reason":"ASN 77"},{"kind":"adjustment","sku":"SKU0001","location":"A02-01","qty":-2,"reason":"damaged"}]}"#;
    let a = call(web, "POST", "/api/v1/stock/movements", &shop, moves).await;
    assert_eq!(a.status, 403, "{}", a.body);
    let a = call(web, "POST", "/api/v1/stock/movements", &wms, moves).await;
    assert_eq!(a.status, 200, "{}", a.body);
    let s = common::until_summary(&demo.controller, 10, "the movements on the book", |s| {
        s.forward.get("A02-01").is_some_and(|f| f.on_hand == 23)
    })
    .await;
    assert_eq!(
        s.forward["A01-01"].on_hand, 18,
        "the refused request moved nothing"
    );
    let bad =
        r#"{"movements":[{"kind":"adjustment","sku":"SKU0001","location":"A02-01","qty":-1}]}"#;
    let a = call(web, "POST", "/api/v1/stock/movements", &wms, bad).await;
    assert_eq!(a.status, 400, "{}", a.body);
    assert_eq!(json(&a)["problems"][0]["path"], "movements[0].reason");

    // A priority raised on an order the shop sent; an unknown order is refused with why.
    let a = call(web, "POST", "/api/v1/orders", &shop, &order("P-1", 0, 1)).await;
    assert_eq!(a.status, 201, "{}", a.body);
    let urgent = r#"{"priority":"urgent"}"#;
    let a = call(web, "POST", "/api/v1/orders/P-1/priority", &shop, urgent).await;
    assert_eq!(a.status, 200, "{}", a.body);
    let a = call(web, "POST", "/api/v1/orders/NOPE/priority", &shop, urgent).await;
    assert_eq!(a.status, 409, "{}", a.body);
    assert!(
        json(&a)["message"].as_str().unwrap().contains("NOPE"),
        "{}",
        a.body
    );
    let a = call(
        web,
        "POST",
        "/api/v1/orders/P-1/priority",
        &shop,
        r#"{"priority":"now"}"#,
    )
    .await;
    assert_eq!(a.status, 400, "{}", a.body);

    // Stock brought forward ahead of a peak: tasks (or a transfer from the DC) for the face.
    let moves = r#"{"moves":[{"sku":"SKU0000","qty":10,"to":"A01-01"}]}"#;
    let a = call(web, "POST", "/api/v1/preposition", &wms, moves).await;
    assert_eq!(a.status, 200, "{}", a.body);
    common::until_summary(&demo.controller, 10, "the move under way to A01-01", |s| {
        s.forward.get("A01-01").is_some_and(|f| f.inbound >= 10)
    })
    .await;
    let bad = r#"{"moves":[{"sku":"SKU0000","qty":10,"to":"B99-99"}],"not_before":"2:00"}"#;
    let a = call(web, "POST", "/api/v1/preposition", &wms, bad).await;
    assert_eq!(a.status, 400, "{}", a.body);
    assert_eq!(
        json(&a)["problems"].as_array().unwrap().len(),
        2,
        "{}",
        a.body
    );

    // The promise: which cut-off an order placed now would make (the demo's cut-offs have no
    // times, so the first is made and none is given by the clock).
    let erp = account(store, "erp", &["orders:read"]).await;
    let doc = common::api::openapi(web).await;
    let a = call(
        web,
        "GET",
        "/api/v1/promise?lines=3&priority=urgent",
        &erp,
        "",
    )
    .await;
    assert_eq!(a.status, 200, "{}", a.body);
    fits(&doc, "Promise", &a);
    let p = json(&a);
    assert_eq!(
        (
            p["makes"]["cutoff"].as_str(),
            p["makes"]["on_time"].as_bool()
        ),
        (Some("11:00"), Some(true)),
        "{p}"
    );
    assert_eq!(p["given"], serde_json::Value::Null);
    for q in [
        "lines=0",
        "lines=many",
        "lines=2&priority=soon",
        "lines=2&late=true",
    ] {
        let a = call(web, "GET", &format!("/api/v1/promise?{q}"), &erp, "").await;
        assert_eq!(a.status, 400, "{q}: {}", a.body);
    }
    let a = call(web, "GET", "/api/v1/promise?lines=3", &shop, "").await;
    assert_eq!(a.status, 403, "{}", a.body);

    // An order no picker has taken is withdrawn; twice, or one never received, is refused.
    let a = call(web, "POST", "/api/v1/orders", &shop, &order("C-1", 1, 1)).await;
    assert_eq!(a.status, 201, "{}", a.body);
    let a = call(web, "DELETE", "/api/v1/orders/C-1", &shop, "").await;
    assert_eq!(a.status, 200, "{}", a.body);
    let a = call(web, "DELETE", "/api/v1/orders/C-1", &shop, "").await;
    assert_eq!(a.status, 409, "{}", a.body);
    assert!(json(&a)["message"]
        .as_str()
        .unwrap()
        .contains("already cancelled"));
    let a = call(web, "DELETE", "/api/v1/orders/NOPE", &shop, "").await;
    assert_eq!(a.status, 404, "{}", a.body);
    let s = demo.controller.summary().borrow().clone();
    assert_eq!((s.orders, s.cancelled), (1, 1), "P-1 left, C-1 cancelled");

    // A client that floods is told to wait, and others are not held up by it.
    let greedy = account(store, "greedy", &["orders:read"]).await;
    let mut refused = None;
    for _ in 0..400 {
        let a = call(web, "GET", "/api/v1/orders/P-1", &greedy, "").await;
        if a.status == 429 {
            refused = Some(a);
            break;
        }
        assert_eq!(a.status, 200, "{}", a.body);
    }
    let refused = refused.expect("a flood of requests is cut");
    let wait: u64 = refused.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=2).contains(&wait), "Retry-After {wait}");
    let patient = account(store, "patient", &["orders:read"]).await;
    let a = call(web, "GET", "/api/v1/orders/C-1", &patient, "").await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(json(&a)["status"], "cancelled");
    demo.shutdown().await;
}

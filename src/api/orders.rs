//! `POST /api/v1/orders` (one order, or a batch of up to 1,000) and `GET /api/v1/orders/{id}`.
//!
//! A batch is taken whole or not at all: every problem is listed with its JSON path. An order
//! number already received with the same body is answered as received again (idempotent); with
//! another body, 409 names the difference. 201 means every new order is journalled.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::store::{Store, StoreError};
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use floorctl_protocol::id::{Destination, Location, OrderId, Sku};
use floorctl_protocol::order::{Order, OrderLine, Priority};
use serde::Deserialize;
use serde_json::{json, Value};

use super::{
    audit, caller, entries, join, noted, refusal, unavailable, Api, Problem, MAX_BODY_BYTES,
};

/// Most orders in one request.
const MAX_BATCH: usize = 1_000;
/// Most lines in one order.
const MAX_LINES: usize = 1_000;
/// Most units one line may ask.
const MAX_QTY: u64 = 100_000;

/// An order as the API takes it.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ApiOrder {
    order: String,
    #[serde(default)]
    cutoff: Option<String>,
    #[serde(default)]
    priority: Option<Priority>,
    #[serde(default)]
    destination: Option<String>,
    lines: Vec<ApiLine>,
}

/// An order line as the API takes it.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ApiLine {
    sku: String,
    qty: u64,
    #[serde(default)]
    location: Option<String>,
}

/// An order as the API shows and takes it.
pub fn shown(o: &Order) -> Value {
    json!({
        "order": o.id,
        "cutoff": (!o.cutoff.is_empty()).then_some(&o.cutoff),
        "priority": o.priority,
        "destination": o.destination,
        "lines": o.lines.iter().map(|l| json!({
            "sku": l.sku,
            "qty": l.qty,
            "location": (!l.location.is_empty()).then_some(&l.location),
        })).collect::<Vec<_>>(),
    })
}

/// The orders of a request body, or every problem with it.
fn read(body: &[u8], cutoffs: &[&str]) -> Result<Vec<Order>, Vec<Problem>> {
    let items = entries::<ApiOrder>(body, "orders", true, MAX_BATCH)?;
    let mut problems = Vec::new();
    let mut orders = Vec::new();
    let mut seen: BTreeMap<String, String> = BTreeMap::new();
    for (at, parsed) in items {
        let Some(parsed) = noted(parsed, &mut problems) else {
            continue;
        };
        let join = |field: &str| join(&at, field);
        let before = problems.len();
        if let Some(first) = seen.insert(parsed.order.clone(), at.clone()) {
            problems.push(Problem::at(
                join("order"),
                format!("order {} is also {first}", parsed.order),
            ));
        }
        let id = OrderId::try_from(parsed.order.as_str())
            .map_err(|e| problems.push(Problem::at(join("order"), e.to_string())))
            .ok();
        if let Some(c) = parsed.cutoff.as_deref().filter(|c| !cutoffs.contains(c)) {
            problems.push(Problem::at(
                join("cutoff"),
                format!(
                    "there is no cut-off \"{c}\" at this site (its cut-offs: {}); or send null for the next one",
                    cutoffs.join(", ")
                ),
            ));
        }
        if let Some(Err(e)) = parsed.destination.as_deref().map(Destination::try_from) {
            problems.push(Problem::at(join("destination"), e.to_string()));
        }
        if parsed.lines.is_empty() {
            problems.push(Problem::at(
                join("lines"),
                "an order needs at least one line",
            ));
        } else if parsed.lines.len() > MAX_LINES {
            problems.push(Problem::at(
                join("lines"),
                format!(
                    "{} lines: an order may have at most {MAX_LINES}",
                    parsed.lines.len()
                ),
            ));
        }
        let mut lines = Vec::new();
        for (j, l) in parsed.lines.iter().enumerate() {
            let field = |f: &str| join(&format!("lines[{j}].{f}"));
            if let Err(e) = Sku::try_from(l.sku.as_str()) {
                problems.push(Problem::at(field("sku"), e.to_string()));
            }
            if let Some(Err(e)) = l.location.as_deref().map(Location::try_from) {
                problems.push(Problem::at(field("location"), e.to_string()));
            }
            if !(1..=MAX_QTY).contains(&l.qty) {
                problems.push(Problem::at(
                    field("qty"),
                    format!("{} units: a line asks 1 to {MAX_QTY}", l.qty),
                ));
            }
            lines.push(OrderLine {
                sku: l.sku.clone(),
                qty: l.qty.min(MAX_QTY) as u32,
                location: l.location.clone().unwrap_or_default(),
            });
        }
        if let (Some(id), true) = (id, problems.len() == before) {
            orders.push(Order {
                id: id.into(),
                cutoff: parsed.cutoff.unwrap_or_default(),
                priority: parsed.priority.unwrap_or_default(),
                destination: parsed.destination,
                lines,
            });
        }
    }
    if problems.is_empty() {
        Ok(orders)
    } else {
        Err(problems)
    }
}

/// How an order received before differs from `new`, in words; `None` when it does not.
fn difference(old: &Order, new: &Order) -> Option<String> {
    let id = &old.id;
    if old.cutoff != new.cutoff {
        return Some(format!(
            "order {id} was received with cut-off {:?}, not {:?}",
            old.cutoff, new.cutoff
        ));
    }
    if old.priority != new.priority {
        return Some(format!(
            "order {id} was received with priority {:?}, not {:?}",
            old.priority, new.priority
        ));
    }
    if old.destination != new.destination {
        let shown = |d: &Option<String>| d.clone().unwrap_or_else(|| "none".into());
        return Some(format!(
            "order {id} was received with destination {}, not {}",
            shown(&old.destination),
            shown(&new.destination)
        ));
    }
    if old.lines.len() != new.lines.len() {
        return Some(format!(
            "order {id} was received with {} line(s), not {}",
            old.lines.len(),
            new.lines.len()
        ));
    }
    old.lines
        .iter()
        .zip(&new.lines)
        .enumerate()
        .find(|(_, (a, b))| a != b)
        .map(|(j, (a, b))| {
            format!(
                "order {id} line {j} was received as {} × {} at {:?}, not {} × {} at {:?}",
                a.qty, a.sku, a.location, b.qty, b.sku, b.location
            )
        })
}

/// `POST /api/v1/orders`.
pub(super) async fn post(
    State(api): State<Arc<Api>>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let who = match caller(&api, &headers, "orders:write").await {
        Ok(t) => t,
        Err(answer) => return answer,
    };
    let body = match body {
        Ok(b) => b,
        Err(e) => {
            let answer = refusal(
                e.status(),
                "bad_body",
                &format!("the body cannot be read (at most {MAX_BODY_BYTES} bytes): {e}"),
                &[],
            );
            audit(
                &api,
                &who,
                "POST /api/v1/orders".into(),
                "refused: body unreadable",
            )
            .await;
            return answer;
        }
    };
    let cutoffs: Vec<&str> = api.layout.cutoffs.iter().map(|c| c.name.as_str()).collect();
    let orders = match read(&body, &cutoffs) {
        Ok(o) => o,
        Err(problems) => {
            let outcome = format!("refused: {} problem(s)", problems.len());
            audit(&api, &who, "POST /api/v1/orders".into(), &outcome).await;
            return refusal(
                StatusCode::BAD_REQUEST,
                "invalid",
                "nothing was taken: correct the problems listed and send the request again",
                &problems,
            );
        }
    };
    let action = format!("POST /api/v1/orders ({} order(s))", orders.len());
    let ids: Vec<&str> = orders.iter().map(|o| o.id.as_str()).collect();
    let known: BTreeMap<String, Order> = match api.controller.store().received_orders(&ids).await {
        Ok(list) => list.into_iter().map(|o| (o.id.clone(), o)).collect(),
        Err(err) => {
            tracing::error!(%err, "cannot look orders up");
            return unavailable();
        }
    };
    let conflicts: Vec<Problem> = orders
        .iter()
        .enumerate()
        .filter_map(|(i, o)| {
            let old = known.get(&o.id)?;
            difference(old, o).map(|d| Problem::at(format!("orders[{i}]"), d))
        })
        .collect();
    if !conflicts.is_empty() {
        audit(
            &api,
            &who,
            action,
            "refused: order numbers received with other contents",
        )
        .await;
        return refusal(
            StatusCode::CONFLICT,
            "conflict",
            "nothing was taken: these order numbers were received before with other contents",
            &conflicts,
        );
    }
    let fresh: Vec<Order> = orders
        .iter()
        .filter(|o| !known.contains_key(&o.id))
        .cloned()
        .collect();
    // Handed over together, journalled together (one commit for the batch).
    let mut waiting = tokio::task::JoinSet::new();
    for o in fresh.iter().cloned() {
        let controller = api.controller.clone();
        waiting.spawn(async move { controller.submit_journalled(o).await });
    }
    while let Some(done) = waiting.join_next().await {
        if !matches!(done, Ok(true)) {
            audit(&api, &who, action, "failed: the controller is stopping").await;
            return refusal(
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                "the controller is stopping; send the request again (orders already taken are answered as received)",
                &[],
            );
        }
    }
    let results: Vec<Value> = orders
        .iter()
        .map(|o| match known.get(&o.id) {
            Some(old) => json!({"order": o.id, "result": "already received", "stored": shown(old)}),
            None => json!({"order": o.id, "result": "created"}),
        })
        .collect();
    let status = if fresh.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    let outcome = format!(
        "{} created, {} already received",
        fresh.len(),
        orders.len() - fresh.len()
    );
    audit(&api, &who, action, &outcome).await;
    (status, Json(json!({"orders": results}))).into_response()
}

/// `GET /api/v1/orders/{id}`.
pub(super) async fn get(
    State(api): State<Arc<Api>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    if let Err(answer) = caller(&api, &headers, "orders:read").await {
        return answer;
    }
    match detail(api.controller.store(), &id).await {
        Ok(Some(body)) => Json(body).into_response(),
        Ok(None) => refusal(
            StatusCode::NOT_FOUND,
            "not_found",
            &format!("no order {id} has been received at this site"),
            &[],
        ),
        Err(err) => {
            tracing::error!(%err, "cannot read an order");
            unavailable()
        }
    }
}

/// An order as received, where it stands, its recorded states and what it published, step by
/// step; `None` when no order `id` was received here.
pub async fn detail(store: &Store, id: &str) -> Result<Option<Value>, StoreError> {
    let received = store.received_orders(&[id]).await?;
    let Some(order) = received.first() else {
        return Ok(None);
    };
    let (state, history, events) = (
        store.order_state(id).await?,
        store.order_history(id).await?,
        store.published_about(id).await?,
    );
    let mut body = shown(order);
    if let Some((cutoff, status, tote, picked)) = state {
        body["cutoff"] = json!(cutoff);
        body["status"] = json!(status);
        body["tote"] = json!(tote);
        body["units_picked"] = json!(picked);
    } else {
        body["status"] = json!("received");
    }
    body["history"] = history
        .into_iter()
        .map(|(at, status, tote, picked)| {
            json!({"at": at, "status": status, "tote": tote, "units_picked": picked})
        })
        .collect();
    // What happened to it, step by step: each line picked by which handheld, its totes closed,
    // inducted and sorted into their chutes, late.
    body["events"] = events
        .iter()
        .map(|e| json!({"seq": e.seq, "type": e.kind, "timestamp": floorctl_core::utc_text(e.at), "data": e.data}))
        .collect();
    Ok(Some(body))
}

#[cfg(test)]
mod tests {
    use super::*;

    const CUTOFFS: &[&str] = &["11:00", "17:00"];

    #[test]
    fn one_order_or_a_batch_is_read() {
        let one =
            br#"{"order":"A1","cutoff":"11:00","lines":[{"sku":"S1","qty":2,"location":"A-01"}]}"#;
        let orders = read(one, CUTOFFS).unwrap();
        assert_eq!(orders[0], Order::one_line("A1", "11:00", "S1", 2, "A-01"));
        let batch = br#"{"orders":[{"order":"A1","cutoff":null,"priority":"urgent","destination":"locker bank 7","lines":[{"sku":"S1","qty":1}]},{"order":"A2","lines":[{"sku":"S2","qty":3}]}]}"#;
        let orders = read(batch, CUTOFFS).unwrap();
        assert_eq!(orders.len(), 2);
        assert_eq!(orders[0].priority, Priority::Urgent);
        assert_eq!(orders[0].destination.as_deref(), Some("locker bank 7"));
        assert_eq!(orders[1].destination, None);
        assert_eq!(
            (
                orders[0].cutoff.as_str(),
                orders[0].lines[0].location.as_str()
            ),
            ("", "")
        );
    }

    #[test]
    fn every_problem_of_a_batch_is_listed_with_its_path() {
        let body = br#"{"orders":[
            {"order":"A1","cutoff":"12:00","lines":[{"sku":"S1","qty":0}]},
            {"order":"A2","lines":[{"sku":"","qty":1099511627776}]},
            {"order":"A3","lines":[{"sku":"S1","qty":1,"colour":"red"}]},
            {"order":"A1","lines":[]},
            {"order":"A5","lines":[{"sku":"S1","qty":-1}]},
            {"order":"A6","destination":"","lines":[{"sku":"S1","qty":1}]}
        ]}"#;
        let problems = read(body, CUTOFFS).unwrap_err();
        let paths: Vec<&str> = problems.iter().map(|p| p.path.as_str()).collect();
        assert_eq!(
            paths,
            [
                "orders[0].cutoff",
                "orders[0].lines[0].qty",
                "orders[1].lines[0].sku",
                "orders[1].lines[0].qty",
                "orders[2].lines[0].colour",
                "orders[3].order",
                "orders[3].lines",
                "orders[4].lines[0].qty",
                "orders[5].destination",
            ],
            "{problems:#?}"
        );
        assert!(problems[0].problem.contains("its cut-offs: 11:00, 17:00"));
        assert!(problems[4].problem.contains("colour"), "{:?}", problems[4]);
        assert!(problems[5].problem.contains("also orders[0]"));
        assert_eq!(problems[7].problem, "qty must be a whole number");
    }

    #[test]
    fn a_body_that_is_not_an_order_says_what_to_send() {
        for body in [
            &b"not json"[..],
            b"[1,2]",
            br#"{"orders":5}"#,
            br#"{"orders":[]}"#,
        ] {
            let problems = read(body, CUTOFFS).unwrap_err();
            assert_eq!(problems.len(), 1, "{problems:?}");
        }
        let many = format!(
            "{{\"orders\":[{}]}}",
            vec![r#"{"order":"A","lines":[]}"#; MAX_BATCH + 1].join(",")
        );
        assert!(read(many.as_bytes(), CUTOFFS).unwrap_err()[0]
            .problem
            .contains("at most 1000"));
    }

    #[test]
    fn a_difference_under_a_known_number_is_named() {
        let old = Order::one_line("A1", "11:00", "S1", 2, "A-01");
        assert_eq!(difference(&old, &old.clone()), None);
        let mut new = old.clone();
        new.lines[0].qty = 3;
        assert_eq!(
            difference(&old, &new).unwrap(),
            "order A1 line 0 was received as 2 × S1 at \"A-01\", not 3 × S1 at \"A-01\""
        );
        new.cutoff = "17:00".into();
        assert!(difference(&old, &new).unwrap().contains("cut-off"));
        let mut routed = old.clone();
        routed.destination = Some("R3".into());
        assert_eq!(
            difference(&old, &routed).unwrap(),
            "order A1 was received with destination none, not R3"
        );
    }
}

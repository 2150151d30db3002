//! `PUT /api/v1/stock` (units on hand per SKU and location, a stock system's sync),
//! `POST /api/v1/stock/movements` (receipts and adjustments, each with its reason) and
//! `PUT /api/v1/pick-faces` (the forward area: each face's SKU, minimum and maximum).
//!
//! A request is taken whole or not at all: every problem is listed with its JSON path. 200
//! means every entry is journalled.

use std::collections::BTreeSet;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use floorctl_core::{PickFace, StockMovement};
use floorctl_protocol::id::{Location, Sku};
use serde::Deserialize;
use serde_json::json;

use super::{audit, caller, entries, join, noted, refusal, Api, Problem};

/// Most entries in one request.
const MAX_ENTRIES: usize = 10_000;
/// Most units one location may hold.
const MAX_UNITS: u64 = 10_000_000;

/// Units on hand at a location.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct StockEntry {
    sku: String,
    location: String,
    qty: u64,
}

/// What a movement is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
enum MovementKind {
    /// Units arrived (a supplier's or the DC's delivery, put away).
    Receipt,
    /// Units found or lost, with the reason.
    Adjustment,
}

/// A receipt or an adjustment.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct MovementEntry {
    kind: MovementKind,
    sku: String,
    location: String,
    qty: i64,
    #[serde(default)]
    reason: Option<String>,
}

/// Longest reason, in characters.
const MAX_REASON: usize = 200;

/// A forward pick face.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FaceEntry {
    location: String,
    sku: String,
    min: u64,
    max: u64,
}

/// Checks a SKU and a location at `at`, adding what is wrong to `problems`.
fn check_ids(at: &str, sku: &str, location: &str, problems: &mut Vec<Problem>) {
    if let Err(e) = Sku::try_from(sku) {
        problems.push(Problem::at(join(at, "sku"), e.to_string()));
    }
    if let Err(e) = Location::try_from(location) {
        problems.push(Problem::at(join(at, "location"), e.to_string()));
    }
}

/// The stock of a body, or every problem with it.
fn read_stock(body: &[u8]) -> Result<Vec<(String, String, u32)>, Vec<Problem>> {
    let mut problems = Vec::new();
    let mut out = Vec::new();
    let mut seen = BTreeSet::new();
    for (at, entry) in entries::<StockEntry>(body, "stock", false, MAX_ENTRIES)? {
        let Some(e) = noted(entry, &mut problems) else {
            continue;
        };
        check_ids(&at, &e.sku, &e.location, &mut problems);
        if e.qty > MAX_UNITS {
            problems.push(Problem::at(
                join(&at, "qty"),
                format!("{} units: a location holds 0 to {MAX_UNITS}", e.qty),
            ));
        }
        if !seen.insert((e.sku.clone(), e.location.clone())) {
            problems.push(Problem::at(
                at.clone(),
                format!("{} at {} is listed twice", e.sku, e.location),
            ));
        }
        out.push((e.sku, e.location, e.qty.min(MAX_UNITS) as u32));
    }
    if problems.is_empty() {
        Ok(out)
    } else {
        Err(problems)
    }
}

/// The movements of a body, or every problem with it.
fn read_movements(body: &[u8]) -> Result<Vec<StockMovement>, Vec<Problem>> {
    let mut problems = Vec::new();
    let mut out = Vec::new();
    for (at, entry) in entries::<MovementEntry>(body, "movements", false, MAX_ENTRIES)? {
        let Some(m) = noted(entry, &mut problems) else {
            continue;
        };
        check_ids(&at, &m.sku, &m.location, &mut problems);
        let limit = MAX_UNITS as i64;
        let fits = match m.kind {
            MovementKind::Receipt => (1..=limit).contains(&m.qty),
            MovementKind::Adjustment => m.qty != 0 && m.qty.abs() <= limit,
        };
        if !fits {
            let range = match m.kind {
                MovementKind::Receipt => format!("a receipt is 1 to {MAX_UNITS} units"),
                MovementKind::Adjustment => format!(
                    "an adjustment adds (above 0) or takes away (below 0) 1 to {MAX_UNITS} units"
                ),
            };
            problems.push(Problem::at(join(&at, "qty"), format!("{}: {range}", m.qty)));
        }
        let reason = m.reason.as_deref().map(str::trim).unwrap_or("");
        if m.kind == MovementKind::Adjustment && reason.is_empty() {
            problems.push(Problem::at(
                join(&at, "reason"),
                "an adjustment says why (damaged, found in a recount, ...)",
            ));
        }
        if reason.chars().count() > MAX_REASON || reason.chars().any(char::is_control) {
            problems.push(Problem::at(
                join(&at, "reason"),
                format!("a reason is plain text of at most {MAX_REASON} characters"),
            ));
        }
        let reason = match (m.kind, reason.is_empty()) {
            (MovementKind::Receipt, true) => "receipt".to_string(),
            (MovementKind::Receipt, false) => format!("receipt: {reason}"),
            (MovementKind::Adjustment, _) => reason.to_string(),
        };
        out.push(StockMovement {
            sku: m.sku,
            location: m.location,
            change: m.qty,
            reason,
        });
    }
    if problems.is_empty() {
        Ok(out)
    } else {
        Err(problems)
    }
}

/// The pick faces of a body, or every problem with it.
fn read_faces(body: &[u8]) -> Result<Vec<PickFace>, Vec<Problem>> {
    let mut problems = Vec::new();
    let mut out = Vec::new();
    let mut seen = BTreeSet::new();
    for (at, entry) in entries::<FaceEntry>(body, "faces", false, MAX_ENTRIES)? {
        let Some(f) = noted(entry, &mut problems) else {
            continue;
        };
        check_ids(&at, &f.sku, &f.location, &mut problems);
        if f.max == 0 || f.max > MAX_UNITS {
            problems.push(Problem::at(
                join(&at, "max"),
                format!("{}: a face holds 1 to {MAX_UNITS} units", f.max),
            ));
        }
        if f.max > 0 && f.min >= f.max {
            problems.push(Problem::at(
                join(&at, "min"),
                format!(
                    "{}: the refill point must be below the face's maximum, {}",
                    f.min, f.max
                ),
            ));
        }
        if !seen.insert(f.location.clone()) {
            problems.push(Problem::at(
                join(&at, "location"),
                format!("face {} is listed twice", f.location),
            ));
        }
        out.push(PickFace {
            location: f.location,
            sku: f.sku,
            min: f.min.min(MAX_UNITS) as u32,
            max: f.max.min(MAX_UNITS) as u32,
        });
    }
    if problems.is_empty() {
        Ok(out)
    } else {
        Err(problems)
    }
}

/// Refuses a request with problems, audited.
async fn invalid(
    api: &Api,
    who: &crate::store::ApiToken,
    action: String,
    problems: &[Problem],
) -> Response {
    audit(
        api,
        who,
        action,
        &format!("refused: {} problem(s)", problems.len()),
    )
    .await;
    refusal(
        StatusCode::BAD_REQUEST,
        "invalid",
        "nothing was taken: correct the problems listed and send the request again",
        problems,
    )
}

/// The answer when the controller stopped before journalling.
async fn stopping(api: &Api, who: &crate::store::ApiToken, action: String) -> Response {
    audit(api, who, action, "failed: the controller is stopping").await;
    refusal(
        StatusCode::SERVICE_UNAVAILABLE,
        "unavailable",
        "the controller is stopping; send the request again",
        &[],
    )
}

/// The caller (with `stock:write`) and its body as `read` reads it; else the answer to send
/// (every problem listed, audited under `action`).
async fn authorised<T>(
    api: &Api,
    headers: &HeaderMap,
    action: &str,
    body: &[u8],
    read: impl FnOnce(&[u8]) -> Result<T, Vec<Problem>>,
) -> Result<(crate::store::ApiToken, T), Response> {
    let who = caller(api, headers, "stock:write").await?;
    match read(body) {
        Ok(t) => Ok((who, t)),
        Err(problems) => Err(invalid(api, &who, action.to_string(), &problems).await),
    }
}

/// `PUT /api/v1/stock`: `{"stock": [{"sku", "location", "qty"}]}`.
pub(super) async fn put_stock(
    State(api): State<Arc<Api>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (who, stock) =
        match authorised(&api, &headers, "PUT /api/v1/stock", &body, read_stock).await {
            Ok(taken) => taken,
            Err(answer) => return answer,
        };
    let action = format!("PUT /api/v1/stock ({} location(s))", stock.len());
    let mut waiting = tokio::task::JoinSet::new();
    for (sku, location, qty) in stock.iter().cloned() {
        let controller = api.controller.clone();
        waiting.spawn(async move { controller.stock(&sku, &location, qty).await });
    }
    while let Some(done) = waiting.join_next().await {
        if !matches!(done, Ok(true)) {
            return stopping(&api, &who, action).await;
        }
    }
    audit(&api, &who, action, "done").await;
    Json(json!({"set": stock.len()})).into_response()
}

/// `POST /api/v1/stock/movements`: `{"movements": [{"kind": "receipt" | "adjustment", "sku",
/// "location", "qty", "reason"}]}`, taken whole; 409 with the reason, nothing moved, when one
/// would leave a location holding less than nothing.
pub(super) async fn post_movements(
    State(api): State<Arc<Api>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let action = "POST /api/v1/stock/movements";
    let (who, movements) = match authorised(&api, &headers, action, &body, read_movements).await {
        Ok(taken) => taken,
        Err(answer) => return answer,
    };
    let n = movements.len();
    let action = format!("{action} ({n} movement(s))");
    let by = format!("api:{}", who.name);
    match api.controller.move_stock(movements, &by).await {
        Ok(()) => {
            audit(&api, &who, action, "done").await;
            Json(json!({"moved": n})).into_response()
        }
        Err(crate::controller::CommandError::Stopping) => stopping(&api, &who, action).await,
        Err(e) => {
            let reason = e.to_string();
            audit(&api, &who, action, &format!("refused: {reason}")).await;
            refusal(StatusCode::CONFLICT, "refused", &reason, &[])
        }
    }
}

/// `PUT /api/v1/pick-faces`: `{"faces": [{"location", "sku", "min", "max"}]}`, the whole
/// forward area; faces below their minimum are refilled from reserve.
pub(super) async fn put_faces(
    State(api): State<Arc<Api>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (who, faces) =
        match authorised(&api, &headers, "PUT /api/v1/pick-faces", &body, read_faces).await {
            Ok(taken) => taken,
            Err(answer) => return answer,
        };
    let action = format!("PUT /api/v1/pick-faces ({} face(s))", faces.len());
    let n = faces.len();
    if !api.controller.set_pick_faces(faces).await {
        return stopping(&api, &who, action).await;
    }
    audit(&api, &who, action, "done").await;
    Json(json!({"faces": n})).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stock_and_faces_are_read_and_every_problem_named_by_path() {
        let stock = read_stock(br#"{"stock":[{"sku":"S1","location":"A-01","qty":12}]}"#).unwrap();
        assert_eq!(stock, [("S1".to_string(), "A-01".to_string(), 12)]);
        let problems = read_stock(
            br#"{"stock":[
                {"sku":"","location":"A-01","qty":1},
                {"sku":"S1","location":"A-01","qty":99999999999},
                {"sku":"S1","location":"A-01","qty":1},
                {"sku":"S1","location":"A-02","qty":-3}
            ]}"#,
        )
        .unwrap_err();
        let paths: Vec<&str> = problems.iter().map(|p| p.path.as_str()).collect();
        assert_eq!(
            paths,
            ["stock[0].sku", "stock[1].qty", "stock[2]", "stock[3].qty"],
            "{problems:?}"
        );

        let faces =
            read_faces(br#"{"faces":[{"location":"A-01","sku":"S1","min":2,"max":10}]}"#).unwrap();
        assert_eq!((faces[0].min, faces[0].max), (2, 10));
        let problems = read_faces(
            br#"{"faces":[{"location":"A-01","sku":"S1","min":10,"max":10},{"location":"A-01","sku":"S2","min":0,"max":0}]}"#,
        )
        .unwrap_err();
        let paths: Vec<&str> = problems.iter().map(|p| p.path.as_str()).collect();
        assert_eq!(
            paths,
            ["faces[0].min", "faces[1].max", "faces[1].location"],
            "{problems:?}"
        );
        assert!(
            read_faces(br#"{"stock":[]}"#).is_err(),
            "the key names what is sent"
        );
    }

    #[test]
    fn movements_are_receipts_or_adjustments_with_a_reason_and_every_problem_is_named() {
        let moved = read_movements(
            br#"{"movements":[
                {"kind":"receipt","sku":"S1","location":"A-01","qty":12,"reason":"ASN 4411"},
                {"kind":"adjustment","sku":"S1","location":"A-01","qty":-2,"reason":"damaged"}
            ]}"#,
        )
        .unwrap();
        assert_eq!(
            (moved[0].change, moved[0].reason.as_str()),
            (12, "receipt: ASN 4411")
        );
        assert_eq!((moved[1].change, moved[1].reason.as_str()), (-2, "damaged"));
        let problems = read_movements(
            br#"{"movements":[
                {"kind":"receipt","sku":"S1","location":"A-01","qty":-1},
                {"kind":"adjustment","sku":"S1","location":"A-01","qty":3},
                {"kind":"adjustment","sku":"S1","location":"A-01","qty":1099511627776,"reason":"x"},
                {"kind":"transfer","sku":"S1","location":"A-01","qty":1}
            ]}"#,
        )
        .unwrap_err();
        let paths: Vec<&str> = problems.iter().map(|p| p.path.as_str()).collect();
        assert_eq!(
            paths,
            [
                "movements[0].qty",
                "movements[1].reason",
                "movements[2].qty",
                "movements[3].kind"
            ],
            "{problems:?}"
        );
    }
}

//! `POST /api/v1/preposition`: stock to bring forward ahead of a peak, as replenishment tasks
//! handed to handhelds from a time of day (the night before), each to a pick face of the forward
//! area.

use std::collections::BTreeSet;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use floorctl_core::{utc_text, Move, TimeOfDay};
use floorctl_protocol::id::{Location, Sku};
use serde::Deserialize;
use serde_json::{json, Value};

use super::{audit, caller, join, refusal, Api, Problem};
use crate::wall_clock::now_ms;

/// Most moves in one request.
const MAX_MOVES: usize = 10_000;
/// Most units one move may carry.
const MAX_UNITS: u64 = 10_000_000;

/// A move to a face.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct MoveEntry {
    sku: String,
    qty: u64,
    to: String,
}

/// The body of `POST /api/v1/preposition`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Body {
    moves: Vec<Value>,
    /// A time of day, site time (`02:00`: the next 02:00); none: at once.
    #[serde(default)]
    not_before: Option<String>,
}

/// The moves and their start of a body, or every problem with it; `faces` are the forward
/// area's pick faces.
fn read(
    body: &[u8],
    faces: &BTreeSet<String>,
) -> Result<(Vec<Move>, Option<TimeOfDay>), Vec<Problem>> {
    let parsed: Body = serde_path_to_error::deserialize(&mut serde_json::Deserializer::from_slice(
        body,
    ))
    .map_err(|e| {
        let path = e.path().to_string();
        let path = if path == "." { String::new() } else { path };
        vec![Problem::at(path, e.into_inner().to_string())]
    })?;
    let mut problems = Vec::new();
    if parsed.moves.is_empty() || parsed.moves.len() > MAX_MOVES {
        problems.push(Problem::at("moves", format!("send 1 to {MAX_MOVES} moves")));
    }
    let start = match parsed.not_before.as_deref().map(TimeOfDay::parse) {
        None => None,
        Some(Ok(t)) => Some(t),
        Some(Err(e)) => {
            problems.push(Problem::at("not_before", e));
            None
        }
    };
    let mut moves = Vec::new();
    for (i, v) in parsed.moves.into_iter().enumerate() {
        let at = format!("moves[{i}]");
        let m: MoveEntry = match serde_path_to_error::deserialize(v) {
            Ok(m) => m,
            Err(e) => {
                problems.push(Problem::at(
                    join(&at, &e.path().to_string()),
                    e.into_inner().to_string(),
                ));
                continue;
            }
        };
        if let Err(e) = Sku::try_from(m.sku.as_str()) {
            problems.push(Problem::at(join(&at, "sku"), e.to_string()));
        }
        match Location::try_from(m.to.as_str()) {
            Err(e) => problems.push(Problem::at(join(&at, "to"), e.to_string())),
            Ok(_) if !faces.contains(&m.to) => problems.push(Problem::at(
                join(&at, "to"),
                format!("{} is no pick face here; install the forward area first (PUT /api/v1/pick-faces)", m.to),
            )),
            Ok(_) => {}
        }
        if !(1..=MAX_UNITS).contains(&m.qty) {
            problems.push(Problem::at(
                join(&at, "qty"),
                format!("{}: a move carries 1 to {MAX_UNITS} units", m.qty),
            ));
        }
        moves.push(Move {
            sku: m.sku,
            qty: m.qty.min(MAX_UNITS) as u32,
            to: m.to,
        });
    }
    if problems.is_empty() {
        Ok((moves, start))
    } else {
        Err(problems)
    }
}

/// `POST /api/v1/preposition`: `{"moves": [{"sku", "qty", "to"}], "not_before": "02:00"}`.
pub(super) async fn post(State(api): State<Arc<Api>>, headers: HeaderMap, body: Bytes) -> Response {
    let who = match caller(&api, &headers, "stock:write").await {
        Ok(t) => t,
        Err(answer) => return answer,
    };
    let faces: BTreeSet<String> = api
        .controller
        .summary()
        .borrow()
        .forward
        .keys()
        .cloned()
        .collect();
    let action = "POST /api/v1/preposition".to_string();
    let (moves, start) = match read(&body, &faces) {
        Ok(m) => m,
        Err(problems) => {
            audit(
                &api,
                &who,
                action,
                &format!("refused: {} problem(s)", problems.len()),
            )
            .await;
            return refusal(
                StatusCode::BAD_REQUEST,
                "invalid",
                "nothing was taken: correct the problems listed and send the request again",
                &problems,
            );
        }
    };
    let now = now_ms();
    let not_before = start.map_or(now, |t| api.layout.release.clock.next(now, t));
    let n = moves.len();
    let action = format!("{action} ({n} move(s) from {})", utc_text(not_before));
    if !api.controller.preposition(moves, not_before).await {
        audit(&api, &who, action, "failed: the controller is stopping").await;
        return super::unavailable_stopping();
    }
    audit(&api, &who, action, "done").await;
    Json(json!({"moves": n, "not_before": utc_text(not_before)})).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn moves_go_to_faces_of_the_forward_area_and_every_problem_is_named() {
        let faces: BTreeSet<String> = ["A01-01".to_string()].into();
        let (moves, start) = read(
            br#"{"moves":[{"sku":"S1","qty":40,"to":"A01-01"}],"not_before":"02:00"}"#,
            &faces,
        )
        .unwrap();
        assert_eq!(
            (moves[0].qty, start.map(|t| t.to_string())),
            (40, Some("02:00".into()))
        );
        let problems = read(
            br#"{"moves":[{"sku":"S1","qty":0,"to":"A01-01"},{"sku":"S2","qty":5,"to":"Z9"},{"sku":"S3","qty":"x","to":"A01-01"}],"not_before":"25:00"}"#,
            &faces,
        )
        .unwrap_err();
        let paths: Vec<&str> = problems.iter().map(|p| p.path.as_str()).collect();
        assert_eq!(
            paths,
            ["not_before", "moves[0].qty", "moves[1].to", "moves[2].qty"],
            "{problems:?}"
        );
        assert!(read(br#"{"moves":[]}"#, &faces).is_err());
        assert!(
            read(br#"{"moves":[],"peak":"2026-11-11"}"#, &faces).is_err(),
            "unknown fields are refused"
        );
    }
}

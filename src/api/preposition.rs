//! `POST /api/v1/preposition`: stock to bring forward ahead of a peak, as replenishment tasks
//! handed to handhelds from a time of day (the night before), each to a pick face of the forward
//! area: a list of moves, or a peak day to plan for (each face brought up to the SKU's forecast
//! for the day, from the site's own recent orders times an uplift).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use floorctl_core::slotting::peak::peak_moves;
use floorctl_core::slotting::velocity::{order_lines, parse_day, velocities, Day};
use floorctl_core::{utc_text, FaceStatus, Millis, Move, PickFace, TimeOfDay};
use floorctl_protocol::id::{Location, Sku};
use floorctl_protocol::order::Order;
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

/// A peak day to plan for.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PeakEntry {
    /// `yyyy-mm-dd`.
    day: String,
    /// Demand on it as a multiple of an ordinary day.
    uplift: f64,
}

/// The body of `POST /api/v1/preposition`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Body {
    #[serde(default)]
    moves: Option<Vec<Value>>,
    #[serde(default)]
    peak: Option<PeakEntry>,
    /// Days of the site's orders a peak's forecast is made from.
    #[serde(default)]
    history_days: Option<u32>,
    /// A time of day, site time: moves go from the next one (`02:00`: the next 02:00), or for
    /// a peak from that time on the day before it (default 20:00); none: at once.
    #[serde(default)]
    not_before: Option<String>,
}

/// Days of orders a peak is forecast from, unless the request says.
const HISTORY_DAYS: u32 = 28;
/// Most days of history.
const MAX_HISTORY_DAYS: u32 = 366;
/// Largest uplift taken.
const MAX_UPLIFT: f64 = 100.0;
/// When a peak's moves start on the day before it, unless the request says.
const PEAK_EVE: TimeOfDay = match TimeOfDay::hm(20, 0) {
    Some(t) => t,
    None => unreachable!(),
};

const MIDNIGHT: TimeOfDay = match TimeOfDay::hm(0, 0) {
    Some(t) => t,
    None => unreachable!(),
};

/// What a request asks.
#[derive(Debug, PartialEq)]
enum Ask {
    /// These moves.
    Moves(Vec<Move>),
    /// The moves that ready the forward area for a peak.
    Peak {
        day: Day,
        uplift: f64,
        history_days: u32,
    },
}

/// What a body asks and from when, or every problem with it; `faces` are the forward area's
/// pick faces.
fn read(body: &[u8], faces: &BTreeSet<String>) -> Result<(Ask, Option<TimeOfDay>), Vec<Problem>> {
    let parsed: Body = serde_path_to_error::deserialize(&mut serde_json::Deserializer::from_slice(
        body,
    ))
    .map_err(|e| {
        let path = e.path().to_string();
        let path = if path == "." { String::new() } else { path };
        vec![Problem::at(path, e.into_inner().to_string())]
    })?;
    let mut problems = Vec::new();
    let start = match parsed.not_before.as_deref().map(TimeOfDay::parse) {
        None => None,
        Some(Ok(t)) => Some(t),
        Some(Err(e)) => {
            problems.push(Problem::at("not_before", e));
            None
        }
    };
    let ask = match (parsed.moves, parsed.peak) {
        (Some(moves), None) if parsed.history_days.is_none() => {
            read_moves(moves, faces, &mut problems).map(Ask::Moves)
        }
        (Some(_), None) => {
            problems.push(Problem::at(
                "history_days",
                "only a peak is forecast from history",
            ));
            None
        }
        (None, Some(peak)) => read_peak(&peak, parsed.history_days, &mut problems),
        _ => {
            problems.push(Problem::at("", "send either moves or a peak"));
            None
        }
    };
    match ask {
        Some(ask) if problems.is_empty() => Ok((ask, start)),
        _ => Err(problems),
    }
}

fn read_peak(
    peak: &PeakEntry,
    history_days: Option<u32>,
    problems: &mut Vec<Problem>,
) -> Option<Ask> {
    let day = parse_day(&peak.day).filter(|_| peak.day.contains('-'));
    if day.is_none() {
        problems.push(Problem::at(
            "peak.day",
            format!("`{}` is no date: write it yyyy-mm-dd", peak.day),
        ));
    }
    if !(peak.uplift.is_finite() && peak.uplift > 0.0 && peak.uplift <= MAX_UPLIFT) {
        problems.push(Problem::at(
            "peak.uplift",
            format!(
                "{}: use a multiple above 0 and up to {MAX_UPLIFT}",
                peak.uplift
            ),
        ));
    }
    let history_days = history_days.unwrap_or(HISTORY_DAYS);
    if !(1..=MAX_HISTORY_DAYS).contains(&history_days) {
        problems.push(Problem::at(
            "history_days",
            format!("{history_days}: use 1 to {MAX_HISTORY_DAYS}"),
        ));
    }
    Some(Ask::Peak {
        day: day?,
        uplift: peak.uplift,
        history_days,
    })
}

fn read_moves(
    entries: Vec<Value>,
    faces: &BTreeSet<String>,
    problems: &mut Vec<Problem>,
) -> Option<Vec<Move>> {
    if entries.is_empty() || entries.len() > MAX_MOVES {
        problems.push(Problem::at("moves", format!("send 1 to {MAX_MOVES} moves")));
    }
    let mut moves = Vec::new();
    for (i, v) in entries.into_iter().enumerate() {
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
    Some(moves)
}

/// The moves that bring each face of `faces` up to its SKU's units forecast for a peak day
/// (`uplift` times its pace over `orders`, the site's recent ones), within the face's space.
fn peak_plan(
    orders: &[(Millis, Order)],
    faces: &BTreeMap<String, FaceStatus>,
    uplift: f64,
) -> Vec<Move> {
    let lines = order_lines(orders.iter().map(|(at, o)| (*at, o)));
    let forecast: BTreeMap<String, f64> = velocities(&lines, f64::INFINITY, &|_| 1.0)
        .into_iter()
        .map(|(sku, v)| (sku, v.units * uplift))
        .collect();
    let pick_faces: Vec<PickFace> = faces
        .iter()
        .map(|(location, f)| PickFace {
            location: location.clone(),
            sku: f.sku.clone(),
            min: f.min,
            max: f.max,
        })
        .collect();
    peak_moves(
        &pick_faces,
        &|_, location| {
            faces
                .get(location)
                .map_or(0, |f| f.on_hand.saturating_add(f.inbound))
        },
        &forecast,
    )
}

/// `POST /api/v1/preposition`: `{"moves": [{"sku", "qty", "to"}], "not_before": "02:00"}`.
pub(super) async fn post(State(api): State<Arc<Api>>, headers: HeaderMap, body: Bytes) -> Response {
    let who = match caller(&api, &headers, "stock:write").await {
        Ok(t) => t,
        Err(answer) => return answer,
    };
    let forward = api.controller.summary().borrow().forward.clone();
    let faces: BTreeSet<String> = forward.keys().cloned().collect();
    let action = "POST /api/v1/preposition".to_string();
    let (ask, start) = match read(&body, &faces) {
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
    let clock = api.layout.release.clock;
    let (moves, not_before, history) = match ask {
        Ask::Moves(moves) => {
            let not_before = start.map_or(now, |t| clock.next(now, t));
            (moves, not_before, None)
        }
        Ask::Peak {
            day,
            uplift,
            history_days,
        } => {
            if clock.on_day(day + 1, MIDNIGHT) <= now {
                let problem = Problem::at("peak.day", "that day has passed");
                audit(&api, &who, action, "refused: the peak day has passed").await;
                return refusal(
                    StatusCode::BAD_REQUEST,
                    "invalid",
                    "nothing was planned",
                    &[problem],
                );
            }
            let from = now.saturating_sub(u64::from(history_days) * 86_400_000);
            let orders = match api.controller.store().received_since(from).await {
                Ok(o) => o,
                Err(err) => {
                    tracing::error!(%err, "reading the site's orders for a peak plan");
                    audit(&api, &who, action, "failed: the database did not answer").await;
                    return super::unavailable();
                }
            };
            let eve = clock.on_day(day - 1, start.unwrap_or(PEAK_EVE)).max(now);
            let history = json!({"orders": orders.len(), "days": history_days});
            (peak_plan(&orders, &forward, uplift), eve, Some(history))
        }
    };
    let n = moves.len();
    let planned: Vec<Value> = moves
        .iter()
        .map(|m| json!({"sku": m.sku, "qty": m.qty, "to": m.to}))
        .collect();
    let action = format!("{action} ({n} move(s) from {})", utc_text(not_before));
    if n > 0 && !api.controller.preposition(moves, not_before).await {
        audit(&api, &who, action, "failed: the controller is stopping").await;
        return super::unavailable_stopping();
    }
    audit(&api, &who, action, "done").await;
    let mut answer = json!({"moves": n, "not_before": utc_text(not_before), "planned": planned});
    if let Some(history) = history {
        answer["history"] = history;
    }
    Json(answer).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn moves_go_to_faces_of_the_forward_area_and_every_problem_is_named() {
        let faces: BTreeSet<String> = ["A01-01".to_string()].into();
        let (Ask::Moves(moves), start) = read(
            br#"{"moves":[{"sku":"S1","qty":40,"to":"A01-01"}],"not_before":"02:00"}"#,
            &faces,
        )
        .unwrap() else {
            panic!("moves were sent")
        };
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
            read(br#"{"moves":[],"peek":"2026-11-11"}"#, &faces).is_err(),
            "unknown fields are refused"
        );
    }

    #[test]
    fn a_peak_is_read_with_its_history_and_moves_and_a_peak_are_not_both_taken() {
        let faces = BTreeSet::new();
        let (ask, start) = read(br#"{"peak":{"day":"2026-12-12","uplift":3}}"#, &faces).unwrap();
        assert_eq!(
            ask,
            Ask::Peak {
                day: parse_day("2026-12-12").unwrap(),
                uplift: 3.0,
                history_days: HISTORY_DAYS
            }
        );
        assert_eq!(start, None);
        let problems = read(
            br#"{"peak":{"day":"12/12/2026","uplift":0},"history_days":0}"#,
            &faces,
        )
        .unwrap_err();
        let paths: Vec<&str> = problems.iter().map(|p| p.path.as_str()).collect();
        assert_eq!(
            paths,
            ["peak.day", "peak.uplift", "history_days"],
            "{problems:?}"
        );
        let both =
            br#"{"moves":[{"sku":"S1","qty":1,"to":"A"}],"peak":{"day":"2026-12-12","uplift":2}}"#;
        assert!(read(both, &faces).is_err());
        assert!(read(b"{}", &faces).is_err(), "one of the two is asked");
    }

    #[test]
    fn a_peak_brings_each_face_up_to_its_forecast_within_its_space() {
        let day = 20_000u64 * 86_400_000;
        let order = |id: &str, sku: &str, qty: u32| Order {
            id: id.into(),
            cutoff: "11:00".into(),
            priority: Default::default(),
            destination: None,
            lines: vec![floorctl_protocol::order::OrderLine {
                sku: sku.into(),
                qty,
                location: "A".into(),
            }],
        };
        // Two days: S1 sells 4 then 6 units (5 a day), S2 30 a day, S3 nothing.
        let orders = [
            (day, order("o1", "S1", 4)),
            (day + 3_600_000, order("o2", "S2", 30)),
            (day + 86_400_000, order("o3", "S1", 6)),
            (day + 86_400_000, order("o4", "S2", 30)),
        ];
        let face = |sku: &str, on_hand, inbound, max| FaceStatus {
            sku: sku.into(),
            on_hand,
            open_picks: 0,
            inbound,
            min: 1,
            max,
        };
        let faces = BTreeMap::from([
            ("F1".to_string(), face("S1", 2, 1, 50)),
            ("F2".to_string(), face("S2", 10, 0, 40)),
            ("F3".to_string(), face("S3", 0, 0, 40)),
        ]);
        let moves = peak_plan(&orders, &faces, 3.0);
        let got: Vec<(&str, u32, &str)> = moves
            .iter()
            .map(|m| (m.sku.as_str(), m.qty, m.to.as_str()))
            .collect();
        assert_eq!(
            got,
            [("S1", 12, "F1"), ("S2", 30, "F2")],
            "S1: 15 forecast less 3 there or coming; S2: 90 forecast, 40 of space"
        );
    }
}

//! The live feed: the floor view as server-sent events, sent when the summary changes and at
//! most a few times a second.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures_util::stream;

use super::{now_ms, refusal, view, Dashboard};

/// Least time between two views sent to one page.
const EVERY: Duration = Duration::from_millis(250);

pub(super) async fn stream(State(d): State<Arc<Dashboard>>, headers: HeaderMap) -> Response {
    if d.sessions.find(&headers).is_none() {
        return refusal(StatusCode::UNAUTHORIZED, "log in first");
    }
    let summary = d.controller.summary();
    let feed = stream::unfold((d, summary, true), |(d, mut summary, first)| async move {
        if !first {
            tokio::time::sleep(EVERY).await;
            summary.changed().await.ok()?;
        }
        let s = summary.borrow_and_update().clone();
        let v = view::floor(&s, &d.controller.plc_status(), &d.layout, &d.site, now_ms());
        let event = Event::default().event("floor").data(v.to_string());
        Some((Ok::<_, Infallible>(event), (d, summary, false)))
    });
    Sse::new(feed)
        .keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
        .into_response()
}

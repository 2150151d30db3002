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
/// Longest time a quiet feed goes without checking its session.
const RECHECK: Duration = Duration::from_secs(1);

pub(super) async fn stream(State(d): State<Arc<Dashboard>>, headers: HeaderMap) -> Response {
    if d.current(&headers).await.is_none() {
        return refusal(StatusCode::UNAUTHORIZED, "log in first");
    }
    let summary = d.controller.summary();
    let state = (d, summary, headers, true);
    let feed = stream::unfold(state, |(d, mut summary, headers, first)| async move {
        if !first {
            // The session is checked again before each view: logged out, changed or removed,
            // the feed ends (within a second when the floor is quiet).
            loop {
                tokio::time::sleep(EVERY).await;
                d.current(&headers).await?;
                match tokio::time::timeout(RECHECK, summary.changed()).await {
                    Ok(changed) => break changed.ok()?,
                    Err(_) => continue,
                }
            }
        }
        let s = summary.borrow_and_update().clone();
        let broker = *d.controller.broker().borrow();
        let v = view::floor(
            &s,
            &d.controller.plc_status(),
            broker,
            &d.layout,
            &d.site,
            now_ms(),
        );
        let event = Event::default().event("floor").data(v.to_string());
        Some((Ok::<_, Infallible>(event), (d, summary, headers, false)))
    });
    Sse::new(feed)
        .keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
        .into_response()
}

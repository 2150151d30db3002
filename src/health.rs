//! `/healthz` and `/readyz`, for a supervisor of processes (systemd, Kubernetes, a load
//! balancer): alive, and ready to run the floor.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;

use crate::controller::Handle;

/// The two routes, on any listener.
pub fn routes<S: Clone + Send + Sync + 'static>(controller: Handle) -> Router<S> {
    Router::new()
        .route("/healthz", get(|| async { "ok\n" }))
        .route(
            "/readyz",
            get(move || {
                let controller = controller.clone();
                async move { ready(&controller).await }
            }),
        )
}

/// 200 when the controller runs its site and its database answers; 503 saying why not.
async fn ready(controller: &Handle) -> Response {
    let why = if controller.fenced().is_cancelled() {
        Some("another instance owns the site".to_string())
    } else if controller.summary().has_changed().is_err() {
        Some("the controller has stopped".to_string())
    } else if let Err(err) = controller.store().ping().await {
        tracing::warn!(%err, "readiness: the database does not answer");
        Some("the database does not answer".to_string())
    } else {
        None
    };
    match why {
        None => "ready\n".into_response(),
        Some(why) => (
            StatusCode::SERVICE_UNAVAILABLE,
            format!("not ready: {why}\n"),
        )
            .into_response(),
    }
}

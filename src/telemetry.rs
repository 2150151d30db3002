//! Prometheus metrics through the `metrics` crate, served on their own listener. Labels are
//! bounded: equipment ids, chutes, cut-offs and event kinds, never tote or order ids.

use std::collections::BTreeMap;
use std::sync::OnceLock;
use std::time::Duration;

use axum::routing::get;
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use crate::plc::PlcStatus;
use floorctl_core::{AlarmState, Summary};

/// Buckets for durations, in seconds: 0.5 ms to 5 s.
const SECONDS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
];

/// The process's recorder, installed on first use.
pub fn recorder() -> &'static PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE.get_or_init(|| {
        let builder = PrometheusBuilder::new()
            .set_buckets(SECONDS)
            .expect("bucket list is not empty");
        match builder.install_recorder() {
            Ok(handle) => handle,
            // Another recorder is installed (an embedding program's): ours renders nothing.
            Err(err) => {
                tracing::warn!(%err, "metrics recorder not installed");
                PrometheusBuilder::new().build_recorder().handle()
            }
        }
    })
}

/// Serves `/metrics` on `listener` until cancelled; gauges follow the summary once a second.
pub async fn serve(
    listener: TcpListener,
    mut summary: watch::Receiver<Summary>,
    plcs: impl Fn() -> BTreeMap<String, PlcStatus> + Send + 'static,
    cancel: CancellationToken,
) {
    let handle = recorder();
    let app = axum::Router::new().route(
        "/metrics",
        get(move || async move {
            handle.run_upkeep();
            handle.render()
        }),
    );
    let gauges = async move {
        let mut every = tokio::time::interval(Duration::from_secs(1));
        loop {
            every.tick().await;
            let s = summary.borrow_and_update().clone();
            observe(&s, &plcs());
        }
    };
    let server =
        axum::serve(listener, app).with_graceful_shutdown(cancel.clone().cancelled_owned());
    tokio::select! {
        r = server => if let Err(err) = r { tracing::error!(%err, "metrics listener failed") },
        () = gauges => {}
        () = cancel.cancelled() => {}
    }
}

/// Sets the gauges and absolute counters from a summary.
pub fn observe(s: &Summary, plcs: &BTreeMap<String, PlcStatus>) {
    metrics::gauge!("floorctl_orders", "status" => "received").set(s.orders as f64);
    metrics::gauge!("floorctl_orders", "status" => "picked").set(s.picked as f64);
    metrics::gauge!("floorctl_orders", "status" => "sorted").set(s.sorted as f64);
    metrics::gauge!("floorctl_totes_in_flight").set(s.in_flight as f64);
    metrics::counter!("floorctl_lines_picked_total").absolute(u64::from(s.lines_picked));
    metrics::counter!("floorctl_recirculations_total").absolute(u64::from(s.recirculations));
    metrics::counter!("floorctl_shorts_total").absolute(u64::from(s.shorts));
    metrics::counter!("floorctl_alarms_total").absolute(s.alarms as u64);
    for (chute, n) in &s.per_chute {
        metrics::counter!("floorctl_totes_sorted_total", "chute" => chute.to_string())
            .absolute(*n as u64);
    }
    for (outcome, n) in &s.outcomes {
        let name = serde_json::to_value(outcome)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default();
        metrics::counter!("floorctl_sort_results_total", "outcome" => name).absolute(u64::from(*n));
    }
    for state in [AlarmState::Active, AlarmState::Acknowledged] {
        let n = s.alarm_log.values().filter(|a| a.state == state).count();
        let name = if state == AlarmState::Active {
            "active"
        } else {
            "acknowledged"
        };
        metrics::gauge!("floorctl_alarms_open", "state" => name).set(n as f64);
    }
    for (cutoff, w) in &s.waves {
        let left = w.orders - w.sorted;
        metrics::gauge!("floorctl_wave_orders_open", "cutoff" => cutoff.clone()).set(left as f64);
        metrics::gauge!("floorctl_wave_at_risk", "cutoff" => cutoff.clone())
            .set(f64::from(u8::from(w.at_risk)));
    }
    let online = s.handhelds.iter().filter(|h| h.online).count();
    metrics::gauge!("floorctl_handhelds_online").set(online as f64);
    metrics::gauge!("floorctl_open_replenishments").set(s.open_replenishments as f64);
    for (plc, p) in plcs {
        metrics::gauge!("floorctl_plc_link_up", "plc" => plc.clone())
            .set(f64::from(u8::from(p.link_up)));
        metrics::counter!("floorctl_plc_links_lost_total", "plc" => plc.clone())
            .absolute(p.links_lost);
        metrics::counter!("floorctl_plc_requests_resent_total", "plc" => plc.clone())
            .absolute(p.requests_resent);
        metrics::counter!("floorctl_plc_exceptions_total", "plc" => plc.clone())
            .absolute(p.exceptions);
        if let Some(state) = p.state {
            metrics::gauge!("floorctl_plc_packml_state", "plc" => plc.clone())
                .set(f64::from(state.code()));
        }
    }
}

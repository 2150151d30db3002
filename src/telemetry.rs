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

use crate::link_state::LinkState;
use crate::plc::PlcStatus;
use floorctl_core::{AlarmState, Summary};

/// Every metric's name, in one place (deploy/grafana and deploy/prometheus read them).
pub mod names {
    /// `floorctl_alarms_open`.
    pub const ALARMS_OPEN: &str = "floorctl_alarms_open";
    /// `floorctl_alarms_total`.
    pub const ALARMS_TOTAL: &str = "floorctl_alarms_total";
    /// `floorctl_connections_refused_total`.
    pub const CONNECTIONS_REFUSED_TOTAL: &str = "floorctl_connections_refused_total";
    /// `floorctl_broker_connected`: 1 while the controller's MQTT connection is up.
    pub const BROKER_CONNECTED: &str = "floorctl_broker_connected";
    /// `floorctl_commands_dropped_total`: commands for a PLC or the handhelds dropped because
    /// its queue was full (the PLC or the broker away for long).
    pub const COMMANDS_DROPPED_TOTAL: &str = "floorctl_commands_dropped_total";
    /// `floorctl_core_failures_total`.
    pub const CORE_FAILURES_TOTAL: &str = "floorctl_core_failures_total";
    /// `floorctl_directions_total`.
    pub const DIRECTIONS_TOTAL: &str = "floorctl_directions_total";
    /// `floorctl_diverts_total`.
    pub const DIVERTS_TOTAL: &str = "floorctl_diverts_total";
    /// `floorctl_events_total`.
    pub const EVENTS_TOTAL: &str = "floorctl_events_total";
    /// `floorctl_handheld_flood_dropped_total`.
    pub const HANDHELD_FLOOD_DROPPED_TOTAL: &str = "floorctl_handheld_flood_dropped_total";
    /// `floorctl_handheld_rejects_total`.
    pub const HANDHELD_REJECTS_TOTAL: &str = "floorctl_handheld_rejects_total";
    /// `floorctl_handhelds_online`.
    pub const HANDHELDS_ONLINE: &str = "floorctl_handhelds_online";
    /// `floorctl_journal_commit_seconds`.
    pub const JOURNAL_COMMIT_SECONDS: &str = "floorctl_journal_commit_seconds";
    /// `floorctl_lease_renewals_failed_total`.
    pub const LEASE_RENEWALS_FAILED_TOTAL: &str = "floorctl_lease_renewals_failed_total";
    /// `floorctl_lines_picked_total`.
    pub const LINES_PICKED_TOTAL: &str = "floorctl_lines_picked_total";
    /// `floorctl_mqtt_gateway_closed_total`.
    pub const MQTT_GATEWAY_CLOSED_TOTAL: &str = "floorctl_mqtt_gateway_closed_total";
    /// `floorctl_mqtt_login_bursts_total`.
    pub const MQTT_LOGIN_BURSTS_TOTAL: &str = "floorctl_mqtt_login_bursts_total";
    /// `floorctl_mqtt_refused_total`.
    pub const MQTT_REFUSED_TOTAL: &str = "floorctl_mqtt_refused_total";
    /// `floorctl_open_replenishments`.
    pub const OPEN_REPLENISHMENTS: &str = "floorctl_open_replenishments";
    /// `floorctl_orders`.
    pub const ORDERS: &str = "floorctl_orders";
    /// `floorctl_plc_exceptions_total`.
    pub const PLC_EXCEPTIONS_TOTAL: &str = "floorctl_plc_exceptions_total";
    /// `floorctl_plc_link_up`.
    pub const PLC_LINK_UP: &str = "floorctl_plc_link_up";
    /// `floorctl_plc_links_lost_total`.
    pub const PLC_LINKS_LOST_TOTAL: &str = "floorctl_plc_links_lost_total";
    /// `floorctl_plc_packml_state`.
    pub const PLC_PACKML_STATE: &str = "floorctl_plc_packml_state";
    /// `floorctl_plc_requests_resent_total`.
    pub const PLC_REQUESTS_RESENT_TOTAL: &str = "floorctl_plc_requests_resent_total";
    /// `floorctl_recirculations_total`.
    pub const RECIRCULATIONS_TOTAL: &str = "floorctl_recirculations_total";
    /// `floorctl_shorts_total`.
    pub const SHORTS_TOTAL: &str = "floorctl_shorts_total";
    /// `floorctl_site_owned`.
    pub const SITE_OWNED: &str = "floorctl_site_owned";
    /// `floorctl_sort_results_total`.
    pub const SORT_RESULTS_TOTAL: &str = "floorctl_sort_results_total";
    /// `floorctl_totes_in_flight`.
    pub const TOTES_IN_FLIGHT: &str = "floorctl_totes_in_flight";
    /// `floorctl_totes_sorted_total`.
    pub const TOTES_SORTED_TOTAL: &str = "floorctl_totes_sorted_total";
    /// `floorctl_wave_at_risk`.
    pub const WAVE_AT_RISK: &str = "floorctl_wave_at_risk";
    /// `floorctl_wave_orders_open`.
    pub const WAVE_ORDERS_OPEN: &str = "floorctl_wave_orders_open";
    /// `floorctl_alarms_last_10_min`: alarms shown to supervisors over the last 10 minutes.
    pub const ALARMS_LAST_10_MIN: &str = "floorctl_alarms_last_10_min";
    /// `floorctl_build_info`: 1, labelled with the version running.
    pub const BUILD_INFO: &str = "floorctl_build_info";
    /// `process_resident_memory_bytes`.
    pub const PROCESS_RESIDENT_MEMORY_BYTES: &str = "process_resident_memory_bytes";
    /// `process_cpu_seconds_total`.
    pub const PROCESS_CPU_SECONDS_TOTAL: &str = "process_cpu_seconds_total";
    /// `process_open_fds`.
    pub const PROCESS_OPEN_FDS: &str = "process_open_fds";
    /// `process_start_time_seconds`.
    pub const PROCESS_START_TIME_SECONDS: &str = "process_start_time_seconds";

    /// What each metric is, as its `# HELP` line says.
    pub const HELP: &[(&str, &str)] = &[
        (ALARMS_OPEN, "Alarms not yet cleared, by state (active: nobody has acknowledged it)."),
        (ALARMS_TOTAL, "Alarms shown to supervisors since the journal began."),
        (ALARMS_LAST_10_MIN, "Alarms shown to supervisors over the last 10 minutes (ISA-18.2 counts two as manageable)."),
        (CONNECTIONS_REFUSED_TOTAL, "Connections refused at the door because a listener was full, by listener."),
        (BROKER_CONNECTED, "1 while the controller's MQTT connection to the handhelds' broker is up."),
        (COMMANDS_DROPPED_TOTAL, "Commands for a PLC or the handhelds dropped because its queue was full."),
        (CORE_FAILURES_TOTAL, "Events the core could not handle."),
        (DIRECTIONS_TOTAL, "Directions sent to handhelds."),
        (DIVERTS_TOTAL, "Divert commands written to sorters."),
        (EVENTS_TOTAL, "Events journalled, by kind."),
        (HANDHELD_FLOOD_DROPPED_TOTAL, "Handheld messages dropped because a handheld sent too many."),
        (HANDHELD_REJECTS_TOTAL, "Handheld messages refused, by reason."),
        (HANDHELDS_ONLINE, "Handhelds connected."),
        (JOURNAL_COMMIT_SECONDS, "Time to make a batch of events durable in the journal."),
        (LEASE_RENEWALS_FAILED_TOTAL, "Site lease renewals that failed (a network of sites)."),
        (LINES_PICKED_TOTAL, "Order lines picked."),
        (MQTT_GATEWAY_CLOSED_TOTAL, "Handheld connections the embedded broker's gateway closed, by reason."),
        (MQTT_LOGIN_BURSTS_TOTAL, "Times a handheld id or address failed its login so often that further attempts wait."),
        (MQTT_REFUSED_TOTAL, "MQTT connections refused, by reason."),
        (OPEN_REPLENISHMENTS, "Replenishment tasks not yet done."),
        (ORDERS, "Orders, by status."),
        (PLC_EXCEPTIONS_TOTAL, "Modbus exception answers from a PLC."),
        (PLC_LINK_UP, "1 while the link to a PLC is up."),
        (PLC_LINKS_LOST_TOTAL, "Times the link to a PLC was lost."),
        (PLC_PACKML_STATE, "A PLC's PackML state, as its state number."),
        (PLC_REQUESTS_RESENT_TOTAL, "Modbus requests sent again after no answer."),
        (RECIRCULATIONS_TOTAL, "Totes sent round the sorter again."),
        (SHORTS_TOTAL, "Picks short."),
        (SITE_OWNED, "1 while this instance owns its site (a network of sites)."),
        (SORT_RESULTS_TOTAL, "Sort results, by outcome."),
        (TOTES_IN_FLIGHT, "Totes on the conveyor or the sorter."),
        (TOTES_SORTED_TOTAL, "Totes sorted, by chute."),
        (WAVE_AT_RISK, "1 while a cut-off's orders are projected to miss it."),
        (WAVE_ORDERS_OPEN, "A cut-off's orders not yet sorted."),
        (BUILD_INFO, "1, labelled with the version of floorctl running."),
        (PROCESS_RESIDENT_MEMORY_BYTES, "Resident memory of the controller process, in bytes."),
        (PROCESS_CPU_SECONDS_TOTAL, "CPU time the controller process has used, user and system, in seconds."),
        (PROCESS_OPEN_FDS, "File descriptors the controller process holds open."),
        (PROCESS_START_TIME_SECONDS, "When the controller process started, in seconds since 1970."),
    ];
}

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
            Ok(handle) => {
                describe();
                handle
            }
            // Another recorder is installed (an embedding program's): ours renders nothing.
            Err(err) => {
                tracing::warn!(%err, "metrics recorder not installed");
                PrometheusBuilder::new().build_recorder().handle()
            }
        }
    })
}

/// Gives every metric its `# HELP` line, and sets the build information.
fn describe() {
    for (name, help) in names::HELP {
        if name.ends_with("_total") {
            metrics::describe_counter!(*name, *help);
        } else if name.ends_with("_seconds") && *name != names::PROCESS_START_TIME_SECONDS {
            metrics::describe_histogram!(*name, metrics::Unit::Seconds, *help);
        } else {
            metrics::describe_gauge!(*name, *help);
        }
    }
    metrics::gauge!(names::BUILD_INFO, "version" => env!("CARGO_PKG_VERSION")).set(1.0);
}

/// The process's own figures from `/proc` (Linux): memory, CPU time, open files, start time.
fn observe_process() {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return;
    };
    // Fields after the command (which may hold spaces) in parentheses.
    let Some(after) = stat.rsplit_once(") ").map(|(_, rest)| rest) else {
        return;
    };
    let fields: Vec<&str> = after.split_whitespace().collect();
    let field = |n: usize| fields.get(n - 3).and_then(|f| f.parse::<f64>().ok());
    // Clock ticks and page size as Linux sets them on the platforms served.
    const TICKS: f64 = 100.0;
    const PAGE: f64 = 4096.0;
    if let (Some(utime), Some(stime)) = (field(14), field(15)) {
        metrics::counter!(names::PROCESS_CPU_SECONDS_TOTAL)
            .absolute(((utime + stime) / TICKS) as u64);
    }
    if let Some(rss) = field(24) {
        metrics::gauge!(names::PROCESS_RESIDENT_MEMORY_BYTES).set(rss * PAGE);
    }
    if let (Some(start), Some(boot)) = (field(22), boot_time()) {
        metrics::gauge!(names::PROCESS_START_TIME_SECONDS).set(boot + start / TICKS);
    }
    if let Ok(fds) = std::fs::read_dir("/proc/self/fd") {
        metrics::gauge!(names::PROCESS_OPEN_FDS).set(fds.count() as f64);
    }
}

/// When the machine booted, in seconds since 1970 (`btime` of `/proc/stat`).
fn boot_time() -> Option<f64> {
    std::fs::read_to_string("/proc/stat")
        .ok()?
        .lines()
        .find_map(|l| l.strip_prefix("btime "))
        .and_then(|t| t.trim().parse().ok())
}

/// Serves `/metrics` on `listener` until cancelled; gauges follow the summary once a second.
pub async fn serve(
    listener: TcpListener,
    controller: crate::controller::Handle,
    mut summary: watch::Receiver<Summary>,
    plcs: impl Fn() -> BTreeMap<String, PlcStatus> + Send + 'static,
    broker: watch::Receiver<LinkState>,
    cancel: CancellationToken,
) {
    let handle = recorder();
    let app = axum::Router::new()
        .route(
            "/metrics",
            get(move || async move {
                observe_process();
                handle.run_upkeep();
                handle.render()
            }),
        )
        .merge(crate::health::routes(controller));
    let gauges = async move {
        let mut every = tokio::time::interval(Duration::from_secs(1));
        loop {
            every.tick().await;
            let s = summary.borrow_and_update().clone();
            observe(&s, &plcs(), *broker.borrow());
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
pub fn observe(s: &Summary, plcs: &BTreeMap<String, PlcStatus>, broker: LinkState) {
    metrics::gauge!(names::BROKER_CONNECTED)
        .set(f64::from(u8::from(broker == LinkState::Connected)));
    metrics::gauge!(names::ORDERS, "status" => "received").set(s.orders as f64);
    metrics::gauge!(names::ORDERS, "status" => "picked").set(s.picked as f64);
    metrics::gauge!(names::ORDERS, "status" => "sorted").set(s.sorted as f64);
    metrics::gauge!(names::TOTES_IN_FLIGHT).set(s.in_flight as f64);
    metrics::counter!(names::LINES_PICKED_TOTAL).absolute(u64::from(s.lines_picked));
    metrics::counter!(names::RECIRCULATIONS_TOTAL).absolute(u64::from(s.recirculations));
    metrics::counter!(names::SHORTS_TOTAL).absolute(u64::from(s.shorts));
    metrics::counter!(names::ALARMS_TOTAL).absolute(s.alarms as u64);
    metrics::gauge!(names::ALARMS_LAST_10_MIN).set(f64::from(s.alarm_rate));
    for (chute, n) in &s.per_chute {
        metrics::counter!(names::TOTES_SORTED_TOTAL, "chute" => chute.to_string())
            .absolute(*n as u64);
    }
    for (outcome, n) in &s.outcomes {
        let name = serde_json::to_value(outcome)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default();
        metrics::counter!(names::SORT_RESULTS_TOTAL, "outcome" => name).absolute(u64::from(*n));
    }
    for state in [AlarmState::Active, AlarmState::Acknowledged] {
        let n = s.alarm_log.values().filter(|a| a.state == state).count();
        let name = if state == AlarmState::Active {
            "active"
        } else {
            "acknowledged"
        };
        metrics::gauge!(names::ALARMS_OPEN, "state" => name).set(n as f64);
    }
    for (cutoff, w) in &s.waves {
        let left = w.orders - w.sorted;
        metrics::gauge!(names::WAVE_ORDERS_OPEN, "cutoff" => cutoff.clone()).set(left as f64);
        metrics::gauge!(names::WAVE_AT_RISK, "cutoff" => cutoff.clone())
            .set(f64::from(u8::from(w.at_risk)));
    }
    let online = s.handhelds.iter().filter(|h| h.online).count();
    metrics::gauge!(names::HANDHELDS_ONLINE).set(online as f64);
    metrics::gauge!(names::OPEN_REPLENISHMENTS).set(s.open_replenishments as f64);
    for (plc, p) in plcs {
        metrics::gauge!(names::PLC_LINK_UP, "plc" => plc.clone())
            .set(f64::from(u8::from(p.link_up())));
        metrics::counter!(names::PLC_LINKS_LOST_TOTAL, "plc" => plc.clone()).absolute(p.links_lost);
        metrics::counter!(names::PLC_REQUESTS_RESENT_TOTAL, "plc" => plc.clone())
            .absolute(p.requests_resent);
        metrics::counter!(names::PLC_EXCEPTIONS_TOTAL, "plc" => plc.clone()).absolute(p.exceptions);
        if let Some(state) = p.state {
            metrics::gauge!(names::PLC_PACKML_STATE, "plc" => plc.clone())
                .set(f64::from(state.code()));
        }
    }
}

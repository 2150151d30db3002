//! What the live page is sent: the floor, throughput, waves, handhelds, forward stock, alarms
//! and key figures, as one JSON document built from the controller's summary.

use std::collections::BTreeMap;

use serde_json::{json, Value};

use crate::link_state::LinkState;
use crate::plc::PlcStatus;
use floorctl_core::{key_figures, Layout, Millis, Summary};

/// Forward faces listed: the ones closest to running out.
const FACES_SHOWN: usize = 40;

/// The floor's lines to draw: each sorter with the conveyors whose totes reach it and its
/// chutes. Without lines in the layout: a line per sorter, every conveyor (the pick conveyor and
/// those reporting zones) on the first.
fn floor_lines(layout: &Layout, plcs: &BTreeMap<String, PlcStatus>, chutes: &[u16]) -> Vec<Value> {
    let line = |sorter: &str, conveyors: &[&str]| {
        let own: Vec<u16> = chutes
            .iter()
            .copied()
            .filter(|c| layout.on_sorter(sorter, *c))
            .collect();
        json!({"sorter": sorter, "conveyors": conveyors, "chutes": own})
    };
    if !layout.lines.is_empty() {
        return layout
            .lines
            .iter()
            .map(|(sorter, conveyors)| {
                let conveyors: Vec<&str> = conveyors.iter().map(String::as_str).collect();
                line(sorter, &conveyors)
            })
            .collect();
    }
    let (conveyors, sorters): (Vec<_>, Vec<_>) = plcs
        .iter()
        .partition(|(id, p)| **id == layout.pick_conveyor || !p.zone_energy_kwh.is_empty());
    let conveyors: Vec<&str> = conveyors.iter().map(|(c, _)| c.as_str()).collect();
    sorters
        .iter()
        .enumerate()
        .map(|(i, (s, _))| line(s, if i == 0 { &conveyors } else { &[] }))
        .collect()
}

/// The page's view of the floor at `now`.
pub fn floor(
    s: &Summary,
    plcs: &BTreeMap<String, PlcStatus>,
    broker: LinkState,
    layout: &Layout,
    site: &str,
    now: Millis,
) -> Value {
    let equipment: Vec<Value> = plcs
        .iter()
        .map(|(id, p)| {
            let core = s.equipment.get(id);
            let faults: Vec<Value> = s
                .active_alarms
                .iter()
                .filter(|((source, _), _)| source == id)
                .map(|((_, condition), text)| {
                    let said = s
                        .alarm_log
                        .values()
                        .rev()
                        .find(|a| a.source == *id && a.text == *text && a.cleared.is_none())
                        .and_then(|a| a.said.as_ref());
                    json!({"condition": condition, "text": text, "said": said})
                })
                .collect();
            json!({
                "id": id,
                "link_up": p.link_up(),
                "link": p.link.words(),
                "link_state": p.link,
                "state": p.state.map(|s| s.name()),
                "wanted": core.is_none_or(|e| e.wanted),
                "zones": p.zone_energy_kwh.len(),
                "zones_asleep": p.zones_asleep,
                "pending_commands": p.pending_commands,
                "polls": p.polls,
                "energy_kwh": p.zone_energy_kwh,
                "exceptions": p.exceptions,
                "links_lost": p.links_lost,
                "requests_resent": p.requests_resent,
                "faults": faults,
                "commands": commands(p),
            })
        })
        .collect();
    let lane_of: BTreeMap<u16, &str> = layout
        .lanes
        .iter()
        .flat_map(|(lane, chutes)| chutes.iter().map(move |c| (*c, lane.as_str())))
        .collect();
    let mut chutes: Vec<u16> = lane_of.keys().copied().collect();
    let exceptions = layout.exception_chutes();
    chutes.extend(&exceptions);
    chutes.extend(layout.inbound_chute);
    chutes.sort_unstable();
    chutes.dedup();
    let lines = floor_lines(layout, plcs, &chutes);
    let chutes: Vec<Value> = chutes
        .into_iter()
        .map(|c| {
            // The exception and inbound chutes have a role rather than a lane of the site's.
            let (lane, role) = if exceptions.contains(&c) {
                ("exceptions", Some("exceptions"))
            } else if Some(c) == layout.inbound_chute {
                ("inbound", Some("inbound"))
            } else {
                (lane_of.get(&c).copied().unwrap_or(""), None)
            };
            json!({
                "chute": c,
                "lane": lane,
                "role": role,
                "totes": s.per_chute.get(&c).copied().unwrap_or(0),
                "full": s.full_chutes.contains(&c),
                "disabled": s.disabled_chutes.contains(&c),
            })
        })
        .collect();
    let waves: Vec<Value> = layout
        .cutoffs
        .iter()
        .filter_map(|c| s.waves.get(&c.name).map(|w| (c, w)))
        .map(|(c, w)| {
            json!({
                "cutoff": c.name, "lane": c.lane, "orders": w.orders, "waiting": w.waiting,
                "picked": w.picked, "sorted": w.sorted, "due": w.due, "projected": w.projected,
                "lines_left": w.lines_left, "at_risk": w.at_risk, "held": w.held,
                "on_time": w.on_time, "late": w.late, "pickers_needed": w.pickers_needed,
            })
        })
        .collect();
    let mut faces: Vec<(&String, &floorctl_core::FaceStatus)> = s.forward.iter().collect();
    faces.sort_by_key(|(_, f)| f.projected() * 1000 / i64::from(f.max.max(1)));
    let faces: Vec<Value> = faces
        .into_iter()
        .take(FACES_SHOWN)
        .map(|(location, f)| {
            json!({
                "location": location, "sku": f.sku, "on_hand": f.on_hand, "open_picks": f.open_picks,
                "inbound": f.inbound, "min": f.min, "max": f.max, "projected": f.projected(),
            })
        })
        .collect();
    let mut alarms: Vec<&floorctl_core::Alarm> = s.alarm_log.values().collect();
    alarms.reverse();
    json!({
        "site": site,
        "broker": {"connected": broker == LinkState::Connected, "words": broker.words(), "state": broker},
        "now": now,
        "orders": s.orders,
        "picked": s.picked,
        "sorted": s.sorted,
        "totes_sorted": s.per_chute.values().sum::<usize>(),
        "lines_picked": s.lines_picked,
        "in_flight": s.in_flight,
        "recirculations": s.recirculations,
        "shorts": s.shorts,
        "refused": s.refused,
        "equipment": equipment,
        "pick_conveyor": layout.pick_conveyor,
        "lines": lines,
        "chutes": chutes,
        "throughput": *s.throughput,
        "shift": *s.shift,
        "waves": waves,
        "handhelds": *s.handhelds,
        "forward": {
            "faces": s.forward.len(),
            "shown": faces,
            "open_replenishments": s.open_replenishments,
            "replenished": s.replenished,
            "emergencies": s.emergencies,
            "stockouts": s.stockouts,
            "lines_forward": s.lines_forward,
        },
        "alarms": alarms,
        "alarm_rate": {"last_10_min": s.alarm_rate, "manageable": floorctl_core::MANAGEABLE_PER_10_MIN},
        "kpis": key_figures(s),
    })
}

/// The PackML commands a machine accepts now (none while its link is down or its state is not
/// known), in the order the page shows them.
fn commands(p: &PlcStatus) -> Vec<&'static str> {
    let Some(state) = p.state.filter(|_| p.link_up()) else {
        return Vec::new();
    };
    floorctl_protocol::packml::Command::ALL
        .into_iter()
        .filter(|c| state.accept(*c).is_ok())
        .map(|c| c.name())
        .collect()
}

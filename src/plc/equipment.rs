//! Turning a conveyor's or sorter's register image into events, by signal name.

use std::collections::BTreeMap;

use floorctl_protocol::image::Image;
use floorctl_protocol::map::{EquipmentKind, PlcMap};

use floorctl_core::{Event, SortOutcome};

/// What one poll found.
#[derive(Debug, Default)]
pub(super) struct Changes {
    /// Events to hand to the core.
    pub(super) events: Vec<Event>,
    /// A value no map allows, described for an alarm.
    pub(super) impossible: Option<String>,
}

/// The values last seen on one PLC; reset on reconnect so the first poll reports the current
/// values again (the core ignores sequence numbers it has acted on).
#[derive(Debug, Default)]
pub(super) struct Seen {
    entry_seq: Option<u32>,
    induct_seq: Option<u32>,
    confirm_seq: Option<u32>,
    chute_full: BTreeMap<u16, bool>,
    chute_disabled: BTreeMap<u16, bool>,
    zone_fault: BTreeMap<u16, bool>,
    state: Option<u16>,
}

impl Seen {
    /// The sequence number of the last sort result handed to the core: the one to acknowledge.
    pub(super) fn confirm_handled(&self) -> Option<u16> {
        self.confirm_seq.map(|s| s as u16)
    }

    /// Compares a fresh image with what was seen before.
    pub(super) fn diff(&mut self, id: &str, map: &PlcMap, img: &Image) -> Changes {
        let get = |name: &str, i: u16| map.signal(name).map_or(0, |s| img.get(s, i));
        let changed = |last: &mut Option<u32>, now: u32| {
            let fresh = now != 0 && *last != Some(now);
            *last = Some(now);
            fresh
        };
        let mut out = Changes::default();
        if let Some(p) = &map.packml {
            let raw = get(&p.state, 0) as u16;
            if self.state.replace(raw) != Some(raw) {
                out.events.push(Event::EquipmentState {
                    plc: id.into(),
                    state: p.state_of(raw),
                    raw,
                });
            }
        }
        match map.kind {
            EquipmentKind::Conveyor => {
                bit_changes(
                    map,
                    img,
                    "zone_fault",
                    &mut self.zone_fault,
                    &mut out.events,
                    |zone, fault| Event::ZoneFault {
                        conveyor: id.into(),
                        zone,
                        fault,
                    },
                );
                let seq = get("entry_seq", 0);
                if changed(&mut self.entry_seq, seq) {
                    out.events.push(Event::ToteEntered {
                        conveyor: id.into(),
                        tote: get("entry_tote", 0),
                        seq: seq as u16,
                    });
                }
            }
            EquipmentKind::Sorter => {
                let seq = get("induct_seq", 0);
                if changed(&mut self.induct_seq, seq) {
                    out.events.push(Event::ToteInducted {
                        sorter: id.into(),
                        tote: get("induct_tote", 0),
                        seq: seq as u16,
                    });
                }
                let seq = get("confirm_seq", 0);
                if changed(&mut self.confirm_seq, seq) {
                    let code = get("confirm_outcome", 0) as u16;
                    match SortOutcome::from_code(code) {
                        Some(outcome) => out.events.push(Event::SortConfirmed {
                            sorter: id.into(),
                            tote: get("confirm_tote", 0),
                            chute: get("confirm_chute", 0) as u16,
                            outcome,
                            seq: seq as u16,
                        }),
                        None => {
                            let text = format!(
                                "sort result {seq} for tote {} has outcome code {code}, which is not one of 1 to 6; acknowledged and not acted on",
                                get("confirm_tote", 0)
                            );
                            tracing::error!(plc = id, "{text}");
                            out.impossible = Some(text);
                        }
                    }
                }
                bit_changes(
                    map,
                    img,
                    "chute_full",
                    &mut self.chute_full,
                    &mut out.events,
                    |c, full| Event::ChuteFull {
                        sorter: id.into(),
                        chute: c + 1,
                        full,
                    },
                );
                bit_changes(
                    map,
                    img,
                    "chute_disabled",
                    &mut self.chute_disabled,
                    &mut out.events,
                    |c, disabled| Event::ChuteDisabled {
                        sorter: id.into(),
                        chute: c + 1,
                        disabled,
                    },
                );
            }
        }
        out
    }
}

/// One event per element of a bit signal whose value differs from the one seen before.
fn bit_changes(
    map: &PlcMap,
    img: &Image,
    name: &str,
    seen: &mut BTreeMap<u16, bool>,
    events: &mut Vec<Event>,
    make: impl Fn(u16, bool) -> Event,
) {
    let Some(s) = map.signal(name) else {
        return;
    };
    for i in 0..s.count {
        let on = img.get(s, i) != 0;
        if seen.insert(i, on) != Some(on) {
            events.push(make(i, on));
        }
    }
}

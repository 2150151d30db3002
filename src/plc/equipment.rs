//! Turning a conveyor's or sorter's register image into events, by signal name.

use std::collections::BTreeMap;

use floorctl_protocol::image::Image;
use floorctl_protocol::map::{EquipmentKind, PlcMap};

use crate::core::{Event, SortOutcome};

/// What one poll found.
#[derive(Debug, Default)]
pub(super) struct Changes {
    /// Events to hand to the core.
    pub(super) events: Vec<Event>,
    /// A sort result to acknowledge once its event is journalled.
    pub(super) confirm_to_ack: Option<u16>,
}

/// The values last seen on one PLC; reset on reconnect so the first poll reports the current
/// values again (the core ignores sequence numbers it has acted on).
#[derive(Debug, Default)]
pub(super) struct Seen {
    entry_seq: Option<u32>,
    induct_seq: Option<u32>,
    confirm_seq: Option<u32>,
    chute_full: BTreeMap<u16, bool>,
}

impl Seen {
    /// Compares a fresh image with what was seen before.
    pub(super) fn diff(&mut self, id: &str, map: &PlcMap, img: &Image) -> Changes {
        let get = |name: &str, i: u16| map.signal(name).map_or(0, |s| img.get(s, i));
        let changed = |last: &mut Option<u32>, now: u32| {
            let fresh = now != 0 && *last != Some(now);
            *last = Some(now);
            fresh
        };
        let mut out = Changes::default();
        match map.kind {
            EquipmentKind::Conveyor => {
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
                        None => tracing::error!(plc = id, code, seq, "sort result with an outcome code the map does not define; acknowledged and ignored"),
                    }
                    out.confirm_to_ack = Some(seq as u16);
                }
                let chutes = map.signal("chute_full").map_or(0, |s| s.count);
                for c in 0..chutes {
                    let full = get("chute_full", c) != 0;
                    let chute = c + 1;
                    if self.chute_full.insert(chute, full) != Some(full) {
                        out.events.push(Event::ChuteFull {
                            sorter: id.into(),
                            chute,
                            full,
                        });
                    }
                }
            }
        }
        out
    }
}

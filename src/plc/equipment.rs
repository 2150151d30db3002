//! Turning a conveyor's or sorter's register image into events.

use std::collections::BTreeMap;

use floorctl_protocol::image::Image;
use floorctl_protocol::map::{PlcMap, Signal};

use super::signals::{KindSignals, Signals};

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
    /// A sorter's chutes are reported in the site's numbering (its chute 1 is `first_chute`).
    pub(super) fn diff(
        &mut self,
        id: &str,
        map: &PlcMap,
        sig: &Signals,
        img: &Image,
        first_chute: u16,
    ) -> Changes {
        let site = |own: u16| super::chutes::site_chute(first_chute, own);
        let get = |s: &Signal| img.get(s, 0);
        let changed = |last: &mut Option<u32>, now: u32| {
            let fresh = now != 0 && *last != Some(now);
            *last = Some(now);
            fresh
        };
        let mut out = Changes::default();
        if let (Some(p), Some(ps)) = (&map.packml, &sig.packml) {
            let raw = get(&ps.state) as u16;
            if self.state.replace(raw) != Some(raw) {
                out.events.push(Event::EquipmentState {
                    plc: id.into(),
                    state: p.state_of(raw),
                    raw,
                });
            }
        }
        match &sig.kind {
            KindSignals::Conveyor(c) => {
                bit_changes(
                    img,
                    &c.zone_fault,
                    &mut self.zone_fault,
                    &mut out.events,
                    |zone, fault| Event::ZoneFault {
                        conveyor: id.into(),
                        zone,
                        fault,
                    },
                );
                let seq = get(&c.entry_seq);
                if changed(&mut self.entry_seq, seq) {
                    out.events.push(Event::ToteEntered {
                        conveyor: id.into(),
                        tote: get(&c.entry_tote),
                        seq: seq as u16,
                    });
                }
            }
            KindSignals::Sorter(so) => {
                let seq = get(&so.induct_seq);
                if changed(&mut self.induct_seq, seq) {
                    out.events.push(Event::ToteInducted {
                        sorter: id.into(),
                        tote: get(&so.induct_tote),
                        seq: seq as u16,
                    });
                }
                let seq = get(&so.confirm_seq);
                if changed(&mut self.confirm_seq, seq) {
                    let code = get(&so.confirm_outcome) as u16;
                    match SortOutcome::from_code(code) {
                        Some(outcome) => out.events.push(Event::SortConfirmed {
                            sorter: id.into(),
                            tote: get(&so.confirm_tote),
                            chute: site(get(&so.confirm_chute) as u16),
                            outcome,
                            seq: seq as u16,
                        }),
                        None => {
                            let text = format!(
                                "sort result {seq} for tote {} has outcome code {code}, which is not one of 1 to 6; acknowledged and not acted on",
                                get(&so.confirm_tote)
                            );
                            tracing::error!(plc = id, "{text}");
                            out.impossible = Some(text);
                        }
                    }
                }
                bit_changes(
                    img,
                    &so.chute_full,
                    &mut self.chute_full,
                    &mut out.events,
                    |c, full| Event::ChuteFull {
                        sorter: id.into(),
                        chute: site(c + 1),
                        full,
                    },
                );
                if let Some(disabled) = &so.chute_disabled {
                    bit_changes(
                        img,
                        disabled,
                        &mut self.chute_disabled,
                        &mut out.events,
                        |c, disabled| Event::ChuteDisabled {
                            sorter: id.into(),
                            chute: site(c + 1),
                            disabled,
                        },
                    );
                }
            }
        }
        out
    }
}

/// One event per element of a bit signal whose value differs from the one seen before.
fn bit_changes(
    img: &Image,
    s: &Signal,
    seen: &mut BTreeMap<u16, bool>,
    events: &mut Vec<Event>,
    make: impl Fn(u16, bool) -> Event,
) {
    for i in 0..s.count {
        let on = img.get(s, i) != 0;
        if seen.insert(i, on) != Some(on) {
            events.push(make(i, on));
        }
    }
}

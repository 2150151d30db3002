//! A PLC map's signals resolved once, when its link starts, into the sets the link uses: the
//! heartbeat, PackML, the conveyor's or the sorter's signals and the setpoints with their
//! encoded values. Nothing is looked up by name while the link runs.

use std::collections::BTreeMap;

use floorctl_protocol::image::Image;
use floorctl_protocol::map::{EquipmentKind, PlcMap, Signal};
use floorctl_protocol::value::Value;

/// A map lacks a signal the link needs, or a setpoint its register cannot hold.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SignalError {
    /// A signal its kind or its `[packml]` names is missing.
    #[error("map {model} ({kind}) has no signal `{name}`")]
    Missing {
        /// The map's model.
        model: String,
        /// Conveyor or sorter.
        kind: EquipmentKind,
        /// The signal.
        name: String,
    },
    /// A setpoint the register cannot take.
    #[error("setpoint `{name}` = {value}: {problem}")]
    Setpoint {
        /// The setpoint's signal.
        name: String,
        /// Its value.
        value: f64,
        /// Why.
        problem: String,
    },
}

/// Every signal one PLC's link reads or writes.
#[derive(Debug, Clone)]
pub(crate) struct Signals {
    /// The counter the PLC increments.
    pub(crate) plc_heartbeat: Signal,
    /// The counter the controller increments.
    pub(crate) controller_heartbeat: Signal,
    /// The PackML state and command handshake, when the map has `[packml]`.
    pub(crate) packml: Option<PackmlSignals>,
    /// The signals of its kind.
    pub(crate) kind: KindSignals,
    /// Setpoints to write after each connect, with the words that carry them.
    pub(crate) setpoints: Vec<Setpoint>,
}

/// The PackML signals of a map.
#[derive(Debug, Clone)]
pub(crate) struct PackmlSignals {
    pub(crate) state: Signal,
    pub(crate) command: Signal,
    pub(crate) command_seq: Signal,
    pub(crate) command_ack_seq: Signal,
}

/// A conveyor's or a sorter's own signals.
#[derive(Debug, Clone)]
pub(crate) enum KindSignals {
    Conveyor(Box<ConveyorSignals>),
    Sorter(Box<SorterSignals>),
}

/// What a conveyor reports and takes.
#[derive(Debug, Clone)]
pub(crate) struct ConveyorSignals {
    pub(crate) zone_run: Signal,
    pub(crate) zone_fault: Signal,
    pub(crate) zone_photo_eye: Signal,
    pub(crate) entry_tote: Signal,
    pub(crate) entry_seq: Signal,
    pub(crate) entry_present: Option<Signal>,
    pub(crate) zone_energy: Option<Signal>,
}

/// What a sorter reports and takes.
#[derive(Debug, Clone)]
pub(crate) struct SorterSignals {
    pub(crate) induct_tote: Signal,
    pub(crate) induct_seq: Signal,
    pub(crate) divert_tote: Signal,
    pub(crate) divert_chute: Signal,
    pub(crate) divert_seq: Signal,
    pub(crate) divert_ack_seq: Signal,
    pub(crate) confirm_tote: Signal,
    pub(crate) confirm_chute: Signal,
    pub(crate) confirm_outcome: Signal,
    pub(crate) confirm_seq: Signal,
    pub(crate) confirm_ack_seq: Signal,
    pub(crate) chute_full: Signal,
    pub(crate) chute_disabled: Option<Signal>,
}

/// A setpoint: its signal, its engineering value, and the words written for it.
#[derive(Debug, Clone)]
pub(crate) struct Setpoint {
    pub(crate) name: String,
    pub(crate) signal: Signal,
    pub(crate) value: f64,
    pub(crate) words: Vec<u16>,
}

impl Signals {
    /// Resolves `map`'s signals and encodes `setpoints`; every name the link needs must be there.
    pub(crate) fn of(
        map: &PlcMap,
        setpoints: &BTreeMap<String, f64>,
    ) -> Result<Signals, SignalError> {
        let need = |name: &str| {
            map.signal(name)
                .cloned()
                .ok_or_else(|| SignalError::Missing {
                    model: map.model.clone(),
                    kind: map.kind,
                    name: name.to_string(),
                })
        };
        let may = |name: &str| map.signal(name).cloned();
        let hb = &map.handshakes.heartbeat;
        let packml = match &map.packml {
            None => None,
            Some(p) => Some(PackmlSignals {
                state: need(&p.state)?,
                command: need(&p.command)?,
                command_seq: need(&p.command_seq)?,
                command_ack_seq: need(&p.command_ack_seq)?,
            }),
        };
        let kind = match map.kind {
            EquipmentKind::Conveyor => KindSignals::Conveyor(Box::new(ConveyorSignals {
                zone_run: need("zone_run")?,
                zone_fault: need("zone_fault")?,
                zone_photo_eye: need("zone_photo_eye")?,
                entry_tote: need("entry_tote")?,
                entry_seq: need("entry_seq")?,
                entry_present: may("entry_present"),
                zone_energy: may("zone_energy"),
            })),
            EquipmentKind::Sorter => KindSignals::Sorter(Box::new(SorterSignals {
                induct_tote: need("induct_tote")?,
                induct_seq: need("induct_seq")?,
                divert_tote: need("divert_tote")?,
                divert_chute: need("divert_chute")?,
                divert_seq: need("divert_seq")?,
                divert_ack_seq: need("divert_ack_seq")?,
                confirm_tote: need("confirm_tote")?,
                confirm_chute: need("confirm_chute")?,
                confirm_outcome: need("confirm_outcome")?,
                confirm_seq: need("confirm_seq")?,
                confirm_ack_seq: need("confirm_ack_seq")?,
                chute_full: need("chute_full")?,
                chute_disabled: may("chute_disabled"),
            })),
        };
        let setpoints = setpoints
            .iter()
            .map(|(name, value)| {
                let signal = need(name)?;
                let words = Image::encode_value(&signal, &Value::Number(*value)).map_err(|e| {
                    SignalError::Setpoint {
                        name: name.clone(),
                        value: *value,
                        problem: e.to_string(),
                    }
                })?;
                Ok(Setpoint {
                    name: name.clone(),
                    signal,
                    value: *value,
                    words,
                })
            })
            .collect::<Result<_, SignalError>>()?;
        Ok(Signals {
            plc_heartbeat: need(&hb.plc)?,
            controller_heartbeat: need(&hb.controller)?,
            packml,
            kind,
            setpoints,
        })
    }

    /// The conveyor's signals, when it is one.
    pub(crate) fn conveyor(&self) -> Option<&ConveyorSignals> {
        match &self.kind {
            KindSignals::Conveyor(c) => Some(c),
            KindSignals::Sorter(_) => None,
        }
    }

    /// The sorter's signals, when it is one.
    pub(crate) fn sorter(&self) -> Option<&SorterSignals> {
        match &self.kind {
            KindSignals::Sorter(s) => Some(s),
            KindSignals::Conveyor(_) => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::demo::{shipped_map, CONVEYOR_MAP, SORTER_MAP};

    #[test]
    fn the_shipped_maps_resolve_and_a_missing_signal_is_named() {
        let conveyor = shipped_map(CONVEYOR_MAP);
        let sorter = shipped_map(SORTER_MAP);
        let s = Signals::of(&conveyor, &BTreeMap::from([("speed_setpoint".into(), 2.5)])).unwrap();
        assert!(s.conveyor().is_some() && s.sorter().is_none());
        assert_eq!(s.setpoints.len(), 1);
        assert!(Signals::of(&sorter, &BTreeMap::new())
            .unwrap()
            .sorter()
            .is_some());

        let mut broken = sorter.clone();
        broken.signals.remove("confirm_ack_seq");
        let err = Signals::of(&broken, &BTreeMap::new()).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!(
                "map {} (sorter) has no signal `confirm_ack_seq`",
                sorter.model
            )
        );
        let err = Signals::of(
            &conveyor,
            &BTreeMap::from([("speed_setpoint".into(), 1e12)]),
        )
        .unwrap_err();
        assert!(matches!(err, SignalError::Setpoint { .. }), "{err}");
    }
}

//! What a session watches besides the values: refused reads and writes, the sort-result
//! acknowledgement, the heartbeats both ways and the setpoints, each told to the core once per
//! change.

use std::time::Duration;

use tokio::sync::mpsc;
use tokio::time::Instant;

use super::{send, Session, SETPOINT_SETTLE_CYCLES};
use crate::bus::Inbound;
use crate::plc::modbus::{Link, LinkError, RequestError};
use crate::plc::PlcSpec;
use floorctl_core::{Event, PlcCondition};
use floorctl_protocol::map::PlcMap;
use floorctl_protocol::value::Value;

impl Session {
    /// Acknowledges the last sort result handed to the core (its event is journalled by now).
    /// The acknowledgement is read back every cycle and written again until the PLC holds it: a
    /// lost write would otherwise stall the sorter's results. Alarmed when it does not take.
    pub(super) async fn acknowledge(
        &mut self,
        spec: &PlcSpec,
        link: &mut Link<'_>,
        events: &mpsc::Sender<Inbound>,
        refused: &mut Option<String>,
    ) -> Result<(), LinkError> {
        const UNHELD_TO_ALARM: u32 = 10;
        let Some(seq) = self.seen.confirm_handled() else {
            return Ok(());
        };
        let Some(sorter) = self.sig.sorter() else {
            return Ok(());
        };
        let ack = &sorter.confirm_ack_seq;
        let held = self.image.get(ack, 0) as u16;
        if held == seq {
            self.ack_unheld = 0;
        } else {
            written(refused, link.write_words(ack.address, &[seq]).await)?;
            self.ack_unheld += 1;
        }
        let alarmed = self.ack_unheld >= UNHELD_TO_ALARM;
        if alarmed == self.ack_alarmed {
            return Ok(());
        }
        self.ack_alarmed = alarmed;
        let fault = alarmed.then(|| {
            format!(
                "sort result {seq} acknowledged {} times and the PLC still holds {held}: its \
                 results wait until it takes the acknowledgement",
                self.ack_unheld
            )
        });
        if let Some(text) = &fault {
            tracing::warn!(fault = %text, "acknowledgement does not take");
        }
        send(
            events,
            Event::PlcFault {
                plc: spec.id.clone(),
                condition: PlcCondition::Acknowledgement,
                fault,
            },
        )
        .await
    }

    /// Tells the core when the PLC starts or stops refusing writes (once per change): commands
    /// and the heartbeat do not reach it, and its watchdog will stop it.
    pub(super) async fn report_writes(
        &mut self,
        spec: &PlcSpec,
        events: &mpsc::Sender<Inbound>,
        refusal: Option<String>,
    ) -> Result<(), LinkError> {
        let was = &mut self.refusing_writes;
        let what = "commands and the heartbeat do not reach the PLC";
        report_change(spec, events, was, refusal, PlcCondition::Writes, what).await
    }

    /// Tells the core when the PLC starts or stops refusing reads (once per change).
    pub(super) async fn report_refusal(
        &mut self,
        spec: &PlcSpec,
        events: &mpsc::Sender<Inbound>,
        refusal: Option<String>,
    ) -> Result<(), LinkError> {
        let was = &mut self.refusing;
        report_change(
            spec,
            events,
            was,
            refusal,
            PlcCondition::Reads,
            "values are stale",
        )
        .await
    }

    /// Tells the core when the controller's own heartbeat reaches the PLC less often than the
    /// PLC's watchdog allows (a slow or lossy link, or a poll interval too long for the map): the
    /// PLC will stop itself. Told again once ten writes in a row came in time.
    pub(super) async fn watch_heartbeat_gap(
        &mut self,
        spec: &PlcSpec,
        events: &mpsc::Sender<Inbound>,
    ) -> Result<(), LinkError> {
        const IN_TIME_TO_CLEAR: u32 = 10;
        let now = Instant::now();
        let watchdog = Duration::from_millis(spec.map.handshakes.heartbeat.stale_after_ms);
        let gap = self
            .heartbeat_written
            .replace(now)
            .map(|at| now.duration_since(at));
        let fault = match gap {
            Some(gap) if gap > watchdog => {
                self.heartbeat_in_time = 0;
                if self.heartbeat_late {
                    return Ok(());
                }
                self.heartbeat_late = true;
                Some(format!(
                    "controller heartbeat written {} ms apart, longer than the PLC's {} ms \
                     watchdog: the PLC stops itself; check the link or lengthen the watchdog",
                    gap.as_millis(),
                    watchdog.as_millis()
                ))
            }
            Some(_) if self.heartbeat_late => {
                self.heartbeat_in_time += 1;
                if self.heartbeat_in_time < IN_TIME_TO_CLEAR {
                    return Ok(());
                }
                self.heartbeat_late = false;
                None
            }
            _ => return Ok(()),
        };
        if let Some(text) = &fault {
            tracing::warn!("{text}");
        }
        send(
            events,
            Event::PlcFault {
                plc: spec.id.clone(),
                condition: PlcCondition::Heartbeat,
                fault,
            },
        )
        .await
    }

    /// Fails the session when the PLC's counter has not moved over the map's missed cycles.
    pub(super) fn watch_heartbeat(&mut self, map: &PlcMap) -> Result<(), LinkError> {
        let hb = &map.handshakes.heartbeat;
        let now = self.image.get(&self.sig.plc_heartbeat, 0);
        if now != self.plc_heartbeat.0 {
            self.plc_heartbeat = (now, 0);
            return Ok(());
        }
        self.plc_heartbeat.1 += 1;
        if self.plc_heartbeat.1 >= hb.missed_cycles {
            return Err(LinkError::HeartbeatStale(self.plc_heartbeat.1));
        }
        Ok(())
    }

    /// Writes each configured setpoint; they are read back once the PLC has had a few polls
    /// to take them (a PLC may clamp or refuse a value in its scan).
    pub(super) async fn write_setpoints(
        &mut self,
        spec: &PlcSpec,
        link: &mut Link<'_>,
    ) -> Result<(), LinkError> {
        self.setpoint_problems.clear();
        for s in &self.sig.setpoints {
            match link.write_words(s.signal.address, &s.words).await {
                Ok(()) => {}
                Err(RequestError::Link(e)) => return Err(e),
                Err(e) => self
                    .setpoint_problems
                    .push(format!("setpoint {}: {e}", s.name)),
            }
        }
        self.verify_setpoints_at =
            (!spec.setpoints.is_empty()).then_some(self.cycle.wrapping_add(SETPOINT_SETTLE_CYCLES));
        Ok(())
    }

    /// Compares the setpoints the PLC holds with the configured ones and reports the difference.
    pub(super) async fn verify_setpoints(
        &mut self,
        spec: &PlcSpec,
        events: &mpsc::Sender<Inbound>,
    ) -> Result<(), LinkError> {
        match self.verify_setpoints_at {
            Some(at) if self.cycle.wrapping_sub(at) < 1 << 31 => {}
            _ => return Ok(()),
        }
        self.verify_setpoints_at = None;
        let mut problems = std::mem::take(&mut self.setpoint_problems);
        for setpoint in &self.sig.setpoints {
            let (name, value, s) = (&setpoint.name, setpoint.value, &setpoint.signal);
            let mut probe = self.image.clone();
            if let Err(e) = probe.set_value(s, 0, &Value::Number(value)) {
                problems.push(format!("setpoint {name} = {value}: {e}"));
                continue;
            }
            if probe == self.image {
                tracing::info!(setpoint = %name, value, "setpoint verified");
                continue;
            }
            let held = self.image.value(s, 0);
            problems.push(format!(
                "setpoint {name} written as {value} {unit}, PLC holds {held} {unit}",
                unit = s.unit
            ));
        }
        let fault = (!problems.is_empty()).then(|| problems.join("; "));
        if let Some(f) = &fault {
            tracing::warn!(problem = %f, "setpoint not kept");
        }
        send(
            events,
            Event::PlcFault {
                plc: spec.id.clone(),
                condition: PlcCondition::Setpoints,
                fault,
            },
        )
        .await
    }
}

/// Keeps the first refusal of a cycle's writes in `refused`; a lost link stays an error.
pub(super) fn written(
    refused: &mut Option<String>,
    write: Result<(), RequestError>,
) -> Result<(), LinkError> {
    match write {
        Ok(()) => Ok(()),
        Err(RequestError::Link(e)) => Err(e),
        Err(RequestError::Exception { code, .. }) => {
            refused.get_or_insert(write_refusal(code));
            Ok(())
        }
    }
}

/// How a refused write is told: by its exception only, so one fault is one alarm whichever
/// register was refused.
pub(super) fn write_refusal(code: tokio_modbus::ExceptionCode) -> String {
    format!("PLC refuses writes with exception {code:?}")
}

/// Tells the core when a refusal starts or ends (once per change), with what it means.
async fn report_change(
    spec: &PlcSpec,
    events: &mpsc::Sender<Inbound>,
    was: &mut Option<String>,
    refusal: Option<String>,
    condition: PlcCondition,
    meaning: &str,
) -> Result<(), LinkError> {
    if *was == refusal {
        return Ok(());
    }
    if let Some(text) = &refusal {
        tracing::warn!(refusal = %text, condition = condition.name(), "{meaning}");
    }
    *was = refusal.clone();
    send(
        events,
        Event::PlcFault {
            plc: spec.id.clone(),
            condition,
            fault: refusal.map(|t| format!("{t}; {meaning}")),
        },
    )
    .await
}

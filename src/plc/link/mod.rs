//! The connection to one PLC: connect, poll, write, watch the heartbeat, back off and reconnect.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use floorctl_protocol::image::Image;
use floorctl_protocol::map::{EquipmentKind, PlcMap, ReadRange, Table};
use floorctl_protocol::packml::Command as PackCommand;
use floorctl_protocol::value::Value;
use tokio::sync::mpsc;
use tokio::time::{timeout, Instant};
use tokio_modbus::client::tcp;
use tokio_modbus::Slave;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

mod faults;

use faults::{write_refusal, written};

use super::equipment::Seen;
use super::handshake::{Pending, SeqChannel};
use super::modbus::{Link, LinkError, RequestError};
use super::signals::{SignalError, Signals};
use super::sleep::ZoneSleep;
use super::status::{PlcStatus, StatusBoard};
use super::PlcSpec;
use crate::bus::Inbound;
use crate::link_state::LinkState;
use crate::retry::{self, Backoff};
use floorctl_core::{Event, PlcCondition};

/// A command for one PLC.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PlcCommand {
    /// Divert a tote into a chute (sorter).
    Divert {
        /// Tote.
        tote: u32,
        /// Chute.
        chute: u16,
    },
    /// A PackML command.
    Packml(PackCommand),
}

/// First wait before reconnecting.
const MIN_BACKOFF: Duration = Duration::from_millis(100);
/// Largest wait between reconnect attempts.
const MAX_BACKOFF: Duration = Duration::from_secs(5);
/// Polls a PLC gets to take a setpoint before it is read back.
const SETPOINT_SETTLE_CYCLES: u32 = 3;

/// Commands waiting for one PLC, at most: while its link is down they wait, and past this the
/// newest are dropped (a divert then ends in recirculation, which the core handles).
const COMMAND_QUEUE: usize = 1024;

/// Starts the task for one PLC. Events go to `events`; commands arrive on the returned sender;
/// the PLC's live status is kept on `board`.
pub fn spawn(
    spec: PlcSpec,
    events: mpsc::Sender<Inbound>,
    board: StatusBoard,
    cancel: CancellationToken,
) -> Result<(mpsc::Sender<PlcCommand>, tokio::task::JoinHandle<()>), SignalError> {
    let signals = Signals::of(&spec.map, &spec.setpoints)?;
    let (tx, rx) = mpsc::channel(COMMAND_QUEUE);
    let span = tracing::info_span!("plc", id = %spec.id, addr = %spec.address);
    let status = board.register(&spec.id);
    let handle = tokio::spawn(
        async move {
            run(spec, signals, events, rx, board, cancel).await;
            status.lock().unwrap_or_else(|p| p.into_inner()).link = LinkState::Stopped;
        }
        .instrument(span),
    );
    Ok((tx, handle))
}

/// What outlives a session: commands not yet acknowledged, and the live status.
struct Outbox {
    diverts: Option<SeqChannel>,
    packml: Option<SeqChannel>,
    status: Arc<Mutex<PlcStatus>>,
}

async fn run(
    spec: PlcSpec,
    signals: Signals,
    events: mpsc::Sender<Inbound>,
    mut commands: mpsc::Receiver<PlcCommand>,
    board: StatusBoard,
    cancel: CancellationToken,
) {
    let mut outbox = Outbox {
        diverts: signals
            .sorter()
            .map(|s| SeqChannel::new(&s.divert_seq, &s.divert_ack_seq)),
        packml: signals
            .packml
            .as_ref()
            .map(|p| SeqChannel::new(&p.command_seq, &p.command_ack_seq)),
        status: board.register(&spec.id),
    };
    let mut backoff = Backoff::new(MIN_BACKOFF, MAX_BACKOFF, retry::seed(&spec.id));
    // Whether the core knows the link is down: told once, however often a reconnect fails.
    let mut told_down = false;
    loop {
        let mut session = Session::new(&spec, &signals);
        outbox.status.lock().unwrap_or_else(|p| p.into_inner()).link = LinkState::Connecting;
        let err = tokio::select! {
            () = cancel.cancelled() => return,
            r = session.serve(&spec, &events, &mut commands, &mut outbox, &mut backoff) => match r {
                Ok(()) | Err(LinkError::Shutdown) => return,
                Err(e) => e,
            },
        };
        outbox
            .status
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .link_lost();
        if session.announced || !told_down {
            if session.announced {
                tracing::warn!(error = %err, "PLC link lost");
            } else {
                tracing::warn!(error = %err, "PLC not reachable; trying again ever more slowly");
            }
            let down = Event::PlcLink {
                plc: spec.id.clone(),
                up: false,
                reason: Some(err.to_string()),
            };
            if events.send(Inbound::new(down)).await.is_err() {
                return;
            }
            told_down = true;
        } else {
            tracing::debug!(error = %err, "PLC not reachable");
        }
        if session.announced {
            told_down = true;
        }
        tokio::select! {
            () = cancel.cancelled() => return,
            () = tokio::time::sleep(backoff.next_delay()) => {}
        }
    }
}

/// One connected session: the image read last and the handshake counters.
struct Session {
    /// The map's signals, resolved when the link started.
    sig: Signals,
    image: Image,
    plan: Vec<ReadRange>,
    seen: Seen,
    heartbeat: u16,
    /// The PLC's heartbeat and how many fresh polls in a row it has not changed.
    plc_heartbeat: (u32, u32),
    /// The exception that makes the current values stale, while it lasts.
    refusing: Option<String>,
    /// The exception the PLC answers writes with, while it lasts.
    refusing_writes: Option<String>,
    /// Cycles in a row the PLC has not held the sort-result acknowledgement written to it, and
    /// whether the core was told.
    ack_unheld: u32,
    ack_alarmed: bool,
    sleep: Option<ZoneSleep>,
    zone_run: Vec<bool>,
    /// When the controller's heartbeat was last written, and how many writes in a row since came
    /// within the PLC's watchdog time.
    heartbeat_written: Option<Instant>,
    heartbeat_in_time: u32,
    /// Whether the core has been told the heartbeat comes too seldom for the PLC's watchdog.
    heartbeat_late: bool,
    /// Poll cycle at which the setpoints are read back.
    verify_setpoints_at: Option<u32>,
    /// Setpoints the PLC refused to take.
    setpoint_problems: Vec<String>,
    cycle: u32,
    started: Instant,
    /// Whether the core was told the link is up (and so must be told when it goes down).
    announced: bool,
    /// The site's number of the sorter's chute 1.
    first_chute: u16,
}

impl Session {
    fn new(spec: &PlcSpec, signals: &Signals) -> Session {
        let zones = signals
            .conveyor()
            .map_or(0, |c| usize::from(c.zone_run.count));
        Session {
            sig: signals.clone(),
            first_chute: spec.first_chute,
            image: Image::for_map(&spec.map),
            plan: spec.map.read_plan(),
            seen: Seen::default(),
            heartbeat: 0,
            heartbeat_written: None,
            heartbeat_in_time: 0,
            heartbeat_late: false,
            plc_heartbeat: (0, 0),
            refusing: None,
            refusing_writes: None,
            ack_unheld: 0,
            ack_alarmed: false,
            sleep: (spec.map.kind == EquipmentKind::Conveyor)
                .then(|| ZoneSleep::new(zones, spec.zone_sleep_after_ms, 0)),
            zone_run: Vec::new(),
            verify_setpoints_at: None,
            setpoint_problems: Vec::new(),
            cycle: 0,
            started: Instant::now(),
            announced: false,
        }
    }

    /// Connects and serves the PLC until the link fails (an error) or the command channel closes.
    async fn serve(
        &mut self,
        spec: &PlcSpec,
        events: &mpsc::Sender<Inbound>,
        commands: &mut mpsc::Receiver<PlcCommand>,
        outbox: &mut Outbox,
        backoff: &mut Backoff,
    ) -> Result<(), LinkError> {
        let io_timeout = Duration::from_millis(spec.answer_timeout_ms);
        let mut ctx = timeout(
            io_timeout,
            tcp::connect_slave(spec.address, Slave(spec.unit)),
        )
        .await
        .map_err(|_| LinkError::Timeout {
            limit: io_timeout,
            attempts: 1,
        })?
        .map_err(LinkError::Connect)?;
        let map = &spec.map;
        let mut link = Link {
            ctx: &mut ctx,
            timeout: io_timeout,
            retries: spec.retries,
            resent: 0,
        };
        // The link is up once the PLC answers in Modbus (values or an exception), not when TCP
        // connects: a device answering garbage is no link, and is not announced again and again.
        // The first image must be complete: numbering and acknowledgements are read back from it.
        loop {
            let polled = self.poll(&mut link).await?;
            if !self.announced {
                tracing::info!("PLC link up");
                send(
                    events,
                    Event::PlcLink {
                        plc: spec.id.clone(),
                        up: true,
                        reason: None,
                    },
                )
                .await?;
                self.announced = true;
            }
            match polled {
                Ok(()) => break,
                Err(refusal) => {
                    self.report_refusal(spec, events, Some(refusal)).await?;
                    tokio::time::sleep(Duration::from_millis(spec.poll_interval_ms)).await;
                }
            }
        }
        self.report_refusal(spec, events, None).await?;
        for ch in [&mut outbox.diverts, &mut outbox.packml]
            .into_iter()
            .flatten()
        {
            ch.resync(&self.image);
        }
        self.plc_heartbeat = (self.image.get(&self.sig.plc_heartbeat, 0), 0);
        self.write_setpoints(spec, &mut link).await?;

        let mut tick = tokio::time::interval(Duration::from_millis(spec.poll_interval_ms));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            let step = tokio::select! {
                cmd = commands.recv() => match cmd {
                    None => return Ok(()),
                    Some(cmd) => self.command(map, &mut link, outbox, cmd).await,
                },
                _ = tick.tick() => self.cycle(spec, &mut link, events, outbox).await,
            };
            match step {
                // Waits between reconnects start small again only after a whole good cycle.
                Ok(()) if self.refusing.is_none() && self.refusing_writes.is_none() => {
                    backoff.reset()
                }
                Ok(()) => {}
                Err(RequestError::Link(e)) => return Err(e),
                Err(RequestError::Exception { code, .. }) => {
                    outbox
                        .status
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .exceptions += 1;
                    self.report_writes(spec, events, Some(write_refusal(code)))
                        .await?;
                }
            }
        }
    }

    /// Queues a command and writes it at once when the PLC's channel is free.
    async fn command(
        &mut self,
        map: &PlcMap,
        link: &mut Link<'_>,
        outbox: &mut Outbox,
        cmd: PlcCommand,
    ) -> Result<(), RequestError> {
        let (channel, pending) = match cmd {
            PlcCommand::Divert { tote, chute } => {
                let Some(sorter) = self.sig.sorter() else {
                    tracing::error!(tote, chute, "divert for a PLC that is not a sorter");
                    return Ok(());
                };
                let Some(own) = crate::plc::chutes::own_chute(self.first_chute, chute) else {
                    tracing::error!(tote, chute, "divert to a chute this sorter does not have");
                    return Ok(());
                };
                let (t, c) = (&sorter.divert_tote, &sorter.divert_chute);
                let writes = vec![
                    (t.address, Image::encode(t, tote)),
                    (c.address, Image::encode(c, u32::from(own))),
                ];
                let p = Pending::new(format!("divert tote {tote} to chute {chute}"), writes);
                (&mut outbox.diverts, p)
            }
            PlcCommand::Packml(command) => {
                let (Some(pk), Some(signals)) = (&map.packml, &self.sig.packml) else {
                    tracing::error!(%command, "PackML command for a PLC whose map has no [packml]");
                    return Ok(());
                };
                let Some(value) = pk.command_value(command) else {
                    tracing::error!(%command, "the map gives no number for this PackML command");
                    return Ok(());
                };
                let s = &signals.command;
                let writes = vec![(s.address, Image::encode(s, u32::from(value)))];
                (
                    &mut outbox.packml,
                    Pending::new(command.to_string(), writes),
                )
            }
        };
        let Some(channel) = channel else {
            tracing::error!(?pending.what, "command for a PLC that has no such channel");
            return Ok(());
        };
        channel.push(pending);
        channel.kick(link, &self.image, self.cycle).await
    }

    /// One poll cycle: heartbeat out, read everything, act on what is fresh.
    async fn cycle(
        &mut self,
        spec: &PlcSpec,
        link: &mut Link<'_>,
        events: &mpsc::Sender<Inbound>,
        outbox: &mut Outbox,
    ) -> Result<(), RequestError> {
        let map = &spec.map;
        self.cycle = self.cycle.wrapping_add(1);
        self.heartbeat = self.heartbeat.checked_add(1).unwrap_or(1);
        let hb = self.sig.controller_heartbeat.address;
        // A refused write is a fault of the link, alarmed; the cycle goes on and the PLC is
        // still read.
        let mut refused = None;
        written(&mut refused, link.write_words(hb, &[self.heartbeat]).await)?;
        self.watch_heartbeat_gap(spec, events).await?;
        if let Err(refusal) = self.poll(link).await? {
            // The values are stale: nothing is acted on until a whole image is read again.
            outbox
                .status
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .exceptions += 1;
            return Ok(self.report_refusal(spec, events, Some(refusal)).await?);
        }
        self.report_refusal(spec, events, None).await?;
        self.watch_heartbeat(map)?;
        self.verify_setpoints(spec, events).await?;
        let mut changes = self
            .seen
            .diff(&spec.id, map, &self.sig, &self.image, self.first_chute);
        if let Some(text) = changes.impossible.take() {
            changes.events.push(Event::PlcFault {
                plc: spec.id.clone(),
                condition: PlcCondition::Values,
                fault: Some(text),
            });
        }
        for event in changes.events {
            let (inbound, journalled) = Inbound::with_receipt(event);
            events
                .send(inbound)
                .await
                .map_err(|_| LinkError::Shutdown)?;
            // A sort result is acknowledged only once it is durable.
            if journalled.await.is_err() {
                return Err(LinkError::Shutdown.into());
            }
        }
        self.acknowledge(spec, link, events, &mut refused).await?;
        for ch in [&mut outbox.diverts, &mut outbox.packml]
            .into_iter()
            .flatten()
        {
            written(
                &mut refused,
                ch.progress(link, &self.image, self.cycle).await,
            )?;
        }
        written(&mut refused, self.sleep_zones(link).await)?;
        self.publish_status(map, outbox, std::mem::take(&mut link.resent));
        Ok(self.report_writes(spec, events, refused).await?)
    }

    /// Reads every mapped range into the image. `Ok(Err(text))`: the PLC refused a read (the
    /// image is then partly old and must not be acted on).
    async fn poll(&mut self, link: &mut Link<'_>) -> Result<Result<(), String>, LinkError> {
        for &r in &self.plan {
            let read = match r.table {
                Table::Coil | Table::DiscreteInput => link.read_bits(r).await.map(|bits| {
                    self.image
                        .set_bits(r.table, r.start, &bits)
                        .expect("plan fits the image");
                }),
                Table::HoldingRegister | Table::InputRegister => {
                    link.read_words(r).await.map(|words| {
                        self.image
                            .set_words(r.table, r.start, &words)
                            .expect("plan fits the image");
                    })
                }
            };
            match read {
                Ok(()) => {}
                Err(RequestError::Link(e)) => return Err(e),
                Err(e @ RequestError::Exception { .. }) => return Ok(Err(e.to_string())),
            }
        }
        Ok(Ok(()))
    }

    /// Conveyors: lets idle zones sleep and wakes them from their upstream photo-eye.
    async fn sleep_zones(&mut self, link: &mut Link<'_>) -> Result<(), RequestError> {
        let Some(sleep) = &mut self.sleep else {
            return Ok(());
        };
        let Some(conveyor) = self.sig.conveyor() else {
            return Ok(());
        };
        let (run, eye) = (&conveyor.zone_run, &conveyor.zone_photo_eye);
        let entry = conveyor
            .entry_present
            .as_ref()
            .is_some_and(|s| self.image.get(s, 0) != 0);
        let eyes: Vec<bool> = (0..eye.count)
            .map(|z| self.image.get(eye, z) != 0)
            .collect();
        let now = self.started.elapsed().as_millis() as u64;
        let wanted = sleep.update(now, entry, &eyes);
        let current: Vec<bool> = (0..run.count)
            .map(|z| self.image.get(run, z) != 0)
            .collect();
        if wanted != current || wanted != self.zone_run {
            link.write_coils(run.address, &wanted).await?;
            self.zone_run = wanted;
        }
        Ok(())
    }

    fn publish_status(&self, map: &PlcMap, outbox: &Outbox, resent: u64) {
        let mut st = outbox.status.lock().unwrap_or_else(|p| p.into_inner());
        st.link = LinkState::Connected;
        st.requests_resent += resent;
        st.fresh_at = Some(std::time::SystemTime::now());
        st.polls += 1;
        st.state = map
            .packml
            .as_ref()
            .zip(self.sig.packml.as_ref())
            .and_then(|(p, s)| p.state_of(self.image.get(&s.state, 0) as u16));
        st.pending_commands = [&outbox.diverts, &outbox.packml]
            .into_iter()
            .flatten()
            .map(SeqChannel::len)
            .sum();
        if let Some(e) = self.sig.conveyor().and_then(|c| c.zone_energy.as_ref()) {
            st.zone_energy_kwh = (0..e.count)
                .map(|z| match self.image.value(e, z) {
                    Value::Number(n) => n,
                    _ => 0.0,
                })
                .collect();
        }
        st.zones_asleep = self.zone_run.iter().map(|r| !r).collect();
    }
}

async fn send(events: &mpsc::Sender<Inbound>, event: Event) -> Result<(), LinkError> {
    events
        .send(Inbound::new(event))
        .await
        .map_err(|_| LinkError::Shutdown)
}

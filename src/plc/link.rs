//! The connection to one PLC: connect, poll, write, watch the heartbeat, back off and reconnect.

use std::time::Duration;

use floorctl_protocol::image::Image;
use floorctl_protocol::map::{EquipmentKind, PlcMap, ReadRange, Signal, Table};
use tokio::sync::mpsc;
use tokio::time::{timeout, Instant};
use tokio_modbus::client::{tcp, Context, Reader, Writer};
use tokio_modbus::{ExceptionCode, Slave};
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use super::equipment::Seen;
use crate::config::PlcSpec;
use crate::controller::Inbound;
use crate::core::Event;
use crate::retry::{self, Backoff};

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
    /// Run or stop every zone (conveyor).
    RunZones(bool),
}

/// Why a session with the PLC ended.
#[derive(Debug, thiserror::Error)]
enum LinkError {
    #[error("connect failed: {0}")]
    Connect(std::io::Error),
    #[error("no answer within {0:?}")]
    Timeout(Duration),
    #[error("transport error: {0}")]
    Transport(tokio_modbus::Error),
    #[error("PLC refused {what} with exception {code:?}")]
    Exception {
        what: &'static str,
        code: ExceptionCode,
    },
    #[error("PLC heartbeat unchanged for {0} ms")]
    HeartbeatStale(u64),
    #[error("controller stopped")]
    Shutdown,
}

/// First wait before reconnecting.
const MIN_BACKOFF: Duration = Duration::from_millis(100);
/// Largest wait between reconnect attempts.
const MAX_BACKOFF: Duration = Duration::from_secs(5);
/// Cycles a divert may stay unacknowledged before it is written again.
const DIVERT_RETRY_CYCLES: u32 = 3;

/// Starts the task for one PLC. Events go to `events`; commands arrive on the returned sender.
pub fn spawn(
    spec: PlcSpec,
    events: mpsc::Sender<Inbound>,
    cancel: CancellationToken,
) -> (
    mpsc::UnboundedSender<PlcCommand>,
    tokio::task::JoinHandle<()>,
) {
    let (tx, rx) = mpsc::unbounded_channel();
    let span = tracing::info_span!("plc", id = %spec.id, addr = %spec.address);
    let handle = tokio::spawn(run(spec, events, rx, cancel).instrument(span));
    (tx, handle)
}

async fn run(
    spec: PlcSpec,
    events: mpsc::Sender<Inbound>,
    mut commands: mpsc::UnboundedReceiver<PlcCommand>,
    cancel: CancellationToken,
) {
    let mut backoff = Backoff::new(MIN_BACKOFF, MAX_BACKOFF, retry::seed(&spec.id));
    loop {
        let mut session = Session::new(&spec);
        let err = tokio::select! {
            () = cancel.cancelled() => return,
            r = session.serve(&spec, &events, &mut commands, &mut backoff) => match r {
                Ok(()) | Err(LinkError::Shutdown) => return,
                Err(e) => e,
            },
        };
        if session.announced {
            tracing::warn!(error = %err, "PLC link lost");
            let reason = Some(err.to_string());
            let down = Event::PlcLink {
                plc: spec.id.clone(),
                up: false,
                reason,
            };
            if events.send(Inbound::new(down)).await.is_err() {
                return;
            }
        } else {
            tracing::debug!(error = %err, "PLC not reachable");
        }
        tokio::select! {
            () = cancel.cancelled() => return,
            () = tokio::time::sleep(backoff.next_delay()) => {}
        }
    }
}

/// A divert written to the PLC and not yet acknowledged.
#[derive(Debug, Clone, Copy)]
struct PendingDivert {
    seq: u16,
    tote: u32,
    chute: u16,
    /// Poll cycle it was last written in.
    written_at: u32,
}

/// One connected session: the image read last, the handshake counters and the pending divert.
struct Session {
    image: Image,
    plan: Vec<ReadRange>,
    seen: Seen,
    heartbeat: u16,
    plc_heartbeat: (u32, Instant),
    divert_seq: u16,
    pending_divert: Option<PendingDivert>,
    /// Whether the core was told the link is up (and so must be told when it goes down).
    announced: bool,
}

impl Session {
    fn new(spec: &PlcSpec) -> Session {
        Session {
            image: Image::for_map(&spec.map),
            plan: spec.map.read_plan(),
            seen: Seen::default(),
            heartbeat: 0,
            plc_heartbeat: (0, Instant::now()),
            divert_seq: 0,
            pending_divert: None,
            announced: false,
        }
    }

    /// Connects and serves the PLC until the link fails (an error) or the command channel closes.
    async fn serve(
        &mut self,
        spec: &PlcSpec,
        events: &mpsc::Sender<Inbound>,
        commands: &mut mpsc::UnboundedReceiver<PlcCommand>,
        backoff: &mut Backoff,
    ) -> Result<(), LinkError> {
        let io_timeout = Duration::from_millis(spec.poll_interval_ms.max(250) * 4);
        let mut ctx = timeout(
            io_timeout,
            tcp::connect_slave(spec.address, Slave(spec.unit)),
        )
        .await
        .map_err(|_| LinkError::Timeout(io_timeout))?
        .map_err(LinkError::Connect)?;
        let map = &spec.map;
        let mut link = Link {
            ctx: &mut ctx,
            timeout: io_timeout,
        };
        self.poll(&mut link).await?;
        if map.kind == EquipmentKind::Sorter {
            // Continue the divert numbering from what the PLC holds, so no number is reused.
            self.divert_seq = self.image.get(sig(map, "divert_seq"), 0) as u16;
        }
        self.plc_heartbeat = (
            self.image.get(sig(map, &map.handshakes.heartbeat.plc), 0),
            Instant::now(),
        );
        tracing::info!("PLC link up");
        backoff.reset();
        events
            .send(Inbound::new(Event::PlcLink {
                plc: spec.id.clone(),
                up: true,
                reason: None,
            }))
            .await
            .map_err(|_| LinkError::Shutdown)?;
        self.announced = true;

        let mut tick = tokio::time::interval(Duration::from_millis(spec.poll_interval_ms));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut cycle: u32 = 0;
        loop {
            tokio::select! {
                cmd = commands.recv() => match cmd {
                    None => return Ok(()),
                    Some(PlcCommand::Divert { tote, chute }) => {
                        self.divert_seq = self.divert_seq.checked_add(1).unwrap_or(1);
                        self.pending_divert = Some(PendingDivert { seq: self.divert_seq, tote, chute, written_at: cycle });
                        self.write_divert(&mut link, map).await?;
                    }
                    Some(PlcCommand::RunZones(run)) => {
                        let s = sig(map, "zone_run");
                        link.write_coils(s.address, &vec![run; usize::from(s.count)]).await?;
                    }
                },
                _ = tick.tick() => {
                    cycle = cycle.wrapping_add(1);
                    self.heartbeat = self.heartbeat.checked_add(1).unwrap_or(1);
                    link.write_register(sig(map, &map.handshakes.heartbeat.controller).address, self.heartbeat).await?;
                    self.poll(&mut link).await?;
                    self.watch_heartbeat(map)?;
                    let changes = self.seen.diff(&spec.id, map, &self.image);
                    for event in changes.events {
                        let (inbound, journalled) = Inbound::with_receipt(event);
                        events.send(inbound).await.map_err(|_| LinkError::Shutdown)?;
                        // The sort result is acknowledged only once it is durable.
                        if journalled.await.is_err() {
                            return Err(LinkError::Shutdown);
                        }
                    }
                    if let Some(seq) = changes.confirm_to_ack {
                        link.write_register(sig(map, "confirm_ack_seq").address, seq).await?;
                    }
                    self.retry_divert(&mut link, map, cycle).await?;
                }
            }
        }
    }

    /// Clears the pending divert once the PLC has acknowledged it; writes it again, under the same
    /// sequence number, when it has gone unacknowledged for too many cycles.
    async fn retry_divert(
        &mut self,
        link: &mut Link<'_>,
        map: &PlcMap,
        cycle: u32,
    ) -> Result<(), LinkError> {
        let Some(p) = self.pending_divert.as_mut() else {
            return Ok(());
        };
        if self.image.get(sig(map, "divert_ack_seq"), 0) as u16 == p.seq {
            self.pending_divert = None;
            return Ok(());
        }
        if cycle.wrapping_sub(p.written_at) < DIVERT_RETRY_CYCLES {
            return Ok(());
        }
        tracing::warn!(seq = p.seq, "divert not acknowledged; writing it again");
        p.written_at = cycle;
        self.write_divert(link, map).await
    }

    /// Writes the pending divert: tote and chute first, the sequence number last.
    async fn write_divert(&mut self, link: &mut Link<'_>, map: &PlcMap) -> Result<(), LinkError> {
        let Some(PendingDivert {
            seq, tote, chute, ..
        }) = self.pending_divert
        else {
            return Ok(());
        };
        let t = sig(map, "divert_tote");
        link.write_registers(t.address, &Image::encode(t, tote))
            .await?;
        let c = sig(map, "divert_chute");
        link.write_registers(c.address, &Image::encode(c, u32::from(chute)))
            .await?;
        link.write_register(sig(map, "divert_seq").address, seq)
            .await
    }

    /// Reads every mapped range into the image.
    async fn poll(&mut self, link: &mut Link<'_>) -> Result<(), LinkError> {
        for &r in &self.plan {
            match r.table {
                Table::Coil | Table::DiscreteInput => {
                    let bits = link.read_bits(r).await?;
                    self.image
                        .set_bits(r.table, r.start, &bits)
                        .expect("plan fits the image");
                }
                Table::HoldingRegister | Table::InputRegister => {
                    let words = link.read_words(r).await?;
                    self.image
                        .set_words(r.table, r.start, &words)
                        .expect("plan fits the image");
                }
            }
        }
        Ok(())
    }

    fn watch_heartbeat(&mut self, map: &PlcMap) -> Result<(), LinkError> {
        let hb = &map.handshakes.heartbeat;
        let now = self.image.get(sig(map, &hb.plc), 0);
        if now != self.plc_heartbeat.0 {
            self.plc_heartbeat = (now, Instant::now());
            return Ok(());
        }
        let stale = self.plc_heartbeat.1.elapsed().as_millis() as u64;
        if stale > hb.stale_after_ms {
            return Err(LinkError::HeartbeatStale(stale));
        }
        Ok(())
    }
}

/// A signal of a validated map.
fn sig<'m>(map: &'m PlcMap, name: &str) -> &'m Signal {
    map.signal(name)
        .unwrap_or_else(|| panic!("validated {} map lacks `{name}`", map.kind))
}

/// Requests with a timeout; any timeout or transport error ends the session (the context is then
/// dropped and a fresh connection made, as a late reply would otherwise answer a later request).
struct Link<'a> {
    ctx: &'a mut Context,
    timeout: Duration,
}

/// Awaits a request within `limit`, keeping a PLC exception apart from a transport failure.
async fn timeout_call<T>(
    limit: Duration,
    what: &'static str,
    f: impl std::future::Future<Output = tokio_modbus::Result<T>>,
) -> Result<T, LinkError> {
    match timeout(limit, f).await {
        Err(_) => Err(LinkError::Timeout(limit)),
        Ok(Err(e)) => Err(LinkError::Transport(e)),
        Ok(Ok(Err(code))) => Err(LinkError::Exception { what, code }),
        Ok(Ok(Ok(v))) => Ok(v),
    }
}

fn short_read(what: String) -> LinkError {
    LinkError::Transport(tokio_modbus::Error::Transport(std::io::Error::other(what)))
}

impl Link<'_> {
    async fn read_bits(&mut self, r: ReadRange) -> Result<Vec<bool>, LinkError> {
        let ctx = &mut *self.ctx;
        let fut = async move {
            if r.table == Table::Coil {
                ctx.read_coils(r.start, r.count).await
            } else {
                ctx.read_discrete_inputs(r.start, r.count).await
            }
        };
        let mut bits = timeout_call(self.timeout, "read", fut).await?;
        if bits.len() < usize::from(r.count) {
            return Err(short_read(format!(
                "asked for {} bits, got {}",
                r.count,
                bits.len()
            )));
        }
        bits.truncate(usize::from(r.count));
        Ok(bits)
    }

    async fn read_words(&mut self, r: ReadRange) -> Result<Vec<u16>, LinkError> {
        let ctx = &mut *self.ctx;
        let fut = async move {
            if r.table == Table::HoldingRegister {
                ctx.read_holding_registers(r.start, r.count).await
            } else {
                ctx.read_input_registers(r.start, r.count).await
            }
        };
        let words = timeout_call(self.timeout, "read", fut).await?;
        if words.len() != usize::from(r.count) {
            return Err(short_read(format!(
                "asked for {} registers, got {}",
                r.count,
                words.len()
            )));
        }
        Ok(words)
    }

    async fn write_register(&mut self, addr: u16, value: u16) -> Result<(), LinkError> {
        timeout_call(
            self.timeout,
            "write",
            self.ctx.write_single_register(addr, value),
        )
        .await
    }

    async fn write_registers(&mut self, addr: u16, values: &[u16]) -> Result<(), LinkError> {
        timeout_call(
            self.timeout,
            "write",
            self.ctx.write_multiple_registers(addr, values),
        )
        .await
    }

    async fn write_coils(&mut self, addr: u16, values: &[bool]) -> Result<(), LinkError> {
        timeout_call(
            self.timeout,
            "write",
            self.ctx.write_multiple_coils(addr, values),
        )
        .await
    }
}

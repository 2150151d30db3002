//! The controller: one task owns the core, journals each event, then acts on its commands
//! through the PLC and scanner adapters.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use floorctl_protocol::order::{Order, Priority};
use floorctl_protocol::packml::Command as PackCommand;
use tokio::sync::{mpsc, oneshot, watch};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::config::{Broker, Config};
use crate::plc::{self, PlcCommand, PlcStatus, StatusBoard};
use crate::scanners::{self, Outgoing};
use crate::store::{Store, StoreError};
use floorctl_core::{Command, Core, Event, Millis, Move, Note, PickFace, Record, Summary};

/// What the core made of an event: `Err(reason)` when it refused it (a supervisor's command
/// not allowed in the machine's state, say). Either way the event is journalled.
pub type Outcome = Result<(), String>;

/// An event on its way to the core, with an optional receipt fired once it is journalled.
#[derive(Debug)]
pub struct Inbound {
    event: Event,
    journalled: Option<oneshot::Sender<Outcome>>,
}

impl Inbound {
    /// An event nobody waits on.
    pub fn new(event: Event) -> Inbound {
        Inbound {
            event,
            journalled: None,
        }
    }

    /// The event, and the receipt to fire once it is handled (for consumers other than the core).
    pub fn into_parts(self) -> (Event, Option<oneshot::Sender<Outcome>>) {
        (self.event, self.journalled)
    }

    /// An event and the receipt that fires once it is durable.
    pub fn with_receipt(event: Event) -> (Inbound, oneshot::Receiver<Outcome>) {
        let (tx, rx) = oneshot::channel();
        (
            Inbound {
                event,
                journalled: Some(tx),
            },
            rx,
        )
    }
}

/// The controller could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The database.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The embedded broker.
    #[error(transparent)]
    Broker(#[from] scanners::BrokerError),
}

/// A supervisor's command did not go out.
#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    /// Refused by the rules (PackML transitions, link down, unknown machine).
    #[error("{0}")]
    Refused(String),
    /// The controller is stopping.
    #[error("the controller is stopping")]
    Stopping,
}

/// A running controller. Its API is on [`Handle`], which it derefs to.
#[derive(Debug)]
pub struct Controller {
    handle: Handle,
    cancel: CancellationToken,
    tasks: Vec<JoinHandle<()>>,
}

/// Fired when the database refused a journal write because another instance owns the site now:
/// this one must stop at once.
pub type Fenced = CancellationToken;

/// What the dashboard and other callers use to talk to a running controller; cheap to clone.
#[derive(Debug, Clone)]
pub struct Handle {
    inbound: mpsc::Sender<Inbound>,
    summary: watch::Receiver<Summary>,
    plcs: StatusBoard,
    store: Store,
    fenced: Fenced,
}

impl std::ops::Deref for Controller {
    type Target = Handle;

    fn deref(&self) -> &Handle {
        &self.handle
    }
}

/// The time events are journalled with: the wall clock read once at start (never earlier than
/// the journal's last entry), then advanced by the monotonic clock. A wall-clock jump while the
/// controller runs (a wrong NTP step, an operator setting the clock) moves no release, timeout or
/// projection; the corrected wall clock is taken at the next start.
#[derive(Debug, Clone, Copy)]
struct Clock {
    anchor: Millis,
    since: std::time::Instant,
}

impl Clock {
    fn start(last_journalled: Millis) -> Clock {
        Clock {
            anchor: now_ms().max(last_journalled),
            since: std::time::Instant::now(),
        }
    }

    fn now(&self) -> Millis {
        self.anchor + self.since.elapsed().as_millis() as Millis
    }
}

/// Milliseconds since the Unix epoch.
fn now_ms() -> Millis {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as Millis)
}

impl Controller {
    /// Opens the store, rebuilds state from the journal, starts the adapters and the core task.
    pub async fn start(config: Config) -> Result<Controller, StartError> {
        let store = Store::connect(&config.database).await?;
        Controller::start_on(config, store).await
    }

    /// As [`Controller::start`], on a database already open (and, for a site of a network,
    /// fenced under the site's lease).
    pub async fn start_on(config: Config, store: Store) -> Result<Controller, StartError> {
        let (core, last_seq) = recover(&store, &config.layout).await?;
        let (host, port, credentials) = match &config.broker {
            Broker::Embedded { listen, handhelds } => {
                let login = scanners::start_embedded(*listen, handhelds.clone()).await?;
                (listen.ip().to_string(), listen.port(), Some(login))
            }
            Broker::External {
                host,
                port,
                credentials,
            } => (host.clone(), *port, credentials.clone()),
        };
        let cancel = CancellationToken::new();
        let (tx, rx) = mpsc::channel(1024);
        let (scanner_tx, mut tasks) = scanners::spawn(
            &config.site,
            &host,
            port,
            credentials,
            tx.clone(),
            cancel.clone(),
        );
        let mut plcs = BTreeMap::new();
        let board = StatusBoard::default();
        for spec in &config.plcs {
            let (cmd_tx, handle) =
                plc::spawn(spec.clone(), tx.clone(), board.clone(), cancel.clone());
            plcs.insert(spec.id.clone(), cmd_tx);
            tasks.push(handle);
        }
        let (summary_tx, summary) = watch::channel(core.summary());
        let fenced = Fenced::new();
        let shell = Shell {
            clock: Clock::start(core.last_event_at()),
            store: store.clone(),
            scanners: scanner_tx,
            plcs,
            fenced: fenced.clone(),
        };
        shell.act(core.resume());
        tasks.push(tokio::spawn(run_core(
            core,
            last_seq,
            shell,
            rx,
            summary_tx,
            cancel.clone(),
        )));
        Ok(Controller {
            handle: Handle {
                inbound: tx,
                summary,
                plcs: board,
                store,
                fenced,
            },
            cancel,
            tasks,
        })
    }

    /// A handle on the controller's API for another task.
    pub fn handle(&self) -> Handle {
        self.handle.clone()
    }

    /// Stops every task; an event being journalled is finished first. Gives up after `deadline`.
    pub async fn shutdown(self, deadline: Duration) {
        self.cancel.cancel();
        let all = async {
            for t in self.tasks {
                let _ = t.await;
            }
        };
        if tokio::time::timeout(deadline, all).await.is_err() {
            tracing::warn!("controller tasks did not stop within {deadline:?}");
        }
    }
}

impl Handle {
    /// Hands an order to the controller. Orders already known are ignored.
    pub async fn submit(&self, order: Order) -> bool {
        self.inbound
            .send(Inbound::new(Event::OrderReceived { order }))
            .await
            .is_ok()
    }

    /// Hands an order to the controller and waits until it is journalled; `false` when the
    /// controller stopped first.
    pub async fn submit_journalled(&self, order: Order) -> bool {
        self.journalled(Event::OrderReceived { order }).await
    }

    /// Fires when another instance has taken the site over and this one must stop.
    pub fn fenced(&self) -> &Fenced {
        &self.fenced
    }

    /// Installs the forward-area plan's pick faces (journalled); faces below their minimum are
    /// refilled from reserve.
    pub async fn set_pick_faces(&self, faces: Vec<PickFace>) -> bool {
        self.journalled(Event::PickFaces { faces }).await
    }

    /// Queues peak pre-positioning moves, handed to handhelds from `not_before` (ms since the
    /// epoch; the night before the peak).
    pub async fn preposition(&self, moves: Vec<Move>, not_before: Millis) -> bool {
        self.journalled(Event::Moves { moves, not_before }).await
    }

    /// Sets the units on hand at a location, as the stock system counts them.
    pub async fn stock(&self, sku: &str, location: &str, qty: u32) -> bool {
        self.journalled(Event::Stock {
            sku: sku.into(),
            location: location.into(),
            qty,
        })
        .await
    }

    /// The DC shipped transfer order `transfer` in `tote`: the tote is sorted to the inbound
    /// chute when it arrives and its units are put away to their face.
    pub async fn transfer_shipped(&self, transfer: u64, tote: u32, qty: Option<u32>) -> bool {
        self.journalled(Event::TransferShipped {
            transfer,
            tote,
            qty,
        })
        .await
    }

    /// Hands an event to the core and waits until it is journalled.
    async fn journalled(&self, event: Event) -> bool {
        let (inbound, outcome) = Inbound::with_receipt(event);
        self.inbound.send(inbound).await.is_ok() && outcome.await.is_ok()
    }

    /// Sends a PackML command to a machine on behalf of `by`, once the PackML rules allow it in
    /// the machine's current state; the command and its outcome are journalled either way.
    pub async fn equipment_command(
        &self,
        plc: &str,
        command: PackCommand,
        by: &str,
    ) -> Result<(), CommandError> {
        self.supervise(Event::EquipmentCommand {
            plc: plc.to_string(),
            command,
            by: by.to_string(),
        })
        .await
    }

    /// Acknowledges alarm `alarm` on behalf of `by`.
    pub async fn acknowledge(&self, alarm: u64, by: &str) -> Result<(), CommandError> {
        self.supervise(Event::AlarmAck {
            alarm,
            by: by.to_string(),
        })
        .await
    }

    /// Holds (no new trips start) or releases a cut-off's wave on behalf of `by`.
    pub async fn hold_wave(&self, cutoff: &str, held: bool, by: &str) -> Result<(), CommandError> {
        self.supervise(Event::WaveHold {
            cutoff: cutoff.to_string(),
            held,
            by: by.to_string(),
        })
        .await
    }

    /// Moves an order to another priority class on behalf of `by`.
    pub async fn set_priority(
        &self,
        order: &str,
        priority: Priority,
        by: &str,
    ) -> Result<(), CommandError> {
        self.supervise(Event::OrderPriority {
            order: order.to_string(),
            priority,
            by: by.to_string(),
        })
        .await
    }

    /// Records a cycle count: `qty` units of `sku` found at `location` by `by`.
    pub async fn counted(
        &self,
        sku: &str,
        location: &str,
        qty: u32,
        by: &str,
    ) -> Result<(), CommandError> {
        self.supervise(Event::Counted {
            sku: sku.to_string(),
            location: location.to_string(),
            qty,
            by: by.to_string(),
        })
        .await
    }

    /// Hands a supervisor's command to the core and waits until it is journalled; the core's
    /// refusal comes back as [`CommandError::Refused`].
    async fn supervise(&self, event: Event) -> Result<(), CommandError> {
        let (inbound, outcome) = Inbound::with_receipt(event);
        self.inbound
            .send(inbound)
            .await
            .map_err(|_| CommandError::Stopping)?;
        match outcome.await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(reason)) => Err(CommandError::Refused(reason)),
            Err(_) => Err(CommandError::Stopping),
        }
    }

    /// The database the controller journals in (accounts and the audit log live there too).
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The live status of every PLC link.
    pub fn plc_status(&self) -> BTreeMap<String, PlcStatus> {
        self.plcs.snapshot()
    }

    /// Progress, updated after every event.
    pub fn summary(&self) -> watch::Receiver<Summary> {
        self.summary.clone()
    }
}

/// Writes one of the core's notes to the log.
fn log_note(note: &Note) {
    match note {
        Note::EquipmentState { plc, state } => tracing::info!(%plc, %state, "equipment state"),
        Note::SupervisorCommand { plc, command, by } => {
            tracing::info!(%plc, %command, %by, "supervisor command")
        }
        Note::BackOrdered {
            order,
            sku,
            missing,
            scanner,
        } => tracing::info!(%order, %sku, missing, %scanner, "back-ordered"),
        Note::HandheldLost { scanner } => tracing::info!(
            %scanner,
            "handheld offline too long; its work goes to another picker"
        ),
    }
}

/// Where commands go.
struct Shell {
    clock: Clock,
    store: Store,
    scanners: mpsc::UnboundedSender<Outgoing>,
    plcs: BTreeMap<String, mpsc::UnboundedSender<PlcCommand>>,
    fenced: Fenced,
}

impl Shell {
    fn act(&self, commands: Vec<Command>) {
        for cmd in commands {
            match cmd {
                Command::Direct { scanner, direction } => {
                    metrics::counter!("floorctl_directions_total").increment(1);
                    let _ = self
                        .scanners
                        .send(Outgoing::Direction { scanner, direction });
                }
                Command::Reject { scanner, reply } => {
                    metrics::counter!("floorctl_handheld_rejects_total").increment(1);
                    tracing::info!(%scanner, reason = %reply.reason, "handheld message refused");
                    let _ = self.scanners.send(Outgoing::Error { scanner, reply });
                }
                Command::Divert {
                    sorter,
                    tote,
                    chute,
                } => {
                    metrics::counter!("floorctl_diverts_total", "sorter" => sorter.clone())
                        .increment(1);
                    self.to_plc(&sorter, PlcCommand::Divert { tote, chute })
                }
                Command::Packml { plc, command } => self.to_plc(&plc, PlcCommand::Packml(command)),
                Command::Refuse { subject, reason } => {
                    tracing::info!(%subject, %reason, "supervisor command refused")
                }
                Command::Alarm { source, text } => tracing::warn!(%source, alarm = %text, "alarm"),
                Command::AlarmCleared { source, text } => {
                    tracing::info!(%source, alarm = %text, "alarm cleared")
                }
                Command::Transfer { sku, qty, to } => {
                    tracing::info!(%sku, qty, face = %to, "transfer asked of the distribution centre")
                }
                Command::Record(_) => {}
                Command::Note(note) => log_note(&note),
            }
        }
    }

    fn to_plc(&self, id: &str, cmd: PlcCommand) {
        match self.plcs.get(id) {
            Some(tx) => {
                let _ = tx.send(cmd);
            }
            None => tracing::error!(plc = id, ?cmd, "command for a PLC that is not configured"),
        }
    }
}

/// Rebuilds the core from the latest snapshot and the journal after it (the whole journal
/// when there is no snapshot, or when it cannot be read); returns it with the last journal
/// position.
pub async fn recover(
    store: &Store,
    layout: &floorctl_core::Layout,
) -> Result<(Core, i64), StoreError> {
    let started = std::time::Instant::now();
    let (mut core, from) = match store.latest_snapshot().await? {
        Some((seq, state)) => match Core::restore(layout.clone(), &state) {
            Ok(core) => (core, seq),
            Err(err) => {
                tracing::warn!(%err, seq, "snapshot unusable; replaying the whole journal");
                (Core::new(layout.clone()), 0)
            }
        },
        None => (Core::new(layout.clone()), 0),
    };
    let tail = store.journal_after(from).await?;
    let last = tail.last().map_or(from, |e| e.seq);
    for entry in &tail {
        core.handle(&entry.event, entry.at);
    }
    tracing::info!(
        snapshot = from,
        events = tail.len(),
        took = ?started.elapsed(),
        "state rebuilt from the snapshot and the journal"
    );
    Ok((core, last))
}

/// Journal entries between two snapshots.
pub const SNAPSHOT_EVERY: i64 = 20_000;

/// Saves the core's state as of journal entry `seq`; a failure is logged (the journal still
/// holds everything).
async fn save_snapshot(store: &Store, seq: i64, state: &[u8]) {
    if let Err(err) = store.save_snapshot(seq, now_ms(), state).await {
        tracing::warn!(%err, seq, "cannot save a snapshot; the next start replays more journal");
    }
}

async fn run_core(
    mut core: Core,
    mut last_seq: i64,
    shell: Shell,
    mut rx: mpsc::Receiver<Inbound>,
    summary: watch::Sender<Summary>,
    cancel: CancellationToken,
) {
    // Every second: handhelds offline past the timeout are each an event, and so is the clock
    // when the core has something due (an order's release, a cut-off projection).
    let mut check = tokio::time::interval(Duration::from_secs(1));
    check.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let timeout = core.handheld_timeout_ms();
    let mut snapshot_seq = last_seq;
    // What every handheld is doing is rebuilt at most this often (it walks every handheld).
    let mut handhelds = std::sync::Arc::new(core.handhelds());
    let mut handhelds_at = std::time::Instant::now();
    loop {
        let mut batch = tokio::select! {
            () = cancel.cancelled() => break,
            m = rx.recv() => match m { Some(m) => vec![m], None => break },
            _ = check.tick() => {
                let now = shell.clock.now();
                let mut due: Vec<Inbound> = core
                    .lost_handhelds(now, timeout)
                    .into_iter()
                    .map(|scanner| Inbound::new(Event::HandheldLost { scanner }))
                    .collect();
                if core.next_tick().is_some_and(|t| t <= now) {
                    due.push(Inbound::new(Event::Tick));
                }
                due
            }
        };
        // Events that arrived meanwhile share one commit (one sync to disk).
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(m) => batch.push(m),
                Err(_) => break,
            }
        }
        if !batch.is_empty() {
            match process(&mut core, &shell, batch, &cancel).await {
                Some(seq) => last_seq = seq,
                // The core holds events the journal does not: no snapshot of it.
                None => {
                    shell.store.close().await;
                    return;
                }
            }
        }
        if last_seq - snapshot_seq >= SNAPSHOT_EVERY {
            // Serialised here, written meanwhile: the core goes on handling events.
            let state = core.snapshot();
            let store = shell.store.clone();
            tokio::spawn(async move { save_snapshot(&store, last_seq, &state).await });
            snapshot_seq = last_seq;
        }
        let mut s = core.summary();
        if handhelds_at.elapsed() >= HANDHELDS_EVERY {
            handhelds = std::sync::Arc::new(core.handhelds());
            handhelds_at = std::time::Instant::now();
        }
        s.handhelds = handhelds.clone();
        summary.send_replace(s);
    }
    if last_seq > snapshot_seq {
        save_snapshot(&shell.store, last_seq, &core.snapshot()).await;
    }
    shell.store.close().await;
}

/// How often the handhelds' activity in the summary is brought up to date.
const HANDHELDS_EVERY: Duration = Duration::from_millis(250);

/// Most events journalled in one commit.
const MAX_BATCH: usize = 256;

/// Journals a batch of events in one commit, then acts on what the core made of each, in order.
/// Returns the last journal position, or `None` when the controller is stopping before the
/// batch could be journalled.
async fn process(
    core: &mut Core,
    shell: &Shell,
    batch: Vec<Inbound>,
    cancel: &CancellationToken,
) -> Option<i64> {
    let now = shell.clock.now();
    let handled: Vec<(Inbound, Vec<Command>)> = batch
        .into_iter()
        .map(|i| {
            let commands = core.handle(&i.event, now);
            (i, commands)
        })
        .collect();
    let records: Vec<Vec<&Record>> = handled
        .iter()
        .map(|(_, commands)| {
            commands
                .iter()
                .filter_map(|c| match c {
                    Command::Record(r) => Some(r),
                    _ => None,
                })
                .collect()
        })
        .collect();
    let entries: Vec<(Millis, &Event, &[&Record])> = handled
        .iter()
        .zip(&records)
        .map(|((i, _), r)| (now, &i.event, r.as_slice()))
        .collect();
    for (_, event, _) in &entries {
        metrics::counter!("floorctl_events_total", "kind" => event.kind()).increment(1);
    }
    let started = std::time::Instant::now();
    // Nothing leaves the controller before the events are durable: retry until they are.
    let mut wait = Duration::from_millis(50);
    let seq = loop {
        let err = match shell.store.append_all(&entries).await {
            Ok(seq) => break seq,
            Err(err @ StoreError::Fenced { .. }) => {
                // Another instance owns the site: nothing of this batch is acted on.
                tracing::error!(%err, "stopping");
                shell.fenced.cancel();
                return None;
            }
            Err(err) => err,
        };
        tracing::error!(%err, retry_in = ?wait, "cannot journal events; holding until the database answers");
        tokio::select! {
            () = cancel.cancelled() => return None,
            () = tokio::time::sleep(wait) => {}
        }
        wait = (wait * 2).min(Duration::from_secs(5));
    };
    metrics::histogram!("floorctl_journal_commit_seconds").record(started.elapsed().as_secs_f64());
    drop(entries);
    drop(records);
    for (inbound, commands) in handled {
        if let Some(receipt) = inbound.journalled {
            let refusal = commands.iter().find_map(|c| match c {
                Command::Refuse { reason, .. } => Some(reason.clone()),
                _ => None,
            });
            let _ = receipt.send(refusal.map_or(Ok(()), Err));
        }
        shell.act(commands);
    }
    Some(seq)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_never_runs_back_behind_the_journal_and_only_moves_forward() {
        // The journal was written while the wall clock was an hour ahead.
        let ahead = now_ms() + 3_600_000;
        let clock = Clock::start(ahead);
        let mut last = clock.now();
        assert!(last >= ahead, "no event is journalled before the last one");
        for _ in 0..1000 {
            let t = clock.now();
            assert!(t >= last);
            last = t;
        }
    }
}

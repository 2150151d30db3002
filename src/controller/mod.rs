//! The controller: one task owns the core, journals each event, then acts on its commands
//! through the PLC and scanner adapters.

mod core_task;

use std::collections::BTreeMap;
use std::time::Duration;

use floorctl_protocol::order::{Order, Priority};
use floorctl_protocol::packml::Command as PackCommand;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

pub use crate::bus::{Inbound, Outcome};
use crate::config::{Broker, Config};
use crate::link_state::LinkState;
use crate::plc::{self, PlcStatus, StatusBoard};
use crate::scanners;
use crate::store::{InstanceError, InstanceLock, Store, StoreError};
use crate::telemetry::names;
pub use core_task::{recover, SNAPSHOT_EVERY};
use core_task::{run_core, Clock, Shell};
use floorctl_core::{Event, HandheldCommand, Millis, Move, PickFace, Summary};

/// The controller could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The database.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The embedded broker.
    #[error(transparent)]
    Broker(#[from] scanners::BrokerError),
    /// Another controller runs on the same database.
    #[error(transparent)]
    InUse(#[from] InstanceError),
    /// A PLC's map lacks what its link needs.
    #[error("plc `{plc}`: {source}")]
    Map {
        /// The PLC.
        plc: String,
        /// What is missing.
        #[source]
        source: plc::SignalError,
    },
}

/// A supervisor's command did not go out.
#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    /// Refused by the rules (PackML transitions, link down, unknown machine).
    #[error("{}", .0.reason)]
    Refused(floorctl_core::Refusal),
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
    /// Held while the controller runs on a SQLite database.
    _lock: Option<InstanceLock>,
}

/// Fired when the database refused a journal write because another instance owns the site now:
/// this one must stop at once.
pub type Fenced = CancellationToken;

/// Fired when the core task ended other than by a stop (a panic, a defect): the controller
/// cannot go on and must stop, loudly.
pub type Failed = CancellationToken;

/// What the dashboard and other callers use to talk to a running controller; cheap to clone.
#[derive(Debug, Clone)]
pub struct Handle {
    inbound: mpsc::Sender<Inbound>,
    queries: mpsc::Sender<core_task::Query>,
    summary: watch::Receiver<Summary>,
    plcs: StatusBoard,
    broker: watch::Receiver<LinkState>,
    /// The embedded broker's door for MQTT over WebSocket; none with an external broker.
    door: Option<scanners::Door>,
    store: Store,
    fenced: Fenced,
    failed: Failed,
}

impl std::ops::Deref for Controller {
    type Target = Handle;

    fn deref(&self) -> &Handle {
        &self.handle
    }
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
        // Before anything is read or driven: a second controller on the file would drive the
        // same PLCs and journal the same events twice.
        let lock = match config.database.file() {
            Some(file) => Some(InstanceLock::take(file)?),
            None => None,
        };
        let (core, last_seq) = recover(&store, &config.layout).await?;
        let (tx, rx) = mpsc::channel(1024);
        let (queries, queries_rx) = mpsc::channel(64);
        let (host, port, credentials, door) = match &config.broker {
            Broker::Embedded { listen, handhelds } => {
                // Its gateway raises this controller's alarm when logins are guessed at.
                let alarms = Some(tx.clone());
                let embedded =
                    scanners::start_embedded_with_alarms(*listen, handhelds.clone(), alarms)
                        .await?;
                (
                    listen.ip().to_string(),
                    listen.port(),
                    Some(embedded.controller),
                    Some(embedded.door),
                )
            }
            Broker::External {
                host,
                port,
                credentials,
            } => (host.clone(), *port, credentials.clone(), None),
        };
        let cancel = CancellationToken::new();
        let (broadcast_tx, broadcasts) = mpsc::channel(64);
        let (scanner_tx, broker, mut tasks) = scanners::spawn(
            &config.site,
            &host,
            port,
            credentials,
            tx.clone(),
            broadcasts,
            cancel.clone(),
        );
        let mut plcs = BTreeMap::new();
        let board = StatusBoard::default();
        for spec in &config.plcs {
            let (cmd_tx, handle) =
                match plc::spawn(spec.clone(), tx.clone(), board.clone(), cancel.clone()) {
                    Ok(spawned) => spawned,
                    Err(source) => {
                        cancel.cancel();
                        return Err(StartError::Map {
                            plc: spec.id.clone(),
                            source,
                        });
                    }
                };
            plcs.insert(spec.id.clone(), cmd_tx);
            tasks.push(handle);
        }
        let (summary_tx, summary) = watch::channel(core.summary());
        let (published, published_rx) = watch::channel(0);
        tasks.extend(crate::outbox::spawn(
            store.clone(),
            config.site.clone(),
            tx.clone(),
            published_rx,
            broadcast_tx,
            cancel.clone(),
        ));
        let fenced = Fenced::new();
        let shell = Shell {
            clock: Clock::start(core.last_event_at()),
            store: store.clone(),
            scanners: scanner_tx,
            plcs,
            fenced: fenced.clone(),
            published,
        };
        shell.act(core.resume());
        let core_task = tokio::spawn(run_core(
            core,
            last_seq,
            shell,
            rx,
            queries_rx,
            summary_tx,
            cancel.clone(),
        ));
        let failed = Failed::new();
        tasks.push(tokio::spawn(supervise(
            core_task,
            cancel.clone(),
            fenced.clone(),
            failed.clone(),
        )));
        Ok(Controller {
            handle: Handle {
                inbound: tx,
                queries,
                summary,
                plcs: board,
                broker,
                door,
                store,
                fenced,
                failed,
            },
            cancel,
            tasks,
            _lock: lock,
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

/// Waits for the core task to end. Ended by a stop or a fencing, it is the end asked for;
/// ended otherwise (a panic: a defect), the controller cannot go on: the failure is logged, the
/// adapters are stopped and `failed` fires, so the process exits non-zero rather than serve a
/// frozen floor.
async fn supervise(
    core_task: JoinHandle<()>,
    cancel: CancellationToken,
    fenced: Fenced,
    failed: Failed,
) {
    let ended = core_task.await;
    if cancel.is_cancelled() || fenced.is_cancelled() {
        return;
    }
    match ended {
        Ok(()) => tracing::error!("the controller's core stopped unexpectedly; stopping"),
        Err(err) => {
            let why = match err.try_into_panic() {
                Ok(panic) => panic
                    .downcast_ref::<&str>()
                    .map(|s| s.to_string())
                    .or_else(|| panic.downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "a panic".into()),
                Err(err) => err.to_string(),
            };
            tracing::error!(%why, "the controller's core failed; stopping");
        }
    }
    metrics::counter!(names::CORE_FAILURES_TOTAL).increment(1);
    cancel.cancel();
    failed.cancel();
}

impl Handle {
    /// Fires when the controller's core failed and the controller stopped: the process must
    /// exit non-zero (a supervisor such as systemd starts it again).
    pub fn failed(&self) -> &Failed {
        &self.failed
    }

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

    /// Raises the alarm for logins refused again and again (journalled); `false` when the
    /// controller stopped first.
    pub async fn logins_refused(&self, source: &str, failures: u32) -> bool {
        self.journalled(Event::LoginsRefused {
            source: source.to_string(),
            failures,
        })
        .await
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

    /// Shelves alarm `alarm` for `minutes` with `reason`, on behalf of `by`.
    pub async fn shelve(
        &self,
        alarm: u64,
        reason: &str,
        minutes: u32,
        by: &str,
    ) -> Result<(), CommandError> {
        self.supervise(Event::AlarmShelve {
            alarm,
            reason: reason.to_string(),
            minutes,
            by: by.to_string(),
        })
        .await
    }

    /// Acknowledges every alarm waiting for it (or every one of `source`) on behalf of `by`.
    pub async fn acknowledge_all(
        &self,
        source: Option<&str>,
        by: &str,
    ) -> Result<(), CommandError> {
        self.supervise(Event::AlarmAckAll {
            source: source.map(str::to_string),
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

    /// A supervisor's command on a handheld (hand its work back, reset its counter) on behalf
    /// of `by`.
    pub async fn handheld_command(
        &self,
        scanner: &str,
        command: HandheldCommand,
        by: &str,
    ) -> Result<(), CommandError> {
        self.supervise(Event::HandheldCommand {
            scanner: scanner.to_string(),
            command,
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

    /// Withdraws an order no picker has taken yet, on behalf of `by`; refused with where the
    /// order is when it is further on.
    pub async fn cancel_order(&self, order: &str, by: &str) -> Result<(), CommandError> {
        self.supervise(Event::OrderCancelled {
            order: order.to_string(),
            by: by.to_string(),
        })
        .await
    }

    /// Which cut-off an order of `lines` lines and `priority` placed now would make, from the
    /// core's projection; `None` when the controller is stopping.
    pub async fn promise(&self, lines: u32, priority: Priority) -> Option<floorctl_core::Promise> {
        let (reply, answer) = tokio::sync::oneshot::channel();
        let query = core_task::Query::Promise {
            lines,
            priority,
            reply,
        };
        self.queries.send(query).await.ok()?;
        answer.await.ok()
    }

    /// Receipts and adjustments from the stock system on behalf of `by`: taken whole, or refused
    /// whole with the reason when one would leave a location holding less than nothing.
    pub async fn move_stock(
        &self,
        movements: Vec<floorctl_core::StockMovement>,
        by: &str,
    ) -> Result<(), CommandError> {
        self.supervise(Event::StockMoved {
            movements,
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

    /// The embedded broker's door for MQTT over WebSocket (the handheld app); none with an
    /// external broker, whose own WebSocket listener the app uses.
    pub fn mqtt_door(&self) -> Option<&scanners::Door> {
        self.door.as_ref()
    }

    /// Where the controller's connection to the MQTT broker stands.
    pub fn broker(&self) -> watch::Receiver<LinkState> {
        self.broker.clone()
    }

    /// Progress, updated after every event.
    pub fn summary(&self) -> watch::Receiver<Summary> {
        self.summary.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_core_that_panics_stops_the_adapters_and_fails_the_controller() {
        let (cancel, fenced, failed) = (CancellationToken::new(), Fenced::new(), Failed::new());
        let core_task = tokio::spawn(async { panic!("an order that does not exist") });
        supervise(core_task, cancel.clone(), fenced, failed.clone()).await;
        assert!(failed.is_cancelled(), "the controller failed");
        assert!(cancel.is_cancelled(), "the adapters were told to stop");
    }

    #[tokio::test]
    async fn a_core_that_ends_unasked_fails_the_controller() {
        let (cancel, fenced, failed) = (CancellationToken::new(), Fenced::new(), Failed::new());
        supervise(
            tokio::spawn(async {}),
            cancel.clone(),
            fenced,
            failed.clone(),
        )
        .await;
        assert!(failed.is_cancelled());
    }

    #[tokio::test]
    async fn a_core_stopped_or_fenced_is_no_failure() {
        for fence in [false, true] {
            let (cancel, fenced, failed) = (CancellationToken::new(), Fenced::new(), Failed::new());
            if fence {
                fenced.cancel();
            } else {
                cancel.cancel();
            }
            supervise(tokio::spawn(async {}), cancel, fenced, failed.clone()).await;
            assert!(!failed.is_cancelled(), "fenced: {fence}");
        }
    }
}

//! The task that owns the core: it journals each batch of events, then acts on what the core
//! made of them through the adapters; and the recovery that rebuilds the core at start.

use crate::wall_clock::now_ms;
use std::collections::BTreeMap;
use std::time::Duration;

use tokio::sync::{mpsc, watch};
use tokio_util::sync::CancellationToken;

use super::Fenced;
use crate::bus::{offer, Inbound};
use crate::plc::PlcCommand;
use crate::scanners::Outgoing;
use crate::store::{Store, StoreError};
use crate::telemetry::names;
use floorctl_core::{Command, Core, Event, Millis, Note, Published, Reaction, Record, Summary};

/// The time events are journalled with: the wall clock read once at start (never earlier than
/// the journal's last entry), then advanced by the monotonic clock. A wall-clock jump while the
/// controller runs (a wrong NTP step, an operator setting the clock) moves no release, timeout or
/// projection; the corrected wall clock is taken at the next start.
#[derive(Debug, Clone, Copy)]
pub(super) struct Clock {
    anchor: Millis,
    since: std::time::Instant,
}

impl Clock {
    pub(super) fn start(last_journalled: Millis) -> Clock {
        Clock {
            anchor: now_ms().max(last_journalled),
            since: std::time::Instant::now(),
        }
    }

    fn now(&self) -> Millis {
        self.anchor + self.since.elapsed().as_millis() as Millis
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
        Note::OrderLate { order, cutoff, due } => {
            tracing::info!(%order, %cutoff, due = %floorctl_core::utc_text(*due), "order late")
        }
        Note::HandheldLost { scanner } => tracing::info!(
            %scanner,
            "handheld offline too long; its work goes to another picker"
        ),
    }
}

/// Where commands go.
pub(super) struct Shell {
    pub(super) clock: Clock,
    pub(super) store: Store,
    pub(super) scanners: mpsc::Sender<Outgoing>,
    pub(super) plcs: BTreeMap<String, mpsc::Sender<PlcCommand>>,
    pub(super) fenced: Fenced,
    /// Bumped when events were published (the webhook deliveries wake on it).
    pub(super) published: watch::Sender<u64>,
}

impl Shell {
    /// Carries out what the core made of an event (its records are already journalled).
    pub(super) fn act(&self, reaction: Reaction) {
        if let Some(refusal) = &reaction.refusal {
            tracing::info!(subject = %refusal.subject, reason = %refusal.reason, "supervisor command refused");
        }
        for note in &reaction.notes {
            log_note(note);
        }
        for cmd in reaction.commands {
            match cmd {
                Command::Direct { scanner, direction } => {
                    metrics::counter!(names::DIRECTIONS_TOTAL).increment(1);
                    offer(
                        &self.scanners,
                        "handhelds",
                        Outgoing::Direction { scanner, direction },
                    );
                }
                Command::Reject { scanner, reply } => {
                    metrics::counter!(names::HANDHELD_REJECTS_TOTAL).increment(1);
                    tracing::info!(%scanner, reason = %reply.reason, "handheld message refused");
                    offer(
                        &self.scanners,
                        "handhelds",
                        Outgoing::Error { scanner, reply },
                    );
                }
                Command::Divert {
                    sorter,
                    tote,
                    chute,
                } => {
                    metrics::counter!(names::DIVERTS_TOTAL, "sorter" => sorter.clone())
                        .increment(1);
                    self.to_plc(&sorter, PlcCommand::Divert { tote, chute })
                }
                Command::Packml { plc, command } => self.to_plc(&plc, PlcCommand::Packml(command)),
                Command::Alarm { source, text, .. } => {
                    tracing::warn!(%source, alarm = %text, "alarm")
                }
                Command::AlarmCleared { source, text, .. } => {
                    tracing::info!(%source, alarm = %text, "alarm cleared")
                }
                Command::Transfer { sku, qty, to } => {
                    tracing::info!(%sku, qty, face = %to, "transfer asked of the distribution centre")
                }
            }
        }
    }

    fn to_plc(&self, id: &str, cmd: PlcCommand) {
        match self.plcs.get(id) {
            Some(tx) => {
                offer(tx, id, cmd);
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
        core.replay(&entry.event, entry.at);
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

pub(super) async fn run_core(
    mut core: Core,
    mut last_seq: i64,
    shell: Shell,
    mut rx: mpsc::Receiver<Inbound>,
    mut queries: mpsc::Receiver<Query>,
    summary: watch::Sender<Summary>,
    cancel: CancellationToken,
) {
    // Every second: handhelds offline past the timeout are each an event, and so is the clock
    // when the core has something due (an order's release, a cut-off projection).
    let mut check = tokio::time::interval(Duration::from_secs(1));
    check.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let timeout = core.handheld_timeout_ms();
    let mut snapshot_seq = last_seq;
    loop {
        let mut batch = tokio::select! {
            () = cancel.cancelled() => break,
            m = rx.recv() => match m { Some(m) => vec![m], None => break },
            Some(q) = queries.recv() => {
                answer(&core, q, shell.clock.now());
                continue;
            }
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
            match process(&mut core, &shell, batch, last_seq, &cancel).await {
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
        summary.send_replace(core.summary());
    }
    if last_seq > snapshot_seq {
        save_snapshot(&shell.store, last_seq, &core.snapshot()).await;
    }
    shell.store.close().await;
}

/// A question for the core that changes nothing (so nothing is journalled).
#[derive(Debug)]
pub(super) enum Query {
    /// Which cut-off an order of `lines` lines and `priority` placed now would make.
    Promise {
        lines: u32,
        priority: floorctl_protocol::order::Priority,
        reply: tokio::sync::oneshot::Sender<floorctl_core::Promise>,
    },
}

fn answer(core: &Core, query: Query, now: Millis) {
    match query {
        Query::Promise {
            lines,
            priority,
            reply,
        } => {
            let _ = reply.send(core.promise(lines, priority, now));
        }
    }
}

/// Most events journalled in one commit.
const MAX_BATCH: usize = 256;

/// Journals a batch of events in one commit, then acts on what the core made of each, in order.
/// Returns the last journal position, or `None` when the controller is stopping before the
/// batch could be journalled.
async fn process(
    core: &mut Core,
    shell: &Shell,
    batch: Vec<Inbound>,
    last_seq: i64,
    cancel: &CancellationToken,
) -> Option<i64> {
    let now = shell.clock.now();
    let mut handled: Vec<(Inbound, Reaction)> = Vec::with_capacity(batch.len());
    for i in batch {
        // What the core already has (an order handed again at a restart) changes nothing and
        // is not journalled again; whoever waits on it is told it is in.
        if !core.is_news(i.event()) {
            if let (_, Some(receipt)) = i.into_parts() {
                let _ = receipt.send(Ok(()));
            }
            continue;
        }
        let reaction = core.handle(i.event(), now);
        handled.push((i, reaction));
    }
    if handled.is_empty() {
        return Some(last_seq);
    }
    let entries: Vec<(Millis, &Event, &[Record], &[Published])> = handled
        .iter()
        .map(|(i, r)| (now, i.event(), r.records.as_slice(), r.published.as_slice()))
        .collect();
    for (_, event, _, _) in &entries {
        metrics::counter!(names::EVENTS_TOTAL, "kind" => event.kind()).increment(1);
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
    metrics::histogram!(names::JOURNAL_COMMIT_SECONDS).record(started.elapsed().as_secs_f64());
    if entries.iter().any(|(_, _, _, p)| !p.is_empty()) {
        shell.published.send_modify(|n| *n += 1);
    }
    drop(entries);
    for (inbound, reaction) in handled {
        if let (_, Some(receipt)) = inbound.into_parts() {
            let refusal = reaction.refusal.clone();
            let _ = receipt.send(refusal.map_or(Ok(()), Err));
        }
        shell.act(reaction);
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

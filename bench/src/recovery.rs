//! Recovery time as the journal grows: a day of picking and sorting journalled event by event
//! (a virtual picker follows every direction, the sorter confirms every divert), snapshots on the
//! controller's schedule, then the time a start takes from snapshot + tail beside a replay of the
//! whole journal.

use std::collections::VecDeque;
use std::path::PathBuf;
use std::time::Instant;

use floorctl_protocol::order::{Order, OrderLine, Priority};
use floorctl_protocol::scanner::{ScanWhat, Task, Up, UpBody, SCHEMA_VERSION};
use serde_json::json;

use floorctl::controller::{recover, SNAPSHOT_EVERY};
use floorctl::store::{Database, Store};
use floorctl_core::{Command, Core, Event, Millis, Published, Reaction, Record, SortOutcome};

/// What to journal and where.
#[derive(Debug, Clone, clap::Args)]
pub struct RecoveryBenchOptions {
    /// Events to journal.
    #[arg(long, default_value_t = 1_000_000)]
    pub events: usize,
    /// Database (default: a SQLite file in a new temporary folder); a postgres:// URL works too.
    #[arg(long)]
    pub database: Option<String>,
    /// Where the figures go.
    #[arg(long, default_value = "target/bench/recovery.json")]
    pub out: PathBuf,
}

/// Events journalled in one transaction while the journal is built.
const BATCH: usize = 5_000;

/// A day's events, made by following what the core directs.
struct Day {
    core: Core,
    now: Millis,
    msg: u64,
    orders: u64,
    seq: u16,
    next: VecDeque<Event>,
}

impl Day {
    fn new() -> Day {
        let mut day = Day {
            core: Core::new(floorctl::demo::layout()),
            now: 1_780_000_000_000,
            msg: 0,
            orders: 0,
            seq: 0,
            next: VecDeque::new(),
        };
        let login = day.up(UpBody::Login {
            picker: "p1".into(),
            session: None,
        });
        day.next.push_back(login);
        day
    }

    fn up(&mut self, body: UpBody) -> Event {
        self.msg += 1;
        Event::Scanner {
            scanner: "h1".into(),
            msg: Up {
                v: SCHEMA_VERSION,
                id: format!("m{}", self.msg),
                seq: None,
                body,
            },
        }
    }

    fn order(&mut self) -> Event {
        self.orders += 1;
        let n = self.orders;
        let cutoff = if n.is_multiple_of(2) {
            "11:00"
        } else {
            "17:00"
        };
        Event::OrderReceived {
            order: Order {
                id: format!("B{n:07}"),
                cutoff: cutoff.into(),
                priority: Priority::Normal,
                destination: None,
                lines: (0..2)
                    .map(|l| OrderLine {
                        sku: format!("S{}", (n + l) % 500),
                        qty: 1 + (n % 3) as u32,
                        location: format!("A-{:03}", (n * 7 + l) % 400),
                    })
                    .collect(),
            },
        }
    }

    /// The next event, what the core made of it, and the follow-ups it calls for.
    fn step(&mut self) -> (Millis, Event, Reaction) {
        let event = match self.next.pop_front() {
            Some(e) => e,
            None => self.order(),
        };
        self.now += 50;
        let reaction = self.core.handle(&event, self.now);
        for c in &reaction.commands {
            match c {
                Command::Direct { direction, .. } => self.follow(&direction.task),
                Command::Divert {
                    sorter,
                    tote,
                    chute,
                } => {
                    self.seq = self.seq.wrapping_add(1);
                    self.next.push_back(Event::SortConfirmed {
                        sorter: sorter.clone(),
                        tote: *tote,
                        chute: *chute,
                        outcome: SortOutcome::Sorted,
                        seq: self.seq,
                    });
                }
                _ => {}
            }
        }
        (self.now, event, reaction)
    }

    fn follow(&mut self, task: &Task) {
        match task {
            Task::Pick {
                order,
                line,
                location,
                sku,
                qty,
                tote,
                ..
            } => {
                let scans = [(ScanWhat::Location, location), (ScanWhat::Sku, sku)];
                for (what, code) in scans {
                    let code = code.clone();
                    let e = self.up(UpBody::Scan { what, code });
                    self.next.push_back(e);
                }
                let e = self.up(UpBody::Pick {
                    order: order.clone(),
                    line: *line,
                    qty: *qty,
                    tote: *tote,
                });
                self.next.push_back(e);
            }
            Task::CloseTote { tote } => {
                let e = self.up(UpBody::ToteClosed { tote: *tote });
                self.next.push_back(e);
            }
            Task::ToteComplete { tote, conveyor } => {
                self.seq = self.seq.wrapping_add(1);
                self.next.push_back(Event::ToteEntered {
                    conveyor: conveyor.clone(),
                    tote: *tote,
                    seq: self.seq,
                });
                self.next.push_back(Event::ToteInducted {
                    sorter: "sorter1".into(),
                    tote: *tote,
                    seq: self.seq,
                });
            }
            _ => {}
        }
    }
}

/// Journals the day, then measures recovery.
pub async fn run(o: &RecoveryBenchOptions) -> anyhow::Result<()> {
    let dir = std::env::temp_dir().join(format!("floorctl-recovery-{}", std::process::id()));
    let database = match &o.database {
        Some(text) => Database::parse(text, std::path::Path::new("")),
        None => {
            std::fs::create_dir_all(&dir)?;
            Database::Sqlite(dir.join("recovery.db"))
        }
    };
    println!("journalling {} events in {database}", o.events);
    let store = Store::connect(&database).await?;
    let mut day = Day::new();
    let started = Instant::now();
    let mut written = 0usize;
    let mut last_snapshot = 0i64;
    let mut snapshot_ms = Vec::new();
    let mut snapshot_bytes = 0usize;
    while written < o.events {
        let n = BATCH.min(o.events - written);
        let steps: Vec<(Millis, Event, Reaction)> = (0..n).map(|_| day.step()).collect();
        let batch: Vec<(Millis, &Event, &[Record], &[Published])> = steps
            .iter()
            .map(|(at, e, r)| (*at, e, r.records.as_slice(), r.published.as_slice()))
            .collect();
        let seq = store.append_all(&batch).await?;
        written += n;
        // None after the last batch: the start then replays a whole interval's tail, the most
        // it can meet.
        if seq - last_snapshot >= SNAPSHOT_EVERY && written < o.events {
            let t = Instant::now();
            let state = day.core.snapshot();
            store.save_snapshot(seq, day.now, &state).await?;
            snapshot_ms.push(t.elapsed().as_secs_f64() * 1e3);
            snapshot_bytes = state.len();
            last_snapshot = seq;
        }
    }
    let journalling_s = started.elapsed().as_secs_f64();
    let s = day.core.summary();
    println!(
        "journalled {written} events in {journalling_s:.1} s ({:.0} events/s): {} orders, {} sorted, {} lines picked",
        written as f64 / journalling_s,
        s.orders,
        s.sorted,
        s.lines_picked
    );
    store.close().await;

    // A start as the controller makes it: latest snapshot, then the journal after it.
    let store = Store::connect(&database).await?;
    let t = Instant::now();
    let (recovered, last) = recover(&store, &floorctl::demo::layout()).await?;
    let recovery_s = t.elapsed().as_secs_f64();
    anyhow::ensure!(
        recovered.snapshot() == day.core.snapshot(),
        "the recovered state differs from the state that was journalled"
    );
    // The same without snapshots: every event replayed.
    let t = Instant::now();
    let journal = store.journal().await?;
    let read_s = t.elapsed().as_secs_f64();
    let mut replayed = Core::new(floorctl::demo::layout());
    for e in &journal {
        replayed.handle(&e.event, e.at);
    }
    let replay_s = t.elapsed().as_secs_f64();
    anyhow::ensure!(
        replayed.snapshot() == day.core.snapshot(),
        "the replayed state differs from the state that was journalled"
    );
    store.close().await;
    let mean_snapshot_ms = snapshot_ms.iter().sum::<f64>() / snapshot_ms.len().max(1) as f64;
    println!(
        "snapshots: {} taken, last {:.1} MB, {mean_snapshot_ms:.0} ms each on average (serialise and write)",
        snapshot_ms.len(),
        snapshot_bytes as f64 / 1e6
    );
    println!(
        "start from snapshot + tail ({} events after it): {recovery_s:.2} s",
        last - last_snapshot
    );
    println!(
        "replay of the whole journal ({} events): {replay_s:.2} s (reading it {read_s:.2} s)",
        journal.len()
    );
    let figures = json!({
        "events": written,
        "database": database.to_string().split("://").next().unwrap_or("sqlite"),
        "orders": s.orders,
        "journalling_s": journalling_s,
        "snapshots": snapshot_ms.len(),
        "snapshot_bytes": snapshot_bytes,
        "snapshot_mean_ms": mean_snapshot_ms,
        "snapshot_every": SNAPSHOT_EVERY,
        "tail_events": last - last_snapshot,
        "recovery_s": recovery_s,
        "full_replay_s": replay_s,
        "full_replay_read_s": read_s,
    });
    super::write_json(&o.out, &figures)?;
    println!("written to {}", o.out.display());
    if o.database.is_none() {
        let _ = std::fs::remove_dir_all(&dir);
    }
    Ok(())
}

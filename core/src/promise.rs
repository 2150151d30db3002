//! The promise to a shop: which cut-off an order placed now would make at this site, from the
//! same projection the at-risk alarm uses (the open orders ahead of it in the pickers' queue,
//! at the current pick rate).

use floorctl_protocol::order::Priority;
use serde::Serialize;

use super::{Core, Millis};

/// How an order placed now would fare under one cut-off.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Outlook {
    /// The cut-off.
    pub cutoff: String,
    /// When its totes must be in their lane (none: an untimed cut-off).
    pub due: Option<Millis>,
    /// When the order would be in its lane (none: nobody is picking).
    pub projected: Option<Millis>,
    /// Whether it would be in its lane by the due time.
    pub on_time: bool,
}

/// The answer to "if an order of N lines came in now?".
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Promise {
    /// The cut-off the order would be given (the first still open for ordering), and how it
    /// would fare.
    pub given: Option<Outlook>,
    /// The earliest-due cut-off it would make, if any does.
    pub makes: Option<Outlook>,
    /// The pick rate the projection uses, lines an hour.
    pub lines_per_hour: u64,
}

impl Core {
    /// Which cut-off an order of `lines` lines and `priority`, placed at `now`, would make.
    pub fn promise(&self, lines: u32, priority: Priority, now: Millis) -> Promise {
        let now = now.max(self.now);
        let rate = self.pick_rate(now);
        let open = self.open_orders(now);
        let outlook = |i: usize| {
            let c = &self.layout.cutoffs[i];
            let due = self.due_of(i, now);
            let key = (priority, due.unwrap_or(Millis::MAX), i, self.arrivals);
            let start = match due {
                Some(_) => self.release_at(due, now).max(now),
                None => now,
            };
            let mut busy_until = now as f64;
            for o in open.iter().filter(|o| o.key < key) {
                self.finish(&mut busy_until, rate, o.start, o.left);
            }
            let projected = self.finish(&mut busy_until, rate, start, u64::from(lines));
            let on_time = match (due, projected) {
                (None, _) => true,
                (Some(d), Some(p)) => p <= d,
                (Some(_), None) => false,
            };
            Outlook {
                cutoff: c.name.clone(),
                due,
                projected,
                on_time,
            }
        };
        let given = self.cutoff_by_time(now).and_then(|name| {
            let i = self.layout.cutoffs.iter().position(|c| c.name == name)?;
            Some(outlook(i))
        });
        let mut all: Vec<Outlook> = (0..self.layout.cutoffs.len()).map(outlook).collect();
        all.sort_by_key(|o| o.due.unwrap_or(Millis::MAX));
        Promise {
            given,
            makes: all.into_iter().find(|o| o.on_time),
            lines_per_hour: (rate * 3_600_000.0).round() as u64,
        }
    }
}

//! Failed logins counted by key (an account, a handheld id, a peer address) with a growing
//! wait: after a few failures each further attempt of that key waits longer, and while it waits
//! even the right password is refused, so guessing is slow whatever the guesser does.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Keys remembered at most; past it, those idle longest are forgotten first.
const MAX_KEYS: usize = 10_000;

/// Failures counted per key, and the wait they impose.
#[derive(Debug)]
pub struct Throttle {
    failures: Mutex<HashMap<String, Failures>>,
    /// Failures allowed before any wait.
    free: u32,
    /// The first wait; each failure after it doubles it.
    base: Duration,
    /// The longest wait.
    max: Duration,
}

#[derive(Debug, Clone, Copy)]
struct Failures {
    count: u32,
    last: Instant,
}

/// What a failure did to its key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Failed {
    /// Failures of the key in a row.
    pub count: u32,
    /// Whether this failure is the one that started the key's waits (worth an alarm).
    pub locked_now: bool,
}

impl Throttle {
    /// `free` failures in a row before the first wait of `base`, doubling up to `max`.
    pub fn new(free: u32, base: Duration, max: Duration) -> Throttle {
        Throttle {
            failures: Mutex::new(HashMap::new()),
            free,
            base,
            max,
        }
    }

    fn wait_after(&self, count: u32) -> Duration {
        if count <= self.free {
            return Duration::ZERO;
        }
        let doublings = (count - self.free - 1).min(20);
        (self.base * 2u32.pow(doublings)).min(self.max)
    }

    /// How long `key` must still wait at `now` before it may try again; `None`: it may now.
    pub fn wait(&self, key: &str, now: Instant) -> Option<Duration> {
        let all = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        let f = all.get(key)?;
        let until = f.last + self.wait_after(f.count);
        (until > now).then(|| until - now)
    }

    /// Counts a failure of `key` at `now`.
    pub fn failed(&self, key: &str, now: Instant) -> Failed {
        let mut all = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        if all.len() >= MAX_KEYS && !all.contains_key(key) {
            // Forget keys whose wait is long over, else the idlest half.
            let horizon = self.max * 2;
            all.retain(|_, f| now.saturating_duration_since(f.last) < horizon);
            if all.len() >= MAX_KEYS {
                let mut lasts: Vec<Instant> = all.values().map(|f| f.last).collect();
                lasts.sort_unstable();
                let cut = lasts[lasts.len() / 2];
                all.retain(|_, f| f.last > cut);
            }
        }
        let f = all.entry(key.to_string()).or_insert(Failures {
            count: 0,
            last: now,
        });
        // A key quiet for twice the longest wait starts again from nothing.
        if now.saturating_duration_since(f.last) >= self.max * 2 {
            f.count = 0;
        }
        f.count = f.count.saturating_add(1);
        f.last = now;
        Failed {
            count: f.count,
            locked_now: f.count == self.free + 1,
        }
    }

    /// Forgets `key`'s failures (it logged in).
    pub fn succeeded(&self, key: &str) {
        let mut all = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        all.remove(key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn after_the_free_failures_each_wait_doubles_up_to_the_most() {
        let t = Throttle::new(3, Duration::from_secs(1), Duration::from_secs(5));
        let start = Instant::now();
        for n in 1..=3 {
            assert!(!t.failed("sue", start).locked_now);
            assert_eq!(t.wait("sue", start), None, "failure {n} is free");
        }
        let f = t.failed("sue", start);
        assert!(f.locked_now && f.count == 4);
        assert_eq!(t.wait("sue", start), Some(Duration::from_secs(1)));
        assert_eq!(t.wait("vic", start), None, "another key is not held up");
        let later = start + Duration::from_secs(1);
        assert_eq!(t.wait("sue", later), None);
        t.failed("sue", later);
        assert_eq!(t.wait("sue", later), Some(Duration::from_secs(2)));
        for _ in 0..10 {
            t.failed("sue", later);
        }
        assert_eq!(t.wait("sue", later), Some(Duration::from_secs(5)));
        t.succeeded("sue");
        assert_eq!(t.wait("sue", later), None);
    }

    #[test]
    fn a_key_quiet_long_enough_starts_again_from_nothing() {
        let t = Throttle::new(1, Duration::from_secs(1), Duration::from_secs(4));
        let start = Instant::now();
        t.failed("h1", start);
        t.failed("h1", start);
        let f = t.failed("h1", start + Duration::from_secs(8));
        assert_eq!(f.count, 1);
    }
}

//! Token buckets by key: each key (a handheld, an API token) may act at a sustained rate with
//! a burst after a quiet spell; past it, how long until it may act again.

use std::collections::HashMap;
use std::time::{Duration, Instant};

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

/// One bucket per key, forgotten once full again when too many keys are tracked.
#[derive(Debug)]
pub struct Buckets {
    rate_per_s: f64,
    burst: f64,
    max_keys: usize,
    buckets: HashMap<String, Bucket>,
}

impl Buckets {
    /// `rate_per_s` sustained, `burst` at once, at most `max_keys` keys tracked.
    pub fn new(rate_per_s: f64, burst: f64, max_keys: usize) -> Buckets {
        Buckets {
            rate_per_s,
            burst,
            max_keys,
            buckets: HashMap::new(),
        }
    }

    /// Takes one token of `key` at `now`; `Err(wait)` when there is none, with how long until
    /// the next one.
    pub fn take(&mut self, key: &str, now: Instant) -> Result<(), Duration> {
        if self.buckets.len() >= self.max_keys && !self.buckets.contains_key(key) {
            // Keys whose bucket has filled up again lose nothing by being forgotten.
            let full = Duration::from_secs_f64(self.burst / self.rate_per_s);
            self.buckets
                .retain(|_, b| now.saturating_duration_since(b.at) < full);
        }
        let b = self.buckets.entry(key.to_string()).or_insert(Bucket {
            tokens: self.burst,
            at: now,
        });
        let elapsed = now.saturating_duration_since(b.at).as_secs_f64();
        b.tokens = (b.tokens + elapsed * self.rate_per_s).min(self.burst);
        b.at = now;
        if b.tokens >= 1.0 {
            b.tokens -= 1.0;
            Ok(())
        } else {
            Err(Duration::from_secs_f64((1.0 - b.tokens) / self.rate_per_s))
        }
    }

    /// Keys tracked now.
    pub fn tracked(&self) -> usize {
        self.buckets.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_gets_its_burst_then_its_rate_and_is_told_how_long_to_wait() {
        let mut b = Buckets::new(10.0, 5.0, 100);
        let t = Instant::now();
        for _ in 0..5 {
            assert_eq!(b.take("a", t), Ok(()));
        }
        let wait = b.take("a", t).unwrap_err();
        assert!(
            wait > Duration::from_millis(90) && wait <= Duration::from_millis(100),
            "{wait:?}"
        );
        assert_eq!(b.take("b", t), Ok(()), "another key is untouched");
        assert_eq!(b.take("a", t + Duration::from_millis(100)), Ok(()));
    }

    #[test]
    fn past_the_most_keys_those_full_again_are_forgotten() {
        let mut b = Buckets::new(10.0, 5.0, 2);
        let t = Instant::now();
        b.take("a", t).unwrap();
        b.take("b", t).unwrap();
        b.take("c", t + Duration::from_secs(1)).unwrap();
        assert_eq!(b.tracked(), 1);
    }
}

//! Each handheld's share of the controller: a token bucket per handheld id. A handheld sending
//! faster than any picker can (a stuck key, a broken app, an attacker) has the excess dropped
//! before it is decoded, journalled or answered, and is logged once a second with a count.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use crate::rate::Buckets;

/// Messages a second a handheld may send, sustained.
pub(super) const RATE_PER_S: f64 = 20.0;
/// Messages a handheld may send at once after a quiet spell.
pub(super) const BURST: f64 = 40.0;
/// Handhelds tracked at most; past it, the idlest are forgotten.
const MAX_TRACKED: usize = 10_000;

/// Dropped messages of a handheld not yet reported.
#[derive(Debug, Default)]
struct Drops {
    count: u64,
    /// When drops were last reported; none yet: the first is reported at once.
    reported: Option<Instant>,
}

/// The buckets of every handheld heard from.
#[derive(Debug)]
pub(super) struct Floods {
    buckets: Buckets,
    drops: HashMap<String, Drops>,
}

impl Default for Floods {
    fn default() -> Floods {
        Floods {
            buckets: Buckets::new(RATE_PER_S, BURST, MAX_TRACKED),
            drops: HashMap::new(),
        }
    }
}

/// What to do with one message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Verdict {
    /// Within the handheld's share: handle it.
    Pass,
    /// Over it: drop it.
    Drop,
    /// Over it: drop it, and say how many were dropped since the last report.
    DropAndReport(u64),
}

impl Floods {
    /// The verdict on a message from `scanner` at `now`.
    pub(super) fn check(&mut self, scanner: &str, now: Instant) -> Verdict {
        if self.buckets.take(scanner, now).is_ok() {
            return Verdict::Pass;
        }
        if self.drops.len() >= MAX_TRACKED && !self.drops.contains_key(scanner) {
            self.drops.retain(|_, d| d.count > 0);
        }
        let d = self.drops.entry(scanner.to_string()).or_default();
        d.count += 1;
        if d.reported
            .is_none_or(|at| now.saturating_duration_since(at) >= Duration::from_secs(1))
        {
            d.reported = Some(now);
            return Verdict::DropAndReport(std::mem::take(&mut d.count));
        }
        Verdict::Drop
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_flood_is_cut_to_the_rate_and_reported_once_a_second_by_count() {
        let mut f = Floods::default();
        let start = Instant::now();
        let mut passed = 0;
        let mut reports = Vec::new();
        // 4,000 messages in two seconds.
        for n in 0..4_000u32 {
            let at = start + Duration::from_micros(u64::from(n) * 500);
            match f.check("h8", at) {
                Verdict::Pass => passed += 1,
                Verdict::Drop => {}
                Verdict::DropAndReport(k) => reports.push(k),
            }
        }
        assert!((40..=90).contains(&passed), "{passed} passed");
        assert!(reports.len() <= 3, "{reports:?}");
        assert_eq!(
            f.check("h1", start),
            Verdict::Pass,
            "another handheld is untouched"
        );
    }

    #[test]
    fn a_picker_scanning_quickly_is_never_cut() {
        let mut f = Floods::default();
        let start = Instant::now();
        for n in 0..600u64 {
            // Five messages a second for two minutes, in bursts of three.
            let at = start + Duration::from_millis(n / 3 * 600);
            assert_eq!(f.check("h1", at), Verdict::Pass, "message {n}");
        }
    }
}

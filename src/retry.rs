//! Reconnect delays: doubling from a floor to a ceiling, each with random jitter so that many
//! clients cut off together do not come back together.

use std::time::Duration;

use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

/// A doubling backoff with ±20% jitter.
#[derive(Debug, Clone)]
pub struct Backoff {
    min: Duration,
    max: Duration,
    next: Duration,
    rng: SmallRng,
}

impl Backoff {
    /// Starts at `min`, doubles up to `max`. `seed` varies the jitter between clients.
    pub fn new(min: Duration, max: Duration, seed: u64) -> Backoff {
        Backoff {
            min,
            max,
            next: min,
            rng: SmallRng::seed_from_u64(seed),
        }
    }

    /// The delay before the next attempt; the one after will be twice as long, up to the ceiling.
    pub fn next_delay(&mut self) -> Duration {
        let base = self.next;
        self.next = (self.next * 2).min(self.max);
        base.mul_f64(self.rng.gen_range(0.8..1.2))
    }

    /// Back to the floor, after a success.
    pub fn reset(&mut self) {
        self.next = self.min;
    }
}

/// A jitter seed that differs between clients and processes.
pub fn seed(name: &str) -> u64 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    name.bytes().fold(
        u64::from(nanos) ^ u64::from(std::process::id()) << 32,
        |h, b| h.rotate_left(5) ^ u64::from(b),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_double_up_to_the_ceiling_with_bounded_jitter_and_reset() {
        let mut b = Backoff::new(Duration::from_millis(100), Duration::from_secs(1), 7);
        let delays: Vec<u128> = (0..6).map(|_| b.next_delay().as_millis()).collect();
        for (d, base) in delays.iter().zip([100u128, 200, 400, 800, 1000, 1000]) {
            assert!(*d >= base * 8 / 10 && *d <= base * 12 / 10, "{delays:?}");
        }
        b.reset();
        assert!(b.next_delay() <= Duration::from_millis(120));
    }

    #[test]
    fn jitter_spreads_clients_apart() {
        let mut a = Backoff::new(Duration::from_secs(1), Duration::from_secs(5), 1);
        let mut b = Backoff::new(Duration::from_secs(1), Duration::from_secs(5), 2);
        assert_ne!(a.next_delay(), b.next_delay());
    }
}

//! Conveyor zones that sleep when idle and wake when their upstream photo-eye sees a tote.

/// Run permissives of a conveyor's zones.
#[derive(Debug, Clone)]
pub(super) struct ZoneSleep {
    after_ms: u64,
    /// Per zone: when it last had, or was about to get, a tote.
    busy_at: Vec<u64>,
}

impl ZoneSleep {
    /// Zones start awake; `after_ms` 0 keeps them awake.
    pub(super) fn new(zones: usize, after_ms: u64, now: u64) -> ZoneSleep {
        ZoneSleep {
            after_ms,
            busy_at: vec![now; zones],
        }
    }

    /// The run permissive of each zone. A zone is busy while its own photo-eye or the one
    /// upstream of it (the entry's, for the first zone) is blocked; a zone not busy for
    /// `after_ms` sleeps. The sleep time must exceed the time a tote takes to cross a zone.
    pub(super) fn update(&mut self, now: u64, entry: bool, eyes: &[bool]) -> Vec<bool> {
        for (z, busy_at) in self.busy_at.iter_mut().enumerate() {
            let upstream = if z == 0 { entry } else { eyes[z - 1] };
            if upstream || eyes.get(z).copied().unwrap_or(false) {
                *busy_at = now;
            }
        }
        self.busy_at
            .iter()
            .map(|b| self.after_ms == 0 || now.saturating_sub(*b) < self.after_ms)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn idle_zones_sleep_and_the_upstream_eye_wakes_them_in_turn() {
        let mut s = ZoneSleep::new(3, 1000, 0);
        assert_eq!(s.update(500, false, &[false; 3]), vec![true; 3]);
        assert_eq!(
            s.update(1000, false, &[false; 3]),
            vec![false; 3],
            "all asleep"
        );
        assert_eq!(
            s.update(1100, true, &[false; 3]),
            vec![true, false, false],
            "a tote at the entry wakes zone 0 only"
        );
        assert_eq!(
            s.update(1500, false, &[true, false, false]),
            vec![true, true, false],
            "zone 0's eye wakes zone 1"
        );
        assert_eq!(
            s.update(2400, false, &[false, false, false]),
            vec![true, true, false]
        );
        assert_eq!(
            s.update(2600, false, &[false, false, false]),
            vec![false, false, false]
        );
    }

    #[test]
    fn zero_keeps_every_zone_awake() {
        let mut s = ZoneSleep::new(2, 0, 0);
        assert_eq!(s.update(1_000_000, false, &[false; 2]), vec![true; 2]);
    }
}

//! The wall clock, where the shell needs it (journal times, audit rows, signatures).

use floorctl_core::Millis;

/// Milliseconds since the Unix epoch (0 if the clock is set before it).
pub fn now_ms() -> Millis {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as Millis)
}

//! Benchmarks that print figures and write them as JSON under `target/bench/`, and the
//! fixtures the tests build their floors from.

mod capacity;
mod farm;
pub mod fixtures;
pub mod intake;
pub mod load;
pub mod network;
pub mod orders;
pub mod plc;
pub mod recovery;
pub mod routing;
pub mod scanners;
pub mod slotting;

use std::path::Path;

/// CPU time (user and system) from a `/proc/…/stat` file: the process's or a thread's.
pub(crate) fn cpu_time(stat_file: &str) -> std::time::Duration {
    // Fields 14 and 15, counted from 1 before the command name: user and system time in clock
    // ticks (100 Hz).
    let stat = std::fs::read_to_string(stat_file).unwrap_or_default();
    let after = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<&str> = after.split_whitespace().collect();
    let field = |n: usize| {
        f.get(n - 3)
            .and_then(|x| x.parse::<u64>().ok())
            .unwrap_or(0)
    };
    std::time::Duration::from_millis((field(14) + field(15)) * 10)
}

/// Writes `value` as pretty JSON to `path`, creating its folder.
pub fn write_json(path: &Path, value: &serde_json::Value) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(path, serde_json::to_string_pretty(value)? + "\n")
}

/// The p-th percentile (0 to 100) of sorted values.
pub fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = (p / 100.0 * (sorted.len() - 1) as f64).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_pick_the_ranked_value() {
        let v: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(percentile(&v, 50.0), 51.0);
        assert_eq!(percentile(&v, 99.0), 99.0);
        assert_eq!(percentile(&v, 100.0), 100.0);
        assert!(percentile(&[], 50.0).is_nan());
    }
}

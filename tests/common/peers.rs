//! Peers the tests run against (PostgreSQL, Mosquitto, tools), from environment variables.

use floorctl::store::Database;

/// A new schema of its own on the test PostgreSQL server (`FLOORCTL_TEST_POSTGRES`), or `None`
/// (skipped, saying why) when none is given outside CI.
pub async fn postgres(prefix: &str) -> Option<Database> {
    let url = peer("FLOORCTL_TEST_POSTGRES", "PostgreSQL (a postgres:// URL)")?;
    Some(floorctl::store::fresh_schema(&url, prefix).await.unwrap())
}

/// The path or address of a peer tool from `var`. Unset: the test is skipped with a printed
/// reason, unless `CI` is set, where a missing peer is a failure.
pub fn peer(var: &str, what: &str) -> Option<String> {
    match std::env::var(var) {
        Ok(v) if !v.is_empty() => Some(v),
        _ if std::env::var_os("CI").is_some() => {
            panic!("{var} is not set: CI must provide {what} (see .ci/run)")
        }
        _ => {
            // Written to the process's stderr directly, past the test harness's capture, so the
            // reason shows in a passing run.
            use std::io::Write;
            let _ = writeln!(
                std::io::stderr(),
                "skipped: set {var} to run this test against {what}"
            );
            None
        }
    }
}

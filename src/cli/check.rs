//! `floorctl check-map` and `floorctl check-config`: every problem of the files, listed.

use std::fmt::Display;
use std::path::{Path, PathBuf};

use floorctl::config::Config;
use floorctl_protocol::map::PlcMap;

/// Arguments of `floorctl check-map`.
#[derive(Debug, clap::Args)]
pub(super) struct CheckMapArgs {
    /// Map files.
    #[arg(required = true)]
    files: Vec<PathBuf>,
}

/// Arguments of `floorctl check-config`.
#[derive(Debug, clap::Args)]
pub(super) struct CheckConfigArgs {
    /// Site files.
    #[arg(required = true)]
    files: Vec<PathBuf>,
}

/// Loads every file, printing a line for each that is good and its problems for each that is
/// not; fails when any is not.
fn check<T, E: Display>(
    files: &[PathBuf],
    what: &str,
    load: impl Fn(&Path) -> Result<T, E>,
    describe: impl Fn(&T) -> String,
) -> anyhow::Result<()> {
    let mut failed = 0;
    for f in files {
        match load(f) {
            Ok(t) => println!("{}: ok ({})", f.display(), describe(&t)),
            Err(err) => {
                failed += 1;
                eprintln!("{err}");
            }
        }
    }
    anyhow::ensure!(
        failed == 0,
        "{failed} of {} {what} have problems",
        files.len()
    );
    Ok(())
}

pub(super) fn maps(a: &CheckMapArgs) -> anyhow::Result<()> {
    check(&a.files, "map(s)", PlcMap::load, |map| {
        format!("{} {}, {} signals", map.kind, map.model, map.signals.len())
    })
}

pub(super) fn configs(a: &CheckConfigArgs) -> anyhow::Result<()> {
    check(&a.files, "site file(s)", Config::load, |c| {
        let network = c
            .network
            .as_ref()
            .map(|n| format!(", network {}", n.schema));
        format!(
            "site {}, {} PLC(s), {}{}",
            c.site,
            c.plcs.len(),
            c.database,
            network.unwrap_or_default()
        )
    })
}

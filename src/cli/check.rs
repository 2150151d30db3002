//! `floorctl check-map` and `floorctl check-config`: every problem of the files, listed.

use std::path::PathBuf;

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

pub(super) fn maps(a: &CheckMapArgs) -> anyhow::Result<()> {
    let failed = a
        .files
        .iter()
        .filter(|f| match PlcMap::load(f) {
            Ok(map) => {
                println!(
                    "{}: ok ({} {}, {} signals)",
                    f.display(),
                    map.kind,
                    map.model,
                    map.signals.len()
                );
                false
            }
            Err(err) => {
                eprintln!("{err}");
                true
            }
        })
        .count();
    anyhow::ensure!(
        failed == 0,
        "{failed} of {} map(s) have problems",
        a.files.len()
    );
    Ok(())
}

pub(super) fn configs(a: &CheckConfigArgs) -> anyhow::Result<()> {
    let failed = a
        .files
        .iter()
        .filter(|f| match Config::load(f) {
            Ok(c) => {
                println!(
                    "{}: ok (site {}, {} PLC(s), {}{})",
                    f.display(),
                    c.site,
                    c.plcs.len(),
                    c.database,
                    c.network
                        .as_ref()
                        .map(|n| format!(", network {}", n.schema))
                        .unwrap_or_default()
                );
                false
            }
            Err(err) => {
                eprintln!("{err}");
                true
            }
        })
        .count();
    anyhow::ensure!(
        failed == 0,
        "{failed} of {} site file(s) have problems",
        a.files.len()
    );
    Ok(())
}

//! `floorctl passwd`: a handheld's password.

use std::path::PathBuf;

/// Arguments of `floorctl passwd`.
#[derive(Debug, clap::Args)]
pub(super) struct PasswdArgs {
    /// Password file (created when missing).
    file: PathBuf,
    /// Handheld id (its MQTT user name).
    user: String,
    /// PBKDF2 iterations.
    #[arg(long, default_value_t = floorctl::scanners::passwd::ITERATIONS)]
    iterations: u32,
}

pub(super) fn run(a: &PasswdArgs) -> anyhow::Result<()> {
    let password = super::read_line()?;
    floorctl::scanners::passwd::set(&a.file, &a.user, &password, a.iterations)
        .map_err(anyhow::Error::msg)?;
    println!("{}: password set in {}", a.user, a.file.display());
    Ok(())
}

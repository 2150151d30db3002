//! What the tests and benchmarks build their floors from; never part of the product.

use std::net::SocketAddr;
use std::path::PathBuf;

/// The demo layout's lanes and cut-offs (see `floorctl::demo::layout`) as site-file sections.
pub const LANE_SECTIONS: &str = r#"[lanes]
PM = [1, 2, 3]
AM = [4, 5, 6]

[[cutoff]]
name = "11:00"
lane = "PM"

[[cutoff]]
name = "17:00"
lane = "AM"
"#;

/// The shipped PLC maps of this checkout.
pub fn maps_dir() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../plc-maps"))
}

/// A site file's `[[plc]]` sections for a simulated floor whose conveyor and sorter PLCs are at
/// these addresses, with the maps shipped in this checkout.
pub fn plc_sections(conveyor: SocketAddr, sorter: SocketAddr) -> String {
    let maps = maps_dir();
    let maps = maps.display();
    format!(
        r#"[[plc]]
id = "cv1"
address = "{conveyor}"
map = "{maps}/conveyor-cv4.toml"

[[plc]]
id = "sorter1"
address = "{sorter}"
map = "{maps}/sorter-ts8.toml"
"#
    )
}

/// A free TCP port on 127.0.0.1, or `preferred` when it is free. The port is released before
/// the caller binds it: only for a program started later that must be told its address.
pub fn free_addr(preferred: SocketAddr) -> std::io::Result<SocketAddr> {
    match std::net::TcpListener::bind(preferred) {
        Ok(l) => l.local_addr(),
        Err(_) => std::net::TcpListener::bind("127.0.0.1:0")?.local_addr(),
    }
}

/// The `floorctl` program beside this one (both built by cargo into the same folder).
pub fn floorctl_beside_this_program() -> anyhow::Result<PathBuf> {
    let me = std::env::current_exe()?;
    let floorctl = me.with_file_name("floorctl");
    anyhow::ensure!(
        floorctl.is_file(),
        "{} is missing: build it first (cargo build --release --bin floorctl) or give --floorctl",
        floorctl.display()
    );
    Ok(floorctl)
}

/// Drops schema `name` and everything in it from the PostgreSQL database at `url`.
pub async fn drop_schema(url: &str, name: &str) -> anyhow::Result<()> {
    use sqlx::Connection as _;
    let mut c = sqlx::PgConnection::connect(url).await?;
    sqlx::query(&format!("DROP SCHEMA IF EXISTS \"{name}\" CASCADE"))
        .execute(&mut c)
        .await?;
    c.close().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_site_file_sections_give_the_demo_layout() {
        let any: SocketAddr = "127.0.0.1:1".parse().unwrap();
        let text = format!(
            "site = \"s\"\ndatabase = \"x.db\"\nexception_chute = 8\n[mqtt]\nallow_anonymous = true\n{}{}",
            plc_sections(any, any),
            LANE_SECTIONS
        );
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("site.toml"), text).unwrap();
        let config = floorctl::config::Config::load(&dir.path().join("site.toml")).unwrap();
        let want = floorctl::demo::layout();
        assert_eq!(config.layout.lanes, want.lanes);
        let names = |l: &floorctl_core::Layout| {
            l.cutoffs
                .iter()
                .map(|c| (c.name.clone(), c.lane.clone()))
                .collect::<Vec<_>>()
        };
        assert_eq!(names(&config.layout), names(&want));
    }
}

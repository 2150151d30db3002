//! A site file. Parsing and validation never panic; each problem is named. Maps and the pick
//! area are the shipped ones, so nothing is read from disk.
#![no_main]

use std::path::Path;

use floorctl::config::{Config, SiteFile};
use floorctl::demo::{shipped_map, CONVEYOR_MAP, SORTER_MAP};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(mut file) = toml::from_str::<SiteFile>(text) else {
        return;
    };
    file.mqtt.handheld_passwords = None;
    let load_map = |p: &Path| {
        if p.to_string_lossy().contains("sorter") {
            Ok(shipped_map(SORTER_MAP))
        } else {
            Ok(shipped_map(CONVEYOR_MAP))
        }
    };
    let load_area = |_: &Path| Err(vec!["no pick area while fuzzing".to_string()]);
    if let Err(problems) = Config::from_file(file, text, load_map, load_area) {
        assert!(!problems.is_empty());
        assert!(problems.iter().all(|p| !p.is_empty()));
    }
});

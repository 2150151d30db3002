//! A PLC register map file. Parsing never panics; a map it accepts can be planned, imaged and
//! read without panicking.
#![no_main]

use floorctl_protocol::image::Image;
use floorctl_protocol::map::PlcMap;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match PlcMap::parse(text) {
        Ok(map) => {
            let image = Image::for_map(&map);
            for r in map.read_plan() {
                assert!(r.count > 0);
            }
            for signal in map.signals.values() {
                for i in 0..signal.count.min(4) {
                    let _ = image.value(signal, i);
                    let _ = image.get(signal, i);
                }
            }
        }
        Err(problems) => assert!(!problems.is_empty()),
    }
});

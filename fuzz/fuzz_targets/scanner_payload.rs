//! A handheld's MQTT message: topic and payload as they arrive from the broker. Decoding never
//! panics; what it accepts is of the topic's kind and of a version the controller reads.
#![no_main]

use floorctl_protocol::scanner::{parse_up_topic, Up, SUPPORTED_VERSIONS};
use libfuzzer_sys::fuzz_target;

const SITE: &str = "fz";

fuzz_target!(|data: &[u8]| {
    // First line: the topic; the rest: the payload.
    let (topic, payload) = match data.iter().position(|&b| b == b'\n') {
        Some(at) => (&data[..at], &data[at + 1..]),
        None => (&data[..0], data),
    };
    let topic = String::from_utf8_lossy(topic);
    let kind = match parse_up_topic(SITE, &topic) {
        Some((scanner, kind)) => {
            assert!(!scanner.is_empty() && !scanner.contains('/'), "{topic}");
            kind.to_string()
        }
        None => "pick".to_string(),
    };
    match Up::decode(&kind, payload) {
        Ok(up) => {
            assert!(SUPPORTED_VERSIONS.contains(&up.v));
            assert_eq!(up.body.kind(), kind);
        }
        Err(e) => assert!(!e.to_string().is_empty()),
    }
});

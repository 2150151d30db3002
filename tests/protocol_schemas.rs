//! The JSON Schemas of the scanner protocol (docs/schemas) hold for every message: what the
//! controller sends is validated against them, and they accept what handhelds send and refuse
//! what they must not.

use floorctl::demo;
use floorctl_core::{Command, Core, Event, PickFace};
use floorctl_protocol::order::Order;
use floorctl_protocol::scanner::{ScanWhat, Up, UpBody, SCHEMA_VERSION};
use serde_json::Value;

fn schema(name: &str) -> jsonschema::Validator {
    let path = format!(
        "{}/docs/schemas/{name}.schema.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let schema: Value = serde_json::from_str(&text).unwrap();
    jsonschema::validator_for(&schema).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn assert_valid(v: &jsonschema::Validator, name: &str, instance: &Value) {
    let errors: Vec<String> = v.iter_errors(instance).map(|e| e.to_string()).collect();
    assert!(errors.is_empty(), "{name}: {instance} — {errors:?}");
}

fn up(id: &str, body: UpBody) -> Up {
    Up {
        v: SCHEMA_VERSION,
        id: id.into(),
        seq: Some(7),
        body,
    }
}

#[test]
fn every_handheld_message_matches_its_schema_and_the_schemas_refuse_strays() {
    let bodies = [
        UpBody::Login {
            picker: "p1".into(),
            session: None,
        },
        UpBody::Login {
            picker: "p1".into(),
            session: Some("0d5e11a2".into()),
        },
        UpBody::Logout,
        UpBody::Scan {
            what: ScanWhat::Location,
            code: "A-01".into(),
        },
        UpBody::Pick {
            order: "o".into(),
            line: 0,
            qty: 2,
            tote: 3,
        },
        UpBody::Short {
            order: "o".into(),
            line: 0,
            found: 1,
            tote: 3,
        },
        UpBody::ToteClosed { tote: 3 },
        UpBody::ToteFull { tote: 3 },
        UpBody::Accept,
        UpBody::Replenished { task: 4, qty: 12 },
        UpBody::Break,
        UpBody::Resume,
        UpBody::Presence { online: false },
    ];
    for (i, body) in bodies.into_iter().enumerate() {
        let kind = body.kind();
        let v = schema(&format!("up.{kind}"));
        let msg = serde_json::to_value(up(&format!("m{i}"), body)).unwrap();
        assert_valid(&v, kind, &msg);
        let mut extra = msg.clone();
        extra["extra"] = Value::from(1);
        assert!(!v.is_valid(&extra), "{kind}: an unknown field is refused");
        let mut old = msg.clone();
        old["v"] = Value::from(1);
        assert!(
            !v.is_valid(&old),
            "{kind}: another schema version is refused"
        );
    }
}

/// Drives the core through every kind of direction and a refusal; returns what it sends.
fn sent_by_the_controller() -> Vec<Command> {
    let mut layout = demo::layout();
    layout.offer_trips = true;
    let mut core = Core::new(layout);
    let mut out = Vec::new();
    let mut send = |core: &mut Core, e: Event| out.extend(core.handle(&e, 0).commands);
    let scanner = |id: &str, body| Event::Scanner {
        scanner: "h1".into(),
        msg: up(id, body),
    };
    send(
        &mut core,
        scanner(
            "l",
            UpBody::Login {
                picker: "p".into(),
                session: None,
            },
        ),
    );
    send(
        &mut core,
        Event::OrderReceived {
            order: Order::one_line("o1", "11:00", "S1", 1, "A-01"),
        },
    );
    let steps = [
        UpBody::Accept,
        UpBody::Scan {
            what: ScanWhat::Location,
            code: "B-02".into(),
        },
        UpBody::Scan {
            what: ScanWhat::Location,
            code: "A-01".into(),
        },
        UpBody::Scan {
            what: ScanWhat::Sku,
            code: "S1".into(),
        },
        UpBody::Break,
        UpBody::Resume,
        UpBody::Pick {
            order: "o1".into(),
            line: 0,
            qty: 1,
            tote: 1,
        },
        UpBody::ToteClosed { tote: 1 },
        UpBody::Logout,
    ];
    for (i, body) in steps.into_iter().enumerate() {
        let mut seq = up(&format!("s{i}"), body);
        seq.seq = Some(10 + i as u64);
        send(
            &mut core,
            Event::Scanner {
                scanner: "h1".into(),
                msg: seq,
            },
        );
    }
    // A pick face below its minimum: the next handheld to log in (h1 still carries its tote) is
    // sent to refill it.
    send(
        &mut core,
        Event::Stock {
            sku: "S1".into(),
            location: "R-01".into(),
            qty: 50,
        },
    );
    send(
        &mut core,
        Event::PickFaces {
            faces: vec![PickFace {
                location: "A-01".into(),
                sku: "S1".into(),
                min: 2,
                max: 10,
            }],
        },
    );
    let mut login = up(
        "l2",
        UpBody::Login {
            picker: "p".into(),
            session: None,
        },
    );
    login.seq = Some(100);
    send(
        &mut core,
        Event::Scanner {
            scanner: "h2".into(),
            msg: login,
        },
    );
    out
}

#[test]
fn every_direction_and_error_the_controller_sends_matches_the_schemas() {
    let direction = schema("down.direction");
    let error = schema("down.error");
    let mut kinds = std::collections::BTreeSet::new();
    let mut errors = 0;
    for c in sent_by_the_controller() {
        match c {
            Command::Direct { direction: d, .. } => {
                let payload = serde_json::to_value(&d).unwrap();
                kinds.insert(payload["kind"].as_str().unwrap().to_string());
                assert_valid(&direction, "direction", &payload);
            }
            Command::Reject { reply, .. } => {
                errors += 1;
                assert_valid(&error, "error", &serde_json::to_value(&reply).unwrap());
            }
            _ => {}
        }
    }
    let all = [
        "close_tote",
        "logged_out",
        "offer",
        "paused",
        "pick",
        "replenish",
        "tote_complete",
        "wait",
    ];
    assert_eq!(
        kinds.into_iter().collect::<Vec<_>>(),
        all,
        "every direction kind was checked"
    );
    assert_eq!(errors, 1, "the wrong location was refused");
}

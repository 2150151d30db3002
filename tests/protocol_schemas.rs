//! The JSON Schemas of the scanner protocol (docs/schemas) hold for every message: what the
//! controller sends is validated against them, and they accept what handhelds send and refuse
//! what they must not.

use floorctl::demo;
use floorctl_core::{Command, Core, Event, PickFace};
use floorctl_protocol::order::Order;
use floorctl_protocol::scanner::{
    ErrorReply, Refusal, ScanWhat, Up, UpBody, SCHEMA_VERSION, SUPPORTED_VERSIONS,
};
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
                let payload: Value = serde_json::from_slice(&reply.payload()).unwrap();
                assert_eq!(payload["code"], "wrong_location");
                assert_valid(&error, "error", &payload);
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

/// One refusal of every code.
fn every_refusal() -> Vec<Refusal> {
    let s = |x: &str| x.to_string();
    vec![
        Refusal::TooLarge {
            bytes: 5000,
            limit: 4096,
        },
        Refusal::Malformed {
            detail: s("expected value at line 1 column 1"),
        },
        Refusal::Version { got: 9 },
        Refusal::KindMismatch {
            topic: s("pick"),
            body: s("scan"),
        },
        Refusal::Stale { seq: 9, last: 10 },
        Refusal::StaleSession { session: s("a1") },
        Refusal::LogInFirst {},
        Refusal::OnBreak {},
        Refusal::NoPick {},
        Refusal::NotDirected {
            order: s("o1"),
            line: 0,
            tote: 3,
        },
        Refusal::UnknownLine {
            order: s("o1"),
            line: 4,
        },
        Refusal::ScanLocationFirst {
            location: s("A-01"),
        },
        Refusal::ScanSkuFirst { sku: s("S1") },
        Refusal::WrongLocation {
            expected: s("A-01"),
            got: s("A-02"),
        },
        Refusal::WrongSku {
            expected: s("S1"),
            got: s("S2"),
            location: s("A-01"),
        },
        Refusal::WrongTote {
            expected: 3,
            got: s("4"),
        },
        Refusal::OverPick {
            confirmed: 3,
            directed: 2,
        },
        Refusal::UnderPick {
            confirmed: 1,
            directed: 2,
        },
        Refusal::NotShort {
            found: 2,
            directed: 2,
        },
        Refusal::NoOffer {},
        Refusal::NoToteToClose {},
        Refusal::NoToteOpen {},
        Refusal::NoReplenishment {},
        Refusal::WrongReplenishment {
            expected: 4,
            got: 5,
        },
        Refusal::MoreThanHeld {
            moved: 9,
            held: 3,
            location: s("R-01"),
        },
    ]
}

#[test]
fn every_refusal_code_matches_the_error_schema_in_both_versions_and_a_wrong_parameter_is_refused() {
    let error = schema("down.error");
    let mut codes = Vec::new();
    for refusal in every_refusal() {
        codes.push(refusal.code());
        for v in SUPPORTED_VERSIONS {
            let reply = ErrorReply::new(v, Some("m1".into()), refusal.clone());
            let payload: Value = serde_json::from_slice(&reply.payload()).unwrap();
            assert_valid(&error, &format!("{} v{v}", refusal.code()), &payload);
            if v == SCHEMA_VERSION {
                let mut stray = payload.clone();
                stray["params"]["extra"] = Value::from(1);
                assert!(!error.is_valid(&stray), "{stray}");
                let mut unknown = payload.clone();
                unknown["code"] = Value::from("no_such_code");
                assert!(!error.is_valid(&unknown), "{unknown}");
            }
        }
    }
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/docs/schemas/down.error.schema.json"
    ))
    .unwrap();
    let schema: Value = serde_json::from_str(&text).unwrap();
    let listed: Vec<String> =
        serde_json::from_value(schema["oneOf"][0]["properties"]["code"]["enum"].clone()).unwrap();
    assert_eq!(
        codes, listed,
        "the schema lists every code the controller sends"
    );
}

//! Against code nobody here wrote: `mbpoll` (a C Modbus master) reads and writes the
//! simulator's PLCs per their maps, and the controller drives a sorter PLC played by a pymodbus
//! server laid out by the same map file.
//!
//! `MBPOLL` is the path of mbpoll; `PYMODBUS_PYTHON` a Python with pymodbus 3.8 installed.

mod common;

use std::process::Stdio;
use std::time::Duration;

use common::{fast_floor, peer};
use floorctl::config::{Broker, Config, PlcSpec};
use floorctl::controller::Controller;
use floorctl::demo::{self, shipped_map, CONVEYOR_MAP, SORTER_MAP};
use floorctl_core::{Event, SortOutcome};
use floorctl_protocol::packml::State;
use floorctl_protocol::value::Value;
use floorsim::{SimConfig, SimPlc, Simulator};
use tokio::io::{AsyncBufReadExt, BufReader};

async fn simulator() -> Simulator {
    Simulator::start(SimConfig {
        conveyor_map: shipped_map(CONVEYOR_MAP),
        sorter_map: shipped_map(SORTER_MAP),
        conveyor_listen: "127.0.0.1:0".parse().unwrap(),
        sorter_listen: "127.0.0.1:0".parse().unwrap(),
        timing: fast_floor(),
    })
    .await
    .unwrap()
}

/// Runs mbpoll once against `port` and returns the values it printed, in order.
async fn mbpoll(bin: &str, port: u16, args: &[&str]) -> Vec<i64> {
    let out = tokio::process::Command::new(bin)
        .args([
            "-m",
            "tcp",
            "-a",
            "1",
            "-1",
            "-o",
            "2",
            "-p",
            &port.to_string(),
        ])
        .args(args)
        .output()
        .await
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "mbpoll {args:?} failed: {text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    text.lines()
        .filter_map(|l| l.trim().strip_prefix('['))
        .filter_map(|l| l.split_once("]:"))
        .filter_map(|(_, v)| v.split_whitespace().next()?.parse().ok())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mbpoll_reads_and_writes_the_simulated_plcs_per_their_maps() {
    let Some(bin) = peer("MBPOLL", "mbpoll (Debian package mbpoll)") else {
        return;
    };
    let sim = simulator().await;
    let (cv, so) = (sim.conveyor_addr.port(), sim.sorter_addr.port());
    let cmap = shipped_map(CONVEYOR_MAP);
    let smap = shipped_map(SORTER_MAP);
    // mbpoll numbers references from 1 (the sorter map's own numbering); `-0` gives wire addresses.
    let wire = |m: &floorctl_protocol::map::PlcMap, name: &str| {
        m.signal(name).unwrap().address.to_string()
    };

    // 32-bit values in each map's word order: the sorter's low word first (mbpoll's default),
    // the conveyor's high word first (-B).
    sim.write_signal(
        SimPlc::Sorter,
        "induct_tote",
        0,
        &Value::Number(305_419_896.0),
    )
    .unwrap();
    sim.write_signal(
        SimPlc::Conveyor,
        "entry_tote",
        0,
        &Value::Number(305_419_896.0),
    )
    .unwrap();
    assert_eq!(
        mbpoll(
            &bin,
            so,
            &[
                "-0",
                "-t",
                "3:int",
                "-r",
                &wire(&smap, "induct_tote"),
                "127.0.0.1"
            ]
        )
        .await,
        vec![305_419_896]
    );
    assert_eq!(
        mbpoll(
            &bin,
            cv,
            &[
                "-0",
                "-B",
                "-t",
                "3:int",
                "-r",
                &wire(&cmap, "entry_tote"),
                "127.0.0.1"
            ]
        )
        .await,
        vec![305_419_896]
    );
    // The sorter's map numbers from 1 like mbpoll: its file address is mbpoll's reference.
    let file_ref = (smap.signal("induct_tote").unwrap().address + 1).to_string();
    assert_eq!(
        mbpoll(&bin, so, &["-t", "3:int", "-r", &file_ref, "127.0.0.1"]).await,
        vec![305_419_896]
    );

    // The PackML state in the vendor's numbering, then a Reset written the way the map says
    // (command, then a fresh sequence number), acknowledged and acted on by the PLC.
    let pk = cmap.packml.as_ref().unwrap();
    let state = |v: i64| pk.state_of(v as u16);
    let state_args = ["-0", "-t", "3", "-r", &wire(&cmap, "state"), "127.0.0.1"].map(String::from);
    let read_state = || async {
        let args: Vec<&str> = state_args.iter().map(String::as_str).collect();
        mbpoll(&bin, cv, &args).await
    };
    assert_eq!(state(read_state().await[0]), Some(State::Stopped));
    let reset = pk
        .command_value(floorctl_protocol::packml::Command::Reset)
        .unwrap()
        .to_string();
    // The PLC leaves Stopped only while the controller's heartbeat is fresh: mbpoll plays the
    // controller's part for a moment, then writes the command and its sequence number.
    for (signal, value) in [
        ("ctl_heartbeat", "1"),
        ("command", reset.as_str()),
        ("command_seq", "7"),
    ] {
        let register = wire(&cmap, signal);
        mbpoll(
            &bin,
            cv,
            &["-0", "-t", "4", "-r", &register, "127.0.0.1", value],
        )
        .await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        mbpoll(
            &bin,
            cv,
            &[
                "-0",
                "-t",
                "3",
                "-r",
                &wire(&cmap, "command_ack_seq"),
                "127.0.0.1"
            ]
        )
        .await,
        vec![7]
    );
    assert_eq!(state(read_state().await[0]), Some(State::Idle));
    assert_eq!(sim.snapshot().states.0, State::Idle);

    // Packed chute bits: disable chute 3 on the floor, read the register's bit 10 (8 + 2).
    sim.with_floor(|f| f.disable_chute(3, true));
    tokio::time::sleep(Duration::from_millis(100)).await;
    let word = mbpoll(
        &bin,
        so,
        &[
            "-0",
            "-t",
            "3",
            "-r",
            &wire(&smap, "chute_disabled"),
            "127.0.0.1",
        ],
    )
    .await[0];
    assert_eq!(
        word & 0xFF00,
        1 << 10,
        "chute 3's disabled bit, chute-full bits clear: {word:#06x}"
    );
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_controller_drives_a_sorter_plc_played_by_pymodbus() {
    let Some(python) = peer(
        "PYMODBUS_PYTHON",
        "a Python with pymodbus 3.8 (pip install pymodbus==3.8.6)",
    ) else {
        return;
    };
    let port = floorctl_bench::fixtures::free_addr("127.0.0.1:0".parse().unwrap())
        .unwrap()
        .port();
    let map_path = concat!(env!("CARGO_MANIFEST_DIR"), "/plc-maps/sorter-ts8.toml");
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/peers/pymodbus_plc.py");
    let mut plc = tokio::process::Command::new(&python)
        .args([script, map_path, &port.to_string()])
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(plc.stdout.take().unwrap()).lines();
    let addr: std::net::SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    for _ in 0..100 {
        if tokio::net::TcpStream::connect(addr).await.is_ok() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    let dir = tempfile::tempdir().unwrap();
    let broker = common::broker().await;
    let config = Config {
        site: "interop".into(),
        database: dir.path().join("floorctl.db").into(),
        broker: Broker::External {
            host: broker.ip().to_string(),
            port: broker.port(),
            credentials: None,
        },
        plcs: vec![PlcSpec::new("sorter1", addr, shipped_map(SORTER_MAP))],
        layout: demo::layout(),
        dashboard: Default::default(),
        network: None,
    };
    let controller = Controller::start(config.clone()).await.unwrap();
    let line = tokio::time::timeout(Duration::from_secs(30), lines.next_line())
        .await
        .expect("the pymodbus PLC reports within 30 s")
        .unwrap()
        .expect("a line from the pymodbus PLC");
    controller.shutdown(Duration::from_secs(5)).await;
    plc.kill().await.unwrap();

    let seen: serde_json::Value = serde_json::from_str(&line).unwrap();
    assert_eq!(
        seen["commands"],
        serde_json::json!(["Reset", "Start"]),
        "PackML commands in the vendor's numbering: {seen}"
    );
    assert_eq!(
        seen["divert"]["tote"], 4242,
        "tote written in the map's word order: {seen}"
    );
    let exception = i64::from(config.layout.exception_chute);
    assert_eq!(
        seen["divert"]["chute"], exception,
        "a tote no order owns goes to the exception chute"
    );
    assert!(seen["controller_heartbeat"].as_u64().unwrap() > 0);

    let events = common::journal_at(config.database.file().unwrap()).await;
    assert!(events.iter().any(|e| matches!(
        e,
        Event::EquipmentState {
            state: Some(State::Execute),
            ..
        }
    )));
    assert!(events.iter().any(|e| matches!(
        e,
        Event::ToteInducted {
            tote: 4242,
            seq: 1,
            ..
        }
    )));
    assert!(
        events.iter().any(|e| matches!(e, Event::SortConfirmed { tote: 4242, outcome: SortOutcome::Sorted, chute, .. } if i64::from(*chute) == exception)),
        "{events:?}"
    );
}

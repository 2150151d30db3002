//! The `floorctl` binary as a user runs it.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn floorctl() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_floorctl"));
    c.env("RUST_LOG", "warn");
    c
}

#[test]
fn the_demo_runs_its_order_book_to_the_end_and_exits_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let out = floorctl()
        .args([
            "demo",
            "--orders",
            "6",
            "--pickers",
            "3",
            "--broker",
            "127.0.0.1:0",
            "--dir",
        ])
        .arg(dir.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains(&format!(
            "database: {}",
            dir.path().join("floorctl.db").display()
        )),
        "{stdout}"
    );
    assert!(stdout.contains("all 6 orders sorted"), "{stdout}");
    assert!(stdout.contains("orders picked 6/6, sorted 6/6"), "{stdout}");
}

#[test]
fn the_demo_stops_cleanly_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = floorctl()
        .args([
            "demo",
            "--orders",
            "500",
            "--broker",
            "127.0.0.1:0",
            "--dir",
        ])
        .arg(dir.path())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let started = Instant::now();
    // Wait for the first progress line: the controller is running.
    loop {
        let line = lines.next().expect("demo printed a progress line").unwrap();
        if line.starts_with("orders picked") {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "no progress line within a minute"
        );
    }
    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let rest: Vec<String> = lines.map_while(Result::ok).collect();
    let status = child.wait().unwrap();
    assert!(status.success(), "exit status {status:?}");
    assert!(rest.iter().any(|l| l == "stopping"), "{rest:?}");
}

#[test]
fn a_broken_site_file_is_refused_with_every_problem_listed() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("site.toml");
    std::fs::write(
        &path,
        "site = \"fw/1\"\ndatabase = \"x.db\"\nexception_chute = 1\n[[plc]]\nid = \"s\"\naddress = \"127.0.0.1:1\"\nmap = \"missing.toml\"\n",
    )
    .unwrap();
    let out = floorctl()
        .args(["run", "--config"])
        .arg(&path)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(stderr.contains("5 problem(s)"), "{stderr}");
    for expected in [
        "site `fw/1`",
        "missing.toml",
        "conveyor",
        "sorter",
        "[[cutoff]]",
    ] {
        assert!(stderr.contains(expected), "`{expected}` not in:\n{stderr}");
    }
    assert!(
        !dir.path().join("x.db").exists(),
        "a refused config creates nothing"
    );
}

#[test]
fn check_map_accepts_the_shipped_maps_and_lists_the_problems_of_a_bad_one() {
    let maps = concat!(env!("CARGO_MANIFEST_DIR"), "/plc-maps");
    let ok = floorctl()
        .arg("check-map")
        .arg(format!("{maps}/conveyor-cv4.toml"))
        .arg(format!("{maps}/sorter-ts8.toml"))
        .output()
        .unwrap();
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );

    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.toml");
    let text = std::fs::read_to_string(format!("{maps}/sorter-ts8.toml"))
        .unwrap()
        .replace("[signals.divert_ack_seq]", "[signals.divert_acknowledge]")
        .replace("address = 9", "address = 8");
    std::fs::write(&bad, text).unwrap();
    let out = floorctl().arg("check-map").arg(&bad).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(stderr.contains("`divert_ack_seq` is missing"), "{stderr}");
    assert!(stderr.contains("overlap"), "{stderr}");
    assert!(stderr.contains("bad.toml"), "{stderr}");
}

#[test]
fn route_prints_the_length_last_and_the_visiting_order_as_json() {
    let root = env!("CARGO_MANIFEST_DIR");
    let run = |policy: &str, json: bool| {
        let mut c = floorctl();
        c.args([
            "route",
            "--layout",
            &format!("{root}/layouts/pick-area-2018.toml"),
        ])
        .args(["--picks", &format!("{root}/layouts/example-picks.csv")])
        .args(["--policy", policy]);
        if json {
            c.arg("--json");
        }
        c.output().unwrap()
    };
    let length = |out: &std::process::Output| -> f64 {
        let stdout = String::from_utf8_lossy(&out.stdout);
        let last = stdout.lines().last().unwrap_or_default().to_string();
        last.strip_prefix("route length: ")
            .and_then(|l| l.strip_suffix(" m"))
            .and_then(|l| l.parse().ok())
            .unwrap_or_else(|| panic!("last line `{last}` gives no length"))
    };
    let optimal = run("optimal", true);
    assert!(optimal.status.success());
    let stdout = String::from_utf8_lossy(&optimal.stdout);
    let visits: serde_json::Value = serde_json::from_str(stdout.lines().next().unwrap()).unwrap();
    assert_eq!(visits["visits"].as_array().unwrap().len(), 6, "{stdout}");
    let best = length(&optimal);
    for p in ["s-shape", "return", "midpoint", "largest-gap", "combined"] {
        let out = run(p, false);
        assert!(out.status.success());
        assert!(length(&out) >= best, "{p}");
    }
    let bad = run("zigzag", false);
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("unknown policy `zigzag`"));
}

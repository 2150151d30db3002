//! Every file under deploy/ that can be checked without a container engine, checked by the
//! program that reads it where that program is installable: the site files by floorctl, the
//! systemd unit by `systemd-analyze verify` and its user by `systemd-sysusers`, the compose file
//! against the Compose specification's schema (`check-jsonschema`), the Prometheus files by
//! `promtool`, the Mosquitto configuration by `mosquitto` itself; the container files' sources
//! and users by reading them.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use floorctl::config::Config;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn run(program: &str, args: &[&str], dir: &Path) -> (bool, String) {
    let out = Command::new(program)
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap_or_else(|e| panic!("{program}: {e}"));
    let text =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    (out.status.success(), text)
}

/// The compose site file with its maps where this checkout has them.
fn compose_site(dir: &Path) -> PathBuf {
    let text = std::fs::read_to_string(root().join("deploy/compose/fwd1.toml")).unwrap();
    let maps = root().join("plc-maps");
    let text = text.replace("/usr/share/floorctl/plc-maps", &maps.to_string_lossy());
    let path = dir.join("fwd1.toml");
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn the_shipped_site_files_load() {
    let dir = tempfile::tempdir().unwrap();
    Config::load(&root().join("floorctl.example.toml")).unwrap();
    // Through the command operators run, with the secrets the site file reads from its
    // environment.
    let out = Command::new(env!("CARGO_BIN_EXE_floorctl"))
        .arg("check-config")
        .arg(compose_site(dir.path()))
        .env(
            "FLOORCTL_DATABASE_URL",
            "postgres://floorctl@postgres:5432/floorctl",
        )
        .env("FLOORCTL_MQTT_PASSWORD", "x")
        .output()
        .unwrap();
    let text =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success()
            && text.contains("site fwd1, 2 PLC(s)")
            && text.contains("network floorctl"),
        "{text}"
    );
    // Without them, it says which is missing.
    let out = Command::new(env!("CARGO_BIN_EXE_floorctl"))
        .arg("check-config")
        .arg(compose_site(dir.path()))
        .env_remove("FLOORCTL_DATABASE_URL")
        .env_remove("FLOORCTL_MQTT_PASSWORD")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && text.contains("FLOORCTL_DATABASE_URL is not set"),
        "{text}"
    );
}

#[test]
fn the_systemd_unit_and_its_user_verify() {
    let Some(analyze) = common::peer("SYSTEMD_ANALYZE", "systemd-analyze (Debian's systemd)")
    else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let unit = std::fs::read_to_string(root().join("deploy/systemd/floorctl@.service")).unwrap();
    assert!(unit.contains("ExecStart=/usr/local/bin/floorctl run --config /etc/floorctl/%i.toml"));
    for hardening in [
        "User=floorctl",
        "NoNewPrivileges=yes",
        "ProtectSystem=strict",
        "ReadOnlyPaths=/etc/floorctl",
        "CapabilityBoundingSet=\n",
    ] {
        assert!(unit.contains(hardening), "the unit lacks {hardening:?}");
    }
    // The binary this checkout built stands in for the installed one.
    let unit = unit.replace("/usr/local/bin/floorctl", env!("CARGO_BIN_EXE_floorctl"));
    std::fs::write(dir.path().join("floorctl@.service"), unit).unwrap();
    let (ok, out) = run(&analyze, &["verify", "./floorctl@fwd1.service"], dir.path());
    assert!(
        ok && out.trim().is_empty(),
        "systemd-analyze verify:\n{out}"
    );
    let sysusers = Path::new(&analyze).with_file_name("systemd-sysusers");
    std::fs::create_dir_all(dir.path().join("etc")).unwrap();
    let (ok, out) = run(
        &sysusers.to_string_lossy(),
        &[
            &format!("--root={}", dir.path().display()),
            &root()
                .join("deploy/systemd/floorctl.sysusers")
                .to_string_lossy(),
        ],
        dir.path(),
    );
    let passwd = std::fs::read_to_string(dir.path().join("etc/passwd")).unwrap_or_default();
    assert!(
        ok && passwd.contains("floorctl:x:") && passwd.contains("/usr/sbin/nologin"),
        "{out}\n{passwd}"
    );
}

#[test]
fn the_compose_file_follows_the_compose_specification() {
    let Some(check) = common::peer(
        "CHECK_JSONSCHEMA",
        "check-jsonschema (PyPI), which carries the Compose specification's schema",
    ) else {
        return;
    };
    let compose = root().join("deploy/compose.yaml");
    let (ok, out) = run(
        &check,
        &[
            "--builtin-schema",
            "vendor.compose-spec",
            &compose.to_string_lossy(),
        ],
        root(),
    );
    assert!(ok, "{out}");
    // Every file the compose file mounts or builds from is in the checkout.
    let text = std::fs::read_to_string(&compose).unwrap();
    for line in text.lines().map(str::trim) {
        let Some(mount) = line.strip_prefix("- ./") else {
            continue;
        };
        let local = mount.split(':').next().unwrap();
        assert!(
            root().join("deploy").join(local).exists(),
            "compose.yaml mounts ./{local}, which is not in deploy/"
        );
    }
    for file in [
        "deploy/container/Containerfile",
        "deploy/container/Containerfile.simulator",
    ] {
        assert!(
            text.contains(&format!("dockerfile: {file}")),
            "{file} is built"
        );
    }
    // The grafana provisioning files are YAML of the shape Grafana reads.
    let schema = root().join("tests/peers/grafana-provisioning.schema.json");
    for f in [
        "deploy/compose/grafana/datasource.yml",
        "deploy/compose/grafana/dashboards.yml",
    ] {
        let (ok, out) = run(
            &check,
            &["--schemafile", &schema.to_string_lossy(), f],
            root(),
        );
        assert!(ok, "{f}: {out}");
    }
    let dashboard =
        std::fs::read_to_string(root().join("deploy/grafana/floorctl-dashboard.json")).unwrap();
    let v: serde_json::Value = serde_json::from_str(&dashboard).unwrap();
    assert!(v["panels"].as_array().is_some_and(|p| !p.is_empty()));
}

#[test]
fn the_prometheus_files_pass_promtool() {
    let Some(promtool) = common::peer("PROMTOOL", "promtool (Debian's prometheus)") else {
        return;
    };
    for f in [
        "deploy/prometheus/prometheus.yml",
        "deploy/compose/prometheus.yml",
    ] {
        let (ok, out) = run(&promtool, &["check", "config", f], root());
        assert!(ok, "{f}: {out}");
    }
    let rules = root().join("deploy/prometheus");
    let (ok, out) = run(&promtool, &["check", "rules", "alerts.yml"], &rules);
    assert!(ok, "alerts.yml: {out}");
    let (ok, out) = run(&promtool, &["test", "rules", "alerts_test.yml"], &rules);
    assert!(ok, "the alerts fire when they should: {out}");
}

#[test]
fn mosquitto_runs_with_the_shipped_configuration() {
    let Some(mosquitto) = common::peer("MOSQUITTO", "the mosquitto broker") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let port = floorctl_bench::fixtures::free_addr("127.0.0.1:0".parse().unwrap())
        .unwrap()
        .port();
    let ws_port = floorctl_bench::fixtures::free_addr("127.0.0.1:0".parse().unwrap())
        .unwrap()
        .port();
    let deploy = root().join("deploy/mosquitto");
    let conf = std::fs::read_to_string(deploy.join("mosquitto.conf"))
        .unwrap()
        .replace("listener 1883", &format!("listener {port} 127.0.0.1"))
        .replace("listener 9001", &format!("listener {ws_port} 127.0.0.1"))
        .replace(
            "/etc/mosquitto/floorctl.passwd",
            &deploy.join("floorctl.passwd.example").to_string_lossy(),
        )
        .replace(
            "/etc/mosquitto/floorctl.acl",
            &deploy.join("floorctl.acl").to_string_lossy(),
        )
        .replace("/var/lib/mosquitto/", &format!("{}/", dir.path().display()));
    std::fs::write(dir.path().join("m.conf"), conf).unwrap();
    let mut child = Command::new(&mosquitto)
        .arg("-c")
        .arg(dir.path().join("m.conf"))
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(1500));
    let running = child.try_wait().unwrap().is_none();
    let _ = child.kill();
    let out = child.wait_with_output().unwrap();
    assert!(
        running,
        "mosquitto refused the configuration:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn the_container_files_copy_what_exists_and_run_unprivileged() {
    let dir = root().join("deploy/container");
    for (file, bin) in [
        ("Containerfile", "floorctl"),
        ("Containerfile.simulator", "floorsim"),
    ] {
        let text = std::fs::read_to_string(dir.join(file)).unwrap();
        assert!(
            text.contains(&format!("cargo build --release --locked --bin {bin}")),
            "{file} builds {bin}"
        );
        assert!(text.contains(&format!("ENTRYPOINT [\"/usr/local/bin/{bin}\"]")));
        for line in text.lines() {
            let Some(args) = line.strip_prefix("COPY ") else {
                continue;
            };
            if args.starts_with("--from") || args.starts_with(". ") {
                continue;
            }
            let source = args.split_whitespace().next().unwrap();
            assert!(
                root().join(source).exists(),
                "{file}: COPY {source}: not in the checkout"
            );
        }
        let last_stage = text.rsplit("\nFROM ").next().unwrap();
        let user = last_stage
            .lines()
            .find_map(|l| l.strip_prefix("USER "))
            .unwrap_or("root");
        assert_ne!(user, "root", "{file} runs as root");
    }
}

#[test]
fn the_grafana_dashboard_names_every_packml_state_by_its_number() {
    let text =
        std::fs::read_to_string(root().join("deploy/grafana/floorctl-dashboard.json")).unwrap();
    let d: serde_json::Value = serde_json::from_str(&text).unwrap();
    let panel = d["panels"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| {
            p["targets"][0]["expr"]
                .as_str()
                .is_some_and(|e| e.starts_with("floorctl_plc_packml_state"))
        })
        .expect("a PackML state panel");
    let mut named = std::collections::BTreeMap::new();
    for m in panel["fieldConfig"]["defaults"]["mappings"]
        .as_array()
        .unwrap()
    {
        for (value, shown) in m["options"].as_object().unwrap() {
            named.insert(
                value.parse::<u8>().unwrap(),
                shown["text"].as_str().unwrap().to_string(),
            );
        }
    }
    for state in floorctl_protocol::packml::State::ALL {
        assert_eq!(
            named.get(&state.code()).map(String::as_str),
            Some(state.name()),
            "state {}",
            state.code()
        );
    }
}

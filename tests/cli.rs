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
            "--dashboard",
            "127.0.0.1:0",
            "--metrics",
            "127.0.0.1:0",
            "--exit-when-sorted",
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
    assert!(stdout.contains("dashboard: http://127.0.0.1:"), "{stdout}");
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
            "--dashboard",
            "127.0.0.1:0",
            "--metrics",
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
    assert!(stderr.contains("6 problem(s)"), "{stderr}");
    for expected in [
        "site `fw/1`",
        "refuses anonymous handhelds",
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

/// Runs `floorctl slot plan` with `args`; it must succeed. Returns what it printed.
fn slot_plan<S: AsRef<std::ffi::OsStr>>(args: impl IntoIterator<Item = S>) -> String {
    let o = floorctl()
        .args(["slot", "plan"])
        .args(args)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(
        o.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&o.stderr)
    );
    text
}

#[test]
fn slot_plan_prints_the_count_and_benefit_last_and_writes_the_plan() {
    let dir = tempfile::tempdir().unwrap();
    let skus = dir.path().join("skus.csv");
    std::fs::write(&skus, "Item,Freq,Volume,note\na,1,26,x\nb,1,3,y\nc,1,1,z\n").unwrap();
    let out = dir.path().join("plan.csv");
    let run = |policy: &str| {
        let o = floorctl()
            .args(["slot", "plan", "--skus"])
            .arg(&skus)
            .args([
                "--sku-column",
                "Item",
                "--picks-column",
                "Freq",
                "--flow-column",
                "Volume",
            ])
            .args([
                "--volume",
                "1",
                "--saving-per-pick",
                "100",
                "--restock-cost",
                "1",
            ])
            .args(["--policy", policy, "--out"])
            .arg(&out)
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let text = String::from_utf8(o.stdout).unwrap();
        let lines: Vec<String> = text.lines().rev().take(2).map(str::to_string).collect();
        (lines[1].clone(), lines[0].clone())
    };
    // 3 picks × 100 less the restocks: 90 for equal space, (√26 + √3 + 1)² for the optimum.
    assert_eq!(
        run("equal-space"),
        ("skus_forward: 3".into(), "benefit: 210.000".into())
    );
    assert_eq!(
        run("optimal"),
        ("skus_forward: 3".into(), "benefit: 238.674".into())
    );
    let plan = std::fs::read_to_string(&out).unwrap();
    assert!(
        plan.starts_with("sku,picks,flow,volume,restocks,unit_volume\n"),
        "{plan}"
    );
    assert!(plan.contains("a,1,26,0.651127,39.930780,1\n"), "{plan}");

    std::fs::write(&skus, "sku,picks,flow\na,1,-2\nb,x,1\n").unwrap();
    let o = floorctl()
        .args(["slot", "plan", "--skus"])
        .arg(&skus)
        .args([
            "--volume",
            "1",
            "--saving-per-pick",
            "1",
            "--restock-cost",
            "1",
        ])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success());
    assert!(err.contains("line 3: picks `x` is not a number"), "{err}");
}

#[test]
fn slot_plan_derives_picks_and_flow_from_order_lines_and_an_item_master() {
    let dir = tempfile::tempdir().unwrap();
    let lines = dir.path().join("lines.tsv");
    std::fs::write(
        &lines,
        "DATE\tORDER\tSKU\tPCS\n01/01/2017\t1\ta\t2\n01/01/2017\t1\tb\t1\n02/01/2017\t2\ta\t4\n",
    )
    .unwrap();
    let master = dir.path().join("items.csv");
    std::fs::write(&master, "SKU,unit_volume\na,0.5\n").unwrap();
    let text = slot_plan([
        "--order-lines".as_ref(),
        lines.as_os_str(),
        "--item-master".as_ref(),
        master.as_os_str(),
        "--date-column".as_ref(),
        "DATE".as_ref(),
        "--order-column".as_ref(),
        "ORDER".as_ref(),
        "--sku-column".as_ref(),
        "SKU".as_ref(),
        "--units-column".as_ref(),
        "PCS".as_ref(),
        "--volume".as_ref(),
        "10".as_ref(),
        "--saving-per-pick".as_ref(),
        "1".as_ref(),
        "--restock-cost".as_ref(),
        "0.01".as_ref(),
    ]);
    assert!(text.contains("3 lines, 2 SKUs over 2 days"), "{text}");
    assert!(text.contains("unit volume: 1 for 1 of 2 SKUs"), "{text}");
    // a: 1 line/day, 3 units × 0.5 = 1.5 per day; b: 0.5 lines/day, flow 0.5.
    assert!(text.contains("picks forward per day: 1.500"), "{text}");
    // Restocks (√1.5 + √0.5)² / 10 = 0.373 a day at 0.01 each.
    assert!(
        text.trim_end().ends_with("skus_forward: 2\nbenefit: 1.496"),
        "{text}"
    );
}

#[tokio::test]
async fn slot_plan_learns_from_the_controllers_own_journal() {
    use floorctl_core::Event;
    use floorctl_protocol::order::Order;
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("floorctl.db");
    let store = floorctl::store::Store::open(&db).await.unwrap();
    let day = 86_400_000u64;
    for (n, (at, sku, qty)) in [(0, "a", 2), (day, "a", 1), (day, "b", 4)]
        .into_iter()
        .enumerate()
    {
        let order = Event::OrderReceived {
            order: Order::one_line(&format!("o{n}"), "11:00", sku, qty, "A-01"),
        };
        store.append(20_000 * day + at, &order, &[]).await.unwrap();
    }
    store.close().await;
    let text = slot_plan([
        "--database".as_ref(),
        db.as_os_str(),
        "--volume".as_ref(),
        "10".as_ref(),
        "--saving-per-pick".as_ref(),
        "1".as_ref(),
        "--restock-cost".as_ref(),
        "0".as_ref(),
    ]);
    assert!(text.contains("3 lines, 2 SKUs over 2 days"), "{text}");
    // a: 2 lines in 2 days; b: 1.
    assert!(text.contains("picks forward per day: 1.500"), "{text}");
    assert!(
        text.trim_end().ends_with("skus_forward: 2\nbenefit: 1.500"),
        "{text}"
    );
}

#[test]
fn user_add_stores_only_a_hash_and_refuses_unknown_roles_and_short_passwords() {
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("floorctl.db");
    let add = |name: &str, role: &str, password: &str| {
        let mut child = floorctl()
            .args(["user", "add", "--database"])
            .arg(&db)
            .args([name, "--role", role])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // A command refused at its arguments reads no password: the pipe may be closed.
        let _ = writeln!(child.stdin.take().unwrap(), "{password}");
        child.wait_with_output().unwrap()
    };
    let out = add("sue", "supervisor", "a-long-password");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("sue: supervisor account set"));
    // The database file and its write-ahead log (where a new row may still be).
    let mut stored = std::fs::read(&db).unwrap();
    stored.extend(std::fs::read(db.with_extension("db-wal")).unwrap_or_default());
    let text = String::from_utf8_lossy(&stored);
    assert!(text.contains("$argon2id$"), "the hash is stored");
    assert!(!text.contains("a-long-password"), "the password is not");
    let out = add("tom", "admin", "a-long-password");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("admin") && err.contains("supervisor"), "{err}");
    let out = add("tom", "viewer", "short");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("at least 10 characters"));
    let remove = |name: &str| {
        floorctl()
            .args(["user", "remove", "--database"])
            .arg(&db)
            .arg(name)
            .output()
            .unwrap()
    };
    // Listed, disabled and enabled again.
    let user = |args: &[&str]| {
        let out = floorctl()
            .arg("user")
            .arg(args[0])
            .arg("--database")
            .arg(&db)
            .args(&args[1..])
            .output()
            .unwrap();
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (ok, listed, _) = user(&["list"]);
    assert!(ok);
    let line = listed
        .lines()
        .find(|l| l.starts_with("sue\t"))
        .expect("sue listed");
    assert!(
        line.contains("\tsupervisor\tevery site\tset 20") && line.ends_with("\tenabled"),
        "{listed}"
    );
    let (ok, out, _) = user(&["disable", "sue"]);
    assert!(ok && out.contains("account sue disabled"), "{out}");
    let (_, listed, _) = user(&["list"]);
    assert!(listed.contains("\tdisabled 20"), "{listed}");
    let (ok, _, err) = user(&["disable", "nobody"]);
    assert!(!ok && err.contains("there is no account `nobody`"), "{err}");
    let (ok, out, _) = user(&["enable", "sue"]);
    assert!(ok && out.contains("account sue enabled"), "{out}");
    let (_, listed, _) = user(&["list"]);
    assert!(
        listed
            .lines()
            .any(|l| l.starts_with("sue\t") && l.ends_with("\tenabled")),
        "{listed}"
    );
    let out = remove("sue");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("account sue removed"));
    let out = remove("sue");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("there is no account `sue`"));
}

#[test]
fn token_add_prints_the_token_once_stores_only_its_hash_and_revoke_ends_it() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("floorctl.db");
    let token = |args: &[&str]| {
        floorctl()
            .arg("token")
            .args(args)
            .arg("--database")
            .arg(&db)
            .output()
            .unwrap()
    };
    let out = token(&["add", "shop", "--scopes", "orders:write,orders:read"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let secret = String::from_utf8_lossy(&out.stdout).trim().to_string();
    assert!(secret.starts_with("fct_"), "{secret}");
    let mut stored = std::fs::read(&db).unwrap();
    stored.extend(std::fs::read(db.with_extension("db-wal")).unwrap_or_default());
    let text = String::from_utf8_lossy(&stored);
    assert!(!text.contains(&secret[4..]), "the token is not stored");
    assert!(
        text.contains(&floorctl::api::token::hash(&secret)),
        "its hash is"
    );

    let out = token(&["add", "shop", "--scopes", "orders:read"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("already a service account `shop`"));
    let out = token(&["add", "erp", "--scopes", "orders:delete"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("orders:delete") && err.contains("orders:write"),
        "{err}"
    );

    let out = token(&["revoke", "shop"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = token(&["list"]);
    let listed = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        listed.trim(),
        "shop\torders:write,orders:read\tevery site\trevoked"
    );
    let out = token(&["revoke", "shop"]);
    assert!(!out.status.success(), "revoked once only");
}

#[test]
fn webhook_add_prints_its_secret_once_refuses_what_it_cannot_post_to_and_remove_ends_it() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("floorctl.db");
    let webhook = |args: &[&str]| {
        let out = floorctl()
            .arg("webhook")
            .args(args)
            .arg("--database")
            .arg(&db)
            .output()
            .unwrap();
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (ok, out, err) = webhook(&[
        "add",
        "erp",
        "http://127.0.0.1:9/floor",
        "--kinds",
        "order.sorted,alarm.raised",
    ]);
    assert!(ok, "{err}");
    assert!(out.trim().starts_with("whsec_"), "{out}");
    assert!(err.contains("shown only now"), "{err}");
    let (ok, _, err) = webhook(&["add", "erp", "http://127.0.0.1:9/other"]);
    assert!(!ok);
    assert!(err.contains("`erp`"), "{err}");
    let (ok, _, err) = webhook(&[
        "add",
        "wms",
        "https://wms.example/hook",
        "--kinds",
        "order.shipped.twice",
    ]);
    assert!(!ok);
    assert!(
        err.contains("proxy") && err.contains("order.shipped.twice"),
        "every problem: {err}"
    );
    let (ok, out, _) = webhook(&["list"]);
    assert!(ok);
    assert_eq!(
        out.trim(),
        "erp\thttp://127.0.0.1:9/floor\talarm.raised,order.sorted\t0 of 0 delivered"
    );
    let (ok, out, _) = webhook(&["remove", "erp"]);
    assert!(ok, "{out}");
    let (_, out, _) = webhook(&["list"]);
    assert_eq!(out.trim(), "", "nothing in force");
    let (ok, _, err) = webhook(&["remove", "erp"]);
    assert!(!ok);
    assert!(err.contains("no webhook `erp`"), "{err}");
}

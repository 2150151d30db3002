use super::*;
use crate::plc::DEFAULT_RETRIES;

/// The example with its maps and password file named by absolute paths, to be written
/// anywhere.
fn portable_example() -> String {
    let root = concat!("\"", env!("CARGO_MANIFEST_DIR"), "/");
    example()
        .replace("\"plc-maps/", &format!("{root}plc-maps/"))
        .replace("\"deploy/", &format!("{root}deploy/"))
}

fn example() -> String {
    std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/floorctl.example.toml"
    ))
    .unwrap()
}

#[cfg(unix)]
#[test]
fn files_without_end_are_refused_not_read_until_memory_runs_out() {
    let dir = tempfile::tempdir().unwrap();
    let site = dir.path().join("site.toml");
    let endless = portable_example()
        .replacen("map = \"", "map = \"/dev/zero\" # ", 1)
        .replacen(
            "handheld_passwords = \"",
            "handheld_passwords = \"/dev/zero\" # \"",
            1,
        );
    std::fs::write(&site, endless).unwrap();
    let problems = Config::load(&site).unwrap_err().problems;
    assert!(
        problems
            .iter()
            .any(|p| p.contains("/dev/zero") && p.contains("larger than")),
        "{problems:?}"
    );
    let whole = Config::load(Path::new("/dev/zero")).unwrap_err().problems;
    assert!(whole[0].contains("larger than"), "{whole:?}");
}

#[test]
fn the_example_config_is_valid() {
    let c = Config::load(Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/floorctl.example.toml"
    )))
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(c.plcs.len(), 2);
    assert_eq!(c.layout.pick_conveyor, "cv1");
    assert!(matches!(c.broker, Broker::Embedded { .. }));
    assert_eq!(
        c.database,
        Database::Sqlite(Path::new(env!("CARGO_MANIFEST_DIR")).join("floorctl.db")),
        "relative to the site file"
    );
    assert_eq!(c.dashboard.listen, Some(([127, 0, 0, 1], 8080).into()));
    assert_eq!(
        c.dashboard.metrics_listen,
        Some(([127, 0, 0, 1], 9464).into())
    );
}

#[test]
fn the_database_is_a_file_a_url_or_a_url_from_the_environment() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("site.toml");
    let with = |line: &str| {
        let text = portable_example().replace("database = \"floorctl.db\"", line);
        std::fs::write(&path, text).unwrap();
        Config::load(&path)
    };
    let url = "postgres://floor@127.0.0.1:5432/site";
    let c = with(&format!("database = \"{url}\"")).unwrap();
    assert_eq!(c.database, Database::Postgres(url.into()));
    std::env::set_var("FLOORCTL_TEST_DB_URL_FOR_CONFIG", url);
    let c = with("database_url_env = \"FLOORCTL_TEST_DB_URL_FOR_CONFIG\"").unwrap();
    assert_eq!(c.database, Database::Postgres(url.into()));
    let err = with("database_url_env = \"FLOORCTL_NO_SUCH_VARIABLE\"").unwrap_err();
    assert!(
        err.problems
            .join("\n")
            .contains("FLOORCTL_NO_SUCH_VARIABLE is not set"),
        "{err}"
    );
    let err = with("").unwrap_err();
    assert!(err.problems.join("\n").contains("no database"), "{err}");
}

#[test]
fn the_embedded_broker_refuses_anonymous_handhelds_unless_told() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("site.toml");
    let without = portable_example().replace("handheld_passwords = ", "# handheld_passwords = ");
    let with = |extra: &str| {
        let text = without.replace("[mqtt]", &format!("[mqtt]\n{extra}"));
        std::fs::write(&path, text).unwrap();
        Config::load(&path)
    };
    let err = with("").unwrap_err();
    assert!(
        err.problems
            .join("\n")
            .contains("refuses anonymous handhelds"),
        "{err}"
    );
    assert!(with("allow_anonymous = true").is_ok());
}

#[test]
fn the_dashboard_can_be_moved_or_turned_off_and_a_bad_address_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("site.toml");
    let with = |section: &str| {
        let text = portable_example().replace("[dashboard]", &format!("[dashboard]\n{section}"));
        std::fs::write(&path, text).unwrap();
        Config::load(&path)
    };
    let c = with("listen = \"0.0.0.0:9000\"\nmetrics_listen = \"off\"").unwrap();
    assert_eq!(c.dashboard.listen, Some(([0, 0, 0, 0], 9000).into()));
    assert_eq!(c.dashboard.metrics_listen, None);
    let err = with("listen = \"localhost\"\nsession_hours = 0").unwrap_err();
    let all = err.problems.join("\n");
    assert!(
        all.contains("listen = \"localhost\" is not an address"),
        "{all}"
    );
    assert!(all.contains("session_hours = 0"), "{all}");
}

#[test]
fn every_problem_is_listed_with_how_to_fix_it() {
    let text = example()
        .replace("lane = \"AM\"", "lane = \"NIGHT\"")
        .replace("exception_chute = 8", "exception_chute = 12")
        .replace("unit = 1", "unit = 0");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("site.toml");
    std::fs::write(&path, text.replace("../plc-maps", "/nonexistent")).unwrap();
    let err = Config::load(&path).unwrap_err();
    let all = err.problems.join("\n");
    assert!(all.contains("lane `NIGHT`"), "{all}");
    assert!(all.contains("unit 0"), "{all}");
    assert!(all.contains("cannot read"), "{all}");
    assert!(err.problems.len() >= 4, "{all}");
}

#[test]
fn a_plc_answer_timeout_and_retries_are_read_and_checked() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("site.toml");
    let with = |extra: &str| {
        let text = portable_example().replacen("unit = 1", &format!("unit = 1\n{extra}"), 1);
        std::fs::write(&path, text).unwrap();
        Config::load(&path)
    };
    let c = with("answer_timeout_ms = 2500\nretries = 4").unwrap();
    assert_eq!((c.plcs[0].answer_timeout_ms, c.plcs[0].retries), (2500, 4));
    assert_eq!(
        (c.plcs[1].answer_timeout_ms, c.plcs[1].retries),
        (1000, DEFAULT_RETRIES),
        "defaults: four poll intervals, at least a second"
    );
    let all = with("answer_timeout_ms = 0\nretries = 11")
        .unwrap_err()
        .problems
        .join("\n");
    assert!(
        all.contains("answer_timeout_ms must be 1 to 60000"),
        "{all}"
    );
    assert!(all.contains("retries must be 0 to 10"), "{all}");
}

#[test]
fn release_settings_are_checked() {
    let text = example()
        .replace("sorted_by = \"13:30\"", "sorted_by = \"1:30pm\"")
        .replace("# wip_per_zone = 0", "wip_per_zone = 4")
        .replace("# utc_offset = \"+01:00\"", "utc_offset = \"CET\"");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("site.toml");
    let text = text.replace(
        "plc-maps/",
        &format!("{}/plc-maps/", env!("CARGO_MANIFEST_DIR")),
    );
    std::fs::write(&path, text).unwrap();
    let all = Config::load(&path).unwrap_err().problems.join("\n");
    assert!(
        all.contains("cut-off `11:00`: sorted_by: `1:30pm` is not a time of day"),
        "{all}"
    );
    assert!(
        all.contains("wip_per_zone caps zones, but [zones] names none"),
        "{all}"
    );
    assert!(all.contains("utc_offset `CET`"), "{all}");
    let c = Config::load(Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/floorctl.example.toml"
    )))
    .unwrap();
    assert_eq!(
        c.layout.cutoffs[1]
            .sorted_by
            .map(|t| t.to_string())
            .as_deref(),
        Some("21:00")
    );
}

#[test]
fn an_unknown_key_is_refused() {
    let file = example().replace("exception_chute = 8", "exception_chute = 8\nexeption = 1");
    assert!(toml::from_str::<SiteFile>(&file)
        .unwrap_err()
        .to_string()
        .contains("exeption"));
}

#[test]
fn a_plc_id_that_cannot_be_a_topic_level_is_refused() {
    let text = portable_example().replace("id = \"cv1\"", "id = \"cv 1/a\"");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("site.toml");
    std::fs::write(&path, text).unwrap();
    let err = Config::load(&path).unwrap_err();
    assert!(
        err.problems.contains(
            &"plc id: PLC id `cv 1/a` holds a space, /, + or #, which a topic level cannot"
                .to_string()
        ),
        "{:?}",
        err.problems
    );
}

#[test]
fn alarm_priorities_are_set_by_kind_and_an_unknown_kind_or_priority_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("site.toml");
    let with = |alarms: &str| format!("{}\n{alarms}\n", portable_example());
    std::fs::write(
        &path,
        with("[alarms.priorities]\ndelivery = \"high\"\nevent = \"low\""),
    )
    .unwrap();
    let c = Config::load(&path).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        c.layout.alarm_priorities.get("delivery"),
        Some(&floorctl_core::AlarmPriority::High)
    );
    std::fs::write(&path, with("[alarms.priorities]\nlinks = \"high\"")).unwrap();
    let problems = Config::load(&path).unwrap_err().problems;
    assert!(
        problems
            .iter()
            .any(|p| p.contains("`links` is no alarm kind") && p.contains("link, stop")),
        "{problems:?}"
    );
    std::fs::write(&path, with("[alarms.priorities]\nlink = \"urgent\"")).unwrap();
    let problems = Config::load(&path).unwrap_err().problems;
    assert!(
        problems.iter().any(|p| p.contains("urgent")),
        "{problems:?}"
    );
}

/// The two-sorter example site with its maps and password file named by absolute paths.
fn two_sorters() -> String {
    let root = concat!("\"", env!("CARGO_MANIFEST_DIR"), "/");
    std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/sites/two-sorters.toml"
    ))
    .unwrap()
    .replace("\"../", root)
}

/// The line (from 1) of the first line of `text` holding `needle`.
fn line_of(text: &str, needle: &str) -> usize {
    text.lines().position(|l| l.contains(needle)).unwrap() + 1
}

#[test]
fn a_site_of_three_pick_conveyors_merging_onto_two_sorters_is_read_as_drawn() {
    let c = Config::load(Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/sites/two-sorters.toml"
    )))
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(c.plcs.len(), 5);
    assert_eq!(
        c.layout.pick_conveyor, "cv-a",
        "the first conveyor nothing feeds"
    );
    let s2 = c.plcs.iter().find(|p| p.id == "sorter2").unwrap();
    assert_eq!(s2.first_chute, 9);
    assert_eq!(
        c.layout.sorters["sorter2"],
        floorctl_core::SorterChutes {
            first: 9,
            last: 16,
            exception: 16
        }
    );
    assert_eq!(c.layout.exception_for("sorter1"), 8);
    assert_eq!(
        c.layout.conveyor_for("A06-03"),
        "cv-b",
        "zone B's pickers put totes on cv-b"
    );
    assert_eq!(c.layout.conveyor_for("A11-01"), "cv-c");
    let order =
        |cutoff: &str, destination: Option<&str>, urgent: bool| floorctl_protocol::order::Order {
            destination: destination.map(String::from),
            priority: if urgent {
                floorctl_protocol::order::Priority::Urgent
            } else {
                floorctl_protocol::order::Priority::Normal
            },
            ..floorctl_protocol::order::Order::one_line("o", cutoff, "S", 1, "A")
        };
    assert_eq!(
        c.layout.lane_of(&order("11:00", Some("R3"), false)),
        Some("R3")
    );
    assert_eq!(
        c.layout.lane_of(&order("11:00", Some("R3"), true)),
        Some("URGENT")
    );
    assert_eq!(
        c.layout.lane_of(&order("17:00", Some("R3"), false)),
        Some("AM")
    );
}

#[test]
fn each_broken_topology_is_refused_with_the_line_it_is_on() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("site.toml");
    let good = two_sorters();
    let problems = |text: &str| {
        std::fs::write(&path, text).unwrap();
        Config::load(&path).unwrap_err().problems
    };
    let said = |text: &str, line: usize, words: &str| {
        let all = problems(text);
        assert!(
            all.iter()
                .any(|p| p.starts_with(&format!("line {line}: ")) && p.contains(words)),
            "`{words}` on line {line}: {all:#?}"
        );
    };
    // A chute in two lanes.
    let text = good.replace("AM = [3, 4,", "AM = [2, 3, 4,");
    said(
        &text,
        line_of(&text, "AM = ["),
        "chute 2 is in lanes `PM` and `AM`",
    );
    // The exception chute inside a lane.
    let text = good.replace("PM = [1, 2,", "PM = [1, 8,");
    said(
        &text,
        line_of(&text, "PM = ["),
        "holds chute 8, an exception chute",
    );
    // A chute no sorter has.
    let text = good.replace("AM = [3, 4,", "AM = [3, 20,");
    said(
        &text,
        line_of(&text, "AM = ["),
        "chute 20 is no sorter's chute (sorter1 1..=8, sorter2 9..=16)",
    );
    // A sorter nothing feeds.
    let text = good.replace("feeds = \"sorter2\"", "feeds = \"m1\"");
    said(
        &text,
        line_of(&text, "id = \"sorter2\""),
        "sorter `sorter2` is fed by no conveyor",
    );
    // A loop: zone C's conveyor feeds a merge that feeds it back.
    let text = good.replace("feeds = \"sorter2\"", "feeds = \"m2\"")
        + "\n[[merge]]\nid = \"m2\"\nfeeds = \"cv-c\"\n";
    said(
        &text,
        line_of(&text, "feeds = \"m2\""),
        "leads round a loop (cv-c → m2 → cv-c)",
    );
    // A feed to nothing of this site.
    let text = good.replace("feeds = \"sorter1\"", "feeds = \"sorter9\"");
    said(
        &text,
        line_of(&text, "feeds = \"sorter9\""),
        "`m1` feeds `sorter9`, which is no sorter",
    );
    // Two sorters numbering the same chutes.
    let text = good.replace("first_chute = 9", "first_chute = 5");
    said(
        &text,
        line_of(&text, "id = \"sorter2\""),
        "overlap sorter `sorter1`'s 1..=8",
    );
    // A sorter whose exception chute is another's.
    let text = good.replace("exception_chute = 16", "exception_chute = 7");
    said(
        &text,
        line_of(&text, "id = \"sorter2\""),
        "exception chute 7 is not one of its chutes",
    );
    // A lane with no chute on one sorter: its totes reaching that sorter have nowhere to go.
    let text = good.replace("AM = [3, 4, 11, 12]", "AM = [3, 4]");
    said(
        &text,
        line_of(&text, "AM = ["),
        "lane `AM` (cut-off 17:00) has no chute on sorter `sorter2`",
    );
    // A lane rule naming a lane or a cut-off the site does not have, or with no condition.
    let text = good.replace("lane = \"R3\"", "lane = \"R4\"");
    said(
        &text,
        line_of(&text, "lane = \"R4\""),
        "[[lane_rule]] names lane `R4`, which is not under [lanes]",
    );
    let text = good.replace(
        "cutoff = \"11:00\"\ndestination",
        "cutoff = \"12:00\"\ndestination",
    );
    said(
        &text,
        line_of(&text, "lane = \"R3\""),
        "names cut-off `12:00`, which is no [[cutoff]]",
    );
    let text = good.replace("priority = \"urgent\"\n", "");
    said(
        &text,
        line_of(&text, "lane = \"URGENT\""),
        "has no condition",
    );
    // A conveyor that does not say where its totes go, with two sorters to choose from.
    let text = good.replacen("feeds = \"m1\"\n", "\n", 1);
    said(
        &text,
        line_of(&text, "id = \"cv-a\""),
        "conveyor `cv-a` does not say where its totes go",
    );
    // A zone given to two conveyors.
    let text = good.replace("zones = [\"B\"]", "zones = [\"A\"]");
    assert!(problems(&text)
        .iter()
        .any(|p| p.contains("zone `A` is given to conveyors `cv-a` and `cv-b`")));
    // A sorter that says it feeds something.
    let text = good.replace("first_chute = 1\n", "first_chute = 1\nfeeds = \"cv-a\"\n");
    said(
        &text,
        line_of(&text, "feeds = \"cv-a\""),
        "a sorter's totes leave by its chutes",
    );
}

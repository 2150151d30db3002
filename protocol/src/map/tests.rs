//! Map parsing and validation.

use std::path::Path;

use super::*;
use crate::packml::State;

fn conveyor() -> String {
    std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../plc-maps/conveyor-cv4.toml"
    ))
    .unwrap()
}

fn problems(text: &str) -> Vec<String> {
    PlcMap::parse(text)
        .unwrap_err()
        .iter()
        .map(Problem::to_string)
        .collect()
}

fn has(problems: &[String], needle: &str) -> bool {
    problems.iter().any(|p| p.contains(needle))
}

const EXTRA: &str = "\n[signals.extra]\ntable = \"input_register\"\naddress = 1\ntype = \"u16\"\naccess = \"read\"\n";

#[test]
fn shipped_maps_are_valid() {
    for f in ["conveyor-cv4.toml", "sorter-ts8.toml"] {
        let p = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../plc-maps")
            .join(f);
        PlcMap::load(&p).unwrap_or_else(|e| panic!("{e}"));
    }
}

#[test]
fn every_problem_is_reported_at_once() {
    let text = conveyor()
        .replace("[signals.entry_seq]", "[signals.entry_sequence]")
        .replace("poll_interval_ms = 100", "poll_interval_ms = 0")
        .replace("controller = \"ctl_heartbeat\"", "controller = \"ctl_hb\"");
    let p = problems(&text);
    assert!(has(&p, "`entry_seq` is missing"), "{p:?}");
    assert!(has(&p, "poll_interval_ms is 0"), "{p:?}");
    assert!(has(&p, "names `ctl_hb`, which is not a signal"), "{p:?}");
}

#[test]
fn problems_carry_the_line_of_the_signal() {
    let text = conveyor() + EXTRA;
    let line = text.lines().position(|l| l == "[signals.extra]").unwrap() + 1;
    let p = PlcMap::parse(&text).unwrap_err();
    let overlap = p.iter().find(|p| p.message.contains("overlaps")).unwrap();
    assert_eq!(overlap.line, Some(line), "{overlap}");
    let err = MapError::Invalid {
        path: "m.toml".into(),
        problems: p,
    };
    assert!(
        err.to_string()
            .contains(&format!("m.toml:{line}: signal `extra`")),
        "{err}"
    );
}

#[test]
fn a_syntax_error_names_its_line() {
    let p = PlcMap::parse("model = \"x\"\nkind = \"conveyor\"\npoll_interval_ms = \n").unwrap_err();
    assert_eq!(p[0].line, Some(3), "{:?}", p);
}

#[test]
fn a_type_that_does_not_fit_its_table_is_refused() {
    let p = problems(&conveyor().replacen("type = \"bool\"", "type = \"u16\"", 1));
    assert!(has(&p, "does not fit table"), "{p:?}");
    let p = problems(
        &(conveyor()
            + "\n[signals.x]\ntable = \"coil\"\naddress = 90\ntype = \"f32\"\naccess = \"read\"\n"),
    );
    assert!(has(&p, "type f32 does not fit table Coil"), "{p:?}");
}

#[test]
fn bits_in_one_register_may_share_it_but_not_overlap() {
    let bits = |a: u8, b: u8| {
        format!("\n[signals.b1]\ntable = \"input_register\"\naddress = 200\ntype = \"bit\"\nbit = {a}\ncount = 4\naccess = \"read\"\n[signals.b2]\ntable = \"input_register\"\naddress = 200\ntype = \"bit\"\nbit = {b}\naccess = \"read\"\n")
    };
    PlcMap::parse(&(conveyor() + &bits(0, 4))).unwrap();
    let p = problems(&(conveyor() + &bits(0, 3)));
    assert!(has(&p, "overlaps `b1`"), "{p:?}");
    let p = problems(&(conveyor() + &bits(14, 0)));
    assert!(has(&p, "do not fit one 16-bit register"), "{p:?}");
}

#[test]
fn one_based_addresses_are_moved_to_the_wire() {
    let zero = PlcMap::parse(&conveyor()).unwrap();
    let one_based = |t: &str| t.replace("address_base = 0", "address_base = 1");
    let p = problems(&one_based(&conveyor()));
    assert!(has(&p, "below address_base 1"), "{p:?}");
    let shifted = one_based(&shift_addresses(&conveyor(), 1));
    let map = PlcMap::parse(&shifted).unwrap();
    assert_eq!(map.signals, zero.signals);
}

fn shift_addresses(text: &str, by: u16) -> String {
    text.lines()
        .map(|l| {
            match l
                .strip_prefix("address = ")
                .and_then(|n| n.parse::<u16>().ok())
            {
                Some(n) => format!("address = {}", n + by),
                None => l.to_string(),
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn packml_states_and_commands_are_checked_by_name() {
    let text = conveyor()
        .replace("Execute = ", "Running = ")
        .replace("Hold = 4", "Hold = 2");
    let p = problems(&text);
    assert!(has(&p, "`Running` is not a PackML state"), "{p:?}");
    assert!(has(&p, "both have number 2"), "{p:?}");
    let map = PlcMap::parse(&conveyor()).unwrap();
    let pk = map.packml.unwrap();
    let exec = pk.state_value(State::Execute).unwrap();
    assert_eq!(pk.state_of(exec), Some(State::Execute));
}

#[test]
fn scale_on_text_and_unknown_types_are_refused() {
    let p = problems(&(conveyor() + "\n[signals.name]\ntable = \"input_register\"\naddress = 300\ntype = \"string(8)\"\nscale = 2.0\naccess = \"read\"\n"));
    assert!(has(&p, "scale and offset apply to numbers"), "{p:?}");
    let p = problems(&(conveyor() + "\n[signals.n]\ntable = \"input_register\"\naddress = 300\ntype = \"u64\"\naccess = \"read\"\n"));
    assert!(has(&p, "unknown type `u64`"), "{p:?}");
}

#[test]
fn read_plan_merges_adjacent_signals_and_respects_the_limit() {
    let mut map = PlcMap::parse(&conveyor()).unwrap();
    let ir = |m: &PlcMap| -> Vec<ReadRange> {
        m.read_plan()
            .into_iter()
            .filter(|r| r.table == Table::InputRegister)
            .collect()
    };
    assert_eq!(ir(&map).len(), 1, "{:?}", ir(&map));
    map.max_registers_per_request = 2;
    let plan = ir(&map);
    assert!(
        plan.len() > 1 && plan.iter().all(|r| r.count <= 2),
        "{plan:?}"
    );
}

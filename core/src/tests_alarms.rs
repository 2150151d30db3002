//! Alarm management: a flapping condition is one line with a count, stops nobody commanded are
//! alarmed, texts are plain words, acknowledging all at once.

use floorctl_protocol::packml::{Command as Pack, State};

use super::tests::layout;
use super::*;

fn link(plc: &str, up: bool, reason: &str) -> Event {
    Event::PlcLink {
        plc: plc.into(),
        up,
        reason: (!up).then(|| reason.into()),
    }
}

fn state(plc: &str, s: State) -> Event {
    Event::EquipmentState {
        plc: plc.into(),
        state: Some(s),
        raw: 0,
    }
}

fn lines_of(core: &Core, source: &str) -> Vec<Alarm> {
    core.summary()
        .alarm_log
        .values()
        .filter(|a| a.source == source)
        .cloned()
        .collect()
}

#[test]
fn a_link_flapping_for_50_seconds_is_one_alarm_line_with_a_count_and_its_first_and_last_times() {
    let mut core = Core::new(layout());
    let garbage = "transport error: mismatching headers: expected/request = Header { transaction_id: 1, unit_id: 1 } Ok(ReadHoldingRegisters([0, 0, 613]))";
    // Down and back up 40 times in 50 s, as a frozen PLC whose TCP still accepts.
    for n in 0..40u64 {
        core.handle(&link("cv1", false, garbage), 1_000 + n * 1_250);
        core.handle(&link("cv1", true, ""), 1_500 + n * 1_250);
    }
    core.handle(&link("cv1", false, garbage), 51_000);
    let lines = lines_of(&core, "cv1");
    assert_eq!(lines.len(), 1, "{lines:#?}");
    let a = &lines[0];
    assert_eq!((a.raised, a.last, a.repeats), (1_000, Some(51_000), 40));
    assert_eq!(a.state, AlarmState::Active);
    assert!(
        a.text
            .starts_with("No contact with cv1: its answers cannot be read.")
            && !a.text.contains("Header")
            && !a.text.contains("transport"),
        "plain words, the detail is for the log: {}",
        a.text
    );

    // Acknowledged, cleared, and back long after: a new line.
    core.handle(
        &Event::AlarmAck {
            alarm: a.id,
            by: "sue".into(),
        },
        52_000,
    );
    core.handle(&link("cv1", true, ""), 53_000);
    core.handle(
        &link("cv1", false, "no answer within 1s, 3 time(s) in a row"),
        53_000 + alarms::CHATTER_MS + 1,
    );
    let lines = lines_of(&core, "cv1");
    assert_eq!(lines.len(), 2, "{lines:#?}");
    assert!(
        lines[1].text.contains("it does not answer"),
        "{}",
        lines[1].text
    );
}

#[test]
fn a_stop_nobody_commanded_raises_an_alarm_that_clears_when_the_machine_runs_again() {
    let mut core = Core::new(layout());
    core.handle(&link("cv1", true, ""), 0);
    core.handle(&state("cv1", State::Execute), 0);
    // An emergency stop on the floor.
    let r = core.handle(&state("cv1", State::Aborted), 1_000);
    assert!(
        r.commands.iter().any(|c| matches!(c, Command::Alarm { source, text, .. }
            if source == "cv1" && text.contains("aborted") && text.contains("nobody here commanded it"))),
        "{:?}",
        r.commands
    );
    core.handle(&state("cv1", State::Clearing), 2_000);
    assert!(
        !core
            .summary()
            .active_alarms
            .contains_key(&("cv1".into(), "stop".into())),
        "someone is clearing it"
    );
    core.handle(&state("cv1", State::Stopped), 2_500);
    core.handle(&state("cv1", State::Execute), 3_000);
    assert!(
        core.summary().active_alarms.is_empty(),
        "{:?}",
        core.summary().active_alarms
    );

    // Held at the panel: an alarm; a supervisor's Hold: none.
    core.handle(&state("cv1", State::Held), 4_000);
    assert!(core
        .summary()
        .active_alarms
        .contains_key(&("cv1".into(), "stop".into())));
    core.handle(&state("cv1", State::Execute), 5_000);
    core.handle(
        &Event::EquipmentCommand {
            plc: "cv1".into(),
            command: Pack::Hold,
            by: "sue".into(),
        },
        6_000,
    );
    core.handle(&state("cv1", State::Holding), 6_100);
    core.handle(&state("cv1", State::Held), 6_200);
    assert!(core.summary().active_alarms.is_empty());

    // Stopped while running, without a command: an alarm; a machine found stopped at start-up
    // (nothing known before) is no stop.
    core.handle(&state("cv1", State::Execute), 7_000);
    core.handle(&state("cv1", State::Stopping), 7_100);
    core.handle(&state("cv1", State::Stopped), 7_200);
    assert!(core
        .summary()
        .active_alarms
        .contains_key(&("cv1".into(), "stop".into())));
    core.handle(&link("s1", true, ""), 8_000);
    core.handle(&state("s1", State::Stopped), 8_000);
    assert!(!core
        .summary()
        .active_alarms
        .contains_key(&("s1".into(), "stop".into())));
}

#[test]
fn a_plc_never_reached_is_alarmed_in_plain_words() {
    let mut core = Core::new(layout());
    let r = core.handle(
        &link(
            "s1",
            false,
            "connect failed: Connection refused (os error 111)",
        ),
        0,
    );
    assert!(
        r.commands.iter().any(|c| matches!(c, Command::Alarm { text, .. }
            if text == "No contact with s1: it refuses the connection (is its Modbus server running?). Check its power and network cable; the controller keeps trying.")),
        "{:?}",
        r.commands
    );
}

#[test]
fn every_waiting_alarm_or_every_one_of_a_source_is_acknowledged_at_once() {
    let mut core = Core::new(layout());
    core.handle(&link("cv1", false, "no answer"), 0);
    core.handle(&link("s1", false, "no answer"), 0);
    core.handle(&link("s2", false, "no answer"), 0);
    let ack_all = |source: Option<&str>| Event::AlarmAckAll {
        source: source.map(str::to_string),
        by: "sue".into(),
    };
    let r = core.handle(&ack_all(Some("s1")), 1_000);
    assert!(r.refusal.is_none());
    let acked: Vec<String> = core
        .summary()
        .alarm_log
        .values()
        .filter(|a| a.acknowledged_by.is_some())
        .map(|a| a.source.clone())
        .collect();
    assert_eq!(acked, ["s1"]);
    core.handle(&ack_all(None), 2_000);
    assert!(core
        .summary()
        .alarm_log
        .values()
        .all(|a| a.acknowledged_by.as_deref() == Some("sue")));
    let r = core.handle(&ack_all(None), 3_000);
    assert_eq!(
        r.refusal.map(|r| r.reason),
        Some("no alarm is waiting to be acknowledged".to_string())
    );
}

#[test]
fn a_jam_that_holds_the_line_is_one_alarm_whichever_is_reported_first() {
    let jam = Event::ZoneFault {
        conveyor: "cv1".into(),
        zone: 2,
        fault: true,
    };
    for jam_first in [true, false] {
        let mut core = Core::new(layout());
        core.handle(&link("cv1", true, ""), 0);
        core.handle(&state("cv1", State::Execute), 0);
        if jam_first {
            core.handle(&jam, 1_000);
        }
        core.handle(&state("cv1", State::Holding), 1_000);
        core.handle(&state("cv1", State::Held), 1_100);
        if !jam_first {
            core.handle(&jam, 1_200);
        }
        let active: Vec<_> = core.summary().active_alarms.keys().cloned().collect();
        assert_eq!(
            active,
            [("cv1".to_string(), "zone2".to_string())],
            "jam first: {jam_first}"
        );
    }
}

#[test]
fn a_line_still_held_once_its_jam_is_cleared_asks_for_a_supervisor() {
    let mut core = Core::new(layout());
    let jam = |fault| Event::ZoneFault {
        conveyor: "cv1".into(),
        zone: 2,
        fault,
    };
    core.handle(&link("cv1", true, ""), 0);
    core.handle(&state("cv1", State::Execute), 0);
    core.handle(&jam(true), 1_000);
    core.handle(&state("cv1", State::Held), 1_100);
    core.handle(&jam(false), 2_000);
    let active = &core.summary().active_alarms;
    assert_eq!(active.len(), 1, "{active:?}");
    assert_eq!(
        active
            .get(&("cv1".to_string(), "stop".to_string()))
            .map(String::as_str),
        Some("cv1 is still held now that its fault has cleared: Unhold it to run again.")
    );
    core.handle(&state("cv1", State::Unholding), 3_000);
    assert!(core.summary().active_alarms.is_empty());
}

#[test]
fn an_alarm_carries_its_kinds_priority_and_the_rate_counts_the_last_ten_minutes() {
    let mut l = layout();
    l.alarm_priorities
        .insert("event".into(), AlarmPriority::Low);
    let mut core = Core::new(l);
    core.handle(&link("cv1", false, "no answer"), 0);
    let unknown_tote = super::tests::induct(999, 1);
    core.handle(&unknown_tote, 1_000);
    let by_source: Vec<(String, String, AlarmPriority)> = core
        .summary()
        .alarm_log
        .values()
        .map(|a| (a.source.clone(), a.kind.clone(), a.priority))
        .collect();
    assert_eq!(
        by_source,
        [
            ("cv1".to_string(), "link".to_string(), AlarmPriority::High),
            ("s1".to_string(), "event".to_string(), AlarmPriority::Low),
        ]
    );
    assert_eq!(core.summary().alarm_rate, 2);
    // A flapping link counts each time it comes back; ten minutes on, none of it counts.
    core.handle(&link("cv1", true, ""), 2_000);
    core.handle(&link("cv1", false, "no answer"), 3_000);
    assert_eq!(core.summary().alarm_rate, 3);
    core.handle(&Event::Tick, 3_000 + alarms::RATE_WINDOW_MS);
    assert_eq!(core.summary().alarm_rate, 0);
}

#[test]
fn a_shelved_alarm_asks_for_nobody_until_its_time_then_comes_back_if_its_condition_holds() {
    let mut core = Core::new(layout());
    let shelve = |alarm, reason: &str, minutes| Event::AlarmShelve {
        alarm,
        reason: reason.into(),
        minutes,
        by: "sue".into(),
    };
    core.handle(&link("cv1", false, "no answer"), 0);
    let id = lines_of(&core, "cv1")[0].id;
    // Refused: no reason, too long, an alarm that does not exist.
    for (event, why) in [
        (shelve(id, " ", 30), "say why"),
        (shelve(id, "PLC swap", 9 * 60), "1 to 480 minutes"),
        (shelve(99, "PLC swap", 30), "there is no alarm 99"),
    ] {
        let r = core.handle(&event, 1_000);
        let reason = r.refusal.map(|r| r.reason).unwrap_or_default();
        assert!(reason.contains(why), "{reason}");
    }
    core.handle(&shelve(id, "PLC swapped tonight", 30), 1_000);
    let a = &lines_of(&core, "cv1")[0];
    assert_eq!(a.state, AlarmState::Shelved);
    assert_eq!(
        a.shelved.as_ref().map(|s| (s.by.as_str(), s.until)),
        Some(("sue", 1_000 + 30 * 60_000))
    );
    let rate = core.summary().alarm_rate;
    // Flapping while shelved: counted on its line, still shelved, shown to nobody.
    core.handle(&link("cv1", true, ""), 2_000);
    core.handle(&link("cv1", false, "no answer"), 3_000);
    let a = &lines_of(&core, "cv1")[0];
    assert_eq!((a.state, a.repeats), (AlarmState::Shelved, 1));
    assert_eq!(
        core.summary().alarm_rate,
        rate,
        "a shelved alarm is not counted"
    );
    // Its time up, the link still down: active again, waiting for a supervisor.
    core.handle(&Event::Tick, 1_000 + 30 * 60_000);
    let a = &lines_of(&core, "cv1")[0];
    assert_eq!((a.state, a.shelved.is_none()), (AlarmState::Active, true));
    // A one-off alarm shelved and raised again is counted on its line, and when its time is up
    // it is cleared (there is no condition to come back).
    core.handle(&super::tests::induct(999, 1), 2_000_000);
    let one_off = lines_of(&core, "s1")[0].id;
    core.handle(&shelve(one_off, "label printer fixed", 10), 2_000_000);
    core.handle(&super::tests::induct(998, 2), 2_100_000);
    let s1 = lines_of(&core, "s1");
    assert_eq!((s1.len(), s1[0].repeats), (1, 1), "{s1:?}");
    core.handle(&Event::Tick, 2_000_000 + 10 * 60_000);
    assert_eq!(lines_of(&core, "s1")[0].state, AlarmState::Cleared);
}

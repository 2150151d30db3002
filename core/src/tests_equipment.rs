//! Machines (PackML, faults, links) and sorter outcomes, without sockets.

use floorctl_protocol::packml::{Command as Pack, State};
use floorctl_protocol::scanner::UpBody;

use super::tests::{confirm, divert, induct, layout, up};
use super::*;

fn state(plc: &str, s: State) -> Event {
    Event::EquipmentState {
        plc: plc.into(),
        state: Some(s),
        raw: 0,
    }
}

fn link(plc: &str, up: bool) -> Event {
    Event::PlcLink {
        plc: plc.into(),
        up,
        reason: (!up).then(|| "timeout".into()),
    }
}

fn supervisor(plc: &str, command: Pack) -> Event {
    Event::EquipmentCommand {
        plc: plc.into(),
        command,
        by: "sam".into(),
    }
}

fn packml(plc: &str, command: Pack) -> Command {
    Command::Packml {
        plc: plc.into(),
        command,
    }
}

/// Why the command was refused, if it was.
pub(super) fn refusals(reaction: &Reaction) -> Vec<String> {
    reaction.refusal.iter().map(|r| r.reason.clone()).collect()
}

#[test]
fn stopped_equipment_is_reset_and_started_unless_a_supervisor_stopped_it() {
    let mut core = Core::new(layout());
    assert_eq!(core.handle(&link("cv1", true), 0).commands, vec![]);
    assert_eq!(
        core.handle(&state("cv1", State::Stopped), 0).commands,
        vec![packml("cv1", Pack::Reset)]
    );
    assert_eq!(
        core.handle(&state("cv1", State::Resetting), 0).commands,
        vec![]
    );
    assert_eq!(
        core.handle(&state("cv1", State::Idle), 0).commands,
        vec![packml("cv1", Pack::Start)]
    );
    core.handle(&state("cv1", State::Execute), 0);
    assert_eq!(
        core.handle(&supervisor("cv1", Pack::Stop), 0).commands,
        vec![packml("cv1", Pack::Stop)]
    );
    assert_eq!(
        core.handle(&state("cv1", State::Stopped), 0).commands,
        vec![],
        "a supervisor's stop stays"
    );
    assert_eq!(
        core.handle(&supervisor("cv1", Pack::Reset), 0).commands,
        vec![packml("cv1", Pack::Reset)]
    );
    assert_eq!(
        core.handle(&state("cv1", State::Idle), 0).commands,
        vec![packml("cv1", Pack::Start)]
    );
}

#[test]
fn an_accepted_supervisor_command_and_a_reported_state_are_noted_for_the_log() {
    let mut core = Core::new(layout());
    core.handle(&link("cv1", true), 0);
    let notes = core.handle(&state("cv1", State::Execute), 0).notes;
    assert!(notes.contains(&Note::EquipmentState {
        plc: "cv1".into(),
        state: State::Execute
    }));
    let notes = core.handle(&supervisor("cv1", Pack::Stop), 0).notes;
    assert!(notes.contains(&Note::SupervisorCommand {
        plc: "cv1".into(),
        command: Pack::Stop,
        by: "sam".into()
    }));
}

#[test]
fn an_illegal_command_is_refused_with_the_reason_and_sends_nothing() {
    let mut core = Core::new(layout());
    core.handle(&link("s1", true), 0);
    core.handle(&state("s1", State::Held), 0);
    let reaction = core.handle(&supervisor("s1", Pack::Start), 0);
    assert_eq!(
        refusals(&reaction),
        vec!["s1: Start is not allowed in state Held: it accepts Stop, Unhold, Abort"]
    );
    assert!(reaction.commands.is_empty(), "{reaction:?}");
    assert_eq!(
        core.handle(&supervisor("s1", Pack::Unhold), 0).commands,
        vec![packml("s1", Pack::Unhold)]
    );
    core.handle(&link("s1", false), 0);
    let r = refusals(&core.handle(&supervisor("s1", Pack::Stop), 0));
    assert!(r[0].contains("link to s1 is down"), "{r:?}");
    let r = refusals(&core.handle(&supervisor("nope", Pack::Stop), 0));
    assert!(r[0].contains("not a PLC of this site"), "{r:?}");
}

#[test]
fn a_jam_raises_one_alarm_that_clears_when_the_zone_is_reset() {
    let mut core = Core::new(layout());
    let fault = |fault| Event::ZoneFault {
        conveyor: "cv1".into(),
        zone: 2,
        fault,
    };
    let raised = core.handle(&fault(true), 0).commands;
    assert!(
        matches!(&raised[..], [Command::Alarm { text, .. }] if text.contains("zone 2")),
        "{raised:?}"
    );
    assert_eq!(
        core.handle(&fault(true), 0).commands,
        vec![],
        "raised once while it lasts"
    );
    assert_eq!(core.summary().active_alarms.len(), 1);
    let cleared = core.handle(&fault(false), 0).commands;
    assert!(
        matches!(&cleared[..], [Command::AlarmCleared { .. }]),
        "{cleared:?}"
    );
    assert!(core.summary().active_alarms.is_empty());
    let down = core.handle(&link("cv1", false), 0).commands;
    assert!(matches!(&down[..], [Command::Alarm { .. }]));
    assert!(matches!(
        &core.handle(&link("cv1", true), 0).commands[..],
        [Command::AlarmCleared { .. }]
    ));
}

/// An order of one line picked into tote 1 and closed.
fn closed_tote(core: &mut Core) {
    super::tests::picked_o1(core, 0);
    core.handle(&up("h1", "m2", UpBody::ToteClosed { tote: 1 }), 2);
}

#[test]
fn a_full_chute_sends_the_tote_to_another_chute_of_its_lane_next_time_round() {
    let mut core = Core::new(layout());
    closed_tote(&mut core);
    assert!(core
        .handle(&induct(1, 1), 3)
        .commands
        .contains(&divert(1, 1)));
    core.handle(&confirm(1, 0, SortOutcome::ChuteFull, 1), 4);
    assert!(
        core.handle(&induct(1, 2), 5)
            .commands
            .contains(&divert(1, 2)),
        "chute 2 is the lane's other chute"
    );
    core.handle(&confirm(1, 2, SortOutcome::Sorted, 2), 6);
    let s = core.summary();
    assert_eq!(s.outcomes[&SortOutcome::ChuteFull], 1);
    assert_eq!(
        s.chute_outcomes[&(1, SortOutcome::ChuteFull)],
        1,
        "counted against the chute asked for"
    );
    assert_eq!(s.chute_outcomes[&(2, SortOutcome::Sorted)], 1);
    assert_eq!(s.per_chute[&2], 1);
}

#[test]
fn a_disabled_chute_is_not_chosen_and_a_tote_going_round_too_often_goes_to_exceptions() {
    let mut core = Core::new(layout());
    closed_tote(&mut core);
    core.handle(
        &Event::ChuteDisabled {
            sorter: "s1".into(),
            chute: 1,
            disabled: true,
        },
        2,
    );
    assert!(core
        .handle(&induct(1, 1), 3)
        .commands
        .contains(&divert(1, 2)));
    core.handle(&confirm(1, 0, SortOutcome::NoRead, 1), 4);
    core.handle(&induct(1, 2), 5);
    core.handle(&confirm(1, 0, SortOutcome::WindowMissed, 2), 6);
    let cmds = core.handle(&induct(1, 3), 7).commands;
    assert!(
        cmds.contains(&divert(1, 8)),
        "after 2 recirculations: {cmds:?}"
    );
    assert!(cmds.iter().any(|c| matches!(c, Command::Alarm { text, .. } if text.contains("went round the sorter 2 times"))));
    core.handle(&confirm(1, 8, SortOutcome::Sorted, 3), 8);
    assert_eq!(
        core.summary().sorted,
        1,
        "the exception chute counts as sorted"
    );
    assert_eq!(core.summary(), core.recount());
}

#[test]
fn a_lost_tote_is_marked_lost_with_an_alarm_and_an_impossible_chute_is_flagged() {
    let mut core = Core::new(layout());
    closed_tote(&mut core);
    core.handle(&induct(1, 1), 3);
    let reaction = core.handle(&confirm(1, 0, SortOutcome::Lost, 1), 4);
    assert!(reaction
        .commands
        .iter()
        .any(|c| matches!(c, Command::Alarm { text, .. } if text.contains("lost"))));
    assert!(reaction.records.iter().any(|r| matches!(
        r,
        Record::Tote {
            status: ToteStatus::Lost,
            ..
        }
    )));
    core.handle(&induct(1, 2), 5);
    let cmds = core
        .handle(&confirm(1, 77, SortOutcome::Sorted, 2), 6)
        .commands;
    assert!(
        cmds.iter()
            .any(|c| matches!(c, Command::Alarm { text, .. } if text.contains("chute 77"))),
        "{cmds:?}"
    );
}

#[test]
fn a_new_link_session_clears_the_faults_the_last_session_reported() {
    let mut core = Core::new(layout());
    core.handle(&link("s1", true), 0);
    for condition in [
        PlcCondition::Reads,
        PlcCondition::Heartbeat,
        PlcCondition::Values,
    ] {
        let fault = Event::PlcFault {
            plc: "s1".into(),
            condition,
            fault: Some(format!("{} went wrong", condition.name())),
        };
        core.handle(&fault, 1);
    }
    let active = |core: &Core, condition: &str| {
        core.summary()
            .active_alarms
            .contains_key(&("s1".to_string(), condition.to_string()))
    };
    assert!(active(&core, "reads") && active(&core, "heartbeat"));
    core.handle(&link("s1", false), 2);
    assert!(active(&core, "reads"), "a lost link clears nothing");
    core.handle(&link("s1", true), 3);
    assert!(!active(&core, "reads") && !active(&core, "heartbeat"));
    assert!(
        active(&core, "values"),
        "a value seen wrong stays until seen right"
    );
}

#[test]
fn plc_conditions_are_journalled_by_the_names_their_alarms_carry() {
    for c in PlcCondition::ALL {
        let json = serde_json::to_string(&c).unwrap();
        assert_eq!(json, format!("\"{}\"", c.name()));
        assert_eq!(serde_json::from_str::<PlcCondition>(&json).unwrap(), c);
    }
}

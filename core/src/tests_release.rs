//! Paced release: orders wait for their cut-off's release time or the pre-pick window, zones
//! cap the orders in process, and a cut-off that cannot be met at the pick rate is alarmed.

use floorctl_protocol::order::Order;
use floorctl_protocol::scanner::{Task, UpBody};

use super::tests::{layout, login, order, pick, scan, up};
use super::*;

const H: Millis = 3_600_000;
const MIN: Millis = 60_000;
/// Midnight UTC of some day.
const DAY: Millis = 20_000 * 86_400_000;

fn t(text: &str) -> TimeOfDay {
    TimeOfDay::parse(text).unwrap()
}

/// The test layout with 11:00 sorted by 13:30 and 17:00 by 20:00, released two hours ahead.
fn timed() -> Layout {
    let mut l = layout();
    l.cutoffs[0].ordered_before = Some(t("11:00"));
    l.cutoffs[0].sorted_by = Some(t("13:30"));
    l.cutoffs[1].ordered_before = Some(t("17:00"));
    l.cutoffs[1].sorted_by = Some(t("20:00"));
    l.release.lead_ms = 2 * H;
    l
}

fn task_of(cmds: &[Command], scanner: &str) -> Option<Task> {
    cmds.iter().rev().find_map(|c| match c {
        Command::Direct {
            scanner: s,
            direction,
        } if s == scanner => Some(direction.task.clone()),
        _ => None,
    })
}

fn order_of(task: Option<Task>) -> Option<String> {
    match task {
        Some(Task::Pick { order, .. }) => Some(order),
        _ => None,
    }
}

#[test]
fn an_order_waits_for_its_release_time_and_a_tick_then_hands_it_out() {
    let mut core = Core::new(timed());
    login(&mut core, "h1");
    let at = DAY + 8 * H;
    let cmds = core.handle(&order("o1", "11:00", 1), at).commands;
    assert_eq!(task_of(&cmds, "h1"), None, "not released at 08:00");
    assert_eq!(core.orders["o1"].status, OrderStatus::Waiting);
    assert_eq!(core.summary().waves["11:00"].waiting, 1);
    // Due 13:30, released 2 h before; the first projection is due before that.
    assert_eq!(
        core.pending.first().map(|(at, _)| *at),
        Some(DAY + 11 * H + 30 * MIN)
    );
    core.handle(&Event::Tick, at);
    assert_eq!(core.next_tick(), Some(at + RISK_CHECK_MS));
    let early = core.handle(&Event::Tick, DAY + 11 * H).commands;
    assert_eq!(task_of(&early, "h1"), None);
    let cmds = core.handle(&Event::Tick, DAY + 11 * H + 30 * MIN).commands;
    assert_eq!(order_of(task_of(&cmds, "h1")).as_deref(), Some("o1"));
    assert_eq!(core.summary().waves["11:00"].waiting, 0);
    assert_eq!(
        core.summary(),
        core.recount(),
        "maintained counts match the state"
    );
}

#[test]
fn the_nearest_due_time_goes_first_and_an_order_without_a_cutoff_gets_one_by_its_time() {
    let mut core = Core::new(timed());
    let at = DAY + 12 * H;
    // Ordered at 12:00, past 11:00: tomorrow's 11:00 cut-off; the 17:00 one (due 20:00 today)
    // comes first.
    core.handle(&order("am-tomorrow", "11:00", 1), at);
    core.handle(&order("pm-today", "17:00", 1), at);
    core.handle(&order("no-cutoff", "", 1), at);
    assert_eq!(core.orders["no-cutoff"].order.cutoff, "17:00");
    assert_eq!(core.orders["pm-today"].due, Some(DAY + 20 * H));
    assert_eq!(
        core.orders["am-tomorrow"].due,
        Some(DAY + 24 * H + 13 * H + 30 * MIN)
    );
    core.handle(&Event::Tick, DAY + 18 * H);
    let cmds = login(&mut core, "h1");
    assert_eq!(order_of(task_of(&cmds, "h1")).as_deref(), Some("pm-today"));
    assert_eq!(core.orders["am-tomorrow"].status, OrderStatus::Waiting);
}

#[test]
fn orders_known_the_evening_before_are_released_in_the_prepick_window() {
    let mut l = timed();
    l.release.prepick = Some((t("20:00"), t("05:00")));
    let mut core = Core::new(l);
    login(&mut core, "h1");
    // Tomorrow's 11:00 order, known at 19:00: waits for the window, not for 11:30 tomorrow.
    core.handle(&order("o1", "11:00", 1), DAY + 19 * H);
    assert_eq!(core.orders["o1"].status, OrderStatus::Waiting);
    core.handle(&Event::Tick, DAY + 19 * H + 59 * MIN + 50_000);
    assert_eq!(
        core.next_tick(),
        Some(DAY + 20 * H),
        "the window opens before the next projection"
    );
    let cmds = core.handle(&Event::Tick, DAY + 20 * H).commands;
    assert_eq!(order_of(task_of(&cmds, "h1")).as_deref(), Some("o1"));
    // One arriving during the window is released at once.
    core.handle(&order("o2", "11:00", 1), DAY + 23 * H);
    assert_eq!(core.orders["o2"].status, OrderStatus::Released);
}

#[test]
fn work_in_process_is_capped_per_zone() {
    let mut l = layout();
    l.release.wip_per_zone = 1;
    l.release.zones = vec![("A-".into(), "A".into()), ("B-".into(), "B".into())];
    let mut core = Core::new(l);
    let in_zone = |id: &str, location: &str| Event::OrderReceived {
        order: Order::one_line(id, "11:00", "S0", 1, location),
    };
    core.handle(&in_zone("a1", "A-00"), 0);
    core.handle(&in_zone("a2", "A-00"), 0);
    core.handle(&in_zone("b1", "B-00"), 0);
    let h1 = login(&mut core, "h1");
    let h2 = login(&mut core, "h2");
    let h3 = login(&mut core, "h3");
    assert_eq!(order_of(task_of(&h1, "h1")).as_deref(), Some("a1"));
    assert_eq!(
        order_of(task_of(&h2, "h2")).as_deref(),
        Some("b1"),
        "a2 waits: zone A is full"
    );
    assert_eq!(task_of(&h3, "h3"), Some(Task::Wait));
    // a1's tote closed: zone A has room, the waiting picker gets a2.
    scan(&mut core, 0);
    core.handle(&pick("p", "a1", 0, 1, 1), 0);
    let cmds = core
        .handle(&up("h1", "close", UpBody::ToteClosed { tote: 1 }), 0)
        .commands;
    assert_eq!(order_of(task_of(&cmds, "h3")).as_deref(), Some("a2"));
}

#[test]
fn a_cutoff_that_cannot_be_met_at_the_pick_rate_is_alarmed_and_cleared_when_it_can() {
    let mut l = timed();
    l.release.lines_per_picker_hour = 120;
    l.release.sort_allowance_ms = 10 * MIN;
    let mut core = Core::new(l);
    let at = DAY + 13 * H;
    core.handle(&order("big", "11:00", 50), at - 3 * H);
    login(&mut core, "h1");
    // 50 lines at 120 lines/h take 25 min; with 10 min to the lane, 13:30 is missed.
    let cmds = core.handle(&Event::Tick, at).commands;
    let risk = ("cut-off 11:00".to_string(), "at risk".to_string());
    assert!(
        cmds.iter()
            .any(|c| matches!(c, Command::Alarm { source, .. } if source == "cut-off 11:00")),
        "{cmds:?}"
    );
    let wave = &core.summary().waves["11:00"];
    assert!(wave.at_risk);
    assert_eq!(wave.lines_left, 50);
    assert_eq!(wave.projected, Some(at + 35 * MIN));
    assert!(core.summary().active_alarms.contains_key(&risk));
    // Nothing changes for half a minute: no projection, no repeated alarm.
    assert_eq!(core.next_tick(), Some(at + RISK_CHECK_MS));
    let again = core.handle(&Event::Tick, at + RISK_CHECK_MS).commands;
    assert!(!again.iter().any(|c| matches!(c, Command::Alarm { .. })));
    // Three more pickers: 50 lines in 6¼ min, in the lane by 13:17.
    for h in ["h2", "h3", "h4"] {
        login(&mut core, h);
    }
    let cmds = core.handle(&Event::Tick, at + 2 * RISK_CHECK_MS).commands;
    assert!(
        cmds.iter()
            .any(|c| matches!(c, Command::AlarmCleared { .. })),
        "{cmds:?}"
    );
    assert!(!core.summary().waves["11:00"].at_risk);
    assert_eq!(
        core.summary(),
        core.recount(),
        "maintained counts match the state"
    );
}

#[test]
fn with_no_one_logged_in_a_cutoff_is_at_risk_within_its_release_lead_not_before() {
    let mut core = Core::new(timed());
    // Due 13:30, released from 11:30: at 06:00 nobody has logged in yet, and that is no risk.
    core.handle(&order("o1", "11:00", 1), DAY + 5 * H);
    let early = core.handle(&Event::Tick, DAY + 6 * H);
    assert!(!core.summary().waves["11:00"].at_risk);
    assert!(
        !early
            .commands
            .iter()
            .any(|c| matches!(c, Command::Alarm { .. })),
        "{:?}",
        early.commands
    );
    core.handle(&Event::Tick, DAY + 12 * H);
    assert!(core.summary().waves["11:00"].at_risk);
    assert_eq!(core.summary().waves["11:00"].projected, None);
}

#[test]
fn untimed_cutoffs_release_at_once_and_need_no_tick() {
    let mut core = Core::new(layout());
    core.handle(&order("o1", "11:00", 1), DAY);
    assert_eq!(core.orders["o1"].status, OrderStatus::Released);
    assert_eq!(core.next_tick(), None);
}

#[test]
fn an_order_released_too_late_for_its_cutoff_is_at_risk_while_it_waits() {
    let mut l = timed();
    // Released ten minutes before 13:30: fifty lines and the sort do not fit in that.
    l.release.lead_ms = 10 * MIN;
    l.release.lines_per_picker_hour = 120;
    let mut core = Core::new(l);
    for h in ["h1", "h2", "h3", "h4"] {
        login(&mut core, h);
    }
    core.handle(&order("big", "11:00", 50), DAY + 9 * H);
    assert_eq!(core.orders["big"].status, OrderStatus::Waiting);
    core.handle(&Event::Tick, DAY + 12 * H);
    let wave = &core.summary().waves["11:00"];
    // 13:20 + 50 lines at 480 an hour (6¼ min) + 10 min to the lane.
    assert_eq!(wave.projected, Some(DAY + 13 * H + 36 * MIN + 15_000));
    assert!(wave.at_risk, "{wave:?}");
}

#[test]
fn the_promise_names_the_cutoff_an_order_placed_now_would_make_from_the_queue_ahead_of_it() {
    use floorctl_protocol::order::Priority;
    let mut l = timed();
    l.release.lines_per_picker_hour = 120;
    l.release.sort_allowance_ms = 10 * MIN;
    let mut core = Core::new(l);
    let at = DAY + 10 * H + 30 * MIN;
    login(&mut core, "h1");
    core.handle(&Event::Tick, at);
    // 10:30, one picker at 120 lines/h, nothing ahead: released at 11:30 (two hours before
    // 13:30), 10 lines take 5 min, in the lane by 11:45, well before 13:30.
    let p = core.promise(10, Priority::Normal, at);
    let given = p.given.clone().expect("11:00 is still open for ordering");
    assert_eq!((given.cutoff.as_str(), given.on_time), ("11:00", true));
    assert_eq!(given.projected, Some(DAY + 11 * H + 45 * MIN));
    assert_eq!(given.due, Some(DAY + 13 * H + 30 * MIN));
    assert_eq!(p.makes.map(|o| o.cutoff), Some("11:00".into()));
    assert_eq!(p.lines_per_hour, 120);
    // 300 lines of 11:00 ahead of it: 2.5 h of picking, past 13:30; the 17:00 cut-off (by
    // 20:00) is the first it would make.
    core.handle(&order("big", "11:00", 300), at);
    let p = core.promise(10, Priority::Normal, at);
    assert!(!p.given.expect("given").on_time);
    assert_eq!(p.makes.map(|o| o.cutoff), Some("17:00".into()));
    // Urgent, it goes ahead of the queue and makes 11:00 again.
    let p = core.promise(10, Priority::Urgent, at);
    assert_eq!(p.makes.map(|o| o.cutoff), Some("11:00".into()));
    // Asked at 11:30 with nothing handled since 10:30: 11:00 is closed for ordering.
    let later = core.promise(10, Priority::Urgent, DAY + 11 * H + 30 * MIN);
    assert_eq!(later.given.map(|o| o.cutoff), Some("17:00".into()));
    // Nobody picking: no cut-off with a due time can be promised.
    let idle = Core::new(timed());
    let p = idle.promise(1, Priority::Normal, at);
    assert_eq!(p.makes, None);
    assert_eq!(p.lines_per_hour, 0);
}

#[test]
fn each_cutoff_says_how_many_pickers_it_takes_at_the_pace_pickers_go() {
    let mut l = timed();
    l.release.lines_per_picker_hour = 60;
    l.release.sort_allowance_ms = 30 * MIN;
    let mut core = Core::new(l);
    // 11:00 (sorted by 13:30): 200 lines; 17:00 (sorted by 20:00): 100 more.
    for n in 0..100 {
        core.handle(&order(&format!("a{n}"), "11:00", 2), DAY + 9 * H);
        core.handle(&order(&format!("b{n}"), "17:00", 1), DAY + 9 * H);
    }
    core.handle(&Event::Tick, DAY + 11 * H + 30 * MIN);
    let waves = &core.summary().waves;
    // 11:00: 1.5 h until 13:00 at 60 lines an hour a picker is 90 lines each: 200 / 90.
    assert_eq!(waves["11:00"].pickers_needed, Some(3));
    // 17:00: its 100 lines after 11:00's 200, 8 h until 19:30: 300 / 480.
    assert_eq!(waves["17:00"].pickers_needed, Some(1));
    // Its time up, a cut-off needs no number: it is late.
    core.handle(&Event::Tick, DAY + 13 * H + 10 * MIN);
    assert_eq!(core.summary().waves["11:00"].pickers_needed, None);
}

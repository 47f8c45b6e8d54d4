use chrono::NaiveDate;

use super::*;

const SCJG: &str = "610400-SCJG";
const STHJ: &str = "610400-STHJ";
const WSJ: &str = "610400-WSJ";

fn day(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

fn deadline(date: &str) -> Deadline {
    Deadline {
        step: "invite".into(),
        date: day(date),
        working_days: 3,
        from: None,
        provisional: false,
    }
}

fn three_departments() -> (Saga, Outcome) {
    Saga::launched(
        "TASK-1",
        "联合抽查",
        2027,
        SCJG,
        vec![
            (WSJ.into(), vec!["WSJ-1".into()]),
            (SCJG.into(), vec!["SCJG-1".into()]),
            (STHJ.into(), vec!["STHJ-1".into()]),
        ],
        Ok(deadline("2027-03-04")),
        1,
    )
}

fn confirm(saga: &mut Saga, department: &str) -> Result<Outcome, Refusal> {
    saga.apply(
        Input::Confirmed {
            department: department.into(),
            by: format!("coordinator@{department}"),
        },
        2,
    )
}

#[test]
fn a_launch_invites_every_department_but_the_lead_and_sets_the_deadline() {
    let (saga, outcome) = three_departments();
    assert_eq!(saga.phase, Phase::Inviting);
    assert_eq!(saga.participants[0].department, SCJG, "the lead first");
    assert_eq!(saga.participants[0].answer, Answer::Confirmed);
    assert_eq!(saga.unanswered(), vec![STHJ.to_string(), WSJ.to_string()]);
    assert_eq!(
        outcome.effects,
        vec![Effect::SetTimer(
            Timer::InvitationDeadline,
            day("2027-03-04")
        )]
    );
    assert_eq!(saga.waiting_on(), vec![STHJ.to_string(), WSJ.to_string()]);
}

#[test]
fn the_last_answer_closes_the_invitations_and_asks_for_the_draw() {
    let (mut saga, _) = three_departments();
    let first = confirm(&mut saga, STHJ).unwrap();
    assert!(first.effects.is_empty(), "one department still to answer");
    let declined = saga
        .apply(
            Input::Declined {
                department: WSJ.into(),
                by: "x".into(),
                reason: "本季度无执法力量".into(),
            },
            3,
        )
        .unwrap();
    assert_eq!(declined.kind, "invitation.declined");
    assert_eq!(
        declined.effects,
        vec![Effect::VoidTimers, Effect::Send(Command::DrawTargets)]
    );
    assert_eq!(saga.phase, Phase::DrawingTargets);
    assert_eq!(saga.confirmed(), vec![SCJG.to_string(), STHJ.to_string()]);
}

#[test]
fn answers_are_checked_and_given_once() {
    let (mut saga, _) = three_departments();
    let no_reason = saga.apply(
        Input::Declined {
            department: WSJ.into(),
            by: "x".into(),
            reason: " ".into(),
        },
        2,
    );
    assert!(matches!(no_reason, Err(Refusal::Invalid { field, .. }) if field == "reason"));
    assert!(matches!(
        confirm(&mut saga, "610400-OTHER"),
        Err(Refusal::Denied { .. })
    ));
    confirm(&mut saga, STHJ).unwrap();
    assert!(matches!(confirm(&mut saga, STHJ), Err(Refusal::NotNow(_))));
    assert!(
        matches!(confirm(&mut saga, SCJG), Err(Refusal::NotNow(_))),
        "the lead took part by launching"
    );
}

#[test]
fn no_answer_is_reminded_then_escalated_then_resolved_by_the_coordinator() {
    let (mut saga, _) = three_departments();
    confirm(&mut saga, STHJ).unwrap();
    let reminded = saga
        .apply(Input::TimerFired(Timer::InvitationDeadline), 5)
        .unwrap();
    assert_eq!(
        reminded.effects,
        vec![
            Effect::Remind(vec![WSJ.into()]),
            Effect::SetTimer(Timer::InvitationEscalation, day("2027-03-05"))
        ]
    );
    saga.apply(Input::TimerFired(Timer::InvitationEscalation), 6)
        .unwrap();
    let attention = saga.attention.clone().unwrap();
    assert_eq!(attention.step, "invite");
    assert!(attention.actions.contains(&"proceed_without".to_string()));
    assert_eq!(
        saga.waiting(),
        vec![Waiting::Coordinator {
            department: SCJG.to_string(),
            step: "invite".into()
        }]
    );
    assert_eq!(
        saga.waiting_on(),
        vec![format!("the coordinator of {SCJG} (invite)")]
    );
    // Extending must move the deadline later, and clears the escalation.
    assert!(matches!(
        saga.apply(Input::Steer(Steer::Extend(deadline("2027-03-04"))), 7),
        Err(Refusal::Invalid { .. })
    ));
    let extended = saga
        .apply(Input::Steer(Steer::Extend(deadline("2027-03-09"))), 7)
        .unwrap();
    assert_eq!(
        extended.effects,
        vec![
            Effect::VoidTimers,
            Effect::SetTimer(Timer::InvitationDeadline, day("2027-03-09"))
        ]
    );
    assert!(saga.attention.is_none());
    let without = saga
        .apply(Input::Steer(Steer::ProceedWithout("逾期未确认".into())), 8)
        .unwrap();
    assert_eq!(saga.participants[2].answer, Answer::Dropped);
    assert_eq!(
        without.effects.last(),
        Some(&Effect::Send(Command::DrawTargets))
    );
}

#[test]
fn the_draw_runs_review_lock_and_teams_for_the_confirmed_departments() {
    let (mut saga, _) = three_departments();
    confirm(&mut saga, STHJ).unwrap();
    saga.apply(
        Input::Declined {
            department: WSJ.into(),
            by: "x".into(),
            reason: "无".into(),
        },
        3,
    )
    .unwrap();
    assert!(
        matches!(
            saga.apply(Input::TargetsApproved { by: "c".into() }, 4),
            Err(Refusal::NotNow(_))
        ),
        "nothing to review yet"
    );
    saga.apply(Input::TargetsDrawn { count: 10 }, 4).unwrap();
    assert_eq!(saga.phase, Phase::ReviewingTargets);
    let approved = saga
        .apply(Input::TargetsApproved { by: "c".into() }, 5)
        .unwrap();
    assert_eq!(approved.effects, vec![Effect::Send(Command::LockTargets)]);
    let locked = saga.apply(Input::TargetsLocked { count: 10 }, 6).unwrap();
    assert_eq!(
        locked.effects,
        vec![Effect::Send(Command::DrawInspectors {
            departments: vec![SCJG.into(), STHJ.into()]
        })],
        "the department that declined sends nobody"
    );
    saga.apply(
        Input::TeamsDrawn {
            count: 10,
            uncounted: None,
        },
        7,
    )
    .unwrap();
    assert_eq!(saga.phase, Phase::Scheduling);
    // A redelivered reply after its step is recognised, not applied.
    assert!(matches!(
        saga.apply(Input::TargetsLocked { count: 10 }, 8),
        Err(Refusal::Late(_))
    ));
    assert!(matches!(
        saga.apply(Input::TimerFired(Timer::InvitationDeadline), 8),
        Err(Refusal::Late(_))
    ));
}

#[test]
fn a_failed_command_needs_attention_and_a_retry_sends_it_again() {
    let (mut saga, _) = three_departments();
    confirm(&mut saga, STHJ).unwrap();
    confirm(&mut saga, WSJ).unwrap();
    assert!(matches!(
        saga.apply(Input::Steer(Steer::Retry), 3),
        Err(Refusal::NotNow(_))
    ));
    let late = saga.apply(
        Input::CommandFailed {
            command: "draw.command.lock".into(),
            code: "FailedPrecondition".into(),
            reason: "x".into(),
        },
        3,
    );
    assert!(
        matches!(late, Err(Refusal::Late(_))),
        "not the pending command"
    );
    saga.apply(
        Input::CommandFailed {
            command: "draw.command.draw_targets".into(),
            code: "FailedPrecondition".into(),
            reason: "no candidates".into(),
        },
        3,
    )
    .unwrap();
    assert_eq!(
        saga.attention.as_ref().unwrap().actions,
        vec!["retry", "cancel"]
    );
    let retried = saga.apply(Input::Steer(Steer::Retry), 4).unwrap();
    assert_eq!(retried.effects, vec![Effect::Send(Command::DrawTargets)]);
    assert!(saga.attention.is_none());
}

#[test]
fn a_paused_saga_holds_its_commands_and_a_cancelled_one_accepts_nothing() {
    let (mut saga, _) = three_departments();
    saga.apply(Input::Steer(Steer::Pause), 2).unwrap();
    assert!(matches!(
        saga.apply(Input::TimerFired(Timer::InvitationDeadline), 3),
        Err(Refusal::Late(_))
    ));
    confirm(&mut saga, STHJ).unwrap();
    let last = confirm(&mut saga, WSJ).unwrap();
    assert_eq!(last.effects, vec![Effect::VoidTimers], "the draw is held");
    let resumed = saga.apply(Input::Steer(Steer::Resume), 4).unwrap();
    assert_eq!(resumed.effects, vec![Effect::Send(Command::DrawTargets)]);
    assert!(matches!(
        saga.apply(Input::Steer(Steer::Cancel("".into())), 5),
        Err(Refusal::Invalid { .. })
    ));
    let cancelled = saga
        .apply(Input::Steer(Steer::Cancel("计划调整".into())), 5)
        .unwrap();
    assert_eq!(cancelled.effects, vec![Effect::VoidTimers]);
    assert_eq!(saga.phase, Phase::Cancelled);
    assert!(matches!(
        saga.apply(Input::TargetsDrawn { count: 3 }, 6),
        Err(Refusal::Late(_))
    ));
    assert!(matches!(
        saga.apply(Input::Steer(Steer::Resume), 6),
        Err(Refusal::NotNow(_))
    ));
}

#[test]
fn a_task_led_by_its_only_department_goes_straight_to_the_draw() {
    let (saga, outcome) = Saga::launched(
        "TASK-2",
        "单部门抽查",
        2027,
        SCJG,
        vec![(SCJG.into(), vec!["SCJG-1".into()])],
        Ok(deadline("2027-03-04")),
        1,
    );
    assert_eq!(saga.phase, Phase::DrawingTargets);
    assert_eq!(
        outcome.effects,
        vec![Effect::VoidTimers, Effect::Send(Command::DrawTargets)]
    );
}

#[test]
fn a_deadline_the_calendar_cannot_count_asks_the_coordinator() {
    let (saga, outcome) = Saga::launched(
        "TASK-3",
        "联合抽查",
        2028,
        SCJG,
        vec![(SCJG.into(), vec![]), (STHJ.into(), vec![])],
        Err("the calendar has no year 2028".into()),
        1,
    );
    assert_eq!(saga.phase, Phase::Inviting);
    assert!(outcome.effects.is_empty(), "no timer without a deadline");
    let attention = saga.attention.unwrap();
    assert!(
        attention.reason.text().contains("2028")
            && attention.actions.contains(&"extend".to_string())
    );
}

fn withdraw(saga: &mut Saga, department: &str, reason: &str) -> Result<Outcome, Refusal> {
    saga.apply(
        Input::Withdrawn {
            department: department.into(),
            by: format!("coordinator@{department}"),
            reason: reason.into(),
        },
        9,
    )
}

#[test]
fn a_withdrawal_before_the_teams_sends_nobody_and_after_them_releases_the_department() {
    let (mut saga, _) = three_departments();
    assert!(
        matches!(
            withdraw(&mut saga, STHJ, "人员调整"),
            Err(Refusal::NotNow(_))
        ),
        "STHJ has not confirmed"
    );
    confirm(&mut saga, STHJ).unwrap();
    confirm(&mut saga, WSJ).unwrap();
    saga.apply(Input::TargetsDrawn { count: 10 }, 4).unwrap();
    // Before the teams: WSJ just sends nobody.
    let early = withdraw(&mut saga, WSJ, "执法力量调整").unwrap();
    assert_eq!(early.kind, "department.withdrawn");
    assert!(early.effects.is_empty());
    saga.apply(Input::TargetsApproved { by: "c".into() }, 5)
        .unwrap();
    let locked = saga.apply(Input::TargetsLocked { count: 10 }, 6).unwrap();
    assert_eq!(
        locked.effects,
        vec![Effect::Send(Command::DrawInspectors {
            departments: vec![SCJG.into(), STHJ.into()]
        })]
    );
    assert!(
        matches!(withdraw(&mut saga, STHJ, "x"), Err(Refusal::NotNow(_))),
        "not while the teams are drawn"
    );
    saga.apply(
        Input::TeamsDrawn {
            count: 10,
            uncounted: None,
        },
        7,
    )
    .unwrap();
    assert!(matches!(
        withdraw(&mut saga, STHJ, " "),
        Err(Refusal::Invalid { field, .. }) if field == "reason"
    ));
    assert!(matches!(
        withdraw(&mut saga, SCJG, "x"),
        Err(Refusal::Invalid { reason, .. }) if reason.text().contains("cancels")
    ));
    // After the teams: the compensation is asked for.
    let late = withdraw(&mut saga, STHJ, "突发环境事件，人员抽调").unwrap();
    assert_eq!(late.effects, vec![Effect::Release(STHJ.into())]);
    assert_eq!(saga.confirmed(), vec![SCJG.to_string()]);
    assert_eq!(saga.participants[1].answer, Answer::Withdrawn);
    assert!(matches!(
        withdraw(&mut saga, STHJ, "again"),
        Err(Refusal::NotNow(_))
    ));
}

/// A saga of SCJG and STHJ with every visit concluded.
fn in_results() -> Saga {
    let (mut saga, _) = three_departments();
    confirm(&mut saga, STHJ).unwrap();
    confirm(&mut saga, WSJ).unwrap();
    saga.apply(Input::TargetsDrawn { count: 2 }, 4).unwrap();
    saga.apply(Input::TargetsApproved { by: "c".into() }, 5)
        .unwrap();
    saga.apply(Input::TargetsLocked { count: 2 }, 6).unwrap();
    saga.apply(
        Input::TeamsDrawn {
            count: 2,
            uncounted: None,
        },
        7,
    )
    .unwrap();
    for (scheduled, concluded) in [(2, 0), (2, 2)] {
        saga.apply(
            Input::Visit {
                kind: "visit.concluded",
                detail: "".into(),
                scheduled,
                concluded,
                total: 2,
            },
            8,
        )
        .unwrap();
    }
    assert_eq!(saga.phase, Phase::Results);
    saga
}

fn transfer(saga: &mut Saga, kind: &'static str, open: u64) -> Outcome {
    saga.apply(
        Input::Transfer {
            kind,
            detail: "t".into(),
            open,
        },
        9,
    )
    .unwrap()
}

#[test]
fn final_results_close_the_saga_or_open_the_follow_up_until_every_transfer_is_closed() {
    let mut saga = in_results();
    let mut clean = saga.clone();
    let closed = clean
        .apply(
            Input::ResultsFinal {
                results: 4,
                open: 0,
            },
            9,
        )
        .unwrap();
    assert_eq!(closed.kind, "results.final");
    assert_eq!(clean.phase, Phase::Closed);
    assert!(clean.waiting_on().is_empty());

    transfer(&mut saga, "transfer.created", 1);
    assert_eq!(
        saga.phase,
        Phase::Results,
        "a transfer alone does not end the results"
    );
    saga.apply(
        Input::ResultsFinal {
            results: 4,
            open: 1,
        },
        10,
    )
    .unwrap();
    assert_eq!(saga.phase, Phase::FollowUp);
    assert!(matches!(
        saga.apply(
            Input::ResultsFinal {
                results: 4,
                open: 1
            },
            11
        ),
        Err(Refusal::Late(_))
    ));
    transfer(&mut saga, "transfer.accepted", 1);
    assert_eq!(saga.phase, Phase::FollowUp);
    let done = transfer(&mut saga, "transfer.closed", 0);
    assert_eq!(saga.phase, Phase::Closed);
    assert!(done.detail.text().contains("closed"));
    // A transfer made later (after a correction) opens the follow-up again.
    transfer(&mut saga, "transfer.created", 1);
    assert_eq!(saga.phase, Phase::FollowUp);
}

#[test]
fn results_final_before_the_last_visit_are_late_and_transfers_outlive_a_cancellation() {
    let (mut saga, _) = three_departments();
    assert!(matches!(
        saga.apply(
            Input::ResultsFinal {
                results: 1,
                open: 0
            },
            3
        ),
        Err(Refusal::Late(_))
    ));
    saga.apply(Input::Steer(Steer::Cancel("计划调整".into())), 4)
        .unwrap();
    let t = transfer(&mut saga, "transfer.closed", 0);
    assert_eq!(t.kind, "transfer.closed");
    assert_eq!(saga.phase, Phase::Cancelled);
}

#[test]
fn the_headline_changes_with_phase_departments_deadline_and_attention_not_with_a_visit_in_its_phase()
 {
    let (mut saga, _) = three_departments();
    let invited = saga.headline();
    confirm(&mut saga, STHJ).unwrap();
    assert_ne!(saga.headline(), invited, "a department confirmed");
    saga.apply(Input::TimerFired(Timer::InvitationDeadline), 5)
        .unwrap();
    saga.apply(Input::TimerFired(Timer::InvitationEscalation), 6)
        .unwrap();
    let escalated = saga.headline();
    saga.apply(Input::Steer(Steer::Extend(deadline("2027-03-09"))), 7)
        .unwrap();
    assert_ne!(
        saga.headline(),
        escalated,
        "extended: attention and deadline"
    );
    confirm(&mut saga, WSJ).unwrap();
    saga.apply(Input::TargetsDrawn { count: 3 }, 8).unwrap();
    saga.apply(Input::TargetsApproved { by: "c".into() }, 9)
        .unwrap();
    saga.apply(Input::TargetsLocked { count: 3 }, 10).unwrap();
    saga.apply(
        Input::TeamsDrawn {
            count: 3,
            uncounted: None,
        },
        11,
    )
    .unwrap();
    let visit = |scheduled, concluded| Input::Visit {
        kind: "visit.scheduled",
        detail: "".into(),
        scheduled,
        concluded,
        total: 3,
    };
    let scheduling = saga.headline();
    saga.apply(visit(1, 0), 12).unwrap();
    saga.apply(visit(2, 0), 13).unwrap();
    assert_eq!(
        saga.headline(),
        scheduling,
        "visits scheduled within the phase"
    );
    saga.apply(visit(3, 0), 14).unwrap();
    assert_eq!(saga.phase, Phase::Visiting);
    assert_ne!(
        saga.headline(),
        scheduling,
        "the last one moves the phase on"
    );
}

#[test]
fn a_provisional_deadline_counted_again_moves_its_timer_and_says_both_dates() {
    let provisional = Deadline {
        from: Some(day("2027-03-01")),
        provisional: true,
        ..deadline("2027-03-04")
    };
    let (mut saga, _) = Saga::launched(
        "TASK-1",
        "联合抽查",
        2027,
        SCJG,
        vec![
            (SCJG.into(), vec!["SCJG-1".into()]),
            (STHJ.into(), vec!["STHJ-1".into()]),
        ],
        Ok(provisional.clone()),
        1,
    );
    // Counted from another day, it is not this deadline counted again.
    let other = Deadline {
        from: Some(day("2027-03-02")),
        ..provisional.clone()
    };
    assert!(matches!(
        saga.apply(Input::Recounted(other), 2),
        Err(Refusal::NotNow(_))
    ));
    let moved = Deadline {
        date: day("2027-03-05"),
        provisional: false,
        ..provisional.clone()
    };
    let outcome = saga.apply(Input::Recounted(moved.clone()), 3).unwrap();
    assert_eq!(outcome.kind, "deadline.recounted");
    assert!(
        outcome.detail.text().contains("4 March 2027")
            && outcome.detail.text().contains("5 March 2027"),
        "{}",
        outcome.detail
    );
    assert_eq!(
        outcome.effects,
        vec![
            Effect::VoidTimers,
            Effect::SetTimer(Timer::InvitationDeadline, day("2027-03-05"))
        ]
    );
    assert_eq!(saga.deadlines.last(), Some(&moved));
    // Final now: it is not counted again.
    assert!(matches!(
        saga.apply(Input::Recounted(moved), 4),
        Err(Refusal::NotNow(_))
    ));
}

#[test]
fn teams_whose_visits_cannot_be_given_a_last_day_ask_the_coordinator_until_it_is_counted() {
    let (mut saga, _) = three_departments();
    confirm(&mut saga, STHJ).unwrap();
    confirm(&mut saga, WSJ).unwrap();
    saga.apply(Input::TargetsDrawn { count: 2 }, 4).unwrap();
    saga.apply(Input::TargetsApproved { by: "c".into() }, 5)
        .unwrap();
    saga.apply(Input::TargetsLocked { count: 2 }, 6).unwrap();
    assert!(
        matches!(saga.apply(Input::ScheduleCounted, 7), Err(Refusal::Late(_))),
        "nothing waits on it yet"
    );
    let drawn = saga
        .apply(
            Input::TeamsDrawn {
                count: 2,
                uncounted: Some("the working-day calendar does not cover 2101".into()),
            },
            8,
        )
        .unwrap();
    assert!(drawn.detail.text().contains("2101"), "{}", drawn.detail);
    let attention = saga.attention.clone().expect("the coordinator is asked");
    assert_eq!(attention.step, SCHEDULE_STEP);
    assert!(
        attention.reason.text().contains("2101"),
        "{}",
        attention.reason
    );
    let counted = saga.apply(Input::ScheduleCounted, 9).unwrap();
    assert_eq!(counted.kind, "schedule.counted");
    assert!(saga.attention.is_none());
    assert_eq!(saga.phase, Phase::Scheduling);
}

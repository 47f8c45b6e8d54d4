//! The joint-inspection saga (联合抽查) as a pure state machine: a [`Saga`] takes one [`Input`] at a time and
//! answers with what changed and the [`Effect`]s the service must carry out (commands to send, timers to set or
//! void). Nothing here does I/O; deadlines arrive already counted in working days.
//!
//! invite → draw targets → review → lock → assign inspectors → schedule visits (→ visits → results →
//! follow-up → closed, in later steps). A department that does not answer by the deadline is reminded once, then
//! the lead's coordinator is asked to extend, proceed without it, or cancel. A command that fails for good
//! stops the saga in "needs attention" until a coordinator retries or cancels.
//!
//! One piece, though long: every transition of the one state machine is here, so the whole of what a saga may
//! do is read in one place and its tests (`saga/tests.rs`) cover it together.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use suiji_api::topics::{self, Topic};
use suiji_platform::auth::Identity;
use suiji_platform::messages::Text;
use suiji_platform::validation::{Reason, msg};

/// Where a saga stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    /// Participating departments are asked to confirm.
    Inviting,
    /// The draw of targets is asked for.
    DrawingTargets,
    /// The drawn targets await the lead's review.
    ReviewingTargets,
    /// The lock is asked for.
    Locking,
    /// The teams are asked for.
    AssigningInspectors,
    /// Visits are to be scheduled within 5 working days of the assignment.
    Scheduling,
    /// Every visit is scheduled; they take place.
    Visiting,
    /// Every visit is concluded; results are entered and published.
    Results,
    /// Every result is published or withheld; transferred problems are followed up.
    FollowUp,
    /// Done: results final, every transfer closed.
    Closed,
    /// Cancelled, with a reason.
    Cancelled,
}

impl Phase {
    /// The name used in storage, events and listings.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Inviting => "inviting",
            Self::DrawingTargets => "drawing_targets",
            Self::ReviewingTargets => "reviewing_targets",
            Self::Locking => "locking",
            Self::AssigningInspectors => "assigning_inspectors",
            Self::Scheduling => "scheduling",
            Self::Visiting => "visiting",
            Self::Results => "results",
            Self::FollowUp => "follow_up",
            Self::Closed => "closed",
            Self::Cancelled => "cancelled",
        }
    }

    /// Every phase, in order.
    pub const ALL: [Phase; 11] = [
        Self::Inviting,
        Self::DrawingTargets,
        Self::ReviewingTargets,
        Self::Locking,
        Self::AssigningInspectors,
        Self::Scheduling,
        Self::Visiting,
        Self::Results,
        Self::FollowUp,
        Self::Closed,
        Self::Cancelled,
    ];

    /// The phase named `name`.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.as_str() == name)
    }
}

/// A participating department's answer to the invitation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Answer {
    /// Asked, no answer yet.
    Invited,
    /// Takes part.
    Confirmed,
    /// Declined, with a reason.
    Declined,
    /// Did not answer; the coordinator proceeded without it.
    Dropped,
    /// Confirmed, then withdrew (its inspectors released, its items taken off the pending visits).
    Withdrawn,
}

/// One department of the task.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Participant {
    /// Department code.
    pub department: String,
    /// Its items in the task.
    pub items: Vec<String>,
    /// Its answer.
    pub answer: Answer,
    /// Why it declined or was dropped.
    pub reason: String,
    /// When it answered (epoch ms; 0 before).
    pub answered_at: i64,
    /// Who answered.
    pub answered_by: String,
}

/// The attention's step while the visits' last day cannot be counted.
pub const SCHEDULE_STEP: &str = "schedule";

/// Why a saga waits on a coordinator.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attention {
    /// The step that stopped.
    pub step: String,
    /// What went wrong or what is awaited (a sentence, in states stored before the catalogs).
    pub reason: Text,
    /// Since when (epoch ms).
    pub since: i64,
    /// Actions that resolve it.
    pub actions: Vec<String>,
}

/// A step's deadline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deadline {
    /// The step, e.g. `invite`.
    pub step: String,
    /// Last day.
    pub date: NaiveDate,
    /// Working days from the start of the step.
    pub working_days: u32,
    /// The day counted from (not itself counted); kept so the deadline can be counted again when a calendar
    /// year's notice is loaded.
    #[serde(default)]
    pub from: Option<NaiveDate>,
    /// Counted through a year whose notice is not loaded yet: it may move when the notice comes.
    #[serde(default)]
    pub provisional: bool,
}

/// One thing a saga waits on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Waiting {
    /// A department's answer to the invitation.
    Answer(String),
    /// The lead's coordinator, at a step (`review`, `paused`, or the step that needs attention).
    Coordinator {
        /// The lead department.
        department: String,
        /// The step.
        step: String,
    },
    /// The draw service.
    Draw,
    /// The inspection teams.
    Teams,
    /// The departments' results.
    Results,
    /// The receivers of the open transfers.
    Transfers,
}

impl Waiting {
    /// In English words.
    pub fn words(&self) -> String {
        match self {
            Waiting::Answer(department) => department.clone(),
            Waiting::Coordinator { department, step } => {
                format!("the coordinator of {department} ({step})")
            }
            Waiting::Draw => "the draw service".into(),
            Waiting::Teams => "the inspection teams".into(),
            Waiting::Results => "the departments' results (entry, review, publication)".into(),
            Waiting::Transfers => "the receivers of the open transfers".into(),
        }
    }
}

/// One task's saga.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Saga {
    /// Task id: the saga's correlation key.
    pub task_id: String,
    /// Task name.
    pub task_name: String,
    /// Plan year.
    pub year: u32,
    /// Lead department.
    pub lead: String,
    /// Phase.
    pub phase: Phase,
    /// Departments, the lead first.
    pub participants: Vec<Participant>,
    /// Set while it waits on a coordinator.
    pub attention: Option<Attention>,
    /// Paused by a coordinator: no command is sent and no timer acts.
    pub paused: bool,
    /// The invitation's reminder has been sent.
    pub reminded: bool,
    /// Deadlines, current last.
    pub deadlines: Vec<Deadline>,
    /// Targets drawn.
    pub targets: u64,
    /// Teams drawn.
    pub teams: u64,
    /// Visits scheduled, concluded, in all.
    #[serde(default)]
    pub visits: (u64, u64, u64),
    /// Why cancelled.
    pub cancel_reason: String,
    /// The command sent for the current step, to send again on retry.
    pub pending: Option<Command>,
    /// Effects held back while paused, sent on resume.
    pub held: Vec<Effect>,
}

/// A command to another service.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Command {
    /// `draw.command.draw_targets`.
    DrawTargets,
    /// `draw.command.lock`.
    LockTargets,
    /// `draw.command.draw_inspectors` for the confirmed departments.
    DrawInspectors {
        /// Departments whose seats are drawn.
        departments: Vec<String>,
    },
}

impl Command {
    /// Its routing key.
    pub fn routing_key(&self) -> &'static str {
        match self {
            Self::DrawTargets => topics::DrawTargets::KEY,
            Self::LockTargets => topics::LockDraw::KEY,
            Self::DrawInspectors { .. } => topics::DrawInspectors::KEY,
        }
    }
}

/// Timers a saga sets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Timer {
    /// The invitation deadline: remind the departments that have not answered.
    InvitationDeadline,
    /// A working day after the reminder: escalate to the lead's coordinator.
    InvitationEscalation,
}

impl Timer {
    /// Its name in storage.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::InvitationDeadline => "invitation_deadline",
            Self::InvitationEscalation => "invitation_escalation",
        }
    }

    /// The timer named `name`.
    pub fn parse(name: &str) -> Option<Self> {
        [Self::InvitationDeadline, Self::InvitationEscalation]
            .into_iter()
            .find(|t| t.as_str() == name)
    }
}

/// What the service must do after an input.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Effect {
    /// Send a command.
    Send(Command),
    /// Set a durable timer for a day (it fires at the day's start in China time).
    SetTimer(Timer, NaiveDate),
    /// Void every timer of the saga.
    VoidTimers,
    /// Remind these departments.
    Remind(Vec<String>),
    /// Compensate a withdrawal: release the department's inspectors from the visits not yet concluded and take its
    /// items off them.
    Release(String),
}

/// A coordinator's action.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Steer {
    /// Remind the departments that have not answered.
    Remind,
    /// Extend the invitation deadline to a new day (counted by the caller).
    Extend(Deadline),
    /// Proceed without the departments that have not answered.
    ProceedWithout(String),
    /// Pause.
    Pause,
    /// Resume.
    Resume,
    /// Cancel.
    Cancel(String),
    /// Retry the failed step.
    Retry,
}

/// What happens to a saga.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    /// A department confirmed.
    Confirmed { department: String, by: String },
    /// A department declined.
    Declined {
        department: String,
        by: String,
        reason: String,
    },
    /// A department that confirmed withdraws.
    Withdrawn {
        department: String,
        by: String,
        reason: String,
    },
    /// A timer fired.
    TimerFired(Timer),
    /// The draw drew the targets.
    TargetsDrawn { count: u64 },
    /// The lead's coordinator approved the drawn targets.
    TargetsApproved { by: String },
    /// The draw locked the targets.
    TargetsLocked { count: u64 },
    /// The draw drew the teams; `uncounted` says why the visits' last day could not be counted, if it could not.
    TeamsDrawn { count: u64, uncounted: Option<Text> },
    /// The visits' last day, which could not be counted when the teams were drawn, is counted now.
    ScheduleCounted,
    /// A command failed for good.
    CommandFailed {
        command: String,
        code: String,
        reason: String,
    },
    /// A coordinator's action.
    Steer(Steer),
    /// The current deadline counted again, on a calendar with a year's notice loaded since it was counted.
    Recounted(Deadline),
    /// Publication has every result of the task published or withheld; `open` transfers are not closed.
    ResultsFinal { results: u64, open: u64 },
    /// A transfer changed (created, answered, rerouted); `open` transfers of the task are not closed after it.
    Transfer {
        /// History kind, e.g. `transfer.created`.
        kind: &'static str,
        /// Details.
        detail: Text,
        /// Open transfers after it.
        open: u64,
    },
    /// A visit changed: scheduled, findings recorded, concluded…; with the task's counts after it.
    Visit {
        /// History kind, e.g. `visit.scheduled`.
        kind: &'static str,
        /// Details.
        detail: Text,
        /// Visits scheduled.
        scheduled: u64,
        /// Visits concluded.
        concluded: u64,
        /// Visits in all.
        total: u64,
    },
}

/// Why an input was not applied. `Late` inputs are recorded in the history; refusals go back to the caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// It belongs to a step the saga has passed (a late reply, a timer after its step): recorded, not applied.
    Late(Text),
    /// It is not allowed now.
    NotNow(Text),
    /// A field is wrong.
    Invalid { field: String, reason: Reason },
    /// The caller's department has no part in what it asks to change.
    Denied { field: String, reason: Text },
}

impl Refusal {
    /// `field` is wrong, because `reason` (a message of the catalogs, or English).
    pub fn invalid(field: impl Into<String>, reason: impl Into<Reason>) -> Self {
        Self::Invalid {
            field: field.into(),
            reason: reason.into(),
        }
    }

    /// The caller's department has no part in it: refused at `field`, because `reason`.
    pub fn denied(field: impl Into<String>, reason: Text) -> Self {
        Self::Denied {
            field: field.into(),
            reason,
        }
    }
}

/// What an applied input did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// History kind, e.g. `invitation.confirmed`.
    pub kind: &'static str,
    /// Details.
    pub detail: Text,
    /// What the service must do.
    pub effects: Vec<Effect>,
}

impl Outcome {
    /// Whether it reminds departments, which hear it through the saga's announcement.
    pub fn reminds(&self) -> bool {
        self.effects.iter().any(|e| matches!(e, Effect::Remind(_)))
    }
}

/// What must change for `inspection.saga.changed` to be sent: the phase, the attention, the departments taking
/// part, the pause, the current deadline. A visit's progress within a phase is not announced; the saga's timeline
/// and its counts say it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Headline {
    phase: Phase,
    attention: Option<Attention>,
    departments: Vec<String>,
    paused: bool,
    deadline: Option<Deadline>,
}

impl Saga {
    /// Whether `department` takes part: the lead or a participating department.
    pub fn takes_part(&self, department: &str) -> bool {
        self.lead == department || self.participants.iter().any(|p| p.department == department)
    }

    /// Whether `who` reads the task's own records (its timeline, visits, progress): its departments, and those who
    /// oversee every department's work.
    pub fn readable_by(&self, who: &Identity) -> bool {
        who.oversees() || self.takes_part(&who.department)
    }

    /// What its announcement says.
    pub fn headline(&self) -> Headline {
        Headline {
            phase: self.phase,
            attention: self.attention.clone(),
            departments: self.confirmed(),
            paused: self.paused,
            deadline: self.deadlines.last().cloned(),
        }
    }

    /// A saga for a launched task: the lead takes part by launching it; the others are invited, with the
    /// invitation deadline set. A deadline that cannot be counted (the calendar does not cover its year yet)
    /// leaves the invitations open and asks the lead's coordinator to set one.
    pub fn launched(
        task_id: &str,
        task_name: &str,
        year: u32,
        lead: &str,
        departments: Vec<(String, Vec<String>)>,
        invitation: Result<Deadline, Text>,
        now: i64,
    ) -> (Self, Outcome) {
        let mut participants: Vec<Participant> = departments
            .into_iter()
            .map(|(department, items)| {
                let is_lead = department == lead;
                Participant {
                    answer: if is_lead {
                        Answer::Confirmed
                    } else {
                        Answer::Invited
                    },
                    answered_at: if is_lead { now } else { 0 },
                    answered_by: if is_lead {
                        "launch".into()
                    } else {
                        String::new()
                    },
                    department,
                    items,
                    reason: String::new(),
                }
            })
            .collect();
        participants.sort_by(|a, b| {
            (a.department != lead, &a.department).cmp(&(b.department != lead, &b.department))
        });
        let mut saga = Self {
            task_id: task_id.into(),
            task_name: task_name.into(),
            year,
            lead: lead.into(),
            phase: Phase::Inviting,
            participants,
            attention: None,
            paused: false,
            reminded: false,
            deadlines: Vec::new(),
            targets: 0,
            teams: 0,
            visits: (0, 0, 0),
            cancel_reason: String::new(),
            pending: None,
            held: Vec::new(),
        };
        let invited = saga.unanswered();
        let mut effects = Vec::new();
        let detail = match invitation {
            _ if invited.is_empty() => msg("tl-saga-started-alone"),
            Ok(deadline) => {
                let day = deadline.date;
                saga.deadlines.push(deadline);
                effects.push(Effect::SetTimer(Timer::InvitationDeadline, day));
                msg("tl-saga-started")
                    .arg("depts", invited.join(","))
                    .arg("day", day)
            }
            Err(why) => {
                saga.attention = Some(Attention {
                    step: "invite".into(),
                    reason: msg("att-invite-uncounted").then(why.clone()),
                    since: now,
                    actions: vec!["extend".into(), "proceed_without".into(), "cancel".into()],
                });
                msg("tl-saga-started-undated")
                    .arg("depts", invited.join(","))
                    .then(why)
            }
        };
        effects.extend(saga.advance_if_answered(now));
        (
            saga,
            Outcome {
                kind: "saga.started",
                detail,
                effects,
            },
        )
    }

    /// Departments that have not answered.
    pub fn unanswered(&self) -> Vec<String> {
        self.participants
            .iter()
            .filter(|p| p.answer == Answer::Invited)
            .map(|p| p.department.clone())
            .collect()
    }

    /// Departments taking part, the lead first.
    pub fn confirmed(&self) -> Vec<String> {
        self.participants
            .iter()
            .filter(|p| p.answer == Answer::Confirmed)
            .map(|p| p.department.clone())
            .collect()
    }

    /// Who or what the saga waits on.
    pub fn waiting(&self) -> Vec<Waiting> {
        let coordinator = |step: &str| Waiting::Coordinator {
            department: self.lead.clone(),
            step: step.to_string(),
        };
        if let Some(a) = &self.attention {
            return vec![coordinator(&a.step)];
        }
        if self.paused {
            return vec![coordinator("paused")];
        }
        match self.phase {
            Phase::Inviting => self.unanswered().into_iter().map(Waiting::Answer).collect(),
            Phase::DrawingTargets | Phase::Locking | Phase::AssigningInspectors => {
                vec![Waiting::Draw]
            }
            Phase::ReviewingTargets => vec![coordinator("review")],
            Phase::Scheduling | Phase::Visiting => vec![Waiting::Teams],
            Phase::Results => vec![Waiting::Results],
            Phase::FollowUp => vec![Waiting::Transfers],
            Phase::Closed | Phase::Cancelled => Vec::new(),
        }
    }

    /// Who or what the saga waits on, in words (for the command line and logs; pages render [`Saga::waiting`]).
    pub fn waiting_on(&self) -> Vec<String> {
        self.waiting().iter().map(Waiting::words).collect()
    }

    /// Replaces the open invitation deadline by the same deadline counted again (the old one stays in the list);
    /// the timeline says the old date and the new.
    fn recounted(&mut self, deadline: Deadline) -> Result<Outcome, Refusal> {
        if self.phase != Phase::Inviting {
            return Err(Refusal::NotNow(msg("nn-invitations-closed")));
        }
        let Some(current) = self.deadlines.last() else {
            return Err(Refusal::NotNow(msg("nn-no-deadline")));
        };
        if !current.provisional
            || current.step != deadline.step
            || current.working_days != deadline.working_days
            || current.from != deadline.from
        {
            return Err(Refusal::NotNow(msg("nn-deadline-not-provisional")));
        }
        let (old, new) = (current.date, deadline.date);
        let detail = suiji_platform::calendar::Due {
            date: new,
            provisional: deadline.provisional,
        }
        .recounted(&deadline.step, Some(old));
        self.deadlines.push(deadline);
        let effects = if old == new {
            Vec::new()
        } else {
            vec![
                Effect::VoidTimers,
                Effect::SetTimer(Timer::InvitationDeadline, new),
            ]
        };
        Ok(Outcome {
            kind: "deadline.recounted",
            detail,
            effects,
        })
    }

    /// Applies `input` at `now` (epoch ms).
    pub fn apply(&mut self, input: Input, now: i64) -> Result<Outcome, Refusal> {
        if let Input::Transfer { kind, detail, open } = input {
            // Problems found stay followed up whatever became of the task.
            return Ok(self.transfer_changed(kind, detail, open));
        }
        if self.phase == Phase::Cancelled {
            return Err(match input {
                Input::Steer(_) | Input::TargetsApproved { .. } => {
                    Refusal::NotNow(msg("late-cancelled"))
                }
                _ => Refusal::Late(msg("late-cancelled")),
            });
        }
        match input {
            Input::Confirmed { department, by } => self.answer(&department, &by, None, now),
            Input::Declined {
                department,
                by,
                reason,
            } => {
                if reason.trim().is_empty() {
                    return Err(Refusal::invalid("reason", msg("reason-decline")));
                }
                self.answer(&department, &by, Some(reason), now)
            }
            Input::Withdrawn {
                department,
                by,
                reason,
            } => self.withdraw(&department, &by, &reason, now),
            Input::TimerFired(timer) => self.timer(timer, now),
            Input::TargetsDrawn { count } => {
                self.expect(Phase::DrawingTargets, "targets_drawn")?;
                self.targets = count;
                self.phase = Phase::ReviewingTargets;
                self.pending = None;
                Ok(Outcome {
                    kind: "targets.drawn",
                    detail: msg("tl-targets-drawn").arg("count", count),
                    effects: Vec::new(),
                })
            }
            Input::TargetsApproved { by } => {
                if self.phase != Phase::ReviewingTargets {
                    return Err(Refusal::NotNow(
                        msg("nn-not-reviewing").arg("phase", self.phase.as_str()),
                    ));
                }
                self.phase = Phase::Locking;
                Ok(Outcome {
                    kind: "targets.approved",
                    detail: msg("tl-targets-approved")
                        .arg("count", self.targets)
                        .arg("by", by),
                    effects: self.send(Command::LockTargets),
                })
            }
            Input::TargetsLocked { count } => {
                self.expect(Phase::Locking, "targets_locked")?;
                self.targets = count;
                self.phase = Phase::AssigningInspectors;
                let departments = self.confirmed();
                Ok(Outcome {
                    kind: "targets.locked",
                    detail: msg("tl-targets-locked")
                        .arg("count", count)
                        .arg("depts", departments.join(",")),
                    effects: self.send(Command::DrawInspectors { departments }),
                })
            }
            Input::TeamsDrawn { count, uncounted } => {
                self.expect(Phase::AssigningInspectors, "teams_drawn")?;
                self.teams = count;
                self.phase = Phase::Scheduling;
                self.pending = None;
                let mut detail = msg("tl-teams-drawn").arg("count", count);
                if let Some(why) = uncounted {
                    // Never a visit without a last day in silence: the lead's coordinator is told, and the day is
                    // counted when the operators load the calendar year.
                    detail = detail.then(msg("tl-teams-uncounted")).then(why.clone());
                    self.attention = Some(Attention {
                        step: SCHEDULE_STEP.into(),
                        reason: msg("att-schedule-uncounted").then(why),
                        since: now,
                        actions: vec!["cancel".into()],
                    });
                }
                Ok(Outcome {
                    kind: "teams.drawn",
                    detail,
                    effects: Vec::new(),
                })
            }
            Input::ScheduleCounted => {
                if self
                    .attention
                    .as_ref()
                    .is_none_or(|a| a.step != SCHEDULE_STEP)
                {
                    return Err(Refusal::Late(msg("late-schedule")));
                }
                self.attention = None;
                Ok(Outcome {
                    kind: "schedule.counted",
                    detail: msg("tl-schedule-counted"),
                    effects: Vec::new(),
                })
            }
            Input::CommandFailed {
                command,
                code,
                reason,
            } => {
                if self.pending.as_ref().map(Command::routing_key) != Some(command.as_str()) {
                    return Err(Refusal::Late(msg("late-command").arg("command", &command)));
                }
                self.attention = Some(Attention {
                    step: command.clone(),
                    reason: msg("att-command-failed")
                        .arg("code", &code)
                        .arg("reason", &reason),
                    since: now,
                    actions: vec!["retry".into(), "cancel".into()],
                });
                Ok(Outcome {
                    kind: "command.failed",
                    detail: msg("tl-command-failed")
                        .arg("command", command)
                        .arg("code", code)
                        .arg("reason", reason),
                    effects: Vec::new(),
                })
            }
            Input::Steer(action) => self.steer(action, now),
            Input::Recounted(deadline) => self.recounted(deadline),
            Input::ResultsFinal { results, open } => {
                if self.phase != Phase::Results {
                    return Err(Refusal::Late(
                        msg("late-results-final").arg("phase", self.phase.as_str()),
                    ));
                }
                self.phase = if open == 0 {
                    Phase::Closed
                } else {
                    Phase::FollowUp
                };
                Ok(Outcome {
                    kind: "results.final",
                    detail: if open == 0 {
                        msg("tl-results-final-closed").arg("results", results)
                    } else {
                        msg("tl-results-final-follow-up")
                            .arg("results", results)
                            .arg("open", open)
                    },
                    effects: Vec::new(),
                })
            }
            Input::Transfer { .. } => unreachable!("handled above"),
            Input::Visit {
                kind,
                detail,
                scheduled,
                concluded,
                total,
            } => {
                if !matches!(self.phase, Phase::Scheduling | Phase::Visiting) {
                    return Err(Refusal::NotNow(
                        msg("nn-not-visiting").arg("phase", self.phase.as_str()),
                    ));
                }
                self.visits = (scheduled, concluded, total);
                if self.phase == Phase::Scheduling && scheduled == total {
                    self.phase = Phase::Visiting;
                }
                if concluded == total {
                    self.phase = Phase::Results;
                }
                Ok(Outcome {
                    kind,
                    detail: detail.then(
                        msg("tl-visit-progress")
                            .arg("scheduled", scheduled)
                            .arg("total", total)
                            .arg("concluded", concluded),
                    ),
                    effects: Vec::new(),
                })
            }
        }
    }

    /// Refuses as late unless the saga is in `phase`; `what` arrived (`targets_drawn`, `targets_locked`,
    /// `teams_drawn`).
    fn expect(&self, phase: Phase, what: &str) -> Result<(), Refusal> {
        if self.phase == phase {
            Ok(())
        } else {
            Err(Refusal::Late(
                msg("late-expected")
                    .arg("what", what)
                    .arg("phase", self.phase.as_str()),
            ))
        }
    }

    /// Sends `command` now, or holds it while paused; remembers it for a retry.
    fn send(&mut self, command: Command) -> Vec<Effect> {
        self.pending = Some(command.clone());
        if self.paused {
            self.held.push(Effect::Send(command));
            Vec::new()
        } else {
            vec![Effect::Send(command)]
        }
    }

    fn answer(
        &mut self,
        department: &str,
        by: &str,
        declined: Option<String>,
        now: i64,
    ) -> Result<Outcome, Refusal> {
        let phase = self.phase;
        let Some(p) = self
            .participants
            .iter_mut()
            .find(|p| p.department == department)
        else {
            return Err(Refusal::denied(
                "task_id",
                msg("draw-not-in-task")
                    .arg("dept", department)
                    .arg("task", &self.task_id),
            ));
        };
        if p.answer != Answer::Invited {
            return Err(Refusal::NotNow(
                msg("nn-answered-already").arg("dept", department),
            ));
        }
        if phase != Phase::Inviting {
            return Err(Refusal::Late(msg("late-answered").arg("dept", department)));
        }
        let (kind, detail) = match &declined {
            None => (
                "invitation.confirmed",
                msg("tl-invitation-confirmed").arg("dept", department),
            ),
            Some(reason) => (
                "invitation.declined",
                msg("tl-invitation-declined")
                    .arg("dept", department)
                    .arg("reason", reason),
            ),
        };
        p.answer = if declined.is_some() {
            Answer::Declined
        } else {
            Answer::Confirmed
        };
        p.reason = declined.unwrap_or_default();
        p.answered_at = now;
        p.answered_by = by.to_string();
        Ok(Outcome {
            kind,
            detail,
            effects: self.advance_if_answered(now),
        })
    }

    /// Once nobody is left to answer, closes the invitations and asks for the draw.
    fn advance_if_answered(&mut self, _now: i64) -> Vec<Effect> {
        if self.phase != Phase::Inviting || !self.unanswered().is_empty() {
            return Vec::new();
        }
        self.phase = Phase::DrawingTargets;
        self.attention = None;
        let mut effects = vec![Effect::VoidTimers];
        effects.extend(self.send(Command::DrawTargets));
        effects
    }

    fn timer(&mut self, timer: Timer, _now: i64) -> Result<Outcome, Refusal> {
        if self.phase != Phase::Inviting {
            return Err(Refusal::Late(
                msg("late-timer-closed").arg("timer", timer.as_str()),
            ));
        }
        if self.paused {
            return Err(Refusal::Late(
                msg("late-timer-paused").arg("timer", timer.as_str()),
            ));
        }
        let unanswered = self.unanswered();
        match timer {
            Timer::InvitationDeadline => {
                self.reminded = true;
                let next = self
                    .deadlines
                    .last()
                    .map(|d| d.date)
                    .and_then(|d| d.succ_opt())
                    .unwrap_or_default();
                Ok(Outcome {
                    kind: "invitation.reminded",
                    detail: msg("tl-reminded")
                        .arg("depts", unanswered.join(","))
                        .arg("day", next),
                    effects: vec![
                        Effect::Remind(unanswered),
                        Effect::SetTimer(Timer::InvitationEscalation, next),
                    ],
                })
            }
            Timer::InvitationEscalation => {
                self.attention = Some(Attention {
                    step: "invite".into(),
                    reason: msg("att-no-answer").arg("depts", unanswered.join(",")),
                    since: _now,
                    actions: vec!["extend".into(), "proceed_without".into(), "cancel".into()],
                });
                Ok(Outcome {
                    kind: "invitation.escalated",
                    detail: msg("tl-escalated")
                        .arg("depts", unanswered.join(","))
                        .arg("lead_dept", &self.lead),
                    effects: Vec::new(),
                })
            }
        }
    }

    /// A transfer changed: on the timeline; the follow-up closes when the last one is closed, and opens again when
    /// a closed saga gets a new one.
    fn transfer_changed(&mut self, kind: &'static str, detail: Text, open: u64) -> Outcome {
        let mut detail = detail;
        match self.phase {
            Phase::FollowUp if open == 0 => {
                self.phase = Phase::Closed;
                detail = detail.then(msg("tl-transfers-closed"));
            }
            Phase::Closed if open > 0 => {
                self.phase = Phase::FollowUp;
                detail = detail.then(msg("tl-follow-up-reopened"));
            }
            _ => {}
        }
        Outcome {
            kind,
            detail,
            effects: Vec::new(),
        }
    }

    /// A confirmed department other than the lead withdraws. Before the teams are drawn it simply sends nobody;
    /// once they are assigned, its inspectors are released and its items taken off the visits not yet concluded
    /// (a concluded visit keeps what happened). While the teams are being drawn it waits for them.
    fn withdraw(
        &mut self,
        department: &str,
        by: &str,
        reason: &str,
        now: i64,
    ) -> Result<Outcome, Refusal> {
        if reason.trim().is_empty() {
            return Err(Refusal::invalid("reason", msg("reason-withdraw")));
        }
        if department == self.lead {
            return Err(Refusal::invalid(
                "task_id",
                msg("lead-cancels").arg("dept", department),
            ));
        }
        let Some(p) = self
            .participants
            .iter()
            .position(|p| p.department == department)
        else {
            return Err(Refusal::denied(
                "task_id",
                msg("not-invited").arg("dept", department),
            ));
        };
        if self.participants[p].answer != Answer::Confirmed {
            return Err(Refusal::NotNow(
                msg("nn-not-taking-part").arg("dept", department),
            ));
        }
        let release = match self.phase {
            Phase::Inviting | Phase::DrawingTargets | Phase::ReviewingTargets | Phase::Locking => {
                false
            }
            Phase::AssigningInspectors => {
                return Err(Refusal::NotNow(msg("nn-teams-being-drawn")));
            }
            Phase::Scheduling | Phase::Visiting => true,
            Phase::Results | Phase::FollowUp | Phase::Closed | Phase::Cancelled => {
                return Err(Refusal::NotNow(
                    msg("nn-visits-over").arg("phase", self.phase.as_str()),
                ));
            }
        };
        let part = &mut self.participants[p];
        part.answer = Answer::Withdrawn;
        part.reason = reason.trim().to_string();
        part.answered_at = now;
        part.answered_by = by.to_string();
        Ok(Outcome {
            kind: "department.withdrawn",
            detail: msg(if release {
                "tl-withdrawn-released"
            } else {
                "tl-withdrawn"
            })
            .arg("dept", department)
            .arg("reason", reason.trim()),
            effects: if release {
                vec![Effect::Release(department.to_string())]
            } else {
                Vec::new()
            },
        })
    }

    fn steer(&mut self, action: Steer, now: i64) -> Result<Outcome, Refusal> {
        match action {
            Steer::Remind => {
                let unanswered = self.unanswered();
                if self.phase != Phase::Inviting || unanswered.is_empty() {
                    return Err(Refusal::NotNow(msg("nn-nobody-to-remind")));
                }
                Ok(Outcome {
                    kind: "steer.remind",
                    detail: msg("tl-steer-remind").arg("depts", unanswered.join(",")),
                    effects: vec![Effect::Remind(unanswered)],
                })
            }
            Steer::Extend(deadline) => {
                if self.phase != Phase::Inviting {
                    return Err(Refusal::NotNow(msg("nn-invitations-closed")));
                }
                if self
                    .deadlines
                    .last()
                    .is_some_and(|d| deadline.date <= d.date)
                {
                    return Err(Refusal::invalid("working_days", msg("extend-later")));
                }
                let day = deadline.date;
                self.deadlines.push(deadline);
                self.attention = None;
                self.reminded = false;
                Ok(Outcome {
                    kind: "steer.extend",
                    detail: msg("tl-steer-extend").arg("day", day),
                    effects: vec![
                        Effect::VoidTimers,
                        Effect::SetTimer(Timer::InvitationDeadline, day),
                    ],
                })
            }
            Steer::ProceedWithout(reason) => {
                if self.phase != Phase::Inviting {
                    return Err(Refusal::NotNow(msg("nn-invitations-closed")));
                }
                if reason.trim().is_empty() {
                    return Err(Refusal::invalid("reason", msg("reason-proceed")));
                }
                let dropped = self.unanswered();
                for p in &mut self.participants {
                    if p.answer == Answer::Invited {
                        p.answer = Answer::Dropped;
                        p.reason = reason.clone();
                        p.answered_at = now;
                    }
                }
                Ok(Outcome {
                    kind: "steer.proceed_without",
                    detail: msg("tl-steer-proceed")
                        .arg("depts", dropped.join(","))
                        .arg("reason", &reason),
                    effects: self.advance_if_answered(now),
                })
            }
            Steer::Pause => {
                if self.paused {
                    return Err(Refusal::NotNow(msg("nn-already-paused")));
                }
                self.paused = true;
                Ok(Outcome {
                    kind: "steer.pause",
                    detail: msg("tl-steer-pause"),
                    effects: Vec::new(),
                })
            }
            Steer::Resume => {
                if !self.paused {
                    return Err(Refusal::NotNow(msg("nn-not-paused")));
                }
                self.paused = false;
                Ok(Outcome {
                    kind: "steer.resume",
                    detail: msg("tl-steer-resume").arg("held", self.held.len()),
                    effects: std::mem::take(&mut self.held),
                })
            }
            Steer::Cancel(reason) => {
                if reason.trim().is_empty() {
                    return Err(Refusal::invalid("reason", msg("reason-cancel")));
                }
                let from = self.phase;
                self.phase = Phase::Cancelled;
                self.cancel_reason = reason.clone();
                self.attention = None;
                self.pending = None;
                self.held.clear();
                Ok(Outcome {
                    kind: "saga.cancelled",
                    detail: msg("tl-cancelled")
                        .arg("phase", from.as_str())
                        .arg("reason", &reason),
                    effects: vec![Effect::VoidTimers],
                })
            }
            Steer::Retry => {
                let Some(attention) = self.attention.clone() else {
                    return Err(Refusal::NotNow(msg("nn-nothing-failed")));
                };
                let Some(command) = self.pending.clone() else {
                    return Err(Refusal::NotNow(
                        msg("nn-not-retriable").arg("step", &attention.step),
                    ));
                };
                self.attention = None;
                Ok(Outcome {
                    kind: "steer.retry",
                    detail: msg("tl-steer-retry")
                        .arg("command", command.routing_key())
                        .then(attention.reason),
                    effects: self.send(command),
                })
            }
        }
    }
}

#[cfg(test)]
mod tests;

//! The saga's use cases: starting one per launched task, feeding it the draw's replies and the timers, and
//! applying coordinators' actions. Every input is applied in one transaction with its effects: the saga row
//! (version checked), the history line, the commands and events (outbox) and the timers, so a crash anywhere
//! loses nothing and a redelivery repeats nothing.

use std::sync::Arc;
use suiji_platform::auth::{ROLE_INSPECTION_COORDINATOR, ROLE_SERVICE};

use chrono::NaiveDate;
use prost::Message;
use sqlx::AnyConnection;
use suiji_api::directories::v1::directories_service_client::DirectoriesServiceClient;
use suiji_api::draw::v1 as draw;
use suiji_api::inspection::v1 as pb;
use suiji_api::planning::v1 as plan;
use suiji_api::topics;
use suiji_platform::audit::{AuditEvent, digest_of};
use suiji_platform::auth::{Identity, ROLE_MEMBER, Tokens};
use suiji_platform::calendar::{Calendar, CalendarError, Calendars};
use suiji_platform::config::InspectionSettings;
use suiji_platform::db::{Db, Tx, now_ms};
use suiji_platform::error::Error;
use suiji_platform::grpc::Bearer;
use suiji_platform::jobs;
use suiji_platform::messages::{Text, msg};
use suiji_platform::outbox::{self, Event, Prepared, Relay};
use suiji_platform::paging::Page;
use suiji_platform::validation::{Denied, NotNow, Violations};

use crate::domain::saga::{
    Command, Deadline, Effect, Input, Outcome, Phase, Refusal, Saga, Steer, Timer,
};
use crate::domain::transfer::{self, Transfer};
use crate::domain::visit::{self, Visit};
use crate::store::{self, Entry, Filter, Stored, StoredTransfer, StoredVisit};

mod teams;
mod transfers;
mod verification;
mod visits;

pub use verification::Verified;
use verification::visit_code;
use visits::on_team;

/// Working days within which a visit is held after the assignment (seed 001: 5个工作日内).
pub const VISIT_WORKING_DAYS: u32 = 5;

/// How often a user action is retried when another writer changed the saga meanwhile.
const CONFLICT_RETRIES: usize = 5;

/// What an input makes of a saga before it is written (`Sagas::step`).
struct Step {
    /// The saga after it, at its new version.
    stored: Stored,
    /// The version it was read at.
    read: i64,
    /// Its line in the history.
    entry: Entry,
    /// What it sets off.
    outcome: Outcome,
    /// The refusal of an input that came after its step (recorded, not applied).
    late: Option<Refusal>,
    /// Events to send after the outcome's own: the announcement of the change and what goes with it.
    after: Vec<Event>,
}

/// The sagas.
#[derive(Clone)]
pub struct Sagas {
    db: Db,
    relay: Relay,
    calendar: Calendars,
    settings: InspectionSettings,
    /// The directories, for the team's names and certificates a target checks.
    directories: tonic::transport::Channel,
    /// The draw, whose teams become visits.
    draw: tonic::transport::Channel,
    tokens: Tokens,
    /// Launches by task, decoded: a task's launch never changes once its saga is stored.
    launches: moka::sync::Cache<String, Arc<plan::TaskLaunchedEvent>>,
}

/// How many decoded launches the inspection service keeps in memory.
const LAUNCHES_CACHED: u64 = 4096;

use suiji_platform::calendar::start_of_day_ms as start_of;
pub use suiji_platform::calendar::today;

fn refused(r: Refusal) -> Error {
    match r {
        Refusal::Late(why) | Refusal::NotNow(why) => NotNow(why).into(),
        Refusal::Invalid { field, reason } => Violations::one(field, reason).into(),
        Refusal::Denied { field, reason } => Denied::new(field, reason).into(),
    }
}

impl Sagas {
    /// The database.
    pub fn db(&self) -> &Db {
        &self.db
    }

    /// Sagas in `db`, sending through `relay`, reading inspectors from `directories` and teams from `draw`.
    pub fn new(
        db: Db,
        relay: Relay,
        calendar: Calendars,
        settings: InspectionSettings,
        directories: tonic::transport::Channel,
        draw: tonic::transport::Channel,
        tokens: Tokens,
    ) -> Self {
        Self {
            db,
            relay,
            calendar,
            settings,
            directories,
            draw,
            tokens,
            launches: moka::sync::Cache::new(LAUNCHES_CACHED),
        }
    }

    /// The launch of `task_id`'s saga, decoded once and then kept.
    async fn launch(
        &self,
        conn: &mut AnyConnection,
        task_id: &str,
    ) -> Result<Arc<plan::TaskLaunchedEvent>, Error> {
        if let Some(launch) = self.launches.get(task_id) {
            return Ok(launch);
        }
        let launch = Arc::new(
            plan::TaskLaunchedEvent::decode(store::launched(conn, task_id).await?.as_slice())
                .map_err(|e| Error::Internal(format!("stored launch: {e}")))?,
        );
        self.launches.insert(task_id.to_string(), launch.clone());
        Ok(launch)
    }

    /// The invitation deadline from `from`: the configured number of working days.
    fn invitation_deadline(&self, from: NaiveDate) -> Result<Deadline, Text> {
        let n = self.settings.invitation_working_days;
        self.calendar
            .current()
            .add_working_days(from, n)
            .map(|due| Deadline {
                step: "invite".into(),
                date: due.date,
                working_days: n,
                from: Some(from),
                provisional: due.provisional,
            })
            .map_err(|e| e.text())
    }

    /// Starts the saga of a launched task (once: a redelivered launch finds it started).
    pub async fn on_launched(
        &self,
        tx: &mut Tx,
        e: &plan::TaskLaunchedEvent,
        cause: &str,
    ) -> Result<(), Error> {
        let task = e.task.clone().unwrap_or_default();
        let content = task.content.clone().unwrap_or_default();
        let entry = task.entry.clone().unwrap_or_default();
        let participants = if content.participants.is_empty() {
            entry.participants
        } else {
            content.participants
        };
        let departments = participants
            .into_iter()
            .map(|p| (p.department_code, p.item_codes))
            .collect();
        let now = now_ms();
        let name = if content.name.is_empty() {
            entry.task_name
        } else {
            content.name
        };
        let (saga, outcome) = Saga::launched(
            &task.id,
            &name,
            task.year,
            &task.lead_department_code,
            departments,
            self.invitation_deadline(today()),
            now,
        );
        let first = Entry {
            seq: 1,
            at: now,
            actor: "planning".into(),
            kind: outcome.kind.into(),
            detail: outcome.detail.clone(),
            phase: saga.phase,
            applied: true,
            cause: cause.into(),
        };
        if store::insert(tx, &saga, &first, &e.encode_to_vec()).await? {
            let announced = vec![announcement(&saga, &outcome).caused_by(cause)];
            self.effects(tx, &saga, &outcome, cause, now, announced)
                .await?;
        }
        Ok(())
    }

    /// Applies `input` to the saga of `task_id` inside `tx`. A late input is recorded and answered with
    /// `Ok(Err(Late))`; refusals are not recorded.
    pub async fn apply_in(
        &self,
        tx: &mut Tx,
        task_id: &str,
        input: Input,
        actor: &str,
        cause: &str,
    ) -> Result<Result<Stored, Refusal>, Error> {
        let Some(stored) = store::get(tx, task_id).await? else {
            return Err(Error::NotFound(msg("nf-saga").arg("task", task_id)));
        };
        self.apply_to(tx, stored, input, actor, cause, Vec::new())
            .await
    }

    /// What `input` makes of `stored`, before anything is written: the saga after it, its history entry, and
    /// what it sets off. `also` are events to announce with the change when it is applied. A late input makes
    /// an entry to record and its refusal; other refusals make nothing.
    fn step(
        mut stored: Stored,
        input: Input,
        actor: &str,
        cause: &str,
        also: Vec<Event>,
    ) -> Result<Step, Refusal> {
        let now = now_ms();
        let read = stored.version;
        let before = stored.saga.headline();
        let (outcome, late) = match stored.saga.apply(input, now) {
            Ok(outcome) => (outcome, None),
            Err(Refusal::Late(why)) => (
                Outcome {
                    kind: "late",
                    detail: why.clone(),
                    effects: Vec::new(),
                },
                Some(Refusal::Late(why)),
            ),
            Err(other) => return Err(other),
        };
        let entry = Entry {
            seq: read + 1,
            at: now,
            actor: actor.into(),
            kind: outcome.kind.into(),
            detail: outcome.detail.clone(),
            phase: stored.saga.phase,
            applied: late.is_none(),
            cause: cause.into(),
        };
        stored.version = read + 1;
        stored.updated_at = now;
        let mut after = Vec::with_capacity(also.len() + 1);
        if late.is_none() {
            if outcome.reminds() || stored.saga.headline() != before {
                after.push(announcement(&stored.saga, &outcome).caused_by(cause));
            }
            after.extend(also);
        }
        Ok(Step {
            stored,
            read,
            entry,
            outcome,
            late,
            after,
        })
    }

    /// Applies `input` to `stored`, read in `tx`; see [`Self::apply_in`]. `also` are events to announce with
    /// the change when it is applied.
    async fn apply_to(
        &self,
        tx: &mut Tx,
        stored: Stored,
        input: Input,
        actor: &str,
        cause: &str,
        also: Vec<Event>,
    ) -> Result<Result<Stored, Refusal>, Error> {
        let step = match Self::step(stored, input, actor, cause, also) {
            Ok(step) => step,
            Err(refusal) => return Ok(Err(refusal)),
        };
        // A step that only sends (commands, its announcement) is written with its events at once; one that also
        // sets timers or releases a department carries those out after its change (`effects`), events and all.
        let only_sends = step.late.is_none()
            && step
                .outcome
                .effects
                .iter()
                .all(|e| matches!(e, Effect::Send(_) | Effect::Remind(_)));
        let saga = &step.stored.saga;
        let (sent, after): (Vec<Event>, _) = if only_sends {
            let commands = step.outcome.effects.iter().filter_map(|e| match e {
                Effect::Send(command) => Some(command_event(saga, command).caused_by(cause)),
                _ => None,
            });
            (commands.chain(step.after).collect(), Vec::new())
        } else {
            (Vec::new(), step.after)
        };
        let sent = Prepared::new(crate::NAME, sent);
        store::update(tx, saga, step.read, &step.entry, &sent).await?;
        if let Some(late) = step.late {
            return Ok(Err(late));
        }
        if !only_sends {
            self.effects(tx, saga, &step.outcome, cause, step.entry.at, after)
                .await?;
        }
        Ok(Ok(step.stored))
    }

    /// Applies `input` in a transaction of its own, reading again when another writer got there first.
    pub async fn apply(
        &self,
        task_id: &str,
        input: Input,
        actor: &str,
        cause: &str,
    ) -> Result<Result<Stored, Refusal>, Error> {
        let mut attempt = 0;
        loop {
            let mut tx = self.db.begin().await?;
            match self
                .apply_in(&mut tx, task_id, input.clone(), actor, cause)
                .await
            {
                Err(Error::Conflict(_)) if attempt < CONFLICT_RETRIES => attempt += 1,
                Err(e) => return Err(e),
                Ok(result) => {
                    tx.commit().await?;
                    self.relay.notify();
                    return Ok(result);
                }
            }
        }
    }

    /// Carries out an outcome's effects, then sends `after` (its announcement, what goes with it); the events go
    /// into the outbox together, in order.
    async fn effects(
        &self,
        tx: &mut Tx,
        saga: &Saga,
        outcome: &Outcome,
        cause: &str,
        now: i64,
        after: Vec<Event>,
    ) -> Result<(), Error> {
        let mut events = Vec::new();
        for effect in &outcome.effects {
            match effect {
                Effect::Send(command) => events.push(command_event(saga, command).caused_by(cause)),
                Effect::SetTimer(timer, day) => {
                    store::set_timer(tx, &saga.task_id, *timer, start_of(*day), now).await?;
                }
                Effect::VoidTimers => store::void_timers(tx, &saga.task_id).await?,
                // Reminders reach the departments through the change event below, which names them.
                Effect::Remind(_) => {}
                Effect::Release(department) => {
                    // The release announces events of its own: what came before goes out before them.
                    outbox::enqueue_all(tx, crate::NAME, std::mem::take(&mut events)).await?;
                    self.release(tx, saga, department, cause, now).await?;
                }
            }
        }
        events.extend(after);
        outbox::enqueue_all(tx, crate::NAME, events).await?;
        Ok(())
    }

    /// Compensates a withdrawal: `department`'s members and items leave every visit of the task not yet
    /// concluded (a record form it had answered is signed and confirmed anew), and the directories are told to
    /// end their open assignments.
    async fn release(
        &self,
        tx: &mut Tx,
        saga: &Saga,
        department: &str,
        cause: &str,
        now: i64,
    ) -> Result<(), Error> {
        let mut released = Vec::new();
        let mut page = Page {
            size: 500,
            after: String::new(),
        };
        loop {
            let visits = store::list_visits(tx, &saga.task_id, &page).await?;
            for mut stored in visits.iter().cloned() {
                let v = &mut stored.visit;
                if v.outcome.is_some() || !v.team.iter().any(|m| m.department == department) {
                    continue;
                }
                released.extend(
                    v.team
                        .iter()
                        .filter(|m| m.department == department)
                        .map(|m| m.inspector_id.clone()),
                );
                v.withdraw(department);
                store::update_visit(tx, v, stored.version, now).await?;
            }
            match visits.last() {
                Some(last) if visits.len() as i64 == page.size => {
                    page.after = last.visit.id.clone()
                }
                _ => break,
            }
        }
        let reason = saga
            .participants
            .iter()
            .find(|p| p.department == department)
            .map(|p| p.reason.clone())
            .unwrap_or_default();
        let event = pb::AssignmentReleasedEvent {
            task_id: saga.task_id.clone(),
            department_code: department.to_string(),
            inspector_ids: released,
            reason,
        };
        outbox::enqueue(
            tx,
            crate::NAME,
            Event::new::<topics::AssignmentReleased>(&saga.task_id, &event).caused_by(cause),
        )
        .await?;
        Ok(())
    }

    /// A result published with the disposal "transferred" becomes a tracked transfer (once).
    pub async fn on_result_published(
        &self,
        tx: &mut Tx,
        e: &suiji_api::publication::v1::ResultPublishedEvent,
        cause: &str,
    ) -> Result<(), Error> {
        use suiji_api::publication::v1::Disposal;
        if e.disposal != Disposal::Transferred as i32 || e.disposal_department_code.is_empty() {
            return Ok(());
        }
        let Some(saga) = store::get(tx, &e.task_id).await? else {
            return Ok(());
        };
        let now = now_ms();
        let t = Transfer::open(
            format!(
                "{}/{}/{}/publication",
                e.visit_id, e.department_code, e.item_code
            ),
            transfer::Route {
                task_id: &e.task_id,
                visit_id: &e.visit_id,
                target_id: &e.target_id,
                item: &e.item_code,
                from: &e.department_code,
                to: &e.disposal_department_code,
            },
            transfer::Kind::Department,
            e.problems.join("; "),
            "publication",
            msg("tr-created-published").arg("to_dept", &e.disposal_department_code),
            now,
        );
        if store::insert_transfer(tx, &t, now).await? {
            let detail = msg("tl-transfer-published")
                .arg("transfer", &t.id)
                .arg("from_dept", &t.from)
                .arg("to_dept", &t.to);
            self.transfer_timeline(
                tx,
                &saga.saga.task_id,
                "transfer.created",
                detail,
                "publication",
                cause,
            )
            .await?;
        }
        Ok(())
    }

    /// Every result of a task is published or withheld: the saga follows up or closes.
    pub async fn on_task_completed(
        &self,
        tx: &mut Tx,
        e: &suiji_api::publication::v1::TaskCompletedEvent,
        cause: &str,
    ) -> Result<(), Error> {
        if store::get(tx, &e.task_id).await?.is_none() {
            return Ok(());
        }
        let open = store::open_transfers(tx, &e.task_id).await?;
        let input = Input::ResultsFinal {
            results: e.results,
            open,
        };
        // A completion before the last visits is recorded as late, not applied.
        let _ = self
            .apply_in(tx, &e.task_id, input, "publication", cause)
            .await?;
        Ok(())
    }

    /// Runs the timers due now; true when it ran any.
    pub async fn fire_due_timers(&self) -> Result<bool, Error> {
        let due = {
            let mut conn = self.db.pool().acquire().await?;
            store::due_timers(&mut conn, now_ms(), 32).await?
        };
        for (id, task_id, kind) in &due {
            let Some(timer) = Timer::parse(kind) else {
                tracing::warn!(%kind, %task_id, "unknown timer dropped");
                let mut conn = self.db.pool().acquire().await?;
                store::take_timer(&mut conn, id).await?;
                continue;
            };
            let mut tx = self.db.begin().await?;
            if !store::take_timer(&mut tx, id).await? {
                continue;
            }
            match self
                .apply_in(&mut tx, task_id, Input::TimerFired(timer), "timer", id)
                .await
            {
                Ok(_) => {
                    tx.commit().await?;
                    self.relay.notify();
                }
                // Another writer changed the saga: the timer stays and fires on the next round.
                Err(Error::Conflict(_)) => drop(tx),
                Err(e) => return Err(e),
            }
        }
        Ok(!due.is_empty())
    }

    /// A saga with its history.
    pub async fn get(&self, task_id: &str) -> Result<(Stored, Vec<Entry>), Error> {
        let stored = self.load(task_id).await?;
        let mut conn = self.db.pool().acquire().await?;
        let history = store::history(&mut conn, task_id).await?;
        Ok((stored, history))
    }

    /// What a page watching `task_id` compares to see a change: the saga's version and phase, and the time of the
    /// last change to the saga, its visits or its transfers; `None` when there is no such saga.
    pub async fn fingerprint(&self, task_id: &str) -> Result<Option<(i64, String, i64)>, Error> {
        let mut conn = self.db.pool().acquire().await?;
        store::fingerprint(&mut conn, task_id).await
    }

    /// The saga of `task_id` without its history, when `who` reads its records; `Denied` otherwise.
    pub async fn readable(&self, who: &Identity, task_id: &str) -> Result<Stored, Error> {
        let stored = self.load(task_id).await?;
        may_read(who, &stored.saga)?;
        Ok(stored)
    }

    /// A saga without its history.
    async fn load(&self, task_id: &str) -> Result<Stored, Error> {
        let mut conn = self.db.pool().acquire().await?;
        store::get(&mut conn, task_id)
            .await?
            .ok_or_else(|| Error::NotFound(msg("nf-saga").arg("task", task_id)))
    }

    /// A page of sagas: of the caller's own department unless they oversee every department's.
    pub async fn list(
        &self,
        who: &Identity,
        filter: &Filter,
        page: &Page,
    ) -> Result<Vec<Stored>, Error> {
        let mut filter = filter.clone();
        if !who.oversees() {
            if !filter.department.is_empty() && filter.department != who.department {
                return Err(Denied::new(
                    "department_code",
                    msg("denied-own-sagas").arg("dept", &who.department),
                )
                .into());
            }
            filter.department = who.department.clone();
        }
        let filter = &filter;
        let mut conn = self.db.pool().acquire().await?;
        store::list(&mut conn, filter, page).await
    }

    /// The caller's department confirms or declines its part in a task.
    pub async fn respond(
        &self,
        who: &Identity,
        task_id: &str,
        accept: bool,
        reason: &str,
    ) -> Result<Stored, Error> {
        require_role(who, "task_id")?;
        let input = if accept {
            Input::Confirmed {
                department: who.department.clone(),
                by: who.subject.clone(),
            }
        } else {
            Input::Declined {
                department: who.department.clone(),
                by: who.subject.clone(),
                reason: reason.to_string(),
            }
        };
        self.user_action(who, task_id, input).await
    }

    /// The caller's department withdraws from a task it confirmed (its coordinator).
    pub async fn withdraw(
        &self,
        who: &Identity,
        task_id: &str,
        reason: &str,
    ) -> Result<Stored, Error> {
        require_role(who, "task_id")?;
        let input = Input::Withdrawn {
            department: who.department.clone(),
            by: who.subject.clone(),
            reason: reason.to_string(),
        };
        self.user_action(who, task_id, input).await
    }

    /// The lead's coordinator approves the drawn targets, which asks the draw to lock them.
    pub async fn approve_targets(
        &self,
        who: &Identity,
        task_id: &str,
        expected_version: i64,
    ) -> Result<Stored, Error> {
        let stored = self.load(task_id).await?;
        require_lead(who, &stored.saga)?;
        if expected_version != 0 && expected_version != stored.version {
            return Err(Error::Conflict(format!(
                "the saga is at version {}, not {expected_version}: review it again",
                stored.version
            )));
        }
        self.user_action(
            who,
            task_id,
            Input::TargetsApproved {
                by: who.subject.clone(),
            },
        )
        .await
    }

    /// The lead's coordinator steers one saga.
    pub async fn steer(
        &self,
        who: &Identity,
        task_id: &str,
        action: pb::Action,
        reason: &str,
        working_days: u32,
    ) -> Result<Stored, Error> {
        let stored = self.load(task_id).await?;
        require_lead(who, &stored.saga)?;
        let steer = match action {
            pb::Action::Remind => Steer::Remind,
            pb::Action::Extend => {
                if working_days == 0 {
                    return Err(Violations::one("working_days", msg("extend-min")).into());
                }
                let from = stored
                    .saga
                    .deadlines
                    .last()
                    .map_or_else(today, |d| d.date.max(today()));
                let due = self
                    .calendar
                    .current()
                    .add_working_days(from, working_days)
                    .map_err(|e| Violations::one("working_days", e.text()))?;
                Steer::Extend(Deadline {
                    step: "invite".into(),
                    date: due.date,
                    working_days,
                    from: Some(from),
                    provisional: due.provisional,
                })
            }
            pb::Action::ProceedWithout => Steer::ProceedWithout(reason.to_string()),
            pb::Action::Pause => Steer::Pause,
            pb::Action::Resume => Steer::Resume,
            pb::Action::Cancel => Steer::Cancel(reason.to_string()),
            pb::Action::Retry => Steer::Retry,
            pb::Action::Unspecified => {
                return Err(Violations::one("action", msg("required")).into());
            }
        };
        self.user_action(who, task_id, Input::Steer(steer)).await
    }

    /// Counts every provisional deadline again on the calendar as loaded now (after an operator loaded a year's
    /// notice): the open invitation deadlines and the last days of visits not yet scheduled. Each one counted again
    /// is recorded on its saga's timeline with the old date and the new; how many were recorded.
    pub async fn recount(&self) -> Result<u64, Error> {
        let calendar = self.calendar.current();
        Ok(self.recount_invitations(&calendar).await? + self.recount_visits(&calendar).await?)
    }

    /// The provisional invitation deadlines of the sagas still inviting.
    async fn recount_invitations(&self, calendar: &Calendar) -> Result<u64, Error> {
        let filter = Filter {
            phases: vec![Phase::Inviting],
            ..Default::default()
        };
        let mut page = Page {
            size: 200,
            after: String::new(),
        };
        let mut recorded = 0;
        loop {
            let sagas = {
                let mut conn = self.db.pool().acquire().await?;
                store::list(&mut conn, &filter, &page).await?
            };
            let Some(last) = sagas.last() else { break };
            page.after = last.saga.task_id.clone();
            for stored in sagas {
                let saga = &stored.saga;
                let Some(d) = saga.deadlines.last().filter(|d| d.provisional) else {
                    continue;
                };
                let Some(from) = d.from else { continue };
                let due = match calendar.add_working_days(from, d.working_days) {
                    Ok(due) => due,
                    Err(e) => {
                        tracing::error!(task = %saga.task_id, error = %e, "a deadline cannot be counted again");
                        continue;
                    }
                };
                if due.date == d.date && due.provisional {
                    continue;
                }
                let again = Deadline {
                    date: due.date,
                    provisional: due.provisional,
                    ..d.clone()
                };
                let cause = format!("calendar:{}", uuid::Uuid::now_v7());
                let subject = format!("system:{}", crate::NAME);
                if self
                    .apply(&saga.task_id, Input::Recounted(again), &subject, &cause)
                    .await?
                    .is_ok()
                {
                    recorded += 1;
                }
            }
        }
        Ok(recorded)
    }

    /// Whether `day` is a working day; a day the calendar does not cover is refused by name.
    pub fn working_day(&self, day: NaiveDate) -> Result<bool, Error> {
        self.calendar
            .current()
            .is_working_day(day)
            .map_err(|e| Violations::one("date", e.text()).into())
    }

    async fn user_action(
        &self,
        who: &Identity,
        task_id: &str,
        input: Input,
    ) -> Result<Stored, Error> {
        let cause = format!("grpc:{}", uuid::Uuid::now_v7());
        self.apply(task_id, input, &who.subject, &cause)
            .await?
            .map_err(refused)
    }
}

fn require_role(who: &Identity, field: &str) -> Result<(), Error> {
    if who.has_role(ROLE_INSPECTION_COORDINATOR) {
        Ok(())
    } else {
        Err(Denied::new(
            field,
            msg("denied-role").arg("role", ROLE_INSPECTION_COORDINATOR),
        )
        .into())
    }
}

fn require_lead(who: &Identity, saga: &Saga) -> Result<(), Error> {
    require_role(who, "task_id")?;
    if who.department != saga.lead {
        return Err(Denied::new("task_id", msg("denied-saga-lead").arg("dept", &saga.lead)).into());
    }
    Ok(())
}

/// The message carrying `command` to its service.
/// `inspection.saga.changed` for `saga` after `outcome`.
fn announcement(saga: &Saga, outcome: &Outcome) -> Event {
    let changed = pb::SagaChangedEvent {
        task_id: saga.task_id.clone(),
        phase: saga.phase.as_str().into(),
        kind: outcome.kind.into(),
        departments: saga.confirmed(),
        attention: saga
            .attention
            .as_ref()
            .map(|a| format!("{}: {}", a.step, a.reason.text()))
            .unwrap_or_default(),
        detail: outcome.detail.text(),
        detail_text: Some(outcome.detail.to_pb()),
    };
    Event::new::<topics::SagaChanged>(&saga.task_id, &changed)
}

fn command_event(saga: &Saga, command: &Command) -> Event {
    let task_id = saga.task_id.clone();
    let actor = format!("saga:{task_id}");
    match command {
        Command::DrawTargets => Event::new::<topics::DrawTargets>(
            &saga.task_id,
            &draw::DrawTargetsCommand {
                request: Some(draw::DrawTargetsRequest {
                    task_id,
                    ..Default::default()
                }),
                actor,
            },
        ),
        Command::LockTargets => {
            Event::new::<topics::LockDraw>(&saga.task_id, &draw::LockDrawCommand { task_id, actor })
        }
        Command::DrawInspectors { departments } => Event::new::<topics::DrawInspectors>(
            &saga.task_id,
            &draw::DrawInspectorsCommand {
                request: Some(draw::DrawInspectorsRequest {
                    task_id,
                    departments: departments.clone(),
                    ..Default::default()
                }),
                actor,
            },
        ),
    }
}

/// Refuses `who` unless they read `saga`'s own records (its timeline, visits and progress).
fn may_read(who: &Identity, saga: &Saga) -> Result<(), Denied> {
    if saga.readable_by(who) {
        return Ok(());
    }
    let departments: Vec<&str> = saga
        .participants
        .iter()
        .map(|p| p.department.as_str())
        .collect();
    Err(Denied::new(
        "task_id",
        msg("denied-task-reader")
            .arg("task", &saga.task_id)
            .arg("depts", departments.join(","))
            .arg("by_dept", &who.department),
    ))
}

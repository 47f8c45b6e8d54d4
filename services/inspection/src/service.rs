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

/// Working days within which a visit is held after the assignment (seed 001: 5个工作日内).
pub const VISIT_WORKING_DAYS: u32 = 5;

/// How often a user action is retried when another writer changed the saga meanwhile.
const CONFLICT_RETRIES: usize = 5;

/// What a visit's change came to (`Sagas::change_read`).
enum Changed {
    /// Written: the visit, its saga and its task's counts as written.
    Written(StoredVisit, Box<(Stored, store::Counts)>),
    /// Nothing to change: the visit as read.
    Unchanged(StoredVisit),
}

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
    /// Visits as this process last read or wrote them, by id.
    visits_seen: moka::sync::Cache<String, StoredVisit>,
    /// Sagas with their tasks' visit counts, as this process last wrote them with a visit's change, by task.
    counted_seen: moka::sync::Cache<String, (Stored, store::Counts)>,
}

/// How many decoded launches the inspection service keeps in memory.
const LAUNCHES_CACHED: u64 = 4096;
/// How many visits, and sagas with their visit counts, the inspection service remembers for coordinators' next
/// calls (a visit's change then needs no read: the write checks the versions, and what it refuses is read
/// again).
const VISITS_SEEN: u64 = 65_536;
const COUNTED_SEEN: u64 = 4096;

/// What a target sees when it checks a visit's code.
#[derive(Debug, Clone)]
pub struct Verified {
    /// The visit.
    pub visit: Visit,
    /// Task name.
    pub task_name: String,
    /// The team, with what the directories hold on each member.
    pub team: Vec<(visit::Member, Option<suiji_api::directories::v1::Inspector>)>,
}

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
            visits_seen: moka::sync::Cache::new(VISITS_SEEN),
            counted_seen: moka::sync::Cache::new(COUNTED_SEEN),
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

    /// Every team of `task_id` as drawn, page by page from the draw (the event that says they are drawn does not
    /// carry a province's teams).
    async fn drawn_teams(&self, task_id: &str) -> Result<Vec<draw::Team>, Error> {
        let token = self
            .tokens
            .service_token(crate::NAME)
            .await
            .map_err(|e| Error::Internal(format!("a token to call another service: {e}")))?;
        let mut client =
            suiji_api::draw::v1::draw_service_client::DrawServiceClient::with_interceptor(
                self.draw.clone(),
                Bearer::new(Some(&token)),
            )
            .max_decoding_message_size(64 << 20);
        let mut teams = Vec::new();
        let mut page_token = String::new();
        loop {
            let page = client
                .list_teams(draw::ListTeamsRequest {
                    task_id: task_id.to_string(),
                    page_size: 10_000,
                    page_token,
                    ..Default::default()
                })
                .await
                .map_err(|s| Error::Internal(format!("the draw's teams of {task_id}: {s}")))?
                .into_inner();
            teams.extend(page.teams);
            if page.next_page_token.is_empty() {
                return Ok(teams);
            }
            page_token = page.next_page_token;
        }
    }

    /// Where the public verification page is.
    pub fn public_url(&self) -> &str {
        &self.settings.public_url
    }

    /// A target checks the code a team showed: the visit, unless unknown or concluded (`Ok(None)`), with its
    /// team's names and certificates; the check is recorded on the visit.
    pub async fn verify_code(&self, code: &str) -> Result<Option<Verified>, Error> {
        let code = code.trim().to_uppercase();
        if code.is_empty() {
            return Err(Violations::one("code", msg("required")).into());
        }
        let mut tx = self.db.begin().await?;
        let Some(mut stored) = store::visit_by_code(&mut tx, &code).await? else {
            return Ok(None);
        };
        if stored.visit.outcome.is_some() {
            return Ok(None);
        }
        let now = now_ms();
        stored.visit.record_verification(now);
        store::update_visit(&mut tx, &stored.visit, stored.version, now).await?;
        let saga = store::get(&mut tx, &stored.visit.task_id).await?;
        tx.commit().await?;
        let token = self
            .tokens
            .service_token(crate::NAME)
            .await
            .map_err(|e| Error::Internal(format!("a token to call another service: {e}")))?;
        let mut client = DirectoriesServiceClient::with_interceptor(
            self.directories.clone(),
            Bearer::new(Some(&token)),
        );
        // The team's departments' inspectors, in one list (none to ask for when the team is empty).
        let mut known = std::collections::HashMap::new();
        let departments = stored.visit.departments();
        let mut page_token = String::new();
        while !departments.is_empty() {
            let page = client
                .list_inspectors(suiji_api::directories::v1::ListInspectorsRequest {
                    department_codes: departments.clone(),
                    page_size: 500,
                    page_token,
                    ..Default::default()
                })
                .await
                .map_err(|s| Error::Internal(format!("the directories: {s}")))?
                .into_inner();
            for i in page.inspectors {
                if stored.visit.team.iter().any(|m| m.inspector_id == i.id) {
                    known.insert(i.id.clone(), i);
                }
            }
            if page.next_page_token.is_empty() {
                break;
            }
            page_token = page.next_page_token;
        }
        Ok(Some(Verified {
            task_name: saga.map(|s| s.saga.task_name).unwrap_or_default(),
            team: stored
                .visit
                .team
                .iter()
                .map(|m| (m.clone(), known.remove(&m.inspector_id)))
                .collect(),
            visit: stored.visit,
        }))
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

    /// Puts a transfer's change on its saga's timeline, with the task's open transfers after it (which may close
    /// the follow-up).
    async fn transfer_timeline(
        &self,
        tx: &mut Tx,
        task_id: &str,
        kind: &'static str,
        detail: Text,
        actor: &str,
        cause: &str,
    ) -> Result<(), Error> {
        let open = store::open_transfers(tx, task_id).await?;
        let input = Input::Transfer { kind, detail, open };
        self.apply_in(tx, task_id, input, actor, cause)
            .await?
            .map(|_| ())
            .map_err(refused)
    }

    /// The caller's department sends a problem it found on a concluded visit to `to` for follow-up.
    pub async fn create_transfer(
        &self,
        who: &Identity,
        visit_id: &str,
        item: &str,
        to: &str,
        kind: transfer::Kind,
        note: &str,
    ) -> Result<StoredTransfer, Error> {
        require_role(who, "visit_id")?;
        let to = to.trim();
        let mut tx = self.db.begin().await?;
        let Some(stored) = store::get_visit(&mut tx, visit_id).await? else {
            return Err(Error::NotFound(msg("nf-visit").arg("visit", visit_id)));
        };
        let v = &stored.visit;
        on_team(who, v)?;
        if v.outcome != Some(visit::Outcome::Inspected) {
            return Err(NotNow(msg("nn-transfer-not-inspected").arg("visit", visit_id)).into());
        }
        let problems: Vec<String> = v
            .findings
            .iter()
            .filter(|f| {
                f.department == who.department
                    && f.item == item
                    && f.result == visit::CheckResult::Problem
            })
            .map(|f| format!("{}: {}", f.code, f.note))
            .collect();
        let mut violations = Violations::new();
        violations.check(
            problems.is_empty(),
            "item_code",
            msg("transfer-no-problem")
                .arg("dept", &who.department)
                .arg("item", item),
        );
        if to.is_empty() || to == who.department {
            violations.add("to_department_code", msg("transfer-receiver"));
        } else if kind == transfer::Kind::Department
            && !suiji_platform::departments::exists(&mut tx, to).await?
        {
            violations.add(
                "to_department_code",
                msg("result-unknown-department").arg("code", to),
            );
        }
        violations.into_result()?;
        let now = now_ms();
        let mut problem = problems.join("; ");
        if !note.trim().is_empty() {
            problem = format!("{problem} — {}", note.trim());
        }
        let t = Transfer::open(
            format!(
                "{visit_id}/{}/{item}/{}",
                who.department,
                &uuid::Uuid::now_v7().simple().to_string()[20..]
            ),
            transfer::Route {
                task_id: &v.task_id,
                visit_id,
                target_id: &v.target_id,
                item,
                from: &who.department,
                to,
            },
            kind,
            problem,
            &who.subject,
            msg("tr-created").arg("to_dept", to),
            now,
        );
        store::insert_transfer(&mut tx, &t, now).await?;
        let cause = format!("grpc:{}", uuid::Uuid::now_v7());
        let detail = msg(match kind {
            transfer::Kind::Department => "tl-transfer-created",
            transfer::Kind::Judicial => "tl-transfer-judicial",
        })
        .arg("transfer", &t.id)
        .arg("from_dept", &t.from)
        .arg("to_dept", to);
        self.transfer_timeline(
            &mut tx,
            &t.task_id,
            "transfer.created",
            detail,
            &who.subject,
            &cause,
        )
        .await?;
        tx.commit().await?;
        self.relay.notify();
        Ok(StoredTransfer {
            transfer: t,
            version: 1,
        })
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

    /// Changes transfer `id` by `change` and records it on the saga's timeline, in one transaction.
    pub async fn change_transfer(
        &self,
        who: &Identity,
        id: &str,
        kind: &'static str,
        change: impl Fn(&mut Transfer) -> Result<Text, Refusal>,
    ) -> Result<StoredTransfer, Error> {
        require_role(who, "id")?;
        let mut attempt = 0;
        loop {
            let mut tx = self.db.begin().await?;
            let Some(mut stored) = store::get_transfer(&mut tx, id).await? else {
                return Err(Error::NotFound(msg("nf-transfer").arg("transfer", id)));
            };
            let detail = change(&mut stored.transfer).map_err(refused)?;
            let now = now_ms();
            let cause = format!("grpc:{}", uuid::Uuid::now_v7());
            let t = &stored.transfer;
            let result = async {
                store::update_transfer(&mut tx, t, stored.version, now).await?;
                self.transfer_timeline(
                    &mut tx,
                    &t.task_id,
                    kind,
                    detail.clone().arg("transfer", id),
                    &who.subject,
                    &cause,
                )
                .await
            }
            .await;
            match result {
                Err(Error::Conflict(_)) if attempt < CONFLICT_RETRIES => attempt += 1,
                Err(e) => return Err(e),
                Ok(()) => {
                    tx.commit().await?;
                    self.relay.notify();
                    stored.version += 1;
                    return Ok(stored);
                }
            }
        }
    }

    /// A page of transfers of a task or sent to a department. Those who oversee read every one, a task's lead
    /// the task's; anyone else the transfers their department sent or received.
    pub async fn transfers(
        &self,
        who: &Identity,
        task_id: &str,
        to_department: &str,
        open_only: bool,
        page: &Page,
    ) -> Result<Vec<StoredTransfer>, Error> {
        if task_id.is_empty() && to_department.is_empty() {
            return Err(Violations::one("task_id", msg("transfers-filter")).into());
        }
        let leads = !task_id.is_empty()
            && !who.oversees()
            && self.load(task_id).await?.saga.lead == who.department;
        let party = if who.oversees() || leads {
            ""
        } else {
            who.department.as_str()
        };
        if !party.is_empty() && !to_department.is_empty() && to_department != party {
            return Err(Denied::new(
                "to_department_code",
                msg("denied-own-transfers").arg("dept", party),
            )
            .into());
        }
        let mut conn = self.db.pool().acquire().await?;
        store::list_transfers(&mut conn, task_id, to_department, party, open_only, page).await
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

    /// Applies drawn teams, as the job of `draw.teams.drawn` (`consumers::Teams`): the teams are read from the
    /// draw, then in one transaction the saga moves on and, the first time, one visit per team is created with the
    /// check points of every department's items, to be held within 5 working days; the job ends in it.
    pub async fn on_teams(
        &self,
        job: &jobs::Job,
        d: &draw::Draw,
        source: &str,
        cause: &str,
    ) -> Result<(), Error> {
        // Read before the transaction begins: no call to another service while the saga's row is locked.
        let teams = self.drawn_teams(&d.task_id).await?;
        let mut tx = self.db.begin().await?;
        self.teams_into_visits(&mut tx, d, teams, source, cause)
            .await?;
        jobs::remove(&mut tx, &job.id).await?;
        tx.commit().await?;
        self.relay.notify();
        Ok(())
    }

    /// The saga's step for drawn `teams`, and their visits.
    async fn teams_into_visits(
        &self,
        tx: &mut Tx,
        d: &draw::Draw,
        teams: Vec<draw::Team>,
        source: &str,
        cause: &str,
    ) -> Result<(), Error> {
        let assigned_on = today();
        let schedule_by = self
            .calendar
            .current()
            .add_working_days(assigned_on, VISIT_WORKING_DAYS);
        let input = Input::TeamsDrawn {
            count: d.teams.as_ref().map_or(0, |t| t.team_count),
            uncounted: schedule_by.as_ref().err().map(CalendarError::text),
        };
        let stored = match self.apply_in(tx, &d.task_id, input, source, cause).await? {
            Ok(stored) => stored,
            Err(_) => return Ok(()),
        };
        let schedule_by = schedule_by.ok();
        let launch = self.launch(tx, &d.task_id).await?;
        let now = now_ms();
        let saga = &stored.saga;
        let mut visits = Vec::with_capacity(teams.len());
        for team in teams {
            // As drawn: replacements arrive as events of their own and are applied to the visit.
            let members: Vec<visit::Member> = team
                .drawn
                .iter()
                .map(|s| visit::Member {
                    inspector_id: s.inspector_id.clone(),
                    department: s.department_code.clone(),
                    leader: s.leader,
                })
                .collect();
            let mut checks = Vec::new();
            for p in &saga.participants {
                if !members.iter().any(|m| m.department == p.department) {
                    continue;
                }
                for code in &p.items {
                    let content = launch
                        .items
                        .iter()
                        .find(|i| &i.code == code)
                        .and_then(|i| i.version.as_ref()?.content.as_ref());
                    for point in content.map(|c| c.checklist.as_slice()).unwrap_or_default() {
                        checks.push(visit::Check {
                            department: p.department.clone(),
                            item: code.clone(),
                            code: point.code.clone(),
                            description: point.description.clone(),
                        });
                    }
                }
            }
            let v = Visit {
                id: format!("{}/{}", saga.task_id, team.target_id),
                task_id: saga.task_id.clone(),
                target_id: team.target_id,
                lead: saga.lead.clone(),
                team: members,
                checks,
                assigned_on,
                schedule_by: schedule_by.map(|d| d.date),
                // Not final: counted through a provisional year, or not counted at all (counted at the reload).
                schedule_by_provisional: schedule_by.is_none_or(|d| d.provisional),
                scheduled_for: None,
                method: None,
                announced: false,
                findings: Vec::new(),
                signature: None,
                confirmed: Default::default(),
                outcome: None,
                concluded_on: None,
                code: visit_code()?,
                verifications: Vec::new(),
                verified_count: 0,
                evidence: Vec::new(),
            };
            visits.push(v);
        }
        store::insert_visits(tx, &visits, now).await?;
        Ok(())
    }

    /// A drawn inspector was replaced (by rule, with the head's approval): the visit's team follows, the
    /// newcomer confirms the record form anew, and the saga's timeline says so. A visit already concluded keeps
    /// the team that was there.
    pub async fn on_replaced(
        &self,
        tx: &mut Tx,
        e: &draw::InspectorReplacedEvent,
        source: &str,
        cause: &str,
    ) -> Result<(), Error> {
        let r = e.replacement.clone().unwrap_or_default();
        // Looked at before the visit: the job that makes the visits deletes itself in their transaction.
        if jobs::pending(tx, crate::consumers::TEAMS_JOB, &e.task_id).await? {
            return Err(Error::Internal(format!(
                "the teams of {} are not visits yet; the replacement waits for them",
                e.task_id
            )));
        }
        let id = format!("{}/{}", e.task_id, r.target_id);
        let Some(mut stored) = store::get_visit(tx, &id).await? else {
            return Ok(());
        };
        let v = &mut stored.visit;
        let Some(seat) = v
            .team
            .iter_mut()
            .find(|m| m.inspector_id == r.replaced_inspector_id)
        else {
            // Applied already (a redelivery): the replaced inspector is no longer on the team.
            return Ok(());
        };
        if v.outcome.is_some() {
            return Ok(());
        }
        seat.inspector_id = r.replacement_inspector_id.clone();
        v.confirmed.remove(&r.replaced_inspector_id);
        let detail = msg("tl-visit-replaced")
            .arg("visit", &id)
            .arg("replaced", &r.replaced_inspector_id)
            .arg("replacement", &r.replacement_inspector_id)
            .arg("dept", &r.department_code)
            .arg("note", &r.note);
        match self
            .on_timeline(tx, &e.task_id, "visit.team_changed", detail, source, cause)
            .await?
        {
            Ok(_) => store::update_visit(tx, &stored.visit, stored.version, now_ms()).await,
            // The saga has moved past its visits (or is cancelled): the team stays as it was.
            Err(refusal) => {
                tracing::info!(task_id = %e.task_id, ?refusal, "replacement not applied to the visit");
                Ok(())
            }
        }
    }

    /// Puts a visit's change on its saga's timeline, with the task's visit counts after it (which may move the
    /// saga on to visiting or results).
    async fn on_timeline(
        &self,
        tx: &mut Tx,
        task_id: &str,
        kind: &'static str,
        detail: Text,
        actor: &str,
        cause: &str,
    ) -> Result<Result<Stored, Refusal>, Error> {
        let Some((stored, counts)) = store::get_counted(tx, task_id).await? else {
            return Err(Error::NotFound(msg("nf-saga").arg("task", task_id)));
        };
        let input = visit_input(kind, detail, counts);
        self.apply_to(tx, stored, input, actor, cause, Vec::new())
            .await
    }

    /// A visit, read by the departments on its team and those who oversee every department's work.
    pub async fn visit(&self, who: &Identity, id: &str) -> Result<StoredVisit, Error> {
        let mut conn = self.db.pool().acquire().await?;
        let stored = store::get_visit(&mut conn, id)
            .await?
            .ok_or_else(|| Error::NotFound(msg("nf-visit").arg("visit", id)))?;
        let departments = stored.visit.departments();
        if !who.oversees() && !departments.contains(&who.department) {
            return Err(Denied::new(
                "id",
                msg("denied-visit-reader")
                    .arg("visit", id)
                    .arg("depts", departments.join(","))
                    .arg("by_dept", &who.department),
            )
            .into());
        }
        Ok(stored)
    }

    /// A page of a task's visits, read by its departments and those who oversee every department's work.
    pub async fn visits(
        &self,
        who: &Identity,
        task_id: &str,
        page: &Page,
    ) -> Result<Vec<StoredVisit>, Error> {
        self.readable(who, task_id).await?;
        let mut conn = self.db.pool().acquire().await?;
        let visits = store::list_visits(&mut conn, task_id, page).await?;
        for v in &visits {
            self.visits_seen.insert(v.visit.id.clone(), v.clone());
        }
        Ok(visits)
    }

    /// Each department's progress on the visits of `task_id`, read a page at a time (a task's visits are not
    /// held at once); the lead first, then by code.
    pub async fn progress(
        &self,
        who: &Identity,
        task_id: &str,
    ) -> Result<Vec<(String, visit::Progress)>, Error> {
        let mut conn = self.db.pool().acquire().await?;
        let Some(saga) = store::get(&mut conn, task_id).await? else {
            return Err(Error::NotFound(msg("nf-saga").arg("task", task_id)));
        };
        may_read(who, &saga.saga)?;
        let mut progress = std::collections::BTreeMap::new();
        let mut page = Page {
            size: 500,
            after: String::new(),
        };
        loop {
            let visits = store::list_visits(&mut conn, task_id, &page).await?;
            let Some(last) = visits.last() else { break };
            page.after = last.visit.id.clone();
            for v in &visits {
                v.visit.add_progress(&mut progress);
            }
        }
        let lead = saga.saga.lead;
        let mut out: Vec<(String, visit::Progress)> = progress.into_iter().collect();
        out.sort_by(|a, b| (a.0 != lead, &a.0).cmp(&(b.0 != lead, &b.0)));
        Ok(out)
    }

    /// Visit `id`, its saga and its task's counts as this process last saw them, if it saw all three.
    fn seen_counted(&self, id: &str) -> Option<(StoredVisit, Stored, store::Counts)> {
        let visit = self.visits_seen.get(id)?;
        let (saga, counts) = self.counted_seen.get(&visit.visit.task_id)?;
        Some((visit, saga, counts))
    }

    /// Changes visit `id` by `change` (given the visit and the caller), records it on the saga's timeline with
    /// the task's counts, and announces a conclusion; all written at once (`store::write_visit_step`), read
    /// again on a conflict. A change that answers `None` changes nothing (the same request again): nothing is
    /// written, and the visit is returned as stored.
    pub async fn change_visit(
        &self,
        who: &Identity,
        id: &str,
        kind: &'static str,
        acting: Acting,
        change: impl Fn(&mut Visit) -> Result<Option<Text>, Refusal>,
    ) -> Result<StoredVisit, Error> {
        match acting {
            Acting::Member => require_member(who)?,
            Acting::Team | Acting::Lead => require_role(who, "id")?,
        }
        // One connection for the reads and the write (each connection given back costs a round trip: the pool
        // pings it); the read is outside a transaction, and the versions read are checked by the write. What this
        // process last wrote stands in for the read: a stale visit or saga is refused by the write, and whatever
        // is refused on what was remembered is decided again on what is stored.
        let mut conn = self.db.pool().acquire().await?;
        let mut attempt = 0;
        let mut remembered = true;
        loop {
            let seen = if remembered {
                self.seen_counted(id)
            } else {
                None
            };
            let from_memory = seen.is_some();
            let read = match seen {
                Some(seen) => Some(seen),
                None => store::get_visit_counted(&mut conn, id).await?,
            };
            let Some((stored, saga, counts)) = read else {
                return Err(Error::NotFound(msg("nf-visit").arg("visit", id)));
            };
            let task_id = stored.visit.task_id.clone();
            let result = self
                .change_read(
                    &mut conn,
                    who,
                    (stored, saga, counts),
                    kind,
                    acting,
                    &change,
                )
                .await;
            match result {
                // Nothing to change in what was remembered: decided again on what is stored.
                Ok(Changed::Unchanged(_)) if from_memory => remembered = false,
                Ok(Changed::Unchanged(stored)) => return Ok(stored),
                Ok(Changed::Written(stored, saga_counts)) => {
                    let (saga, counts) = *saga_counts;
                    self.relay.notify();
                    self.visits_seen.insert(id.to_string(), stored.clone());
                    self.counted_seen.insert(task_id, (saga, counts));
                    return Ok(stored);
                }
                // A decision on what was remembered is taken again on what is stored (not a failure of the
                // database: the write may have landed, and the call is not made twice).
                Err(
                    Error::Conflict(_)
                    | Error::NotNow(_)
                    | Error::Invalid(_)
                    | Error::Denied(_)
                    | Error::NotFound(_),
                ) if from_memory => {
                    self.visits_seen.invalidate(id);
                    self.counted_seen.invalidate(&task_id);
                    remembered = false;
                }
                Err(Error::Conflict(_)) if attempt < CONFLICT_RETRIES => attempt += 1,
                Err(e) => return Err(e),
            }
        }
    }

    /// Changes the visit read (with its saga and its task's counts) and writes it; the visit, the saga and the
    /// counts as written, or the visit as read when the change changed nothing.
    async fn change_read(
        &self,
        conn: &mut AnyConnection,
        who: &Identity,
        (mut stored, saga, counts): (StoredVisit, Stored, store::Counts),
        kind: &'static str,
        acting: Acting,
        change: &impl Fn(&mut Visit) -> Result<Option<Text>, Refusal>,
    ) -> Result<Changed, Error> {
        let before = store::counted(&stored.visit);
        if acting == Acting::Lead && who.department != stored.visit.lead {
            return Err(Denied::new(
                "id",
                msg("denied-visit-lead").arg("dept", &stored.visit.lead),
            )
            .into());
        }
        on_team(who, &stored.visit)?;
        let before_digest = digest_of(&stored.visit);
        let Some(detail) = change(&mut stored.visit).map_err(refused)? else {
            return Ok(Changed::Unchanged(stored));
        };
        // The counts were read before this change: they follow it.
        let after = store::counted(&stored.visit);
        let counts = (
            counts.0 + after.0 - before.0,
            counts.1 + after.1 - before.1,
            counts.2,
        );
        let saga = self
            .record_visit(
                conn,
                who,
                (&stored, before_digest),
                (saga, counts),
                kind,
                detail,
            )
            .await?;
        stored.version += 1;
        Ok(Changed::Written(stored, Box::new((saga, counts))))
    }

    /// Writes a changed visit and puts the change on its saga's timeline: `saga` as read with the visit, and the
    /// task's visit counts with this change; on `conn`. The saga as written.
    async fn record_visit(
        &self,
        conn: &mut AnyConnection,
        who: &Identity,
        (stored, before_digest): (&StoredVisit, String),
        (saga, counts): (Stored, store::Counts),
        kind: &'static str,
        detail: Text,
    ) -> Result<Stored, Error> {
        let v = &stored.visit;
        let cause = format!("grpc:{}", uuid::Uuid::now_v7());
        let detail = detail.arg("visit", &v.id);
        // The step on the service's hash chain too: who, what, the visit before and after (全程留痕).
        let audited = AuditEvent {
            action: kind,
            entity: "visit",
            entity_id: &v.id,
            before_digest,
            after_digest: digest_of(v),
            detail: detail.to_stored(),
        };
        let input = visit_input(kind, detail, counts);
        // A conclusion is announced with the saga's change (a visit's change never alters the participants, the
        // task's name or its lead, which the announcement names).
        let mut also = Vec::new();
        if kind == "visit.concluded" {
            let launch = self.launch(conn, &v.task_id).await?;
            let event = concluded_event(v, &saga.saga, &launch);
            also.push(Event::new::<topics::VisitConcluded>(&v.task_id, &event).caused_by(&cause));
        }
        let step = Self::step(saga, input, &who.subject, &cause, also).map_err(refused)?;
        if let Some(late) = step.late {
            return Err(refused(late));
        }
        // A visit's change moves the saga's counts and phase and sets nothing off (no command, timer or
        // release: `Saga::apply` of a visit input has no effects), so its events are all it writes besides.
        if !step.outcome.effects.is_empty() {
            return Err(Error::Internal(format!(
                "a visit's change set off {:?}",
                step.outcome.effects
            )));
        }
        let events = Prepared::new(crate::NAME, step.after);
        store::write_visit_step(
            conn,
            (v, stored.version),
            (&step.stored.saga, step.read),
            &step.entry,
            &events,
            (who, audited),
        )
        .await?;
        Ok(step.stored)
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

    /// The provisional last days of the visits not yet scheduled, changed as a coordinator's visit change is.
    async fn recount_visits(&self, calendar: &Calendar) -> Result<u64, Error> {
        // The service itself: a coordinator of no department, who may change any department's visit.
        let system = Identity {
            roles: vec![ROLE_INSPECTION_COORDINATOR.into(), ROLE_SERVICE.into()],
            ..Identity::system(crate::NAME)
        };
        let mut after = String::new();
        let mut recorded = 0;
        // The sagas whose visits had no last day at all: they waited on it.
        let mut counted_first = std::collections::BTreeSet::new();
        loop {
            let visits = {
                let mut conn = self.db.pool().acquire().await?;
                store::provisional_visits(&mut conn, &after, 500).await?
            };
            let Some(last) = visits.last() else { break };
            after = last.visit.id.clone();
            for stored in visits {
                let v = &stored.visit;
                let Ok(due) = calendar.add_working_days(v.assigned_on, VISIT_WORKING_DAYS) else {
                    continue;
                };
                if v.schedule_by == Some(due.date) && due.provisional {
                    continue;
                }
                let changed = self
                    .change_visit(&system, &v.id, "visit.recounted", Acting::Team, |visit| {
                        if !visit.schedule_by_provisional || visit.scheduled_for.is_some() {
                            return Ok(None);
                        }
                        let old = visit.schedule_by.replace(due.date);
                        visit.schedule_by_provisional = due.provisional;
                        Ok(Some(due.recounted("visit", old)))
                    })
                    .await;
                match changed {
                    Ok(_) => {
                        recorded += 1;
                        if v.schedule_by.is_none() {
                            counted_first.insert(v.task_id.clone());
                        }
                    }
                    Err(e) => {
                        tracing::warn!(visit = %v.id, error = %e, "a visit's last day was not counted again")
                    }
                }
            }
        }
        for task_id in counted_first {
            let cause = format!("calendar:{}", uuid::Uuid::now_v7());
            let subject = format!("system:{}", crate::NAME);
            // Late (already cleared, or cancelled) is fine: nothing waits on it any more.
            let _ = self
                .apply(&task_id, Input::ScheduleCounted, &subject, &cause)
                .await?;
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

/// Who may make a change to a visit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Acting {
    /// A coordinator of a department on the team.
    Team,
    /// A coordinator of the lead department.
    Lead,
    /// A member of the team, for themselves: the token names their inspector id.
    Member,
}

/// Refuses `who` unless they are an inspector acting for themselves: the member's role, and a token naming
/// their inspector id.
fn require_member(who: &Identity) -> Result<(), Error> {
    if !who.has_role(ROLE_MEMBER) {
        return Err(Denied::new("id", msg("denied-role").arg("role", ROLE_MEMBER)).into());
    }
    if who.inspector.is_none() {
        return Err(Denied::new("inspector_ids", msg("denied-member-unnamed")).into());
    }
    Ok(())
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

/// `inspection.visit.concluded` for visit `v` of `saga`: per department and item what was found, with the item
/// names as launched, for the directories' history and the departments' results in publication.
/// A visit's change as the saga's input, with the task's visit counts after it.
fn visit_input(
    kind: &'static str,
    detail: Text,
    (scheduled, concluded, total): store::Counts,
) -> Input {
    Input::Visit {
        kind,
        detail,
        scheduled,
        concluded,
        total,
    }
}

fn concluded_event(
    v: &Visit,
    saga: &Saga,
    launch: &plan::TaskLaunchedEvent,
) -> pb::VisitConcludedEvent {
    let item_name = |code: &str| {
        launch
            .items
            .iter()
            .find(|i| i.code == code)
            .and_then(|i| i.version.as_ref()?.content.as_ref())
            .map(|c| c.name.clone())
            .unwrap_or_default()
    };
    let outcomes = v
        .departments()
        .into_iter()
        .map(|d| {
            let mut items: Vec<pb::ItemOutcome> = Vec::new();
            for c in v.checks.iter().filter(|c| c.department == d) {
                if !items.iter().any(|i| i.item_code == c.item) {
                    items.push(pb::ItemOutcome {
                        item_code: c.item.clone(),
                        item_name: item_name(&c.item),
                        ..Default::default()
                    });
                }
            }
            // A department without check points still answers for its items.
            if let Some(p) = saga.participants.iter().find(|p| p.department == d) {
                for code in &p.items {
                    if !items.iter().any(|i| &i.item_code == code) {
                        items.push(pb::ItemOutcome {
                            item_code: code.clone(),
                            item_name: item_name(code),
                            ..Default::default()
                        });
                    }
                }
            }
            for f in v
                .findings
                .iter()
                .filter(|f| f.department == d && f.result == visit::CheckResult::Problem)
            {
                if let Some(i) = items.iter_mut().find(|i| i.item_code == f.item) {
                    i.problem_found = true;
                    i.problems.push(format!("{}: {}", f.code, f.note));
                }
            }
            pb::DepartmentOutcome {
                problem_found: v.problem_found(&d),
                department_code: d,
                items,
            }
        })
        .collect();
    pb::VisitConcludedEvent {
        task_id: v.task_id.clone(),
        visit_id: v.id.clone(),
        target_id: v.target_id.clone(),
        visit_date: v
            .scheduled_for
            .or(v.concluded_on)
            .map(|d| d.to_string())
            .unwrap_or_default(),
        outcomes,
        inspector_ids: v.team.iter().map(|m| m.inspector_id.clone()).collect(),
        outcome: match v.outcome {
            Some(visit::Outcome::NotFound) => "not_found",
            Some(visit::Outcome::Closed) => "closed",
            _ => "inspected",
        }
        .to_string(),
        task_name: saga.task_name.clone(),
        lead_department_code: saga.lead.clone(),
        concluded_date: v.concluded_on.map(|d| d.to_string()).unwrap_or_default(),
    }
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

/// A visit's code (扫码入企): 64 bits from the operating system's generator, as 16 upper-case hex digits — not
/// guessable, short enough to type.
fn visit_code() -> Result<String, Error> {
    let mut bytes = [0u8; 8];
    getrandom::fill(&mut bytes).map_err(|e| Error::Internal(format!("no randomness: {e}")))?;
    Ok(bytes.iter().map(|b| format!("{b:02X}")).collect())
}

/// Refuses `who` unless their department is on `visit`'s team: only its departments (and the service itself) change
/// a visit.
fn on_team(who: &Identity, visit: &Visit) -> Result<(), Denied> {
    let departments = visit.departments();
    // The service itself (recounting deadlines) changes any department's visit; people, their own department's.
    if departments.contains(&who.department) || who.has_role(ROLE_SERVICE) {
        return Ok(());
    }
    Err(Denied::new(
        "id",
        msg("denied-visit-team")
            .arg("depts", departments.join(","))
            .arg("by_dept", &who.department),
    ))
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

#[cfg(test)]
mod code_tests {
    use super::visit_code;

    /// Every one of the 16 digits is random: none is fixed (a UUID's version digit was, leaving 60 bits).
    #[test]
    fn visit_codes_carry_64_random_bits() {
        let codes: Vec<String> = (0..4000).map(|_| visit_code().unwrap()).collect();
        assert!(codes.iter().all(|c| {
            c.len() == 16
                && c.chars()
                    .all(|d| d.is_ascii_hexdigit() && !d.is_ascii_lowercase())
        }));
        for position in 0..16 {
            let digits: std::collections::BTreeSet<u8> =
                codes.iter().map(|c| c.as_bytes()[position]).collect();
            assert_eq!(
                digits.len(),
                16,
                "every digit appears at position {position}"
            );
        }
        let distinct: std::collections::BTreeSet<&String> = codes.iter().collect();
        assert_eq!(distinct.len(), codes.len());
    }
}

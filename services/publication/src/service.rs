//! The publication service's use cases: results created from concluded visits, entered, reviewed, published,
//! withheld and corrected by the departments; the public search; the reports; deliveries to outside systems.

use std::collections::BTreeMap;
use std::sync::Arc;
use suiji_platform::auth::{
    ROLE_ADMIN, ROLE_DEPARTMENT_HEAD, ROLE_RESULT_ENTRY, ROLE_RESULT_JOINT_MEETING,
    ROLE_RESULT_REVIEWER,
};

use sqlx::AnyConnection;

use chrono::NaiveDate;
use suiji_api::directories::v1 as dir;
use suiji_api::directories::v1::directories_service_client::DirectoriesServiceClient;
use suiji_api::inspection::v1 as insp;
use suiji_api::publication::v1 as pb;
use suiji_api::topics::{self, Topic};
use suiji_platform::audit::{self, AuditEvent, digest_of};
use suiji_platform::auth::{Identity, Tokens};
use suiji_platform::calendar::{Calendars, china_date, today};
use suiji_platform::config::PublicationSettings;
use suiji_platform::db::{Db, Tx, now_ms};
use suiji_platform::error::Error;
use suiji_platform::grpc::Bearer;
use suiji_platform::messages::msg;
use suiji_platform::outbox::{self, Event, Relay};
use suiji_platform::paging::Page;
use suiji_platform::validation::{Denied, Violations};

use crate::domain::codes::CodeTable;
use crate::domain::public::PublicRecord;
use crate::domain::result::{Content, Decision, Result as Res, State};
use crate::store::{self, Counts, Filter, Stored};

const CONFLICT_RETRIES: usize = 3;

/// Results published in one transaction.
pub const PUBLISH_BATCH: usize = 100;

/// The change that publishes a result (a second publish changes nothing and announces nothing).
fn publish_one(who: &Identity) -> impl Fn(&mut Res, i64) -> Result<Announce, Error> + '_ {
    move |r, now| {
        if r.publish(&who.subject, now)? {
            Ok(Announce::Published)
        } else {
            Ok(Announce::Nothing)
        }
    }
}

/// Every version of the code table, and the one in force.
#[derive(Debug)]
pub struct Tables {
    current: String,
    all: BTreeMap<String, CodeTable>,
}

impl Tables {
    /// The table in force.
    pub fn current(&self) -> &CodeTable {
        &self.all[&self.current]
    }

    /// Version `v`, or the one in force when it is unknown.
    pub fn version(&self, v: &str) -> &CodeTable {
        self.all.get(v).unwrap_or_else(|| self.current())
    }
}

/// The publication service.
#[derive(Clone)]
pub struct Publications {
    db: Db,
    relay: Relay,
    calendar: Calendars,
    settings: Arc<PublicationSettings>,
    tables: Arc<Tables>,
    directories: tonic::transport::Channel,
    tokens: Tokens,
}

fn role(who: &Identity, department: &str, role: &str, field: &str) -> Result<(), Error> {
    if !who.has_role(role) {
        return Err(Denied::new(field, msg("denied-role").arg("role", role)).into());
    }
    if who.department != department {
        return Err(Denied::new(field, msg("denied-result-owner").arg("dept", department)).into());
    }
    Ok(())
}

/// What a change of a result sends out.
enum Announce {
    Nothing,
    Published,
    Corrected,
}

impl Publications {
    /// The service over `db`: keeps the code table of `settings` among the versions used.
    pub async fn new(
        db: Db,
        relay: Relay,
        calendar: Calendars,
        settings: PublicationSettings,
        directories: tonic::transport::Channel,
        tokens: Tokens,
    ) -> Result<Self, String> {
        let table = CodeTable::load(&settings.result_codes_file)?;
        let mut tx = db.begin().await.map_err(|e| e.to_string())?;
        store::save_table(&mut tx, &table)
            .await
            .map_err(|e| e.to_string())?;
        let all = store::tables(&mut tx).await.map_err(|e| e.to_string())?;
        tx.commit().await.map_err(|e| e.to_string())?;
        let tables = Tables {
            current: table.version.clone(),
            all: all.into_iter().map(|t| (t.version.clone(), t)).collect(),
        };
        Ok(Self {
            db,
            relay,
            calendar,
            settings: Arc::new(settings),
            tables: Arc::new(tables),
            directories,
            tokens,
        })
    }

    /// The code tables.
    pub fn tables(&self) -> &Tables {
        &self.tables
    }

    /// The target as the directories hold it.
    async fn target(&self, id: &str) -> Result<Option<dir::Target>, Error> {
        let token = self
            .tokens
            .service_token(crate::NAME)
            .await
            .map_err(|e| Error::Internal(format!("a token to call another service: {e}")))?;
        let mut client = DirectoriesServiceClient::with_interceptor(
            self.directories.clone(),
            Bearer::new(Some(&token)),
        );
        match client
            .get_target(dir::GetTargetRequest {
                id: id.to_string(),
                ..Default::default()
            })
            .await
        {
            Ok(r) => Ok(r.into_inner().target),
            Err(s) if s.code() == tonic::Code::NotFound => Ok(None),
            Err(s) => Err(Error::Internal(format!("the directories: {s}"))),
        }
    }

    /// A visit concluded: one result to enter per department and item, due 20 working days after it (once: a
    /// redelivery finds them there).
    pub async fn on_visit_concluded(
        &self,
        tx: &mut Tx,
        e: &insp::VisitConcludedEvent,
    ) -> Result<(), Error> {
        if e.outcomes.iter().all(|o| o.items.is_empty()) {
            // From an inspection service that did not name the items yet: nothing to enter.
            return Ok(());
        }
        let target = self.target(&e.target_id).await?;
        let (credit_code, target_name) = match &target {
            // Natural persons, projects, facilities and premises have no credit code: their identifier stands in.
            Some(t) if t.credit_code.is_empty() => (t.id.clone(), t.name.clone()),
            Some(t) => (t.credit_code.clone(), t.name.clone()),
            None => {
                tracing::warn!(target_id = %e.target_id, "target not in the directories");
                (e.target_id.clone(), String::new())
            }
        };
        let date = |s: &str, field: &str| {
            NaiveDate::parse_from_str(s, "%Y-%m-%d")
                .map_err(|_| Error::Internal(format!("{field} {s:?} is not a date")))
        };
        let inspection_date = date(&e.visit_date, "visit_date")?;
        let concluded = if e.concluded_date.is_empty() {
            inspection_date
        } else {
            date(&e.concluded_date, "concluded_date")?
        };
        let due = self
            .calendar
            .current()
            .add_working_days(concluded, self.settings.due_working_days);
        let joint = e.outcomes.len() > 1;
        let table = self.tables.current();
        let now = now_ms();
        let mut created = 0;
        for o in &e.outcomes {
            for item in &o.items {
                let mut r = Res {
                    id: format!("{}/{}/{}", e.visit_id, o.department_code, item.item_code),
                    task_id: e.task_id.clone(),
                    task_name: e.task_name.clone(),
                    visit_id: e.visit_id.clone(),
                    target_id: e.target_id.clone(),
                    credit_code: credit_code.clone(),
                    target_name: target_name.clone(),
                    department: o.department_code.clone(),
                    item: item.item_code.clone(),
                    item_name: item.item_name.clone(),
                    inspection_type: if joint {
                        "部门联合双随机抽查"
                    } else {
                        "双随机抽查"
                    }
                    .into(),
                    inspection_date,
                    visit_outcome: e.outcome.clone(),
                    problem_found: item.problem_found,
                    problems: item.problems.clone(),
                    suggested: Res::suggest(table, &e.outcome, item.problem_found),
                    state: State::NotEntered,
                    content: None,
                    table: String::new(),
                    due: due.as_ref().ok().map(|d| d.date),
                    due_provisional: due.as_ref().is_ok_and(|d| d.provisional),
                    due_from: Some(concluded),
                    reason: String::new(),
                    published_at: None,
                    corrections: Vec::new(),
                    withholding: None,
                    history: vec![crate::domain::result::Step {
                        at: now,
                        actor: "system:publication".into(),
                        kind: "created".into(),
                        detail: msg("rh-created")
                            .arg("visit", &e.visit_id)
                            .arg("outcome", &e.outcome),
                    }],
                };
                if let Err(why) = &due {
                    // Never an empty field in silence: the history says why, and the logs tell the operators.
                    tracing::error!(result = %r.id, %why, "no due date can be counted");
                    r.history.push(crate::domain::result::Step {
                        at: now,
                        actor: "system:publication".into(),
                        kind: "due_uncounted".into(),
                        detail: msg("rh-due-uncounted").then(why.text()),
                    });
                }
                created += i64::from(store::insert(tx, &r, now).await?);
            }
        }
        if created > 0 {
            store::add_pending(tx, &e.task_id, created).await?;
        }
        Ok(())
    }

    /// One result.
    pub async fn get(&self, who: &Identity, id: &str) -> Result<Stored, Error> {
        let mut conn = self.db.pool().acquire().await?;
        let s = store::get(&mut conn, id)
            .await?
            .ok_or_else(|| Error::NotFound(msg("nf-result").arg("result", id)))?;
        self.may_read(who, &s.result.department, "id")?;
        Ok(s)
    }

    fn may_read(&self, who: &Identity, department: &str, field: &str) -> Result<(), Error> {
        if who.department == department || who.has_role(ROLE_RESULT_JOINT_MEETING) {
            Ok(())
        } else {
            Err(Denied::new(
                field,
                msg("denied-result-reader")
                    .arg("dept", department)
                    .arg("role", ROLE_RESULT_JOINT_MEETING),
            )
            .into())
        }
    }

    /// A page of a department's results.
    pub async fn list(
        &self,
        who: &Identity,
        mut filter: Filter,
        overdue_only: bool,
        page: &Page,
    ) -> Result<Vec<Stored>, Error> {
        if filter.department.is_empty() {
            filter.department = who.department.clone();
        }
        self.may_read(who, &filter.department, "department_code")?;
        if overdue_only {
            filter.overdue_on = Some(today().to_string());
        }
        let mut conn = self.db.pool().acquire().await?;
        store::list(&mut conn, &filter, page).await
    }

    /// Whether a transfer or notice may go to `department` (no department named: nothing to check).
    async fn may_receive(&self, department: &str) -> Result<bool, Error> {
        if department.is_empty() {
            return Ok(true);
        }
        let mut conn = self.db.pool().acquire().await?;
        Ok(suiji_platform::departments::exists(&mut conn, department).await?)
    }

    /// Reads result `id`, checks the caller holds `need` in its department, applies `change` and writes it with
    /// its audit entry and whatever it announces, in one transaction (read again on a conflict).
    async fn change(
        &self,
        who: &Identity,
        id: &str,
        expected: i64,
        need: &str,
        action: &'static str,
        change: impl Fn(&mut Res, i64) -> Result<Announce, Error>,
    ) -> Result<Stored, Error> {
        let mut attempt = 0;
        loop {
            let mut tx = self.db.begin().await?;
            match self
                .change_in(&mut tx, who, id, expected, need, action, &mut None, &change)
                .await
            {
                Err(Error::Conflict(_)) if attempt < CONFLICT_RETRIES && expected == 0 => {
                    attempt += 1;
                }
                Err(e) => return Err(e),
                Ok((s, audit)) => {
                    append_audit(&mut tx, who, audit.into_iter().collect()).await?;
                    tx.commit().await?;
                    self.relay.notify();
                    return Ok(s);
                }
            }
        }
    }

    /// Counts every provisional due date again on the calendar as loaded now (after an operator loaded a year's
    /// notice). Each one counted again is recorded in the result's history with the old date and the new. How many
    /// were recorded.
    pub async fn recount(&self) -> Result<u64, Error> {
        let calendar = self.calendar.current();
        let mut recorded = 0;
        let mut after = String::new();
        loop {
            let ids = {
                let mut conn = self.db.pool().acquire().await?;
                store::provisional_due(&mut conn, &after, 200).await?
            };
            let Some(last) = ids.last() else { break };
            after = last.clone();
            for id in ids {
                let mut tx = self.db.begin().await?;
                let Some(mut s) = store::get(&mut tx, &id).await? else {
                    continue;
                };
                let r = &mut s.result;
                let from = r.due_from.unwrap_or(r.inspection_date);
                let due = match calendar.add_working_days(from, self.settings.due_working_days) {
                    Ok(due) => due,
                    Err(e) => {
                        tracing::error!(result = %id, error = %e, "a due date cannot be counted again");
                        continue;
                    }
                };
                if r.due == Some(due.date) && due.provisional {
                    continue;
                }
                let detail = due.recounted("due", r.due);
                let now = now_ms();
                r.due = Some(due.date);
                r.due_provisional = due.provisional;
                r.history.push(crate::domain::result::Step {
                    at: now,
                    actor: "system:publication".into(),
                    kind: "due.recounted".into(),
                    detail,
                });
                match store::update(&mut tx, r, s.version, now).await {
                    Ok(()) => {
                        tx.commit().await?;
                        recorded += 1;
                    }
                    // Changed meanwhile by a department: the next reload counts it.
                    Err(Error::Conflict(_)) => {}
                    Err(e) => return Err(e),
                }
            }
        }
        Ok(recorded)
    }

    /// [`Self::change`] inside the caller's transaction, without its audit line, which it returns (none when
    /// nothing changed). A refusal (not allowed, not now, invalid) comes before anything is written, so the
    /// transaction stays usable for other results.
    #[allow(clippy::too_many_arguments)]
    async fn change_in(
        &self,
        tx: &mut Tx,
        who: &Identity,
        id: &str,
        expected: i64,
        need: &str,
        action: &'static str,
        authority: &mut Option<String>,
        change: impl Fn(&mut Res, i64) -> Result<Announce, Error>,
    ) -> Result<(Stored, Option<Audit>), Error> {
        let Some(mut s) = store::get(tx, id).await? else {
            return Err(Error::NotFound(msg("nf-result").arg("result", id)));
        };
        role(who, &s.result.department, need, "id")?;
        if expected != 0 && expected != s.version {
            return Err(Error::Conflict(format!(
                "result {id} is at revision {}, not {expected}",
                s.version
            )));
        }
        let before = digest_of(&s.result);
        let now = now_ms();
        let announce = change(&mut s.result, now)?;
        let after = digest_of(&s.result);
        if after == before {
            // Nothing changed (published already): nothing to write or audit.
            return Ok((s, None));
        }
        let r = &s.result;
        store::update(tx, r, s.version, now).await?;
        self.settle_if_final(tx, r, &announce).await?;
        match announce {
            Announce::Nothing => {}
            Announce::Published => {
                self.announce::<topics::ResultPublished>(tx, r, now, authority)
                    .await?
            }
            Announce::Corrected => {
                self.announce::<topics::ResultCorrected>(tx, r, now, authority)
                    .await?
            }
        }
        let audit = Audit {
            action,
            id: r.id.clone(),
            before,
            after,
            detail: r
                .history
                .last()
                .map(|h| h.detail.text())
                .unwrap_or_default(),
        };
        s.version += 1;
        Ok((s, Some(audit)))
    }

    /// A result that became final (published or withheld; a correction changes nothing) settles one of its
    /// task's pending results, and the last one says the task's results are complete.
    async fn settle_if_final(
        &self,
        tx: &mut Tx,
        r: &Res,
        announce: &Announce,
    ) -> Result<(), Error> {
        if !r.state.is_final() || matches!(announce, Announce::Corrected) {
            return Ok(());
        }
        let (pending, results) = store::settle(tx, &r.task_id).await?;
        if pending == 0 {
            let e = pb::TaskCompletedEvent {
                task_id: r.task_id.clone(),
                results: results.max(0) as u64,
            };
            outbox::enqueue(
                tx,
                crate::NAME,
                Event::new::<topics::TaskCompleted>(&r.task_id, &e),
            )
            .await?;
        }
        Ok(())
    }

    /// The name of department `code` (the code itself when unknown).
    pub async fn department_name_of(&self, code: &str) -> Result<String, Error> {
        let mut conn = self.db.pool().acquire().await?;
        self.department_name(&mut conn, code).await
    }

    async fn department_name(&self, conn: &mut AnyConnection, code: &str) -> Result<String, Error> {
        let name: Option<String> =
            sqlx::query_scalar("SELECT name FROM departments WHERE code = $1")
                .bind(code)
                .fetch_optional(conn)
                .await?;
        Ok(name.unwrap_or_else(|| code.to_string()))
    }

    /// The public record, the event, the credit records and the deliveries of a published or corrected result.
    /// `authority` is the caller's department's name, looked up once per transaction (every result a caller
    /// changes is of its own department).
    async fn announce<T: Topic<Payload = pb::ResultPublishedEvent>>(
        &self,
        tx: &mut Tx,
        r: &Res,
        now: i64,
        authority: &mut Option<String>,
    ) -> Result<(), Error> {
        if authority.is_none() {
            *authority = Some(self.department_name(tx, &r.department).await?);
        }
        let authority = authority.as_deref().unwrap_or_default();
        let record = PublicRecord::of(r, authority, |v| self.tables.version(v));
        let today = china_date(now).to_string();
        let published_day = china_date(r.published_at.unwrap_or(now)).to_string();
        let correction = (T::KEY == topics::ResultCorrected::KEY)
            .then_some((r.corrections.len() as i64, today.as_str()));
        store::put_public(tx, &record, &published_day, correction).await?;
        let content = r.content.clone().expect("a published result has content");
        let event = pb::ResultPublishedEvent {
            target_id: r.target_id.clone(),
            record: Some(public_pb(&record)),
            task_id: r.task_id.clone(),
            visit_id: r.visit_id.clone(),
            department_code: r.department.clone(),
            item_code: r.item.clone(),
            disposal: crate::grpc::disposal_pb(content.disposal) as i32,
            disposal_department_code: content.disposal_department.clone(),
            problems: r.problems.clone(),
        };
        outbox::enqueue(tx, crate::NAME, Event::new::<T>(&r.task_id, &event)).await?;
        let kind = T::KEY.trim_start_matches("publication.");
        let body = serde_json::json!({ "kind": kind, "target_id": r.target_id, "record": record })
            .to_string();
        self.deliver(tx, kind, &r.id, &body, now).await?;
        if T::KEY == topics::ResultPublished::KEY {
            for credit in r.credit_kinds(self.tables.version(&r.table)) {
                let e = pb::CreditRecordedEvent {
                    target_id: r.target_id.clone(),
                    credit_code: r.credit_code.clone(),
                    kind: credit.clone(),
                    result_id: r.id.clone(),
                    department_code: r.department.clone(),
                    inspection_date: r.inspection_date.to_string(),
                };
                outbox::enqueue(
                    tx,
                    crate::NAME,
                    Event::new::<topics::CreditRecorded>(&r.task_id, &e),
                )
                .await?;
                let body = serde_json::json!({
                    "kind": "credit.recorded",
                    "target_id": e.target_id,
                    "credit_code": e.credit_code,
                    "credit_kind": e.kind,
                    "result_id": e.result_id,
                    "department_code": e.department_code,
                    "authority": authority,
                    "inspection_date": e.inspection_date,
                })
                .to_string();
                self.deliver(tx, "credit.recorded", &r.id, &body, now)
                    .await?;
            }
        }
        Ok(())
    }

    async fn deliver(
        &self,
        tx: &mut Tx,
        kind: &str,
        result_id: &str,
        body: &str,
        now: i64,
    ) -> Result<(), Error> {
        for c in &self.settings.connectors {
            if c.kinds.is_empty() || c.kinds.iter().any(|k| k == kind) {
                store::enqueue_delivery(tx, &c.name, kind, result_id, body, now).await?;
            }
        }
        Ok(())
    }

    /// Enters a result and submits it for review.
    pub async fn enter(
        &self,
        who: &Identity,
        id: &str,
        content: Content,
        expected: i64,
    ) -> Result<Stored, Error> {
        let table = self.tables.current();
        let receives = self.may_receive(&content.disposal_department).await?;
        self.change(who, id, expected, ROLE_RESULT_ENTRY, "enter", |r, now| {
            r.enter(content.clone(), table, |_| receives, &who.subject, now)?;
            Ok(Announce::Nothing)
        })
        .await
    }

    /// Approves, returns or rejects a result.
    pub async fn review(
        &self,
        who: &Identity,
        id: &str,
        decision: Decision,
        reason: &str,
        expected: i64,
    ) -> Result<Stored, Error> {
        self.change(
            who,
            id,
            expected,
            ROLE_RESULT_REVIEWER,
            "review",
            |r, now| {
                r.review(decision, reason, &who.subject, now)?;
                Ok(Announce::Nothing)
            },
        )
        .await
    }

    /// Publishes approved results, up to [`PUBLISH_BATCH`] in one transaction: a result that may not be published
    /// is reported and the others go ahead; when the database refuses the batch, each is tried on its own.
    pub async fn publish(&self, who: &Identity, ids: &[String]) -> Vec<Result<(), Error>> {
        let mut out = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(PUBLISH_BATCH) {
            match self.publish_batch(who, chunk).await {
                Ok(outcomes) => out.extend(outcomes),
                Err(error) => {
                    tracing::info!(%error, "a publication batch is tried one result at a time");
                    for id in chunk {
                        out.push(
                            self.change(
                                who,
                                id,
                                0,
                                ROLE_RESULT_REVIEWER,
                                "publish",
                                publish_one(who),
                            )
                            .await
                            .map(|_| ()),
                        );
                    }
                }
            }
        }
        out
    }

    async fn publish_batch(
        &self,
        who: &Identity,
        ids: &[String],
    ) -> Result<Vec<Result<(), Error>>, Error> {
        let mut tx = self.db.begin().await?;
        let mut authority = None;
        let mut outcomes = Vec::with_capacity(ids.len());
        let mut audits = Vec::with_capacity(ids.len());
        for id in ids {
            match self
                .change_in(
                    &mut tx,
                    who,
                    id,
                    0,
                    ROLE_RESULT_REVIEWER,
                    "publish",
                    &mut authority,
                    publish_one(who),
                )
                .await
            {
                Ok((_, audit)) => {
                    audits.extend(audit);
                    outcomes.push(Ok(()));
                }
                // The database refused a statement: the transaction is spent.
                Err(e @ (Error::Internal(_) | Error::Conflict(_) | Error::AlreadyExists(_))) => {
                    return Err(e);
                }
                Err(refused) => outcomes.push(Err(refused)),
            }
        }
        append_audit(&mut tx, who, audits).await?;
        tx.commit().await?;
        self.relay.notify();
        Ok(outcomes)
    }

    /// Asks the head to withhold a result (the person entering it, with the reason).
    pub async fn request_withholding(
        &self,
        who: &Identity,
        id: &str,
        reason: &str,
        expected: i64,
    ) -> Result<Stored, Error> {
        self.change(
            who,
            id,
            expected,
            ROLE_RESULT_ENTRY,
            "withhold.request",
            |r, now| {
                r.request_withholding(reason, &who.subject, now)?;
                Ok(Announce::Nothing)
            },
        )
        .await
    }

    /// Withholds a result as another person asked (the head), with an optional note.
    pub async fn withhold(
        &self,
        who: &Identity,
        id: &str,
        note: &str,
        expected: i64,
    ) -> Result<Stored, Error> {
        self.change(
            who,
            id,
            expected,
            ROLE_DEPARTMENT_HEAD,
            "withhold",
            |r, now| {
                r.withhold(note, &who.subject, now)?;
                Ok(Announce::Nothing)
            },
        )
        .await
    }

    /// Declines a request to withhold a result (the head), with the reason.
    pub async fn decline_withholding(
        &self,
        who: &Identity,
        id: &str,
        reason: &str,
        expected: i64,
    ) -> Result<Stored, Error> {
        self.change(
            who,
            id,
            expected,
            ROLE_DEPARTMENT_HEAD,
            "withhold.decline",
            |r, now| {
                r.decline_withholding(reason, &who.subject, now)?;
                Ok(Announce::Nothing)
            },
        )
        .await
    }

    /// Corrects a published result (the head).
    pub async fn correct(
        &self,
        who: &Identity,
        id: &str,
        content: Content,
        reason: &str,
        expected: i64,
    ) -> Result<Stored, Error> {
        let table = self.tables.current();
        let receives = self.may_receive(&content.disposal_department).await?;
        self.change(
            who,
            id,
            expected,
            ROLE_DEPARTMENT_HEAD,
            "correct",
            |r, now| {
                r.correct(
                    content.clone(),
                    reason,
                    table,
                    |_| receives,
                    &who.subject,
                    now,
                )?;
                Ok(Announce::Corrected)
            },
        )
        .await
    }

    /// Published records of a credit code, or of names containing `query`.
    pub async fn search(
        &self,
        query: &str,
        page: &Page,
    ) -> Result<(Vec<PublicRecord>, String), Error> {
        let query = query.trim();
        let by_code = is_identifier(query);
        if !by_code && query.chars().count() < 2 {
            return Err(Violations::one("query", msg("search-query")).into());
        }
        let mut conn = self.db.pool().acquire().await?;
        let rows = store::search_public(&mut conn, query, by_code, page).await?;
        let token = suiji_platform::paging::next_token(&rows, page, |(k, _)| k);
        Ok((rows.into_iter().map(|(_, r)| r).collect(), token))
    }

    /// Counts per department and the joint meeting's total for `year` (or one quarter), overdue on `as_of`.
    pub async fn report(
        &self,
        year: u32,
        quarter: u32,
        task_id: &str,
        as_of: Option<NaiveDate>,
    ) -> Result<pb::ReportResponse, Error> {
        let as_of = as_of.unwrap_or_else(today);
        if !task_id.trim().is_empty() {
            let mut tx = self.db.begin().await?;
            let counts = store::counts(
                &mut tx,
                store::Scope::Task(task_id.trim()),
                &as_of.to_string(),
            )
            .await?;
            return self
                .report_of(tx, &counts, task_id.trim().to_string(), as_of)
                .await;
        }
        let mut v = Violations::new();
        v.check(!(2000..=2100).contains(&year), "year", msg("report-year"));
        v.check(quarter > 4, "quarter", msg("report-quarter"));
        v.into_result()?;
        let y = year as i32;
        let (from, to, period) = if quarter == 0 {
            (
                NaiveDate::from_ymd_opt(y, 1, 1),
                NaiveDate::from_ymd_opt(y, 12, 31),
                year.to_string(),
            )
        } else {
            let first = NaiveDate::from_ymd_opt(y, (quarter - 1) * 3 + 1, 1);
            let next = if quarter == 4 {
                NaiveDate::from_ymd_opt(y + 1, 1, 1)
            } else {
                NaiveDate::from_ymd_opt(y, quarter * 3 + 1, 1)
            };
            (
                first,
                next.and_then(|d| d.pred_opt()),
                format!("{year}-Q{quarter}"),
            )
        };
        let (Some(from), Some(to)) = (from, to) else {
            return Err(Violations::one("year", msg("out-of-range")).into());
        };
        let mut tx = self.db.begin().await?;
        let (from, to) = (from.to_string(), to.to_string());
        let counts = store::counts(
            &mut tx,
            store::Scope::Period(&from, &to),
            &as_of.to_string(),
        )
        .await?;
        self.report_of(tx, &counts, period, as_of).await
    }

    /// The report of `counts`: a row per department, with its name, and the joint meeting's total.
    async fn report_of(
        &self,
        mut tx: Tx,
        counts: &[Counts],
        period: String,
        as_of: NaiveDate,
    ) -> Result<pb::ReportResponse, Error> {
        let mut rows = Vec::with_capacity(counts.len() + 1);
        let mut total = Counts::default();
        for c in counts {
            let name = self.department_name(&mut tx, &c.department).await?;
            rows.push(report_row(c, name));
            total.results += c.results;
            total.entered += c.entered;
            total.published += c.published;
            total.withheld += c.withheld;
            total.overdue += c.overdue;
            total.problems += c.problems;
            total.undated += c.undated;
        }
        tx.commit().await?;
        rows.push(report_row(&total, "联席会议".into()));
        Ok(pb::ReportResponse {
            rows,
            period,
            as_of: as_of.to_string(),
        })
    }

    /// A page of deliveries.
    pub async fn deliveries(
        &self,
        who: &Identity,
        state: Option<&str>,
        page: &Page,
    ) -> Result<Vec<store::Delivery>, Error> {
        require_admin(who)?;
        let mut conn = self.db.pool().acquire().await?;
        store::list_deliveries(&mut conn, state, page).await
    }

    /// Queues dead letters again.
    pub async fn retry_deliveries(&self, who: &Identity, ids: &[String]) -> Result<u64, Error> {
        require_admin(who)?;
        let mut conn = self.db.pool().acquire().await?;
        store::retry_dead(&mut conn, ids, now_ms()).await
    }

    /// The records published or corrected on `day`, `limit` at a time after id `after`.
    pub async fn published_on(
        &self,
        day: NaiveDate,
        after: &str,
        limit: i64,
    ) -> Result<Vec<PublicRecord>, Error> {
        let mut conn = self.db.pool().acquire().await?;
        store::published_on(&mut conn, &day.to_string(), after, limit).await
    }

    /// The database, for the connector's worker.
    pub fn db(&self) -> &Db {
        &self.db
    }

    /// The settings.
    pub fn settings(&self) -> &PublicationSettings {
        &self.settings
    }
}

/// A credit code or another identifier the directories give (ASCII letters, digits and dashes), not a name.
fn is_identifier(q: &str) -> bool {
    q.len() >= 8 && q.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

/// An audit line waiting for the end of its transaction.
struct Audit {
    action: &'static str,
    id: String,
    before: String,
    after: String,
    detail: String,
}

/// Appends `audits` to the chain, last in the transaction.
async fn append_audit(tx: &mut Tx, who: &Identity, audits: Vec<Audit>) -> Result<(), Error> {
    let events = audits
        .iter()
        .map(|a| AuditEvent {
            action: a.action,
            entity: "result",
            entity_id: &a.id,
            before_digest: a.before.clone(),
            after_digest: a.after.clone(),
            detail: a.detail.clone(),
        })
        .collect();
    audit::append_many(tx, who, events).await?;
    Ok(())
}

fn require_admin(who: &Identity) -> Result<(), Error> {
    if who.has_role(ROLE_ADMIN) || who.has_role(ROLE_RESULT_JOINT_MEETING) {
        Ok(())
    } else {
        Err(Denied::new("state", msg("denied-deliveries").arg("role", ROLE_ADMIN)).into())
    }
}

fn rate(part: u64, whole: u64) -> u32 {
    if whole == 0 {
        10_000
    } else {
        ((part as u128 * 10_000) / whole as u128) as u32
    }
}

fn report_row(c: &Counts, name: String) -> pb::ReportRow {
    pb::ReportRow {
        department_code: c.department.clone(),
        department_name: name,
        results: c.results,
        entered: c.entered,
        published: c.published,
        withheld: c.withheld,
        overdue: c.overdue,
        entry_rate_basis_points: rate(c.entered, c.results),
        publication_rate_basis_points: rate(c.published, c.results - c.withheld),
        problems: c.problems,
        undated: c.undated,
    }
}

/// The gRPC form of a public record.
pub fn public_pb(r: &PublicRecord) -> pb::PublicRecord {
    pb::PublicRecord {
        id: r.id.clone(),
        credit_code: r.credit_code.clone(),
        target_name: r.target_name.clone(),
        task_name: r.task_name.clone(),
        authority: r.authority.clone(),
        inspection_type: r.inspection_type.clone(),
        inspection_date: r.inspection_date.clone(),
        item: r.item.clone(),
        result: r.result.clone(),
        published_time: Some(suiji_platform::grpc::timestamp(r.published_at)),
        corrections: r
            .corrections
            .iter()
            .map(|c| pb::PublicCorrection {
                time: Some(suiji_platform::grpc::timestamp(c.at)),
                previous_result: c.previous_result.clone(),
                reason: c.reason.clone(),
            })
            .collect(),
    }
}

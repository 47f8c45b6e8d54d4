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

mod deliveries;
mod intake;
mod lifecycle;
mod reports;
mod search;

pub use search::public_pb;

const CONFLICT_RETRIES: usize = 3;

/// Results published in one transaction.
pub const PUBLISH_BATCH: usize = 100;

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
        let found = suiji_platform::departments::find(conn, code).await?;
        Ok(found.map_or_else(|| code.to_string(), |(name, _)| name))
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

    /// The database, for the connector's worker.
    pub fn db(&self) -> &Db {
        &self.db
    }

    /// The settings.
    pub fn settings(&self) -> &PublicationSettings {
        &self.settings
    }
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

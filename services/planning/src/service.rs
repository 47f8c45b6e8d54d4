//! Planning's use cases: each reads, asks the domain, writes, records the audit entry and the event in one
//! transaction, then wakes the outbox relay.

use std::collections::{BTreeSet, HashMap};

use suiji_api::planning::v1 as pb;
use suiji_api::topics::{self, Topic};
use suiji_platform::audit::{self, AuditEvent, digest_of};
use suiji_platform::auth::Identity;
use suiji_platform::db::{Db, Tx, now_ms};
use suiji_platform::outbox::{self, Event, Relay};
use suiji_platform::paging::{self, Page};
use suiji_platform::reference::Regions;
use suiji_platform::validation::{Violations, msg};

use crate::convert::{self, plan_pb, task_pb};
use crate::domain::{
    self, AmendmentState, CatalogItem, Coverage, Known, Plan, PlanContent, PlanState, Refusal,
    Task, TaskRequest, TaskState, Version,
};
use crate::error::Error;
use crate::store::{self, Cap, PlanFilter, TaskFilter};

impl From<Refusal> for Error {
    fn from(r: Refusal) -> Self {
        match r {
            Refusal::Invalid(v) => Error::Invalid(v),
            Refusal::Denied(d) => Error::Denied(d),
            Refusal::NotNow(n) => Error::NotNow(n),
        }
    }
}

/// A plan with the version a call is about.
pub type PlanView = (Plan, Version);

/// Planning's use cases.
#[derive(Clone)]
pub struct Planning {
    db: Db,
    relay: Relay,
    general_cap: u32,
}

fn short_id() -> String {
    uuid::Uuid::now_v7().simple().to_string()[20..].to_string()
}

impl Planning {
    /// The use cases over `db`; `general_cap` is the jurisdiction's cap on general items, in basis points.
    pub fn new(db: Db, relay: Relay, general_cap: u32) -> Self {
        Self {
            db,
            relay,
            general_cap,
        }
    }

    async fn finish(&self, tx: Tx) -> Result<(), Error> {
        tx.commit().await?;
        self.relay.notify();
        Ok(())
    }

    /// Validates content against the active departments and the kept catalog.
    async fn check_content(&self, tx: &mut Tx, content: &PlanContent) -> Result<(), Error> {
        let departments: BTreeSet<String> = suiji_platform::departments::codes(tx)
            .await?
            .into_iter()
            .collect();
        let codes: Vec<&str> = content
            .entries
            .iter()
            .flat_map(|e| e.item_codes())
            .collect();
        let items = self.items(tx, Some(&codes)).await?;
        let known = Known {
            departments: &departments,
            items: &items,
            regions: Regions::shipped(),
        };
        domain::validate_content(content, &known)?;
        Ok(())
    }

    async fn items(
        &self,
        tx: &mut Tx,
        codes: Option<&[&str]>,
    ) -> Result<HashMap<String, CatalogItem>, Error> {
        Ok(store::catalog_items(tx, codes, self.general_cap)
            .await?
            .into_iter()
            .map(|(k, (view, _))| (k, view))
            .collect())
    }

    async fn load(tx: &mut sqlx::AnyConnection, id: &str) -> Result<Plan, Error> {
        store::get_plan(tx, id)
            .await?
            .ok_or_else(|| Error::NotFound(msg("nf-plan").arg("plan", id)))
    }

    async fn load_current(tx: &mut Tx, id: &str, expected_revision: i64) -> Result<Plan, Error> {
        let plan = Self::load(tx, id).await?;
        domain::check_revision(plan.revision, expected_revision).map_err(Error::Conflict)?;
        Ok(plan)
    }

    async fn version(
        tx: &mut sqlx::AnyConnection,
        id: &str,
        version: u32,
    ) -> Result<Version, Error> {
        store::get_version(tx, id, version).await?.ok_or_else(|| {
            Error::NotFound(
                msg("nf-plan-version")
                    .arg("plan", id)
                    .arg("version", version),
            )
        })
    }

    /// Writes the plan's new revision and its audit entry.
    async fn save(
        &self,
        tx: &mut Tx,
        who: &Identity,
        plan: &mut Plan,
        action: &str,
        detail: String,
    ) -> Result<(), Error> {
        let before = digest_of(&*plan);
        plan.revision += 1;
        store::update_plan(tx, plan).await?;
        audit_entry(
            tx,
            who,
            action,
            "plan",
            &plan.id,
            before,
            digest_of(&*plan),
            detail,
        )
        .await
    }

    /// Drafts a plan for the caller's department.
    #[tracing::instrument(skip(self, who, content), fields(who = %who.subject))]
    pub async fn create(&self, who: &Identity, content: PlanContent) -> Result<PlanView, Error> {
        domain::may_edit(who, &who.department, "authorization")?;
        let mut tx = self.db.begin().await?;
        self.check_content(&mut tx, &content).await?;
        let now = now_ms();
        let plan = Plan {
            id: format!("PLAN-{}-{}-{}", content.year, who.department, short_id()),
            department_code: who.department.clone(),
            year: content.year,
            state: PlanState::Draft,
            effective_version: 0,
            latest_version: 1,
            revision: 1,
            created_by: who.subject.clone(),
            submitted_by: String::new(),
            submitted_at: None,
            approved_at: None,
            published_at: None,
            approved_by: String::new(),
            late_submission: false,
            late_approval: false,
            return_reason: String::new(),
        };
        let version = Version {
            version: 1,
            content,
            reason: String::new(),
            amendment: None,
            joint_meeting_filed_by: String::new(),
            judicial_filed_by: String::new(),
            created_at: now,
            effective_at: None,
        };
        store::insert_plan(&mut tx, &plan, &version).await?;
        audit_entry(
            &mut tx,
            who,
            "plan.create",
            "plan",
            &plan.id,
            String::new(),
            digest_of(&version.content),
            "version 1".into(),
        )
        .await?;
        self.finish(tx).await?;
        Ok((plan, version))
    }

    /// Replaces a draft's content.
    #[tracing::instrument(skip(self, who, content), fields(who = %who.subject))]
    pub async fn update(
        &self,
        who: &Identity,
        id: &str,
        content: PlanContent,
        expected_revision: i64,
    ) -> Result<PlanView, Error> {
        let mut tx = self.db.begin().await?;
        let mut plan = Self::load_current(&mut tx, id, expected_revision).await?;
        domain::check_update(who, &plan, &content)?;
        self.check_content(&mut tx, &content).await?;
        let mut version = Self::version(&mut tx, id, plan.latest_version).await?;
        version.content = content;
        store::update_version(&mut tx, id, &version).await?;
        self.save(
            &mut tx,
            who,
            &mut plan,
            "plan.update",
            format!(
                "version {} content {}",
                version.version,
                digest_of(&version.content)
            ),
        )
        .await?;
        self.finish(tx).await?;
        Ok((plan, version))
    }

    /// Runs a lifecycle step on a plan and returns it with its latest version.
    async fn step(
        &self,
        who: &Identity,
        id: &str,
        expected_revision: i64,
        action: &str,
        apply: impl FnOnce(&mut Plan, i64) -> Result<String, Refusal>,
    ) -> Result<(PlanView, Tx), Error> {
        let mut tx = self.db.begin().await?;
        let mut plan = Self::load_current(&mut tx, id, expected_revision).await?;
        let detail = apply(&mut plan, now_ms())?;
        self.save(&mut tx, who, &mut plan, action, detail).await?;
        let version = Self::version(&mut tx, id, plan.latest_version).await?;
        Ok(((plan, version), tx))
    }

    /// Sends a draft to the joint meeting.
    pub async fn submit(
        &self,
        who: &Identity,
        id: &str,
        expected_revision: i64,
    ) -> Result<PlanView, Error> {
        let (view, tx) = self
            .step(who, id, expected_revision, "plan.submit", |p, now| {
                domain::submit(who, p, now)?;
                Ok(if p.late_submission {
                    "submitted late".into()
                } else {
                    String::new()
                })
            })
            .await?;
        self.finish(tx).await?;
        Ok(view)
    }

    /// The joint meeting returns a submitted plan.
    pub async fn return_plan(
        &self,
        who: &Identity,
        id: &str,
        reason: &str,
        expected_revision: i64,
    ) -> Result<PlanView, Error> {
        let (view, tx) = self
            .step(who, id, expected_revision, "plan.return", |p, _| {
                domain::return_plan(who, p, reason)?;
                Ok(p.return_reason.clone())
            })
            .await?;
        self.finish(tx).await?;
        Ok(view)
    }

    /// The joint meeting approves a submitted plan.
    pub async fn approve(
        &self,
        who: &Identity,
        id: &str,
        expected_revision: i64,
    ) -> Result<PlanView, Error> {
        let (view, tx) = self
            .step(who, id, expected_revision, "plan.approve", |p, now| {
                domain::approve(who, p, now)?;
                Ok(if p.late_approval {
                    "approved late".into()
                } else {
                    String::new()
                })
            })
            .await?;
        self.finish(tx).await?;
        Ok(view)
    }

    /// Publishes an approved plan.
    pub async fn publish(
        &self,
        who: &Identity,
        id: &str,
        expected_revision: i64,
    ) -> Result<PlanView, Error> {
        let ((plan, mut version), mut tx) = self
            .step(who, id, expected_revision, "plan.publish", |p, now| {
                domain::publish(who, p, now)?;
                Ok(format!("version {} in force", p.effective_version))
            })
            .await?;
        version.effective_at = plan.published_at;
        store::update_version(&mut tx, id, &version).await?;
        enqueue_plan::<topics::PlanPublished>(&mut tx, &plan, &version).await?;
        self.finish(tx).await?;
        Ok((plan, version))
    }

    /// Proposes an amendment of a published plan.
    pub async fn propose_amendment(
        &self,
        who: &Identity,
        id: &str,
        content: PlanContent,
        reason: &str,
        expected_revision: i64,
    ) -> Result<PlanView, Error> {
        let mut tx = self.db.begin().await?;
        let mut plan = Self::load_current(&mut tx, id, expected_revision).await?;
        let number = domain::propose_amendment(who, &plan, &content, reason)?;
        self.check_content(&mut tx, &content).await?;
        let version = Version {
            version: number,
            content,
            reason: reason.trim().to_string(),
            amendment: Some(AmendmentState::Proposed),
            joint_meeting_filed_by: String::new(),
            judicial_filed_by: String::new(),
            created_at: now_ms(),
            effective_at: None,
        };
        store::insert_version(&mut tx, id, &version).await?;
        plan.latest_version = number;
        self.save(
            &mut tx,
            who,
            &mut plan,
            "plan.amendment.propose",
            format!("version {number}: {}", version.reason),
        )
        .await?;
        self.finish(tx).await?;
        Ok((plan, version))
    }

    async fn amendment(tx: &mut Tx, plan: &Plan, version: u32) -> Result<Version, Error> {
        if version <= 1 || version > plan.latest_version {
            return Err(Error::NotFound(
                msg("nf-amendment")
                    .arg("plan", &plan.id)
                    .arg("version", version),
            ));
        }
        Self::version(tx, &plan.id, version).await
    }

    /// Records the caller's filing of a pending amendment.
    pub async fn file_amendment(
        &self,
        who: &Identity,
        id: &str,
        number: u32,
    ) -> Result<PlanView, Error> {
        domain::may_file(who)?;
        let mut tx = self.db.begin().await?;
        let mut plan = Self::load(&mut tx, id).await?;
        let mut version = Self::amendment(&mut tx, &plan, number).await?;
        domain::file_amendment(who, &plan, &mut version)?;
        store::update_version(&mut tx, id, &version).await?;
        let detail = format!(
            "version {number}: joint meeting {:?}, judicial {:?}",
            version.joint_meeting_filed_by, version.judicial_filed_by
        );
        self.save(&mut tx, who, &mut plan, "plan.amendment.file", detail)
            .await?;
        self.finish(tx).await?;
        Ok((plan, version))
    }

    /// Publishes a filed amendment: it comes into force.
    pub async fn publish_amendment(
        &self,
        who: &Identity,
        id: &str,
        number: u32,
        expected_revision: i64,
    ) -> Result<PlanView, Error> {
        let mut tx = self.db.begin().await?;
        let mut plan = Self::load_current(&mut tx, id, expected_revision).await?;
        domain::may_edit(who, &plan.department_code, "id")?;
        let mut version = Self::amendment(&mut tx, &plan, number).await?;
        domain::publish_amendment(who, &mut plan, &mut version, now_ms())?;
        store::update_version(&mut tx, id, &version).await?;
        self.save(
            &mut tx,
            who,
            &mut plan,
            "plan.amendment.publish",
            format!("version {number} in force"),
        )
        .await?;
        enqueue_plan::<topics::PlanAmended>(&mut tx, &plan, &version).await?;
        self.finish(tx).await?;
        Ok((plan, version))
    }

    /// A plan in the version asked for; 0: the version in force, or the latest before publication.
    pub async fn get(&self, id: &str, version: u32) -> Result<PlanView, Error> {
        let mut conn = self.db.pool().acquire().await?;
        let plan = Self::load(&mut conn, id).await?;
        let n = match version {
            0 if plan.effective_version > 0 => plan.effective_version,
            0 => plan.latest_version,
            n => n,
        };
        let version = Self::version(&mut conn, id, n).await?;
        Ok((plan, version))
    }

    /// Every version of a plan.
    pub async fn versions(&self, id: &str) -> Result<Vec<Version>, Error> {
        let mut conn = self.db.pool().acquire().await?;
        Self::load(&mut conn, id).await?;
        store::list_versions(&mut conn, id).await
    }

    /// A page of plans with their version in force (or latest).
    pub async fn list(
        &self,
        filter: &PlanFilter,
        page: &Page,
    ) -> Result<(Vec<PlanView>, String), Error> {
        let mut conn = self.db.pool().acquire().await?;
        let plans = store::list_plans(&mut conn, filter, page).await?;
        let token = paging::next_token(&plans, page, |p| &p.id);
        let mut out = Vec::with_capacity(plans.len());
        for plan in plans {
            let n = if plan.effective_version > 0 {
                plan.effective_version
            } else {
                plan.latest_version
            };
            let version = Self::version(&mut conn, &plan.id, n).await?;
            out.push((plan, version));
        }
        Ok((out, token))
    }

    /// Sets the caller department's annual cap.
    pub async fn set_cap(&self, who: &Identity, year: u32, max: u32) -> Result<Cap, Error> {
        domain::may_edit(who, &who.department, "authorization")?;
        let mut v = Violations::new();
        v.check(!(2000..=2100).contains(&year), "year", msg("year-range"));
        v.check(
            !(1..=12).contains(&max),
            "max_per_target",
            msg("frequency-range"),
        );
        v.into_result()?;
        let mut tx = self.db.begin().await?;
        let at = store::set_cap(&mut tx, &who.department, year, max, &who.subject).await?;
        let cap = (who.department.clone(), year, max, at);
        outbox::enqueue(
            &mut tx,
            crate::NAME,
            Event::new::<topics::CapSet>(
                &format!("{}-{year}", who.department),
                &pb::AnnualCapSetEvent {
                    cap: Some(cap_pb(&cap)),
                },
            ),
        )
        .await?;
        audit_entry(
            &mut tx,
            who,
            "cap.set",
            "annual_cap",
            &format!("{}/{year}", who.department),
            String::new(),
            String::new(),
            format!("at most {max} a year"),
        )
        .await?;
        self.finish(tx).await?;
        Ok(cap)
    }

    /// The caps of a year.
    pub async fn caps(&self, year: u32) -> Result<Vec<Cap>, Error> {
        let mut conn = self.db.pool().acquire().await?;
        store::list_caps(&mut conn, year).await
    }

    /// The coverage report of a year.
    pub async fn coverage(
        &self,
        year: u32,
        department: Option<&str>,
    ) -> Result<(Coverage, HashMap<String, CatalogItem>, usize), Error> {
        let mut tx = self.db.begin().await?;
        let plans = store::published_plans(&mut tx, year).await?;
        let items = self.items(&mut tx, None).await?;
        let departments: BTreeSet<String> = suiji_platform::departments::codes(&mut tx)
            .await?
            .into_iter()
            .collect();
        tx.commit().await?;
        let report = domain::coverage(&plans, &items, &departments, department);
        Ok((report, items, plans.len()))
    }

    async fn load_task(tx: &mut sqlx::AnyConnection, id: &str) -> Result<Task, Error> {
        store::get_task(tx, id)
            .await?
            .ok_or_else(|| Error::NotFound(msg("nf-task").arg("task", id)))
    }

    /// Creates a task from a published entry.
    pub async fn create_task(&self, who: &Identity, request: TaskRequest) -> Result<Task, Error> {
        let mut tx = self.db.begin().await?;
        let plan = match store::get_plan(&mut tx, &request.plan_id).await? {
            Some(p) => p,
            None => {
                return Err(Violations::one(
                    "content.plan_id",
                    msg("no-plan").arg("plan", &request.plan_id),
                )
                .into());
            }
        };
        // Before publication there is no version in force; the domain refuses such a plan.
        let number = plan.effective_version.max(1);
        let version = Self::version(&mut tx, &plan.id, number).await?;
        let taken = store::taken_quantity(&mut tx, &plan.id, &request.entry_key).await?;
        let content = domain::plan_task(who, &plan, &version, request, taken, Regions::shipped())?;
        let entry = version
            .content
            .entry(&content.entry_key)
            .expect("checked by plan_task")
            .clone();
        let task = Task {
            id: format!("TASK-{}-{}", plan.year, short_id()),
            content,
            plan_version: version.version,
            year: plan.year,
            entry,
            state: TaskState::Created,
            cancel_reason: String::new(),
            revision: 1,
            created_by: who.subject.clone(),
            created_at: now_ms(),
            launched_at: None,
            cancelled_at: None,
        };
        store::insert_task(&mut tx, &task).await?;
        audit_entry(
            &mut tx,
            who,
            "task.create",
            "task",
            &task.id,
            String::new(),
            digest_of(&task.content),
            format!(
                "plan {} version {} entry {}",
                plan.id, version.version, task.content.entry_key
            ),
        )
        .await?;
        self.finish(tx).await?;
        Ok(task)
    }

    /// Launches a task: one `planning.task.launched` with the items in force and the participants' caps.
    pub async fn launch_task(
        &self,
        who: &Identity,
        id: &str,
        expected_revision: i64,
    ) -> Result<Task, Error> {
        let mut tx = self.db.begin().await?;
        let mut task = Self::load_task(&mut tx, id).await?;
        domain::check_revision(task.revision, expected_revision).map_err(Error::Conflict)?;
        domain::launch(who, &mut task, now_ms())?;
        let codes: Vec<&str> = task
            .content
            .participants
            .iter()
            .flat_map(|p| p.item_codes.iter().map(String::as_str))
            .collect();
        let kept = store::catalog_items(&mut tx, Some(&codes), self.general_cap).await?;
        let mut items = Vec::with_capacity(codes.len());
        let mut caps = Vec::with_capacity(codes.len());
        for code in &codes {
            match kept.get(*code) {
                Some((view, item)) if view.published => {
                    items.push(item.clone());
                    caps.push(view.cap_basis_points);
                }
                _ => {
                    return Err(Refusal::NotNow(suiji_platform::validation::NotNow(
                        msg("nn-item-unpublished").arg("item", code),
                    ))
                    .into());
                }
            }
        }
        let departments = task.departments();
        let annual_caps = store::list_caps(&mut tx, task.year)
            .await?
            .into_iter()
            .filter(|c| departments.contains(c.0.as_str()))
            .map(|c| cap_pb(&c))
            .collect();
        let before = digest_of(&task);
        task.revision += 1;
        store::update_task(&mut tx, &task).await?;
        let event = pb::TaskLaunchedEvent {
            task: Some(task_pb(&task)),
            items,
            item_caps_basis_points: caps,
            annual_caps,
        };
        outbox::enqueue(
            &mut tx,
            crate::NAME,
            Event::new::<topics::TaskLaunched>(&task.id, &event),
        )
        .await?;
        audit_entry(
            &mut tx,
            who,
            "task.launch",
            "task",
            &task.id,
            before,
            digest_of(&task),
            String::new(),
        )
        .await?;
        self.finish(tx).await?;
        Ok(task)
    }

    /// Cancels a task.
    pub async fn cancel_task(
        &self,
        who: &Identity,
        id: &str,
        reason: &str,
        expected_revision: i64,
    ) -> Result<Task, Error> {
        let mut tx = self.db.begin().await?;
        let mut task = Self::load_task(&mut tx, id).await?;
        domain::check_revision(task.revision, expected_revision).map_err(Error::Conflict)?;
        let was = task.state;
        domain::cancel(who, &mut task, reason, now_ms())?;
        let before = digest_of(&task);
        task.revision += 1;
        store::update_task(&mut tx, &task).await?;
        if was == TaskState::Launched {
            outbox::enqueue(
                &mut tx,
                crate::NAME,
                Event::new::<topics::TaskCancelled>(
                    &task.id,
                    &pb::TaskCancelledEvent {
                        task: Some(task_pb(&task)),
                    },
                ),
            )
            .await?;
        }
        audit_entry(
            &mut tx,
            who,
            "task.cancel",
            "task",
            &task.id,
            before,
            digest_of(&task),
            task.cancel_reason.clone(),
        )
        .await?;
        self.finish(tx).await?;
        Ok(task)
    }

    /// One task.
    pub async fn task(&self, id: &str) -> Result<Task, Error> {
        let mut conn = self.db.pool().acquire().await?;
        Self::load_task(&mut conn, id).await
    }

    /// A page of tasks.
    pub async fn tasks(
        &self,
        filter: &TaskFilter,
        page: &Page,
    ) -> Result<(Vec<Task>, String), Error> {
        let mut conn = self.db.pool().acquire().await?;
        let tasks = store::list_tasks(&mut conn, filter, page).await?;
        let token = paging::next_token(&tasks, page, |t| &t.id);
        Ok((tasks, token))
    }
}

/// A cap's message.
pub fn cap_pb(c: &Cap) -> pb::AnnualCap {
    pb::AnnualCap {
        department_code: c.0.clone(),
        year: c.1,
        max_per_target: c.2,
        set_time: Some(convert::ts(c.3)),
    }
}

/// Announces `plan` at `version` as topic `T` (published, or amended).
async fn enqueue_plan<T: Topic<Payload = pb::PlanPublishedEvent>>(
    tx: &mut Tx,
    plan: &Plan,
    version: &Version,
) -> Result<(), Error> {
    outbox::enqueue(
        tx,
        crate::NAME,
        Event::new::<T>(
            &plan.id,
            &pb::PlanPublishedEvent {
                plan: Some(plan_pb(plan, version)),
            },
        ),
    )
    .await?;
    Ok(())
}

#[allow(clippy::too_many_arguments)]
async fn audit_entry(
    tx: &mut Tx,
    who: &Identity,
    action: &str,
    entity: &str,
    entity_id: &str,
    before_digest: String,
    after_digest: String,
    detail: String,
) -> Result<(), Error> {
    let event = AuditEvent {
        action,
        entity,
        entity_id,
        before_digest,
        after_digest,
        detail,
    };
    audit::append(tx, who, event).await?;
    Ok(())
}

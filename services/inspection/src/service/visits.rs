//! Visits: one per locked target, changed by the team's coordinators and members step by step, each step
//! written with its saga's timeline line, the task's counts and its audit entry at once.

use super::*;
use crate::domain::visit::Acting;

/// What a visit's change came to (`Sagas::change_read`).
enum Changed {
    /// Written: the visit as written.
    Written(StoredVisit),
    /// Nothing to change: the visit as read.
    Unchanged(StoredVisit),
}

impl Sagas {
    /// Puts a visit's change on its saga's timeline, with the task's visit counts after it (which may move the
    /// saga on to visiting or results).
    pub(super) async fn on_timeline(
        &self,
        tx: &mut Tx,
        task_id: &str,
        step: visit::Step,
        detail: Text,
        actor: &str,
        cause: &str,
    ) -> Result<Result<Stored, Refusal>, Error> {
        let Some((stored, counts)) = store::get_counted(tx, task_id).await? else {
            return Err(Error::NotFound(msg("nf-saga").arg("task", task_id)));
        };
        let input = visit_input(step, detail, counts);
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
        store::list_visits(&mut conn, task_id, page).await
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

    /// Takes `step` on visit `id` by `change` (given the visit and the caller), records it on the saga's timeline with
    /// the task's counts, and announces a conclusion; all written at once (`store::write_visit_step`), read
    /// again on a conflict. A change that answers `None` changes nothing (the same request again): nothing is
    /// written, and the visit is returned as stored.
    pub async fn change_visit(
        &self,
        who: &Identity,
        id: &str,
        step: visit::Step,
        change: impl Fn(&mut Visit) -> Result<Option<Text>, Refusal>,
    ) -> Result<StoredVisit, Error> {
        match step.acting() {
            Acting::Member => require_member(who)?,
            Acting::Team | Acting::Lead => require_role(who, "id")?,
        }
        // One connection for the read and the write (each connection given back costs a round trip: the pool
        // pings it); the read is outside a transaction, and the versions read are checked by the write, which is
        // refused when another writer came first: then the visit is read again.
        let mut conn = self.db.pool().acquire().await?;
        let mut attempt = 0;
        loop {
            let Some(read) = store::get_visit_counted(&mut conn, id).await? else {
                return Err(Error::NotFound(msg("nf-visit").arg("visit", id)));
            };
            match self.change_read(&mut conn, who, read, step, &change).await {
                Ok(Changed::Unchanged(stored)) => return Ok(stored),
                Ok(Changed::Written(stored)) => {
                    self.relay.notify();
                    return Ok(stored);
                }
                Err(Error::Conflict(_)) if attempt < CONFLICT_RETRIES => attempt += 1,
                Err(e) => return Err(e),
            }
        }
    }

    /// Changes the visit read (with its saga and its task's counts) and writes it; the visit as written, or as
    /// read when the change changed nothing.
    async fn change_read(
        &self,
        conn: &mut AnyConnection,
        who: &Identity,
        (mut stored, saga, counts): (StoredVisit, Stored, store::Counts),
        step: visit::Step,
        change: &impl Fn(&mut Visit) -> Result<Option<Text>, Refusal>,
    ) -> Result<Changed, Error> {
        let before = stored.visit.counted();
        if step.acting() == Acting::Lead && who.department != stored.visit.lead {
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
        let counts = counts.moved(before, stored.visit.counted());
        self.record_visit(
            conn,
            who,
            (&stored, before_digest),
            (saga, counts),
            step,
            detail,
        )
        .await?;
        stored.version += 1;
        Ok(Changed::Written(stored))
    }

    /// Writes a changed visit and puts the change on its saga's timeline: `saga` as read with the visit, and the
    /// task's visit counts with this change; on `conn`.
    async fn record_visit(
        &self,
        conn: &mut AnyConnection,
        who: &Identity,
        (stored, before_digest): (&StoredVisit, String),
        (saga, counts): (Stored, store::Counts),
        step: visit::Step,
        detail: Text,
    ) -> Result<(), Error> {
        let v = &stored.visit;
        let cause = format!("grpc:{}", uuid::Uuid::now_v7());
        let detail = detail.arg("visit", &v.id);
        // The step on the service's hash chain too: who, what, the visit before and after (全程留痕).
        let audited = AuditEvent {
            action: step.kind(),
            entity: "visit",
            entity_id: &v.id,
            before_digest,
            after_digest: digest_of(v),
            detail: detail.to_stored(),
        };
        let input = visit_input(step, detail, counts);
        // A conclusion is announced with the saga's change (a visit's change never alters the participants, the
        // task's name or its lead, which the announcement names).
        let mut also = Vec::new();
        if step == visit::Step::Concluded {
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
        Ok(())
    }

    /// The provisional last days of the visits not yet scheduled, changed as a coordinator's visit change is.
    pub(super) async fn recount_visits(&self, calendar: &Calendar) -> Result<u64, Error> {
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
                    .change_visit(&system, &v.id, visit::Step::Recounted, |visit| {
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
}

/// Refuses `who` unless they are an inspector acting for themselves: the member's role, and a token naming
/// their inspector id.
pub(super) fn require_member(who: &Identity) -> Result<(), Error> {
    if !who.has_role(ROLE_MEMBER) {
        return Err(Denied::new("id", msg("denied-role").arg("role", ROLE_MEMBER)).into());
    }
    if who.inspector.is_none() {
        return Err(Denied::new("inspector_ids", msg("denied-member-unnamed")).into());
    }
    Ok(())
}

/// A visit's change as the saga's input, with the task's visit counts after it.
pub(super) fn visit_input(step: visit::Step, detail: Text, counts: store::Counts) -> Input {
    Input::Visit {
        kind: step.kind(),
        detail,
        scheduled: counts.scheduled,
        concluded: counts.concluded,
        total: counts.total,
    }
}

/// `inspection.visit.concluded` for visit `v` of `saga`: per department and item what was found, with the item
/// names as launched, for the directories' history and the departments' results in publication.
pub(super) fn concluded_event(
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

/// Refuses `who` unless their department is on `visit`'s team: only its departments (and the service itself) change
/// a visit.
pub(super) fn on_team(who: &Identity, visit: &Visit) -> Result<(), Denied> {
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

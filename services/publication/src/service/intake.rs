//! Results made from concluded visits: one per department and item the visit inspected, due 20 working days
//! after it, with the target's credit code and name from the directories.

use super::*;

impl Publications {
    /// The target as the directories hold it.
    pub(super) async fn target(&self, id: &str) -> Result<Option<dir::Target>, Error> {
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
                    id: crate::domain::result::id_of(
                        &e.visit_id,
                        &o.department_code,
                        &item.item_code,
                    ),
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
}

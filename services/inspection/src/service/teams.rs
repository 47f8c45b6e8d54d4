//! Drawn teams become visits: read from the draw by a job after the message that announced them has committed,
//! then the saga's step and the visits in one transaction; a replacement made in the draw follows on the visit.

use super::*;

impl Sagas {
    /// Every team of `task_id` as drawn, page by page from the draw (the event that says they are drawn does not
    /// carry a province's teams).
    pub(super) async fn drawn_teams(&self, task_id: &str) -> Result<Vec<draw::Team>, Error> {
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
    pub(super) async fn teams_into_visits(
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
                id: visit::id_of(&saga.task_id, &team.target_id),
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
        let id = visit::id_of(&e.task_id, &r.target_id);
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
            .on_timeline(
                tx,
                &e.task_id,
                visit::Step::TeamChanged,
                detail,
                source,
                cause,
            )
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
}

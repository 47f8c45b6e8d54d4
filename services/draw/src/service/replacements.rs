//! Replacements: a drawn inspector replaced by rule (job change, conflict, health, recusal) with the head's
//! approval, chosen without a new lottery.

use super::*;

impl Draws {
    /// Replaces `inspector_id` on the team of `target_id` for `reason`, approved by the head of the inspector's
    /// department (the caller). The replacement is chosen by rule, not by lottery (docs/draw-v1.md §8.1): of the
    /// department's inspectors eligible on the day who hold its qualifications (an expert for an expert seat),
    /// not on the team, not excluded for the target and never replaced off it, the one with the fewest open
    /// assignments, then the smallest id.
    #[allow(clippy::too_many_arguments)]
    pub async fn replace(
        &self,
        who: &Identity,
        task_id: &str,
        target_id: &str,
        inspector_id: &str,
        reason: Option<Reason>,
        note: &str,
        eligible_on: Option<NaiveDate>,
    ) -> Result<(Record, ReplacementRecord), Error> {
        let Some(reason) = reason else {
            return Err(Violations::one("reason", msg("replacement-reason")).into());
        };
        let (mut record, _) = self.load(task_id).await?;
        if record.state != State::TeamsDrawn {
            return Err(wrong_state(&record, "replace"));
        }
        let d = record.teams.as_ref().expect("teams drawn");
        let team = d
            .teams
            .iter()
            .find(|t| t.target_id == target_id)
            .ok_or_else(|| Violations::one("target_id", msg("not-on-locked-list")))?;
        let seat = team
            .current
            .iter()
            .find(|s| &*s.inspector_id == inspector_id)
            .ok_or_else(|| Violations::one("inspector_id", msg("not-on-team")))?
            .clone();
        if who.department.as_str() != &*seat.department || !who.has_role(ROLE_DEPARTMENT_HEAD) {
            return Err(Denied::new(
                "inspector_id",
                msg("denied-replacement-head")
                    .arg("role", ROLE_DEPARTMENT_HEAD)
                    .arg("dept", &*seat.department),
            )
            .into());
        }
        let quals = d
            .qualifications
            .get(&*seat.department)
            .cloned()
            .unwrap_or_default();
        let mut directories = self.directories().await?;
        let day = eligible_on.unwrap_or_else(today);
        let mut candidates = self
            .eligible(&mut directories, &[(&seat.department, &quals)], day)
            .await?
            .remove(0);
        let excluded: HashSet<&str> = d
            .exclusions
            .get(target_id)
            .map(|v| v.iter().map(String::as_str).collect())
            .unwrap_or_default();
        let replaced_off: HashSet<&str> = d
            .replacements
            .iter()
            .filter(|r| r.target_id == target_id)
            .map(|r| r.replaced.as_str())
            .collect();
        candidates.retain(|c| {
            (!seat.expert_seat || c.expert)
                && !team.current.iter().any(|s| *s.inspector_id == *c.id)
                && !excluded.contains(c.id.as_str())
                && !replaced_off.contains(c.id.as_str())
                && c.id != inspector_id
                && !c.recusals.iter().any(|t| t == target_id)
        });
        let chosen = candidates
            .iter()
            .min_by(|a, b| (a.workload, a.id.as_bytes()).cmp(&(b.workload, b.id.as_bytes())))
            .ok_or_else(|| NotNow(msg("nn-no-replacement").arg("dept", &seat.department)))?
            .id
            .clone();
        let replacement = ReplacementRecord {
            target_id: target_id.to_string(),
            department: seat.department.to_string(),
            replaced: inspector_id.to_string(),
            replacement: chosen.clone(),
            reason,
            note: note.to_string(),
            approved_by: who.subject.clone(),
            at: now_ms(),
        };
        let d = record.teams.as_mut().expect("teams drawn");
        d.replacements.push(replacement.clone());
        let team = d
            .teams
            .iter_mut()
            .find(|t| t.target_id == target_id)
            .expect("found above");
        for s in &mut team.current {
            if &*s.inspector_id == inspector_id {
                s.inspector_id = chosen.as_str().into();
            }
        }
        let event = Event::new::<topics::InspectorReplaced>(
            task_id,
            &pb::InspectorReplacedEvent {
                task_id: task_id.to_string(),
                replacement: Some(crate::convert::replacement_pb(&replacement)),
                team: Some(crate::convert::team_pb(team)),
            },
        );
        let detail = format!("{target_id}: {inspector_id} → {chosen} ({reason:?}) {note}");
        let tx = self.db.begin().await?;
        self.save(tx, who, &mut record, "draw.replace", detail, event)
            .await?;
        Ok((record, replacement))
    }
}

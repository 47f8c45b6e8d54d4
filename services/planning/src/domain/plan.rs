//! A plan's life: drafted and revised by its department, submitted by the end of December, approved or returned by
//! the joint meeting, published.

use super::*;

/// A department's editor (or an admin) acting for `department`.
pub fn may_edit(who: &Identity, department: &str, field: &str) -> Result<(), Denied> {
    if who.has_role(ROLE_ADMIN) {
        return Ok(());
    }
    if !who.has_role(ROLE_PLANNING_EDITOR) {
        return Err(Denied::role(ROLE_PLANNING_EDITOR));
    }
    if who.department != department {
        return Err(denied(
            field,
            msg("denied-department")
                .arg("dept", department)
                .arg("by_dept", &who.department),
        ));
    }
    Ok(())
}

/// Checks the revision the caller read.
pub fn check_revision(current: i64, expected: i64) -> Result<(), String> {
    if expected != 0 && expected != current {
        return Err(format!(
            "the plan changed (revision {current}, you read {expected}); read it again"
        ));
    }
    Ok(())
}

/// Last day to submit a plan for `year`: the end of December before it.
pub fn submission_deadline(year: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(year as i32 - 1, 12, 31).expect("a date")
}

/// Last day to approve a plan for `year`: the end of January of it.
pub fn approval_deadline(year: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(year as i32, 1, 31).expect("a date")
}

/// Edits a draft: only the owner, only in DRAFT, year unchanged.
pub fn check_update(who: &Identity, plan: &Plan, content: &PlanContent) -> Result<(), Refusal> {
    may_edit(who, &plan.department_code, "id")?;
    if plan.state != PlanState::Draft {
        return Err(not_now(
            msg("nn-plan-edit")
                .arg("plan", &plan.id)
                .arg("plan_state", plan.state.as_str()),
        )
        .into());
    }
    check_same_year(plan, content)?;
    Ok(())
}

pub(super) fn check_same_year(plan: &Plan, content: &PlanContent) -> Result<(), Violations> {
    if content.year != plan.year {
        return Err(Violations::one(
            "content.year",
            msg("plan-year-fixed").arg("year", plan.year),
        ));
    }
    Ok(())
}

/// Submits a draft; flags it late after the end of December before its year.
pub fn submit(who: &Identity, plan: &mut Plan, now_ms: i64) -> Result<(), Refusal> {
    may_edit(who, &plan.department_code, "id")?;
    if plan.state != PlanState::Draft {
        return Err(not_now(
            msg("nn-plan-submit")
                .arg("plan", &plan.id)
                .arg("plan_state", plan.state.as_str()),
        )
        .into());
    }
    plan.state = PlanState::Submitted;
    plan.submitted_at = Some(now_ms);
    plan.submitted_by = who.subject.clone();
    plan.late_submission = china_date(now_ms) > submission_deadline(plan.year);
    plan.return_reason.clear();
    Ok(())
}

pub(super) fn joint_meeting(who: &Identity, plan: &Plan) -> Result<(), Denied> {
    if !who.has_role(ROLE_JOINT_MEETING) {
        return Err(denied(
            "authorization",
            msg("denied-meeting-role").arg("role", ROLE_JOINT_MEETING),
        ));
    }
    if who.department == plan.department_code {
        return Err(denied(
            "id",
            msg("denied-own-plan")
                .arg("plan", &plan.id)
                .arg("dept", &plan.department_code),
        ));
    }
    // Four eyes: whoever drafted or submitted the plan does not also decide on it, whichever department's token
    // they hold.
    let role = if who.subject == plan.created_by {
        Some("denied-four-eyes-drafted")
    } else if who.subject == plan.submitted_by {
        Some("denied-four-eyes-submitted")
    } else {
        None
    };
    if let Some(role) = role {
        return Err(denied(
            "id",
            msg(role).arg("who", &who.subject).arg("plan", &plan.id),
        ));
    }
    Ok(())
}

/// The joint meeting sends a submitted plan back as a draft.
pub fn return_plan(who: &Identity, plan: &mut Plan, reason: &str) -> Result<(), Refusal> {
    joint_meeting(who, plan)?;
    let mut v = Violations::new();
    check_text(&mut v, "reason", reason, true);
    v.into_result()?;
    if plan.state != PlanState::Submitted {
        return Err(not_now(
            msg("nn-plan-return")
                .arg("plan", &plan.id)
                .arg("plan_state", plan.state.as_str()),
        )
        .into());
    }
    plan.state = PlanState::Draft;
    plan.return_reason = reason.trim().to_string();
    Ok(())
}

/// The joint meeting approves a submitted plan; late after the end of January of its year.
pub fn approve(who: &Identity, plan: &mut Plan, now_ms: i64) -> Result<(), Refusal> {
    joint_meeting(who, plan)?;
    if plan.state != PlanState::Submitted {
        return Err(not_now(
            msg("nn-plan-approve")
                .arg("plan", &plan.id)
                .arg("plan_state", plan.state.as_str()),
        )
        .into());
    }
    plan.state = PlanState::Approved;
    plan.approved_at = Some(now_ms);
    plan.approved_by = who.subject.clone();
    plan.late_approval = china_date(now_ms) > approval_deadline(plan.year);
    Ok(())
}

/// Publishes an approved plan: its owner or the joint meeting.
pub fn publish(who: &Identity, plan: &mut Plan, now_ms: i64) -> Result<(), Refusal> {
    if !who.has_role(ROLE_JOINT_MEETING) {
        may_edit(who, &plan.department_code, "id")?;
    }
    if plan.state != PlanState::Approved {
        return Err(not_now(
            msg("nn-plan-publish")
                .arg("plan", &plan.id)
                .arg("plan_state", plan.state.as_str()),
        )
        .into());
    }
    plan.state = PlanState::Published;
    plan.published_at = Some(now_ms);
    plan.effective_version = plan.latest_version;
    Ok(())
}

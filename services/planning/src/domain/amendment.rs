//! Amendments: proposed with a reason, filed by the joint meeting and the judicial department, published before
//! they take effect.

use super::*;

/// Opens an amendment of a published plan; one at a time.
pub fn propose_amendment(
    who: &Identity,
    plan: &Plan,
    content: &PlanContent,
    reason: &str,
) -> Result<u32, Refusal> {
    may_edit(who, &plan.department_code, "id")?;
    let mut v = Violations::new();
    check_text(&mut v, "reason", reason, true);
    v.into_result()?;
    check_same_year(plan, content)?;
    if plan.state != PlanState::Published {
        return Err(not_now(
            msg("nn-plan-amend")
                .arg("plan", &plan.id)
                .arg("plan_state", plan.state.as_str()),
        )
        .into());
    }
    if plan.latest_version > plan.effective_version {
        return Err(not_now(
            msg("nn-amendment-pending")
                .arg("plan", &plan.id)
                .arg("version", plan.latest_version),
        )
        .into());
    }
    Ok(plan.latest_version + 1)
}

/// Records the filings the caller's roles allow on a pending amendment.
/// Refuses `who` unless they file amendments: the joint meeting or the judicial department.
pub fn may_file(who: &Identity) -> Result<(), Denied> {
    if who.has_role(ROLE_JOINT_MEETING) || who.has_role(ROLE_PLANNING_JUDICIAL) {
        return Ok(());
    }
    Err(Denied::new(
        "authorization",
        msg("denied-filing")
            .arg("meeting_role", ROLE_JOINT_MEETING)
            .arg("judicial_role", ROLE_PLANNING_JUDICIAL),
    ))
}

pub fn file_amendment(who: &Identity, plan: &Plan, version: &mut Version) -> Result<(), Refusal> {
    if version.amendment != Some(AmendmentState::Proposed) {
        return Err(not_now(
            msg("nn-not-proposed-amendment")
                .arg("plan", &plan.id)
                .arg("version", version.version),
        )
        .into());
    }
    let mut filed = false;
    if who.has_role(ROLE_JOINT_MEETING) && version.joint_meeting_filed_by.is_empty() {
        version.joint_meeting_filed_by = who.subject.clone();
        filed = true;
    }
    if who.has_role(ROLE_PLANNING_JUDICIAL) && version.judicial_filed_by.is_empty() {
        version.judicial_filed_by = who.subject.clone();
        filed = true;
    }
    if !filed {
        return Err(denied(
            "authorization",
            msg("denied-filing")
                .arg("meeting_role", ROLE_JOINT_MEETING)
                .arg("judicial_role", ROLE_PLANNING_JUDICIAL),
        )
        .into());
    }
    if !version.joint_meeting_filed_by.is_empty() && !version.judicial_filed_by.is_empty() {
        version.amendment = Some(AmendmentState::Filed);
    }
    Ok(())
}

/// Publishes a filed amendment: it comes into force.
pub fn publish_amendment(
    who: &Identity,
    plan: &mut Plan,
    version: &mut Version,
    now_ms: i64,
) -> Result<(), Refusal> {
    may_edit(who, &plan.department_code, "id")?;
    match version.amendment {
        Some(AmendmentState::Filed) => {}
        Some(AmendmentState::Proposed) => {
            let with = match (
                version.joint_meeting_filed_by.is_empty(),
                version.judicial_filed_by.is_empty(),
            ) {
                (true, true) => "both",
                (true, false) => "joint_meeting",
                _ => "judicial",
            };
            return Err(not_now(
                msg("nn-amendment-not-filed")
                    .arg("version", version.version)
                    .arg("with", with),
            )
            .into());
        }
        _ => {
            return Err(not_now(
                msg("nn-not-pending-amendment")
                    .arg("plan", &plan.id)
                    .arg("version", version.version),
            )
            .into());
        }
    }
    version.amendment = Some(AmendmentState::Published);
    version.effective_at = Some(now_ms);
    plan.effective_version = version.version;
    Ok(())
}

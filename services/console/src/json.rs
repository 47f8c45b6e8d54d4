//! The inspection API's messages as the page reads them: enums by their short lower-case names (`inviting`,
//! `confirmed`, `on_site`), times as RFC 3339.

use serde_json::{Value, json};
use suiji_api::draw::v1 as draw;
use suiji_api::inspection::v1 as pb;
use suiji_platform::auth::Identity;

/// A protobuf enum the page names by its short name: the value's name without the type's prefix, lower-case
pub use suiji_api::named::{Named, name, names, of};

/// A gRPC status code's name, e.g. `InvalidArgument`.
pub fn code_name(code: tonic::Code) -> String {
    format!("{code:?}")
}

fn time(t: Option<&prost_types::Timestamp>) -> Value {
    t.and_then(|t| chrono::DateTime::from_timestamp(t.seconds, t.nanos.max(0) as u32))
        .map(|t| Value::String(t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)))
        .unwrap_or(Value::Null)
}

/// Who is signed in.
pub fn identity(who: &Identity) -> Value {
    json!({ "subject": who.subject, "department": who.department, "roles": who.roles })
}

/// A saga, with its timeline when it carries one.
pub fn saga(s: &pb::Saga) -> Value {
    json!({
        "task_id": s.task_id,
        "task_name": s.task_name,
        "year": s.year,
        "lead": s.lead_department_code,
        "phase": name::<pb::Phase>(s.phase),
        "participants": s.participants.iter().map(|p| json!({
            "department": p.department_code,
            "items": p.item_codes,
            "state": name::<pb::InvitationState>(p.state),
            "reason": p.reason,
            "answered_by": p.answered_by,
            "answer_time": time(p.answer_time.as_ref()),
        })).collect::<Vec<_>>(),
        "attention": s.attention.as_ref().map(|a| json!({
            "step": a.step,
            "reason": a.reason,
            "since": time(a.since.as_ref()),
            "actions": a.actions,
        })),
        "paused": s.paused,
        "waiting_on": s.waiting_on,
        "deadlines": s.deadlines.iter().map(|d| json!({
            "step": d.step, "date": d.date, "working_days": d.working_days, "provisional": d.provisional,
        })).collect::<Vec<_>>(),
        "targets": s.targets,
        "teams": s.teams,
        "cancel_reason": s.cancel_reason,
        "version": s.version,
        "start_time": time(s.start_time.as_ref()),
        "update_time": time(s.update_time.as_ref()),
        "history": s.history.iter().map(|h| json!({
            "seq": h.seq,
            "time": time(h.time.as_ref()),
            "actor": h.actor,
            "kind": h.kind,
            "detail": h.detail,
            "phase": name::<pb::Phase>(h.phase),
            "applied": h.applied,
            "cause": h.cause,
        })).collect::<Vec<_>>(),
    })
}

/// A visit: its team, check points and findings, schedule, signature and outcome.
pub fn visit(v: &pb::Visit) -> Value {
    json!({
        "id": v.id,
        "target_id": v.target_id,
        "team": v.team.iter().map(|m| json!({
            "inspector_id": m.inspector_id,
            "department": m.department_code,
            "leader": m.leader,
            "confirmed": m.confirmed,
        })).collect::<Vec<_>>(),
        "assigned_on": v.assigned_on,
        "schedule_by": v.schedule_by,
        "schedule_by_provisional": v.schedule_by_provisional,
        "scheduled_for": v.scheduled_for,
        "method": name::<pb::VisitMethod>(v.method),
        "announced": v.announced,
        "checks": v.checks.iter().map(|c| json!({
            "department": c.department_code,
            "item_code": c.item_code,
            "check_code": c.check_code,
            "description": c.description,
        })).collect::<Vec<_>>(),
        "findings": v.findings.iter().map(|f| json!({
            "department": f.department_code,
            "item_code": f.item_code,
            "check_code": f.check_code,
            "result": name::<pb::CheckResult>(f.result),
            "note": f.note,
        })).collect::<Vec<_>>(),
        "evidence": v.evidence.iter().map(|e| json!({
            "sha256": e.sha256,
            "storage_ref": e.storage_ref,
            "media_type": e.media_type,
            "size_bytes": e.size_bytes,
            "description": e.description,
            "department": e.department_code,
            "item_code": e.item_code,
            "check_code": e.check_code,
            "added_by": e.added_by,
            "add_time": time(e.add_time.as_ref()),
        })).collect::<Vec<_>>(),
        "signed_by": v.signed_by,
        "refusal_note": v.refusal_note,
        "outcome": name::<pb::VisitOutcome>(v.outcome),
        "concluded_on": v.concluded_on,
        "verifications": v.verifications,
    })
}

/// A transfer with its steps.
pub fn transfer(t: &pb::Transfer) -> Value {
    json!({
        "id": t.id,
        "task_id": t.task_id,
        "visit_id": t.visit_id,
        "target_id": t.target_id,
        "item_code": t.item_code,
        "from": t.from_department_code,
        "to": t.to_department_code,
        "kind": name::<pb::TransferKind>(t.kind),
        "problem": t.problem,
        "state": name::<pb::TransferState>(t.state),
        "outcome": t.outcome,
        "version": t.version,
        "history": t.history.iter().map(|h| json!({
            "time": time(h.time.as_ref()),
            "actor": h.actor,
            "kind": h.kind,
            "detail": h.detail,
        })).collect::<Vec<_>>(),
    })
}

/// The target half of a draw record.
pub fn target_draw(d: &draw::Draw) -> Value {
    let t = d.targets.clone().unwrap_or_default();
    json!({
        "task_id": d.task_id,
        "algorithm": d.algorithm,
        "list_public": d.list_public,
        "candidates": t.candidates,
        "quantity": t.quantity,
        "cap_basis_points": t.cap_basis_points,
        "exclusions": t.exclusions.iter().map(|e| json!({ "rule": e.rule, "count": e.count }))
            .collect::<Vec<_>>(),
        "strata": t.strata.iter().map(|s| json!({
            "name": s.name,
            "candidates": s.candidates,
            "take": s.take,
            "ratio_basis_points": s.ratio_basis_points,
            "drawn": s.drawn,
        })).collect::<Vec<_>>(),
        "result_digest": t.result_digest,
        "snapshot_id": t.snapshot_id,
        "locked_by": t.locked_by,
        "lock_time": time(t.lock_time.as_ref()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_go_both_ways() {
        assert_eq!(
            name::<pb::Phase>(pb::Phase::ReviewingTargets as i32),
            "reviewing_targets"
        );
        assert_eq!(of("reviewing_targets"), Some(pb::Phase::ReviewingTargets));
        assert_eq!(of::<pb::Phase>("unspecified"), None);
        assert_eq!(of::<pb::Phase>("lunch"), None);
        assert_eq!(name::<pb::Phase>(99), "unknown(99)");
        assert_eq!(of("proceed_without"), Some(pb::Action::ProceedWithout));
        assert_eq!(of::<pb::Action>("unspecified"), None);
        assert_eq!(of("third_party"), Some(pb::VisitMethod::ThirdParty));
        assert_eq!(of("not_found"), Some(pb::VisitOutcome::NotFound));
        assert_eq!(of("not_applicable"), Some(pb::CheckResult::NotApplicable));
        assert_eq!(
            name::<pb::InvitationState>(pb::InvitationState::Withdrawn as i32),
            "withdrawn"
        );
        assert_eq!(
            names::<pb::VisitOutcome>(),
            ["inspected", "not_found", "closed"]
        );
        assert_eq!(names::<pb::Action>().len(), 7);
        assert_eq!(
            code_name(tonic::Code::FailedPrecondition),
            "FailedPrecondition"
        );
    }

    #[test]
    fn times_are_rfc3339_in_utc() {
        let t = prost_types::Timestamp {
            seconds: 1_798_761_600,
            nanos: 0,
        };
        assert_eq!(time(Some(&t)), json!("2027-01-01T00:00:00Z"));
        assert_eq!(time(None), Value::Null);
    }
}

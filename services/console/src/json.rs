//! The inspection API's messages as the page reads them: enums by their short lower-case names (`inviting`,
//! `confirmed`, `on_site`), times as RFC 3339.

use serde_json::{Value, json};
use suiji_api::inspection::v1 as pb;
use suiji_platform::auth::Identity;

/// An enum value's name without its type's prefix, lower-case: `PHASE_PROCEED` → `proceed`.
fn short(name: &str, prefix: &str) -> String {
    name.strip_prefix(prefix)
        .unwrap_or(name)
        .to_ascii_lowercase()
}

/// A phase's short name.
pub fn phase_name(phase: i32) -> String {
    pb::Phase::try_from(phase)
        .map(|p| short(p.as_str_name(), "PHASE_"))
        .unwrap_or_else(|_| format!("unknown({phase})"))
}

/// The phase called `name` (its short name).
pub fn phase_of(name: &str) -> Option<pb::Phase> {
    pb::Phase::from_str_name(&format!("PHASE_{}", name.to_ascii_uppercase()))
        .filter(|p| *p != pb::Phase::Unspecified)
}

/// The action called `name` (its short name).
pub fn action_of(name: &str) -> Option<pb::Action> {
    pb::Action::from_str_name(&format!("ACTION_{}", name.to_ascii_uppercase()))
        .filter(|a| *a != pb::Action::Unspecified)
}

/// The visit method called `name` (its short name).
pub fn method_of(name: &str) -> Option<pb::VisitMethod> {
    pb::VisitMethod::from_str_name(&format!("VISIT_METHOD_{}", name.to_ascii_uppercase()))
        .filter(|m| *m != pb::VisitMethod::Unspecified)
}

/// The visit outcome called `name` (its short name).
pub fn outcome_of(name: &str) -> Option<pb::VisitOutcome> {
    pb::VisitOutcome::from_str_name(&format!("VISIT_OUTCOME_{}", name.to_ascii_uppercase()))
        .filter(|o| *o != pb::VisitOutcome::Unspecified)
}

/// The check result called `name` (its short name).
pub fn result_of(name: &str) -> Option<pb::CheckResult> {
    pb::CheckResult::from_str_name(&format!("CHECK_RESULT_{}", name.to_ascii_uppercase()))
        .filter(|r| *r != pb::CheckResult::Unspecified)
}

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
        "phase": phase_name(s.phase),
        "participants": s.participants.iter().map(|p| json!({
            "department": p.department_code,
            "items": p.item_codes,
            "state": pb::InvitationState::try_from(p.state)
                .map(|st| short(st.as_str_name(), "INVITATION_STATE_"))
                .unwrap_or_default(),
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
            "step": d.step, "date": d.date, "working_days": d.working_days,
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
            "phase": phase_name(h.phase),
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
        "scheduled_for": v.scheduled_for,
        "method": pb::VisitMethod::try_from(v.method)
            .map(|m| short(m.as_str_name(), "VISIT_METHOD_"))
            .unwrap_or_default(),
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
            "result": pb::CheckResult::try_from(f.result)
                .map(|r| short(r.as_str_name(), "CHECK_RESULT_"))
                .unwrap_or_default(),
            "note": f.note,
        })).collect::<Vec<_>>(),
        "signed_by": v.signed_by,
        "refusal_note": v.refusal_note,
        "outcome": pb::VisitOutcome::try_from(v.outcome)
            .map(|o| short(o.as_str_name(), "VISIT_OUTCOME_"))
            .unwrap_or_default(),
        "concluded_on": v.concluded_on,
        "verifications": v.verifications,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_go_both_ways() {
        assert_eq!(
            phase_name(pb::Phase::ReviewingTargets as i32),
            "reviewing_targets"
        );
        assert_eq!(
            phase_of("reviewing_targets"),
            Some(pb::Phase::ReviewingTargets)
        );
        assert_eq!(phase_of("unspecified"), None);
        assert_eq!(phase_of("lunch"), None);
        assert_eq!(
            action_of("proceed_without"),
            Some(pb::Action::ProceedWithout)
        );
        assert_eq!(action_of("unspecified"), None);
        assert_eq!(method_of("third_party"), Some(pb::VisitMethod::ThirdParty));
        assert_eq!(method_of("unspecified"), None);
        assert_eq!(outcome_of("not_found"), Some(pb::VisitOutcome::NotFound));
        assert_eq!(outcome_of("unspecified"), None);
        assert_eq!(
            result_of("not_applicable"),
            Some(pb::CheckResult::NotApplicable)
        );
        assert_eq!(result_of("unspecified"), None);
        assert_eq!(phase_name(99), "unknown(99)");
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

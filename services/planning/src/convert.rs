//! Conversions between the protobuf messages of `suiji.planning.v1` and the domain types. Enum values map by
//! name: `RISK_LEVEL_MEDIUM_HIGH` is the domain's `medium_high`.

use chrono::NaiveDate;
use suiji_api::catalog::v1 as cat;
use suiji_api::directories::v1 as dir;
use suiji_api::planning::v1 as pb;
use suiji_platform::validation::{Violations, msg};

use crate::domain::{
    AmendmentState, CatalogItem, Entry, Method, Participant, Plan, PlanContent, PlanState, Risk,
    RiskRatio, Scope, Status, TargetKind, Task, TaskContent, TaskRequest, TaskState, TaskType,
    Version,
};

/// A protobuf timestamp from epoch milliseconds.
pub use suiji_platform::grpc::timestamp as ts;

/// The domain name of a protobuf enum value's name: the prefix cut off, lower case.
fn domain_name(pb_name: &str, prefix: &str) -> Option<String> {
    pb_name
        .strip_prefix(prefix)
        .filter(|rest| *rest != "UNSPECIFIED")
        .map(str::to_ascii_lowercase)
}

/// The protobuf enum name of a domain name.
fn pb_name(prefix: &str, domain: &str) -> String {
    format!("{prefix}{}", domain.to_ascii_uppercase())
}

macro_rules! enum_map {
    ($to_domain:ident, $to_pb:ident, $domain:ty, $pb:ty, $prefix:literal) => {
        /// The domain value of a protobuf enum value; `None` when unset or unknown.
        pub fn $to_domain(v: i32) -> Option<$domain> {
            let name = <$pb>::try_from(v).ok()?.as_str_name();
            <$domain>::parse(&domain_name(name, $prefix)?)
        }

        /// The protobuf enum value of a domain value.
        pub fn $to_pb(v: $domain) -> i32 {
            <$pb>::from_str_name(&pb_name($prefix, v.as_str())).map_or(0, |e| e as i32)
        }
    };
}

enum_map!(
    plan_state,
    plan_state_pb,
    PlanState,
    pb::PlanState,
    "PLAN_STATE_"
);
enum_map!(
    task_type,
    task_type_pb,
    TaskType,
    pb::TaskType,
    "TASK_TYPE_"
);
enum_map!(
    method,
    method_pb,
    Method,
    cat::InspectionMethod,
    "INSPECTION_METHOD_"
);
enum_map!(risk, risk_pb, Risk, dir::RiskLevel, "RISK_LEVEL_");
enum_map!(
    status,
    status_pb,
    Status,
    dir::OperatingStatus,
    "OPERATING_STATUS_"
);
enum_map!(
    task_state,
    task_state_pb,
    TaskState,
    pb::TaskState,
    "TASK_STATE_"
);
enum_map!(
    amendment_state,
    amendment_state_pb,
    AmendmentState,
    pb::AmendmentState,
    "AMENDMENT_STATE_"
);
enum_map!(
    target_kind,
    target_kind_pb,
    TargetKind,
    suiji_api::types::v1::TargetKind,
    "TARGET_KIND_"
);

/// Converts every value of a repeated enum field, naming the bad ones.
fn enums<T>(
    v: &mut Violations,
    field: &str,
    values: &[i32],
    f: impl Fn(i32) -> Option<T>,
) -> Vec<T> {
    values
        .iter()
        .enumerate()
        .filter_map(|(i, x)| {
            let out = f(*x);
            if out.is_none() {
                v.add(
                    format!("{field}[{i}]"),
                    msg("not-a-known-value").arg("value", x),
                );
            }
            out
        })
        .collect()
}

fn date(v: &mut Violations, field: &str, text: &str) -> NaiveDate {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap_or_else(|_| {
        if text.is_empty() {
            v.add(field, msg("required"));
        } else {
            v.add(field, msg("not-a-date").arg("value", text));
        }
        NaiveDate::MIN
    })
}

/// A scope from its message.
pub fn scope_from(v: &mut Violations, field: &str, f: Option<dir::TargetFilter>) -> Scope {
    let f = f.unwrap_or_default();
    Scope {
        kinds: enums(v, &format!("{field}.kinds"), &f.kinds, target_kind),
        region_codes: f.region_codes,
        industry_prefixes: f.industry_prefixes,
        departments: f.departments,
        risk_levels: enums(v, &format!("{field}.risk_levels"), &f.risk_levels, risk),
        statuses: enums(v, &format!("{field}.statuses"), &f.statuses, status),
    }
}

/// A scope's message.
pub fn scope_pb(s: &Scope) -> dir::TargetFilter {
    dir::TargetFilter {
        kinds: s.kinds.iter().map(|k| target_kind_pb(*k)).collect(),
        region_codes: s.region_codes.clone(),
        industry_prefixes: s.industry_prefixes.clone(),
        departments: s.departments.clone(),
        risk_levels: s.risk_levels.iter().map(|r| risk_pb(*r)).collect(),
        statuses: s.statuses.iter().map(|r| status_pb(*r)).collect(),
    }
}

fn participants_from(ps: Vec<pb::Participant>) -> Vec<Participant> {
    ps.into_iter()
        .map(|p| Participant {
            department_code: p.department_code.trim().to_string(),
            item_codes: p.item_codes,
        })
        .collect()
}

fn participants_pb(ps: &[Participant]) -> Vec<pb::Participant> {
    ps.iter()
        .map(|p| pb::Participant {
            department_code: p.department_code.clone(),
            item_codes: p.item_codes.clone(),
        })
        .collect()
}

fn entry_from(v: &mut Violations, f: &str, e: pb::PlanEntry) -> Entry {
    let task_type = task_type(e.r#type).unwrap_or_else(|| {
        v.add(format!("{f}.type"), msg("task-type-required"));
        TaskType::Directed
    });
    let method = method(e.method).unwrap_or_else(|| {
        v.add(format!("{f}.method"), msg("required"));
        Method::OnSite
    });
    let risk_ratios = e
        .risk_ratios
        .iter()
        .enumerate()
        .filter_map(|(i, r)| match risk(r.level) {
            Some(level) => Some(RiskRatio {
                level,
                basis_points: r.basis_points,
            }),
            None => {
                v.add(format!("{f}.risk_ratios[{i}].level"), msg("required"));
                None
            }
        })
        .collect();
    Entry {
        key: e.key.trim().to_string(),
        task_name: e.task_name.trim().to_string(),
        task_type,
        scope: scope_from(v, &format!("{f}.scope"), e.scope),
        method,
        ratio_basis_points: e.ratio_basis_points,
        quantity: e.quantity,
        risk_ratios,
        lead_department_code: e.lead_department_code.trim().to_string(),
        participants: participants_from(e.participants),
        window_start: date(v, &format!("{f}.window_start"), &e.window_start),
        window_end: date(v, &format!("{f}.window_end"), &e.window_end),
        publish_drawn_list: e.publish_drawn_list,
        witnessed_draw: e.witnessed_draw,
    }
}

/// An entry's message.
pub fn entry_pb(e: &Entry) -> pb::PlanEntry {
    pb::PlanEntry {
        key: e.key.clone(),
        task_name: e.task_name.clone(),
        r#type: task_type_pb(e.task_type),
        scope: Some(scope_pb(&e.scope)),
        method: method_pb(e.method),
        ratio_basis_points: e.ratio_basis_points,
        quantity: e.quantity,
        risk_ratios: e
            .risk_ratios
            .iter()
            .map(|r| pb::RiskRatio {
                level: risk_pb(r.level),
                basis_points: r.basis_points,
            })
            .collect(),
        lead_department_code: e.lead_department_code.clone(),
        participants: participants_pb(&e.participants),
        window_start: e.window_start.to_string(),
        window_end: e.window_end.to_string(),
        publish_drawn_list: e.publish_drawn_list,
        witnessed_draw: e.witnessed_draw,
    }
}

/// Plan content from its message; enum and date problems become violations.
pub fn content_from(c: Option<pb::PlanContent>) -> Result<PlanContent, Violations> {
    let Some(c) = c else {
        return Err(Violations::one("content", msg("required")));
    };
    let mut v = Violations::new();
    let entries = c
        .entries
        .into_iter()
        .enumerate()
        .map(|(i, e)| entry_from(&mut v, &format!("content.entries[{i}]"), e))
        .collect();
    v.into_result()?;
    Ok(PlanContent {
        name: c.name.trim().to_string(),
        year: c.year,
        entries,
        remarks: c.remarks,
    })
}

/// Plan content's message.
pub fn content_pb(c: &PlanContent) -> pb::PlanContent {
    pb::PlanContent {
        name: c.name.clone(),
        year: c.year,
        entries: c.entries.iter().map(entry_pb).collect(),
        remarks: c.remarks.clone(),
    }
}

/// A version's message.
pub fn version_pb(v: &Version) -> pb::PlanVersion {
    pb::PlanVersion {
        version: v.version,
        content: Some(content_pb(&v.content)),
        reason: v.reason.clone(),
        amendment_state: v.amendment.map_or(0, amendment_state_pb),
        joint_meeting_filed_by: v.joint_meeting_filed_by.clone(),
        judicial_filed_by: v.judicial_filed_by.clone(),
        created_time: Some(ts(v.created_at)),
        effective_time: v.effective_at.map(ts),
    }
}

/// A plan's message with one of its versions.
pub fn plan_pb(p: &Plan, v: &Version) -> pb::Plan {
    pb::Plan {
        id: p.id.clone(),
        department_code: p.department_code.clone(),
        joint: v.content.is_joint(),
        state: plan_state_pb(p.state),
        version: Some(version_pb(v)),
        effective_version: p.effective_version,
        latest_version: p.latest_version,
        revision: p.revision,
        submitted_time: p.submitted_at.map(ts),
        approved_time: p.approved_at.map(ts),
        published_time: p.published_at.map(ts),
        approved_by: p.approved_by.clone(),
        late_submission: p.late_submission,
        late_approval: p.late_approval,
        return_reason: p.return_reason.clone(),
    }
}

/// A task request from its message.
pub fn task_request_from(c: Option<pb::TaskContent>) -> Result<TaskRequest, Violations> {
    let Some(c) = c else {
        return Err(Violations::one("content", msg("required")));
    };
    let mut v = Violations::new();
    let window = match (c.window_start.is_empty(), c.window_end.is_empty()) {
        (true, true) => None,
        _ => Some((
            date(&mut v, "content.window_start", &c.window_start),
            date(&mut v, "content.window_end", &c.window_end),
        )),
    };
    let scope = c
        .scope
        .map(|s| scope_from(&mut v, "content.scope", Some(s)));
    v.check(c.plan_id.is_empty(), "content.plan_id", msg("required"));
    v.check(c.entry_key.is_empty(), "content.entry_key", msg("required"));
    v.into_result()?;
    Ok(TaskRequest {
        plan_id: c.plan_id,
        entry_key: c.entry_key,
        name: c.name,
        window,
        participants: participants_from(c.participants),
        scope,
        quantity: c.quantity,
    })
}

fn task_content_pb(c: &TaskContent) -> pb::TaskContent {
    pb::TaskContent {
        plan_id: c.plan_id.clone(),
        entry_key: c.entry_key.clone(),
        name: c.name.clone(),
        window_start: c.window_start.to_string(),
        window_end: c.window_end.to_string(),
        participants: participants_pb(&c.participants),
        scope: Some(scope_pb(&c.scope)),
        quantity: c.quantity,
    }
}

/// A task's message.
pub fn task_pb(t: &Task) -> pb::Task {
    pb::Task {
        id: t.id.clone(),
        content: Some(task_content_pb(&t.content)),
        plan_version: t.plan_version,
        lead_department_code: t.lead().to_string(),
        state: task_state_pb(t.state),
        entry: Some(entry_pb(&t.entry)),
        year: t.year,
        cancel_reason: t.cancel_reason.clone(),
        revision: t.revision,
        created_time: Some(ts(t.created_at)),
        launched_time: t.launched_at.map(ts),
        cancelled_time: t.cancelled_at.map(ts),
        created_by: t.created_by.clone(),
    }
}

/// What planning keeps of a catalog item, with the jurisdiction's cap filled in for general items.
pub fn catalog_item(item: &cat::Item, general_cap: u32) -> CatalogItem {
    let content = item
        .version
        .as_ref()
        .and_then(|v| v.content.clone())
        .unwrap_or_default();
    let cap = match (content.category(), content.ratio_cap_basis_points) {
        (cat::ItemCategory::General, 0) => general_cap,
        (_, cap) => cap,
    };
    CatalogItem {
        code: item.code.clone(),
        name: content.name.clone(),
        department_code: item.department_code.clone(),
        published: item.state() == cat::ItemState::Published,
        cap_basis_points: cap,
        methods: content.methods.iter().filter_map(|m| method(*m)).collect(),
        target_kinds: content
            .target_kinds
            .iter()
            .filter_map(|k| target_kind(*k))
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enum_values_map_both_ways_by_name() {
        for r in Risk::ALL {
            assert_eq!(risk(risk_pb(*r)), Some(*r));
        }
        assert_eq!(
            risk(dir::RiskLevel::MediumHigh as i32),
            Some(Risk::MediumHigh)
        );
        assert_eq!(
            method(cat::InspectionMethod::OnlineMonitoring as i32),
            Some(Method::OnlineMonitoring)
        );
        for k in TargetKind::ALL {
            assert_eq!(target_kind(target_kind_pb(k)), Some(k));
        }
        for s in TaskState::ALL {
            assert_eq!(task_state(task_state_pb(*s)), Some(*s));
        }
        assert_eq!(risk(0), None, "unspecified is no value");
        assert_eq!(risk(99), None, "unknown is no value");
    }
}

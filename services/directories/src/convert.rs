//! The directories' proto mapping: domain types as messages and requests as queries, for `grpc.rs`.

use crate::domain::inspector::{Inspector, InspectorStatus};
use crate::domain::target::{Kind, Risk, Status as OperatingStatus, Target};
use crate::store::TargetQuery;
use suiji_api::directories::v1 as pb;
use suiji_platform::error::Error;
use suiji_platform::grpc::timestamp as ts;
use suiji_platform::messages::msg;
use suiji_platform::reference::DepartmentSeed;
use suiji_platform::validation::Violations;

pub(crate) fn level_name(level: i32) -> Option<&'static str> {
    match pb::DepartmentLevel::try_from(level).ok()? {
        pb::DepartmentLevel::Province => Some("province"),
        pb::DepartmentLevel::City => Some("city"),
        pb::DepartmentLevel::County => Some("county"),
        pb::DepartmentLevel::Unspecified => None,
    }
}

/// A department as a message.
pub fn department_pb(d: &DepartmentSeed, active: bool) -> pb::Department {
    pb::Department {
        code: d.code.clone(),
        name: d.name.clone(),
        level: match d.level.as_str() {
            "province" => pb::DepartmentLevel::Province,
            "city" => pb::DepartmentLevel::City,
            _ => pb::DepartmentLevel::County,
        } as i32,
        region_code: d.region_code.clone(),
        active,
    }
}

pub(crate) fn kind_pb(k: Kind) -> pb::TargetKind {
    match k {
        Kind::Enterprise => pb::TargetKind::Enterprise,
        Kind::IndividualBusiness => pb::TargetKind::IndividualBusiness,
        Kind::FarmersCooperative => pb::TargetKind::FarmersCooperative,
        Kind::PublicInstitution => pb::TargetKind::PublicInstitution,
        Kind::SocialOrganisation => pb::TargetKind::SocialOrganisation,
        Kind::NaturalPerson => pb::TargetKind::NaturalPerson,
        Kind::Project => pb::TargetKind::Project,
        Kind::Facility => pb::TargetKind::Facility,
        Kind::Premises => pb::TargetKind::Premises,
    }
}

pub(crate) fn risk_pb(r: Risk) -> pb::RiskLevel {
    match r {
        Risk::Low => pb::RiskLevel::Low,
        Risk::Medium => pb::RiskLevel::Medium,
        Risk::MediumHigh => pb::RiskLevel::MediumHigh,
        Risk::High => pb::RiskLevel::High,
    }
}

pub(crate) fn status_pb(s: OperatingStatus) -> pb::OperatingStatus {
    match s {
        OperatingStatus::Operating => pb::OperatingStatus::Operating,
        OperatingStatus::Closed => pb::OperatingStatus::Closed,
        OperatingStatus::Liquidating => pb::OperatingStatus::Liquidating,
        OperatingStatus::Revoked => pb::OperatingStatus::Revoked,
    }
}

/// A target as a message.
pub fn target_pb(t: &Target, updated_ms: i64) -> pb::Target {
    pb::Target {
        id: t.id.clone(),
        kind: kind_pb(t.kind) as i32,
        credit_code: t.credit_code.clone().unwrap_or_default(),
        name: t.name.clone(),
        region_code: t.region_code.clone(),
        industry_code: t.industry_code.clone(),
        address: t.address.clone(),
        status: status_pb(t.status) as i32,
        departments: t.departments.clone(),
        risk_level: risk_pb(t.risk) as i32,
        abnormal: t.abnormal,
        serious_violation: t.serious_violation,
        complaints_12m: t.complaints_12m,
        key_focus: t.key_focus,
        update_time: Some(ts(updated_ms)),
    }
}

/// A filter from its message; unknown enum values and region codes become violations.
pub(crate) fn query_from(
    filter: Option<pb::TargetFilter>,
    name_contains: String,
    regions: &suiji_platform::reference::Regions,
) -> Result<TargetQuery, Violations> {
    let f = filter.unwrap_or_default();
    let mut v = Violations::new();
    let mut q = TargetQuery {
        name_contains,
        ..Default::default()
    };
    for (i, k) in f.kinds.iter().enumerate() {
        match pb::TargetKind::try_from(*k)
            .ok()
            .and_then(|k| Kind::ALL.into_iter().find(|d| kind_pb(*d) == k))
        {
            Some(k) => q.kinds.push(k.as_str().into()),
            None => v.add(
                format!("filter.kinds[{i}]"),
                msg("not-a-target-kind").arg("value", k),
            ),
        }
    }
    for (i, r) in f.risk_levels.iter().enumerate() {
        match pb::RiskLevel::try_from(*r)
            .ok()
            .and_then(|r| Risk::ALL.into_iter().find(|d| risk_pb(*d) == r))
        {
            Some(r) => q.risks.push(r.as_str().into()),
            None => v.add(
                format!("filter.risk_levels[{i}]"),
                msg("not-a-known-value").arg("value", r),
            ),
        }
    }
    for (i, s) in f.statuses.iter().enumerate() {
        let all = [
            OperatingStatus::Operating,
            OperatingStatus::Closed,
            OperatingStatus::Liquidating,
            OperatingStatus::Revoked,
        ];
        match pb::OperatingStatus::try_from(*s)
            .ok()
            .and_then(|s| all.into_iter().find(|d| status_pb(*d) == s))
        {
            Some(s) => q.statuses.push(s.as_str().into()),
            None => v.add(
                format!("filter.statuses[{i}]"),
                msg("not-a-known-value").arg("value", s),
            ),
        }
    }
    for (i, code) in f.region_codes.iter().enumerate() {
        match regions.prefix(code) {
            Some(prefix) => q.region_prefixes.push(prefix.to_string()),
            None => v.add(
                format!("filter.region_codes[{i}]"),
                msg("region-code").arg("value", code),
            ),
        }
    }
    for (i, code) in f.industry_prefixes.iter().enumerate() {
        match crate::domain::industry::normalise(code) {
            Ok(code) => q.industry_prefixes.push(code),
            Err(e) => v.add(format!("filter.industry_prefixes[{i}]"), e),
        }
    }
    q.departments = f.departments;
    v.into_result()?;
    Ok(q)
}

/// An optional `YYYY-MM-DD` day from a request field.
pub(crate) fn parse_day(field: &str, value: &str) -> Result<Option<chrono::NaiveDate>, Error> {
    if value.is_empty() {
        return Ok(None);
    }
    chrono::NaiveDate::parse_from_str(value, "%Y-%m-%d")
        .map(Some)
        .map_err(|_| {
            Error::Invalid(Violations::one(
                field,
                msg("not-a-date").arg("value", value),
            ))
        })
}

/// A recusal request as a message.
pub fn recusal_pb(r: &crate::store::RecusalRow) -> pb::Recusal {
    pb::Recusal {
        id: r.id.clone(),
        target_id: r.target_id.clone(),
        inspector_id: r.inspector_id.clone(),
        reason: r.reason.clone(),
        state: match r.state.as_str() {
            "accepted" => pb::RecusalState::Accepted,
            "rejected" => pb::RecusalState::Rejected,
            _ => pb::RecusalState::Pending,
        } as i32,
        decision_reason: r.decision_reason.clone(),
        filed_by: r.filed_by.clone(),
        file_time: Some(ts(r.filed_at)),
        decided_by: r.decided_by.clone(),
        decide_time: r.decided_at.map(ts),
    }
}

/// An inspector as a message.
pub fn inspector_pb(i: &Inspector, workload: u32) -> pb::Inspector {
    pb::Inspector {
        id: i.id.clone(),
        name: i.name.clone(),
        department_code: i.department_code.clone(),
        certificate_no: i.certificate_no.clone(),
        certificate_expires: i.certificate_expires.to_string(),
        qualifications: i.qualifications.clone(),
        expertise: i.expertise.clone(),
        expert: i.expert,
        region_code: i.region_code.clone(),
        status: match i.status {
            InspectorStatus::Active => pb::InspectorStatus::Active,
            InspectorStatus::OnLeave => pb::InspectorStatus::OnLeave,
            InspectorStatus::Transferred => pb::InspectorStatus::Transferred,
            InspectorStatus::Retired => pb::InspectorStatus::Retired,
        } as i32,
        recusals: i.recusals.clone(),
        workload,
    }
}

/// A snapshot as a message.
pub(crate) fn snapshot_pb(
    info: &crate::snapshot::SnapshotInfo,
    filter: Option<pb::TargetFilter>,
) -> pb::Snapshot {
    let strata = Risk::ALL
        .iter()
        .filter_map(|r| {
            info.strata.get(r.as_str()).map(|n| pb::StratumCount {
                risk_level: risk_pb(*r) as i32,
                count: *n,
            })
        })
        .collect();
    pb::Snapshot {
        id: info.id.clone(),
        digest: info.digest.clone(),
        count: info.count,
        strata,
        filter,
        create_time: Some(ts(info.created_at)),
        pinned_by: info.pinned_by.clone(),
        excluded: info
            .excluded
            .iter()
            .map(|(rule, count)| pb::ExclusionCount {
                rule: rule.clone(),
                count: *count,
            })
            .collect(),
    }
}

/// The exclusion rules of a snapshot request; unset applies none.
pub(crate) fn rules_from(
    exclusions: Option<pb::Exclusions>,
) -> Result<crate::domain::history::Rules, Violations> {
    let Some(e) = exclusions else {
        return Ok(Default::default());
    };
    let mut v = Violations::new();
    let as_of = match e.as_of.parse::<chrono::NaiveDate>() {
        Ok(d) => Some(d),
        Err(_) => {
            v.add("exclusions.as_of", msg("not-a-date").arg("value", &e.as_of));
            None
        }
    };
    let lead_level = match pb::DepartmentLevel::try_from(e.lead_level) {
        Ok(pb::DepartmentLevel::Unspecified) => None,
        Ok(pb::DepartmentLevel::Province) => Some("province".to_string()),
        Ok(pb::DepartmentLevel::City) => Some("city".to_string()),
        Ok(pb::DepartmentLevel::County) => Some("county".to_string()),
        Err(_) => {
            v.add(
                "exclusions.lead_level",
                msg("not-a-known-value").arg("value", e.lead_level),
            );
            None
        }
    };
    let mut annual_caps = std::collections::BTreeMap::new();
    for (i, cap) in e.annual_caps.iter().enumerate() {
        v.check(
            cap.department_code.trim().is_empty(),
            format!("exclusions.annual_caps[{i}].department_code"),
            msg("required"),
        );
        v.check(
            cap.max_per_target == 0,
            format!("exclusions.annual_caps[{i}].max_per_target"),
            msg("catalog-frequency-min"),
        );
        annual_caps.insert(cap.department_code.clone(), cap.max_per_target);
    }
    v.into_result()?;
    Ok(crate::domain::history::Rules {
        as_of,
        max_per_year: e.max_per_year,
        lead_level,
        annual_caps,
    })
}

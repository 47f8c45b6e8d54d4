//! Records as API messages, and the API's enums as the record's.

use suiji_api::directories::v1 as dir;
use suiji_api::draw::v1 as pb;

use crate::algorithm::Seat;
use crate::record::{Reason, Record, ReplacementRecord, SeedRecord, State, TeamRecord, Witness};

/// A time the record holds, unset while it is 0 (not happened yet).
fn ts(ms: i64) -> Option<prost_types::Timestamp> {
    (ms > 0).then(|| suiji_platform::grpc::timestamp(ms))
}

/// The API's state.
pub fn state_pb(s: State) -> pb::DrawState {
    match s {
        State::Committed => pb::DrawState::Committed,
        State::TargetsDrawn => pb::DrawState::TargetsDrawn,
        State::TargetsLocked => pb::DrawState::TargetsLocked,
        State::TeamsDrawn => pb::DrawState::TeamsDrawn,
        State::Cancelled => pb::DrawState::Cancelled,
    }
}

/// The record's state; `None` for unspecified.
pub fn state_from(s: i32) -> Option<State> {
    match pb::DrawState::try_from(s).ok()? {
        pb::DrawState::Unspecified => None,
        pb::DrawState::Committed => Some(State::Committed),
        pb::DrawState::TargetsDrawn => Some(State::TargetsDrawn),
        pb::DrawState::TargetsLocked => Some(State::TargetsLocked),
        pb::DrawState::TeamsDrawn => Some(State::TeamsDrawn),
        pb::DrawState::Cancelled => Some(State::Cancelled),
    }
}

/// The record's reason; `None` for unspecified or unknown.
pub fn reason_from(r: i32) -> Option<Reason> {
    match pb::ReplacementReason::try_from(r).ok()? {
        pb::ReplacementReason::Unspecified => None,
        pb::ReplacementReason::JobChange => Some(Reason::JobChange),
        pb::ReplacementReason::Conflict => Some(Reason::Conflict),
        pb::ReplacementReason::Health => Some(Reason::Health),
        pb::ReplacementReason::Recusal => Some(Reason::Recusal),
    }
}

fn reason_pb(r: Reason) -> pb::ReplacementReason {
    match r {
        Reason::JobChange => pb::ReplacementReason::JobChange,
        Reason::Conflict => pb::ReplacementReason::Conflict,
        Reason::Health => pb::ReplacementReason::Health,
        Reason::Recusal => pb::ReplacementReason::Recusal,
    }
}

/// Witnesses from the API.
pub fn witnesses_from(w: Vec<pb::Witness>) -> Vec<Witness> {
    w.into_iter()
        .map(|w| Witness {
            name: w.name,
            organisation: w.organisation,
        })
        .collect()
}

fn seed_pb(s: &SeedRecord) -> pb::Seed {
    pb::Seed {
        commitment: s.commitment.clone(),
        server_secret: s.server_secret.clone(),
        witness_entropy: s.witness_entropy.clone(),
        snapshot_digest: s.snapshot_digest.clone(),
        seed: s.seed.clone(),
        witnesses: s
            .witnesses
            .iter()
            .map(|w| pb::Witness {
                name: w.name.clone(),
                organisation: w.organisation.clone(),
            })
            .collect(),
        draw_time: ts(s.drawn_at),
        drawn_by: s.drawn_by.clone(),
    }
}

fn seat_pb(s: &Seat) -> pb::Seat {
    pb::Seat {
        department_code: s.department.to_string(),
        inspector_id: s.inspector_id.to_string(),
        leader: s.leader,
        expert_seat: s.expert_seat,
    }
}

/// A team.
pub fn team_pb(t: &TeamRecord) -> pb::Team {
    pb::Team {
        target_id: t.target_id.clone(),
        drawn: t.drawn.iter().map(seat_pb).collect(),
        current: t.current.iter().map(seat_pb).collect(),
    }
}

/// A replacement.
pub fn replacement_pb(r: &ReplacementRecord) -> pb::Replacement {
    pb::Replacement {
        target_id: r.target_id.clone(),
        department_code: r.department.clone(),
        replaced_inspector_id: r.replaced.clone(),
        replacement_inspector_id: r.replacement.clone(),
        reason: reason_pb(r.reason) as i32,
        note: r.note.clone(),
        approved_by: r.approved_by.clone(),
        replace_time: ts(r.at),
    }
}

fn enum_by_name<E>(name: &str, prefix: &str, from: impl Fn(&str) -> Option<E>) -> Option<E> {
    from(&format!("{prefix}{}", name.to_ascii_uppercase()))
}

/// `d` without its drawn target lists (listings, and events after the lock that carried them).
pub fn without_target_lists(d: &mut pb::Draw) {
    if let Some(t) = &mut d.targets {
        t.strata.iter_mut().for_each(|s| s.drawn.clear());
    }
}

/// A record as a message.
pub fn draw_pb(r: &Record) -> pb::Draw {
    let t = &r.targets;
    let ratio = |name: &str| match &t.amount {
        Some(crate::algorithm::Amount::Ratio {
            base_basis_points,
            per_stratum,
        }) => *per_stratum.get(name).unwrap_or(base_basis_points),
        _ => 0,
    };
    let scope = dir::TargetFilter {
        kinds: t
            .scope
            .kinds
            .iter()
            .filter_map(|k| {
                enum_by_name(
                    k,
                    "TARGET_KIND_",
                    suiji_api::types::v1::TargetKind::from_str_name,
                )
            })
            .map(|k| k as i32)
            .collect(),
        region_codes: t.scope.region_codes.clone(),
        industry_prefixes: t.scope.industry_prefixes.clone(),
        departments: t.scope.departments.clone(),
        risk_levels: Vec::new(),
        statuses: t
            .scope
            .statuses
            .iter()
            .filter_map(|s| {
                enum_by_name(s, "OPERATING_STATUS_", dir::OperatingStatus::from_str_name)
            })
            .map(|s| s as i32)
            .collect(),
    };
    pb::Draw {
        task_id: r.task_id.clone(),
        task_name: r.task_name.clone(),
        year: r.year,
        lead_department_code: r.lead_department.clone(),
        department_codes: r.departments.clone(),
        algorithm: r.algorithm.clone(),
        state: state_pb(r.state) as i32,
        list_public: r.list_public,
        witnessed: r.witnessed,
        targets: Some(pb::TargetDraw {
            seed: Some(seed_pb(&t.seed)),
            snapshot_id: t.snapshot_id.clone(),
            scope: Some(scope),
            candidates: t.candidates,
            exclusions: t
                .exclusions
                .iter()
                .map(|(rule, count)| pb::Exclusion {
                    rule: rule.clone(),
                    count: *count,
                })
                .collect(),
            strata: t
                .strata
                .iter()
                .map(|s| pb::Stratum {
                    name: s.name.clone(),
                    candidates: s.candidates,
                    take: s.take,
                    ratio_basis_points: ratio(&s.name),
                    drawn: s.drawn.clone(),
                })
                .collect(),
            quantity: match &t.amount {
                Some(crate::algorithm::Amount::Quantity(q)) => *q,
                _ => 0,
            },
            cap_basis_points: t.cap_basis_points,
            result_digest: t.result_digest.clone(),
            lock_time: ts(t.locked_at),
            locked_by: t.locked_by.clone(),
        }),
        teams: r.teams.as_ref().map(|d| pb::TeamDraw {
            seed: Some(seed_pb(&d.seed)),
            pools: d
                .pools
                .iter()
                .map(|p| pb::DepartmentPool {
                    department_code: p.department.clone(),
                    seats: p.seats,
                    needs_expert: p.needs_expert,
                    qualifications: d
                        .qualifications
                        .get(&p.department)
                        .cloned()
                        .unwrap_or_default(),
                    members: p
                        .pool
                        .iter()
                        .map(|c| pb::PoolMember {
                            inspector_id: c.id.clone(),
                            expert: c.expert,
                            load: c.load,
                        })
                        .collect(),
                })
                .collect(),
            exclusions: d
                .exclusions
                .iter()
                .map(|(t, ids)| pb::TargetExclusion {
                    target_id: t.clone(),
                    inspector_ids: ids.clone(),
                })
                .collect(),
            team_count: d.teams.len() as u64,
            result_digest: d.result_digest.clone(),
            replacements: d.replacements.iter().map(replacement_pb).collect(),
        }),
        revision: r.revision,
        cancel_reason: r.cancel_reason.clone(),
    }
}

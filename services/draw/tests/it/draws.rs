//! A draw from launch to replacement, exclusions from inspection history, and saga commands.

use std::collections::{BTreeSet, HashSet};
use std::time::Duration;

use sha2::{Digest, Sha256};
use suiji_api::directories::v1 as dir;
use suiji_api::draw::v1 as pb;
use suiji_api::inspection::v1 as insp;
use suiji_draw::record::{RecordFile, verify_targets};
use suiji_platform::grpc::violations_of;
use suiji_platform::on_both_backends;
use suiji_platform::outbox::Event;
use suiji_platform::testing::{Backend, eventually};
use tonic::Code;

use crate::harness::*;

const TASK: &str = "TASK-2027-000001";
const VALID: &str = "2030-12-31";
const EXPIRED: &str = "2020-01-01";

on_both_backends!(
    a_draw_from_launch_to_replacement,
    history_excludes_targets,
    saga_commands,
    witnessed_draws_wait_for_their_witnesses
);

fn draw_of(d: Option<pb::Draw>) -> pb::Draw {
    d.expect("a draw")
}

async fn pool(w: &World) {
    let q = "市场监管执法";
    let h = "环境执法";
    inspectors(
        w,
        &[
            ("S01", SCJG, q, false, "active", VALID, ""),
            ("S02", SCJG, q, false, "active", VALID, ""),
            ("S03", SCJG, q, false, "active", VALID, ""),
            ("S04", SCJG, q, false, "active", VALID, ""),
            ("S05", SCJG, q, false, "active", VALID, ""),
            ("S06", SCJG, q, false, "active", VALID, ""),
            ("S07", SCJG, q, false, "active", EXPIRED, ""),
            ("S08", SCJG, q, false, "on_leave", VALID, ""),
            ("H01", STHJ, h, true, "active", VALID, ""),
            ("H02", STHJ, h, true, "active", VALID, ""),
            ("H03", STHJ, h, false, "active", VALID, ""),
            ("H04", STHJ, h, false, "active", VALID, ""),
            ("H05", STHJ, "", false, "active", VALID, ""),
        ],
    )
    .await;
}

async fn a_draw_from_launch_to_replacement(backend: Backend) {
    let Some(w) = World::start(backend).await else {
        return;
    };
    targets(&w, 800).await;
    pool(&w).await;
    w.launch(TASK, entry(false), 0).await;

    // The commitment is public before anything is drawn; the secret is not.
    let public = draw_of(
        w.client(None)
            .get_draw(pb::GetDrawRequest {
                task_id: TASK.into(),
            })
            .await
            .unwrap()
            .into_inner()
            .draw,
    );
    let seed = public.targets.as_ref().unwrap().seed.clone().unwrap();
    assert_eq!(seed.commitment.len(), 64);
    assert!(seed.server_secret.is_empty());
    assert!(
        eventually(Duration::from_secs(10), || async {
            w.probe.of_type("draw.commitment.published").len() == 1
        })
        .await
    );
    // The commitment is on the audit trail, appended at the end of the launch's inbox transaction.
    let commits: Vec<(String, String)> =
        sqlx::query_as("SELECT entity_id, detail FROM audit_log WHERE action = 'draw.commit'")
            .fetch_all(w.draw.ctx.db.pool())
            .await
            .unwrap();
    assert_eq!(
        commits,
        vec![(TASK.to_string(), format!("commitment {}", seed.commitment))]
    );
    assert!(matches!(
        suiji_platform::audit::verify(&w.draw.ctx.db).await.unwrap(),
        suiji_platform::audit::Verification::Intact { .. }
    ));

    // Only the lead department draws.
    let refused = w
        .operator(STHJ)
        .draw_targets(pb::DrawTargetsRequest {
            task_id: TASK.into(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::PermissionDenied);
    // A witness needs an organisation.
    let refused = w
        .operator(SCJG)
        .draw_targets(pb::DrawTargetsRequest {
            task_id: TASK.into(),
            witness_entropy: "x".into(),
            witnesses: vec![pb::Witness {
                name: "王某".into(),
                organisation: String::new(),
            }],
        })
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::InvalidArgument);
    assert_eq!(violations_of(&refused)[0].0, "witnesses[0].organisation");

    let mut lead = w.operator(SCJG);
    let drawn = draw_of(
        lead.draw_targets(pb::DrawTargetsRequest {
            task_id: TASK.into(),
            witness_entropy: "公证员王某 掷骰 4 6 1".into(),
            witnesses: vec![pb::Witness {
                name: "王某".into(),
                organisation: "咸阳市秦都公证处".into(),
            }],
        })
        .await
        .unwrap()
        .into_inner()
        .draw,
    );
    assert_eq!(drawn.state, pb::DrawState::TargetsDrawn as i32);
    let t = drawn.targets.clone().unwrap();
    let seed = t.seed.clone().unwrap();
    assert_eq!(
        hex::encode(Sha256::digest(hex::decode(&seed.server_secret).unwrap())),
        seed.commitment,
        "the revealed secret is the committed one"
    );
    // Exact quantities: 10% of high risk, 3% of the rest, rounded up; high risk first.
    assert_eq!(t.strata[0].name, "high");
    let mut all = Vec::new();
    for s in &t.strata {
        let bp = if s.name == "high" { 1000 } else { 300 };
        assert_eq!(s.take, (s.candidates * bp).div_ceil(10_000), "{}", s.name);
        assert_eq!(s.drawn.len() as u64, s.take);
        all.extend(s.drawn.iter().cloned());
    }
    assert_eq!(
        t.candidates,
        t.strata.iter().map(|s| s.candidates).sum::<u64>()
    );
    assert!(t.candidates > 0 && t.candidates <= 800);
    let unique: HashSet<&String> = all.iter().collect();
    assert_eq!(unique.len(), all.len(), "no target twice");
    // Every drawn target is in scope, of its stratum, and open.
    let mut directories = w.directories_client();
    for s in &t.strata {
        for id in &s.drawn {
            let target = directories
                .get_target(dir::GetTargetRequest {
                    id: id.clone(),
                    ..Default::default()
                })
                .await
                .unwrap()
                .into_inner()
                .target
                .unwrap();
            let risk = dir::RiskLevel::try_from(target.risk_level).unwrap();
            assert_eq!(
                risk.as_str_name()
                    .trim_start_matches("RISK_LEVEL_")
                    .to_lowercase(),
                s.name
            );
            assert!(
                target.status == dir::OperatingStatus::Operating as i32
                    || target.status == dir::OperatingStatus::Liquidating as i32,
                "{id} is closed or revoked"
            );
        }
    }

    // Once only.
    let again = lead
        .draw_targets(pb::DrawTargetsRequest {
            task_id: TASK.into(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(again.code(), Code::FailedPrecondition);

    // The list is not public: the public view has digests but no ids; anyone can still verify.
    let hidden = draw_of(
        w.client(None)
            .get_draw(pb::GetDrawRequest {
                task_id: TASK.into(),
            })
            .await
            .unwrap()
            .into_inner()
            .draw,
    );
    let ht = hidden.targets.unwrap();
    assert!(ht.strata.iter().all(|s| s.drawn.is_empty()));
    assert_eq!(ht.result_digest, t.result_digest);
    let verdict = w
        .client(None)
        .verify_draw(pb::VerifyDrawRequest {
            task_id: TASK.into(),
            record: Vec::new(),
        })
        .await
        .unwrap()
        .into_inner();
    assert!(verdict.r#match, "{:?}", verdict.checks);

    // Lock: a stale review is refused, then one lock, never two.
    let stale = lead
        .lock_draw(pb::LockDrawRequest {
            task_id: TASK.into(),
            expected_revision: drawn.revision + 5,
        })
        .await
        .unwrap_err();
    assert_eq!(stale.code(), Code::Aborted);
    let locked = draw_of(
        lead.lock_draw(pb::LockDrawRequest {
            task_id: TASK.into(),
            expected_revision: drawn.revision,
        })
        .await
        .unwrap()
        .into_inner()
        .draw,
    );
    assert_eq!(locked.state, pb::DrawState::TargetsLocked as i32);
    let team_commitment = locked.teams.as_ref().unwrap().seed.clone().unwrap();
    assert_eq!(team_commitment.commitment.len(), 64);
    assert!(team_commitment.server_secret.is_empty());
    let twice = lead
        .lock_draw(pb::LockDrawRequest {
            task_id: TASK.into(),
            expected_revision: 0,
        })
        .await
        .unwrap_err();
    assert_eq!(twice.code(), Code::FailedPrecondition);

    // S01 declares a conflict with the first locked target.
    let mut list: Vec<String> = all.clone();
    list.sort();
    let first = list[0].clone();
    inspectors(
        &w,
        &[(
            "S01",
            SCJG,
            "市场监管执法",
            false,
            "active",
            VALID,
            first.as_str(),
        )],
    )
    .await;

    let teams = draw_of(
        lead.draw_inspectors(pb::DrawInspectorsRequest {
            task_id: TASK.into(),
            witness_entropy: "第二次掷骰 2 5".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .draw,
    );
    assert_eq!(teams.state, pb::DrawState::TeamsDrawn as i32);
    assert_eq!(
        teams.teams.as_ref().unwrap().team_count,
        list.len() as u64,
        "a team per locked target"
    );
    let all = pb::ListTeamsRequest::default();
    let team_list = World::teams(&mut lead, TASK, 0, all.clone()).await.unwrap();
    assert_eq!(team_list.len(), list.len(), "a team per locked target");
    let ids: Vec<&str> = team_list.iter().map(|t| t.target_id.as_str()).collect();
    let mut sorted = list.iter().map(String::as_str).collect::<Vec<_>>();
    sorted.sort_unstable();
    assert_eq!(ids, sorted, "the teams in target order, bytewise");
    // Pages of any size give the same teams; the filters keep the teams a department or an inspector sits on.
    assert_eq!(
        World::teams(&mut lead, TASK, 3, all.clone()).await.unwrap(),
        team_list
    );
    let sits =
        |t: &pb::Team, f: &dyn Fn(&pb::Seat) -> bool| t.drawn.iter().chain(&t.current).any(f);
    let someone = team_list[0].drawn[1].inspector_id.clone();
    let theirs = World::teams(
        &mut lead,
        TASK,
        2,
        pb::ListTeamsRequest {
            inspector_id: someone.clone(),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let expected: Vec<pb::Team> = team_list
        .iter()
        .filter(|t| sits(t, &|s| s.inspector_id == someone))
        .cloned()
        .collect();
    assert!(!expected.is_empty() && expected.len() < team_list.len());
    assert_eq!(theirs, expected);
    let sthj = World::teams(
        &mut lead,
        TASK,
        0,
        pb::ListTeamsRequest {
            department_code: STHJ.into(),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(sthj, team_list, "STHJ sits on every team");
    let nobody = World::teams(
        &mut lead,
        TASK,
        0,
        pb::ListTeamsRequest {
            department_code: "610400-NOPE".into(),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert!(nobody.is_empty());
    // The list is not public: without a token the teams are not shown.
    let anonymous = World::teams(&mut w.client(None), TASK, 0, all.clone())
        .await
        .unwrap_err();
    assert_eq!(anonymous.code(), Code::Unauthenticated);
    let never: BTreeSet<&str> = ["S07", "S08", "H05"].into_iter().collect();
    for team in &team_list {
        let seats = &team.drawn;
        assert_eq!(seats.len(), 4, "two seats per department");
        let ids: HashSet<&str> = seats.iter().map(|s| s.inspector_id.as_str()).collect();
        assert_eq!(ids.len(), 4, "nobody twice on a team");
        assert!(seats[0].leader && seats[0].department_code == SCJG);
        assert_eq!(seats.iter().filter(|s| s.leader).count(), 1);
        let first_sthj = seats.iter().find(|s| s.department_code == STHJ).unwrap();
        assert!(first_sthj.expert_seat);
        assert!(["H01", "H02"].contains(&first_sthj.inspector_id.as_str()));
        assert!(ids.iter().all(|i| !never.contains(i)), "ineligible drawn");
        if team.target_id == first {
            assert!(!ids.contains("S01"), "a recusal was ignored");
        }
    }
    let verdict = w
        .client(None)
        .verify_draw(pb::VerifyDrawRequest {
            task_id: TASK.into(),
            record: Vec::new(),
        })
        .await
        .unwrap()
        .into_inner();
    assert!(verdict.r#match, "{:?}", verdict.checks);

    // Replacement: only the head of the inspector's department, only for a listed reason.
    let team = &team_list[0];
    let out = team
        .current
        .iter()
        .find(|s| s.department_code == SCJG && !s.leader)
        .unwrap()
        .inspector_id
        .clone();
    let ask = |reason: pb::ReplacementReason| pb::ReplaceInspectorRequest {
        task_id: TASK.into(),
        target_id: team.target_id.clone(),
        inspector_id: out.clone(),
        reason: reason as i32,
        note: "住院".into(),
        eligible_on: String::new(),
    };
    let denied = w
        .head(STHJ)
        .replace_inspector(ask(pb::ReplacementReason::Health))
        .await
        .unwrap_err();
    assert_eq!(denied.code(), Code::PermissionDenied);
    let no_reason = w
        .head(SCJG)
        .replace_inspector(ask(pb::ReplacementReason::Unspecified))
        .await
        .unwrap_err();
    assert_eq!(no_reason.code(), Code::InvalidArgument);
    assert_eq!(violations_of(&no_reason)[0].0, "reason");
    let replaced = w
        .head(SCJG)
        .replace_inspector(ask(pb::ReplacementReason::Health))
        .await
        .unwrap()
        .into_inner();
    let r = replaced.replacement.unwrap();
    assert_eq!(r.replaced_inspector_id, out);
    assert!(!never.contains(r.replacement_inspector_id.as_str()));
    assert!(r.replacement_inspector_id.starts_with('S'));
    let after = World::teams(&mut lead, TASK, 0, all.clone()).await.unwrap();
    let t0 = &after[0];
    assert!(
        t0.drawn.iter().any(|s| s.inspector_id == out),
        "the drawn team is kept"
    );
    assert!(t0.current.iter().all(|s| s.inspector_id != out));
    assert!(
        t0.current
            .iter()
            .any(|s| s.inspector_id == r.replacement_inspector_id)
    );
    if team.target_id == first {
        assert_ne!(r.replacement_inspector_id, "S01");
    }

    // Events: one lock, one team draw, one replacement.
    assert!(
        eventually(Duration::from_secs(10), || async {
            w.probe.of_type("draw.inspector.replaced").len() == 1
        })
        .await
    );
    assert_eq!(w.probe.of_type("draw.targets.locked").len(), 1);
    assert_eq!(w.probe.of_type("draw.teams.drawn").len(), 1);

    // The directories count the open assignments.
    let seats = (team_list.len() * 4) as i64;
    let db = w.directories.ctx.db.clone();
    assert!(
        eventually(Duration::from_secs(10), || {
            let db = db.clone();
            async move { suiji_directories::workload::total(&db).await.unwrap_or(0) == seats }
        })
        .await,
        "workloads follow the teams"
    );

    // The exported record file verifies offline; a changed id does not.
    let mut export = w
        .operator(SCJG)
        .export_draw(pb::ExportDrawRequest {
            task_id: TASK.into(),
        })
        .await
        .unwrap()
        .into_inner();
    let mut bytes = Vec::new();
    while let Some(chunk) = export.message().await.unwrap() {
        bytes.extend(chunk.chunk);
    }
    let file: RecordFile = serde_json::from_slice(&bytes).unwrap();
    let candidates = file.candidates.clone().expect("self-contained");
    assert_eq!(candidates.len() as u64, t.candidates);
    let check = |record: &suiji_draw::record::Record| {
        let mut checks = verify_targets(
            record,
            candidates.iter().map(|(id, s)| (id.as_bytes(), s.as_str())),
        );
        checks.extend(suiji_draw::record::verify_teams(record));
        checks
    };
    let checks = check(&file.record);
    assert!(checks.iter().all(|c| c.ok), "{checks:?}");
    let mut forged = file.record.clone();
    forged.targets.strata[0].drawn[0] = candidates.last().unwrap().0.clone();
    assert!(check(&forged).iter().any(|c| !c.ok));
    // What an outsider must not learn: the drawn targets and the inspectors who could have been drawn.
    let secret_ids: Vec<String> = file
        .record
        .targets
        .strata
        .iter()
        .flat_map(|s| s.drawn.clone())
        .chain(
            file.record
                .teams
                .as_ref()
                .unwrap()
                .pools
                .iter()
                .flat_map(|p| p.pool.iter().map(|c| c.id.clone())),
        )
        .collect();
    assert!(secret_ids.len() > 10);
    // The public export of a list that is not public carries no candidates.
    let mut public_export = w
        .client(None)
        .export_draw(pb::ExportDrawRequest {
            task_id: TASK.into(),
        })
        .await
        .unwrap()
        .into_inner();
    let mut bytes = Vec::new();
    while let Some(chunk) = public_export.message().await.unwrap() {
        bytes.extend(chunk.chunk);
    }
    let file: RecordFile = serde_json::from_slice(&bytes).unwrap();
    assert!(file.candidates.is_none());
    assert!(
        file.record
            .targets
            .strata
            .iter()
            .all(|s| s.drawn.is_empty())
    );
    assert!(
        file.record
            .teams
            .as_ref()
            .unwrap()
            .pools
            .iter()
            .all(|p| p.pool.is_empty()),
        "nor the pools"
    );

    // The recovery once possible: hand the public record (or the task) to VerifyDraw and have the checks' details
    // name the drawn ids one by one. Without a token, or with a token of a department outside the task, only the
    // public checks are made and nothing secret is named; GetDraw and ListTeams show no more.
    let outsider = w.client(Some(&w.isolated.token("610400-WSJK", &["draw.operator"])));
    for (who, mut c) in [
        ("no token", w.client(None)),
        ("another department", outsider),
    ] {
        for request in [
            pb::VerifyDrawRequest {
                record: bytes.clone(),
                ..Default::default()
            },
            pb::VerifyDrawRequest {
                task_id: TASK.into(),
                ..Default::default()
            },
        ] {
            let verdict = c.verify_draw(request).await.unwrap().into_inner();
            assert!(!verdict.lists_checked, "{who}");
            assert!(verdict.r#match, "{who}: {:?}", verdict.checks);
            let said = format!("{:?}", verdict.checks);
            assert!(
                secret_ids.iter().all(|id| !said.contains(id.as_str())),
                "{who}: {said}"
            );
        }
        let seen = draw_of(
            c.get_draw(pb::GetDrawRequest {
                task_id: TASK.into(),
            })
            .await
            .unwrap()
            .into_inner()
            .draw,
        );
        let said = format!("{seen:?}");
        assert!(
            secret_ids.iter().all(|id| !said.contains(id.as_str())),
            "{who}: {said}"
        );
        let teams = c
            .list_teams(pb::ListTeamsRequest {
                task_id: TASK.into(),
                ..Default::default()
            })
            .await
            .unwrap_err();
        assert!(
            matches!(teams.code(), Code::Unauthenticated | Code::PermissionDenied),
            "{who}: {teams:?}"
        );
    }
    // What the public can check still catches a changed seed part.
    let mut tampered = file.clone();
    tampered.record.targets.seed.witness_entropy.push('x');
    let verdict = w
        .client(None)
        .verify_draw(pb::VerifyDrawRequest {
            record: serde_json::to_vec(&tampered).unwrap(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert!(!verdict.r#match);
    assert_eq!(
        verdict
            .checks
            .iter()
            .find(|c| !c.ok)
            .map(|c| c.name.as_str()),
        Some("seed")
    );
    // Auditors, from a department outside the task, reproduce the lists.
    let verdict = w
        .client(Some(&w.isolated.token("610400-JJJC", &["audit.reader"])))
        .verify_draw(pb::VerifyDrawRequest {
            task_id: TASK.into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert!(verdict.lists_checked && verdict.r#match, "{verdict:?}");
    w.stop().await;
}

async fn history_excludes_targets(backend: Backend) {
    let Some(w) = World::start(backend).await else {
        return;
    };
    targets(&w, 300).await;
    pool(&w).await;
    // Two targets with histories: one not high risk inspected twice this year, one the province inspected
    // last month without finding anything.
    let mut directories = w.directories_client();
    let listed = directories
        .list_targets(dir::ListTargetsRequest {
            filter: Some(dir::TargetFilter {
                kinds: vec![suiji_api::types::v1::TargetKind::Enterprise as i32],
                statuses: vec![dir::OperatingStatus::Operating as i32],
                risk_levels: vec![dir::RiskLevel::Low as i32, dir::RiskLevel::Medium as i32],
                ..Default::default()
            }),
            page_size: 2,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .targets;
    let (twice, clean) = (listed[0].id.clone(), listed[1].id.clone());
    let today = suiji_draw::service::today();
    let recent = today - chrono::Days::new(20);
    for (task, target, department, date) in [
        ("T-A", &twice, SCJG, today),
        ("T-B", &twice, STHJ, today),
        ("T-C", &clean, "610000-SCJG", recent),
    ] {
        let event = insp::VisitConcludedEvent {
            task_id: task.into(),
            visit_id: format!("V-{task}"),
            target_id: target.clone(),
            visit_date: date.to_string(),
            outcomes: vec![insp::DepartmentOutcome {
                department_code: department.into(),
                problem_found: false,
                ..Default::default()
            }],
            inspector_ids: vec![],
            ..Default::default()
        };
        w.emit(
            "inspection",
            Event::new::<suiji_api::topics::VisitConcluded>(task, &event),
        )
        .await;
    }
    let db = w.directories.ctx.db.clone();
    assert!(
        eventually(Duration::from_secs(10), || {
            let db = db.clone();
            async move {
                sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM target_inspections")
                    .fetch_one(db.pool())
                    .await
                    .unwrap()
                    == 3
            }
        })
        .await
    );
    // A quantity larger than the candidates: every candidate is drawn, and neither excluded target is.
    w.launch(TASK, entry(true), 100_000).await;
    let drawn = draw_of(
        w.operator(SCJG)
            .draw_targets(pb::DrawTargetsRequest {
                task_id: TASK.into(),
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner()
            .draw,
    );
    let t = drawn.targets.unwrap();
    let rules: Vec<(String, u64)> = t
        .exclusions
        .iter()
        .map(|e| (e.rule.clone(), e.count))
        .collect();
    assert_eq!(
        rules,
        vec![
            ("higher_level_recent".to_string(), 1),
            ("twice_this_year".to_string(), 1)
        ]
    );
    let all: HashSet<String> = t
        .strata
        .iter()
        .flat_map(|s| s.drawn.iter().cloned())
        .collect();
    assert_eq!(all.len() as u64, t.candidates);
    assert!(!all.contains(&twice) && !all.contains(&clean));
    w.stop().await;
}

async fn saga_commands(backend: Backend) {
    let Some(w) = World::start(backend).await else {
        return;
    };
    targets(&w, 300).await;
    pool(&w).await;
    w.launch(TASK, entry(true), 20).await;
    let command = pb::DrawTargetsCommand {
        request: Some(pb::DrawTargetsRequest {
            task_id: TASK.into(),
            witness_entropy: "saga".into(),
            witnesses: vec![],
        }),
        actor: "coordinator-1".into(),
    };
    // The same step asked for twice (a retry by the saga): drawn once.
    for _ in 0..2 {
        w.emit(
            "inspection",
            Event::new::<suiji_api::topics::DrawTargets>(TASK, &command),
        )
        .await;
    }
    let db = w.draw.ctx.db.clone();
    let state = |want: &'static str| {
        let db = db.clone();
        async move {
            eventually(Duration::from_secs(15), || {
                let db = db.clone();
                async move {
                    let s: String =
                        sqlx::query_scalar("SELECT state FROM draws WHERE task_id = $1")
                            .bind(TASK)
                            .fetch_one(db.pool())
                            .await
                            .unwrap();
                    let jobs = suiji_platform::jobs::waiting(&db).await.unwrap();
                    s == want && jobs == 0
                }
            })
            .await
        }
    };
    assert!(state("targets_drawn").await);
    let lock = pb::LockDrawCommand {
        task_id: TASK.into(),
        actor: "coordinator-1".into(),
    };
    w.emit(
        "inspection",
        Event::new::<suiji_api::topics::LockDraw>(TASK, &lock),
    )
    .await;
    assert!(state("targets_locked").await);
    w.emit(
        "inspection",
        Event::new::<suiji_api::topics::DrawInspectors>(
            TASK,
            &pb::DrawInspectorsCommand {
                request: Some(pb::DrawInspectorsRequest {
                    task_id: TASK.into(),
                    ..Default::default()
                }),
                actor: "coordinator-1".into(),
            },
        ),
    )
    .await;
    assert!(state("teams_drawn").await);
    assert_eq!(w.probe.of_type("draw.targets.drawn").len(), 1);
    assert_eq!(w.probe.of_type("draw.targets.locked").len(), 1);
    let record = w
        .operator(SCJG)
        .get_draw(pb::GetDrawRequest {
            task_id: TASK.into(),
        })
        .await
        .unwrap()
        .into_inner()
        .draw
        .unwrap();
    assert_eq!(
        record.targets_seed_drawn_by(),
        "coordinator-1",
        "the record names on whose behalf"
    );
    let taken: u64 = record.targets.unwrap().strata.iter().map(|s| s.take).sum();
    assert_eq!(taken, 20, "the quantity asked for");

    // A command that cannot be carried out is answered with the reason.
    let unknown = pb::LockDrawCommand {
        task_id: "TASK-2027-nothing".into(),
        actor: String::new(),
    };
    w.emit(
        "inspection",
        Event::new::<suiji_api::topics::LockDraw>("TASK-2027-nothing", &unknown),
    )
    .await;
    assert!(
        eventually(Duration::from_secs(15), || async {
            w.probe.of_type("draw.command.failed").len() == 1
        })
        .await
    );
    let failed: pb::DrawFailedEvent = w.probe.of_type("draw.command.failed")[0]
        .payload
        .as_ref()
        .unwrap()
        .to_msg()
        .unwrap();
    assert_eq!(failed.code, "NotFound");
    assert_eq!(failed.task_id, "TASK-2027-nothing");
    w.stop().await;
}

trait DrawnBy {
    fn targets_seed_drawn_by(&self) -> String;
}

impl DrawnBy for pb::Draw {
    fn targets_seed_drawn_by(&self) -> String {
        self.targets
            .as_ref()
            .and_then(|t| t.seed.as_ref())
            .map(|s| s.drawn_by.clone())
            .unwrap_or_default()
    }
}

/// A plan entry that asks for a witnessed draw: the saga's own request leaves the draw waiting; the lead's draw
/// operator makes it with the witnesses present and their entropy, which no one else may do and which may not be left
/// out; the saga then hears of the targets as usual.
async fn witnessed_draws_wait_for_their_witnesses(backend: Backend) {
    let Some(w) = World::start(backend).await else {
        return;
    };
    targets(&w, 100).await;
    pool(&w).await;
    let mut witnessed = entry(true);
    witnessed.witnessed_draw = true;
    w.launch(TASK, witnessed, 10).await;
    let asked = pb::DrawTargetsCommand {
        request: Some(pb::DrawTargetsRequest {
            task_id: TASK.into(),
            ..Default::default()
        }),
        actor: "coordinator-1".into(),
    };
    w.emit(
        "inspection",
        Event::new::<suiji_api::topics::DrawTargets>(TASK, &asked),
    )
    .await;
    let db = w.draw.ctx.db.clone();
    let handled = eventually(Duration::from_secs(15), || {
        let db = db.clone();
        async move {
            let jobs = suiji_platform::jobs::waiting(&db).await.unwrap();
            let inbox: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM inbox")
                .fetch_one(db.pool())
                .await
                .unwrap();
            jobs == 0 && inbox > 0
        }
    })
    .await;
    assert!(handled, "the saga's request was taken");
    let mut lead = w.operator(SCJG);
    let record = draw_of(
        lead.get_draw(pb::GetDrawRequest {
            task_id: TASK.into(),
        })
        .await
        .unwrap()
        .into_inner()
        .draw,
    );
    assert!(record.witnessed);
    assert_eq!(record.state, pb::DrawState::Committed as i32, "it waits");
    assert!(w.probe.of_type("draw.targets.drawn").is_empty());

    let with = |entropy: &str, witnesses: Vec<pb::Witness>| pb::DrawTargetsRequest {
        task_id: TASK.into(),
        witness_entropy: entropy.into(),
        witnesses,
    };
    let witness = || pb::Witness {
        name: "王五".into(),
        organisation: "纪检监察组".into(),
    };
    // Without the witnesses, or without what they typed: refused at those fields.
    let refused = lead.draw_targets(with("", vec![])).await.unwrap_err();
    assert_eq!(refused.code(), Code::InvalidArgument);
    let fields: Vec<String> = violations_of(&refused)
        .into_iter()
        .map(|(f, _)| f)
        .collect();
    assert_eq!(fields, ["witnesses", "witness_entropy"]);
    // Another department's operator may not make it.
    let other = w
        .operator(STHJ)
        .draw_targets(with("31-7", vec![witness()]))
        .await
        .unwrap_err();
    assert_eq!(other.code(), Code::PermissionDenied);
    // The lead's operator, with the witness and the string typed: drawn, and the saga told once.
    let drawn = draw_of(
        lead.draw_targets(with("31-7", vec![witness()]))
            .await
            .unwrap()
            .into_inner()
            .draw,
    );
    assert_eq!(drawn.state, pb::DrawState::TargetsDrawn as i32);
    let seed = drawn.targets.unwrap().seed.unwrap();
    assert_eq!(seed.witness_entropy, "31-7");
    assert_eq!(seed.witnesses, vec![witness()]);
    assert!(
        eventually(Duration::from_secs(15), || async {
            w.probe.of_type("draw.targets.drawn").len() == 1
        })
        .await
    );
}

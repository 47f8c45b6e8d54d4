//! Fault tests of the joint-inspection saga with the services as separate `suiji serve` processes on PostgreSQL and
//! RabbitMQ: a joint task of three departments (one declining) runs from launch to the results phase while each
//! process in turn is killed with SIGKILL at a random moment after a step (the seed is printed; set
//! `SUIJI_FAULT_SEED` to repeat a run) and started again, the launch is delivered twice, and in the second test the
//! broker is restarted mid-saga. At the end the saga is complete and nothing was done twice: one draw, one lock,
//! one team draw, one visit per target, every inspector's workload raised once by the teams and released once by
//! the visits, and one result per department and item in publication (one visit held with findings and a
//! refusal to sign, the others not found).
//!
//! The broker test stops the local RabbitMQ (`rabbitmqctl stop_app`), so `make test` runs it alone, last.

use std::process::Command;
use std::time::Duration;

use suiji_api::directories::v1 as dir;
use suiji_api::inspection::v1 as pb;
use suiji_api::inspection::v1::inspection_service_client::InspectionServiceClient;
use suiji_api::planning::v1 as plan;
use suiji_draw::testkit::item;
use suiji_e2e::processes::{Cluster, fill, message, retry};
use suiji_platform::grpc::{Bearer, channel};
use suiji_platform::testing::{self, Backend, eventually};

const SCJG: &str = "610400-SCJG";
const STHJ: &str = "610400-STHJ";
const WSJK: &str = "610400-WSJK";
const TASK: &str = "TASK-2027-FAULTS";

type Inspection =
    InspectionServiceClient<tonic::codegen::InterceptedService<tonic::transport::Channel, Bearer>>;

async fn saga(client: &Inspection) -> Option<pb::Saga> {
    let mut c = client.clone();
    c.get_saga(pb::GetSagaRequest {
        task_id: TASK.into(),
    })
    .await
    .ok()
    .and_then(|r| r.into_inner().saga)
}

async fn reaches(client: &Inspection, phase: pb::Phase) -> pb::Saga {
    let reached = eventually(Duration::from_secs(90), || async {
        saga(client).await.is_some_and(|s| s.phase == phase as i32)
    })
    .await;
    let now = saga(client).await;
    assert!(reached, "the saga reached {phase:?}: {now:#?}");
    now.unwrap()
}

fn launch() -> plan::TaskLaunchedEvent {
    let participants: Vec<plan::Participant> =
        [(SCJG, "SCJG-1"), (STHJ, "STHJ-1"), (WSJK, "WSJK-1")]
            .iter()
            .map(|(d, i)| plan::Participant {
                department_code: d.to_string(),
                item_codes: vec![i.to_string()],
            })
            .collect();
    let entry = plan::PlanEntry {
        key: "E1".into(),
        task_name: "联合抽查".into(),
        scope: Some(dir::TargetFilter {
            kinds: vec![suiji_api::types::v1::TargetKind::Enterprise as i32],
            region_codes: vec!["610000".into()],
            ..Default::default()
        }),
        ratio_basis_points: 300,
        lead_department_code: SCJG.into(),
        participants: participants.clone(),
        window_start: "2027-01-01".into(),
        window_end: "2027-12-31".into(),
        ..Default::default()
    };
    plan::TaskLaunchedEvent {
        task: Some(plan::Task {
            id: TASK.into(),
            content: Some(plan::TaskContent {
                name: "联合抽查".into(),
                participants,
                ..Default::default()
            }),
            lead_department_code: SCJG.into(),
            year: 2027,
            entry: Some(entry),
            ..Default::default()
        }),
        items: vec![
            item("SCJG-1", SCJG, "市场监管执法", false),
            item("STHJ-1", STHJ, "环境执法", false),
            item("WSJK-1", WSJK, "卫生执法", false),
        ],
        item_caps_basis_points: vec![10_000; 3],
        annual_caps: vec![],
    }
}

fn rabbitmqctl(args: &[&str]) {
    let status = Command::new("rabbitmqctl")
        .args(args)
        .status()
        .expect("rabbitmqctl is installed");
    assert!(status.success(), "rabbitmqctl {args:?} failed");
}

/// Stops the broker's application; starts it again when dropped, even if the test panics.
struct BrokerDown;

impl Drop for BrokerDown {
    fn drop(&mut self) {
        rabbitmqctl(&["start_app"]);
        rabbitmqctl(&["await_startup"]);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_process_killed_along_a_joint_inspection_loses_and_repeats_nothing() {
    joint_inspection_under_faults(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_broker_restarted_mid_saga_loses_and_repeats_nothing() {
    joint_inspection_under_faults(true).await;
}

async fn joint_inspection_under_faults(restart_broker: bool) {
    suiji_platform::telemetry::init_for_tests();
    if !testing::require(Backend::Servers).await {
        return;
    }
    let isolated = testing::isolated(Backend::Servers).await;
    let mut cluster = Cluster::start(
        std::path::Path::new(env!("CARGO_BIN_EXE_suiji")),
        &isolated.settings,
        &["directories", "draw", "inspection", "publication"],
    )
    .await;
    eprintln!(
        "fault seed {} (SUIJI_FAULT_SEED repeats it)",
        cluster.seed()
    );
    let admin = isolated.token(SCJG, &["directories.editor", "admin"]);
    let inspectors: Vec<(String, String, String)> = [
        ("S01", SCJG, "市场监管执法"),
        ("S02", SCJG, "市场监管执法"),
        ("S03", SCJG, "市场监管执法"),
        ("H01", STHJ, "环境执法"),
        ("H02", STHJ, "环境执法"),
        ("H03", STHJ, "环境执法"),
    ]
    .iter()
    .map(|(i, d, q)| (i.to_string(), d.to_string(), q.to_string()))
    .collect();
    fill(
        &cluster.addr("directories"),
        &admin,
        1000,
        &[SCJG, STHJ],
        &inspectors,
    )
    .await;
    let coordinator = |d: &str| -> Inspection {
        InspectionServiceClient::with_interceptor(
            channel(&cluster.addr("inspection")).unwrap(),
            Bearer::new(Some(&isolated.token(d, &["inspection.coordinator"]))),
        )
    };
    let (lead, sthj, wsjk) = (coordinator(SCJG), coordinator(STHJ), coordinator(WSJK));

    // The launch, as planning publishes it.
    let bus = isolated.bus().await;
    let message = message(
        "launch-faults",
        "planning.task.launched",
        "planning",
        TASK,
        &launch(),
    );
    bus.publish(&message).await.unwrap();
    cluster.chaos("the launch").await;
    // The same launch delivered twice starts one saga.
    bus.publish(&message).await.unwrap();
    reaches(&lead, pb::Phase::Inviting).await;

    let answer = |client: &Inspection, accept: bool, reason: &'static str| {
        let client = client.clone();
        async move {
            retry(|| {
                let mut c = client.clone();
                async move {
                    c.respond_to_invitation(pb::RespondToInvitationRequest {
                        task_id: TASK.into(),
                        accept,
                        reason: reason.into(),
                    })
                    .await
                }
            })
            .await
            .unwrap();
        }
    };
    answer(&sthj, true, "").await;
    cluster.chaos("a confirmation").await;
    answer(&wsjk, false, "本季度执法力量不足").await;
    cluster.chaos("a refusal").await;

    let review = reaches(&lead, pb::Phase::ReviewingTargets).await;
    retry(|| {
        let mut c = lead.clone();
        async move {
            c.approve_targets(pb::ApproveTargetsRequest {
                task_id: TASK.into(),
                expected_version: 0,
            })
            .await
        }
    })
    .await
    .unwrap();
    if restart_broker {
        // The lock command and its reply cross the broker while it is down.
        let down = BrokerDown;
        rabbitmqctl(&["stop_app"]);
        tokio::time::sleep(Duration::from_secs(2)).await;
        drop(down);
    }
    cluster.chaos("the approval").await;
    let scheduling = reaches(&lead, pb::Phase::Scheduling).await;
    assert_eq!(scheduling.teams, review.targets);
    cluster.chaos("the teams").await;

    let visits = retry(|| {
        let mut c = lead.clone();
        async move {
            c.list_visits(pb::ListVisitsRequest {
                task_id: TASK.into(),
                page_size: 500,
                ..Default::default()
            })
            .await
        }
    })
    .await
    .unwrap()
    .into_inner()
    .visits;
    assert_eq!(visits.len() as u64, review.targets, "one visit per target");
    let day = suiji_platform::calendar::Calendar::shipped()
        .working_day_on_or_after(visits[0].assigned_on.parse().unwrap())
        .unwrap();
    for (n, v) in visits.iter().enumerate() {
        retry(|| {
            let mut c = lead.clone();
            let id = v.id.clone();
            async move {
                c.schedule_visit(pb::ScheduleVisitRequest {
                    id,
                    date: day.to_string(),
                    method: pb::VisitMethod::OnSite as i32,
                    announced: false,
                })
                .await
            }
        })
        .await
        .unwrap();
        if n == visits.len() / 2 {
            cluster.chaos("half the visits scheduled").await;
        }
    }
    // Every seat is one open assignment, counted once.
    let db = suiji_platform::db::Db::connect(&isolated.settings.database, "directories")
        .await
        .unwrap();
    let seats = review.targets as i64 * 4;
    let counted = eventually(Duration::from_secs(30), || async {
        suiji_directories::workload::total(&db).await.unwrap() == seats
    })
    .await;
    assert!(
        counted,
        "the teams raised the workloads exactly once ({seats} seats)"
    );
    // The first visit is held: each department records its findings (SCJG finds a problem), the target refuses to
    // sign, every member confirms, and it concludes as inspected. The others are not found.
    let first = &visits[0];
    for (client, department, result, note) in [
        (&lead, SCJG, pb::CheckResult::Problem, "未按期公示年度报告"),
        (&sthj, STHJ, pb::CheckResult::Compliant, ""),
    ] {
        let item = if department == SCJG {
            "SCJG-1"
        } else {
            "STHJ-1"
        };
        retry(|| {
            let mut c = client.clone();
            let id = first.id.clone();
            async move {
                c.record_findings(pb::RecordFindingsRequest {
                    id,
                    findings: vec![pb::Finding {
                        item_code: item.into(),
                        check_code: "1".into(),
                        result: result as i32,
                        note: note.into(),
                        department_code: String::new(),
                    }],
                })
                .await
            }
        })
        .await
        .unwrap();
    }
    cluster.chaos("the findings").await;
    retry(|| {
        let mut c = lead.clone();
        let id = first.id.clone();
        async move {
            c.sign_record(pb::SignRecordRequest {
                id,
                signed_by: String::new(),
                refusal_note: "负责人拒绝签字，执法人员二人在场记录".into(),
            })
            .await
        }
    })
    .await
    .unwrap();
    // Each member confirms for themselves.
    for m in &first.team {
        let client: Inspection = InspectionServiceClient::with_interceptor(
            channel(&cluster.addr("inspection")).unwrap(),
            Bearer::new(Some(
                &isolated.member_token(&m.department_code, &m.inspector_id),
            )),
        );
        retry(|| {
            let mut c = client.clone();
            let id = first.id.clone();
            async move {
                c.confirm_record(pb::ConfirmRecordRequest {
                    id,
                    inspector_ids: Vec::new(),
                })
                .await
            }
        })
        .await
        .unwrap();
    }
    for (n, v) in visits.iter().enumerate() {
        let outcome = if n == 0 {
            pb::VisitOutcome::Inspected
        } else {
            pb::VisitOutcome::NotFound
        };
        retry(|| {
            let mut c = lead.clone();
            let id = v.id.clone();
            async move {
                c.conclude_visit(pb::ConcludeVisitRequest {
                    id,
                    outcome: outcome as i32,
                })
                .await
            }
        })
        .await
        .unwrap();
        if n == 0 || n == visits.len() / 2 {
            cluster.chaos("a visit concluded").await;
        }
    }
    let results = reaches(&lead, pb::Phase::Results).await;

    // Nothing done twice.
    let applied = |kind: &str| {
        results
            .history
            .iter()
            .filter(|h| h.applied && h.kind == kind)
            .count()
    };
    for kind in [
        "saga.started",
        "invitation.confirmed",
        "invitation.declined",
        "targets.drawn",
        "targets.approved",
        "targets.locked",
        "teams.drawn",
    ] {
        assert_eq!(applied(kind), 1, "{kind} once: {:#?}", results.history);
    }
    assert_eq!(applied("visit.scheduled"), visits.len());
    assert_eq!(applied("visit.concluded"), visits.len());
    let draw = suiji_platform::db::Db::connect(&isolated.settings.database, "draw")
        .await
        .unwrap();
    for action in ["draw.targets", "draw.lock", "draw.teams"] {
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM audit_log WHERE action = $1")
            .bind(action)
            .fetch_one(draw.pool())
            .await
            .unwrap();
        assert_eq!(n, 1, "{action} once");
    }
    let released = eventually(Duration::from_secs(30), || async {
        let sum = suiji_directories::workload::total(&db).await.unwrap();
        let history: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM target_inspections")
            .fetch_one(db.pool())
            .await
            .unwrap();
        sum == 0 && history == review.targets as i64 * 2
    })
    .await;
    assert!(
        released,
        "every visit released its team once and left one history line per department"
    );
    // Publication holds one result per department and item of every visit, each once, from the findings.
    let publication = suiji_platform::db::Db::connect(&isolated.settings.database, "publication")
        .await
        .unwrap();
    let expected = review.targets as i64 * 2;
    let handed = eventually(Duration::from_secs(30), || async {
        sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM results")
            .fetch_one(publication.pool())
            .await
            .unwrap()
            == expected
    })
    .await;
    assert!(
        handed,
        "{expected} results: SCJG's and STHJ's item on every visit"
    );
    let problems: Vec<String> =
        sqlx::query_scalar("SELECT id FROM results WHERE problem = 1 ORDER BY id")
            .fetch_all(publication.pool())
            .await
            .unwrap();
    assert_eq!(problems, vec![format!("{}/{SCJG}/SCJG-1", first.id)]);
    eprintln!("{} kill points, {} visits", cluster.kills, visits.len());
    cluster.stop();
    db.close().await;
    draw.close().await;
    publication.close().await;
    isolated.cleanup().await;
}

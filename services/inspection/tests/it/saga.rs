//! A joint task of three departments, one declining: invitations, the draw, the review, the lock and the teams,
//! driven by the saga through the real draw service; late and repeated messages are recorded, not applied.

use std::time::Duration;
use suiji_platform::auth::{ROLE_INSPECTION_COORDINATOR, ROLE_MEMBER};

use suiji_api::catalog::v1 as cat;
use suiji_api::inspection::v1 as pb;
use suiji_api::inspection::v1::inspection_service_client::InspectionServiceClient;
use suiji_api::planning::v1 as plan;
use suiji_api::publication::v1 as publ;
use suiji_draw::testkit::{self, SCJG, STHJ, World};
use suiji_platform::grpc::{Bearer, channel, violations_of};
use suiji_platform::on_both_backends;
use suiji_platform::outbox::Event;
use suiji_platform::testing::{self, Backend, Running, eventually};
use suiji_publication::testkit as publ_kit;
use tonic::Code;
use tonic::codegen::InterceptedService;
use tonic::transport::Channel;

const WSJK: &str = "610400-WSJK";
const TASK: &str = "TASK-2027-000101";
const VALID: &str = "2030-12-31";

type Client = InspectionServiceClient<InterceptedService<Channel, Bearer>>;

on_both_backends!(
    a_joint_task_runs_from_launch_to_teams,
    steering_in_bulk,
    a_department_withdraws_after_the_teams
);

/// The next message of a watch.
async fn next_change(watch: &mut tonic::Streaming<pb::WatchSagaResponse>) -> pb::WatchSagaResponse {
    tokio::time::timeout(std::time::Duration::from_secs(30), watch.message())
        .await
        .expect("a change is told within the watch's period")
        .unwrap()
        .expect("the watch stays open")
}

/// The operator's calendar file of the test's inspection service (calendar.extra_file): empty at start.
fn calendar_file(w: &World) -> std::path::PathBuf {
    std::env::temp_dir().join(format!(
        "suiji-calendar-{}.toml",
        w.isolated.settings.bus.namespace
    ))
}

async fn start(w: &World) -> Running {
    let mut settings = (*w.isolated.settings).clone();
    settings.services.directories = w.directories.addr.clone();
    settings.services.draw = w.draw.addr.clone();
    let calendar = calendar_file(w);
    if !calendar.exists() {
        std::fs::write(&calendar, "").unwrap();
    }
    settings.calendar.extra_file = calendar.to_string_lossy().into_owned();
    testing::start_with(
        std::sync::Arc::new(settings),
        w.isolated.bus().await,
        suiji_inspection::NAME,
        &suiji_inspection::migrations(),
        |ctx| async move { suiji_inspection::start(&ctx).await },
    )
    .await
}

async fn start_publication(w: &World) -> Running {
    let mut settings = (*w.isolated.settings).clone();
    settings.services.directories = w.directories.addr.clone();
    testing::start_with(
        std::sync::Arc::new(settings),
        w.isolated.bus().await,
        suiji_publication::NAME,
        &suiji_publication::migrations(),
        |ctx| async move { suiji_publication::start(&ctx).await },
    )
    .await
}

fn coordinator(w: &World, inspection: &Running, department: &str) -> Client {
    let token = w.isolated.token(department, &[ROLE_INSPECTION_COORDINATOR]);
    InspectionServiceClient::with_interceptor(
        channel(&inspection.addr).unwrap(),
        Bearer::new(Some(&token)),
    )
}

/// A joint entry led by SCJG with STHJ and WSJK.
fn three_departments() -> (plan::PlanEntry, Vec<cat::Item>) {
    let mut entry = testkit::entry(false);
    entry.participants.push(plan::Participant {
        department_code: WSJK.into(),
        item_codes: vec!["WSJK-1".into()],
    });
    let checklist = |item: &mut cat::Item, points: &[&str]| {
        if let Some(content) = item.version.as_mut().and_then(|v| v.content.as_mut()) {
            content.checklist = points
                .iter()
                .enumerate()
                .map(|(i, d)| cat::CheckPoint {
                    code: (i + 1).to_string(),
                    description: d.to_string(),
                    basis: String::new(),
                })
                .collect();
        }
    };
    let mut items = vec![
        testkit::item("SCJG-1", SCJG, "市场监管执法", false),
        testkit::item("STHJ-1", STHJ, "环境执法", false),
        testkit::item("WSJK-1", WSJK, "卫生执法", false),
    ];
    checklist(&mut items[0], &["年报公示", "登记事项"]);
    checklist(&mut items[1], &["排污许可"]);
    checklist(&mut items[2], &["卫生许可"]);
    (entry, items)
}

/// A department that takes no part in the task reads nothing of it — not its timeline, its progress, its visits
/// (their codes, unannounced days and findings), nor its transfers — and lists its own tasks only; an auditor reads
/// them.
async fn a_department_outside_reads_none_of_it(w: &World, inspection: &Running, visit: &str) {
    let mut stranger = coordinator(w, inspection, "610400-YJGL");
    let task = || TASK.to_string();
    let refused = [
        stranger
            .get_saga(pb::GetSagaRequest { task_id: task() })
            .await
            .map(|_| ()),
        stranger
            .get_progress(pb::GetProgressRequest { task_id: task() })
            .await
            .map(|_| ()),
        stranger
            .list_visits(pb::ListVisitsRequest {
                task_id: task(),
                ..Default::default()
            })
            .await
            .map(|_| ()),
        stranger
            .get_visit(pb::GetVisitRequest { id: visit.into() })
            .await
            .map(|_| ()),
        stranger
            .watch_saga(pb::WatchSagaRequest { task_id: task() })
            .await
            .map(|_| ()),
        stranger
            .list_sagas(pb::ListSagasRequest {
                department_code: SCJG.into(),
                ..Default::default()
            })
            .await
            .map(|_| ()),
        stranger
            .list_transfers(pb::ListTransfersRequest {
                to_department_code: STHJ.into(),
                ..Default::default()
            })
            .await
            .map(|_| ()),
    ];
    for (i, outcome) in refused.into_iter().enumerate() {
        let status = outcome.expect_err("refused");
        assert_eq!(
            status.code(),
            Code::PermissionDenied,
            "call {i}: {status:?}"
        );
    }
    let own = stranger
        .list_sagas(pb::ListSagasRequest::default())
        .await
        .unwrap()
        .into_inner()
        .sagas;
    assert!(own.is_empty(), "{own:?}");
    let transfers = stranger
        .list_transfers(pb::ListTransfersRequest {
            task_id: task(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .transfers;
    assert!(transfers.is_empty(), "{transfers:?}");
    let mut auditor = InspectionServiceClient::with_interceptor(
        channel(&inspection.addr).unwrap(),
        Bearer::new(Some(&w.isolated.token("610400-JW", &["audit.reader"]))),
    );
    auditor
        .get_visit(pb::GetVisitRequest { id: visit.into() })
        .await
        .unwrap();
    let all = auditor
        .list_sagas(pb::ListSagasRequest::default())
        .await
        .unwrap()
        .into_inner()
        .sagas;
    assert!(all.iter().any(|s| s.task_id == TASK), "{all:?}");
}

async fn saga(client: &mut Client, task: &str) -> pb::Saga {
    client
        .get_saga(pb::GetSagaRequest {
            task_id: task.into(),
        })
        .await
        .unwrap()
        .into_inner()
        .saga
        .unwrap()
}

/// Waits until the saga of `task` reaches `phase`.
async fn reaches(client: &Client, task: &str, phase: pb::Phase) -> pb::Saga {
    let reached = eventually(Duration::from_secs(30), || {
        let mut c = client.clone();
        async move {
            // The saga may not have heard of the launch yet.
            c.get_saga(pb::GetSagaRequest {
                task_id: task.into(),
            })
            .await
            .ok()
            .and_then(|r| r.into_inner().saga)
            .is_some_and(|s| s.phase == phase as i32)
        }
    })
    .await;
    let mut c = client.clone();
    let now = saga(&mut c, task).await;
    assert!(reached, "the saga reached {phase:?}: {now:#?}");
    now
}

/// One steering action over `tasks`, with its results.
async fn steer(
    client: &mut Client,
    tasks: &[&str],
    action: pb::Action,
    reason: &str,
    working_days: u32,
) -> Vec<pb::SteerResult> {
    client
        .steer(pb::SteerRequest {
            task_ids: tasks.iter().map(|t| t.to_string()).collect(),
            action: action as i32,
            reason: reason.into(),
            working_days,
        })
        .await
        .unwrap()
        .into_inner()
        .results
}

/// The caller's department answers the invitation to `TASK`.
async fn respond(
    client: &mut Client,
    accept: bool,
    reason: &str,
) -> Result<pb::Saga, tonic::Status> {
    client
        .respond_to_invitation(pb::RespondToInvitationRequest {
            task_id: TASK.into(),
            accept,
            reason: reason.into(),
        })
        .await
        .map(|r| r.into_inner().saga.unwrap_or_default())
}

/// The first working day on or after `from` (YYYY-MM-DD).
fn working_day_from(from: &str) -> chrono::NaiveDate {
    suiji_platform::calendar::Calendar::shipped()
        .working_day_on_or_after(from.parse().unwrap())
        .unwrap()
}

/// `inspection.saga.changed` events the inspection service has put in its outbox.
async fn announcements(inspection: &Running) -> i64 {
    sqlx::query_scalar("SELECT COUNT(*) FROM outbox WHERE routing_key = 'inspection.saga.changed'")
        .fetch_one(inspection.ctx.db.pool())
        .await
        .unwrap()
}

async fn fill(w: &World) {
    testkit::targets(w, 300).await;
    testkit::inspectors(
        w,
        &[
            ("S01", SCJG, "市场监管执法", false, "active", VALID, ""),
            ("S02", SCJG, "市场监管执法", false, "active", VALID, ""),
            ("S03", SCJG, "市场监管执法", false, "active", VALID, ""),
            ("H01", STHJ, "环境执法", false, "active", VALID, ""),
            ("H02", STHJ, "环境执法", false, "active", VALID, ""),
            ("H03", STHJ, "环境执法", false, "active", VALID, ""),
        ],
    )
    .await;
}

async fn a_joint_task_runs_from_launch_to_teams(backend: Backend) {
    // A Monday in 2027, a year no shipped notice covers, two days before 中秋: every deadline is counted on the
    // provisional calendar, and says so.
    suiji_platform::clock::pin_for_test("2027-09-13");
    let Some(w) = World::start(backend).await else {
        return;
    };
    let inspection = start(&w).await;
    let publication = start_publication(&w).await;
    fill(&w).await;
    let (entry, items) = three_departments();
    w.launch_with(TASK, entry, items, 0).await;
    let mut lead = coordinator(&w, &inspection, SCJG);
    let mut sthj = coordinator(&w, &inspection, STHJ);
    let mut wsjk = coordinator(&w, &inspection, WSJK);

    let started = reaches(&lead, TASK, pb::Phase::Inviting).await;
    assert_eq!(started.lead_department_code, SCJG);
    assert_eq!(started.waiting_on, vec![STHJ.to_string(), WSJK.to_string()]);
    let waiting: Vec<(i32, &str)> = started
        .waiting
        .iter()
        .map(|w| (w.kind, w.department_code.as_str()))
        .collect();
    let answer = pb::WaitingKind::Answer as i32;
    assert_eq!(
        waiting,
        vec![(answer, STHJ), (answer, WSJK)],
        "as codes too"
    );
    assert_eq!(started.deadlines.len(), 1, "the invitation deadline");
    assert_eq!(started.deadlines[0].working_days, 3);
    assert_eq!(
        (
            started.deadlines[0].date.as_str(),
            started.deadlines[0].provisional
        ),
        ("2027-09-17", true),
        "three working days from Monday 13 September 2027, 中秋 (the 15th) not counted"
    );

    // An open page watches the task: the state at once, then each change.
    let mut watch = lead
        .watch_saga(pb::WatchSagaRequest {
            task_id: TASK.into(),
        })
        .await
        .unwrap()
        .into_inner();
    let now = next_change(&mut watch).await;
    assert_eq!(
        (now.task_id.as_str(), now.phase),
        (TASK, pb::Phase::Inviting as i32)
    );
    for (task, token, code) in [
        (
            "TASK-NONE",
            Some(w.isolated.token(STHJ, &[])),
            Code::NotFound,
        ),
        (TASK, None, Code::Unauthenticated),
        ("", Some(w.isolated.token(STHJ, &[])), Code::InvalidArgument),
    ] {
        let mut c = InspectionServiceClient::with_interceptor(
            channel(&inspection.addr).unwrap(),
            Bearer::new(token.as_deref()),
        );
        let refused = c
            .watch_saga(pb::WatchSagaRequest {
                task_id: task.into(),
            })
            .await
            .unwrap_err();
        assert_eq!(refused.code(), code, "{task}");
    }

    // Answers: only the caller's own department, a reason to decline, once.
    let mut without_role = InspectionServiceClient::with_interceptor(
        channel(&inspection.addr).unwrap(),
        Bearer::new(Some(&w.isolated.token(STHJ, &[]))),
    );
    let no_role = respond(&mut without_role, true, "").await.unwrap_err();
    assert_eq!(no_role.code(), Code::PermissionDenied);
    let no_reason = respond(&mut wsjk, false, "").await.unwrap_err();
    assert_eq!(no_reason.code(), Code::InvalidArgument);
    assert_eq!(violations_of(&no_reason)[0].0, "reason");
    // The reason is also written in Chinese, for the console's Chinese page.
    let violation = &tonic_types::StatusExt::get_details_bad_request(&no_reason)
        .unwrap()
        .field_violations[0];
    assert_eq!(violation.reason, "REASON_DECLINE");
    assert_eq!(
        violation
            .localized_message
            .as_ref()
            .map(|m| m.message.as_str()),
        Some("不参加须说明理由")
    );
    respond(&mut sthj, true, "").await.unwrap();
    let answered = next_change(&mut watch).await;
    assert!(answered.version > now.version, "{answered:?} after {now:?}");
    let twice = respond(&mut sthj, true, "").await.unwrap_err();
    assert_eq!(twice.code(), Code::FailedPrecondition);
    // Why not, in English and, for the console's Chinese page, in Chinese with the department by name.
    assert!(
        twice.message().ends_with("has answered already"),
        "{}",
        twice.message()
    );
    let why =
        tonic_types::StatusExt::get_details_localized_message(&twice).expect("in Chinese too");
    assert_eq!(why.locale, "zh-CN");
    assert!(
        why.message.ends_with("已经答复") && !why.message.contains(STHJ),
        "{}",
        why.message
    );
    respond(&mut wsjk, false, "本季度执法力量不足")
        .await
        .unwrap();

    // The saga asks the draw; the targets come back for review.
    let review = reaches(&lead, TASK, pb::Phase::ReviewingTargets).await;
    assert!(review.targets > 0, "targets drawn: {review:#?}");
    // The timeline is kept as messages and worded for its reader: in the language the call accepts, the
    // departments by their names.
    let mut in_chinese = tonic::Request::new(pb::GetSagaRequest {
        task_id: TASK.into(),
    });
    in_chinese.metadata_mut().insert(
        "accept-language",
        "zh-CN,zh;q=0.9,en;q=0.8".parse().unwrap(),
    );
    let zh = lead
        .get_saga(in_chinese)
        .await
        .unwrap()
        .into_inner()
        .saga
        .unwrap();
    let declined = |s: &pb::Saga| {
        s.history
            .iter()
            .find(|h| h.kind == "invitation.declined")
            .cloned()
            .unwrap()
    };
    let (zh_declined, en_declined) = (declined(&zh), declined(&saga(&mut lead, TASK).await));
    assert_eq!(
        zh_declined.detail_text.as_ref().map(|t| t.code.as_str()),
        Some("tl-invitation-declined")
    );
    assert!(
        zh_declined.detail.ends_with("不参加：本季度执法力量不足")
            && !zh_declined.detail.contains(WSJK),
        "{}",
        zh_declined.detail
    );
    assert!(
        en_declined
            .detail
            .ends_with(" declined: 本季度执法力量不足"),
        "{}",
        en_declined.detail
    );
    let drawn = zh
        .history
        .iter()
        .find(|h| h.kind == "targets.drawn")
        .unwrap();
    assert_eq!(
        drawn.detail,
        format!("已抽取 {} 个检查对象，待牵头部门审核", review.targets)
    );
    let other = sthj
        .approve_targets(pb::ApproveTargetsRequest {
            task_id: TASK.into(),
            expected_version: review.version,
        })
        .await
        .unwrap_err();
    assert_eq!(
        other.code(),
        Code::PermissionDenied,
        "only the lead approves"
    );
    let stale = lead
        .approve_targets(pb::ApproveTargetsRequest {
            task_id: TASK.into(),
            expected_version: review.version - 1,
        })
        .await
        .unwrap_err();
    assert_eq!(stale.code(), Code::Aborted, "approve what was reviewed");
    lead.approve_targets(pb::ApproveTargetsRequest {
        task_id: TASK.into(),
        expected_version: review.version,
    })
    .await
    .unwrap();

    // Lock, then teams from the two departments that take part.
    let scheduling = reaches(&lead, TASK, pb::Phase::Scheduling).await;
    assert_eq!(scheduling.teams, review.targets, "a team per locked target");
    let teams = World::teams(
        &mut w.operator(SCJG),
        TASK,
        0,
        suiji_api::draw::v1::ListTeamsRequest::default(),
    )
    .await
    .unwrap();
    assert_eq!(teams.len() as u64, scheduling.teams);
    assert!(
        teams
            .iter()
            .flat_map(|t| &t.drawn)
            .all(|s| s.department_code != WSJK),
        "the department that declined sends nobody"
    );
    assert!(teams.iter().all(|t| t.drawn.len() == 4));

    // The history is the timeline, in order, each line one version.
    let kinds: Vec<String> = scheduling.history.iter().map(|h| h.kind.clone()).collect();
    assert_eq!(
        kinds,
        vec![
            "saga.started",
            "invitation.confirmed",
            "invitation.declined",
            "targets.drawn",
            "targets.approved",
            "targets.locked",
            "teams.drawn"
        ]
    );
    let seqs: Vec<i64> = scheduling.history.iter().map(|h| h.seq).collect();
    assert_eq!(seqs, (1..=7).collect::<Vec<_>>());
    assert_eq!(scheduling.version, 7);

    // A reply repeated after its step (a new message, as a retried command would give) is recorded, not applied.
    w.emit(
        "draw",
        Event::new::<suiji_api::topics::TargetsLocked>(
            TASK,
            &suiji_api::draw::v1::TargetsLockedEvent {
                draw: Some(suiji_api::draw::v1::Draw {
                    task_id: TASK.into(),
                    ..Default::default()
                }),
            },
        ),
    )
    .await;
    let late = eventually(Duration::from_secs(15), || {
        let mut c = lead.clone();
        async move { saga(&mut c, TASK).await.history.len() == 8 }
    })
    .await;
    assert!(late, "the late reply is on the timeline");
    let now = saga(&mut lead, TASK).await;
    let last = now.history.last().unwrap();
    assert!(!last.applied && last.kind == "late", "{last:?}");
    assert_eq!(now.phase, pb::Phase::Scheduling as i32);

    // Visits: one per locked target, the whole team, each department's check points.
    let visits = lead
        .list_visits(pb::ListVisitsRequest {
            task_id: TASK.into(),
            page_size: 500,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .visits;
    assert_eq!(visits.len() as u64, review.targets);
    a_department_outside_reads_none_of_it(&w, &inspection, &visits[0].id).await;
    let first = visits[0].clone();
    assert_eq!(
        first.checks.len(),
        3,
        "SCJG's two check points and STHJ's one"
    );
    assert!(
        first
            .team
            .iter()
            .filter(|m| m.leader)
            .all(|m| m.department_code == SCJG)
    );
    let day = working_day_from(&first.assigned_on);
    assert!(day.to_string() <= first.schedule_by);
    assert!(
        first.assigned_on.starts_with("2027-"),
        "{}",
        first.assigned_on
    );
    assert!(first.schedule_by_provisional, "2027 has no notice loaded");
    // Five working days from Monday 13 September 2027, 中秋 (the 15th) not counted.
    assert_eq!(first.schedule_by, "2027-09-21");

    // 2027's notice is loaded (here one that gives 15–17 September off): every visit's last day is counted
    // again, final now, and the saga's timeline says the old day and the new.
    std::fs::write(
        calendar_file(&w),
        "[[year]]\nyear = 2027\nnotice = \"国务院办公厅关于2027年部分节假日安排的通知\"\n\
         holidays = [\"2027-09-15\", \"2027-09-16\", \"2027-09-17\"]\nworkdays = []\n",
    )
    .unwrap();
    let reloaded =
        suiji_api::admin::v1::calendar_service_client::CalendarServiceClient::with_interceptor(
            channel(&inspection.addr).unwrap(),
            Bearer::new(Some(&w.isolated.token(SCJG, &["admin"]))),
        )
        .reload_calendar(suiji_api::admin::v1::ReloadCalendarRequest {})
        .await
        .unwrap()
        .into_inner();
    assert_eq!(reloaded.deadlines_recounted, visits.len() as u64);
    let visits = lead
        .list_visits(pb::ListVisitsRequest {
            task_id: TASK.into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .visits;
    assert!(
        visits
            .iter()
            .all(|v| v.schedule_by == "2027-09-23" && !v.schedule_by_provisional),
        "{visits:?}"
    );
    let timeline = saga(&mut lead, TASK).await.history;
    let recounted: Vec<_> = timeline
        .iter()
        .filter(|h| h.kind == "visit.recounted")
        .collect();
    assert_eq!(recounted.len(), visits.len());
    assert!(
        recounted[0].detail.contains("21 September 2027")
            && recounted[0].detail.contains("23 September 2027"),
        "{}",
        recounted[0].detail
    );
    let first = visits.iter().find(|v| v.id == first.id).unwrap().clone();
    let schedule = |id: String, date: String| pb::ScheduleVisitRequest {
        id,
        date,
        method: pb::VisitMethod::OnSite as i32,
        announced: false,
    };
    let not_lead = sthj
        .schedule_visit(schedule(first.id.clone(), day.to_string()))
        .await
        .unwrap_err();
    assert_eq!(not_lead.code(), Code::PermissionDenied);
    let too_late = lead
        .schedule_visit(schedule(first.id.clone(), "2099-01-05".into()))
        .await
        .unwrap_err();
    assert_eq!(too_late.code(), Code::InvalidArgument, "{too_late:?}");
    let zh = tonic_types::StatusExt::get_details_bad_request(&too_late)
        .unwrap()
        .field_violations[0]
        .localized_message
        .clone()
        .unwrap()
        .message;
    assert!(zh.contains("5 个工作日内"), "{zh}");
    // The last day as Chinese writes a day, as in every text of the catalogs.
    assert!(zh.contains("2027年9月"), "{zh}");
    let announced_before = announcements(&inspection).await;
    for v in &visits {
        lead.schedule_visit(schedule(v.id.clone(), day.to_string()))
            .await
            .unwrap();
    }
    let visiting = saga(&mut lead, TASK).await;
    assert_eq!(visiting.phase, pb::Phase::Visiting as i32);
    // Every scheduling is on the timeline; only the one that moved the phase on is announced.
    assert_eq!(
        visiting
            .history
            .iter()
            .filter(|h| h.kind == "visit.scheduled")
            .count(),
        visits.len()
    );
    assert_eq!(announcements(&inspection).await, announced_before + 1);

    // A replacement in the draw (health, the head's approval) changes the visit's team.
    let second = visits[1].clone();
    let leaving = second
        .team
        .iter()
        .find(|m| m.department_code == STHJ)
        .unwrap()
        .inspector_id
        .clone();
    w.head(STHJ)
        .replace_inspector(suiji_api::draw::v1::ReplaceInspectorRequest {
            task_id: TASK.into(),
            target_id: second.target_id.clone(),
            inspector_id: leaving.clone(),
            reason: suiji_api::draw::v1::ReplacementReason::Health as i32,
            note: "病假".into(),
            eligible_on: String::new(),
        })
        .await
        .unwrap();
    let followed = eventually(Duration::from_secs(15), || {
        let (mut c, id, leaving) = (lead.clone(), second.id.clone(), leaving.clone());
        async move {
            let v = c
                .get_visit(pb::GetVisitRequest { id })
                .await
                .unwrap()
                .into_inner()
                .visit
                .unwrap();
            v.team.len() == 4 && v.team.iter().all(|m| m.inspector_id != leaving)
        }
    })
    .await;
    assert!(followed, "the visit's team follows the replacement");
    assert!(
        saga(&mut lead, TASK)
            .await
            .history
            .iter()
            .any(|h| h.kind == "visit.team_changed" && h.detail.contains(&leaving))
    );

    // The target checks the code the team shows (扫码入企), without a token: the task, the items, the team's
    // names and certificates; a made-up code is not valid.
    let mut public = InspectionServiceClient::with_interceptor(
        channel(&inspection.addr).unwrap(),
        Bearer::new(None),
    );
    assert_eq!(first.verification_code.len(), 16);
    let checked = public
        .verify_visit_code(pb::VerifyVisitCodeRequest {
            code: first.verification_code.to_lowercase(),
        })
        .await
        .unwrap()
        .into_inner();
    assert!(checked.valid, "{checked:?}");
    assert_eq!(checked.target_id, first.target_id);
    assert_eq!(checked.checks.len(), 3);
    assert_eq!(checked.team.len(), 4);
    // The same on the public page's JSON, and the QR code the team shows opens that page with the code.
    assert!(
        first
            .verification_url
            .ends_with(&format!("/verify?code={}", first.verification_code)),
        "{}",
        first.verification_url
    );
    let (status, body) = testing::http_get(
        &inspection.addr,
        &format!("/verify/check?code={}", first.verification_code),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let page: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(page["valid"], true);
    assert_eq!(page["team"].as_array().unwrap().len(), 4);
    let (status, body) =
        testing::http_get(&inspection.addr, "/verify/check?code=0000000000000000").await;
    assert_eq!(status, 200);
    assert!(body.contains("\"valid\":false"), "{body}");
    let (status, svg) = testing::http_get(
        &inspection.addr,
        &format!("/verify/qr.svg?code={}", first.verification_code),
    )
    .await;
    assert_eq!(status, 200);
    assert!(svg.contains("<svg"), "{svg}");
    let (status, _) = testing::http_get(&inspection.addr, "/verify/qr.svg?code=nonsense").await;
    assert_eq!(status, 400);
    assert!(
        checked.team.iter().all(|m| m.name.starts_with("检查员")
            && m.certificate_no.starts_with("ZF")
            && m.certificate_valid),
        "{checked:?}"
    );
    let forged = public
        .verify_visit_code(pb::VerifyVisitCodeRequest {
            code: "0123456789ABCDEF".into(),
        })
        .await
        .unwrap()
        .into_inner();
    assert!(!forged.valid && forged.team.is_empty());
    let recorded = lead
        .get_visit(pb::GetVisitRequest {
            id: first.id.clone(),
        })
        .await
        .unwrap()
        .into_inner()
        .visit
        .unwrap();
    assert_eq!(
        recorded.verifications, 2,
        "each check (over gRPC and on the page) is recorded on the visit"
    );

    // The first target is inspected: findings by each department, a refusal to sign, every member confirms.
    let finding = |item: &str, code: &str, result: pb::CheckResult, note: &str| pb::Finding {
        item_code: item.into(),
        check_code: code.into(),
        result: result as i32,
        note: note.into(),
        department_code: String::new(),
    };
    let foreign = sthj
        .record_findings(pb::RecordFindingsRequest {
            id: first.id.clone(),
            findings: vec![finding("SCJG-1", "1", pb::CheckResult::Compliant, "")],
        })
        .await
        .unwrap_err();
    assert_eq!(
        violations_of(&foreign)[0].0,
        "findings[0]",
        "not STHJ's item"
    );
    // The service remembers the visit and its saga as it last wrote them; both have moved since (the code checks
    // are recorded on the visit, the replacement on the saga), so the write refuses what it remembers and the
    // call is decided again on what is stored.
    lead.record_findings(pb::RecordFindingsRequest {
        id: first.id.clone(),
        findings: vec![
            finding(
                "SCJG-1",
                "1",
                pb::CheckResult::Problem,
                "未按期公示年度报告",
            ),
            finding("SCJG-1", "2", pb::CheckResult::Compliant, ""),
        ],
    })
    .await
    .unwrap();
    sthj.record_findings(pb::RecordFindingsRequest {
        id: first.id.clone(),
        findings: vec![finding("STHJ-1", "1", pb::CheckResult::Compliant, "")],
    })
    .await
    .unwrap();
    // Evidence: the photo of the unpublished report, kept as its hash and where SCJG's storage keeps it.
    let photo = pb::AttachEvidenceRequest {
        visit_id: first.id.clone(),
        item_code: "SCJG-1".into(),
        check_code: "1".into(),
        sha256: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08".into(),
        storage_ref: "s3://scjg-evidence/2027/visit-1/photo-1.jpg".into(),
        media_type: "image/jpeg".into(),
        size_bytes: 48_213,
        description: "现场照片：年度报告未公示".into(),
    };
    let attached = lead
        .attach_evidence(photo.clone())
        .await
        .unwrap()
        .into_inner()
        .visit
        .unwrap();
    assert_eq!(attached.evidence.len(), 1, "{attached:?}");
    let kept = &attached.evidence[0];
    assert_eq!(
        (
            kept.department_code.as_str(),
            kept.item_code.as_str(),
            kept.check_code.as_str()
        ),
        (SCJG, "SCJG-1", "1")
    );
    assert_eq!(kept.sha256, photo.sha256);
    assert_eq!(kept.storage_ref, photo.storage_ref);
    assert!(!kept.added_by.is_empty() && kept.add_time.is_some());
    let again = lead
        .attach_evidence(photo.clone())
        .await
        .unwrap()
        .into_inner()
        .visit
        .unwrap();
    assert_eq!(
        (again.evidence.len(), again.version),
        (1, attached.version),
        "the same file again writes nothing"
    );
    for (change, field) in [
        (
            pb::AttachEvidenceRequest {
                sha256: "not a hash".into(),
                ..photo.clone()
            },
            "sha256",
        ),
        (
            pb::AttachEvidenceRequest {
                storage_ref: "photo-1.jpg".into(),
                ..photo.clone()
            },
            "storage_ref",
        ),
        (
            pb::AttachEvidenceRequest {
                item_code: "STHJ-1".into(),
                check_code: String::new(),
                ..photo.clone()
            },
            "item_code",
        ),
    ] {
        let e = lead.attach_evidence(change).await.unwrap_err();
        assert_eq!(e.code(), tonic::Code::InvalidArgument, "{e:?}");
        assert_eq!(violations_of(&e)[0].0, field, "{e:?}");
    }
    lead.sign_record(pb::SignRecordRequest {
        id: first.id.clone(),
        signed_by: String::new(),
        refusal_note: "负责人拒绝签字，执法人员二人在场记录".into(),
    })
    .await
    .unwrap();
    let members = |d: &str| -> Vec<String> {
        first
            .team
            .iter()
            .filter(|m| m.department_code == d)
            .map(|m| m.inspector_id.clone())
            .collect()
    };
    let early = lead
        .conclude_visit(pb::ConcludeVisitRequest {
            id: first.id.clone(),
            outcome: pb::VisitOutcome::Inspected as i32,
        })
        .await
        .unwrap_err();
    assert_eq!(
        early.code(),
        Code::FailedPrecondition,
        "nobody confirmed yet"
    );
    // The market regulator's members confirm each for themselves, under their own identity; none for another.
    let member = |inspector: &str, department: &str| {
        InspectionServiceClient::with_interceptor(
            channel(&inspection.addr).unwrap(),
            Bearer::new(Some(&w.isolated.member_token(department, inspector))),
        )
    };
    let own = members(SCJG);
    assert!(!own.is_empty());
    // A coordinator no longer confirms for the members.
    let refused = lead
        .confirm_record(pb::ConfirmRecordRequest {
            id: first.id.clone(),
            inspector_ids: own.clone(),
        })
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::PermissionDenied, "{refused:?}");
    let sthj_member = members(STHJ)[0].clone();
    let refused = member(&own[0], SCJG)
        .confirm_record(pb::ConfirmRecordRequest {
            id: first.id.clone(),
            inspector_ids: vec![sthj_member.clone()],
        })
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::PermissionDenied, "{refused:?}");
    // Someone not on the team, naming an inspector id in their token, is not let in by it.
    let outsider = member("NOT-ON-TEAM", SCJG)
        .confirm_record(pb::ConfirmRecordRequest {
            id: first.id.clone(),
            inspector_ids: Vec::new(),
        })
        .await
        .unwrap_err();
    assert_eq!(outsider.code(), Code::InvalidArgument, "{outsider:?}");
    // The member's role without an inspector id in the token confirms nothing.
    let unnamed = InspectionServiceClient::with_interceptor(
        channel(&inspection.addr).unwrap(),
        Bearer::new(Some(&w.isolated.token(SCJG, &[ROLE_MEMBER]))),
    )
    .confirm_record(pb::ConfirmRecordRequest {
        id: first.id.clone(),
        inspector_ids: vec![own[0].clone()],
    })
    .await
    .unwrap_err();
    assert_eq!(unnamed.code(), Code::PermissionDenied, "{unnamed:?}");
    for inspector in &own {
        let visit = member(inspector, SCJG)
            .confirm_record(pb::ConfirmRecordRequest {
                id: first.id.clone(),
                inspector_ids: Vec::new(),
            })
            .await
            .unwrap()
            .into_inner()
            .visit
            .unwrap();
        let confirmed: Vec<&str> = visit
            .team
            .iter()
            .filter(|m| m.confirmed)
            .map(|m| m.inspector_id.as_str())
            .collect();
        assert!(confirmed.contains(&inspector.as_str()), "{confirmed:?}");
        assert!(!confirmed.contains(&sthj_member.as_str()), "{confirmed:?}");
    }
    // Each confirmation is on the chain under the member who gave it.
    let confirmers: Vec<String> = sqlx::query_scalar(
        "SELECT actor FROM audit_log WHERE entity = 'visit' AND entity_id = $1 AND action = 'visit.confirmed' ORDER BY seq",
    )
    .bind(&first.id)
    .fetch_all(inspection.ctx.db.pool())
    .await
    .unwrap();
    assert_eq!(
        confirmers,
        own.iter()
            .map(|i| format!("member:{i}"))
            .collect::<Vec<_>>()
    );
    for inspector in members(STHJ) {
        member(&inspector, STHJ)
            .confirm_record(pb::ConfirmRecordRequest {
                id: first.id.clone(),
                inspector_ids: vec![inspector.clone()],
            })
            .await
            .unwrap();
    }
    let concluded = lead
        .conclude_visit(pb::ConcludeVisitRequest {
            id: first.id.clone(),
            outcome: pb::VisitOutcome::Inspected as i32,
        })
        .await
        .unwrap()
        .into_inner()
        .visit
        .unwrap();
    assert_eq!(concluded.outcome, pb::VisitOutcome::Inspected as i32);
    assert!(concluded.signed_by.is_empty() && !concluded.refusal_note.is_empty());
    assert!(concluded.team.iter().all(|m| m.confirmed));
    // Every step of the visit is on the service's hash chain, by whom, with the visit's digest before and after
    // (全程留痕), and the chain holds.
    let steps: Vec<(String, String, String, String)> = sqlx::query(
        "SELECT action, department, before_digest, after_digest FROM audit_log \
         WHERE entity = 'visit' AND entity_id = $1 ORDER BY seq",
    )
    .bind(&first.id)
    .fetch_all(inspection.ctx.db.pool())
    .await
    .unwrap()
    .iter()
    .map(|r| {
        use sqlx::Row;
        (
            r.get("action"),
            r.get("department"),
            r.get("before_digest"),
            r.get("after_digest"),
        )
    })
    .collect();
    let actions: Vec<(&str, &str)> = steps
        .iter()
        .map(|(a, d, _, _)| (a.as_str(), d.as_str()))
        .filter(|(a, _)| ["visit.signed", "visit.confirmed", "visit.concluded"].contains(a))
        .collect();
    // Each member confirmed for themselves.
    let mut expected = vec![("visit.signed", SCJG)];
    expected.extend(own.iter().map(|_| ("visit.confirmed", SCJG)));
    expected.extend(members(STHJ).iter().map(|_| ("visit.confirmed", STHJ)));
    expected.push(("visit.concluded", SCJG));
    assert_eq!(actions, expected, "{steps:#?}");
    assert!(steps.iter().any(|(a, _, _, _)| a == "visit.findings"));
    assert!(
        steps.iter().all(|s| s.2 != s.3),
        "each step changed the visit: {steps:#?}"
    );
    let mut conn = inspection.ctx.db.pool().acquire().await.unwrap();
    let (stored, _, _) = suiji_inspection::store::get_visit_counted(&mut conn, &first.id)
        .await
        .unwrap()
        .unwrap();
    drop(conn);
    assert_eq!(
        steps.last().unwrap().3,
        suiji_platform::audit::digest_of(&stored.visit),
        "the last entry names the visit as stored"
    );
    assert!(matches!(
        suiji_platform::audit::verify(&inspection.ctx.db)
            .await
            .unwrap(),
        suiji_platform::audit::Verification::Intact { .. }
    ));
    let after = public
        .verify_visit_code(pb::VerifyVisitCodeRequest {
            code: first.verification_code.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    assert!(
        !after.valid,
        "a concluded visit's code no longer admits a team"
    );
    // The directories keep the target's history from the concluded visit: one line per department.
    let directories = w.directories.ctx.db.clone();
    let target = first.target_id.clone();
    let history = eventually(Duration::from_secs(15), || {
        let (db, target) = (directories.clone(), target.clone());
        async move {
            sqlx::query_scalar::<_, i64>(
                "SELECT COUNT(*) FROM target_inspections WHERE target_id = $1 AND problem_found = 1",
            )
            .bind(target)
            .fetch_one(db.pool())
            .await
            .unwrap()
                == 1
        }
    })
    .await;
    assert!(history, "SCJG's problem is on the target's history");
    // The others cannot be found: an outcome, not an error. Then the results phase. They are concluded all at
    // once, as several coordinators may: the saga must count every one (counts read apart from the saga would
    // let one conclusion miss another and leave the saga short of results). A write that lost the race is
    // answered ABORTED and sent again, as a client does.
    let mut concluding = tokio::task::JoinSet::new();
    for v in &visits[1..] {
        let (mut lead, id) = (lead.clone(), v.id.clone());
        concluding.spawn(async move {
            loop {
                match lead
                    .conclude_visit(pb::ConcludeVisitRequest {
                        id: id.clone(),
                        outcome: pb::VisitOutcome::NotFound as i32,
                    })
                    .await
                {
                    Ok(_) => return,
                    Err(s) if s.code() == tonic::Code::Aborted => continue,
                    Err(s) => panic!("{id}: {s}"),
                }
            }
        });
    }
    while let Some(done) = concluding.join_next().await {
        done.unwrap();
    }
    let results = saga(&mut lead, TASK).await;
    assert_eq!(results.phase, pb::Phase::Results as i32, "{results:#?}");

    // Publication hears every concluded visit: one result per department and item to enter, from the findings.
    let token = w.isolated.token(SCJG, &["publication.entry"]);
    let listed = publ_kit::results(
        &publ_kit::client(&publication.addr, Some(&token)),
        visits.len(),
    )
    .await;
    let found = listed
        .iter()
        .find(|r| r.visit_id == first.id)
        .expect("the inspected visit's result");
    assert_eq!(found.item_code, "SCJG-1");
    assert_eq!(found.item_name, "SCJG-1 检查");
    assert!(found.problem_found);
    assert!(
        found.problems[0].contains("未按期公示年度报告"),
        "{found:?}"
    );
    assert!(
        found.suggested_codes.is_empty(),
        "the department says which problem"
    );
    assert_eq!(found.inspection_type, "部门联合双随机抽查");
    let missing = listed.iter().find(|r| r.visit_id != first.id).unwrap();
    assert_eq!(missing.visit_outcome, "not_found");
    assert_eq!(missing.suggested_codes, vec!["6"]);

    // Follow-up: SCJG sends its problem to STHJ by hand; only a department that found a problem on its item can,
    // and only from a visit held.
    let transfer = |visit: &str, item: &str, to: &str| pb::CreateTransferRequest {
        visit_id: visit.into(),
        item_code: item.into(),
        to_department_code: to.into(),
        kind: pb::TransferKind::Department as i32,
        note: "涉嫌无证排污，请依职责处理".into(),
    };
    let e = sthj
        .create_transfer(transfer(&first.id, "SCJG-1", SCJG))
        .await
        .unwrap_err();
    assert_eq!(
        violations_of(&e)[0].0,
        "item_code",
        "STHJ found no problem on SCJG-1"
    );
    let e = lead
        .create_transfer(transfer(&visits[1].id, "SCJG-1", STHJ))
        .await
        .unwrap_err();
    assert_eq!(
        e.code(),
        Code::FailedPrecondition,
        "the target was not found"
    );
    let e = lead
        .create_transfer(transfer(&first.id, "SCJG-1", "610400-NOPE"))
        .await
        .unwrap_err();
    assert_eq!(violations_of(&e)[0].0, "to_department_code");
    let by_hand = lead
        .create_transfer(transfer(&first.id, "SCJG-1", STHJ))
        .await
        .unwrap()
        .into_inner()
        .transfer
        .unwrap();
    assert_eq!(by_hand.state, pb::TransferState::Open as i32);
    assert!(
        by_hand.problem.contains("未按期公示年度报告"),
        "{by_hand:?}"
    );

    // Every result is published; SCJG's problem goes to WSJK with its published result, which makes a second
    // transfer. Then the saga follows up.
    for department in [SCJG, STHJ] {
        let entry = w.isolated.token(department, &["publication.entry"]);
        let reviewer = w.isolated.token(department, &["publication.reviewer"]);
        let c = publ_kit::client(&publication.addr, Some(&entry));
        let r = publ_kit::client(&publication.addr, Some(&reviewer));
        let results = publ_kit::results(&c, visits.len()).await;
        let transferred = ("B", publ::Disposal::Transferred, WSJK);
        publ_kit::publish_all(&c, &r, &results, |r| publ_kit::suggested(r, transferred)).await;
    }
    let follow_up = reaches(&lead, TASK, pb::Phase::FollowUp).await;
    assert!(
        follow_up
            .history
            .iter()
            .any(|h| h.kind == "results.final" && h.detail.contains("2 transfers")),
        "{:#?}",
        follow_up.history
    );
    let open = lead
        .list_transfers(pb::ListTransfersRequest {
            task_id: TASK.into(),
            open_only: true,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .transfers;
    assert_eq!(open.len(), 2, "{open:#?}");
    let automatic = open.iter().find(|t| t.to_department_code == WSJK).unwrap();
    // A participating department reads the transfers it sent or received, not the others' (the one to STHJ).
    let of_wsjk = wsjk
        .list_transfers(pb::ListTransfersRequest {
            task_id: TASK.into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .transfers;
    let ids: Vec<&str> = of_wsjk.iter().map(|t| t.id.as_str()).collect();
    assert_eq!(ids, vec![automatic.id.as_str()]);

    // STHJ takes up and closes the first; WSJK declines the second, SCJG routes it to STHJ, who closes it.
    let answer = |id: &str, answer: pb::TransferAnswer, note: &str| pb::AnswerTransferRequest {
        id: id.into(),
        answer: answer as i32,
        note: note.into(),
    };
    let e = wsjk
        .answer_transfer(answer(&by_hand.id, pb::TransferAnswer::Accept, ""))
        .await
        .unwrap_err();
    assert_eq!(
        e.code(),
        Code::PermissionDenied,
        "only the receiver answers"
    );
    sthj.answer_transfer(answer(&by_hand.id, pb::TransferAnswer::Accept, ""))
        .await
        .unwrap();
    let e = sthj
        .answer_transfer(answer(&by_hand.id, pb::TransferAnswer::Close, ""))
        .await
        .unwrap_err();
    assert_eq!(violations_of(&e)[0].0, "note");
    sthj.answer_transfer(answer(
        &by_hand.id,
        pb::TransferAnswer::Close,
        "已立案调查并责令停止排污",
    ))
    .await
    .unwrap();
    wsjk.answer_transfer(answer(
        &automatic.id,
        pb::TransferAnswer::Decline,
        "不属卫生健康部门职责",
    ))
    .await
    .unwrap();
    assert_eq!(
        saga(&mut lead, TASK).await.phase,
        pb::Phase::FollowUp as i32
    );
    lead.reroute_transfer(pb::RerouteTransferRequest {
        id: automatic.id.clone(),
        to_department_code: STHJ.into(),
    })
    .await
    .unwrap();
    sthj.answer_transfer(answer(
        &automatic.id,
        pb::TransferAnswer::Close,
        "已核查处理",
    ))
    .await
    .unwrap();
    let closed = saga(&mut lead, TASK).await;
    assert_eq!(
        closed.phase,
        pb::Phase::Closed as i32,
        "{:#?}",
        closed.history
    );
    assert!(closed.waiting_on.is_empty());

    // Changes were announced.
    let announced = eventually(Duration::from_secs(10), || async {
        w.probe.of_type("draw.command.draw_inspectors").len() == 1
    })
    .await;
    assert!(announced, "one teams command: {:?}", w.probe.seen().len());
    publication.stop().await;
    inspection.stop().await;
    w.stop().await;
}

async fn steering_in_bulk(backend: Backend) {
    // A Monday in a year whose notice is loaded: the deadlines are final.
    suiji_platform::clock::pin_for_test("2026-09-21");
    let Some(w) = World::start(backend).await else {
        return;
    };
    let inspection = start(&w).await;
    let (entry, items) = three_departments();
    for task in ["TASK-2027-000201", "TASK-2027-000202"] {
        w.launch_with(task, entry.clone(), items.clone(), 0).await;
    }
    let mut lead = coordinator(&w, &inspection, SCJG);
    for task in ["TASK-2027-000201", "TASK-2027-000202"] {
        reaches(&lead, task, pb::Phase::Inviting).await;
    }
    // Listing by participant and phase: the joint meeting lists any department's; a department its own.
    let mut meeting = InspectionServiceClient::with_interceptor(
        channel(&inspection.addr).unwrap(),
        Bearer::new(Some(
            &w.isolated.token("610400-ZFB", &["planning.joint-meeting"]),
        )),
    );
    let own = lead
        .list_sagas(pb::ListSagasRequest {
            phases: vec![pb::Phase::Inviting as i32],
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .sagas;
    assert_eq!(own.len(), 2);
    let listed = meeting
        .list_sagas(pb::ListSagasRequest {
            department_code: WSJK.into(),
            phases: vec![pb::Phase::Inviting as i32],
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .sagas;
    assert_eq!(listed.len(), 2);
    let none = meeting
        .list_sagas(pb::ListSagasRequest {
            department_code: "610400-JTYS".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .sagas;
    assert!(none.is_empty(), "JTYS takes part in no task");

    // The deadline passes (the durable timers are made due): a reminder, then the coordinator is asked.
    let db = inspection.ctx.db.clone();
    let make_due = || async {
        sqlx::query("UPDATE saga_timers SET due_at = 0")
            .execute(db.pool())
            .await
            .unwrap();
    };
    make_due().await;
    for task in ["TASK-2027-000201", "TASK-2027-000202"] {
        let reminded = eventually(Duration::from_secs(15), || {
            let mut c = lead.clone();
            async move {
                saga(&mut c, task)
                    .await
                    .history
                    .iter()
                    .any(|h| h.kind == "invitation.reminded")
            }
        })
        .await;
        assert!(reminded, "reminded");
    }
    make_due().await;
    for task in ["TASK-2027-000201", "TASK-2027-000202"] {
        let escalated = eventually(Duration::from_secs(15), || {
            let mut c = lead.clone();
            async move { saga(&mut c, task).await.attention.is_some() }
        })
        .await;
        let s = saga(&mut lead, task).await;
        assert!(escalated, "escalated: {s:#?}");
        let attention = s.attention.unwrap();
        assert_eq!(attention.step, "invite");
        assert_eq!(
            attention.actions,
            vec!["extend", "proceed_without", "cancel"]
        );
        assert_eq!(
            s.waiting_on,
            vec![format!("the coordinator of {SCJG} (invite)")]
        );
    }
    let attention = lead
        .list_sagas(pb::ListSagasRequest {
            needs_attention: true,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .sagas;
    assert_eq!(attention.len(), 2);

    // Extending needs working days; it moves the deadline and clears the escalation.
    let zero = steer(&mut lead, &["TASK-2027-000201"], pb::Action::Extend, "", 0).await;
    assert!(!zero[0].ok && zero[0].error.starts_with("InvalidArgument"));
    let extended = steer(&mut lead, &["TASK-2027-000201"], pb::Action::Extend, "", 2).await;
    let after = extended[0].saga.clone().unwrap();
    assert!(
        after.attention.is_none() && after.deadlines.len() == 2,
        "{after:#?}"
    );
    assert!(
        after.deadlines.iter().all(|d| !d.provisional),
        "{:?}",
        after.deadlines
    );

    // One action, a result per saga: an unknown task fails alone.
    let results = steer(
        &mut lead,
        &["TASK-2027-000201", "TASK-NONE", "TASK-2027-000202"],
        pb::Action::ProceedWithout,
        "逾期未确认",
        0,
    )
    .await;
    let ok: Vec<bool> = results.iter().map(|r| r.ok).collect();
    assert_eq!(ok, vec![true, false, true], "{results:#?}");
    assert!(results[1].error.starts_with("NotFound"));
    let dropped = results[0].saga.clone().unwrap();
    assert!(
        dropped
            .participants
            .iter()
            .filter(|p| p.department_code != SCJG)
            .all(|p| p.state == pb::InvitationState::Dropped as i32)
    );
    let timers: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM saga_timers")
        .fetch_one(db.pool())
        .await
        .unwrap();
    assert_eq!(timers, 0, "closing the invitations voids their timers");

    // A participant may not steer: refused as a whole when it may steer none of the tasks. The lead cancels both
    // with a reason.
    let denied = coordinator(&w, &inspection, STHJ)
        .steer(pb::SteerRequest {
            task_ids: vec!["TASK-2027-000201".into()],
            action: pb::Action::Cancel as i32,
            reason: "x".into(),
            working_days: 0,
        })
        .await
        .unwrap_err();
    assert_eq!(denied.code(), Code::PermissionDenied, "{denied:?}");
    let cancelled = steer(
        &mut lead,
        &["TASK-2027-000201", "TASK-2027-000202"],
        pb::Action::Cancel,
        "计划调整",
        0,
    )
    .await;
    assert!(cancelled.iter().all(|r| r.ok));
    assert!(
        cancelled
            .iter()
            .all(|r| r.saga.as_ref().unwrap().phase == pb::Phase::Cancelled as i32)
    );
    inspection.stop().await;
    w.stop().await;
}

/// Open assignments in the directories: of every inspector, and of `department`'s.
async fn workloads(w: &World, department: &str) -> (i64, i64) {
    sqlx::query_as(
        "SELECT COALESCE(SUM(workload), 0), COALESCE(SUM(CASE WHEN department_code = $1 THEN workload ELSE 0 END), 0) \
         FROM inspectors",
    )
    .bind(department)
    .fetch_one(w.directories.ctx.db.pool())
    .await
    .unwrap()
}

async fn a_department_withdraws_after_the_teams(backend: Backend) {
    let Some(w) = World::start(backend).await else {
        return;
    };
    let inspection = start(&w).await;
    fill(&w).await;
    testkit::inspectors(
        &w,
        &[
            ("W01", WSJK, "卫生执法", false, "active", VALID, ""),
            ("W02", WSJK, "卫生执法", false, "active", VALID, ""),
            ("W03", WSJK, "卫生执法", false, "active", VALID, ""),
        ],
    )
    .await;
    let (entry, items) = three_departments();
    w.launch_with(TASK, entry, items, 0).await;
    let lead = coordinator(&w, &inspection, SCJG);
    let mut sthj = coordinator(&w, &inspection, STHJ);
    let mut wsjk = coordinator(&w, &inspection, WSJK);
    reaches(&lead, TASK, pb::Phase::Inviting).await;
    respond(&mut sthj, true, "").await.unwrap();
    respond(&mut wsjk, true, "").await.unwrap();
    let review = reaches(&lead, TASK, pb::Phase::ReviewingTargets).await;
    lead.clone()
        .approve_targets(pb::ApproveTargetsRequest {
            task_id: TASK.into(),
            expected_version: review.version,
        })
        .await
        .unwrap();
    let scheduling = reaches(&lead, TASK, pb::Phase::Scheduling).await;
    let seats = scheduling.teams as i64 * 6;
    let counted = eventually(Duration::from_secs(15), || async {
        workloads(&w, WSJK).await == (seats, scheduling.teams as i64 * 2)
    })
    .await;
    assert!(
        counted,
        "two seats per department per team: {:?}",
        workloads(&w, WSJK).await
    );

    let withdraw = |reason: &str| pb::WithdrawRequest {
        task_id: TASK.into(),
        reason: reason.into(),
    };
    let e = wsjk.withdraw(withdraw(" ")).await.unwrap_err();
    assert_eq!(violations_of(&e)[0].0, "reason");
    let e = lead.clone().withdraw(withdraw("x")).await.unwrap_err();
    assert_eq!(
        e.code(),
        Code::InvalidArgument,
        "the lead cancels instead: {e:?}"
    );
    let after = wsjk
        .withdraw(withdraw("突发公共卫生事件，人员抽调"))
        .await
        .unwrap()
        .into_inner()
        .saga
        .unwrap();
    let state = after
        .participants
        .iter()
        .find(|p| p.department_code == WSJK)
        .unwrap();
    assert_eq!(state.state, pb::InvitationState::Withdrawn as i32);
    let again = wsjk.withdraw(withdraw("again")).await.unwrap_err();
    assert_eq!(again.code(), Code::FailedPrecondition);

    // Its inspectors and items are off every visit, and the directories ended their assignments.
    let visits = lead
        .clone()
        .list_visits(pb::ListVisitsRequest {
            task_id: TASK.into(),
            page_size: 500,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .visits;
    assert_eq!(visits.len() as u64, scheduling.teams);
    for v in &visits {
        assert_eq!(v.team.len(), 4, "{v:?}");
        assert!(v.team.iter().all(|m| m.department_code != WSJK));
        assert!(v.checks.iter().all(|c| c.department_code != WSJK));
        assert!(v.team.iter().any(|m| m.leader && m.department_code == SCJG));
    }
    let released = eventually(Duration::from_secs(15), || async {
        workloads(&w, WSJK).await == (scheduling.teams as i64 * 4, 0)
    })
    .await;
    assert!(
        released,
        "WSJK's seats released once: {:?}",
        workloads(&w, WSJK).await
    );
    let mut c = lead.clone();
    let history = saga(&mut c, TASK).await.history;
    assert!(
        history
            .iter()
            .any(|h| h.kind == "department.withdrawn" && h.detail.contains("released")),
        "{history:#?}"
    );
    inspection.stop().await;
    w.stop().await;
}

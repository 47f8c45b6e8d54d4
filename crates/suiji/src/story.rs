//! The demo's story, for `suiji dev --demo --story` (`make run`): two joint tasks of the demo plan, taken through
//! the public APIs as the departments' people would, so that every page of the console has something real to show
//! a newcomer.
//!
//! - A first task (entry 01, 市场监管 with 生态环境) goes all the way: 生态环境 accepts, the drawn targets are
//!   approved, every visit is scheduled, the first held (a problem found, the target refusing to sign, every
//!   member confirming) and the others not found; the market regulator's results are entered, reviewed by another
//!   person and published. The environment bureau's results wait on its clerk (li.si): 录入结果.
//! - A second task (entry 02, 市场监管 with 应急管理) is launched, accepted by 应急管理 and drawn: its targets wait on
//!   the lead's coordinator (zhang.san): 审核抽取结果.
//!
//! Telling twice changes nothing: once the plan has a task of entry 02, the story has been told.

use std::time::Duration;

use anyhow::{Context as _, bail};
use suiji_api::inspection::v1 as insp;
use suiji_api::inspection::v1::inspection_service_client::InspectionServiceClient;
use suiji_api::planning::v1 as plan;
use suiji_api::publication::v1 as pubs;
use suiji_api::publication::v1::publication_service_client::PublicationServiceClient;
use suiji_platform::auth::{Identity, Tokens};
use suiji_platform::grpc::{Bearer, channel};
use tonic::codegen::InterceptedService;
use tonic::transport::Channel;

const SCJG: &str = "610400-SCJG";
const STHJ: &str = "610400-STHJ";
const YJGL: &str = "610400-YJGL";

/// The inspection service, called with a token.
pub type Inspection = InspectionServiceClient<InterceptedService<Channel, Bearer>>;
type Publication = PublicationServiceClient<InterceptedService<Channel, Bearer>>;

/// Where the services answer.
pub struct Addresses<'a> {
    pub planning: &'a str,
    pub inspection: &'a str,
    pub publication: &'a str,
}

/// A token of the inspector `inspector` of `department`, a team member confirming for themselves.
pub fn member_token(tokens: &Tokens, department: &str, inspector: &str) -> anyhow::Result<String> {
    issue(
        tokens,
        Identity {
            subject: format!("member:{inspector}"),
            department: department.into(),
            roles: vec![suiji_platform::auth::ROLE_MEMBER.into()],
            inspector: Some(inspector.into()),
        },
    )
}

fn token(
    tokens: &Tokens,
    subject: &str,
    department: &str,
    roles: &[&str],
) -> anyhow::Result<String> {
    issue(
        tokens,
        Identity {
            subject: subject.into(),
            department: department.into(),
            roles: roles.iter().map(|r| r.to_string()).collect(),
            inspector: None,
        },
    )
}

/// A token for `who`, valid for the story's half hour.
fn issue(tokens: &Tokens, who: Identity) -> anyhow::Result<String> {
    Ok(tokens.issue(&who, Duration::from_secs(1800))?)
}

/// The inspection service at `addr`, called as `token`.
pub fn inspection(addr: &str, token: &str) -> anyhow::Result<Inspection> {
    Ok(InspectionServiceClient::with_interceptor(
        channel(addr)?,
        Bearer::new(Some(token)),
    ))
}

/// Polls the saga of `task` until it is in `phase` (60 s at most).
async fn reach(c: &Inspection, task: &str, phase: insp::Phase) -> anyhow::Result<insp::Saga> {
    for _ in 0..600 {
        let saga = c
            .clone()
            .get_saga(insp::GetSagaRequest {
                task_id: task.into(),
            })
            .await
            .ok()
            .and_then(|r| r.into_inner().saga);
        if let Some(saga) = saga.filter(|s| s.phase == phase as i32) {
            return Ok(saga);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    bail!("the demo task {task} did not reach {phase:?} within 60 s")
}

/// Tells the story unless it has been told; a summary of what it left.
pub async fn tell(at: &Addresses<'_>, tokens: &Tokens) -> anyhow::Result<String> {
    let editor = token(tokens, "demo-editor", SCJG, &["planning.editor"])?;
    let mut planning = plan::planning_service_client::PlanningServiceClient::with_interceptor(
        channel(at.planning)?,
        Bearer::new(Some(&editor)),
    );
    let tasks = planning
        .list_tasks(plan::ListTasksRequest {
            department_code: SCJG.into(),
            page_size: 500,
            ..Default::default()
        })
        .await?
        .into_inner()
        .tasks;
    let plan_id = tasks
        .iter()
        .find_map(|t| t.content.as_ref().map(|c| c.plan_id.clone()))
        .context("the demo plan has no task: load the demo plan first")?;
    if tasks
        .iter()
        .any(|t| t.content.as_ref().is_some_and(|c| c.entry_key == "02"))
    {
        return Ok("the story was told before: tasks of entries 01 and 02 stand as left".into());
    }
    let mut launched = Vec::new();
    for entry in ["01", "02"] {
        let task = planning
            .create_task(plan::CreateTaskRequest {
                content: Some(plan::TaskContent {
                    plan_id: plan_id.clone(),
                    entry_key: entry.into(),
                    ..Default::default()
                }),
            })
            .await?
            .into_inner()
            .task
            .context("a created task")?;
        planning
            .launch_task(plan::LaunchTaskRequest {
                id: task.id.clone(),
                expected_revision: 0,
            })
            .await?;
        launched.push(task.id);
    }
    let (finished, waiting) = (launched[0].clone(), launched[1].clone());

    let lead = inspection(
        at.inspection,
        &token(tokens, "zhang.san", SCJG, &["inspection.coordinator"])?,
    )?;
    let sthj = inspection(
        at.inspection,
        &token(tokens, "li.si", STHJ, &["inspection.coordinator"])?,
    )?;
    let yjgl = inspection(
        at.inspection,
        &token(
            tokens,
            "demo-coordinator",
            YJGL,
            &["inspection.coordinator"],
        )?,
    )?;
    for (task, answering) in [(&finished, &sthj), (&waiting, &yjgl)] {
        reach(&lead, task, insp::Phase::Inviting).await?;
        answering
            .clone()
            .respond_to_invitation(insp::RespondToInvitationRequest {
                task_id: task.clone(),
                accept: true,
                reason: String::new(),
            })
            .await?;
    }
    let review = reach(&lead, &finished, insp::Phase::ReviewingTargets).await?;
    lead.clone()
        .approve_targets(insp::ApproveTargetsRequest {
            task_id: finished.clone(),
            expected_version: review.version,
        })
        .await?;
    reach(&lead, &finished, insp::Phase::Scheduling).await?;
    let visits = schedule_all(&lead, &finished).await?;
    let member = |department: &str, inspector: &str| {
        inspection(at.inspection, &member_token(tokens, department, inspector)?)
    };
    hold_the_visits(&lead, &sthj, &member, &visits).await?;
    let visits = visits.len();
    reach(&lead, &finished, insp::Phase::Results).await?;
    let published = publish_lead_results(at, tokens, &finished).await?;
    let drawn = reach(&lead, &waiting, insp::Phase::ReviewingTargets).await?;
    Ok(format!(
        "task {finished}: visits held {visits}, results of 610400-SCJG published {published}, 610400-STHJ's waiting \
         to be entered; task {waiting}: targets drawn {}, waiting on the lead's review",
        drawn.targets
    ))
}

/// Schedules every visit of `task` on the first working day of its assignment, on site, unannounced; the visits,
/// in id order.
pub async fn schedule_all(lead: &Inspection, task: &str) -> anyhow::Result<Vec<insp::Visit>> {
    let mut lead = lead.clone();
    let visits = lead
        .list_visits(insp::ListVisitsRequest {
            task_id: task.into(),
            page_size: 500,
            ..Default::default()
        })
        .await?
        .into_inner()
        .visits;
    let first = visits.first().context("the task has no visit")?;
    let day = suiji_platform::calendar::Calendar::shipped()
        .working_day_on_or_after(first.assigned_on.parse()?)?;
    for v in &visits {
        lead.schedule_visit(insp::ScheduleVisitRequest {
            id: v.id.clone(),
            date: day.to_string(),
            method: insp::VisitMethod::OnSite as i32,
            announced: false,
        })
        .await?;
    }
    Ok(visits)
}

/// Holds the first of `visits` — the market regulator (`lead`) finds a problem on each of its check points, the
/// environment bureau (`other`) none, the target refuses to sign, every member confirms as themselves (`member`
/// gives the client of a department's inspector) — and concludes it inspected; the others' targets are not found.
pub async fn hold_the_visits(
    lead: &Inspection,
    other: &Inspection,
    member: &dyn Fn(&str, &str) -> anyhow::Result<Inspection>,
    visits: &[insp::Visit],
) -> anyhow::Result<()> {
    let mut lead = lead.clone();
    let mut other = other.clone();
    let first = visits.first().context("no visit to hold")?;
    for (client, department) in [(&mut lead, SCJG), (&mut other, STHJ)] {
        let problem = department == SCJG;
        let findings = first
            .checks
            .iter()
            .filter(|c| c.department_code == department)
            .map(|c| insp::Finding {
                item_code: c.item_code.clone(),
                check_code: c.check_code.clone(),
                result: if problem {
                    insp::CheckResult::Problem
                } else {
                    insp::CheckResult::Compliant
                } as i32,
                note: if problem {
                    "未按规定公示年度报告".into()
                } else {
                    String::new()
                },
                department_code: String::new(),
            })
            .collect();
        client
            .record_findings(insp::RecordFindingsRequest {
                id: first.id.clone(),
                findings,
            })
            .await?;
    }
    lead.sign_record(insp::SignRecordRequest {
        id: first.id.clone(),
        signed_by: String::new(),
        refusal_note: "负责人拒绝签字，执法人员二人在场记录".into(),
    })
    .await?;
    // Each member confirms the record for themselves, signed in as themselves.
    for m in &first.team {
        member(&m.department_code, &m.inspector_id)?
            .confirm_record(insp::ConfirmRecordRequest {
                id: first.id.clone(),
                inspector_ids: Vec::new(),
            })
            .await?;
    }
    for (n, v) in visits.iter().enumerate() {
        lead.conclude_visit(insp::ConcludeVisitRequest {
            id: v.id.clone(),
            outcome: if n == 0 {
                insp::VisitOutcome::Inspected
            } else {
                insp::VisitOutcome::NotFound
            } as i32,
        })
        .await?;
    }
    Ok(())
}

/// The market regulator's results of `task`: entered by its clerk as the visit suggests, approved by its reviewer
/// (another person) and published. How many.
async fn publish_lead_results(
    at: &Addresses<'_>,
    tokens: &Tokens,
    task: &str,
) -> anyhow::Result<usize> {
    let client = |t: String| -> anyhow::Result<Publication> {
        Ok(PublicationServiceClient::with_interceptor(
            channel(at.publication)?,
            Bearer::new(Some(&t)),
        ))
    };
    let mut entry = client(token(tokens, "demo-clerk", SCJG, &["publication.entry"])?)?;
    let mut reviewer = client(token(tokens, "zhang.san", SCJG, &["publication.reviewer"])?)?;
    let mut results = Vec::new();
    for _ in 0..600 {
        results = entry
            .list_results(pubs::ListResultsRequest {
                department_code: SCJG.into(),
                task_id: task.into(),
                page_size: 1000,
                ..Default::default()
            })
            .await?
            .into_inner()
            .results;
        if !results.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    if results.is_empty() {
        bail!("no result of the demo task {task} to enter within 60 s");
    }
    for r in &results {
        let content = if r.problem_found {
            pubs::Content {
                // 未按规定公示应当公示的信息.
                codes: vec!["B".into()],
                disposal: pubs::Disposal::OrderedToCorrect as i32,
                note: "责令限期公示年度报告".into(),
                ..Default::default()
            }
        } else {
            let nothing = r.suggested_codes.iter().any(|c| c == "1");
            pubs::Content {
                codes: r.suggested_codes.clone(),
                disposal: if nothing {
                    pubs::Disposal::None
                } else {
                    pubs::Disposal::OrderedToCorrect
                } as i32,
                ..Default::default()
            }
        };
        entry
            .enter_result(pubs::EnterResultRequest {
                id: r.id.clone(),
                content: Some(content),
                expected_revision: 0,
            })
            .await?;
        reviewer
            .review_result(pubs::ReviewResultRequest {
                id: r.id.clone(),
                decision: pubs::ReviewDecision::Approve as i32,
                ..Default::default()
            })
            .await?;
    }
    let out = reviewer
        .publish_results(pubs::PublishResultsRequest {
            ids: results.iter().map(|r| r.id.clone()).collect(),
        })
        .await?
        .into_inner();
    Ok(out.outcomes.iter().filter(|o| o.published).count())
}

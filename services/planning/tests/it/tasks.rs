//! Tasks: created only from a published entry by its lead, launched once with everything the saga needs.

use std::time::Duration;

use prost::Message;
use suiji_api::planning::v1 as pb;
use suiji_platform::grpc::violations_of;
use suiji_platform::on_both_backends;
use suiji_platform::testing::{Backend, eventually};
use tonic::Code;

use crate::harness::{SCJG, STHJ, World, content, entry, published_plan, this_year};

async fn a_launch_emits_exactly_one_event_with_what_the_saga_needs(backend: Backend) {
    let Some(w) = World::start(backend).await else {
        return;
    };
    w.item("SCJG-1", SCJG, 500).await;
    w.item("STHJ-1", STHJ, 300).await;
    let year = this_year();
    let mut quantity_entry = entry("02", year);
    quantity_entry.ratio_basis_points = 0;
    quantity_entry.quantity = 100;
    let plan_id = published_plan(&w, content(year, vec![entry("01", year), quantity_entry])).await;
    let mut lead = w.editor(SCJG);
    lead.set_annual_cap(pb::SetAnnualCapRequest {
        year,
        max_per_target: 2,
    })
    .await
    .unwrap();
    w.editor(STHJ)
        .set_annual_cap(pb::SetAnnualCapRequest {
            year,
            max_per_target: 1,
        })
        .await
        .unwrap();

    let task_of = |entry_key: &str, quantity: u32| pb::TaskContent {
        plan_id: plan_id.clone(),
        entry_key: entry_key.into(),
        quantity,
        ..Default::default()
    };
    // Outside any published entry; by a department that does not lead the entry; more than the entry holds.
    let status = lead
        .create_task(pb::CreateTaskRequest {
            content: Some(task_of("99", 0)),
        })
        .await
        .unwrap_err();
    assert_eq!(
        (status.code(), violations_of(&status)[0].0.as_str()),
        (Code::InvalidArgument, "content.entry_key")
    );
    let status = w
        .editor(STHJ)
        .create_task(pb::CreateTaskRequest {
            content: Some(task_of("01", 0)),
        })
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::PermissionDenied);
    let status = lead
        .create_task(pb::CreateTaskRequest {
            content: Some(task_of("02", 101)),
        })
        .await
        .unwrap_err();
    assert_eq!(violations_of(&status)[0].0, "content.quantity");
    let first = lead
        .create_task(pb::CreateTaskRequest {
            content: Some(task_of("02", 60)),
        })
        .await
        .unwrap()
        .into_inner()
        .task
        .unwrap();
    let rest = lead
        .create_task(pb::CreateTaskRequest {
            content: Some(task_of("02", 0)),
        })
        .await
        .unwrap()
        .into_inner()
        .task
        .unwrap();
    assert_eq!(
        (
            first.content.unwrap().quantity,
            rest.content.unwrap().quantity
        ),
        (60, 40)
    );

    let task = lead
        .create_task(pb::CreateTaskRequest {
            content: Some(task_of("01", 0)),
        })
        .await
        .unwrap()
        .into_inner()
        .task
        .unwrap();
    assert_eq!(task.state(), pb::TaskState::Created);
    // Only the lead launches; once.
    let status = w
        .editor(STHJ)
        .launch_task(pb::LaunchTaskRequest {
            id: task.id.clone(),
            expected_revision: 0,
        })
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::PermissionDenied);
    let launched = lead
        .launch_task(pb::LaunchTaskRequest {
            id: task.id.clone(),
            expected_revision: task.revision,
        })
        .await
        .unwrap()
        .into_inner()
        .task
        .unwrap();
    assert_eq!(launched.state(), pb::TaskState::Launched);
    let status = lead
        .launch_task(pb::LaunchTaskRequest {
            id: task.id.clone(),
            expected_revision: 0,
        })
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::FailedPrecondition);

    assert!(
        eventually(Duration::from_secs(10), || async {
            !w.probe.of_type("planning.task.launched").is_empty()
        })
        .await,
        "the launch reached the bus"
    );
    // Give a duplicate time to show up before counting.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let launches = w.probe.of_type("planning.task.launched");
    assert_eq!(launches.len(), 1, "exactly one launch event");
    let envelope = &launches[0];
    assert_eq!(envelope.correlation_id, task.id);
    let event =
        pb::TaskLaunchedEvent::decode(envelope.payload.as_ref().unwrap().value.as_slice()).unwrap();
    let t = event.task.unwrap();
    assert_eq!(
        (
            t.id.as_str(),
            t.lead_department_code.as_str(),
            t.plan_version
        ),
        (task.id.as_str(), SCJG, 1)
    );
    let entry = t.entry.unwrap();
    assert_eq!(
        (entry.ratio_basis_points, entry.publish_drawn_list),
        (300, true)
    );
    assert_eq!(
        t.content.unwrap().scope.unwrap().region_codes,
        vec!["610400".to_string()]
    );
    let items: Vec<(&str, u32)> = event
        .items
        .iter()
        .map(|i| i.code.as_str())
        .zip(event.item_caps_basis_points.iter().copied())
        .collect();
    assert_eq!(items, vec![("SCJG-1", 500), ("STHJ-1", 300)]);
    assert!(event.items.iter().all(|i| {
        i.version
            .as_ref()
            .unwrap()
            .content
            .as_ref()
            .unwrap()
            .checklist
            .len()
            == 1
    }));
    let caps: Vec<(&str, u32)> = event
        .annual_caps
        .iter()
        .map(|c| (c.department_code.as_str(), c.max_per_target))
        .collect();
    assert_eq!(caps, vec![(SCJG, 2), (STHJ, 1)]);

    // Cancelling needs a reason; a launched task's cancellation is announced.
    let status = lead
        .cancel_task(pb::CancelTaskRequest {
            id: task.id.clone(),
            reason: " ".into(),
            expected_revision: 0,
        })
        .await
        .unwrap_err();
    assert_eq!(violations_of(&status)[0].0, "reason");
    let cancelled = lead
        .cancel_task(pb::CancelTaskRequest {
            id: task.id.clone(),
            reason: "上级部署专项整治，本批次取消".into(),
            expected_revision: 0,
        })
        .await
        .unwrap()
        .into_inner()
        .task
        .unwrap();
    assert_eq!(cancelled.state(), pb::TaskState::Cancelled);
    assert!(
        eventually(Duration::from_secs(10), || async {
            w.probe.of_type("planning.task.cancelled").len() == 1
        })
        .await
    );

    // Listing by participant finds every task STHJ takes part in.
    let listed = w
        .editor(STHJ)
        .list_tasks(pb::ListTasksRequest {
            department_code: STHJ.into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .tasks;
    assert_eq!(listed.len(), 3);
    let launched = lead
        .list_tasks(pb::ListTasksRequest {
            state: pb::TaskState::Created as i32,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .tasks;
    assert_eq!(launched.len(), 2);
    w.stop().await;
}

async fn tasks_need_a_published_plan(backend: Backend) {
    let Some(w) = World::start(backend).await else {
        return;
    };
    w.item("SCJG-1", SCJG, 500).await;
    w.item("STHJ-1", STHJ, 500).await;
    let year = this_year();
    let mut lead = w.editor(SCJG);
    let draft = lead
        .create_plan(pb::CreatePlanRequest {
            content: Some(content(year, vec![entry("01", year)])),
        })
        .await
        .unwrap()
        .into_inner()
        .plan
        .unwrap();
    let status = lead
        .create_task(pb::CreateTaskRequest {
            content: Some(pb::TaskContent {
                plan_id: draft.id,
                entry_key: "01".into(),
                ..Default::default()
            }),
        })
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::FailedPrecondition);
    assert_eq!(w.count("SELECT COUNT(*) FROM tasks").await, 0);
    assert_eq!(w.count("SELECT COUNT(*) FROM outbox").await, 0);
    w.stop().await;
}

on_both_backends!(
    a_launch_emits_exactly_one_event_with_what_the_saga_needs,
    tasks_need_a_published_plan
);

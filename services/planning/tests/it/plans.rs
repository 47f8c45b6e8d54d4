//! Plans: lifecycle with its refusals, public listing, amendments with both filings, coverage.

use suiji_api::planning::v1 as pb;
use suiji_platform::audit::{Verification, verify};
use suiji_platform::auth::ROLE_JOINT_MEETING;
use suiji_platform::grpc::violations_of;
use suiji_platform::on_both_backends;
use suiji_platform::testing::Backend;
use tonic::Code;

use crate::harness::{MEETING, SCJG, STHJ, World, YJGL, content, entry, published_plan, this_year};

async fn lifecycle_and_its_refusals(backend: Backend) {
    let Some(w) = World::start(backend).await else {
        return;
    };
    w.item("SCJG-1", SCJG, 500).await;
    w.item("STHJ-1", STHJ, 300).await;
    let year = this_year() + 1;
    let mut editor = w.editor(SCJG);

    // A ratio over an item's cap, and a department that does not exist, are named by field.
    let mut bad = entry("01", year);
    bad.ratio_basis_points = 400;
    bad.participants.push(pb::Participant {
        department_code: "610400-NOPE".into(),
        item_codes: vec!["X".into()],
    });
    let status = editor
        .create_plan(pb::CreatePlanRequest {
            content: Some(content(year, vec![bad])),
        })
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);
    let fields: Vec<String> = violations_of(&status).into_iter().map(|(f, _)| f).collect();
    assert!(
        fields.contains(&"content.entries[0].ratio_basis_points".to_string()),
        "{fields:?}"
    );
    assert!(
        fields.contains(&"content.entries[0].participants[2].department_code".to_string()),
        "{fields:?}"
    );
    assert_eq!(
        w.count("SELECT COUNT(*) FROM plans").await,
        0,
        "nothing half-written"
    );

    let plan = editor
        .create_plan(pb::CreatePlanRequest {
            content: Some(content(year, vec![entry("01", year)])),
        })
        .await
        .unwrap()
        .into_inner()
        .plan
        .unwrap();
    assert_eq!(plan.state(), pb::PlanState::Draft);
    assert!(plan.joint);
    let id = plan.id.clone();

    // Publishing a plan the joint meeting has not approved is refused.
    let status = editor
        .publish_plan(pb::PublishPlanRequest {
            id: id.clone(),
            expected_revision: 0,
        })
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::FailedPrecondition);

    // Another department may not edit it; a stale revision is refused.
    let status = w
        .editor(STHJ)
        .update_plan(pb::UpdatePlanRequest {
            id: id.clone(),
            content: Some(content(year, vec![entry("01", year)])),
            expected_revision: 0,
        })
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::PermissionDenied);
    let status = editor
        .submit_plan(pb::SubmitPlanRequest {
            id: id.clone(),
            expected_revision: plan.revision + 5,
        })
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::Aborted);

    let submitted = editor
        .submit_plan(pb::SubmitPlanRequest {
            id: id.clone(),
            expected_revision: plan.revision,
        })
        .await
        .unwrap()
        .into_inner()
        .plan
        .unwrap();
    assert_eq!(submitted.state(), pb::PlanState::Submitted);
    assert!(
        !submitted.late_submission || this_year() >= year,
        "submitted before the year it is for"
    );

    // The joint meeting role from the plan's own department may not approve it; a plain editor may not either.
    let own = w.client(Some(
        &w.isolated
            .token(SCJG, &["planning.joint-meeting", "planning.editor"]),
    ));
    for mut caller in [own, w.editor(YJGL)] {
        let status = caller
            .approve_plan(pb::ApprovePlanRequest {
                id: id.clone(),
                expected_revision: 0,
            })
            .await
            .unwrap_err();
        assert_eq!(status.code(), Code::PermissionDenied, "{status:?}");
    }
    // Returned with reasons, resubmitted, approved.
    let returned = w
        .meeting()
        .return_plan(pb::ReturnPlanRequest {
            id: id.clone(),
            reason: "请补充参与部门的抽查事项".into(),
            expected_revision: 0,
        })
        .await
        .unwrap()
        .into_inner()
        .plan
        .unwrap();
    assert_eq!(
        (returned.state(), returned.return_reason.as_str()),
        (pb::PlanState::Draft, "请补充参与部门的抽查事项")
    );
    editor
        .submit_plan(pb::SubmitPlanRequest {
            id: id.clone(),
            expected_revision: 0,
        })
        .await
        .unwrap();
    let approved = w
        .meeting()
        .approve_plan(pb::ApprovePlanRequest {
            id: id.clone(),
            expected_revision: 0,
        })
        .await
        .unwrap()
        .into_inner()
        .plan
        .unwrap();
    assert_eq!(
        approved.approved_by,
        format!("tester@{MEETING}/{ROLE_JOINT_MEETING}")
    );

    // Not public until published.
    let public = w
        .client(None)
        .list_public_plans(pb::ListPublicPlansRequest::default())
        .await
        .unwrap()
        .into_inner();
    assert!(public.plans.is_empty());
    let published = editor
        .publish_plan(pb::PublishPlanRequest {
            id: id.clone(),
            expected_revision: 0,
        })
        .await
        .unwrap()
        .into_inner()
        .plan
        .unwrap();
    assert_eq!(
        (published.state(), published.effective_version),
        (pb::PlanState::Published, 1)
    );
    let public = w
        .client(None)
        .list_public_plans(pb::ListPublicPlansRequest {
            year,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        public
            .plans
            .iter()
            .map(|p| p.id.as_str())
            .collect::<Vec<_>>(),
        vec![id.as_str()]
    );
    // A published plan is not edited any more.
    let status = editor
        .update_plan(pb::UpdatePlanRequest {
            id: id.clone(),
            content: Some(content(year, vec![entry("01", year)])),
            expected_revision: 0,
        })
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::FailedPrecondition);

    assert!(matches!(
        verify(&w.planning.ctx.db).await.unwrap(),
        Verification::Intact { entries: 6, .. }
    ));
    w.stop().await;
}

async fn amendments_come_into_force_only_when_filed_and_published(backend: Backend) {
    let Some(w) = World::start(backend).await else {
        return;
    };
    w.item("SCJG-1", SCJG, 500).await;
    w.item("STHJ-1", STHJ, 500).await;
    w.item("YJGL-1", YJGL, 500).await;
    let year = this_year();
    let id = published_plan(&w, content(year, vec![entry("01", year)])).await;
    let mut editor = w.editor(SCJG);

    let mut second = entry("02", year);
    second.task_name = "安全生产与市场监管联合抽查".into();
    second.participants[1] = pb::Participant {
        department_code: YJGL.into(),
        item_codes: vec!["YJGL-1".into()],
    };
    let amended = content(year, vec![entry("01", year), second]);
    let status = editor
        .propose_amendment(pb::ProposeAmendmentRequest {
            id: id.clone(),
            content: Some(amended.clone()),
            reason: String::new(),
            expected_revision: 0,
        })
        .await
        .unwrap_err();
    assert_eq!(violations_of(&status)[0].0, "reason");
    let proposed = editor
        .propose_amendment(pb::ProposeAmendmentRequest {
            id: id.clone(),
            content: Some(amended),
            reason: "临时增加安全生产联合抽查".into(),
            expected_revision: 0,
        })
        .await
        .unwrap()
        .into_inner()
        .plan
        .unwrap();
    assert_eq!(
        (proposed.latest_version, proposed.effective_version),
        (2, 1)
    );

    // Not in force before both filings; the owner cannot file it.
    let publish = |editor: &mut crate::harness::Client| {
        let mut editor = editor.clone();
        let id = id.clone();
        async move {
            editor
                .publish_amendment(pb::PublishAmendmentRequest {
                    id,
                    version: 2,
                    expected_revision: 0,
                })
                .await
        }
    };
    assert_eq!(
        publish(&mut editor).await.unwrap_err().code(),
        Code::FailedPrecondition
    );
    let status = editor
        .file_amendment(pb::FileAmendmentRequest {
            id: id.clone(),
            version: 2,
        })
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::PermissionDenied);
    w.meeting()
        .file_amendment(pb::FileAmendmentRequest {
            id: id.clone(),
            version: 2,
        })
        .await
        .unwrap();
    let status = publish(&mut editor).await.unwrap_err();
    assert!(status.message().contains("judicial"), "{status:?}");
    let filed = w
        .judicial()
        .file_amendment(pb::FileAmendmentRequest {
            id: id.clone(),
            version: 2,
        })
        .await
        .unwrap()
        .into_inner()
        .plan
        .unwrap();
    assert_eq!(
        filed.version.unwrap().amendment_state(),
        pb::AmendmentState::Filed
    );
    let in_force = publish(&mut editor)
        .await
        .unwrap()
        .into_inner()
        .plan
        .unwrap();
    assert_eq!(in_force.effective_version, 2);

    // Both versions stay readable; the public sees the amendment.
    let versions = editor
        .list_plan_versions(pb::ListPlanVersionsRequest { id: id.clone() })
        .await
        .unwrap()
        .into_inner()
        .versions;
    assert_eq!(
        versions
            .iter()
            .map(|v| v.content.as_ref().unwrap().entries.len())
            .collect::<Vec<_>>(),
        vec![1, 2]
    );
    let v1 = editor
        .get_plan(pb::GetPlanRequest {
            id: id.clone(),
            version: 1,
        })
        .await
        .unwrap()
        .into_inner()
        .plan
        .unwrap();
    assert_eq!(v1.version.unwrap().content.unwrap().entries.len(), 1);
    let public = w
        .client(None)
        .list_public_plans(pb::ListPublicPlansRequest::default())
        .await
        .unwrap()
        .into_inner();
    assert_eq!(public.plans[0].version.as_ref().unwrap().version, 2);
    w.stop().await;
}

async fn coverage_names_what_the_plans_leave_out(backend: Backend) {
    let Some(w) = World::start(backend).await else {
        return;
    };
    w.item("SCJG-1", SCJG, 500).await;
    w.item("STHJ-1", STHJ, 500).await;
    w.item("YJGL-1", YJGL, 500).await;
    let year = this_year();
    let id = published_plan(&w, content(year, vec![entry("01", year)])).await;
    let report = |department: &str| {
        let mut c = w.editor(SCJG);
        let department = department.to_string();
        async move {
            c.coverage_report(pb::CoverageReportRequest {
                year,
                department_code: department,
            })
            .await
            .unwrap()
            .into_inner()
        }
    };
    let all = report("").await;
    assert_eq!(all.published_plans, 1);
    assert_eq!(
        all.uncovered_items
            .iter()
            .map(|i| i.item_code.as_str())
            .collect::<Vec<_>>(),
        vec!["YJGL-1"]
    );
    assert!(all.idle_departments.contains(&YJGL.to_string()));
    assert!(
        !all.idle_departments.contains(&SCJG.to_string())
            && !all.idle_departments.contains(&STHJ.to_string())
    );
    assert!(all.cap_breaches.is_empty());

    // The catalog lowers STHJ-1's cap below the entry's 3%: the report shows the breach.
    w.item("STHJ-1", STHJ, 100).await;
    let all = report("").await;
    assert_eq!(all.cap_breaches.len(), 1, "{all:?}");
    let b = &all.cap_breaches[0];
    assert_eq!(
        (
            b.plan_id.as_str(),
            b.entry_key.as_str(),
            b.item_code.as_str(),
            b.ratio_basis_points,
            b.cap_basis_points
        ),
        (id.as_str(), "01", "STHJ-1", 300, 100)
    );
    let only = report(SCJG).await;
    assert!(
        only.uncovered_items.is_empty()
            && only.cap_breaches.is_empty()
            && only.idle_departments.is_empty(),
        "{only:?}"
    );
    w.stop().await;
}

on_both_backends!(
    lifecycle_and_its_refusals,
    amendments_come_into_force_only_when_filed_and_published,
    coverage_names_what_the_plans_leave_out
);

/// A service that lost its copy of the catalog (or joined after the items were published) catches up when an
/// admin announces the catalog again; nobody else may.
async fn a_late_copy_catches_up_when_the_catalog_is_announced(backend: Backend) {
    let Some(w) = World::start(backend).await else {
        return;
    };
    w.item("SCJG-1", SCJG, 500).await;
    sqlx::query("DELETE FROM catalog_items")
        .execute(w.planning.ctx.db.pool())
        .await
        .unwrap();
    let catalog = |roles: &[&str]| {
        suiji_api::catalog::v1::catalog_service_client::CatalogServiceClient::with_interceptor(
            suiji_platform::grpc::channel(&w.catalog.addr).unwrap(),
            suiji_platform::grpc::Bearer::new(Some(&w.isolated.token(SCJG, roles))),
        )
    };
    let status = catalog(&["catalog.editor", "catalog.publisher"])
        .announce_items(suiji_api::catalog::v1::AnnounceItemsRequest {})
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::PermissionDenied);
    let announced = catalog(&["admin"])
        .announce_items(suiji_api::catalog::v1::AnnounceItemsRequest {})
        .await
        .unwrap()
        .into_inner()
        .announced;
    assert_eq!(announced, 1);
    let back = suiji_platform::testing::eventually(std::time::Duration::from_secs(10), || async {
        w.count("SELECT COUNT(*) FROM catalog_items WHERE code = 'SCJG-1' AND state = 'published'")
            .await
            == 1
    })
    .await;
    assert!(back, "planning's copy has the item again");
    w.stop().await;
}

on_both_backends!(a_late_copy_catches_up_when_the_catalog_is_announced);

//! Bad input and callers without the right: a clear status naming the field, and nothing written.

use suiji_api::catalog::v1 as pb;
use suiji_platform::grpc::violations_of;
use suiji_platform::testing::Backend;
use tonic::Code;

use crate::harness::{Catalog, SCJG, STHJ, content};
use suiji_platform::on_both_backends;

fn fields(status: &tonic::Status) -> Vec<String> {
    violations_of(status).into_iter().map(|(f, _)| f).collect()
}

async fn bad_input_and_wrong_callers_write_nothing(backend: Backend) {
    let Some(catalog) = Catalog::start(backend).await else {
        return;
    };
    let mut c = catalog.as_dept(SCJG);
    let create = |code: &str, content: pb::ItemContent| pb::CreateItemRequest {
        code: code.into(),
        content: Some(content),
    };

    let status = c
        .create_item(create("", content(SCJG, "x")))
        .await
        .unwrap_err();
    assert_eq!(
        (status.code(), fields(&status)),
        (Code::InvalidArgument, vec!["code".to_string()])
    );

    let mut over = content(SCJG, "x");
    over.ratio_cap_basis_points = 300;
    let status = c.create_item(create("R-1", over)).await.unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);
    assert_eq!(fields(&status), vec!["content.ratio_cap_basis_points"]);
    assert!(
        status
            .message()
            .contains("exceeds the jurisdiction's cap of 200"),
        "{}",
        status.message()
    );

    let mut key = content(SCJG, "x");
    key.category = pb::ItemCategory::Key as i32;
    let status = c.create_item(create("R-2", key)).await.unwrap_err();
    assert_eq!(fields(&status), vec!["content.ratio_cap_basis_points"]);

    let status = c
        .create_item(create("R-3", content("999999-NOWHERE", "x")))
        .await
        .unwrap_err();
    assert_eq!(
        (status.code(), fields(&status)),
        (
            Code::InvalidArgument,
            vec!["content.department_code".to_string()]
        )
    );
    assert!(status.message().contains("unknown department"));

    let status = c
        .create_item(pb::CreateItemRequest {
            code: "R-4".into(),
            content: None,
        })
        .await
        .unwrap_err();
    assert_eq!(fields(&status), vec!["content"]);

    // A token of another department may not create or publish this department's items.
    let mut other = catalog.as_dept(STHJ);
    let status = other
        .create_item(create("R-5", content(SCJG, "x")))
        .await
        .unwrap_err();
    assert_eq!(
        (status.code(), fields(&status)),
        (
            Code::PermissionDenied,
            vec!["content.department_code".to_string()]
        )
    );

    // An editor without the publisher role may draft but not publish.
    let mut editor = catalog.client(Some(&catalog.isolated.token(SCJG, &["catalog.editor"])));
    let ok = editor
        .create_item(create("OK-1", content(SCJG, "合法事项")))
        .await
        .unwrap()
        .into_inner()
        .item
        .unwrap();
    let status = editor
        .publish_item(pb::PublishItemRequest {
            code: "OK-1".into(),
            expected_revision: 0,
        })
        .await
        .unwrap_err();
    assert_eq!(
        (status.code(), fields(&status)),
        (Code::PermissionDenied, vec!["authorization".to_string()])
    );
    let status = other
        .publish_item(pb::PublishItemRequest {
            code: "OK-1".into(),
            expected_revision: 0,
        })
        .await
        .unwrap_err();
    assert_eq!(
        (status.code(), fields(&status)),
        (Code::PermissionDenied, vec!["code".to_string()])
    );
    let status = other
        .update_item(pb::UpdateItemRequest {
            code: "OK-1".into(),
            content: Some(content(STHJ, "x")),
            expected_revision: 0,
        })
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::PermissionDenied);

    // Without a token, only the public listing answers; a forged token is refused.
    let status = catalog
        .client(None)
        .create_item(create("R-6", content(SCJG, "x")))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::Unauthenticated);
    let status = catalog
        .client(Some("not-a-jwt"))
        .list_items(pb::ListItemsRequest::default())
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::Unauthenticated);

    // Duplicates, stale revisions, unknown items.
    let status = c
        .create_item(create("OK-1", content(SCJG, "x")))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::AlreadyExists);
    let status = c
        .publish_item(pb::PublishItemRequest {
            code: "OK-1".into(),
            expected_revision: ok.revision + 5,
        })
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::Aborted);
    let status = c
        .get_item(pb::GetItemRequest {
            code: "NOPE".into(),
            version: 0,
        })
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::NotFound);
    let status = c
        .retire_item(pb::RetireItemRequest {
            code: "OK-1".into(),
            reason: "x".into(),
            expected_revision: 0,
        })
        .await
        .unwrap_err();
    assert_eq!(
        status.code(),
        Code::FailedPrecondition,
        "a draft is not retired"
    );

    // Nothing of the refused calls was written: one item, one version, one audit entry, no event.
    assert_eq!(catalog.count("SELECT COUNT(*) FROM items").await, 1);
    assert_eq!(catalog.count("SELECT COUNT(*) FROM item_versions").await, 1);
    assert_eq!(catalog.count("SELECT COUNT(*) FROM audit_log").await, 1);
    assert_eq!(catalog.count("SELECT COUNT(*) FROM outbox").await, 0);
    catalog.stop().await;
}

on_both_backends!(bad_input_and_wrong_callers_write_nothing);

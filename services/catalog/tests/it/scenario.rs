//! The catalog scenario: create → publish → new version → retire, with what the public sees at each step.

use std::time::Duration;

use suiji_api::catalog::v1 as pb;
use suiji_platform::audit::{Verification, verify};
use suiji_platform::testing::{Backend, eventually};

use crate::harness::{Catalog, SCJG, content};
use suiji_platform::on_both_backends;

async fn public_names(catalog: &Catalog) -> Vec<(String, u32, String)> {
    // The public listing needs no token.
    let page = catalog
        .client(None)
        .list_public_items(pb::ListPublicItemsRequest::default())
        .await
        .unwrap()
        .into_inner();
    page.items
        .into_iter()
        .map(|i| {
            let v = i.version.unwrap();
            (i.code, v.version, v.content.unwrap().name)
        })
        .collect()
}

async fn create_publish_new_version_retire(backend: Backend) {
    let Some(catalog) = Catalog::start(backend).await else {
        return;
    };
    let mut c = catalog.as_dept(SCJG);

    let created = c
        .create_item(pb::CreateItemRequest {
            code: "SX-001".into(),
            content: Some(content(SCJG, "企业公示信息检查")),
        })
        .await
        .unwrap()
        .into_inner()
        .item
        .unwrap();
    assert_eq!(created.state(), pb::ItemState::Draft);
    let v1 = created.version.clone().unwrap();
    assert_eq!(v1.version, 1);
    assert_eq!(
        v1.content.unwrap().ratio_cap_basis_points,
        200,
        "a general item takes Shaanxi's 2% cap"
    );
    assert!(
        public_names(&catalog).await.is_empty(),
        "a draft is not public"
    );

    let published = c
        .publish_item(pb::PublishItemRequest {
            code: "SX-001".into(),
            expected_revision: created.revision,
        })
        .await
        .unwrap()
        .into_inner()
        .item
        .unwrap();
    assert_eq!(
        (published.state(), published.published_version),
        (pb::ItemState::Published, 1)
    );
    assert_eq!(
        public_names(&catalog).await,
        vec![("SX-001".into(), 1, "企业公示信息检查".into())]
    );

    // Editing a published item opens version 2; version 1 stays in force until 2 is published.
    let edited = c
        .update_item(pb::UpdateItemRequest {
            code: "SX-001".into(),
            content: Some(content(SCJG, "企业公示信息检查（2027版）")),
            expected_revision: published.revision,
        })
        .await
        .unwrap()
        .into_inner()
        .item
        .unwrap();
    assert_eq!(
        (
            edited.state(),
            edited.published_version,
            edited.version.as_ref().unwrap().version
        ),
        (pb::ItemState::Published, 1, 2)
    );
    assert_eq!(
        public_names(&catalog).await,
        vec![("SX-001".into(), 1, "企业公示信息检查".into())]
    );

    let republished = c
        .publish_item(pb::PublishItemRequest {
            code: "SX-001".into(),
            expected_revision: 0,
        })
        .await
        .unwrap()
        .into_inner()
        .item
        .unwrap();
    assert_eq!(republished.published_version, 2);
    assert_eq!(
        public_names(&catalog).await,
        vec![("SX-001".into(), 2, "企业公示信息检查（2027版）".into())]
    );

    let retired = c
        .retire_item(pb::RetireItemRequest {
            code: "SX-001".into(),
            reason: "上位法修订".into(),
            expected_revision: 0,
        })
        .await
        .unwrap()
        .into_inner()
        .item
        .unwrap();
    assert_eq!(
        (retired.state(), retired.retire_reason.as_str()),
        (pb::ItemState::Retired, "上位法修订")
    );
    assert!(
        public_names(&catalog).await.is_empty(),
        "a retired item leaves the public catalog"
    );

    // Every version stays readable, with its state.
    let versions = c
        .list_item_versions(pb::ListItemVersionsRequest {
            code: "SX-001".into(),
        })
        .await
        .unwrap()
        .into_inner()
        .versions;
    let states: Vec<_> = versions.iter().map(|v| (v.version, v.state())).collect();
    assert_eq!(
        states,
        vec![
            (1, pb::VersionState::Superseded),
            (2, pb::VersionState::Retired)
        ]
    );
    let old = c
        .get_item(pb::GetItemRequest {
            code: "SX-001".into(),
            version: 1,
        })
        .await
        .unwrap()
        .into_inner()
        .item
        .unwrap();
    assert_eq!(
        old.version.unwrap().content.unwrap().name,
        "企业公示信息检查"
    );
    let latest = c
        .get_item(pb::GetItemRequest {
            code: "SX-001".into(),
            version: 0,
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        latest.item.unwrap().version.unwrap().version,
        2,
        "version 0 means the latest"
    );
    let missing = c
        .get_item(pb::GetItemRequest {
            code: "SX-001".into(),
            version: 9,
        })
        .await
        .unwrap_err();
    assert_eq!(missing.code(), tonic::Code::NotFound);

    // A retired item is never edited or published again.
    let again = c
        .update_item(pb::UpdateItemRequest {
            code: "SX-001".into(),
            content: Some(content(SCJG, "x")),
            expected_revision: 0,
        })
        .await
        .unwrap_err();
    assert_eq!(again.code(), tonic::Code::FailedPrecondition);
    let again = c
        .publish_item(pb::PublishItemRequest {
            code: "SX-001".into(),
            expected_revision: 0,
        })
        .await
        .unwrap_err();
    assert_eq!(again.code(), tonic::Code::FailedPrecondition);

    // Events: published v1, published v2, retired — each once, in order, through the outbox.
    let delivered = eventually(Duration::from_secs(15), || async {
        catalog.events().len() >= 3
    })
    .await;
    assert!(
        delivered,
        "events seen: {:?}",
        catalog
            .events()
            .iter()
            .map(|e| e.r#type.clone())
            .collect::<Vec<_>>()
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    let events = catalog.events();
    let seen: Vec<(String, u32)> = events
        .iter()
        .map(|e| {
            let item = match e.r#type.as_str() {
                "catalog.item.published" => {
                    e.payload
                        .as_ref()
                        .unwrap()
                        .to_msg::<pb::ItemPublishedEvent>()
                        .unwrap()
                        .item
                }
                "catalog.item.retired" => {
                    e.payload
                        .as_ref()
                        .unwrap()
                        .to_msg::<pb::ItemRetiredEvent>()
                        .unwrap()
                        .item
                }
                other => panic!("unexpected event {other}"),
            };
            (e.r#type.clone(), item.unwrap().version.unwrap().version)
        })
        .collect();
    assert_eq!(
        seen,
        vec![
            ("catalog.item.published".into(), 1),
            ("catalog.item.published".into(), 2),
            ("catalog.item.retired".into(), 2)
        ]
    );
    assert!(
        events
            .iter()
            .all(|e| e.source == "catalog" && e.correlation_id == "SX-001" && !e.id.is_empty())
    );

    // Every change is in the audit trail, and the chain holds.
    match verify(&catalog.running.ctx.db).await.unwrap() {
        Verification::Intact { entries, .. } => {
            assert_eq!(entries, 5, "create, publish, update, publish, retire")
        }
        broken => panic!("{broken:?}"),
    }
    catalog.stop().await;
}

on_both_backends!(create_publish_new_version_retire);

async fn listing_pages_through_every_item(backend: Backend) {
    let Some(catalog) = Catalog::start(backend).await else {
        return;
    };
    let mut c = catalog.as_dept(SCJG);
    for i in 0..7 {
        c.create_item(pb::CreateItemRequest {
            code: format!("P-{i:02}"),
            content: Some(content(SCJG, "分页")),
        })
        .await
        .unwrap();
    }
    let mut codes = Vec::new();
    let mut token = String::new();
    loop {
        let page = c
            .list_items(pb::ListItemsRequest {
                page_size: 3,
                page_token: token.clone(),
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner();
        assert!(page.items.len() <= 3);
        codes.extend(page.items.into_iter().map(|i| i.code));
        if page.next_page_token.is_empty() {
            break;
        }
        token = page.next_page_token;
    }
    assert_eq!(
        codes,
        (0..7).map(|i| format!("P-{i:02}")).collect::<Vec<_>>()
    );
    let filtered = c
        .list_items(pb::ListItemsRequest {
            department_code: "610400-STHJ".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert!(filtered.items.is_empty());
    catalog.stop().await;
}

on_both_backends!(listing_pages_through_every_item);

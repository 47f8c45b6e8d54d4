//! What the catalog hears: departments from the directories service; and its audit trail under tampering.

use std::collections::HashMap;
use std::time::Duration;

use prost::Message;
use suiji_api::admin::v1 as audit;
use suiji_api::admin::v1::audit_service_client::AuditServiceClient;
use suiji_api::catalog::v1 as pb;
use suiji_api::directories::v1 as dir;
use suiji_api::events::v1::Envelope;
use suiji_platform::audit::{Verification, verify};
use suiji_platform::bus::OutgoingMessage;
use suiji_platform::grpc::{Bearer, channel};
use suiji_platform::messages::Lang;
use suiji_platform::testing::{Backend, eventually};
use tonic::codegen::InterceptedService;
use tonic::transport::Channel;

use crate::harness::{Catalog, content};
use suiji_platform::on_both_backends;

async fn departments_arrive_by_event(backend: Backend) {
    let Some(catalog) = Catalog::start(backend).await else {
        return;
    };
    let newcomer = "610400-SWJ";
    let mut c = catalog.as_dept(newcomer);
    let status = c
        .create_item(pb::CreateItemRequest {
            code: "SW-1".into(),
            content: Some(content(newcomer, "x")),
        })
        .await
        .unwrap_err();
    assert_eq!(
        status.code(),
        tonic::Code::InvalidArgument,
        "unknown before the event"
    );

    let event = dir::DepartmentUpsertedEvent {
        department: Some(dir::Department {
            code: newcomer.into(),
            name: "咸阳市商务局".into(),
            level: dir::DepartmentLevel::City as i32,
            region_code: "610400".into(),
            active: true,
        }),
    };
    let envelope = Envelope {
        id: uuid::Uuid::now_v7().to_string(),
        r#type: "directories.department.upserted".into(),
        source: "directories".into(),
        correlation_id: newcomer.into(),
        payload: Some(prost_types::Any::from_msg(&event).unwrap()),
        ..Default::default()
    };
    let message = OutgoingMessage {
        id: envelope.id.clone(),
        routing_key: envelope.r#type.clone(),
        body: envelope.encode_to_vec(),
        headers: HashMap::new(),
    };
    // Delivered twice: the inbox applies it once.
    catalog.bus.publish(&message).await.unwrap();
    catalog.bus.publish(&message).await.unwrap();
    let accepted = eventually(Duration::from_secs(10), || {
        let mut c = c.clone();
        async move {
            c.create_item(pb::CreateItemRequest {
                code: "SW-1".into(),
                content: Some(content(newcomer, "商务领域检查")),
            })
            .await
            .is_ok()
        }
    })
    .await;
    assert!(accepted, "the department arrived through the bus");
    assert!(
        eventually(Duration::from_secs(5), || async {
            catalog.count("SELECT COUNT(*) FROM inbox").await == 1
        })
        .await
    );
    catalog.stop().await;
}

on_both_backends!(departments_arrive_by_event);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tampering_with_the_audit_trail_is_found() {
    let Some(catalog) = Catalog::start(Backend::Embedded).await else {
        return;
    };
    let mut c = catalog.as_dept(crate::harness::SCJG);
    for code in ["A-1", "A-2", "A-3"] {
        c.create_item(pb::CreateItemRequest {
            code: code.into(),
            content: Some(content(crate::harness::SCJG, "x")),
        })
        .await
        .unwrap();
    }
    let db = &catalog.running.ctx.db;
    assert!(matches!(
        verify(db).await.unwrap(),
        Verification::Intact { entries: 3, .. }
    ));
    // The table refuses changes; someone with file access drops the guard and edits entry 2.
    let refused = sqlx::query("UPDATE audit_log SET detail = 'forged' WHERE seq = 2")
        .execute(db.pool())
        .await;
    assert!(refused.is_err(), "the audit log is append-only");
    sqlx::query("DROP TRIGGER audit_log_no_update")
        .execute(db.pool())
        .await
        .unwrap();
    sqlx::query("UPDATE audit_log SET detail = 'forged' WHERE seq = 2")
        .execute(db.pool())
        .await
        .unwrap();
    assert_eq!(
        verify(db).await.unwrap(),
        Verification::Broken {
            seq: 2,
            reason: suiji_platform::messages::msg("audit-content")
        }
    );
    // An auditor sees the same over the API, in the language asked for.
    let token = catalog.isolated.token("610400-JJJC", &["audit.reader"]);
    let mut auditor = audit_client(&catalog, Some(&token), Lang::ZhCn);
    let found = auditor
        .verify_chain(audit::VerifyChainRequest {})
        .await
        .unwrap()
        .into_inner();
    assert!(!found.intact);
    assert_eq!((found.broken_seq, found.entries), (2, 1));
    assert_eq!(found.reason_text.unwrap().code, "audit-content");
    assert_eq!(found.reason, "内容与其哈希值不符");
    catalog.stop().await;
}

fn audit_client(
    catalog: &Catalog,
    token: Option<&str>,
    lang: Lang,
) -> AuditServiceClient<InterceptedService<Channel, Bearer>> {
    AuditServiceClient::with_interceptor(
        channel(&catalog.running.addr).unwrap(),
        Bearer::new(token).reading(lang),
    )
}

/// Auditors read every department's entries, newest first, page by page and filtered; nobody else reads them.
async fn auditors_read_the_trail_and_nobody_else(backend: Backend) {
    let Some(catalog) = Catalog::start(backend).await else {
        return;
    };
    let sthj = crate::harness::STHJ;
    let scjg = crate::harness::SCJG;
    for code in ["A-1", "A-2", "A-3"] {
        catalog
            .as_dept(scjg)
            .create_item(pb::CreateItemRequest {
                code: code.into(),
                content: Some(content(scjg, "x")),
            })
            .await
            .unwrap();
    }
    catalog
        .as_dept(sthj)
        .create_item(pb::CreateItemRequest {
            code: "B-1".into(),
            content: Some(content(sthj, "y")),
        })
        .await
        .unwrap();
    // An editor of either department, and a caller without a token, are refused both calls.
    let editor = catalog.isolated.token(scjg, crate::harness::ALL_ROLES);
    for (token, code) in [
        (Some(editor.as_str()), tonic::Code::PermissionDenied),
        (None, tonic::Code::Unauthenticated),
    ] {
        let mut c = audit_client(&catalog, token, Lang::En);
        let refused = c
            .list_entries(audit::ListEntriesRequest::default())
            .await
            .unwrap_err();
        assert_eq!(refused.code(), code);
        let refused = c
            .verify_chain(audit::VerifyChainRequest {})
            .await
            .unwrap_err();
        assert_eq!(refused.code(), code);
    }
    let token = catalog.isolated.token("610400-JJJC", &["audit.reader"]);
    let mut auditor = audit_client(&catalog, Some(&token), Lang::En);
    let found = auditor
        .verify_chain(audit::VerifyChainRequest {})
        .await
        .unwrap()
        .into_inner();
    assert!(found.intact, "{found:?}");
    assert_eq!(found.entries, 4);
    // Newest first, two a page, down to the first entry.
    let mut seen = Vec::new();
    let mut token = String::new();
    loop {
        let page = auditor
            .list_entries(audit::ListEntriesRequest {
                page_size: 2,
                page_token: token.clone(),
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(page.total, 4);
        seen.extend(page.entries.iter().map(|e| (e.seq, e.entity_id.clone())));
        token = page.next_page_token;
        if token.is_empty() {
            break;
        }
    }
    assert_eq!(
        seen,
        [(4, "B-1"), (3, "A-3"), (2, "A-2"), (1, "A-1")].map(|(s, id)| (s, id.to_string()))
    );
    let list = |request: audit::ListEntriesRequest| {
        let mut auditor = auditor.clone();
        async move {
            auditor.list_entries(request).await.map(|r| {
                r.into_inner()
                    .entries
                    .into_iter()
                    .map(|e| e.seq)
                    .collect::<Vec<_>>()
            })
        }
    };
    // Each filter narrows to what it names.
    let by_department = list(audit::ListEntriesRequest {
        department: sthj.into(),
        ..Default::default()
    });
    assert_eq!(by_department.await.unwrap(), [4]);
    let first = auditor
        .clone()
        .list_entries(audit::ListEntriesRequest {
            entity_id: "A-2".into(),
            entity: "item".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(first.entries.len(), 1);
    let entry = &first.entries[0];
    assert_eq!((entry.seq, entry.department.as_str()), (2, scjg));
    let action = entry.action.clone();
    let family = format!("{}.", action.split('.').next().unwrap());
    let by_action = list(audit::ListEntriesRequest {
        action: action.clone(),
        ..Default::default()
    });
    assert_eq!(by_action.await.unwrap(), [4, 3, 2, 1]);
    let by_family = list(audit::ListEntriesRequest {
        action: family,
        ..Default::default()
    });
    assert_eq!(by_family.await.unwrap(), [4, 3, 2, 1]);
    let none = list(audit::ListEntriesRequest {
        action: format!("{action}_"),
        ..Default::default()
    });
    assert_eq!(none.await.unwrap(), Vec::<i64>::new());
    let wildcard = list(audit::ListEntriesRequest {
        action: "%.".into(),
        ..Default::default()
    });
    assert_eq!(
        wildcard.await.unwrap(),
        Vec::<i64>::new(),
        "LIKE's wildcards are escaped"
    );
    let later = list(audit::ListEntriesRequest {
        since: Some(prost_types::Timestamp {
            seconds: i64::from(u32::MAX),
            nanos: 0,
        }),
        ..Default::default()
    });
    assert_eq!(later.await.unwrap(), Vec::<i64>::new());
    // An id without its kind is named as the field at fault.
    let refused = list(audit::ListEntriesRequest {
        entity_id: "A-2".into(),
        ..Default::default()
    })
    .await
    .unwrap_err();
    assert_eq!(refused.code(), tonic::Code::InvalidArgument);
    assert_eq!(suiji_platform::grpc::violations_of(&refused)[0].0, "entity");
    catalog.stop().await;
}

on_both_backends!(auditors_read_the_trail_and_nobody_else);

/// A caller's W3C trace context travels from gRPC metadata into the envelope of the event the call caused.
async fn trace_context_reaches_the_event(backend: Backend) {
    let Some(catalog) = Catalog::start(backend).await else {
        return;
    };
    let mut c = catalog.as_dept(crate::harness::SCJG);
    c.create_item(pb::CreateItemRequest {
        code: "T-1".into(),
        content: Some(content(crate::harness::SCJG, "x")),
    })
    .await
    .unwrap();
    let trace_id = "4bf92f3577b34da6a3ce929d0e0e4736";
    let mut request = tonic::Request::new(pb::PublishItemRequest {
        code: "T-1".into(),
        expected_revision: 0,
    });
    request.metadata_mut().insert(
        "traceparent",
        format!("00-{trace_id}-00f067aa0ba902b7-01")
            .parse()
            .unwrap(),
    );
    c.publish_item(request).await.unwrap();
    assert!(
        eventually(Duration::from_secs(10), || async {
            !catalog.events().is_empty()
        })
        .await
    );
    let event = catalog.events().remove(0);
    assert!(
        event.traceparent.starts_with(&format!("00-{trace_id}-")),
        "the event continues the caller's trace: {:?}",
        event.traceparent
    );
    catalog.stop().await;
}

on_both_backends!(trace_context_reaches_the_event);

//! What the catalog hears: departments from the directories service; and its audit trail under tampering.

use std::collections::HashMap;
use std::time::Duration;

use prost::Message;
use suiji_api::catalog::v1 as pb;
use suiji_api::directories::v1 as dir;
use suiji_api::events::v1::Envelope;
use suiji_platform::audit::{Verification, verify};
use suiji_platform::bus::OutgoingMessage;
use suiji_platform::testing::{Backend, eventually};

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
            reason: "content does not match its hash".into()
        }
    );
    catalog.stop().await;
}

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

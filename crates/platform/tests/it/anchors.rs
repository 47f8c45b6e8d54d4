//! Tamper evidence: a service's audit chain rewritten in its own database, every hash after the change computed
//! again and the head moved with them, passes the check of the chain alone; against the heads another service
//! kept, it names the first entry rewritten.

use suiji_api::events::v1::Envelope;
use suiji_platform::anchors::{self, Keeper};
use suiji_platform::audit::{self, AuditEvent, Verification};
use suiji_platform::auth::Identity;
use suiji_platform::db::Db;
use suiji_platform::inbox::TxHandler;
use suiji_platform::testing::{self, Backend};

use crate::common::database;

async fn change(db: &Db, n: usize) {
    let who = Identity {
        subject: "clerk".into(),
        department: "610400-SCJG".into(),
        roles: vec![],
        inspector: None,
    };
    for i in 0..n {
        let mut tx = db.begin().await.unwrap();
        let id = format!("ITEM-{i}");
        audit::append(
            &mut tx,
            &who,
            AuditEvent {
                action: "item.publish",
                entity: "item",
                entity_id: &id,
                before_digest: String::new(),
                after_digest: "d".repeat(64),
                detail: format!("version {i}"),
            },
        )
        .await
        .unwrap();
        tx.commit().await.unwrap();
    }
}

/// Announces `a`'s head and hands what the outbox holds to `b`'s keeper, as the bus would.
async fn anchor(a: &Db, b: &Db) {
    anchors::announce(a, "a").await.unwrap().expect("a head");
    let (id, body): (String, Vec<u8>) =
        sqlx::query_as("SELECT id, body FROM outbox ORDER BY seq DESC LIMIT 1")
            .fetch_one(a.pool())
            .await
            .unwrap();
    let envelope: Envelope = prost::Message::decode(&body[..]).unwrap();
    assert_eq!(envelope.id, id);
    for (keeper, db) in [(Keeper { service: "b" }, b), (Keeper { service: "a" }, a)] {
        let mut tx = db.begin().await.unwrap();
        keeper.handle(&mut tx, &envelope).await.unwrap();
        tx.commit().await.unwrap();
    }
}

async fn a_chain_rewritten_in_its_own_database_is_found_by_the_heads_others_keep(backend: Backend) {
    if !testing::require(backend).await {
        return;
    }
    let isolated = testing::isolated(backend).await;
    let (a, b) = (
        database(&isolated, "a").await,
        database(&isolated, "b").await,
    );
    change(&a, 2).await;
    anchor(&a, &b).await;
    change(&a, 3).await;
    anchor(&a, &b).await;
    change(&a, 2).await;
    anchor(&a, &b).await;
    let kept = anchors::anchors_of(&b, "a").await.unwrap();
    assert_eq!(kept.iter().map(|k| k.seq).collect::<Vec<_>>(), [2, 5, 7]);
    assert!(
        anchors::anchors_of(&a, "a").await.unwrap().is_empty(),
        "a service's own head is no anchor"
    );
    assert!(matches!(
        anchors::verify_against(&a, &kept).await.unwrap(),
        Verification::Intact { entries: 7, .. }
    ));

    // Whoever owns the database drops the guard against changes, rewrites entry 3, computes every hash from it on
    // again and moves the head with them.
    let drops: &[&str] = match backend {
        Backend::Embedded => &[
            "DROP TRIGGER audit_log_no_update",
            "DROP TRIGGER audit_log_no_delete",
        ],
        _ => &["DROP TRIGGER audit_log_no_update ON audit_log"],
    };
    for drop in drops {
        sqlx::query(sqlx::AssertSqlSafe(*drop))
            .execute(a.pool())
            .await
            .unwrap();
    }
    let mut entries = audit::list(&a, &Default::default(), 0, 100)
        .await
        .unwrap()
        .entries;
    entries.sort_by_key(|e| e.seq);
    let mut prev = entries[1].hash.clone();
    for e in entries.iter_mut().skip(2) {
        if e.seq == 3 {
            e.detail = "version 2 (rewritten)".into();
        }
        e.prev_hash = prev.clone();
        e.hash = e.compute_hash();
        prev = e.hash.clone();
        sqlx::query("UPDATE audit_log SET detail = $1, prev_hash = $2, hash = $3 WHERE seq = $4")
            .bind(&e.detail)
            .bind(&e.prev_hash)
            .bind(&e.hash)
            .bind(e.seq)
            .execute(a.pool())
            .await
            .unwrap();
    }
    sqlx::query("UPDATE audit_head SET hash = $1 WHERE id = 1")
        .bind(&prev)
        .execute(a.pool())
        .await
        .unwrap();
    assert!(
        matches!(
            audit::verify(&a).await.unwrap(),
            Verification::Intact { .. }
        ),
        "the chain alone does not tell"
    );
    match anchors::verify_against(&a, &kept).await.unwrap() {
        Verification::Broken { seq, reason } => {
            assert_eq!(seq, 3, "the first entry rewritten: {}", reason.text());
            assert_eq!(reason.code(), "audit-anchor");
        }
        other => panic!("not found: {other:?}"),
    }
    // Entries removed from the end, head moved back: the kept heads beyond the end tell.
    sqlx::query("DELETE FROM audit_log WHERE seq > 1")
        .execute(a.pool())
        .await
        .unwrap();
    sqlx::query("UPDATE audit_head SET seq = 1, hash = (SELECT hash FROM audit_log WHERE seq = 1) WHERE id = 1")
        .execute(a.pool())
        .await
        .unwrap();
    assert!(matches!(
        anchors::verify_against(&a, &kept).await.unwrap(),
        Verification::Broken { seq: 2, .. }
    ));
    a.close().await;
    b.close().await;
    isolated.cleanup().await;
}

suiji_platform::on_both_backends!(
    a_chain_rewritten_in_its_own_database_is_found_by_the_heads_others_keep
);

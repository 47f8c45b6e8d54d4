//! Every row an import replaces is recorded with who had written it and the digests before and after, the
//! import's audit entry commits to both lists, and `changes::verify` finds a row or a list rewritten in the
//! database behind the service's back; on both backends.

use suiji_api::directories::v1::directories_service_client::DirectoriesServiceClient;
use suiji_api::events::v1::Envelope;
use suiji_api::topics::{CreditRecorded, Topic};
use suiji_directories::changes::{self, Finding};
use suiji_directories::consumers::History;
use suiji_directories::store;
use suiji_platform::db::Db;
use suiji_platform::grpc::{Bearer, channel};
use suiji_platform::inbox::{Delivery, TxHandler};
use suiji_platform::testing::{self, Backend};

use crate::api::import;

/// `(writer, before digest, after digest)` of each import's audit entry, in order.
async fn import_entries(db: &Db) -> Vec<(String, String, String)> {
    sqlx::query_as(
        "SELECT entity_id, before_digest, after_digest FROM audit_log WHERE action = 'targets.import' ORDER BY seq",
    )
    .fetch_all(db.pool())
    .await
    .unwrap()
}

/// `(id, writer, digest)` of every target, by id, its digest as it reads now.
async fn rows(db: &Db) -> Vec<(String, String, Vec<u8>)> {
    use sqlx::Row;
    sqlx::query("SELECT * FROM targets ORDER BY id")
        .fetch_all(db.pool())
        .await
        .unwrap()
        .iter()
        .map(|r| {
            (
                r.get("id"),
                r.get("import_id"),
                store::stored_digest(&store::TARGETS, r).unwrap().to_vec(),
            )
        })
        .collect()
}

/// `(id, before_import, before_digest, after_digest)` of what `writer` replaced, by id.
async fn replaced(db: &Db, writer: &str) -> Vec<(String, String, Vec<u8>, Vec<u8>)> {
    sqlx::query_as(
        "SELECT id, before_import, before_digest, after_digest FROM import_changes WHERE import_id = $1 ORDER BY id",
    )
    .bind(writer)
    .fetch_all(db.pool())
    .await
    .unwrap()
}

const A: &str = "91350100M000100Y43";
const B: &str = "91110000802100433B";
const C: &str = "914403001922038216";
const D: &str = "9144030071526726XG";

async fn imports_record_what_they_replace(backend: Backend) {
    let Some((isolated, bus)) = testing::open(backend).await else {
        return;
    };
    let running = testing::start(
        &isolated,
        bus,
        suiji_directories::NAME,
        &suiji_directories::migrations(),
        |ctx| async move { suiji_directories::start(&ctx).await },
    )
    .await;
    let mut editor = DirectoriesServiceClient::with_interceptor(
        channel(&running.addr).unwrap(),
        Bearer::new(Some(
            &isolated.token("610400-SCJG", &["directories.editor"]),
        )),
    );
    let db = Db::connect(&isolated.settings.database, suiji_directories::NAME)
        .await
        .unwrap();

    let first = format!(
        "kind,credit_code,name,region_code,risk_level,departments\n\
         enterprise,{A},秦都食品有限公司,610402,high,610400-SCJG\n\
         enterprise,{B},渭城商贸有限公司,610404,low,610400-STHJ\n\
         individual_business,{C},广元小店,510802,medium,\n"
    );
    let (summary, _) = import(&mut editor, &first).await;
    assert_eq!((summary.accepted, summary.created), (3, 3));
    let entries = import_entries(&db).await;
    let (first_import, before, after) = entries[0].clone();
    // A first import replaced nothing and wrote three rows.
    assert_eq!(before, changes::ListDigest::default().finish());
    let written = rows(&db).await;
    let mut list = changes::ListDigest::default();
    for (id, writer, digest) in &written {
        assert_eq!(writer, &first_import);
        list.written(id, Some(digest));
    }
    assert_eq!(after, list.finish());
    assert!(replaced(&db, &first_import).await.is_empty());

    // The second import raises A's risk, repeats B as it was and adds D.
    let second = format!(
        "kind,credit_code,name,region_code,risk_level,departments\n\
         enterprise,{A},秦都食品有限公司,610402,low,610400-SCJG\n\
         enterprise,{B},渭城商贸有限公司,610404,low,610400-STHJ\n\
         enterprise,{D},新城物流有限公司,610402,medium,\n"
    );
    let (summary, rejected) = import(&mut editor, &second).await;
    assert_eq!((summary.accepted, summary.created), (3, 1), "{rejected:?}");
    let (second_import, before, after) = import_entries(&db).await[1].clone();
    let now = rows(&db).await;
    let digest_of = |rows: &[(String, String, Vec<u8>)], id: &str| {
        rows.iter().find(|r| r.0 == id).unwrap().2.clone()
    };
    let changed = replaced(&db, &second_import).await;
    // By id: B's code sorts before A's.
    assert_eq!(
        changed,
        vec![
            (
                B.to_string(),
                first_import.clone(),
                digest_of(&written, B),
                digest_of(&now, B)
            ),
            (
                A.to_string(),
                first_import.clone(),
                digest_of(&written, A),
                digest_of(&now, A)
            ),
        ]
    );
    // A's content changed, B's did not.
    assert_ne!(digest_of(&written, A), digest_of(&now, A));
    assert_eq!(digest_of(&written, B), digest_of(&now, B));
    let mut list = changes::ListDigest::default();
    for (id, before_import, digest, _) in &changed {
        list.replaced(id, before_import, Some(digest));
    }
    assert_eq!(before, list.finish());
    let mut list = changes::ListDigest::default();
    for (id, writer, digest) in &now {
        if *writer == second_import {
            list.written(id, Some(digest));
        }
    }
    assert_eq!(after, list.finish());
    // The first import's rows are still accounted for: C on the table, A and B in what the second replaced.
    assert_eq!(
        changes::written_digest(&db, &store::TARGETS, &first_import)
            .await
            .unwrap(),
        import_entries(&db).await[0].2
    );

    // A credit record raising C's flags, as the bus brings it, is a writer of its own; a second record of the
    // same kind changes nothing.
    for id in ["m-1", "m-2"] {
        let record = suiji_api::publication::v1::CreditRecordedEvent {
            target_id: C.into(),
            kind: "false_disclosure".into(),
            result_id: "R-1".into(),
            department_code: "610400-SCJG".into(),
            ..Default::default()
        };
        let envelope = Envelope {
            id: id.into(),
            r#type: CreditRecorded::KEY.into(),
            payload: Some(prost_types::Any::from_msg(&record).unwrap()),
            ..Default::default()
        };
        let span = tracing::Span::none();
        let mut tx = db.begin().await.unwrap();
        History
            .handle_all(
                &mut tx,
                &[Delivery {
                    envelope: &envelope,
                    span: &span,
                }],
            )
            .await
            .unwrap();
        tx.commit().await.unwrap();
    }
    let flags: (i64, i64) = sqlx::query_as("SELECT abnormal, key_focus FROM targets WHERE id = $1")
        .bind(C)
        .fetch_one(db.pool())
        .await
        .unwrap();
    assert_eq!(flags, (1, 1));
    assert!(replaced(&db, "credit:m-2").await.is_empty());
    assert_eq!(
        replaced(&db, "credit:m-1")
            .await
            .iter()
            .map(|c| (c.0.as_str(), c.1.as_str()))
            .collect::<Vec<_>>(),
        vec![(C, first_import.as_str())]
    );
    assert_eq!(
        changes::verify(&db).await.unwrap(),
        Finding::Intact {
            rows: 4,
            writers: 3
        }
    );

    // Whoever holds the database raises A's risk back behind the service's back: the second import's audit
    // entry, which committed to what it wrote of A, gives it away.
    sqlx::query("UPDATE targets SET risk = 'high' WHERE id = $1")
        .bind(A)
        .execute(db.pool())
        .await
        .unwrap();
    assert_eq!(
        changes::verify(&db).await.unwrap(),
        Finding::WriterAltered {
            writer: second_import.clone(),
            list: "after"
        }
    );
    // So does a row moved to another writer, to hide it among that one's.
    sqlx::query("UPDATE targets SET risk = 'low' WHERE id = $1")
        .bind(A)
        .execute(db.pool())
        .await
        .unwrap();
    assert!(matches!(
        changes::verify(&db).await.unwrap(),
        Finding::Intact { .. }
    ));
    sqlx::query("UPDATE targets SET import_id = $1 WHERE id = $2")
        .bind(&first_import)
        .bind(D)
        .execute(db.pool())
        .await
        .unwrap();
    assert!(matches!(
        changes::verify(&db).await.unwrap(),
        Finding::WriterAltered { .. }
    ));
    sqlx::query("UPDATE targets SET import_id = $1 WHERE id = $2")
        .bind(&second_import)
        .bind(D)
        .execute(db.pool())
        .await
        .unwrap();
    // What the first import had written of A is rewritten in the second's record of it: the first import's entry
    // gives it away.
    sqlx::query("UPDATE import_changes SET before_digest = after_digest WHERE id = $1")
        .bind(A)
        .execute(db.pool())
        .await
        .unwrap();
    assert_eq!(
        changes::verify(&db).await.unwrap(),
        Finding::WriterAltered {
            writer: first_import.clone(),
            list: "after"
        }
    );

    db.close().await;
    running.stop().await;
    isolated.cleanup().await;
}

suiji_platform::on_both_backends!(imports_record_what_they_replace);

//! Workloads kept as a ledger: changes recorded by events read at once, concurrent events never lose one, a fold
//! moves them into the inspectors' rows without changing what is read, and a workload never reads below zero;
//! on both backends.

use std::collections::BTreeMap;

use suiji_api::draw::v1 as draw;
use suiji_api::events::v1::Envelope;
use suiji_api::inspection::v1 as inspection;
use suiji_api::topics::{TeamsDrawn, Topic, VisitConcluded};
use suiji_directories::consumers::History;
use suiji_directories::store::{InspectorQuery, list_inspectors};
use suiji_directories::workload;
use suiji_platform::db::Db;
use suiji_platform::inbox::{Delivery, HandleError, TxHandler};
use suiji_platform::testing::Backend;
use tokio::sync::mpsc;

const INSPECTORS: &str = "id,name,department,certificate_no,certificate_expires,qualifications,region_code,status\n\
                          W-1,李四,610400-SCJG,C-1,2030-06-30,food-safety,610400,active\n\
                          W-2,王五,610400-SCJG,C-2,2030-06-30,food-safety,610400,active\n\
                          W-3,赵六,610400-SCJG,C-3,2030-06-30,food-safety,610400,active\n";

async fn read(db: &Db) -> Vec<(String, u32)> {
    let mut conn = db.pool().acquire().await.unwrap();
    list_inspectors(&mut conn, &InspectorQuery::default(), "", 100)
        .await
        .unwrap()
        .into_iter()
        .map(|(i, w)| (i.id, w))
        .collect()
}

async fn record(db: &Db, changes: &[(&str, i64)]) {
    let mut tx = db.begin().await.unwrap();
    let changes: BTreeMap<String, i64> = changes.iter().map(|(i, d)| (i.to_string(), *d)).collect();
    workload::record(&mut tx, changes).await.unwrap();
    tx.commit().await.unwrap();
}

async fn ledger_rows(db: &Db) -> i64 {
    sqlx::query_scalar("SELECT COUNT(*) FROM workload_changes")
        .fetch_one(db.pool())
        .await
        .unwrap()
}

/// A directory of `backend` with the three inspectors of [`INSPECTORS`].
async fn with_inspectors(backend: Backend) -> Option<(suiji_platform::testing::Isolated, Db)> {
    let (isolated, db) = crate::import::directory(backend).await?;
    let (reports, mut drain) = mpsc::channel(64);
    tokio::spawn(async move { while drain.recv().await.is_some() {} });
    let summary =
        suiji_directories::import::import_all::<suiji_directories::domain::inspector::Inspector>(
            &db,
            "tester",
            "inspectors.csv",
            suiji_directories::import::Format::Csv,
            std::io::Cursor::new(INSPECTORS.as_bytes().to_vec()),
            reports,
        )
        .await
        .unwrap();
    assert_eq!(summary.accepted, 3);
    Some((isolated, db))
}

async fn workloads_are_a_ledger_folded_in_the_background(backend: Backend) {
    let Some((isolated, db)) = with_inspectors(backend).await else {
        return;
    };

    // Teams raise, concluded visits lower; forty events at once, none waiting on another.
    let events: Vec<_> = (0..40)
        .map(|i| {
            let db = db.clone();
            tokio::spawn(async move {
                let who = ["W-1", "W-2"][i % 2];
                record(&db, &[(who, 3), ("W-3", 1)]).await;
            })
        })
        .collect();
    for e in events {
        e.await.unwrap();
    }
    record(&db, &[("W-1", -10), ("W-2", 0)]).await;
    let expected = vec![
        ("W-1".to_string(), 50),
        ("W-2".to_string(), 60),
        ("W-3".to_string(), 40),
    ];
    assert_eq!(read(&db).await, expected, "read before any fold");
    assert_eq!(workload::total(&db).await.unwrap(), 150);
    assert_eq!(ledger_rows(&db).await, 81, "a zero change is not recorded");

    assert_eq!(workload::fold(&db).await.unwrap(), 81);
    assert_eq!(ledger_rows(&db).await, 0);
    assert_eq!(read(&db).await, expected, "the same after the fold");
    // The folder vacuums the ledger after a fold (PostgreSQL; nothing to do on SQLite).
    workload::vacuum(&db).await.unwrap();
    assert_eq!(read(&db).await, expected, "the same after vacuuming");
    assert_eq!(
        workload::fold(&db).await.unwrap(),
        0,
        "nothing left to fold"
    );

    // Releases beyond what was counted read as zero, and are summed, not clamped one by one: a raise that arrives
    // after them is cancelled out.
    record(&db, &[("W-3", -45)]).await;
    assert_eq!(read(&db).await[2], ("W-3".to_string(), 0));
    record(&db, &[("W-3", 7)]).await;
    assert_eq!(read(&db).await[2], ("W-3".to_string(), 2));
    workload::fold(&db).await.unwrap();
    assert_eq!(read(&db).await[2], ("W-3".to_string(), 2));
    isolated.cleanup().await;
}

/// Several folds at once (replicas of the directories) while changes keep coming: every change is added once,
/// none twice and none lost.
async fn concurrent_folds_add_each_change_once(backend: Backend) {
    let Some((isolated, db)) = with_inspectors(backend).await else {
        return;
    };
    let stop = tokio_util::sync::CancellationToken::new();
    let folders: Vec<_> = (0..3)
        .map(|_| {
            let (db, stop) = (db.clone(), stop.clone());
            tokio::spawn(async move {
                let mut folded = 0;
                while !stop.is_cancelled() {
                    folded += workload::fold(&db).await.unwrap();
                    tokio::task::yield_now().await;
                }
                folded
            })
        })
        .collect();
    let writers: Vec<_> = (0..4)
        .map(|w| {
            let db = db.clone();
            tokio::spawn(async move {
                for i in 0..30 {
                    let who = ["W-1", "W-2"][(w + i) % 2];
                    record(&db, &[(who, 2), ("W-3", 1)]).await;
                }
            })
        })
        .collect();
    for w in writers {
        w.await.unwrap();
    }
    stop.cancel();
    let mut folded = 0;
    for f in folders {
        folded += f.await.unwrap();
    }
    folded += workload::fold(&db).await.unwrap();
    assert_eq!(ledger_rows(&db).await, 0);
    assert_eq!(folded, 240, "each change folded once");
    let stored: i64 = sqlx::query_scalar("SELECT CAST(SUM(workload) AS BIGINT) FROM inspectors")
        .fetch_one(db.pool())
        .await
        .unwrap();
    assert_eq!(stored, 4 * 30 * 3, "every change added once");
    isolated.cleanup().await;
}

/// An envelope of `message` as `kind`.
fn envelope<M: prost::Message + prost::Name>(id: &str, kind: &str, message: &M) -> Envelope {
    Envelope {
        id: id.into(),
        r#type: kind.into(),
        payload: Some(prost_types::Any::from_msg(message).unwrap()),
        ..Default::default()
    }
}

fn concluded(target: &str, problem: bool, inspectors: &[&str]) -> inspection::VisitConcludedEvent {
    inspection::VisitConcludedEvent {
        task_id: "TASK-1".into(),
        visit_id: format!("V-{target}"),
        target_id: target.into(),
        visit_date: "2027-03-04".into(),
        outcomes: vec![inspection::DepartmentOutcome {
            department_code: "610400-SCJG".into(),
            problem_found: problem,
            ..Default::default()
        }],
        inspector_ids: inspectors.iter().map(|i| i.to_string()).collect(),
        ..Default::default()
    }
}

/// The history and workloads of a batch of messages handled in one transaction are what handling them one by one
/// gives: rows in delivery order (a later report of a part replaces the earlier), workload changes summed.
async fn a_batch_of_messages_is_kept_as_one_by_one(backend: Backend) {
    let Some((isolated, db)) = with_inspectors(backend).await else {
        return;
    };
    let teams = draw::TeamsDrawnEvent {
        seats: vec![
            draw::InspectorSeats {
                inspector_id: "W-1".into(),
                seats: 3,
            },
            draw::InspectorSeats {
                inspector_id: "W-2".into(),
                seats: 2,
            },
        ],
        ..Default::default()
    };
    let messages = [
        envelope("m1", TeamsDrawn::KEY, &teams),
        envelope(
            "m2",
            VisitConcluded::KEY,
            &concluded("T-1", false, &["W-1", "W-2"]),
        ),
        envelope(
            "m3",
            VisitConcluded::KEY,
            &concluded("T-2", false, &["W-2"]),
        ),
        // The same part reported again: the later report counts.
        envelope("m4", VisitConcluded::KEY, &concluded("T-1", true, &["W-1"])),
    ];
    let spans: Vec<tracing::Span> = messages.iter().map(|_| tracing::Span::none()).collect();
    let batch: Vec<Delivery<'_>> = messages
        .iter()
        .zip(&spans)
        .map(|(envelope, span)| Delivery { envelope, span })
        .collect();
    let mut tx = db.begin().await.unwrap();
    History.handle_all(&mut tx, &batch).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(
        read(&db).await,
        vec![
            ("W-1".to_string(), 1),
            ("W-2".to_string(), 0),
            ("W-3".to_string(), 0)
        ]
    );
    let rows: Vec<(String, i64)> = sqlx::query_as(
        "SELECT target_id, problem_found FROM target_inspections ORDER BY target_id",
    )
    .fetch_all(db.pool())
    .await
    .unwrap();
    assert_eq!(rows, vec![("T-1".to_string(), 1), ("T-2".to_string(), 0)]);
    let sums: Vec<(String, i64)> = sqlx::query_as(
        "SELECT target_id, CAST(tasks AS BIGINT) FROM target_year_visits ORDER BY target_id",
    )
    .fetch_all(db.pool())
    .await
    .unwrap();
    assert_eq!(sums, vec![("T-1".to_string(), 1), ("T-2".to_string(), 1)]);

    // A bad message fails the whole batch, so the inbox can handle each alone: nothing of it is written.
    let bad = envelope(
        "m5",
        VisitConcluded::KEY,
        &inspection::VisitConcludedEvent {
            visit_date: "soon".into(),
            ..concluded("T-3", false, &["W-3"])
        },
    );
    let good = envelope(
        "m6",
        VisitConcluded::KEY,
        &concluded("T-4", false, &["W-1"]),
    );
    let none = tracing::Span::none();
    let mut tx = db.begin().await.unwrap();
    let failed = History
        .handle_all(
            &mut tx,
            &[
                Delivery {
                    envelope: &good,
                    span: &none,
                },
                Delivery {
                    envelope: &bad,
                    span: &none,
                },
            ],
        )
        .await
        .unwrap_err();
    assert!(
        matches!(&failed, HandleError::Permanent(why) if why.contains("visit_date")),
        "{failed:?}"
    );
    tx.rollback().await.unwrap();
    assert_eq!(read(&db).await[0], ("W-1".to_string(), 1));
    isolated.cleanup().await;
}

suiji_platform::on_both_backends!(
    workloads_are_a_ledger_folded_in_the_background,
    concurrent_folds_add_each_change_once,
    a_batch_of_messages_is_kept_as_one_by_one
);

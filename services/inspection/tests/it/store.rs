//! A visit's change and its saga's step are written together or not at all: a stale version of either row
//! writes nothing (not the visit, not the saga, not its history, not the outbox).

use chrono::NaiveDate;
use suiji_inspection::domain::saga::{Phase, Saga};
use suiji_inspection::domain::visit::Visit;
use suiji_inspection::store::{self, Entry};
use suiji_platform::audit::AuditEvent;
use suiji_platform::auth::Identity;
use suiji_platform::db::Db;
use suiji_platform::error::Error;
use suiji_platform::on_both_backends;
use suiji_platform::outbox::{Event, Prepared};
use suiji_platform::testing::{self, Backend};

on_both_backends!(a_visit_step_is_written_whole_or_not_at_all);

const TASK: &str = "TASK-2027-000777";

fn visit() -> Visit {
    let day = NaiveDate::from_ymd_opt(2027, 3, 1).expect("a day");
    Visit {
        id: format!("{TASK}/T1"),
        task_id: TASK.into(),
        target_id: "T1".into(),
        lead: "610400-SCJG".into(),
        team: Vec::new(),
        checks: Vec::new(),
        assigned_on: day,
        schedule_by: Some(day),
        schedule_by_provisional: false,
        scheduled_for: None,
        method: None,
        announced: false,
        findings: Vec::new(),
        signature: None,
        confirmed: Default::default(),
        outcome: None,
        concluded_on: None,
        code: "0123456789ABCDEF".into(),
        verifications: Vec::new(),
        verified_count: 0,
        evidence: Vec::new(),
    }
}

fn entry(seq: i64, detail: &str) -> Entry {
    Entry {
        seq,
        at: 1_800_000_000_000 + seq,
        actor: "coordinator".into(),
        kind: "visit.scheduled".into(),
        detail: detail.into(),
        phase: Phase::Scheduling,
        applied: true,
        cause: format!("test:{seq}"),
    }
}

fn events(n: usize) -> Prepared {
    let changed = suiji_api::inspection::v1::SagaChangedEvent {
        task_id: TASK.into(),
        ..Default::default()
    };
    Prepared::new(
        "inspection",
        (0..n)
            .map(|_| Event::new::<suiji_api::topics::SagaChanged>(TASK, &changed))
            .collect(),
    )
}

/// The saga's version and history length, the visit's version and day, and the outbox's rows.
async fn state(db: &Db) -> (i64, i64, i64, Option<NaiveDate>, i64) {
    let mut conn = db.pool().acquire().await.expect("a connection");
    let saga = store::get(&mut conn, TASK)
        .await
        .expect("read")
        .expect("the saga");
    let history = store::history(&mut conn, TASK).await.expect("the history");
    let v = store::get_visit(&mut conn, &visit().id)
        .await
        .expect("read")
        .expect("the visit");
    let outbox: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM outbox")
        .fetch_one(&mut *conn)
        .await
        .expect("the outbox");
    (
        saga.version,
        history.len() as i64,
        v.version,
        v.visit.scheduled_for,
        outbox,
    )
}

async fn a_visit_step_is_written_whole_or_not_at_all(backend: Backend) {
    if !testing::require(backend).await {
        return;
    }
    let isolated = testing::isolated(backend).await;
    let db = Db::connect(&isolated.settings.database, "inspection")
        .await
        .expect("the database");
    db.migrate(&suiji_inspection::migrations())
        .await
        .expect("migrated");
    let (mut saga, _) = Saga::launched(
        TASK,
        "联合抽查",
        2027,
        "610400-SCJG",
        vec![("610400-SCJG".into(), vec!["ITEM-1".into()])],
        Err("no calendar".into()),
        1_800_000_000_000,
    );
    let mut tx = db.begin().await.expect("a transaction");
    assert!(
        store::insert(&mut tx, &saga, &entry(1, "launched"), b"launch")
            .await
            .expect("the saga")
    );
    store::insert_visits(&mut tx, &[visit()], 1_800_000_000_000)
        .await
        .expect("the visit");
    tx.commit().await.expect("committed");
    let outbox_before = state(&db).await.4;
    assert_eq!(state(&db).await, (1, 1, 1, None, outbox_before));

    let day = NaiveDate::from_ymd_opt(2027, 3, 2).expect("a day");
    let mut scheduled = visit();
    scheduled.scheduled_for = Some(day);
    saga.task_name = "联合抽查（改）".into();

    // Each step goes on the service's hash chain with its write, or not at all.
    let who = Identity {
        subject: "tester@610400-SCJG/inspection.coordinator".into(),
        department: "610400-SCJG".into(),
        roles: vec!["inspection.coordinator".into()],
        inspector: None,
    };
    let step = || AuditEvent {
        action: "visit.scheduled",
        entity: "visit",
        entity_id: "V-1",
        before_digest: "b".into(),
        after_digest: "a".into(),
        detail: String::new(),
    };
    let audited = |db: Db| async move {
        sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM audit_log")
            .fetch_one(db.pool())
            .await
            .unwrap()
    };
    // The visit was changed by someone else since it was read (version 0 is not its version 1): nothing at all.
    let mut conn = db.pool().acquire().await.expect("a connection");
    let stale_visit = store::write_visit_step(
        &mut conn,
        (&scheduled, 0),
        (&saga, 1),
        &entry(2, "stale visit"),
        &events(2),
        (&who, step()),
    )
    .await;
    assert!(
        matches!(stale_visit, Err(Error::Conflict(_))),
        "{stale_visit:?}"
    );
    assert_eq!(state(&db).await, (1, 1, 1, None, outbox_before));

    // The saga moved on since it was read: nothing at all either.
    let stale_saga = store::write_visit_step(
        &mut conn,
        (&scheduled, 1),
        (&saga, 0),
        &entry(1, "stale saga"),
        &events(2),
        (&who, step()),
    )
    .await;
    assert!(
        matches!(stale_saga, Err(Error::Conflict(_))),
        "{stale_saga:?}"
    );
    assert_eq!(state(&db).await, (1, 1, 1, None, outbox_before));

    assert_eq!(
        audited(db.clone()).await,
        0,
        "a refused step leaves no entry"
    );
    // Both as read: the visit, the saga with its history line, and both events.
    store::write_visit_step(
        &mut conn,
        (&scheduled, 1),
        (&saga, 1),
        &entry(2, "scheduled"),
        &events(2),
        (&who, step()),
    )
    .await
    .expect("written");
    assert_eq!(state(&db).await, (2, 2, 2, Some(day), outbox_before + 2));
    assert_eq!(audited(db.clone()).await, 1, "the step, once, on the chain");
    let stored = store::get(&mut conn, TASK)
        .await
        .expect("read")
        .expect("the saga");
    assert_eq!(stored.saga.task_name, "联合抽查（改）");
    let history = store::history(&mut conn, TASK).await.expect("the history");
    assert_eq!(history.last(), Some(&entry(2, "scheduled")));
    drop(conn);
    db.close().await;
    isolated.cleanup().await;
}

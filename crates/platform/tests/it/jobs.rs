//! Durable jobs on both backends: a lane's jobs run one at a time in the order they were added, a job that may
//! pass later is tried again and holds its lane meanwhile, one that failed for good is recorded in the
//! transaction that deletes it, a job ended in the worker's own transaction is not done twice, and a job another
//! worker has claimed is left to it.

use std::sync::{Arc, Mutex};

use suiji_platform::db::{Db, Tx};
use suiji_platform::jobs::{self, Job, Outcome, Worker};
use suiji_platform::testing::{self, Backend};

use crate::common::*;

/// Records what it ran; `flaky` fails its first attempt; `bad` fails for good; `own` ends itself in a
/// transaction of its own.
#[derive(Default)]
struct Recorder {
    ran: Mutex<Vec<String>>,
    failed: Mutex<Vec<(String, String)>>,
    db: Mutex<Option<Db>>,
}

#[async_trait::async_trait]
impl Worker for Recorder {
    async fn run(&self, job: &Job) -> Outcome {
        self.ran.lock().unwrap().push(job.id.clone());
        match job.id.as_str() {
            "flaky" if job.attempts == 0 => Outcome::Retry("not yet".into()),
            "bad" => Outcome::Failed {
                code: "InvalidArgument".into(),
                reason: "never".into(),
            },
            "own" => {
                let db = self.db.lock().unwrap().clone().unwrap();
                let mut tx = db.begin().await.unwrap();
                jobs::remove(&mut tx, &job.id).await.unwrap();
                tx.commit().await.unwrap();
                Outcome::Done
            }
            _ => Outcome::Done,
        }
    }

    async fn failed(
        &self,
        _tx: &mut Tx,
        job: &Job,
        code: &str,
        _reason: &str,
    ) -> Result<(), sqlx::Error> {
        self.failed
            .lock()
            .unwrap()
            .push((job.id.clone(), code.to_string()));
        Ok(())
    }
}

async fn add(db: &Db, id: &str, lane: &str) {
    let mut tx = db.begin().await.unwrap();
    jobs::add(&mut tx, id, "test", lane, id.as_bytes())
        .await
        .unwrap();
    tx.commit().await.unwrap();
    // Jobs added in the same millisecond are ordered by id; a millisecond apart keeps the order the test means.
    tokio::time::sleep(std::time::Duration::from_millis(2)).await;
}

async fn lanes_in_order(backend: Backend) {
    if !testing::require(backend).await {
        return;
    }
    let isolated = testing::isolated(backend).await;
    let bus = isolated.bus().await;
    let db = database(&isolated, "jobs").await;
    let relay = relay(&isolated, &db, &bus);
    let worker = Arc::new(Recorder::default());
    *worker.db.lock().unwrap() = Some(db.clone());

    add(&db, "flaky", "A").await;
    add(&db, "a2", "A").await;
    add(&db, "b1", "B").await;
    add(&db, "bad", "C").await;
    add(&db, "own", "D").await;
    // The same id again (a redelivered command) adds nothing.
    add(&db, "b1", "B").await;

    assert!(jobs::run_due(&db, &worker, &relay).await.unwrap());
    let mut first = worker.ran.lock().unwrap().clone();
    first.sort();
    // a2 waits behind flaky, which is to be tried again.
    assert_eq!(first, ["b1", "bad", "flaky", "own"]);
    assert_eq!(
        *worker.failed.lock().unwrap(),
        [("bad".to_string(), "InvalidArgument".to_string())]
    );
    assert_eq!(jobs::waiting(&db).await.unwrap(), 2, "flaky and a2 wait");

    // Not due yet: flaky's back-off holds lane A, a2 included.
    assert!(!jobs::run_due(&db, &worker, &relay).await.unwrap());
    assert_eq!(worker.ran.lock().unwrap().len(), 4);

    // Due again: flaky passes, then a2 follows it in a later round.
    sqlx::query("UPDATE jobs SET next_at = 0")
        .execute(db.pool())
        .await
        .unwrap();
    while jobs::run_due(&db, &worker, &relay).await.unwrap() {}
    assert_eq!(worker.ran.lock().unwrap()[4..], ["flaky", "a2"]);
    assert_eq!(jobs::waiting(&db).await.unwrap(), 0);

    // A job another worker claimed (its next_at moved past a lease) is not taken.
    add(&db, "claimed", "E").await;
    sqlx::query("UPDATE jobs SET next_at = $1")
        .bind(suiji_platform::db::now_ms() + 60_000)
        .execute(db.pool())
        .await
        .unwrap();
    assert!(!jobs::run_due(&db, &worker, &relay).await.unwrap());
    assert_eq!(worker.ran.lock().unwrap().len(), 6);

    db.close().await;
    isolated.cleanup().await;
}

#[tokio::test]
async fn lanes_in_order_embedded() {
    lanes_in_order(Backend::Embedded).await;
}

#[tokio::test]
async fn lanes_in_order_servers() {
    lanes_in_order(Backend::Servers).await;
}

//! Durable jobs: background work that a transaction decides and a worker carries out afterwards, outside any
//! transaction — a call to another service, say, which must never hold a database lock while it waits.
//!
//! A job is a row ([`add`]) written in the transaction that decides it, so it exists exactly when that
//! transaction committed. A worker ([`run`]) takes the jobs that are due, the oldest of each lane only (the jobs of
//! one lane, a saga's task for instance, are carried out one at a time in the order they were added), claims each by
//! moving its `next_at` past a lease, and hands it to the service's [`Worker`]. A job that is done is deleted; one
//! that may pass later is tried again with back-off; one that failed for good is deleted in the transaction in which
//! the worker records the failure (an event to the saga, say). A process that dies holding a job leaves it to be
//! taken again when the lease ends, so a job's work must recognise when it is already done.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use futures::StreamExt;
use sqlx::Row;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use crate::db::{Db, Tx, now_ms};
use crate::outbox::Relay;

/// A job as the worker receives it.
#[derive(Debug, Clone)]
pub struct Job {
    /// Its id (the id of the message that asked for it, when a message did: a redelivery adds nothing).
    pub id: String,
    /// What kind of work it is, as the service names it.
    pub kind: String,
    /// Jobs of one lane run one at a time, in order.
    pub lane: String,
    /// What the work needs, encoded as the service likes.
    pub payload: Vec<u8>,
    /// Attempts made before this one.
    pub attempts: i64,
}

/// What became of one attempt at a job.
#[derive(Debug)]
pub enum Outcome {
    /// Done, or found done already.
    Done,
    /// Failed for good, with a code and a reason for whoever waits on it.
    Failed {
        /// A short code (a gRPC code's name, say).
        code: String,
        /// Why, in a sentence.
        reason: String,
    },
    /// May pass later; the error is kept on the row.
    Retry(String),
}

/// A service's background work.
#[async_trait]
pub trait Worker: Send + Sync + 'static {
    /// Carries `job` out, outside any transaction.
    async fn run(&self, job: &Job) -> Outcome;

    /// Records, in the transaction that deletes `job`, that it failed for good.
    async fn failed(
        &self,
        tx: &mut Tx,
        job: &Job,
        code: &str,
        reason: &str,
    ) -> Result<(), sqlx::Error>;
}

/// Longest wait between attempts of a job.
const MAX_BACKOFF_MS: i64 = 60_000;
/// How long a claimed job is left to its worker before another may take it.
const LEASE_MS: i64 = 5 * 60_000;
/// Jobs of different lanes carried out at once.
const AT_ONCE: usize = 8;
/// Due jobs read at a time.
const READ_AT_ONCE: i64 = 64;

/// How many jobs this process has added (it only grows): a transaction that leaves it as it found it added none,
/// so the inbox wakes the worker only after transactions that may have added one.
static ADDED: AtomicU64 = AtomicU64::new(0);

/// See [`ADDED`].
pub fn added_so_far() -> u64 {
    ADDED.load(Ordering::SeqCst)
}

/// Adds a job inside the caller's transaction; a job with the same id already there is left as it is.
#[tracing::instrument(skip(tx, payload))]
pub async fn add(
    tx: &mut Tx,
    id: &str,
    kind: &str,
    lane: &str,
    payload: &[u8],
) -> Result<(), sqlx::Error> {
    ADDED.fetch_add(1, Ordering::SeqCst);
    sqlx::query(
        "INSERT INTO jobs (id, kind, lane, payload, next_at, created_at) \
         VALUES ($1, $2, $3, $4, $5, $5) ON CONFLICT (id) DO NOTHING",
    )
    .bind(id)
    .bind(kind)
    .bind(lane)
    .bind(payload)
    .bind(now_ms())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Deletes job `id` inside the caller's transaction: a worker whose work is a transaction of its own ends the job
/// in it, so a crash after the commit cannot do the work twice.
pub async fn remove(tx: &mut Tx, id: &str) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM jobs WHERE id = $1")
        .bind(id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Whether a job of `kind` waits in `lane` (read inside the caller's transaction).
pub async fn pending(tx: &mut Tx, kind: &str, lane: &str) -> Result<bool, sqlx::Error> {
    let found: Option<i32> =
        sqlx::query_scalar("SELECT 1 FROM jobs WHERE lane = $1 AND kind = $2 LIMIT 1")
            .bind(lane)
            .bind(kind)
            .fetch_optional(&mut **tx)
            .await?;
    Ok(found.is_some())
}

/// How many jobs wait, due or not.
pub async fn waiting(db: &Db) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("SELECT COUNT(*) FROM jobs")
        .fetch_one(db.pool())
        .await
}

/// What wakes a worker: the inbox after a commit that may have added jobs, or anyone who added one.
#[derive(Default)]
pub struct Wake(Notify);

impl Wake {
    /// Wakes the worker; call after a commit that added jobs.
    pub fn wake(&self) {
        self.0.notify_one();
    }
}

/// Runs `worker` over `db`'s jobs until shutdown: when woken, and every second for retries.
pub async fn run<W: Worker>(
    db: Db,
    worker: Arc<W>,
    relay: Relay,
    wake: Arc<Wake>,
    shutdown: CancellationToken,
) {
    loop {
        match run_due(&db, &worker, &relay).await {
            Ok(true) => continue,
            Ok(false) => {}
            Err(error) => tracing::warn!(%error, service = db.service(), "jobs"),
        }
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = wake.0.notified() => {}
            _ = tokio::time::sleep(Duration::from_secs(1)) => {}
        }
    }
}

/// Carries out the jobs due now, the oldest of each lane only, several lanes at once; true when it found any.
pub async fn run_due<W: Worker>(
    db: &Db,
    worker: &Arc<W>,
    relay: &Relay,
) -> Result<bool, sqlx::Error> {
    let now = now_ms();
    let due = sqlx::query(
        "SELECT id, kind, lane, payload, attempts, next_at FROM jobs j WHERE next_at <= $1 \
         AND NOT EXISTS (SELECT 1 FROM jobs o WHERE o.lane = j.lane \
                         AND (o.created_at < j.created_at OR (o.created_at = j.created_at AND o.id < j.id))) \
         ORDER BY created_at, id LIMIT $2",
    )
    .bind(now)
    .bind(READ_AT_ONCE)
    .fetch_all(db.pool())
    .await?;
    let mut jobs = Vec::with_capacity(due.len());
    for row in &due {
        let job = Job {
            id: row.try_get("id")?,
            kind: row.try_get("kind")?,
            lane: row.try_get("lane")?,
            payload: row.try_get("payload")?,
            attempts: row.try_get("attempts")?,
        };
        // Claimed only if nobody moved it since it was read: another replica may have.
        let claimed = sqlx::query("UPDATE jobs SET next_at = $1 WHERE id = $2 AND next_at = $3")
            .bind(now + LEASE_MS)
            .bind(&job.id)
            .bind(row.try_get::<i64, _>("next_at")?)
            .execute(db.pool())
            .await?;
        if claimed.rows_affected() == 1 {
            jobs.push(job);
        }
    }
    let results: Vec<Result<(), sqlx::Error>> = futures::stream::iter(jobs)
        .map(|job| async move {
            let outcome = worker.run(&job).await;
            finish(db, worker.as_ref(), relay, &job, outcome).await
        })
        .buffer_unordered(AT_ONCE)
        .collect()
        .await;
    results.into_iter().collect::<Result<Vec<()>, _>>()?;
    Ok(!due.is_empty())
}

/// Deletes a job that is done or failed for good (recording the failure), or schedules its next attempt.
async fn finish<W: Worker>(
    db: &Db,
    worker: &W,
    relay: &Relay,
    job: &Job,
    outcome: Outcome,
) -> Result<(), sqlx::Error> {
    const DELETE: &str = "DELETE FROM jobs WHERE id = $1";
    match outcome {
        Outcome::Done => {
            sqlx::query(DELETE).bind(&job.id).execute(db.pool()).await?;
        }
        Outcome::Failed { code, reason } => {
            tracing::warn!(kind = %job.kind, lane = %job.lane, %code, %reason, "job failed for good");
            let mut tx = db.begin().await?;
            worker.failed(&mut tx, job, &code, &reason).await?;
            sqlx::query(DELETE).bind(&job.id).execute(&mut *tx).await?;
            tx.commit().await?;
            relay.notify();
        }
        Outcome::Retry(error) => {
            let backoff = (500i64 << job.attempts.min(10)).min(MAX_BACKOFF_MS);
            tracing::info!(kind = %job.kind, lane = %job.lane, %error, attempts = job.attempts, "job will be tried again");
            sqlx::query(
                "UPDATE jobs SET attempts = attempts + 1, next_at = $1, last_error = $2 WHERE id = $3",
            )
            .bind(now_ms() + backoff)
            .bind(&error)
            .bind(&job.id)
            .execute(db.pool())
            .await?;
        }
    }
    Ok(())
}

//! What the draw hears on the bus: departments (local copy), launches (commit a secret), cancellations, and the
//! saga's commands. A command is recorded as a job in the transaction that marks its message handled; a worker
//! carries jobs out outside any message transaction, so a redelivered command finds its job or its step done and
//! changes nothing, and a crash between the step and the job's removal repeats nothing visible (a step already
//! done is recognised by the record's state).

use std::time::Duration;

use futures::StreamExt;
use prost::Message;
use sqlx::Row;
use suiji_api::draw::v1 as pb;
use suiji_api::events::v1::Envelope;
use suiji_api::planning::v1 as plan;
use suiji_platform::audit::{self, OwnedAuditEvent};
use suiji_platform::auth::Identity;
use suiji_platform::db::{Db, Tx, now_ms};
use suiji_platform::departments;
use suiji_platform::error::Error;
use suiji_platform::inbox::{self, Delivery, HandleError, TxHandler, payload};
use suiji_platform::outbox::{self, Event};
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use crate::convert::{reason_from, witnesses_from};
use crate::record::State;
use crate::service::{COMMAND_FAILED, Draws, ROLE_HEAD, ROLE_OPERATOR};

/// A saga command asking for the targets.
pub const DRAW_TARGETS: &str = "draw.command.draw_targets";
/// A saga command asking for the lock.
pub const LOCK: &str = "draw.command.lock";
/// A saga command asking for the teams.
pub const DRAW_INSPECTORS: &str = "draw.command.draw_inspectors";
/// A saga command asking for a replacement.
pub const REPLACE_INSPECTOR: &str = "draw.command.replace_inspector";

/// Routing keys the draw consumes.
pub const BINDINGS: &[&str] = &[
    departments::BINDING,
    "planning.task.launched",
    "planning.task.cancelled",
    "draw.command.draw_targets",
    "draw.command.lock",
    "draw.command.draw_inspectors",
    "draw.command.replace_inspector",
];

/// Longest wait between attempts of a job.
const MAX_BACKOFF_MS: i64 = 60_000;

/// Handles the draw's messages.
pub struct Consumer {
    draws: Draws,
    wake: std::sync::Arc<tokio::sync::Notify>,
}

impl Consumer {
    /// A consumer over `draws` that wakes the job worker through `wake`.
    pub fn new(draws: Draws, wake: std::sync::Arc<tokio::sync::Notify>) -> Self {
        Self { draws, wake }
    }
}

fn task_of(envelope: &Envelope) -> Result<(String, Vec<u8>), HandleError> {
    let task_id = match envelope.r#type.as_str() {
        DRAW_TARGETS => {
            payload::<pb::DrawTargetsCommand>(envelope)?
                .request
                .unwrap_or_default()
                .task_id
        }
        LOCK => payload::<pb::LockDrawCommand>(envelope)?.task_id,
        DRAW_INSPECTORS => {
            payload::<pb::DrawInspectorsCommand>(envelope)?
                .request
                .unwrap_or_default()
                .task_id
        }
        _ => {
            payload::<pb::ReplaceInspectorCommand>(envelope)?
                .request
                .unwrap_or_default()
                .task_id
        }
    };
    let bytes = envelope.payload.as_ref().map(|p| p.value.clone());
    Ok((task_id, bytes.unwrap_or_default()))
}

impl Consumer {
    /// Applies `envelope` inside `tx`; a launch's or a cancellation's audit entry is returned, to be appended
    /// at the end of the transaction.
    async fn apply(
        &self,
        tx: &mut Tx,
        envelope: &Envelope,
    ) -> Result<Option<OwnedAuditEvent>, HandleError> {
        if let Some(done) = departments::apply_event(tx, envelope).await {
            return done.map(|()| None);
        }
        let transient = |e: Error| HandleError::Transient(e.to_string());
        match envelope.r#type.as_str() {
            "planning.task.launched" => {
                let e: plan::TaskLaunchedEvent = payload(envelope)?;
                self.draws
                    .on_launched(tx, &e, &envelope.id)
                    .await
                    .map_err(transient)
            }
            "planning.task.cancelled" => {
                let e: plan::TaskCancelledEvent = payload(envelope)?;
                let task = e.task.unwrap_or_default();
                self.draws
                    .on_cancelled(tx, &task.id, &task.cancel_reason)
                    .await
                    .map_err(transient)
            }
            kind @ (DRAW_TARGETS | LOCK | DRAW_INSPECTORS | REPLACE_INSPECTOR) => {
                let (task_id, payload) = task_of(envelope)?;
                sqlx::query(
                    "INSERT INTO draw_jobs (id, kind, task_id, payload, next_at, created_at) \
                     VALUES ($1, $2, $3, $4, $5, $5) ON CONFLICT (id) DO NOTHING",
                )
                .bind(&envelope.id)
                .bind(kind)
                .bind(&task_id)
                .bind(payload)
                .bind(now_ms())
                .execute(&mut **tx)
                .await?;
                self.wake.notify_one();
                Ok(None)
            }
            other => {
                tracing::debug!(routing_key = other, "ignored");
                Ok(None)
            }
        }
    }
}

#[async_trait::async_trait]
impl TxHandler for Consumer {
    async fn handle(&self, tx: &mut Tx, envelope: &Envelope) -> Result<(), HandleError> {
        inbox::handle_one(self, tx, envelope).await
    }

    /// The audit entries of the whole batch are appended together at its end: the chain's head is locked from
    /// that statement until the inbox commits, not while the rest of the batch is handled.
    async fn handle_all(&self, tx: &mut Tx, batch: &[Delivery<'_>]) -> Result<(), HandleError> {
        let mut changes = Vec::new();
        for d in batch {
            changes.extend(
                self.apply(tx, d.envelope)
                    .instrument(d.span.clone())
                    .await?,
            );
        }
        audit::append_many(
            tx,
            &Identity::system(crate::NAME),
            changes.iter().map(OwnedAuditEvent::event).collect(),
        )
        .await?;
        Ok(())
    }
}

/// What became of one attempt at a job.
enum Outcome {
    /// Done, or found done already.
    Done,
    /// Failed for good: reported to the saga.
    Failed(String, String),
    /// May pass later.
    Retry(String),
}

fn outcome(result: Result<(), Error>) -> Outcome {
    match result {
        Ok(()) => Outcome::Done,
        Err(e @ (Error::Internal(_) | Error::Conflict(_))) => Outcome::Retry(e.to_string()),
        Err(e) => {
            let status = tonic::Status::from(e);
            Outcome::Failed(format!("{:?}", status.code()), status.message().to_string())
        }
    }
}

/// Carries out one job.
async fn run(draws: &Draws, kind: &str, task_id: &str, payload: &[u8]) -> Outcome {
    let record = match draws.get(task_id).await {
        Ok(r) => r,
        Err(e) => return outcome(Err(e)),
    };
    let operator = |actor: &str| Identity {
        subject: if actor.is_empty() {
            "system:inspection".to_string()
        } else {
            actor.to_string()
        },
        department: record.lead_department.clone(),
        roles: vec![ROLE_OPERATOR.into()],
        inspector: None,
    };
    let bad = |e: prost::DecodeError| Outcome::Failed("InvalidArgument".into(), e.to_string());
    match kind {
        DRAW_TARGETS => {
            let c = match pb::DrawTargetsCommand::decode(payload) {
                Ok(c) => c,
                Err(e) => return bad(e),
            };
            if record.state >= State::TargetsDrawn && record.state != State::Cancelled {
                return Outcome::Done;
            }
            let r = c.request.unwrap_or_default();
            if record.witnessed && r.witnesses.is_empty() {
                // The saga asks on its own; a witnessed draw waits for the lead's draw operator to make it with the
                // witnesses present (DrawTargets), which answers the saga as this would.
                tracing::info!(task_id, "a witnessed draw waits for its witnesses");
                return Outcome::Done;
            }
            outcome(
                draws
                    .draw_targets(
                        &operator(&c.actor),
                        task_id,
                        &r.witness_entropy,
                        witnesses_from(r.witnesses),
                    )
                    .await
                    .map(drop),
            )
        }
        LOCK => {
            let c = match pb::LockDrawCommand::decode(payload) {
                Ok(c) => c,
                Err(e) => return bad(e),
            };
            if record.state >= State::TargetsLocked && record.state != State::Cancelled {
                return Outcome::Done;
            }
            outcome(draws.lock(&operator(&c.actor), task_id, 0).await.map(drop))
        }
        DRAW_INSPECTORS => {
            let c = match pb::DrawInspectorsCommand::decode(payload) {
                Ok(c) => c,
                Err(e) => return bad(e),
            };
            if record.state == State::TeamsDrawn {
                return Outcome::Done;
            }
            let r = c.request.unwrap_or_default();
            let day = match r.eligible_on.as_str() {
                "" => None,
                d => match d.parse() {
                    Ok(d) => Some(d),
                    Err(_) => {
                        return Outcome::Failed(
                            "InvalidArgument".into(),
                            "eligible_on must be YYYY-MM-DD".into(),
                        );
                    }
                },
            };
            outcome(
                draws
                    .draw_inspectors(
                        &operator(&c.actor),
                        task_id,
                        &r.witness_entropy,
                        witnesses_from(r.witnesses),
                        day,
                        &r.departments,
                    )
                    .await
                    .map(drop),
            )
        }
        _ => {
            let c = match pb::ReplaceInspectorCommand::decode(payload) {
                Ok(c) => c,
                Err(e) => return bad(e),
            };
            let r = c.request.unwrap_or_default();
            // Done already when the inspector was replaced off this team before.
            if record.teams.as_ref().is_some_and(|d| {
                d.replacements
                    .iter()
                    .any(|x| x.target_id == r.target_id && x.replaced == r.inspector_id)
            }) {
                return Outcome::Done;
            }
            let head = Identity {
                subject: c.approved_by,
                department: c.approver_department,
                roles: vec![ROLE_HEAD.into()],
                inspector: None,
            };
            let day = r.eligible_on.parse().ok();
            outcome(
                draws
                    .replace(
                        &head,
                        task_id,
                        &r.target_id,
                        &r.inspector_id,
                        reason_from(r.reason),
                        &r.note,
                        day,
                    )
                    .await
                    .map(drop),
            )
        }
    }
}

/// Runs due jobs until shutdown: woken by the consumer, and every second for retries.
pub async fn work(
    db: Db,
    draws: Draws,
    relay: suiji_platform::outbox::Relay,
    wake: std::sync::Arc<tokio::sync::Notify>,
    shutdown: CancellationToken,
) {
    loop {
        match run_due(&db, &draws, &relay).await {
            Ok(true) => continue,
            Ok(false) => {}
            Err(error) => tracing::warn!(%error, "draw jobs"),
        }
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = wake.notified() => {}
            _ = tokio::time::sleep(Duration::from_secs(1)) => {}
        }
    }
}

/// Jobs of different tasks carried out at once: each waits mostly on the directories and the database.
const JOBS_AT_ONCE: usize = 8;

/// A job read from the table.
struct Job {
    id: String,
    kind: String,
    task_id: String,
    payload: Vec<u8>,
    attempts: i64,
}

/// Runs the jobs due now, oldest first, the oldest of each task only (a task's steps stay in order), several
/// tasks at once; true when it ran any.
pub async fn run_due(
    db: &Db,
    draws: &Draws,
    relay: &suiji_platform::outbox::Relay,
) -> Result<bool, sqlx::Error> {
    let due = sqlx::query(
        "SELECT id, kind, task_id, payload, attempts FROM draw_jobs WHERE next_at <= $1 \
         ORDER BY created_at, id LIMIT 64",
    )
    .bind(now_ms())
    .fetch_all(db.pool())
    .await?;
    let mut seen = std::collections::HashSet::new();
    let mut jobs = Vec::new();
    for row in &due {
        let job = Job {
            id: row.try_get("id")?,
            kind: row.try_get("kind")?,
            task_id: row.try_get("task_id")?,
            payload: row.try_get("payload")?,
            attempts: row.try_get("attempts")?,
        };
        if seen.insert(job.task_id.clone()) {
            jobs.push(job);
        }
    }
    let results: Vec<Result<(), sqlx::Error>> = futures::stream::iter(jobs)
        .map(|job| async move {
            let outcome = run(draws, &job.kind, &job.task_id, &job.payload).await;
            finish(db, relay, &job, outcome).await
        })
        .buffer_unordered(JOBS_AT_ONCE)
        .collect()
        .await;
    results.into_iter().collect::<Result<Vec<()>, _>>()?;
    Ok(!due.is_empty())
}

/// Removes a job that is done or failed for good (reporting the failure to the saga), or schedules its retry.
async fn finish(
    db: &Db,
    relay: &suiji_platform::outbox::Relay,
    job: &Job,
    outcome: Outcome,
) -> Result<(), sqlx::Error> {
    let (id, kind, task_id) = (&job.id, &job.kind, &job.task_id);
    match outcome {
        Outcome::Done => {
            sqlx::query("DELETE FROM draw_jobs WHERE id = $1")
                .bind(id)
                .execute(db.pool())
                .await?;
        }
        Outcome::Failed(code, reason) => {
            tracing::warn!(%kind, %task_id, %code, %reason, "draw command failed");
            let mut tx = db.begin().await?;
            let failed = pb::DrawFailedEvent {
                task_id: task_id.clone(),
                command: kind.clone(),
                code,
                reason,
            };
            outbox::enqueue(
                &mut tx,
                crate::NAME,
                Event::new(COMMAND_FAILED, task_id, &failed).caused_by(id),
            )
            .await?;
            sqlx::query("DELETE FROM draw_jobs WHERE id = $1")
                .bind(id)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            relay.notify();
        }
        Outcome::Retry(error) => {
            let attempts = job.attempts;
            let backoff = (500i64 << attempts.min(10)).min(MAX_BACKOFF_MS);
            tracing::info!(%kind, %task_id, %error, attempts, "draw command will be retried");
            sqlx::query(
                "UPDATE draw_jobs SET attempts = attempts + 1, next_at = $1, last_error = $2 WHERE id = $3",
            )
            .bind(now_ms() + backoff)
            .bind(&error)
            .bind(id)
            .execute(db.pool())
            .await?;
        }
    }
    Ok(())
}

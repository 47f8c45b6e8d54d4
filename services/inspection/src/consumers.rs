//! What the inspection service hears on the bus: launches start sagas, cancellations cancel them, and the draw's
//! replies move them on. Each is applied in the transaction that marks its message handled, so a redelivery
//! finds it done; a reply that comes after its step is recorded in the history, not applied. Drawn teams are
//! read from the draw by a job ([`Teams`]) after the message's transaction has committed.

use std::time::Duration;

use prost::Message;
use suiji_api::draw::v1 as draw;
use suiji_api::events::v1::Envelope;
use suiji_platform::db::Tx;
use suiji_platform::departments;
use suiji_platform::error::Error;
use suiji_platform::inbox::{self, HandleError, TxHandler, payload};
use suiji_platform::jobs::{self, Job, Outcome};
use tokio_util::sync::CancellationToken;

use crate::domain::saga::{Input, Refusal, Steer};
use crate::service::Sagas;

suiji_api::heard! {
    /// What the inspection service hears.
    pub enum Heard {
        DepartmentUpserted,
        TaskLaunched,
        TaskCancelled,
        TargetsDrawn,
        TargetsLocked,
        TeamsDrawn,
        InspectorReplaced,
        DrawFailed,
        ResultPublished,
        TaskCompleted,
    }
}

/// The kind of job that reads a task's drawn teams from the draw and makes them visits.
pub const TEAMS_JOB: &str = "inspection.teams";

/// Handles the inspection service's messages.
pub struct Consumer {
    sagas: Sagas,
}

impl Consumer {
    /// A consumer feeding `sagas`.
    pub fn new(sagas: Sagas) -> Self {
        Self { sagas }
    }
}

/// Targets a draw record took.
fn taken(d: &draw::Draw) -> u64 {
    d.targets
        .as_ref()
        .map_or(0, |t| t.strata.iter().map(|s| s.take).sum())
}

#[async_trait::async_trait]
impl TxHandler for Consumer {
    async fn handle(&self, tx: &mut Tx, envelope: &Envelope) -> Result<(), HandleError> {
        let transient = |e: Error| HandleError::Transient(e.to_string());
        let Some(heard) = inbox::heard::<Heard>(envelope)? else {
            return Ok(());
        };
        let (task_id, input) = match heard {
            Heard::DepartmentUpserted(e) => return departments::apply(tx, e).await,
            Heard::ResultPublished(e) => {
                return self
                    .sagas
                    .on_result_published(tx, &e, &envelope.id)
                    .await
                    .map_err(transient);
            }
            Heard::TaskCompleted(e) => {
                return self
                    .sagas
                    .on_task_completed(tx, &e, &envelope.id)
                    .await
                    .map_err(transient);
            }
            Heard::TaskLaunched(e) => {
                return self
                    .sagas
                    .on_launched(tx, &e, &envelope.id)
                    .await
                    .map_err(transient);
            }
            Heard::TeamsDrawn(e) => {
                // The teams are read from the draw by a job once this transaction has committed: no call to
                // another service while the saga's row is locked.
                let task_id = e
                    .draw
                    .as_ref()
                    .map(|d| d.task_id.clone())
                    .unwrap_or_default();
                jobs::add(
                    tx,
                    &envelope.id,
                    TEAMS_JOB,
                    &task_id,
                    &envelope.encode_to_vec(),
                )
                .await?;
                return Ok(());
            }
            Heard::InspectorReplaced(e) => {
                return match self
                    .sagas
                    .on_replaced(tx, &e, &envelope.source, &envelope.id)
                    .await
                {
                    Ok(()) | Err(Error::NotFound(_)) => Ok(()),
                    Err(e) => Err(transient(e)),
                };
            }
            Heard::TaskCancelled(e) => {
                let task = e.task.unwrap_or_default();
                let reason = if task.cancel_reason.is_empty() {
                    "the task was cancelled in planning".to_string()
                } else {
                    task.cancel_reason
                };
                (task.id, Input::Steer(Steer::Cancel(reason)))
            }
            Heard::TargetsDrawn(e) => {
                let d = e.draw.unwrap_or_default();
                (d.task_id.clone(), Input::TargetsDrawn { count: taken(&d) })
            }
            Heard::TargetsLocked(e) => {
                let d = e.draw.unwrap_or_default();
                (d.task_id.clone(), Input::TargetsLocked { count: taken(&d) })
            }
            Heard::DrawFailed(f) => (
                f.task_id,
                Input::CommandFailed {
                    command: f.command,
                    code: f.code,
                    reason: f.reason,
                },
            ),
        };
        match self
            .sagas
            .apply_in(tx, &task_id, input, &envelope.source, &envelope.id)
            .await
        {
            Ok(Ok(_)) | Ok(Err(Refusal::Late(_))) => Ok(()),
            Ok(Err(refusal)) => {
                tracing::info!(%task_id, kind = %envelope.r#type, ?refusal, "message not applicable to the saga");
                Ok(())
            }
            // A task drawn without a saga (launched before this service ran): nothing to move.
            Err(Error::NotFound(_)) => Ok(()),
            Err(e) => Err(transient(e)),
        }
    }
}

/// Reads drawn teams and makes them visits, as jobs ([`TEAMS_JOB`]).
pub struct Teams {
    sagas: Sagas,
}

impl Teams {
    /// The teams' worker over `sagas`.
    pub fn new(sagas: Sagas) -> Self {
        Self { sagas }
    }
}

#[async_trait::async_trait]
impl jobs::Worker for Teams {
    async fn run(&self, job: &Job) -> Outcome {
        let drawn = Envelope::decode(job.payload.as_slice())
            .map_err(|e| e.to_string())
            .and_then(|envelope| {
                let e = payload::<draw::TeamsDrawnEvent>(&envelope).map_err(|e| e.to_string())?;
                Ok((envelope, e.draw.unwrap_or_default()))
            });
        let (envelope, d) = match drawn {
            Ok(drawn) => drawn,
            Err(reason) => {
                return Outcome::Failed {
                    code: "InvalidArgument".into(),
                    reason,
                };
            }
        };
        match self
            .sagas
            .on_teams(job, &d, &envelope.source, &envelope.id)
            .await
        {
            // A task drawn without a saga: nothing to make.
            Ok(()) | Err(Error::NotFound(_)) => Outcome::Done,
            Err(e) => Outcome::Retry(e.to_string()),
        }
    }

    /// Never: a job that cannot be read is logged; the saga waits in its phase, where a coordinator sees it.
    async fn failed(
        &self,
        _tx: &mut Tx,
        _job: &Job,
        _code: &str,
        _reason: &str,
    ) -> Result<(), sqlx::Error> {
        Ok(())
    }
}

/// Fires due timers until shutdown, every second.
pub async fn timers(sagas: Sagas, shutdown: CancellationToken) {
    loop {
        match sagas.fire_due_timers().await {
            Ok(true) => continue,
            Ok(false) => {}
            Err(error) => tracing::warn!(%error, "saga timers"),
        }
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = tokio::time::sleep(Duration::from_secs(1)) => {}
        }
    }
}

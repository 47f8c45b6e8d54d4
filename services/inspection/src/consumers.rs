//! What the inspection service hears on the bus: launches start sagas, cancellations cancel them, and the draw's
//! replies move them on. Each is applied in the transaction that marks its message handled, so a redelivery
//! finds it done; a reply that comes after its step is recorded in the history, not applied.

use std::time::Duration;

use suiji_api::draw::v1 as draw;
use suiji_api::events::v1::Envelope;
use suiji_api::planning::v1 as plan;
use suiji_platform::db::Tx;
use suiji_platform::error::Error;
use suiji_platform::inbox::{HandleError, TxHandler, payload};
use tokio_util::sync::CancellationToken;

use crate::domain::saga::{Input, Refusal, Steer};
use crate::service::Sagas;

/// Routing keys the inspection service consumes.
pub const BINDINGS: &[&str] = &[
    "planning.task.launched",
    "planning.task.cancelled",
    "draw.targets.drawn",
    "draw.targets.locked",
    "draw.teams.drawn",
    "draw.inspector.replaced",
    "draw.command.failed",
    "publication.result.published",
    "publication.task.completed",
    "directories.department.upserted",
];

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

/// The input a message carries, with its task.
fn input_of(envelope: &Envelope) -> Result<Option<(String, Input)>, HandleError> {
    let record = |d: Option<draw::Draw>| d.unwrap_or_default();
    Ok(Some(match envelope.r#type.as_str() {
        "planning.task.cancelled" => {
            let task = payload::<plan::TaskCancelledEvent>(envelope)?
                .task
                .unwrap_or_default();
            let reason = if task.cancel_reason.is_empty() {
                "the task was cancelled in planning".to_string()
            } else {
                task.cancel_reason
            };
            (task.id, Input::Steer(Steer::Cancel(reason)))
        }
        "draw.targets.drawn" => {
            let d = record(payload::<draw::TargetsDrawnEvent>(envelope)?.draw);
            (d.task_id.clone(), Input::TargetsDrawn { count: taken(&d) })
        }
        "draw.targets.locked" => {
            let d = record(payload::<draw::TargetsLockedEvent>(envelope)?.draw);
            (d.task_id.clone(), Input::TargetsLocked { count: taken(&d) })
        }
        "draw.command.failed" => {
            let f: draw::DrawFailedEvent = payload(envelope)?;
            (
                f.task_id,
                Input::CommandFailed {
                    command: f.command,
                    code: f.code,
                    reason: f.reason,
                },
            )
        }
        other => {
            tracing::debug!(routing_key = other, "ignored");
            return Ok(None);
        }
    }))
}

#[async_trait::async_trait]
impl TxHandler for Consumer {
    async fn handle(&self, tx: &mut Tx, envelope: &Envelope) -> Result<(), HandleError> {
        if let Some(done) = suiji_platform::departments::apply_event(tx, envelope).await {
            return done;
        }
        let transient = |e: Error| HandleError::Transient(e.to_string());
        if envelope.r#type == "publication.result.published" {
            let e: suiji_api::publication::v1::ResultPublishedEvent = payload(envelope)?;
            return self
                .sagas
                .on_result_published(tx, &e, &envelope.id)
                .await
                .map_err(transient);
        }
        if envelope.r#type == "publication.task.completed" {
            let e: suiji_api::publication::v1::TaskCompletedEvent = payload(envelope)?;
            return self
                .sagas
                .on_task_completed(tx, &e, &envelope.id)
                .await
                .map_err(transient);
        }
        if envelope.r#type == "planning.task.launched" {
            let e: plan::TaskLaunchedEvent = payload(envelope)?;
            return self
                .sagas
                .on_launched(tx, &e, &envelope.id)
                .await
                .map_err(transient);
        }
        if envelope.r#type == "draw.teams.drawn" {
            let d = payload::<draw::TeamsDrawnEvent>(envelope)?
                .draw
                .unwrap_or_default();
            return match self
                .sagas
                .on_teams(tx, &d, &envelope.source, &envelope.id)
                .await
            {
                Ok(()) | Err(Error::NotFound(_)) => Ok(()),
                Err(e) => Err(transient(e)),
            };
        }
        if envelope.r#type == "draw.inspector.replaced" {
            let e: draw::InspectorReplacedEvent = payload(envelope)?;
            return match self
                .sagas
                .on_replaced(tx, &e, &envelope.source, &envelope.id)
                .await
            {
                Ok(()) | Err(Error::NotFound(_)) => Ok(()),
                Err(e) => Err(transient(e)),
            };
        }
        let Some((task_id, input)) = input_of(envelope)? else {
            return Ok(());
        };
        let source = envelope.source.clone();
        match self
            .sagas
            .apply_in(tx, &task_id, input, &source, &envelope.id)
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

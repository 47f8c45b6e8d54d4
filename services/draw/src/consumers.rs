//! What the draw hears on the bus: departments (local copy), launches (commit a secret), cancellations, and the
//! saga's commands. A command becomes a durable job (`suiji_platform::jobs`, each task a lane) in the transaction
//! that marks its message handled; [`Commands`] carries jobs out outside any message transaction, so a
//! redelivered command finds its job or its step done and changes nothing, and a crash between the step and the
//! job's removal repeats nothing visible (a step already done is recognised by the record's state).

use suiji_api::draw::v1 as pb;
use suiji_api::events::v1::Envelope;
use suiji_api::topics::{self, Heard as _};
use suiji_platform::audit::{self, OwnedAuditEvent};
use suiji_platform::auth::Identity;
use suiji_platform::auth::{ROLE_DEPARTMENT_HEAD, ROLE_DRAW_OPERATOR};
use suiji_platform::db::Tx;
use suiji_platform::departments;
use suiji_platform::error::Error;
use suiji_platform::inbox::{self, Delivery, HandleError, TxHandler};
use suiji_platform::jobs::{self, Job, Outcome};
use suiji_platform::outbox::{self, Event};
use tracing::Instrument;

use crate::convert::{reason_from, witnesses_from};
use crate::record::State;
use crate::service::Draws;

suiji_api::heard! {
    /// What the draw hears.
    pub enum Heard {
        DepartmentUpserted,
        TaskLaunched,
        TaskCancelled,
        DrawTargets,
        LockDraw,
        DrawInspectors,
        ReplaceInspector,
    }
}

suiji_api::heard! {
    /// The saga's commands, as jobs carry them (the job's kind is the command's routing key).
    pub enum Command { DrawTargets, LockDraw, DrawInspectors, ReplaceInspector }
}

/// Handles the draw's messages.
pub struct Consumer {
    draws: Draws,
}

impl Consumer {
    /// A consumer over `draws`.
    pub fn new(draws: Draws) -> Self {
        Self { draws }
    }
}

impl Consumer {
    /// Applies `envelope` inside `tx`; a launch's or a cancellation's audit entry is returned, to be appended
    /// at the end of the transaction.
    async fn apply(
        &self,
        tx: &mut Tx,
        envelope: &Envelope,
    ) -> Result<Option<OwnedAuditEvent>, HandleError> {
        let transient = |e: Error| HandleError::Transient(e.to_string());
        let Some(heard) = inbox::heard::<Heard>(envelope)? else {
            return Ok(None);
        };
        let task_id = match heard {
            Heard::DepartmentUpserted(e) => return departments::apply(tx, e).await.map(|()| None),
            Heard::TaskLaunched(e) => {
                return self
                    .draws
                    .on_launched(tx, &e, &envelope.id)
                    .await
                    .map_err(transient);
            }
            Heard::TaskCancelled(e) => {
                let task = e.task.unwrap_or_default();
                return self
                    .draws
                    .on_cancelled(tx, &task.id, &task.cancel_reason)
                    .await
                    .map_err(transient);
            }
            Heard::DrawTargets(c) => c.request.unwrap_or_default().task_id,
            Heard::LockDraw(c) => c.task_id,
            Heard::DrawInspectors(c) => c.request.unwrap_or_default().task_id,
            Heard::ReplaceInspector(c) => c.request.unwrap_or_default().task_id,
        };
        let value = envelope.payload.as_ref().map_or(&[][..], |p| &p.value[..]);
        jobs::add(tx, &envelope.id, &envelope.r#type, &task_id, value).await?;
        Ok(None)
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

fn outcome(result: Result<(), Error>) -> Outcome {
    match result {
        Ok(()) => Outcome::Done,
        Err(e @ (Error::Internal(_) | Error::Conflict(_))) => Outcome::Retry(e.to_string()),
        Err(e) => {
            let status = tonic::Status::from(e);
            Outcome::Failed {
                code: format!("{:?}", status.code()),
                reason: status.message().to_string(),
            }
        }
    }
}

/// Carries out the saga's commands, as jobs.
pub struct Commands {
    draws: Draws,
}

impl Commands {
    /// The commands' worker over `draws`.
    pub fn new(draws: Draws) -> Self {
        Self { draws }
    }
}

#[async_trait::async_trait]
impl jobs::Worker for Commands {
    async fn run(&self, job: &Job) -> Outcome {
        match Command::decode_value(&job.kind, &job.payload) {
            Some(Ok(command)) => run(&self.draws, command, &job.lane).await,
            Some(Err(e)) => Outcome::Failed {
                code: "InvalidArgument".into(),
                reason: e.to_string(),
            },
            None => Outcome::Failed {
                code: "Unimplemented".into(),
                reason: format!("a job of kind {} is no command of the draw", job.kind),
            },
        }
    }

    /// The saga hears that its command failed for good.
    async fn failed(
        &self,
        tx: &mut Tx,
        job: &Job,
        code: &str,
        reason: &str,
    ) -> Result<(), sqlx::Error> {
        let failed = pb::DrawFailedEvent {
            task_id: job.lane.clone(),
            command: job.kind.clone(),
            code: code.into(),
            reason: reason.into(),
        };
        outbox::enqueue(
            tx,
            crate::NAME,
            Event::new::<topics::DrawFailed>(&job.lane, &failed).caused_by(&job.id),
        )
        .await?;
        Ok(())
    }
}

/// Carries out one job.
/// Carries out `command` for `task_id`.
async fn run(draws: &Draws, command: Command, task_id: &str) -> Outcome {
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
        roles: vec![ROLE_DRAW_OPERATOR.into()],
        inspector: None,
    };
    match command {
        Command::DrawTargets(c) => {
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
        Command::LockDraw(c) => {
            if record.state >= State::TargetsLocked && record.state != State::Cancelled {
                return Outcome::Done;
            }
            outcome(draws.lock(&operator(&c.actor), task_id, 0).await.map(drop))
        }
        Command::DrawInspectors(c) => {
            if record.state == State::TeamsDrawn {
                return Outcome::Done;
            }
            let r = c.request.unwrap_or_default();
            let day = match r.eligible_on.as_str() {
                "" => None,
                d => match d.parse() {
                    Ok(d) => Some(d),
                    Err(_) => {
                        return Outcome::Failed {
                            code: "InvalidArgument".into(),
                            reason: "eligible_on must be YYYY-MM-DD".into(),
                        };
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
        Command::ReplaceInspector(c) => {
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
                roles: vec![ROLE_DEPARTMENT_HEAD.into()],
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

//! The gRPC face of the inspection service: the only file that sees requests and statuses.

use suiji_api::inspection::v1 as pb;
use suiji_api::inspection::v1::inspection_service_server::InspectionService;
use suiji_platform::error::Error;
use suiji_platform::grpc::{require, timestamp as ts};
use suiji_platform::paging;
use suiji_platform::validation::Violations;
use tonic::{Request, Response, Status};

use crate::domain::saga::{Answer, Phase, Saga};
use crate::service::Sagas;
use crate::store::{Entry, Filter, Stored};

/// The `suiji.inspection.v1.InspectionService` implementation.
pub struct Api {
    sagas: Sagas,
}

impl Api {
    /// Serves `sagas`.
    pub fn new(sagas: Sagas) -> Self {
        Self { sagas }
    }
}

fn phase_pb(p: Phase) -> pb::Phase {
    match p {
        Phase::Inviting => pb::Phase::Inviting,
        Phase::DrawingTargets => pb::Phase::DrawingTargets,
        Phase::ReviewingTargets => pb::Phase::ReviewingTargets,
        Phase::Locking => pb::Phase::Locking,
        Phase::AssigningInspectors => pb::Phase::AssigningInspectors,
        Phase::Scheduling => pb::Phase::Scheduling,
        Phase::Cancelled => pb::Phase::Cancelled,
    }
}

fn phase_from(p: i32) -> Option<Phase> {
    Phase::ALL.into_iter().find(|x| phase_pb(*x) as i32 == p)
}

fn answer_pb(a: Answer) -> pb::InvitationState {
    match a {
        Answer::Invited => pb::InvitationState::Invited,
        Answer::Confirmed => pb::InvitationState::Confirmed,
        Answer::Declined => pb::InvitationState::Declined,
        Answer::Dropped => pb::InvitationState::Dropped,
    }
}

fn saga_pb(stored: &Stored, history: &[Entry]) -> pb::Saga {
    let s: &Saga = &stored.saga;
    pb::Saga {
        task_id: s.task_id.clone(),
        task_name: s.task_name.clone(),
        year: s.year,
        lead_department_code: s.lead.clone(),
        phase: phase_pb(s.phase) as i32,
        participants: s
            .participants
            .iter()
            .map(|p| pb::Participant {
                department_code: p.department.clone(),
                item_codes: p.items.clone(),
                state: answer_pb(p.answer) as i32,
                reason: p.reason.clone(),
                answer_time: (p.answered_at > 0).then(|| ts(p.answered_at)),
                answered_by: p.answered_by.clone(),
            })
            .collect(),
        attention: s.attention.as_ref().map(|a| pb::Attention {
            step: a.step.clone(),
            reason: a.reason.clone(),
            since: Some(ts(a.since)),
            actions: a.actions.clone(),
        }),
        paused: s.paused,
        waiting_on: s.waiting_on(),
        deadlines: s
            .deadlines
            .iter()
            .map(|d| pb::Deadline {
                step: d.step.clone(),
                date: d.date.to_string(),
                working_days: d.working_days,
            })
            .collect(),
        targets: s.targets,
        teams: s.teams,
        cancel_reason: s.cancel_reason.clone(),
        version: stored.version,
        history: history
            .iter()
            .map(|e| pb::HistoryEntry {
                seq: e.seq,
                time: Some(ts(e.at)),
                actor: e.actor.clone(),
                kind: e.kind.clone(),
                detail: e.detail.clone(),
                phase: phase_pb(e.phase) as i32,
                applied: e.applied,
                cause: e.cause.clone(),
            })
            .collect(),
        start_time: Some(ts(stored.created_at)),
        update_time: Some(ts(stored.updated_at)),
    }
}

#[tonic::async_trait]
impl InspectionService for Api {
    async fn get_saga(
        &self,
        request: Request<pb::GetSagaRequest>,
    ) -> Result<Response<pb::GetSagaResponse>, Status> {
        require(&request)?;
        let (stored, history) = self.sagas.get(&request.into_inner().task_id).await?;
        Ok(Response::new(pb::GetSagaResponse {
            saga: Some(saga_pb(&stored, &history)),
        }))
    }

    async fn list_sagas(
        &self,
        request: Request<pb::ListSagasRequest>,
    ) -> Result<Response<pb::ListSagasResponse>, Status> {
        require(&request)?;
        let r = request.into_inner();
        let page = paging::page(r.page_size, &r.page_token).map_err(Error::from)?;
        let mut violations = Violations::new();
        let mut phases = Vec::new();
        for (i, p) in r.phases.iter().enumerate() {
            match phase_from(*p) {
                Some(p) => phases.push(p),
                None => violations.add(
                    format!("phases[{i}]"),
                    format!("{p} is not a phase sagas reach yet"),
                ),
            }
        }
        violations.into_result().map_err(Error::from)?;
        let filter = Filter {
            phases,
            department: r.department_code,
            needs_attention: r.needs_attention,
        };
        let sagas = self.sagas.list(&filter, &page).await?;
        let next_page_token = paging::next_token(&sagas, &page, |s| s.saga.task_id.as_str());
        Ok(Response::new(pb::ListSagasResponse {
            sagas: sagas.iter().map(|s| saga_pb(s, &[])).collect(),
            next_page_token,
        }))
    }

    async fn respond_to_invitation(
        &self,
        request: Request<pb::RespondToInvitationRequest>,
    ) -> Result<Response<pb::RespondToInvitationResponse>, Status> {
        let who = require(&request)?;
        let r = request.into_inner();
        let stored = self
            .sagas
            .respond(&who, &r.task_id, r.accept, &r.reason)
            .await?;
        Ok(Response::new(pb::RespondToInvitationResponse {
            saga: Some(saga_pb(&stored, &[])),
        }))
    }

    async fn approve_targets(
        &self,
        request: Request<pb::ApproveTargetsRequest>,
    ) -> Result<Response<pb::ApproveTargetsResponse>, Status> {
        let who = require(&request)?;
        let r = request.into_inner();
        let stored = self
            .sagas
            .approve_targets(&who, &r.task_id, r.expected_version)
            .await?;
        Ok(Response::new(pb::ApproveTargetsResponse {
            saga: Some(saga_pb(&stored, &[])),
        }))
    }

    async fn steer(
        &self,
        request: Request<pb::SteerRequest>,
    ) -> Result<Response<pb::SteerResponse>, Status> {
        let who = require(&request)?;
        let r = request.into_inner();
        let action = pb::Action::try_from(r.action).unwrap_or(pb::Action::Unspecified);
        if r.task_ids.is_empty() {
            return Err(Error::from(Violations::one("task_ids", "name at least one task")).into());
        }
        let mut results = Vec::with_capacity(r.task_ids.len());
        for task_id in r.task_ids {
            let result = self
                .sagas
                .steer(&who, &task_id, action, &r.reason, r.working_days)
                .await;
            results.push(match result {
                Ok(stored) => pb::SteerResult {
                    task_id,
                    ok: true,
                    error: String::new(),
                    saga: Some(saga_pb(&stored, &[])),
                },
                Err(e) => {
                    let status = Status::from(e);
                    pb::SteerResult {
                        task_id,
                        ok: false,
                        error: format!("{:?}: {}", status.code(), status.message()),
                        saga: None,
                    }
                }
            });
        }
        Ok(Response::new(pb::SteerResponse { results }))
    }
}

//! The gRPC face of the inspection service: the only file that sees requests and statuses.

use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use suiji_api::inspection::v1 as pb;
use suiji_api::inspection::v1::inspection_service_server::InspectionService;
use suiji_platform::db::now_ms;
use suiji_platform::error::Error;
use suiji_platform::grpc::{require, timestamp as ts};
use suiji_platform::messages::Words;
use suiji_platform::paging;
use suiji_platform::validation::{Violations, msg};
use tokio::sync::Semaphore;
use tokio_stream::Stream;
use tokio_util::sync::CancellationToken;
use tonic::{Request, Response, Status};

use crate::domain::saga::{Answer, Phase, Refusal, Saga, Waiting};
use crate::domain::transfer;
use crate::domain::visit::Step;
use crate::domain::visit::{self, CheckResult, Method, Outcome, Signature};
use crate::service::Sagas;
use crate::store::{Entry, Filter, Stored, StoredTransfer, StoredVisit};

/// The `suiji.inspection.v1.InspectionService` implementation.
pub struct Api {
    sagas: Sagas,
    /// Ends the open watches when the service stops.
    shutdown: CancellationToken,
    /// Watches open at once in this process.
    watches: Arc<Semaphore>,
}

impl Api {
    /// Serves `sagas` until `shutdown`.
    pub fn new(sagas: Sagas, shutdown: CancellationToken) -> Self {
        Self {
            sagas,
            shutdown,
            watches: Arc::new(Semaphore::new(WATCHES)),
        }
    }
}

/// How many pages one process lets watch a task at once; one more is told to wait (`ResourceExhausted`).
const WATCHES: usize = 2000;
/// How often a watch looks for a change.
const WATCH_EVERY: Duration = Duration::from_secs(1);
/// How long a watch stays open; the page opens it again, with a token of its own.
const WATCH_FOR: Duration = Duration::from_secs(30 * 60);

/// The stream of a watch.
type Watch = Pin<Box<dyn Stream<Item = Result<pb::WatchSagaResponse, Status>> + Send>>;

fn phase_pb(p: Phase) -> pb::Phase {
    match p {
        Phase::Inviting => pb::Phase::Inviting,
        Phase::DrawingTargets => pb::Phase::DrawingTargets,
        Phase::ReviewingTargets => pb::Phase::ReviewingTargets,
        Phase::Locking => pb::Phase::Locking,
        Phase::AssigningInspectors => pb::Phase::AssigningInspectors,
        Phase::Scheduling => pb::Phase::Scheduling,
        Phase::Visiting => pb::Phase::Visiting,
        Phase::Results => pb::Phase::Results,
        Phase::FollowUp => pb::Phase::FollowUp,
        Phase::Closed => pb::Phase::Closed,
        Phase::Cancelled => pb::Phase::Cancelled,
    }
}

fn transfer_pb(s: &StoredTransfer, words: &Words) -> pb::Transfer {
    let t = &s.transfer;
    pb::Transfer {
        id: t.id.clone(),
        task_id: t.task_id.clone(),
        visit_id: t.visit_id.clone(),
        target_id: t.target_id.clone(),
        item_code: t.item.clone(),
        from_department_code: t.from.clone(),
        to_department_code: t.to.clone(),
        kind: match t.kind {
            transfer::Kind::Department => pb::TransferKind::Department,
            transfer::Kind::Judicial => pb::TransferKind::Judicial,
        } as i32,
        problem: t.problem.clone(),
        state: match t.state {
            transfer::State::Open => pb::TransferState::Open,
            transfer::State::Accepted => pb::TransferState::Accepted,
            transfer::State::Declined => pb::TransferState::Declined,
            transfer::State::Closed => pb::TransferState::Closed,
        } as i32,
        outcome: t.outcome.clone(),
        history: t
            .history
            .iter()
            .map(|h| pb::TransferStep {
                time: Some(ts(h.at)),
                actor: h.actor.clone(),
                kind: h.kind.clone(),
                detail: words.of(&h.detail),
                detail_text: Some(h.detail.to_pb()),
            })
            .collect(),
        version: s.version,
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
        Answer::Withdrawn => pb::InvitationState::Withdrawn,
    }
}

fn waiting_pb(w: &Waiting) -> pb::Waiting {
    let (kind, department_code, step) = match w {
        Waiting::Answer(department) => (pb::WaitingKind::Answer, department.clone(), String::new()),
        Waiting::Coordinator { department, step } => (
            pb::WaitingKind::Coordinator,
            department.clone(),
            step.clone(),
        ),
        Waiting::Draw => (pb::WaitingKind::Draw, String::new(), String::new()),
        Waiting::Teams => (pb::WaitingKind::Teams, String::new(), String::new()),
        Waiting::Results => (pb::WaitingKind::Results, String::new(), String::new()),
        Waiting::Transfers => (pb::WaitingKind::Transfers, String::new(), String::new()),
    };
    pb::Waiting {
        kind: kind as i32,
        department_code,
        step,
    }
}

fn saga_pb(stored: &Stored, history: &[Entry], words: &Words) -> pb::Saga {
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
            reason: words.of(&a.reason),
            since: Some(ts(a.since)),
            actions: a.actions.clone(),
            reason_text: Some(a.reason.to_pb()),
        }),
        paused: s.paused,
        waiting_on: s.waiting_on(),
        waiting: s.waiting().iter().map(waiting_pb).collect(),
        deadlines: s
            .deadlines
            .iter()
            .map(|d| pb::Deadline {
                step: d.step.clone(),
                date: d.date.to_string(),
                working_days: d.working_days,
                provisional: d.provisional,
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
                detail: words.of(&e.detail),
                detail_text: Some(e.detail.to_pb()),
                phase: phase_pb(e.phase) as i32,
                applied: e.applied,
                cause: e.cause.clone(),
            })
            .collect(),
        start_time: Some(ts(stored.created_at)),
        update_time: Some(ts(stored.updated_at)),
    }
}

fn visit_pb(stored: &StoredVisit, public_url: &str) -> pb::Visit {
    let v = &stored.visit;
    let day = |d: Option<chrono::NaiveDate>| d.map(|d| d.to_string()).unwrap_or_default();
    pb::Visit {
        id: v.id.clone(),
        task_id: v.task_id.clone(),
        target_id: v.target_id.clone(),
        team: v
            .team
            .iter()
            .map(|m| pb::TeamMember {
                inspector_id: m.inspector_id.clone(),
                department_code: m.department.clone(),
                leader: m.leader,
                confirmed: v.confirmed.contains(&m.inspector_id),
            })
            .collect(),
        checks: v.checks.iter().map(check_pb).collect(),
        assigned_on: v.assigned_on.to_string(),
        schedule_by: day(v.schedule_by),
        schedule_by_provisional: v.schedule_by_provisional,
        scheduled_for: day(v.scheduled_for),
        method: match v.method {
            None => pb::VisitMethod::Unspecified,
            Some(Method::OnSite) => pb::VisitMethod::OnSite,
            Some(Method::Written) => pb::VisitMethod::Written,
            Some(Method::Online) => pb::VisitMethod::Online,
            Some(Method::ThirdParty) => pb::VisitMethod::ThirdParty,
        } as i32,
        announced: v.announced,
        findings: v
            .findings
            .iter()
            .map(|f| pb::Finding {
                item_code: f.item.clone(),
                check_code: f.code.clone(),
                result: match f.result {
                    CheckResult::Compliant => pb::CheckResult::Compliant,
                    CheckResult::Problem => pb::CheckResult::Problem,
                    CheckResult::NotApplicable => pb::CheckResult::NotApplicable,
                } as i32,
                note: f.note.clone(),
                department_code: f.department.clone(),
            })
            .collect(),
        signed_by: match &v.signature {
            Some(Signature::Signed(by)) => by.clone(),
            _ => String::new(),
        },
        refusal_note: match &v.signature {
            Some(Signature::Refused(note)) => note.clone(),
            _ => String::new(),
        },
        outcome: match v.outcome {
            None => pb::VisitOutcome::Unspecified,
            Some(Outcome::Inspected) => pb::VisitOutcome::Inspected,
            Some(Outcome::NotFound) => pb::VisitOutcome::NotFound,
            Some(Outcome::Closed) => pb::VisitOutcome::Closed,
        } as i32,
        concluded_on: day(v.concluded_on),
        version: stored.version,
        verification_code: v.code.clone(),
        verification_url: crate::public::verification_url(public_url, &v.code),
        verifications: u32::try_from(v.times_verified()).unwrap_or(u32::MAX),
        evidence: v
            .evidence
            .iter()
            .map(|e| pb::Evidence {
                sha256: e.sha256.clone(),
                storage_ref: e.storage_ref.clone(),
                media_type: e.media_type.clone(),
                size_bytes: e.size_bytes,
                description: e.description.clone(),
                department_code: e.department.clone(),
                item_code: e.item.clone(),
                check_code: e.code.clone(),
                added_by: e.added_by.clone(),
                add_time: Some(ts(e.added_at)),
            })
            .collect(),
    }
}

fn check_pb(c: &visit::Check) -> pb::VisitCheck {
    pb::VisitCheck {
        department_code: c.department.clone(),
        item_code: c.item.clone(),
        check_code: c.code.clone(),
        description: c.description.clone(),
    }
}

impl Api {
    /// How the texts the caller reads are worded.
    async fn words<T>(&self, request: &Request<T>) -> Result<Words, Status> {
        suiji_platform::departments::words_in(request, self.sagas.db()).await
    }
}

#[tonic::async_trait]
impl InspectionService for Api {
    async fn get_saga(
        &self,
        request: Request<pb::GetSagaRequest>,
    ) -> Result<Response<pb::GetSagaResponse>, Status> {
        let who = require(&request)?;
        let words = self.words(&request).await?;
        let task_id = request.into_inner().task_id;
        self.sagas.readable(&who, &task_id).await?;
        let (stored, history) = self.sagas.get(&task_id).await?;
        Ok(Response::new(pb::GetSagaResponse {
            saga: Some(saga_pb(&stored, &history, &words)),
        }))
    }

    async fn list_sagas(
        &self,
        request: Request<pb::ListSagasRequest>,
    ) -> Result<Response<pb::ListSagasResponse>, Status> {
        let who = require(&request)?;
        let words = self.words(&request).await?;
        let r = request.into_inner();
        let page = paging::page(r.page_size, &r.page_token).map_err(Error::from)?;
        let mut violations = Violations::new();
        let mut phases = Vec::new();
        for (i, p) in r.phases.iter().enumerate() {
            match phase_from(*p) {
                Some(p) => phases.push(p),
                None => violations.add(
                    format!("phases[{i}]"),
                    msg("not-a-known-value").arg("value", p),
                ),
            }
        }
        violations.into_result().map_err(Error::from)?;
        let filter = Filter {
            phases,
            department: r.department_code,
            needs_attention: r.needs_attention,
        };
        let sagas = self.sagas.list(&who, &filter, &page).await?;
        let next_page_token = paging::next_token(&sagas, &page, |s| s.saga.task_id.as_str());
        Ok(Response::new(pb::ListSagasResponse {
            sagas: sagas.iter().map(|s| saga_pb(s, &[], &words)).collect(),
            next_page_token,
        }))
    }

    async fn respond_to_invitation(
        &self,
        request: Request<pb::RespondToInvitationRequest>,
    ) -> Result<Response<pb::RespondToInvitationResponse>, Status> {
        let who = require(&request)?;
        let words = self.words(&request).await?;
        let r = request.into_inner();
        let stored = self
            .sagas
            .respond(&who, &r.task_id, r.accept, &r.reason)
            .await?;
        Ok(Response::new(pb::RespondToInvitationResponse {
            saga: Some(saga_pb(&stored, &[], &words)),
        }))
    }

    async fn create_transfer(
        &self,
        request: Request<pb::CreateTransferRequest>,
    ) -> Result<Response<pb::CreateTransferResponse>, Status> {
        let who = require(&request)?;
        let words = self.words(&request).await?;
        let r = request.into_inner();
        let kind = match pb::TransferKind::try_from(r.kind) {
            Ok(pb::TransferKind::Department) => transfer::Kind::Department,
            Ok(pb::TransferKind::Judicial) => transfer::Kind::Judicial,
            _ => {
                return Err(Error::from(Violations::one("kind", msg("transfer-kind"))).into());
            }
        };
        let t = self
            .sagas
            .create_transfer(
                &who,
                &r.visit_id,
                &r.item_code,
                &r.to_department_code,
                kind,
                &r.note,
            )
            .await?;
        Ok(Response::new(pb::CreateTransferResponse {
            transfer: Some(transfer_pb(&t, &words)),
        }))
    }

    async fn list_transfers(
        &self,
        request: Request<pb::ListTransfersRequest>,
    ) -> Result<Response<pb::ListTransfersResponse>, Status> {
        let who = require(&request)?;
        let words = self.words(&request).await?;
        let r = request.into_inner();
        let page = paging::page(r.page_size, &r.page_token).map_err(Error::from)?;
        let list = self
            .sagas
            .transfers(&who, &r.task_id, &r.to_department_code, r.open_only, &page)
            .await?;
        Ok(Response::new(pb::ListTransfersResponse {
            next_page_token: paging::next_token(&list, &page, |t| t.transfer.id.as_str()),
            transfers: list.iter().map(|t| transfer_pb(t, &words)).collect(),
        }))
    }

    async fn answer_transfer(
        &self,
        request: Request<pb::AnswerTransferRequest>,
    ) -> Result<Response<pb::AnswerTransferResponse>, Status> {
        let who = require(&request)?;
        let words = self.words(&request).await?;
        let r = request.into_inner();
        let (answer, kind) = match pb::TransferAnswer::try_from(r.answer) {
            Ok(pb::TransferAnswer::Accept) => (transfer::Answer::Accept, "transfer.accepted"),
            Ok(pb::TransferAnswer::Decline) => (transfer::Answer::Decline, "transfer.declined"),
            Ok(pb::TransferAnswer::Close) => (transfer::Answer::Close, "transfer.closed"),
            _ => {
                return Err(Error::from(Violations::one("answer", msg("transfer-answer"))).into());
            }
        };
        let department = who.department.clone();
        let subject = who.subject.clone();
        let t = self
            .sagas
            .change_transfer(&who, &r.id, kind, |t| {
                t.answer(&department, answer, &r.note, &subject, now_ms())?;
                Ok(msg("tl-transfer-answered")
                    .arg("dept", &t.to)
                    .arg("answer", kind.trim_start_matches("transfer.")))
            })
            .await?;
        Ok(Response::new(pb::AnswerTransferResponse {
            transfer: Some(transfer_pb(&t, &words)),
        }))
    }

    async fn reroute_transfer(
        &self,
        request: Request<pb::RerouteTransferRequest>,
    ) -> Result<Response<pb::RerouteTransferResponse>, Status> {
        let who = require(&request)?;
        let words = self.words(&request).await?;
        let r = request.into_inner();
        let department = who.department.clone();
        let subject = who.subject.clone();
        let to = r.to_department_code.trim().to_string();
        let t = self
            .sagas
            .change_transfer(&who, &r.id, "transfer.rerouted", |t| {
                t.reroute(&department, &to, &subject, now_ms())?;
                Ok(msg("tl-transfer-rerouted").arg("to_dept", &to))
            })
            .await?;
        Ok(Response::new(pb::RerouteTransferResponse {
            transfer: Some(transfer_pb(&t, &words)),
        }))
    }

    async fn withdraw(
        &self,
        request: Request<pb::WithdrawRequest>,
    ) -> Result<Response<pb::WithdrawResponse>, Status> {
        let who = require(&request)?;
        let words = self.words(&request).await?;
        let r = request.into_inner();
        let stored = self.sagas.withdraw(&who, &r.task_id, &r.reason).await?;
        Ok(Response::new(pb::WithdrawResponse {
            saga: Some(saga_pb(&stored, &[], &words)),
        }))
    }

    async fn approve_targets(
        &self,
        request: Request<pb::ApproveTargetsRequest>,
    ) -> Result<Response<pb::ApproveTargetsResponse>, Status> {
        let who = require(&request)?;
        let words = self.words(&request).await?;
        let r = request.into_inner();
        let stored = self
            .sagas
            .approve_targets(&who, &r.task_id, r.expected_version)
            .await?;
        Ok(Response::new(pb::ApproveTargetsResponse {
            saga: Some(saga_pb(&stored, &[], &words)),
        }))
    }

    async fn steer(
        &self,
        request: Request<pb::SteerRequest>,
    ) -> Result<Response<pb::SteerResponse>, Status> {
        let who = require(&request)?;
        let words = self.words(&request).await?;
        let r = request.into_inner();
        let action = pb::Action::try_from(r.action).unwrap_or(pb::Action::Unspecified);
        if r.task_ids.is_empty() {
            return Err(Error::from(Violations::one("task_ids", msg("tasks-none"))).into());
        }
        let mut results = Vec::with_capacity(r.task_ids.len());
        // A caller who may steer none of the tasks is refused as a whole.
        let mut refused: Option<Status> = None;
        let mut allowed_any = false;
        for task_id in r.task_ids {
            let result = self
                .sagas
                .steer(&who, &task_id, action, &r.reason, r.working_days)
                .await;
            results.push(match result {
                Ok(stored) => {
                    allowed_any = true;
                    pb::SteerResult {
                        task_id,
                        ok: true,
                        error: String::new(),
                        saga: Some(saga_pb(&stored, &[], &words)),
                    }
                }
                Err(e) => {
                    let status = Status::from(e);
                    if status.code() == tonic::Code::PermissionDenied {
                        refused.get_or_insert_with(|| status.clone());
                    } else {
                        allowed_any = true;
                    }
                    pb::SteerResult {
                        task_id,
                        ok: false,
                        error: format!("{:?}: {}", status.code(), status.message()),
                        saga: None,
                    }
                }
            });
        }
        if let (false, Some(status)) = (allowed_any, refused) {
            return Err(status);
        }
        Ok(Response::new(pb::SteerResponse { results }))
    }
    async fn list_visits(
        &self,
        request: Request<pb::ListVisitsRequest>,
    ) -> Result<Response<pb::ListVisitsResponse>, Status> {
        let who = require(&request)?;
        let r = request.into_inner();
        let page = paging::page(r.page_size, &r.page_token).map_err(Error::from)?;
        let visits = self.sagas.visits(&who, &r.task_id, &page).await?;
        let next_page_token = paging::next_token(&visits, &page, |v| v.visit.id.as_str());
        Ok(Response::new(pb::ListVisitsResponse {
            visits: visits
                .iter()
                .map(|v| visit_pb(v, self.sagas.public_url()))
                .collect(),
            next_page_token,
        }))
    }

    type WatchSagaStream = Watch;

    async fn watch_saga(
        &self,
        request: Request<pb::WatchSagaRequest>,
    ) -> Result<Response<Watch>, Status> {
        let who = require(&request)?;
        let task_id = request.into_inner().task_id;
        let mut v = Violations::new();
        v.check(task_id.is_empty(), "task_id", msg("required"));
        v.into_result().map_err(Error::from)?;
        self.sagas.readable(&who, &task_id).await?;
        let Ok(permit) = self.watches.clone().try_acquire_owned() else {
            return Err(Status::resource_exhausted(
                "too many pages are watching tasks now; read the task again later",
            ));
        };
        let mut seen = self
            .sagas
            .fingerprint(&task_id)
            .await?
            .ok_or_else(|| Error::NotFound(msg("nf-saga").arg("task", &task_id)))?;
        let (tx, rx) = tokio::sync::mpsc::channel(1);
        let sagas = self.sagas.clone();
        let shutdown = self.shutdown.clone();
        let notice = |task_id: &str, (version, phase, at): &(i64, String, i64)| {
            Ok(pb::WatchSagaResponse {
                task_id: task_id.to_string(),
                version: *version,
                phase: Phase::parse(phase).map_or(pb::Phase::Unspecified, phase_pb) as i32,
                changed_at: Some(ts(*at)),
            })
        };
        tokio::spawn(async move {
            let _permit = permit;
            let until = tokio::time::Instant::now() + WATCH_FOR;
            if tx.send(notice(&task_id, &seen)).await.is_err() {
                return;
            }
            loop {
                tokio::select! {
                    _ = tokio::time::sleep(WATCH_EVERY) => {}
                    _ = tx.closed() => return,
                    _ = shutdown.cancelled() => return,
                    _ = tokio::time::sleep_until(until) => return,
                }
                match sagas.fingerprint(&task_id).await {
                    Ok(Some(now)) if now != seen => {
                        seen = now;
                        if tx.send(notice(&task_id, &seen)).await.is_err() {
                            return;
                        }
                    }
                    Ok(_) => {}
                    // The database is away for a moment: the page keeps what it shows and the watch looks again.
                    Err(error) => tracing::warn!(%error, task_id, "watching a task"),
                }
            }
        });
        Ok(Response::new(Box::pin(
            tokio_stream::wrappers::ReceiverStream::new(rx),
        )))
    }

    async fn get_progress(
        &self,
        request: Request<pb::GetProgressRequest>,
    ) -> Result<Response<pb::GetProgressResponse>, Status> {
        let who = require(&request)?;
        let progress = self
            .sagas
            .progress(&who, &request.into_inner().task_id)
            .await?;
        Ok(Response::new(pb::GetProgressResponse {
            departments: progress
                .into_iter()
                .map(|(department_code, p)| pb::DepartmentProgress {
                    department_code,
                    visits: p.visits,
                    seats: p.seats,
                    findings_due: p.findings_due,
                    findings_recorded: p.findings_recorded,
                    signed: p.signed,
                    confirmed: p.confirmed,
                    concluded: p.concluded,
                })
                .collect(),
        }))
    }

    async fn get_visit(
        &self,
        request: Request<pb::GetVisitRequest>,
    ) -> Result<Response<pb::GetVisitResponse>, Status> {
        let who = require(&request)?;
        let stored = self.sagas.visit(&who, &request.into_inner().id).await?;
        Ok(Response::new(pb::GetVisitResponse {
            visit: Some(visit_pb(&stored, self.sagas.public_url())),
        }))
    }

    async fn schedule_visit(
        &self,
        request: Request<pb::ScheduleVisitRequest>,
    ) -> Result<Response<pb::ScheduleVisitResponse>, Status> {
        let who = require(&request)?;
        let r = request.into_inner();
        let day: chrono::NaiveDate = r.date.parse().map_err(|_| {
            Error::from(Violations::one(
                "date",
                msg("not-a-date").arg("value", &r.date),
            ))
        })?;
        let method = match pb::VisitMethod::try_from(r.method) {
            Ok(pb::VisitMethod::OnSite) => Method::OnSite,
            Ok(pb::VisitMethod::Written) => Method::Written,
            Ok(pb::VisitMethod::Online) => Method::Online,
            Ok(pb::VisitMethod::ThirdParty) => Method::ThirdParty,
            _ => return Err(Error::from(Violations::one("method", msg("required"))).into()),
        };
        let working = self.sagas.working_day(day)?;
        let stored = self
            .sagas
            .change_visit(&who, &r.id, Step::Scheduled, |v| {
                v.schedule(day, method, r.announced, working)?;
                Ok(Some(
                    msg("tl-visit-scheduled")
                        .arg("day", day)
                        .arg("announced", if r.announced { "yes" } else { "no" }),
                ))
            })
            .await?;
        Ok(Response::new(pb::ScheduleVisitResponse {
            visit: Some(visit_pb(&stored, self.sagas.public_url())),
        }))
    }

    async fn record_findings(
        &self,
        request: Request<pb::RecordFindingsRequest>,
    ) -> Result<Response<pb::RecordFindingsResponse>, Status> {
        let who = require(&request)?;
        let r = request.into_inner();
        let department = who.department.clone();
        let stored = self
            .sagas
            .change_visit(&who, &r.id, Step::Findings, |v| {
                let mut findings = Vec::with_capacity(r.findings.len());
                for (i, f) in r.findings.iter().enumerate() {
                    let result = match pb::CheckResult::try_from(f.result) {
                        Ok(pb::CheckResult::Compliant) => CheckResult::Compliant,
                        Ok(pb::CheckResult::Problem) => CheckResult::Problem,
                        Ok(pb::CheckResult::NotApplicable) => CheckResult::NotApplicable,
                        _ => {
                            return Err(Refusal::invalid(
                                format!("findings[{i}].result"),
                                msg("required"),
                            ));
                        }
                    };
                    findings.push(visit::Finding {
                        department: department.clone(),
                        item: f.item_code.clone(),
                        code: f.check_code.clone(),
                        result,
                        note: f.note.clone(),
                    });
                }
                let problems = findings
                    .iter()
                    .filter(|f| f.result == CheckResult::Problem)
                    .count();
                v.record_findings(&department, findings)?;
                Ok(Some(
                    msg("tl-visit-findings")
                        .arg("dept", &department)
                        .arg("problems", problems),
                ))
            })
            .await?;
        Ok(Response::new(pb::RecordFindingsResponse {
            visit: Some(visit_pb(&stored, self.sagas.public_url())),
        }))
    }

    async fn sign_record(
        &self,
        request: Request<pb::SignRecordRequest>,
    ) -> Result<Response<pb::SignRecordResponse>, Status> {
        let who = require(&request)?;
        let r = request.into_inner();
        let signature = match (
            r.signed_by.trim().is_empty(),
            r.refusal_note.trim().is_empty(),
        ) {
            (false, true) => Signature::Signed(r.signed_by.clone()),
            (true, false) => Signature::Refused(r.refusal_note.clone()),
            _ => {
                return Err(Error::from(Violations::one(
                    "signed_by",
                    msg("record-signed-or-refused"),
                ))
                .into());
            }
        };
        let stored = self
            .sagas
            .change_visit(&who, &r.id, Step::Signed, |v| {
                v.sign(signature.clone())?;
                Ok(Some(match &signature {
                    Signature::Signed(by) => msg("tl-visit-signed").arg("by", by),
                    Signature::Refused(note) => msg("tl-visit-sign-refused").arg("note", note),
                }))
            })
            .await?;
        Ok(Response::new(pb::SignRecordResponse {
            visit: Some(visit_pb(&stored, self.sagas.public_url())),
        }))
    }

    async fn confirm_record(
        &self,
        request: Request<pb::ConfirmRecordRequest>,
    ) -> Result<Response<pb::ConfirmRecordResponse>, Status> {
        let who = require(&request)?;
        let r = request.into_inner();
        let department = who.department.clone();
        // A member of the team confirms for themselves, under the inspector id their token names (which
        // `Step::Confirmed` requires); nobody for another (four eyes: the record says who confirmed, not who clicked).
        let own = who.inspector.clone().unwrap_or_default();
        let stored = self
            .sagas
            .change_visit(&who, &r.id, Step::Confirmed, |v| {
                if let Some((i, other)) = r
                    .inspector_ids
                    .iter()
                    .enumerate()
                    .find(|(_, id)| **id != own)
                {
                    return Err(Refusal::denied(
                        format!("inspector_ids[{i}]"),
                        msg("denied-confirm-others")
                            .arg("inspector", other)
                            .arg("own", &own),
                    ));
                }
                v.confirm(&department, std::slice::from_ref(&own))?;
                Ok(Some(msg("tl-visit-confirmed").arg("inspectors", &own)))
            })
            .await?;
        Ok(Response::new(pb::ConfirmRecordResponse {
            visit: Some(visit_pb(&stored, self.sagas.public_url())),
        }))
    }

    async fn attach_evidence(
        &self,
        request: Request<pb::AttachEvidenceRequest>,
    ) -> Result<Response<pb::AttachEvidenceResponse>, Status> {
        let who = require(&request)?;
        let r = request.into_inner();
        let evidence = visit::Evidence {
            sha256: r.sha256.trim().to_string(),
            storage_ref: r.storage_ref.trim().to_string(),
            media_type: r.media_type.trim().to_string(),
            size_bytes: r.size_bytes,
            description: r.description.trim().to_string(),
            department: who.department.clone(),
            item: r.item_code.trim().to_string(),
            code: r.check_code.trim().to_string(),
            added_by: who.subject.clone(),
            added_at: now_ms(),
        };
        // The same file from the same department again changes nothing and writes nothing.
        let stored = self
            .sagas
            .change_visit(&who, &r.visit_id, Step::Evidence, |v| {
                let added = v.attach_evidence(evidence.clone())?;
                let e = &evidence;
                let on = match (e.item.as_str(), e.code.as_str()) {
                    ("", _) => String::new(),
                    (item, "") => item.to_string(),
                    (item, code) => format!("{item}/{code}"),
                };
                Ok(added.then(|| {
                    msg("tl-visit-evidence")
                        .arg("dept", &e.department)
                        .arg("whole", if on.is_empty() { "yes" } else { "no" })
                        .arg("on", on)
                        .arg("description", &e.description)
                        .arg("media_type", &e.media_type)
                        .arg("bytes", e.size_bytes)
                        .arg("sha256", &e.sha256)
                }))
            })
            .await?;
        Ok(Response::new(pb::AttachEvidenceResponse {
            visit: Some(visit_pb(&stored, self.sagas.public_url())),
        }))
    }

    async fn conclude_visit(
        &self,
        request: Request<pb::ConcludeVisitRequest>,
    ) -> Result<Response<pb::ConcludeVisitResponse>, Status> {
        let who = require(&request)?;
        let r = request.into_inner();
        let outcome = match pb::VisitOutcome::try_from(r.outcome) {
            Ok(pb::VisitOutcome::Inspected) => Outcome::Inspected,
            Ok(pb::VisitOutcome::NotFound) => Outcome::NotFound,
            Ok(pb::VisitOutcome::Closed) => Outcome::Closed,
            _ => return Err(Error::from(Violations::one("outcome", msg("required"))).into()),
        };
        let today = crate::service::today();
        let stored = self
            .sagas
            .change_visit(&who, &r.id, Step::Concluded, |v| {
                v.conclude(outcome, today)?;
                Ok(Some(
                    msg("tl-visit-concluded").arg("outcome", outcome.as_str()),
                ))
            })
            .await?;
        Ok(Response::new(pb::ConcludeVisitResponse {
            visit: Some(visit_pb(&stored, self.sagas.public_url())),
        }))
    }

    async fn verify_visit_code(
        &self,
        request: Request<pb::VerifyVisitCodeRequest>,
    ) -> Result<Response<pb::VerifyVisitCodeResponse>, Status> {
        let r = request.into_inner();
        let found = self.sagas.verify_code(&r.code).await?;
        Ok(Response::new(verified_pb(found.as_ref())))
    }
}

/// What a target is told of a code: the visit's task, items and team with their certificates, or that it is not
/// valid.
pub fn verified_pb(found: Option<&crate::service::Verified>) -> pb::VerifyVisitCodeResponse {
    let Some(found) = found else {
        return pb::VerifyVisitCodeResponse {
            valid: false,
            reason: "no inspection under way has this code: do not admit the team, and report it"
                .into(),
            ..Default::default()
        };
    };
    let today = crate::service::today().to_string();
    let v = &found.visit;
    pb::VerifyVisitCodeResponse {
        valid: true,
        reason: String::new(),
        task_name: found.task_name.clone(),
        lead_department_code: v.lead.clone(),
        target_id: v.target_id.clone(),
        checks: v.checks.iter().map(check_pb).collect(),
        team: found
            .team
            .iter()
            .map(|(m, known)| pb::VerifiedMember {
                name: known.as_ref().map(|i| i.name.clone()).unwrap_or_default(),
                department_code: m.department.clone(),
                certificate_no: known
                    .as_ref()
                    .map(|i| i.certificate_no.clone())
                    .unwrap_or_default(),
                certificate_expires: known
                    .as_ref()
                    .map(|i| i.certificate_expires.clone())
                    .unwrap_or_default(),
                certificate_valid: known.as_ref().is_some_and(|i| {
                    i.certificate_expires >= today
                        && i.status == suiji_api::directories::v1::InspectorStatus::Active as i32
                }),
                leader: m.leader,
            })
            .collect(),
        scheduled_for: v.scheduled_for.map(|d| d.to_string()).unwrap_or_default(),
    }
}

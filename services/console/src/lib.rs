//! The workflow console (BFF): a web page for joint-inspection coordinators over the inspection and draw services'
//! gRPC APIs — the sagas by phase, participant and "needs attention", one saga with its participants, whom it waits on,
//! its deadlines in working days, its visits and its timeline, and the coordinators' actions on one saga or many.
//!
//! It keeps nothing of its own beyond sessions. A session holds the caller's bearer token (from the department's
//! identity provider, or `suiji token` on a development platform), checked with the platform's secret when the
//! session starts and on every request (an expired token ends the session), and every call to a service is made
//! with it, so the services decide what the caller may see and do, and audit it under the caller's name.
//!
//! The session cookie is `HttpOnly` and `SameSite=Strict`, and every change is a JSON request: a page on another
//! site can neither read the session nor send a JSON body without this origin's consent.

mod import;
mod json;

use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use suiji_api::admin::v1::calendar_service_client::CalendarServiceClient;
use suiji_api::draw::v1 as draw;
use suiji_api::draw::v1::draw_service_client::DrawServiceClient;
use suiji_api::inspection::v1 as pb;
use suiji_api::inspection::v1::inspection_service_client::InspectionServiceClient;
use suiji_platform::auth::{Identity, Tokens};
use suiji_platform::grpc::Bearer;
use tonic::codegen::InterceptedService;
use tonic::transport::Channel;

/// The console's name, as `suiji serve console` takes it.
pub const NAME: &str = "console";

/// Where the console answers, under its host.
pub const PATH: &str = "/console";

/// The session cookie.
const COOKIE: &str = "suiji_console";

/// Sessions kept at most; the oldest unused go first.
const MAX_SESSIONS: u64 = 100_000;

/// A session unused this long ends (the token's own expiry ends it sooner).
const IDLE: Duration = Duration::from_secs(8 * 3600);

const PAGE: &str = include_str!("console.html");

type Inspection = InspectionServiceClient<InterceptedService<Channel, Bearer>>;

/// The console's state: the platform's token checker, the services' channels and the sessions.
#[derive(Clone)]
pub struct Console {
    tokens: Tokens,
    inspection: Channel,
    draw: Channel,
    /// The directories service, for imports; none: the console offers no import.
    directories: Option<Channel>,
    sessions: moka::sync::Cache<String, Arc<str>>,
    /// Rejected-rows files of the imports made here, by a random id, kept an hour.
    rejected: moka::sync::Cache<String, import::RejectedFile>,
}

impl Console {
    /// A console checking tokens with `tokens` and calling the inspection and draw services on their channels.
    pub fn new(tokens: Tokens, inspection: Channel, draw: Channel) -> Self {
        Self {
            tokens,
            inspection,
            draw,
            directories: None,
            sessions: moka::sync::Cache::builder()
                .max_capacity(MAX_SESSIONS)
                .time_to_idle(IDLE)
                .build(),
            rejected: moka::sync::Cache::builder()
                .max_capacity(200)
                .time_to_live(Duration::from_secs(3600))
                .build(),
        }
    }

    /// Imports go to the directories service on `channel`.
    pub fn with_directories(mut self, channel: Channel) -> Self {
        self.directories = Some(channel);
        self
    }

    /// The routes, all under [`PATH`].
    pub fn router(self) -> Router {
        let console = Router::new()
            .route("/", get(|| async { Html(PAGE) }))
            .route("/session", post(login).delete(logout).get(me))
            .route("/api/calendar", get(get_calendar))
            .route(
                "/api/import/{what}",
                post(import::import)
                    .layer(axum::extract::DefaultBodyLimit::max(import::MAX_UPLOAD)),
            )
            .route("/api/import/rejected/{id}", get(import::rejected))
            .route("/api/sagas", get(list_sagas))
            .route("/api/sagas/{task}", get(get_saga))
            .route("/api/sagas/{task}/visits", get(list_visits))
            .route("/api/sagas/{task}/draw", get(get_draw))
            .route("/api/steer", post(steer))
            .route("/api/sagas/{task}/answer", post(answer))
            .route("/api/sagas/{task}/approve", post(approve))
            .route("/api/visits/schedule", post(schedule_visit))
            .route("/api/visits/conclude", post(conclude_visit))
            .route("/api/visit", get(get_visit))
            .route("/api/visits/findings", post(record_findings))
            .route("/api/visits/sign", post(sign_record))
            .route("/api/visits/confirm", post(confirm_record))
            .route("/api/visits/evidence", post(attach_evidence))
            .route("/api/transfers", get(list_transfers))
            .route("/api/transfers/create", post(create_transfer))
            .route("/api/transfers/answer", post(answer_transfer))
            .route("/api/transfers/reroute", post(reroute_transfer))
            .with_state(self);
        Router::new().nest(PATH, console)
    }

    /// The caller of a request: its session's token, still valid.
    fn caller(&self, headers: &HeaderMap) -> Result<(Identity, Arc<str>), ApiError> {
        let id = session_id(headers).ok_or_else(ApiError::no_session)?;
        let token = self.sessions.get(&id).ok_or_else(ApiError::no_session)?;
        match self.tokens.verify(&token) {
            Ok(who) => Ok((who, token)),
            Err(e) => {
                self.sessions.invalidate(&id);
                Err(ApiError::new(
                    StatusCode::UNAUTHORIZED,
                    "Unauthenticated",
                    format!("the session ended: {e}"),
                ))
            }
        }
    }

    /// The inspection service, called as the request's caller.
    fn inspection_for(&self, headers: &HeaderMap) -> Result<Inspection, ApiError> {
        let (_, token) = self.caller(headers)?;
        Ok(InspectionServiceClient::with_interceptor(
            self.inspection.clone(),
            Bearer::new(Some(&token)),
        ))
    }

    /// The draw service, called as the request's caller.
    fn draw_for(
        &self,
        headers: &HeaderMap,
    ) -> Result<DrawServiceClient<InterceptedService<Channel, Bearer>>, ApiError> {
        let (_, token) = self.caller(headers)?;
        Ok(DrawServiceClient::with_interceptor(
            self.draw.clone(),
            Bearer::new(Some(&token)),
        ))
    }
}

/// The session id the request's cookie carries.
fn session_id(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE)
        .map(|(_, value)| value.to_string())
}

/// An answer the page shows: the gRPC status's code name, its message and its field violations.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: String,
    message: String,
    violations: Vec<(String, String)>,
}

impl ApiError {
    fn new(status: StatusCode, code: &str, message: impl Into<String>) -> Self {
        Self {
            status,
            code: code.to_string(),
            message: message.into(),
            violations: Vec::new(),
        }
    }

    fn no_session() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "Unauthenticated",
            "sign in with your token first",
        )
    }

    fn invalid(field: &str, reason: impl Into<String>) -> Self {
        let reason = reason.into();
        Self {
            violations: vec![(field.to_string(), reason.clone())],
            ..Self::new(
                StatusCode::BAD_REQUEST,
                "InvalidArgument",
                format!("{field}: {reason}"),
            )
        }
    }
}

impl From<tonic::Status> for ApiError {
    fn from(s: tonic::Status) -> Self {
        use tonic::Code;
        let status = match s.code() {
            Code::InvalidArgument | Code::OutOfRange => StatusCode::BAD_REQUEST,
            Code::Unauthenticated => StatusCode::UNAUTHORIZED,
            Code::PermissionDenied => StatusCode::FORBIDDEN,
            Code::NotFound => StatusCode::NOT_FOUND,
            Code::AlreadyExists | Code::Aborted | Code::FailedPrecondition => StatusCode::CONFLICT,
            Code::Unavailable | Code::DeadlineExceeded | Code::ResourceExhausted => {
                StatusCode::SERVICE_UNAVAILABLE
            }
            _ => StatusCode::BAD_GATEWAY,
        };
        Self {
            status,
            code: json::code_name(s.code()),
            message: s.message().to_string(),
            violations: suiji_platform::grpc::violations_of(&s),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = serde_json::json!({
            "code": self.code,
            "message": self.message,
            "violations": self.violations.iter().map(|(field, reason)| serde_json::json!({
                "field": field, "reason": reason,
            })).collect::<Vec<_>>(),
        });
        (self.status, Json(body)).into_response()
    }
}

type ApiResult = Result<Response, ApiError>;

/// A page of a list as the page reads it: `{ <key>: [...], next_page_token }`.
fn page_of<T>(
    key: &str,
    items: &[T],
    to_json: fn(&T) -> serde_json::Value,
    next_page_token: &str,
) -> Response {
    let items: Vec<serde_json::Value> = items.iter().map(to_json).collect();
    Json(serde_json::json!({ key: items, "next_page_token": next_page_token })).into_response()
}

/// A service's answer as the page reads it, or an error when the service returned no `what`.
fn one<T>(value: Option<T>, what: &str, to_json: fn(&T) -> serde_json::Value) -> ApiResult {
    let value = value.ok_or_else(|| {
        ApiError::new(
            StatusCode::BAD_GATEWAY,
            "Internal",
            format!("no {what} returned"),
        )
    })?;
    Ok(Json(to_json(&value)).into_response())
}

/// The value of an enum named `value` in `field`, or the field's violation listing the names it takes.
fn named<T: json::Named>(field: &str, value: &str) -> Result<T, ApiError> {
    json::of(value).ok_or_else(|| {
        ApiError::invalid(
            field,
            format!(
                "no such value {value:?}; one of {}",
                json::names::<T>().join(", ")
            ),
        )
    })
}

#[derive(Deserialize)]
struct Login {
    token: String,
}

/// Starts a session with a token the platform's secret accepts.
async fn login(State(c): State<Console>, Json(login): Json<Login>) -> ApiResult {
    let token = login.token.trim();
    if token.is_empty() {
        return Err(ApiError::invalid("token", "give your bearer token"));
    }
    let who = c
        .tokens
        .verify(token)
        .map_err(|e| ApiError::invalid("token", e.to_string()))?;
    let id = random_id()?;
    c.sessions.insert(id.clone(), Arc::from(token));
    let cookie = format!("{COOKIE}={id}; Path={PATH}; HttpOnly; SameSite=Strict");
    Ok(([(header::SET_COOKIE, cookie)], Json(json::identity(&who))).into_response())
}

/// 256 random bits as hex: a session's or a download's id, not guessable.
fn random_id() -> Result<String, ApiError> {
    let mut id = [0u8; 32];
    getrandom::fill(&mut id).map_err(|e| {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "Internal",
            format!("no randomness: {e}"),
        )
    })?;
    Ok(hex::encode(id))
}

/// Ends the caller's session.
async fn logout(State(c): State<Console>, headers: HeaderMap) -> Response {
    if let Some(id) = session_id(&headers) {
        c.sessions.invalidate(&id);
    }
    let cookie = format!("{COOKIE}=; Path={PATH}; HttpOnly; SameSite=Strict; Max-Age=0");
    ([(header::SET_COOKIE, cookie)], StatusCode::NO_CONTENT).into_response()
}

/// The working-day calendar the inspection service counts with: the notices it still wants.
async fn get_calendar(State(c): State<Console>, headers: HeaderMap) -> ApiResult {
    c.caller(&headers)?;
    let calendar = CalendarServiceClient::new(c.inspection.clone())
        .get_calendar(suiji_api::admin::v1::GetCalendarRequest {})
        .await?
        .into_inner();
    Ok(Json(serde_json::json!({
        "notices_wanted": calendar.notices_wanted,
        "today": calendar.today,
    }))
    .into_response())
}

/// Who is signed in.
async fn me(State(c): State<Console>, headers: HeaderMap) -> ApiResult {
    let (who, _) = c.caller(&headers)?;
    Ok(Json(json::identity(&who)).into_response())
}

#[derive(Deserialize, Default)]
struct SagaFilter {
    /// A phase name (`inviting`, `scheduling`, …); empty: all.
    #[serde(default)]
    phase: String,
    /// Only sagas this department takes part in.
    #[serde(default)]
    department: String,
    /// `true`: only sagas waiting on a coordinator.
    #[serde(default)]
    needs_attention: bool,
    #[serde(default)]
    page_token: String,
}

/// A page of sagas.
async fn list_sagas(
    State(c): State<Console>,
    headers: HeaderMap,
    Query(f): Query<SagaFilter>,
) -> ApiResult {
    let mut inspection = c.inspection_for(&headers)?;
    let phases = match f.phase.trim() {
        "" => Vec::new(),
        name => vec![named::<pb::Phase>("phase", name)? as i32],
    };
    let page = inspection
        .list_sagas(pb::ListSagasRequest {
            phases,
            department_code: f.department.trim().to_string(),
            needs_attention: f.needs_attention,
            page_size: 100,
            page_token: f.page_token,
        })
        .await?
        .into_inner();
    Ok(page_of(
        "sagas",
        &page.sagas,
        json::saga,
        &page.next_page_token,
    ))
}

/// One saga with its timeline.
async fn get_saga(
    State(c): State<Console>,
    headers: HeaderMap,
    Path(task): Path<String>,
) -> ApiResult {
    let saga = c
        .inspection_for(&headers)?
        .get_saga(pb::GetSagaRequest { task_id: task })
        .await?
        .into_inner()
        .saga;
    one(saga, "saga", json::saga)
}

#[derive(Deserialize, Default)]
struct PageQuery {
    #[serde(default)]
    page_token: String,
}

/// A page of a saga's visits.
async fn list_visits(
    State(c): State<Console>,
    headers: HeaderMap,
    Path(task): Path<String>,
    Query(q): Query<PageQuery>,
) -> ApiResult {
    let page = c
        .inspection_for(&headers)?
        .list_visits(pb::ListVisitsRequest {
            task_id: task,
            page_size: 100,
            page_token: q.page_token,
        })
        .await?
        .into_inner();
    Ok(page_of(
        "visits",
        &page.visits,
        json::visit,
        &page.next_page_token,
    ))
}

#[derive(Deserialize)]
struct SteerBody {
    task_ids: Vec<String>,
    action: String,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    working_days: u32,
}

/// One action on one saga or many, with a result for each.
async fn steer(
    State(c): State<Console>,
    headers: HeaderMap,
    Json(b): Json<SteerBody>,
) -> ApiResult {
    let action = named::<pb::Action>("action", &b.action)?;
    let results = c
        .inspection_for(&headers)?
        .steer(pb::SteerRequest {
            task_ids: b.task_ids,
            action: action as i32,
            reason: b.reason,
            working_days: b.working_days,
        })
        .await?
        .into_inner()
        .results;
    Ok(Json(serde_json::json!({
        "results": results.iter().map(|r| serde_json::json!({
            "task_id": r.task_id,
            "ok": r.ok,
            "error": r.error,
            "saga": r.saga.as_ref().map(json::saga),
        })).collect::<Vec<_>>(),
    }))
    .into_response())
}

#[derive(Deserialize)]
struct AnswerBody {
    accept: bool,
    #[serde(default)]
    reason: String,
}

/// The caller's department confirms its part in a task or declines with a reason.
async fn answer(
    State(c): State<Console>,
    headers: HeaderMap,
    Path(task): Path<String>,
    Json(b): Json<AnswerBody>,
) -> ApiResult {
    let saga = c
        .inspection_for(&headers)?
        .respond_to_invitation(pb::RespondToInvitationRequest {
            task_id: task,
            accept: b.accept,
            reason: b.reason,
        })
        .await?
        .into_inner()
        .saga;
    one(saga, "saga", json::saga)
}

#[derive(Deserialize)]
struct ApproveBody {
    expected_version: i64,
}

/// The lead approves the drawn targets it reviewed (at the version it read).
async fn approve(
    State(c): State<Console>,
    headers: HeaderMap,
    Path(task): Path<String>,
    Json(b): Json<ApproveBody>,
) -> ApiResult {
    let saga = c
        .inspection_for(&headers)?
        .approve_targets(pb::ApproveTargetsRequest {
            task_id: task,
            expected_version: b.expected_version,
        })
        .await?
        .into_inner()
        .saga;
    one(saga, "saga", json::saga)
}

#[derive(Deserialize)]
struct ScheduleBody {
    id: String,
    date: String,
    method: String,
    #[serde(default)]
    announced: bool,
}

/// The lead schedules a visit: a working day, a method, announced or not.
async fn schedule_visit(
    State(c): State<Console>,
    headers: HeaderMap,
    Json(b): Json<ScheduleBody>,
) -> ApiResult {
    let mut inspection = c.inspection_for(&headers)?;
    let method = named::<pb::VisitMethod>("method", &b.method)?;
    let visit = inspection
        .schedule_visit(pb::ScheduleVisitRequest {
            id: b.id,
            date: b.date,
            method: method as i32,
            announced: b.announced,
        })
        .await?
        .into_inner()
        .visit;
    one(visit, "visit", json::visit)
}

#[derive(Deserialize)]
struct ConcludeBody {
    id: String,
    outcome: String,
}

/// The lead concludes a visit: inspected, or the target not found or closed.
async fn conclude_visit(
    State(c): State<Console>,
    headers: HeaderMap,
    Json(b): Json<ConcludeBody>,
) -> ApiResult {
    let mut inspection = c.inspection_for(&headers)?;
    let outcome = named::<pb::VisitOutcome>("outcome", &b.outcome)?;
    let visit = inspection
        .conclude_visit(pb::ConcludeVisitRequest {
            id: b.id,
            outcome: outcome as i32,
        })
        .await?
        .into_inner()
        .visit;
    one(visit, "visit", json::visit)
}

#[derive(Deserialize)]
struct VisitId {
    id: String,
}

/// One visit with its check points, findings, signature and team (its id has a `/`, so it is a query).
async fn get_visit(
    State(c): State<Console>,
    headers: HeaderMap,
    Query(q): Query<VisitId>,
) -> ApiResult {
    let visit = c
        .inspection_for(&headers)?
        .get_visit(pb::GetVisitRequest { id: q.id })
        .await?
        .into_inner()
        .visit;
    one(visit, "visit", json::visit)
}

#[derive(Deserialize)]
struct FindingBody {
    item_code: String,
    check_code: String,
    result: String,
    #[serde(default)]
    note: String,
}

#[derive(Deserialize)]
struct FindingsBody {
    id: String,
    findings: Vec<FindingBody>,
}

/// The caller's department's findings on its check points of a visit.
async fn record_findings(
    State(c): State<Console>,
    headers: HeaderMap,
    Json(b): Json<FindingsBody>,
) -> ApiResult {
    let mut inspection = c.inspection_for(&headers)?;
    let mut findings = Vec::with_capacity(b.findings.len());
    for (i, f) in b.findings.into_iter().enumerate() {
        let result = named::<pb::CheckResult>(&format!("findings[{i}].result"), &f.result)?;
        findings.push(pb::Finding {
            item_code: f.item_code,
            check_code: f.check_code,
            result: result as i32,
            note: f.note,
            department_code: String::new(),
        });
    }
    let visit = inspection
        .record_findings(pb::RecordFindingsRequest { id: b.id, findings })
        .await?
        .into_inner()
        .visit;
    one(visit, "visit", json::visit)
}

#[derive(Deserialize)]
struct SignBody {
    id: String,
    #[serde(default)]
    signed_by: String,
    #[serde(default)]
    refusal_note: String,
}

/// Who signed the record form for the target, or the refusal as the inspectors noted it.
async fn sign_record(
    State(c): State<Console>,
    headers: HeaderMap,
    Json(b): Json<SignBody>,
) -> ApiResult {
    let visit = c
        .inspection_for(&headers)?
        .sign_record(pb::SignRecordRequest {
            id: b.id,
            signed_by: b.signed_by,
            refusal_note: b.refusal_note,
        })
        .await?
        .into_inner()
        .visit;
    one(visit, "visit", json::visit)
}

#[derive(Deserialize)]
struct ConfirmBody {
    id: String,
    inspector_ids: Vec<String>,
}

/// Team members of the caller's department confirm the record form.
async fn confirm_record(
    State(c): State<Console>,
    headers: HeaderMap,
    Json(b): Json<ConfirmBody>,
) -> ApiResult {
    let visit = c
        .inspection_for(&headers)?
        .confirm_record(pb::ConfirmRecordRequest {
            id: b.id,
            inspector_ids: b.inspector_ids,
        })
        .await?
        .into_inner()
        .visit;
    one(visit, "visit", json::visit)
}

#[derive(Deserialize, Default)]
struct TransferFilter {
    /// A task's transfers.
    #[serde(default)]
    task: String,
    /// Or those sent to a department.
    #[serde(default)]
    to_department: String,
    #[serde(default)]
    open_only: bool,
    #[serde(default)]
    page_token: String,
}

/// A page of a task's transfers, or of those sent to a department.
async fn list_transfers(
    State(c): State<Console>,
    headers: HeaderMap,
    Query(f): Query<TransferFilter>,
) -> ApiResult {
    let page = c
        .inspection_for(&headers)?
        .list_transfers(pb::ListTransfersRequest {
            task_id: f.task,
            to_department_code: f.to_department,
            open_only: f.open_only,
            page_size: 100,
            page_token: f.page_token,
        })
        .await?
        .into_inner();
    Ok(page_of(
        "transfers",
        &page.transfers,
        json::transfer,
        &page.next_page_token,
    ))
}

#[derive(Deserialize)]
struct CreateTransferBody {
    visit_id: String,
    item_code: String,
    to_department: String,
    kind: String,
    #[serde(default)]
    note: String,
}

/// Sends a problem the caller's department found on a concluded visit on for follow-up.
async fn create_transfer(
    State(c): State<Console>,
    headers: HeaderMap,
    Json(b): Json<CreateTransferBody>,
) -> ApiResult {
    let mut inspection = c.inspection_for(&headers)?;
    let kind = named::<pb::TransferKind>("kind", &b.kind)?;
    let transfer = inspection
        .create_transfer(pb::CreateTransferRequest {
            visit_id: b.visit_id,
            item_code: b.item_code,
            to_department_code: b.to_department,
            kind: kind as i32,
            note: b.note,
        })
        .await?
        .into_inner()
        .transfer;
    one(transfer, "transfer", json::transfer)
}

#[derive(Deserialize)]
struct AnswerTransferBody {
    id: String,
    answer: String,
    #[serde(default)]
    note: String,
}

/// The receiving department accepts, declines (why) or closes (the outcome) a transfer.
async fn answer_transfer(
    State(c): State<Console>,
    headers: HeaderMap,
    Json(b): Json<AnswerTransferBody>,
) -> ApiResult {
    let mut inspection = c.inspection_for(&headers)?;
    let answer = named::<pb::TransferAnswer>("answer", &b.answer)?;
    let transfer = inspection
        .answer_transfer(pb::AnswerTransferRequest {
            id: b.id,
            answer: answer as i32,
            note: b.note,
        })
        .await?
        .into_inner()
        .transfer;
    one(transfer, "transfer", json::transfer)
}

#[derive(Deserialize)]
struct RerouteBody {
    id: String,
    to_department: String,
}

/// The sender routes a declined transfer to another receiver.
async fn reroute_transfer(
    State(c): State<Console>,
    headers: HeaderMap,
    Json(b): Json<RerouteBody>,
) -> ApiResult {
    let transfer = c
        .inspection_for(&headers)?
        .reroute_transfer(pb::RerouteTransferRequest {
            id: b.id,
            to_department_code: b.to_department,
        })
        .await?
        .into_inner()
        .transfer;
    one(transfer, "transfer", json::transfer)
}

/// A task's target draw as the lead reviews it: candidates, exclusions, strata with their drawn ids, the digest and
/// the lock (the draw service decides what the caller may see of the lists).
async fn get_draw(
    State(c): State<Console>,
    headers: HeaderMap,
    Path(task): Path<String>,
) -> ApiResult {
    let record = c
        .draw_for(&headers)?
        .get_draw(draw::GetDrawRequest { task_id: task })
        .await?
        .into_inner()
        .draw;
    one(record, "draw", json::target_draw)
}

#[derive(Deserialize)]
struct EvidenceBody {
    id: String,
    #[serde(default)]
    item_code: String,
    #[serde(default)]
    check_code: String,
    sha256: String,
    storage_ref: String,
    media_type: String,
    size_bytes: u64,
    #[serde(default)]
    description: String,
}

/// Evidence the caller's department collected: the file's hash (computed in the browser) and where its storage
/// keeps it.
async fn attach_evidence(
    State(c): State<Console>,
    headers: HeaderMap,
    Json(b): Json<EvidenceBody>,
) -> ApiResult {
    let visit = c
        .inspection_for(&headers)?
        .attach_evidence(pb::AttachEvidenceRequest {
            visit_id: b.id,
            item_code: b.item_code,
            check_code: b.check_code,
            sha256: b.sha256,
            storage_ref: b.storage_ref,
            media_type: b.media_type,
            size_bytes: b.size_bytes,
            description: b.description,
        })
        .await?
        .into_inner()
        .visit;
    one(visit, "visit", json::visit)
}

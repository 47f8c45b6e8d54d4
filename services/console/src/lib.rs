//! The console (BFF): the web app every department works in, and the server behind it.
//!
//! It serves the app (built from `web/` and embedded, see `web.rs`), signs people in against its own accounts
//! (`accounts.rs`) into sessions kept in its own database (`sessions.rs`, so replicas share them), and forwards the
//! app's gRPC-Web calls to the services with the signed-in person's access token (`rpc.rs`): the services decide
//! and audit as for any caller. Its only other endpoints are the file upload of imports (`import.rs`), which a
//! browser cannot stream over gRPC-Web, and the classic one-file page that the app is replacing.
//!
//! The session cookie is `HttpOnly`, `Secure` and `SameSite=Strict`, and every change must also carry the
//! session's CSRF token in a header, which a page on another site cannot read.

pub mod accounts;
mod admin;
mod export;
mod import;
mod oauth;
mod oidc;
pub mod rpc;
pub mod sessions;
pub mod web;

use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use suiji_platform::auth::Tokens;
use suiji_platform::config::ConsoleSettings;
use suiji_platform::db::{Db, Migrations};

pub use accounts::{Account, Accounts};
pub use rpc::Services;
pub use sessions::{Session, Sessions};

/// The console's name, as `suiji serve console` takes it; also its database's.
pub const NAME: &str = "console";

/// Where the console answers, under its host.
pub const PATH: &str = "/console";

/// The session cookie.
const COOKIE: &str = "suiji_session";

static POSTGRES: sqlx::migrate::Migrator = sqlx::migrate!("../../migrations/console/postgres");
static SQLITE: sqlx::migrate::Migrator = sqlx::migrate!("../../migrations/console/sqlite");

/// The console's migrations: accounts and sessions.
pub fn migrations() -> Migrations {
    Migrations {
        postgres: &POSTGRES,
        sqlite: &SQLITE,
    }
}

/// The console's state: the token issuer, the services' channels, the accounts and sessions.
#[derive(Clone)]
pub struct Console {
    tokens: Tokens,
    services: Services,
    accounts: Accounts,
    sessions: Sessions,
    settings: Arc<ConsoleSettings>,
    /// The identity provider, when people sign in with OpenID Connect.
    oidc: Option<oidc::Provider>,
    /// Rejected-rows files of the imports made here, by a random id, kept an hour.
    rejected: moka::sync::Cache<String, import::RejectedFile>,
    /// The departments that keep the directory of targets (`directories.target_sources`): only theirs import it.
    target_sources: Arc<Vec<String>>,
}

impl Console {
    /// A console issuing tokens with `tokens`, keeping accounts and sessions in `db` (migrated), calling `services`.
    pub fn new(tokens: Tokens, db: Db, services: Services, settings: ConsoleSettings) -> Self {
        Self {
            tokens,
            services,
            oidc: oidc::Provider::of(&settings.oidc),
            settings: Arc::new(settings),
            accounts: Accounts::new(db.clone()),
            sessions: Sessions::new(db),
            rejected: moka::sync::Cache::builder()
                .max_capacity(200)
                .time_to_live(Duration::from_secs(3600))
                .build(),
            target_sources: Arc::new(Vec::new()),
        }
    }

    /// The departments that keep the directory of targets (`directories.target_sources`), so the app offers the
    /// target import only to their people (the directories service refuses the others anyway).
    pub fn with_target_sources(mut self, departments: Vec<String>) -> Self {
        self.target_sources = Arc::new(departments);
        self
    }

    /// The local accounts.
    pub fn accounts(&self) -> &Accounts {
        &self.accounts
    }

    /// The routes, all under [`PATH`].
    pub fn router(self) -> Router {
        // Every path is under PATH; the app routes the rest of them itself (its page for any other GET).
        let at = |path: &str| format!("{PATH}{path}");
        Router::new()
            .route(PATH, get(web::page))
            .route(&at("/"), get(web::page))
            .route(&at("/assets/{name}"), get(web::asset))
            .route(&at("/session"), post(sign_in).delete(sign_out).get(me))
            .route(&at("/sign-in-methods"), get(sign_in_methods))
            .route(&at("/oidc/start"), get(oidc::start))
            .route(&at("/oidc/callback"), get(oidc::callback))
            .route(&at("/.well-known/jwks.json"), get(oauth::jwks))
            .route(&at("/oauth/token"), post(oauth::token))
            .route(&at("/rpc/{*method}"), post(rpc::forward))
            .route(
                &at("/api/import/{what}"),
                post(import::import)
                    .layer(axum::extract::DefaultBodyLimit::max(import::MAX_UPLOAD)),
            )
            .route(&at("/api/import/rejected/{id}"), get(import::rejected))
            .route(&at("/api/export/targets"), get(export::targets))
            .route(&at("/api/accounts"), get(admin::list))
            .route(
                &at("/api/accounts/{username}"),
                axum::routing::put(admin::put),
            )
            .fallback(web::fallback)
            .layer(axum::middleware::from_fn_with_state(self.clone(), guard))
            .with_state(self)
    }

    /// The live session of the request's cookie.
    pub async fn session(&self, headers: &HeaderMap) -> Result<Option<Session>, sqlx::Error> {
        match session_id(headers) {
            Some(id) => self.sessions.find(&id).await,
            None => Ok(None),
        }
    }

    /// An access token for the calls made for the person of `session`: the identity provider's (OpenID
    /// Connect), or one the console signs.
    fn token_for(&self, session: &Session) -> Result<Arc<str>, ApiError> {
        if let Some(token) = &session.access_token {
            return Ok(Arc::from(token.as_str()));
        }
        self.tokens
            .issue(&session.identity, rpc::TOKEN_TTL)
            .map(Arc::from)
            .map_err(|e| {
                tracing::error!(error = %e, "issuing an access token");
                ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "Unavailable",
                    e.to_string(),
                )
            })
    }
}

/// The session a request to the console's own endpoints (`/session`, `/api/…`) came with, found once by [`guard`]
/// and handed to the handler.
#[derive(Clone)]
pub(crate) struct Caller(Option<Session>);

impl Caller {
    /// The live session, or `Unauthenticated`.
    fn session(self) -> Result<Session, ApiError> {
        self.0.ok_or_else(ApiError::no_session)
    }
}

/// Reads the session of a request to the console's own endpoints once and puts it in the request as a [`Caller`].
/// Every change but signing in must carry the session's CSRF token in [`rpc::CSRF_HEADER`]; signing in must come
/// from this origin when the browser says where it came from. The page, its files and the forwarded calls (which
/// check their own) pass untouched.
async fn guard(
    State(c): State<Console>,
    mut request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let method = request.method().clone();
    let path = request.uri().path().to_string();
    let path = path.strip_prefix(PATH).unwrap_or(&path);
    if path != "/session" && !path.starts_with("/api/") {
        return next.run(request).await;
    }
    if path == "/session" && method == axum::http::Method::POST {
        if cross_site(request.headers()) {
            return ApiError::new(
                StatusCode::FORBIDDEN,
                "PermissionDenied",
                "cross-site sign-in",
            )
            .into_response();
        }
        return next.run(request).await;
    }
    let session = match c.session(request.headers()).await {
        Ok(session) => session,
        Err(e) => return ApiError::database(&e).into_response(),
    };
    if method != axum::http::Method::GET && method != axum::http::Method::HEAD {
        let Some(live) = &session else {
            return ApiError::no_session().into_response();
        };
        let csrf = request.headers().get(rpc::CSRF_HEADER);
        if csrf.is_none_or(|v| v.as_bytes() != live.csrf.as_bytes()) {
            return ApiError::new(
                StatusCode::FORBIDDEN,
                "PermissionDenied",
                "the request does not carry this session's CSRF token",
            )
            .into_response();
        }
    }
    request.extensions_mut().insert(Caller(session));
    next.run(request).await
}

/// Whether the browser says the request came from another site.
fn cross_site(headers: &HeaderMap) -> bool {
    if let Some(site) = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
        return !matches!(site, "same-origin" | "none");
    }
    match (
        headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()),
        headers.get(header::HOST).and_then(|v| v.to_str().ok()),
    ) {
        (Some(origin), Some(host)) => origin.split_once("://").map(|(_, h)| h) != Some(host),
        _ => false,
    }
}

/// Whether a request carries a person's session or a bearer token: the rest (sign-in, the token endpoint, the
/// pages before sign-in) is limited per client address.
pub fn credentialed(headers: &HeaderMap) -> bool {
    suiji_platform::limits::has_bearer(headers) || session_id(headers).is_some()
}

/// The client address axum recorded for a request (served with its connect info).
pub fn client_address(extensions: &axum::http::Extensions) -> Option<std::net::IpAddr> {
    extensions
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        .map(|info| info.0.ip())
}

/// The session id the request's cookie carries.
fn session_id(headers: &HeaderMap) -> Option<String> {
    cookie(headers, COOKIE)
}

/// The value of the request's cookie `name`.
pub(crate) fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(n, _)| *n == name)
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

    /// The console's own database failed.
    fn database(error: &sqlx::Error) -> Self {
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "Unavailable",
            format!("the console's database: {error}"),
        )
    }

    fn no_session() -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "Unauthenticated", "sign in first")
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
            code: format!("{:?}", s.code()),
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

#[derive(Deserialize)]
struct SignIn {
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
}

/// What the app knows of the signed-in person, and whether their department keeps the directory of targets.
fn me_json(c: &Console, session: &Session) -> serde_json::Value {
    serde_json::json!({
        "subject": session.identity.subject,
        "displayName": session.display_name,
        "department": session.identity.department,
        "roles": session.identity.roles,
        "inspector": session.identity.inspector,
        "csrf": session.csrf,
        "expiresAt": session.expires_at,
        "importsTargets": c.target_sources.contains(&session.identity.department),
    })
}

/// A sign-in refusal the app shows at its field: `{code, field, until}`.
fn refused(status: StatusCode, code: &str, field: &str) -> Response {
    (
        status,
        Json(serde_json::json!({ "code": code, "field": field })),
    )
        .into_response()
}

/// How people sign in here: with local accounts (when the console holds the issuer's key), with the identity
/// provider (its button's label), or both.
async fn sign_in_methods(State(c): State<Console>) -> Response {
    Json(serde_json::json!({
        "local": c.tokens.signer().is_some(),
        "oidc": c.oidc.as_ref().map(|p| serde_json::json!({ "label": p.label() })),
    }))
    .into_response()
}

/// Signs a person in with a local account's user name and password.
async fn sign_in(State(c): State<Console>, Json(form): Json<SignIn>) -> Response {
    if c.tokens.signer().is_none() {
        // The identity provider issues every token: a local account could sign in but call nothing.
        return refused(StatusCode::FORBIDDEN, "local_off", "");
    }
    let username = form.username.trim();
    if username.is_empty() {
        return refused(StatusCode::BAD_REQUEST, "required", "username");
    }
    if form.password.is_empty() {
        return refused(StatusCode::BAD_REQUEST, "required", "password");
    }
    let account = match c.accounts.sign_in(username, &form.password).await {
        Ok(account) => account,
        Err(accounts::SignInError::Wrong) => {
            tracing::info!(username, "sign-in refused");
            return refused(StatusCode::UNAUTHORIZED, "wrong", "password");
        }
        Err(accounts::SignInError::Locked(until)) => {
            tracing::warn!(username, until, "sign-in to a locked account");
            let until = chrono::DateTime::from_timestamp_millis(until)
                .map(|t| t.to_rfc3339())
                .unwrap_or_default();
            return (
                StatusCode::LOCKED,
                Json(serde_json::json!({ "code": "locked", "field": "", "until": until })),
            )
                .into_response();
        }
        Err(accounts::SignInError::Disabled) => {
            return refused(StatusCode::FORBIDDEN, "disabled", "");
        }
        Err(error) => {
            tracing::error!(%error, "signing in");
            return refused(StatusCode::SERVICE_UNAVAILABLE, "unavailable", "");
        }
    };
    match c
        .sessions
        .start(&account.identity(), &account.display_name, "local", None)
        .await
    {
        Ok((id, session)) => {
            tracing::info!(username, department = %account.department, "signed in");
            let cookie = format!(
                "{COOKIE}={id}; Path={PATH}; HttpOnly; Secure; SameSite=Strict; Max-Age={}",
                sessions::LIFETIME.as_secs()
            );
            ([(header::SET_COOKIE, cookie)], Json(me_json(&c, &session))).into_response()
        }
        Err(error) => {
            tracing::error!(%error, "starting a session");
            refused(StatusCode::SERVICE_UNAVAILABLE, "unavailable", "")
        }
    }
}

/// 256 random bits as hex: a download's id, not guessable.
fn random_id() -> Result<String, ApiError> {
    sessions::random_hex().map_err(|e| {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "Internal",
            format!("no randomness: {e}"),
        )
    })
}

/// Ends the caller's session, here and on every replica.
async fn sign_out(State(c): State<Console>, headers: HeaderMap) -> Response {
    if let Some(id) = session_id(&headers)
        && let Err(error) = c.sessions.revoke(&id).await
    {
        tracing::error!(%error, "signing out");
        return StatusCode::SERVICE_UNAVAILABLE.into_response();
    }
    let cookie = format!("{COOKIE}=; Path={PATH}; HttpOnly; Secure; SameSite=Strict; Max-Age=0");
    ([(header::SET_COOKIE, cookie)], StatusCode::NO_CONTENT).into_response()
}

/// Who is signed in.
async fn me(
    State(c): State<Console>,
    axum::Extension(caller): axum::Extension<Caller>,
) -> Response {
    match caller.session() {
        Ok(session) => Json(me_json(&c, &session)).into_response(),
        Err(e) => e.into_response(),
    }
}

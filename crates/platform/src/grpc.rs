//! The gRPC server every service runs: health (`grpc.health.v1`), reflection (when switched on), bearer-token
//! identity, per-address limits on calls without a token, a time limit per call, a limit on calls at once,
//! request spans joined to the caller's trace, and graceful shutdown; plus the client side used by the CLI,
//! other services and tests.

use std::time::Duration;

use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tonic::service::{Interceptor, InterceptorLayer, Routes, RoutesBuilder};
use tonic::transport::{Channel, Endpoint, Server};
use tonic::{Code, Request, Status};
use tonic_health::ServingStatus;
use tonic_health::server::HealthReporter;
use tonic_types::{ErrorDetails, FieldViolation, StatusExt};

use crate::auth::{Identity, Tokens};
use crate::config::LimitSettings;
use crate::validation::Violations;

/// Routes with health and reflection already added; a service adds its own and then calls [`serve`].
pub struct ServerParts {
    /// Routes to add the service to.
    pub routes: RoutesBuilder,
    /// Sets the health of each service name.
    pub health: HealthReporter,
}

/// Health routes (reflection is added where the server is served, when the settings switch it on).
pub fn base_routes() -> ServerParts {
    let (health, health_service) = tonic_health::server::health_reporter();
    let mut routes = RoutesBuilder::default();
    routes.add_service(health_service);
    ServerParts { routes, health }
}

/// `routes` with gRPC reflection (what grpcurl lists) added.
pub fn with_reflection(routes: Routes) -> Routes {
    let reflection = tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(suiji_api::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
        .build_v1()
        .expect("the descriptor sets are valid");
    routes.add_service(reflection)
}

/// Marks `service_name` (e.g. `suiji.catalog.v1.CatalogService`) and the whole server SERVING.
pub async fn set_serving(health: &HealthReporter, service_name: &str) {
    health
        .set_service_status(service_name, ServingStatus::Serving)
        .await;
    health.set_service_status("", ServingStatus::Serving).await;
}

/// Serves `routes` on `listener` until `shutdown`, then lets in-flight calls finish.
pub async fn serve(
    listener: TcpListener,
    routes: Routes,
    tokens: Tokens,
    limits: LimitSettings,
    shutdown: CancellationToken,
) -> Result<(), tonic::transport::Error> {
    Server::builder()
        // Plain HTTP/1.1 as well, for the public pages a service serves beside its API (the publication search).
        .accept_http1(true)
        .timeout(Duration::from_secs(limits.request_timeout_secs.max(1)))
        .layer(tower::limit::GlobalConcurrencyLimitLayer::new(
            limits.max_concurrent_calls.max(1),
        ))
        .trace_fn(|request| {
            let span = tracing::info_span!("grpc", method = %request.uri().path());
            crate::telemetry::set_parent_from_http(&span, request.headers());
            span
        })
        .layer(InterceptorLayer::new(Authenticate { tokens }))
        .layer(crate::limits::PublicRateLimit::new(
            &limits,
            crate::limits::tonic_address,
            crate::limits::has_bearer,
        ))
        .add_routes(routes)
        .serve_with_incoming_shutdown(
            // Without TCP_NODELAY a reply written in more than one piece waits for the client's delayed
            // acknowledgement (~40 ms a call).
            tonic::transport::server::TcpIncoming::from(listener).with_nodelay(Some(true)),
            shutdown.cancelled_owned(),
        )
        .await
}

/// Checks a bearer token when one is presented and puts its [`Identity`] in the request. A call without a
/// token passes on without identity: public calls need none, the others refuse it with [`require`].
#[derive(Clone)]
struct Authenticate {
    tokens: Tokens,
}

impl Interceptor for Authenticate {
    fn call(&mut self, mut request: Request<()>) -> Result<Request<()>, Status> {
        let Some(value) = request.metadata().get("authorization") else {
            return Ok(request);
        };
        let value = value
            .to_str()
            .map_err(|_| Status::unauthenticated("authorization header is not ASCII"))?;
        let token = value.strip_prefix("Bearer ").ok_or_else(|| {
            Status::unauthenticated("authorization header must be `Bearer <token>`")
        })?;
        let identity = self
            .tokens
            .verify(token)
            .map_err(|e| Status::unauthenticated(e.to_string()))?;
        request.extensions_mut().insert(identity);
        Ok(request)
    }
}

/// The caller's identity, or `Unauthenticated`.
pub fn require<T>(request: &Request<T>) -> Result<Identity, Status> {
    request
        .extensions()
        .get::<Identity>()
        .cloned()
        .ok_or_else(|| {
            Status::unauthenticated(
                "this call needs a bearer token (suiji dev prints how to get one)",
            )
        })
}

/// The language the caller reads, from its `accept-language` metadata (the console sends the page's; the command
/// line the one of its locale); English when it names none the catalogs have.
pub fn lang<T>(request: &Request<T>) -> crate::messages::Lang {
    request
        .metadata()
        .get("accept-language")
        .and_then(|v| v.to_str().ok())
        .map(crate::messages::Lang::from_accept)
        .unwrap_or(crate::messages::Lang::En)
}

/// `InvalidArgument` with one `BadRequest` field violation per problem.
pub fn invalid_argument(violations: &Violations) -> Status {
    let details: Vec<FieldViolation> = violations
        .iter()
        .map(|v| {
            let mut fv = FieldViolation::new(&v.field, &v.reason);
            if let Some(zh) = v.localized(crate::messages::Lang::ZhCn) {
                // SCREAMING_SNAKE_CASE, as google.rpc asks of a reason.
                fv.reason = v.code.to_uppercase().replace('-', "_");
                fv.localized_message = Some(tonic_types::LocalizedMessage {
                    locale: crate::messages::Lang::ZhCn.tag().into(),
                    message: zh,
                });
            }
            fv
        })
        .collect();
    Status::with_error_details(
        Code::InvalidArgument,
        violations.to_string(),
        ErrorDetails::with_bad_request(details),
    )
}

/// `NotFound` saying what is missing in English, and in Chinese (a `LocalizedMessage` detail), as
/// [`failed_precondition`].
pub fn not_found(what: &crate::messages::Text) -> Status {
    localized(Code::NotFound, what)
}

/// `FailedPrecondition` saying why in English, and in Chinese (a `LocalizedMessage` detail) when the reason is a
/// message of the catalogs (departments by the names this process knows): the console shows whichever is the page's
/// language.
pub fn failed_precondition(why: &crate::messages::Text) -> Status {
    localized(Code::FailedPrecondition, why)
}

/// A status of `code` with `why` in English, and in Chinese as a `LocalizedMessage` when it is a catalog's message.
fn localized(code: Code, why: &crate::messages::Text) -> Status {
    let english = why.text();
    let mut details = ErrorDetails::new();
    if !why.code().is_empty() || matches!(why, crate::messages::Text::Joined(_)) {
        details.set_localized_message(
            crate::messages::Lang::ZhCn.tag(),
            why.render_with(
                crate::messages::Lang::ZhCn,
                &crate::departments::known_names(),
            ),
        );
    }
    Status::with_error_details(code, english, details)
}

/// `PermissionDenied` naming the field that decided it, with the same `BadRequest` detail; the reason also in
/// Chinese (the violation's and a `LocalizedMessage`), as for [`failed_precondition`].
pub fn permission_denied(field: &str, reason: &crate::messages::Text) -> Status {
    let english = reason.text();
    let mut violation = FieldViolation::new(field, &english);
    let mut details = ErrorDetails::new();
    if !reason.code().is_empty() || matches!(reason, crate::messages::Text::Joined(_)) {
        let zh = reason.render_with(
            crate::messages::Lang::ZhCn,
            &crate::departments::known_names(),
        );
        violation.reason = reason.code().to_uppercase().replace('-', "_");
        violation.localized_message = Some(tonic_types::LocalizedMessage {
            locale: crate::messages::Lang::ZhCn.tag().into(),
            message: zh.clone(),
        });
        details.set_localized_message(crate::messages::Lang::ZhCn.tag(), zh);
    }
    details.set_bad_request(vec![violation]);
    Status::with_error_details(
        Code::PermissionDenied,
        format!("{field}: {english}"),
        details,
    )
}

/// The field violations carried by a status, as `(field, reason)` pairs.
pub fn violations_of(status: &Status) -> Vec<(String, String)> {
    status
        .get_details_bad_request()
        .map(|b| {
            b.field_violations
                .into_iter()
                .map(|v| (v.field, v.description))
                .collect()
        })
        .unwrap_or_default()
}

/// Adds a bearer token and the current trace context to outgoing calls.
#[derive(Clone, Default)]
pub struct Bearer {
    header: Option<tonic::metadata::MetadataValue<tonic::metadata::Ascii>>,
    language: Option<&'static str>,
}

impl Bearer {
    /// Sends `token`; `None` or an empty token (an unset `SUIJI_TOKEN=`) sends no credentials, so a call that
    /// needs none is not refused for a blank one.
    pub fn new(token: Option<&str>) -> Self {
        Self {
            header: token
                .map(str::trim)
                .filter(|t| !t.is_empty())
                .and_then(|t| format!("Bearer {t}").parse().ok()),
            language: None,
        }
    }

    /// Asks the services to word their texts in `lang`.
    pub fn reading(self, lang: crate::messages::Lang) -> Self {
        Self {
            language: Some(lang.tag()),
            ..self
        }
    }

    /// As [`Bearer::new`], for a person at a terminal: the services word their texts (timelines, reasons) in the
    /// language of the terminal's locale (`LC_ALL`, `LC_MESSAGES`, `LANG`; `zh_CN.UTF-8` reads Chinese).
    pub fn for_person(token: Option<&str>) -> Self {
        let locale = ["LC_ALL", "LC_MESSAGES", "LANG"]
            .iter()
            .filter_map(|v| std::env::var(v).ok())
            .find(|v| !v.is_empty())
            .unwrap_or_default();
        let tag = locale.split('.').next().unwrap_or("").replace('_', "-");
        Self::new(token).reading(crate::messages::Lang::from_accept(&tag))
    }
}

impl Interceptor for Bearer {
    fn call(&mut self, mut request: Request<()>) -> Result<Request<()>, Status> {
        if let Some(header) = &self.header {
            request
                .metadata_mut()
                .insert("authorization", header.clone());
        }
        if let Some(language) = self.language {
            request.metadata_mut().insert(
                "accept-language",
                tonic::metadata::MetadataValue::from_static(language),
            );
        }
        crate::telemetry::inject_into_metadata(request.metadata_mut());
        Ok(request)
    }
}

/// A lazily connecting channel to `address` (`http://host:port`).
pub fn channel(address: &str) -> Result<Channel, tonic::transport::Error> {
    Ok(Endpoint::from_shared(address.to_string())?
        .connect_timeout(Duration::from_secs(5))
        .tcp_nodelay(true)
        .connect_lazy())
}

/// Epoch milliseconds as a protobuf `Timestamp`.
pub fn timestamp(ms: i64) -> prost_types::Timestamp {
    prost_types::Timestamp {
        seconds: ms.div_euclid(1000),
        nanos: (ms.rem_euclid(1000) * 1_000_000) as i32,
    }
}

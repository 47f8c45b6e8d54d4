//! The browser's calls to the services: gRPC-Web requests taken from the signed-in person's page and forwarded to
//! the service that owns the method, with the person's access token attached. The services decide and audit as for
//! any caller; the console adds nothing but who is calling, and refuses a call without a live session or without
//! the session's CSRF token in its header.
//!
//! The translation from gRPC-Web to gRPC (trailers as the body's last frame) is tonic-web's, run here in front of
//! the channel rather than in the services: tonic-web answers every plain HTTP/1.1 request with 400, and the
//! services serve their public pages (扫码入企 `/verify`, the results search `/public`) on the same port.

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, Request, Response, header};
use http_body_util::Limited;
use tonic::Code;
use tonic::transport::Channel;
use tower::ServiceExt;

use crate::Console;

/// The largest request the browser may send: forms, not files (imports go through their own upload).
const MAX_REQUEST: usize = 4 << 20;

/// How long the access token minted for one forwarded call is valid.
pub const TOKEN_TTL: std::time::Duration = std::time::Duration::from_secs(300);

/// The header each change carries the session's CSRF token in.
pub const CSRF_HEADER: &str = "x-suiji-csrf";

/// The channel of each service the browser may call.
#[derive(Clone)]
pub struct Services {
    /// `suiji.catalog.v1`.
    pub catalog: Channel,
    /// `suiji.directories.v1`.
    pub directories: Channel,
    /// `suiji.planning.v1`.
    pub planning: Channel,
    /// `suiji.draw.v1`.
    pub draw: Channel,
    /// `suiji.inspection.v1`, and the working-day calendar (`suiji.admin.v1.CalendarService`) it counts with.
    pub inspection: Channel,
    /// `suiji.publication.v1`.
    pub publication: Channel,
}

impl Services {
    /// The service owning `method` (`suiji.inspection.v1.InspectionService/ListSagas`): its name, its channel and
    /// the method's path there. The audit trail, which every service keeps, is called at the service named first
    /// (`draw/suiji.admin.v1.AuditService/VerifyChain`).
    pub fn route<'m>(&self, method: &'m str) -> Option<(&'static str, &Channel, &'m str)> {
        if let Some((at, rest)) = method.split_once('/')
            && rest.starts_with(AUDIT)
        {
            let (name, channel) = self.named(at)?;
            return method_name(rest).map(|_| (name, channel, rest));
        }
        let service = method_name(method)?;
        let package = service.rsplit_once('.')?.0;
        let name = match package {
            "suiji.catalog.v1" => "catalog",
            "suiji.directories.v1" => "directories",
            "suiji.planning.v1" => "planning",
            "suiji.draw.v1" => "draw",
            "suiji.inspection.v1" => "inspection",
            "suiji.publication.v1" => "publication",
            "suiji.admin.v1" if service == "suiji.admin.v1.CalendarService" => "inspection",
            _ => return None,
        };
        self.named(name)
            .map(|(name, channel)| (name, channel, method))
    }

    /// The service called `name` and its channel.
    fn named(&self, name: &str) -> Option<(&'static str, &Channel)> {
        Some(match name {
            "catalog" => ("catalog", &self.catalog),
            "directories" => ("directories", &self.directories),
            "planning" => ("planning", &self.planning),
            "draw" => ("draw", &self.draw),
            "inspection" => ("inspection", &self.inspection),
            "publication" => ("publication", &self.publication),
            _ => return None,
        })
    }
}

/// The audit trail's gRPC service, which every service serves.
const AUDIT: &str = "suiji.admin.v1.AuditService/";

/// The service part of a `package.Service/Method` path with one non-empty method name.
fn method_name(method: &str) -> Option<&str> {
    let (service, name) = method.split_once('/')?;
    (!name.is_empty() && !name.contains('/')).then_some(service)
}

/// A gRPC-Web answer with no message, only a status (a "trailers-only" response).
pub fn status_only(code: Code, message: &str) -> Response<Body> {
    let mut response = Response::new(Body::empty());
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/grpc-web+proto"),
    );
    headers.insert("grpc-status", HeaderValue::from(code as i32));
    let encoded: String = message
        .bytes()
        .map(|b| {
            if (0x20..0x7f).contains(&b) && b != b'%' {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    if let Ok(value) = HeaderValue::from_str(&encoded) {
        headers.insert("grpc-message", value);
    }
    response
}

/// `POST /console/rpc/{package.Service/Method}`.
pub async fn forward(
    State(c): State<Console>,
    Path(method): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Response<Body> {
    let session = match c.session(&headers).await {
        Ok(Some(session)) => session,
        Ok(None) => return status_only(Code::Unauthenticated, "sign in again"),
        Err(error) => {
            tracing::error!(%error, "reading a session");
            return status_only(Code::Unavailable, "the console's database is unavailable");
        }
    };
    let csrf = headers.get(CSRF_HEADER).map(HeaderValue::as_bytes);
    if csrf != Some(session.csrf.as_bytes()) {
        return status_only(
            Code::PermissionDenied,
            "the request does not carry this session's CSRF token",
        );
    }
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if !content_type.starts_with("application/grpc-web") {
        return status_only(
            Code::InvalidArgument,
            "the console forwards gRPC-Web requests only",
        );
    }
    let Some((_, channel, path)) = c.services.route(&method) else {
        return status_only(Code::Unimplemented, &format!("no service offers {method}"));
    };
    let token = match c.token_for(&session) {
        Ok(token) => token,
        Err(error) => return status_only(Code::Unavailable, &error.message),
    };
    let mut request = Request::post(format!("/{path}"))
        .body(Limited::new(body, MAX_REQUEST))
        .expect("a path and a body make a request");
    let forwarded = request.headers_mut();
    for name in [
        header::CONTENT_TYPE,
        header::ACCEPT,
        // The page's language: the services word their texts in it.
        header::ACCEPT_LANGUAGE,
        header::HeaderName::from_static("x-grpc-web"),
        header::HeaderName::from_static("grpc-timeout"),
        header::HeaderName::from_static("x-user-agent"),
    ] {
        if let Some(value) = headers.get(&name) {
            forwarded.insert(name, value.clone());
        }
    }
    match HeaderValue::from_str(&format!("Bearer {token}")) {
        Ok(value) => {
            forwarded.insert(header::AUTHORIZATION, value);
        }
        Err(_) => return status_only(Code::Internal, "the access token is not a header"),
    }
    let mut trace = tonic::metadata::MetadataMap::new();
    suiji_platform::telemetry::inject_into_metadata(&mut trace);
    forwarded.extend(trace.into_headers());
    let web = tower::Layer::layer(&tonic_web::GrpcWebLayer::new(), channel.clone());
    match web.oneshot(request).await {
        Ok(response) => {
            let mut response = response.map(Body::new);
            response
                .headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            response
        }
        Err(error) => {
            tracing::warn!(%error, %method, "forwarding a call");
            status_only(
                Code::Unavailable,
                &format!("the service of {method} is unavailable"),
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn services() -> Services {
        let c =
            |port: u16| suiji_platform::grpc::channel(&format!("http://127.0.0.1:{port}")).unwrap();
        Services {
            catalog: c(1),
            directories: c(2),
            planning: c(3),
            draw: c(4),
            inspection: c(5),
            publication: c(6),
        }
    }

    #[tokio::test]
    async fn methods_go_to_the_service_of_their_package() {
        let s = services();
        assert!(
            s.route("suiji.catalog.v1.CatalogService/ListItems")
                .is_some()
        );
        assert!(
            s.route("suiji.admin.v1.CalendarService/GetCalendar")
                .is_some()
        );
        let (name, _, path) = s
            .route("draw/suiji.admin.v1.AuditService/VerifyChain")
            .unwrap();
        assert_eq!(
            (name, path),
            ("draw", "suiji.admin.v1.AuditService/VerifyChain")
        );
        for refused in [
            "grpc.reflection.v1.ServerReflection/ServerReflectionInfo",
            "grpc.health.v1.Health/Check",
            "suiji.admin.v1.Other/Call",
            "suiji.catalog.v1.CatalogService",
            "suiji.catalog.v1.CatalogService/",
            "suiji.catalog.v1.CatalogService/A/B",
            "suiji.unknown.v1.X/Y",
            "suiji.admin.v1.AuditService/VerifyChain",
            "nowhere/suiji.admin.v1.AuditService/VerifyChain",
            "draw/suiji.admin.v1.AuditService/",
            "draw/suiji.admin.v1.AuditService/A/B",
            "draw/suiji.catalog.v1.CatalogService/ListItems",
        ] {
            assert!(s.route(refused).is_none(), "{refused}");
        }
    }
}

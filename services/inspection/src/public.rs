//! The target's side of 扫码入企 over plain HTTP, beside the gRPC API on the same port: the verification page
//! (`/verify?code=…`), its JSON answer (`/verify/check?code=…`, which records the check like `VerifyVisitCode`)
//! and the QR code a team shows (`/verify/qr.svg?code=…`), which opens the page with the code filled in.

use axum::Json;
use axum::extract::{Query, State};
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use serde::Deserialize;

use crate::grpc::verified_pb;
use crate::service::Sagas;

const PAGE: &str = include_str!("verify.html");
/// The page's security headers: only its own inline script and style run, no framing.
static PAGE_HEADERS: std::sync::LazyLock<[(axum::http::HeaderName, axum::http::HeaderValue); 4]> =
    std::sync::LazyLock::new(|| suiji_platform::page::headers(PAGE));

/// The page a visit's code opens: `<public_url>/verify?code=…`.
pub fn verification_url(public_url: &str, code: &str) -> String {
    format!("{}/verify?code={code}", public_url.trim_end_matches('/'))
}

/// The QR code of `url` as an SVG image.
pub fn qr_svg(url: &str) -> Result<String, qrcode::types::QrError> {
    let code = qrcode::QrCode::with_error_correction_level(url.as_bytes(), qrcode::EcLevel::M)?;
    Ok(code
        .render::<qrcode::render::svg::Color<'_>>()
        .min_dimensions(240, 240)
        .quiet_zone(true)
        .build())
}

/// The routes, to merge into the service's router.
pub fn router(sagas: Sagas) -> axum::Router {
    axum::Router::new()
        .route(
            "/verify",
            get(|| async { (PAGE_HEADERS.clone(), Html(PAGE)) }),
        )
        .route("/verify/check", get(check))
        .route("/verify/qr.svg", get(qr))
        .with_state(sagas)
}

#[derive(Debug, Deserialize)]
struct Code {
    #[serde(default)]
    code: String,
}

/// A well-formed code: 16 hexadecimal digits.
fn well_formed(code: &str) -> bool {
    code.len() == 16 && code.bytes().all(|b| b.is_ascii_hexdigit())
}

async fn check(State(sagas): State<Sagas>, Query(q): Query<Code>) -> Response {
    let found = match sagas.verify_code(q.code.trim()).await {
        Ok(found) => found,
        Err(e) => {
            tracing::error!(error = %e, "verification failed");
            let body =
                serde_json::json!({ "valid": false, "reason": "核验暂时无法完成，请稍后再试" });
            return (StatusCode::SERVICE_UNAVAILABLE, Json(body)).into_response();
        }
    };
    let r = verified_pb(found.as_ref());
    Json(serde_json::json!({
        "valid": r.valid,
        "reason": r.reason,
        "task_name": r.task_name,
        "lead_department_code": r.lead_department_code,
        "scheduled_for": r.scheduled_for,
        "team": r.team.iter().map(|m| serde_json::json!({
            "name": m.name,
            "department_code": m.department_code,
            "certificate_no": m.certificate_no,
            "certificate_expires": m.certificate_expires,
            "certificate_valid": m.certificate_valid,
            "leader": m.leader,
        })).collect::<Vec<_>>(),
        "checks": r.checks.iter().map(|c| serde_json::json!({
            "department_code": c.department_code,
            "item_code": c.item_code,
            "description": c.description,
        })).collect::<Vec<_>>(),
    }))
    .into_response()
}

async fn qr(State(sagas): State<Sagas>, Query(q): Query<Code>) -> Response {
    let code = q.code.trim().to_uppercase();
    if !well_formed(&code) {
        return (StatusCode::BAD_REQUEST, "code: 16 hexadecimal digits").into_response();
    }
    match qr_svg(&verification_url(sagas.public_url(), &code)) {
        Ok(svg) => ([(header::CONTENT_TYPE, "image/svg+xml")], svg).into_response(),
        Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_qr_code_carries_the_page_with_the_code() {
        assert_eq!(
            verification_url("https://suiji.example.gov.cn/", "0123456789ABCDEF"),
            "https://suiji.example.gov.cn/verify?code=0123456789ABCDEF"
        );
        let svg = qr_svg("https://suiji.example.gov.cn/verify?code=0123456789ABCDEF").unwrap();
        assert!(
            svg.starts_with("<?xml") && svg.contains("<svg") && svg.contains("<path"),
            "{svg}"
        );
        assert!(well_formed("0123456789ABCDEF"));
        assert!(!well_formed("0123456789ABCDEG"));
        assert!(!well_formed("0123"));
    }
}

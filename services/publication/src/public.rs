//! The public face of publication over plain HTTP, served beside the gRPC API on the same port: the search page
//! (`/public`), its JSON feed (`/public/results?q=…`), the code table (`/public/codes`) and the audit chain heads
//! of the other services this one keeps (`/public/anchors`). No token is needed, and nothing but published records
//! and those heads can be reached: the feed reads the public records only.

use axum::Json;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use serde::Deserialize;
use suiji_platform::error::Error;
use suiji_platform::paging;

use crate::service::Publications;

/// The search page.
const PAGE: &str = include_str!("public.html");
/// The page's security headers: only its own inline script and style run, no framing.
static PAGE_HEADERS: std::sync::LazyLock<[(axum::http::HeaderName, axum::http::HeaderValue); 4]> =
    std::sync::LazyLock::new(|| suiji_platform::page::headers(PAGE));

/// Largest page of the feed.
const MAX_FEED_PAGE: i32 = 200;

/// The routes, to merge into the service's router.
pub fn router(publications: Publications) -> axum::Router {
    axum::Router::new()
        .route(
            "/public",
            get(|| async { (PAGE_HEADERS.clone(), Html(PAGE)) }),
        )
        .route("/public/results", get(results))
        .route("/public/codes", get(codes))
        .route("/public/anchors", get(anchors))
        .with_state(publications)
}

#[derive(Debug, Deserialize)]
struct Search {
    #[serde(default)]
    q: String,
    #[serde(default)]
    page_size: i32,
    #[serde(default)]
    page_token: String,
}

fn error(status: StatusCode, field: &str, reason: &str) -> Response {
    let body = serde_json::json!({ "error": { "field": field, "reason": reason } });
    (status, Json(body)).into_response()
}

async fn results(State(p): State<Publications>, Query(s): Query<Search>) -> Response {
    let page = match paging::page(s.page_size.min(MAX_FEED_PAGE), &s.page_token) {
        Ok(page) => page,
        Err(v) => {
            let first = v.iter().next();
            return error(
                StatusCode::BAD_REQUEST,
                first.map_or("", |x| x.field.as_str()),
                first.map_or("", |x| x.reason.as_str()),
            );
        }
    };
    match p.search(&s.q, &page).await {
        Ok((records, next)) => {
            Json(serde_json::json!({ "records": records, "next_page_token": next })).into_response()
        }
        Err(Error::Invalid(v)) => {
            let first = v.iter().next();
            error(
                StatusCode::BAD_REQUEST,
                first.map_or("q", |x| {
                    if x.field == "query" {
                        "q"
                    } else {
                        x.field.as_str()
                    }
                }),
                first.map_or("", |x| x.reason.as_str()),
            )
        }
        Err(e) => {
            tracing::error!(error = %e, "public search failed");
            error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "",
                "the search failed; try again",
            )
        }
    }
}

async fn codes(State(p): State<Publications>) -> Response {
    let t = p.tables().current();
    let codes: Vec<_> = t
        .current()
        .map(|c| serde_json::json!({ "code": c.code, "text": c.text, "problem": c.problem }))
        .collect();
    Json(serde_json::json!({ "version": t.version, "codes": codes })).into_response()
}

/// The audit chain heads of the other services this one keeps, newest first (the page's 审计链锚定).
async fn anchors(State(p): State<Publications>) -> Response {
    match suiji_platform::anchors::latest(p.db(), 60).await {
        Ok(heads) => {
            let heads: Vec<_> = heads
                .into_iter()
                .map(|(service, a)| {
                    // In China's time, as the page's other times.
                    let time = chrono::DateTime::from_timestamp_millis(a.at_ms + 8 * 3_600_000)
                        .map(|t| t.format("%Y-%m-%d %H:%M").to_string())
                        .unwrap_or_default();
                    serde_json::json!({ "service": service, "seq": a.seq, "hash": a.hash, "time": time })
                })
                .collect();
            Json(serde_json::json!({ "anchors": heads })).into_response()
        }
        Err(e) => {
            tracing::error!(error = %e, "reading the anchors failed");
            error(StatusCode::INTERNAL_SERVER_ERROR, "", "try again")
        }
    }
}

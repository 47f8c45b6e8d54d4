//! Downloads of whole lists from the browser: the directory of targets as CSV, streamed from the directories
//! service through to the person's disk a page at a time (the console holds one page, whatever the directory's size),
//! with the person's own access token, so the service decides and audits as for any caller.

use axum::Extension;
use axum::body::Body;
use axum::extract::{Query, State};
use axum::http::header;
use axum::response::IntoResponse;
use futures::StreamExt;
use serde::Deserialize;
use suiji_api::directories::v1 as pb;
use suiji_api::directories::v1::directories_service_client::DirectoriesServiceClient;
use suiji_platform::grpc::Bearer;

use crate::import::percent_encoded;
use crate::{ApiError, ApiResult, Caller, Console};

/// The targets page's filters, as its URL keeps them.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct TargetsFilter {
    /// Name contains.
    q: String,
    /// Region code.
    region: String,
    /// Industry code prefix.
    industry: String,
    /// Risk level, as the enum's name without its prefix (`HIGH`).
    risk: String,
    /// Operating status, likewise (`OPERATING`).
    status: String,
}

fn one(value: &str) -> Vec<String> {
    if value.trim().is_empty() {
        Vec::new()
    } else {
        vec![value.trim().to_string()]
    }
}

/// `GET /console/api/export/targets?q=&region=&industry=&risk=&status=`: the targets the page's filters select,
/// as the directories' CSV export.
pub async fn targets(
    State(c): State<Console>,
    Extension(caller): Extension<Caller>,
    Query(f): Query<TargetsFilter>,
) -> ApiResult {
    let token = c.token_for(&caller.session()?)?;
    let mut filter = pb::TargetFilter {
        region_codes: one(&f.region),
        industry_prefixes: one(&f.industry),
        ..Default::default()
    };
    if !f.risk.is_empty() {
        let level =
            pb::RiskLevel::from_str_name(&format!("RISK_LEVEL_{}", f.risk)).ok_or_else(|| {
                ApiError::invalid("risk", format!("{:?} is not a risk level", f.risk))
            })?;
        filter.risk_levels.push(level as i32);
    }
    if !f.status.is_empty() {
        let status = pb::OperatingStatus::from_str_name(&format!("OPERATING_STATUS_{}", f.status))
            .ok_or_else(|| {
                ApiError::invalid(
                    "status",
                    format!("{:?} is not an operating status", f.status),
                )
            })?;
        filter.statuses.push(status as i32);
    }
    let mut client = DirectoriesServiceClient::with_interceptor(
        c.services.directories.clone(),
        Bearer::new(Some(&token)),
    )
    .max_decoding_message_size(64 << 20);
    // The first message tells whether the call was refused: a refusal is an error page, not a broken download.
    let mut chunks = client
        .export_targets(pb::ExportTargetsRequest {
            filter: Some(filter),
            name_contains: f.q.trim().to_string(),
        })
        .await?
        .into_inner();
    let first = chunks.message().await?.map(|m| m.chunk).unwrap_or_default();
    let rest = chunks.map(|m| {
        m.map(|m| m.chunk).map_err(|status| {
            tracing::warn!(%status, "exporting targets broke off");
            std::io::Error::other(status.message().to_string())
        })
    });
    let body = futures::stream::once(async move { Ok::<_, std::io::Error>(first) }).chain(rest);
    let name = format!(
        "检查对象名录-{}.csv",
        suiji_platform::clock::today().format("%Y%m%d")
    );
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename*=UTF-8''{}", percent_encoded(&name)),
            ),
            (header::CACHE_CONTROL, "no-store".to_string()),
        ],
        Body::from_stream(body),
    )
        .into_response())
}

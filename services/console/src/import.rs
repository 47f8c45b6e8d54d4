//! Bulk imports from the browser: a clerk's file (CSV in UTF-8 or GB18030, or XLSX) streamed on to the directories
//! service as it arrives and kept on disk meanwhile, every rejection named by line and column, and the rejected
//! rows offered back as a file in the upload's own format and encoding with the reasons, to correct and upload
//! again (what `suiji import --rejected` writes).

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::{Extension, Json};
use futures::StreamExt;
use serde::Deserialize;
use suiji_api::directories::v1::directories_service_client::DirectoriesServiceClient;
use suiji_directories::client::{Reply, What};
use suiji_platform::grpc::Bearer;
use tokio::io::AsyncWriteExt;

use crate::{ApiError, ApiResult, Caller, Console};

/// The largest upload taken: a province's directory of targets as CSV.
pub const MAX_UPLOAD: usize = 2 << 30;

/// Rejections shown on the page; all of them are in the rejected-rows file.
const SHOWN: usize = 500;

/// A rejected-rows file ready to download: its name and bytes.
pub type RejectedFile = Arc<(String, Vec<u8>)>;

#[derive(Deserialize)]
pub struct Upload {
    /// The file's name as the clerk chose it: it tells CSV from XLSX and names the rejected-rows file.
    name: String,
}

fn internal(what: impl std::fmt::Display) -> ApiError {
    ApiError::new(
        StatusCode::INTERNAL_SERVER_ERROR,
        "Internal",
        what.to_string(),
    )
}

/// Imports the request's body into `what` (`targets` or `inspectors`) as the signed-in clerk.
pub async fn import(
    State(c): State<Console>,
    Extension(caller): Extension<Caller>,
    Path(what): Path<String>,
    Query(upload): Query<Upload>,
    headers: axum::http::HeaderMap,
    body: Body,
) -> ApiResult {
    let token = c.token_for(&caller.session()?)?;
    let what = match what.as_str() {
        "targets" => What::Targets,
        "inspectors" => What::Inspectors,
        other => {
            return Err(ApiError::invalid(
                "what",
                format!("{other:?} is not targets or inspectors"),
            ));
        }
    };
    if upload.name.trim().is_empty() {
        return Err(ApiError::invalid("name", "the file's name is required"));
    }
    let directories = c.services.directories.clone();
    // The upload goes on to the directories as it arrives, and to a spool file for the rejected rows after.
    let spool = std::env::temp_dir().join(format!("suiji-console-import-{}", crate::random_id()?));
    let mut file = tokio::fs::File::create(&spool).await.map_err(internal)?;
    let (tx, rx) = tokio::sync::mpsc::channel::<Vec<u8>>(4);
    let copying = tokio::spawn(async move {
        let mut stream = body.into_data_stream();
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(|e| e.to_string())?;
            file.write_all(&chunk).await.map_err(|e| e.to_string())?;
            if tx.send(chunk.to_vec()).await.is_err() {
                break;
            }
        }
        file.flush().await.map_err(|e| e.to_string())
    });
    let chunks =
        futures::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|c| (c, rx)) });
    let mut client = DirectoriesServiceClient::with_interceptor(
        directories,
        // The row report is worded in the page's language.
        Bearer::new(Some(&token)).reading(
            headers
                .get(axum::http::header::ACCEPT_LANGUAGE)
                .and_then(|v| v.to_str().ok())
                .map(suiji_platform::messages::Lang::from_accept)
                .unwrap_or(suiji_platform::messages::Lang::ZhCn),
        ),
    )
    .max_decoding_message_size(8 << 20);
    let outcome = async {
        let mut replies =
            suiji_directories::client::import(&mut client, what, &upload.name, chunks).await?;
        let mut summary = None;
        let mut rejections = Vec::new();
        while let Some(reply) = replies.next().await {
            match reply? {
                Reply::Rejected(r) => rejections.push(r),
                Reply::Summary(s) => summary = Some(s),
                Reply::Progress(_) => {}
            }
        }
        Ok::<_, tonic::Status>((summary, rejections))
    }
    .await;
    let copied = copying.await.map_err(internal)?;
    let result = async {
        let (summary, rejections) = outcome?;
        copied.map_err(|e| internal(format!("reading the upload: {e}")))?;
        let summary = summary.ok_or_else(|| internal("the import ended without a summary"))?;
        let mut rejected_file = serde_json::Value::Null;
        if !rejections.is_empty() {
            let (name, bytes) = rejected_rows(&spool, &upload.name, &rejections).await?;
            let id = crate::random_id()?;
            c.rejected.insert(id.clone(), Arc::new((name.clone(), bytes)));
            rejected_file = serde_json::json!({ "id": id, "name": name });
        }
        let shown: Vec<serde_json::Value> = rejections
            .iter()
            .take(SHOWN)
            .map(|r| {
                serde_json::json!({
                    "line": r.line, "column": r.column, "field": r.field, "reason": r.reason,
                })
            })
            .collect();
        Ok::<_, ApiError>(Json(serde_json::json!({
            "format": if suiji_directories::client::file_format(&upload.name) == suiji_directories::import::Format::Xlsx { "xlsx" } else { "csv" },
            "rows_read": summary.rows_read,
            "accepted": summary.accepted,
            "created": summary.created,
            "rejected": summary.rejected,
            "listed": summary.rejections_listed,
            "rejections": shown,
            "rejected_file": rejected_file,
        }))
        .into_response())
    }
    .await;
    let _ = tokio::fs::remove_file(&spool).await;
    result
}

/// The rejected rows of the spooled upload, with their reasons, and the name to offer them under.
async fn rejected_rows(
    spool: &std::path::Path,
    name: &str,
    rejections: &[suiji_api::directories::v1::RejectedRow],
) -> Result<(String, Vec<u8>), ApiError> {
    let format = suiji_directories::client::file_format(name);
    let reasons = suiji_directories::client::reasons_by_line(rejections);
    let source = std::fs::File::open(spool).map_err(internal)?;
    let bytes = tokio::task::spawn_blocking(move || {
        let mut out = Vec::new();
        suiji_directories::rejected::write(
            format,
            std::io::BufReader::new(source),
            &reasons,
            &mut out,
        )
        .map(|_| out)
    })
    .await
    .map_err(internal)?
    .map_err(internal)?;
    let (stem, extension) = name.rsplit_once('.').unwrap_or((name, "csv"));
    Ok((format!("{stem}-被拒行.{extension}"), bytes))
}

/// A rejected-rows file, once made for the signed-in clerk's import.
pub async fn rejected(
    State(c): State<Console>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
) -> ApiResult {
    caller.session()?;
    let Some(file) = c.rejected.get(&id) else {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "NotFound",
            "no such rejected-rows file (they are kept an hour)",
        ));
    };
    let (name, bytes) = (file.0.clone(), file.1.clone());
    let content_type = if name.to_lowercase().ends_with(".xlsx") {
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    } else {
        "text/csv"
    };
    let disposition = format!("attachment; filename*=UTF-8''{}", percent_encoded(&name));
    Ok((
        [
            (header::CONTENT_TYPE, content_type.to_string()),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        bytes,
    )
        .into_response())
}

/// `text` with every byte but unreserved ASCII percent-encoded (RFC 5987 `filename*`).
pub fn percent_encoded(text: &str) -> String {
    text.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

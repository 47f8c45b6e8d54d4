//! What a caller of the import needs, whatever sends the file (the CLI from a disk, the console from a browser):
//! the file streamed to `ImportTargets` or `ImportInspectors` and the replies as one kind of message, and the
//! words a rejection is shown in.

use std::pin::Pin;

use futures::{Stream, StreamExt};
use suiji_api::directories::v1 as pb;
use suiji_api::directories::v1::directories_service_client::DirectoriesServiceClient;
use tonic::codegen::InterceptedService;
use tonic::transport::Channel;

/// The directories service, called with a token.
pub type Client =
    DirectoriesServiceClient<InterceptedService<Channel, suiji_platform::grpc::Bearer>>;

/// What a file holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum What {
    /// Inspection targets.
    Targets,
    /// Inspectors.
    Inspectors,
}

/// A message of an import reply, whatever the record type.
#[derive(Debug)]
pub enum Reply {
    /// Counts so far.
    Progress(pb::ImportProgress),
    /// A row refused.
    Rejected(pb::RejectedRow),
    /// The outcome, last.
    Summary(pb::ImportSummary),
}

/// The replies of an import.
pub type Replies = Pin<Box<dyn Stream<Item = Result<Reply, tonic::Status>> + Send>>;

/// The format of a file to import, by its name: `.xlsx` is a workbook, anything else CSV.
pub fn format_of(file_name: &str) -> pb::FileFormat {
    if file_name.to_lowercase().ends_with(".xlsx") {
        pb::FileFormat::Xlsx
    } else {
        pb::FileFormat::Csv
    }
}

/// Streams `chunks` of the file `file_name` to the import of `what`; its replies.
pub async fn import(
    client: &mut Client,
    what: What,
    file_name: &str,
    chunks: impl Stream<Item = Vec<u8>> + Send + 'static,
) -> Result<Replies, tonic::Status> {
    let header = pb::ImportHeader {
        file_name: file_name.to_string(),
        format: format_of(file_name) as i32,
    };
    Ok(match what {
        What::Targets => {
            use pb::import_targets_request::Part;
            use pb::import_targets_response::Event;
            let outgoing = futures::stream::once(async move {
                pb::ImportTargetsRequest {
                    part: Some(Part::Header(header)),
                }
            })
            .chain(chunks.map(|c| pb::ImportTargetsRequest {
                part: Some(Part::Chunk(c)),
            }));
            let stream = client.import_targets(outgoing).await?.into_inner();
            Box::pin(stream.filter_map(|r| async move {
                match r.map(|r| r.event) {
                    Ok(Some(Event::Progress(p))) => Some(Ok(Reply::Progress(p))),
                    Ok(Some(Event::Rejected(r))) => Some(Ok(Reply::Rejected(r))),
                    Ok(Some(Event::Summary(s))) => Some(Ok(Reply::Summary(s))),
                    Ok(None) => None,
                    Err(status) => Some(Err(status)),
                }
            }))
        }
        What::Inspectors => {
            use pb::import_inspectors_request::Part;
            use pb::import_inspectors_response::Event;
            let outgoing = futures::stream::once(async move {
                pb::ImportInspectorsRequest {
                    part: Some(Part::Header(header)),
                }
            })
            .chain(chunks.map(|c| pb::ImportInspectorsRequest {
                part: Some(Part::Chunk(c)),
            }));
            let stream = client.import_inspectors(outgoing).await?.into_inner();
            Box::pin(stream.filter_map(|r| async move {
                match r.map(|r| r.event) {
                    Ok(Some(Event::Progress(p))) => Some(Ok(Reply::Progress(p))),
                    Ok(Some(Event::Rejected(r))) => Some(Ok(Reply::Rejected(r))),
                    Ok(Some(Event::Summary(s))) => Some(Ok(Reply::Summary(s))),
                    Ok(None) => None,
                    Err(status) => Some(Err(status)),
                }
            }))
        }
    })
}

/// A rejection's column and reason: `column C (credit_code): …`, as the CLI prints it and the rejected-rows file
/// gives it.
pub fn located(r: &pb::RejectedRow) -> String {
    match (r.column.as_str(), r.field.as_str()) {
        ("", "") => r.reason.clone(),
        ("", field) => format!("{field}: {}", r.reason),
        (column, field) => format!("column {column} ({field}): {}", r.reason),
    }
}

/// The reasons of `rejections` by line, for [`crate::rejected::write`].
pub fn reasons_by_line(
    rejections: &[pb::RejectedRow],
) -> std::collections::BTreeMap<u64, Vec<String>> {
    let mut reasons = std::collections::BTreeMap::<u64, Vec<String>>::new();
    for r in rejections {
        reasons.entry(r.line).or_default().push(located(r));
    }
    reasons
}

/// The format of the rejected-rows file of an upload named `file_name`.
pub fn file_format(file_name: &str) -> crate::import::Format {
    match format_of(file_name) {
        pb::FileFormat::Xlsx => crate::import::Format::Xlsx,
        _ => crate::import::Format::Csv,
    }
}

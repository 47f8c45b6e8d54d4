//! `suiji import targets FILE`: streams a file to the directories service and shows its progress and every
//! rejected row.

use std::io::{IsTerminal, Write};

use anyhow::Context;
use clap::{Args, Subcommand};
use futures::StreamExt;
use suiji_api::directories::v1 as pb;
use suiji_api::directories::v1::directories_service_client::DirectoriesServiceClient;
use suiji_platform::grpc::{Bearer, channel};
use tokio::io::AsyncReadExt;

/// Where the directories service is and who calls it.
#[derive(Args)]
pub struct Directories {
    /// Address of the directories service.
    #[arg(
        long,
        global = true,
        env = "SUIJI_DIRECTORIES_ADDR",
        default_value = "http://127.0.0.1:50052"
    )]
    addr: String,
    /// Bearer token (importing needs the directories.editor role).
    #[arg(long, global = true, env = "SUIJI_TOKEN", hide_env_values = true)]
    token: Option<String>,
}

impl Directories {
    fn client(&self) -> anyhow::Result<Client> {
        client(&self.addr, self.token.as_deref())
    }
}

type Client =
    DirectoriesServiceClient<tonic::codegen::InterceptedService<tonic::transport::Channel, Bearer>>;

fn client(addr: &str, token: Option<&str>) -> anyhow::Result<Client> {
    Ok(
        DirectoriesServiceClient::with_interceptor(channel(addr)?, Bearer::for_person(token))
            .max_decoding_message_size(8 << 20),
    )
}

/// Arguments of `suiji import`.
#[derive(Args)]
pub struct ImportArgs {
    #[command(flatten)]
    service: Directories,
    #[command(subcommand)]
    what: ImportWhat,
}

#[derive(Subcommand)]
enum ImportWhat {
    /// Inspection targets from a CSV file (UTF-8 or GB18030/GBK) or an XLSX workbook (first sheet).
    Targets(FileArgs),
    /// Inspectors, in the same formats.
    Inspectors(FileArgs),
}

/// The file to import, and where its rejected rows go.
#[derive(Args)]
struct FileArgs {
    /// The file.
    file: std::path::PathBuf,
    /// Write the rejected rows here, in the file's own format and encoding with a last column giving the
    /// reasons (错误原因): correct them there and import that file again.
    #[arg(long)]
    rejected: Option<std::path::PathBuf>,
}

pub use suiji_directories::client::What;
use suiji_directories::client::{Reply, format_of, located};

/// Streams `file` to the import of `what` and returns the summary and the rejections listed; shows progress (on a
/// terminal) and the rejections unless quiet.
pub async fn import_file(
    addr: &str,
    token: Option<&str>,
    what: What,
    file: &std::path::Path,
    quiet: bool,
) -> anyhow::Result<(pb::ImportSummary, Vec<pb::RejectedRow>)> {
    let mut client = client(addr, token)?;
    let reader = tokio::fs::File::open(file)
        .await
        .with_context(|| format!("opening {}", file.display()))?;
    let file_name = file
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let format = format_of(&file_name);
    let chunks = futures::stream::unfold(reader, |mut reader| async move {
        let mut buf = vec![0u8; 256 * 1024];
        match reader.read(&mut buf).await {
            Ok(0) => None,
            Ok(n) => {
                buf.truncate(n);
                Some((buf, reader))
            }
            Err(error) => {
                eprintln!("reading the file failed: {error}; the rest is not sent");
                None
            }
        }
    });
    let mut replies =
        suiji_directories::client::import(&mut client, what, &file_name, chunks).await?;
    let mut summary = None;
    let mut rejections = Vec::new();
    // The running count is drawn on one terminal line and wiped before anything else is printed, so it never
    // runs into the rejections or the summary; where standard error is not a terminal it is not drawn.
    let progress = Progress(!quiet && std::io::stderr().is_terminal());
    let row = if format == pb::FileFormat::Xlsx {
        "row"
    } else {
        "line"
    };
    while let Some(reply) = replies.next().await {
        match reply? {
            Reply::Progress(p) => progress.show(&format!(
                "{} rows read, {} accepted, {} rejected",
                p.rows_read, p.accepted, p.rejected
            )),
            Reply::Rejected(r) => {
                if !quiet {
                    progress.clear();
                    println!("{}", rejection_line(row, &r));
                }
                rejections.push(r);
            }
            Reply::Summary(s) => summary = Some(s),
        }
    }
    progress.clear();
    let summary = summary.context("the service ended the import without a summary")?;
    Ok((summary, rejections))
}

/// One rejection as printed: `line 3: column C (credit_code): …`.
fn rejection_line(row: &str, r: &pb::RejectedRow) -> String {
    format!("{row} {}: {}", r.line, located(r))
}

/// A running count on standard error, when it is a terminal.
struct Progress(bool);

impl Progress {
    fn show(&self, text: &str) {
        if self.0 {
            let mut e = std::io::stderr().lock();
            let _ = write!(e, "\r\x1b[2K{text}");
            let _ = e.flush();
        }
    }

    fn clear(&self) {
        self.show("");
    }
}

/// Runs `suiji import`: the rejections one a line, then one summary line.
pub async fn run(args: ImportArgs) -> anyhow::Result<()> {
    let (what, FileArgs { file, rejected }) = match args.what {
        ImportWhat::Targets(f) => (What::Targets, f),
        ImportWhat::Inspectors(f) => (What::Inspectors, f),
    };
    let (summary, rejections) = import_file(
        &args.service.addr,
        args.service.token.as_deref(),
        what,
        &file,
        false,
    )
    .await?;
    let rows = |n: u64| format!("{n} row{}", if n == 1 { "" } else { "s" });
    let mut line = format!(
        "{} read: {} accepted ({} new), {} rejected",
        rows(summary.rows_read),
        summary.accepted,
        summary.created,
        summary.rejected
    );
    if summary.rejections_listed < summary.rejected {
        line.push_str(&format!(" ({} listed)", summary.rejections_listed));
    }
    if let Some(out) = rejected.filter(|_| !rejections.is_empty()) {
        let written = write_rejected(&file, &rejections, &out)?;
        line.push_str(&format!(
            "; {} to correct in {}",
            rows(written),
            out.display()
        ));
        if summary.rejections_listed < summary.rejected {
            line.push_str(" (the listed ones only)");
        }
    }
    println!("{line}");
    Ok(())
}

/// Writes the rows of `file` that `rejections` name to `out`, with their reasons; how many.
fn write_rejected(
    file: &std::path::Path,
    rejections: &[pb::RejectedRow],
    out: &std::path::Path,
) -> anyhow::Result<u64> {
    let format = suiji_directories::client::file_format(&file.to_string_lossy());
    let source = std::io::BufReader::new(
        std::fs::File::open(file).with_context(|| format!("opening {}", file.display()))?,
    );
    let sink = std::io::BufWriter::new(
        std::fs::File::create(out).with_context(|| format!("creating {}", out.display()))?,
    );
    let reasons = suiji_directories::client::reasons_by_line(rejections);
    Ok(suiji_directories::rejected::write(
        format, source, &reasons, sink,
    )?)
}

/// Arguments of `suiji export`.
#[derive(Args)]
pub struct ExportArgs {
    #[command(flatten)]
    service: Directories,
    #[command(subcommand)]
    what: ExportWhat,
}

#[derive(Subcommand)]
enum ExportWhat {
    /// Inspection targets as CSV in the import format.
    Targets {
        /// Only these regions (GB/T 2260; a province or city includes its subdivisions); repeatable.
        #[arg(long = "region")]
        regions: Vec<String>,
        /// Output file (default: standard output).
        #[arg(long)]
        out: Option<std::path::PathBuf>,
    },
}

/// Runs `suiji export`.
pub async fn export(args: ExportArgs) -> anyhow::Result<()> {
    let ExportWhat::Targets { regions, out } = args.what;
    let mut client = args.service.client()?;
    let filter = pb::TargetFilter {
        region_codes: regions,
        ..Default::default()
    };
    let mut stream = client
        .export_targets(pb::ExportTargetsRequest {
            filter: Some(filter),
            ..Default::default()
        })
        .await?
        .into_inner();
    let mut sink: Box<dyn Write> = match out {
        Some(path) => Box::new(std::io::BufWriter::new(std::fs::File::create(&path)?)),
        None => Box::new(std::io::stdout().lock()),
    };
    while let Some(part) = stream.message().await? {
        sink.write_all(&part.chunk)?;
    }
    sink.flush()?;
    Ok(())
}

//! `suiji result …`: the departments' results and their publication (一公开) for people: list what is due or
//! overdue, enter, review, publish, withhold, correct; the public search; the reports as CSV or XLSX and the daily
//! export file.

use std::io::Write as _;

use anyhow::Context as _;
use clap::{Args, Subcommand, ValueEnum};
use suiji_api::named::name;
use suiji_api::publication::v1 as pb;
use suiji_api::publication::v1::publication_service_client::PublicationServiceClient;
use suiji_platform::grpc::{Bearer, channel};
use tonic::codegen::InterceptedService;
use tonic::transport::Channel;

use crate::catalog_cmd::{proto_enum, show_status};

/// Arguments of `suiji result`.
#[derive(Args)]
pub struct ResultArgs {
    /// Address of the publication service.
    #[arg(
        long,
        global = true,
        env = "SUIJI_PUBLICATION_ADDR",
        default_value = "http://127.0.0.1:50056"
    )]
    addr: String,
    /// Bearer token (`suiji token …`, or the one `suiji dev` prints).
    #[arg(long, global = true, env = "SUIJI_TOKEN", hide_env_values = true)]
    token: Option<String>,
    #[command(subcommand)]
    command: ResultCommand,
}

/// What a report file is written as.
#[derive(Clone, Copy, ValueEnum)]
enum Format {
    /// Aligned columns on the terminal.
    Table,
    /// CSV, UTF-8 with a BOM.
    Csv,
    /// An Excel workbook.
    Xlsx,
}

#[derive(Subcommand)]
enum ResultCommand {
    /// List your department's results (or another's, for the joint meeting).
    List {
        /// Department (default: the token's).
        #[arg(long, default_value = "")]
        department: String,
        /// Only this task's.
        #[arg(long, default_value = "")]
        task: String,
        /// Only in this state: not-entered, awaiting-review, returned, rejected, approved, published, withheld.
        #[arg(long, value_parser = state)]
        state: Vec<i32>,
        /// Only those past their due date.
        #[arg(long)]
        overdue: bool,
        /// Only those whose withholding a clerk asked for and the head has not yet decided.
        #[arg(long)]
        withholding_asked: bool,
    },
    /// Show one result with its history.
    Show {
        /// Result id.
        id: String,
    },
    /// Enter a result and submit it for review.
    Enter {
        /// Result id.
        id: String,
        /// Result code (repeat for several; `suiji result codes` lists them).
        #[arg(long = "code", required = true)]
        codes: Vec<String>,
        /// Follow-up: none, ordered-to-correct, case-opened, transferred, notified.
        #[arg(long, value_parser = disposal, default_value = "none")]
        disposal: i32,
        /// The department a transfer or notice goes to.
        #[arg(long, default_value = "")]
        to: String,
        /// Details.
        #[arg(long, default_value = "")]
        note: String,
    },
    /// Approve a result awaiting review.
    Approve {
        /// Result id.
        id: String,
    },
    /// Return a result to its entry for correction.
    Return {
        /// Result id.
        id: String,
        /// Why.
        #[arg(long)]
        reason: String,
    },
    /// Reject a result; it is entered anew.
    Reject {
        /// Result id.
        id: String,
        /// Why.
        #[arg(long)]
        reason: String,
    },
    /// Publish approved results.
    Publish {
        /// Result ids.
        #[arg(required = true)]
        ids: Vec<String>,
    },
    /// Ask the department head to keep a result from the public (the person entering it), with the reason.
    RequestWithholding {
        /// Result id.
        id: String,
        /// Why it may not be made public.
        #[arg(long)]
        reason: String,
    },
    /// Keep a result from the public as another person asked (the department head).
    Withhold {
        /// Result id.
        id: String,
        /// The head's note (optional; the reason is the request's).
        #[arg(long, default_value = "")]
        note: String,
    },
    /// Decline a request to withhold a result (the department head): it goes on to publication.
    DeclineWithholding {
        /// Result id.
        id: String,
        /// Why it is published after all.
        #[arg(long)]
        reason: String,
    },
    /// Correct a published result (the department head).
    Correct {
        /// Result id.
        id: String,
        /// Result code (repeat for several).
        #[arg(long = "code", required = true)]
        codes: Vec<String>,
        /// Follow-up.
        #[arg(long, value_parser = disposal, default_value = "none")]
        disposal: i32,
        /// The department a transfer or notice goes to.
        #[arg(long, default_value = "")]
        to: String,
        /// Why.
        #[arg(long)]
        reason: String,
    },
    /// The result code table in force.
    Codes,
    /// Search published results by credit code or name, as the public does (no token).
    Search {
        /// A credit code, or two or more characters of a name.
        query: String,
    },
    /// Entry and publication rates, overdue and problems per department and for the joint meeting.
    Report {
        /// Year of the inspections.
        #[arg(long, required_unless_present = "task")]
        year: Option<u32>,
        /// Quarter 1–4 (default: the whole year).
        #[arg(long, default_value_t = 0)]
        quarter: u32,
        /// One task's results instead of a period's.
        #[arg(long, conflicts_with_all = ["year", "quarter"])]
        task: Option<String>,
        /// Count overdue on this day (default: today).
        #[arg(long, default_value = "")]
        as_of: String,
        /// Output format.
        #[arg(long, value_enum, default_value = "table")]
        format: Format,
        /// Write to this file (default: standard output; required for xlsx).
        #[arg(long)]
        out: Option<std::path::PathBuf>,
    },
    /// The daily export file of what was published and corrected on a day (CSV).
    Export {
        /// The day, YYYY-MM-DD.
        #[arg(long)]
        day: String,
        /// Write to this file (default: standard output).
        #[arg(long)]
        out: Option<std::path::PathBuf>,
    },
    /// Deliveries to outside systems (operators): the dead letters, or all.
    Deliveries {
        /// Every delivery, not only the dead letters.
        #[arg(long)]
        all: bool,
    },
    /// Send dead letters again (all of them when no id is given).
    Retry {
        /// Delivery ids.
        ids: Vec<String>,
    },
}

fn state(s: &str) -> Result<i32, String> {
    proto_enum("RESULT_STATE", s, |n| {
        pb::ResultState::from_str_name(n).map(|v| v as i32)
    })
}

fn disposal(s: &str) -> Result<i32, String> {
    proto_enum("DISPOSAL", s, |n| {
        pb::Disposal::from_str_name(n).map(|v| v as i32)
    })
}

type Client = PublicationServiceClient<InterceptedService<Channel, Bearer>>;

fn print_result(r: &pb::Result) {
    let c = r.content.clone().unwrap_or_default();
    println!(
        "{}  {:<15} {}  {} {}  {} {}  due {}{}{}  {}",
        r.id,
        name::<pb::ResultState>(r.state),
        r.inspection_date,
        r.credit_code,
        r.target_name,
        r.item_code,
        if c.codes.is_empty() {
            format!("(suggested: {})", r.suggested_codes.join(","))
        } else {
            format!("codes {}", c.codes.join(","))
        },
        if r.due_date.is_empty() {
            "?"
        } else {
            &r.due_date
        },
        if r.due_date_provisional {
            " (provisional)"
        } else {
            ""
        },
        if r.overdue { " OVERDUE" } else { "" },
        r.reason
    );
}

fn one(r: Option<pb::Result>) {
    let r = r.unwrap_or_default();
    print_result(&r);
    for p in &r.problems {
        println!("  found: {p}");
    }
    for c in &r.corrections {
        println!(
            "  corrected {}: was {} — {} (signed off by {})",
            c.time.map(|t| t.seconds).unwrap_or_default(),
            c.previous.clone().unwrap_or_default().codes.join(","),
            c.reason,
            c.signed_off_by
        );
    }
    for h in &r.history {
        println!("  {:<12} {}  {}", h.kind, h.actor, h.detail);
    }
}

fn write_out(out: Option<&std::path::Path>, bytes: &[u8]) -> anyhow::Result<()> {
    match out {
        Some(path) => {
            std::fs::write(path, bytes).with_context(|| format!("writing {}", path.display()))
        }
        None => Ok(std::io::stdout().write_all(bytes)?),
    }
}

/// Runs `suiji result …`.
pub async fn run(args: ResultArgs) -> anyhow::Result<()> {
    let token = match &args.command {
        ResultCommand::Search { .. } | ResultCommand::Codes => None,
        _ => args.token.as_deref(),
    };
    let mut c: Client =
        PublicationServiceClient::with_interceptor(channel(&args.addr)?, Bearer::for_person(token));
    let review =
        |id: String, decision: pb::ReviewDecision, reason: String| pb::ReviewResultRequest {
            id,
            decision: decision as i32,
            reason,
            expected_revision: 0,
        };
    let content = |codes: Vec<String>, disposal: i32, to: String, note: String| {
        Some(pb::Content {
            codes,
            disposal,
            disposal_department_code: to,
            note,
        })
    };
    match args.command {
        ResultCommand::List {
            department,
            task,
            state,
            overdue,
            withholding_asked,
        } => {
            let mut page_token = String::new();
            loop {
                let page = c
                    .list_results(pb::ListResultsRequest {
                        department_code: department.clone(),
                        task_id: task.clone(),
                        states: state.clone(),
                        overdue_only: overdue,
                        page_size: 500,
                        page_token,
                        withholding_requested: withholding_asked,
                    })
                    .await
                    .map_err(show_status)?
                    .into_inner();
                page.results.iter().for_each(print_result);
                if page.next_page_token.is_empty() {
                    break;
                }
                page_token = page.next_page_token;
            }
        }
        ResultCommand::Show { id } => {
            let r = c
                .get_result(pb::GetResultRequest { id })
                .await
                .map_err(show_status)?;
            one(r.into_inner().result);
        }
        ResultCommand::Enter {
            id,
            codes,
            disposal,
            to,
            note,
        } => {
            let r = c
                .enter_result(pb::EnterResultRequest {
                    id,
                    content: content(codes, disposal, to, note),
                    expected_revision: 0,
                })
                .await
                .map_err(show_status)?;
            one(r.into_inner().result);
        }
        ResultCommand::Approve { id } => {
            let r = c
                .review_result(review(id, pb::ReviewDecision::Approve, String::new()))
                .await
                .map_err(show_status)?;
            one(r.into_inner().result);
        }
        ResultCommand::Return { id, reason } => {
            let r = c
                .review_result(review(id, pb::ReviewDecision::Return, reason))
                .await
                .map_err(show_status)?;
            one(r.into_inner().result);
        }
        ResultCommand::Reject { id, reason } => {
            let r = c
                .review_result(review(id, pb::ReviewDecision::Reject, reason))
                .await
                .map_err(show_status)?;
            one(r.into_inner().result);
        }
        ResultCommand::Publish { ids } => {
            let mut failed = 0;
            for chunk in ids.chunks(1000) {
                let out = c
                    .publish_results(pb::PublishResultsRequest {
                        ids: chunk.to_vec(),
                    })
                    .await
                    .map_err(show_status)?
                    .into_inner();
                for o in out.outcomes {
                    if o.published {
                        println!("{}  published", o.id);
                    } else {
                        failed += 1;
                        println!("{}  NOT published: {}", o.id, o.error);
                    }
                }
            }
            if failed > 0 {
                anyhow::bail!("{failed} of {} not published", ids.len());
            }
        }
        ResultCommand::RequestWithholding { id, reason } => {
            let r = c
                .request_withholding(pb::RequestWithholdingRequest {
                    id,
                    reason,
                    expected_revision: 0,
                })
                .await
                .map_err(show_status)?;
            one(r.into_inner().result);
        }
        ResultCommand::Withhold { id, note } => {
            let r = c
                .withhold_result(pb::WithholdResultRequest {
                    id,
                    reason: note,
                    expected_revision: 0,
                })
                .await
                .map_err(show_status)?;
            one(r.into_inner().result);
        }
        ResultCommand::DeclineWithholding { id, reason } => {
            let r = c
                .decline_withholding(pb::DeclineWithholdingRequest {
                    id,
                    reason,
                    expected_revision: 0,
                })
                .await
                .map_err(show_status)?;
            one(r.into_inner().result);
        }
        ResultCommand::Correct {
            id,
            codes,
            disposal,
            to,
            reason,
        } => {
            let r = c
                .correct_result(pb::CorrectResultRequest {
                    id,
                    content: content(codes, disposal, to, String::new()),
                    reason,
                    expected_revision: 0,
                })
                .await
                .map_err(show_status)?;
            one(r.into_inner().result);
        }
        ResultCommand::Codes => {
            let t = c
                .list_result_codes(pb::ListResultCodesRequest {})
                .await
                .map_err(show_status)?
                .into_inner();
            println!("result codes, table {}", t.version);
            for code in t.codes {
                println!(
                    "{:>3}  {}{}{}",
                    code.code,
                    code.text,
                    if code.problem {
                        "  [problem: needs a follow-up]"
                    } else {
                        ""
                    },
                    if code.credit.is_empty() {
                        String::new()
                    } else {
                        format!("  [credit record: {}]", code.credit)
                    }
                );
            }
        }
        ResultCommand::Search { query } => {
            let out = c
                .public_search(pb::PublicSearchRequest {
                    query,
                    page_size: 200,
                    page_token: String::new(),
                })
                .await
                .map_err(show_status)?
                .into_inner();
            if out.records.is_empty() {
                println!("no published results");
            }
            for r in out.records {
                println!(
                    "{}  {}  {}  {}  {}  {}: {}",
                    r.inspection_date,
                    r.credit_code,
                    r.target_name,
                    r.authority,
                    r.inspection_type,
                    r.item,
                    r.result
                );
                for c in r.corrections {
                    println!(
                        "  更正 {}: 原结果 {} ({})",
                        c.time.map(|t| t.seconds).unwrap_or_default(),
                        c.previous_result,
                        c.reason
                    );
                }
            }
        }
        ResultCommand::Report {
            year,
            quarter,
            task,
            as_of,
            format,
            out,
        } => {
            let report = c
                .report(pb::ReportRequest {
                    year: year.unwrap_or_default(),
                    quarter,
                    as_of,
                    task_id: task.unwrap_or_default(),
                })
                .await
                .map_err(show_status)?
                .into_inner();
            match format {
                Format::Table => {
                    println!("{} (overdue counted on {})", report.period, report.as_of);
                    println!(
                        "{:<14} {:>8} {:>8} {:>9} {:>8} {:>7} {:>8} {:>8} {:>9}  department",
                        "code",
                        "results",
                        "entered",
                        "published",
                        "withheld",
                        "overdue",
                        "problems",
                        "entry%",
                        "publish%"
                    );
                    for r in &report.rows {
                        println!(
                            "{:<14} {:>8} {:>8} {:>9} {:>8} {:>7} {:>8} {:>8.2} {:>9.2}  {}",
                            r.department_code,
                            r.results,
                            r.entered,
                            r.published,
                            r.withheld,
                            r.overdue,
                            r.problems,
                            f64::from(r.entry_rate_basis_points) / 100.0,
                            f64::from(r.publication_rate_basis_points) / 100.0,
                            r.department_name
                        );
                    }
                }
                Format::Csv => write_out(out.as_deref(), &suiji_publication::report::csv(&report))?,
                Format::Xlsx => {
                    let path = out.context("--out FILE is required for xlsx")?;
                    let bytes = suiji_publication::report::xlsx(&report)?;
                    write_out(Some(&path), &bytes)?;
                }
            }
        }
        ResultCommand::Export { day, out } => {
            let mut stream = c
                .export_published(pb::ExportPublishedRequest { day })
                .await
                .map_err(show_status)?
                .into_inner();
            let mut sink: Box<dyn std::io::Write> = match &out {
                Some(path) => Box::new(std::io::BufWriter::new(
                    std::fs::File::create(path)
                        .with_context(|| format!("creating {}", path.display()))?,
                )),
                None => Box::new(std::io::stdout().lock()),
            };
            while let Some(chunk) = stream.message().await.map_err(show_status)? {
                sink.write_all(&chunk.chunk)?;
            }
            sink.flush()?;
        }
        ResultCommand::Deliveries { all } => {
            let mut page_token = String::new();
            loop {
                let page = c
                    .list_deliveries(pb::ListDeliveriesRequest {
                        state: if all {
                            0
                        } else {
                            pb::DeliveryState::Dead as i32
                        },
                        page_size: 500,
                        page_token,
                    })
                    .await
                    .map_err(show_status)?
                    .into_inner();
                for d in &page.deliveries {
                    println!(
                        "{}  {:<9} {:<10} {:<16} {}  attempts {}  {}",
                        d.id,
                        name::<pb::DeliveryState>(d.state),
                        d.connector,
                        d.kind,
                        d.result_id,
                        d.attempts,
                        d.last_error
                    );
                }
                if page.next_page_token.is_empty() {
                    break;
                }
                page_token = page.next_page_token;
            }
        }
        ResultCommand::Retry { ids } => {
            let out = c
                .retry_deliveries(pb::RetryDeliveriesRequest { ids })
                .await
                .map_err(show_status)?
                .into_inner();
            println!("{} dead letters queued again", out.queued);
        }
    }
    Ok(())
}

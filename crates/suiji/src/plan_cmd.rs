//! `suiji plan …` and `suiji task …`: planning for people. Plan content is written as a TOML file (see
//! `examples/plans/`), read into the planning domain's own types and sent over gRPC.
//!
//! One piece: the plan file's format and the commands that send it belong together.

use std::path::Path;

use anyhow::Context as _;
use clap::{Args, Subcommand};
use suiji_api::named::name;
use suiji_api::planning::v1 as pb;
use suiji_api::planning::v1::planning_service_client::PlanningServiceClient;
use suiji_platform::grpc::{Bearer, channel};
use tonic::codegen::InterceptedService;
use tonic::transport::Channel;

use crate::catalog_cmd::{proto_enum, show_status};

/// Connection flags shared by `suiji plan` and `suiji task`.
#[derive(Args)]
pub struct Connection {
    /// Address of the planning service.
    #[arg(
        long,
        global = true,
        env = "SUIJI_PLANNING_ADDR",
        default_value = "http://127.0.0.1:50053"
    )]
    addr: String,
    /// Bearer token (`suiji token …`, or the one `suiji dev` prints).
    #[arg(long, global = true, env = "SUIJI_TOKEN", hide_env_values = true)]
    token: Option<String>,
}

/// Arguments of `suiji plan`.
#[derive(Args)]
pub struct PlanArgs {
    #[command(flatten)]
    connection: Connection,
    #[command(subcommand)]
    command: PlanCommand,
}

#[derive(Subcommand)]
enum PlanCommand {
    /// Draft a plan from a TOML file (see examples/plans/).
    Create {
        /// The plan file.
        #[arg(long)]
        file: std::path::PathBuf,
    },
    /// Replace a draft's content from a TOML file.
    Update {
        /// Plan id.
        id: String,
        /// The plan file.
        #[arg(long)]
        file: std::path::PathBuf,
        /// Revision last read (0: do not check).
        #[arg(long, default_value_t = 0)]
        revision: i64,
    },
    /// Submit a draft to the joint meeting.
    Submit {
        /// Plan id.
        id: String,
    },
    /// Return a submitted plan to its department (joint meeting).
    Return {
        /// Plan id.
        id: String,
        /// Why.
        #[arg(long)]
        reason: String,
    },
    /// Approve a submitted plan (joint meeting).
    Approve {
        /// Plan id.
        id: String,
    },
    /// Publish an approved plan.
    Publish {
        /// Plan id.
        id: String,
    },
    /// Show a plan and its entries.
    Get {
        /// Plan id.
        id: String,
        /// Version (default: the one in force, or the draft).
        #[arg(long, default_value_t = 0)]
        version: u32,
    },
    /// List plans.
    List {
        /// Only this year.
        #[arg(long, default_value_t = 0)]
        year: u32,
        /// Only this department's plans.
        #[arg(long)]
        department: Option<String>,
        /// Only plans in this state: draft, submitted, approved, published.
        #[arg(long, value_parser = plan_state)]
        state: Option<i32>,
    },
    /// List published plans (no token needed).
    Public {
        /// Only this year.
        #[arg(long, default_value_t = 0)]
        year: u32,
    },
    /// Show every version of a plan.
    Versions {
        /// Plan id.
        id: String,
    },
    /// Propose an amendment of a published plan from a TOML file.
    Amend {
        /// Plan id.
        id: String,
        /// The whole new plan file.
        #[arg(long)]
        file: std::path::PathBuf,
        /// Why the plan changes.
        #[arg(long)]
        reason: String,
    },
    /// File a pending amendment (joint meeting or judicial department, by your role).
    File {
        /// Plan id.
        id: String,
        /// Amendment version.
        #[arg(long)]
        version: u32,
    },
    /// Publish a filed amendment: it comes into force.
    PublishAmendment {
        /// Plan id.
        id: String,
        /// Amendment version.
        #[arg(long)]
        version: u32,
    },
    /// Publish your department's cap on inspections of one target in a year.
    Cap {
        /// Year.
        #[arg(long)]
        year: u32,
        /// At most this many a year.
        #[arg(long)]
        max: u32,
    },
    /// List the caps of a year.
    Caps {
        /// Year.
        #[arg(long)]
        year: u32,
    },
    /// What a year's published plans leave out.
    Coverage {
        /// Year.
        #[arg(long)]
        year: u32,
        /// Only this department.
        #[arg(long)]
        department: Option<String>,
    },
}

/// Arguments of `suiji task`.
#[derive(Args)]
pub struct TaskArgs {
    #[command(flatten)]
    connection: Connection,
    #[command(subcommand)]
    command: TaskCommand,
}

#[derive(Subcommand)]
enum TaskCommand {
    /// Create a task from an entry of a published plan (lead department).
    Create {
        /// Plan id.
        #[arg(long)]
        plan: String,
        /// Entry key.
        #[arg(long)]
        entry: String,
        /// Task name (default: the entry's).
        #[arg(long, default_value = "")]
        name: String,
        /// First day, YYYY-MM-DD (default: the entry's).
        #[arg(long, default_value = "")]
        from: String,
        /// Last day, YYYY-MM-DD (default: the entry's).
        #[arg(long, default_value = "")]
        to: String,
        /// Number of targets (default: what the entry has left, or its ratio).
        #[arg(long, default_value_t = 0)]
        quantity: u32,
    },
    /// Launch a task: the joint-inspection saga starts.
    Launch {
        /// Task id.
        id: String,
    },
    /// Cancel a task.
    Cancel {
        /// Task id.
        id: String,
        /// Why.
        #[arg(long)]
        reason: String,
    },
    /// Show a task.
    Get {
        /// Task id.
        id: String,
    },
    /// List tasks.
    List {
        /// Only this plan's tasks.
        #[arg(long)]
        plan: Option<String>,
        /// Only tasks this department leads or takes part in.
        #[arg(long)]
        department: Option<String>,
        /// Only tasks in this state: created, launched, cancelled.
        #[arg(long, value_parser = task_state)]
        state: Option<i32>,
    },
}

fn plan_state(s: &str) -> Result<i32, String> {
    proto_enum("PLAN_STATE", s, |n| {
        pb::PlanState::from_str_name(n).map(|v| v as i32)
    })
}

fn task_state(s: &str) -> Result<i32, String> {
    proto_enum("TASK_STATE", s, |n| {
        pb::TaskState::from_str_name(n).map(|v| v as i32)
    })
}

type Client = PlanningServiceClient<InterceptedService<Channel, Bearer>>;

/// A planning client sending `token`.
pub fn client(addr: &str, token: Option<&str>) -> anyhow::Result<Client> {
    Ok(PlanningServiceClient::with_interceptor(
        channel(addr)?,
        Bearer::for_person(token),
    ))
}

/// Reads a plan file into its message.
pub fn read_plan(path: &Path) -> anyhow::Result<pb::PlanContent> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    parse_plan(&text).with_context(|| format!("in {}", path.display()))
}

fn parse_plan(text: &str) -> anyhow::Result<pb::PlanContent> {
    let content: suiji_planning::domain::PlanContent = toml::from_str(text)?;
    Ok(suiji_planning::convert::content_pb(&content))
}

fn print_plan(p: &pb::Plan) {
    let v = p.version.clone().unwrap_or_default();
    let c = v.content.clone().unwrap_or_default();
    let mut flags = Vec::new();
    if p.late_submission {
        flags.push("submitted late");
    }
    if p.late_approval {
        flags.push("approved late");
    }
    println!(
        "{}  {:<9} v{} (in force: v{}, latest: v{}) rev {}  {}  {}{}{}",
        p.id,
        name::<pb::PlanState>(p.state),
        v.version,
        p.effective_version,
        p.latest_version,
        p.revision,
        p.department_code,
        c.name,
        if p.joint { "  [joint]" } else { "" },
        if flags.is_empty() {
            String::new()
        } else {
            format!("  ({})", flags.join(", "))
        }
    );
}

fn print_entries(p: &pb::Plan) {
    let v = p.version.clone().unwrap_or_default();
    if !v.reason.is_empty() {
        println!(
            "  amendment: {} ({})",
            v.reason,
            name::<pb::AmendmentState>(v.amendment_state)
        );
    }
    for e in v.content.unwrap_or_default().entries {
        let amount = if e.quantity > 0 {
            format!("{} targets", e.quantity)
        } else {
            format!("{:.2}%", f64::from(e.ratio_basis_points) / 100.0)
        };
        println!(
            "  entry {}: {}  {} to {}  {}  lead {}",
            e.key, e.task_name, e.window_start, e.window_end, amount, e.lead_department_code
        );
        for part in e.participants {
            println!(
                "    {}: {}",
                part.department_code,
                part.item_codes.join(", ")
            );
        }
    }
}

fn print_task(t: &pb::Task) {
    let c = t.content.clone().unwrap_or_default();
    println!(
        "{}  {:<9} {}  plan {} v{} entry {}  {} to {}  lead {}  quantity {}{}",
        t.id,
        name::<pb::TaskState>(t.state),
        c.name,
        c.plan_id,
        t.plan_version,
        c.entry_key,
        c.window_start,
        c.window_end,
        t.lead_department_code,
        c.quantity,
        if t.cancel_reason.is_empty() {
            String::new()
        } else {
            format!("  (cancelled: {})", t.cancel_reason)
        }
    );
}

/// Runs a plan command.
pub async fn run_plan(args: PlanArgs) -> anyhow::Result<()> {
    let mut c = client(&args.connection.addr, args.connection.token.as_deref())?;
    let plan = match args.command {
        PlanCommand::Create { file } => {
            c.create_plan(pb::CreatePlanRequest {
                content: Some(read_plan(&file)?),
            })
            .await
            .map_err(show_status)?
            .into_inner()
            .plan
        }
        PlanCommand::Update { id, file, revision } => {
            let content = Some(read_plan(&file)?);
            c.update_plan(pb::UpdatePlanRequest {
                id,
                content,
                expected_revision: revision,
            })
            .await
            .map_err(show_status)?
            .into_inner()
            .plan
        }
        PlanCommand::Submit { id } => {
            c.submit_plan(pb::SubmitPlanRequest {
                id,
                expected_revision: 0,
            })
            .await
            .map_err(show_status)?
            .into_inner()
            .plan
        }
        PlanCommand::Return { id, reason } => {
            c.return_plan(pb::ReturnPlanRequest {
                id,
                reason,
                expected_revision: 0,
            })
            .await
            .map_err(show_status)?
            .into_inner()
            .plan
        }
        PlanCommand::Approve { id } => {
            c.approve_plan(pb::ApprovePlanRequest {
                id,
                expected_revision: 0,
            })
            .await
            .map_err(show_status)?
            .into_inner()
            .plan
        }
        PlanCommand::Publish { id } => {
            c.publish_plan(pb::PublishPlanRequest {
                id,
                expected_revision: 0,
            })
            .await
            .map_err(show_status)?
            .into_inner()
            .plan
        }
        PlanCommand::Get { id, version } => {
            let plan = c
                .get_plan(pb::GetPlanRequest { id, version })
                .await
                .map_err(show_status)?
                .into_inner()
                .plan;
            if let Some(p) = &plan {
                print_plan(p);
                print_entries(p);
            }
            return Ok(());
        }
        PlanCommand::Amend { id, file, reason } => {
            let content = Some(read_plan(&file)?);
            c.propose_amendment(pb::ProposeAmendmentRequest {
                id,
                content,
                reason,
                expected_revision: 0,
            })
            .await
            .map_err(show_status)?
            .into_inner()
            .plan
        }
        PlanCommand::File { id, version } => {
            c.file_amendment(pb::FileAmendmentRequest { id, version })
                .await
                .map_err(show_status)?
                .into_inner()
                .plan
        }
        PlanCommand::PublishAmendment { id, version } => {
            c.publish_amendment(pb::PublishAmendmentRequest {
                id,
                version,
                expected_revision: 0,
            })
            .await
            .map_err(show_status)?
            .into_inner()
            .plan
        }
        PlanCommand::List {
            year,
            department,
            state,
        } => {
            let mut token = String::new();
            loop {
                let page = c
                    .list_plans(pb::ListPlansRequest {
                        year,
                        department_code: department.clone().unwrap_or_default(),
                        state: state.unwrap_or(0),
                        page_token: token.clone(),
                        page_size: 0,
                    })
                    .await
                    .map_err(show_status)?
                    .into_inner();
                page.plans.iter().for_each(print_plan);
                if page.next_page_token.is_empty() {
                    return Ok(());
                }
                token = page.next_page_token;
            }
        }
        PlanCommand::Public { year } => {
            let mut token = String::new();
            loop {
                let page = c
                    .list_public_plans(pb::ListPublicPlansRequest {
                        year,
                        page_token: token.clone(),
                        ..Default::default()
                    })
                    .await
                    .map_err(show_status)?
                    .into_inner();
                for p in &page.plans {
                    print_plan(p);
                    print_entries(p);
                }
                if page.next_page_token.is_empty() {
                    return Ok(());
                }
                token = page.next_page_token;
            }
        }
        PlanCommand::Versions { id } => {
            let versions = c
                .list_plan_versions(pb::ListPlanVersionsRequest { id })
                .await
                .map_err(show_status)?
                .into_inner()
                .versions;
            for v in versions {
                println!(
                    "v{:<3} {:<10} {}  {}",
                    v.version,
                    if v.version == 1 {
                        "original".to_string()
                    } else {
                        name::<pb::AmendmentState>(v.amendment_state)
                    },
                    v.content.map(|c| c.name).unwrap_or_default(),
                    v.reason
                );
            }
            return Ok(());
        }
        PlanCommand::Cap { year, max } => {
            let cap = c
                .set_annual_cap(pb::SetAnnualCapRequest {
                    year,
                    max_per_target: max,
                })
                .await
                .map_err(show_status)?
                .into_inner()
                .cap
                .unwrap_or_default();
            println!(
                "{} {}: at most {} inspections of one target",
                cap.department_code, cap.year, cap.max_per_target
            );
            return Ok(());
        }
        PlanCommand::Caps { year } => {
            for cap in c
                .list_annual_caps(pb::ListAnnualCapsRequest { year })
                .await
                .map_err(show_status)?
                .into_inner()
                .caps
            {
                println!(
                    "{} {}: at most {} inspections of one target",
                    cap.department_code, cap.year, cap.max_per_target
                );
            }
            return Ok(());
        }
        PlanCommand::Coverage { year, department } => {
            let r = c
                .coverage_report(pb::CoverageReportRequest {
                    year,
                    department_code: department.unwrap_or_default(),
                })
                .await
                .map_err(show_status)?
                .into_inner();
            println!("{year}: {} published plans", r.published_plans);
            println!(
                "catalog items no published plan covers: {}",
                r.uncovered_items.len()
            );
            for i in &r.uncovered_items {
                println!("  {}  {}  {}", i.item_code, i.department_code, i.name);
            }
            println!(
                "departments that neither lead nor join a joint inspection: {}",
                r.idle_departments.len()
            );
            for d in &r.idle_departments {
                println!("  {d}");
            }
            println!("entries over an item's cap: {}", r.cap_breaches.len());
            for b in &r.cap_breaches {
                println!(
                    "  {} entry {}: {} basis points, item {} allows {}",
                    b.plan_id, b.entry_key, b.ratio_basis_points, b.item_code, b.cap_basis_points
                );
            }
            return Ok(());
        }
    };
    plan.iter().for_each(print_plan);
    Ok(())
}

/// Runs a task command.
pub async fn run_task(args: TaskArgs) -> anyhow::Result<()> {
    let mut c = client(&args.connection.addr, args.connection.token.as_deref())?;
    let task = match args.command {
        TaskCommand::Create {
            plan,
            entry,
            name,
            from,
            to,
            quantity,
        } => {
            let content = pb::TaskContent {
                plan_id: plan,
                entry_key: entry,
                name,
                window_start: from,
                window_end: to,
                quantity,
                ..Default::default()
            };
            c.create_task(pb::CreateTaskRequest {
                content: Some(content),
            })
            .await
            .map_err(show_status)?
            .into_inner()
            .task
        }
        TaskCommand::Launch { id } => {
            c.launch_task(pb::LaunchTaskRequest {
                id,
                expected_revision: 0,
            })
            .await
            .map_err(show_status)?
            .into_inner()
            .task
        }
        TaskCommand::Cancel { id, reason } => {
            c.cancel_task(pb::CancelTaskRequest {
                id,
                reason,
                expected_revision: 0,
            })
            .await
            .map_err(show_status)?
            .into_inner()
            .task
        }
        TaskCommand::Get { id } => {
            c.get_task(pb::GetTaskRequest { id })
                .await
                .map_err(show_status)?
                .into_inner()
                .task
        }
        TaskCommand::List {
            plan,
            department,
            state,
        } => {
            let mut token = String::new();
            loop {
                let page = c
                    .list_tasks(pb::ListTasksRequest {
                        plan_id: plan.clone().unwrap_or_default(),
                        department_code: department.clone().unwrap_or_default(),
                        state: state.unwrap_or(0),
                        page_token: token.clone(),
                        page_size: 0,
                    })
                    .await
                    .map_err(show_status)?
                    .into_inner();
                page.tasks.iter().for_each(print_task);
                if page.next_page_token.is_empty() {
                    return Ok(());
                }
                token = page.next_page_token;
            }
        }
    };
    task.iter().for_each(print_task);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_example_plan_file_reads() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../examples/plans/xianyang-2027-joint.toml");
        let plan = read_plan(&path).unwrap();
        assert_eq!((plan.year, plan.entries.len()), (2027, 2));
        let first = &plan.entries[0];
        assert_eq!(first.risk_ratios.len(), 4);
        assert_eq!(
            first.participants[1].item_codes,
            vec!["SX-STHJ-003".to_string()]
        );
        assert_eq!(plan.entries[1].quantity, 40);
    }

    #[test]
    fn a_misspelt_value_names_its_place() {
        let err = parse_plan(
            "name = \"x\"\nyear = 2027\n[[entries]]\nkey = \"01\"\ntask_type = \"sideways\"\n",
        )
        .unwrap_err();
        assert!(format!("{err:#}").contains("sideways"), "{err:#}");
    }
}

//! `suiji catalog …`: the catalog API for people.

use anyhow::bail;
use clap::{Args, Subcommand};
use suiji_api::catalog::v1 as pb;
use suiji_api::catalog::v1::catalog_service_client::CatalogServiceClient;
use suiji_api::named::name;
use suiji_platform::grpc::{Bearer, channel, violations_of};
use tonic::codegen::InterceptedService;
use tonic::transport::Channel;

/// Arguments of `suiji catalog`.
#[derive(Args)]
pub struct CatalogArgs {
    /// Address of the catalog service.
    #[arg(
        long,
        global = true,
        env = "SUIJI_CATALOG_ADDR",
        default_value = "http://127.0.0.1:50051"
    )]
    addr: String,
    /// Bearer token (`suiji token …`, or the one `suiji dev` prints).
    #[arg(long, global = true, env = "SUIJI_TOKEN", hide_env_values = true)]
    token: Option<String>,
    #[command(subcommand)]
    command: CatalogCommand,
}

#[derive(Subcommand)]
enum CatalogCommand {
    /// List items (all states).
    List {
        /// Only this department's items.
        #[arg(long)]
        department: Option<String>,
        /// Only items in this state: draft, published or retired.
        #[arg(long, value_parser = state)]
        state: Option<i32>,
    },
    /// List the published catalog (no token needed).
    Public {
        /// Only this department's items.
        #[arg(long)]
        department: Option<String>,
    },
    /// Show one item.
    Get {
        /// Item code.
        code: String,
        /// Version (default: latest).
        #[arg(long, default_value_t = 0)]
        version: u32,
    },
    /// Show every version of an item.
    Versions {
        /// Item code.
        code: String,
    },
    /// Draft a new item.
    Create {
        /// Item code.
        code: String,
        #[command(flatten)]
        content: ContentArgs,
    },
    /// Edit an item's draft (opens a new version of a published item).
    Update {
        /// Item code.
        code: String,
        #[command(flatten)]
        content: ContentArgs,
        /// Revision last read (0: do not check).
        #[arg(long, default_value_t = 0)]
        revision: i64,
    },
    /// Publish an item's draft.
    Publish {
        /// Item code.
        code: String,
        /// Revision last read (0: do not check).
        #[arg(long, default_value_t = 0)]
        revision: i64,
    },
    /// Announce every item in force again, so a service that joined later catches up (admin).
    Announce,
    /// Retire a published item.
    Retire {
        /// Item code.
        code: String,
        /// Why.
        #[arg(long)]
        reason: String,
        /// Revision last read (0: do not check).
        #[arg(long, default_value_t = 0)]
        revision: i64,
    },
}

/// Parses a protobuf enum value from its short name: `on-site` for `INSPECTION_METHOD_ON_SITE`.
pub(crate) fn proto_enum(
    prefix: &str,
    s: &str,
    from_name: fn(&str) -> Option<i32>,
) -> Result<i32, String> {
    let name = format!("{prefix}_{}", s.trim().to_uppercase().replace('-', "_"));
    from_name(&name)
        .filter(|v| *v != 0)
        .ok_or_else(|| format!("{s:?} is not a valid value ({name} is unknown)"))
}

fn kind(s: &str) -> Result<i32, String> {
    proto_enum("TARGET_KIND", s, |n| {
        pb::TargetKind::from_str_name(n).map(|v| v as i32)
    })
}
fn method(s: &str) -> Result<i32, String> {
    proto_enum("INSPECTION_METHOD", s, |n| {
        pb::InspectionMethod::from_str_name(n).map(|v| v as i32)
    })
}
fn category(s: &str) -> Result<i32, String> {
    proto_enum("ITEM_CATEGORY", s, |n| {
        pb::ItemCategory::from_str_name(n).map(|v| v as i32)
    })
}
fn state(s: &str) -> Result<i32, String> {
    proto_enum("ITEM_STATE", s, |n| {
        pb::ItemState::from_str_name(n).map(|v| v as i32)
    })
}

/// An item's content as flags.
#[derive(Args)]
struct ContentArgs {
    /// Name (抽查事项名称).
    #[arg(long)]
    name: String,
    /// Responsible department code.
    #[arg(long)]
    department: String,
    /// Legal basis; repeat for several provisions.
    #[arg(long = "basis", required = true)]
    basis: Vec<String>,
    /// Target kinds: enterprise, individual-business, farmers-cooperative, public-institution,
    /// social-organisation, natural-person, project, facility, premises.
    #[arg(long = "kind", value_parser = kind, required = true)]
    kinds: Vec<i32>,
    /// Key or general.
    #[arg(long, value_parser = category)]
    category: i32,
    /// Ratio cap in basis points (200 = 2%); 0 takes the jurisdiction's cap for general items.
    #[arg(long, default_value_t = 0)]
    ratio_bp: u32,
    /// Times a year at most on one target.
    #[arg(long, default_value_t = 1)]
    frequency: u32,
    /// Inspection methods: on-site, written, online-monitoring, third-party.
    #[arg(long = "method", value_parser = method, required = true)]
    methods: Vec<i32>,
    /// Check points as `code:description`; repeat.
    #[arg(long = "check", required = true)]
    checks: Vec<String>,
    /// Sub-items as `code:name`; repeat.
    #[arg(long = "sub")]
    subs: Vec<String>,
    /// Inspector qualification tags.
    #[arg(long = "qualification")]
    qualifications: Vec<String>,
    /// The team must include an expert.
    #[arg(long)]
    expert: bool,
    /// Remarks.
    #[arg(long, default_value = "")]
    remarks: String,
}

fn split(pair: &str) -> (String, String) {
    match pair.split_once(':') {
        Some((a, b)) => (a.trim().to_string(), b.trim().to_string()),
        None => (String::new(), pair.to_string()),
    }
}

impl ContentArgs {
    fn into_pb(self) -> pb::ItemContent {
        pb::ItemContent {
            name: self.name,
            sub_items: self
                .subs
                .iter()
                .map(|s| split(s))
                .map(|(code, name)| pb::SubItem { code, name })
                .collect(),
            legal_basis: self.basis,
            department_code: self.department,
            target_kinds: self.kinds,
            category: self.category,
            ratio_cap_basis_points: self.ratio_bp,
            frequency_per_year: self.frequency,
            methods: self.methods,
            inspector_qualifications: self.qualifications,
            requires_expert: self.expert,
            checklist: self
                .checks
                .iter()
                .map(|c| split(c))
                .map(|(code, description)| pb::CheckPoint {
                    code,
                    description,
                    basis: String::new(),
                })
                .collect(),
            remarks: self.remarks,
        }
    }
}

type Client = CatalogServiceClient<InterceptedService<Channel, Bearer>>;

/// A catalog client sending `token`.
pub fn client(addr: &str, token: Option<&str>) -> anyhow::Result<Client> {
    Ok(CatalogServiceClient::with_interceptor(
        channel(addr)?,
        Bearer::for_person(token),
    ))
}

pub(crate) fn show_status(status: tonic::Status) -> anyhow::Error {
    let mut text = format!("{:?}: {}", status.code(), status.message());
    for (field, reason) in violations_of(&status) {
        text.push_str(&format!("\n  {field}: {reason}"));
    }
    anyhow::anyhow!(text)
}

fn print_item(item: &pb::Item) {
    let v = item.version.clone().unwrap_or_default();
    let c = v.content.clone().unwrap_or_default();
    println!(
        "{:<16} {:<10} v{} (in force: v{}) rev {}  {}  [{}] cap {:.2}%  {}",
        item.code,
        name::<pb::ItemState>(item.state),
        v.version,
        item.published_version,
        item.revision,
        c.department_code,
        name::<pb::ItemCategory>(c.category),
        f64::from(c.ratio_cap_basis_points) / 100.0,
        c.name
    );
}

/// Runs a catalog command.
pub async fn run(args: CatalogArgs) -> anyhow::Result<()> {
    let mut c = client(&args.addr, args.token.as_deref())?;
    match args.command {
        CatalogCommand::List { department, state } => {
            let mut token = String::new();
            loop {
                let page = c
                    .list_items(pb::ListItemsRequest {
                        department_code: department.clone().unwrap_or_default(),
                        state: state.unwrap_or(0),
                        page_token: token.clone(),
                        ..Default::default()
                    })
                    .await
                    .map_err(show_status)?
                    .into_inner();
                page.items.iter().for_each(print_item);
                if page.next_page_token.is_empty() {
                    break;
                }
                token = page.next_page_token;
            }
        }
        CatalogCommand::Public { department } => {
            let mut token = String::new();
            loop {
                let page = c
                    .list_public_items(pb::ListPublicItemsRequest {
                        department_code: department.clone().unwrap_or_default(),
                        page_token: token.clone(),
                        page_size: 0,
                    })
                    .await
                    .map_err(show_status)?
                    .into_inner();
                page.items.iter().for_each(print_item);
                if page.next_page_token.is_empty() {
                    break;
                }
                token = page.next_page_token;
            }
        }
        CatalogCommand::Get { code, version } => {
            let item = c
                .get_item(pb::GetItemRequest { code, version })
                .await
                .map_err(show_status)?
                .into_inner()
                .item;
            let Some(item) = item else {
                bail!("empty response")
            };
            print_item(&item);
            let content = item.version.and_then(|v| v.content).unwrap_or_default();
            for basis in &content.legal_basis {
                println!("  basis: {basis}");
            }
            for point in &content.checklist {
                println!("  check {}: {}", point.code, point.description);
            }
        }
        CatalogCommand::Versions { code } => {
            let versions = c
                .list_item_versions(pb::ListItemVersionsRequest { code })
                .await
                .map_err(show_status)?
                .into_inner();
            for v in versions.versions {
                println!(
                    "v{:<3} {:<22} {}",
                    v.version,
                    name::<pb::VersionState>(v.state),
                    v.content.map(|c| c.name).unwrap_or_default()
                );
            }
        }
        CatalogCommand::Create { code, content } => {
            let r = c
                .create_item(pb::CreateItemRequest {
                    code,
                    content: Some(content.into_pb()),
                })
                .await
                .map_err(show_status)?;
            r.into_inner().item.iter().for_each(print_item);
        }
        CatalogCommand::Update {
            code,
            content,
            revision,
        } => {
            let r = c
                .update_item(pb::UpdateItemRequest {
                    code,
                    content: Some(content.into_pb()),
                    expected_revision: revision,
                })
                .await
                .map_err(show_status)?;
            r.into_inner().item.iter().for_each(print_item);
        }
        CatalogCommand::Publish { code, revision } => {
            let r = c
                .publish_item(pb::PublishItemRequest {
                    code,
                    expected_revision: revision,
                })
                .await
                .map_err(show_status)?;
            r.into_inner().item.iter().for_each(print_item);
        }
        CatalogCommand::Announce => {
            let n = c
                .announce_items(pb::AnnounceItemsRequest {})
                .await
                .map_err(show_status)?
                .into_inner()
                .announced;
            println!("{n} items announced");
        }
        CatalogCommand::Retire {
            code,
            reason,
            revision,
        } => {
            let r = c
                .retire_item(pb::RetireItemRequest {
                    code,
                    reason,
                    expected_revision: revision,
                })
                .await
                .map_err(show_status)?;
            r.into_inner().item.iter().for_each(print_item);
        }
    }
    Ok(())
}

//! `suiji catalog …`: the catalog API for people.

use anyhow::bail;
use clap::{Args, Subcommand, ValueEnum};
use suiji_api::catalog::v1 as pb;
use suiji_api::catalog::v1::catalog_service_client::CatalogServiceClient;
use suiji_platform::grpc::{Bearer, channel, violations_of};
use tonic::codegen::InterceptedService;
use tonic::transport::Channel;

/// Arguments of `suiji catalog`.
#[derive(Args)]
pub struct CatalogArgs {
    /// Address of the catalog service.
    #[arg(
        long,
        env = "SUIJI_CATALOG_ADDR",
        default_value = "http://127.0.0.1:50051"
    )]
    addr: String,
    /// Bearer token (`suiji token …`, or the one `suiji dev` prints).
    #[arg(long, env = "SUIJI_TOKEN", hide_env_values = true)]
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
        /// Only items in this state.
        #[arg(long, value_enum)]
        state: Option<State>,
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

#[derive(Clone, Copy, ValueEnum)]
enum State {
    Draft,
    Published,
    Retired,
}

#[derive(Clone, Copy, ValueEnum)]
enum Category {
    Key,
    General,
}

#[derive(Clone, Copy, ValueEnum)]
enum Kind {
    Enterprise,
    IndividualBusiness,
    FarmersCooperative,
    PublicInstitution,
    SocialOrganisation,
    NaturalPerson,
    Project,
    Facility,
    Premises,
}

#[derive(Clone, Copy, ValueEnum)]
enum Method {
    OnSite,
    Written,
    OnlineMonitoring,
    ThirdParty,
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
    /// Target kinds.
    #[arg(long = "kind", value_enum, required = true)]
    kinds: Vec<Kind>,
    /// Key or general.
    #[arg(long, value_enum)]
    category: Category,
    /// Ratio cap in basis points (200 = 2%); 0 takes the jurisdiction's cap for general items.
    #[arg(long, default_value_t = 0)]
    ratio_bp: u32,
    /// Times a year at most on one target.
    #[arg(long, default_value_t = 1)]
    frequency: u32,
    /// Inspection methods.
    #[arg(long = "method", value_enum, required = true)]
    methods: Vec<Method>,
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
            target_kinds: self
                .kinds
                .iter()
                .map(|k| {
                    (match k {
                        Kind::Enterprise => pb::TargetKind::Enterprise,
                        Kind::IndividualBusiness => pb::TargetKind::IndividualBusiness,
                        Kind::FarmersCooperative => pb::TargetKind::FarmersCooperative,
                        Kind::PublicInstitution => pb::TargetKind::PublicInstitution,
                        Kind::SocialOrganisation => pb::TargetKind::SocialOrganisation,
                        Kind::NaturalPerson => pb::TargetKind::NaturalPerson,
                        Kind::Project => pb::TargetKind::Project,
                        Kind::Facility => pb::TargetKind::Facility,
                        Kind::Premises => pb::TargetKind::Premises,
                    }) as i32
                })
                .collect(),
            category: match self.category {
                Category::Key => pb::ItemCategory::Key,
                Category::General => pb::ItemCategory::General,
            } as i32,
            ratio_cap_basis_points: self.ratio_bp,
            frequency_per_year: self.frequency,
            methods: self
                .methods
                .iter()
                .map(|m| {
                    (match m {
                        Method::OnSite => pb::InspectionMethod::OnSite,
                        Method::Written => pb::InspectionMethod::Written,
                        Method::OnlineMonitoring => pb::InspectionMethod::OnlineMonitoring,
                        Method::ThirdParty => pb::InspectionMethod::ThirdParty,
                    }) as i32
                })
                .collect(),
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
        Bearer::new(token),
    ))
}

fn show_status(status: tonic::Status) -> anyhow::Error {
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
        pb::ItemState::try_from(item.state)
            .map(|s| s
                .as_str_name()
                .trim_start_matches("ITEM_STATE_")
                .to_lowercase())
            .unwrap_or_default(),
        v.version,
        item.published_version,
        item.revision,
        c.department_code,
        pb::ItemCategory::try_from(c.category)
            .map(|s| s
                .as_str_name()
                .trim_start_matches("ITEM_CATEGORY_")
                .to_lowercase())
            .unwrap_or_default(),
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
                        state: match state {
                            None => 0,
                            Some(State::Draft) => pb::ItemState::Draft as i32,
                            Some(State::Published) => pb::ItemState::Published as i32,
                            Some(State::Retired) => pb::ItemState::Retired as i32,
                        },
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
                    pb::VersionState::try_from(v.state)
                        .map(|s| s.as_str_name())
                        .unwrap_or("?"),
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

//! Demo data for `suiji dev --demo`: a small catalog of Xianyang's departments, created through the public
//! API exactly as a person would. Loading twice changes nothing.

use std::time::Duration;

use suiji_api::catalog::v1 as pb;
use suiji_platform::auth::{Identity, Tokens};

struct DemoItem {
    code: &'static str,
    department: &'static str,
    name: &'static str,
    basis: &'static str,
    category: pb::ItemCategory,
    ratio_bp: u32,
    qualification: &'static str,
    checks: &'static [(&'static str, &'static str)],
}

const ITEMS: &[DemoItem] = &[
    DemoItem {
        code: "SX-SCJG-001",
        department: "610400-SCJG",
        name: "企业公示信息情况检查",
        basis: "《企业信息公示暂行条例》第十四条",
        category: pb::ItemCategory::General,
        ratio_bp: 0,
        qualification: "market-regulation",
        checks: &[
            ("1", "年度报告公示信息是否真实"),
            ("2", "即时信息是否按时公示"),
        ],
    },
    DemoItem {
        code: "SX-SCJG-014",
        department: "610400-SCJG",
        name: "食品生产企业监督检查",
        basis: "《中华人民共和国食品安全法》第一百一十条",
        category: pb::ItemCategory::Key,
        ratio_bp: 1000,
        qualification: "food-safety",
        checks: &[
            ("1", "生产许可证是否在有效期内"),
            ("2", "进货查验记录是否完整"),
            ("3", "出厂检验记录是否完整"),
        ],
    },
    DemoItem {
        code: "SX-STHJ-003",
        department: "610400-STHJ",
        name: "排污单位排污许可执行情况检查",
        basis: "《排污许可管理条例》第二十八条",
        category: pb::ItemCategory::General,
        ratio_bp: 200,
        qualification: "environment",
        checks: &[("1", "是否按证排污"), ("2", "自行监测数据是否真实")],
    },
    DemoItem {
        code: "SX-YJGL-002",
        department: "610400-YJGL",
        name: "危险化学品经营单位安全生产检查",
        basis: "《危险化学品安全管理条例》第六条",
        category: pb::ItemCategory::Key,
        ratio_bp: 3000,
        qualification: "work-safety",
        checks: &[
            ("1", "经营许可证是否有效"),
            ("2", "储存场所是否符合安全要求"),
        ],
    },
];

/// Creates and publishes the demo items that are missing; returns a summary.
pub async fn load(catalog_addr: &str, tokens: &Tokens) -> anyhow::Result<String> {
    let mut created = 0;
    for item in ITEMS {
        let who = Identity {
            subject: "demo".into(),
            department: item.department.into(),
            roles: vec!["catalog.editor".into(), "catalog.publisher".into()],
            inspector: None,
        };
        let token = tokens.issue(&who, Duration::from_secs(600))?;
        let mut client = crate::catalog_cmd::client(catalog_addr, Some(&token))?;
        let content = pb::ItemContent {
            name: item.name.into(),
            legal_basis: vec![item.basis.into()],
            department_code: item.department.into(),
            target_kinds: vec![
                pb::TargetKind::Enterprise as i32,
                pb::TargetKind::IndividualBusiness as i32,
            ],
            category: item.category as i32,
            ratio_cap_basis_points: item.ratio_bp,
            frequency_per_year: 1,
            methods: vec![
                pb::InspectionMethod::OnSite as i32,
                pb::InspectionMethod::Written as i32,
            ],
            inspector_qualifications: vec![item.qualification.into()],
            checklist: item
                .checks
                .iter()
                .map(|(code, d)| pb::CheckPoint {
                    code: (*code).into(),
                    description: (*d).into(),
                    basis: String::new(),
                })
                .collect(),
            ..Default::default()
        };
        match client
            .create_item(pb::CreateItemRequest {
                code: item.code.into(),
                content: Some(content),
            })
            .await
        {
            Ok(_) => {
                client
                    .publish_item(pb::PublishItemRequest {
                        code: item.code.into(),
                        expected_revision: 0,
                    })
                    .await?;
                created += 1;
            }
            Err(status) if status.code() == tonic::Code::AlreadyExists => {}
            Err(status) => return Err(status.into()),
        }
    }
    Ok(format!(
        "{created} catalog items created and published ({} already there)",
        ITEMS.len() - created
    ))
}

/// Imports a generated demo directory (2,000 targets in Shaanxi) unless the directory already has targets.
pub async fn load_directory(
    directories_addr: &str,
    tokens: &Tokens,
    data_dir: &str,
) -> anyhow::Result<String> {
    use suiji_api::directories::v1 as dir;
    let who = Identity {
        subject: "demo".into(),
        department: "610400-SCJG".into(),
        roles: vec!["directories.editor".into()],
        inspector: None,
    };
    let token = tokens.issue(&who, Duration::from_secs(600))?;
    let channel = suiji_platform::grpc::channel(directories_addr)?;
    let mut client = dir::directories_service_client::DirectoriesServiceClient::with_interceptor(
        channel,
        suiji_platform::grpc::Bearer::new(Some(&token)),
    );
    let existing = client
        .list_targets(dir::ListTargetsRequest {
            page_size: 1,
            ..Default::default()
        })
        .await?;
    if !existing.into_inner().targets.is_empty() {
        return Ok("directory already loaded".into());
    }
    let file = std::path::Path::new(data_dir).join("demo-targets.csv");
    let spec = suiji_directories::generate::Spec {
        count: 2000,
        seed: 2026,
        province: "610000".into(),
        departments: vec![
            "610400-SCJG".into(),
            "610400-STHJ".into(),
            "610400-YJGL".into(),
        ],
    };
    suiji_directories::generate::targets(&spec, std::fs::File::create(&file)?)?;
    let targets = crate::import_cmd::import_file(
        directories_addr,
        Some(&token),
        crate::import_cmd::What::Targets,
        &file,
        true,
    )
    .await?
    .0;
    let file = std::path::Path::new(data_dir).join("demo-inspectors.csv");
    let spec = suiji_directories::generate::Spec {
        count: 300,
        seed: 2026,
        province: "610000".into(),
        departments: vec![
            "610400-SCJG".into(),
            "610400-STHJ".into(),
            "610400-YJGL".into(),
        ],
    };
    suiji_directories::generate::inspectors(&spec, std::fs::File::create(&file)?)?;
    // Each department imports its own inspectors: the file is split by its department column.
    let all = std::fs::read_to_string(&file)?;
    let mut lines = all.lines();
    let header = lines.next().unwrap_or_default();
    let column = header
        .split(',')
        .position(|c| c == "department")
        .ok_or_else(|| anyhow::anyhow!("the generated inspectors name their department"))?;
    let (mut accepted, mut rejected) = (0, targets.rejected);
    for department in &spec.departments {
        let own: Vec<&str> = std::iter::once(header)
            .chain(
                lines
                    .clone()
                    .filter(|l| l.split(',').nth(column) == Some(department.as_str())),
            )
            .collect();
        let part = std::path::Path::new(data_dir).join(format!("demo-inspectors-{department}.csv"));
        std::fs::write(&part, own.join("\n") + "\n")?;
        let editor = Identity {
            subject: format!("demo@{department}"),
            department: department.clone(),
            roles: vec!["directories.editor".into()],
            inspector: None,
        };
        let token = tokens.issue(&editor, Duration::from_secs(600))?;
        let summary = crate::import_cmd::import_file(
            directories_addr,
            Some(&token),
            crate::import_cmd::What::Inspectors,
            &part,
            true,
        )
        .await?
        .0;
        accepted += summary.accepted;
        rejected += summary.rejected;
    }
    Ok(format!(
        "{} targets and {accepted} inspectors imported into the directories ({rejected} rejected)",
        targets.accepted,
    ))
}

/// The demo's joint plan for 2027 (`examples/plans/xianyang-2027-joint.toml`), drafted by Xianyang's market
/// regulator, approved by the joint meeting and published, with one task created from its first entry;
/// unless the regulator already has a plan for that year.
pub async fn load_plan(planning_addr: &str, tokens: &Tokens) -> anyhow::Result<String> {
    use suiji_api::planning::v1 as plan;
    const FILE: &str = include_str!("../../../examples/plans/xianyang-2027-joint.toml");
    let issue = |department: &str, role: &str| {
        let who = Identity {
            subject: format!("demo@{department}"),
            department: department.into(),
            roles: vec![role.into()],
            inspector: None,
        };
        tokens.issue(&who, Duration::from_secs(600))
    };
    let content: suiji_planning::domain::PlanContent = toml::from_str(FILE)?;
    let content = suiji_planning::convert::content_pb(&content);
    let year = content.year;
    let editor_token = issue("610400-SCJG", "planning.editor")?;
    let mut editor = crate::plan_cmd::client(planning_addr, Some(&editor_token))?;
    let existing = editor
        .list_plans(plan::ListPlansRequest {
            year,
            department_code: "610400-SCJG".into(),
            ..Default::default()
        })
        .await?
        .into_inner();
    if !existing.plans.is_empty() {
        return Ok(format!("a {year} plan is already there"));
    }
    // The catalog's items reach planning over the bus a moment after they are published.
    let mut attempts = 0;
    let created = loop {
        match editor
            .create_plan(plan::CreatePlanRequest {
                content: Some(content.clone()),
            })
            .await
        {
            Ok(r) => break r.into_inner().plan.unwrap_or_default(),
            Err(status) if status.code() == tonic::Code::InvalidArgument && attempts < 50 => {
                attempts += 1;
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            Err(status) => return Err(crate::catalog_cmd::show_status(status)),
        }
    };
    let id = created.id;
    editor
        .submit_plan(plan::SubmitPlanRequest {
            id: id.clone(),
            expected_revision: 0,
        })
        .await?;
    let meeting_token = issue("610400-ZFB", "planning.joint-meeting")?;
    crate::plan_cmd::client(planning_addr, Some(&meeting_token))?
        .approve_plan(plan::ApprovePlanRequest {
            id: id.clone(),
            expected_revision: 0,
        })
        .await?;
    editor
        .publish_plan(plan::PublishPlanRequest {
            id: id.clone(),
            expected_revision: 0,
        })
        .await?;
    let task = editor
        .create_task(plan::CreateTaskRequest {
            content: Some(plan::TaskContent {
                plan_id: id.clone(),
                entry_key: "01".into(),
                ..Default::default()
            }),
        })
        .await?
        .into_inner()
        .task
        .unwrap_or_default();
    Ok(format!(
        "joint plan {id} for {year} published; task {} created from entry 01",
        task.id
    ))
}

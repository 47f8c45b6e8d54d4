//! Starts the catalog and planning for a test on one bus, with a probe on `planning.#`.

use std::time::Duration;
use suiji_platform::auth::{ROLE_PLANNING_EDITOR, ROLE_PLANNING_JUDICIAL};

use std::sync::Arc;
use suiji_api::catalog::v1 as cat;
use suiji_api::catalog::v1::catalog_service_client::CatalogServiceClient;
use suiji_api::planning::v1 as pb;
use suiji_api::planning::v1::planning_service_client::PlanningServiceClient;
use suiji_platform::auth::ROLE_JOINT_MEETING;
use suiji_platform::grpc::{Bearer, channel};
use suiji_platform::testing::{self, Backend, Isolated, Probe, Running, eventually};
use tonic::codegen::InterceptedService;
use tonic::transport::Channel;

pub const SCJG: &str = "610400-SCJG";
pub const STHJ: &str = "610400-STHJ";
pub const YJGL: &str = "610400-YJGL";
/// The department of the joint meeting's office in these tests.
pub const MEETING: &str = "610400-WSJK";

pub type Client = PlanningServiceClient<InterceptedService<Channel, Bearer>>;

pub struct World {
    pub isolated: Isolated,
    pub catalog: Running,
    pub planning: Running,
    pub probe: Arc<Probe>,
}

impl World {
    /// Starts both services; `None` when the servers are unreachable outside CI.
    pub async fn start(backend: Backend) -> Option<Self> {
        let (isolated, bus) = testing::open(backend).await?;
        let probe = Probe::listen(&bus, &["planning.#"]).await;
        let catalog = testing::start(
            &isolated,
            bus.clone(),
            suiji_catalog::NAME,
            &suiji_catalog::migrations(),
            |ctx| async move { suiji_catalog::start(&ctx).await },
        )
        .await;
        let planning = testing::start(
            &isolated,
            bus,
            suiji_planning::NAME,
            &suiji_planning::migrations(),
            |ctx| async move { suiji_planning::start(&ctx).await },
        )
        .await;
        Some(Self {
            isolated,
            catalog,
            planning,
            probe,
        })
    }

    pub fn client(&self, token: Option<&str>) -> Client {
        PlanningServiceClient::with_interceptor(
            channel(&self.planning.addr).unwrap(),
            Bearer::new(token),
        )
    }

    /// A planning editor of `department`.
    pub fn editor(&self, department: &str) -> Client {
        self.client(Some(
            &self.isolated.token(department, &[ROLE_PLANNING_EDITOR]),
        ))
    }

    /// A member of the joint meeting.
    pub fn meeting(&self) -> Client {
        self.client(Some(&self.isolated.token(MEETING, &[ROLE_JOINT_MEETING])))
    }

    /// The judicial department's filing role.
    pub fn judicial(&self) -> Client {
        self.client(Some(
            &self.isolated.token("610400-SFJ", &[ROLE_PLANNING_JUDICIAL]),
        ))
    }

    /// Publishes a key item of `department` with `cap` basis points in the catalog and waits until planning
    /// has heard of that version.
    pub async fn item(&self, code: &str, department: &str, cap: u32) {
        let token = self
            .isolated
            .token(department, &["catalog.editor", "catalog.publisher"]);
        let mut c = CatalogServiceClient::with_interceptor(
            channel(&self.catalog.addr).unwrap(),
            Bearer::new(Some(&token)),
        );
        let content = cat::ItemContent {
            name: format!("{code} 检查"),
            legal_basis: vec!["《企业信息公示暂行条例》第十四条".into()],
            department_code: department.into(),
            target_kinds: vec![cat::TargetKind::Enterprise as i32],
            category: cat::ItemCategory::Key as i32,
            ratio_cap_basis_points: cap,
            frequency_per_year: 1,
            methods: vec![cat::InspectionMethod::OnSite as i32],
            checklist: vec![cat::CheckPoint {
                code: "1".into(),
                description: "是否按规定公示".into(),
                basis: String::new(),
            }],
            ..Default::default()
        };
        let existing = c
            .get_item(cat::GetItemRequest {
                code: code.into(),
                version: 0,
            })
            .await
            .ok();
        if existing.is_some() {
            c.update_item(cat::UpdateItemRequest {
                code: code.into(),
                content: Some(content),
                expected_revision: 0,
            })
            .await
            .unwrap();
        } else {
            c.create_item(cat::CreateItemRequest {
                code: code.into(),
                content: Some(content),
            })
            .await
            .unwrap();
        }
        let published = c
            .publish_item(cat::PublishItemRequest {
                code: code.into(),
                expected_revision: 0,
            })
            .await
            .unwrap()
            .into_inner()
            .item
            .unwrap();
        let version = i64::from(published.published_version);
        let db = self.planning.ctx.db.clone();
        let code = code.to_string();
        assert!(
            eventually(Duration::from_secs(15), || {
                let (db, code) = (db.clone(), code.clone());
                async move {
                    sqlx::query_scalar::<_, i64>(
                        "SELECT COUNT(*) FROM catalog_items WHERE code = $1 AND version = $2 AND state = 'published'",
                    )
                    .bind(code)
                    .bind(version)
                    .fetch_one(db.pool())
                    .await
                    .unwrap()
                        == 1
                }
            })
            .await,
            "planning heard of the item"
        );
    }

    pub async fn count(&self, sql: &'static str) -> i64 {
        sqlx::query_scalar(sql)
            .fetch_one(self.planning.ctx.db.pool())
            .await
            .unwrap()
    }

    pub async fn stop(self) {
        self.probe.stop();
        self.planning.stop().await;
        self.catalog.stop().await;
        self.isolated.cleanup().await;
    }
}

/// A joint entry led by SCJG with STHJ, 3% of Xianyang's enterprises, March to June of `year`.
pub fn entry(key: &str, year: u32) -> pb::PlanEntry {
    pb::PlanEntry {
        key: key.into(),
        task_name: "企业公示信息与排污许可联合抽查".into(),
        r#type: pb::TaskType::Directed as i32,
        scope: Some(suiji_api::directories::v1::TargetFilter {
            kinds: vec![cat::TargetKind::Enterprise as i32],
            region_codes: vec!["610400".into()],
            ..Default::default()
        }),
        method: cat::InspectionMethod::OnSite as i32,
        ratio_basis_points: 300,
        lead_department_code: SCJG.into(),
        participants: vec![
            pb::Participant {
                department_code: SCJG.into(),
                item_codes: vec!["SCJG-1".into()],
            },
            pb::Participant {
                department_code: STHJ.into(),
                item_codes: vec!["STHJ-1".into()],
            },
        ],
        window_start: format!("{year}-01-01"),
        window_end: format!("{year}-12-31"),
        publish_drawn_list: true,
        ..Default::default()
    }
}

/// A plan of `year` with `entries`.
pub fn content(year: u32, entries: Vec<pb::PlanEntry>) -> pb::PlanContent {
    pb::PlanContent {
        name: format!("{year}年咸阳市部门联合双随机抽查计划"),
        year,
        entries,
        remarks: String::new(),
    }
}

/// This year in China, so tasks launch within their window.
pub fn this_year() -> u32 {
    use chrono::Datelike;
    suiji_planning::domain::china_date(suiji_platform::db::now_ms()).year() as u32
}

/// Drafts, submits, approves and publishes a plan of SCJG; returns its id.
pub async fn published_plan(w: &World, content: pb::PlanContent) -> String {
    let mut editor = w.editor(SCJG);
    let plan = editor
        .create_plan(pb::CreatePlanRequest {
            content: Some(content),
        })
        .await
        .unwrap()
        .into_inner()
        .plan
        .unwrap();
    editor
        .submit_plan(pb::SubmitPlanRequest {
            id: plan.id.clone(),
            expected_revision: 0,
        })
        .await
        .unwrap();
    w.meeting()
        .approve_plan(pb::ApprovePlanRequest {
            id: plan.id.clone(),
            expected_revision: 0,
        })
        .await
        .unwrap();
    editor
        .publish_plan(pb::PublishPlanRequest {
            id: plan.id.clone(),
            expected_revision: 0,
        })
        .await
        .unwrap();
    plan.id
}

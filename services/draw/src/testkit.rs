//! A test kit (feature `testkit`): starts the directories and the draw on one bus, with a probe on `draw.#`,
//! fills the directories and launches tasks as planning would. The draw's integration tests and the benchmarks
//! use it.

use std::sync::Arc;
use std::time::Duration;
use suiji_platform::auth::{ROLE_DEPARTMENT_HEAD, ROLE_DRAW_OPERATOR};

use suiji_api::catalog::v1 as cat;
use suiji_api::directories::v1 as dir;
use suiji_api::directories::v1::directories_service_client::DirectoriesServiceClient;
use suiji_api::draw::v1::draw_service_client::DrawServiceClient;
use suiji_api::planning::v1 as plan;
use suiji_platform::grpc::{Bearer, channel};
use suiji_platform::outbox::{self, Event};
use suiji_platform::testing::{self, Backend, Isolated, Probe, Running, eventually};
use tonic::codegen::InterceptedService;
use tonic::transport::Channel;

pub const SCJG: &str = "610400-SCJG";
pub const STHJ: &str = "610400-STHJ";

pub type Client = DrawServiceClient<InterceptedService<Channel, Bearer>>;
pub type Directories = DirectoriesServiceClient<InterceptedService<Channel, Bearer>>;

pub struct World {
    pub isolated: Isolated,
    pub directories: Running,
    pub draw: Running,
    pub probe: Arc<Probe>,
}

impl World {
    /// Starts both services; `None` when the servers are unreachable outside CI.
    pub async fn start(backend: Backend) -> Option<Self> {
        let (isolated, _) = testing::open(backend).await?;
        Some(Self::start_in(isolated).await)
    }

    /// Starts both services in `isolated` (a fresh place, or a database a benchmark kept).
    pub async fn start_in(isolated: Isolated) -> Self {
        let bus = isolated.bus().await;
        let probe = Probe::listen(&bus, &["draw.#"]).await;
        let directories = testing::start(
            &isolated,
            bus.clone(),
            suiji_directories::NAME,
            &suiji_directories::migrations(),
            |ctx| async move { suiji_directories::start(&ctx).await },
        )
        .await;
        let mut settings = (*isolated.settings).clone();
        settings.services.directories = directories.addr.clone();
        let draw = testing::start_with(
            Arc::new(settings),
            bus,
            crate::NAME,
            &crate::migrations(),
            |ctx| async move { crate::start(&ctx).await },
        )
        .await;
        Self {
            isolated,
            directories,
            draw,
            probe,
        }
    }

    /// Every team of `task_id` through `ListTeams`, `page_size` at a time, with the filters of `request`.
    pub async fn teams(
        client: &mut Client,
        task_id: &str,
        page_size: i32,
        request: suiji_api::draw::v1::ListTeamsRequest,
    ) -> Result<Vec<suiji_api::draw::v1::Team>, tonic::Status> {
        let mut teams = Vec::new();
        let mut page_token = String::new();
        loop {
            let page = client
                .list_teams(suiji_api::draw::v1::ListTeamsRequest {
                    task_id: task_id.into(),
                    page_size,
                    page_token,
                    ..request.clone()
                })
                .await?
                .into_inner();
            assert!(
                page.teams.len() <= crate::service::Draws::teams_page_size(page_size),
                "a page larger than asked for"
            );
            teams.extend(page.teams);
            if page.next_page_token.is_empty() {
                return Ok(teams);
            }
            page_token = page.next_page_token;
        }
    }

    pub fn client(&self, token: Option<&str>) -> Client {
        DrawServiceClient::with_interceptor(channel(&self.draw.addr).unwrap(), Bearer::new(token))
    }

    /// The draw operator of `department`.
    pub fn operator(&self, department: &str) -> Client {
        self.client(Some(
            &self.isolated.token(department, &[ROLE_DRAW_OPERATOR]),
        ))
    }

    /// The head of `department`.
    pub fn head(&self, department: &str) -> Client {
        self.client(Some(
            &self.isolated.token(department, &[ROLE_DEPARTMENT_HEAD]),
        ))
    }

    pub fn directories_client(&self) -> Directories {
        let token = self.isolated.token(SCJG, &["directories.editor", "admin"]);
        DirectoriesServiceClient::with_interceptor(
            channel(&self.directories.addr).unwrap(),
            Bearer::new(Some(&token)),
        )
    }

    /// Puts `event` on the bus as `source` would (through the directories' outbox).
    pub async fn emit(&self, source: &str, event: Event) {
        let mut tx = self.directories.ctx.db.begin().await.unwrap();
        outbox::enqueue(&mut tx, source, event).await.unwrap();
        tx.commit().await.unwrap();
        self.directories.ctx.relay.notify();
    }

    /// Launches task `task_id` led by SCJG with STHJ, as planning would, and waits for its commitment.
    pub async fn launch(&self, task_id: &str, entry: plan::PlanEntry, quantity: u32) {
        let items = vec![
            item("SCJG-1", SCJG, "市场监管执法", false),
            item("STHJ-1", STHJ, "环境执法", true),
        ];
        self.launch_with(task_id, entry, items, quantity).await;
    }

    /// Launches task `task_id` from `entry` with its participants' `items`, and waits for its commitment.
    pub async fn launch_with(
        &self,
        task_id: &str,
        entry: plan::PlanEntry,
        items: Vec<cat::Item>,
        quantity: u32,
    ) {
        let participants = entry.participants.clone();
        let task = plan::Task {
            id: task_id.into(),
            content: Some(plan::TaskContent {
                name: "联合抽查".into(),
                participants,
                quantity,
                ..Default::default()
            }),
            lead_department_code: entry.lead_department_code.clone(),
            year: 2027,
            entry: Some(entry),
            ..Default::default()
        };
        let launched = plan::TaskLaunchedEvent {
            task: Some(task),
            item_caps_basis_points: vec![10_000; items.len()],
            items,
            annual_caps: vec![],
        };
        self.emit(
            "planning",
            Event::new::<suiji_api::topics::TaskLaunched>(task_id, &launched),
        )
        .await;
        let db = self.draw.ctx.db.clone();
        let id = task_id.to_string();
        assert!(
            eventually(Duration::from_secs(30), || {
                let (db, id) = (db.clone(), id.clone());
                async move {
                    sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM draws WHERE task_id = $1")
                        .bind(id)
                        .fetch_one(db.pool())
                        .await
                        .unwrap()
                        == 1
                }
            })
            .await,
            "the draw heard of the launch"
        );
    }

    pub async fn stop(self) {
        self.stop_services().await.cleanup().await;
    }

    /// Stops both services and hands back the place they ran in, for the caller to keep or clean up.
    pub async fn stop_services(self) -> Isolated {
        self.probe.stop();
        self.draw.stop().await;
        self.directories.stop().await;
        self.isolated
    }
}

/// A published item of `department` needing `qualification` (and an expert), with one check point.
pub fn item(code: &str, department: &str, qualification: &str, expert: bool) -> cat::Item {
    cat::Item {
        code: code.into(),
        department_code: department.into(),
        state: cat::ItemState::Published as i32,
        version: Some(cat::ItemVersion {
            version: 1,
            content: Some(cat::ItemContent {
                name: format!("{code} 检查"),
                department_code: department.into(),
                target_kinds: vec![cat::TargetKind::Enterprise as i32],
                inspector_qualifications: vec![qualification.into()],
                requires_expert: expert,
                checklist: vec![cat::CheckPoint {
                    code: "1".into(),
                    description: format!("{code} 检查点"),
                    basis: String::new(),
                }],
                ..Default::default()
            }),
            ..Default::default()
        }),
        published_version: 1,
        ..Default::default()
    }
}

/// A joint entry led by SCJG with STHJ over enterprises in Shaanxi: 3%, 10% of high risk.
pub fn entry(public: bool) -> plan::PlanEntry {
    plan::PlanEntry {
        key: "E1".into(),
        task_name: "联合抽查".into(),
        scope: Some(dir::TargetFilter {
            kinds: vec![cat::TargetKind::Enterprise as i32],
            region_codes: vec!["610000".into()],
            ..Default::default()
        }),
        ratio_basis_points: 300,
        risk_ratios: vec![plan::RiskRatio {
            level: dir::RiskLevel::High as i32,
            basis_points: 1000,
        }],
        lead_department_code: SCJG.into(),
        participants: vec![
            plan::Participant {
                department_code: SCJG.into(),
                item_codes: vec!["SCJG-1".into()],
            },
            plan::Participant {
                department_code: STHJ.into(),
                item_codes: vec!["STHJ-1".into()],
            },
        ],
        window_start: "2027-01-01".into(),
        window_end: "2027-12-31".into(),
        publish_drawn_list: public,
        ..Default::default()
    }
}

/// Imports `n` generated targets supervised by SCJG and STHJ.
pub async fn targets(w: &World, n: u64) {
    import_targets(&mut w.directories_client(), n, 7, &[SCJG, STHJ]).await;
}

/// Imports `n` targets generated from `seed`, supervised by `departments`, through `client`: all accepted.
pub async fn import_targets(client: &mut Directories, n: u64, seed: u64, departments: &[&str]) {
    let mut csv = Vec::new();
    suiji_directories::generate::targets(
        &suiji_directories::generate::Spec {
            count: n,
            seed,
            province: "610000".into(),
            departments: departments.iter().map(|d| d.to_string()).collect(),
        },
        &mut csv,
    )
    .unwrap();
    use dir::import_targets_request::Part;
    let messages = vec![
        dir::ImportTargetsRequest {
            part: Some(Part::Header(dir::ImportHeader {
                file_name: "t.csv".into(),
                format: 0,
            })),
        },
        dir::ImportTargetsRequest {
            part: Some(Part::Chunk(csv)),
        },
    ];
    let mut replies = client
        .import_targets(futures::stream::iter(messages))
        .await
        .unwrap()
        .into_inner();
    while let Some(r) = replies.message().await.unwrap() {
        if let Some(dir::import_targets_response::Event::Summary(s)) = r.event {
            assert_eq!(s.accepted, n, "every generated target imports");
        }
    }
}

/// Imports inspectors from CSV rows `id,department,qualifications,expert,status,expires,recusals`.
pub async fn inspectors(w: &World, rows: &[(&str, &str, &str, bool, &str, &str, &str)]) {
    import_inspectors(&mut w.directories_client(), rows).await;
}

/// Imports inspector rows (as [`inspectors`] reads them) through `client`: none rejected.
pub async fn import_inspectors(
    client: &mut Directories,
    rows: &[(&str, &str, &str, bool, &str, &str, &str)],
) {
    let mut csv = String::from(
        "id,name,department,certificate_no,certificate_expires,qualifications,expertise,expert,region_code,status,recusals\n",
    );
    for (id, department, quals, expert, status, expires, recusals) in rows {
        csv.push_str(&format!(
            "{id},检查员{id},{department},ZF{id},{expires},{quals},,{},610400,{status},{recusals}\n",
            if *expert { "是" } else { "否" }
        ));
    }
    use dir::import_inspectors_request::Part;
    let messages = vec![
        dir::ImportInspectorsRequest {
            part: Some(Part::Header(dir::ImportHeader {
                file_name: "i.csv".into(),
                format: 0,
            })),
        },
        dir::ImportInspectorsRequest {
            part: Some(Part::Chunk(csv.into_bytes())),
        },
    ];
    let mut replies = client
        .import_inspectors(futures::stream::iter(messages))
        .await
        .unwrap()
        .into_inner();
    while let Some(r) = replies.message().await.unwrap() {
        match r.event {
            Some(dir::import_inspectors_response::Event::Rejected(r)) => {
                panic!(
                    "inspector row {} rejected: {} {}",
                    r.line, r.field, r.reason
                )
            }
            Some(dir::import_inspectors_response::Event::Summary(s)) => {
                assert_eq!(s.accepted as usize, rows.len())
            }
            _ => {}
        }
    }
}

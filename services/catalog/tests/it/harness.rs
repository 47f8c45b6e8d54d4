//! Starts the catalog for a test and collects the events it emits.

use std::sync::Arc;

use suiji_api::catalog::v1::catalog_service_client::CatalogServiceClient;
use suiji_api::events::v1::Envelope;
use suiji_platform::bus::Bus;
use suiji_platform::grpc::{Bearer, channel};
use suiji_platform::testing::{self, Backend, Isolated, Probe, Running};
use tonic::codegen::InterceptedService;
use tonic::transport::Channel;

pub const SCJG: &str = "610400-SCJG";
pub const STHJ: &str = "610400-STHJ";
pub const ALL_ROLES: &[&str] = &["catalog.editor", "catalog.publisher"];

pub type Client = CatalogServiceClient<InterceptedService<Channel, Bearer>>;

pub struct Catalog {
    pub isolated: Isolated,
    pub running: Running,
    pub bus: Arc<dyn Bus>,
    pub probe: Arc<Probe>,
}

impl Catalog {
    /// Starts the catalog, with a probe bound to `catalog.#`; `None` when the servers are unreachable
    /// outside CI.
    pub async fn start(backend: Backend) -> Option<Self> {
        let (isolated, bus) = testing::open(backend).await?;
        let probe = Probe::listen(&bus, &["catalog.#"]).await;
        let running = testing::start(
            &isolated,
            bus.clone(),
            suiji_catalog::NAME,
            &suiji_catalog::migrations(),
            |ctx| async move { suiji_catalog::start(&ctx).await },
        )
        .await;
        Some(Self {
            isolated,
            running,
            bus,
            probe,
        })
    }

    pub fn client(&self, token: Option<&str>) -> Client {
        CatalogServiceClient::with_interceptor(
            channel(&self.running.addr).unwrap(),
            Bearer::new(token),
        )
    }

    pub fn as_dept(&self, department: &str) -> Client {
        self.client(Some(&self.isolated.token(department, ALL_ROLES)))
    }

    pub fn events(&self) -> Vec<Envelope> {
        self.probe.seen()
    }

    pub async fn count(&self, sql: &'static str) -> i64 {
        sqlx::query_scalar(sql)
            .fetch_one(self.running.ctx.db.pool())
            .await
            .unwrap()
    }

    pub async fn stop(self) {
        self.probe.stop();
        self.running.stop().await;
        self.isolated.cleanup().await;
    }
}

/// A valid general item of `department`.
pub fn content(department: &str, name: &str) -> suiji_api::catalog::v1::ItemContent {
    use suiji_api::catalog::v1 as pb;
    pb::ItemContent {
        name: name.into(),
        legal_basis: vec!["《企业信息公示暂行条例》第十四条".into()],
        department_code: department.into(),
        target_kinds: vec![pb::TargetKind::Enterprise as i32],
        category: pb::ItemCategory::General as i32,
        frequency_per_year: 1,
        methods: vec![pb::InspectionMethod::OnSite as i32],
        checklist: vec![pb::CheckPoint {
            code: "1".into(),
            description: "年报是否真实".into(),
            basis: String::new(),
        }],
        ..Default::default()
    }
}

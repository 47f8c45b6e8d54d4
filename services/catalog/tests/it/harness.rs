//! Starts the catalog for a test and collects the events it emits.

use std::sync::{Arc, Mutex};

use prost::Message;
use suiji_api::catalog::v1::catalog_service_client::CatalogServiceClient;
use suiji_api::events::v1::Envelope;
use suiji_platform::bus::{Bus, Handler, IncomingMessage, Outcome, Subscription};
use suiji_platform::grpc::{Bearer, channel};
use suiji_platform::testing::{self, Backend, Isolated, Running};
use tokio_util::sync::CancellationToken;
use tonic::codegen::InterceptedService;
use tonic::transport::Channel;

pub const SCJG: &str = "610400-SCJG";
pub const STHJ: &str = "610400-STHJ";
pub const ALL_ROLES: &[&str] = &["catalog.editor", "catalog.publisher"];

pub type Client = CatalogServiceClient<InterceptedService<Channel, Bearer>>;

/// Records every message delivered to it.
#[derive(Default)]
pub struct Probe {
    pub seen: Mutex<Vec<Envelope>>,
}

#[async_trait::async_trait]
impl Handler for Probe {
    async fn handle(&self, message: IncomingMessage) -> Outcome {
        let envelope = Envelope::decode(message.body.as_slice()).expect("an envelope");
        self.seen.lock().unwrap().push(envelope);
        Outcome::Ack
    }
}

pub struct Catalog {
    pub isolated: Isolated,
    pub running: Running,
    pub bus: Arc<dyn Bus>,
    pub probe: Arc<Probe>,
    stop_probe: CancellationToken,
}

impl Catalog {
    /// Starts the catalog, with a probe bound to `catalog.#`; `None` when the servers are unreachable
    /// outside CI.
    pub async fn start(backend: Backend) -> Option<Self> {
        suiji_platform::telemetry::init_for_tests();
        if !testing::require(backend).await {
            return None;
        }
        let isolated = testing::isolated(backend).await;
        let bus = isolated.bus().await;
        let probe = Arc::new(Probe::default());
        let stop_probe = CancellationToken::new();
        bus.subscribe(
            Subscription {
                service: "probe".into(),
                bindings: vec!["catalog.#".into()],
            },
            probe.clone(),
            stop_probe.clone(),
        )
        .await
        .expect("probe subscription");
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
            stop_probe,
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
        self.probe.seen.lock().unwrap().clone()
    }

    pub async fn count(&self, sql: &'static str) -> i64 {
        sqlx::query_scalar(sql)
            .fetch_one(self.running.ctx.db.pool())
            .await
            .unwrap()
    }

    pub async fn stop(self) {
        self.stop_probe.cancel();
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

/// Runs `body` on both backends, one test each.
#[macro_export]
macro_rules! on_both_backends {
    ($name:ident, $body:path) => {
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn embedded() {
                $body(suiji_platform::testing::Backend::Embedded).await
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres_rabbitmq() {
                $body(suiji_platform::testing::Backend::Servers).await
            }
        }
    };
}

//! Integration tests of the publication service beside the directories, on the embedded default and on
//! PostgreSQL with RabbitMQ: results come from concluded visits on the bus, the departments enter, review,
//! publish, withhold and correct them over gRPC, the public reads them over gRPC and HTTP, and the connector
//! delivers to a receiver in the test.

mod browser;
mod results;
mod search;

use std::sync::{Arc, Mutex};
use suiji_platform::auth::{ROLE_DEPARTMENT_HEAD, ROLE_RESULT_ENTRY, ROLE_RESULT_REVIEWER};

use suiji_api::admin::v1::calendar_service_client::CalendarServiceClient;
use suiji_api::directories::v1 as dir;
use suiji_api::inspection::v1 as insp;
use suiji_api::publication::v1 as pb;
use suiji_api::publication::v1::publication_service_client::PublicationServiceClient;
use suiji_draw::testkit::{self, World};
use suiji_platform::config::{ConnectorSettings, Secret};
use suiji_platform::grpc::{Bearer, channel};
use suiji_platform::outbox::Event;
use suiji_platform::testing::{self, Backend, Probe, Running};
use tokio_util::sync::CancellationToken;
use tonic::codegen::InterceptedService;
use tonic::transport::Channel;

pub const SCJG: &str = testkit::SCJG;
pub const STHJ: &str = testkit::STHJ;
pub const HOOK_SECRET: &str = "s3cret-hmac-key";

pub type Client = PublicationServiceClient<InterceptedService<Channel, Bearer>>;

/// A request the receiver got: headers we check and the body.
#[derive(Debug, Clone)]
pub struct Received {
    pub path: String,
    pub signature: String,
    pub kind: String,
    pub body: String,
}

/// The directories with targets, the publication service wired to them and to a webhook receiver, and a probe on
/// `publication.#`.
pub struct Setup {
    pub world: World,
    pub publication: Running,
    pub probe: Arc<Probe>,
    pub received: Arc<Mutex<Vec<Received>>>,
    pub targets: Vec<dir::Target>,
    /// Where the daily export files go.
    pub export_dir: std::path::PathBuf,
    /// The operator's calendar file (calendar.extra_file), empty at start.
    pub calendar_file: std::path::PathBuf,
    stop: CancellationToken,
}

/// A receiver: `/hook` accepts, `/broken` answers 503.
async fn receiver(received: Arc<Mutex<Vec<Received>>>, stop: CancellationToken) -> String {
    use axum::http::{HeaderMap, StatusCode, Uri};
    let handler = move |uri: Uri, headers: HeaderMap, body: String| {
        let received = received.clone();
        async move {
            let header = |n: &str| {
                headers
                    .get(n)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default()
                    .to_string()
            };
            received.lock().unwrap().push(Received {
                path: uri.path().to_string(),
                signature: header("x-suiji-signature"),
                kind: header("x-suiji-kind"),
                body,
            });
            if uri.path() == "/hook" {
                StatusCode::NO_CONTENT
            } else {
                StatusCode::SERVICE_UNAVAILABLE
            }
        }
    };
    let app = axum::Router::new().fallback(handler);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app)
            .with_graceful_shutdown(stop.cancelled_owned())
            .await;
    });
    format!("http://{addr}")
}

impl Setup {
    /// Starts everything; `None` when the servers are unreachable outside CI.
    pub async fn start(backend: Backend) -> Option<Self> {
        let world = World::start(backend).await?;
        testkit::targets(&world, 4).await;
        let targets = world
            .directories_client()
            .list_targets(dir::ListTargetsRequest::default())
            .await
            .unwrap()
            .into_inner()
            .targets;
        assert_eq!(targets.len(), 4);
        let stop = CancellationToken::new();
        let received = Arc::new(Mutex::new(Vec::new()));
        let hooks = receiver(received.clone(), stop.clone()).await;
        let bus = world.isolated.bus().await;
        let probe =
            Probe::bind_as(&bus, "publication-probe", &["publication.#"], stop.clone()).await;
        let mut settings = (*world.isolated.settings).clone();
        settings.services.directories = world.directories.addr.clone();
        settings.publication.delivery_attempts = 2;
        let export_dir =
            std::env::temp_dir().join(format!("suiji-export-{}", uuid::Uuid::new_v4()));
        settings.publication.export_dir = export_dir.to_string_lossy().into_owned();
        let calendar_file =
            std::env::temp_dir().join(format!("suiji-calendar-{}.toml", uuid::Uuid::new_v4()));
        std::fs::write(&calendar_file, "").unwrap();
        settings.calendar.extra_file = calendar_file.to_string_lossy().into_owned();
        settings.publication.connectors = vec![
            ConnectorSettings {
                name: "credit".into(),
                kind: "webhook".into(),
                url: format!("{hooks}/hook"),
                secret: Secret::new(HOOK_SECRET),
                kinds: Vec::new(),
            },
            ConnectorSettings {
                name: "broken".into(),
                kind: "webhook".into(),
                url: format!("{hooks}/broken"),
                secret: Secret::new("other"),
                kinds: vec!["credit.recorded".into()],
            },
        ];
        let publication = testing::start_with(
            Arc::new(settings),
            bus,
            suiji_publication::NAME,
            &suiji_publication::migrations(),
            |ctx| async move { suiji_publication::start(&ctx).await },
        )
        .await;
        Some(Self {
            world,
            publication,
            probe,
            received,
            targets,
            export_dir,
            calendar_file,
            stop,
        })
    }

    pub fn client(&self, department: &str, roles: &[&str]) -> Client {
        let token = self.world.isolated.token(department, roles);
        PublicationServiceClient::with_interceptor(
            channel(&self.publication.addr).unwrap(),
            Bearer::new(Some(&token)),
        )
    }

    /// The calendar API of the publication service, as `department` with `roles`.
    pub fn calendar(
        &self,
        department: &str,
        roles: &[&str],
    ) -> CalendarServiceClient<InterceptedService<Channel, Bearer>> {
        let token = self.world.isolated.token(department, roles);
        CalendarServiceClient::with_interceptor(
            channel(&self.publication.addr).unwrap(),
            Bearer::new(Some(&token)),
        )
    }

    pub fn public(&self) -> Client {
        PublicationServiceClient::with_interceptor(
            channel(&self.publication.addr).unwrap(),
            Bearer::new(None),
        )
    }

    pub fn entry(&self, department: &str) -> Client {
        self.client(department, &[ROLE_RESULT_ENTRY])
    }

    pub fn reviewer(&self, department: &str) -> Client {
        self.client(department, &[ROLE_RESULT_REVIEWER])
    }

    pub fn head(&self, department: &str) -> Client {
        self.client(department, &[ROLE_DEPARTMENT_HEAD])
    }

    /// Puts a concluded visit of target `target` on the bus as the inspection service would.
    pub async fn conclude(
        &self,
        task: &str,
        target: usize,
        concluded: &str,
        outcome: &str,
        items: &[(&str, &str, bool)],
    ) {
        let t = &self.targets[target];
        let mut outcomes: Vec<insp::DepartmentOutcome> = Vec::new();
        for (department, item, problem) in items {
            let entry = match outcomes
                .iter_mut()
                .position(|o| o.department_code == *department)
            {
                Some(i) => &mut outcomes[i],
                None => {
                    outcomes.push(insp::DepartmentOutcome {
                        department_code: department.to_string(),
                        ..Default::default()
                    });
                    outcomes.last_mut().unwrap()
                }
            };
            entry.problem_found |= *problem;
            entry.items.push(insp::ItemOutcome {
                item_code: item.to_string(),
                item_name: format!("{item} 检查"),
                problem_found: *problem,
                problems: if *problem {
                    vec!["P1: 未公示年度报告".into()]
                } else {
                    Vec::new()
                },
            });
        }
        let event = insp::VisitConcludedEvent {
            task_id: task.into(),
            visit_id: format!("{task}/{}", t.id),
            target_id: t.id.clone(),
            visit_date: concluded.into(),
            outcomes,
            inspector_ids: Vec::new(),
            outcome: outcome.into(),
            task_name: "2026年市场监管联合抽查".into(),
            lead_department_code: SCJG.into(),
            concluded_date: concluded.into(),
        };
        self.world
            .emit(
                "inspection",
                Event::new::<suiji_api::topics::VisitConcluded>(task, &event),
            )
            .await;
    }

    pub async fn stop(self) {
        let _ = std::fs::remove_dir_all(&self.export_dir);
        self.stop.cancel();
        self.publication.stop().await;
        self.world.stop().await;
    }
}

/// The results of `department` once there are `n`.
pub async fn results(c: &mut Client, department: &str, n: usize) -> Vec<pb::Result> {
    let mut seen = Vec::new();
    let found = testing::eventually(std::time::Duration::from_secs(20), || {
        let mut c = c.clone();
        let department = department.to_string();
        async move {
            c.list_results(pb::ListResultsRequest {
                department_code: department,
                ..Default::default()
            })
            .await
            .map(|r| r.into_inner().results.len() >= n)
            .unwrap_or(false)
        }
    })
    .await;
    assert!(found, "{department} has {n} results");
    seen.extend(
        c.list_results(pb::ListResultsRequest {
            department_code: department.into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .results,
    );
    seen
}

pub fn content(codes: &[&str], disposal: pb::Disposal) -> Option<pb::Content> {
    Some(pb::Content {
        codes: codes.iter().map(|c| c.to_string()).collect(),
        disposal: disposal as i32,
        ..Default::default()
    })
}

/// Enters, approves and publishes result `id` with `codes`.
pub async fn publish(
    s: &Setup,
    department: &str,
    id: &str,
    codes: &[&str],
    disposal: pb::Disposal,
) {
    s.entry(department)
        .enter_result(pb::EnterResultRequest {
            id: id.into(),
            content: content(codes, disposal),
            expected_revision: 0,
        })
        .await
        .unwrap();
    s.reviewer(department)
        .review_result(pb::ReviewResultRequest {
            id: id.into(),
            decision: pb::ReviewDecision::Approve as i32,
            ..Default::default()
        })
        .await
        .unwrap();
    let out = s
        .reviewer(department)
        .publish_results(pb::PublishResultsRequest {
            ids: vec![id.into()],
        })
        .await
        .unwrap()
        .into_inner();
    assert!(out.outcomes[0].published, "{:?}", out.outcomes[0]);
}

/// GET `path` on the publication service's port: status and body.
pub async fn http_get(s: &Setup, path: &str) -> (u16, String) {
    testing::http_get(&s.publication.addr, path).await
}

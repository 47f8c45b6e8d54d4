//! Test support (feature `testing`): a fresh database and bus namespace per test, real servers started on
//! port 0, development tokens. Tests that need PostgreSQL or RabbitMQ call [`require_postgres`] or
//! [`require_rabbitmq`]: outside CI an unreachable server skips the test with a message; in CI (`CI=true`) it
//! fails the test.

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use sqlx::Executor;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::auth::{Identity, Tokens};
use crate::bus::{self, Bus};
use crate::config::Settings;
use crate::db::Migrations;
use crate::runtime::{Context, StartError, Started};

/// Which servers a test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// SQLite files in a temporary directory and the in-process bus.
    Embedded,
    /// A fresh PostgreSQL database and a fresh RabbitMQ namespace.
    Servers,
}

/// PostgreSQL server for tests: `TEST_DATABASE_URL`, default the local server.
pub fn postgres_url() -> String {
    std::env::var("TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

/// RabbitMQ for tests: `TEST_AMQP_URL`, default the local broker.
pub fn amqp_url() -> String {
    std::env::var("TEST_AMQP_URL")
        .unwrap_or_else(|_| "amqp://guest:guest@127.0.0.1:5672/%2f".into())
}

fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
}

async fn reachable(host_port: &str) -> bool {
    matches!(
        tokio::time::timeout(
            Duration::from_secs(2),
            tokio::net::TcpStream::connect(host_port)
        )
        .await,
        Ok(Ok(_))
    )
}

fn host_port(url: &str) -> String {
    let rest = url.split("://").nth(1).unwrap_or(url);
    let rest = rest.rsplit('@').next().unwrap_or(rest);
    rest.split('/').next().unwrap_or(rest).to_string()
}

async fn require_server(what: &str, url: &str) -> bool {
    if reachable(&host_port(url)).await {
        return true;
    }
    if in_ci() {
        panic!(
            "{what} at {} is required in CI (CI=true) but unreachable",
            host_port(url)
        );
    }
    eprintln!(
        "SKIPPED: {what} at {} is unreachable (set CI=true to make this a failure)",
        host_port(url)
    );
    false
}

/// The browser driver `e2e/browser/<script>` when node, playwright-core and Chromium (`CHROMIUM`, default
/// `/usr/bin/chromium`) are there. Outside CI a missing one skips the test with a message; in CI it fails it.
pub fn browser_driver(script: &str) -> Option<std::path::PathBuf> {
    let root = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    let missing = if !std::path::Path::new(&chromium).exists() {
        Some(format!(
            "Chromium at {chromium} (apt-get install -y chromium)"
        ))
    } else if !root.join("node_modules/playwright-core").exists() {
        Some("playwright-core (npm install, or make tools)".into())
    } else if std::process::Command::new("node")
        .arg("--version")
        .output()
        .is_err()
    {
        Some("node".into())
    } else {
        None
    };
    match missing {
        None => Some(root.join("e2e/browser").join(script)),
        Some(what) if in_ci() => panic!("{what} is required in CI (CI=true) but missing"),
        Some(what) => {
            eprintln!("SKIPPED: {what} is missing (set CI=true to make this a failure)");
            None
        }
    }
}

/// Runs the browser driver `script` with `args` and returns what it printed as JSON; the driver must succeed.
pub fn run_browser_driver(script: &std::path::Path, args: &[&str]) -> serde_json::Value {
    let output = std::process::Command::new("node")
        .arg(script)
        .args(args)
        .output()
        .expect("node runs");
    assert!(
        output.status.success(),
        "the driver {} failed: {}",
        script.display(),
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("the driver prints one JSON document")
}

/// GET `path` over plain HTTP/1.1 from a service at `addr` (`http://host:port`), e.g. the public pages served beside
/// a gRPC API: the status and the body.
pub async fn http_get(addr: &str, path: &str) -> (u16, String) {
    use http_body_util::BodyExt;
    let client = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
        .build_http::<http_body_util::Empty<bytes::Bytes>>();
    let uri: http::Uri = format!("{addr}{path}").parse().expect("a URI");
    let response = client.get(uri).await.expect("the service answers");
    let status = response.status().as_u16();
    let body = response
        .into_body()
        .collect()
        .await
        .expect("a body")
        .to_bytes();
    (status, String::from_utf8_lossy(&body).into_owned())
}

/// Whether PostgreSQL is there; see the module doc.
pub async fn require_postgres() -> bool {
    require_server("PostgreSQL", &postgres_url()).await
}

/// Whether RabbitMQ is there; see the module doc.
pub async fn require_rabbitmq() -> bool {
    require_server("RabbitMQ", &amqp_url()).await
}

/// Whether the servers a backend needs are there.
pub async fn require(backend: Backend) -> bool {
    match backend {
        Backend::Embedded => true,
        Backend::Servers => require_postgres().await && require_rabbitmq().await,
    }
}

/// Settings isolated for one test, and what to clean up afterwards.
pub struct Isolated {
    /// The settings.
    pub settings: Arc<Settings>,
    /// The backend.
    pub backend: Backend,
    dir: Option<std::path::PathBuf>,
    database: Option<String>,
    /// The bus, made on first use and shared by everything the test starts.
    bus: tokio::sync::OnceCell<Arc<dyn Bus>>,
    /// The bus namespace to delete (on the servers).
    namespace: Option<String>,
}

/// One signing key for every test of a process (making a key per test would cost nothing much, but
/// one key lets a test hand tokens between services started from different settings).
fn test_signing_key() -> &'static str {
    static KEY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    KEY.get_or_init(crate::auth::Signer::generate_pem)
}

/// A fresh SQLite directory, or a fresh PostgreSQL database and RabbitMQ namespace.
pub async fn isolated(backend: Backend) -> Isolated {
    isolated_in(backend, None).await
}

/// An existing PostgreSQL database (one a benchmark kept) with a fresh RabbitMQ namespace; cleaning up leaves
/// the database in place.
pub async fn reuse(database: &str) -> Isolated {
    isolated_in(Backend::Servers, Some(database)).await
}

async fn isolated_in(backend: Backend, existing: Option<&str>) -> Isolated {
    let id = uuid::Uuid::new_v4().simple().to_string()[..12].to_string();
    let mut overrides: Vec<(&str, String)> = vec![
        ("bus.relay_poll_ms", "100".into()),
        ("bus.namespace", format!("t{id}")),
        ("auth.signing_key", test_signing_key().into()),
    ];
    let (dir, database) = match backend {
        Backend::Embedded => {
            let dir = std::env::temp_dir().join(format!("suiji-test-{id}"));
            overrides.push(("database.url", format!("sqlite:{}", dir.display())));
            overrides.push(("bus.kind", "embedded".into()));
            (Some(dir), None)
        }
        Backend::Servers => {
            let name = existing.map_or_else(|| format!("suiji_t_{id}"), str::to_string);
            if existing.is_none() {
                let admin = sqlx::any::AnyPoolOptions::new().max_connections(1);
                sqlx::any::install_default_drivers();
                let pool = admin
                    .connect(&postgres_url())
                    .await
                    .expect("connect to PostgreSQL");
                pool.execute(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
                    .await
                    .expect("create test database");
                pool.close().await;
            }
            let base = postgres_url();
            let url = format!(
                "{}/{name}",
                base.rsplit_once('/').map(|(a, _)| a).unwrap_or(&base)
            );
            overrides.push(("database.url", url));
            overrides.push(("bus.kind", "amqp".into()));
            overrides.push(("bus.url", amqp_url()));
            (None, existing.is_none().then_some(name))
        }
    };
    let settings =
        Settings::load_with(None, Some(HashMap::new()), &overrides).expect("test settings");
    let namespace = (backend == Backend::Servers).then(|| settings.bus.namespace.clone());
    Isolated {
        settings: Arc::new(settings),
        backend,
        dir,
        database,
        bus: tokio::sync::OnceCell::new(),
        namespace,
    }
}

impl Isolated {
    /// The bus of these settings, one for everything a test starts (an in-process bus reaches only those that
    /// share it).
    pub async fn bus(&self) -> Arc<dyn Bus> {
        self.bus
            .get_or_init(|| async { bus::connect(&self.settings.bus).await.expect("bus") })
            .await
            .clone()
    }

    /// Token issuing with the test's signing key.
    pub fn tokens(&self) -> Tokens {
        Tokens::new(&self.settings.auth).expect("the test's signing key")
    }

    /// A token for `department` with `roles`, of a person named by both: tokens with other roles are other
    /// people, as the four-eyes rules need.
    pub fn token(&self, department: &str, roles: &[&str]) -> String {
        self.issue(Identity {
            subject: format!("tester@{department}/{}", roles.join("+")),
            department: department.into(),
            roles: roles.iter().map(|r| r.to_string()).collect(),
            inspector: None,
        })
    }

    /// A token for `who`, valid for an hour.
    fn issue(&self, who: Identity) -> String {
        self.tokens()
            .issue(&who, Duration::from_secs(3600))
            .expect("the test's signing key")
    }

    /// A token of the inspector `inspector` of `department`, a team member (`inspection.member`) named by it.
    pub fn member_token(&self, department: &str, inspector: &str) -> String {
        self.issue(Identity {
            subject: format!("member:{inspector}"),
            department: department.into(),
            roles: vec![crate::auth::ROLE_MEMBER.into()],
            inspector: Some(inspector.into()),
        })
    }

    /// Keeps the PostgreSQL database when cleaning up; returns its name.
    pub fn keep_database(&mut self) -> Option<String> {
        self.database.take()
    }

    /// Removes the test's database or directory and its bus namespace (what is taken here, dropping leaves).
    pub async fn cleanup(mut self) {
        remove(self.dir.take(), self.database.take(), self.namespace.take()).await;
    }
}

impl Drop for Isolated {
    /// A test that fails panics before its cleanup: what it made and did not clean up goes here, on a thread of its own with its own
    /// runtime (the test's may be unwinding or gone), so a red run leaves no database or queues behind.
    fn drop(&mut self) {
        let (dir, database, namespace) =
            (self.dir.take(), self.database.take(), self.namespace.take());
        if dir.is_none() && database.is_none() && namespace.is_none() {
            return;
        }
        let _ = std::thread::spawn(move || {
            if let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                runtime.block_on(remove(dir, database, namespace));
            }
        })
        .join();
    }
}

/// Removes a test's SQLite directory, PostgreSQL database and bus namespace, whichever it has.
async fn remove(
    dir: Option<std::path::PathBuf>,
    database: Option<String>,
    namespace: Option<String>,
) {
    if let Some(dir) = dir {
        let _ = std::fs::remove_dir_all(dir);
    }
    if let Some(name) = database
        && let Ok(pool) = sqlx::any::AnyPoolOptions::new()
            .max_connections(1)
            .connect(&postgres_url())
            .await
    {
        let _ = pool
            .execute(sqlx::AssertSqlSafe(format!(
                "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
            )))
            .await;
        pool.close().await;
    }
    if let Some(namespace) = namespace {
        delete_namespace(&namespace).await;
    }
}

/// Deletes a test namespace's exchanges and queues from RabbitMQ, giving up after 20 s: seen once under a full
/// suite's load, lapin's connect never returned (without a socket), and a cleanup must not hold a suite up; what it
/// leaves is one namespace's empty queues.
pub async fn delete_namespace(namespace: &str) {
    if tokio::time::timeout(Duration::from_secs(20), delete_namespace_now(namespace))
        .await
        .is_err()
    {
        eprintln!("cleanup: deleting the bus namespace {namespace} timed out; left as it is");
    }
}

async fn delete_namespace_now(namespace: &str) {
    use lapin::options::{ExchangeDeleteOptions, QueueDeleteOptions};
    let Ok(conn) =
        lapin::Connection::connect(&amqp_url(), lapin::ConnectionProperties::default()).await
    else {
        return;
    };
    let names = bus::amqp::Names::new(namespace);
    // Every consumer the suites bind, by name (AMQP cannot list a namespace's queues): the services, the benchmark
    // and the tests' own.
    // One channel, closed before the connection: closing a connection under open channels makes lapin log an
    // error for each, which would read as a failure at the end of every run.
    let Ok(ch) = conn.create_channel().await else {
        let _ = conn.close(200, "bye".into()).await;
        return;
    };
    for service in [
        "catalog",
        "directories",
        "planning",
        "draw",
        "inspection",
        "publication",
        "probe",
        "publication-probe",
        "bench",
        "test",
        "slow",
    ] {
        // Each service's own queue, and its platform queue that keeps the other services' audit heads.
        let anchors = format!("{service}-anchors");
        for queue in [
            names.queue(service),
            names.dead(service),
            names.queue(&anchors),
            names.dead(&anchors),
        ] {
            let _ = ch
                .queue_delete(queue.into(), QueueDeleteOptions::default())
                .await;
        }
    }
    let _ = ch
        .queue_delete(names.unrouted().into(), QueueDeleteOptions::default())
        .await;
    for exchange in [names.events(), names.unrouted(), names.dlx()] {
        let _ = ch
            .exchange_delete(exchange.into(), ExchangeDeleteOptions::default())
            .await;
    }
    let _ = ch.close(200, "bye".into()).await;
    let _ = conn.close(200, "bye".into()).await;
}

/// The PostgreSQL roles and RabbitMQ users a test made (least privilege), removed when it ends, passed or not.
/// Declare it before the test's [`Isolated`], so it is dropped after the database: a role that owns objects
/// cannot be dropped.
#[derive(Default)]
pub struct Grantees {
    /// PostgreSQL roles.
    pub roles: Vec<String>,
    /// RabbitMQ users.
    pub users: Vec<String>,
}

impl Drop for Grantees {
    fn drop(&mut self) {
        for user in &self.users {
            let _ = std::process::Command::new("rabbitmqctl")
                .args(["-q", "delete_user", user])
                .output();
        }
        let roles = std::mem::take(&mut self.roles);
        // A runtime of its own: a test's runtime may be gone, or panicking, here.
        let _ = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            runtime.block_on(async {
                let Ok(admin) = sqlx::postgres::PgPoolOptions::new()
                    .max_connections(1)
                    .connect(&postgres_url())
                    .await
                else {
                    return;
                };
                for role in roles {
                    let drop = format!("DROP ROLE IF EXISTS \"{role}\"");
                    if let Err(e) = sqlx::raw_sql(sqlx::AssertSqlSafe(drop))
                        .execute(&admin)
                        .await
                    {
                        eprintln!("cleanup: role {role} left: {e}");
                    }
                }
                admin.close().await;
            })
        })
        .join();
    }
}

/// A service running for a test.
pub struct Running {
    /// `http://127.0.0.1:port`.
    pub addr: String,
    /// The service's context (database, relay).
    pub ctx: Context,
    task: JoinHandle<Result<(), StartError>>,
}

impl Running {
    /// Stops the service and waits for it.
    pub async fn stop(self) {
        self.ctx.shutdown.cancel();
        let _ = self.task.await;
    }
}

/// Starts a service on port 0 with `bus`.
pub async fn start<F, Fut>(
    isolated: &Isolated,
    bus: Arc<dyn Bus>,
    name: &'static str,
    migrations: &Migrations,
    start: F,
) -> Running
where
    F: FnOnce(Context) -> Fut,
    Fut: Future<Output = Result<Started, StartError>>,
{
    start_with(isolated.settings.clone(), bus, name, migrations, start).await
}

/// Starts a service on port 0 with `bus` and its own `settings` (e.g. another service's address filled in).
pub async fn start_with<F, Fut>(
    settings: Arc<Settings>,
    bus: Arc<dyn Bus>,
    name: &'static str,
    migrations: &Migrations,
    start: F,
) -> Running
where
    F: FnOnce(Context) -> Fut,
    Fut: Future<Output = Result<Started, StartError>>,
{
    let ctx = Context::open(settings, name, migrations, bus, CancellationToken::new())
        .await
        .expect("open service");
    let started = start(ctx.clone()).await.expect("start service");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = format!("http://{}", listener.local_addr().expect("addr"));
    let task = tokio::spawn(ctx.clone().serve(started, listener));
    Running { addr, ctx, task }
}

/// Polls `check` every 50 ms until it returns true or `timeout` passes; returns its last answer.
pub async fn eventually<F, Fut>(timeout: Duration, mut check: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        if check().await {
            return true;
        }
        if tokio::time::Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A test's place on `backend`: its isolated servers and their bus, with telemetry for tests set up; `None` when
/// the servers are unreachable outside CI. Every service harness starts from it.
pub async fn open(backend: Backend) -> Option<(Isolated, Arc<dyn Bus>)> {
    crate::telemetry::init_for_tests();
    if !require(backend).await {
        return None;
    }
    let isolated = isolated(backend).await;
    let bus = isolated.bus().await;
    Some((isolated, bus))
}

/// Records every envelope delivered to its own queue (service `probe`), for tests that check what a service
/// emitted on the bus.
#[derive(Default)]
pub struct Probe {
    seen: std::sync::Mutex<Vec<suiji_api::events::v1::Envelope>>,
    /// Ends the probe's subscription ([`Probe::listen`]).
    stop: CancellationToken,
}

impl Probe {
    /// Subscribes a probe to `bindings` until [`Probe::stop`].
    pub async fn listen(bus: &Arc<dyn Bus>, bindings: &[&str]) -> Arc<Self> {
        let probe = Arc::new(Self::default());
        bus.subscribe(
            bus::Subscription {
                service: "probe".into(),
                bindings: bindings.iter().map(|b| b.to_string()).collect(),
            },
            probe.clone(),
            probe.stop.clone(),
        )
        .await
        .expect("probe subscription");
        probe
    }

    /// Ends the subscription of a probe made by [`Probe::listen`].
    pub fn stop(&self) {
        self.stop.cancel();
    }

    /// Subscribes a probe to `bindings` until `stop` is cancelled.
    pub async fn bind(bus: &Arc<dyn Bus>, bindings: &[&str], stop: CancellationToken) -> Arc<Self> {
        Self::bind_as(bus, "probe", bindings, stop).await
    }

    /// A probe with its own queue `name`, beside another probe on the same bus (one queue's consumers share its
    /// messages).
    pub async fn bind_as(
        bus: &Arc<dyn Bus>,
        name: &str,
        bindings: &[&str],
        stop: CancellationToken,
    ) -> Arc<Self> {
        let probe = Arc::new(Self::default());
        bus.subscribe(
            bus::Subscription {
                service: name.into(),
                bindings: bindings.iter().map(|b| b.to_string()).collect(),
            },
            probe.clone(),
            stop,
        )
        .await
        .expect("probe subscription");
        probe
    }

    /// Every envelope seen, in arrival order.
    pub fn seen(&self) -> Vec<suiji_api::events::v1::Envelope> {
        self.seen.lock().expect("probe lock").clone()
    }

    /// The envelopes of one type (routing key).
    pub fn of_type(&self, kind: &str) -> Vec<suiji_api::events::v1::Envelope> {
        self.seen()
            .into_iter()
            .filter(|e| e.r#type == kind)
            .collect()
    }
}

#[async_trait::async_trait]
impl bus::Handler for Probe {
    async fn handle(&self, message: bus::IncomingMessage) -> bus::Outcome {
        use prost::Message;
        let envelope =
            suiji_api::events::v1::Envelope::decode(message.body.as_slice()).expect("an envelope");
        self.seen.lock().expect("probe lock").push(envelope);
        bus::Outcome::Ack
    }
}

/// Runs each named `async fn name(backend: Backend)` of the enclosing module as two tests, one per backend.
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn embedded() {
                super::$name($crate::testing::Backend::Embedded).await
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres_rabbitmq() {
                super::$name($crate::testing::Backend::Servers).await
            }
        }
    )*};
}

/// Fuzzing by property tests: inputs made from the seeds kept in `fuzz/corpus/<name>/` by changing, inserting and
/// removing bytes and cutting them short. `make test` runs each property a few hundred times
/// (`PROPTEST_CASES=100000` runs it longer); an input that fails is kept by proptest beside the test.
pub mod fuzz {
    use proptest::prelude::*;

    /// The seeds of corpus `name`: every file of `fuzz/corpus/<name>/`, in name order.
    pub fn corpus(name: &str) -> Vec<Vec<u8>> {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../fuzz/corpus")
            .join(name);
        let mut files: Vec<_> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("the corpus {}: {e}", dir.display()))
            .map(|entry| entry.expect("a corpus entry").path())
            .collect();
        files.sort();
        files
            .iter()
            .map(|file| std::fs::read(file).expect("a corpus file"))
            .collect()
    }

    /// Inputs made from `seeds`: a seed as it is or with up to eight bytes changed, inserted or removed, and
    /// perhaps cut short.
    pub fn mutated(seeds: Vec<Vec<u8>>) -> impl Strategy<Value = Vec<u8>> {
        assert!(!seeds.is_empty(), "a corpus needs a seed");
        let edits = prop::collection::vec((0u8..3, any::<usize>(), any::<u8>()), 0..8);
        (0..seeds.len(), edits, prop::option::of(any::<usize>())).prop_map(
            move |(seed, edits, cut)| {
                let mut input = seeds[seed].clone();
                for (op, at, byte) in edits {
                    let at = if input.is_empty() {
                        0
                    } else {
                        at % input.len()
                    };
                    match op {
                        0 if !input.is_empty() => input[at] = byte,
                        1 => input.insert(at, byte),
                        _ if !input.is_empty() => {
                            input.remove(at);
                        }
                        _ => input.push(byte),
                    }
                }
                if let Some(cut) = cut {
                    input.truncate(cut % (input.len() + 1));
                }
                input
            },
        )
    }
}

//! The services as separate `suiji serve` processes on one PostgreSQL database and one RabbitMQ namespace: started,
//! killed with SIGKILL at random moments and started again, for fault tests and benchmarks.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use suiji_api::directories::v1::directories_service_client::DirectoriesServiceClient;
use suiji_platform::config::Settings;
use suiji_platform::grpc::{Bearer, channel};
use suiji_platform::testing::eventually;
use tonic::Code;

/// A free local port.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// One service process.
struct Service {
    name: String,
    port: u16,
    child: Option<Child>,
}

/// The processes and what they share.
pub struct Cluster {
    binary: std::path::PathBuf,
    services: Vec<Service>,
    env: Vec<(String, String)>,
    /// Kills so far.
    pub kills: usize,
    /// xorshift state for the moments of the kills.
    rng: u64,
}

impl Cluster {
    /// Starts `names` from `binary` with the database and bus of `settings`, and waits until each answers.
    /// The kills' moments come from `SUIJI_FAULT_SEED`, or from the clock.
    pub async fn start(binary: &std::path::Path, settings: &Settings, names: &[&str]) -> Self {
        let ports: Vec<u16> = names.iter().map(|_| free_port()).collect();
        // A service started here is found on its port; one that is not, where the settings say.
        let address = |name: &str, configured: &str| {
            names
                .iter()
                .position(|n| *n == name)
                .map(|i| format!("http://127.0.0.1:{}", ports[i]))
                .unwrap_or_else(|| configured.to_string())
        };
        let directories = address("directories", &settings.services.directories);
        let draw = address("draw", &settings.services.draw);
        let env = vec![
            (
                "SUIJI_DATABASE__URL".to_string(),
                settings.database.url.expose().to_string(),
            ),
            ("SUIJI_BUS__KIND".into(), "amqp".into()),
            (
                "SUIJI_BUS__URL".into(),
                settings.bus.url.expose().to_string(),
            ),
            (
                "SUIJI_BUS__NAMESPACE".into(),
                settings.bus.namespace.clone(),
            ),
            ("SUIJI_BUS__RELAY_POLL_MS".into(), "100".into()),
            (
                "SUIJI_AUTH__SIGNING_KEY".into(),
                settings.auth.signing_key.expose().to_string(),
            ),
            ("SUIJI_SERVICES__DIRECTORIES".into(), directories),
            ("SUIJI_SERVICES__DRAW".into(), draw),
        ];
        let rng = std::env::var("SUIJI_FAULT_SEED")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| {
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(1, |d| d.as_nanos() as u64)
                    | 1
            });
        let mut cluster = Self {
            binary: binary.to_path_buf(),
            services: names
                .iter()
                .zip(ports)
                .map(|(n, port)| Service {
                    name: n.to_string(),
                    port,
                    child: None,
                })
                .collect(),
            env,
            kills: 0,
            rng,
        };
        for i in 0..cluster.services.len() {
            cluster.start_one(i).await;
        }
        cluster
    }

    /// The seed of the kills' moments.
    pub fn seed(&self) -> u64 {
        self.rng
    }

    /// `http://127.0.0.1:port` of service `name`.
    pub fn addr(&self, name: &str) -> String {
        let s = self
            .services
            .iter()
            .find(|s| s.name == name)
            .unwrap_or_else(|| panic!("{name} is not running"));
        format!("http://127.0.0.1:{}", s.port)
    }

    /// The running services' names and process ids.
    pub fn pids(&self) -> Vec<(String, u32)> {
        self.services
            .iter()
            .filter_map(|s| Some((s.name.clone(), s.child.as_ref()?.id())))
            .collect()
    }

    async fn start_one(&mut self, i: usize) {
        let (name, port) = (self.services[i].name.clone(), self.services[i].port);
        let child = Command::new(&self.binary)
            .args(["serve", &name, "--port", &port.to_string(), "--development"])
            .envs(self.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .env("RUST_LOG", "error")
            .env_remove("SUIJI_CONFIG_FILE")
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| panic!("{} runs: {e}", self.binary.display()));
        self.services[i].child = Some(child);
        let addr = self.addr(&name);
        let up = eventually(Duration::from_secs(60), || {
            let addr = addr.clone();
            async move {
                let Ok(channel) = channel(&addr) else {
                    return false;
                };
                tonic_health::pb::health_client::HealthClient::new(channel)
                    .check(tonic_health::pb::HealthCheckRequest::default())
                    .await
                    .is_ok()
            }
        })
        .await;
        assert!(up, "{name} came up");
    }

    /// Kills the next process (in turn) with SIGKILL at a random moment within 300 ms — while the step's messages
    /// and jobs are on their way — and starts it again.
    pub async fn chaos(&mut self, point: &str) {
        self.rng ^= self.rng << 13;
        self.rng ^= self.rng >> 7;
        self.rng ^= self.rng << 17;
        tokio::time::sleep(Duration::from_millis(self.rng % 300)).await;
        let i = self.kills % self.services.len();
        self.kills += 1;
        if let Some(mut child) = self.services[i].child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        eprintln!(
            "kill point {}: {} after {point}",
            self.kills, self.services[i].name
        );
        self.start_one(i).await;
    }

    /// Stops every process.
    pub fn stop(&mut self) {
        for s in &mut self.services {
            if let Some(mut child) = s.child.take() {
                let _ = child.kill();
                let _ = child.wait();
            }
        }
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Repeats `call` while its service is down or restarting (at most a minute).
pub async fn retry<T, F, Fut>(mut call: F) -> Result<T, tonic::Status>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, tonic::Status>>,
{
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        match call().await {
            Err(s)
                if matches!(
                    s.code(),
                    Code::Unavailable | Code::Unknown | Code::Cancelled
                ) && Instant::now() < deadline =>
            {
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            other => return other,
        }
    }
}

/// Fills the directories at `addr` over gRPC: `targets` generated targets supervised by `departments`, and the
/// inspectors `(id, department, qualification)`, active with valid certificates.
pub async fn fill(
    addr: &str,
    token: &str,
    targets: u64,
    departments: &[&str],
    inspectors: &[(String, String, String)],
) {
    let mut client = DirectoriesServiceClient::with_interceptor(
        channel(addr).unwrap(),
        Bearer::new(Some(token)),
    );
    suiji_draw::testkit::import_targets(&mut client, targets, 5, departments).await;
    let rows: Vec<(&str, &str, &str, bool, &str, &str, &str)> = inspectors
        .iter()
        .map(|(id, d, q)| {
            (
                id.as_str(),
                d.as_str(),
                q.as_str(),
                false,
                "active",
                "2030-12-31",
                "",
            )
        })
        .collect();
    suiji_draw::testkit::import_inspectors(&mut client, &rows).await;
}

/// `event` as the bus message `source` would publish, with envelope id `id`.
pub fn message<M: prost::Message + prost::Name>(
    id: &str,
    routing_key: &str,
    source: &str,
    correlation: &str,
    event: &M,
) -> suiji_platform::bus::OutgoingMessage {
    let envelope = suiji_api::events::v1::Envelope {
        id: id.into(),
        r#type: routing_key.into(),
        source: source.into(),
        correlation_id: correlation.into(),
        payload: Some(prost_types::Any::from_msg(event).expect("an event encodes")),
        ..Default::default()
    };
    suiji_platform::bus::OutgoingMessage {
        id: id.into(),
        routing_key: routing_key.into(),
        body: prost::Message::encode_to_vec(&envelope),
        headers: Default::default(),
    }
}

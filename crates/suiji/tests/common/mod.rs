//! What the tests that run `suiji dev` as a separate process share: free ports, the process and its guard,
//! starting it on a pinned day and stopping it.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use suiji_api::inspection::v1 as insp;

/// The demo's lead department and its partner.
pub const SCJG: &str = "610400-SCJG";
pub const STHJ: &str = "610400-STHJ";

/// Ports `suiji dev` takes: one per service, then the console's.
pub const DEV_PORTS: u16 = 7;

/// The first of [`DEV_PORTS`] consecutive free ports for a `suiji dev`, below the kernel's ephemeral range (from
/// 32768 by default): a port the kernel picked for `:0` has neighbours that any other test's outgoing connection
/// may take before `suiji dev` binds them. A random base, so tests running at once rarely pick the same one, and
/// every port of it bound once to see that it is free.
pub fn free_port() -> u16 {
    use std::hash::{BuildHasher, Hasher};
    loop {
        let random = std::collections::hash_map::RandomState::new()
            .build_hasher()
            .finish();
        let base = 20_000 + (random % 1_200) as u16 * 10;
        let free = (base..base + DEV_PORTS)
            .map(|port| std::net::TcpListener::bind(("127.0.0.1", port)))
            .collect::<Result<Vec<_>, _>>()
            .is_ok();
        if free {
            return base;
        }
    }
}

/// A running `suiji dev`, killed if the test ends (or fails) without [`terminate`]: a failed test must not
/// leave it holding its ports.
pub struct Dev(pub Option<Child>);

impl Drop for Dev {
    fn drop(&mut self) {
        if let Some(mut child) = self.0.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// The day `suiji dev` runs on in these tests (its clock is pinned there): a Monday in December, a working day
/// whose deadlines run into 2027, a year whose holiday notice is not shipped, and after 1 October, when the
/// operators are asked for it.
pub const DAY: &str = "2026-12-21";

/// A `suiji dev` started by [`start`], with what it printed.
pub struct Started {
    /// The process.
    pub dev: Dev,
    /// Each service's name and address.
    pub addresses: Vec<(String, String)>,
    /// The console's address (`http://…/console`).
    pub console: String,
    /// The token it printed for the lead department.
    pub token: String,
    /// The console's demo accounts and their passwords.
    pub accounts: Vec<(String, String)>,
    /// Every line it printed up to its last instructions.
    pub printed: Vec<String>,
}

impl Started {
    /// The printed password of the console account `username`.
    pub fn password(&self, username: &str) -> String {
        self.accounts
            .iter()
            .find(|(u, _)| u == username)
            .map(|(_, p)| p.clone())
            .unwrap_or_else(|| {
                panic!(
                    "suiji dev printed no account {username}: {:?}",
                    self.accounts
                )
            })
    }
}

/// The signing key every `suiji dev` and `suiji token` of this test process share, so the tokens `suiji token`
/// prints are the ones the running platform accepts.
pub fn signing_key() -> &'static str {
    static KEY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    KEY.get_or_init(suiji_platform::auth::Signer::generate_pem)
}

/// Starts `suiji dev` and returns it with what it printed.
pub fn start(data: &std::path::Path, port: u16, demo: bool) -> Started {
    start_with(data, port, demo, &[])
}

/// Starts `suiji dev` with `env` set, and returns it with what it printed.
pub fn start_with(
    data: &std::path::Path,
    port: u16,
    demo: bool,
    env: &[(&str, String)],
) -> Started {
    start_args(data, port, if demo { &["--demo"] } else { &[] }, env)
}

/// Starts `suiji dev` with `args` after its data and port, and `env` set; returns it with what it printed.
pub fn start_args(
    data: &std::path::Path,
    port: u16,
    args: &[&str],
    env: &[(&str, String)],
) -> Started {
    let mut command = Command::new(env!("CARGO_BIN_EXE_suiji"));
    command.envs(env.iter().map(|(k, v)| (*k, v.as_str())));
    command.args([
        "dev",
        "--data",
        data.to_str().unwrap(),
        "--base-port",
        &port.to_string(),
    ]);
    command.args(args);
    // Where `suiji dev` keeps its development key (as after `make run`): `suiji token` signs with the same.
    std::fs::create_dir_all(data).unwrap();
    std::fs::write(data.join("dev-signing-key.pem"), signing_key()).unwrap();
    let mut dev = Dev(Some(
        command
            .env("RUST_LOG", "warn")
            .env("SUIJI_CLOCK__START", DAY)
            .env_remove("SUIJI_CONFIG_FILE")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap(),
    ));
    let stdout = BufReader::new(dev.0.as_mut().unwrap().stdout.take().unwrap());
    let mut addresses = Vec::new();
    let mut console = String::new();
    let mut token = String::new();
    let mut accounts = Vec::new();
    let mut printed = Vec::new();
    for line in stdout.lines() {
        let line = line.unwrap();
        printed.push(line.clone());
        if let Some((name, addr)) = line.split_once(" grpc://") {
            addresses.push((name.trim().to_string(), format!("http://{}", addr.trim())));
        }
        if let Some(("console", url)) = line.split_once(" http://").map(|(n, u)| (n.trim(), u)) {
            console = format!("http://{}", url.split_whitespace().next().unwrap());
        }
        // `  zhang.san  password XXXX  张三 of …`
        let words: Vec<&str> = line.split_whitespace().collect();
        if line.starts_with("  ") && words.get(1) == Some(&"password") && words.len() > 2 {
            accounts.push((words[0].to_string(), words[2].to_string()));
        }
        if let Some((_, printed)) = line.split_once("export SUIJI_TOKEN=") {
            token = printed.trim().to_string();
        }
        if line.starts_with("try:") || line.starts_with("sign in with the identity provider") {
            break;
        }
    }
    Started {
        dev,
        addresses,
        console,
        token,
        accounts,
        printed,
    }
}

pub fn terminate(mut dev: Dev) {
    let mut child = dev.0.take().unwrap();
    let pid = child.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    for _ in 0..100 {
        if let Some(status) = child.try_wait().unwrap() {
            assert!(
                status.success(),
                "suiji dev exits cleanly on SIGTERM: {status}"
            );
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    child.kill().unwrap();
    panic!("suiji dev did not stop within 10 s of SIGTERM");
}

/// A development token of `department` with `roles`, from `suiji token`.
pub fn token(department: &str, roles: &str) -> String {
    token_of(department, roles, "dev")
}

/// A development token of `subject` in `department` with `roles`, from `suiji token`.
pub fn token_of(department: &str, roles: &str, subject: &str) -> String {
    suiji_token(&[
        "--department",
        department,
        "--role",
        roles,
        "--subject",
        subject,
    ])
}

/// What `suiji token` prints with `args`.
fn suiji_token(args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_suiji"))
        .arg("token")
        .args(args)
        .env("SUIJI_AUTH__SIGNING_KEY", signing_key())
        .output()
        .unwrap();
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

pub type Authed =
    tonic::codegen::InterceptedService<tonic::transport::Channel, suiji_platform::grpc::Bearer>;

pub fn authed(
    addr: &str,
    token: &str,
) -> (tonic::transport::Channel, suiji_platform::grpc::Bearer) {
    (
        suiji_platform::grpc::channel(addr).unwrap(),
        suiji_platform::grpc::Bearer::new(Some(token)),
    )
}

/// The address `suiji dev` printed for service `name`.
pub fn address(addresses: &[(String, String)], name: &str) -> String {
    addresses
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, a)| a.clone())
        .unwrap_or_else(|| panic!("no address for {name}"))
}

/// Launches the demo plan's task (planning at `planning`, as `token`); its id.
pub async fn launch_demo_task(planning: &str, token: &str) -> String {
    use suiji_api::planning::v1 as plan;
    let (c, b) = authed(planning, token);
    let mut planning = plan::planning_service_client::PlanningServiceClient::with_interceptor(c, b);
    // The one not launched yet (the walk through docs/using.md creates and launches a task of its own first).
    let task = planning
        .list_tasks(plan::ListTasksRequest::default())
        .await
        .unwrap()
        .into_inner()
        .tasks
        .into_iter()
        .find(|t| t.state == plan::TaskState::Created as i32)
        .expect("the demo task, not launched yet")
        .id;
    planning
        .launch_task(plan::LaunchTaskRequest {
            id: task.clone(),
            expected_revision: 0,
        })
        .await
        .unwrap();
    task
}

/// Polls `check` every 100 ms for up to 60 s.
pub async fn until<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    for _ in 0..600 {
        if check().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{what} within 60 s");
}

/// The inspection service, called with a token.
pub use suiji::story::Inspection;

/// The inspection service at `addr`, called as `token`.
pub fn inspection(addr: &str, token: &str) -> Inspection {
    suiji::story::inspection(addr, token).unwrap()
}

/// The saga of `task`, if it is there.
pub async fn saga(c: &Inspection, task: &str) -> Option<insp::Saga> {
    c.clone()
        .get_saga(insp::GetSagaRequest {
            task_id: task.to_string(),
        })
        .await
        .ok()
        .and_then(|r| r.into_inner().saga)
}

/// Waits until the saga of `task` is in `phase`, and returns it.
pub async fn reach(c: &Inspection, task: &str, phase: insp::Phase) -> insp::Saga {
    until(&format!("the saga reaches {phase:?}"), || async {
        saga(c, task).await.is_some_and(|s| s.phase == phase as i32)
    })
    .await;
    saga(c, task).await.unwrap()
}

/// Launches the demo task (led by SCJG with STHJ) as `lead_token`; STHJ (`other`) confirms and the lead approves
/// the drawn targets. The task and its saga, scheduling.
pub async fn demo_task_to_scheduling(
    lead: &mut Inspection,
    other: &mut Inspection,
    planning: &str,
    lead_token: &str,
) -> (String, insp::Saga) {
    let task = launch_demo_task(planning, lead_token).await;
    reach(lead, &task, insp::Phase::Inviting).await;
    other
        .respond_to_invitation(insp::RespondToInvitationRequest {
            task_id: task.clone(),
            accept: true,
            reason: String::new(),
        })
        .await
        .unwrap();
    let review = reach(lead, &task, insp::Phase::ReviewingTargets).await;
    assert!(review.targets > 0, "{review:?}");
    lead.approve_targets(insp::ApproveTargetsRequest {
        task_id: task.clone(),
        expected_version: review.version,
    })
    .await
    .unwrap();
    let scheduling = reach(lead, &task, insp::Phase::Scheduling).await;
    (task, scheduling)
}

/// The visits of `task`, in id order.
pub async fn visits(c: &Inspection, task: &str) -> Vec<insp::Visit> {
    c.clone()
        .list_visits(insp::ListVisitsRequest {
            task_id: task.to_string(),
            page_size: 500,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .visits
}

/// Schedules every visit of `task` on the first working day of its assignment, on site, unannounced.
pub async fn schedule_all(lead: &mut Inspection, task: &str) -> Vec<insp::Visit> {
    suiji::story::schedule_all(lead, task).await.unwrap()
}

/// Holds the first of `visits` — SCJG (`lead`) finds a problem on each of its check points, STHJ (`other`) none,
/// the target refuses to sign, every member confirms as themselves — and concludes it inspected; the others are not
/// found.
pub async fn hold_the_visits(
    lead: &mut Inspection,
    other: &mut Inspection,
    inspection_addr: &str,
    visits: &[insp::Visit],
) {
    let member = |department: &str, inspector: &str| {
        Ok(inspection(
            inspection_addr,
            &member_token(department, inspector),
        ))
    };
    suiji::story::hold_the_visits(lead, other, &member, visits)
        .await
        .unwrap()
}

/// A development token of the inspector `inspector` of `department`, a team member, from `suiji token`.
pub fn member_token(department: &str, inspector: &str) -> String {
    suiji_token(&[
        "--department",
        department,
        "--role",
        suiji_platform::auth::ROLE_MEMBER,
        "--subject",
        &format!("member:{inspector}"),
        "--inspector",
        inspector,
    ])
}

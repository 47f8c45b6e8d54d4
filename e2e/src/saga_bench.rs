//! The saga benchmark: many joint inspections at once (three departments, ten targets each) through RabbitMQ,
//! with the directories, the draw and the inspection as separate `suiji serve` processes. Prints saga steps per
//! second, sagas completed per second, and the time per step (p50/p99), over every step timed and for each kind
//! apart: for the steps another service answers (draw, lock, teams), the time from the saga's command to the
//! reply being applied; for coordinators' steps, the gRPC call. Then the machine's CPU time per step, and how it
//! divides between the processes.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use prost::Message;
use suiji_api::catalog::v1 as cat;
use suiji_api::directories::v1 as dir;
use suiji_api::inspection::v1 as pb;
use suiji_api::inspection::v1::inspection_service_client::InspectionServiceClient;
use suiji_api::planning::v1 as plan;
use suiji_platform::bus::{self, Handler, IncomingMessage, Outcome};
use suiji_platform::grpc::{Bearer, channel};
use suiji_platform::testing::{self, Backend};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use crate::processes::{Cluster, fill, message, retry};

const DEPARTMENTS: [(&str, &str); 3] = [
    ("610400-SCJG", "市场监管执法"),
    ("610400-STHJ", "环境执法"),
    ("610400-WSJK", "卫生执法"),
];

type Client =
    InspectionServiceClient<tonic::codegen::InterceptedService<tonic::transport::Channel, Bearer>>;

/// Phases of every saga, from `inspection.saga.changed`.
#[derive(Default)]
struct Phases {
    phase: Mutex<HashMap<String, String>>,
    changed: Notify,
}

#[async_trait::async_trait]
impl Handler for Phases {
    async fn handle(&self, m: IncomingMessage) -> Outcome {
        let Ok(envelope) = suiji_api::events::v1::Envelope::decode(m.body.as_slice()) else {
            return Outcome::Ack;
        };
        if let Some(Ok(e)) = envelope
            .payload
            .as_ref()
            .map(|p| pb::SagaChangedEvent::decode(p.value.as_slice()))
        {
            self.phase.lock().unwrap().insert(e.task_id, e.phase);
            self.changed.notify_waiters();
        }
        Outcome::Ack
    }
}

impl Phases {
    async fn reach(&self, task: &str, phase: &str) {
        loop {
            let notified = self.changed.notified();
            if self.phase.lock().unwrap().get(task).map(String::as_str) == Some(phase) {
                return;
            }
            let _ = tokio::time::timeout(Duration::from_millis(500), notified).await;
        }
    }
}

fn launch(task: &str) -> plan::TaskLaunchedEvent {
    let participants: Vec<plan::Participant> = DEPARTMENTS
        .iter()
        .map(|(d, _)| plan::Participant {
            department_code: d.to_string(),
            item_codes: vec![format!("{d}-1")],
        })
        .collect();
    let items = DEPARTMENTS
        .iter()
        .map(|(d, q)| suiji_draw::testkit::item(&format!("{d}-1"), d, q, false))
        .collect();
    let entry = plan::PlanEntry {
        key: "E1".into(),
        task_name: "联合抽查".into(),
        scope: Some(dir::TargetFilter {
            kinds: vec![cat::TargetKind::Enterprise as i32],
            region_codes: vec!["610000".into()],
            ..Default::default()
        }),
        lead_department_code: DEPARTMENTS[0].0.into(),
        participants: participants.clone(),
        window_start: "2027-01-01".into(),
        window_end: "2027-12-31".into(),
        ..Default::default()
    };
    plan::TaskLaunchedEvent {
        task: Some(plan::Task {
            id: task.into(),
            content: Some(plan::TaskContent {
                name: "联合抽查".into(),
                participants,
                quantity: 10,
                ..Default::default()
            }),
            lead_department_code: DEPARTMENTS[0].0.into(),
            year: 2027,
            entry: Some(entry),
            ..Default::default()
        }),
        items,
        item_caps_basis_points: vec![10_000; 3],
        annual_caps: vec![],
    }
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

/// One saga driven by its coordinators; returns the durations of their calls (ms).
async fn drive(
    task: String,
    clients: Arc<Vec<Client>>,
    phases: Arc<Phases>,
    day: String,
) -> Vec<f64> {
    let mut calls = Vec::new();
    let timed = |calls: &mut Vec<f64>, started: Instant| {
        calls.push(started.elapsed().as_secs_f64() * 1000.0);
    };
    phases.reach(&task, "inviting").await;
    for client in &clients[1..] {
        let started = Instant::now();
        retry(|| {
            let mut c = client.clone();
            let task = task.clone();
            async move {
                c.respond_to_invitation(pb::RespondToInvitationRequest {
                    task_id: task,
                    accept: true,
                    reason: String::new(),
                })
                .await
            }
        })
        .await
        .expect("an answer");
        timed(&mut calls, started);
    }
    let lead = &clients[0];
    phases.reach(&task, "reviewing_targets").await;
    let started = Instant::now();
    retry(|| {
        let mut c = lead.clone();
        let task = task.clone();
        async move {
            c.approve_targets(pb::ApproveTargetsRequest {
                task_id: task,
                expected_version: 0,
            })
            .await
        }
    })
    .await
    .expect("an approval");
    timed(&mut calls, started);
    phases.reach(&task, "scheduling").await;
    let visits = lead
        .clone()
        .list_visits(pb::ListVisitsRequest {
            task_id: task.clone(),
            page_size: 100,
            ..Default::default()
        })
        .await
        .expect("the visits")
        .into_inner()
        .visits;
    for v in &visits {
        let started = Instant::now();
        lead.clone()
            .schedule_visit(pb::ScheduleVisitRequest {
                id: v.id.clone(),
                date: day.clone(),
                method: pb::VisitMethod::OnSite as i32,
                announced: false,
            })
            .await
            .expect("a schedule");
        timed(&mut calls, started);
    }
    for v in &visits {
        let started = Instant::now();
        lead.clone()
            .conclude_visit(pb::ConcludeVisitRequest {
                id: v.id.clone(),
                outcome: pb::VisitOutcome::NotFound as i32,
            })
            .await
            .expect("a conclusion");
        timed(&mut calls, started);
    }
    phases.reach(&task, "results").await;
    calls
}

/// Runs `sagas` joint inspections at once, `concurrency` driven at a time.
pub async fn run(sagas: usize, concurrency: usize) -> anyhow::Result<()> {
    if !testing::require(Backend::Servers).await {
        return Ok(());
    }
    let binary = std::env::current_exe()?
        .parent()
        .map(|d| d.join("suiji"))
        .ok_or_else(|| anyhow::anyhow!("no directory"))?;
    anyhow::ensure!(
        binary.exists(),
        "{} is missing: cargo build --release -p suiji",
        binary.display()
    );
    let isolated = testing::isolated(Backend::Servers).await;
    let mut cluster = Cluster::start(
        &binary,
        &isolated.settings,
        &["directories", "draw", "inspection"],
    )
    .await;
    // The database and the broker's queues go whatever happens: a failed run must not leave them to slow the
    // next one down.
    let measured = measure(&cluster, &isolated, sagas, concurrency).await;
    cluster.stop();
    isolated.cleanup().await;
    measured
}

/// Fills the directories, drives the sagas and prints the figures.
async fn measure(
    cluster: &Cluster,
    isolated: &testing::Isolated,
    sagas: usize,
    concurrency: usize,
) -> anyhow::Result<()> {
    let admin = isolated.token(DEPARTMENTS[0].0, &["directories.editor", "admin"]);
    let inspectors: Vec<(String, String, String)> = DEPARTMENTS
        .iter()
        .flat_map(|(d, q)| {
            (0..60).map(move |i| (format!("{d}-{i:03}"), d.to_string(), q.to_string()))
        })
        .collect();
    fill(
        &cluster.addr("directories"),
        &admin,
        20_000,
        &[DEPARTMENTS[0].0, DEPARTMENTS[1].0],
        &inspectors,
    )
    .await;
    let bus = isolated.bus().await;
    let phases = Arc::new(Phases::default());
    let stop = CancellationToken::new();
    bus.subscribe(
        bus::Subscription {
            service: "bench".into(),
            bindings: vec!["inspection.saga.changed".into()],
        },
        phases.clone(),
        stop.clone(),
    )
    .await?;
    let clients: Arc<Vec<Client>> = Arc::new(
        DEPARTMENTS
            .iter()
            .map(|(d, _)| {
                InspectionServiceClient::with_interceptor(
                    channel(&cluster.addr("inspection")).expect("an address"),
                    Bearer::new(Some(&isolated.token(d, &["inspection.coordinator"]))),
                )
            })
            .collect(),
    );
    let day = suiji_platform::calendar::Calendar::shipped()
        .working_day_on_or_after(suiji_platform::calendar::today())?;
    let started = Instant::now();
    let cpu_before = machine_cpu();
    let shares_before = cpu_shares(cluster, &isolated.settings.database).await;
    let tasks: Vec<String> = (0..sagas).map(|i| format!("TASK-BENCH-{i:05}")).collect();
    for task in &tasks {
        bus.publish(&message(
            &format!("launch-{task}"),
            "planning.task.launched",
            "planning",
            task,
            &launch(task),
        ))
        .await?;
    }
    let gate = Arc::new(tokio::sync::Semaphore::new(concurrency));
    let mut running = Vec::new();
    for task in tasks {
        let (clients, phases, gate, day) = (
            clients.clone(),
            phases.clone(),
            gate.clone(),
            day.to_string(),
        );
        running.push(tokio::spawn(async move {
            let _permit = gate.acquire_owned().await.expect("the gate");
            drive(task, clients, phases, day).await
        }));
    }
    let mut calls = Vec::new();
    for r in running {
        calls.extend(r.await?);
    }
    let elapsed = started.elapsed().as_secs_f64();
    let cpu = cpu_before.zip(machine_cpu()).map(|(a, b)| b - a);
    let shares_after = cpu_shares(cluster, &isolated.settings.database).await;
    stop.cancel();
    // Steps and the time each took, from the sagas' own timelines.
    let db = suiji_platform::db::Db::connect(&isolated.settings.database, "inspection").await?;
    let rows: Vec<(String, i64, String, String)> = sqlx::query_as(
        "SELECT task_id, at, actor, kind FROM saga_history WHERE applied = 1 ORDER BY task_id, seq",
    )
    .fetch_all(db.pool())
    .await?;
    let steps = rows.len();
    let mut replies = Vec::new();
    for pair in rows.windows(2) {
        let (a, b) = (&pair[0], &pair[1]);
        if a.0 == b.0 && matches!(b.2.as_str(), "draw") {
            replies.push((b.1 - a.1) as f64);
        }
    }
    replies.sort_by(f64::total_cmp);
    calls.sort_by(f64::total_cmp);
    // Every step timed, both kinds together (a saga's start is not: the launches are all published at once).
    let mut timed: Vec<f64> = replies.iter().chain(&calls).copied().collect();
    timed.sort_by(f64::total_cmp);
    println!(
        "saga benchmark: {sagas} joint inspections (3 departments, 10 targets each), {concurrency} driven at once, \
         services as separate processes on PostgreSQL and RabbitMQ: {steps} saga steps in {elapsed:.1} s = {:.0} steps/s, \
         {:.1} sagas completed/s; time per step p50 {:.1} ms, p99 {:.0} ms ({} steps timed); of them \
         replies from the draw (command → reply applied) p50 {:.0} ms, p99 {:.0} ms; \
         coordinators' calls p50 {:.1} ms, p99 {:.1} ms{}",
        steps as f64 / elapsed,
        sagas as f64 / elapsed,
        percentile(&timed, 0.5),
        percentile(&timed, 0.99),
        timed.len(),
        percentile(&replies, 0.5),
        percentile(&replies, 0.99),
        percentile(&calls, 0.5),
        percentile(&calls, 0.99),
        cpu.map(|c| format!(
            "; the machine's CPU busy {:.0}% of {} cores, {:.2} core-ms per step",
            c.busy_ms / c.total_ms * 100.0,
            c.cores,
            c.busy_ms / steps as f64
        ))
        .unwrap_or_default(),
    );
    if let Some(c) = cpu {
        // Where the machine's CPU went, per step: each service, its PostgreSQL connections, the broker, this
        // benchmark (the coordinators' clients), and everything else.
        let mut parts: Vec<(String, f64)> = shares_after
            .iter()
            .map(|(who, ms)| {
                (
                    who.clone(),
                    ms - shares_before.get(who).copied().unwrap_or(0.0),
                )
            })
            .collect();
        let known: f64 = parts.iter().map(|(_, ms)| ms).sum();
        parts.push(("other".into(), (c.busy_ms - known).max(0.0)));
        parts.sort_by(|a, b| b.1.total_cmp(&a.1));
        let parts: Vec<String> = parts
            .iter()
            .map(|(who, ms)| format!("{who} {:.2}", ms / steps as f64))
            .collect();
        println!("core-ms per step by process: {}", parts.join(", "));
    }
    db.close().await;
    Ok(())
}

/// The whole machine's CPU time so far, from `/proc/stat` (Linux; `None` elsewhere): every process's share,
/// the services', PostgreSQL's, RabbitMQ's and the benchmark's own, which is what a step costs.
#[derive(Clone, Copy)]
struct MachineCpu {
    busy_ms: f64,
    total_ms: f64,
    cores: usize,
}

impl std::ops::Sub for MachineCpu {
    type Output = MachineCpu;
    fn sub(self, earlier: MachineCpu) -> MachineCpu {
        MachineCpu {
            busy_ms: self.busy_ms - earlier.busy_ms,
            total_ms: self.total_ms - earlier.total_ms,
            cores: self.cores,
        }
    }
}

fn machine_cpu() -> Option<MachineCpu> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    let mut lines = stat.lines();
    // user nice system idle iowait irq softirq steal, in clock ticks of 10 ms (USER_HZ = 100 on Linux).
    let ticks: Vec<f64> = lines
        .next()?
        .strip_prefix("cpu ")?
        .split_whitespace()
        .take(8)
        .map(|t| t.parse().ok())
        .collect::<Option<_>>()?;
    let cores = lines.filter(|l| l.starts_with("cpu")).count();
    let total: f64 = ticks.iter().sum();
    let idle = ticks.get(3)? + ticks.get(4)?;
    Some(MachineCpu {
        busy_ms: (total - idle) * 10.0,
        total_ms: total * 10.0,
        cores,
    })
}

/// CPU time so far (ms) of each service process, of each service's PostgreSQL connections (told apart by their
/// `application_name`), of RabbitMQ and of this benchmark; empty where `/proc` is not there.
async fn cpu_shares(
    cluster: &Cluster,
    database: &suiji_platform::config::DatabaseSettings,
) -> HashMap<String, f64> {
    let mut shares = HashMap::new();
    let mut add = |who: String, pid: u32| {
        if let Some(ms) = process_cpu_ms(pid) {
            *shares.entry(who).or_insert(0.0) += ms;
        }
    };
    for (name, pid) in cluster.pids() {
        add(name, pid);
    }
    add("benchmark".into(), std::process::id());
    if let Ok(entries) = std::fs::read_dir("/proc") {
        for entry in entries.flatten() {
            let Some(pid) = entry.file_name().to_str().and_then(|p| p.parse().ok()) else {
                continue;
            };
            if std::fs::read_to_string(entry.path().join("comm"))
                .is_ok_and(|c| c.trim() == "beam.smp")
            {
                add("rabbitmq".into(), pid);
            }
        }
    }
    if let Ok(db) = suiji_platform::db::Db::connect(database, "inspection").await {
        let backends: Vec<(i32, String)> = sqlx::query_as(
            "SELECT pid, application_name FROM pg_stat_activity WHERE application_name LIKE 'suiji-%' AND pid <> pg_backend_pid()",
        )
        .fetch_all(db.pool())
        .await
        .unwrap_or_default();
        for (pid, name) in backends {
            add(
                format!("postgres({})", name.trim_start_matches("suiji-")),
                pid as u32,
            );
        }
        db.close().await;
    }
    shares
}

/// User and system CPU time of process `pid` so far (ms), from `/proc/<pid>/stat`.
fn process_cpu_ms(pid: u32) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name (which may hold spaces): state is the first, utime the 12th, stime the 13th.
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let ticks: f64 = fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?;
    Some(ticks * 10.0)
}

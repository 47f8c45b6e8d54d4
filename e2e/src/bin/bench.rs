//! `make bench`: the hot paths of the foundation, each printing its figure.
//!
//! - catalog reads per second over gRPC (GetItem by code, concurrent clients), with p50/p99 latency, on the
//!   embedded default and on PostgreSQL;
//! - outbox events relayed per second to RabbitMQ with publisher confirms (PostgreSQL outbox);
//! - target import rows per second and peak memory, and the snapshot after it (PostgreSQL);
//! - the draw algorithm alone: sampling 200,000 of 10,000,000, and teams for 200,000 targets.

use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::Parser;
use suiji_api::catalog::v1 as pb;
use suiji_api::catalog::v1::catalog_service_client::CatalogServiceClient;
use suiji_platform::db::Db;
use suiji_platform::grpc::{Bearer, channel};
use suiji_platform::outbox::{self, Event, Relay, unsent_count};
use suiji_platform::testing::{self, Backend};

/// mimalloc: import batches are allocated on the parsing thread and freed on the writers', where glibc's
/// allocator spends its time on locks and consolidation.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
struct Args {
    /// Items in the catalog under read load.
    #[arg(long, default_value_t = 1000)]
    items: usize,
    /// Concurrent gRPC clients.
    #[arg(long, default_value_t = 32)]
    clients: usize,
    /// Seconds of read load per backend.
    #[arg(long, default_value_t = 5)]
    seconds: u64,
    /// Events relayed in the outbox benchmark.
    #[arg(long, default_value_t = 20_000)]
    events: usize,
    /// Which benchmarks: catalog, outbox, import.
    #[arg(long, value_delimiter = ',', default_value = "catalog,outbox,import")]
    only: Vec<String>,
    /// Rows of the target import benchmark.
    #[arg(long, default_value_t = 1_000_000)]
    import_rows: u64,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    suiji_platform::telemetry::init_for_tests();
    let args = Args::parse();
    let wants = |what: &str| args.only.iter().any(|o| o == what);
    if wants("draw") {
        draw_sampling();
        draw_teams();
    }
    if wants("catalog") {
        for backend in [Backend::Embedded, Backend::Servers] {
            if testing::require(backend).await {
                catalog_reads(&args, backend).await?;
            }
        }
    }
    if wants("outbox") && testing::require(Backend::Servers).await {
        outbox_relay(&args).await?;
    }
    if wants("import") && testing::require(Backend::Servers).await {
        target_import(&args).await?;
    }
    Ok(())
}

async fn catalog_reads(args: &Args, backend: Backend) -> anyhow::Result<()> {
    let isolated = testing::isolated(backend).await;
    let bus = isolated.bus().await;
    let running = testing::start(
        &isolated,
        bus,
        suiji_catalog::NAME,
        &suiji_catalog::migrations(),
        |ctx| async move { suiji_catalog::start(&ctx).await },
    )
    .await;
    let token = isolated.token("610400-SCJG", &["catalog.editor", "catalog.publisher"]);
    let mut client =
        CatalogServiceClient::with_interceptor(channel(&running.addr)?, Bearer::new(Some(&token)));
    for i in 0..args.items {
        let content = pb::ItemContent {
            name: format!("基准事项 {i}"),
            legal_basis: vec!["《企业信息公示暂行条例》第十四条".into()],
            department_code: "610400-SCJG".into(),
            target_kinds: vec![pb::TargetKind::Enterprise as i32],
            category: pb::ItemCategory::General as i32,
            frequency_per_year: 1,
            methods: vec![pb::InspectionMethod::OnSite as i32],
            checklist: (0..5)
                .map(|j| pb::CheckPoint {
                    code: j.to_string(),
                    description: format!("检查点 {j}"),
                    basis: String::new(),
                })
                .collect(),
            ..Default::default()
        };
        client
            .create_item(pb::CreateItemRequest {
                code: format!("B-{i:06}"),
                content: Some(content),
            })
            .await?;
    }
    let deadline = Instant::now() + Duration::from_secs(args.seconds);
    let mut tasks = Vec::new();
    for worker in 0..args.clients {
        let mut client = client.clone();
        let items = args.items;
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut n = worker * 7919;
            while Instant::now() < deadline {
                n = (n + 104_729) % items;
                let start = Instant::now();
                client
                    .get_item(pb::GetItemRequest {
                        code: format!("B-{n:06}"),
                        version: 0,
                    })
                    .await
                    .expect("read");
                latencies.push(start.elapsed());
            }
            latencies
        }));
    }
    let mut all = Vec::new();
    for task in tasks {
        all.extend(task.await?);
    }
    all.sort();
    let rate = all.len() as f64 / args.seconds as f64;
    let p = |q: f64| all[((all.len() as f64 * q) as usize).min(all.len() - 1)];
    println!(
        "catalog reads over gRPC [{}]: {:.0} reads/s ({} clients, {} items), p50 {:.2} ms, p99 {:.2} ms",
        label(backend),
        rate,
        args.clients,
        args.items,
        p(0.50).as_secs_f64() * 1e3,
        p(0.99).as_secs_f64() * 1e3
    );
    running.stop().await;
    isolated.cleanup().await;
    Ok(())
}

async fn outbox_relay(args: &Args) -> anyhow::Result<()> {
    let isolated = testing::isolated(Backend::Servers).await;
    let bus = isolated.bus().await;
    static NONE: sqlx::migrate::Migrator = sqlx::migrate::Migrator::DEFAULT;
    let db = Db::connect(&isolated.settings.database, "bench").await?;
    db.migrate(&suiji_platform::db::Migrations {
        postgres: &NONE,
        sqlite: &NONE,
    })
    .await?;
    let payload = prost_types::Timestamp {
        seconds: 1,
        nanos: 0,
    };
    for chunk in 0..args.events.div_ceil(500) {
        let mut tx = db.begin().await?;
        for i in 0..500.min(args.events - chunk * 500) {
            outbox::enqueue(
                &mut tx,
                "bench",
                Event::new("bench.thing.changed", &format!("{chunk}-{i}"), &payload),
            )
            .await?;
        }
        tx.commit().await?;
    }
    let relay = Relay::new(
        db.clone(),
        Arc::clone(&bus),
        isolated.settings.bus.relay_batch,
        Duration::from_secs(1),
        Duration::from_secs(86_400),
    );
    let start = Instant::now();
    while unsent_count(&db).await? > 0 {
        relay.relay_once().await?;
    }
    let elapsed = start.elapsed();
    println!(
        "outbox relayed to RabbitMQ with confirms [PostgreSQL]: {:.0} events/s ({} events in {:.2} s, batch {})",
        args.events as f64 / elapsed.as_secs_f64(),
        args.events,
        elapsed.as_secs_f64(),
        isolated.settings.bus.relay_batch
    );
    db.close().await;
    isolated.cleanup().await;
    Ok(())
}

/// Peak resident memory of this process so far (VmHWM), in MiB.
fn peak_rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .map(str::to_string)
        })
        .and_then(|l| {
            l.split_whitespace()
                .nth(1)
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map(|kb| kb / 1024.0)
        .unwrap_or(f64::NAN)
}

async fn target_import(args: &Args) -> anyhow::Result<()> {
    let file = std::env::temp_dir().join(format!("suiji-bench-targets-{}.csv", args.import_rows));
    if !file.exists() {
        let spec = suiji_directories::generate::Spec {
            count: args.import_rows,
            seed: 42,
            province: "610000".into(),
            departments: vec!["610400-SCJG".into(), "610400-STHJ".into()],
        };
        let out = std::fs::File::create(&file)?;
        let started = Instant::now();
        suiji_directories::generate::targets(&spec, out)?;
        eprintln!(
            "generated {} rows in {:.1} s",
            args.import_rows,
            started.elapsed().as_secs_f64()
        );
    }
    let size = std::fs::metadata(&file)?.len();
    let isolated = testing::isolated(Backend::Servers).await;
    let db = Db::connect(&isolated.settings.database, suiji_directories::NAME).await?;
    db.migrate(&suiji_directories::migrations()).await?;
    suiji_platform::departments::seed(&db, "")
        .await
        .map_err(anyhow::Error::msg)?;
    let before = peak_rss_mib();
    let (tx, mut rx) = tokio::sync::mpsc::channel(1024);
    let drain = tokio::spawn(async move { while rx.recv().await.is_some() {} });
    let started = Instant::now();
    let source = tokio::fs::File::open(&file).await?;
    let summary = suiji_directories::import::import_targets(
        &db,
        "bench",
        "bench.csv",
        suiji_directories::import::Format::Csv,
        source,
        tx,
    )
    .await?;
    let elapsed = started.elapsed();
    drain.await?;
    println!(
        "target import into PostgreSQL (CSV, parse + validate + COPY upsert): {:.0} rows/s ({} rows, {:.0} MiB file, {:.1} s), \
         peak memory {:.0} MiB (before the import {:.0} MiB); database writes {:.1} s of it",
        summary.accepted as f64 / elapsed.as_secs_f64(),
        summary.accepted,
        size as f64 / 1048576.0,
        elapsed.as_secs_f64(),
        peak_rss_mib(),
        before,
        summary.write_ms as f64 / 1000.0
    );
    anyhow::ensure!(
        summary.rejected == 0,
        "generated rows were rejected: {summary:?}"
    );
    let query = suiji_directories::store::TargetQuery {
        region_prefixes: vec!["61".into()],
        statuses: vec!["operating".into()],
        ..Default::default()
    };
    let started = Instant::now();
    let snapshot =
        suiji_directories::snapshot::create(&db, "bench", &query, &Default::default()).await?;
    println!(
        "target snapshot (operating targets of the province; sorted, digested, stored): {} ids in {:.2} s",
        snapshot.count,
        started.elapsed().as_secs_f64()
    );
    db.close().await;
    isolated.cleanup().await;
    Ok(())
}

fn label(backend: Backend) -> &'static str {
    match backend {
        Backend::Embedded => "SQLite, embedded",
        Backend::Servers => "PostgreSQL",
    }
}

/// `suiji-draw-v1` sampling alone: 200,000 of 10,000,000 (2%), best of five.
fn draw_sampling() {
    use suiji_draw::algorithm::{Stream, sample};
    let mut best = Duration::MAX;
    let mut checksum = 0u64;
    for round in 0..5u8 {
        let started = Instant::now();
        let picked = sample(&mut Stream::new([round; 32]), 10_000_000, 200_000);
        best = best.min(started.elapsed());
        checksum ^= picked[picked.len() - 1];
    }
    println!(
        "draw sampling (suiji-draw-v1, 200,000 of 10,000,000): {:.1} ms (best of 5; checksum {checksum})",
        best.as_secs_f64() * 1000.0
    );
}

/// `suiji-draw-v1` inspector teams: 200,000 targets, two departments (2 seats and 1 expert seat), pools of 400.
fn draw_teams() {
    use suiji_draw::algorithm::{Candidate, DepartmentSeats, draw_teams};
    let pool = |prefix: &str, experts: usize| -> Vec<Candidate> {
        (0..400)
            .map(|i| Candidate {
                id: format!("{prefix}{i:04}"),
                expert: i < experts,
                load: (i % 3) as u32,
            })
            .collect()
    };
    let departments = vec![
        DepartmentSeats {
            department: "610400-SCJG".into(),
            seats: 2,
            needs_expert: false,
            pool: pool("SCJG-", 0),
        },
        DepartmentSeats {
            department: "610400-STHJ".into(),
            seats: 1,
            needs_expert: true,
            pool: pool("STHJ-", 40),
        },
    ];
    let targets: Vec<String> = (0..200_000).map(|i| format!("9161040{i:011}")).collect();
    let started = Instant::now();
    let teams = draw_teams(
        [9; 32],
        "610400-SCJG",
        &targets,
        &departments,
        &std::collections::BTreeMap::new(),
    )
    .expect("enough inspectors");
    println!(
        "draw inspector teams (suiji-draw-v1, 200,000 targets, 3 seats each, pools of 400): {:.0} ms ({} teams)",
        started.elapsed().as_secs_f64() * 1000.0,
        teams.len()
    );
}

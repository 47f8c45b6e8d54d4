//! `make bench`: the hot paths of the foundation, each printing its figure.
//!
//! - catalog reads per second over gRPC (GetItem by code, concurrent clients), with p50/p99 latency, on the
//!   embedded default and on PostgreSQL;
//! - outbox events relayed per second to RabbitMQ with publisher confirms (PostgreSQL outbox);
//! - target import rows per second and peak memory, and the snapshot after it (PostgreSQL);
//! - the draw algorithm alone: sampling 200,000 of 10,000,000, and teams for 200,000 targets;
//! - with `draw-service` beside `import`: the whole target draw through the draw and directories services over
//!   the imported directory (snapshot, stratified draw, lock) for the province and for one district, and the
//!   inspector teams for the province's drawn targets;
//! - `console-server`: the console's server time for 工作台 and a list page over 10,000 tasks and 1,000,000
//!   results (p50, p95);
//! - `publication`: results created from concluded visits, entered, approved and published over gRPC, and the
//!   public search's latency while publishing;
//! - `public-search`: the public search by name at 1,000,000 public records (p50, p99 per kind of query).

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
    /// Which benchmarks: draw, catalog, outbox, import, draw-service, saga, publication, public-search, console (the first
    /// load's size), console-server (the pages' server time).
    #[arg(long, value_delimiter = ',', default_value = "catalog,outbox,import")]
    only: Vec<String>,
    /// Rows of the target import benchmark.
    #[arg(long, default_value_t = 1_000_000)]
    import_rows: u64,
    /// After the target import, import the same file again: every row replaced, each recorded with its digests.
    #[arg(long)]
    reimport: bool,
    /// Keep the imported directory's database and print its name (to rerun the later figures on it).
    #[arg(long)]
    keep_database: bool,
    /// Skip the import and measure on a database a `--keep-database` run kept.
    #[arg(long)]
    reuse_database: Option<String>,
    /// Joint inspections in the saga benchmark.
    #[arg(long, default_value_t = 1000)]
    sagas: usize,
    /// Results in the publication benchmark.
    #[arg(long, default_value_t = 100_000)]
    results: usize,
    /// Public records behind the public search benchmark.
    #[arg(long, default_value_t = 1_000_000)]
    public_records: i64,
    /// Tasks behind the console benchmark's pages.
    #[arg(long, default_value_t = 10_000)]
    console_tasks: usize,
    /// Results behind the console benchmark's pages.
    #[arg(long, default_value_t = 1_000_000)]
    console_results: usize,
    /// Measured rounds of each console page.
    #[arg(long, default_value_t = 200)]
    console_rounds: usize,
    /// Sagas driven at once in the saga benchmark.
    #[arg(long, default_value_t = 200)]
    saga_concurrency: usize,
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
    if wants("console") {
        console_first_load();
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
    if wants("publication") {
        suiji_e2e::publication_bench::run(args.results, args.clients).await?;
    }
    if wants("public-search") {
        suiji_e2e::search_bench::run(
            args.public_records,
            args.clients.min(8),
            10,
            args.keep_database,
            args.reuse_database.as_deref(),
        )
        .await?;
    }
    if wants("console-server") {
        suiji_e2e::console_bench::run(
            args.console_tasks,
            args.console_results,
            args.console_rounds,
        )
        .await?;
    }
    if wants("saga") {
        suiji_e2e::saga_bench::run(args.sagas, args.saga_concurrency).await?;
    }
    Ok(())
}

/// What a first visit to the console downloads, gzipped: the page and the scripts and styles it names (each
/// further page's code comes when it is opened).
fn console_first_load() {
    let (bytes, files) = suiji_console::web::first_load();
    println!(
        "console first load: {:.1} KiB gzipped in {files} files (goal < 500 KB)",
        bytes as f64 / 1024.0
    );
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
                Event::under("bench.thing.changed", &format!("{chunk}-{i}"), &payload),
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
    let mut isolated = match &args.reuse_database {
        Some(name) => testing::reuse(name).await,
        None => testing::isolated(Backend::Servers).await,
    };
    let db = Db::connect(&isolated.settings.database, suiji_directories::NAME).await?;
    db.migrate(&suiji_directories::migrations()).await?;
    if args.reuse_database.is_none() {
        import_generated(args, &db).await?;
    }
    // The import marked the key ranges it wrote; the first wide snapshot would rebuild their segments.
    let started = Instant::now();
    let refreshed = suiji_directories::segments::refresh(&db).await?;
    println!(
        "target segments brought up to date after the import: {} segments of {} targets packed in {:.2} s",
        refreshed.written,
        refreshed.rows,
        started.elapsed().as_secs_f64()
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
    if args.only.iter().any(|o| o == "draw-service") {
        isolated = draw_service(isolated, &db).await?;
    }
    db.close().await;
    if args.keep_database
        && let Some(name) = isolated.keep_database()
    {
        println!("kept database {name} (rerun with --reuse-database {name})");
    }
    isolated.cleanup().await;
    Ok(())
}

/// Generates `--import-rows` targets (once per size, kept in the temporary directory) and imports them.
async fn import_generated(args: &Args, db: &Db) -> anyhow::Result<()> {
    let file = std::env::temp_dir().join(format!("suiji-bench-targets-{}.csv", args.import_rows));
    if !file.exists() {
        let spec = suiji_directories::generate::Spec {
            count: args.import_rows,
            seed: 42,
            province: "610000".into(),
            departments: vec![SCJG.into(), STHJ.into()],
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
    suiji_platform::departments::seed(db, "")
        .await
        .map_err(anyhow::Error::msg)?;
    let before = peak_rss_mib();
    let (summary, elapsed) = import_file(db, &file).await?;
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
    if args.reimport {
        let (again, elapsed) = import_file(db, &file).await?;
        let changes: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM import_changes WHERE import_id = $1")
                .bind(&again.import_id)
                .fetch_one(db.pool())
                .await?;
        println!(
            "target re-import of the same file (every row replaced, each recorded with its digests before and after): \
             {:.0} rows/s ({} rows, {:.1} s, {changes} change rows), peak memory {:.0} MiB; database writes {:.1} s of it",
            again.accepted as f64 / elapsed.as_secs_f64(),
            again.accepted,
            elapsed.as_secs_f64(),
            peak_rss_mib(),
            again.write_ms as f64 / 1000.0
        );
        anyhow::ensure!(
            again.created == 0 && changes as u64 == again.accepted,
            "a re-import replaces every row: {again:?}, {changes} change rows"
        );
    }
    Ok(())
}

/// Imports the targets of `file` into `db`; the summary and the time it took.
async fn import_file(
    db: &Db,
    file: &std::path::Path,
) -> anyhow::Result<(suiji_directories::import::Summary, std::time::Duration)> {
    let (tx, mut rx) = tokio::sync::mpsc::channel(1024);
    let drain = tokio::spawn(async move { while rx.recv().await.is_some() {} });
    let started = Instant::now();
    let source = tokio::fs::File::open(file).await?;
    let summary =
        suiji_directories::import::import_all::<suiji_directories::domain::target::Target>(
            db,
            "bench",
            "bench.csv",
            suiji_directories::import::Format::Csv,
            source,
            tx,
        )
        .await?;
    let elapsed = started.elapsed();
    drain.await?;
    Ok((summary, elapsed))
}

use suiji_draw::testkit::{SCJG, STHJ};

/// The draw as its users run it, through the draw and directories services on PostgreSQL and RabbitMQ, over the
/// directory in `isolated`: a province-wide task at 2% and a one-district task, each drawn (snapshot, exclusions,
/// stratified draw) and locked; then the province's inspector teams (two departments' seats).
async fn draw_service(isolated: testing::Isolated, db: &Db) -> anyhow::Result<testing::Isolated> {
    use suiji_api::directories::v1 as dir;
    use suiji_api::draw::v1 as draw;
    use suiji_draw::testkit::{self, SCJG, STHJ, World};
    let world = World::start_in(isolated).await;
    // Inspectors: 2,000 per department, as the generator makes them (most active, a few experts).
    let mut csv = Vec::new();
    suiji_directories::generate::inspectors(
        &suiji_directories::generate::Spec {
            count: 4000,
            seed: 11,
            province: "610000".into(),
            departments: vec![SCJG.into(), STHJ.into()],
        },
        &mut csv,
    )?;
    let (tx, mut rx) = tokio::sync::mpsc::channel(1024);
    let drain = tokio::spawn(async move { while rx.recv().await.is_some() {} });
    suiji_directories::import::import_all::<suiji_directories::domain::inspector::Inspector>(
        db,
        "bench",
        "inspectors.csv",
        suiji_directories::import::Format::Csv,
        std::io::Cursor::new(csv),
        tx,
    )
    .await?;
    drain.await?;
    let district: String = sqlx::query_scalar(
        "SELECT region_code FROM targets GROUP BY region_code ORDER BY COUNT(*) DESC, region_code LIMIT 1",
    )
    .fetch_one(db.pool())
    .await?;
    // A province's drawn targets come back in one record of some megabytes.
    let mut client = world.operator(SCJG).max_decoding_message_size(64 << 20);
    // Task ids of their own, so a kept database can be drawn from again.
    let run = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)?
        .as_secs();
    let province = format!("BENCH-PROVINCE-{run}");
    // The district first, so that it is not measured while the province's teams are still being taken in by
    // the directories (4,000 inspectors' workloads) and relayed.
    let district_task = format!("BENCH-DISTRICT-{run}");
    for (task, region) in [
        (district_task.as_str(), district.as_str()),
        (province.as_str(), "610000"),
    ] {
        // Items of every kind, so the task's scope is the whole directory of the region.
        let items = [
            (SCJG, "SCJG-1", "market-regulation"),
            (STHJ, "STHJ-1", "environment"),
        ]
        .map(|(department, code, qualification)| {
            let mut item = testkit::item(code, department, qualification, false);
            if let Some(content) = item.version.as_mut().and_then(|v| v.content.as_mut()) {
                content.target_kinds = (1..=9).collect();
            }
            item
        });
        let mut entry = testkit::entry(false);
        entry.scope = Some(dir::TargetFilter {
            region_codes: vec![region.into()],
            ..Default::default()
        });
        entry.ratio_basis_points = 200;
        world.launch_with(task, entry, items.to_vec(), 0).await;
        let started = Instant::now();
        let drawn = client
            .draw_targets(draw::DrawTargetsRequest {
                task_id: task.into(),
                ..Default::default()
            })
            .await?
            .into_inner()
            .draw
            .unwrap_or_default();
        let locked = client
            .lock_draw(draw::LockDrawRequest {
                task_id: task.into(),
                expected_revision: drawn.revision,
            })
            .await?
            .into_inner()
            .draw
            .unwrap_or_default();
        let elapsed = started.elapsed();
        let targets = locked.targets.unwrap_or_default();
        let taken: u64 = targets.strata.iter().map(|s| s.take).sum();
        println!(
            "whole target draw through the services, {region} at 2% (10% of high risk): {:.0} ms for snapshot, \
             exclusions, stratified draw and lock ({taken} of {} candidates)",
            elapsed.as_secs_f64() * 1000.0,
            targets.candidates,
        );
        if task == province {
            let started = Instant::now();
            let drawn = client
                .draw_inspectors(draw::DrawInspectorsRequest {
                    task_id: task.into(),
                    eligible_on: "2027-03-01".into(),
                    ..Default::default()
                })
                .await?
                .into_inner()
                .draw
                .unwrap_or_default()
                .teams
                .unwrap_or_default();
            let assigned = started.elapsed();
            let started = Instant::now();
            let teams = World::teams(&mut client, task, 10_000, Default::default()).await?;
            let seats = teams.first().map_or(0, |t| t.drawn.len());
            anyhow::ensure!(teams.len() as u64 == drawn.team_count);
            println!(
                "inspector teams through the services, {} targets ({seats} seats each from two departments' \
                 pools of 2,000): {:.0} ms; the teams read back with ListTeams in pages of 10,000: {:.0} ms",
                teams.len(),
                assigned.as_secs_f64() * 1000.0,
                started.elapsed().as_secs_f64() * 1000.0
            );
        }
    }
    Ok(world.stop_services().await)
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

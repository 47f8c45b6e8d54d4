//! The directories service: the two directories (两库) — inspection targets and inspectors — and the
//! departments every other service refers to.

pub mod changes;
pub mod client;
pub mod consumers;
pub mod convert;
pub mod domain;
pub mod export;
pub mod first_load;
pub mod generate;
pub mod grpc;
pub mod history;
pub mod import;
pub mod lines;
pub mod rejected;
pub mod segments;
pub mod service;
pub mod snapshot;
pub mod store;
pub mod workload;

use suiji_platform::db::Migrations;

/// The service's name: its schema, its queue, its events' prefix.
pub const NAME: &str = "directories";

static POSTGRES: sqlx::migrate::Migrator = sqlx::migrate!("../../migrations/directories/postgres");
static SQLITE: sqlx::migrate::Migrator = sqlx::migrate!("../../migrations/directories/sqlite");

/// The directories' migrations.
pub fn migrations() -> Migrations {
    Migrations {
        postgres: &POSTGRES,
        sqlite: &SQLITE,
    }
}

/// Full name of its gRPC service.
pub const GRPC_NAME: &str = "suiji.directories.v1.DirectoriesService";

/// Seeds the departments, builds the gRPC routes.
pub async fn start(
    ctx: &suiji_platform::runtime::Context,
) -> Result<suiji_platform::runtime::Started, suiji_platform::runtime::StartError> {
    use suiji_platform::runtime::{StartError, Started};
    suiji_platform::departments::seed(&ctx.db, &ctx.settings.reference.departments_file)
        .await
        .map_err(StartError::Io)?;
    let consumer = ctx
        .subscribe(consumers::Heard::KEYS, consumers::History)
        .await?;
    let directories = service::Directories::new(
        ctx.db.clone(),
        ctx.relay.clone(),
        ctx.settings.directories.target_sources.clone(),
    );
    let mut parts = suiji_platform::grpc::base_routes();
    parts.routes.add_service(
        suiji_api::directories::v1::directories_service_server::DirectoriesServiceServer::new(
            grpc::Api::new(directories),
        )
        .max_decoding_message_size(8 << 20),
    );
    let sweeper = tokio::spawn(sweep_snapshots(
        ctx.db.clone(),
        std::time::Duration::from_secs(ctx.settings.directories.snapshot_retention_hours * 3600),
        ctx.shutdown.clone(),
    ));
    let folder = tokio::spawn(workload::run(
        ctx.db.clone(),
        workload::FOLD_EVERY,
        ctx.shutdown.clone(),
    ));
    Ok(Started {
        routes: parts.routes.routes(),
        health: parts.health,
        grpc_name: GRPC_NAME,
        tasks: vec![sweeper, consumer, folder],
        recount: None,
    })
}

/// Every hour, deletes the unpinned snapshots older than `retention`, until `shutdown`.
async fn sweep_snapshots(
    db: suiji_platform::db::Db,
    retention: std::time::Duration,
    shutdown: tokio_util::sync::CancellationToken,
) {
    let mut tick = tokio::time::interval(std::time::Duration::from_secs(3600));
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = tick.tick() => {}
        }
        let cutoff = suiji_platform::db::now_ms() - retention.as_millis() as i64;
        match snapshot::purge_unpinned(&db, cutoff).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(
                purged = n,
                "unpinned snapshots past their retention deleted"
            ),
            Err(error) => tracing::warn!(%error, "snapshot purge failed; trying again in an hour"),
        }
    }
}

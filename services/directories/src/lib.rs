//! The directories service: the two directories (两库) — inspection targets and inspectors — and the
//! departments every other service refers to.

pub mod domain;
pub mod export;
pub mod generate;
pub mod grpc;
pub mod import;
pub mod service;
pub mod snapshot;
pub mod store;

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
    let directories = service::Directories::new(ctx.db.clone(), ctx.relay.clone());
    let mut parts = suiji_platform::grpc::base_routes();
    parts.routes.add_service(
        suiji_api::directories::v1::directories_service_server::DirectoriesServiceServer::new(
            grpc::Api::new(directories),
        )
        .max_decoding_message_size(8 << 20),
    );
    Ok(Started {
        routes: parts.routes.routes(),
        health: parts.health,
        grpc_name: GRPC_NAME,
        tasks: vec![],
    })
}

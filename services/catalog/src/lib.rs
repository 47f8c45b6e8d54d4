//! The catalog service: the published list of what may be inspected (随机抽查事项清单).
//!
//! `domain` holds the rules (pure), `store` the tables, `service` the use cases, `grpc` the API and
//! `consumers` what it hears on the bus.

pub mod consumers;
pub mod convert;
pub mod domain;
pub mod error;
pub mod grpc;
pub mod service;
pub mod store;

use suiji_api::catalog::v1::catalog_service_server::CatalogServiceServer;
use suiji_platform::db::Migrations;
use suiji_platform::runtime::{Context, StartError, Started};

/// The service's name: its schema, its queue, its events' prefix.
pub const NAME: &str = "catalog";

/// Full name of its gRPC service.
pub const GRPC_NAME: &str = "suiji.catalog.v1.CatalogService";

static POSTGRES: sqlx::migrate::Migrator = sqlx::migrate!("../../migrations/catalog/postgres");
static SQLITE: sqlx::migrate::Migrator = sqlx::migrate!("../../migrations/catalog/sqlite");

/// The catalog's migrations.
pub fn migrations() -> Migrations {
    Migrations {
        postgres: &POSTGRES,
        sqlite: &SQLITE,
    }
}

/// Seeds the local department copy, subscribes to the bus and builds the gRPC routes.
pub async fn start(ctx: &Context) -> Result<Started, StartError> {
    suiji_platform::departments::seed(&ctx.db, &ctx.settings.reference.departments_file)
        .await
        .map_err(StartError::Io)?;
    let consumer = ctx
        .subscribe(consumers::Heard::KEYS, consumers::Departments)
        .await?;
    let policy = domain::Policy {
        general_cap_basis_points: ctx.settings.jurisdiction.general_ratio_cap_basis_points,
    };
    let catalog = service::Catalog::new(ctx.db.clone(), ctx.relay.clone(), policy);
    let mut parts = suiji_platform::grpc::base_routes();
    parts
        .routes
        .add_service(CatalogServiceServer::new(grpc::Api::new(catalog)));
    Ok(Started {
        routes: parts.routes.routes(),
        health: parts.health,
        grpc_name: GRPC_NAME,
        tasks: vec![consumer],
        recount: None,
    })
}

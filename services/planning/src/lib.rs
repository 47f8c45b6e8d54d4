//! The planning service: annual joint-inspection plans (年度抽查计划) with their approvals and amendments,
//! the departments' annual caps, the coverage report, and the tasks (抽查任务) whose launch starts the
//! joint-inspection saga.
//!
//! `domain` holds the rules (pure), `store` the tables, `service` the use cases, `grpc` the API and
//! `consumers` the local copies of departments and catalog items it keeps from the bus.

pub mod consumers;
pub mod convert;
pub mod domain;
pub mod error;
pub mod grpc;
pub mod service;
pub mod store;

use suiji_api::planning::v1::planning_service_server::PlanningServiceServer;
use suiji_platform::db::Migrations;
use suiji_platform::runtime::{Context, StartError, Started};

/// The service's name: its schema, its queue, its events' prefix.
pub const NAME: &str = "planning";

/// Full name of its gRPC service.
pub const GRPC_NAME: &str = "suiji.planning.v1.PlanningService";

static POSTGRES: sqlx::migrate::Migrator = sqlx::migrate!("../../migrations/planning/postgres");
static SQLITE: sqlx::migrate::Migrator = sqlx::migrate!("../../migrations/planning/sqlite");

/// Planning's migrations.
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
        .subscribe(consumers::Heard::KEYS, consumers::Copies)
        .await?;
    let planning = service::Planning::new(
        ctx.db.clone(),
        ctx.relay.clone(),
        ctx.settings.jurisdiction.general_ratio_cap_basis_points,
    );
    let mut parts = suiji_platform::grpc::base_routes();
    parts
        .routes
        .add_service(PlanningServiceServer::new(grpc::Api::new(planning)));
    Ok(Started {
        routes: parts.routes.routes(),
        health: parts.health,
        grpc_name: GRPC_NAME,
        tasks: vec![consumer],
        recount: None,
    })
}

//! The inspection service: the joint-inspection saga (联合抽查) that takes a launched task through invitations,
//! the draw, the lock and the teams to its visits, one instance per task.
//!
//! [`domain::saga`] is the state machine, pure; `store` keeps each saga as one versioned row with its ordered
//! history and its durable timers; `consumers` feeds it the launches, cancellations and the draw's replies;
//! `service` applies coordinators' actions; `grpc` is the API.

pub mod consumers;
pub mod domain;
pub mod grpc;
pub mod public;
pub mod service;
pub mod store;

use suiji_api::inspection::v1::inspection_service_server::InspectionServiceServer;
use suiji_platform::db::Migrations;
use suiji_platform::runtime::{Context, StartError, Started};

/// The service's name: its schema, its queue, its events' prefix.
pub const NAME: &str = "inspection";

/// Full name of its gRPC service.
pub const GRPC_NAME: &str = "suiji.inspection.v1.InspectionService";

static POSTGRES: sqlx::migrate::Migrator = sqlx::migrate!("../../migrations/inspection/postgres");
static SQLITE: sqlx::migrate::Migrator = sqlx::migrate!("../../migrations/inspection/sqlite");

/// The inspection service's migrations.
pub fn migrations() -> Migrations {
    Migrations {
        postgres: &POSTGRES,
        sqlite: &SQLITE,
    }
}

/// Subscribes to launches, cancellations and the draw's replies, starts the timer worker and builds the gRPC
/// routes.
pub async fn start(ctx: &Context) -> Result<Started, StartError> {
    // Its copy of the departments: transfers go to known departments.
    suiji_platform::departments::seed(&ctx.db, &ctx.settings.reference.departments_file)
        .await
        .map_err(StartError::Io)?;
    let sagas = service::Sagas::new(
        ctx.db.clone(),
        ctx.relay.clone(),
        ctx.calendar.clone(),
        ctx.settings.inspection.clone(),
        suiji_platform::grpc::channel(&ctx.settings.services.directories)?,
        suiji_platform::grpc::channel(&ctx.settings.services.draw)?,
        ctx.tokens.clone(),
    );
    let consumer = ctx
        .subscribe(
            consumers::Heard::KEYS,
            consumers::Consumer::new(sagas.clone()),
        )
        .await?;
    let timers = tokio::spawn(consumers::timers(sagas.clone(), ctx.shutdown.clone()));
    let teams = ctx.run_jobs(consumers::Teams::new(sagas.clone()));
    let mut parts = suiji_platform::grpc::base_routes();
    parts
        .routes
        .add_service(InspectionServiceServer::new(grpc::Api::new(
            sagas.clone(),
            ctx.shutdown.clone(),
        )));
    let recounting = sagas.clone();
    let recount: suiji_platform::calendar_api::Recount = std::sync::Arc::new(move || {
        let sagas = recounting.clone();
        Box::pin(async move { sagas.recount().await.map_err(|e| e.to_string()) })
    });
    let mut routes = parts.routes.routes();
    let router = std::mem::take(routes.axum_router_mut()).merge(public::router(sagas));
    Ok(Started {
        routes: tonic::service::Routes::from(router),
        health: parts.health,
        grpc_name: GRPC_NAME,
        tasks: vec![consumer, timers, teams],
        recount: Some(recount),
    })
}

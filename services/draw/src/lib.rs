//! The draw service: the verifiable double-random draw (双随机) of targets and inspectors.
//!
//! [`algorithm`] is `suiji-draw-v1` exactly as `docs/draw-v1.md` specifies it: pure, with no I/O, so that the
//! service, `suiji draw verify` and anyone re-implementing the page get the same lists from the same inputs.
//! [`record`] is the draw record and its verification; `service` the use cases (commit at launch, draw and lock
//! the targets, draw the teams, replace by rule); `consumers` the launches, cancellations and saga commands it
//! hears on the bus.

pub mod algorithm;
pub mod consumers;
pub mod convert;
pub mod grpc;
pub mod record;
pub mod service;
pub mod store;
#[cfg(feature = "testkit")]
pub mod testkit;

use suiji_api::draw::v1::draw_service_server::DrawServiceServer;
use suiji_platform::db::Migrations;
use suiji_platform::runtime::{Context, StartError, Started};

/// The service's name: its schema, its queue, its events' prefix.
pub const NAME: &str = "draw";

/// Full name of its gRPC service.
pub const GRPC_NAME: &str = "suiji.draw.v1.DrawService";

static POSTGRES: sqlx::migrate::Migrator = sqlx::migrate!("../../migrations/draw/postgres");
static SQLITE: sqlx::migrate::Migrator = sqlx::migrate!("../../migrations/draw/sqlite");

/// The draw's migrations.
pub fn migrations() -> Migrations {
    Migrations {
        postgres: &POSTGRES,
        sqlite: &SQLITE,
    }
}

/// Seeds the local department copy, subscribes to launches and commands, starts the job worker and builds the
/// gRPC routes.
pub async fn start(ctx: &Context) -> Result<Started, StartError> {
    suiji_platform::departments::seed(&ctx.db, &ctx.settings.reference.departments_file)
        .await
        .map_err(StartError::Io)?;
    let directories = suiji_platform::grpc::channel(&ctx.settings.services.directories)?;
    let draws = service::Draws::new(
        ctx.db.clone(),
        ctx.relay.clone(),
        ctx.tokens.clone(),
        directories,
        ctx.settings.draw.clone(),
    );
    let consumer = ctx
        .subscribe(
            consumers::Heard::KEYS,
            consumers::Consumer::new(draws.clone()),
        )
        .await?;
    let worker = ctx.run_jobs(consumers::Commands::new(draws.clone()));
    let mut parts = suiji_platform::grpc::base_routes();
    parts.routes.add_service(
        DrawServiceServer::new(grpc::Api::new(draws)).max_decoding_message_size(64 << 20),
    );
    Ok(Started {
        routes: parts.routes.routes(),
        health: parts.health,
        grpc_name: GRPC_NAME,
        tasks: vec![consumer, worker],
        recount: None,
    })
}

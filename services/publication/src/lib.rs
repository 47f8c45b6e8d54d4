//! The publication service (一公开): every department enters the results of its own items on each inspected
//! target, has them reviewed and publishes them within 20 working days of the visit; a result kept from the public
//! needs a reason and the department head; a published result is corrected, never edited. Published results
//! make credit records, go to outside credit systems through the connector, and are searchable by anyone.
//!
//! [`domain`] holds the rules, pure; `store` keeps results as versioned rows and the public records apart;
//! `consumers` creates results from concluded visits; `service` applies the departments' actions; `grpc` is the
//! API, `public` the search page and JSON feed on the same port, `connector` the deliveries and export files.

pub mod connector;
pub mod consumers;
pub mod domain;
pub mod grpc;
pub mod public;
pub mod report;
pub mod service;
pub mod store;
#[cfg(feature = "testkit")]
pub mod testkit;

use suiji_api::publication::v1::publication_service_server::PublicationServiceServer;
use suiji_platform::db::Migrations;
use suiji_platform::runtime::{Context, StartError, Started};

/// The service's name: its schema, its queue, its events' prefix.
pub const NAME: &str = "publication";

/// Full name of its gRPC service.
pub const GRPC_NAME: &str = "suiji.publication.v1.PublicationService";

static POSTGRES: sqlx::migrate::Migrator = sqlx::migrate!("../../migrations/publication/postgres");
static SQLITE: sqlx::migrate::Migrator = sqlx::migrate!("../../migrations/publication/sqlite");

/// The publication service's migrations.
pub fn migrations() -> Migrations {
    Migrations {
        postgres: &POSTGRES,
        sqlite: &SQLITE,
    }
}

/// Seeds the local department copy, keeps the code table, subscribes to concluded visits, starts the connector's
/// workers and builds the gRPC routes with the public page beside them.
pub async fn start(ctx: &Context) -> Result<Started, StartError> {
    suiji_platform::departments::seed(&ctx.db, &ctx.settings.reference.departments_file)
        .await
        .map_err(StartError::Io)?;
    let settings = ctx.settings.publication.clone();
    let transports = connector::transports(&settings.connectors).map_err(StartError::Io)?;
    let publications = service::Publications::new(
        ctx.db.clone(),
        ctx.relay.clone(),
        ctx.calendar.clone(),
        settings.clone(),
        suiji_platform::grpc::channel(&ctx.settings.services.directories)?,
        ctx.tokens.clone(),
    )
    .await
    .map_err(StartError::Io)?;
    let consumer = ctx
        .subscribe(
            consumers::Heard::KEYS,
            consumers::Consumer::new(publications.clone()),
        )
        .await?;
    let mut tasks = vec![consumer];
    tasks.push(tokio::spawn(connector::deliver(
        publications.clone(),
        transports,
        ctx.shutdown.clone(),
    )));
    if !settings.export_dir.is_empty() {
        tasks.push(tokio::spawn(connector::daily_files(
            publications.clone(),
            settings.export_dir.clone(),
            ctx.shutdown.clone(),
        )));
    }
    let mut parts = suiji_platform::grpc::base_routes();
    parts
        .routes
        .add_service(PublicationServiceServer::new(grpc::Api::new(
            publications.clone(),
        )));
    let recounting = publications.clone();
    let recount: suiji_platform::calendar_api::Recount = std::sync::Arc::new(move || {
        let publications = recounting.clone();
        Box::pin(async move { publications.recount().await.map_err(|e| e.to_string()) })
    });
    let mut routes = parts.routes.routes();
    let router = std::mem::take(routes.axum_router_mut()).merge(public::router(publications));
    Ok(Started {
        routes: tonic::service::Routes::from(router),
        health: parts.health,
        grpc_name: GRPC_NAME,
        tasks,
        recount: Some(recount),
    })
}

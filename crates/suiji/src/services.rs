//! The services this binary runs, in start order.

use std::future::Future;
use std::pin::Pin;

use suiji_platform::db::Migrations;
use suiji_platform::runtime::{Context, StartError, Started};

type StartFn = fn(Context) -> Pin<Box<dyn Future<Output = Result<Started, StartError>> + Send>>;

/// A service the binary can run.
#[derive(Clone, Copy)]
pub struct Spec {
    /// Its name.
    pub name: &'static str,
    /// Full name of its gRPC service.
    pub grpc_name: &'static str,
    /// Its migrations.
    pub migrations: fn() -> Migrations,
    /// The first parts of the routing keys it publishes (its broker user may publish no other).
    pub publishes: &'static [&'static str],
    /// Starts it.
    pub start: StartFn,
}

/// Every service, in start order.
pub const ALL: &[Spec] = &[
    Spec {
        name: suiji_catalog::NAME,
        grpc_name: suiji_catalog::GRPC_NAME,
        migrations: suiji_catalog::migrations,
        publishes: &[suiji_catalog::NAME],
        start: |ctx| Box::pin(async move { suiji_catalog::start(&ctx).await }),
    },
    Spec {
        name: suiji_directories::NAME,
        grpc_name: suiji_directories::GRPC_NAME,
        migrations: suiji_directories::migrations,
        publishes: &[suiji_directories::NAME],
        start: |ctx| Box::pin(async move { suiji_directories::start(&ctx).await }),
    },
    Spec {
        name: suiji_planning::NAME,
        grpc_name: suiji_planning::GRPC_NAME,
        migrations: suiji_planning::migrations,
        publishes: &[suiji_planning::NAME],
        start: |ctx| Box::pin(async move { suiji_planning::start(&ctx).await }),
    },
    Spec {
        name: suiji_draw::NAME,
        grpc_name: suiji_draw::GRPC_NAME,
        migrations: suiji_draw::migrations,
        publishes: &[suiji_draw::NAME],
        start: |ctx| Box::pin(async move { suiji_draw::start(&ctx).await }),
    },
    Spec {
        name: suiji_inspection::NAME,
        grpc_name: suiji_inspection::GRPC_NAME,
        migrations: suiji_inspection::migrations,
        // The inspection service commands the draw (draw.command.*).
        publishes: &[suiji_inspection::NAME, "draw.command"],
        start: |ctx| Box::pin(async move { suiji_inspection::start(&ctx).await }),
    },
    Spec {
        name: suiji_publication::NAME,
        grpc_name: suiji_publication::GRPC_NAME,
        migrations: suiji_publication::migrations,
        publishes: &[suiji_publication::NAME],
        start: |ctx| Box::pin(async move { suiji_publication::start(&ctx).await }),
    },
];

/// The service called `name`.
pub fn find(name: &str) -> anyhow::Result<Spec> {
    ALL.iter().copied().find(|s| s.name == name).ok_or_else(|| {
        let names: Vec<&str> = ALL.iter().map(|s| s.name).collect();
        anyhow::anyhow!(
            "unknown service {name:?}; this binary runs: {}",
            names.join(", ")
        )
    })
}

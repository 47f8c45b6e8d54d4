//! What a running service is made of — its database, the bus, its outbox relay, token checking and the
//! calendar — and the two steps every service goes through: start (migrate, subscribe) and serve.

use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tonic::service::Routes;

use crate::auth::Tokens;
use crate::bus::{Bus, BusError, Subscription};
use crate::calendar::{CalendarError, Calendars};
use crate::calendar_api::Recount;
use crate::config::Settings;
use crate::db::{Db, Migrations};
use crate::inbox::{Inbox, TxHandler};
use crate::outbox::Relay;

/// How long in-flight calls may run on after shutdown begins.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// Why a service could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The database could not be opened.
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    /// Migrations failed.
    #[error("migrations: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// The bus could not be reached.
    #[error("bus: {0}")]
    Bus(#[from] BusError),
    /// The calendar files are unusable.
    #[error("calendar: {0}")]
    Calendar(#[from] CalendarError),
    /// A file could not be read.
    #[error("{0}")]
    Io(String),
    /// The gRPC server failed.
    #[error("grpc: {0}")]
    Grpc(#[from] tonic::transport::Error),
}

/// Everything a service needs from the platform.
#[derive(Clone)]
pub struct Context {
    /// The settings.
    pub settings: Arc<Settings>,
    /// The service's name, e.g. `catalog`.
    pub service: &'static str,
    /// Its database, migrated.
    pub db: Db,
    /// The bus.
    pub bus: Arc<dyn Bus>,
    /// Its outbox relay; call `relay.notify()` after committing events.
    pub relay: Relay,
    /// Token checking.
    pub tokens: Tokens,
    /// The working-day calendar, which an operator's reload replaces.
    pub calendar: Calendars,
    /// Fires when the process shuts down.
    pub shutdown: CancellationToken,
    /// Wakes the service's job worker, if it runs one (`suiji_platform::jobs`).
    pub jobs: Arc<crate::jobs::Wake>,
}

impl Context {
    /// Opens and migrates the service's database and prepares its relay.
    pub async fn open(
        settings: Arc<Settings>,
        service: &'static str,
        migrations: &Migrations,
        bus: Arc<dyn Bus>,
        shutdown: CancellationToken,
    ) -> Result<Self, StartError> {
        crate::clock::pin(&settings.clock.start).map_err(|e| StartError::Io(e.to_string()))?;
        let db = Db::connect(&settings.database, service).await?;
        db.migrate(migrations).await?;
        let calendar = Calendars::load(&settings.calendar.extra_file)?;
        let tokens = Tokens::new(&settings.auth).map_err(|e| StartError::Io(e.to_string()))?;
        let relay = Relay::new(
            db.clone(),
            bus.clone(),
            settings.bus.relay_batch,
            Duration::from_millis(settings.bus.relay_poll_ms),
            Duration::from_secs(u64::from(settings.bus.inbox_retention_days) * 86_400),
        );
        Ok(Self {
            tokens,
            settings,
            service,
            db,
            bus,
            relay,
            calendar,
            shutdown,
            jobs: Arc::default(),
        })
    }

    /// Subscribes the service's queue to `bindings`, handling each message through its inbox.
    pub async fn subscribe<H: TxHandler>(
        &self,
        bindings: &[&str],
        handler: H,
    ) -> Result<JoinHandle<()>, StartError> {
        let inbox = self.inbox(handler);
        let subscription = Subscription {
            service: self.service.to_string(),
            bindings: bindings.iter().map(|b| b.to_string()).collect(),
        };
        Ok(self
            .bus
            .subscribe(subscription, Arc::new(inbox), self.shutdown.clone())
            .await?)
    }

    /// Runs `worker` over the service's durable jobs until shutdown (`suiji_platform::jobs`).
    pub fn run_jobs<W: crate::jobs::Worker>(&self, worker: W) -> JoinHandle<()> {
        tokio::spawn(crate::jobs::run(
            self.db.clone(),
            Arc::new(worker),
            self.relay.clone(),
            self.jobs.clone(),
            self.shutdown.clone(),
        ))
    }

    /// An inbox of the service's database for `handler`, batching as the settings say.
    fn inbox<H: TxHandler>(&self, handler: H) -> Inbox<H> {
        Inbox::new(self.db.clone(), handler)
            .waking(self.relay.waker())
            .waking_jobs(self.jobs.clone())
            .batching(
                self.settings.bus.inbox_batch as usize,
                self.settings.bus.inbox_transactions as usize,
            )
    }

    /// Runs the relay and serves `started` on `listener` until shutdown; then waits for the background tasks.
    pub async fn serve(self, started: Started, listener: TcpListener) -> Result<(), StartError> {
        let relay = tokio::spawn(self.relay.clone().run(self.shutdown.clone()));
        // The audit chain anchored outside this database: this service's head announced, the others' kept. The
        // keeper's queue is declared beside the service's start, not before it: a broker slow to answer delays the
        // keeping of heads (announced again daily), never the service.
        let keeper = {
            let inbox = Arc::new(self.inbox(crate::anchors::Keeper {
                service: self.service,
            }));
            let subscription = Subscription {
                service: format!("{}-anchors", self.service),
                bindings: vec![crate::anchors::ANCHORED.to_string()],
            };
            let (bus, shutdown) = (self.bus.clone(), self.shutdown.clone());
            tokio::spawn(async move {
                loop {
                    match bus
                        .subscribe(subscription.clone(), inbox.clone(), shutdown.clone())
                        .await
                    {
                        Ok(consuming) => {
                            let _ = consuming.await;
                            return;
                        }
                        Err(error) => {
                            tracing::warn!(%error, "keeping the other services' audit heads: trying again");
                            tokio::select! {
                                _ = shutdown.cancelled() => return,
                                _ = tokio::time::sleep(Duration::from_secs(5)) => {}
                            }
                        }
                    }
                }
            })
        };
        let announcer = tokio::spawn(crate::anchors::announce_daily(
            self.db.clone(),
            self.service,
            self.relay.clone(),
            self.shutdown.clone(),
        ));
        // Once a process: `suiji dev` runs every service in one, with one calendar file.
        static WARNED: std::sync::Once = std::sync::Once::new();
        WARNED.call_once(|| {
            for year in self.calendar.current().notices_wanted(crate::clock::today()) {
                tracing::warn!(
                    year,
                    "no State Council holiday notice for {year} is loaded: deadlines in {year} are provisional; add it to calendar.extra_file and `suiji calendar reload`"
                );
            }
        });
        if let Some(recount) = started.recount.clone() {
            // A notice loaded while the service was down: its provisional deadlines are counted again now.
            tokio::spawn(async move {
                match recount().await {
                    Ok(0) => {}
                    Ok(n) => tracing::info!(recounted = n, "provisional deadlines counted again"),
                    Err(error) => {
                        tracing::error!(%error, "counting the provisional deadlines again failed")
                    }
                }
            });
        }
        let routes = started
            .routes
            .add_service(crate::calendar_api::Api::server(
                self.calendar.clone(),
                started.recount.clone(),
            ))
            .add_service(crate::audit_api::Api::server(self.db.clone()));
        let routes = if self.settings.grpc.reflection {
            crate::grpc::with_reflection(routes)
        } else {
            routes
        };
        crate::grpc::set_serving(&started.health, started.grpc_name).await;
        // Readiness drops as soon as shutdown begins, so load balancers stop sending new calls.
        let health = started.health.clone();
        let draining = self.shutdown.clone();
        tokio::spawn(async move {
            draining.cancelled().await;
            health
                .set_service_status("", tonic_health::ServingStatus::NotServing)
                .await;
        });
        let mut server = tokio::spawn(crate::grpc::serve(
            listener,
            routes,
            self.tokens.clone(),
            self.settings.grpc.limits.clone(),
            self.shutdown.clone(),
        ));
        // In-flight calls get a grace period after shutdown; clients that keep idle connections open do not
        // hold the process up beyond it.
        let shutdown = self.shutdown.clone();
        let result = tokio::select! {
            result = &mut server => match result {
                Ok(result) => result,
                Err(error) => {
                    tracing::error!(%error, "gRPC server task failed");
                    Ok(())
                }
            },
            _ = async { shutdown.cancelled().await; tokio::time::sleep(SHUTDOWN_GRACE).await } => {
                tracing::warn!(grace = ?SHUTDOWN_GRACE, "connections still open after the grace period; closing them");
                server.abort();
                Ok(())
            }
        };
        self.shutdown.cancel();
        let _ = relay.await;
        for task in started.tasks.into_iter().chain([keeper, announcer]) {
            let _ = task.await;
        }
        self.db.close().await;
        Ok(result?)
    }
}

/// A started service, ready to serve.
pub struct Started {
    /// Its gRPC routes, health and reflection included.
    pub routes: Routes,
    /// Its health reporter.
    pub health: tonic_health::server::HealthReporter,
    /// The full name of its gRPC service, e.g. `suiji.catalog.v1.CatalogService`.
    pub grpc_name: &'static str,
    /// Consumers and other background tasks, which end at shutdown.
    pub tasks: Vec<JoinHandle<()>>,
    /// How the service counts its provisional deadlines again: at start, and after each reload of the calendar
    /// (`suiji.admin.v1.CalendarService`); `None` for a service that counts none.
    pub recount: Option<Recount>,
}

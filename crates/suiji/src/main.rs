//! `suiji`: serve any service, run the whole platform locally, migrate, verify audit trails, mint development
//! tokens, and talk to the services as a person.

mod calendar_cmd;
mod catalog_cmd;
mod demo;
mod dev_cmd;
mod draw_cmd;
mod import_cmd;
mod plan_cmd;
mod result_cmd;
mod services;

use dev_cmd::{dev, dev_signing_key};
use suiji::story;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context as _, bail};
use clap::{Parser, Subcommand};
use sha2::Digest as _;
use suiji_platform::auth::{self, Identity, Signer, Tokens};
use suiji_platform::bus;
use suiji_platform::config::{BusKind, Secret, Settings};
use tokio_util::sync::CancellationToken;

/// mimalloc: import batches are allocated on the parsing thread and freed on the writers', where glibc's
/// allocator spends its time on locks and consolidation.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "suiji",
    version,
    about = "双随机、一公开: joint random inspections for government departments"
)]
struct Cli {
    /// Configuration file (TOML), applied over the built-in defaults; SUIJI_… variables apply over it.
    #[arg(long, global = true, env = "SUIJI_CONFIG_FILE")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve one service (one Kubernetes Deployment each).
    Serve {
        /// The service: one of `suiji services`, or `console` (the coordinators' web console, over HTTP).
        service: String,
        /// Port to listen on (default: grpc.port).
        #[arg(long)]
        port: Option<u16>,
        /// A local run or a test: development tokens (auth.dev_tokens) and a service's own signing key are allowed.
        /// Without it, `serve` refuses them.
        #[arg(long)]
        development: bool,
    },
    /// Run every service in one process on the embedded default (SQLite under --data, in-process bus).
    Dev {
        /// Load demo data (idempotent).
        #[arg(long)]
        demo: bool,
        /// With --demo, also take two of the demo plan's tasks through the departments' work (one to published
        /// results, one waiting on the lead's review), so every page of the console has something to show.
        #[arg(long, requires = "demo")]
        story: bool,
        /// Directory of the SQLite files.
        #[arg(long, default_value = "./data")]
        data: String,
        /// Port of the first service; the others follow.
        #[arg(long, default_value_t = 50051)]
        base_port: u16,
    },
    /// Apply the migrations of the given services (all when none is given), then exit.
    Migrate {
        /// Services to migrate.
        services: Vec<String>,
    },
    /// List the services this binary can run.
    Services,
    /// Issue a development token (only when auth.dev_tokens is on).
    Token {
        /// Department the token acts for.
        #[arg(long)]
        department: String,
        /// Roles; repeat or separate with commas.
        #[arg(
            long,
            value_delimiter = ',',
            default_value = "catalog.editor,catalog.publisher"
        )]
        role: Vec<String>,
        /// Subject (person or system id); default: one development person per department and roles
        /// (`dev:610400-ZFB:planning.joint-meeting`), so the four-eyes rules see different people.
        #[arg(long)]
        subject: Option<String>,
        /// The inspector id the holder is in the directories (a team member, with the role inspection.member).
        #[arg(long)]
        inspector: Option<String>,
        /// Hours the token stays valid.
        #[arg(long, default_value_t = 12)]
        hours: u64,
    },
    /// Make keys and secrets for a deployment.
    Keys {
        #[command(subcommand)]
        what: KeysCommand,
    },
    /// What to run once so each service and the console reach only their own: the PostgreSQL statements that
    /// make each a role owning its schema, and the rabbitmqctl commands that make each service a user allowed its
    /// own queues and routing keys (docs/security.md). Prints them; runs nothing.
    Grants {
        /// The PostgreSQL database holding the schemas.
        #[arg(long, default_value = "suiji")]
        database: String,
        /// The bus namespace (bus.namespace).
        #[arg(long, default_value = "suiji")]
        namespace: String,
        /// The RabbitMQ virtual host.
        #[arg(long, default_value = "/")]
        vhost: String,
        /// The roles' and users' names: this, then the service's name.
        #[arg(long, default_value = "suiji_")]
        prefix: String,
    },
    /// Check a service's health (grpc.health.v1); exits non-zero unless SERVING.
    Health {
        /// Address, e.g. http://127.0.0.1:50051.
        #[arg(long, default_value = "http://127.0.0.1:50051")]
        addr: String,
    },
    /// Audit trails.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// Generate synthetic directories in the import format, for demos and benchmarks.
    Gen {
        #[command(subcommand)]
        what: GenCommand,
    },
    /// Bulk imports into the directories.
    Import(import_cmd::ImportArgs),
    /// Exports from the directories.
    Export(import_cmd::ExportArgs),
    /// The catalog of inspection items.
    Catalog(Box<catalog_cmd::CatalogArgs>),
    /// Annual plans: drafts, approval, amendments, caps, coverage.
    Plan(Box<plan_cmd::PlanArgs>),
    /// Tasks created from published plans, and their launch.
    Task(Box<plan_cmd::TaskArgs>),
    /// The verifiable draw: targets, lock, teams, replacements, export and offline verification.
    Draw(Box<draw_cmd::DrawArgs>),
    /// Results and their publication (一公开): entry, review, publication, withholding, corrections, the public
    /// search, reports and the daily export.
    Result(Box<result_cmd::ResultArgs>),
    /// The working-day calendar: years covered, deadlines, working days.
    Calendar(calendar_cmd::CalendarArgs),
}

#[derive(Subcommand)]
enum KeysCommand {
    /// A new ES256 (P-256) private key as PKCS#8 PEM: the console's `auth.signing_key` when it signs people in.
    SigningKey,
    /// A new client secret and the SHA-256 that `console.clients` keeps of it.
    ClientSecret,
}

#[derive(Subcommand)]
enum GenCommand {
    /// Inspection targets, in the counties of the province.
    Targets(GenArgs),
    /// Inspectors, in the cities of the province.
    Inspectors(GenArgs),
}

/// A generator of `suiji gen`.
type GenerateFn =
    fn(&suiji_directories::generate::Spec, Box<dyn std::io::Write>) -> std::io::Result<()>;

/// What `suiji gen` makes: CSV in the import format, on standard output or in --out FILE.
#[derive(clap::Args)]
struct GenArgs {
    /// Rows.
    #[arg(long, default_value_t = 1000)]
    count: u64,
    /// Seed; the same seed gives the same file.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Province (GB/T 2260).
    #[arg(long, default_value = "610000")]
    province: String,
    /// Departments (the targets' supervisors, the inspectors' employers); repeat or separate with commas.
    #[arg(
        long = "department",
        value_delimiter = ',',
        default_value = "610400-SCJG,610400-STHJ,610400-YJGL"
    )]
    departments: Vec<String>,
    /// Output file (default: standard output).
    #[arg(long)]
    out: Option<PathBuf>,
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Walk a service's hash chain and report the first broken link.
    Verify {
        /// The service.
        service: String,
    },
}

fn grants_script(database: &str, namespace: &str, vhost: &str, prefix: &str) -> String {
    use suiji_platform::grants;
    let quote = |s: &str| format!("'{}'", s.replace('\'', "'\\''"));
    let mut out = format!(
        "-- PostgreSQL: run as a superuser connected to database {database} (psql -v ON_ERROR_STOP=1 -d {database}).\n\
         -- Then give each role its password (\\password <role>) and each component its own database-url.\n"
    );
    let components = services::ALL
        .iter()
        .map(|s| s.name)
        .chain([suiji_console::NAME]);
    for name in components {
        out.push_str(&format!("\n-- {name}\n"));
        for statement in grants::postgres(database, name, &format!("{prefix}{name}")) {
            out.push_str(&format!("{statement};\n"));
        }
    }
    out.push_str(&format!(
        "\n# RabbitMQ: run where rabbitmqctl reaches the broker; replace each <password>, and give each service its own\n\
         # amqp-url. The services may declare the shared exchanges ({namespace}.events, .unrouted, .dlx) but publish only\n\
         # their own routing keys.\n"
    ));
    for spec in services::ALL {
        let user = format!("{prefix}{}", spec.name);
        let g = grants::rabbitmq(namespace, spec.name, spec.publishes);
        out.push_str(&format!(
            "\n# {name}\nrabbitmqctl add_user {u} '<password>'\n\
             rabbitmqctl set_permissions -p {v} {u} {c} {w} {r}\n\
             rabbitmqctl set_topic_permissions -p {v} {u} {e} {p} '.*'\n",
            name = spec.name,
            u = quote(&user),
            v = quote(vhost),
            c = quote(&g.configure),
            w = quote(&g.write),
            r = quote(&g.read),
            e = quote(&g.exchange),
            p = quote(&g.publish),
        ));
    }
    out
}

/// What a production process must not start with, each refusal naming its setting: development tokens (anyone
/// with the development key could act as anyone), no audience (a token minted for another system would pass), and a
/// signing key in a service (only the console, signing people in, holds one).
fn production_auth(
    auth: &suiji_platform::config::AuthSettings,
    service: &str,
) -> anyhow::Result<()> {
    if auth.dev_tokens {
        bail!(
            "auth.dev_tokens is on: development tokens are for local runs; set SUIJI_AUTH__DEV_TOKENS=false and \
             give auth.jwks and auth.token_url (or pass --development for a local run)"
        );
    }
    if auth.audience.trim().is_empty() {
        bail!(
            "auth.audience is empty: name the audience every token must carry (SUIJI_AUTH__AUDIENCE)"
        );
    }
    if service != suiji_console::NAME && !auth.signing_key.expose().is_empty() {
        bail!(
            "auth.signing_key is set for {service}: only the console signs tokens; a service gets its own from \
             auth.token_url"
        );
    }
    Ok(())
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let result = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(anyhow::Error::from)
        .and_then(|runtime| runtime.block_on(run(cli)));
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            // The cause chain without a backtrace: these messages are for people.
            eprintln!("error: {error:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Serve {
            service,
            port,
            development,
        } => {
            let settings = load(cli.config.as_deref(), &[])?;
            if !development {
                production_auth(&settings.auth, &service)?;
            }
            let _guard = telemetry(&settings, &format!("suiji-{service}"))?;
            if service == suiji_console::NAME {
                return serve_console(&settings, port.unwrap_or(settings.grpc.port)).await;
            }
            let spec = services::find(&service)?;
            let port = port.unwrap_or(settings.grpc.port);
            let shutdown = shutdown_signal();
            let settings = Arc::new(settings);
            let bus = bus::connect(&settings.bus).await?;
            let ctx = suiji_platform::runtime::Context::open(
                settings.clone(),
                spec.name,
                &(spec.migrations)(),
                bus,
                shutdown,
            )
            .await
            .with_context(|| format!("starting {}", spec.name))?;
            let started = (spec.start)(ctx.clone()).await?;
            let listener =
                tokio::net::TcpListener::bind((settings.grpc.host.as_str(), port)).await?;
            println!("{:<12} grpc://{}", spec.name, listener.local_addr()?);
            ctx.serve(started, listener).await?;
            Ok(())
        }
        Command::Dev {
            demo,
            story,
            data,
            base_port,
        } => {
            let settings = load(
                cli.config.as_deref(),
                &[
                    ("database.url", format!("sqlite:{data}")),
                    ("bus.kind", "embedded".into()),
                ],
            )?;
            let _guard = telemetry(&settings, "suiji-dev")?;
            dev(Arc::new(settings), demo, story, base_port).await
        }
        Command::Migrate { services: names } => {
            let settings = Arc::new(load(cli.config.as_deref(), &[])?);
            let specs = if names.is_empty() {
                services::ALL.to_vec()
            } else {
                names
                    .iter()
                    .map(|n| services::find(n))
                    .collect::<Result<_, _>>()?
            };
            for spec in specs {
                let db = suiji_platform::db::Db::connect(&settings.database, spec.name).await?;
                db.migrate(&(spec.migrations)())
                    .await
                    .with_context(|| format!("migrating {}", spec.name))?;
                println!("{:<12} migrated", spec.name);
                db.close().await;
            }
            Ok(())
        }
        Command::Calendar(args) => {
            calendar_cmd::run(&load(cli.config.as_deref(), &[])?, args).await
        }
        Command::Services => {
            for spec in services::ALL {
                println!("{:<12} {}", spec.name, spec.grpc_name);
            }
            println!(
                "{:<12} the coordinators' web console (HTTP, {}), over the inspection and draw services",
                suiji_console::NAME,
                suiji_console::PATH
            );
            Ok(())
        }
        Command::Token {
            department,
            role,
            subject,
            inspector,
            hours,
        } => {
            let settings = load(cli.config.as_deref(), &[])?;
            if !settings.auth.dev_tokens {
                bail!("auth.dev_tokens is off: tokens come from your identity provider");
            }
            let identity = Identity {
                subject: subject.unwrap_or_else(|| format!("dev:{department}:{}", role.join("+"))),
                department,
                roles: role,
                inspector,
            };
            let mut auth = settings.auth.clone();
            auth.signing_key = Secret::new(dev_signing_key(&settings)?);
            let tokens = Tokens::new(&auth)?;
            println!(
                "{}",
                tokens.issue(&identity, Duration::from_secs(hours * 3600))?
            );
            Ok(())
        }
        Command::Keys { what } => {
            match what {
                KeysCommand::SigningKey => print!("{}", Signer::generate_pem()),
                KeysCommand::ClientSecret => {
                    let secret = suiji_console::sessions::random_hex()?;
                    println!("client_secret = {secret}");
                    println!(
                        "secret_sha256 = {}",
                        hex::encode(sha2::Sha256::digest(secret.as_bytes()))
                    );
                }
            }
            Ok(())
        }
        Command::Grants {
            database,
            namespace,
            vhost,
            prefix,
        } => {
            print!("{}", grants_script(&database, &namespace, &vhost, &prefix));
            Ok(())
        }
        Command::Health { addr } => {
            let channel = suiji_platform::grpc::channel(&addr)?;
            let mut client = tonic_health::pb::health_client::HealthClient::new(channel);
            let status = client
                .check(tonic_health::pb::HealthCheckRequest {
                    service: String::new(),
                })
                .await
                .with_context(|| format!("health check of {addr}"))?
                .into_inner()
                .status();
            let word = match status {
                tonic_health::pb::health_check_response::ServingStatus::Serving => "serving",
                tonic_health::pb::health_check_response::ServingStatus::NotServing => "not serving",
                _ => "unknown",
            };
            println!("{addr} {word}");
            if status != tonic_health::pb::health_check_response::ServingStatus::Serving {
                bail!("not serving");
            }
            // The calendar's detail: the notices operators should load now (a service that serves no calendar,
            // such as the console, has nothing to say here).
            let mut calendar =
                suiji_api::admin::v1::calendar_service_client::CalendarServiceClient::new(
                    suiji_platform::grpc::channel(&addr)?,
                );
            if let Ok(c) = calendar
                .get_calendar(suiji_api::admin::v1::GetCalendarRequest {})
                .await
            {
                for year in c.into_inner().notices_wanted {
                    println!(
                        "{addr} calendar: no State Council notice for {year} loaded; its deadlines are provisional"
                    );
                }
            }
            Ok(())
        }
        Command::Audit {
            command: AuditCommand::Verify { service },
        } => {
            let settings = load(cli.config.as_deref(), &[])?;
            let spec = services::find(&service)?;
            let db = suiji_platform::db::Db::connect(&settings.database, spec.name).await?;
            // The heads the other services keep of this one's chain (a database not there keeps none).
            let mut anchors = Vec::new();
            for other in services::ALL.iter().filter(|s| s.name != spec.name) {
                let Ok(kept) =
                    suiji_platform::db::Db::connect(&settings.database, other.name).await
                else {
                    continue;
                };
                if let Ok(heads) = suiji_platform::anchors::anchors_of(&kept, spec.name).await {
                    anchors.extend(heads);
                }
            }
            anchors.sort_by_key(|a| a.seq);
            anchors.dedup();
            match suiji_platform::anchors::verify_against(&db, &anchors).await? {
                suiji_platform::audit::Verification::Intact { entries, head } => {
                    println!(
                        "{service}: intact, {entries} entries, head {head}, {} heads kept by the other services match",
                        anchors.len()
                    );
                    if spec.name == suiji_directories::NAME {
                        verify_directory_rows(&db).await?;
                    }
                    Ok(())
                }
                suiji_platform::audit::Verification::Broken { seq, reason } => {
                    println!("{service}: BROKEN at entry {seq}: {}", reason.text());
                    std::process::exit(1);
                }
            }
        }
        Command::Gen { what } => {
            let (args, write): (GenArgs, GenerateFn) = match what {
                GenCommand::Targets(args) => (args, |spec, out| {
                    suiji_directories::generate::targets(spec, out)
                }),
                GenCommand::Inspectors(args) => (args, |spec, out| {
                    suiji_directories::generate::inspectors(spec, out)
                }),
            };
            let spec = suiji_directories::generate::Spec {
                count: args.count,
                seed: args.seed,
                province: args.province,
                departments: args.departments,
            };
            let out: Box<dyn std::io::Write> = match args.out {
                Some(path) => Box::new(std::fs::File::create(&path)?),
                None => Box::new(std::io::stdout().lock()),
            };
            write(&spec, out)?;
            Ok(())
        }
        Command::Import(args) => import_cmd::run(args).await,
        Command::Export(args) => import_cmd::export(args).await,
        Command::Catalog(args) => catalog_cmd::run(*args).await,
        Command::Plan(args) => plan_cmd::run_plan(*args).await,
        Command::Task(args) => plan_cmd::run_task(*args).await,
        Command::Draw(args) => draw_cmd::run(*args).await,
        Command::Result(args) => result_cmd::run(*args).await,
    }
}

/// The directories' rows against their digests and the imports' audit entries ([`suiji_directories::changes`]).
async fn verify_directory_rows(db: &suiji_platform::db::Db) -> anyhow::Result<()> {
    use suiji_directories::changes::Finding;
    match suiji_directories::changes::verify(db).await? {
        Finding::Intact { rows, writers } => {
            println!(
                "directories: {rows} rows read; {writers} imports and credit changes match their audit entries"
            );
            Ok(())
        }
        Finding::WriterAltered { writer, list } => {
            let what = if list == "before" {
                "replaced"
            } else {
                "wrote"
            };
            println!(
                "directories: BROKEN: the rows {writer} {what} no longer match its audit entry"
            );
            std::process::exit(1);
        }
    }
}

fn load(file: Option<&std::path::Path>, overrides: &[(&str, String)]) -> anyhow::Result<Settings> {
    Ok(Settings::load_with(file, None, overrides)?)
}

fn telemetry(
    settings: &Settings,
    name: &str,
) -> anyhow::Result<suiji_platform::telemetry::TelemetryGuard> {
    suiji_platform::telemetry::init(settings, name).map_err(|e| anyhow::anyhow!("telemetry: {e}"))
}

/// Fires on Ctrl-C or SIGTERM.
fn shutdown_signal() -> CancellationToken {
    let token = CancellationToken::new();
    let fire = token.clone();
    tokio::spawn(async move {
        let ctrl_c = tokio::signal::ctrl_c();
        #[cfg(unix)]
        {
            let mut term =
                tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
                    .expect("SIGTERM handler");
            tokio::select! { _ = ctrl_c => {}, _ = term.recv() => {} }
        }
        #[cfg(not(unix))]
        let _ = ctrl_c.await;
        tracing::info!("shutting down");
        fire.cancel();
    });
    token
}

/// The console of `settings`: its database opened and migrated, the services' channels.
async fn console_of(settings: &Settings) -> anyhow::Result<suiji_console::Console> {
    let channel = |address: &str, name: &str| {
        suiji_platform::grpc::channel(address).with_context(|| {
            format!("the console's services.{name} ({address:?}) is not an address")
        })
    };
    let s = &settings.services;
    let services = suiji_console::Services {
        catalog: channel(&s.catalog, "catalog")?,
        directories: channel(&s.directories, "directories")?,
        planning: channel(&s.planning, "planning")?,
        draw: channel(&s.draw, "draw")?,
        inspection: channel(&s.inspection, "inspection")?,
        publication: channel(&s.publication, "publication")?,
    };
    let db = suiji_platform::db::Db::connect(&settings.database, suiji_console::NAME)
        .await
        .context("opening the console's database")?;
    db.migrate(&suiji_console::migrations())
        .await
        .context("migrating the console's database")?;
    Ok(suiji_console::Console::new(
        Tokens::new(&settings.auth)?,
        db,
        services,
        settings.console.clone(),
    )
    .with_target_sources(settings.directories.target_sources.clone()))
}

/// Serves `console` until `shutdown`.
async fn console(
    console: suiji_console::Console,
    limits: &suiji_platform::config::LimitSettings,
    listener: tokio::net::TcpListener,
    shutdown: CancellationToken,
) {
    // What comes without a session or a token (sign-in, the token endpoint, the pages before sign-in) is limited
    // per client address, as the services limit their public calls.
    let router = console
        .router()
        .layer(suiji_platform::limits::PublicRateLimit::new(
            limits,
            suiji_console::client_address,
            suiji_console::credentialed,
        ));
    let served = axum::serve(
        listener,
        router.into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(async move { shutdown.cancelled().await })
    .await;
    if let Err(error) = served {
        tracing::error!(%error, "the console stopped");
    }
}

/// `suiji serve console`: the console alone, calling the services at `services.inspection` and `services.draw`.
async fn serve_console(settings: &Settings, port: u16) -> anyhow::Result<()> {
    let console_ = console_of(settings).await?;
    let listener = tokio::net::TcpListener::bind((settings.grpc.host.as_str(), port)).await?;
    println!(
        "{:<12} http://{}{}",
        suiji_console::NAME,
        listener.local_addr()?,
        suiji_console::PATH
    );
    console(console_, &settings.grpc.limits, listener, shutdown_signal()).await;
    Ok(())
}

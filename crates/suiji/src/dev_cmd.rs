//! `suiji dev`: the whole platform in one process on the embedded default, with its console, a local token issuer
//! and, with `--demo`, the demo data and the demo accounts.

use super::*;

/// `suiji grants`: for each service and the console, its PostgreSQL statements (psql), then for each service its
/// RabbitMQ user (rabbitmqctl, a shell script).
/// The roles of the demo's lead coordinator and of `suiji dev`'s token: everything a lead department does.
pub(super) const LEAD_ROLES: &[&str] = &[
    auth::ROLE_CATALOG_EDITOR,
    auth::ROLE_CATALOG_PUBLISHER,
    auth::ROLE_DIRECTORIES_EDITOR,
    auth::ROLE_PLANNING_EDITOR,
    auth::ROLE_DRAW_OPERATOR,
    auth::ROLE_INSPECTION_COORDINATOR,
    auth::ROLE_RESULT_ENTRY,
    auth::ROLE_RESULT_REVIEWER,
    auth::ROLE_DEPARTMENT_HEAD,
    auth::ROLE_ADMIN,
];

/// The signing key of development: `auth.signing_key` when set, else the one `suiji dev` keeps beside its
/// SQLite files (made on first use), so `suiji token` signs what the running `suiji dev` accepts.
pub(super) fn dev_signing_key(settings: &Settings) -> anyhow::Result<String> {
    let set = settings.auth.signing_key.expose();
    if !set.trim().is_empty() {
        return Ok(set.to_string());
    }
    if !settings.auth.dev_tokens {
        bail!("auth.signing_key is empty and auth.dev_tokens is off");
    }
    let url = settings.database.url.expose();
    let Some(dir) = url.strip_prefix("sqlite:") else {
        bail!(
            "auth.signing_key is empty: set SUIJI_AUTH__SIGNING_KEY (`suiji keys signing-key` makes one)"
        );
    };
    let path = std::path::Path::new(dir).join("dev-signing-key.pem");
    if let Ok(pem) = std::fs::read_to_string(&path) {
        return Ok(pem);
    }
    std::fs::create_dir_all(dir).with_context(|| format!("creating {dir}"))?;
    let pem = Signer::generate_pem();
    #[cfg(unix)]
    {
        use std::io::Write;
        use std::os::unix::fs::OpenOptionsExt;
        std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&path)
            .and_then(|mut f| f.write_all(pem.as_bytes()))
            .with_context(|| format!("writing {}", path.display()))?;
    }
    #[cfg(not(unix))]
    std::fs::write(&path, &pem).with_context(|| format!("writing {}", path.display()))?;
    Ok(pem)
}

/// `suiji dev` without an identity provider: the console signs people in and is the token issuer; the services
/// verify with its public key and get their own tokens from its token endpoint by client credentials, as in a
/// deployment without single sign-on.
pub(super) fn local_issuer(s: &mut Settings, base_port: u16) -> anyhow::Result<()> {
    s.auth.signing_key = Secret::new(dev_signing_key(s)?);
    s.auth.jwks = String::new();
    let console_port = base_port + services::ALL.len() as u16;
    let secret = suiji_console::sessions::random_hex()?;
    s.auth.token_url = format!(
        "http://{}:{console_port}{}/oauth/token",
        s.grpc.host,
        suiji_console::PATH
    );
    s.auth.client_id = "suiji-services".into();
    s.console
        .clients
        .push(suiji_platform::config::ClientSettings {
            id: s.auth.client_id.clone(),
            secret_sha256: hex::encode(sha2::Sha256::digest(secret.as_bytes())),
            department: "system".into(),
            roles: vec!["admin".into()],
        });
    s.auth.client_secret = Secret::new(secret);
    Ok(())
}

pub(super) async fn dev(
    settings: Arc<Settings>,
    demo: bool,
    story: bool,
    base_port: u16,
) -> anyhow::Result<()> {
    // Services calling each other find one another on the ports this process gives them.
    let settings = {
        let mut s = (*settings).clone();
        if s.console.oidc.issuer_url.is_empty() {
            local_issuer(&mut s, base_port)?;
        }

        let index = |name: &str| services::ALL.iter().position(|spec| spec.name == name);
        let at = |i: usize| format!("http://{}:{}", s.grpc.host, base_port + i as u16);
        for (name, address) in [
            ("catalog", &mut s.services.catalog),
            ("directories", &mut s.services.directories),
            ("planning", &mut s.services.planning),
            ("draw", &mut s.services.draw),
            ("publication", &mut s.services.publication),
        ] {
            if let Some(i) = index(name) {
                *address = at(i);
            }
        }
        if let Some(i) = index("inspection") {
            s.inspection.public_url = format!("http://{}:{}", s.grpc.host, base_port + i as u16);
            s.services.inspection = s.inspection.public_url.clone();
        }
        Arc::new(s)
    };
    let shutdown = shutdown_signal();
    let embedded = bus::embedded::EmbeddedBus::held(settings.bus.delivery_limit);
    let shared: Arc<dyn bus::Bus> = Arc::new(embedded.clone());
    debug_assert_eq!(settings.bus.kind, BusKind::Embedded);
    let mut running = Vec::new();
    for (index, spec) in services::ALL.iter().enumerate() {
        let ctx = suiji_platform::runtime::Context::open(
            settings.clone(),
            spec.name,
            &(spec.migrations)(),
            shared.clone(),
            shutdown.clone(),
        )
        .await
        .with_context(|| format!("starting {}", spec.name))?;
        let started = (spec.start)(ctx.clone()).await?;
        let port = base_port + index as u16;
        let listener = tokio::net::TcpListener::bind((settings.grpc.host.as_str(), port))
            .await
            .with_context(|| format!("binding {}:{port} for {}", settings.grpc.host, spec.name))?;
        running.push((spec, ctx, started, listener));
    }
    // Every service has subscribed: relays may deliver now.
    embedded.release();
    println!(
        "suiji dev: the whole platform on the embedded default (data in {})",
        settings.database.url.expose().trim_start_matches("sqlite:")
    );
    let mut addresses = Vec::new();
    let mut tasks = Vec::new();
    for (spec, ctx, started, listener) in running {
        let addr = format!("http://{}", listener.local_addr()?);
        println!("{:<12} grpc://{}", spec.name, listener.local_addr()?);
        if spec.name == suiji_inspection::NAME {
            println!(
                "{:<12} {addr}/verify  (扫码入企: a target checks a team's code)",
                ""
            );
        }
        if spec.name == suiji_publication::NAME {
            println!(
                "{:<12} {addr}/public  (public results page, JSON feed at /public/results?q=)",
                ""
            );
        }
        addresses.push((spec.name, addr));
        tasks.push(tokio::spawn(async move {
            if let Err(error) = ctx.serve(started, listener).await {
                tracing::error!(%error, "service stopped");
            }
        }));
    }
    // The console on the port after the services'.
    let console_port = base_port + services::ALL.len() as u16;
    let listener = tokio::net::TcpListener::bind((settings.grpc.host.as_str(), console_port))
        .await
        .with_context(|| {
            format!(
                "binding {}:{console_port} for the console",
                settings.grpc.host
            )
        })?;
    println!(
        "{:<12} http://{}{}  (联合抽查工作台: the console; sign in with an account below)",
        suiji_console::NAME,
        listener.local_addr()?,
        suiji_console::PATH
    );
    let console_ = console_of(&settings).await?;
    if !settings.console.oidc.issuer_url.is_empty() {
        // The identity provider issues every token: no accounts, no demo data (loading it needs tokens of
        // several departments), no token to print.
        tasks.push(tokio::spawn({
            let (limits, shutdown) = (settings.grpc.limits.clone(), shutdown.clone());
            async move { console(console_, &limits, listener, shutdown).await }
        }));
        println!(
            "sign in with the identity provider at {} (Ctrl-C stops everything)",
            settings.console.oidc.issuer_url
        );
        for task in tasks {
            let _ = task.await;
        }
        return Ok(());
    }
    let accounts = demo_accounts(console_.accounts()).await?;
    tasks.push(tokio::spawn({
        let (limits, shutdown) = (settings.grpc.limits.clone(), shutdown.clone());
        async move { console(console_, &limits, listener, shutdown).await }
    }));
    let tokens = Tokens::new(&settings.auth)?;
    let admin = Identity {
        subject: "dev-admin".into(),
        department: "610400-SCJG".into(),
        roles: LEAD_ROLES.iter().map(|r| r.to_string()).collect(),
        inspector: None,
    };
    let token = tokens.issue(&admin, Duration::from_secs(12 * 3600))?;
    if demo {
        let address = |name: &str| {
            addresses
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, a)| a.clone())
                .unwrap_or_else(|| panic!("{name} runs"))
        };
        let catalog = address("catalog");
        let loaded = demo::load(&catalog, &tokens).await?;
        println!("demo data: {loaded}");
        let directories = address("directories");
        let data_dir = settings
            .database
            .url
            .expose()
            .trim_start_matches("sqlite:")
            .to_string();
        println!(
            "demo data: {}",
            demo::load_directory(&directories, &tokens, &data_dir).await?
        );
        let planning = address("planning");
        println!("demo data: {}", demo::load_plan(&planning, &tokens).await?);
        if story {
            let at = story::Addresses {
                planning: &planning,
                inspection: &address("inspection"),
                publication: &address("publication"),
            };
            println!("demo story: {}", story::tell(&at, &tokens).await?);
        }
    }
    println!("console accounts (new passwords at every start):");
    for (account, password, what) in &accounts {
        println!(
            "  {:<10} password {password}  {} of {}: {what}",
            account.username, account.display_name, account.department
        );
    }
    println!(
        "token for 610400-SCJG (catalog editor and publisher, directories and planning editor, draw operator, inspection coordinator, result entry, reviewer and head, admin): export SUIJI_TOKEN={token}"
    );
    println!(
        "other departments: suiji token --department 610400-STHJ --role catalog.editor,catalog.publisher"
    );
    println!("joint meeting: suiji token --department 610400-ZFB --role planning.joint-meeting");
    println!(
        "try: suiji catalog list; suiji plan public; suiji task list    (Ctrl-C stops everything)"
    );
    for task in tasks {
        let _ = task.await;
    }
    Ok(())
}

/// The development platform's people: SCJG's lead coordinator, STHJ's clerk and SCJG's reviewer and head, each with
/// a new password.
pub(super) async fn demo_accounts(
    accounts: &suiji_console::Accounts,
) -> anyhow::Result<Vec<(suiji_console::Account, String, &'static str)>> {
    let roles = |names: &[&str]| names.iter().map(|r| r.to_string()).collect::<Vec<_>>();
    let people = [
        (
            suiji_console::Account {
                username: "zhang.san".into(),
                display_name: "张三".into(),
                department: "610400-SCJG".into(),
                roles: roles(LEAD_ROLES),
                inspector_id: None,
                disabled: false,
            },
            "the lead department's coordinator (and its reviewer, head and administrator)",
        ),
        (
            suiji_console::Account {
                username: "li.si".into(),
                display_name: "李四".into(),
                department: "610400-STHJ".into(),
                roles: roles(&[
                    auth::ROLE_CATALOG_EDITOR,
                    auth::ROLE_DIRECTORIES_EDITOR,
                    auth::ROLE_PLANNING_EDITOR,
                    auth::ROLE_INSPECTION_COORDINATOR,
                    auth::ROLE_RESULT_ENTRY,
                ]),
                inspector_id: None,
                disabled: false,
            },
            "a participating department's clerk",
        ),
        (
            suiji_console::Account {
                username: "wang.wu".into(),
                display_name: "王五".into(),
                department: "610400-SCJG".into(),
                roles: roles(&[auth::ROLE_RESULT_REVIEWER, auth::ROLE_DEPARTMENT_HEAD]),
                inspector_id: None,
                disabled: false,
            },
            "the lead department's reviewer and head (four eyes: he reviews what 张三 enters)",
        ),
    ];
    let mut out = Vec::new();
    for (account, what) in people {
        let password = suiji_console::accounts::new_password()?;
        accounts
            .save(&account, &password)
            .await
            .with_context(|| format!("the demo account {}", account.username))?;
        out.push((account, password, what));
    }
    Ok(out)
}

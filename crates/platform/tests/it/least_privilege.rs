//! Least privilege, tried by attacking: two services, each with the PostgreSQL role and RabbitMQ user that
//! `suiji grants` makes, migrate and work; neither reads or writes the other's schema, declares or reads the
//! other's queue, or publishes the other's routing keys.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use suiji_platform::bus::amqp::AmqpBus;
use suiji_platform::bus::{Bus, Handler, IncomingMessage, Outcome, OutgoingMessage, Subscription};
use suiji_platform::config::Secret;
use suiji_platform::db::{Db, Migrations};
use suiji_platform::grants;
use suiji_platform::testing::{self, Backend, eventually};
use tokio_util::sync::CancellationToken;

/// The platform's own tables only (outbox, inbox, audit): what every service migrates first.
fn platform_only() -> Migrations {
    let none: &'static sqlx::migrate::Migrator = Box::leak(Box::new(
        sqlx::migrate::Migrator::with_migrations(Vec::new()),
    ));
    Migrations {
        postgres: none,
        sqlite: none,
    }
}

fn rabbitmqctl(args: &[&str]) {
    let out = std::process::Command::new("rabbitmqctl")
        .arg("-q")
        .args(args)
        .output()
        .expect("rabbitmqctl is installed beside the broker");
    assert!(
        out.status.success(),
        "rabbitmqctl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

struct Count(Arc<AtomicUsize>);

#[async_trait::async_trait]
impl Handler for Count {
    async fn handle(&self, _: IncomingMessage) -> Outcome {
        self.0.fetch_add(1, Ordering::SeqCst);
        Outcome::Ack
    }
}

fn message(key: &str) -> OutgoingMessage {
    OutgoingMessage {
        id: uuid::Uuid::now_v7().to_string(),
        routing_key: key.into(),
        body: Vec::new(),
        headers: Default::default(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_service_reaches_only_its_own() {
    if !testing::require(Backend::Servers).await {
        return;
    }
    // Declared before the isolation, so dropped after it (its database gone first) should the test fail.
    let mut made = testing::Grantees::default();
    let isolated = testing::isolated(Backend::Servers).await;
    let url = isolated.settings.database.url.expose().to_string();
    let (server, database) = url.rsplit_once('/').unwrap();
    let namespace = isolated.settings.bus.namespace.clone();
    let services = ["test", "slow"];
    let role = |s: &str| format!("{database}_{s}");
    let user = |s: &str| format!("{namespace}-{s}");
    made.roles = services.iter().map(|s| role(s)).collect();
    made.users = services.iter().map(|s| user(s)).collect();

    // What an operator runs once, as the superuser and the broker's administrator.
    let admin = sqlx::postgres::PgPoolOptions::new()
        .max_connections(1)
        .connect(&url)
        .await
        .unwrap();
    for s in services {
        for statement in grants::postgres(database, s, &role(s)) {
            sqlx::raw_sql(sqlx::AssertSqlSafe(statement))
                .execute(&admin)
                .await
                .unwrap();
        }
        let g = grants::rabbitmq(&namespace, s, &[s]);
        rabbitmqctl(&["add_user", &user(s), "secret"]);
        rabbitmqctl(&[
            "set_permissions",
            "-p",
            "/",
            &user(s),
            &g.configure,
            &g.write,
            &g.read,
        ]);
        rabbitmqctl(&[
            "set_topic_permissions",
            "-p",
            "/",
            &user(s),
            &g.exchange,
            &g.publish,
            ".*",
        ]);
    }

    // Each service connects as itself, finds its schema made for it and migrates into it.
    let mut dbs = Vec::new();
    for s in services {
        let mut settings = isolated.settings.database.clone();
        let (scheme, rest) = server.split_once("://").unwrap();
        let host = rest.rsplit_once('@').map_or(rest, |(_, h)| h);
        settings.url = Secret::new(format!("{scheme}://{}@{host}/{database}", role(s)));
        let db = Db::connect(&settings, s).await.unwrap();
        db.migrate(&platform_only()).await.unwrap();
        dbs.push(db);
    }
    let (test, slow) = (&dbs[0], &dbs[1]);
    sqlx::query("INSERT INTO inbox (message_id, routing_key, handled_at) VALUES ('m1', 'k', 0)")
        .execute(test.pool())
        .await
        .expect("a service writes its own tables");

    // Another service's schema: not read, not written, not added to, not even by its search path.
    for attack in [
        "SELECT COUNT(*) FROM test.inbox",
        "SELECT COUNT(*) FROM test.audit_log",
        "INSERT INTO test.inbox (message_id, routing_key, handled_at) VALUES ('x', 'k', 0)",
        "DELETE FROM test.outbox",
        "CREATE TABLE test.planted (x INTEGER)",
        "CREATE SCHEMA planted",
    ] {
        let e = sqlx::raw_sql(sqlx::AssertSqlSafe(attack))
            .execute(slow.pool())
            .await
            .expect_err(attack);
        assert!(e.to_string().contains("permission denied"), "{attack}: {e}");
    }
    let mut conn = slow.pool().acquire().await.unwrap();
    sqlx::raw_sql("SET search_path TO test")
        .execute(&mut *conn)
        .await
        .unwrap();
    let e = sqlx::raw_sql("SELECT COUNT(*) FROM inbox")
        .execute(&mut *conn)
        .await
        .expect_err("through the search path");
    // Without the right to use the schema, its tables are not even seen there.
    assert!(e.to_string().contains("does not exist"), "{e}");
    drop(conn);

    // Each service's broker user: declares its queue, publishes its own keys, hears the other's.
    let bus_of = |s: &str| {
        let mut settings = isolated.settings.bus.clone();
        settings.url = Secret::new(format!("amqp://{}:secret@127.0.0.1:5672/%2f", user(s)));
        settings
    };
    let test_bus = Arc::new(AmqpBus::connect(bus_of("test")).await.unwrap());
    let slow_bus = Arc::new(AmqpBus::connect(bus_of("slow")).await.unwrap());
    let stop = CancellationToken::new();
    let heard = Arc::new(AtomicUsize::new(0));
    let subscription = |s: &str| Subscription {
        service: s.into(),
        bindings: vec!["#".into()],
    };
    slow_bus
        .subscribe(
            subscription("slow"),
            Arc::new(Count(heard.clone())),
            stop.clone(),
        )
        .await
        .expect("a service declares and reads its own queue");
    test_bus
        .publish(&message("test.thing.changed"))
        .await
        .expect("a service publishes its own key");
    assert!(
        eventually(Duration::from_secs(10), || async {
            heard.load(Ordering::SeqCst) == 1
        })
        .await,
        "the other service hears it"
    );
    for forged in [
        "slow.thing.changed",
        "platform.audit.anchored",
        "testx.thing",
    ] {
        test_bus
            .publish(&message(forged))
            .await
            .expect_err("another service's key is refused");
    }
    test_bus
        .subscribe(
            subscription("slow"),
            Arc::new(Count(Arc::new(AtomicUsize::new(0)))),
            CancellationToken::new(),
        )
        .await
        .expect_err("another service's queue is refused");
    // Refusals close only the channel they came on: the user's own work goes on.
    test_bus
        .publish(&message("test.thing.changed"))
        .await
        .expect("publishing again after a refusal");
    assert!(
        eventually(Duration::from_secs(10), || async {
            heard.load(Ordering::SeqCst) == 2
        })
        .await
    );

    stop.cancel();
    for db in &dbs {
        db.pool().close().await;
    }
    admin.close().await;
    isolated.cleanup().await;
    drop(made);
}

//! A test's isolation outlives its failure: an `Isolated` dropped without its cleanup (the test panicked first)
//! still drops its database and deletes its bus namespace.

use suiji_platform::bus::{Handler, IncomingMessage, Outcome, Subscription};
use suiji_platform::testing::{self, Backend};
use tokio_util::sync::CancellationToken;

struct Ack;

#[async_trait::async_trait]
impl Handler for Ack {
    async fn handle(&self, _: IncomingMessage) -> Outcome {
        Outcome::Ack
    }
}

async fn database_exists(name: &str) -> bool {
    let pool = sqlx::postgres::PgPoolOptions::new()
        .max_connections(1)
        .connect(&testing::postgres_url())
        .await
        .unwrap();
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM pg_database WHERE datname = $1")
        .bind(name)
        .fetch_one(&pool)
        .await
        .unwrap();
    pool.close().await;
    n == 1
}

async fn queue_exists(queue: &str) -> bool {
    let conn = lapin::Connection::connect(&testing::amqp_url(), Default::default())
        .await
        .unwrap();
    let channel = conn.create_channel().await.unwrap();
    let passive = lapin::options::QueueDeclareOptions {
        passive: true,
        ..Default::default()
    };
    let found = channel
        .queue_declare(queue.into(), passive, Default::default())
        .await
        .is_ok();
    let _ = conn.close(0, "checked".into()).await;
    found
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_test_leaves_no_database_or_queues() {
    if !testing::require(Backend::Servers).await {
        return;
    }
    let isolated = testing::isolated(Backend::Servers).await;
    let url = isolated.settings.database.url.expose().to_string();
    let database = url.rsplit('/').next().unwrap().to_string();
    let namespace = isolated.settings.bus.namespace.clone();
    let queue = suiji_platform::bus::amqp::Names::new(&namespace).queue("test");
    let stop = CancellationToken::new();
    isolated
        .bus()
        .await
        .subscribe(
            Subscription {
                service: "test".into(),
                bindings: vec!["test.#".into()],
            },
            std::sync::Arc::new(Ack),
            stop.clone(),
        )
        .await
        .unwrap();
    assert!(database_exists(&database).await, "{database}");
    assert!(queue_exists(&queue).await, "{queue}");

    // The test fails while it holds its isolation.
    let failed = tokio::spawn(async move {
        let _held = isolated;
        panic!("a failing test");
    })
    .await;
    assert!(failed.unwrap_err().is_panic());
    stop.cancel();

    assert!(!database_exists(&database).await, "{database} dropped");
    assert!(!queue_exists(&queue).await, "{queue} deleted");
}

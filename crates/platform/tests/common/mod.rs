//! A producer and a consumer database with the platform's tables, and a consumer that records its effects.

#![allow(dead_code)]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use async_trait::async_trait;
use sqlx::migrate::Migrator;
use suiji_api::events::v1::Envelope;
use suiji_platform::bus::{Bus, Handler, IncomingMessage, Outcome, Subscription};
use suiji_platform::db::{Db, Migrations, Tx};
use suiji_platform::inbox::{HandleError, Inbox, TxHandler};
use suiji_platform::outbox::{self, Event, Relay};
use suiji_platform::testing::Isolated;
use tokio_util::sync::CancellationToken;

static NONE: Migrator = Migrator::DEFAULT;

pub fn no_migrations() -> Migrations {
    Migrations {
        postgres: &NONE,
        sqlite: &NONE,
    }
}

pub async fn database(isolated: &Isolated, name: &str) -> Db {
    let db = Db::connect(&isolated.settings.database, name)
        .await
        .unwrap();
    db.migrate(&no_migrations()).await.unwrap();
    sqlx::query(
        "CREATE TABLE IF NOT EXISTS effects (message_id TEXT NOT NULL, routing_key TEXT NOT NULL)",
    )
    .execute(db.pool())
    .await
    .unwrap();
    sqlx::query("CREATE TABLE IF NOT EXISTS changes (id TEXT NOT NULL)")
        .execute(db.pool())
        .await
        .unwrap();
    db
}

/// Records each handled message as one row of `effects`.
pub struct RecordEffect;

#[async_trait]
impl TxHandler for RecordEffect {
    async fn handle(&self, tx: &mut Tx, envelope: &Envelope) -> Result<(), HandleError> {
        sqlx::query("INSERT INTO effects (message_id, routing_key) VALUES ($1, $2)")
            .bind(&envelope.id)
            .bind(&envelope.r#type)
            .execute(&mut **tx)
            .await?;
        Ok(())
    }
}

/// Counts deliveries before handing them on.
pub struct CountDeliveries<H> {
    pub inner: H,
    pub deliveries: Arc<AtomicUsize>,
}

#[async_trait]
impl<H: Handler> Handler for CountDeliveries<H> {
    async fn handle(&self, message: IncomingMessage) -> Outcome {
        self.deliveries.fetch_add(1, Ordering::SeqCst);
        self.inner.handle(message).await
    }
}

/// Subscribes the consumer database's inbox to `test.#`; returns the delivery counter.
pub async fn consume(
    bus: &Arc<dyn Bus>,
    consumer: &Db,
    stop: &CancellationToken,
) -> Arc<AtomicUsize> {
    let deliveries = Arc::new(AtomicUsize::new(0));
    let handler = CountDeliveries {
        inner: Inbox::new(consumer.clone(), RecordEffect),
        deliveries: deliveries.clone(),
    };
    bus.subscribe(
        Subscription {
            service: "test".into(),
            bindings: vec!["test.#".into()],
        },
        Arc::new(handler),
        stop.clone(),
    )
    .await
    .unwrap();
    deliveries
}

/// Commits `n` changes, each with its event, one transaction each; returns the event ids.
pub async fn commit_changes(producer: &Db, n: usize) -> Vec<String> {
    let mut ids = Vec::new();
    for i in 0..n {
        let mut tx = producer.begin().await.unwrap();
        sqlx::query("INSERT INTO changes (id) VALUES ($1)")
            .bind(i.to_string())
            .execute(&mut *tx)
            .await
            .unwrap();
        let payload = prost_types::Timestamp {
            seconds: i as i64,
            nanos: 0,
        };
        ids.push(
            outbox::enqueue(
                &mut tx,
                "test",
                Event::under("test.thing.changed", &i.to_string(), &payload),
            )
            .await
            .unwrap(),
        );
        tx.commit().await.unwrap();
    }
    ids
}

pub fn relay(isolated: &Isolated, producer: &Db, bus: &Arc<dyn Bus>) -> Relay {
    Relay::new(
        producer.clone(),
        bus.clone(),
        isolated.settings.bus.relay_batch,
        std::time::Duration::from_millis(100),
        std::time::Duration::from_secs(86_400),
    )
}

pub async fn scalar(db: &Db, sql: &'static str) -> i64 {
    sqlx::query_scalar(sql).fetch_one(db.pool()).await.unwrap()
}

/// Every event id appears in `effects` exactly once, and nothing else does.
pub async fn assert_exactly_once(consumer: &Db, ids: &[String]) {
    let rows: Vec<(String, i64)> =
        sqlx::query_as("SELECT message_id, COUNT(*) FROM effects GROUP BY message_id")
            .fetch_all(consumer.pool())
            .await
            .unwrap();
    let mut seen: Vec<&String> = rows.iter().map(|(id, _)| id).collect();
    seen.sort();
    let mut expected: Vec<&String> = ids.iter().collect();
    expected.sort();
    assert_eq!(
        seen, expected,
        "every committed event has an effect, and only those"
    );
    assert!(
        rows.iter().all(|(_, n)| *n == 1),
        "each effect happened once"
    );
}

//! An event committed with its change reaches a consumer exactly once in effect — also when the relay dies
//! between publishing and marking — on both backends; poison messages reach the dead-letter queue.

use std::sync::atomic::Ordering;
use std::time::Duration;

use suiji_platform::outbox::{self, Event, unsent_count};
use suiji_platform::testing::{self, Backend, eventually};
use tokio_util::sync::CancellationToken;

use crate::common::*;

async fn exactly_once(backend: Backend) {
    suiji_platform::telemetry::init_for_tests();
    if !testing::require(backend).await {
        return;
    }
    let isolated = testing::isolated(backend).await;
    let bus = isolated.bus().await;
    let producer = database(&isolated, "producer").await;
    let consumer = database(&isolated, "consumer").await;
    let stop = CancellationToken::new();
    let deliveries = consume(&bus, &consumer, &stop).await;

    let ids = commit_changes(&producer, 200).await;
    // An event whose transaction rolls back never leaves.
    let mut tx = producer.begin().await.unwrap();
    let ghost = outbox::enqueue(
        &mut tx,
        "test",
        Event::new(
            "test.thing.changed",
            "ghost",
            &prost_types::Timestamp::default(),
        ),
    )
    .await
    .unwrap();
    tx.rollback().await.unwrap();

    let relay = relay(&isolated, &producer, &bus);
    let running = tokio::spawn(relay.clone().run(stop.clone()));
    assert!(
        eventually(Duration::from_secs(30), || async {
            // The relay marks rows sent only after the bus has taken them, so both settle, in that order.
            scalar(&consumer, "SELECT COUNT(*) FROM effects").await >= 200
                && unsent_count(&producer).await.unwrap() == 0
        })
        .await
    );
    assert_exactly_once(&consumer, &ids).await;
    assert!(!ids.contains(&ghost));
    assert_eq!(
        deliveries.load(Ordering::SeqCst),
        200,
        "no duplicates when nothing fails"
    );
    stop.cancel();
    let _ = running.await;
    isolated.cleanup().await;
}

mod exactly_once_in_effect {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn embedded() {
        super::exactly_once(suiji_platform::testing::Backend::Embedded).await
    }
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres_rabbitmq() {
        super::exactly_once(suiji_platform::testing::Backend::Servers).await
    }
}

async fn relay_dies_between_publish_and_mark(backend: Backend) {
    suiji_platform::telemetry::init_for_tests();
    if !testing::require(backend).await {
        return;
    }
    let isolated = testing::isolated(backend).await;
    let bus = isolated.bus().await;
    let producer = database(&isolated, "producer").await;
    let consumer = database(&isolated, "consumer").await;
    let stop = CancellationToken::new();
    let deliveries = consume(&bus, &consumer, &stop).await;
    let ids = commit_changes(&producer, 50).await;

    // The first relay publishes everything and dies before marking a single row.
    let doomed = relay(&isolated, &producer, &bus);
    let pending = doomed.fetch_unsent().await.unwrap();
    assert_eq!(pending.len(), 50);
    let (sent, failed) = doomed.publish(&pending).await;
    assert_eq!((sent.len(), failed), (50, 0));
    drop(doomed);
    assert!(
        eventually(Duration::from_secs(20), || async {
            deliveries.load(Ordering::SeqCst) >= 50
        })
        .await
    );
    assert_eq!(
        unsent_count(&producer).await.unwrap(),
        50,
        "the rows were never marked"
    );

    // Its successor sweeps them up and publishes them again; the inbox absorbs the duplicates.
    let successor = relay(&isolated, &producer, &bus);
    let stats = successor.relay_once().await.unwrap();
    assert_eq!(stats.sent, 50);
    assert_eq!(unsent_count(&producer).await.unwrap(), 0);
    assert!(
        eventually(Duration::from_secs(20), || async {
            deliveries.load(Ordering::SeqCst) >= 100
        })
        .await
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        deliveries.load(Ordering::SeqCst),
        100,
        "every message was delivered twice"
    );
    assert_exactly_once(&consumer, &ids).await;
    stop.cancel();
    isolated.cleanup().await;
}

mod relay_killed_between_publish_and_mark {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn embedded() {
        super::relay_dies_between_publish_and_mark(suiji_platform::testing::Backend::Embedded).await
    }
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres_rabbitmq() {
        super::relay_dies_between_publish_and_mark(suiji_platform::testing::Backend::Servers).await
    }
}

/// A message that can never be handled goes to the service's dead-letter queue instead of looping.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn poison_messages_are_dead_lettered_on_rabbitmq() {
    use lapin::options::{BasicGetOptions, QueueDeclareOptions};
    use suiji_platform::bus::OutgoingMessage;
    suiji_platform::telemetry::init_for_tests();
    if !testing::require(Backend::Servers).await {
        return;
    }
    let isolated = testing::isolated(Backend::Servers).await;
    let bus = isolated.bus().await;
    let consumer = database(&isolated, "consumer").await;
    let stop = CancellationToken::new();
    let deliveries = consume(&bus, &consumer, &stop).await;
    let garbage = OutgoingMessage {
        id: "poison-1".into(),
        routing_key: "test.thing.changed".into(),
        body: b"\xff\xfe not protobuf".to_vec(),
        headers: Default::default(),
    };
    bus.publish(&garbage).await.unwrap();
    assert!(
        eventually(Duration::from_secs(10), || async {
            deliveries.load(Ordering::SeqCst) >= 1
        })
        .await
    );

    let conn =
        lapin::Connection::connect(&testing::amqp_url(), lapin::ConnectionProperties::default())
            .await
            .unwrap();
    let channel = conn.create_channel().await.unwrap();
    let dead = suiji_platform::bus::amqp::Names::new(&isolated.settings.bus.namespace).dead("test");
    let found = eventually(Duration::from_secs(10), || {
        let channel = channel.clone();
        let dead = dead.clone();
        async move {
            let q = channel
                .queue_declare(
                    dead.into(),
                    QueueDeclareOptions {
                        passive: true,
                        ..Default::default()
                    },
                    Default::default(),
                )
                .await
                .unwrap();
            q.message_count() == 1
        }
    })
    .await;
    assert!(found, "the poison message is in {dead}");
    let message = channel
        .basic_get(dead.clone().into(), BasicGetOptions { no_ack: true })
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        message
            .delivery
            .properties
            .message_id()
            .as_ref()
            .map(|s| s.to_string()),
        Some("poison-1".into())
    );
    assert_eq!(
        deliveries.load(Ordering::SeqCst),
        1,
        "rejected at once, not retried"
    );
    assert_eq!(scalar(&consumer, "SELECT COUNT(*) FROM effects").await, 0);
    let _ = conn.close(200, "bye".into()).await;
    stop.cancel();
    isolated.cleanup().await;
}

/// An event no service is bound for is kept in the unrouted queue, not dropped.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unroutable_events_are_kept_on_rabbitmq() {
    use lapin::options::QueueDeclareOptions;
    suiji_platform::telemetry::init_for_tests();
    if !testing::require(Backend::Servers).await {
        return;
    }
    let isolated = testing::isolated(Backend::Servers).await;
    let bus = isolated.bus().await;
    let producer = database(&isolated, "producer").await;
    commit_changes(&producer, 3).await;
    let stats = relay(&isolated, &producer, &bus)
        .relay_once()
        .await
        .unwrap();
    assert_eq!((stats.sent, stats.failed), (3, 0));
    let conn =
        lapin::Connection::connect(&testing::amqp_url(), lapin::ConnectionProperties::default())
            .await
            .unwrap();
    let channel = conn.create_channel().await.unwrap();
    let unrouted =
        suiji_platform::bus::amqp::Names::new(&isolated.settings.bus.namespace).unrouted();
    let kept = eventually(Duration::from_secs(10), || {
        let channel = channel.clone();
        let unrouted = unrouted.clone();
        async move {
            channel
                .queue_declare(
                    unrouted.into(),
                    QueueDeclareOptions {
                        passive: true,
                        ..Default::default()
                    },
                    Default::default(),
                )
                .await
                .unwrap()
                .message_count()
                == 3
        }
    })
    .await;
    assert!(kept);
    let _ = conn.close(200, "bye".into()).await;
    isolated.cleanup().await;
}

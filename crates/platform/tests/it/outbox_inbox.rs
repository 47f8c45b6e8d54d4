//! An event committed with its change reaches a consumer exactly once in effect — also when the relay dies
//! between publishing and marking — on both backends; poison messages reach the dead-letter queue.

use std::sync::atomic::Ordering;
use std::time::Duration;

use suiji_platform::outbox::{self, Event, unsent_count};
use suiji_platform::testing::{self, Backend, eventually};
use tokio_util::sync::CancellationToken;

use crate::common::*;

/// The isolated servers, the bus, a producer's and a consumer's databases, what stops the consumer and the count
/// of its deliveries: see [`pair`].
type Pair = (
    testing::Isolated,
    std::sync::Arc<dyn suiji_platform::bus::Bus>,
    suiji_platform::db::Db,
    suiji_platform::db::Db,
    CancellationToken,
    std::sync::Arc<std::sync::atomic::AtomicUsize>,
);

/// A producer and a consumer on `backend`, the consumer subscribed to the bus; `None` where the backend is not
/// there (outside CI).
async fn pair(backend: Backend) -> Option<Pair> {
    let (isolated, bus) = testing::open(backend).await?;
    let producer = database(&isolated, "producer").await;
    let consumer = database(&isolated, "consumer").await;
    let stop = CancellationToken::new();
    let deliveries = consume(&bus, &consumer, &stop).await;
    Some((isolated, bus, producer, consumer, stop, deliveries))
}

async fn exactly_once(backend: Backend) {
    let Some((isolated, bus, producer, consumer, stop, deliveries)) = pair(backend).await else {
        return;
    };

    let ids = commit_changes(&producer, 200).await;
    // An event whose transaction rolls back never leaves.
    let mut tx = producer.begin().await.unwrap();
    let ghost = outbox::enqueue(
        &mut tx,
        "test",
        Event::under(
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

/// A relay that only polls once an hour publishes every commit that wakes it, also those committed while one
/// of its rounds runs (a wake-up counted before a round began is answered by it; one counted during it is not).
async fn woken_relay_misses_no_commit(backend: Backend) {
    let Some((isolated, bus, producer, consumer, stop, deliveries)) = pair(backend).await else {
        return;
    };
    let relay = outbox::Relay::new(
        producer.clone(),
        bus.clone(),
        isolated.settings.bus.relay_batch,
        Duration::from_secs(3600),
        Duration::from_secs(86_400),
    );
    let running = tokio::spawn(relay.clone().run(stop.clone()));
    let writers: Vec<_> = (0..4)
        .map(|w| {
            let (producer, relay) = (producer.clone(), relay.clone());
            tokio::spawn(async move {
                let mut ids = Vec::new();
                for i in 0..40 {
                    let mut tx = producer.begin().await.unwrap();
                    ids.push(
                        outbox::enqueue(
                            &mut tx,
                            "test",
                            Event::under(
                                "test.thing.changed",
                                &format!("{w}-{i}"),
                                &prost_types::Timestamp::default(),
                            ),
                        )
                        .await
                        .unwrap(),
                    );
                    tx.commit().await.unwrap();
                    relay.notify();
                }
                ids
            })
        })
        .collect();
    let mut ids = Vec::new();
    for w in writers {
        ids.extend(w.await.unwrap());
    }
    assert!(
        eventually(Duration::from_secs(30), || async {
            scalar(&consumer, "SELECT COUNT(*) FROM effects").await >= 160
                && unsent_count(&producer).await.unwrap() == 0
        })
        .await,
        "every woken commit is published without waiting for the poll"
    );
    assert_exactly_once(&consumer, &ids).await;
    assert_eq!(deliveries.load(Ordering::SeqCst), 160);
    stop.cancel();
    let _ = running.await;
    isolated.cleanup().await;
}

suiji_platform::on_both_backends!(woken_relay_misses_no_commit);

async fn relay_dies_between_publish_and_mark(backend: Backend) {
    let Some((isolated, bus, producer, consumer, stop, deliveries)) = pair(backend).await else {
        return;
    };
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
    let Some((isolated, bus)) = testing::open(Backend::Servers).await else {
        return;
    };
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
    let Some((isolated, bus)) = testing::open(Backend::Servers).await else {
        return;
    };
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

/// Fails for good on `test.bad`, records the rest; the second call waits a little so the others queue up behind it.
struct Picky {
    calls: std::sync::Arc<std::sync::atomic::AtomicUsize>,
}

#[async_trait::async_trait]
impl suiji_platform::inbox::TxHandler for Picky {
    async fn handle(
        &self,
        tx: &mut suiji_platform::db::Tx,
        envelope: &suiji_api::events::v1::Envelope,
    ) -> Result<(), suiji_platform::inbox::HandleError> {
        // The others queue up behind the first of the burst.
        if self.calls.fetch_add(1, Ordering::SeqCst) == 1 {
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        sqlx::query("INSERT INTO effects (message_id, routing_key) VALUES ($1, $2)")
            .bind(&envelope.id)
            .bind(&envelope.r#type)
            .execute(&mut **tx)
            .await?;
        if envelope.r#type == "test.bad" {
            return Err(suiji_platform::inbox::HandleError::Permanent(
                "bad by design".into(),
            ));
        }
        Ok(())
    }
}

fn delivery(id: &str, kind: &str) -> suiji_platform::bus::IncomingMessage {
    use prost::Message;
    let envelope = suiji_api::events::v1::Envelope {
        id: id.into(),
        r#type: kind.into(),
        ..Default::default()
    };
    suiji_platform::bus::IncomingMessage {
        id: id.into(),
        routing_key: kind.into(),
        body: envelope.encode_to_vec(),
        headers: Default::default(),
        previous_deliveries: 0,
    }
}

/// Deliveries that wait together are handled in one transaction; one that fails rolls its batch back and each
/// is handled again alone, so the bad one is rejected and every other is acknowledged with its effect once; an id
/// delivered twice at once, or handled before, has no second effect.
async fn batches_commit_together_and_fail_alone(backend: Backend) {
    use suiji_platform::bus::{Handler, Outcome};
    if !testing::require(backend).await {
        return;
    }
    let isolated = testing::isolated(backend).await;
    let consumer = database(&isolated, "consumer").await;
    let calls = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let picky = Picky {
        calls: calls.clone(),
    };
    let inbox = std::sync::Arc::new(
        suiji_platform::inbox::Inbox::new(consumer.clone(), picky).batching(8, 1),
    );
    // An envelope naming another type than the routing key it came under (a user allowed to publish one key,
    // writing another's event in the body) is rejected unread.
    let mut forged = delivery("forged", "test.good");
    forged.routing_key = "test.allowed".into();
    assert!(
        matches!(inbox.handle(forged).await, Outcome::Reject(r) if r.contains("test.allowed")),
        "a type not its routing key is rejected"
    );
    assert_eq!(calls.load(Ordering::SeqCst), 0, "and never handled");
    // Handled before: its repeat below must change nothing.
    assert_eq!(
        inbox.handle(delivery("early", "test.good")).await,
        Outcome::Ack
    );
    let mut deliveries = vec![delivery("early", "test.good")];
    for i in 0..40 {
        deliveries.push(delivery(&format!("good-{i}"), "test.good"));
        if i % 8 == 3 {
            deliveries.push(delivery(&format!("bad-{i}"), "test.bad"));
        }
        if i % 10 == 5 {
            deliveries.push(delivery(&format!("good-{i}"), "test.good"));
        }
    }
    let outcomes = futures::future::join_all(deliveries.iter().map(|d| {
        let inbox = inbox.clone();
        let d = d.clone();
        async move { (d.id.clone(), inbox.handle(d).await) }
    }))
    .await;
    for (id, outcome) in &outcomes {
        if id.starts_with("bad") {
            assert!(
                matches!(outcome, Outcome::Reject(r) if r.contains("bad by design")),
                "{id}: {outcome:?}"
            );
        } else {
            assert_eq!(outcome, &Outcome::Ack, "{id}");
        }
    }
    let effects: Vec<String> =
        sqlx::query_scalar("SELECT message_id FROM effects ORDER BY message_id")
            .fetch_all(consumer.pool())
            .await
            .unwrap();
    let mut expected: Vec<String> = (0..40).map(|i| format!("good-{i}")).collect();
    expected.push("early".into());
    expected.sort();
    assert_eq!(
        effects, expected,
        "each good delivery's effect once, no bad one's"
    );
    let handled: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM inbox WHERE message_id LIKE 'bad%'")
            .fetch_one(consumer.pool())
            .await
            .unwrap();
    assert_eq!(handled, 0, "a rejected delivery is not recorded as handled");
    // 41 good and 5 bad handled at least once each; the batches the bad ones were in ran again one by one.
    let calls = calls.load(Ordering::SeqCst);
    assert!(
        calls > 46,
        "the failed batches were handled again alone ({calls} calls)"
    );
    isolated.cleanup().await;
}

mod inbox_batches {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn embedded() {
        super::batches_commit_together_and_fail_alone(suiji_platform::testing::Backend::Embedded)
            .await
    }
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres_rabbitmq() {
        super::batches_commit_together_and_fail_alone(suiji_platform::testing::Backend::Servers)
            .await
    }
}

/// Holds its first message until told, and records what it handles.
struct Slow {
    handled: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
    release: std::sync::Arc<tokio::sync::Notify>,
}

#[async_trait::async_trait]
impl suiji_platform::bus::Handler for Slow {
    async fn handle(
        &self,
        m: suiji_platform::bus::IncomingMessage,
    ) -> suiji_platform::bus::Outcome {
        if m.id == "m-0" {
            self.release.notified().await;
        }
        self.handled.lock().unwrap().push(m.id);
        suiji_platform::bus::Outcome::Ack
    }
}

/// Acknowledgements go to RabbitMQ in runs (one frame for several deliveries), but a delivery whose handler is
/// slow does not hold back the others' past half the prefetch: the rest of the queue is consumed meanwhile, and
/// when the consumer stops every delivery is settled (nothing goes back to the queue).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_delivery_holds_back_no_others_on_rabbitmq() {
    use lapin::options::QueueDeclareOptions;
    use suiji_platform::bus::{self, OutgoingMessage, Subscription};
    suiji_platform::telemetry::init_for_tests();
    if !testing::require(Backend::Servers).await {
        return;
    }
    let isolated = testing::isolated(Backend::Servers).await;
    let mut settings = isolated.settings.bus.clone();
    settings.prefetch = 4;
    let bus = bus::connect(&settings).await.unwrap();
    let slow = std::sync::Arc::new(Slow {
        handled: Default::default(),
        release: Default::default(),
    });
    let stop = CancellationToken::new();
    let consuming = bus
        .subscribe(
            Subscription {
                service: "slow".into(),
                bindings: vec!["test.slow.*".into()],
            },
            slow.clone(),
            stop.clone(),
        )
        .await
        .unwrap();
    for i in 0..12 {
        bus.publish(&OutgoingMessage {
            id: format!("m-{i}"),
            routing_key: "test.slow.done".into(),
            body: Vec::new(),
            headers: Default::default(),
        })
        .await
        .unwrap();
    }
    let handled = |n: usize| {
        let slow = slow.clone();
        async move { slow.handled.lock().unwrap().len() == n }
    };
    assert!(
        eventually(Duration::from_secs(10), || handled(11)).await,
        "the other 11 are handled while the first waits (prefetch 4): {:?}",
        slow.handled.lock().unwrap()
    );
    assert!(!slow.handled.lock().unwrap().contains(&"m-0".to_string()));
    slow.release.notify_one();
    assert!(eventually(Duration::from_secs(10), || handled(12)).await);
    stop.cancel();
    consuming.await.unwrap();

    let conn =
        lapin::Connection::connect(&testing::amqp_url(), lapin::ConnectionProperties::default())
            .await
            .unwrap();
    let channel = conn.create_channel().await.unwrap();
    let queue = suiji_platform::bus::amqp::Names::new(&settings.namespace).queue("slow");
    let left = channel
        .queue_declare(
            queue.into(),
            QueueDeclareOptions {
                passive: true,
                ..Default::default()
            },
            Default::default(),
        )
        .await
        .unwrap()
        .message_count();
    assert_eq!(
        left, 0,
        "every delivery was acknowledged before the consumer stopped"
    );
    let _ = conn.close(200, "bye".into()).await;
    isolated.cleanup().await;
}

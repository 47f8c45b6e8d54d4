//! RabbitMQ restarts in the middle of a stream of events: nothing is lost and every effect happens once.
//!
//! This test stops and starts the local broker (`rabbitmqctl stop_app` / `start_app`), so it runs on its own,
//! after the other suites (`make test` runs it last).

mod common;

use std::sync::atomic::Ordering;
use std::time::Duration;

use suiji_platform::outbox::unsent_count;
use suiji_platform::testing::{self, Backend, eventually};
use tokio_util::sync::CancellationToken;

use common::*;

fn rabbitmqctl(args: &[&str]) {
    let status = std::process::Command::new("rabbitmqctl")
        .args(args)
        .status()
        .expect("rabbitmqctl is installed");
    assert!(status.success(), "rabbitmqctl {args:?} failed");
}

/// Stops the broker's application; starts it again when dropped, even if the test panics.
struct BrokerDown;

impl BrokerDown {
    fn stop() -> Self {
        rabbitmqctl(&["stop_app"]);
        Self
    }
}

impl Drop for BrokerDown {
    fn drop(&mut self) {
        rabbitmqctl(&["start_app"]);
        rabbitmqctl(&["await_startup"]);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rabbitmq_restart_mid_stream_loses_nothing() {
    let Some((isolated, bus)) = testing::open(Backend::Servers).await else {
        return;
    };
    let producer = database(&isolated, "producer").await;
    let consumer = database(&isolated, "consumer").await;
    let stop = CancellationToken::new();
    let deliveries = consume(&bus, &consumer, &stop).await;
    let relay = relay(&isolated, &producer, &bus);
    let relay_task = tokio::spawn(relay.clone().run(stop.clone()));

    // A steady stream of changes while the broker goes away and comes back.
    let writer = {
        let producer = producer.clone();
        let relay = relay.clone();
        tokio::spawn(async move {
            let mut ids = Vec::new();
            for _ in 0..60 {
                ids.extend(commit_changes(&producer, 10).await);
                relay.notify();
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            ids
        })
    };
    tokio::time::sleep(Duration::from_millis(800)).await;
    {
        let _restart = BrokerDown::stop();
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
    let ids = writer.await.unwrap();
    assert_eq!(ids.len(), 600);

    let done = eventually(Duration::from_secs(120), || async {
        unsent_count(&producer).await.unwrap() == 0
            && scalar(&consumer, "SELECT COUNT(DISTINCT message_id) FROM effects").await == 600
    })
    .await;
    assert!(
        done,
        "unsent {}, effects {}",
        unsent_count(&producer).await.unwrap(),
        scalar(&consumer, "SELECT COUNT(*) FROM effects").await
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_exactly_once(&consumer, &ids).await;
    eprintln!(
        "deliveries: {} for 600 events",
        deliveries.load(Ordering::SeqCst)
    );
    stop.cancel();
    let _ = relay_task.await;
    isolated.cleanup().await;
}

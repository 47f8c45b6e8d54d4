//! A normal shutdown logs no error, so that an error line in an operator's logs means something went wrong: a
//! RabbitMQ consumer and publisher used and stopped, and the test namespace cleaned up, with every ERROR event of
//! every crate recorded (lapin logged one whenever a connection was closed under an open channel).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use suiji_platform::bus::{self, Handler, IncomingMessage, Outcome, OutgoingMessage, Subscription};
use suiji_platform::testing::{self, Backend, eventually};
use tokio_util::sync::CancellationToken;
use tracing_subscriber::layer::SubscriberExt;

/// Records every ERROR event: its target and fields.
struct Errors(Arc<Mutex<Vec<String>>>);

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for Errors {
    fn on_event(&self, event: &tracing::Event<'_>, _: tracing_subscriber::layer::Context<'_, S>) {
        if *event.metadata().level() == tracing::Level::ERROR {
            let mut text = String::new();
            event.record(
                &mut |field: &tracing::field::Field, value: &dyn std::fmt::Debug| {
                    text.push_str(&format!(" {}={value:?}", field.name()));
                },
            );
            self.0
                .lock()
                .unwrap()
                .push(format!("{}:{text}", event.metadata().target()));
        }
    }
}

/// Counts what it handles.
struct Counting(Arc<Mutex<u32>>);

#[async_trait::async_trait]
impl Handler for Counting {
    async fn handle(&self, _: IncomingMessage) -> Outcome {
        *self.0.lock().unwrap() += 1;
        Outcome::Ack
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_consumer_and_publisher_stopped_normally_log_no_error() {
    let errors = Arc::new(Mutex::new(Vec::new()));
    tracing::subscriber::set_global_default(
        tracing_subscriber::registry().with(Errors(errors.clone())),
    )
    .unwrap();
    if !testing::require(Backend::Servers).await {
        return;
    }
    let isolated = testing::isolated(Backend::Servers).await;
    let bus = bus::connect(&isolated.settings.bus).await.unwrap();
    let handled = Arc::new(Mutex::new(0));
    let stop = CancellationToken::new();
    let consuming = bus
        .subscribe(
            Subscription {
                service: "test".into(),
                bindings: vec!["test.quiet.*".into()],
            },
            Arc::new(Counting(handled.clone())),
            stop.clone(),
        )
        .await
        .unwrap();
    for i in 0..20 {
        bus.publish(&OutgoingMessage {
            id: format!("q-{i}"),
            routing_key: "test.quiet.done".into(),
            body: Vec::new(),
            headers: Default::default(),
        })
        .await
        .unwrap();
    }
    assert!(
        eventually(Duration::from_secs(10), || {
            let handled = handled.clone();
            async move { *handled.lock().unwrap() == 20 }
        })
        .await
    );
    stop.cancel();
    consuming.await.unwrap();
    drop(bus);
    isolated.cleanup().await;
    // lapin reports a channel's end from its own tasks: give them the time to say it.
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(*errors.lock().unwrap(), Vec::<String>::new());
}

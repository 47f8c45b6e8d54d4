//! The in-process bus of the embedded platform (`suiji dev`).
//!
//! It delivers straight from the outbox relays: a publish waits until every bound consumer has handled the
//! message, so the relay marks an outbox row sent only after its effect is committed everywhere. A crash
//! loses nothing — unsent rows are published again at the next start and the inboxes drop duplicates.
//! Retries back off and stop at the delivery limit, after which the message is dead-lettered (kept in memory
//! and logged).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use tokio::sync::{mpsc, oneshot};
use tokio_util::sync::CancellationToken;

use super::{
    Bus, BusError, Handler, IncomingMessage, Outcome, OutgoingMessage, Subscription, topic_matches,
};

struct Pending {
    message: IncomingMessage,
    done: oneshot::Sender<()>,
}

struct Queue {
    bindings: Vec<String>,
    sender: mpsc::UnboundedSender<Pending>,
}

/// A dead-lettered message and why.
#[derive(Debug, Clone)]
pub struct DeadLetter {
    /// The queue (service) that gave up.
    pub queue: String,
    /// The message.
    pub message: IncomingMessage,
    /// The last reason.
    pub reason: String,
}

/// The in-process bus.
#[derive(Clone)]
pub struct EmbeddedBus {
    queues: Arc<Mutex<HashMap<String, Queue>>>,
    dead: Arc<Mutex<Vec<DeadLetter>>>,
    delivery_limit: u32,
    /// Publishes wait while this is false, so that every service of a process subscribes before any relay
    /// delivers (an in-process queue exists only once its consumer has subscribed).
    gate: Arc<tokio::sync::watch::Sender<bool>>,
}

impl EmbeddedBus {
    /// A bus that dead-letters a message after `delivery_limit` failed deliveries.
    pub fn new(delivery_limit: u32) -> Self {
        let bus = Self::held(delivery_limit);
        bus.release();
        bus
    }

    /// A bus that holds every publish until [`EmbeddedBus::release`].
    pub fn held(delivery_limit: u32) -> Self {
        Self {
            queues: Arc::default(),
            dead: Arc::default(),
            delivery_limit: delivery_limit.max(1),
            gate: Arc::new(tokio::sync::watch::channel(false).0),
        }
    }

    /// Lets publishes through.
    pub fn release(&self) {
        self.gate.send_replace(true);
    }

    /// Messages given up on so far.
    pub fn dead_letters(&self) -> Vec<DeadLetter> {
        self.dead.lock().expect("dead-letter lock").clone()
    }
}

#[async_trait]
impl Bus for EmbeddedBus {
    async fn publish(&self, message: &OutgoingMessage) -> Result<(), BusError> {
        let mut gate = self.gate.subscribe();
        gate.wait_for(|open| *open)
            .await
            .map_err(|_| BusError::Unavailable("bus dropped".into()))?;
        let waits: Vec<oneshot::Receiver<()>> = {
            let queues = self.queues.lock().expect("queue lock");
            let mut waits = Vec::new();
            for queue in queues.values() {
                if queue
                    .bindings
                    .iter()
                    .any(|b| topic_matches(b, &message.routing_key))
                {
                    let (done, wait) = oneshot::channel();
                    let pending = Pending {
                        message: IncomingMessage {
                            id: message.id.clone(),
                            routing_key: message.routing_key.clone(),
                            body: message.body.clone(),
                            headers: message.headers.clone(),
                            previous_deliveries: 0,
                        },
                        done,
                    };
                    queue
                        .sender
                        .send(pending)
                        .map_err(|_| BusError::Unavailable("consumer stopped".into()))?;
                    waits.push(wait);
                }
            }
            waits
        };
        if waits.is_empty() {
            tracing::debug!(routing_key = %message.routing_key, "no queue bound; message not routed");
        }
        for wait in waits {
            wait.await.map_err(|_| {
                BusError::Unavailable("consumer stopped before acknowledging".into())
            })?;
        }
        Ok(())
    }

    async fn subscribe(
        &self,
        subscription: Subscription,
        handler: Arc<dyn Handler>,
        shutdown: CancellationToken,
    ) -> Result<tokio::task::JoinHandle<()>, BusError> {
        let (sender, mut receiver) = mpsc::unbounded_channel::<Pending>();
        let requeue = sender.clone();
        self.queues.lock().expect("queue lock").insert(
            subscription.service.clone(),
            Queue {
                bindings: subscription.bindings.clone(),
                sender,
            },
        );
        let dead = self.dead.clone();
        let queues = self.queues.clone();
        let limit = self.delivery_limit;
        let name = subscription.service;
        Ok(tokio::spawn(async move {
            loop {
                let pending = tokio::select! {
                    _ = shutdown.cancelled() => break,
                    next = receiver.recv() => match next { Some(p) => p, None => break },
                };
                let outcome = handler.handle(pending.message.clone()).await;
                let reason = match outcome {
                    Outcome::Ack => {
                        let _ = pending.done.send(());
                        continue;
                    }
                    Outcome::Retry(reason) if pending.message.previous_deliveries + 1 < limit => {
                        let mut retry = pending;
                        retry.message.previous_deliveries += 1;
                        let delay = backoff(retry.message.previous_deliveries);
                        tracing::warn!(queue = %name, id = %retry.message.id, %reason, ?delay, "handler failed; will retry");
                        let requeue = requeue.clone();
                        tokio::spawn(async move {
                            tokio::time::sleep(delay).await;
                            let _ = requeue.send(retry);
                        });
                        continue;
                    }
                    Outcome::Retry(reason) | Outcome::Reject(reason) => reason,
                };
                tracing::error!(queue = %name, id = %pending.message.id, %reason, "message dead-lettered");
                dead.lock().expect("dead-letter lock").push(DeadLetter {
                    queue: name.clone(),
                    message: pending.message,
                    reason,
                });
                let _ = pending.done.send(());
            }
            queues.lock().expect("queue lock").remove(&name);
        }))
    }
}

/// Delay before the n-th redelivery: 100 ms doubling, at most 5 s.
pub(crate) fn backoff(attempt: u32) -> Duration {
    Duration::from_millis(100u64.saturating_mul(1 << attempt.min(6))).min(Duration::from_secs(5))
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU32, Ordering};

    use super::*;

    struct Counting {
        seen: AtomicU32,
        fail_first: u32,
    }

    #[async_trait]
    impl Handler for Counting {
        async fn handle(&self, _m: IncomingMessage) -> Outcome {
            let n = self.seen.fetch_add(1, Ordering::SeqCst);
            if n < self.fail_first {
                Outcome::Retry("not yet".into())
            } else {
                Outcome::Ack
            }
        }
    }

    fn message(key: &str) -> OutgoingMessage {
        OutgoingMessage {
            id: "m1".into(),
            routing_key: key.into(),
            body: vec![1],
            headers: HashMap::new(),
        }
    }

    #[tokio::test]
    async fn publish_waits_for_every_bound_consumer_and_skips_the_others() {
        let bus = EmbeddedBus::new(5);
        let a = Arc::new(Counting {
            seen: AtomicU32::new(0),
            fail_first: 0,
        });
        let b = Arc::new(Counting {
            seen: AtomicU32::new(0),
            fail_first: 0,
        });
        let stop = CancellationToken::new();
        let sub = |s: &str, k: &str| Subscription {
            service: s.into(),
            bindings: vec![k.into()],
        };
        bus.subscribe(sub("a", "catalog.item.*"), a.clone(), stop.clone())
            .await
            .unwrap();
        bus.subscribe(sub("b", "planning.#"), b.clone(), stop.clone())
            .await
            .unwrap();
        bus.publish(&message("catalog.item.published"))
            .await
            .unwrap();
        assert_eq!(a.seen.load(Ordering::SeqCst), 1);
        assert_eq!(b.seen.load(Ordering::SeqCst), 0);
        stop.cancel();
    }

    #[tokio::test]
    async fn retries_then_dead_letters_at_the_limit() {
        let bus = EmbeddedBus::new(3);
        let flaky = Arc::new(Counting {
            seen: AtomicU32::new(0),
            fail_first: 2,
        });
        let stop = CancellationToken::new();
        let sub = Subscription {
            service: "q".into(),
            bindings: vec!["x.#".into()],
        };
        bus.subscribe(sub, flaky.clone(), stop.clone())
            .await
            .unwrap();
        bus.publish(&message("x.y")).await.unwrap();
        assert_eq!(
            flaky.seen.load(Ordering::SeqCst),
            3,
            "two failures, then success"
        );
        assert!(bus.dead_letters().is_empty());

        let hopeless = Arc::new(Counting {
            seen: AtomicU32::new(0),
            fail_first: u32::MAX,
        });
        let sub = Subscription {
            service: "r".into(),
            bindings: vec!["z.#".into()],
        };
        bus.subscribe(sub, hopeless.clone(), stop.clone())
            .await
            .unwrap();
        bus.publish(&message("z.y")).await.unwrap();
        assert_eq!(
            hopeless.seen.load(Ordering::SeqCst),
            3,
            "delivered exactly delivery_limit times"
        );
        assert_eq!(bus.dead_letters().len(), 1);
        stop.cancel();
    }
}

//! The message bus: one interface, two implementations — RabbitMQ ([`amqp::AmqpBus`]) and the in-process
//! bus of the embedded platform ([`embedded::EmbeddedBus`]).
//!
//! Publishing returns only when the bus has taken responsibility for the message (a publisher confirm, or
//! for the embedded bus, every bound consumer's acknowledgement), so the outbox relay marks a row sent only
//! then. Delivery is at-least-once; the inbox makes handling effectively once.

pub mod amqp;
pub mod embedded;

use std::collections::HashMap;
use std::sync::Arc;

use async_trait::async_trait;
use tokio_util::sync::CancellationToken;

use crate::config::{BusKind, BusSettings};

/// A message ready to publish: an encoded `suiji.events.v1.Envelope`.
#[derive(Debug, Clone)]
pub struct OutgoingMessage {
    /// Envelope id, also the AMQP `message_id`.
    pub id: String,
    /// Routing key `<service>.<entity>.<verb>`.
    pub routing_key: String,
    /// Encoded envelope.
    pub body: Vec<u8>,
    /// Headers, e.g. W3C `traceparent`.
    pub headers: HashMap<String, String>,
}

/// A delivered message.
#[derive(Debug, Clone)]
pub struct IncomingMessage {
    /// Message id (the envelope's id).
    pub id: String,
    /// Routing key it was published with.
    pub routing_key: String,
    /// Encoded envelope.
    pub body: Vec<u8>,
    /// Headers.
    pub headers: HashMap<String, String>,
    /// How many times the message was delivered before this one.
    pub previous_deliveries: u32,
}

/// What a handler decided about a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Handled (or already handled): remove it from the queue.
    Ack,
    /// Failed for a reason that may pass (a database hiccup): deliver again later, up to the delivery limit,
    /// then dead-letter.
    Retry(String),
    /// Can never succeed (undecodable, unknown type): dead-letter now.
    Reject(String),
}

/// Handles delivered messages.
#[async_trait]
pub trait Handler: Send + Sync + 'static {
    /// Handles one message.
    async fn handle(&self, message: IncomingMessage) -> Outcome;
}

/// Why a bus operation failed.
#[derive(Debug, thiserror::Error)]
pub enum BusError {
    /// The broker could not be reached or dropped the connection.
    #[error("broker unavailable: {0}")]
    Unavailable(String),
    /// The broker refused the message (negative confirm) or returned it as unroutable.
    #[error("message not accepted by the broker: {0}")]
    NotAccepted(String),
    /// Declaring queues or bindings failed.
    #[error("topology: {0}")]
    Topology(String),
}

/// A subscription: one durable queue per consuming service.
#[derive(Debug, Clone)]
pub struct Subscription {
    /// The consuming service, e.g. `catalog`; the queue is `<namespace>.<service>`.
    pub service: String,
    /// Topic patterns to bind, e.g. `directories.department.*`.
    pub bindings: Vec<String>,
}

/// The bus.
#[async_trait]
pub trait Bus: Send + Sync + 'static {
    /// Publishes one message and returns once the bus has taken responsibility for it.
    async fn publish(&self, message: &OutgoingMessage) -> Result<(), BusError>;

    /// Declares the subscription's queue and bindings and delivers to `handler` until `shutdown` fires,
    /// reconnecting after failures. Returns once the queue is declared and bound.
    async fn subscribe(
        &self,
        subscription: Subscription,
        handler: Arc<dyn Handler>,
        shutdown: CancellationToken,
    ) -> Result<tokio::task::JoinHandle<()>, BusError>;
}

/// Builds the configured bus.
pub async fn connect(settings: &BusSettings) -> Result<Arc<dyn Bus>, BusError> {
    Ok(match settings.kind {
        BusKind::Embedded => Arc::new(embedded::EmbeddedBus::new(settings.delivery_limit)),
        BusKind::Amqp => Arc::new(amqp::AmqpBus::connect(settings.clone()).await?),
    })
}

/// Whether a routing key matches an AMQP topic pattern: words split on `.`, `*` matches exactly one word,
/// `#` matches zero or more.
pub fn topic_matches(pattern: &str, key: &str) -> bool {
    fn go(p: &[&str], k: &[&str]) -> bool {
        match (p.first(), k.first()) {
            (None, None) => true,
            (Some(&"#"), _) => go(&p[1..], k) || (!k.is_empty() && go(p, &k[1..])),
            (Some(&"*"), Some(_)) => go(&p[1..], &k[1..]),
            (Some(a), Some(b)) if a == b => go(&p[1..], &k[1..]),
            _ => false,
        }
    }
    let p: Vec<&str> = pattern.split('.').collect();
    let k: Vec<&str> = key.split('.').collect();
    go(&p, &k)
}

#[cfg(test)]
mod tests {
    use super::topic_matches;

    #[test]
    fn topic_patterns_follow_amqp_rules() {
        assert!(topic_matches(
            "catalog.item.published",
            "catalog.item.published"
        ));
        assert!(topic_matches("catalog.item.*", "catalog.item.retired"));
        assert!(!topic_matches("catalog.item.*", "catalog.item"));
        assert!(!topic_matches("catalog.*", "catalog.item.retired"));
        assert!(topic_matches("catalog.#", "catalog.item.retired"));
        assert!(topic_matches("catalog.#", "catalog"));
        assert!(topic_matches("#", "a.b.c"));
        assert!(topic_matches("*.task.launched", "planning.task.launched"));
        assert!(!topic_matches("draw.*", "catalog.item"));
        assert!(topic_matches("a.#.z", "a.b.c.z"));
        assert!(!topic_matches("a.#.z", "a.b.c.y"));
    }
}

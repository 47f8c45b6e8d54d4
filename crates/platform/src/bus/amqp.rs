//! The RabbitMQ bus, through `lapin`.
//!
//! Topology, under a namespace `ns` (default `suiji`):
//! - `ns.events`: the topic exchange every service publishes to. Its alternate exchange `ns.unrouted`
//!   (fanout, with a quorum queue of the same name) keeps messages no queue was bound for, so nothing is
//!   silently dropped.
//! - `ns.<service>`: one durable quorum queue per consuming service, with `x-delivery-limit` and at-least-once
//!   dead-lettering through `ns.dlx` into `ns.<service>.dead`.
//!
//! Deliveries are acknowledged in runs ([`Settler`]): one `basic.ack` with `multiple` for every delivery handled
//! since the last, so a quorum queue writes one settlement to its log where it would write one per message.
//!
//! Connections are managed here rather than by lapin's auto-recovery: after any failure the connection and
//! its channels are dropped and rebuilt with back-off, so prefetch (`basic.qos`), confirm mode and the
//! topology are always applied afresh. A publish that fails or is returned unroutable is reported as an error
//! so the outbox keeps the row and publishes it again (inboxes absorb the duplicates).
//!
//! One piece, though long: one adapter to one broker, its topology, publishing with confirms and consuming
//! with dead letters; nothing outside it speaks AMQP.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use futures::StreamExt;
use lapin::options::{
    BasicAckOptions, BasicConsumeOptions, BasicNackOptions, BasicPublishOptions, BasicQosOptions,
    BasicRejectOptions, ConfirmSelectOptions, ExchangeDeclareOptions, QueueBindOptions,
    QueueDeclareOptions,
};
use lapin::types::{AMQPValue, FieldTable, LongString, ShortString};
use lapin::{
    BasicProperties, Channel, Confirmation, Connection, ConnectionProperties, ExchangeKind,
};
use tokio::sync::Mutex;
use tokio_util::sync::CancellationToken;

use super::embedded::backoff;
use super::{Bus, BusError, Handler, IncomingMessage, Outcome, OutgoingMessage, Subscription};
use crate::config::BusSettings;

/// Names of the exchanges and queues under one namespace.
#[derive(Debug, Clone)]
pub struct Names {
    ns: String,
}

impl Names {
    /// Names under `namespace`.
    pub fn new(namespace: &str) -> Self {
        Self {
            ns: namespace.to_string(),
        }
    }
    /// The topic exchange.
    pub fn events(&self) -> String {
        format!("{}.events", self.ns)
    }
    /// The alternate exchange and queue for unroutable messages.
    pub fn unrouted(&self) -> String {
        format!("{}.unrouted", self.ns)
    }
    /// The dead-letter exchange.
    pub fn dlx(&self) -> String {
        format!("{}.dlx", self.ns)
    }
    /// A service's queue.
    pub fn queue(&self, service: &str) -> String {
        format!("{}.{service}", self.ns)
    }
    /// A service's dead-letter queue.
    pub fn dead(&self, service: &str) -> String {
        format!("{}.{service}.dead", self.ns)
    }
}

/// The RabbitMQ bus.
pub struct AmqpBus {
    settings: BusSettings,
    names: Names,
    publisher: Mutex<Publisher>,
}

/// The publishing connection, and when connecting last failed: publishes fail fast for a moment after a
/// failed attempt instead of each trying (and timing out) in turn.
#[derive(Default)]
struct Publisher {
    open: Option<(Connection, Channel)>,
    failed_at: Option<std::time::Instant>,
}

/// How long publishes fail fast after a failed connection attempt.
const RECONNECT_PAUSE: Duration = Duration::from_millis(500);

impl AmqpBus {
    /// Connects and declares the exchanges; fails when the broker cannot be reached.
    pub async fn connect(settings: BusSettings) -> Result<Self, BusError> {
        let bus = Self {
            names: Names::new(&settings.namespace),
            settings,
            publisher: Mutex::new(Publisher::default()),
        };
        let channel = bus.publisher_channel().await?;
        drop(channel);
        Ok(bus)
    }

    /// The names this bus uses.
    pub fn names(&self) -> &Names {
        &self.names
    }

    async fn open(&self, name: &str) -> Result<Connection, BusError> {
        Connection::connect(
            self.settings.url.expose(),
            ConnectionProperties::default().with_connection_name(name.into()),
        )
        .await
        .map_err(|e| BusError::Unavailable(e.to_string()))
    }

    async fn declare_exchanges(&self, channel: &Channel) -> Result<(), BusError> {
        let durable = ExchangeDeclareOptions {
            durable: true,
            ..Default::default()
        };
        let topology = |e: lapin::Error| BusError::Topology(e.to_string());
        channel
            .exchange_declare(
                self.names.unrouted().into(),
                ExchangeKind::Fanout,
                durable,
                FieldTable::default(),
            )
            .await
            .map_err(topology)?;
        channel
            .queue_declare(self.names.unrouted().into(), queue_durable(), quorum_args())
            .await
            .map_err(topology)?;
        channel
            .queue_bind(
                self.names.unrouted().into(),
                self.names.unrouted().into(),
                "".into(),
                QueueBindOptions::default(),
                FieldTable::default(),
            )
            .await
            .map_err(topology)?;
        let mut args = FieldTable::default();
        args.insert(
            "alternate-exchange".into(),
            AMQPValue::LongString(self.names.unrouted().into()),
        );
        channel
            .exchange_declare(
                self.names.events().into(),
                ExchangeKind::Topic,
                durable,
                args,
            )
            .await
            .map_err(topology)?;
        channel
            .exchange_declare(
                self.names.dlx().into(),
                ExchangeKind::Direct,
                durable,
                FieldTable::default(),
            )
            .await
            .map_err(topology)?;
        Ok(())
    }

    async fn publisher_channel(&self) -> Result<Channel, BusError> {
        let mut guard = self.publisher.lock().await;
        if let Some((connection, channel)) = guard.open.as_ref()
            && connection.status().connected()
            && channel.status().connected()
        {
            return Ok(channel.clone());
        }
        guard.open = None;
        if let Some(at) = guard.failed_at
            && at.elapsed() < RECONNECT_PAUSE
        {
            return Err(BusError::Unavailable(
                "broker unreachable a moment ago; not retrying yet".into(),
            ));
        }
        match self.open_publisher().await {
            Ok((connection, channel)) => {
                guard.open = Some((connection, channel.clone()));
                guard.failed_at = None;
                Ok(channel)
            }
            Err(error) => {
                guard.failed_at = Some(std::time::Instant::now());
                Err(error)
            }
        }
    }

    async fn open_publisher(&self) -> Result<(Connection, Channel), BusError> {
        bounded("opening the publisher", self.open_publisher_unbounded()).await
    }

    async fn open_publisher_unbounded(&self) -> Result<(Connection, Channel), BusError> {
        let connection = self.open("suiji-publisher").await?;
        let channel = connection
            .create_channel()
            .await
            .map_err(|e| BusError::Unavailable(e.to_string()))?;
        channel
            .confirm_select(ConfirmSelectOptions::default())
            .await
            .map_err(|e| BusError::Unavailable(e.to_string()))?;
        self.declare_exchanges(&channel).await?;
        Ok((connection, channel))
    }

    async fn forget_publisher(&self) {
        if let Some((connection, _)) = self.publisher.lock().await.open.take() {
            let _ =
                tokio::time::timeout(BROKER_TIMEOUT, connection.close(320, "reconnecting".into()))
                    .await;
        }
    }

    /// Declares a service's queue, its dead-letter queue and its bindings.
    async fn declare_queue(
        &self,
        channel: &Channel,
        subscription: &Subscription,
    ) -> Result<(), BusError> {
        let topology = |e: lapin::Error| BusError::Topology(e.to_string());
        self.declare_exchanges(channel).await?;
        let queue = self.names.queue(&subscription.service);
        let dead = self.names.dead(&subscription.service);
        channel
            .queue_declare(dead.clone().into(), queue_durable(), quorum_args())
            .await
            .map_err(topology)?;
        channel
            .queue_bind(
                dead.into(),
                self.names.dlx().into(),
                queue.clone().into(),
                QueueBindOptions::default(),
                FieldTable::default(),
            )
            .await
            .map_err(topology)?;
        let mut args = quorum_args();
        args.insert(
            "x-delivery-limit".into(),
            AMQPValue::LongInt(self.settings.delivery_limit as i32),
        );
        args.insert(
            "x-dead-letter-exchange".into(),
            AMQPValue::LongString(self.names.dlx().into()),
        );
        args.insert(
            "x-dead-letter-routing-key".into(),
            AMQPValue::LongString(queue.clone().into()),
        );
        args.insert(
            "x-dead-letter-strategy".into(),
            AMQPValue::LongString("at-least-once".into()),
        );
        args.insert(
            "x-overflow".into(),
            AMQPValue::LongString("reject-publish".into()),
        );
        channel
            .queue_declare(queue.clone().into(), queue_durable(), args)
            .await
            .map_err(topology)?;
        for binding in &subscription.bindings {
            channel
                .queue_bind(
                    queue.clone().into(),
                    self.names.events().into(),
                    binding.clone().into(),
                    QueueBindOptions::default(),
                    FieldTable::default(),
                )
                .await
                .map_err(topology)?;
        }
        Ok(())
    }

    /// One consuming session: connect, apply prefetch, declare, consume until the connection fails or
    /// `shutdown` fires.
    async fn consume_session(
        self: &Arc<Self>,
        subscription: &Subscription,
        handler: &Arc<dyn Handler>,
        shutdown: &CancellationToken,
        ready: &mut Option<tokio::sync::oneshot::Sender<Result<(), BusError>>>,
    ) -> Result<(), BusError> {
        let setup = async {
            let connection = self
                .open(&format!("suiji-consumer-{}", subscription.service))
                .await?;
            let channel = connection
                .create_channel()
                .await
                .map_err(|e| BusError::Unavailable(e.to_string()))?;
            // A fresh channel on every session, so the prefetch is applied after every reconnect.
            channel
                .basic_qos(self.settings.prefetch, BasicQosOptions::default())
                .await
                .map_err(|e| BusError::Unavailable(e.to_string()))?;
            self.declare_queue(&channel, subscription).await?;
            let consumer = channel
                .basic_consume(
                    self.names.queue(&subscription.service).into(),
                    format!("suiji-{}-{}", subscription.service, uuid::Uuid::new_v4()).into(),
                    BasicConsumeOptions::default(),
                    FieldTable::default(),
                )
                .await
                .map_err(|e| BusError::Unavailable(e.to_string()))?;
            Ok::<_, BusError>((connection, channel, consumer))
        };
        let (connection, channel, consumer) = match bounded("starting to consume", setup).await {
            Ok(parts) => parts,
            Err(error) => {
                if let Some(ready) = ready.take() {
                    let _ = ready.send(Err(BusError::Unavailable(error.to_string())));
                }
                return Err(error);
            }
        };
        if let Some(ready) = ready.take() {
            let _ = ready.send(Ok(()));
        }
        tracing::info!(queue = %self.names.queue(&subscription.service), "consuming");
        let (settle, settled) = tokio::sync::mpsc::unbounded_channel();
        let worked = CancellationToken::new();
        // Closed before its connection at the end: a connection closed under an open channel makes lapin log an
        // error, on every normal shutdown.
        let closing = channel.clone();
        let settler = Settler::new(channel, self.settings.prefetch).run(settled, worked.clone());
        // The session ends at the stream's first error: lapin may keep a failed consumer stream open, and a
        // session that never ends never reconnects.
        let work = consumer
            .take_until(shutdown.cancelled())
            .take_while(|delivery| {
                if let Err(error) = delivery {
                    tracing::warn!(%error, "consumer stream failed");
                }
                std::future::ready(delivery.is_ok())
            })
            .for_each_concurrent(usize::from(self.settings.prefetch), |delivery| {
                let handler = handler.clone();
                let settle = settle.clone();
                async move {
                    let delivery = match delivery {
                        Ok(d) => d,
                        Err(error) => {
                            tracing::warn!(%error, "consumer stream failed");
                            return;
                        }
                    };
                    let message = incoming(&delivery);
                    let outcome = handler.handle(message.clone()).await;
                    let how = match outcome {
                        Outcome::Ack => Settle::Ack,
                        Outcome::Retry(reason) => {
                            let delay = backoff(message.previous_deliveries + 1);
                            tracing::warn!(id = %message.id, %reason, ?delay, "handler failed; requeueing");
                            tokio::time::sleep(delay).await;
                            Settle::Requeue
                        }
                        Outcome::Reject(reason) => {
                            tracing::error!(id = %message.id, %reason, "message rejected to the dead-letter queue");
                            Settle::Reject
                        }
                    };
                    // The settler is gone only with the session; the broker then redelivers the message and
                    // the inbox drops the duplicate.
                    let _ = settle.send((delivery.delivery_tag, how));
                }
            });
        // And when the connection drops without the stream saying so.
        let watchdog = async {
            loop {
                tokio::time::sleep(Duration::from_secs(1)).await;
                if !connection.status().connected() {
                    tracing::warn!(service = %subscription.service, "consumer connection lost");
                    return;
                }
            }
        };
        tokio::select! {
            // The settler ends once the work has and every outcome is sent on.
            _ = async { tokio::join!(async { work.await; worked.cancel() }, settler) } => {}
            _ = watchdog => {}
        }
        if closing.status().connected() {
            let _ = tokio::time::timeout(BROKER_TIMEOUT, closing.close(200, "bye".into())).await;
        }
        let _ = tokio::time::timeout(BROKER_TIMEOUT, connection.close(200, "bye".into())).await;
        if shutdown.is_cancelled() {
            Ok(())
        } else {
            Err(BusError::Unavailable("consumer stream ended".into()))
        }
    }
}

/// How a delivery is settled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Settle {
    Ack,
    /// Back to the queue, to be delivered again.
    Requeue,
    /// To the dead-letter queue.
    Reject,
}

/// Settles one channel's deliveries with as few frames as it can: acknowledgements wait until every earlier
/// delivery is settled and then go as one `basic.ack` with `multiple` (on a quorum queue each frame is an entry
/// in the queue's log). A requeue or a reject goes at once, on its own. Acknowledgements a slow earlier delivery
/// holds back are sent one by one once half the prefetch waits, so a slow handler never stalls the rest.
struct Settler {
    channel: Channel,
    /// Every delivery tag below this one is settled on the broker.
    next: u64,
    /// Handled, acknowledgement not sent yet.
    acked: std::collections::BTreeSet<u64>,
    /// Settled on the broker already, above `next`.
    sent: std::collections::BTreeSet<u64>,
    /// Acknowledgements held back at most.
    hold: usize,
}

impl Settler {
    fn new(channel: Channel, prefetch: u16) -> Self {
        Self {
            channel,
            // Delivery tags start at 1 on every channel, and every session has its own channel.
            next: 1,
            acked: Default::default(),
            sent: Default::default(),
            hold: usize::from(prefetch / 2).max(1),
        }
    }

    /// Settles what arrives on `outcomes`, taking all that is waiting each time, until `worked` fires and what
    /// came before it is settled.
    async fn run(
        mut self,
        mut outcomes: tokio::sync::mpsc::UnboundedReceiver<(u64, Settle)>,
        worked: CancellationToken,
    ) {
        let mut batch = Vec::new();
        loop {
            let last = tokio::select! {
                biased;
                _ = outcomes.recv_many(&mut batch, usize::MAX) => false,
                _ = worked.cancelled() => {
                    while let Ok(outcome) = outcomes.try_recv() {
                        batch.push(outcome);
                    }
                    true
                }
            };
            if let Err(error) = self.settle(batch.drain(..)).await {
                // The broker redelivers what was not settled; the inbox drops the duplicates.
                tracing::warn!(%error, "settling deliveries failed");
            }
            if last {
                return;
            }
        }
    }

    async fn settle(
        &mut self,
        outcomes: impl Iterator<Item = (u64, Settle)>,
    ) -> Result<(), lapin::Error> {
        for (tag, how) in outcomes {
            match how {
                Settle::Ack => {
                    self.acked.insert(tag);
                }
                Settle::Requeue => {
                    self.channel
                        .basic_nack(
                            tag,
                            BasicNackOptions {
                                requeue: true,
                                multiple: false,
                            },
                        )
                        .await?;
                    self.sent.insert(tag);
                }
                Settle::Reject => {
                    self.channel
                        .basic_reject(tag, BasicRejectOptions { requeue: false })
                        .await?;
                    self.sent.insert(tag);
                }
            }
        }
        // The longest run of settled tags from `next`; one `multiple` acknowledgement up to its last acked tag
        // covers every acked tag of the run (the others are settled already and no longer outstanding).
        let mut upto = None;
        loop {
            if self.acked.remove(&self.next) {
                upto = Some(self.next);
            } else if !self.sent.remove(&self.next) {
                break;
            }
            self.next += 1;
        }
        if let Some(tag) = upto {
            self.channel
                .basic_ack(tag, BasicAckOptions { multiple: true })
                .await?;
        }
        if self.acked.len() > self.hold {
            for tag in std::mem::take(&mut self.acked) {
                self.channel
                    .basic_ack(tag, BasicAckOptions { multiple: false })
                    .await?;
                self.sent.insert(tag);
            }
        }
        Ok(())
    }
}

fn queue_durable() -> QueueDeclareOptions {
    QueueDeclareOptions {
        durable: true,
        ..Default::default()
    }
}

/// Longest wait for the broker in any one step (connect, handshake, declare, publisher confirm). A broker that
/// is starting accepts connections before it answers them; without a bound a step could wait forever.
const BROKER_TIMEOUT: Duration = Duration::from_secs(10);

/// Runs one step against the broker, giving up after [`BROKER_TIMEOUT`].
async fn bounded<T>(
    what: &str,
    step: impl std::future::Future<Output = Result<T, BusError>>,
) -> Result<T, BusError> {
    tokio::time::timeout(BROKER_TIMEOUT, step)
        .await
        .unwrap_or_else(|_| {
            Err(BusError::Unavailable(format!(
                "{what}: no answer from the broker within {} s",
                BROKER_TIMEOUT.as_secs()
            )))
        })
}

fn quorum_args() -> FieldTable {
    let mut args = FieldTable::default();
    args.insert(
        "x-queue-type".into(),
        AMQPValue::LongString("quorum".into()),
    );
    args
}

fn incoming(delivery: &lapin::message::Delivery) -> IncomingMessage {
    let mut headers = HashMap::new();
    let mut previous_deliveries = 0;
    if let Some(table) = delivery.properties.headers() {
        for (key, value) in table.inner() {
            match value {
                AMQPValue::LongString(s) => {
                    headers.insert(
                        key.to_string(),
                        String::from_utf8_lossy(s.as_bytes()).into_owned(),
                    );
                }
                AMQPValue::ShortString(s) => {
                    headers.insert(key.to_string(), s.to_string());
                }
                AMQPValue::LongLongInt(n) if key.as_str() == "x-delivery-count" => {
                    previous_deliveries = *n as u32
                }
                AMQPValue::LongInt(n) if key.as_str() == "x-delivery-count" => {
                    previous_deliveries = *n as u32
                }
                _ => {}
            }
        }
    }
    if previous_deliveries == 0 && delivery.redelivered {
        previous_deliveries = 1;
    }
    IncomingMessage {
        id: delivery
            .properties
            .message_id()
            .as_ref()
            .map(ShortString::to_string)
            .unwrap_or_default(),
        routing_key: delivery.routing_key.to_string(),
        body: delivery.data.clone(),
        headers,
        previous_deliveries,
    }
}

#[async_trait]
impl Bus for AmqpBus {
    async fn publish(&self, message: &OutgoingMessage) -> Result<(), BusError> {
        let channel = self.publisher_channel().await?;
        let mut headers = FieldTable::default();
        for (key, value) in &message.headers {
            headers.insert(
                key.clone().into(),
                AMQPValue::LongString(LongString::from(value.clone())),
            );
        }
        let properties = BasicProperties::default()
            .with_message_id(message.id.clone().into())
            .with_content_type("application/protobuf".into())
            .with_delivery_mode(2)
            .with_headers(headers);
        let options = BasicPublishOptions {
            mandatory: true,
            ..Default::default()
        };
        let sent = async {
            match channel
                .basic_publish(
                    self.names.events().into(),
                    message.routing_key.clone().into(),
                    options,
                    &message.body,
                    properties,
                )
                .await
            {
                Ok(confirm) => confirm.await,
                Err(error) => Err(error),
            }
        };
        // No confirm in time counts as a lost connection: the relay sends again and the inbox drops a duplicate.
        let confirm = match tokio::time::timeout(BROKER_TIMEOUT, sent).await {
            Ok(confirm) => confirm,
            Err(_) => {
                self.forget_publisher().await;
                return Err(BusError::Unavailable(format!(
                    "no publisher confirm within {} s",
                    BROKER_TIMEOUT.as_secs()
                )));
            }
        };
        match confirm {
            Ok(Confirmation::Ack(None)) => Ok(()),
            Ok(Confirmation::Ack(Some(returned))) => Err(BusError::NotAccepted(format!(
                "returned unroutable: {} {}",
                returned.reply_code, returned.reply_text
            ))),
            Ok(Confirmation::Nack(_)) => Err(BusError::NotAccepted("negative confirm".into())),
            Ok(Confirmation::NotRequested) => {
                Err(BusError::NotAccepted("confirms not enabled".into()))
            }
            Err(error) => {
                self.forget_publisher().await;
                Err(BusError::Unavailable(error.to_string()))
            }
        }
    }

    async fn subscribe(
        &self,
        subscription: Subscription,
        handler: Arc<dyn Handler>,
        shutdown: CancellationToken,
    ) -> Result<tokio::task::JoinHandle<()>, BusError> {
        let session = Arc::new(Self {
            settings: self.settings.clone(),
            names: self.names.clone(),
            publisher: Mutex::new(Publisher::default()),
        });
        let (ready_tx, ready_rx) = tokio::sync::oneshot::channel();
        let task = tokio::spawn(async move {
            let mut ready = Some(ready_tx);
            let mut attempt = 0u32;
            loop {
                match session
                    .consume_session(&subscription, &handler, &shutdown, &mut ready)
                    .await
                {
                    Ok(()) => break,
                    Err(error) => {
                        if ready.is_none() && shutdown.is_cancelled() {
                            break;
                        }
                        attempt = attempt.saturating_add(1);
                        let delay = Duration::from_millis(200u64 << attempt.min(5))
                            .min(Duration::from_secs(5));
                        tracing::warn!(%error, ?delay, service = %subscription.service, "consumer disconnected; reconnecting");
                        tokio::select! {
                            _ = shutdown.cancelled() => break,
                            _ = tokio::time::sleep(delay) => {}
                        }
                    }
                }
            }
        });
        match ready_rx.await {
            Ok(Ok(())) => Ok(task),
            Ok(Err(error)) => {
                task.abort();
                Err(error)
            }
            Err(_) => Err(BusError::Unavailable(
                "consumer task ended before it was ready".into(),
            )),
        }
    }
}

//! The inbox: a consumer records each handled message id in the same transaction as the message's effect,
//! so a redelivery finds the id and changes nothing.

use std::sync::Arc;

use async_trait::async_trait;
use prost::Message;
use tracing::Instrument;

use suiji_api::events::v1::Envelope;
use suiji_api::topics::Heard;

use crate::bus::{Handler, IncomingMessage, Outcome};
use crate::db::{Db, Tx, now_ms};

/// Why handling a message failed.
#[derive(Debug, thiserror::Error)]
pub enum HandleError {
    /// May pass on retry (database unavailable, a lock timeout).
    #[error("transient: {0}")]
    Transient(String),
    /// Will never pass (the message is malformed or breaks a rule for good).
    #[error("permanent: {0}")]
    Permanent(String),
}

impl From<sqlx::Error> for HandleError {
    fn from(error: sqlx::Error) -> Self {
        Self::Transient(error.to_string())
    }
}

/// The payload of `envelope` as `M`; a missing or undecodable payload will never pass, so it is permanent.
pub fn payload<M: prost::Message + prost::Name + Default>(
    envelope: &Envelope,
) -> Result<M, HandleError> {
    envelope
        .payload
        .as_ref()
        .ok_or_else(|| HandleError::Permanent("no payload".into()))?
        .to_msg::<M>()
        .map_err(|e| HandleError::Permanent(format!("payload: {e}")))
}

/// Deliveries this process received under a routing key their consumer does not hear (it only grows).
static UNHEARD: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// How many deliveries this process received under a key their consumer does not hear: a queue bound to more
/// than its consumer handles, or a sender's mistake.
pub fn unheard_so_far() -> u64 {
    UNHEARD.load(std::sync::atomic::Ordering::Relaxed)
}

/// What `envelope` carries, as one of the topics `H` hears (`suiji_api::heard!`). A key `H` does not hear is
/// counted ([`unheard_so_far`]), logged at warn and `None`; a missing or undecodable payload will never pass, so
/// it is permanent.
pub fn heard<H: Heard>(envelope: &Envelope) -> Result<Option<H>, HandleError> {
    let any = envelope
        .payload
        .as_ref()
        .ok_or_else(|| HandleError::Permanent("no payload".into()))?;
    match H::decode(&envelope.r#type, any) {
        Some(decoded) => decoded
            .map(Some)
            .map_err(|e| HandleError::Permanent(format!("payload: {e}"))),
        None => {
            UNHEARD.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            tracing::warn!(
                routing_key = %envelope.r#type,
                source = %envelope.source,
                id = %envelope.id,
                "a message this consumer does not hear; its queue should not be bound to it"
            );
            Ok(None)
        }
    }
}

/// A delivery handed to [`TxHandler::handle_all`]: its envelope and the span it is traced under.
pub struct Delivery<'a> {
    /// The message.
    pub envelope: &'a Envelope,
    /// Its `consume` span, child of the publisher's trace.
    pub span: &'a tracing::Span,
}

/// Applies a message's effect inside the inbox's transaction.
#[async_trait]
pub trait TxHandler: Send + Sync + 'static {
    /// Handles `envelope` within `tx`; the inbox commits when this returns `Ok`.
    async fn handle(&self, tx: &mut Tx, envelope: &Envelope) -> Result<(), HandleError>;

    /// Handles the new deliveries of one transaction, in order: one by one unless the handler does better (say,
    /// one statement for the effects of all of them). An error rolls the whole transaction back, and the inbox
    /// then handles each delivery alone, so the one at fault fails by itself.
    async fn handle_all(&self, tx: &mut Tx, batch: &[Delivery<'_>]) -> Result<(), HandleError> {
        for d in batch {
            self.handle(tx, d.envelope)
                .instrument(d.span.clone())
                .await?;
        }
        Ok(())
    }
}

/// [`TxHandler::handle`] for a handler whose work is in its [`TxHandler::handle_all`]: `envelope` as a batch of
/// one, traced under the current span.
pub async fn handle_one<H: TxHandler + ?Sized>(
    handler: &H,
    tx: &mut Tx,
    envelope: &Envelope,
) -> Result<(), HandleError> {
    let span = tracing::Span::current();
    handler
        .handle_all(
            tx,
            &[Delivery {
                envelope,
                span: &span,
            }],
        )
        .await
}

/// What a transaction may have written is told by two counters read before it began.
#[derive(Clone, Copy)]
struct Before {
    prepared: u64,
    added: u64,
}

impl Before {
    fn now() -> Self {
        Self {
            prepared: crate::outbox::prepared_so_far(),
            added: crate::jobs::added_so_far(),
        }
    }
}

/// Deliveries handled in one transaction at most, unless [`Inbox::batching`] says otherwise.
pub const DEFAULT_BATCH: usize = 32;
/// Transactions one inbox runs at once, unless [`Inbox::batching`] says otherwise.
pub const DEFAULT_TRANSACTIONS: usize = 4;

/// Rows of one inbox insert: 3 parameters each, within SQLite's 999.
const INSERT_ROWS: usize = 300;

/// Wraps a [`TxHandler`] with decoding, deduplication, tracing and group commit.
///
/// Deliveries that arrive while the inbox's transactions are busy wait, and the next free transaction takes
/// up to a batch of them: their ids are recorded with one insert, each is handled in turn, and one commit
/// makes them all handled. If any of them fails, the whole transaction is rolled back and each is handled
/// again in a transaction of its own, so one bad message never fails the others and a batch is never half
/// done. With little traffic every delivery is its own batch.
pub struct Inbox<H> {
    shared: Arc<Shared<H>>,
}

struct Shared<H> {
    db: Db,
    handler: H,
    after_commit: Option<Arc<crate::outbox::Wake>>,
    /// Woken after a commit that added jobs: the service's job worker.
    jobs: Option<Arc<crate::jobs::Wake>>,
    batch: usize,
    transactions: usize,
    state: std::sync::Mutex<Waiting>,
}

/// Deliveries not yet taken, and how many transactions are running.
#[derive(Default)]
struct Waiting {
    queue: std::collections::VecDeque<Pending>,
    running: usize,
}

struct Pending {
    routing_key: String,
    envelope: Envelope,
    span: tracing::Span,
    done: tokio::sync::oneshot::Sender<Result<bool, HandleError>>,
}

impl<H: TxHandler> Inbox<H> {
    /// An inbox in `db` around `handler`.
    pub fn new(db: Db, handler: H) -> Self {
        Self {
            shared: Arc::new(Shared {
                db,
                handler,
                after_commit: None,
                jobs: None,
                batch: DEFAULT_BATCH,
                transactions: DEFAULT_TRANSACTIONS,
                state: std::sync::Mutex::new(Waiting::default()),
            }),
        }
    }

    fn configure(self, change: impl FnOnce(&mut Shared<H>)) -> Self {
        let mut shared = Arc::into_inner(self.shared).expect("configured before use");
        change(&mut shared);
        Self {
            shared: Arc::new(shared),
        }
    }

    /// Wakes `notify` after each commit (the service's outbox relay, when handlers emit events).
    pub fn waking(self, notify: Arc<crate::outbox::Wake>) -> Self {
        self.configure(|s| s.after_commit = Some(notify))
    }

    /// Wakes `jobs` after each commit that added jobs (the service's job worker).
    pub fn waking_jobs(self, jobs: Arc<crate::jobs::Wake>) -> Self {
        self.configure(|s| s.jobs = Some(jobs))
    }

    /// Handles up to `batch` deliveries per transaction, in up to `transactions` transactions at once.
    pub fn batching(self, batch: usize, transactions: usize) -> Self {
        self.configure(|s| {
            s.batch = batch.max(1);
            s.transactions = transactions.max(1);
        })
    }
}

impl<H: TxHandler> Shared<H> {
    /// Takes batches until none is waiting.
    async fn work(self: Arc<Self>) {
        loop {
            let batch: Vec<Pending> = {
                let mut waiting = self.state.lock().expect("inbox state");
                if waiting.queue.is_empty() {
                    waiting.running -= 1;
                    return;
                }
                let n = waiting.queue.len().min(self.batch);
                waiting.queue.drain(..n).collect()
            };
            // A handler that panics loses its batch's answers (those deliveries are retried), not the worker.
            let _ = futures::FutureExt::catch_unwind(std::panic::AssertUnwindSafe(self.run(batch)))
                .await;
        }
    }

    async fn run(&self, batch: Vec<Pending>) {
        if batch.len() > 1 {
            let span = tracing::debug_span!("inbox_batch", size = batch.len());
            let before = Before::now();
            match self.together(&batch).instrument(span).await {
                Ok(handled) => {
                    if handled.iter().any(|h| *h) {
                        self.committed(before);
                    }
                    for (p, h) in batch.into_iter().zip(handled) {
                        let _ = p.done.send(Ok(h));
                    }
                    return;
                }
                Err(error) => {
                    tracing::debug!(%error, "a batch failed; handling its deliveries one by one");
                }
            }
        }
        for p in batch {
            let before = Before::now();
            let result = self
                .together(std::slice::from_ref(&p))
                .await
                .map(|handled| handled[0]);
            if matches!(result, Ok(true)) {
                self.committed(before);
            }
            let _ = p.done.send(result);
        }
    }

    /// A transaction committed: the relay is woken if events may have been written since `before` (what
    /// [`crate::outbox::prepared_so_far`] said when it began; a handler that wrote none wakes nothing), and the job
    /// worker if jobs may have been added.
    fn committed(&self, before: Before) {
        if let Some(wake) = &self.after_commit
            && crate::outbox::prepared_so_far() != before.prepared
        {
            wake.wake();
        }
        if let Some(jobs) = &self.jobs
            && crate::jobs::added_so_far() != before.added
        {
            jobs.wake();
        }
    }

    /// Handles `batch` (one delivery or many) in one transaction; whether each was new (a repeated id within it
    /// counts once).
    async fn together(&self, batch: &[Pending]) -> Result<Vec<bool>, HandleError> {
        let mut tx = self.db.begin().await?;
        let mut seen = std::collections::HashSet::new();
        let unique: Vec<&Pending> = batch
            .iter()
            .filter(|p| seen.insert(p.envelope.id.as_str()))
            .collect();
        let mut new = std::collections::HashSet::new();
        let now = now_ms();
        for chunk in unique.chunks(INSERT_ROWS) {
            let mut insert = sqlx::query(sqlx::AssertSqlSafe(format!(
                "INSERT INTO inbox (message_id, routing_key, handled_at) VALUES {} \
                 ON CONFLICT (message_id) DO NOTHING RETURNING message_id",
                crate::db::values_list(chunk.len(), 3)
            )));
            for p in chunk {
                insert = insert.bind(&p.envelope.id).bind(&p.routing_key).bind(now);
            }
            let ids: Vec<String> = insert
                .fetch_all(&mut *tx)
                .await?
                .iter()
                .map(|r| sqlx::Row::try_get(r, 0))
                .collect::<Result<_, _>>()?;
            new.extend(ids);
        }
        let mut handled = Vec::with_capacity(batch.len());
        let mut firsts = Vec::with_capacity(new.len());
        for p in batch {
            // The first delivery of an id takes it out of `new`; a repeat finds it handled.
            let first = new.remove(&p.envelope.id);
            if first {
                firsts.push(Delivery {
                    envelope: &p.envelope,
                    span: &p.span,
                });
            } else {
                tracing::debug!(parent: &p.span, "duplicate delivery dropped by the inbox");
            }
            handled.push(first);
        }
        if !firsts.is_empty() {
            self.handler.handle_all(&mut tx, &firsts).await?;
        }
        tx.commit().await?;
        Ok(handled)
    }
}

#[async_trait]
impl<H: TxHandler> Handler for Inbox<H> {
    async fn handle(&self, message: IncomingMessage) -> Outcome {
        let envelope = match Envelope::decode(message.body.as_slice()) {
            Ok(e) if !e.id.is_empty() => e,
            Ok(_) => return Outcome::Reject("envelope without id".into()),
            Err(error) => return Outcome::Reject(format!("undecodable envelope: {error}")),
        };
        // The broker checks who may publish a routing key (docs/security.md), not what the body says: an envelope
        // naming another type than the key it came under is dead-lettered unread.
        if envelope.r#type != message.routing_key {
            return Outcome::Reject(format!(
                "envelope of type {:?} under routing key {:?}",
                envelope.r#type, message.routing_key
            ));
        }
        let span =
            tracing::info_span!("consume", routing_key = %message.routing_key, id = %envelope.id);
        crate::telemetry::set_parent_from(&span, &message.headers);
        let (done, answer) = tokio::sync::oneshot::channel();
        let start = {
            let mut waiting = self.shared.state.lock().expect("inbox state");
            waiting.queue.push_back(Pending {
                routing_key: message.routing_key,
                envelope,
                span,
                done,
            });
            let start = waiting.running < self.shared.transactions;
            if start {
                waiting.running += 1;
            }
            start
        };
        if start {
            tokio::spawn(self.shared.clone().work());
        }
        match answer.await {
            Ok(Ok(_)) => Outcome::Ack,
            Ok(Err(HandleError::Transient(reason))) => Outcome::Retry(reason),
            Ok(Err(HandleError::Permanent(reason))) => Outcome::Reject(reason),
            Err(_) => Outcome::Retry("the inbox stopped before handling the message".into()),
        }
    }
}

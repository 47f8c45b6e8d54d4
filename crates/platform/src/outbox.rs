//! The transactional outbox and its relay.
//!
//! A service writes each event with [`enqueue`] in the same transaction as the change it describes. The
//! [`Relay`] publishes unsent rows in order with confirms and marks them sent; it runs when woken by a commit
//! and on a timer, so rows left behind by a crash (published but not marked, or never published) are swept
//! up at the next round. Publishing twice is harmless: consumers' inboxes drop duplicates.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use futures::future::join_all;
use prost::{Message, Name};
use sqlx::{AssertSqlSafe, Row};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use suiji_api::events::v1::Envelope;
use suiji_api::topics::Topic;

use crate::bus::{Bus, OutgoingMessage};
use crate::db::{Db, Dialect, Tx, now_ms};

/// An event to emit: the payload and where it belongs.
#[derive(Debug, Clone)]
pub struct Event {
    /// Routing key `<service>.<entity>.<verb>`.
    pub routing_key: String,
    /// Correlation id: the task for saga traffic, else the entity.
    pub correlation_id: String,
    /// The message that caused this one, if any.
    pub causation_id: String,
    /// Encoded payload as `google.protobuf.Any`.
    pub payload: prost_types::Any,
}

impl Event {
    /// An event of topic `T` (its routing key and payload type declared in `suiji_api::topics`).
    pub fn new<T: Topic>(correlation_id: &str, payload: &T::Payload) -> Self {
        Self::under(T::KEY, correlation_id, payload)
    }

    /// An event with `payload` under `routing_key`, for a key that is no topic of `suiji_api::topics`: a family
    /// of keys declared with a function (the audit anchors), or the platform's own tests and benchmark. A service's
    /// events go through [`Event::new`].
    pub fn under<M: Message + Name>(routing_key: &str, correlation_id: &str, payload: &M) -> Self {
        Self {
            routing_key: routing_key.to_string(),
            correlation_id: correlation_id.to_string(),
            causation_id: String::new(),
            payload: prost_types::Any::from_msg(payload)
                .expect("encoding a message into Any cannot fail"),
        }
    }

    /// The same event, caused by message `causation_id`.
    pub fn caused_by(mut self, causation_id: &str) -> Self {
        self.causation_id = causation_id.to_string();
        self
    }
}

/// Writes `event` into the outbox inside the caller's transaction and returns the envelope id.
#[tracing::instrument(skip_all, fields(routing_key = %event.routing_key))]
pub async fn enqueue(tx: &mut Tx, source: &str, event: Event) -> Result<String, sqlx::Error> {
    let mut ids = enqueue_all(tx, source, vec![event]).await?;
    Ok(ids.pop().expect("one id per event"))
}

/// How many times this process has made events ready for an outbox (it only grows). A transaction that writes
/// events moves it before it commits, so a transaction that leaves it as it found it wrote none.
static PREPARED: AtomicU64 = AtomicU64::new(0);

/// See [`PREPARED`]: compare it before and after a transaction to learn whether the transaction may have written
/// events (another task's events move it too; that only means a relay round that finds nothing).
pub fn prepared_so_far() -> u64 {
    PREPARED.load(Ordering::SeqCst)
}

/// Rows of one outbox insert: 5 parameters each.
const INSERT_ROWS: usize = 100;

/// Events made ready for the outbox: each given its envelope id and encoded, with the current trace's headers.
/// [`enqueue_all`] writes them in a transaction; a store that writes a change in one statement puts
/// [`Prepared::insert_sql`] into it and binds [`Prepared::bind`].
pub struct Prepared {
    /// Envelope id, routing key, encoded envelope.
    rows: Vec<(String, String, Vec<u8>)>,
    headers: String,
    now: i64,
}

impl Prepared {
    /// `events` from `source`, in order.
    pub fn new(source: &str, events: Vec<Event>) -> Self {
        if !events.is_empty() {
            PREPARED.fetch_add(1, Ordering::SeqCst);
        }
        let headers = crate::telemetry::current_trace_headers();
        let now = now_ms();
        let rows = events
            .into_iter()
            .map(|event| {
                let id = uuid::Uuid::now_v7().to_string();
                let envelope = Envelope {
                    id: id.clone(),
                    r#type: event.routing_key.clone(),
                    source: source.to_string(),
                    time: Some(prost_types::Timestamp {
                        seconds: now.div_euclid(1000),
                        nanos: (now.rem_euclid(1000) * 1_000_000) as i32,
                    }),
                    correlation_id: event.correlation_id,
                    causation_id: event.causation_id,
                    traceparent: headers.get("traceparent").cloned().unwrap_or_default(),
                    tracestate: headers.get("tracestate").cloned().unwrap_or_default(),
                    payload: Some(event.payload),
                };
                (id, event.routing_key, envelope.encode_to_vec())
            })
            .collect();
        Self {
            rows,
            headers: serde_json::to_string(&headers).unwrap_or_else(|_| "{}".into()),
            now,
        }
    }

    /// Their envelope ids, in order.
    pub fn ids(&self) -> Vec<String> {
        self.rows.iter().map(|(id, _, _)| id.clone()).collect()
    }

    /// An insert of every event (PostgreSQL; to go into a `WITH`), its parameters numbered from `first`, its
    /// rows written only when `only_if` (an SQL condition) holds. Nothing to insert is a `SELECT` of no rows.
    pub fn insert_sql(&self, first: usize, only_if: &str) -> String {
        if self.rows.is_empty() {
            return "SELECT 1 WHERE false".into();
        }
        let values = crate::db::values_rows_from(first, self.rows.len(), 5, |p| {
            format!("({})", p.join(", "))
        });
        format!(
            "INSERT INTO outbox (id, routing_key, body, headers, created_at) \
             SELECT * FROM (VALUES {values}) AS e WHERE {only_if}"
        )
    }

    /// Binds the parameters of [`Self::insert_sql`] (five per event) after those already bound to `query`.
    pub fn bind<'q>(
        &'q self,
        query: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments>,
    ) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments> {
        self.bind_rows(query, &self.rows)
    }

    /// Binds five parameters for each of `rows` (some of this one's) after those already bound to `query`.
    fn bind_rows<'q>(
        &'q self,
        mut query: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments>,
        rows: &'q [(String, String, Vec<u8>)],
    ) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments> {
        for (id, routing_key, body) in rows {
            query = query
                .bind(id)
                .bind(routing_key)
                .bind(body)
                .bind(&self.headers)
                .bind(self.now);
        }
        query
    }
}

/// Writes `events`, in order, into the outbox inside the caller's transaction with one insert (per hundred);
/// returns their envelope ids.
pub async fn enqueue_all(
    tx: &mut Tx,
    source: &str,
    events: Vec<Event>,
) -> Result<Vec<String>, sqlx::Error> {
    write_prepared(tx, &Prepared::new(source, events)).await
}

/// Writes `prepared` into the outbox on `conn`, in the caller's transaction there; returns their envelope ids.
pub async fn write_prepared(
    conn: &mut sqlx::AnyConnection,
    prepared: &Prepared,
) -> Result<Vec<String>, sqlx::Error> {
    for chunk in prepared.rows.chunks(INSERT_ROWS) {
        let insert = sqlx::query(sqlx::AssertSqlSafe(format!(
            "INSERT INTO outbox (id, routing_key, body, headers, created_at) VALUES {}",
            crate::db::values_list(chunk.len(), 5)
        )));
        prepared
            .bind_rows(insert, chunk)
            .execute(&mut *conn)
            .await?;
    }
    Ok(prepared.ids())
}

/// One unsent row.
#[derive(Debug, Clone)]
pub struct Pending {
    /// Row sequence.
    pub seq: i64,
    /// The message.
    pub message: OutgoingMessage,
}

/// Counts from one relay round.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RoundStats {
    /// Rows published and marked sent.
    pub sent: usize,
    /// Rows that failed and stay unsent.
    pub failed: usize,
}

/// What wakes a relay: a count of wake-ups besides the notification, so that a wake-up its last round already
/// answered (counted before the round's claim, so its rows were committed and claimed) starts no round of its own.
#[derive(Default)]
pub struct Wake {
    count: AtomicU64,
    notify: Notify,
}

impl Wake {
    /// Wakes the relay; call after a commit.
    pub fn wake(&self) {
        self.count.fetch_add(1, Ordering::SeqCst);
        self.notify.notify_one();
    }

    fn count(&self) -> u64 {
        self.count.load(Ordering::SeqCst)
    }
}

/// Publishes a service's outbox.
#[derive(Clone)]
pub struct Relay {
    db: Db,
    bus: Arc<dyn Bus>,
    wake: Arc<Wake>,
    batch: i64,
    poll: Duration,
    inbox_retention: Duration,
}

impl Relay {
    /// A relay for `db`'s outbox.
    pub fn new(
        db: Db,
        bus: Arc<dyn Bus>,
        batch: u32,
        poll: Duration,
        inbox_retention: Duration,
    ) -> Self {
        Self {
            db,
            bus,
            wake: Arc::new(Wake::default()),
            batch: i64::from(batch),
            poll,
            inbox_retention,
        }
    }

    /// Wakes the relay now; call after committing a transaction that enqueued events.
    pub fn notify(&self) {
        self.wake.wake();
    }

    /// A handle that wakes this relay.
    pub fn waker(&self) -> Arc<Wake> {
        self.wake.clone()
    }

    /// Runs until `shutdown`, then makes one last round.
    pub async fn run(self, shutdown: CancellationToken) {
        let mut last_purge = std::time::Instant::now() - Duration::from_secs(3600);
        // On PostgreSQL the rounds keep one connection: each connection given back to the pool costs a round
        // trip (sqlx pings it). A round that fails gives it back, and the next takes a fresh one.
        let mut held = None;
        // The wake-ups counted before the last round began: that round's claim saw their rows.
        let mut answered;
        'rounds: loop {
            loop {
                answered = self.wake.count();
                match self.round(&mut held).await {
                    Ok(stats) if stats.sent as i64 == self.batch && stats.failed == 0 => continue,
                    Ok(stats) if stats.failed > 0 => {
                        // The bus is struggling; wait before hammering it again.
                        tokio::select! {
                            _ = shutdown.cancelled() => return,
                            _ = tokio::time::sleep(Duration::from_millis(500)) => {}
                        }
                        break;
                    }
                    Ok(_) => break,
                    Err(error) => {
                        tracing::warn!(%error, service = self.db.service(), "outbox relay round failed");
                        break;
                    }
                }
            }
            if last_purge.elapsed() > Duration::from_secs(600) {
                last_purge = std::time::Instant::now();
                if let Err(error) = self.purge().await {
                    tracing::warn!(%error, "outbox/inbox purge failed");
                }
            }
            // A wake-up left from before the last round (its permit outlived the round) is passed over.
            let poll = tokio::time::sleep(self.poll);
            tokio::pin!(poll);
            loop {
                tokio::select! {
                    _ = shutdown.cancelled() => break 'rounds,
                    _ = self.wake.notify.notified() => {
                        if self.wake.count() != answered {
                            break;
                        }
                    }
                    _ = &mut poll => break,
                }
            }
        }
        if let Err(error) = self.round(&mut held).await {
            tracing::warn!(%error, "last outbox round failed");
        }
    }

    /// One round; on PostgreSQL on the connection `held` (taken from the pool if there is none, given back if
    /// the round fails).
    async fn round(
        &self,
        held: &mut Option<sqlx::pool::PoolConnection<sqlx::Any>>,
    ) -> Result<RoundStats, sqlx::Error> {
        match self.db.dialect() {
            Dialect::Postgres => {
                let mut conn = match held.take() {
                    Some(conn) => conn,
                    None => self.db.pool().acquire().await?,
                };
                let stats = self.claim_and_publish(&mut conn).await?;
                *held = Some(conn);
                Ok(stats)
            }
            Dialect::Sqlite => {
                // SQLite has one writer; holding its lock while waiting on the bus would stall the service.
                let pending = self.fetch_unsent().await?;
                let (sent, failed) = self.publish(&pending).await;
                self.mark(&sent).await?;
                Ok(RoundStats {
                    sent: sent.len(),
                    failed,
                })
            }
        }
    }

    /// Claims rows on `conn` (PostgreSQL), publishes them and commits: the rows are claimed and marked sent in
    /// one statement, and those the bus refuses are unmarked before the commit. Until then they are locked, so
    /// another relay skips them.
    async fn claim_and_publish(
        &self,
        conn: &mut sqlx::AnyConnection,
    ) -> Result<RoundStats, sqlx::Error> {
        let mut tx = sqlx::Connection::begin(conn).await?;
        let pending = claim(&mut tx, self.batch).await?;
        let (sent, failed) = self.publish(&pending).await;
        if failed > 0 {
            let refused: Vec<i64> = pending
                .iter()
                .map(|p| p.seq)
                .filter(|seq| !sent.contains(seq))
                .collect();
            unmark(&mut tx, &refused).await?;
        }
        tx.commit().await?;
        Ok(RoundStats {
            sent: sent.len(),
            failed,
        })
    }

    /// One round: fetch, publish, mark. On PostgreSQL the rows are locked (`FOR UPDATE SKIP LOCKED`) while
    /// they are published, so several replicas of a service share the work without publishing a row twice.
    pub async fn relay_once(&self) -> Result<RoundStats, sqlx::Error> {
        self.round(&mut None).await
    }

    /// The oldest unsent rows, without locking them. With [`Relay::publish`] and [`Relay::mark`], the three
    /// steps of a round, so tests can stop a relay between publishing and marking.
    pub async fn fetch_unsent(&self) -> Result<Vec<Pending>, sqlx::Error> {
        let mut conn = self.db.pool().acquire().await?;
        fetch(&mut conn, self.batch).await
    }

    /// Publishes rows concurrently; returns the seqs confirmed and the number that failed.
    pub async fn publish(&self, pending: &[Pending]) -> (Vec<i64>, usize) {
        let results = join_all(pending.iter().map(|p| self.bus.publish(&p.message))).await;
        let mut sent = Vec::with_capacity(pending.len());
        let mut failed = 0;
        let mut first_error = None;
        for (p, result) in pending.iter().zip(results) {
            match result {
                Ok(()) => sent.push(p.seq),
                Err(error) => {
                    failed += 1;
                    first_error.get_or_insert_with(|| (p.message.id.clone(), error));
                }
            }
        }
        if let Some((id, error)) = first_error {
            tracing::warn!(%error, first_id = %id, failed, "publishes failed; the rows stay unsent and will be retried");
        }
        (sent, failed)
    }

    /// Marks rows sent.
    pub async fn mark(&self, seqs: &[i64]) -> Result<(), sqlx::Error> {
        let mut tx = self.db.begin().await?;
        mark_sent(&mut tx, seqs).await?;
        tx.commit().await
    }

    /// Deletes sent outbox rows and inbox ids older than the retention.
    pub async fn purge(&self) -> Result<(), sqlx::Error> {
        let cutoff = now_ms() - self.inbox_retention.as_millis() as i64;
        sqlx::query("DELETE FROM outbox WHERE sent_at IS NOT NULL AND sent_at < $1")
            .bind(cutoff)
            .execute(self.db.pool())
            .await?;
        sqlx::query("DELETE FROM inbox WHERE handled_at < $1")
            .bind(cutoff)
            .execute(self.db.pool())
            .await?;
        Ok(())
    }
}

async fn fetch(conn: &mut sqlx::AnyConnection, batch: i64) -> Result<Vec<Pending>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT seq, id, routing_key, body, headers FROM outbox WHERE sent_at IS NULL ORDER BY seq LIMIT $1",
    )
    .bind(batch)
    .fetch_all(&mut *conn)
    .await?;
    pending(rows)
}

/// Claims up to `batch` unsent rows, oldest first, marking them sent (PostgreSQL): rows another relay holds are
/// skipped.
async fn claim(conn: &mut sqlx::AnyConnection, batch: i64) -> Result<Vec<Pending>, sqlx::Error> {
    let rows = sqlx::query(
        "UPDATE outbox SET sent_at = $1, attempts = attempts + 1 WHERE seq IN (SELECT seq FROM outbox \
         WHERE sent_at IS NULL ORDER BY seq LIMIT $2 FOR UPDATE SKIP LOCKED) \
         RETURNING seq, id, routing_key, body, headers",
    )
    .bind(now_ms())
    .bind(batch)
    .fetch_all(&mut *conn)
    .await?;
    let mut claimed = pending(rows)?;
    claimed.sort_by_key(|p| p.seq);
    Ok(claimed)
}

/// Rows claimed but refused by the bus: unsent again.
async fn unmark(conn: &mut sqlx::AnyConnection, seqs: &[i64]) -> Result<(), sqlx::Error> {
    sqlx::query(AssertSqlSafe(format!(
        "UPDATE outbox SET sent_at = NULL WHERE seq IN ({})",
        crate::db::integer_list(seqs)
    )))
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Rows read from the outbox as messages.
fn pending(rows: Vec<sqlx::any::AnyRow>) -> Result<Vec<Pending>, sqlx::Error> {
    rows.into_iter()
        .map(|row| {
            let headers: String = row.try_get("headers")?;
            Ok(Pending {
                seq: row.try_get("seq")?,
                message: OutgoingMessage {
                    id: row.try_get("id")?,
                    routing_key: row.try_get("routing_key")?,
                    body: row.try_get("body")?,
                    headers: serde_json::from_str::<HashMap<String, String>>(&headers)
                        .unwrap_or_default(),
                },
            })
        })
        .collect()
}

async fn mark_sent(conn: &mut sqlx::AnyConnection, seqs: &[i64]) -> Result<(), sqlx::Error> {
    if seqs.is_empty() {
        return Ok(());
    }
    sqlx::query(AssertSqlSafe(format!(
        "UPDATE outbox SET sent_at = $1, attempts = attempts + 1 WHERE seq IN ({})",
        crate::db::integer_list(seqs)
    )))
    .bind(now_ms())
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Rows not yet sent, for health reports and tests.
pub async fn unsent_count(db: &Db) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("SELECT COUNT(*) FROM outbox WHERE sent_at IS NULL")
        .fetch_one(db.pool())
        .await
}

//! The inbox: a consumer records each handled message id in the same transaction as the message's effect,
//! so a redelivery finds the id and changes nothing.

use std::sync::Arc;

use async_trait::async_trait;
use prost::Message;
use tracing::Instrument;

use suiji_api::events::v1::Envelope;

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

/// Applies a message's effect inside the inbox's transaction.
#[async_trait]
pub trait TxHandler: Send + Sync + 'static {
    /// Handles `envelope` within `tx`; the inbox commits when this returns `Ok`.
    async fn handle(&self, tx: &mut Tx, envelope: &Envelope) -> Result<(), HandleError>;
}

/// Wraps a [`TxHandler`] with decoding, deduplication and tracing.
pub struct Inbox<H> {
    db: Db,
    handler: H,
    after_commit: Option<Arc<tokio::sync::Notify>>,
}

impl<H: TxHandler> Inbox<H> {
    /// An inbox in `db` around `handler`.
    pub fn new(db: Db, handler: H) -> Self {
        Self {
            db,
            handler,
            after_commit: None,
        }
    }

    /// Wakes `notify` after each commit (the service's outbox relay, when handlers emit events).
    pub fn waking(mut self, notify: Arc<tokio::sync::Notify>) -> Self {
        self.after_commit = Some(notify);
        self
    }

    async fn process(
        &self,
        message: &IncomingMessage,
        envelope: &Envelope,
    ) -> Result<bool, HandleError> {
        let mut tx = self.db.begin().await?;
        let inserted = sqlx::query(
            "INSERT INTO inbox (message_id, routing_key, handled_at) VALUES ($1, $2, $3) ON CONFLICT (message_id) DO NOTHING",
        )
        .bind(&envelope.id)
        .bind(&message.routing_key)
        .bind(now_ms())
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if inserted == 0 {
            return Ok(false);
        }
        self.handler.handle(&mut tx, envelope).await?;
        tx.commit().await?;
        Ok(true)
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
        let span =
            tracing::info_span!("consume", routing_key = %message.routing_key, id = %envelope.id);
        crate::telemetry::set_parent_from(&span, &message.headers);
        match self.process(&message, &envelope).instrument(span).await {
            Ok(true) => {
                if let Some(notify) = &self.after_commit {
                    notify.notify_one();
                }
                Outcome::Ack
            }
            Ok(false) => {
                tracing::debug!("duplicate delivery dropped by the inbox");
                Outcome::Ack
            }
            Err(HandleError::Transient(reason)) => Outcome::Retry(reason),
            Err(HandleError::Permanent(reason)) => Outcome::Reject(reason),
        }
    }
}

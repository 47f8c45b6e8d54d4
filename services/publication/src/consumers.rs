//! What the publication service hears on the bus: a concluded visit makes its departments' results to enter;
//! department changes keep its copy of the departments current. Each is applied in the transaction that marks
//! its message handled, so a redelivery finds it done.

use suiji_api::events::v1::Envelope;
use suiji_api::inspection::v1 as insp;
use suiji_platform::db::Tx;
use suiji_platform::departments;
use suiji_platform::inbox::{HandleError, TxHandler, payload};

use crate::service::Publications;

/// A visit's record form is confirmed, or the target was found closed or missing.
pub const VISIT_CONCLUDED: &str = "inspection.visit.concluded";

/// Routing keys the publication service consumes.
pub const BINDINGS: &[&str] = &[VISIT_CONCLUDED, "directories.department.upserted"];

/// Handles the publication service's messages.
pub struct Consumer {
    publications: Publications,
}

impl Consumer {
    /// A consumer feeding `publications`.
    pub fn new(publications: Publications) -> Self {
        Self { publications }
    }
}

#[async_trait::async_trait]
impl TxHandler for Consumer {
    async fn handle(&self, tx: &mut Tx, envelope: &Envelope) -> Result<(), HandleError> {
        if let Some(done) = departments::apply_event(tx, envelope).await {
            return done;
        }
        if envelope.r#type == VISIT_CONCLUDED {
            let e: insp::VisitConcludedEvent = payload(envelope)?;
            return self
                .publications
                .on_visit_concluded(tx, &e)
                .await
                .map_err(|e| HandleError::Transient(e.to_string()));
        }
        tracing::debug!(routing_key = %envelope.r#type, "ignored");
        Ok(())
    }
}

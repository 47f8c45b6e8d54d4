//! What the catalog hears on the bus: department changes from the directories service, kept as a local copy
//! so item validation never calls another service.

use suiji_api::events::v1::Envelope;
use suiji_platform::db::Tx;
use suiji_platform::departments;
use suiji_platform::inbox::{HandleError, TxHandler};

/// Routing keys the catalog consumes.
pub const BINDINGS: &[&str] = &[departments::BINDING];

/// Applies department events.
pub struct Departments;

#[async_trait::async_trait]
impl TxHandler for Departments {
    async fn handle(&self, tx: &mut Tx, envelope: &Envelope) -> Result<(), HandleError> {
        departments::apply_event(tx, envelope)
            .await
            .unwrap_or_else(|| {
                tracing::debug!(routing_key = %envelope.r#type, "ignored");
                Ok(())
            })
    }
}

//! What planning hears on the bus: departments from the directories service and items from the catalog,
//! kept as local copies so a plan is checked without calling another service.

use suiji_api::catalog::v1 as cat;
use suiji_api::events::v1::Envelope;
use suiji_platform::db::Tx;
use suiji_platform::departments;
use suiji_platform::inbox::{HandleError, TxHandler, payload};

/// Routing keys planning consumes.
pub const BINDINGS: &[&str] = &[departments::BINDING, "catalog.item.*"];

/// Applies department and catalog events.
pub struct Copies;

fn item_of(envelope: &Envelope) -> Result<cat::Item, HandleError> {
    let item = match envelope.r#type.as_str() {
        "catalog.item.published" => payload::<cat::ItemPublishedEvent>(envelope)?.item,
        _ => payload::<cat::ItemRetiredEvent>(envelope)?.item,
    };
    item.ok_or_else(|| HandleError::Permanent("no item".into()))
}

#[async_trait::async_trait]
impl TxHandler for Copies {
    async fn handle(&self, tx: &mut Tx, envelope: &Envelope) -> Result<(), HandleError> {
        if let Some(done) = departments::apply_event(tx, envelope).await {
            return done;
        }
        match envelope.r#type.as_str() {
            "catalog.item.published" | "catalog.item.retired" => {
                let item = item_of(envelope)?;
                crate::store::upsert_catalog_item(tx, &item)
                    .await
                    .map_err(|e| HandleError::Transient(e.to_string()))
            }
            other => {
                tracing::debug!(routing_key = other, "ignored");
                Ok(())
            }
        }
    }
}

//! What planning hears on the bus: departments from the directories service and items from the catalog,
//! kept as local copies so a plan is checked without calling another service.

use suiji_api::catalog::v1 as cat;
use suiji_api::events::v1::Envelope;
use suiji_platform::db::Tx;
use suiji_platform::departments;
use suiji_platform::inbox::{self, HandleError, TxHandler};

suiji_api::heard! {
    /// What planning hears.
    pub enum Heard { DepartmentUpserted, ItemPublished, ItemRetired }
}

/// Applies department and catalog events.
pub struct Copies;

async fn keep_item(tx: &mut Tx, item: Option<cat::Item>) -> Result<(), HandleError> {
    let item = item.ok_or_else(|| HandleError::Permanent("no item".into()))?;
    crate::store::upsert_catalog_item(tx, &item)
        .await
        .map_err(|e| HandleError::Transient(e.to_string()))
}

#[async_trait::async_trait]
impl TxHandler for Copies {
    async fn handle(&self, tx: &mut Tx, envelope: &Envelope) -> Result<(), HandleError> {
        match inbox::heard::<Heard>(envelope)? {
            Some(Heard::DepartmentUpserted(e)) => departments::apply(tx, e).await,
            Some(Heard::ItemPublished(e)) => keep_item(tx, e.item).await,
            Some(Heard::ItemRetired(e)) => keep_item(tx, e.item).await,
            None => Ok(()),
        }
    }
}

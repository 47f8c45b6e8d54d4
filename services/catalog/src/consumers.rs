//! What the catalog hears on the bus: department changes from the directories service, kept as a local copy
//! so item validation never calls another service.

use suiji_api::events::v1::Envelope;
use suiji_platform::db::Tx;
use suiji_platform::departments;
use suiji_platform::inbox::{self, HandleError, TxHandler};

suiji_api::heard! {
    /// What the catalog hears.
    pub enum Heard { DepartmentUpserted }
}

/// Applies department events.
pub struct Departments;

#[async_trait::async_trait]
impl TxHandler for Departments {
    async fn handle(&self, tx: &mut Tx, envelope: &Envelope) -> Result<(), HandleError> {
        match inbox::heard::<Heard>(envelope)? {
            Some(Heard::DepartmentUpserted(e)) => departments::apply(tx, e).await,
            None => Ok(()),
        }
    }
}

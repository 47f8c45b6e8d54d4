//! What the publication service hears on the bus: a concluded visit makes its departments' results to enter;
//! department changes keep its copy of the departments current. Each is applied in the transaction that marks
//! its message handled, so a redelivery finds it done.

use suiji_api::events::v1::Envelope;
use suiji_platform::db::Tx;
use suiji_platform::departments;
use suiji_platform::inbox::{self, HandleError, TxHandler};

use crate::service::Publications;

suiji_api::heard! {
    /// What the publication service hears.
    pub enum Heard { VisitConcluded, DepartmentUpserted }
}

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
        match inbox::heard::<Heard>(envelope)? {
            Some(Heard::DepartmentUpserted(e)) => departments::apply(tx, e).await,
            Some(Heard::VisitConcluded(e)) => self
                .publications
                .on_visit_concluded(tx, &e)
                .await
                .map_err(|e| HandleError::Transient(e.to_string())),
            None => Ok(()),
        }
    }
}

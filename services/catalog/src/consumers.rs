//! What the catalog hears on the bus: department changes from the directories service, kept as a local copy
//! so item validation never calls another service.

use suiji_api::directories::v1 as dir;
use suiji_api::events::v1::Envelope;
use suiji_platform::db::Tx;
use suiji_platform::inbox::{HandleError, TxHandler};
use suiji_platform::reference::DepartmentSeed;

/// Routing keys the catalog consumes.
pub const BINDINGS: &[&str] = &["directories.department.*"];

/// Applies department events.
pub struct Departments;

#[async_trait::async_trait]
impl TxHandler for Departments {
    async fn handle(&self, tx: &mut Tx, envelope: &Envelope) -> Result<(), HandleError> {
        let payload = envelope
            .payload
            .as_ref()
            .ok_or_else(|| HandleError::Permanent("no payload".into()))?;
        match envelope.r#type.as_str() {
            "directories.department.upserted" => {
                let event: dir::DepartmentUpsertedEvent = payload
                    .to_msg()
                    .map_err(|e| HandleError::Permanent(format!("payload: {e}")))?;
                let d = event
                    .department
                    .ok_or_else(|| HandleError::Permanent("no department".into()))?;
                let level = match dir::DepartmentLevel::try_from(d.level) {
                    Ok(dir::DepartmentLevel::Province) => "province",
                    Ok(dir::DepartmentLevel::City) => "city",
                    Ok(dir::DepartmentLevel::County) => "county",
                    _ => {
                        return Err(HandleError::Permanent(format!(
                            "department {}: unknown level {}",
                            d.code, d.level
                        )));
                    }
                };
                let seed = DepartmentSeed {
                    code: d.code,
                    name: d.name,
                    level: level.into(),
                    region_code: d.region_code,
                };
                suiji_platform::departments::upsert(tx, &seed, d.active)
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

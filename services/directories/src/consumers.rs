//! What the directories hear on the bus: concluded visits (each target's inspection history, and the end of the
//! team's open assignments) and the draw's teams and replacements (inspectors' open assignments).

use std::collections::BTreeMap;

use suiji_api::draw::v1 as draw;
use suiji_api::events::v1::Envelope;
use suiji_api::inspection::v1 as inspection;
use suiji_platform::db::{Tx, now_ms};
use suiji_platform::inbox::{HandleError, TxHandler, payload};

use crate::domain::history::Inspection;

/// Routing keys the directories consume.
pub const BINDINGS: &[&str] = &[
    VISIT_CONCLUDED,
    TEAMS_DRAWN,
    INSPECTOR_REPLACED,
    ASSIGNMENT_RELEASED,
    CREDIT_RECORDED,
];

/// Inspectors left visits that had not taken place (their department withdrew).
pub const ASSIGNMENT_RELEASED: &str = "inspection.assignment.released";

/// A visit's record form is confirmed.
pub const VISIT_CONCLUDED: &str = "inspection.visit.concluded";
/// Teams are drawn.
pub const TEAMS_DRAWN: &str = "draw.teams.drawn";
/// A drawn inspector was replaced.
pub const INSPECTOR_REPLACED: &str = "draw.inspector.replaced";

/// A published result made a credit record.
pub const CREDIT_RECORDED: &str = "publication.credit.recorded";

/// The risk flags a credit record raises: a target that cannot be reached at its address, did not publish what
/// it must or published false information goes on the abnormal-operations list (企业信息公示暂行条例 第十七条);
/// false information, a serious refusal to be inspected and an opened case make it a key focus, which the draw
/// treats as high risk.
pub fn credit_flags(kind: &str) -> Option<(bool, bool)> {
    match kind {
        "abnormal_operations" => Some((true, false)),
        "false_disclosure" => Some((true, true)),
        "refused_inspection" | "case_opened" => Some((false, true)),
        _ => None,
    }
}

/// `delta` for every occurrence of an inspector in `ids`.
fn each(ids: Vec<String>, delta: i64) -> BTreeMap<String, i64> {
    let mut changes = BTreeMap::new();
    for id in ids {
        *changes.entry(id).or_default() += delta;
    }
    changes
}

/// Keeps history and workloads.
pub struct History;

#[async_trait::async_trait]
impl TxHandler for History {
    async fn handle(&self, tx: &mut Tx, envelope: &Envelope) -> Result<(), HandleError> {
        match envelope.r#type.as_str() {
            VISIT_CONCLUDED => {
                let e: inspection::VisitConcludedEvent = payload(envelope)?;
                let Ok(date) = e.visit_date.parse::<chrono::NaiveDate>() else {
                    return Err(HandleError::Permanent(format!(
                        "visit {}: visit_date {:?} is not YYYY-MM-DD",
                        e.visit_id, e.visit_date
                    )));
                };
                let rows: Vec<Inspection> = e
                    .outcomes
                    .iter()
                    .map(|o| Inspection {
                        target_id: e.target_id.clone(),
                        task_id: e.task_id.clone(),
                        department: o.department_code.clone(),
                        // Looked up in the registry by the insert.
                        level: String::new(),
                        date,
                        problem_found: o.problem_found,
                    })
                    .collect();
                crate::history::record(tx, &rows).await?;
                crate::workload::record(tx, each(e.inspector_ids, -1)).await?;
                Ok(())
            }
            TEAMS_DRAWN => {
                let e: draw::TeamsDrawnEvent = payload(envelope)?;
                let changes = e
                    .seats
                    .into_iter()
                    .map(|s| (s.inspector_id, i64::from(s.seats)))
                    .collect();
                crate::workload::record(tx, changes).await?;
                Ok(())
            }
            INSPECTOR_REPLACED => {
                let e: draw::InspectorReplacedEvent = payload(envelope)?;
                let r = e
                    .replacement
                    .ok_or_else(|| HandleError::Permanent("no replacement".into()))?;
                let mut changes = BTreeMap::new();
                *changes.entry(r.replaced_inspector_id).or_default() -= 1;
                *changes.entry(r.replacement_inspector_id).or_default() += 1;
                crate::workload::record(tx, changes).await?;
                Ok(())
            }
            ASSIGNMENT_RELEASED => {
                let e: inspection::AssignmentReleasedEvent = payload(envelope)?;
                crate::workload::record(tx, each(e.inspector_ids, -1)).await?;
                Ok(())
            }
            CREDIT_RECORDED => {
                let e: suiji_api::publication::v1::CreditRecordedEvent = payload(envelope)?;
                let Some((abnormal, key_focus)) = credit_flags(&e.kind) else {
                    tracing::warn!(kind = %e.kind, "credit record of an unknown kind; no flag raised");
                    return Ok(());
                };
                // Flags are raised, never lowered here: leaving the list is a decision of its own. Neither flag
                // is a snapshot filter column, so the target segments stay as they are.
                sqlx::query(
                    "UPDATE targets SET abnormal = CASE WHEN $1 = 1 THEN 1 ELSE abnormal END, \
                     key_focus = CASE WHEN $2 = 1 THEN 1 ELSE key_focus END, updated_at = $3 WHERE id = $4",
                )
                .bind(i64::from(abnormal))
                .bind(i64::from(key_focus))
                .bind(now_ms())
                .bind(&e.target_id)
                .execute(&mut **tx)
                .await?;
                Ok(())
            }
            other => {
                tracing::debug!(routing_key = other, "ignored");
                Ok(())
            }
        }
    }
}

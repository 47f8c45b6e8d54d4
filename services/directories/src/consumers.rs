//! What the directories hear on the bus: concluded visits (each target's inspection history, and the end of the
//! team's open assignments) and the draw's teams and replacements (inspectors' open assignments).

use std::collections::BTreeMap;

use suiji_api::events::v1::Envelope;
use suiji_platform::db::Tx;
use suiji_platform::inbox::{self, Delivery, HandleError, TxHandler};
use tracing::Instrument;

use crate::domain::history::Inspection;

suiji_api::heard! {
    /// What the directories hear.
    pub enum Heard { VisitConcluded, TeamsDrawn, InspectorReplaced, AssignmentReleased, CreditRecorded }
}

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

/// What a batch of messages changes: history rows, in delivery order (a later report of a part replaces an
/// earlier one), and workload changes, summed (their order does not matter).
#[derive(Default)]
struct Changes {
    rows: Vec<Inspection>,
    workloads: BTreeMap<String, i64>,
}

impl Changes {
    /// `delta` more open assignments for `inspector`.
    fn add(&mut self, inspector: String, delta: i64) {
        *self.workloads.entry(inspector).or_default() += delta;
    }

    /// Writes them: a few statements however many messages they came from.
    async fn apply(self, tx: &mut Tx) -> Result<(), HandleError> {
        if !self.rows.is_empty() {
            crate::history::record(tx, &self.rows).await?;
        }
        crate::workload::record(tx, self.workloads).await?;
        Ok(())
    }
}

/// Keeps history and workloads.
pub struct History;

impl History {
    /// Adds what `envelope` changes to `changes`; a credit record's flags are raised at once.
    async fn collect(
        &self,
        tx: &mut Tx,
        envelope: &Envelope,
        changes: &mut Changes,
    ) -> Result<(), HandleError> {
        let Some(heard) = inbox::heard::<Heard>(envelope)? else {
            return Ok(());
        };
        match heard {
            Heard::VisitConcluded(e) => {
                let Ok(date) = e.visit_date.parse::<chrono::NaiveDate>() else {
                    return Err(HandleError::Permanent(format!(
                        "visit {}: visit_date {:?} is not YYYY-MM-DD",
                        e.visit_id, e.visit_date
                    )));
                };
                changes.rows.extend(e.outcomes.iter().map(|o| Inspection {
                    target_id: e.target_id.clone(),
                    task_id: e.task_id.clone(),
                    department: o.department_code.clone(),
                    // Looked up in the registry by the insert.
                    level: String::new(),
                    date,
                    problem_found: o.problem_found,
                }));
                for inspector in e.inspector_ids {
                    changes.add(inspector, -1);
                }
            }
            Heard::TeamsDrawn(e) => {
                for seat in e.seats {
                    changes.add(seat.inspector_id, i64::from(seat.seats));
                }
            }
            Heard::InspectorReplaced(e) => {
                let r = e
                    .replacement
                    .ok_or_else(|| HandleError::Permanent("no replacement".into()))?;
                changes.add(r.replaced_inspector_id, -1);
                changes.add(r.replacement_inspector_id, 1);
            }
            Heard::AssignmentReleased(e) => {
                for inspector in e.inspector_ids {
                    changes.add(inspector, -1);
                }
            }
            Heard::CreditRecorded(e) => {
                let Some((abnormal, key_focus)) = credit_flags(&e.kind) else {
                    tracing::warn!(kind = %e.kind, "credit record of an unknown kind; no flag raised");
                    return Ok(());
                };
                // Flags are raised, never lowered here: leaving the list is a decision of its own. The change
                // is recorded and audited as its own writer, named after the event.
                crate::changes::raise_flags(
                    tx,
                    &format!("credit:{}", envelope.id),
                    &e.target_id,
                    (abnormal, key_focus),
                    format!(
                        "{}: {} from result {} of {}",
                        e.target_id, e.kind, e.result_id, e.department_code
                    ),
                )
                .await?;
            }
        }
        Ok(())
    }
}

#[async_trait::async_trait]
impl TxHandler for History {
    async fn handle(&self, tx: &mut Tx, envelope: &Envelope) -> Result<(), HandleError> {
        inbox::handle_one(self, tx, envelope).await
    }

    /// The history rows and workload changes of the whole batch are written together.
    async fn handle_all(&self, tx: &mut Tx, batch: &[Delivery<'_>]) -> Result<(), HandleError> {
        let mut changes = Changes::default();
        for d in batch {
            self.collect(tx, d.envelope, &mut changes)
                .instrument(d.span.clone())
                .await?;
        }
        changes.apply(tx).await
    }
}

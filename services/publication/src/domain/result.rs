//! One department's result on one item of one inspected target, from the visit's findings to the public record:
//! 未录入 → 待审核 → 审核退回 / 不通过 → 审核通过 → 已公示, or 不予公示 with a reason and the head's approval. A
//! published result is corrected, never edited: the original stays beside the correction.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use suiji_platform::error::Error;
use suiji_platform::messages::Text;
use suiji_platform::validation::{Denied, NotNow, Violations, msg};

use super::codes::CodeTable;

/// Where a result stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum State {
    /// 未录入.
    NotEntered,
    /// 待审核.
    AwaitingReview,
    /// 审核退回: the entry is kept for editing.
    Returned,
    /// 审核不通过: entered anew.
    Rejected,
    /// 审核通过.
    Approved,
    /// 已公示.
    Published,
    /// 不予公示: archived.
    Withheld,
}

impl State {
    /// Every state.
    pub const ALL: [State; 7] = [
        State::NotEntered,
        State::AwaitingReview,
        State::Returned,
        State::Rejected,
        State::Approved,
        State::Published,
        State::Withheld,
    ];

    /// Its name in the `state` column.
    pub fn as_str(self) -> &'static str {
        match self {
            State::NotEntered => "not_entered",
            State::AwaitingReview => "awaiting_review",
            State::Returned => "returned",
            State::Rejected => "rejected",
            State::Approved => "approved",
            State::Published => "published",
            State::Withheld => "withheld",
        }
    }

    /// Done with: published or withheld, so never overdue.
    pub fn is_final(self) -> bool {
        matches!(self, State::Published | State::Withheld)
    }

    /// Entered: awaiting review or beyond (a returned entry counts; a rejected one does not).
    pub fn is_entered(self) -> bool {
        !matches!(self, State::NotEntered | State::Rejected)
    }
}

/// Follow-up of a result (后续处置).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Disposal {
    /// 无需后续处置.
    None,
    /// 责令整改.
    OrderedToCorrect,
    /// 立案调查.
    CaseOpened,
    /// 移送主管部门 / 办案机构.
    Transferred,
    /// 抄告相关部门.
    Notified,
}

impl Disposal {
    /// What the public record says.
    pub fn text(self) -> &'static str {
        match self {
            Disposal::None => "无需后续处置",
            Disposal::OrderedToCorrect => "责令整改",
            Disposal::CaseOpened => "立案调查",
            Disposal::Transferred => "移送主管部门",
            Disposal::Notified => "抄告相关部门",
        }
    }

    /// It sends the problem to another department, which must be named.
    pub fn names_a_department(self) -> bool {
        matches!(self, Disposal::Transferred | Disposal::Notified)
    }
}

/// What a department enters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Content {
    /// Result codes.
    pub codes: Vec<String>,
    /// Follow-up.
    pub disposal: Disposal,
    /// The department a transfer or notice goes to.
    pub disposal_department: String,
    /// Details.
    pub note: String,
}

/// Longest note kept.
pub const MAX_NOTE_CHARS: usize = 2000;

/// One step of a result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Step {
    /// Epoch ms.
    pub at: i64,
    /// Who.
    pub actor: String,
    /// What.
    pub kind: String,
    /// Details: data (the codes entered), a person's reason, or what the service says.
    pub detail: Text,
}

/// A correction of a published result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Correction {
    /// Epoch ms.
    pub at: i64,
    /// What was published before.
    pub previous: Content,
    /// The code table version of `previous`.
    pub previous_table: String,
    /// Why.
    pub reason: String,
    /// The head who signed it off.
    pub signed_off_by: String,
}

/// The id of the result of `department` on `item` at visit `visit_id`: `TASK/TARGET/DEPARTMENT/ITEM`.
pub fn id_of(visit_id: &str, department: &str, item: &str) -> String {
    format!("{visit_id}/{department}/{item}")
}

/// A result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Result {
    /// `TASK/TARGET/DEPARTMENT/ITEM`.
    pub id: String,
    /// Task.
    pub task_id: String,
    /// Task name.
    pub task_name: String,
    /// Visit.
    pub visit_id: String,
    /// Target id.
    pub target_id: String,
    /// Credit code.
    pub credit_code: String,
    /// Target name.
    pub target_name: String,
    /// Inspecting department.
    pub department: String,
    /// Item code.
    pub item: String,
    /// Item name.
    pub item_name: String,
    /// Type shown publicly.
    pub inspection_type: String,
    /// Day of the visit.
    pub inspection_date: NaiveDate,
    /// `inspected`, `not_found`, `closed`.
    pub visit_outcome: String,
    /// The visit found a problem on this item.
    pub problem_found: bool,
    /// The problems' notes.
    pub problems: Vec<String>,
    /// Codes that follow from the visit.
    pub suggested: Vec<String>,
    /// State.
    pub state: State,
    /// What was entered; the current content once published.
    pub content: Option<Content>,
    /// Code table version of `content`.
    pub table: String,
    /// Last day to publish.
    pub due: Option<NaiveDate>,
    /// `due` was counted through a year whose notice is not loaded yet: it may move when the notice comes.
    #[serde(default)]
    pub due_provisional: bool,
    /// The day `due` is counted from (the visit's conclusion), kept to count it again when a notice is loaded.
    #[serde(default)]
    pub due_from: Option<NaiveDate>,
    /// Why returned, rejected or withheld.
    pub reason: String,
    /// When published (epoch ms).
    pub published_at: Option<i64>,
    /// Corrections, oldest first.
    pub corrections: Vec<Correction>,
    /// Every step.
    pub history: Vec<Step>,
    /// A request to withhold it, waiting on the head.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub withholding: Option<WithholdingRequest>,
}

/// A request to withhold a result (不予公示): the person handling it gives the reason, the head decides (seed 001:
/// 经办人说明理由、主要负责人同意).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WithholdingRequest {
    /// Who asked.
    pub by: String,
    /// Why it may not be made public.
    pub reason: String,
    /// When (epoch ms).
    pub at: i64,
}

/// How a reviewer decides.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// 审核通过.
    Approve,
    /// 审核退回.
    Return,
    /// 审核不通过.
    Reject,
}

fn not_now(why: impl Into<Text>) -> Error {
    NotNow(why.into()).into()
}

impl Result {
    /// Codes that follow from the visit: nothing found → 未发现问题; not found at the address → 无法联系; closed →
    /// 已关闭停业; a problem → none (the department says which).
    pub fn suggest(table: &CodeTable, visit_outcome: &str, problem_found: bool) -> Vec<String> {
        let by_text = |needle: &str| {
            table
                .current()
                .find(|c| c.text.contains(needle))
                .map(|c| c.code.clone())
        };
        match visit_outcome {
            "not_found" => by_text("无法联系").into_iter().collect(),
            "closed" => by_text("已关闭").into_iter().collect(),
            _ if problem_found => Vec::new(),
            _ => table
                .no_problem()
                .map(|c| c.code.clone())
                .into_iter()
                .collect(),
        }
    }

    fn step(&mut self, at: i64, actor: &str, kind: &str, detail: impl Into<Text>) {
        self.history.push(Step {
            at,
            actor: actor.to_string(),
            kind: kind.to_string(),
            detail: detail.into(),
        });
    }

    /// Checks `content` against the table in force and the visit: known, current codes, none twice; a code that
    /// stands alone stands alone; "nothing found" is not said of an item the visit found a problem on, nor of a
    /// target that was not found or closed; a problem has a follow-up; a transfer or notice names a known
    /// department (`known_department`).
    pub fn check(
        &self,
        content: &Content,
        table: &CodeTable,
        known_department: impl Fn(&str) -> bool,
        field: &str,
    ) -> std::result::Result<(), Violations> {
        let mut v = Violations::new();
        let codes = format!("{field}.codes");
        if content.codes.is_empty() {
            v.add(&codes, msg("result-codes-none"));
        }
        let mut problem = false;
        let mut exclusive = None;
        for (i, code) in content.codes.iter().enumerate() {
            let at = format!("{codes}[{i}]");
            match table.get(code) {
                None => v.add(
                    at,
                    msg("result-code-unknown")
                        .arg("code", code)
                        .arg("table", &table.version),
                ),
                Some(c) if c.retired => v.add(
                    at,
                    msg("result-code-retired")
                        .arg("code", code)
                        .arg("text", &c.text)
                        .arg("table", &table.version),
                ),
                Some(c) => {
                    if content.codes[..i].contains(code) {
                        v.add(at, msg("appears-twice").arg("value", code));
                        continue;
                    }
                    problem |= c.problem;
                    if c.exclusive {
                        exclusive = Some(c);
                        if self.problem_found {
                            v.add(
                                &at,
                                msg("result-code-contradicts")
                                    .arg("code", code)
                                    .arg("text", &c.text)
                                    .arg("problems", self.problems.join("; ")),
                            );
                        }
                        if self.visit_outcome != "inspected" {
                            v.add(
                                &at,
                                msg("result-code-outcome")
                                    .arg("code", code)
                                    .arg("text", &c.text)
                                    .arg("outcome", &self.visit_outcome),
                            );
                        }
                    }
                }
            }
        }
        if let Some(c) = exclusive
            && content.codes.len() > 1
        {
            v.add(
                &codes,
                msg("result-code-alone")
                    .arg("code", &c.code)
                    .arg("text", &c.text),
            );
        }
        let disposal = format!("{field}.disposal");
        if problem && content.disposal == Disposal::None {
            v.add(&disposal, msg("result-disposal-needed"));
        }
        if !problem && content.disposal != Disposal::None {
            v.add(&disposal, msg("result-disposal-none"));
        }
        let department = format!("{field}.disposal_department_code");
        if content.disposal.names_a_department() {
            if content.disposal_department.is_empty() {
                v.add(&department, msg("result-department-needed"));
            } else if !known_department(&content.disposal_department) {
                v.add(
                    &department,
                    msg("result-unknown-department").arg("code", &content.disposal_department),
                );
            }
        } else if !content.disposal_department.is_empty() {
            v.add(&department, msg("result-department-extra"));
        }
        if content.note.chars().count() > MAX_NOTE_CHARS {
            v.add(
                format!("{field}.note"),
                msg("longer-than").arg("max", MAX_NOTE_CHARS),
            );
        }
        v.into_result()
    }

    /// Enters (or re-enters) the result and submits it for review.
    pub fn enter(
        &mut self,
        content: Content,
        table: &CodeTable,
        known_department: impl Fn(&str) -> bool,
        actor: &str,
        now: i64,
    ) -> std::result::Result<(), Error> {
        match self.state {
            State::NotEntered | State::AwaitingReview | State::Returned | State::Rejected => {}
            State::Approved => {
                return Err(not_now(msg("nn-result-approved-edit")));
            }
            State::Published => {
                return Err(not_now(msg("nn-result-published-edit")));
            }
            State::Withheld => return Err(not_now(msg("nn-result-withheld"))),
        }
        self.check(&content, table, known_department, "content")?;
        let again = self.state != State::NotEntered;
        self.content = Some(content);
        self.table = table.version.clone();
        self.state = State::AwaitingReview;
        self.reason.clear();
        let codes = self
            .content
            .as_ref()
            .map(|c| c.codes.join(","))
            .unwrap_or_default();
        self.step(
            now,
            actor,
            if again { "re-entered" } else { "entered" },
            codes,
        );
        Ok(())
    }

    /// Who entered the content now in the result (its last entry).
    pub fn entered_by(&self) -> Option<&str> {
        self.history
            .iter()
            .rev()
            .find(|s| s.kind == "entered" || s.kind == "re-entered")
            .map(|s| s.actor.as_str())
    }

    /// Approves, returns or rejects an entry awaiting review; not by whoever entered it.
    pub fn review(
        &mut self,
        decision: Decision,
        reason: &str,
        actor: &str,
        now: i64,
    ) -> std::result::Result<(), Error> {
        if self.state != State::AwaitingReview {
            return Err(not_now(
                msg("nn-result-not-awaiting").arg("result_state", self.state.as_str()),
            ));
        }
        // Four eyes: whoever entered what is under review does not decide on it.
        if let Some(entered) = self.entered_by()
            && entered == actor
        {
            return Err(Denied::new(
                "authorization",
                msg("denied-four-eyes-result").arg("who", actor),
            )
            .into());
        }
        if decision != Decision::Approve && reason.trim().is_empty() {
            return Err(Violations::one("reason", msg("result-review-reason")).into());
        }
        let (state, kind) = match decision {
            Decision::Approve => (State::Approved, "approved"),
            Decision::Return => (State::Returned, "returned"),
            Decision::Reject => (State::Rejected, "rejected"),
        };
        self.state = state;
        self.reason = reason.trim().to_string();
        if decision == Decision::Reject {
            // Entered anew: the rejected entry lives on in the history only.
            self.content = None;
        }
        self.step(now, actor, kind, reason.trim());
        Ok(())
    }

    /// Publishes an approved result; `Ok(false)` when it was published already.
    pub fn publish(&mut self, actor: &str, now: i64) -> std::result::Result<bool, Error> {
        if self.state == State::Approved && self.withholding.is_some() {
            return Err(not_now(msg("nn-withholding-pending")));
        }
        match self.state {
            State::Approved => {}
            State::Published => return Ok(false),
            other => {
                return Err(not_now(
                    msg("nn-result-publish").arg("result_state", other.as_str()),
                ));
            }
        }
        self.state = State::Published;
        self.published_at = Some(now);
        self.step(now, actor, "published", "");
        Ok(true)
    }

    /// Whether it may be withheld now: entered, not published, not withheld.
    fn withholdable(&self) -> std::result::Result<(), Error> {
        match self.state {
            State::AwaitingReview | State::Approved => Ok(()),
            State::Published => Err(not_now(msg("nn-result-published-withhold"))),
            State::Withheld => Err(not_now(msg("nn-result-withheld-already"))),
            _ => Err(not_now(msg("nn-result-not-entered"))),
        }
    }

    /// Asks the head to withhold the result, giving `reason` (the person handling it; the caller checks the role).
    /// Until the head decides, the result is not published.
    pub fn request_withholding(
        &mut self,
        reason: &str,
        actor: &str,
        now: i64,
    ) -> std::result::Result<(), Error> {
        if reason.trim().is_empty() {
            return Err(Violations::one("reason", msg("result-withhold-reason")).into());
        }
        self.withholdable()?;
        if self.withholding.is_some() {
            return Err(not_now(msg("nn-withholding-pending")));
        }
        self.withholding = Some(WithholdingRequest {
            by: actor.to_string(),
            reason: reason.trim().to_string(),
            at: now,
        });
        self.step(now, actor, "withholding-requested", reason.trim());
        Ok(())
    }

    /// The request waiting on the head, checked against four eyes: who asked does not decide.
    fn withholding_for(&self, head: &str) -> std::result::Result<WithholdingRequest, Error> {
        let Some(request) = self.withholding.clone() else {
            return Err(not_now(msg("nn-withholding-none")));
        };
        if request.by == head {
            return Err(Denied::new(
                "authorization",
                msg("denied-four-eyes-withholding").arg("who", head),
            )
            .into());
        }
        Ok(request)
    }

    /// Withholds the result as requested, on the head's authority (the caller checks the role); `note` is the
    /// head's, optional.
    pub fn withhold(&mut self, note: &str, head: &str, now: i64) -> std::result::Result<(), Error> {
        self.withholdable()?;
        let request = self.withholding_for(head)?;
        self.state = State::Withheld;
        self.reason = request.reason.clone();
        self.withholding = None;
        let detail = if note.trim().is_empty() {
            request.reason
        } else {
            format!("{} ({})", request.reason, note.trim())
        };
        self.step(now, head, "withheld", detail);
        Ok(())
    }

    /// Declines a request to withhold, with `reason`: the result goes on to review and publication.
    pub fn decline_withholding(
        &mut self,
        reason: &str,
        head: &str,
        now: i64,
    ) -> std::result::Result<(), Error> {
        if reason.trim().is_empty() {
            return Err(Violations::one("reason", msg("result-withhold-decline-reason")).into());
        }
        self.withholding_for(head)?;
        self.withholding = None;
        self.step(now, head, "withholding-declined", reason.trim());
        Ok(())
    }

    /// Corrects a published result, keeping what was published before.
    pub fn correct(
        &mut self,
        content: Content,
        reason: &str,
        table: &CodeTable,
        known_department: impl Fn(&str) -> bool,
        head: &str,
        now: i64,
    ) -> std::result::Result<(), Error> {
        if self.state != State::Published {
            return Err(not_now(msg("nn-result-correct-unpublished")));
        }
        if reason.trim().is_empty() {
            return Err(Violations::one("reason", msg("result-correction-reason")).into());
        }
        self.check(&content, table, known_department, "content")?;
        let previous = self
            .content
            .clone()
            .expect("a published result has content");
        if previous == content {
            return Err(Violations::one("content", msg("correction-same")).into());
        }
        self.corrections.push(Correction {
            at: now,
            previous,
            previous_table: std::mem::replace(&mut self.table, table.version.clone()),
            reason: reason.trim().to_string(),
            signed_off_by: head.to_string(),
        });
        let codes = content.codes.join(",");
        self.content = Some(content);
        self.step(
            now,
            head,
            "corrected",
            format!("{codes}: {}", reason.trim()),
        );
        Ok(())
    }

    /// Past its due date on `today` and not done with.
    pub fn overdue(&self, today: NaiveDate) -> bool {
        !self.state.is_final() && self.due.is_some_and(|d| today > d)
    }

    /// The credit records a published result makes: one per kind its codes carry, and `case_opened` for a case.
    pub fn credit_kinds(&self, table: &CodeTable) -> Vec<String> {
        let Some(c) = &self.content else {
            return Vec::new();
        };
        let mut kinds: Vec<String> = Vec::new();
        for code in &c.codes {
            if let Some(x) = table.get(code)
                && !x.credit.is_empty()
                && !kinds.contains(&x.credit)
            {
                kinds.push(x.credit.clone());
            }
        }
        if c.disposal == Disposal::CaseOpened {
            kinds.push("case_opened".into());
        }
        kinds
    }
}

#[cfg(test)]
mod tests;

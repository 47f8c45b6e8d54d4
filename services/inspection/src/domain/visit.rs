//! A joint visit (进一次门、查多项事): one per locked target, the whole team at once, every participating
//! department's check points answered by that department, the record form (抽查情况记录表) signed by the target
//! or its refusal noted, and confirmed by every team member. A target that cannot be found or has closed is an
//! outcome, not an error.
//!
//! One piece: the rules of a visit, its steps and its counts, which change together.

use std::collections::{BTreeMap, BTreeSet};
use suiji_platform::validation::msg;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::saga::Refusal;

/// One inspector on the team.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Member {
    /// Inspector id.
    pub inspector_id: String,
    /// Department.
    pub department: String,
    /// Leads the team.
    pub leader: bool,
}

/// One check point a department answers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Check {
    /// Department.
    pub department: String,
    /// Catalog item.
    pub item: String,
    /// Check point code.
    pub code: String,
    /// What is checked.
    pub description: String,
}

/// How a check point was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckResult {
    /// Complies.
    Compliant,
    /// A problem was found.
    Problem,
    /// Does not apply.
    NotApplicable,
}

/// A finding on one check point.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    /// Department.
    pub department: String,
    /// Catalog item.
    pub item: String,
    /// Check point code.
    pub code: String,
    /// Result.
    pub result: CheckResult,
    /// Note.
    pub note: String,
}

/// A step of a visit: what its timeline line and audit entry are called, and who may take it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// The lead schedules it (date, method, notice).
    Scheduled,
    /// A department on the team records its findings on its own check points.
    Findings,
    /// The target signs the record form, or its refusal is noted.
    Signed,
    /// A member of the team confirms the record form for themselves.
    Confirmed,
    /// A department keeps a file of evidence (its digest and where it is stored).
    Evidence,
    /// The lead concludes it.
    Concluded,
    /// Its last day counted again on a newly loaded calendar (the service itself).
    Recounted,
    /// Its team changed by a replacement in the draw (the service itself).
    TeamChanged,
}

impl Step {
    /// The step's kind on the timeline and in the audit trail.
    pub fn kind(self) -> &'static str {
        match self {
            Step::Scheduled => "visit.scheduled",
            Step::Findings => "visit.findings",
            Step::Signed => "visit.signed",
            Step::Confirmed => "visit.confirmed",
            Step::Evidence => "visit.evidence",
            Step::Concluded => "visit.concluded",
            Step::Recounted => "visit.recounted",
            Step::TeamChanged => "visit.team_changed",
        }
    }

    /// Who may take it.
    pub fn acting(self) -> Acting {
        match self {
            Step::Scheduled | Step::Signed | Step::Concluded => Acting::Lead,
            Step::Confirmed => Acting::Member,
            Step::Findings | Step::Evidence | Step::Recounted | Step::TeamChanged => Acting::Team,
        }
    }
}

/// Who may take a step of a visit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Acting {
    /// A coordinator of a department on the team.
    Team,
    /// A coordinator of the lead department.
    Lead,
    /// A member of the team, for themselves: the token names their inspector id.
    Member,
}

/// How the visit ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Inspected.
    Inspected,
    /// Not found at its registered address.
    NotFound,
    /// Closed.
    Closed,
}

impl Outcome {
    /// Its name, as stored.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Inspected => "inspected",
            Outcome::NotFound => "not_found",
            Outcome::Closed => "closed",
        }
    }
}

/// How it was inspected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    /// On site.
    OnSite,
    /// Written material.
    Written,
    /// Online monitoring.
    Online,
    /// A third party.
    ThirdParty,
}

/// The target's answer to the record form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Signature {
    /// Signed by this person.
    Signed(String),
    /// Refused; the inspectors' note.
    Refused(String),
}

/// A piece of evidence collected on a visit: the file's content hash and where the department's storage keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Evidence {
    /// SHA-256 of the file, lower-case hex.
    pub sha256: String,
    /// Where the file is kept: a URI with a scheme.
    pub storage_ref: String,
    /// Media type.
    pub media_type: String,
    /// Size in bytes.
    pub size_bytes: u64,
    /// What it shows.
    pub description: String,
    /// The department that collected it.
    pub department: String,
    /// The item it supports (empty: the whole visit).
    pub item: String,
    /// The check point it supports (empty: the whole item or visit).
    pub code: String,
    /// Who attached it.
    pub added_by: String,
    /// When (epoch ms).
    pub added_at: i64,
}

/// Pieces of evidence a visit keeps at most (its document stays small).
pub const MAX_EVIDENCE: usize = 200;

/// The target's checks of a visit's code kept with it: the first ones and the latest.
pub const KEPT_VERIFICATIONS: usize = 16;
/// Longest description of a piece of evidence, in characters.
const MAX_EVIDENCE_DESCRIPTION: usize = 500;
/// Longest storage reference, in bytes.
const MAX_STORAGE_REF: usize = 1024;

/// One department's part in a task's visits (see `Visit::add_progress`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Progress {
    /// Visits with a member of it on the team.
    pub visits: u64,
    /// Its seats on them.
    pub seats: u64,
    /// Visits on which it has check points.
    pub findings_due: u64,
    /// Of those, visits on which it recorded its findings.
    pub findings_recorded: u64,
    /// Its visits whose record form the target signed or refused.
    pub signed: u64,
    /// Its seats whose member confirmed the record form.
    pub confirmed: u64,
    /// Its visits concluded.
    pub concluded: u64,
}

/// The id of the visit of `task_id` to `target_id`: `TASK/TARGET` (one visit per target and task).
pub fn id_of(task_id: &str, target_id: &str) -> String {
    format!("{task_id}/{target_id}")
}

/// One visit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Visit {
    /// `TASK/TARGET`.
    pub id: String,
    /// Task.
    pub task_id: String,
    /// Target.
    pub target_id: String,
    /// Lead department.
    pub lead: String,
    /// The team.
    pub team: Vec<Member>,
    /// Every check point to answer.
    pub checks: Vec<Check>,
    /// Day of the assignment.
    pub assigned_on: NaiveDate,
    /// Last day for the visit: 5 working days after the assignment (seed 001); `None` while the calendar does
    /// not cover those days.
    pub schedule_by: Option<NaiveDate>,
    /// `schedule_by` is not final: counted through a year whose notice is not loaded yet, or (with no
    /// `schedule_by`) not countable at all on the calendar as loaded. Either is counted again at the next reload.
    #[serde(default)]
    pub schedule_by_provisional: bool,
    /// Day set.
    pub scheduled_for: Option<NaiveDate>,
    /// Method.
    pub method: Option<Method>,
    /// Announced beforehand.
    pub announced: bool,
    /// Findings so far.
    pub findings: Vec<Finding>,
    /// Signed or refused.
    pub signature: Option<Signature>,
    /// Members who confirmed the record form.
    pub confirmed: BTreeSet<String>,
    /// How it ended.
    pub outcome: Option<Outcome>,
    /// When it ended.
    pub concluded_on: Option<NaiveDate>,
    /// The code the team shows the target (扫码入企).
    #[serde(default)]
    pub code: String,
    /// When the target checked the code (epoch ms): the first checks and the latest, at most
    /// [`KEPT_VERIFICATIONS`] of them, whatever the number of calls.
    #[serde(default)]
    pub verifications: Vec<i64>,
    /// How many times the target checked the code (older visits: 0, their `verifications` count them).
    #[serde(default)]
    pub verified_count: u64,
    /// Evidence collected, in the order attached.
    #[serde(default)]
    pub evidence: Vec<Evidence>,
}

/// The visit counts of a task, which move its saga from scheduling to visiting to results.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Counts {
    /// Visits scheduled.
    pub scheduled: u64,
    /// Visits concluded.
    pub concluded: u64,
    /// Visits in all.
    pub total: u64,
}

impl Counts {
    /// The counts after one visit's change, from what that visit counted as before and after it.
    pub fn moved(self, before: Counted, after: Counted) -> Self {
        let step = |count: u64, was: bool, is: bool| count + u64::from(is) - u64::from(was);
        Self {
            scheduled: step(self.scheduled, before.scheduled, after.scheduled),
            concluded: step(self.concluded, before.concluded, after.concluded),
            total: self.total,
        }
    }
}

/// What one visit counts as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Counted {
    /// It is scheduled.
    pub scheduled: bool,
    /// It is concluded.
    pub concluded: bool,
}

impl Visit {
    /// What it counts as in its task's [`Counts`].
    pub fn counted(&self) -> Counted {
        Counted {
            scheduled: self.scheduled_for.is_some(),
            concluded: self.outcome.is_some(),
        }
    }

    /// Records that the target checked the code at `now`: counted, and kept among the first checks or as the latest,
    /// so the record stays small however often the public page is called.
    pub fn record_verification(&mut self, now: i64) {
        self.verified_count = self.times_verified() + 1;
        if self.verifications.len() < KEPT_VERIFICATIONS {
            self.verifications.push(now);
        } else if let Some(latest) = self.verifications.last_mut() {
            *latest = now;
        }
    }

    /// How many times the target checked the code.
    pub fn times_verified(&self) -> u64 {
        self.verified_count.max(self.verifications.len() as u64)
    }

    /// The departments on the team, the lead first.
    pub fn departments(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for m in &self.team {
            if !out.contains(&m.department) {
                out.push(m.department.clone());
            }
        }
        out.sort_by(|a, b| (a != &self.lead, a).cmp(&(b != &self.lead, b)));
        out
    }

    fn open(&self) -> Result<(), Refusal> {
        if self.outcome.is_some() {
            Err(Refusal::NotNow(
                msg("nn-visit-concluded").arg("visit", &self.id),
            ))
        } else {
            Ok(())
        }
    }

    /// Keeps `e`, collected by `e.department` on this open, scheduled visit; false when that department already
    /// attached the same file (nothing changes). The item and check point, when given, are the department's own on
    /// this visit.
    pub fn attach_evidence(&mut self, e: Evidence) -> Result<bool, Refusal> {
        self.open()?;
        if self.scheduled_for.is_none() {
            return Err(Refusal::NotNow(msg("nn-visit-not-scheduled")));
        }
        if !self.team.iter().any(|m| m.department == e.department) {
            return Err(Refusal::invalid(
                "visit_id",
                msg("nobody-on-team").arg("dept", &e.department),
            ));
        }
        let hex = |c: u8| c.is_ascii_digit() || (b'a'..=b'f').contains(&c);
        if e.sha256.len() != 64 || !e.sha256.bytes().all(hex) {
            return Err(Refusal::invalid("sha256", msg("sha256")));
        }
        let scheme = e.storage_ref.split_once("://").map(|(s, _)| s);
        let scheme_ok = scheme.is_some_and(|s| {
            !s.is_empty()
                && s.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"+-.".contains(&b))
        });
        if !scheme_ok
            || e.storage_ref.len() > MAX_STORAGE_REF
            || e.storage_ref.chars().any(char::is_whitespace)
        {
            return Err(Refusal::invalid(
                "storage_ref",
                msg("storage-ref").arg("max", MAX_STORAGE_REF),
            ));
        }
        let media = e.media_type.split_once('/');
        if !media.is_some_and(|(t, s)| {
            !t.is_empty() && !s.is_empty() && !e.media_type.contains(char::is_whitespace)
        }) {
            return Err(Refusal::invalid("media_type", msg("media-type")));
        }
        if e.size_bytes == 0 {
            return Err(Refusal::invalid("size_bytes", msg("evidence-empty")));
        }
        if e.description.chars().count() > MAX_EVIDENCE_DESCRIPTION {
            return Err(Refusal::invalid(
                "description",
                msg("at-most-chars").arg("max", MAX_EVIDENCE_DESCRIPTION),
            ));
        }
        let own = |c: &&Check| c.department == e.department;
        match (e.item.is_empty(), e.code.is_empty()) {
            (true, true) => {}
            (true, false) => {
                return Err(Refusal::invalid("item_code", msg("check-item-needed")));
            }
            (false, _) if !self.checks.iter().filter(own).any(|c| c.item == e.item) => {
                return Err(Refusal::invalid(
                    "item_code",
                    msg("not-an-item-of")
                        .arg("item", &e.item)
                        .arg("dept", &e.department),
                ));
            }
            (false, false)
                if !self
                    .checks
                    .iter()
                    .filter(own)
                    .any(|c| c.item == e.item && c.code == e.code) =>
            {
                return Err(Refusal::invalid(
                    "check_code",
                    msg("not-a-check-point")
                        .arg("code", &e.code)
                        .arg("item", &e.item),
                ));
            }
            _ => {}
        }
        if self
            .evidence
            .iter()
            .any(|x| x.sha256 == e.sha256 && x.department == e.department)
        {
            return Ok(false);
        }
        if self.evidence.len() >= MAX_EVIDENCE {
            return Err(Refusal::invalid(
                "sha256",
                msg("evidence-max").arg("max", MAX_EVIDENCE),
            ));
        }
        self.evidence.push(e);
        Ok(true)
    }

    /// Sets the day (`is_working_day` says whether a day is one), method and notice.
    pub fn schedule(
        &mut self,
        day: NaiveDate,
        method: Method,
        announced: bool,
        is_working_day: bool,
    ) -> Result<(), Refusal> {
        self.open()?;
        if !self.findings.is_empty() {
            return Err(Refusal::NotNow(msg("nn-findings-recorded")));
        }
        if day < self.assigned_on {
            return Err(Refusal::invalid(
                "date",
                msg("visit-before-assignment").arg("day", self.assigned_on),
            ));
        }
        let Some(by) = self.schedule_by else {
            return Err(Refusal::NotNow(msg("nn-visit-calendar")));
        };
        if day > by {
            return Err(Refusal::invalid(
                "date",
                msg("visit-too-late").arg("day", by),
            ));
        }
        if !is_working_day {
            return Err(Refusal::invalid("date", msg("not-a-working-day")));
        }
        self.scheduled_for = Some(day);
        self.method = Some(method);
        self.announced = announced;
        Ok(())
    }

    /// Records `department`'s findings: one for every check point of its items, none of another's.
    pub fn record_findings(
        &mut self,
        department: &str,
        findings: Vec<Finding>,
    ) -> Result<(), Refusal> {
        self.open()?;
        if self.scheduled_for.is_none() {
            return Err(Refusal::NotNow(msg("nn-visit-not-scheduled")));
        }
        if !self.team.iter().any(|m| m.department == department) {
            return Err(Refusal::invalid(
                "id",
                msg("nobody-on-team").arg("dept", department),
            ));
        }
        let own: Vec<&Check> = self
            .checks
            .iter()
            .filter(|c| c.department == department)
            .collect();
        let mut seen = BTreeSet::new();
        for (i, f) in findings.iter().enumerate() {
            if !own.iter().any(|c| c.item == f.item && c.code == f.code) {
                return Err(Refusal::invalid(
                    format!("findings[{i}]"),
                    msg("not-a-department-check-point")
                        .arg("item", &f.item)
                        .arg("code", &f.code)
                        .arg("dept", department),
                ));
            }
            if !seen.insert((f.item.clone(), f.code.clone())) {
                return Err(Refusal::invalid(
                    format!("findings[{i}]"),
                    msg("answered-twice")
                        .arg("item", &f.item)
                        .arg("code", &f.code),
                ));
            }
            if f.result == CheckResult::Problem && f.note.trim().is_empty() {
                return Err(Refusal::invalid(
                    format!("findings[{i}].note"),
                    msg("note-for-problem"),
                ));
            }
        }
        if let Some(missing) = own
            .iter()
            .find(|c| !seen.contains(&(c.item.clone(), c.code.clone())))
        {
            return Err(Refusal::invalid(
                "findings",
                msg("check-not-answered")
                    .arg("item", &missing.item)
                    .arg("code", &missing.code),
            ));
        }
        self.findings.retain(|f| f.department != department);
        self.findings.extend(findings.into_iter().map(|f| Finding {
            department: department.to_string(),
            ..f
        }));
        // New findings change the record form: confirmations and the signature are asked for again.
        self.confirmed.clear();
        self.signature = None;
        Ok(())
    }

    /// Every department on the team has recorded its findings.
    /// Adds this visit to each department's `progress`.
    pub fn add_progress(&self, progress: &mut BTreeMap<String, Progress>) {
        for d in self.departments() {
            let p = progress.entry(d.clone()).or_default();
            p.visits += 1;
            let seats: Vec<&Member> = self.team.iter().filter(|m| m.department == d).collect();
            p.seats += seats.len() as u64;
            p.confirmed += seats
                .iter()
                .filter(|m| self.confirmed.contains(&m.inspector_id))
                .count() as u64;
            if self.checks.iter().any(|c| c.department == d) {
                p.findings_due += 1;
                if self.findings.iter().any(|f| f.department == d) {
                    p.findings_recorded += 1;
                }
            }
            p.signed += u64::from(self.signature.is_some());
            p.concluded += u64::from(self.outcome.is_some());
        }
    }

    pub fn findings_complete(&self) -> bool {
        self.departments().iter().all(|d| {
            self.findings.iter().any(|f| &f.department == d)
                || !self.checks.iter().any(|c| &c.department == d)
        })
    }

    /// Notes the target's signature or its refusal, on a complete record form.
    pub fn sign(&mut self, signature: Signature) -> Result<(), Refusal> {
        self.open()?;
        if !self.findings_complete() {
            return Err(Refusal::NotNow(msg("nn-record-incomplete")));
        }
        match &signature {
            Signature::Signed(by) if by.trim().is_empty() => {
                return Err(Refusal::invalid(
                    "signed_by",
                    msg("record-signed-or-refused"),
                ));
            }
            Signature::Refused(note) if note.trim().is_empty() => {
                return Err(Refusal::invalid("refusal_note", msg("refusal-note")));
            }
            _ => {}
        }
        self.signature = Some(signature);
        Ok(())
    }

    /// Notes the confirmation of `inspectors`, all of `department` and on the team.
    pub fn confirm(&mut self, department: &str, inspectors: &[String]) -> Result<(), Refusal> {
        self.open()?;
        if self.signature.is_none() {
            return Err(Refusal::NotNow(msg("nn-confirm-after-sign")));
        }
        if inspectors.is_empty() {
            return Err(Refusal::invalid("inspector_ids", msg("team-member-needed")));
        }
        for (i, id) in inspectors.iter().enumerate() {
            match self.team.iter().find(|m| &m.inspector_id == id) {
                Some(m) if m.department == department => {}
                Some(_) => {
                    return Err(Refusal::invalid(
                        format!("inspector_ids[{i}]"),
                        msg("confirm-own-department")
                            .arg("inspector", id)
                            .arg("dept", department),
                    ));
                }
                None => {
                    return Err(Refusal::invalid(
                        format!("inspector_ids[{i}]"),
                        msg("not-on-visit-team").arg("inspector", id),
                    ));
                }
            }
        }
        self.confirmed.extend(inspectors.iter().cloned());
        Ok(())
    }

    /// Concludes the visit on `today`. Inspected: complete findings, signed or refused, confirmed by every
    /// member. Not found or closed: scheduled is enough.
    pub fn conclude(&mut self, outcome: Outcome, today: NaiveDate) -> Result<(), Refusal> {
        self.open()?;
        if self.scheduled_for.is_none() {
            return Err(Refusal::NotNow(msg("nn-visit-not-scheduled")));
        }
        if outcome == Outcome::Inspected {
            if !self.findings_complete() {
                return Err(Refusal::NotNow(msg("nn-findings-missing")));
            }
            if self.signature.is_none() {
                return Err(Refusal::NotNow(msg("nn-not-signed")));
            }
            let missing: Vec<&str> = self
                .team
                .iter()
                .filter(|m| !self.confirmed.contains(&m.inspector_id))
                .map(|m| m.inspector_id.as_str())
                .collect();
            if !missing.is_empty() {
                return Err(Refusal::NotNow(
                    msg("nn-not-confirmed").arg("inspectors", missing.join(", ")),
                ));
            }
        }
        self.outcome = Some(outcome);
        self.concluded_on = Some(today);
        Ok(())
    }

    /// Takes `department` off the visit (it withdrew from the task): its members, its check points and its
    /// findings leave; if it had answered, the changed record form is signed and confirmed anew.
    pub fn withdraw(&mut self, department: &str) {
        let had_findings = self.findings.iter().any(|f| f.department == department);
        let leaving: Vec<String> = self
            .team
            .iter()
            .filter(|m| m.department == department)
            .map(|m| m.inspector_id.clone())
            .collect();
        self.team.retain(|m| m.department != department);
        self.checks.retain(|c| c.department != department);
        self.findings.retain(|f| f.department != department);
        for id in &leaving {
            self.confirmed.remove(id);
        }
        if had_findings {
            self.signature = None;
            self.confirmed.clear();
        }
    }

    /// Whether `department` found a problem.
    pub fn problem_found(&self, department: &str) -> bool {
        self.findings
            .iter()
            .any(|f| f.department == department && f.result == CheckResult::Problem)
    }
}

#[cfg(test)]
mod tests;

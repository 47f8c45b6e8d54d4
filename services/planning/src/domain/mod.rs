//! The planning rules, with no I/O: what a valid plan is, who may move it where and when, amendments, tasks
//! carved out of entries, and the coverage report.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use suiji_platform::auth::{ROLE_JOINT_MEETING, ROLE_PLANNING_EDITOR, ROLE_PLANNING_JUDICIAL};

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};
use suiji_platform::auth::{Identity, ROLE_ADMIN};
use suiji_platform::messages::Text;
use suiji_platform::reference::Regions;
use suiji_platform::validation::{Denied, NotNow, Violations, msg};
pub use suiji_platform::vocabulary::TargetKind;

#[cfg(test)]
mod tests;

/// Most entries in one plan.
pub const MAX_ENTRIES: usize = 500;
/// Longest name or reason, in characters.
pub const MAX_TEXT: usize = 500;

macro_rules! named_enum {
    ($(#[$m:meta])* $name:ident { $($(#[$vm:meta])* $variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($(#[$vm])* $variant),+ }

        impl $name {
            /// Every value, in order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// Stable name, as stored.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }

            /// The value with this stable name.
            pub fn parse(text: &str) -> Option<Self> {
                Self::ALL.iter().copied().find(|v| v.as_str() == text)
            }
        }
    };
}

named_enum!(
    /// Where a plan stands.
    PlanState {
        /// Being drafted.
        Draft = "draft",
        /// With the joint meeting.
        Submitted = "submitted",
        /// Approved, not yet public.
        Approved = "approved",
        /// Public, in force.
        Published = "published",
    }
);

named_enum!(
    /// Directed at a scope (定向) or not (不定向).
    TaskType {
        /// 定向.
        Directed = "directed",
        /// 不定向.
        Undirected = "undirected",
    }
);

named_enum!(
    /// How the inspection is done (检查方式).
    Method {
        /// 实地核查.
        OnSite = "on_site",
        /// 书面检查.
        Written = "written",
        /// 网络监测.
        OnlineMonitoring = "online_monitoring",
        /// 委托第三方.
        ThirdParty = "third_party",
    }
);

named_enum!(
    /// Credit-risk level.
    Risk {
        /// 低风险.
        Low = "low",
        /// 一般风险.
        Medium = "medium",
        /// 较高风险.
        MediumHigh = "medium_high",
        /// 高风险.
        High = "high",
    }
);

named_enum!(
    /// Registration status.
    Status {
        /// 存续.
        Operating = "operating",
        /// 停业、歇业.
        Closed = "closed",
        /// 清算中.
        Liquidating = "liquidating",
        /// 吊销、注销.
        Revoked = "revoked",
    }
);

named_enum!(
    /// Where an amendment stands.
    AmendmentState {
        /// Waiting for its filings.
        Proposed = "proposed",
        /// Filed with the joint meeting and the judicial department.
        Filed = "filed",
        /// In force.
        Published = "published",
    }
);

named_enum!(
    /// Where a task stands.
    TaskState {
        /// Created.
        Created = "created",
        /// Launched: the saga runs.
        Launched = "launched",
        /// Cancelled.
        Cancelled = "cancelled",
    }
);

/// A filter over the target directory; empty lists do not narrow.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Scope {
    /// Kinds.
    pub kinds: Vec<TargetKind>,
    /// Region codes (GB/T 2260); a code includes its subdivisions.
    pub region_codes: Vec<String>,
    /// Industry prefixes (GB/T 4754), e.g. `C13`.
    pub industry_prefixes: Vec<String>,
    /// Supervising departments.
    pub departments: Vec<String>,
    /// Risk levels.
    pub risk_levels: Vec<Risk>,
    /// Statuses.
    pub statuses: Vec<Status>,
}

impl Scope {
    /// Whether the filter selects everything.
    pub fn is_empty(&self) -> bool {
        self.kinds.is_empty()
            && self.region_codes.is_empty()
            && self.industry_prefixes.is_empty()
            && self.departments.is_empty()
            && self.risk_levels.is_empty()
            && self.statuses.is_empty()
    }
}

/// A ratio for one risk level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RiskRatio {
    /// Level.
    pub level: Risk,
    /// Basis points.
    pub basis_points: u32,
}

/// A department with its items.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Participant {
    /// Department code.
    pub department_code: String,
    /// Item codes.
    pub item_codes: Vec<String>,
}

/// One line of a plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    /// Key within the plan.
    pub key: String,
    /// Task name.
    pub task_name: String,
    /// Directed or not.
    pub task_type: TaskType,
    /// Scope.
    #[serde(default)]
    pub scope: Scope,
    /// Method.
    pub method: Method,
    /// Ratio in basis points, or 0 when a quantity is given.
    #[serde(default)]
    pub ratio_basis_points: u32,
    /// Quantity, or 0 when a ratio is given.
    #[serde(default)]
    pub quantity: u32,
    /// Ratios per risk level.
    #[serde(default)]
    pub risk_ratios: Vec<RiskRatio>,
    /// Lead department.
    pub lead_department_code: String,
    /// Participants, the lead included.
    pub participants: Vec<Participant>,
    /// First day.
    pub window_start: NaiveDate,
    /// Last day.
    pub window_end: NaiveDate,
    /// Whether the drawn list is public.
    #[serde(default)]
    pub publish_drawn_list: bool,
    /// Whether its tasks' target draws wait for witnesses.
    #[serde(default)]
    pub witnessed_draw: bool,
}

impl Entry {
    /// Every item code of every participant.
    pub fn item_codes(&self) -> impl Iterator<Item = &str> {
        self.participants
            .iter()
            .flat_map(|p| p.item_codes.iter().map(String::as_str))
    }

    /// Several departments take part.
    pub fn is_joint(&self) -> bool {
        self.participants.len() > 1
    }
}

/// What a department edits.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanContent {
    /// Name.
    pub name: String,
    /// Year.
    pub year: u32,
    /// Entries.
    pub entries: Vec<Entry>,
    /// Remarks.
    #[serde(default)]
    pub remarks: String,
}

impl PlanContent {
    /// The entry with this key.
    pub fn entry(&self, key: &str) -> Option<&Entry> {
        self.entries.iter().find(|e| e.key == key)
    }

    /// Several departments take part in some entry.
    pub fn is_joint(&self) -> bool {
        self.entries.iter().any(Entry::is_joint)
    }
}

/// A plan's header.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Plan {
    /// Id.
    pub id: String,
    /// Owner.
    pub department_code: String,
    /// Year.
    pub year: u32,
    /// State.
    pub state: PlanState,
    /// Version in force; 0 before publication.
    pub effective_version: u32,
    /// Newest version.
    pub latest_version: u32,
    /// Revision.
    pub revision: i64,
    /// Who drafted it.
    pub created_by: String,
    /// Who submitted it last.
    pub submitted_by: String,
    /// When submitted (ms).
    pub submitted_at: Option<i64>,
    /// When approved (ms).
    pub approved_at: Option<i64>,
    /// When published (ms).
    pub published_at: Option<i64>,
    /// Approver.
    pub approved_by: String,
    /// Submitted late.
    pub late_submission: bool,
    /// Approved late.
    pub late_approval: bool,
    /// Last return's reasons.
    pub return_reason: String,
}

/// One version of a plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Version {
    /// Number.
    pub version: u32,
    /// Content.
    pub content: PlanContent,
    /// Amendment reason; empty for version 1.
    pub reason: String,
    /// Amendment state; `None` for version 1.
    pub amendment: Option<AmendmentState>,
    /// Joint meeting's filing.
    pub joint_meeting_filed_by: String,
    /// Judicial filing.
    pub judicial_filed_by: String,
    /// When drafted (ms).
    pub created_at: i64,
    /// When in force (ms).
    pub effective_at: Option<i64>,
}

/// What planning knows of a catalog item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CatalogItem {
    /// Code.
    pub code: String,
    /// Name.
    pub name: String,
    /// Owner.
    pub department_code: String,
    /// Published (not draft, not retired).
    pub published: bool,
    /// The cap in force, basis points, the jurisdiction's filled in for general items.
    pub cap_basis_points: u32,
    /// Methods allowed.
    pub methods: Vec<Method>,
    /// Kinds it applies to.
    pub target_kinds: Vec<TargetKind>,
}

/// What validation looks up.
pub struct Known<'a> {
    /// Active departments.
    pub departments: &'a BTreeSet<String>,
    /// Catalog items by code (those referenced, at least).
    pub items: &'a HashMap<String, CatalogItem>,
    /// Regions.
    pub regions: &'a Regions,
}

fn check_text(v: &mut Violations, field: &str, text: &str, required: bool) {
    if required && text.trim().is_empty() {
        v.add(field, msg("required"));
    } else if text.chars().count() > MAX_TEXT {
        v.add(field, msg("longer-than").arg("max", MAX_TEXT));
    }
}

fn check_key(v: &mut Violations, field: &str, key: &str) {
    if key.is_empty() || key.len() > 32 {
        v.add(field, msg("key-chars"));
    } else if !key
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    {
        v.add(field, msg("key-letters"));
    }
}

fn check_industry_prefix(v: &mut Violations, field: &str, prefix: &str) {
    let mut chars = prefix.chars();
    let ok = matches!(chars.next(), Some('A'..='T'))
        && prefix.len() <= 5
        && chars.all(|c| c.is_ascii_digit());
    v.check(!ok, field, msg("industry-code").arg("value", prefix));
}

/// Checks a scope's values.
pub fn check_scope(v: &mut Violations, field: &str, scope: &Scope, known: &Known<'_>) {
    for (i, r) in scope.region_codes.iter().enumerate() {
        if known.regions.get(r).is_none() {
            v.add(
                format!("{field}.region_codes[{i}]"),
                msg("region-code").arg("value", r),
            );
        }
    }
    for (i, p) in scope.industry_prefixes.iter().enumerate() {
        check_industry_prefix(v, &format!("{field}.industry_prefixes[{i}]"), p);
    }
    for (i, d) in scope.departments.iter().enumerate() {
        if !known.departments.contains(d) {
            v.add(
                format!("{field}.departments[{i}]"),
                msg("plan-unknown-department").arg("code", d),
            );
        }
    }
}

/// Checks a plan's content against the catalog and the departments; every problem is named by its field.
pub fn validate_content(content: &PlanContent, known: &Known<'_>) -> Result<(), Violations> {
    let mut v = Violations::new();
    check_text(&mut v, "content.name", &content.name, true);
    check_text(&mut v, "content.remarks", &content.remarks, false);
    v.check(
        !(2000..=2100).contains(&content.year),
        "content.year",
        msg("year-range"),
    );
    v.check(
        content.entries.is_empty(),
        "content.entries",
        msg("plan-entries-none"),
    );
    v.check(
        content.entries.len() > MAX_ENTRIES,
        "content.entries",
        msg("plan-entries-max").arg("max", MAX_ENTRIES),
    );
    let mut keys = BTreeSet::new();
    for (i, e) in content.entries.iter().enumerate() {
        let f = format!("content.entries[{i}]");
        check_key(&mut v, &format!("{f}.key"), &e.key);
        if !keys.insert(e.key.as_str()) {
            v.add(
                format!("{f}.key"),
                msg("appears-twice").arg("value", &e.key),
            );
        }
        validate_entry(&mut v, &f, e, content.year, known);
    }
    v.into_result()
}

fn validate_entry(v: &mut Violations, f: &str, e: &Entry, year: u32, known: &Known<'_>) {
    check_text(v, &format!("{f}.task_name"), &e.task_name, true);
    match e.task_type {
        TaskType::Directed => v.check(
            e.scope.is_empty(),
            format!("{f}.scope"),
            msg("plan-directed-scope"),
        ),
        TaskType::Undirected => v.check(
            !e.scope.is_empty(),
            format!("{f}.scope"),
            msg("plan-undirected-scope"),
        ),
    }
    check_scope(v, &format!("{f}.scope"), &e.scope, known);
    match (e.ratio_basis_points, e.quantity) {
        (0, 0) => v.add(
            format!("{f}.ratio_basis_points"),
            msg("plan-ratio-or-quantity"),
        ),
        (r, q) if r > 0 && q > 0 => v.add(format!("{f}.quantity"), msg("plan-not-both")),
        (r, _) if r > 10_000 => v.add(format!("{f}.ratio_basis_points"), msg("plan-ratio-max")),
        _ => {}
    }
    let mut levels = BTreeSet::new();
    for (i, rr) in e.risk_ratios.iter().enumerate() {
        let rf = format!("{f}.risk_ratios[{i}]");
        if !levels.insert(rr.level) {
            v.add(
                format!("{rf}.level"),
                msg("risk-level-twice").arg("level", rr.level.as_str()),
            );
        }
        v.check(
            !(1..=10_000).contains(&rr.basis_points),
            format!("{rf}.basis_points"),
            msg("plan-risk-range"),
        );
    }
    if !e.risk_ratios.is_empty() && e.quantity > 0 {
        v.add(format!("{f}.risk_ratios"), msg("plan-risk-with-quantity"));
    }
    // Higher risk, higher ratio (差异化监管): a level's ratio is not below a lower level's.
    let mut sorted: Vec<RiskRatio> = e.risk_ratios.clone();
    sorted.sort_by_key(|r| r.level);
    for pair in sorted.windows(2) {
        if pair[1].basis_points < pair[0].basis_points {
            v.add(
                format!("{f}.risk_ratios"),
                msg("plan-risk-order")
                    .arg("level", pair[1].level.as_str())
                    .arg("points_bp", pair[1].basis_points)
                    .arg("lower", pair[0].level.as_str())
                    .arg("lower_points_bp", pair[0].basis_points),
            );
        }
    }
    // Departments and their items.
    let lead = e.lead_department_code.as_str();
    if lead.is_empty() {
        v.add(format!("{f}.lead_department_code"), msg("required"));
    } else if !known.departments.contains(lead) {
        v.add(
            format!("{f}.lead_department_code"),
            msg("plan-unknown-department").arg("code", lead),
        );
    } else if !e.participants.iter().any(|p| p.department_code == lead) {
        v.add(
            format!("{f}.participants"),
            msg("plan-lead-takes-part").arg("code", lead),
        );
    }
    let mut seen = BTreeSet::new();
    let mut min_cap: Option<(u32, &str)> = None;
    for (i, p) in e.participants.iter().enumerate() {
        let pf = format!("{f}.participants[{i}]");
        let d = p.department_code.as_str();
        if !known.departments.contains(d) {
            v.add(
                format!("{pf}.department_code"),
                msg("plan-unknown-department").arg("code", d),
            );
        }
        if !seen.insert(d) {
            v.add(
                format!("{pf}.department_code"),
                msg("plan-department-twice").arg("code", d),
            );
        }
        v.check(
            p.item_codes.is_empty(),
            format!("{pf}.item_codes"),
            msg("plan-items-none"),
        );
        let mut items_seen = BTreeSet::new();
        for (j, code) in p.item_codes.iter().enumerate() {
            let itf = format!("{pf}.item_codes[{j}]");
            if !items_seen.insert(code.as_str()) {
                v.add(&itf, msg("item-twice").arg("item", code));
                continue;
            }
            let Some(item) = known.items.get(code) else {
                v.add(&itf, msg("item-not-in-catalog").arg("item", code));
                continue;
            };
            if !item.published {
                v.add(&itf, msg("item-not-published").arg("item", code));
                continue;
            }
            if item.department_code != d {
                v.add(
                    &itf,
                    msg("item-other-department")
                        .arg("item", code)
                        .arg("owner_dept", &item.department_code)
                        .arg("dept", d),
                );
            }
            if !item.methods.contains(&e.method) {
                v.add(
                    format!("{f}.method"),
                    msg("item-method")
                        .arg("item", code)
                        .arg("method", e.method.as_str()),
                );
            }
            if !e.scope.kinds.is_empty()
                && !e.scope.kinds.iter().any(|k| item.target_kinds.contains(k))
            {
                v.add(
                    format!("{f}.scope.kinds"),
                    msg("item-kinds").arg("item", code),
                );
            }
            if min_cap.is_none_or(|(c, _)| item.cap_basis_points < c) {
                min_cap = Some((item.cap_basis_points, &item.code));
            }
        }
    }
    if let Some((cap, code)) = min_cap
        && e.ratio_basis_points > cap
    {
        v.add(
            format!("{f}.ratio_basis_points"),
            msg("item-cap")
                .arg("given_bp", e.ratio_basis_points)
                .arg("item", code)
                .arg("cap_bp", cap),
        );
    }
    // Window.
    v.check(
        e.window_start.year() != year as i32 || e.window_end.year() != year as i32,
        format!("{f}.window_start"),
        msg("plan-window-year").arg("year", year),
    );
    v.check(
        e.window_end < e.window_start,
        format!("{f}.window_end"),
        msg("plan-window-order"),
    );
}

/// The cap of every item an entry uses that its ratio breaks, as (item, cap).
pub fn cap_breaches<'a>(
    entry: &'a Entry,
    items: &'a HashMap<String, CatalogItem>,
) -> Vec<(&'a str, u32)> {
    entry
        .item_codes()
        .filter_map(|code| items.get(code))
        .filter(|item| item.published && entry.ratio_basis_points > item.cap_basis_points)
        .map(|item| (item.code.as_str(), item.cap_basis_points))
        .collect()
}

fn denied(field: &str, reason: Text) -> Denied {
    Denied::new(field, reason)
}

/// A department's editor (or an admin) acting for `department`.
pub fn may_edit(who: &Identity, department: &str, field: &str) -> Result<(), Denied> {
    if who.has_role(ROLE_ADMIN) {
        return Ok(());
    }
    if !who.has_role(ROLE_PLANNING_EDITOR) {
        return Err(Denied::role(ROLE_PLANNING_EDITOR));
    }
    if who.department != department {
        return Err(denied(
            field,
            msg("denied-department")
                .arg("dept", department)
                .arg("by_dept", &who.department),
        ));
    }
    Ok(())
}

/// Checks the revision the caller read.
pub fn check_revision(current: i64, expected: i64) -> Result<(), String> {
    if expected != 0 && expected != current {
        return Err(format!(
            "the plan changed (revision {current}, you read {expected}); read it again"
        ));
    }
    Ok(())
}

fn not_now(reason: impl Into<Text>) -> NotNow {
    NotNow(reason.into())
}

pub use suiji_platform::calendar::china_date;

/// Last day to submit a plan for `year`: the end of December before it.
pub fn submission_deadline(year: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(year as i32 - 1, 12, 31).expect("a date")
}

/// Last day to approve a plan for `year`: the end of January of it.
pub fn approval_deadline(year: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(year as i32, 1, 31).expect("a date")
}

/// A refusal by a lifecycle rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// Bad input.
    Invalid(Violations),
    /// Not allowed for this caller.
    Denied(Denied),
    /// Not in this state.
    NotNow(NotNow),
}

impl From<Denied> for Refusal {
    fn from(d: Denied) -> Self {
        Self::Denied(d)
    }
}
impl From<NotNow> for Refusal {
    fn from(n: NotNow) -> Self {
        Self::NotNow(n)
    }
}
impl From<Violations> for Refusal {
    fn from(v: Violations) -> Self {
        Self::Invalid(v)
    }
}

/// Edits a draft: only the owner, only in DRAFT, year unchanged.
pub fn check_update(who: &Identity, plan: &Plan, content: &PlanContent) -> Result<(), Refusal> {
    may_edit(who, &plan.department_code, "id")?;
    if plan.state != PlanState::Draft {
        return Err(not_now(
            msg("nn-plan-edit")
                .arg("plan", &plan.id)
                .arg("plan_state", plan.state.as_str()),
        )
        .into());
    }
    check_same_year(plan, content)?;
    Ok(())
}

fn check_same_year(plan: &Plan, content: &PlanContent) -> Result<(), Violations> {
    if content.year != plan.year {
        return Err(Violations::one(
            "content.year",
            msg("plan-year-fixed").arg("year", plan.year),
        ));
    }
    Ok(())
}

/// Submits a draft; flags it late after the end of December before its year.
pub fn submit(who: &Identity, plan: &mut Plan, now_ms: i64) -> Result<(), Refusal> {
    may_edit(who, &plan.department_code, "id")?;
    if plan.state != PlanState::Draft {
        return Err(not_now(
            msg("nn-plan-submit")
                .arg("plan", &plan.id)
                .arg("plan_state", plan.state.as_str()),
        )
        .into());
    }
    plan.state = PlanState::Submitted;
    plan.submitted_at = Some(now_ms);
    plan.submitted_by = who.subject.clone();
    plan.late_submission = china_date(now_ms) > submission_deadline(plan.year);
    plan.return_reason.clear();
    Ok(())
}

fn joint_meeting(who: &Identity, plan: &Plan) -> Result<(), Denied> {
    if !who.has_role(ROLE_JOINT_MEETING) {
        return Err(denied(
            "authorization",
            msg("denied-meeting-role").arg("role", ROLE_JOINT_MEETING),
        ));
    }
    if who.department == plan.department_code {
        return Err(denied(
            "id",
            msg("denied-own-plan")
                .arg("plan", &plan.id)
                .arg("dept", &plan.department_code),
        ));
    }
    // Four eyes: whoever drafted or submitted the plan does not also decide on it, whichever department's token
    // they hold.
    let role = if who.subject == plan.created_by {
        Some("denied-four-eyes-drafted")
    } else if who.subject == plan.submitted_by {
        Some("denied-four-eyes-submitted")
    } else {
        None
    };
    if let Some(role) = role {
        return Err(denied(
            "id",
            msg(role).arg("who", &who.subject).arg("plan", &plan.id),
        ));
    }
    Ok(())
}

/// The joint meeting sends a submitted plan back as a draft.
pub fn return_plan(who: &Identity, plan: &mut Plan, reason: &str) -> Result<(), Refusal> {
    joint_meeting(who, plan)?;
    let mut v = Violations::new();
    check_text(&mut v, "reason", reason, true);
    v.into_result()?;
    if plan.state != PlanState::Submitted {
        return Err(not_now(
            msg("nn-plan-return")
                .arg("plan", &plan.id)
                .arg("plan_state", plan.state.as_str()),
        )
        .into());
    }
    plan.state = PlanState::Draft;
    plan.return_reason = reason.trim().to_string();
    Ok(())
}

/// The joint meeting approves a submitted plan; late after the end of January of its year.
pub fn approve(who: &Identity, plan: &mut Plan, now_ms: i64) -> Result<(), Refusal> {
    joint_meeting(who, plan)?;
    if plan.state != PlanState::Submitted {
        return Err(not_now(
            msg("nn-plan-approve")
                .arg("plan", &plan.id)
                .arg("plan_state", plan.state.as_str()),
        )
        .into());
    }
    plan.state = PlanState::Approved;
    plan.approved_at = Some(now_ms);
    plan.approved_by = who.subject.clone();
    plan.late_approval = china_date(now_ms) > approval_deadline(plan.year);
    Ok(())
}

/// Publishes an approved plan: its owner or the joint meeting.
pub fn publish(who: &Identity, plan: &mut Plan, now_ms: i64) -> Result<(), Refusal> {
    if !who.has_role(ROLE_JOINT_MEETING) {
        may_edit(who, &plan.department_code, "id")?;
    }
    if plan.state != PlanState::Approved {
        return Err(not_now(
            msg("nn-plan-publish")
                .arg("plan", &plan.id)
                .arg("plan_state", plan.state.as_str()),
        )
        .into());
    }
    plan.state = PlanState::Published;
    plan.published_at = Some(now_ms);
    plan.effective_version = plan.latest_version;
    Ok(())
}

/// Opens an amendment of a published plan; one at a time.
pub fn propose_amendment(
    who: &Identity,
    plan: &Plan,
    content: &PlanContent,
    reason: &str,
) -> Result<u32, Refusal> {
    may_edit(who, &plan.department_code, "id")?;
    let mut v = Violations::new();
    check_text(&mut v, "reason", reason, true);
    v.into_result()?;
    check_same_year(plan, content)?;
    if plan.state != PlanState::Published {
        return Err(not_now(
            msg("nn-plan-amend")
                .arg("plan", &plan.id)
                .arg("plan_state", plan.state.as_str()),
        )
        .into());
    }
    if plan.latest_version > plan.effective_version {
        return Err(not_now(
            msg("nn-amendment-pending")
                .arg("plan", &plan.id)
                .arg("version", plan.latest_version),
        )
        .into());
    }
    Ok(plan.latest_version + 1)
}

/// Records the filings the caller's roles allow on a pending amendment.
/// Refuses `who` unless they file amendments: the joint meeting or the judicial department.
pub fn may_file(who: &Identity) -> Result<(), Denied> {
    if who.has_role(ROLE_JOINT_MEETING) || who.has_role(ROLE_PLANNING_JUDICIAL) {
        return Ok(());
    }
    Err(Denied::new(
        "authorization",
        msg("denied-filing")
            .arg("meeting_role", ROLE_JOINT_MEETING)
            .arg("judicial_role", ROLE_PLANNING_JUDICIAL),
    ))
}

pub fn file_amendment(who: &Identity, plan: &Plan, version: &mut Version) -> Result<(), Refusal> {
    if version.amendment != Some(AmendmentState::Proposed) {
        return Err(not_now(
            msg("nn-not-proposed-amendment")
                .arg("plan", &plan.id)
                .arg("version", version.version),
        )
        .into());
    }
    let mut filed = false;
    if who.has_role(ROLE_JOINT_MEETING) && version.joint_meeting_filed_by.is_empty() {
        version.joint_meeting_filed_by = who.subject.clone();
        filed = true;
    }
    if who.has_role(ROLE_PLANNING_JUDICIAL) && version.judicial_filed_by.is_empty() {
        version.judicial_filed_by = who.subject.clone();
        filed = true;
    }
    if !filed {
        return Err(denied(
            "authorization",
            msg("denied-filing")
                .arg("meeting_role", ROLE_JOINT_MEETING)
                .arg("judicial_role", ROLE_PLANNING_JUDICIAL),
        )
        .into());
    }
    if !version.joint_meeting_filed_by.is_empty() && !version.judicial_filed_by.is_empty() {
        version.amendment = Some(AmendmentState::Filed);
    }
    Ok(())
}

/// Publishes a filed amendment: it comes into force.
pub fn publish_amendment(
    who: &Identity,
    plan: &mut Plan,
    version: &mut Version,
    now_ms: i64,
) -> Result<(), Refusal> {
    may_edit(who, &plan.department_code, "id")?;
    match version.amendment {
        Some(AmendmentState::Filed) => {}
        Some(AmendmentState::Proposed) => {
            let with = match (
                version.joint_meeting_filed_by.is_empty(),
                version.judicial_filed_by.is_empty(),
            ) {
                (true, true) => "both",
                (true, false) => "joint_meeting",
                _ => "judicial",
            };
            return Err(not_now(
                msg("nn-amendment-not-filed")
                    .arg("version", version.version)
                    .arg("with", with),
            )
            .into());
        }
        _ => {
            return Err(not_now(
                msg("nn-not-pending-amendment")
                    .arg("plan", &plan.id)
                    .arg("version", version.version),
            )
            .into());
        }
    }
    version.amendment = Some(AmendmentState::Published);
    version.effective_at = Some(now_ms);
    plan.effective_version = version.version;
    Ok(())
}

/// What a lead department asks for one task.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TaskRequest {
    /// Plan.
    pub plan_id: String,
    /// Entry.
    pub entry_key: String,
    /// Name; empty: the entry's.
    pub name: String,
    /// Window; `None`: the entry's.
    pub window: Option<(NaiveDate, NaiveDate)>,
    /// Participants; empty: the entry's.
    pub participants: Vec<Participant>,
    /// Scope; `None`: the entry's.
    pub scope: Option<Scope>,
    /// Quantity; 0: from the entry.
    pub quantity: u32,
}

/// A task's settings with the entry's defaults filled in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskContent {
    /// Plan.
    pub plan_id: String,
    /// Entry key.
    pub entry_key: String,
    /// Name.
    pub name: String,
    /// First day.
    pub window_start: NaiveDate,
    /// Last day.
    pub window_end: NaiveDate,
    /// Participants.
    pub participants: Vec<Participant>,
    /// Scope.
    pub scope: Scope,
    /// Quantity; 0 when the entry's ratio decides.
    pub quantity: u32,
}

/// A task.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Task {
    /// Id.
    pub id: String,
    /// Settings.
    pub content: TaskContent,
    /// Plan version read.
    pub plan_version: u32,
    /// Plan year.
    pub year: u32,
    /// Entry as it stood.
    pub entry: Entry,
    /// State.
    pub state: TaskState,
    /// Cancel reason.
    pub cancel_reason: String,
    /// Revision.
    pub revision: i64,
    /// Creator.
    pub created_by: String,
    /// Times (ms).
    pub created_at: i64,
    /// Launched.
    pub launched_at: Option<i64>,
    /// Cancelled.
    pub cancelled_at: Option<i64>,
}

impl Task {
    /// Lead department.
    pub fn lead(&self) -> &str {
        &self.entry.lead_department_code
    }

    /// Lead and participants.
    pub fn departments(&self) -> BTreeSet<&str> {
        self.content
            .participants
            .iter()
            .map(|p| p.department_code.as_str())
            .chain([self.lead()])
            .collect()
    }
}

fn within(task: &[String], entry: &[String], contains: impl Fn(&str, &str) -> bool) -> bool {
    entry.is_empty()
        || (!task.is_empty() && task.iter().all(|t| entry.iter().any(|e| contains(e, t))))
}

fn subset<T: PartialEq>(task: &[T], entry: &[T]) -> bool {
    entry.is_empty() || (!task.is_empty() && task.iter().all(|t| entry.contains(t)))
}

/// Builds a task from the entry of a published plan: only the entry's lead, only narrowing, and never more
/// targets than the entry has left (`taken`: quantities of the entry's other live tasks).
pub fn plan_task(
    who: &Identity,
    plan: &Plan,
    version: &Version,
    request: TaskRequest,
    taken: u64,
    regions: &Regions,
) -> Result<TaskContent, Refusal> {
    if plan.state != PlanState::Published {
        return Err(not_now(
            msg("nn-plan-tasks")
                .arg("plan", &plan.id)
                .arg("plan_state", plan.state.as_str()),
        )
        .into());
    }
    let Some(entry) = version.content.entry(&request.entry_key) else {
        return Err(Violations::one(
            "content.entry_key",
            msg("no-entry")
                .arg("plan", &plan.id)
                .arg("version", version.version)
                .arg("entry", &request.entry_key),
        )
        .into());
    };
    may_edit(who, &entry.lead_department_code, "content.entry_key")?;
    let mut v = Violations::new();
    let name = if request.name.trim().is_empty() {
        entry.task_name.clone()
    } else {
        check_text(&mut v, "content.name", &request.name, true);
        request.name.trim().to_string()
    };
    let (window_start, window_end) = request
        .window
        .unwrap_or((entry.window_start, entry.window_end));
    v.check(
        window_start < entry.window_start || window_end > entry.window_end,
        "content.window_start",
        msg("task-window")
            .arg("start_day", entry.window_start)
            .arg("end_day", entry.window_end),
    );
    v.check(
        window_end < window_start,
        "content.window_end",
        msg("plan-window-order"),
    );
    let participants = if request.participants.is_empty() {
        entry.participants.clone()
    } else {
        for (i, p) in request.participants.iter().enumerate() {
            let f = format!("content.participants[{i}]");
            match entry
                .participants
                .iter()
                .find(|e| e.department_code == p.department_code)
            {
                None => v.add(
                    format!("{f}.department_code"),
                    msg("task-department-not-in-entry")
                        .arg("dept", &p.department_code)
                        .arg("entry", &entry.key),
                ),
                Some(e) => {
                    v.check(
                        p.item_codes.is_empty(),
                        format!("{f}.item_codes"),
                        msg("plan-items-none"),
                    );
                    for (j, code) in p.item_codes.iter().enumerate() {
                        v.check(
                            !e.item_codes.contains(code),
                            format!("{f}.item_codes[{j}]"),
                            msg("task-item-not-in-entry")
                                .arg("item", code)
                                .arg("entry", &entry.key),
                        );
                    }
                }
            }
        }
        v.check(
            !request
                .participants
                .iter()
                .any(|p| p.department_code == entry.lead_department_code),
            "content.participants",
            msg("task-lead-takes-part").arg("dept", &entry.lead_department_code),
        );
        request.participants
    };
    let scope = match request.scope {
        None => entry.scope.clone(),
        Some(s) => {
            let e = &entry.scope;
            let checks = [
                (subset(&s.kinds, &e.kinds), "kinds"),
                (
                    within(&s.region_codes, &e.region_codes, |e, t| {
                        regions.prefix(e).is_some_and(|p| t.starts_with(p))
                    }),
                    "region_codes",
                ),
                (
                    within(&s.industry_prefixes, &e.industry_prefixes, |e, t| {
                        t.starts_with(e)
                    }),
                    "industry_prefixes",
                ),
                (subset(&s.departments, &e.departments), "departments"),
                (subset(&s.risk_levels, &e.risk_levels), "risk_levels"),
                (subset(&s.statuses, &e.statuses), "statuses"),
            ];
            for (ok, field) in checks {
                v.check(
                    !ok,
                    format!("content.scope.{field}"),
                    msg("task-narrows").arg("entry", &entry.key),
                );
            }
            s
        }
    };
    let quantity = if entry.quantity > 0 {
        let left = u64::from(entry.quantity).saturating_sub(taken);
        if left == 0 {
            v.add(
                "content.quantity",
                msg("entry-used-up")
                    .arg("entry", &entry.key)
                    .arg("quantity", entry.quantity),
            );
        }
        if request.quantity == 0 {
            left as u32
        } else {
            v.check(
                u64::from(request.quantity) > left,
                "content.quantity",
                msg("entry-left")
                    .arg("left", left)
                    .arg("entry", &entry.key)
                    .arg("quantity", entry.quantity),
            );
            request.quantity
        }
    } else {
        request.quantity
    };
    v.into_result()?;
    Ok(TaskContent {
        plan_id: plan.id.clone(),
        entry_key: entry.key.clone(),
        name,
        window_start,
        window_end,
        participants,
        scope,
        quantity,
    })
}

/// Launches a created task, before its window has passed.
pub fn launch(who: &Identity, task: &mut Task, now_ms: i64) -> Result<(), Refusal> {
    may_edit(who, task.lead(), "id")?;
    if task.state != TaskState::Created {
        return Err(not_now(
            msg("nn-task-launch")
                .arg("task", &task.id)
                .arg("task_state", task.state.as_str()),
        )
        .into());
    }
    let today = china_date(now_ms);
    if today > task.content.window_end {
        return Err(not_now(
            msg("nn-task-window-ended")
                .arg("task", &task.id)
                .arg("end_day", task.content.window_end),
        )
        .into());
    }
    task.state = TaskState::Launched;
    task.launched_at = Some(now_ms);
    Ok(())
}

/// Cancels a task with a reason.
pub fn cancel(who: &Identity, task: &mut Task, reason: &str, now_ms: i64) -> Result<(), Refusal> {
    may_edit(who, task.lead(), "id")?;
    let mut v = Violations::new();
    check_text(&mut v, "reason", reason, true);
    v.into_result()?;
    if task.state == TaskState::Cancelled {
        return Err(not_now(msg("nn-task-cancelled").arg("task", &task.id)).into());
    }
    task.state = TaskState::Cancelled;
    task.cancel_reason = reason.trim().to_string();
    task.cancelled_at = Some(now_ms);
    Ok(())
}

/// The coverage report of one year.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Coverage {
    /// Published items in no entry, by code.
    pub uncovered: Vec<String>,
    /// Departments neither leading nor joining a joint entry.
    pub idle_departments: Vec<String>,
    /// (plan, entry, item, ratio, cap).
    pub breaches: Vec<(String, String, String, u32, u32)>,
}

/// Compares the year's published plans (in their versions in force) with the catalog and the departments;
/// `department` narrows the report to one department's items and participation.
pub fn coverage(
    plans: &[(Plan, Version)],
    items: &HashMap<String, CatalogItem>,
    departments: &BTreeSet<String>,
    department: Option<&str>,
) -> Coverage {
    let mut covered = BTreeSet::new();
    let mut active = BTreeSet::new();
    let mut breaches = Vec::new();
    for (plan, version) in plans {
        for entry in &version.content.entries {
            covered.extend(entry.item_codes());
            if entry.is_joint() {
                active.extend(
                    entry
                        .participants
                        .iter()
                        .map(|p| p.department_code.as_str()),
                );
                active.insert(entry.lead_department_code.as_str());
            }
            for (code, cap) in cap_breaches(entry, items) {
                if department.is_none_or(|d| items[code].department_code == d) {
                    breaches.push((
                        plan.id.clone(),
                        entry.key.clone(),
                        code.to_string(),
                        entry.ratio_basis_points,
                        cap,
                    ));
                }
            }
        }
    }
    let by_code: BTreeMap<&str, &CatalogItem> =
        items.iter().map(|(k, v)| (k.as_str(), v)).collect();
    Coverage {
        uncovered: by_code
            .values()
            .filter(|i| i.published && department.is_none_or(|d| i.department_code == d))
            .filter(|i| !covered.contains(i.code.as_str()))
            .map(|i| i.code.clone())
            .collect(),
        idle_departments: departments
            .iter()
            .filter(|d| department.is_none_or(|x| x == d.as_str()))
            .filter(|d| !active.contains(d.as_str()))
            .cloned()
            .collect(),
        breaches,
    }
}

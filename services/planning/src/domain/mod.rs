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

mod amendment;
mod coverage;
mod entry;
mod plan;
mod task;
#[cfg(test)]
mod tests;

pub use amendment::*;
pub use coverage::*;
pub use entry::*;
pub use plan::*;
pub use task::*;

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

fn denied(field: &str, reason: Text) -> Denied {
    Denied::new(field, reason)
}

fn not_now(reason: impl Into<Text>) -> NotNow {
    NotNow(reason.into())
}

pub use suiji_platform::calendar::china_date;

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

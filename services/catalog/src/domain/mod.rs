//! The catalog's rules, in plain Rust with no I/O: what an inspection item is, what makes one valid, who may
//! change it, and how it moves from draft to published to retired.

use serde::{Deserialize, Serialize};
use suiji_platform::auth::{Identity, ROLE_CATALOG_EDITOR, ROLE_CATALOG_PUBLISHER};
pub use suiji_platform::validation::{Denied, NotNow};
use suiji_platform::validation::{Violations, msg};

/// Largest ratio a cap may name: the whole directory, in basis points.
pub const FULL_RATIO: u32 = 10_000;

pub use suiji_platform::vocabulary::TargetKind;

/// Key item (重点检查事项) or general item (一般检查事项).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    /// Safety, quality, public interest: no fixed cap, but an explicit one.
    Key,
    /// General supervision: capped by the jurisdiction.
    General,
}

impl Category {
    /// Stable name, as stored.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Key => "key",
            Self::General => "general",
        }
    }
}

/// Inspection method (检查方式).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    /// 实地核查.
    OnSite,
    /// 书面检查.
    Written,
    /// 网络监测.
    OnlineMonitoring,
    /// 委托第三方.
    ThirdParty,
}

/// A named part of an item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubItem {
    /// Code, unique within the item.
    pub code: String,
    /// Name.
    pub name: String,
}

/// A line of the checklist.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckPoint {
    /// Code, unique within the item.
    pub code: String,
    /// What is checked.
    pub description: String,
    /// Its legal provision, when it differs from the item's.
    pub basis: String,
}

/// Everything about an item that its department edits; one version holds one content.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ItemContent {
    /// 抽查事项名称.
    pub name: String,
    /// Sub-items.
    pub sub_items: Vec<SubItem>,
    /// 抽查依据: one provision per entry.
    pub legal_basis: Vec<String>,
    /// 抽查主体: the responsible department.
    pub department_code: String,
    /// Kinds of target it applies to.
    pub target_kinds: Vec<TargetKind>,
    /// Key or general.
    pub category: Category,
    /// 抽查比例 cap in basis points of the directory.
    pub ratio_cap_basis_points: u32,
    /// 抽查频次: times per year at most on one target.
    pub frequency_per_year: u32,
    /// 检查方式.
    pub methods: Vec<Method>,
    /// Qualification tags an inspector must hold.
    pub inspector_qualifications: Vec<String>,
    /// Whether the team needs an expert.
    pub requires_expert: bool,
    /// 检查内容.
    pub checklist: Vec<CheckPoint>,
    /// Remarks.
    pub remarks: String,
}

/// Lifecycle state of an item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ItemState {
    /// Never published.
    Draft,
    /// In force.
    Published,
    /// Withdrawn.
    Retired,
}

impl ItemState {
    /// Stable name, as stored.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Draft => "draft",
            Self::Published => "published",
            Self::Retired => "retired",
        }
    }
    /// From the stored name.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "draft" => Self::Draft,
            "published" => Self::Published,
            "retired" => Self::Retired,
            _ => return None,
        })
    }
}

/// State of one version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VersionState {
    /// Being edited.
    Draft,
    /// In force.
    Published,
    /// Replaced by a later publication.
    Superseded,
    /// In force when the item was retired.
    Retired,
}

impl VersionState {
    /// Stable name, as stored.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Draft => "draft",
            Self::Published => "published",
            Self::Superseded => "superseded",
            Self::Retired => "retired",
        }
    }
    /// From the stored name.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "draft" => Self::Draft,
            "published" => Self::Published,
            "superseded" => Self::Superseded,
            "retired" => Self::Retired,
            _ => return None,
        })
    }
}

/// An item's header: who owns it, where it stands, which versions matter.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Item {
    /// Code.
    pub code: String,
    /// Owning department.
    pub department_code: String,
    /// Lifecycle state.
    pub state: ItemState,
    /// Highest version number.
    pub latest_version: u32,
    /// Version in force (or last in force); 0 when never published.
    pub published_version: u32,
    /// Row revision for optimistic concurrency.
    pub revision: i64,
    /// Why it was retired.
    pub retire_reason: String,
}

impl Item {
    /// Whether the latest version is an unpublished draft.
    pub fn has_draft(&self) -> bool {
        self.latest_version > self.published_version
    }
}

/// One version of an item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Version {
    /// Number, from 1.
    pub version: u32,
    /// State.
    pub state: VersionState,
    /// Content.
    pub content: ItemContent,
    /// When drafted (epoch ms).
    pub created_at_ms: i64,
    /// When published (epoch ms).
    pub published_at_ms: Option<i64>,
    /// Who published it.
    pub published_by: String,
}

/// The jurisdiction's rules for the catalog.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    /// Ratio cap of general items, in basis points.
    pub general_cap_basis_points: u32,
}

/// Checks an item code.
pub fn validate_code(code: &str, v: &mut Violations) {
    if code.trim().is_empty() {
        v.add("code", msg("not-empty"));
    } else if code.len() > 64 {
        v.add("code", msg("at-most-chars").arg("max", 64));
    } else if !code
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    {
        v.add("code", msg("code-letters"));
    }
}

fn percent(bp: u32) -> String {
    format!("{}.{:02}%", bp / 100, bp % 100)
}

/// Checks content and fills what the policy decides (a general item's default cap). `known_department`
/// answers whether a department code exists. Field paths are prefixed with `content.`.
pub fn validate_content(
    mut content: ItemContent,
    policy: Policy,
    known_department: impl Fn(&str) -> bool,
) -> Result<ItemContent, Violations> {
    let mut v = Violations::new();
    content.name = content.name.trim().to_string();
    v.check(content.name.is_empty(), "content.name", msg("not-empty"));
    v.check(
        content.name.chars().count() > 200,
        "content.name",
        msg("at-most-chars").arg("max", 200),
    );
    content.legal_basis.retain(|b| !b.trim().is_empty());
    v.check(
        content.legal_basis.is_empty(),
        "content.legal_basis",
        msg("catalog-legal-basis"),
    );
    if content.department_code.trim().is_empty() {
        v.add("content.department_code", msg("not-empty"));
    } else if !known_department(&content.department_code) {
        v.add(
            "content.department_code",
            msg("catalog-unknown-department").arg("code", &content.department_code),
        );
    }
    v.check(
        content.target_kinds.is_empty(),
        "content.target_kinds",
        msg("catalog-kinds"),
    );
    let mut kinds = content.target_kinds.clone();
    kinds.sort();
    kinds.dedup();
    v.check(
        kinds.len() != content.target_kinds.len(),
        "content.target_kinds",
        msg("catalog-kind-twice"),
    );
    match content.category {
        Category::General => {
            if content.ratio_cap_basis_points == 0 {
                content.ratio_cap_basis_points = policy.general_cap_basis_points;
            } else if content.ratio_cap_basis_points > policy.general_cap_basis_points {
                v.add(
                    "content.ratio_cap_basis_points",
                    msg("catalog-cap-over")
                        .arg("given", content.ratio_cap_basis_points)
                        .arg("given_percent", percent(content.ratio_cap_basis_points))
                        .arg("cap", policy.general_cap_basis_points)
                        .arg("cap_percent", percent(policy.general_cap_basis_points)),
                );
            }
        }
        Category::Key => {
            if content.ratio_cap_basis_points == 0 {
                v.add("content.ratio_cap_basis_points", msg("catalog-key-cap"));
            } else if content.ratio_cap_basis_points > FULL_RATIO {
                v.add("content.ratio_cap_basis_points", msg("catalog-cap-full"));
            }
        }
    }
    v.check(
        content.frequency_per_year == 0,
        "content.frequency_per_year",
        msg("catalog-frequency-min"),
    );
    v.check(
        content.frequency_per_year > 12,
        "content.frequency_per_year",
        msg("catalog-frequency-max"),
    );
    v.check(
        content.methods.is_empty(),
        "content.methods",
        msg("catalog-methods"),
    );
    for (i, q) in content.inspector_qualifications.iter_mut().enumerate() {
        *q = q.trim().to_string();
        v.check(
            q.is_empty(),
            format!("content.inspector_qualifications[{i}]"),
            msg("not-empty"),
        );
    }
    check_unique_codes(
        content.sub_items.iter().map(|s| (&s.code, &s.name)),
        "content.sub_items",
        "name",
        &mut v,
    );
    v.check(
        content.checklist.is_empty(),
        "content.checklist",
        msg("catalog-checklist"),
    );
    check_unique_codes(
        content.checklist.iter().map(|c| (&c.code, &c.description)),
        "content.checklist",
        "description",
        &mut v,
    );
    v.into_result()?;
    Ok(content)
}

fn check_unique_codes<'a>(
    entries: impl Iterator<Item = (&'a String, &'a String)>,
    path: &str,
    text_field: &str,
    v: &mut Violations,
) {
    let mut seen = std::collections::HashSet::new();
    for (i, (code, text)) in entries.enumerate() {
        if code.trim().is_empty() {
            v.add(format!("{path}[{i}].code"), msg("not-empty"));
        } else if !seen.insert(code.clone()) {
            v.add(
                format!("{path}[{i}].code"),
                msg("appears-twice").arg("value", code),
            );
        }
        v.check(
            text.trim().is_empty(),
            format!("{path}[{i}].{text_field}"),
            msg("not-empty"),
        );
    }
}

/// Who may draft or edit an item of `department`.
pub fn may_edit(who: &Identity, department: &str, field: &str) -> Result<(), Denied> {
    owns(who, department, field)?;
    if !who.has_role(ROLE_CATALOG_EDITOR) {
        return Err(Denied::role(ROLE_CATALOG_EDITOR));
    }
    Ok(())
}

/// Who may publish or retire an item of `department`.
pub fn may_publish(who: &Identity, department: &str) -> Result<(), Denied> {
    owns(who, department, "code")?;
    if !who.has_role(ROLE_CATALOG_PUBLISHER) {
        return Err(Denied::role(ROLE_CATALOG_PUBLISHER));
    }
    Ok(())
}

fn owns(who: &Identity, department: &str, field: &str) -> Result<(), Denied> {
    if who.department != department {
        return Err(Denied::new(
            field,
            msg("denied-item-owner")
                .arg("dept", department)
                .arg("by_dept", &who.department),
        ));
    }
    Ok(())
}

/// What an edit does to an item's versions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Edit {
    /// Replace the content of the open draft, version n.
    ReplaceDraft(u32),
    /// Open version n as a new draft; the published version stays in force.
    NewDraft(u32),
}

/// Plans an edit of `item` whose new content names `department_code`.
pub fn plan_edit(item: &Item, department_code: &str) -> Result<Edit, Result<NotNow, Violations>> {
    if department_code != item.department_code {
        return Err(Err(Violations::one(
            "content.department_code",
            msg("catalog-department-fixed").arg("code", &item.department_code),
        )));
    }
    match item.state {
        ItemState::Retired => Err(Ok(NotNow(msg("nn-item-retired-edit")))),
        _ if item.has_draft() => Ok(Edit::ReplaceDraft(item.latest_version)),
        _ => Ok(Edit::NewDraft(item.latest_version + 1)),
    }
}

/// Plans publishing: the version that comes into force.
pub fn plan_publish(item: &Item) -> Result<u32, NotNow> {
    match item.state {
        ItemState::Retired => Err(NotNow(msg("nn-item-retired"))),
        _ if !item.has_draft() => Err(NotNow(
            msg("nn-no-draft").arg("version", item.published_version),
        )),
        _ => Ok(item.latest_version),
    }
}

/// Plans retiring.
pub fn plan_retire(item: &Item, reason: &str) -> Result<(), Result<NotNow, Violations>> {
    if reason.trim().is_empty() {
        return Err(Err(Violations::one("reason", msg("catalog-retire-reason"))));
    }
    match item.state {
        ItemState::Published => Ok(()),
        ItemState::Draft => Err(Ok(NotNow(msg("nn-item-never-published")))),
        ItemState::Retired => Err(Ok(NotNow(msg("nn-item-already-retired")))),
    }
}

/// Checks that the caller's view is current.
pub fn check_revision(item: &Item, expected: i64) -> Result<(), NotNow> {
    if expected != 0 && expected != item.revision {
        return Err(NotNow(
            msg("nn-item-changed")
                .arg("now", item.revision)
                .arg("expected", expected),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests;

//! Inspection targets (检查对象): what a target is, how one row of an import becomes one, and why a row is
//! refused.

use std::collections::HashSet;
use suiji_platform::messages::{Text, msg};

use serde::{Deserialize, Serialize};
use suiji_platform::reference::Regions;

pub use suiji_platform::vocabulary::TargetKind as Kind;

pub use super::layout::Layout;
use super::layout::{Columns, yes_no};
use super::{industry, uscc};

/// Registration status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// 存续.
    Operating,
    /// 停业.
    Closed,
    /// 清算中.
    Liquidating,
    /// 吊销、注销.
    Revoked,
}

impl Status {
    /// Stable name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Operating => "operating",
            Self::Closed => "closed",
            Self::Liquidating => "liquidating",
            Self::Revoked => "revoked",
        }
    }

    /// From a stable or Chinese name; empty means operating.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s.trim() {
            "" | "operating" | "存续" | "在营" | "开业" => Self::Operating,
            "closed" | "停业" | "歇业" => Self::Closed,
            "liquidating" | "清算" | "清算中" => Self::Liquidating,
            "revoked" | "吊销" | "注销" => Self::Revoked,
            _ => return None,
        })
    }
}

/// Credit-risk level; higher levels are drawn more often.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Risk {
    /// 低风险.
    Low,
    /// 一般风险.
    Medium,
    /// 较高风险.
    MediumHigh,
    /// 高风险.
    High,
}

impl Risk {
    /// Every level, lowest first.
    pub const ALL: [Risk; 4] = [Risk::Low, Risk::Medium, Risk::MediumHigh, Risk::High];

    /// Stable name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Low => "low",
            Self::Medium => "medium",
            Self::MediumHigh => "medium_high",
            Self::High => "high",
        }
    }

    /// Its number in the API (`RiskLevel`), also the byte a snapshot keeps per id: low 1 … high 4.
    pub fn code(self) -> u8 {
        match self {
            Self::Low => 1,
            Self::Medium => 2,
            Self::MediumHigh => 3,
            Self::High => 4,
        }
    }

    /// From a stable or Chinese name; empty means medium (一般风险).
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s.trim() {
            "low" | "低" | "低风险" => Self::Low,
            "" | "medium" | "一般" | "一般风险" | "中" => Self::Medium,
            "medium_high" | "较高" | "较高风险" => Self::MediumHigh,
            "high" | "高" | "高风险" => Self::High,
            _ => return None,
        })
    }
}

/// A target.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Target {
    /// Public identifier: the credit code, or a prefixed identifier for kinds without one.
    pub id: String,
    /// Kind.
    pub kind: Kind,
    /// Credit code, when the kind has one.
    pub credit_code: Option<String>,
    /// Name.
    pub name: String,
    /// GB/T 2260 region.
    pub region_code: String,
    /// GB/T 4754 industry, normalised; empty when unknown.
    pub industry_code: String,
    /// Address.
    pub address: String,
    /// Status.
    pub status: Status,
    /// Supervising departments.
    pub departments: Vec<String>,
    /// Credit risk.
    pub risk: Risk,
    /// On the abnormal-operations list.
    pub abnormal: bool,
    /// On the serious-violations list.
    pub serious_violation: bool,
    /// Complaints in the last 12 months.
    pub complaints_12m: u32,
    /// Key-focus flag.
    pub key_focus: bool,
}

/// A column of the import format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(usize)]
pub enum Column {
    /// `id` / 标识.
    Id,
    /// `kind` / 类型.
    Kind,
    /// `credit_code` / 统一社会信用代码.
    CreditCode,
    /// `name` / 名称.
    Name,
    /// `region_code` / 行政区划.
    Region,
    /// `industry_code` / 行业.
    Industry,
    /// `address` / 地址.
    Address,
    /// `status` / 经营状态.
    Status,
    /// `departments` / 监管部门 (separated by `;` or `；`).
    Departments,
    /// `risk_level` / 风险等级.
    Risk,
    /// `abnormal` / 经营异常.
    Abnormal,
    /// `serious_violation` / 严重违法.
    SeriousViolation,
    /// `complaints_12m` / 投诉举报.
    Complaints,
    /// `key_focus` / 重点关注.
    KeyFocus,
}

/// Every column with its English and Chinese header, in export order (the order of [`Column`]).
pub const COLUMNS: [(&str, &str); 14] = [
    ("id", "标识"),
    ("kind", "类型"),
    ("credit_code", "统一社会信用代码"),
    ("name", "名称"),
    ("region_code", "行政区划"),
    ("industry_code", "行业"),
    ("address", "地址"),
    ("status", "经营状态"),
    ("departments", "监管部门"),
    ("risk_level", "风险等级"),
    ("abnormal", "经营异常"),
    ("serious_violation", "严重违法"),
    ("complaints_12m", "投诉举报"),
    ("key_focus", "重点关注"),
];

/// The target columns, with `kind`, `name` and `region_code` required.
pub static TARGET_COLUMNS: Columns = Columns {
    headers: &COLUMNS,
    required: &[
        Column::Kind as usize,
        Column::Name as usize,
        Column::Region as usize,
    ],
};

/// Reads a target file's header.
pub fn layout(header: &[&str]) -> Result<Layout, Text> {
    Layout::from_header(&TARGET_COLUMNS, header)
}

/// Longest name accepted.
pub const MAX_NAME: usize = 200;
/// Longest address accepted.
pub const MAX_ADDRESS: usize = 300;
/// Longest identifier accepted.
pub const MAX_ID: usize = 64;

/// What the checks of a row need to know.
pub struct Checks<'a> {
    /// Region codes.
    pub regions: &'a Regions,
    /// Department codes that exist.
    pub departments: &'a HashSet<String>,
    /// Whose records the importing department may write; `None` for an administrator (or a file read for a test).
    pub scope: Option<&'a Scope>,
}

/// What a department's import may write: inspectors of its own department only, and none another department
/// holds under the same id.
#[derive(Debug, Clone, Default)]
pub struct Scope {
    /// The importing department.
    pub department: String,
    /// Inspector ids another department holds, with that department.
    pub held_by_others: std::collections::HashMap<String, String>,
}

/// One problem of a row: the column and why.
pub type FieldError = (&'static str, Text);

/// Turns one row into a target, or lists every problem of the row.
pub fn parse_row(
    layout: &Layout,
    row: &[&str],
    checks: &Checks<'_>,
) -> Result<Target, Vec<FieldError>> {
    let mut errors: Vec<FieldError> = Vec::new();
    layout
        .check_width(row)
        .map_err(|reason| vec![("", reason)])?;
    let get = |c: Column| layout.get(row, c as usize);
    let kind = Kind::parse(get(Column::Kind));
    if kind.is_none() {
        let known: Vec<&str> = Kind::ALL.iter().map(|k| k.as_str()).collect();
        errors.push((
            "kind",
            msg("import-not-one-of")
                .arg("value", get(Column::Kind))
                .arg("known", known.join(", ")),
        ));
    }
    let name = get(Column::Name).to_string();
    if name.is_empty() {
        errors.push(("name", msg("not-empty")));
    } else if name.chars().count() > MAX_NAME {
        errors.push((
            "name",
            msg("import-too-long")
                .arg("length", name.chars().count())
                .arg("max", MAX_NAME),
        ));
    }
    let address = get(Column::Address).to_string();
    if address.chars().count() > MAX_ADDRESS {
        errors.push((
            "address",
            msg("import-too-long")
                .arg("length", address.chars().count())
                .arg("max", MAX_ADDRESS),
        ));
    }
    let region_code = get(Column::Region).to_string();
    if checks.regions.get(&region_code).is_none() {
        errors.push(("region_code", msg("region-code").arg("value", &region_code)));
    }
    let industry_code = match get(Column::Industry) {
        "" => String::new(),
        code => industry::normalise(code).unwrap_or_else(|e| {
            errors.push(("industry_code", e));
            String::new()
        }),
    };
    let status = Status::parse(get(Column::Status)).unwrap_or_else(|| {
        errors.push((
            "status",
            msg("import-operating-status").arg("value", get(Column::Status)),
        ));
        Status::Operating
    });
    let risk = Risk::parse(get(Column::Risk)).unwrap_or_else(|| {
        errors.push((
            "risk_level",
            msg("import-risk").arg("value", get(Column::Risk)),
        ));
        Risk::Medium
    });
    let departments: Vec<String> = get(Column::Departments)
        .split([';', '；', '|'])
        .map(str::trim)
        .filter(|d| !d.is_empty())
        .map(str::to_string)
        .collect();
    for d in &departments {
        if !checks.departments.contains(d) {
            errors.push((
                "departments",
                msg("catalog-unknown-department").arg("code", d),
            ));
        }
    }
    let abnormal = yes_no(get(Column::Abnormal), "abnormal", &mut errors);
    let serious_violation = yes_no(
        get(Column::SeriousViolation),
        "serious_violation",
        &mut errors,
    );
    let key_focus = yes_no(get(Column::KeyFocus), "key_focus", &mut errors);
    let complaints_12m = match get(Column::Complaints) {
        "" => 0,
        n => n.parse::<u32>().unwrap_or_else(|_| {
            errors.push(("complaints_12m", msg("import-whole-number").arg("value", n)));
            0
        }),
    };
    let given_id = get(Column::Id);
    let given_code = get(Column::CreditCode);
    let (id, credit_code) = match kind.map(Kind::id_prefix) {
        None => (String::new(), None),
        Some(None) => match uscc::validate(given_code) {
            Ok(code) => {
                if !given_id.is_empty() && given_id != code {
                    errors.push((
                        "id",
                        msg("import-id-differs")
                            .arg("value", given_id)
                            .arg("code", &code),
                    ));
                }
                (code.clone(), Some(code))
            }
            Err(e) if given_code.is_empty() => {
                errors.push((
                    "credit_code",
                    msg("import-credit-code-required").then(e.text()),
                ));
                (String::new(), None)
            }
            Err(e) => {
                errors.push(("credit_code", e.text()));
                (String::new(), None)
            }
        },
        Some(Some(prefix)) => {
            if !given_code.is_empty() {
                errors.push(("credit_code", msg("import-credit-code-empty")));
            }
            let valid = given_id.starts_with(prefix)
                && given_id.len() > prefix.len()
                && given_id.len() <= MAX_ID
                && given_id
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
            if !valid {
                errors.push((
                    "id",
                    msg("import-id-prefix")
                        .arg("prefix", prefix)
                        .arg("max", MAX_ID),
                ));
            }
            (given_id.to_string(), None)
        }
    };
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(Target {
        id,
        kind: kind.expect("checked"),
        credit_code,
        name,
        region_code,
        industry_code,
        address,
        status,
        departments,
        risk,
        abnormal,
        serious_violation,
        complaints_12m,
        key_focus,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn checks() -> (&'static Regions, HashSet<String>) {
        (
            Regions::shipped(),
            ["610400-SCJG".to_string()].into_iter().collect(),
        )
    }

    const HEADER: &[&str] = &[
        "kind",
        "credit_code",
        "name",
        "region_code",
        "industry_code",
        "departments",
        "risk_level",
    ];

    #[test]
    fn a_good_row_becomes_a_target() {
        let (regions, departments) = checks();
        let layout = layout(HEADER).unwrap();
        let row = [
            "enterprise",
            "91350100M000100Y43",
            "咸阳某食品有限公司",
            "610402",
            "1311",
            "610400-SCJG",
            "高风险",
        ];
        let t = parse_row(
            &layout,
            &row,
            &Checks {
                regions,
                departments: &departments,
                scope: None,
            },
        )
        .unwrap();
        assert_eq!(
            (t.id.as_str(), t.industry_code.as_str(), t.risk),
            ("91350100M000100Y43", "C1311", Risk::High)
        );
    }

    #[test]
    fn chinese_headers_and_values_are_understood() {
        let (regions, departments) = checks();
        let layout = layout(&["\u{feff}类型", "统一社会信用代码", "名称", "行政区划"]).unwrap();
        let t = parse_row(
            &layout,
            &["个体工商户", "91350100M000100Y43", "老王面馆", "610400"],
            &Checks {
                regions,
                departments: &departments,
                scope: None,
            },
        )
        .unwrap();
        assert_eq!(t.kind, Kind::IndividualBusiness);
    }

    #[test]
    fn every_problem_of_a_row_is_listed_by_column() {
        let (regions, departments) = checks();
        let layout = layout(HEADER).unwrap();
        let row = [
            "alien",
            "91350100M000100Y4X",
            "",
            "999999",
            "99",
            "NOPE",
            "extreme",
        ];
        let errors = parse_row(
            &layout,
            &row,
            &Checks {
                regions,
                departments: &departments,
                scope: None,
            },
        )
        .unwrap_err();
        let columns: Vec<&str> = errors.iter().map(|(c, _)| *c).collect();
        assert_eq!(
            columns,
            vec![
                "kind",
                "name",
                "region_code",
                "industry_code",
                "risk_level",
                "departments"
            ]
        );
    }

    #[test]
    fn credit_codes_and_identifiers_follow_the_kind() {
        let (regions, departments) = checks();
        let c = Checks {
            regions,
            departments: &departments,
            scope: None,
        };
        let layout = layout(&["id", "kind", "credit_code", "name", "region_code"]).unwrap();
        let bad_check = parse_row(
            &layout,
            &["", "enterprise", "91350100M000100Y4X", "x", "610400"],
            &c,
        )
        .unwrap_err();
        assert_eq!(bad_check[0].0, "credit_code");
        assert!(
            bad_check[0].1.text().contains("position 18"),
            "{}",
            bad_check[0].1
        );
        let person = parse_row(
            &layout,
            &["P-610402-0001", "natural_person", "", "张三", "610402"],
            &c,
        )
        .unwrap();
        assert_eq!(
            (person.id.as_str(), person.credit_code),
            ("P-610402-0001", None)
        );
        let no_id = parse_row(&layout, &["", "facility", "", "锅炉", "610402"], &c).unwrap_err();
        assert_eq!(no_id[0].0, "id");
    }

    #[test]
    fn truncated_rows_and_oversized_fields_are_refused() {
        let (regions, departments) = checks();
        let c = Checks {
            regions,
            departments: &departments,
            scope: None,
        };
        let layout = layout(HEADER).unwrap();
        let errors = parse_row(&layout, &["enterprise", "91350100M000100Y43"], &c).unwrap_err();
        assert!(errors[0].1.text().contains("truncated"));
        let long = "名".repeat(201);
        let row = [
            "enterprise",
            "91350100M000100Y43",
            long.as_str(),
            "610402",
            "",
            "",
            "",
        ];
        assert_eq!(parse_row(&layout, &row, &c).unwrap_err()[0].0, "name");
    }

    #[test]
    fn headers_are_checked() {
        assert!(
            layout(&["kind", "name"])
                .unwrap_err()
                .text()
                .contains("region_code")
        );
        assert!(
            layout(&["kind", "name", "region_code", "colour"])
                .unwrap_err()
                .text()
                .contains("unknown column")
        );
        assert!(
            layout(&["kind", "name", "region_code", "名称"])
                .unwrap_err()
                .text()
                .contains("twice")
        );
    }
}

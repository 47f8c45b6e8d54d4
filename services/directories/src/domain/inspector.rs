//! Inspectors (执法检查人员): who may be drawn, and why someone may not. No one without a valid enforcement
//! certificate inspects; qualifications and expertise decide which items someone can inspect.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use suiji_platform::messages::{Text, msg};

use super::layout::{Columns, Layout, yes_no};
use super::target::{Checks, FieldError};

/// Where an inspector stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InspectorStatus {
    /// 在岗.
    Active,
    /// 休假、病假.
    OnLeave,
    /// 调离.
    Transferred,
    /// 退休.
    Retired,
}

impl InspectorStatus {
    /// Stable name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::OnLeave => "on_leave",
            Self::Transferred => "transferred",
            Self::Retired => "retired",
        }
    }

    /// From a stable or Chinese name; empty means active.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s.trim() {
            "" | "active" | "在岗" => Self::Active,
            "on_leave" | "休假" | "病假" => Self::OnLeave,
            "transferred" | "调离" => Self::Transferred,
            "retired" | "退休" => Self::Retired,
            _ => return None,
        })
    }
}

/// An inspector.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Inspector {
    /// Identifier within the platform (the department's staff number, prefixed by nothing).
    pub id: String,
    /// Name.
    pub name: String,
    /// Department.
    pub department_code: String,
    /// Enforcement certificate number (执法证号).
    pub certificate_no: String,
    /// Last day the certificate is valid.
    pub certificate_expires: NaiveDate,
    /// Qualification tags, e.g. `food-safety`.
    pub qualifications: Vec<String>,
    /// Expertise tags.
    pub expertise: Vec<String>,
    /// An expert (专家) for items that need one.
    pub expert: bool,
    /// Region (GB/T 2260).
    pub region_code: String,
    /// Status.
    pub status: InspectorStatus,
    /// Targets the inspector declared they must not inspect (回避声明), by target id.
    pub recusals: Vec<String>,
}

/// Why an inspector cannot be drawn on a given day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ineligible {
    /// Not at work.
    NotActive(InspectorStatus),
    /// The certificate has expired.
    CertificateExpired(NaiveDate),
    /// A required qualification is missing.
    MissingQualification(String),
    /// Declared a conflict with this target.
    Recused(String),
}

impl Inspector {
    /// Whether the inspector may inspect `target` on `day` for an item needing `qualifications`.
    pub fn eligible(
        &self,
        day: NaiveDate,
        qualifications: &[String],
        target: Option<&str>,
    ) -> Result<(), Ineligible> {
        if self.status != InspectorStatus::Active {
            return Err(Ineligible::NotActive(self.status));
        }
        if self.certificate_expires < day {
            return Err(Ineligible::CertificateExpired(self.certificate_expires));
        }
        if let Some(missing) = qualifications
            .iter()
            .find(|q| !self.qualifications.contains(q))
        {
            return Err(Ineligible::MissingQualification(missing.clone()));
        }
        if let Some(target) = target
            && self.recusals.iter().any(|r| r == target)
        {
            return Err(Ineligible::Recused(target.to_string()));
        }
        Ok(())
    }
}

/// The columns of the inspector import format, English and Chinese headers, in export order.
pub const COLUMNS: [(&str, &str); 11] = [
    ("id", "编号"),
    ("name", "姓名"),
    ("department", "所属部门"),
    ("certificate_no", "执法证号"),
    ("certificate_expires", "执法证有效期至"),
    ("qualifications", "资格"),
    ("expertise", "专长"),
    ("expert", "专家"),
    ("region_code", "行政区划"),
    ("status", "状态"),
    ("recusals", "回避对象"),
];

/// The inspector columns; all but qualifications, expertise, expert, status and recusals are required.
pub static INSPECTOR_COLUMNS: Columns = Columns {
    headers: &COLUMNS,
    required: &[0, 1, 2, 3, 4, 8],
};

/// Reads an inspector file's header.
pub fn layout(header: &[&str]) -> Result<Layout, Text> {
    Layout::from_header(&INSPECTOR_COLUMNS, header)
}

fn tags(value: &str) -> Vec<String> {
    value
        .split([';', '；', '|'])
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(str::to_string)
        .collect()
}

/// Turns one row into an inspector, or lists every problem of the row.
pub fn parse_row(
    layout: &Layout,
    cells: &[&str],
    checks: &Checks<'_>,
) -> Result<Inspector, Vec<FieldError>> {
    let mut errors: Vec<FieldError> = Vec::new();
    layout
        .check_width(cells)
        .map_err(|reason| vec![("", reason)])?;
    let (regions, departments) = (checks.regions, checks.departments);
    let get = |i: usize| layout.get(cells, i);
    let id = get(0).to_string();
    if id.is_empty()
        || id.len() > 64
        || !id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        errors.push(("id", msg("import-inspector-id")));
    }
    let name = get(1).to_string();
    if name.is_empty() || name.chars().count() > 50 {
        errors.push(("name", msg("import-inspector-name")));
    }
    let department_code = get(2).to_string();
    if !departments.contains(&department_code) {
        errors.push((
            "department",
            msg("catalog-unknown-department").arg("code", &department_code),
        ));
    }
    if let Some(scope) = checks.scope {
        if department_code != scope.department {
            errors.push((
                "department",
                msg("denied-inspector-department")
                    .arg("dept", &department_code)
                    .arg("by_dept", &scope.department),
            ));
        }
        if let Some(holder) = scope.held_by_others.get(&id) {
            errors.push((
                "id",
                msg("denied-inspector-other")
                    .arg("id", &id)
                    .arg("dept", holder),
            ));
        }
    }
    let certificate_no = get(3).to_string();
    if certificate_no.is_empty() {
        errors.push(("certificate_no", msg("import-certificate")));
    }
    let certificate_expires = NaiveDate::parse_from_str(get(4), "%Y-%m-%d").unwrap_or_else(|_| {
        errors.push((
            "certificate_expires",
            msg("not-a-date").arg("value", get(4)),
        ));
        NaiveDate::MIN
    });
    let expert = yes_no(get(7), "expert", &mut errors);
    let region_code = get(8).to_string();
    if regions.get(&region_code).is_none() {
        errors.push(("region_code", msg("region-code").arg("value", &region_code)));
    }
    let status = InspectorStatus::parse(get(9)).unwrap_or_else(|| {
        errors.push((
            "status",
            msg("import-inspector-status").arg("value", get(9)),
        ));
        InspectorStatus::Active
    });
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(Inspector {
        id,
        name,
        department_code,
        certificate_no,
        certificate_expires,
        qualifications: tags(get(5)),
        expertise: tags(get(6)),
        expert,
        region_code,
        status,
        recusals: tags(get(10)),
    })
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use suiji_platform::reference::Regions;

    use super::*;

    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn row<'a>(expires: &'a str, status: &'a str) -> [&'a str; 11] {
        [
            "XY-0001",
            "李四",
            "610400-SCJG",
            "61040012345",
            expires,
            "food-safety;market-regulation",
            "",
            "是",
            "610400",
            status,
            "91350100M000100Y43",
        ]
    }

    fn parse(cells: &[&str]) -> Result<Inspector, Vec<FieldError>> {
        let departments: HashSet<String> = ["610400-SCJG".to_string()].into_iter().collect();
        let regions = Regions::shipped();
        let header: Vec<&str> = COLUMNS.iter().map(|(en, _)| *en).collect();
        parse_row(
            &layout(&header).unwrap(),
            cells,
            &Checks {
                regions,
                departments: &departments,
                scope: None,
            },
        )
    }

    #[test]
    fn a_good_row_becomes_an_inspector() {
        let i = parse(&row("2027-06-30", "在岗")).unwrap();
        assert_eq!(i.qualifications, vec!["food-safety", "market-regulation"]);
        assert!(i.expert);
        assert_eq!(i.recusals, vec!["91350100M000100Y43"]);
    }

    #[test]
    fn an_expired_certificate_or_absence_makes_an_inspector_ineligible() {
        let i = parse(&row("2026-11-22", "")).unwrap();
        assert_eq!(
            i.eligible(day("2026-11-22"), &[], None),
            Ok(()),
            "valid through its last day"
        );
        assert_eq!(
            i.eligible(day("2026-11-23"), &[], None),
            Err(Ineligible::CertificateExpired(day("2026-11-22")))
        );
        let away = parse(&row("2027-06-30", "休假")).unwrap();
        assert_eq!(
            away.eligible(day("2026-11-23"), &[], None),
            Err(Ineligible::NotActive(InspectorStatus::OnLeave))
        );
    }

    #[test]
    fn qualifications_and_recusals_are_checked() {
        let i = parse(&row("2027-06-30", "")).unwrap();
        let today = day("2026-11-23");
        assert!(
            i.eligible(today, &["food-safety".into()], Some("914403001922038216"))
                .is_ok()
        );
        assert_eq!(
            i.eligible(today, &["special-equipment".into()], None),
            Err(Ineligible::MissingQualification("special-equipment".into()))
        );
        assert_eq!(
            i.eligible(today, &[], Some("91350100M000100Y43")),
            Err(Ineligible::Recused("91350100M000100Y43".into()))
        );
    }

    #[test]
    fn bad_rows_name_each_field() {
        let errors = parse(&[
            "",
            "",
            "NOPE",
            "",
            "30/06/2027",
            "",
            "",
            "maybe",
            "999999",
            "fired",
            "",
        ])
        .unwrap_err();
        let fields: Vec<&str> = errors.iter().map(|(f, _)| *f).collect();
        assert_eq!(
            fields,
            vec![
                "id",
                "name",
                "department",
                "certificate_no",
                "certificate_expires",
                "expert",
                "region_code",
                "status"
            ]
        );
        assert!(parse(&["a"]).unwrap_err()[0].1.text().contains("truncated"));
        assert!(
            layout(&["name", "id"])
                .unwrap_err()
                .text()
                .contains("department")
        );
    }
}

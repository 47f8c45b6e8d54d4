//! The coverage report: items no plan covers, departments in no joint entry, entries above an item's cap.

use super::*;

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

//! A plan's content checked: every entry's scope, ratio or quantity, departments and items against what is known
//! (the catalog in force, the departments, the jurisdiction's caps).

use super::*;

pub(super) fn check_text(v: &mut Violations, field: &str, text: &str, required: bool) {
    if required && text.trim().is_empty() {
        v.add(field, msg("required"));
    } else if text.chars().count() > MAX_TEXT {
        v.add(field, msg("longer-than").arg("max", MAX_TEXT));
    }
}

pub(super) fn check_key(v: &mut Violations, field: &str, key: &str) {
    if key.is_empty() || key.len() > 32 {
        v.add(field, msg("key-chars"));
    } else if !key
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    {
        v.add(field, msg("key-letters"));
    }
}

pub(super) fn check_industry_prefix(v: &mut Violations, field: &str, prefix: &str) {
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

pub(super) fn validate_entry(v: &mut Violations, f: &str, e: &Entry, year: u32, known: &Known<'_>) {
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

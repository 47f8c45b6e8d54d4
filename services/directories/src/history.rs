//! The inspection history the draw's exclusions read (seed 002 第十三条): one row per target, task and department,
//! kept from concluded visits, and beside it each target's sums per year (tasks that inspected it, each
//! department's inspections), rewritten with every row in the same transaction. A draw's exclusions then read only
//! the targets some rule may remove: the higher-level rule from an index of clean inspections, the year's maximum
//! and the annual caps from the sums. Only a draw dated before some recorded visit (a draw re-run for a past day)
//! groups the rows themselves.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use futures::TryStreamExt;
use sqlx::{AssertSqlSafe, Row};
use suiji_platform::db::{Db, Dialect, Tx};

use crate::domain::history::{Exclusions, Inspection, Rules, Standing};
use crate::store;

/// Rows of one history insert: 6 parameters each.
const INSERT_ROWS: usize = 100;

/// Records departments' parts in concluded visits (a second report of the same part replaces the first; within
/// `rows` the last one counts; a part whose level is empty gets its department's level from the registry, or
/// stays empty for a department the registry does not know) and sums up each of their targets' history again, once per target.
pub async fn record(tx: &mut Tx, rows: &[Inspection]) -> Result<(), sqlx::Error> {
    let mut parts: BTreeMap<(&str, &str, &str), &Inspection> = BTreeMap::new();
    for r in rows {
        parts.insert((&r.target_id, &r.task_id, &r.department), r);
    }
    let parts: Vec<&Inspection> = parts.into_values().collect();
    for chunk in parts.chunks(INSERT_ROWS) {
        // A part without its level takes its department's from the registry in the same statement.
        let mut insert = sqlx::query(AssertSqlSafe(format!(
            "INSERT INTO target_inspections (target_id, task_id, department_code, level, visit_date, problem_found) \
             VALUES {} ON CONFLICT (target_id, task_id, department_code) DO UPDATE SET \
             level = excluded.level, visit_date = excluded.visit_date, problem_found = excluded.problem_found",
            // A part without its level takes its department's from the registry in the same statement.
            suiji_platform::db::values_rows(chunk.len(), 6, |p| format!(
                "({}, {}, {}, COALESCE(NULLIF({}, ''), (SELECT level FROM departments WHERE code = {}), ''), {}, {})",
                p[0], p[1], p[2], p[3], p[2], p[4], p[5]
            ))
        )));
        for r in chunk {
            insert = insert
                .bind(&r.target_id)
                .bind(&r.task_id)
                .bind(&r.department)
                .bind(&r.level)
                .bind(r.date.to_string())
                .bind(i64::from(r.problem_found));
        }
        insert.execute(&mut **tx).await?;
    }
    let targets: BTreeSet<&str> = parts.iter().map(|r| r.target_id.as_str()).collect();
    let targets: Vec<&str> = targets.into_iter().collect();
    for chunk in targets.chunks(RESUM_TARGETS) {
        resum(tx, chunk).await?;
    }
    Ok(())
}

/// A target's history, newest first: each department's part in each concluded visit.
pub async fn of_target(
    conn: &mut sqlx::AnyConnection,
    target_id: &str,
) -> Result<Vec<Inspection>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT task_id, department_code, level, visit_date, problem_found FROM target_inspections \
         WHERE target_id = $1 ORDER BY visit_date DESC, task_id, department_code",
    )
    .bind(target_id)
    .fetch_all(conn)
    .await?;
    rows.iter()
        .map(|r| {
            let date: String = r.try_get("visit_date")?;
            Ok(Inspection {
                target_id: target_id.to_string(),
                task_id: r.try_get("task_id")?,
                department: r.try_get("department_code")?,
                level: r.try_get("level")?,
                date: date.parse().map_err(|e| sqlx::Error::Decode(Box::new(e)))?,
                problem_found: r.try_get::<i64, _>("problem_found")? != 0,
            })
        })
        .collect()
}

/// Targets summed up again by one set of statements (one parameter each, within SQLite's 999).
const RESUM_TARGETS: usize = 500;

/// Rewrites the sums of `targets` from their rows: the old sums are deleted, then the new ones inserted by a
/// later statement, which sees every row committed by then. Two transactions summing up one target at once
/// both insert its sums, so the later one fails on the key and is retried (its message is delivered again),
/// then sees both rows. On PostgreSQL both tables are done in two statements, elsewhere in four.
async fn resum(tx: &mut Tx, targets: &[&str]) -> Result<(), sqlx::Error> {
    let list = suiji_platform::db::placeholder_list(1, targets.len());
    let delete_years = format!("DELETE FROM target_year_visits WHERE target_id IN ({list})");
    let delete_departments =
        format!("DELETE FROM target_department_year WHERE target_id IN ({list})");
    let insert_years = format!(
        "INSERT INTO target_year_visits (target_id, year, tasks) \
         SELECT target_id, substr(visit_date, 1, 4), COUNT(DISTINCT task_id) FROM target_inspections \
         WHERE target_id IN ({list}) GROUP BY target_id, substr(visit_date, 1, 4)"
    );
    let insert_departments = format!(
        "INSERT INTO target_department_year (target_id, department_code, year, inspections) \
         SELECT target_id, department_code, substr(visit_date, 1, 4), COUNT(*) FROM target_inspections \
         WHERE target_id IN ({list}) GROUP BY target_id, department_code, substr(visit_date, 1, 4)"
    );
    let statements = if suiji_platform::db::is_postgres(tx) {
        vec![
            format!("WITH years AS ({delete_years}) {delete_departments}"),
            format!("WITH years AS ({insert_years}) {insert_departments}"),
        ]
    } else {
        vec![
            delete_years,
            insert_years,
            delete_departments,
            insert_departments,
        ]
    };
    for sql in statements {
        let mut query = sqlx::query(AssertSqlSafe(sql));
        for target in targets {
            query = query.bind(*target);
        }
        query.execute(&mut **tx).await?;
    }
    Ok(())
}

/// The exclusions of `rules`: from the sums when no recorded visit is later than the draw's day (the sums then
/// count exactly the visits the rules look at), from the rows otherwise.
pub async fn exclusions(db: &Db, rules: &Rules) -> Result<Exclusions, sqlx::Error> {
    let Some(as_of) = rules.as_of.filter(|_| !rules.is_empty()) else {
        return Ok(Exclusions::default());
    };
    let latest: Option<String> =
        sqlx::query_scalar("SELECT MAX(visit_date) FROM target_inspections")
            .fetch_one(db.pool())
            .await?;
    match latest {
        Some(latest) if latest > as_of.to_string() => from_rows(db, rules).await,
        _ => from_sums(db, rules).await,
    }
}

/// The exclusions of `rules` from the sums and the clean-inspection index; right when no recorded visit is later
/// than the draw's day.
pub async fn from_sums(db: &Db, rules: &Rules) -> Result<Exclusions, sqlx::Error> {
    let (Some((_, to)), Some(jan1), Some(six)) =
        (rules.window(), rules.year_start(), rules.six_months_ago())
    else {
        return Ok(Exclusions::default());
    };
    let year = jan1.format("%Y").to_string();
    let mut standings: HashMap<String, Standing> = HashMap::new();
    let higher = rules.higher_levels();
    if !higher.is_empty() {
        let levels: Vec<String> = higher.iter().map(|l| store::literal(l)).collect();
        let mut rows = sqlx::query(AssertSqlSafe(format!(
            "SELECT DISTINCT target_id FROM target_inspections WHERE problem_found = 0 AND level IN ({}) \
             AND visit_date > $1 AND visit_date <= $2",
            levels.join(", ")
        )))
        .bind(six.to_string())
        .bind(to.to_string())
        .fetch(db.pool());
        while let Some(r) = rows.try_next().await? {
            standings
                .entry(r.try_get("target_id")?)
                .or_default()
                .higher_clean = true;
        }
    }
    if rules.max_per_year > 0 {
        // Every target at the year's maximum, however many, in one value: `id tasks` pairs, comma-separated (ids
        // are letters, digits, `-` and `_`), so no row is decoded per target.
        let pairs: Option<String> = sqlx::query_scalar(AssertSqlSafe(format!(
            "SELECT {} FROM target_year_visits WHERE year = $1 AND tasks >= $2",
            text_agg(db.dialect(), "target_id || ' ' || CAST(tasks AS TEXT)")
        )))
        .bind(&year)
        .bind(i64::from(rules.max_per_year))
        .fetch_one(db.pool())
        .await?;
        for pair in pairs.as_deref().unwrap_or_default().split(',') {
            if pair.is_empty() {
                continue;
            }
            let parsed = pair
                .split_once(' ')
                .and_then(|(id, tasks)| Some((id, tasks.parse::<u64>().ok()?)));
            let Some((id, tasks)) = parsed else {
                return Err(sqlx::Error::Decode(
                    format!("a year's visits read as {pair:?}").into(),
                ));
            };
            standings
                .entry(id.to_string())
                .or_default()
                .visits_this_year = u32::try_from(tasks).unwrap_or(u32::MAX);
        }
    }
    if !rules.annual_caps.is_empty() {
        let (cases, codes) = cap_cases(rules, 1);
        let mut query = sqlx::query(AssertSqlSafe(format!(
            "SELECT DISTINCT target_id FROM target_department_year WHERE year = $1 \
             AND department_code IN ({codes}) AND inspections >= CASE department_code{cases} END"
        )))
        .bind(&year);
        for (department, cap) in &rules.annual_caps {
            query = query.bind(department).bind(i64::from(*cap));
        }
        let mut rows = query.fetch(db.pool());
        while let Some(r) = rows.try_next().await? {
            standings
                .entry(r.try_get("target_id")?)
                .or_default()
                .cap_reached = true;
        }
    }
    Ok(Exclusions::from_standings(rules.clone(), standings))
}

/// The texts of `expr` over the rows, joined by commas, in `dialect` (NULL for no rows).
fn text_agg(dialect: Dialect, expr: &str) -> String {
    match dialect {
        Dialect::Postgres => format!("string_agg({expr}, ',')"),
        Dialect::Sqlite => format!("group_concat({expr}, ',')"),
    }
}

/// `CASE department_code` arms and the `IN` list for the annual caps, their parameters numbered after `before`
/// (a code, then its cap, for each).
fn cap_cases(rules: &Rules, before: usize) -> (String, String) {
    let mut cases = String::new();
    let mut codes = Vec::new();
    for i in 0..rules.annual_caps.len() {
        let (code, cap) = (before + 1 + 2 * i, before + 2 + 2 * i);
        cases.push_str(&format!(" WHEN ${code} THEN ${cap}"));
        codes.push(format!("${code}"));
    }
    (cases, codes.join(", "))
}

/// The exclusions of `rules` summed up from the history rows themselves, grouped in the database: right for any
/// day, at the cost of grouping the whole window.
pub async fn from_rows(db: &Db, rules: &Rules) -> Result<Exclusions, sqlx::Error> {
    let (Some((from, to)), Some(jan1), Some(six)) =
        (rules.window(), rules.year_start(), rules.six_months_ago())
    else {
        return Ok(Exclusions::default());
    };
    if rules.is_empty() {
        return Ok(Exclusions::default());
    }
    let (from, to, jan1, six) = (
        from.to_string(),
        to.to_string(),
        jan1.to_string(),
        six.to_string(),
    );
    let mut standings: HashMap<String, Standing> = HashMap::new();
    // The levels are fixed names, so they are written into the statement.
    let higher = match rules.higher_levels().as_slice() {
        [] => "1 = 0".to_string(),
        levels => format!(
            "level IN ({})",
            levels
                .iter()
                .map(|l| store::literal(l))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    let max = match rules.max_per_year {
        0 => i64::MAX,
        n => i64::from(n),
    };
    let clean = format!(
        "MAX(CASE WHEN visit_date > $1 AND problem_found = 0 AND {higher} THEN 1 ELSE 0 END)"
    );
    let this_year = "COUNT(DISTINCT CASE WHEN visit_date >= $2 THEN task_id END)";
    let mut rows = sqlx::query(AssertSqlSafe(format!(
        "SELECT target_id, CAST({clean} AS BIGINT) AS clean, CAST({this_year} AS BIGINT) AS this_year \
         FROM target_inspections WHERE visit_date >= $3 AND visit_date <= $4 \
         GROUP BY target_id HAVING {clean} = 1 OR {this_year} >= $5"
    )))
    .bind(&six)
    .bind(&jan1)
    .bind(&from)
    .bind(&to)
    .bind(max)
    .fetch(db.pool());
    while let Some(r) = rows.try_next().await? {
        let s = standings.entry(r.try_get("target_id")?).or_default();
        s.higher_clean = r.try_get::<i64, _>("clean")? == 1;
        s.visits_this_year = u32::try_from(r.try_get::<i64, _>("this_year")?).unwrap_or(u32::MAX);
    }
    drop(rows);
    if !rules.annual_caps.is_empty() {
        // One department's parts in this year's visits against its cap; codes and caps are bound.
        let (cases, codes) = cap_cases(rules, 2);
        let mut query = sqlx::query(AssertSqlSafe(format!(
            "SELECT DISTINCT target_id FROM (SELECT target_id, department_code, COUNT(*) AS n \
             FROM target_inspections WHERE visit_date >= $1 AND visit_date <= $2 AND department_code IN ({codes}) \
             GROUP BY target_id, department_code) s WHERE n >= CASE department_code{cases} END"
        )))
        .bind(&jan1)
        .bind(&to);
        for (department, cap) in &rules.annual_caps {
            query = query.bind(department).bind(i64::from(*cap));
        }
        let mut rows = query.fetch(db.pool());
        while let Some(r) = rows.try_next().await? {
            standings
                .entry(r.try_get("target_id")?)
                .or_default()
                .cap_reached = true;
        }
    }
    Ok(Exclusions::from_standings(rules.clone(), standings))
}

//! Planning's tables, through sqlx. Headers and versions are kept as JSON documents beside the columns that
//! listings filter on; every update of a plan or task checks the revision it read, so two racing writers
//! produce one winner.

use std::collections::HashMap;

use prost::Message;
use sqlx::AssertSqlSafe;
use sqlx::{AnyConnection, Row};
use suiji_api::catalog::v1 as cat;
use suiji_platform::db::now_ms;
use suiji_platform::paging::Page;

use crate::domain::{CatalogItem, Plan, PlanState, Task, TaskState, Version};
use crate::error::Error;

fn to_json<T: serde::Serialize>(value: &T) -> Result<String, Error> {
    serde_json::to_string(value).map_err(|e| Error::Internal(format!("encode: {e}")))
}

fn from_json<T: serde::de::DeserializeOwned>(text: &str) -> Result<T, Error> {
    serde_json::from_str(text).map_err(|e| Error::Internal(format!("stored document: {e}")))
}

/// Adds a plan with its first version.
pub async fn insert_plan(
    conn: &mut AnyConnection,
    plan: &Plan,
    version: &Version,
) -> Result<(), Error> {
    let now = now_ms();
    sqlx::query(
        "INSERT INTO plans (id, department_code, year, state, revision, doc, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $7)",
    )
    .bind(&plan.id)
    .bind(&plan.department_code)
    .bind(i64::from(plan.year))
    .bind(plan.state.as_str())
    .bind(plan.revision)
    .bind(to_json(plan)?)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    insert_version(conn, &plan.id, version).await
}

/// Writes a plan whose revision the caller read as `plan.revision - 1`.
pub async fn update_plan(conn: &mut AnyConnection, plan: &Plan) -> Result<(), Error> {
    let done = sqlx::query(
        "UPDATE plans SET state = $1, revision = $2, doc = $3, updated_at = $4 WHERE id = $5 AND revision = $6",
    )
    .bind(plan.state.as_str())
    .bind(plan.revision)
    .bind(to_json(plan)?)
    .bind(now_ms())
    .bind(&plan.id)
    .bind(plan.revision - 1)
    .execute(conn)
    .await?;
    if done.rows_affected() == 0 {
        return Err(Error::Conflict(format!(
            "plan {} changed meanwhile; read it again",
            plan.id
        )));
    }
    Ok(())
}

/// Reads a plan's header.
pub async fn get_plan(conn: &mut AnyConnection, id: &str) -> Result<Option<Plan>, Error> {
    let doc: Option<String> = sqlx::query_scalar("SELECT doc FROM plans WHERE id = $1")
        .bind(id)
        .fetch_optional(conn)
        .await?;
    doc.as_deref().map(from_json).transpose()
}

/// Adds a version.
pub async fn insert_version(
    conn: &mut AnyConnection,
    plan_id: &str,
    v: &Version,
) -> Result<(), Error> {
    sqlx::query("INSERT INTO plan_versions (plan_id, version, doc) VALUES ($1, $2, $3)")
        .bind(plan_id)
        .bind(i64::from(v.version))
        .bind(to_json(v)?)
        .execute(conn)
        .await?;
    Ok(())
}

/// Rewrites a version (a draft's content, an amendment's filings).
pub async fn update_version(
    conn: &mut AnyConnection,
    plan_id: &str,
    v: &Version,
) -> Result<(), Error> {
    sqlx::query("UPDATE plan_versions SET doc = $1 WHERE plan_id = $2 AND version = $3")
        .bind(to_json(v)?)
        .bind(plan_id)
        .bind(i64::from(v.version))
        .execute(conn)
        .await?;
    Ok(())
}

/// Reads one version.
pub async fn get_version(
    conn: &mut AnyConnection,
    plan_id: &str,
    version: u32,
) -> Result<Option<Version>, Error> {
    let doc: Option<String> =
        sqlx::query_scalar("SELECT doc FROM plan_versions WHERE plan_id = $1 AND version = $2")
            .bind(plan_id)
            .bind(i64::from(version))
            .fetch_optional(conn)
            .await?;
    doc.as_deref().map(from_json).transpose()
}

/// Every version, oldest first.
pub async fn list_versions(conn: &mut AnyConnection, plan_id: &str) -> Result<Vec<Version>, Error> {
    let docs: Vec<String> =
        sqlx::query_scalar("SELECT doc FROM plan_versions WHERE plan_id = $1 ORDER BY version")
            .bind(plan_id)
            .fetch_all(conn)
            .await?;
    docs.iter().map(|d| from_json(d)).collect()
}

/// Filters of a plan listing.
#[derive(Debug, Clone, Default)]
pub struct PlanFilter {
    /// Year.
    pub year: Option<u32>,
    /// Owner.
    pub department_code: Option<String>,
    /// State.
    pub state: Option<PlanState>,
}

/// A page of plan headers, by id.
pub async fn list_plans(
    conn: &mut AnyConnection,
    f: &PlanFilter,
    page: &Page,
) -> Result<Vec<Plan>, Error> {
    let filters = [
        f.year.map(|y| ("CAST(year AS TEXT) = ?", y.to_string())),
        f.department_code
            .clone()
            .map(|d| ("department_code = ?", d)),
        f.state.map(|s| ("state = ?", s.as_str().to_string())),
    ];
    docs_page(conn, "plans", &filters, page).await
}

/// A page of the `doc` column of `table`, by id after the page token, narrowed by the filters given: each is a
/// condition whose `?` stands for its value.
async fn docs_page<T: serde::de::DeserializeOwned>(
    conn: &mut AnyConnection,
    table: &str,
    filters: &[Option<(&str, String)>],
    page: &Page,
) -> Result<Vec<T>, Error> {
    let filters: Vec<&(&str, String)> = filters.iter().flatten().collect();
    let mut sql = format!("SELECT doc FROM {table} WHERE id > $1");
    for (i, (condition, _)) in filters.iter().enumerate() {
        sql.push_str(" AND ");
        sql.push_str(&condition.replace('?', &format!("${}", i + 2)));
    }
    sql.push_str(&format!(" ORDER BY id LIMIT {}", page.size));
    let mut q = sqlx::query_scalar::<_, String>(AssertSqlSafe(sql)).bind(&page.after);
    for (_, value) in filters {
        q = q.bind(value);
    }
    let docs = q.fetch_all(conn).await?;
    docs.iter().map(|d| from_json(d)).collect()
}

/// The published plans of a year, each with its version in force.
pub async fn published_plans(
    conn: &mut AnyConnection,
    year: u32,
) -> Result<Vec<(Plan, Version)>, Error> {
    let rows = sqlx::query(
        "SELECT p.doc AS plan, v.doc AS version FROM plans p JOIN plan_versions v ON v.plan_id = p.id \
         WHERE p.year = $1 AND p.state = 'published' ORDER BY p.id, v.version",
    )
    .bind(i64::from(year))
    .fetch_all(conn)
    .await?;
    let mut out = Vec::new();
    for row in rows {
        let plan: Plan = from_json(&row.try_get::<String, _>("plan")?)?;
        let version: Version = from_json(&row.try_get::<String, _>("version")?)?;
        if version.version == plan.effective_version {
            out.push((plan, version));
        }
    }
    Ok(out)
}

/// Keeps the catalog's announcement of an item, unless a later version is already kept.
pub async fn upsert_catalog_item(
    conn: &mut AnyConnection,
    item: &cat::Item,
) -> Result<(), sqlx::Error> {
    let state = match item.state() {
        cat::ItemState::Published => "published",
        cat::ItemState::Retired => "retired",
        _ => "draft",
    };
    sqlx::query(
        "INSERT INTO catalog_items (code, department_code, state, version, item, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (code) DO UPDATE SET department_code = excluded.department_code, \
         state = excluded.state, version = excluded.version, item = excluded.item, updated_at = excluded.updated_at \
         WHERE catalog_items.version <= excluded.version",
    )
    .bind(&item.code)
    .bind(&item.department_code)
    .bind(state)
    .bind(i64::from(item.published_version))
    .bind(item.encode_to_vec())
    .bind(now_ms())
    .execute(conn)
    .await?;
    Ok(())
}

/// The kept catalog items with these codes (all of them when `codes` is `None`), decoded, with planning's
/// view of each.
pub async fn catalog_items(
    conn: &mut AnyConnection,
    codes: Option<&[&str]>,
    general_cap: u32,
) -> Result<HashMap<String, (CatalogItem, cat::Item)>, Error> {
    let blobs: Vec<Vec<u8>> = match codes {
        None => {
            sqlx::query_scalar("SELECT item FROM catalog_items")
                .fetch_all(conn)
                .await?
        }
        Some([]) => vec![],
        Some(codes) => {
            let sql = format!(
                "SELECT item FROM catalog_items WHERE code IN ({})",
                suiji_platform::db::placeholder_list(1, codes.len())
            );
            let mut q = sqlx::query_scalar::<_, Vec<u8>>(AssertSqlSafe(sql));
            for c in codes {
                q = q.bind(*c);
            }
            q.fetch_all(conn).await?
        }
    };
    blobs
        .iter()
        .map(|b| {
            let item = cat::Item::decode(b.as_slice())
                .map_err(|e| Error::Internal(format!("stored item: {e}")))?;
            let view = crate::convert::catalog_item(&item, general_cap);
            Ok((item.code.clone(), (view, item)))
        })
        .collect()
}

/// Sets a department's cap for a year.
pub async fn set_cap(
    conn: &mut AnyConnection,
    department: &str,
    year: u32,
    max: u32,
    by: &str,
) -> Result<i64, Error> {
    let now = now_ms();
    sqlx::query(
        "INSERT INTO annual_caps (department_code, year, max_per_target, set_at, set_by) VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT (department_code, year) DO UPDATE SET max_per_target = excluded.max_per_target, \
         set_at = excluded.set_at, set_by = excluded.set_by",
    )
    .bind(department)
    .bind(i64::from(year))
    .bind(i64::from(max))
    .bind(now)
    .bind(by)
    .execute(conn)
    .await?;
    Ok(now)
}

/// A department's cap: (department, year, max, set at).
pub type Cap = (String, u32, u32, i64);

/// The caps of a year, by department.
pub async fn list_caps(conn: &mut AnyConnection, year: u32) -> Result<Vec<Cap>, Error> {
    let rows = sqlx::query(
        "SELECT department_code, year, max_per_target, set_at FROM annual_caps WHERE year = $1 ORDER BY department_code",
    )
    .bind(i64::from(year))
    .fetch_all(conn)
    .await?;
    rows.iter()
        .map(|r| {
            Ok((
                r.try_get("department_code")?,
                r.try_get::<i64, _>("year")? as u32,
                r.try_get::<i64, _>("max_per_target")? as u32,
                r.try_get("set_at")?,
            ))
        })
        .collect()
}

fn departments_column(task: &Task) -> String {
    let mut s = String::from(",");
    for d in task.departments() {
        s.push_str(d);
        s.push(',');
    }
    s
}

/// Adds a task.
pub async fn insert_task(conn: &mut AnyConnection, task: &Task) -> Result<(), Error> {
    sqlx::query(
        "INSERT INTO tasks (id, plan_id, entry_key, year, lead_department_code, departments, state, quantity, \
         revision, doc, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11)",
    )
    .bind(&task.id)
    .bind(&task.content.plan_id)
    .bind(&task.content.entry_key)
    .bind(i64::from(task.year))
    .bind(task.lead())
    .bind(departments_column(task))
    .bind(task.state.as_str())
    .bind(i64::from(task.content.quantity))
    .bind(task.revision)
    .bind(to_json(task)?)
    .bind(task.created_at)
    .execute(conn)
    .await?;
    Ok(())
}

/// Writes a task whose revision the caller read as `task.revision - 1`.
pub async fn update_task(conn: &mut AnyConnection, task: &Task) -> Result<(), Error> {
    let done = sqlx::query(
        "UPDATE tasks SET state = $1, revision = $2, doc = $3, updated_at = $4 WHERE id = $5 AND revision = $6",
    )
    .bind(task.state.as_str())
    .bind(task.revision)
    .bind(to_json(task)?)
    .bind(now_ms())
    .bind(&task.id)
    .bind(task.revision - 1)
    .execute(conn)
    .await?;
    if done.rows_affected() == 0 {
        return Err(Error::Conflict(format!(
            "task {} changed meanwhile; read it again",
            task.id
        )));
    }
    Ok(())
}

/// Reads a task.
pub async fn get_task(conn: &mut AnyConnection, id: &str) -> Result<Option<Task>, Error> {
    let doc: Option<String> = sqlx::query_scalar("SELECT doc FROM tasks WHERE id = $1")
        .bind(id)
        .fetch_optional(conn)
        .await?;
    doc.as_deref().map(from_json).transpose()
}

/// Targets already given to live tasks of an entry.
pub async fn taken_quantity(
    conn: &mut AnyConnection,
    plan_id: &str,
    entry_key: &str,
) -> Result<u64, Error> {
    // SUM of a BIGINT is NUMERIC in PostgreSQL: cast back to fit one integer type on both backends.
    let n: i64 = sqlx::query_scalar(
        "SELECT CAST(COALESCE(SUM(quantity), 0) AS BIGINT) FROM tasks WHERE plan_id = $1 AND entry_key = $2 AND state <> 'cancelled'",
    )
    .bind(plan_id)
    .bind(entry_key)
    .fetch_one(conn)
    .await?;
    Ok(n.max(0) as u64)
}

/// Filters of a task listing.
#[derive(Debug, Clone, Default)]
pub struct TaskFilter {
    /// Plan.
    pub plan_id: Option<String>,
    /// A department leading or taking part.
    pub department_code: Option<String>,
    /// State.
    pub state: Option<TaskState>,
}

/// A page of tasks, by id.
pub async fn list_tasks(
    conn: &mut AnyConnection,
    f: &TaskFilter,
    page: &Page,
) -> Result<Vec<Task>, Error> {
    let filters = [
        f.plan_id.clone().map(|p| ("plan_id = ?", p)),
        f.department_code
            .as_ref()
            .map(|d| ("departments LIKE ?", format!("%,{d},%"))),
        f.state.map(|s| ("state = ?", s.as_str().to_string())),
    ];
    docs_page(conn, "tasks", &filters, page).await
}

//! The catalog's tables, through sqlx. Small functions, each taking a connection or transaction.

use futures::TryStreamExt;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};
use suiji_platform::db::now_ms;
use suiji_platform::paging::Page;

use crate::domain::{Category, Item, ItemContent, ItemState, TargetKind, Version, VersionState};
use crate::error::Error;

/// Filters of a listing.
#[derive(Debug, Clone, Default)]
pub struct ListFilter {
    /// Owning department.
    pub department_code: Option<String>,
    /// Lifecycle state.
    pub state: Option<ItemState>,
    /// Category of the latest version.
    pub category: Option<Category>,
    /// A kind of target the latest version applies to.
    pub target_kind: Option<TargetKind>,
}

fn item_from(row: &AnyRow) -> Result<Item, Error> {
    let state: String = row.try_get("state")?;
    Ok(Item {
        code: row.try_get("code")?,
        department_code: row.try_get("department_code")?,
        state: ItemState::parse(&state)
            .ok_or_else(|| Error::Internal(format!("bad item state {state}")))?,
        latest_version: row.try_get::<i64, _>("latest_version")? as u32,
        published_version: row.try_get::<i64, _>("published_version")? as u32,
        revision: row.try_get("revision")?,
        retire_reason: row.try_get("retire_reason")?,
    })
}

fn version_from(row: &AnyRow) -> Result<Version, Error> {
    let state: String = row.try_get("vstate")?;
    let content: String = row.try_get("content")?;
    Ok(Version {
        version: row.try_get::<i64, _>("version")? as u32,
        state: VersionState::parse(&state)
            .ok_or_else(|| Error::Internal(format!("bad version state {state}")))?,
        content: serde_json::from_str(&content)
            .map_err(|e| Error::Internal(format!("stored content: {e}")))?,
        created_at_ms: row.try_get("created_at")?,
        published_at_ms: row.try_get("published_at")?,
        published_by: row.try_get("published_by")?,
    })
}

const ITEM_COLUMNS: &str = "i.code, i.department_code, i.state, i.latest_version, i.published_version, i.revision, i.retire_reason";

/// Reads an item's header.
#[tracing::instrument(skip(conn))]
pub async fn get_item(conn: &mut AnyConnection, code: &str) -> Result<Option<Item>, Error> {
    let sql = "SELECT i.code, i.department_code, i.state, i.latest_version, i.published_version, i.revision, \
               i.retire_reason FROM items i WHERE i.code = $1";
    let row = sqlx::query(sql).bind(code).fetch_optional(conn).await?;
    row.as_ref().map(item_from).transpose()
}

/// Reads one version.
pub async fn get_version(
    conn: &mut AnyConnection,
    code: &str,
    version: u32,
) -> Result<Option<Version>, Error> {
    let row = sqlx::query(
        "SELECT version, state AS vstate, content, created_at, published_at, published_by FROM item_versions \
         WHERE code = $1 AND version = $2",
    )
    .bind(code)
    .bind(i64::from(version))
    .fetch_optional(conn)
    .await?;
    row.as_ref().map(version_from).transpose()
}

/// Every version of an item, oldest first.
pub async fn list_versions(conn: &mut AnyConnection, code: &str) -> Result<Vec<Version>, Error> {
    let rows = sqlx::query(
        "SELECT version, state AS vstate, content, created_at, published_at, published_by FROM item_versions \
         WHERE code = $1 ORDER BY version",
    )
    .bind(code)
    .fetch_all(conn)
    .await?;
    rows.iter().map(version_from).collect()
}

fn kinds_column(content: &ItemContent) -> String {
    let names: Vec<&str> = content.target_kinds.iter().map(|k| k.as_str()).collect();
    format!(",{},", names.join(","))
}

/// Inserts a new item with version 1 as a draft.
#[tracing::instrument(skip(conn, content))]
pub async fn insert_item(
    conn: &mut AnyConnection,
    code: &str,
    content: &ItemContent,
    by: &str,
) -> Result<(), Error> {
    let now = now_ms();
    sqlx::query(
        "INSERT INTO items (code, department_code, state, latest_version, published_version, category, target_kinds, \
         revision, created_at, updated_at) VALUES ($1, $2, 'draft', 1, 0, $3, $4, 1, $5, $5)",
    )
    .bind(code)
    .bind(&content.department_code)
    .bind(content.category.as_str())
    .bind(kinds_column(content))
    .bind(now)
    .execute(&mut *conn)
    .await?;
    insert_version(conn, code, 1, content, by).await
}

/// Inserts a draft version.
pub async fn insert_version(
    conn: &mut AnyConnection,
    code: &str,
    version: u32,
    content: &ItemContent,
    by: &str,
) -> Result<(), Error> {
    sqlx::query(
        "INSERT INTO item_versions (code, version, state, content, created_at, created_by) \
         VALUES ($1, $2, 'draft', $3, $4, $5)",
    )
    .bind(code)
    .bind(i64::from(version))
    .bind(serde_json::to_string(content).map_err(|e| Error::Internal(e.to_string()))?)
    .bind(now_ms())
    .bind(by)
    .execute(conn)
    .await?;
    Ok(())
}

/// Replaces a draft version's content.
pub async fn replace_draft(
    conn: &mut AnyConnection,
    code: &str,
    version: u32,
    content: &ItemContent,
) -> Result<(), Error> {
    let n = sqlx::query("UPDATE item_versions SET content = $1 WHERE code = $2 AND version = $3 AND state = 'draft'")
        .bind(serde_json::to_string(content).map_err(|e| Error::Internal(e.to_string()))?)
        .bind(code)
        .bind(i64::from(version))
        .execute(conn)
        .await?
        .rows_affected();
    if n != 1 {
        return Err(Error::Internal(format!("draft {code} v{version} vanished")));
    }
    Ok(())
}

/// Sets a version's state, and its publication stamp when it is being published.
pub async fn set_version_state(
    conn: &mut AnyConnection,
    code: &str,
    version: u32,
    state: VersionState,
    published_by: Option<&str>,
) -> Result<(), Error> {
    match published_by {
        Some(by) => {
            sqlx::query(
                "UPDATE item_versions SET state = $1, published_at = $2, published_by = $3 WHERE code = $4 AND version = $5",
            )
            .bind(state.as_str())
            .bind(now_ms())
            .bind(by)
            .bind(code)
            .bind(i64::from(version))
            .execute(conn)
            .await?;
        }
        None => {
            sqlx::query("UPDATE item_versions SET state = $1 WHERE code = $2 AND version = $3")
                .bind(state.as_str())
                .bind(code)
                .bind(i64::from(version))
                .execute(conn)
                .await?;
        }
    }
    Ok(())
}

/// Writes an item's header, if its revision is still `item.revision - 1` (the caller bumped it).
pub async fn update_item(
    conn: &mut AnyConnection,
    item: &Item,
    content: &ItemContent,
) -> Result<(), Error> {
    let n = sqlx::query(
        "UPDATE items SET state = $1, latest_version = $2, published_version = $3, category = $4, target_kinds = $5, \
         revision = $6, retire_reason = $7, updated_at = $8 WHERE code = $9 AND revision = $10",
    )
    .bind(item.state.as_str())
    .bind(i64::from(item.latest_version))
    .bind(i64::from(item.published_version))
    .bind(content.category.as_str())
    .bind(kinds_column(content))
    .bind(item.revision)
    .bind(&item.retire_reason)
    .bind(now_ms())
    .bind(&item.code)
    .bind(item.revision - 1)
    .execute(conn)
    .await?
    .rows_affected();
    if n != 1 {
        return Err(Error::Conflict(format!(
            "item {} changed concurrently; read it again",
            item.code
        )));
    }
    Ok(())
}

/// An item with one version (`0`: the latest), in one query; the item alone when that version is missing.
pub async fn get_item_version(
    conn: &mut AnyConnection,
    code: &str,
    version: u32,
) -> Result<Option<(Item, Option<Version>)>, Error> {
    let sql = format!(
        "SELECT {ITEM_COLUMNS}, v.version, v.state AS vstate, v.content, v.created_at, v.published_at, v.published_by \
         FROM items i LEFT JOIN item_versions v ON v.code = i.code \
         AND v.version = CASE WHEN $2 = 0 THEN i.latest_version ELSE $2 END WHERE i.code = $1"
    );
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(code)
        .bind(i64::from(version))
        .fetch_optional(conn)
        .await?;
    let Some(row) = row else { return Ok(None) };
    let found: Option<i64> = row.try_get("version")?;
    let version = if found.is_some() {
        Some(version_from(&row)?)
    } else {
        None
    };
    Ok(Some((item_from(&row)?, version)))
}

/// A page of items with their latest versions.
pub async fn list_items(
    conn: &mut AnyConnection,
    filter: &ListFilter,
    page: &Page,
) -> Result<Vec<(Item, Version)>, Error> {
    let sql = format!(
        "SELECT {ITEM_COLUMNS}, v.version, v.state AS vstate, v.content, v.created_at, v.published_at, v.published_by \
         FROM items i JOIN item_versions v ON v.code = i.code AND v.version = i.latest_version \
         WHERE i.code > $1 AND ($2 = '' OR i.department_code = $2) AND ($3 = '' OR i.state = $3) \
         AND ($4 = '' OR i.category = $4) AND ($5 = '' OR i.target_kinds LIKE $5) ORDER BY i.code LIMIT $6"
    );
    let kind = filter
        .target_kind
        .map(|k| format!("%,{},%", k.as_str()))
        .unwrap_or_default();
    let mut rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(&page.after)
        .bind(filter.department_code.clone().unwrap_or_default())
        .bind(filter.state.map(|s| s.as_str()).unwrap_or_default())
        .bind(filter.category.map(|c| c.as_str()).unwrap_or_default())
        .bind(kind)
        .bind(page.size)
        .fetch(conn);
    let mut out = Vec::new();
    while let Some(row) = rows.try_next().await? {
        out.push((item_from(&row)?, version_from(&row)?));
    }
    Ok(out)
}

/// A page of the public catalog: published items with their version in force.
pub async fn list_public(
    conn: &mut AnyConnection,
    department: &str,
    page: &Page,
) -> Result<Vec<(Item, Version)>, Error> {
    let sql = format!(
        "SELECT {ITEM_COLUMNS}, v.version, v.state AS vstate, v.content, v.created_at, v.published_at, v.published_by \
         FROM items i JOIN item_versions v ON v.code = i.code AND v.version = i.published_version \
         WHERE i.state = 'published' AND i.code > $1 AND ($2 = '' OR i.department_code = $2) ORDER BY i.code LIMIT $3"
    );
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(&page.after)
        .bind(department)
        .bind(page.size)
        .fetch_all(conn)
        .await?;
    rows.iter()
        .map(|r| Ok((item_from(r)?, version_from(r)?)))
        .collect()
}

//! The draw's tables: one record per task (a JSON document) and the secrets not yet revealed.

use sha2::{Digest, Sha256};
use sqlx::{AnyConnection, Row};
use suiji_platform::db::now_ms;
use suiji_platform::error::Error;
use suiji_platform::paging::Page;

use crate::record::{Record, State};

fn to_json(record: &Record) -> Result<String, Error> {
    serde_json::to_string(record).map_err(|e| Error::Internal(format!("encode: {e}")))
}

fn from_json(text: &str) -> Result<Record, Error> {
    let mut record: Record =
        serde_json::from_str(text).map_err(|e| Error::Internal(format!("stored record: {e}")))?;
    record.stored_digest = hex::encode(Sha256::digest(text.as_bytes()));
    Ok(record)
}

/// Adds a committed record with its target secret; false when the task already has one.
pub async fn insert(
    conn: &mut AnyConnection,
    record: &Record,
    launched: &[u8],
    secret_hex: &str,
) -> Result<bool, Error> {
    let now = now_ms();
    let done = sqlx::query(
        "INSERT INTO draws (task_id, year, lead_department, state, revision, doc, launched, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8) ON CONFLICT (task_id) DO NOTHING",
    )
    .bind(&record.task_id)
    .bind(i64::from(record.year))
    .bind(&record.lead_department)
    .bind(record.state.as_str())
    .bind(record.revision)
    .bind(to_json(record)?)
    .bind(launched.to_vec())
    .bind(now)
    .execute(&mut *conn)
    .await?;
    if done.rows_affected() == 0 {
        return Ok(false);
    }
    put_secret(conn, &record.task_id, "targets", secret_hex).await?;
    Ok(true)
}

/// Keeps a secret.
pub async fn put_secret(
    conn: &mut AnyConnection,
    task_id: &str,
    part: &str,
    secret_hex: &str,
) -> Result<(), Error> {
    sqlx::query("INSERT INTO draw_secrets (task_id, part, secret) VALUES ($1, $2, $3)")
        .bind(task_id)
        .bind(part)
        .bind(secret_hex)
        .execute(conn)
        .await?;
    Ok(())
}

/// A kept secret.
pub async fn secret(conn: &mut AnyConnection, task_id: &str, part: &str) -> Result<String, Error> {
    sqlx::query_scalar("SELECT secret FROM draw_secrets WHERE task_id = $1 AND part = $2")
        .bind(task_id)
        .bind(part)
        .fetch_optional(conn)
        .await?
        .ok_or_else(|| Error::Internal(format!("task {task_id}: no {part} secret")))
}

/// A task's revision, without reading its record.
pub async fn revision(conn: &mut AnyConnection, task_id: &str) -> Result<Option<i64>, Error> {
    Ok(
        sqlx::query_scalar("SELECT revision FROM draws WHERE task_id = $1")
            .bind(task_id)
            .fetch_optional(conn)
            .await?,
    )
}

/// A task's record and the launch it came from.
pub async fn get(
    conn: &mut AnyConnection,
    task_id: &str,
) -> Result<Option<(Record, Vec<u8>)>, Error> {
    let row = sqlx::query("SELECT doc, launched FROM draws WHERE task_id = $1")
        .bind(task_id)
        .fetch_optional(conn)
        .await?;
    row.map(|r| {
        let doc: String = r.try_get("doc")?;
        let launched: Vec<u8> = r.try_get("launched")?;
        Ok((from_json(&doc)?, launched))
    })
    .transpose()
}

/// Writes `record`, whose revision the caller read as `record.revision - 1`; `Conflict` when another write
/// came first.
/// Stores `record` (serialised once) if nobody changed it since it was read, and notes its digest on it.
pub async fn update(conn: &mut AnyConnection, record: &mut Record) -> Result<(), Error> {
    let doc = to_json(record)?;
    let digest = hex::encode(Sha256::digest(doc.as_bytes()));
    let done = sqlx::query(
        "UPDATE draws SET state = $1, revision = $2, doc = $3, updated_at = $4 WHERE task_id = $5 AND revision = $6",
    )
    .bind(record.state.as_str())
    .bind(record.revision)
    .bind(doc)
    .bind(now_ms())
    .bind(&record.task_id)
    .bind(record.revision - 1)
    .execute(conn)
    .await?;
    if done.rows_affected() == 0 {
        return Err(Error::Conflict(format!(
            "the draw of task {} changed since it was read; read it again",
            record.task_id
        )));
    }
    record.stored_digest = digest;
    Ok(())
}

/// A page of records by task id, filtered by state and year.
pub async fn list(
    conn: &mut AnyConnection,
    state: Option<State>,
    year: u32,
    page: &Page,
) -> Result<Vec<Record>, Error> {
    let rows = sqlx::query(
        "SELECT doc FROM draws WHERE task_id > $1 AND ($2 = '' OR state = $2) AND ($3 = 0 OR year = $3) \
         ORDER BY task_id LIMIT $4",
    )
    .bind(&page.after)
    .bind(state.map_or("", State::as_str))
    .bind(i64::from(year))
    .bind(page.size)
    .fetch_all(conn)
    .await?;
    rows.iter()
        .map(|r| from_json(&r.try_get::<String, _>("doc")?))
        .collect()
}

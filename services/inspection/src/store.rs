//! Sagas as versioned rows with their ordered history and durable timers.

use sqlx::{AnyConnection, AssertSqlSafe, Row};
use suiji_platform::audit::{self, AuditEvent};
use suiji_platform::auth::Identity;
use suiji_platform::error::Error;
use suiji_platform::messages::Text;
use suiji_platform::messages::msg;
use suiji_platform::outbox::{self, Prepared};
use suiji_platform::paging::Page;

pub use crate::domain::visit::Counts;

use crate::domain::saga::{Phase, Saga, Timer};
use crate::domain::transfer::Transfer;
use crate::domain::visit::Visit;

/// A saga as stored.
#[derive(Debug, Clone)]
pub struct Stored {
    /// The state machine.
    pub saga: Saga,
    /// Its version: one more for every input recorded.
    pub version: i64,
    /// When it started (epoch ms).
    pub created_at: i64,
    /// When it last changed (epoch ms).
    pub updated_at: i64,
}

/// One line of a saga's history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Sequence number from 1 (the version it made).
    pub seq: i64,
    /// When (epoch ms).
    pub at: i64,
    /// Who or what.
    pub actor: String,
    /// What.
    pub kind: String,
    /// Details, worded when shown.
    pub detail: Text,
    /// Phase after it.
    pub phase: Phase,
    /// False when it came after its step and was only recorded.
    pub applied: bool,
    /// The message or request it came from.
    pub cause: String,
}

/// A saga or visit as the JSON document stored in its row.
fn doc<T: serde::Serialize>(value: &T) -> Result<String, Error> {
    serde_json::to_string(value).map_err(|e| Error::Internal(format!("encode: {e}")))
}

/// The document in a row's `doc` column.
fn doc_of<T: serde::de::DeserializeOwned>(r: &sqlx::any::AnyRow) -> Result<T, Error> {
    doc_in(r, "doc")
}

fn doc_in<T: serde::de::DeserializeOwned>(r: &sqlx::any::AnyRow, column: &str) -> Result<T, Error> {
    let text: String = r.try_get(column)?;
    serde_json::from_str(&text).map_err(|e| Error::Internal(format!("stored document: {e}")))
}

fn departments(saga: &Saga) -> String {
    let mut s = String::from(",");
    for p in &saga.participants {
        s.push_str(&p.department);
        s.push(',');
    }
    s
}

/// Adds a new saga with its first history entry and the launch it came from; false when the task has one
/// already (a redelivered launch).
pub async fn insert(
    conn: &mut AnyConnection,
    saga: &Saga,
    first: &Entry,
    launched: &[u8],
) -> Result<bool, Error> {
    let done = sqlx::query(
        "INSERT INTO sagas (task_id, lead, phase, departments, attention, version, doc, created_at, updated_at, launched) \
         VALUES ($1, $2, $3, $4, $5, 1, $6, $7, $7, $8) ON CONFLICT (task_id) DO NOTHING",
    )
    .bind(&saga.task_id)
    .bind(&saga.lead)
    .bind(saga.phase.as_str())
    .bind(departments(saga))
    .bind(i64::from(saga.attention.is_some()))
    .bind(doc(saga)?)
    .bind(first.at)
    .bind(launched.to_vec())
    .execute(&mut *conn)
    .await?;
    if done.rows_affected() == 0 {
        return Ok(false);
    }
    append(conn, &saga.task_id, first).await?;
    Ok(true)
}

/// The saga's columns as parameters `$1`–`$5` (phase, attention, new version, document, time), for a row chosen
/// after it.
const MOVE_SAGA: &str =
    "UPDATE sagas SET phase = $1, attention = $2, version = $3, doc = $4, updated_at = $5";

/// The history entry (parameters `$8`–`$14`, the time `$5`) inserted for each row of the `WITH` named after it.
const ENTRY_FROM: &str = "INSERT INTO saga_history (task_id, seq, at, actor, kind, detail, phase, applied, cause) \
                          SELECT task_id, $8, $5, $9, $10, $11, $14, $12, $13 FROM";

/// Binds [`MOVE_SAGA`]'s parameters (at `entry`'s time), the task (`$6`) and the version read (`$7`); and
/// [`ENTRY_FROM`]'s when `with_entry`.
fn bind_step<'q>(
    query: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments>,
    saga: &'q Saga,
    read: i64,
    entry: &'q Entry,
    with_entry: bool,
) -> Result<sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments>, Error> {
    let query = query
        .bind(saga.phase.as_str())
        .bind(i64::from(saga.attention.is_some()))
        .bind(read + 1)
        .bind(doc(saga)?)
        .bind(entry.at)
        .bind(&saga.task_id)
        .bind(read);
    if !with_entry {
        return Ok(query);
    }
    Ok(query
        .bind(entry.seq)
        .bind(&entry.actor)
        .bind(&entry.kind)
        .bind(entry.detail.to_stored())
        .bind(i64::from(entry.applied))
        .bind(&entry.cause)
        .bind(entry.phase.as_str()))
}

/// Writes `saga` over version `read`, appends `entry` as the next line and writes `events` into the outbox;
/// `Conflict` when another writer got there first (the caller reads again and retries), and then nothing is
/// written. On PostgreSQL one statement (the entry and the events only when the saga is written); on SQLite three,
/// in the caller's transaction.
pub async fn update(
    conn: &mut AnyConnection,
    saga: &Saga,
    read: i64,
    entry: &Entry,
    events: &Prepared,
) -> Result<(), Error> {
    let conflict = || {
        Error::Conflict(format!(
            "the saga of task {} changed since it was read",
            saga.task_id
        ))
    };
    if !suiji_platform::db::is_postgres(conn) {
        let sql = format!("{MOVE_SAGA} WHERE task_id = $6 AND version = $7");
        let done = bind_step(sqlx::query(AssertSqlSafe(sql)), saga, read, entry, false)?
            .execute(&mut *conn)
            .await?;
        if done.rows_affected() == 0 {
            return Err(conflict());
        }
        append(conn, &saga.task_id, entry).await?;
        outbox::write_prepared(conn, events).await?;
        return Ok(());
    }
    let sql = format!(
        "WITH moved AS ({MOVE_SAGA} WHERE task_id = $6 AND version = $7 RETURNING task_id), \
         entry AS ({ENTRY_FROM} moved), \
         sent AS ({}) \
         SELECT COUNT(*) FROM moved",
        events.insert_sql(15, "EXISTS (SELECT 1 FROM moved)")
    );
    let query = bind_step(sqlx::query(AssertSqlSafe(sql)), saga, read, entry, true)?;
    let written: i64 = events.bind(query).fetch_one(&mut *conn).await?.try_get(0)?;
    if written == 0 {
        return Err(conflict());
    }
    Ok(())
}

/// A visit's change and the step it makes on its saga, written together on `conn`: `visit` over version
/// `visit_read`, `saga` over `read` with `entry`, and `events` into the outbox; `Conflict` when either row changed
/// since it was read, and then nothing is written. On PostgreSQL this is one statement and one round trip (both
/// rows are locked at the versions read, or the statement writes nothing); on SQLite one transaction.
pub async fn write_visit_step(
    conn: &mut AnyConnection,
    (visit, visit_read): (&Visit, i64),
    (saga, read): (&Saga, i64),
    entry: &Entry,
    events: &Prepared,
    (who, audited): (&Identity, AuditEvent<'_>),
) -> Result<(), Error> {
    if !suiji_platform::db::is_postgres(conn) {
        let mut tx = sqlx::Connection::begin_with(&mut *conn, "BEGIN IMMEDIATE").await?;
        update_visit(&mut tx, visit, visit_read, entry.at).await?;
        update(&mut tx, saga, read, entry, events).await?;
        audit::append(&mut tx, who, audited).await?;
        tx.commit().await?;
        return Ok(());
    }
    let sql = format!(
        "WITH ok AS (SELECT s.task_id FROM sagas s JOIN visits v ON v.task_id = s.task_id \
                     WHERE s.task_id = $6 AND s.version = $7 AND v.id = $15 AND v.version = $16 FOR UPDATE), \
         moved AS ({MOVE_SAGA} WHERE task_id IN (SELECT task_id FROM ok) RETURNING task_id), \
         entry AS ({ENTRY_FROM} moved), \
         visit AS (UPDATE visits SET scheduled = $17, concluded = $18, version = $16 + 1, doc = $19, \
                   schedule_by_provisional = $20, updated_at = $5 WHERE id = $15 AND EXISTS (SELECT 1 FROM ok)), \
         sent AS ({}) \
         SELECT COUNT(*) FROM ok",
        events.insert_sql(21, "EXISTS (SELECT 1 FROM ok)")
    );
    let (scheduled, concluded) = counted(visit);
    let query = bind_step(sqlx::query(AssertSqlSafe(sql)), saga, read, entry, true)?
        .bind(&visit.id)
        .bind(visit_read)
        .bind(scheduled)
        .bind(concluded)
        .bind(doc(visit)?)
        .bind(i64::from(visit.schedule_by_provisional));
    // The step, then its entry on the service's hash chain, in one transaction: the chain's head is locked from the
    // entry to the commit only.
    let mut tx = sqlx::Connection::begin(&mut *conn).await?;
    let written: i64 = events.bind(query).fetch_one(&mut *tx).await?.try_get(0)?;
    if written == 0 {
        return Err(Error::Conflict(format!(
            "visit {} or the saga of task {} changed since they were read",
            visit.id, saga.task_id
        )));
    }
    audit::append(&mut tx, who, audited).await?;
    tx.commit().await?;
    Ok(())
}

async fn append(conn: &mut AnyConnection, task_id: &str, e: &Entry) -> Result<(), Error> {
    sqlx::query(
        "INSERT INTO saga_history (task_id, seq, at, actor, kind, detail, phase, applied, cause) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(task_id)
    .bind(e.seq)
    .bind(e.at)
    .bind(&e.actor)
    .bind(&e.kind)
    .bind(e.detail.to_stored())
    .bind(e.phase.as_str())
    .bind(i64::from(e.applied))
    .bind(&e.cause)
    .execute(conn)
    .await?;
    Ok(())
}

fn stored(r: &sqlx::any::AnyRow) -> Result<Stored, Error> {
    Ok(Stored {
        saga: doc_of(r)?,
        version: r.try_get("version")?,
        created_at: r.try_get("created_at")?,
        updated_at: r.try_get("updated_at")?,
    })
}

/// A task's saga.
pub async fn get(conn: &mut AnyConnection, task_id: &str) -> Result<Option<Stored>, Error> {
    let row =
        sqlx::query("SELECT doc, version, created_at, updated_at FROM sagas WHERE task_id = $1")
            .bind(task_id)
            .fetch_optional(conn)
            .await?;
    row.as_ref().map(stored).transpose()
}

/// What changes when a task's saga, one of its visits or one of its transfers changes: the saga's version and phase
/// and the last change of each (epoch ms); `None` when there is no such saga. Three index lookups.
pub async fn fingerprint(
    conn: &mut AnyConnection,
    task_id: &str,
) -> Result<Option<(i64, String, i64)>, Error> {
    let row = sqlx::query(
        "SELECT s.version, s.phase, s.updated_at, \
         (SELECT MAX(v.updated_at) FROM visits v WHERE v.task_id = s.task_id) AS visits_at, \
         (SELECT MAX(t.updated_at) FROM transfers t WHERE t.task_id = s.task_id) AS transfers_at \
         FROM sagas s WHERE s.task_id = $1",
    )
    .bind(task_id)
    .fetch_optional(conn)
    .await?;
    let Some(row) = row else { return Ok(None) };
    let changed = [
        row.try_get::<i64, _>("updated_at")?,
        row.try_get::<Option<i64>, _>("visits_at")?.unwrap_or(0),
        row.try_get::<Option<i64>, _>("transfers_at")?.unwrap_or(0),
    ];
    Ok(Some((
        row.try_get("version")?,
        row.try_get("phase")?,
        changed.into_iter().max().unwrap_or(0),
    )))
}

/// A saga's history, in order.
pub async fn history(conn: &mut AnyConnection, task_id: &str) -> Result<Vec<Entry>, Error> {
    let rows = sqlx::query(
        "SELECT seq, at, actor, kind, detail, phase, applied, cause FROM saga_history \
         WHERE task_id = $1 ORDER BY seq",
    )
    .bind(task_id)
    .fetch_all(conn)
    .await?;
    rows.iter()
        .map(|r| {
            let phase: String = r.try_get("phase")?;
            Ok(Entry {
                seq: r.try_get("seq")?,
                at: r.try_get("at")?,
                actor: r.try_get("actor")?,
                kind: r.try_get("kind")?,
                detail: Text::from_stored(&r.try_get::<String, _>("detail")?),
                phase: Phase::parse(&phase)
                    .ok_or_else(|| Error::Internal(format!("stored phase {phase:?}")))?,
                applied: r.try_get::<i64, _>("applied")? != 0,
                cause: r.try_get("cause")?,
            })
        })
        .collect()
}

/// What a listing asks for.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// Only these phases (none: all).
    pub phases: Vec<Phase>,
    /// Only sagas this department is part of.
    pub department: String,
    /// Only sagas waiting on a coordinator.
    pub needs_attention: bool,
}

/// A page of sagas in task order.
pub async fn list(
    conn: &mut AnyConnection,
    filter: &Filter,
    page: &Page,
) -> Result<Vec<Stored>, Error> {
    let phases: String = filter
        .phases
        .iter()
        .map(|p| format!(",{},", p.as_str()))
        .collect();
    let rows = sqlx::query(
        "SELECT doc, version, created_at, updated_at FROM sagas WHERE task_id > $1 \
         AND ($2 = '' OR $2 LIKE '%,' || phase || ',%') AND ($3 = '' OR departments LIKE $4) \
         AND ($5 = 0 OR attention = 1) ORDER BY task_id LIMIT $6",
    )
    .bind(&page.after)
    .bind(phases)
    .bind(&filter.department)
    .bind(format!("%,{},%", filter.department))
    .bind(i64::from(filter.needs_attention))
    .bind(page.size)
    .fetch_all(conn)
    .await?;
    rows.iter().map(stored).collect()
}

/// Sets a timer.
pub async fn set_timer(
    conn: &mut AnyConnection,
    task_id: &str,
    timer: Timer,
    due_at: i64,
    now: i64,
) -> Result<(), Error> {
    sqlx::query(
        "INSERT INTO saga_timers (id, task_id, kind, due_at, created_at) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(uuid::Uuid::now_v7().to_string())
    .bind(task_id)
    .bind(timer.as_str())
    .bind(due_at)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

/// Voids every timer of a saga.
pub async fn void_timers(conn: &mut AnyConnection, task_id: &str) -> Result<(), Error> {
    sqlx::query("DELETE FROM saga_timers WHERE task_id = $1")
        .bind(task_id)
        .execute(conn)
        .await?;
    Ok(())
}

/// Timers due at `now`, oldest first: `(id, task_id, kind)`.
pub async fn due_timers(
    conn: &mut AnyConnection,
    now: i64,
    limit: i64,
) -> Result<Vec<(String, String, String)>, Error> {
    let rows = sqlx::query(
        "SELECT id, task_id, kind FROM saga_timers WHERE due_at <= $1 ORDER BY due_at, id LIMIT $2",
    )
    .bind(now)
    .bind(limit)
    .fetch_all(conn)
    .await?;
    rows.iter()
        .map(|r| Ok((r.try_get("id")?, r.try_get("task_id")?, r.try_get("kind")?)))
        .collect()
}

/// Takes a due timer; false when another worker took it (or it was voided) first.
pub async fn take_timer(conn: &mut AnyConnection, id: &str) -> Result<bool, Error> {
    let done = sqlx::query("DELETE FROM saga_timers WHERE id = $1")
        .bind(id)
        .execute(conn)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// The launch a saga came from (`TaskLaunchedEvent`, encoded).
pub async fn launched(conn: &mut AnyConnection, task_id: &str) -> Result<Vec<u8>, Error> {
    sqlx::query_scalar("SELECT launched FROM sagas WHERE task_id = $1")
        .bind(task_id)
        .fetch_optional(conn)
        .await?
        .ok_or_else(|| Error::NotFound(msg("nf-saga").arg("task", task_id)))
}

/// A visit as stored.
#[derive(Debug, Clone)]
pub struct StoredVisit {
    /// The visit.
    pub visit: Visit,
    /// Its version.
    pub version: i64,
}

fn stored_visit(r: &sqlx::any::AnyRow) -> Result<StoredVisit, Error> {
    Ok(StoredVisit {
        visit: doc_of(r)?,
        version: r.try_get("version")?,
    })
}

/// Rows of one visit insert: 6 parameters each.
const VISIT_ROWS: usize = 100;

/// Adds visits, leaving out any the task has already (its id is the task's and target's).
pub async fn insert_visits(
    conn: &mut AnyConnection,
    visits: &[Visit],
    now: i64,
) -> Result<(), Error> {
    for chunk in visits.chunks(VISIT_ROWS) {
        let mut insert = sqlx::query(AssertSqlSafe(format!(
            "INSERT INTO visits (id, task_id, target_id, code, scheduled, concluded, version, doc, updated_at, \
             schedule_by_provisional) VALUES {} ON CONFLICT (id) DO NOTHING",
            suiji_platform::db::values_rows(chunk.len(), 7, |p| format!(
                "({}, {}, {}, {}, 0, 0, 1, {}, {}, {})",
                p[0], p[1], p[2], p[3], p[4], p[5], p[6]
            ))
        )));
        for v in chunk {
            insert = insert
                .bind(&v.id)
                .bind(&v.task_id)
                .bind(&v.target_id)
                .bind(&v.code)
                .bind(doc(v)?)
                .bind(now)
                .bind(i64::from(v.schedule_by_provisional));
        }
        insert.execute(&mut *conn).await?;
    }
    Ok(())
}

/// A page of the visits not yet scheduled whose last day is provisional, after `after`, in id order.
pub async fn provisional_visits(
    conn: &mut AnyConnection,
    after: &str,
    limit: i64,
) -> Result<Vec<StoredVisit>, Error> {
    let rows = sqlx::query(
        "SELECT doc, version FROM visits WHERE schedule_by_provisional = 1 AND scheduled = 0 AND id > $1 \
         ORDER BY id LIMIT $2",
    )
    .bind(after)
    .bind(limit)
    .fetch_all(conn)
    .await?;
    rows.iter().map(stored_visit).collect()
}

/// A visit.
pub async fn get_visit(conn: &mut AnyConnection, id: &str) -> Result<Option<StoredVisit>, Error> {
    let row = sqlx::query("SELECT doc, version FROM visits WHERE id = $1")
        .bind(id)
        .fetch_optional(conn)
        .await?;
    row.as_ref().map(stored_visit).transpose()
}

/// The visit with verification code `code`.
pub async fn visit_by_code(
    conn: &mut AnyConnection,
    code: &str,
) -> Result<Option<StoredVisit>, Error> {
    let row = sqlx::query("SELECT doc, version FROM visits WHERE code = $1")
        .bind(code)
        .fetch_optional(conn)
        .await?;
    row.as_ref().map(stored_visit).transpose()
}

/// Writes a visit over version `read`; `Conflict` when another writer got there first.
pub async fn update_visit(
    conn: &mut AnyConnection,
    v: &Visit,
    read: i64,
    now: i64,
) -> Result<(), Error> {
    let done = sqlx::query(
        "UPDATE visits SET scheduled = $1, concluded = $2, version = $3, doc = $4, updated_at = $5, \
         schedule_by_provisional = $8 WHERE id = $6 AND version = $7",
    )
    .bind(counted(v).0)
    .bind(counted(v).1)
    .bind(read + 1)
    .bind(doc(v)?)
    .bind(now)
    .bind(&v.id)
    .bind(read)
    .bind(i64::from(v.schedule_by_provisional))
    .execute(conn)
    .await?;
    if done.rows_affected() == 0 {
        return Err(Error::Conflict(format!(
            "visit {} changed since it was read; read it again",
            v.id
        )));
    }
    Ok(())
}

/// A page of a task's visits in id order.
pub async fn list_visits(
    conn: &mut AnyConnection,
    task_id: &str,
    page: &Page,
) -> Result<Vec<StoredVisit>, Error> {
    let rows = sqlx::query(
        "SELECT doc, version FROM visits WHERE task_id = $1 AND id > $2 ORDER BY id LIMIT $3",
    )
    .bind(task_id)
    .bind(&page.after)
    .bind(page.size)
    .fetch_all(conn)
    .await?;
    rows.iter().map(stored_visit).collect()
}

/// A saga with the counts of its task's visits (scheduled, concluded, all), read in one snapshot: a writer that
/// changed a visit and then the saga is either seen in both or in neither, so the saga's version check catches
/// counts that are out of date.
pub async fn get_counted(
    conn: &mut AnyConnection,
    task_id: &str,
) -> Result<Option<(Stored, Counts)>, Error> {
    let row = sqlx::query(AssertSqlSafe(format!(
        "SELECT doc, version, created_at, updated_at, {} FROM sagas WHERE task_id = $1",
        counts_of("$1")
    )))
    .bind(task_id)
    .fetch_optional(conn)
    .await?;
    let Some(row) = row else {
        return Ok(None);
    };
    Ok(Some((stored(&row)?, counts(&row)?)))
}

/// The columns `s`, `c` and `n` of the visit counts of the task `task` (an SQL expression).
fn counts_of(task: &str) -> String {
    format!(
        "(SELECT COALESCE(SUM(scheduled), 0) FROM visits WHERE task_id = {task}) AS s, \
         (SELECT COALESCE(SUM(concluded), 0) FROM visits WHERE task_id = {task}) AS c, \
         (SELECT COUNT(*) FROM visits WHERE task_id = {task}) AS n"
    )
}

/// A visit's `scheduled` and `concluded` columns: 1 where it counts as such.
fn counted(v: &Visit) -> (i64, i64) {
    let c = v.counted();
    (i64::from(c.scheduled), i64::from(c.concluded))
}

fn counts(row: &sqlx::any::AnyRow) -> Result<Counts, Error> {
    let n = |c: &str| -> Result<u64, Error> { Ok(row.try_get::<i64, _>(c)? as u64) };
    Ok(Counts {
        scheduled: n("s")?,
        concluded: n("c")?,
        total: n("n")?,
    })
}

/// Visit `id`, its task's saga and the task's visit counts, read in one snapshot (see [`get_counted`]).
pub async fn get_visit_counted(
    conn: &mut AnyConnection,
    id: &str,
) -> Result<Option<(StoredVisit, Stored, Counts)>, Error> {
    let row = sqlx::query(AssertSqlSafe(format!(
        "SELECT v.doc AS visit_doc, v.version AS visit_version, \
         s.doc, s.version, s.created_at, s.updated_at, {} \
         FROM visits v JOIN sagas s ON s.task_id = v.task_id WHERE v.id = $1",
        counts_of("v.task_id")
    )))
    .bind(id)
    .fetch_optional(conn)
    .await?;
    let Some(row) = row else {
        return Ok(None);
    };
    let visit = StoredVisit {
        visit: doc_in(&row, "visit_doc")?,
        version: row.try_get("visit_version")?,
    };
    Ok(Some((visit, stored(&row)?, counts(&row)?)))
}

/// A transfer as stored.
#[derive(Debug, Clone)]
pub struct StoredTransfer {
    /// The transfer.
    pub transfer: Transfer,
    /// Its version.
    pub version: i64,
}

fn stored_transfer(r: &sqlx::any::AnyRow) -> Result<StoredTransfer, Error> {
    Ok(StoredTransfer {
        transfer: doc_of(r)?,
        version: r.try_get("version")?,
    })
}

/// Adds a transfer; false when one with its id is there (a redelivered publication).
pub async fn insert_transfer(
    conn: &mut AnyConnection,
    t: &Transfer,
    now: i64,
) -> Result<bool, Error> {
    let done = sqlx::query(
        "INSERT INTO transfers (id, task_id, to_department, state, version, doc, updated_at, from_department) \
         VALUES ($1, $2, $3, $4, 1, $5, $6, $7) ON CONFLICT (id) DO NOTHING",
    )
    .bind(&t.id)
    .bind(&t.task_id)
    .bind(&t.to)
    .bind(t.state.as_str())
    .bind(doc(t)?)
    .bind(now)
    .bind(&t.from)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Writes `t` over `version`; `Conflict` when it changed since.
pub async fn update_transfer(
    conn: &mut AnyConnection,
    t: &Transfer,
    version: i64,
    now: i64,
) -> Result<(), Error> {
    let done = sqlx::query(
        "UPDATE transfers SET to_department = $1, state = $2, version = version + 1, doc = $3, updated_at = $4 \
         WHERE id = $5 AND version = $6",
    )
    .bind(&t.to)
    .bind(t.state.as_str())
    .bind(doc(t)?)
    .bind(now)
    .bind(&t.id)
    .bind(version)
    .execute(conn)
    .await?;
    if done.rows_affected() == 1 {
        Ok(())
    } else {
        Err(Error::Conflict(format!(
            "transfer {} changed; read it again",
            t.id
        )))
    }
}

/// One transfer.
pub async fn get_transfer(
    conn: &mut AnyConnection,
    id: &str,
) -> Result<Option<StoredTransfer>, Error> {
    let row = sqlx::query("SELECT doc, version FROM transfers WHERE id = $1")
        .bind(id)
        .fetch_optional(conn)
        .await?;
    row.as_ref().map(stored_transfer).transpose()
}

/// Transfers of a task, or sent to a department, in id order; only open ones when asked.
pub async fn list_transfers(
    conn: &mut AnyConnection,
    task_id: &str,
    to_department: &str,
    party: &str,
    open_only: bool,
    page: &Page,
) -> Result<Vec<StoredTransfer>, Error> {
    let rows = sqlx::query(
        "SELECT doc, version FROM transfers WHERE ($1 = '' OR task_id = $1) AND ($2 = '' OR to_department = $2) \
         AND ($3 = 0 OR state <> 'closed') AND id > $4 \
         AND ($6 = '' OR to_department = $6 OR from_department = $6) ORDER BY id LIMIT $5",
    )
    .bind(task_id)
    .bind(to_department)
    .bind(i64::from(open_only))
    .bind(&page.after)
    .bind(page.size)
    .bind(party)
    .fetch_all(conn)
    .await?;
    rows.iter().map(stored_transfer).collect()
}

/// Transfers of a task not closed.
pub async fn open_transfers(conn: &mut AnyConnection, task_id: &str) -> Result<u64, Error> {
    let n: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM transfers WHERE task_id = $1 AND state <> 'closed'",
    )
    .bind(task_id)
    .fetch_one(conn)
    .await?;
    Ok(n.max(0) as u64)
}

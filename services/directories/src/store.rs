//! The directories' tables, through sqlx.

use std::collections::HashMap;

use sqlx::{AnyConnection, AssertSqlSafe, Row};
use suiji_platform::db::{flag, placeholder_list, values_list};

use crate::domain::inspector::Inspector;
use crate::domain::target::Target;

/// A validated row waiting to be written, with the file line it came from.
#[derive(Debug, Clone)]
pub struct Staged<R> {
    /// Line of the file.
    pub line: u64,
    /// The record.
    pub record: R,
}

/// What writing one batch did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BatchOutcome {
    /// Rows inserted.
    pub created: u64,
    /// Rows that replaced an existing record.
    pub updated: u64,
    /// Rows whose id an earlier line of the same import already wrote: `(line, id, first line)`.
    pub duplicates: Vec<(u64, String, u64)>,
    /// Further duplicate rows, counted but not listed (a report lists at most [`MAX_LISTED_DUPLICATES`]).
    pub unlisted_duplicates: u64,
}

/// Most duplicate rows one merge lists by line; the rest are counted.
pub const MAX_LISTED_DUPLICATES: u64 = 10_000;

/// One value of a row to write, borrowed from the record where it can be.
#[derive(Debug, Clone)]
pub enum Value<'a> {
    /// Text.
    Text(std::borrow::Cow<'a, str>),
    /// SQL NULL (text column).
    Null,
    /// Integer (flags as 0/1).
    Int(i64),
}

/// A table that imports write to: its name and its data columns (the first is the key `id`); every such table
/// also has `import_id` (its last writer), `import_line`, `created_at` and `updated_at`.
pub struct Table {
    /// Table name.
    pub name: &'static str,
    /// Data columns, `id` first.
    pub columns: &'static [&'static str],
    /// Whether snapshots read it through segments (`crate::segments`), so writes mark their key range stale.
    pub segmented: bool,
    /// Whether an import into it while it is empty loads a copy without indexes and puts it in its place
    /// ([`crate::first_load`]); only for a table that no other table refers to.
    pub first_load: bool,
}

impl Table {
    /// Every column an import writes: the data columns, then the import stamp and times.
    pub fn import_columns(&self) -> String {
        format!(
            "{}, import_id, import_line, created_at, updated_at",
            self.columns.join(", ")
        )
    }

    /// The `ON CONFLICT` clause of an import's upsert: every data column and the import stamp are replaced, unless
    /// this same import already wrote the row (a second line with the same id), which is then left alone.
    fn on_conflict(&self) -> String {
        let updates: Vec<String> = self.columns[1..]
            .iter()
            .map(|c| format!("{c} = excluded.{c}"))
            .collect();
        format!(
            "ON CONFLICT (id) DO UPDATE SET {}, import_id = excluded.import_id, import_line = excluded.import_line, \
             updated_at = excluded.updated_at WHERE {}.import_id <> excluded.import_id",
            updates.join(", "),
            self.name
        )
    }
}

/// The targets table.
pub const TARGETS: Table = Table {
    name: "targets",
    columns: &[
        "id",
        "kind",
        "credit_code",
        "name",
        "region_code",
        "industry_code",
        "address",
        "status",
        "departments",
        "risk",
        "abnormal",
        "serious_violation",
        "complaints_12m",
        "key_focus",
    ],
    segmented: true,
    first_load: true,
};

/// The inspectors table.
pub const INSPECTORS: Table = Table {
    name: "inspectors",
    columns: &[
        "id",
        "name",
        "department_code",
        "certificate_no",
        "certificate_expires",
        "qualifications",
        "expertise",
        "expert",
        "region_code",
        "status",
        "recusals",
    ],
    segmented: false,
    first_load: false,
};

/// A row's digest: SHA-256 over its data columns in the table's order, each as 0x00 when NULL, else 0x01, its
/// text's length in bytes (four bytes, big-endian) and its UTF-8 text (integers in decimal). The same on both
/// databases, as it is computed here, not in SQL.
pub fn row_digest(values: &[Value<'_>]) -> [u8; 32] {
    use sha2::{Digest, Sha256};
    let mut hash = Sha256::new();
    let mut digits = itoa::Buffer::new();
    for value in values {
        let text = match value {
            Value::Null => {
                hash.update([0u8]);
                continue;
            }
            Value::Text(t) => t.as_ref(),
            Value::Int(n) => digits.format(*n),
        };
        hash.update([1u8]);
        hash.update((text.len() as u32).to_be_bytes());
        hash.update(text.as_bytes());
    }
    hash.finalize().into()
}

/// [`row_digest`] in SQL, of the row `alias` of `table` (PostgreSQL: SQLite has no SHA-256).
pub fn sql_digest(table: &Table, alias: &str) -> String {
    let parts: Vec<String> = table
        .columns
        .iter()
        .map(|c| {
            let text = format!("convert_to({alias}.{c}::text, 'UTF8')");
            format!(
                "CASE WHEN {alias}.{c} IS NULL THEN '\\x00'::bytea \
                 ELSE '\\x01'::bytea || int4send(octet_length({text})) || {text} END"
            )
        })
        .collect();
    format!("sha256({})", parts.join(" || "))
}

/// `value` as a quoted SQL literal (quotes doubled), for statements that take no bound values (`COPY`).
pub fn literal(value: &str) -> String {
    format!("'{}'", value.replace('\'', "''"))
}

/// The output of a `COPY … TO STDOUT`, handed out a block of whole newline-terminated lines at a time.
pub struct CopyLines<S> {
    stream: S,
    carry: Vec<u8>,
}

impl<S, B> CopyLines<S>
where
    S: futures::Stream<Item = Result<B, sqlx::Error>> + Unpin,
    B: AsRef<[u8]>,
{
    /// Reads `stream` (what `copy_out_raw` returns).
    pub fn new(stream: S) -> Self {
        Self {
            stream,
            carry: Vec::new(),
        }
    }

    /// The next block of whole lines; `None` at the end.
    pub async fn next(&mut self) -> Result<Option<Vec<u8>>, sqlx::Error> {
        use futures::TryStreamExt;
        loop {
            let Some(bytes) = self.stream.try_next().await? else {
                return Ok((!self.carry.is_empty()).then(|| std::mem::take(&mut self.carry)));
            };
            self.carry.extend_from_slice(bytes.as_ref());
            if let Some(end) = self.carry.iter().rposition(|b| *b == b'\n') {
                let rest = self.carry.split_off(end + 1);
                return Ok(Some(std::mem::replace(&mut self.carry, rest)));
            }
        }
    }
}

/// The non-empty lines of a block.
pub fn lines(block: &[u8]) -> impl Iterator<Item = &[u8]> {
    block.split(|b| *b == b'\n').filter(|l| !l.is_empty())
}

/// Rows per statement: within SQLite's and PostgreSQL's limits on bound values.
pub const ROWS_PER_STATEMENT: usize = 1000;

/// A list as stored: `,a,b,` so that one `LIKE '%,a,%'` finds a member; empty for none.
pub fn list_column(items: &[String]) -> String {
    if items.is_empty() {
        String::new()
    } else {
        format!(",{},", items.join(","))
    }
}

/// A target's values in [`TARGETS`] column order.
pub fn target_values(t: &Target) -> Vec<Value<'_>> {
    vec![
        Value::Text(t.id.as_str().into()),
        Value::Text(t.kind.as_str().into()),
        t.credit_code
            .as_deref()
            .map_or(Value::Null, |c| Value::Text(c.into())),
        Value::Text(t.name.as_str().into()),
        Value::Text(t.region_code.as_str().into()),
        Value::Text(t.industry_code.as_str().into()),
        Value::Text(t.address.as_str().into()),
        Value::Text(t.status.as_str().into()),
        Value::Text(list_column(&t.departments).into()),
        Value::Text(t.risk.as_str().into()),
        Value::Int(flag(t.abnormal)),
        Value::Int(flag(t.serious_violation)),
        Value::Int(i64::from(t.complaints_12m)),
        Value::Int(flag(t.key_focus)),
    ]
}

/// An inspector's values in [`INSPECTORS`] column order.
pub fn inspector_values(i: &Inspector) -> Vec<Value<'_>> {
    vec![
        Value::Text(i.id.as_str().into()),
        Value::Text(i.name.as_str().into()),
        Value::Text(i.department_code.as_str().into()),
        Value::Text(i.certificate_no.as_str().into()),
        Value::Text(i.certificate_expires.to_string().into()),
        Value::Text(list_column(&i.qualifications).into()),
        Value::Text(list_column(&i.expertise).into()),
        Value::Int(flag(i.expert)),
        Value::Text(i.region_code.as_str().into()),
        Value::Text(i.status.as_str().into()),
        Value::Text(list_column(&i.recusals).into()),
    ]
}

/// Inserts or updates rows of `table` for import `import_id`, at time `now`; each row is its file line and its
/// values in the table's column order. The batch must not repeat an id. A row that this same import already
/// wrote (from an earlier line) is left alone and reported as a duplicate. Every row replaced is recorded in
/// `import_changes` with the writer and digest it had.
pub async fn upsert_rows(
    conn: &mut AnyConnection,
    table: &Table,
    import_id: &str,
    rows: &[(u64, Vec<Value<'_>>)],
    now: i64,
) -> Result<BatchOutcome, sqlx::Error> {
    let name = table.name;
    let columns = table.import_columns();
    let width = table.columns.len() + 4;
    let on_conflict = table.on_conflict();
    let mut outcome = BatchOutcome::default();
    for chunk in rows.chunks(ROWS_PER_STATEMENT) {
        let id_of = |values: &Vec<Value>| match &values[0] {
            Value::Text(id) => id.to_string(),
            _ => String::new(),
        };
        let ids: Vec<String> = chunk.iter().map(|(_, values)| id_of(values)).collect();
        // What each existing row was, before this import writes it.
        let sql = format!(
            "SELECT * FROM {name} WHERE id IN ({})",
            placeholder_list(1, ids.len())
        );
        let mut query = sqlx::query(AssertSqlSafe(sql));
        for id in &ids {
            query = query.bind(id.clone());
        }
        let existing: HashMap<String, (String, i64, Option<Vec<u8>>)> = query
            .fetch_all(&mut *conn)
            .await?
            .into_iter()
            .map(|row| {
                Ok((
                    row.try_get::<String, _>("id")?,
                    (
                        row.try_get("import_id")?,
                        row.try_get("import_line")?,
                        stored_digest(table, &row).map(|d| d.to_vec()),
                    ),
                ))
            })
            .collect::<Result<_, sqlx::Error>>()?;
        let digests: Vec<[u8; 32]> = chunk.iter().map(|(_, v)| row_digest(v)).collect();
        let sql = format!(
            "INSERT INTO {name} ({columns}) VALUES {} {on_conflict} RETURNING id",
            values_list(chunk.len(), width),
        );
        let mut query = sqlx::query(AssertSqlSafe(sql));
        for (line, values) in chunk {
            for value in values {
                query = match value {
                    Value::Text(t) => query.bind(t.as_ref()),
                    Value::Null => query.bind(None::<String>),
                    Value::Int(n) => query.bind(*n),
                };
            }
            query = query
                .bind(import_id.to_string())
                .bind(*line as i64)
                .bind(now)
                .bind(now);
        }
        let written: std::collections::HashSet<String> = query
            .fetch_all(&mut *conn)
            .await?
            .into_iter()
            .map(|row| row.try_get::<String, _>("id"))
            .collect::<Result<_, sqlx::Error>>()?;
        let mut changes = Vec::new();
        for ((line, id), digest) in chunk.iter().map(|(l, _)| *l).zip(ids).zip(&digests) {
            match (written.contains(&id), existing.get(&id)) {
                (true, None) => outcome.created += 1,
                (true, Some((before_import, _, before_digest))) => {
                    outcome.updated += 1;
                    changes.push(Change {
                        id,
                        before_import: before_import.clone(),
                        before_digest: before_digest.clone(),
                        after_digest: digest.to_vec(),
                    });
                }
                // This import wrote the id from an earlier line.
                (false, first) => {
                    let first_line = first.map_or(0, |(_, line, _)| *line) as u64;
                    outcome.duplicates.push((line, id, first_line));
                }
            }
        }
        record_changes(conn, import_id, &changes).await?;
    }
    Ok(outcome)
}

/// One row a writer replaced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    /// The row's id.
    pub id: String,
    /// Who had written it.
    pub before_import: String,
    /// With what digest (`None`: before digests were kept).
    pub before_digest: Option<Vec<u8>>,
    /// The digest written now.
    pub after_digest: Vec<u8>,
}

/// Records the rows `writer` replaced.
pub async fn record_changes(
    conn: &mut AnyConnection,
    writer: &str,
    changes: &[Change],
) -> Result<(), sqlx::Error> {
    for part in changes.chunks(ROWS_PER_STATEMENT) {
        let sql = format!(
            "INSERT INTO import_changes (import_id, id, before_import, before_digest, after_digest) VALUES {}",
            values_list(part.len(), 5)
        );
        let mut query = sqlx::query(AssertSqlSafe(sql));
        for c in part {
            query = query
                .bind(writer.to_string())
                .bind(c.id.clone())
                .bind(c.before_import.clone())
                .bind(c.before_digest.clone())
                .bind(c.after_digest.clone());
        }
        query.execute(&mut *conn).await?;
    }
    Ok(())
}

/// Records the start of an import.
pub async fn begin_import(
    conn: &mut AnyConnection,
    id: &str,
    what: &str,
    file_name: &str,
    actor: &str,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO imports (id, what, file_name, actor, started_at) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(id)
    .bind(what)
    .bind(file_name)
    .bind(actor)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

/// Records the counts of a finished import.
pub async fn finish_import(
    conn: &mut AnyConnection,
    id: &str,
    counts: [u64; 4],
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE imports SET finished_at = $1, rows_read = $2, accepted = $3, rejected = $4, created = $5 WHERE id = $6")
        .bind(now)
        .bind(counts[0] as i64)
        .bind(counts[1] as i64)
        .bind(counts[2] as i64)
        .bind(counts[3] as i64)
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}

/// Appends `value` to a `COPY … (FORMAT text)` buffer, escaped.
fn copy_text(buf: &mut Vec<u8>, value: &str) {
    let bytes = value.as_bytes();
    if !bytes
        .iter()
        .any(|b| matches!(b, b'\\' | b'\t' | b'\n' | b'\r'))
    {
        buf.extend_from_slice(bytes);
        return;
    }
    let mut plain = 0;
    for (i, b) in bytes.iter().enumerate() {
        let escaped: &[u8] = match b {
            b'\\' => b"\\\\",
            b'\t' => b"\\t",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            _ => continue,
        };
        buf.extend_from_slice(&bytes[plain..i]);
        buf.extend_from_slice(escaped);
        plain = i + 1;
    }
    buf.extend_from_slice(&bytes[plain..]);
}

/// Appends one row's `COPY … (FORMAT text)` line to `buf`: its values, then the import stamp.
pub fn copy_line(buf: &mut Vec<u8>, line: u64, values: Vec<Value<'_>>, import_id: &str, now: i64) {
    let mut digits = itoa::Buffer::new();
    for value in values {
        match value {
            Value::Text(t) => copy_text(buf, &t),
            Value::Null => buf.extend_from_slice(b"\\N"),
            Value::Int(n) => buf.extend_from_slice(digits.format(n).as_bytes()),
        }
        buf.push(b'\t');
    }
    copy_text(buf, import_id);
    for stamp in [line as i64, now, now] {
        buf.push(b'\t');
        buf.extend_from_slice(digits.format(stamp).as_bytes());
    }
    buf.push(b'\n');
}

/// The session-local table an import stages `table`'s rows in, on PostgreSQL.
fn stage_name(table: &Table) -> String {
    format!("staged_{}", table.name)
}

/// Prepares an empty staging table for `table` on this connection (a temporary table: unlogged, no index,
/// gone with the session).
pub async fn open_stage(conn: &mut sqlx::PgConnection, table: &Table) -> Result<(), sqlx::Error> {
    use sqlx::Executor;
    let stage = stage_name(table);
    conn.execute(AssertSqlSafe(format!(
        "CREATE TEMP TABLE IF NOT EXISTS {stage} (LIKE {} INCLUDING DEFAULTS)",
        table.name
    )))
    .await?;
    conn.execute(AssertSqlSafe(format!("TRUNCATE {stage}")))
        .await?;
    Ok(())
}

/// Appends COPY lines to the staging table.
pub async fn stage(
    conn: &mut sqlx::PgConnection,
    table: &Table,
    lines: &[u8],
) -> Result<(), sqlx::Error> {
    copy_into(conn, &stage_name(table), table, lines).await
}

/// Appends COPY lines to `into`, a table with `table`'s import columns.
async fn copy_into(
    conn: &mut sqlx::PgConnection,
    into: &str,
    table: &Table,
    lines: &[u8],
) -> Result<(), sqlx::Error> {
    let mut copy = conn
        .copy_in_raw(&format!(
            "COPY {into} ({}) FROM STDIN (FORMAT text)",
            table.import_columns()
        ))
        .await?;
    copy.send(lines).await?;
    copy.finish().await?;
    Ok(())
}

/// A run of an import's rows in key order, with distinct ids, as COPY lines.
#[derive(Debug, Default)]
pub struct Chunk {
    /// The COPY lines.
    pub lines: Vec<u8>,
    /// How many.
    pub rows: u64,
    /// The first and the last id.
    pub lo: String,
    pub hi: String,
}

/// Writes a chunk in one transaction (committed without waiting for the WAL flush: the import's closing record
/// is synchronous and flushes it). Its rows go straight into the table by `COPY`, in key order, so the indexes
/// are walked page by page; should an id be there already (an earlier import, or another one running), the
/// chunk is staged and merged instead, which updates the known ids. In a first load the rows go `into` the copy
/// of the table being loaded, which has no index and so no known ids.
pub async fn write_chunk(
    conn: &mut sqlx::PgConnection,
    table: &Table,
    chunk: &Chunk,
    now: i64,
    into: Option<&str>,
) -> Result<BatchOutcome, sqlx::Error> {
    use sqlx::{Acquire, Executor};
    let mut tx = conn.begin().await?;
    tx.execute("SET LOCAL synchronous_commit = off").await?;
    if let Some(load) = into {
        copy_into(&mut tx, load, table, &chunk.lines).await?;
        tx.commit().await?;
        return Ok(BatchOutcome {
            created: chunk.rows,
            ..Default::default()
        });
    }
    tx.execute("SAVEPOINT chunk").await?;
    let outcome = match copy_into(&mut tx, table.name, table, &chunk.lines).await {
        Ok(()) => {
            tx.execute("RELEASE SAVEPOINT chunk").await?;
            if table.segmented {
                crate::segments::touch_pg(&mut tx, &chunk.lo, &chunk.hi).await?;
            }
            BatchOutcome {
                created: chunk.rows,
                ..Default::default()
            }
        }
        // The merge marks the key range it wrote itself.
        Err(e) if suiji_platform::db::is_unique_violation(&e) => {
            tx.execute("ROLLBACK TO SAVEPOINT chunk").await?;
            open_stage(&mut tx, table).await?;
            stage(&mut tx, table, &chunk.lines).await?;
            merge_from(&mut tx, table, &stage_name(table), chunk.rows, now).await?
        }
        Err(e) => return Err(e),
    };
    tx.commit().await?;
    Ok(outcome)
}

/// Merges the `staged` rows of `stage`, a table with `table`'s import columns, into `table` in one transaction,
/// in key order, so the primary key is walked once from start to end instead of page by random page: the first
/// line of an id wins, later lines of the same id are reported as duplicates, and an id a previous import wrote is
/// updated. Drops `stage` in the same transaction.
pub async fn merge_from(
    conn: &mut sqlx::PgConnection,
    table: &Table,
    stage: &str,
    staged: u64,
    now: i64,
) -> Result<BatchOutcome, sqlx::Error> {
    use sqlx::{Acquire, Executor};
    let mut tx = conn.begin().await?;
    // The sort of the staged rows in memory; no JIT compilation for a statement that runs once.
    tx.execute("SET LOCAL work_mem = '128MB'").await?;
    tx.execute("SET LOCAL jit = off").await?;
    let mut outcome = BatchOutcome::default();
    let (name, columns) = (table.name, table.import_columns());
    let first_lines =
        format!("SELECT DISTINCT ON (id) {columns} FROM {stage} ORDER BY id, import_line");
    // The rows about to be replaced, with who wrote them and their digests (run again, adding what is missing,
    // should another import insert some of the ids meanwhile).
    let record_changes = format!(
        "INSERT INTO import_changes (import_id, id, before_import, before_digest, after_digest) \
         SELECT s.import_id, s.id, t.import_id, {}, {} FROM ({first_lines}) s \
         JOIN {name} t ON t.id = s.id WHERE t.import_id <> s.import_id \
         ON CONFLICT (import_id, id) DO NOTHING",
        sql_digest(table, "t"),
        sql_digest(table, "s"),
    );
    tx.execute(AssertSqlSafe(record_changes.clone())).await?;
    // New ids by plain INSERT: a third cheaper than INSERT … ON CONFLICT, whose speculative insertion a first
    // load does not need. Should another import insert one of them meanwhile, the upsert below takes over.
    tx.execute("SAVEPOINT new_ids").await?;
    let inserted = sqlx::query(AssertSqlSafe(format!(
        "INSERT INTO {name} ({columns}) SELECT * FROM ({first_lines}) s \
         WHERE NOT EXISTS (SELECT 1 FROM {name} t WHERE t.id = s.id)"
    )))
    .execute(&mut *tx)
    .await;
    let (created, written) = match inserted {
        Ok(done) => {
            tx.execute("RELEASE SAVEPOINT new_ids").await?;
            let updates: Vec<String> = table.columns[1..]
                .iter()
                .chain(["import_id", "import_line", "updated_at"].iter())
                .map(|c| format!("{c} = s.{c}"))
                .collect();
            // A first load inserts every staged row; only otherwise are there known ids to update.
            let updated = if done.rows_affected() == staged {
                0
            } else {
                sqlx::query(AssertSqlSafe(format!(
                    "UPDATE {name} t SET {} FROM ({first_lines}) s WHERE t.id = s.id AND t.import_id <> s.import_id",
                    updates.join(", ")
                )))
                .execute(&mut *tx)
                .await?
                .rows_affected()
            };
            (
                done.rows_affected() as i64,
                (done.rows_affected() + updated) as i64,
            )
        }
        Err(e) if suiji_platform::db::is_unique_violation(&e) => {
            tx.execute("ROLLBACK TO SAVEPOINT new_ids").await?;
            tx.execute(AssertSqlSafe(record_changes)).await?;
            let on_conflict = table.on_conflict();
            let row = sqlx::query(AssertSqlSafe(format!(
                "WITH up AS (INSERT INTO {name} ({columns}) {first_lines} {on_conflict} RETURNING created_at) \
                 SELECT COUNT(*) FILTER (WHERE created_at = $1) AS created, COUNT(*) AS written FROM up"
            )))
            .bind(now)
            .fetch_one(&mut *tx)
            .await?;
            (row.try_get("created")?, row.try_get("written")?)
        }
        Err(e) => return Err(e),
    };
    if table.segmented && written > 0 {
        crate::segments::touch_ids_of(&mut tx, stage).await?;
    }
    outcome.created = created as u64;
    outcome.updated = (written - created) as u64;
    // Every distinct id is written; fewer rows written than staged means some ids came twice.
    if (written as u64) < staged {
        let rows = sqlx::query(AssertSqlSafe(format!(
            "SELECT line, id, first FROM (SELECT import_line AS line, id, \
             min(import_line) OVER (PARTITION BY id) AS first FROM {stage}) d WHERE line <> first ORDER BY line \
             LIMIT {MAX_LISTED_DUPLICATES}"
        )))
        .fetch_all(&mut *tx)
        .await?;
        for row in rows {
            let line: i64 = row.try_get("line")?;
            let first: i64 = row.try_get("first")?;
            outcome
                .duplicates
                .push((line as u64, row.try_get("id")?, first as u64));
        }
        outcome.unlisted_duplicates = staged - written as u64 - outcome.duplicates.len() as u64;
    }
    tx.execute(AssertSqlSafe(format!("DROP TABLE IF EXISTS {stage}")))
        .await?;
    tx.commit().await?;
    Ok(outcome)
}

/// The digest of a stored row's data columns, as they read now; `None` if they no longer read as a record.
pub fn stored_digest(table: &Table, row: &sqlx::any::AnyRow) -> Option<[u8; 32]> {
    if table.name == TARGETS.name {
        target_from(row)
            .ok()
            .map(|t| row_digest(&target_values(&t)))
    } else {
        inspector_from(row)
            .ok()
            .map(|(i, _)| row_digest(&inspector_values(&i)))
    }
}

fn target_from(row: &sqlx::any::AnyRow) -> Result<Target, sqlx::Error> {
    use crate::domain::target::{Kind, Risk, Status};
    let bad = |what: &str, v: String| {
        sqlx::Error::Decode(format!("stored {what} {v:?} is unknown").into())
    };
    let kind: String = row.try_get("kind")?;
    let status: String = row.try_get("status")?;
    let risk: String = row.try_get("risk")?;
    let departments: String = row.try_get("departments")?;
    Ok(Target {
        id: row.try_get("id")?,
        kind: Kind::parse(&kind).ok_or_else(|| bad("kind", kind.clone()))?,
        credit_code: row.try_get("credit_code")?,
        name: row.try_get("name")?,
        region_code: row.try_get("region_code")?,
        industry_code: row.try_get("industry_code")?,
        address: row.try_get("address")?,
        status: Status::parse(&status).ok_or_else(|| bad("status", status.clone()))?,
        departments: departments
            .split(',')
            .filter(|d| !d.is_empty())
            .map(str::to_string)
            .collect(),
        risk: Risk::parse(&risk).ok_or_else(|| bad("risk", risk.clone()))?,
        abnormal: row.try_get::<i64, _>("abnormal")? != 0,
        serious_violation: row.try_get::<i64, _>("serious_violation")? != 0,
        complaints_12m: row.try_get::<i64, _>("complaints_12m")? as u32,
        key_focus: row.try_get::<i64, _>("key_focus")? != 0,
    })
}

/// Filters of an inspector listing; empty fields do not narrow.
#[derive(Debug, Clone, Default)]
pub struct InspectorQuery {
    /// Department.
    pub department_code: String,
    /// More departments (a list is of any of them and `department_code`; a snapshot does not take these).
    pub departments: Vec<String>,
    /// A qualification tag the inspector must hold.
    pub qualification: String,
    /// Only inspectors who may inspect on this day (YYYY-MM-DD): active, certificate valid.
    pub eligible_on: Option<String>,
}

fn inspector_from(row: &sqlx::any::AnyRow) -> Result<(Inspector, u32), sqlx::Error> {
    use crate::domain::inspector::InspectorStatus;
    let list = |s: String| {
        s.split(',')
            .filter(|x| !x.is_empty())
            .map(str::to_string)
            .collect::<Vec<_>>()
    };
    let status: String = row.try_get("status")?;
    let expires: String = row.try_get("certificate_expires")?;
    Ok((
        Inspector {
            id: row.try_get("id")?,
            name: row.try_get("name")?,
            department_code: row.try_get("department_code")?,
            certificate_no: row.try_get("certificate_no")?,
            certificate_expires: expires
                .parse()
                .map_err(|_| sqlx::Error::Decode(format!("stored date {expires:?}").into()))?,
            qualifications: list(row.try_get("qualifications")?),
            expertise: list(row.try_get("expertise")?),
            expert: row.try_get::<i64, _>("expert")? != 0,
            region_code: row.try_get("region_code")?,
            status: InspectorStatus::parse(&status)
                .ok_or_else(|| sqlx::Error::Decode(format!("stored status {status:?}").into()))?,
            recusals: list(row.try_get("recusals")?),
        },
        row.try_get::<i64, _>("workload")? as u32,
    ))
}

/// A page of inspectors after `after`, by id.
pub async fn list_inspectors(
    conn: &mut AnyConnection,
    query: &InspectorQuery,
    after: &str,
    limit: i64,
) -> Result<Vec<(Inspector, u32)>, sqlx::Error> {
    // Only the filters given are written into the statement: a prepared statement's generic plan took
    // `($2 = '' OR …)` for a rare match, expected a handful of inspectors and joined them to the ledger's sums by a
    // nested loop, every inspector compared with every pending change (8 ms for three departments).
    let mut values: Vec<String> = vec![after.to_string()];
    let mut bind = |value: String| {
        values.push(value);
        format!("${}", values.len())
    };
    let mut conditions = vec!["id > $1".to_string()];
    let codes: Vec<String> = std::iter::once(&query.department_code)
        .filter(|d| !d.is_empty())
        .chain(&query.departments)
        .map(|code| bind(code.clone()))
        .collect();
    if !codes.is_empty() {
        conditions.push(format!("department_code IN ({})", codes.join(", ")));
    }
    if !query.qualification.is_empty() {
        let tag = bind(format!("%,{},%", query.qualification));
        conditions.push(format!("qualifications LIKE {tag}"));
    }
    if let Some(day) = query.eligible_on.as_ref().filter(|d| !d.is_empty()) {
        let day = bind(day.clone());
        conditions.push(format!(
            "status = 'active' AND certificate_expires >= {day}"
        ));
    }
    let mut select = sqlx::query(AssertSqlSafe(format!(
        "{}SELECT id, name, department_code, certificate_no, certificate_expires, qualifications, expertise, expert, \
         region_code, status, recusals, {} AS workload FROM inspectors {} WHERE {} ORDER BY id LIMIT {limit}",
        crate::workload::PENDING_WITH,
        crate::workload::CURRENT,
        crate::workload::PENDING_JOIN,
        conditions.join(" AND ")
    )));
    for value in values {
        select = select.bind(value);
    }
    let rows = select.fetch_all(conn).await?;
    rows.iter().map(inspector_from).collect()
}

/// A target about to be changed by id, with its last writer.
pub async fn target_for_change(
    conn: &mut AnyConnection,
    id: &str,
) -> Result<Option<(Target, String)>, sqlx::Error> {
    let sql = format!(
        "SELECT {} FROM targets WHERE id = $1",
        TARGETS.import_columns()
    );
    let row = sqlx::query(AssertSqlSafe(sql))
        .bind(id)
        .fetch_optional(conn)
        .await?;
    row.map(|r| Ok((target_from(&r)?, r.try_get("import_id")?)))
        .transpose()
}

/// A target by id or credit code, with its last change time.
pub async fn get_target(
    conn: &mut AnyConnection,
    id: &str,
) -> Result<Option<(Target, i64)>, sqlx::Error> {
    let sql = format!(
        "SELECT {} FROM targets WHERE id = $1 OR credit_code = $1",
        TARGETS.import_columns()
    );
    let row = sqlx::query(AssertSqlSafe(sql))
        .bind(id)
        .fetch_optional(conn)
        .await?;
    row.map(|r| Ok((target_from(&r)?, r.try_get("updated_at")?)))
        .transpose()
}

/// Filters of a target listing; empty lists do not narrow.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct TargetQuery {
    /// Kinds (stable names).
    pub kinds: Vec<String>,
    /// Region prefixes (`61`, `6104`, `610402`).
    pub region_prefixes: Vec<String>,
    /// Industry prefixes (`C13`).
    pub industry_prefixes: Vec<String>,
    /// Supervising departments.
    pub departments: Vec<String>,
    /// Risk levels (stable names).
    pub risks: Vec<String>,
    /// Statuses (stable names).
    pub statuses: Vec<String>,
    /// Part of the name.
    pub name_contains: String,
}

impl TargetQuery {
    /// The WHERE clause with its values written in as quoted literals, for statements that take no bound
    /// values (`COPY`). Values are enum names, digits and department codes; quotes are doubled.
    pub fn clause_literal(&self) -> String {
        let (mut sql, values) = self.clause();
        for (i, value) in values.iter().enumerate().rev() {
            sql = sql.replace(&format!("${}", i + 2), &literal(value));
        }
        sql
    }

    /// Whether a target whose `column` holds `value` passes this filter on that column, as [`Self::clause`]
    /// says in SQL (the name is not a snapshot's filter and passes).
    pub fn admits(&self, column: &str, value: &str) -> bool {
        let any = |items: &[String], pass: &dyn Fn(&str) -> bool| {
            items.is_empty() || items.iter().any(|i| pass(i))
        };
        match column {
            "kind" => any(&self.kinds, &|k| value == k),
            "region_code" => any(&self.region_prefixes, &|p| value.starts_with(p)),
            "industry_code" => any(&self.industry_prefixes, &|p| value.starts_with(p)),
            "departments" => any(&self.departments, &|d| value.contains(&format!(",{d},"))),
            "risk" => any(&self.risks, &|r| value == r),
            "status" => any(&self.statuses, &|s| value == s),
            _ => true,
        }
    }

    /// The WHERE clause (after `id > $1`) and its bound values, numbered from `$2`.
    pub fn clause(&self) -> (String, Vec<String>) {
        let mut sql = String::new();
        let mut values: Vec<String> = Vec::new();
        let mut any_of = |column: &str, items: &[String], pattern: fn(&str) -> String, op: &str| {
            if items.is_empty() {
                return;
            }
            let parts: Vec<String> = items
                .iter()
                .map(|item| {
                    values.push(pattern(item));
                    format!("{column} {op} ${}", values.len() + 1)
                })
                .collect();
            sql.push_str(&format!(" AND ({})", parts.join(" OR ")));
        };
        any_of("kind", &self.kinds, |v| v.to_string(), "=");
        any_of(
            "region_code",
            &self.region_prefixes,
            |v| format!("{v}%"),
            "LIKE",
        );
        any_of(
            "industry_code",
            &self.industry_prefixes,
            |v| format!("{v}%"),
            "LIKE",
        );
        any_of(
            "departments",
            &self.departments,
            |v| format!("%,{v},%"),
            "LIKE",
        );
        any_of("risk", &self.risks, |v| v.to_string(), "=");
        any_of("status", &self.statuses, |v| v.to_string(), "=");
        if !self.name_contains.is_empty() {
            values.push(format!("%{}%", self.name_contains.replace(['%', '_'], "")));
            sql.push_str(&format!(" AND name LIKE ${}", values.len() + 1));
        }
        (sql, values)
    }
}

/// A page of targets after `after`, by id.
pub async fn list_targets(
    conn: &mut AnyConnection,
    query: &TargetQuery,
    after: &str,
    limit: i64,
) -> Result<Vec<(Target, i64)>, sqlx::Error> {
    let (clause, values) = query.clause();
    let sql = format!(
        "SELECT {} FROM targets WHERE id > $1{clause} ORDER BY id LIMIT ${}",
        TARGETS.import_columns(),
        values.len() + 2
    );
    let mut q = sqlx::query(AssertSqlSafe(sql)).bind(after.to_string());
    for v in values {
        q = q.bind(v);
    }
    let rows = q.bind(limit).fetch_all(conn).await?;
    rows.iter()
        .map(|r| Ok((target_from(r)?, r.try_get("updated_at")?)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::TargetQuery;

    #[test]
    fn literal_clauses_quote_their_values() {
        let q = TargetQuery {
            kinds: vec!["enterprise".into()],
            departments: vec!["X' OR '1'='1".into()],
            region_prefixes: vec!["6104".into()],
            ..Default::default()
        };
        assert_eq!(
            q.clause_literal(),
            " AND (kind = 'enterprise') AND (region_code LIKE '6104%') AND (departments LIKE '%,X'' OR ''1''=''1,%')"
        );
    }
}

/// A recusal request as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecusalRow {
    /// Id.
    pub id: String,
    /// Target.
    pub target_id: String,
    /// Inspector.
    pub inspector_id: String,
    /// Why the target asks.
    pub reason: String,
    /// State (stable name).
    pub state: String,
    /// Why it was decided so.
    pub decision_reason: String,
    /// Who recorded it.
    pub filed_by: String,
    /// When (epoch ms).
    pub filed_at: i64,
    /// Who decided.
    pub decided_by: String,
    /// When (epoch ms).
    pub decided_at: Option<i64>,
}

fn recusal_from(r: &sqlx::any::AnyRow) -> Result<RecusalRow, sqlx::Error> {
    Ok(RecusalRow {
        id: r.try_get("id")?,
        target_id: r.try_get("target_id")?,
        inspector_id: r.try_get("inspector_id")?,
        reason: r.try_get("reason")?,
        state: r.try_get("state")?,
        decision_reason: r.try_get("decision_reason")?,
        filed_by: r.try_get("filed_by")?,
        filed_at: r.try_get("filed_at")?,
        decided_by: r.try_get("decided_by")?,
        decided_at: r.try_get("decided_at")?,
    })
}

const RECUSAL_COLUMNS: &str = "id, target_id, inspector_id, reason, state, decision_reason, filed_by, filed_at, decided_by, decided_at";

/// Records a pending request.
pub async fn insert_recusal(conn: &mut AnyConnection, r: &RecusalRow) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO recusals (id, target_id, inspector_id, reason, state, filed_by, filed_at) \
         VALUES ($1, $2, $3, $4, 'pending', $5, $6)",
    )
    .bind(&r.id)
    .bind(&r.target_id)
    .bind(&r.inspector_id)
    .bind(&r.reason)
    .bind(&r.filed_by)
    .bind(r.filed_at)
    .execute(conn)
    .await?;
    Ok(())
}

/// One request.
pub async fn get_recusal(
    conn: &mut AnyConnection,
    id: &str,
) -> Result<Option<RecusalRow>, sqlx::Error> {
    let sql = format!("SELECT {RECUSAL_COLUMNS} FROM recusals WHERE id = $1");
    sqlx::query(AssertSqlSafe(sql))
        .bind(id)
        .fetch_optional(conn)
        .await?
        .as_ref()
        .map(recusal_from)
        .transpose()
}

/// Records a decision, if the request is still pending; false when it was not.
pub async fn decide_recusal(
    conn: &mut AnyConnection,
    id: &str,
    state: &str,
    reason: &str,
    by: &str,
    at: i64,
) -> Result<bool, sqlx::Error> {
    let n = sqlx::query(
        "UPDATE recusals SET state = $1, decision_reason = $2, decided_by = $3, decided_at = $4 \
         WHERE id = $5 AND state = 'pending'",
    )
    .bind(state)
    .bind(reason)
    .bind(by)
    .bind(at)
    .bind(id)
    .execute(conn)
    .await?
    .rows_affected();
    Ok(n == 1)
}

/// Requests by inspector, target and state (empty: any), oldest first.
pub async fn list_recusals(
    conn: &mut AnyConnection,
    inspector_id: &str,
    target_id: &str,
    state: &str,
    department: &str,
) -> Result<Vec<RecusalRow>, sqlx::Error> {
    let sql = format!(
        "SELECT {RECUSAL_COLUMNS} FROM recusals WHERE ($1 = '' OR inspector_id = $1) AND ($2 = '' OR target_id = $2) \
         AND ($3 = '' OR state = $3) \
         AND ($4 = '' OR inspector_id IN (SELECT id FROM inspectors WHERE department_code = $4)) \
         ORDER BY filed_at, id LIMIT 10000"
    );
    let rows = sqlx::query(AssertSqlSafe(sql))
        .bind(inspector_id)
        .bind(target_id)
        .bind(state)
        .bind(department)
        .fetch_all(conn)
        .await?;
    rows.iter().map(recusal_from).collect()
}

/// The department of an inspector, if the inspector exists.
pub async fn inspector_department(
    conn: &mut AnyConnection,
    id: &str,
) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar("SELECT department_code FROM inspectors WHERE id = $1")
        .bind(id)
        .fetch_optional(conn)
        .await
}

/// Inspector ids held by departments other than `department`, with their department: what that department's
/// import may not take over. A directory of inspectors is the staff of a province's departments, thousands of rows.
pub async fn inspectors_of_others(
    conn: &mut AnyConnection,
    department: &str,
) -> Result<HashMap<String, String>, sqlx::Error> {
    let rows =
        sqlx::query("SELECT id, department_code FROM inspectors WHERE department_code <> $1")
            .bind(department)
            .fetch_all(conn)
            .await?;
    rows.iter()
        .map(|r| Ok((r.try_get("id")?, r.try_get("department_code")?)))
        .collect()
}

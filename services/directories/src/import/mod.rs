//! Bulk import of targets: a CSV file (UTF-8 with or without BOM, or GB18030/GBK) is read as a stream, each
//! row checked, good rows upserted in batches, every rejected row reported with its line, column and reason.
//! Memory stays bounded whatever the file size: one batch in flight while the next is parsed. One thread reads
//! the file into raw rows, two threads check runs of them, and a third puts the checked runs back in
//! the file's order, so the rejections are reported in it.
//!
//! Accepted rows are committed chunk by chunk; a rejected row is never written. A second row with the same id
//! in one file is rejected, naming the line of the first.
//!
//! On PostgreSQL the rows are first sorted by id (an external sort: runs of [`Sizes::sort_run`] rows spilled to
//! temporary files, then merged), and written in that order by `COPY` straight into the table, so each index
//! is walked from start to end rather than page by random page, and the table lies in id order (a credit code
//! carries its region, so a district's targets lie together). Into an empty table, the rows go into a copy
//! without indexes that takes the table's place at the end ([`crate::first_load`]). On SQLite each batch is
//! upserted in key order.
//! A second row of an id is found in its batch as the rows are read (so that a short file's rejections come in
//! its order), and beyond the batch by the sort's merge or the upsert.

use std::collections::{HashMap, HashSet};
use std::io::Read;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use suiji_platform::messages::{Text, msg};

mod pipeline;
mod readers;
mod sort;
mod writers;

pub use pipeline::*;
pub use readers::*;
use sort::*;
use writers::*;

use encoding_rs::{Encoding, GB18030, UTF_8};
use suiji_platform::db::{Db, now_ms};
use suiji_platform::reference::Regions;
use tokio::io::AsyncRead;
use tokio::sync::mpsc;

use crate::domain::inspector::Inspector;
use crate::domain::target::{Checks, FieldError, Layout, Scope, Target, parse_row};
use crate::store::{self, BatchOutcome, Staged};

/// Rows checked and handed on together (on SQLite, written per transaction).
pub const BATCH: usize = 20_000;
/// How an import on PostgreSQL cuts its work: rows per sorted run and per written chunk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sizes {
    /// Rows sorted in memory before they are spilled to a run on disk.
    pub sort_run: usize,
    /// Rows in key order written per transaction.
    pub chunk: u64,
}

impl Default for Sizes {
    fn default() -> Self {
        Self {
            sort_run: 200_000,
            chunk: 50_000,
        }
    }
}

/// Connections that write chunks at once on PostgreSQL.
pub const WRITERS: usize = 2;
/// Rejections listed one by one; beyond this they are only counted.
pub const MAX_LISTED: u64 = 10_000;
/// A row that was not imported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    /// Where the row starts as the file is shown: the line of a CSV file (1 is the header; LF, CRLF and lone CR
    /// each end a line), the row number of an XLSX sheet.
    pub line: u64,
    /// Column, empty for the whole row.
    pub field: String,
    /// The column's letters as a spreadsheet shows them (`B`), empty for the whole row or a column the file
    /// lacks.
    pub column: String,
    /// Why, worded when shown.
    pub reason: Text,
}

/// What an import reports while it runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Report {
    /// Counts so far.
    Progress {
        rows_read: u64,
        accepted: u64,
        rejected: u64,
    },
    /// A rejected row.
    Rejected(Rejection),
}

/// The outcome.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Summary {
    /// Data rows read.
    pub rows_read: u64,
    /// Rows committed.
    pub accepted: u64,
    /// Rows refused.
    pub rejected: u64,
    /// Of the accepted, new targets.
    pub created: u64,
    /// Rejections listed individually.
    pub listed: u64,
    /// The import's id.
    pub import_id: String,
    /// Time the busiest writer spent writing, in milliseconds (on SQLite reading and checking rows overlap
    /// with it; on PostgreSQL the writing begins once every row is read and sorted).
    pub write_ms: u64,
    /// The digest of the rows it replaced, with who had written them and their digests
    /// ([`crate::changes`]).
    pub before_digest: String,
    /// The digest of the rows it wrote.
    pub after_digest: String,
}

/// Why an import could not run at all.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// The database failed; what was already committed stays.
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    /// Reading the upload failed.
    #[error("reading the file: {0}")]
    Io(String),
}

/// A kind of record an import brings in: targets or inspectors.
pub trait Record: Sized + Send + Sync + 'static {
    /// What is imported, as the import log names it.
    const WHAT: &'static str;
    /// The event that announces an import of these.
    type Imported: suiji_api::topics::Topic<Payload = suiji_api::directories::v1::ImportedEvent>;
    /// Whether each department imports its own records (inspectors), rather than the departments that keep the
    /// directory importing everyone's (targets).
    const OWN_RECORDS: bool;
    /// Reads a file's header.
    fn layout(header: &[&str]) -> Result<Layout, Text>;
    /// Checks one row.
    fn parse(layout: &Layout, row: &[&str], checks: &Checks<'_>) -> Result<Self, Vec<FieldError>>;
    /// The key rows are upserted by.
    fn id(&self) -> &str;
    /// The table it is written to.
    const TABLE: &'static store::Table;
    /// Its values in the table's column order.
    fn values(&self) -> Vec<store::Value<'_>>;
}

impl Record for Target {
    const WHAT: &'static str = "targets";
    type Imported = suiji_api::topics::TargetsImported;
    const OWN_RECORDS: bool = false;

    fn layout(header: &[&str]) -> Result<Layout, Text> {
        crate::domain::target::layout(header)
    }

    fn parse(layout: &Layout, row: &[&str], checks: &Checks<'_>) -> Result<Self, Vec<FieldError>> {
        parse_row(layout, row, checks)
    }

    fn id(&self) -> &str {
        &self.id
    }

    const TABLE: &'static store::Table = &store::TARGETS;

    fn values(&self) -> Vec<store::Value<'_>> {
        store::target_values(self)
    }
}

impl Record for Inspector {
    const WHAT: &'static str = "inspectors";
    type Imported = suiji_api::topics::InspectorsImported;
    const OWN_RECORDS: bool = true;

    fn layout(header: &[&str]) -> Result<Layout, Text> {
        crate::domain::inspector::layout(header)
    }

    fn parse(layout: &Layout, row: &[&str], checks: &Checks<'_>) -> Result<Self, Vec<FieldError>> {
        crate::domain::inspector::parse_row(layout, row, checks)
    }

    fn id(&self) -> &str {
        &self.id
    }

    const TABLE: &'static store::Table = &store::INSPECTORS;

    fn values(&self) -> Vec<store::Value<'_>> {
        store::inspector_values(self)
    }
}

/// Imports records of kind `R` (targets or inspectors) from `source` into `db` for `actor`, whose import may
/// write anything, sending progress and rejections to `reports`.
pub async fn import_all<R: Record>(
    db: &Db,
    actor: &str,
    file_name: &str,
    format: Format,
    source: impl AsyncRead + Send + Unpin + 'static,
    reports: mpsc::Sender<Report>,
) -> Result<Summary, ImportError> {
    let actor = Actor {
        subject: actor,
        scope: None,
    };
    import::<R>(
        db,
        actor,
        file_name,
        format,
        source,
        reports,
        Sizes::default(),
    )
    .await
}

/// Who imports: the person, and what their department's import may write (`None`: anything, for an
/// administrator).
pub struct Actor<'a> {
    /// The person (`sub`), as the import log names them.
    pub subject: &'a str,
    /// What the rows may write.
    pub scope: Option<Scope>,
}

/// Imports records of kind `R` from `source` into `db`, cutting the work by `sizes` on PostgreSQL.
pub async fn import<R: Record>(
    db: &Db,
    actor: Actor<'_>,
    file_name: &str,
    format: Format,
    source: impl AsyncRead + Send + Unpin + 'static,
    reports: mpsc::Sender<Report>,
    sizes: Sizes,
) -> Result<Summary, ImportError> {
    let import_id = uuid::Uuid::now_v7().to_string();
    let departments: HashSet<String> = {
        let mut conn = db.pool().acquire().await?;
        let codes = suiji_platform::departments::codes(&mut conn).await?;
        store::begin_import(
            &mut conn,
            &import_id,
            R::WHAT,
            file_name,
            actor.subject,
            now_ms(),
        )
        .await?;
        codes.into_iter().collect()
    };
    let counters = Arc::new(Counters::default());
    let bridge = tokio_util::io::SyncIoBridge::new(source);
    let reader = Reader {
        format,
        departments,
        scope: actor.scope,
        counters: counters.clone(),
        reports: reports.clone(),
    };
    // PostgreSQL: sorted on disk, then written by several connections at once. SQLite has one writer.
    let now = now_ms();
    let mut first_load = None;
    let (parser, tasks, sorter) = if let Some(pg) = db.postgres() {
        first_load = crate::first_load::begin(pg, R::TABLE).await?;
        let into = first_load.as_ref().map(|load| load.into.clone());
        let (sender, batches) = mpsc::channel(1);
        let stamp = import_id.clone();
        let parser = reader.spawn(bridge, sender, move |staged: Staged<R>| {
            SortRow::of(staged, &stamp, now)
        });
        let (chunks, queue) = mpsc::channel::<store::Chunk>(WRITERS);
        let queue = Arc::new(tokio::sync::Mutex::new(queue));
        let sorter = {
            let (counters, reports) = (counters.clone(), reports.clone());
            tokio::task::spawn_blocking(move || {
                sort_rows(batches, chunks, sizes, &counters, &reports)
            })
        };
        let tasks: Vec<_> = (0..WRITERS)
            .map(|_| {
                tokio::spawn(write_chunks::<R>(
                    pg.clone(),
                    queue.clone(),
                    now,
                    into.clone(),
                    counters.clone(),
                    reports.clone(),
                ))
            })
            .collect();
        (parser, tasks, Some(sorter))
    } else {
        let (sender, batches) = mpsc::channel(1);
        let parser = reader.spawn(bridge, sender, |staged: Staged<R>| staged);
        let task = tokio::spawn(write_batches::<R>(
            db.clone(),
            import_id.clone(),
            batches,
            counters.clone(),
            reports.clone(),
        ));
        (parser, vec![task], None)
    };
    let mut accepted = 0u64;
    let mut created = 0u64;
    let mut write_time = std::time::Duration::ZERO;
    for task in tasks {
        let written = task.await.map_err(|e| ImportError::Io(e.to_string()))??;
        accepted += written.accepted;
        created += written.created;
        write_time = write_time.max(written.time);
    }
    let mut after_digest = None;
    if let Some(sorter) = sorter {
        after_digest = Some(sorter.await.map_err(|e| ImportError::Io(e.to_string()))??);
    }
    parser.await.map_err(|e| ImportError::Io(e.to_string()))??;
    // A first load's copy is vacuumed before its indexes are built, and analysed once in place.
    let mut vacuumed = false;
    if let (Some(load), Some(pg)) = (first_load, db.postgres()) {
        let started = std::time::Instant::now();
        match load.finish(pg, accepted, now).await? {
            Some(merged) => {
                accepted = merged.created + merged.updated;
                created = merged.created;
            }
            None => vacuumed = true,
        }
        write_time += started.elapsed();
    }
    if let Some(pg) = db.postgres()
        && !vacuumed
    {
        use sqlx::Executor;
        if R::WHAT == "targets" && accepted >= VACUUM_AFTER {
            // Sets the hint bits and the visibility map now rather than on the first snapshots, and refreshes the
            // planner's statistics.
            pg.execute("VACUUM (ANALYZE) targets").await?;
        } else if R::WHAT == "inspectors" && accepted > 0 {
            // The planner's statistics at once (a few thousand rows, milliseconds): an inspector list joins the
            // workload ledger, and taken for a handful of rows the inspectors were joined by a nested loop, every
            // inspector compared with every pending change (12 ms for three departments' 180 inspectors).
            pg.execute("ANALYZE inspectors").await?;
        }
    }
    // What it wrote: on PostgreSQL as the sorted rows were handed out; on SQLite read back.
    let after_digest = match after_digest {
        Some(digest) => digest,
        None => crate::changes::written_digest(db, R::TABLE, &import_id).await?,
    };
    let summary = Summary {
        before_digest: crate::changes::replaced_digest(db, &import_id).await?,
        after_digest,
        rows_read: counters.rows_read.load(Ordering::Relaxed),
        accepted,
        rejected: counters.rejected.load(Ordering::Relaxed),
        created,
        listed: counters.listed.load(Ordering::Relaxed).min(MAX_LISTED),
        import_id: import_id.clone(),
        write_ms: write_time.as_millis() as u64,
    };
    let mut conn = db.pool().acquire().await?;
    store::finish_import(
        &mut conn,
        &import_id,
        [
            summary.rows_read,
            summary.accepted,
            summary.rejected,
            summary.created,
        ],
        now_ms(),
    )
    .await?;
    Ok(summary)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodings_are_told_apart() {
        assert_eq!(sniff_encoding("名称,类型".as_bytes()), UTF_8);
        assert_eq!(sniff_encoding(b"\xef\xbb\xbfname"), UTF_8);
        let (gbk, _, _) = GB18030.encode("名称,类型");
        assert_eq!(sniff_encoding(&gbk), GB18030);
        let cut = &"名称".as_bytes()[..4];
        assert_eq!(
            sniff_encoding(cut),
            UTF_8,
            "a character cut by the sample boundary"
        );
    }
}

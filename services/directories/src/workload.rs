//! Inspectors' workloads (open assignments), kept as a ledger: each event appends one change per inspector
//! ([`record`]), a background task folds the changes into the inspectors' rows ([`fold`], [`run`]), and a workload
//! is read as the row's value plus the changes not yet folded ([`CURRENT`], [`PENDING_WITH`]). Concurrent events thus never wait on
//! one another's row locks, however many teams name the same inspector.
//!
//! Changes are summed, not clamped one by one, so the order events arrive in does not matter; a workload that
//! would read below zero (a release of assignments never counted) reads as zero.

use std::collections::BTreeMap;
use std::time::Duration;

use sqlx::AssertSqlSafe;
use suiji_platform::db::{Db, Dialect, Tx, integer_list, values_list};
use tokio_util::sync::CancellationToken;

/// The changes not yet folded, per inspector, summed once per query (`pending`; `MATERIALIZED`, so the planner
/// cannot sum the ledger again for every inspector it joins, as it did when the ledger was just folded and looked
/// empty to it). Goes before the `SELECT` that joins it with [`PENDING_JOIN`].
pub const PENDING_WITH: &str = "WITH pending AS MATERIALIZED (SELECT inspector_id, SUM(delta) AS pending \
     FROM workload_changes GROUP BY inspector_id) ";

/// The changes not yet folded joined to `inspectors`, from [`PENDING_WITH`].
pub const PENDING_JOIN: &str = "LEFT JOIN pending ON pending.inspector_id = inspectors.id";

/// An inspector's current workload, as a column expression over `inspectors` [`PENDING_JOIN`]ed.
pub const CURRENT: &str = "CAST(CASE WHEN workload + COALESCE(pending.pending, 0) < 0 THEN 0 \
     ELSE workload + COALESCE(pending.pending, 0) END AS BIGINT)";

/// Changes folded per transaction.
const FOLD_BATCH: i64 = 10_000;
/// How often the folder looks for changes: every inspector list sums what is not folded yet, so the ledger is
/// kept to what a fraction of a second brings.
pub const FOLD_EVERY: Duration = Duration::from_millis(250);
/// Rows of changes per `INSERT`.
const INSERT_ROWS: usize = 500;

/// Appends `changes` (inspector → change in open assignments) inside `tx`; zero changes are left out.
pub async fn record(tx: &mut Tx, changes: BTreeMap<String, i64>) -> Result<(), sqlx::Error> {
    let changes: Vec<(String, i64)> = changes.into_iter().filter(|(_, d)| *d != 0).collect();
    for rows in changes.chunks(INSERT_ROWS) {
        let mut insert = sqlx::query(AssertSqlSafe(format!(
            "INSERT INTO workload_changes (inspector_id, delta) VALUES {}",
            values_list(rows.len(), 2)
        )));
        for (inspector, delta) in rows {
            insert = insert.bind(inspector).bind(*delta);
        }
        insert.execute(&mut **tx).await?;
    }
    Ok(())
}

/// Adds up to one batch of changes to the inspectors' rows and deletes them, at once; returns how many were
/// folded. On PostgreSQL one statement, and concurrent folds (several replicas) take disjoint changes.
pub async fn fold(db: &Db) -> Result<usize, sqlx::Error> {
    match db.dialect() {
        Dialect::Postgres => {
            // The changes taken are deleted and their sums added in the same statement; the inspectors' rows
            // are locked in id order first, so two folds never wait on each other in a cycle. The changes are
            // taken as a range of `seq` (the oldest batch): a change committed after the statement began is not
            // seen and stays for the next fold, and a change a concurrent fold deleted first is not returned here
            // (its `DELETE` waits for that fold and then skips the row), so no change is added twice. A range is a
            // filter, not a join: joined with a list of the rows, the planner took the ledger for empty just after
            // a fold and scanned it once per change taken.
            let folded: i64 = sqlx::query_scalar(AssertSqlSafe(format!(
                "WITH taken AS (DELETE FROM workload_changes WHERE seq <= COALESCE( \
                     (SELECT seq FROM workload_changes ORDER BY seq OFFSET {} LIMIT 1), \
                     (SELECT MAX(seq) FROM workload_changes)) \
                     RETURNING inspector_id, delta), \
                 sums AS (SELECT inspector_id, SUM(delta) AS delta FROM taken GROUP BY inspector_id), \
                 locked AS (SELECT id FROM inspectors WHERE id IN (SELECT inspector_id FROM sums) \
                     ORDER BY id FOR UPDATE), \
                 added AS (UPDATE inspectors SET workload = workload + sums.delta FROM sums \
                     WHERE inspectors.id = sums.inspector_id AND inspectors.id IN (SELECT id FROM locked)) \
                 SELECT COUNT(*) FROM taken",
                FOLD_BATCH - 1
            )))
            .fetch_one(db.pool())
            .await?;
            Ok(folded as usize)
        }
        Dialect::Sqlite => {
            // Most rounds find nothing: a read says so without taking SQLite's write lock (on PostgreSQL the
            // fold's own statement finds nothing as cheaply).
            let any: Option<i64> = sqlx::query_scalar("SELECT seq FROM workload_changes LIMIT 1")
                .fetch_optional(db.pool())
                .await?;
            if any.is_none() {
                return Ok(0);
            }
            let mut tx = db.begin().await?;
            let rows: Vec<(i64, String, i64)> = sqlx::query_as(AssertSqlSafe(format!(
                "SELECT seq, inspector_id, delta FROM workload_changes ORDER BY seq LIMIT {FOLD_BATCH}"
            )))
            .fetch_all(&mut *tx)
            .await?;
            if rows.is_empty() {
                return Ok(0);
            }
            let mut sums: BTreeMap<&str, i64> = BTreeMap::new();
            for (_, inspector, delta) in &rows {
                *sums.entry(inspector).or_default() += delta;
            }
            for (inspector, sum) in sums {
                sqlx::query("UPDATE inspectors SET workload = workload + $1 WHERE id = $2")
                    .bind(sum)
                    .bind(inspector)
                    .execute(&mut *tx)
                    .await?;
            }
            // Exactly the rows read (SQLite has one writer, but the same rule as on PostgreSQL).
            let seqs: Vec<i64> = rows.iter().map(|(seq, _, _)| *seq).collect();
            sqlx::query(AssertSqlSafe(format!(
                "DELETE FROM workload_changes WHERE seq IN ({})",
                integer_list(&seqs)
            )))
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            Ok(rows.len())
        }
    }
}

/// Every inspector's workload added up, folded or not (for checks and tests).
pub async fn total(db: &Db) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT CAST((SELECT COALESCE(SUM(workload), 0) FROM inspectors) \
         + (SELECT COALESCE(SUM(delta), 0) FROM workload_changes) AS BIGINT)",
    )
    .fetch_one(db.pool())
    .await
}

/// Vacuums the ledger (PostgreSQL). Every inspector list reads the whole ledger ([`PENDING_JOIN`]): the rows a
/// fold deleted must not stay behind as dead tuples for each of those reads to step over until autovacuum comes
/// round (a minute by default, by which time a busy ledger of two thousand live rows has forty thousand dead).
pub async fn vacuum(db: &Db) -> Result<(), sqlx::Error> {
    if let Some(pg) = db.postgres() {
        // Not truncated: the ledger's pages are filled again within the second, and giving them back waits for
        // an exclusive lock (tens of milliseconds a vacuum, with changes arriving). Analysed: the lists join the
        // ledger's sums, and the planner sizes that join by these statistics.
        sqlx::raw_sql("VACUUM (SKIP_LOCKED, TRUNCATE false, ANALYZE) workload_changes")
            .execute(pg)
            .await?;
    }
    Ok(())
}

/// The least time between two vacuums of the ledger: a vacuum costs a few milliseconds, the dead rows a few
/// seconds of folds leave behind cost the lists next to nothing.
const VACUUM_EVERY: Duration = Duration::from_secs(2);

/// Folds changes every `every` until `shutdown` (at once again while full batches come back), vacuuming the
/// ledger after a fold that emptied some of it, at most every [`VACUUM_EVERY`].
pub async fn run(db: Db, every: Duration, shutdown: CancellationToken) {
    let mut vacuumed = std::time::Instant::now();
    loop {
        let folded = fold(&db).await;
        if let Ok(n) = folded
            && n > 0
            && vacuumed.elapsed() >= VACUUM_EVERY
        {
            vacuumed = std::time::Instant::now();
            if let Err(error) = vacuum(&db).await {
                tracing::warn!(%error, "vacuuming the workload ledger failed");
            }
        }
        match folded {
            Ok(n) if n as i64 == FOLD_BATCH => continue,
            Ok(_) => {}
            Err(error) => tracing::warn!(%error, "folding workload changes failed; trying again"),
        }
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = tokio::time::sleep(every) => {}
        }
    }
}

//! Writing accepted rows: batches upserted in key order (SQLite), or sorted chunks written by `COPY` by two writers
//! (PostgreSQL); each chunk committed on its own.

use super::*;

/// Accepted rows after which a PostgreSQL import vacuums the table.
pub(super) const VACUUM_AFTER: u64 = 100_000;

/// Writes a batch whose ids are unique, in one transaction, by multi-row upserts (the SQLite path).
pub(super) async fn write_batch<R: Record>(
    db: &Db,
    import_id: &str,
    batch: &[Staged<R>],
) -> Result<BatchOutcome, sqlx::Error> {
    let rows: Vec<(u64, Vec<store::Value>)> =
        batch.iter().map(|s| (s.line, s.record.values())).collect();
    let mut tx = db.begin().await?;
    let outcome = store::upsert_rows(&mut tx, R::TABLE, import_id, &rows, now_ms()).await?;
    let ids = batch.iter().map(|s| s.record.id());
    if let (true, Some(lo), Some(hi)) = (R::TABLE.segmented, ids.clone().min(), ids.max()) {
        crate::segments::touch(&mut tx, lo, hi).await?;
    }
    tx.commit().await?;
    Ok(outcome)
}

/// Why a second row of an id is refused.
pub(super) fn duplicate(first: u64, id: &str) -> Text {
    msg("import-duplicate").arg("first", first).arg("id", id)
}

/// What one writer did.
#[derive(Default)]
pub(super) struct Written {
    pub(super) accepted: u64,
    pub(super) created: u64,
    pub(super) time: std::time::Duration,
}

/// Counts what a write did and reports its duplicates.
pub(super) async fn tally(
    outcome: BatchOutcome,
    written: &mut Written,
    counters: &Counters,
    reports: &mpsc::Sender<Report>,
) {
    written.accepted += outcome.created + outcome.updated;
    written.created += outcome.created;
    counters
        .accepted
        .fetch_add(outcome.created + outcome.updated, Ordering::Relaxed);
    counters
        .rejected
        .fetch_add(outcome.unlisted_duplicates, Ordering::Relaxed);
    for (line, id, first) in outcome.duplicates {
        counters.rejected.fetch_add(1, Ordering::Relaxed);
        if counters.listed.fetch_add(1, Ordering::Relaxed) < MAX_LISTED {
            let reason = duplicate(first, &id);
            let _ = reports
                .send(Report::Rejected(counters.rejection(line, "id", reason)))
                .await;
        }
    }
}

/// Writes the batches on SQLite, each upserted in its own transaction, in key order.
pub(super) async fn write_batches<R: Record>(
    db: Db,
    import_id: String,
    mut batches: mpsc::Receiver<Vec<Staged<R>>>,
    counters: Arc<Counters>,
    reports: mpsc::Sender<Report>,
) -> Result<Written, ImportError> {
    let mut written = Written::default();
    while let Some(mut batch) = batches.recv().await {
        let started = std::time::Instant::now();
        // Keys in order touch the primary-key index page by page rather than at random.
        batch.sort_unstable_by(|a, b| a.record.id().cmp(b.record.id()));
        let outcome = write_batch::<R>(&db, &import_id, &batch).await?;
        written.time += started.elapsed();
        tally(outcome, &mut written, &counters, &reports).await;
        let _ = reports.send(counters.progress()).await;
    }
    Ok(written)
}

/// Writes chunks of rows in key order on one PostgreSQL connection, each in its own transaction.
pub(super) async fn write_chunks<R: Record>(
    pg: sqlx::PgPool,
    chunks: Arc<tokio::sync::Mutex<mpsc::Receiver<store::Chunk>>>,
    now: i64,
    into: Option<String>,
    counters: Arc<Counters>,
    reports: mpsc::Sender<Report>,
) -> Result<Written, ImportError> {
    let mut written = Written::default();
    let mut conn = pg.acquire().await?;
    loop {
        // The next chunk, whichever writer is free.
        let Some(chunk) = chunks.lock().await.recv().await else {
            break;
        };
        let started = std::time::Instant::now();
        let outcome = store::write_chunk(&mut conn, R::TABLE, &chunk, now, into.as_deref()).await?;
        written.time += started.elapsed();
        tally(outcome, &mut written, &counters, &reports).await;
        let _ = reports.send(counters.progress()).await;
    }
    Ok(written)
}

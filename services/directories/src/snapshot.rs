//! Snapshots: the sorted ids of the targets matching a filter, frozen for a draw, with their SHA-256 digest
//! and counts per risk level. The digest is `SHA-256(id₁ ‖ "\n" ‖ id₂ ‖ "\n" ‖ …)` over the ids in ascending
//! byte order, so anyone holding the id list can recompute it.

use std::collections::BTreeMap;

use futures::TryStreamExt;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use sqlx::{AssertSqlSafe, Row};
use suiji_platform::db::{Db, Tx, now_ms};
use tokio::sync::mpsc;

use crate::domain::history::{Exclusions, Rules};
use crate::domain::target::Risk;
use crate::segments;
use crate::store::{self, InspectorQuery, TargetQuery};

/// Bytes of ids per stored chunk.
const CHUNK: usize = 1 << 20;
/// Region prefixes at least this long (a city, a district) are read through the region index.
const NARROW_REGION: usize = 4;

/// A snapshot's description.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SnapshotInfo {
    /// Id.
    pub id: String,
    /// SHA-256 of the newline-terminated ids, hex.
    pub digest: String,
    /// Number of ids.
    pub count: u64,
    /// Ids per risk level.
    pub strata: BTreeMap<String, u64>,
    /// The filter, as JSON.
    pub filter: String,
    /// When it was made (epoch ms).
    pub created_at: i64,
    /// Holders that keep it readable.
    pub pinned_by: Vec<String>,
    /// Targets the filter matched that the exclusions removed, per rule.
    pub excluded: BTreeMap<String, u64>,
}

/// A chunk on its way to the table: number, newline-terminated ids, one risk byte per id (targets only).
type Chunk = (i64, Vec<u8>, Vec<u8>);

/// Collects ids in order: digests them, counts them per risk level, and hands full chunks to the writer, which
/// stores them while the next chunk is read.
struct Sink {
    hasher: Sha256,
    /// Ids per stratum; a handful of levels, so a list beats a map.
    strata: Vec<(String, u64)>,
    count: u64,
    chunk: Vec<u8>,
    /// One risk byte per id of `chunk` (target snapshots).
    risks: Vec<u8>,
    chunk_no: i64,
    exclusions: Exclusions,
    excluded: BTreeMap<String, u64>,
    writer: mpsc::Sender<Chunk>,
}

impl Sink {
    async fn push(&mut self, target: &[u8], risk: &str) -> Result<(), Closed> {
        let level = Risk::parse(risk);
        if let Some(level) = level
            && !self.exclusions.is_empty()
            && let Some(rule) = self
                .exclusions
                .rule_for(std::str::from_utf8(target).unwrap_or_default(), level)
        {
            *self.excluded.entry(rule.as_str().to_string()).or_default() += 1;
            return Ok(());
        }
        self.chunk.extend_from_slice(target);
        self.chunk.push(b'\n');
        if !risk.is_empty() {
            self.risks.push(level.map_or(0, Risk::code));
        }
        match self.strata.iter_mut().find(|(name, _)| name == risk) {
            Some((_, n)) => *n += 1,
            None => self.strata.push((risk.to_string(), 1)),
        }
        self.count += 1;
        if self.chunk.len() >= CHUNK {
            self.flush().await?;
        }
        Ok(())
    }

    async fn flush(&mut self) -> Result<(), Closed> {
        if self.chunk.is_empty() {
            return Ok(());
        }
        self.hasher.update(&self.chunk);
        let ids = std::mem::replace(&mut self.chunk, Vec::with_capacity(CHUNK + 128));
        let risks = std::mem::take(&mut self.risks);
        self.writer
            .send((self.chunk_no, ids, risks))
            .await
            .map_err(|_| Closed)?;
        self.chunk_no += 1;
        Ok(())
    }
}

/// A stored risk level as its stable name (the stratum).
fn stratum_name(risk: &[u8]) -> &'static str {
    std::str::from_utf8(risk)
        .ok()
        .and_then(Risk::parse)
        .map_or("", Risk::as_str)
}

/// The chunk writer stopped (its error is what the snapshot reports).
struct Closed;

/// Stores chunks as they come, in the snapshot's transaction, and hands the transaction back at the end.
async fn write_chunks(
    mut tx: Tx,
    id: String,
    mut chunks: mpsc::Receiver<Chunk>,
) -> Result<Tx, sqlx::Error> {
    while let Some((n, ids, risks)) = chunks.recv().await {
        store_chunk(&mut tx, &id, n, &ids, &risks).await?;
    }
    Ok(tx)
}

/// Where a snapshot's `(id, stratum)` rows come from, in ascending id order.
enum Source {
    /// A `COPY (…) TO STDOUT` on PostgreSQL's native pool, tab-separated.
    Copy(String),
    /// A query through `Any` with bound text values.
    Select(String, Vec<String>),
    /// The packed segments (`crate::segments`), filtered here.
    Segments(TargetQuery),
}

/// Freezes the targets matching `query` that `rules` do not remove; strata are risk levels.
pub async fn create(
    db: &Db,
    actor: &str,
    query: &TargetQuery,
    rules: &Rules,
) -> Result<SnapshotInfo, sqlx::Error> {
    let exclusions = crate::history::exclusions(db, rules).await?;
    // A district's or a city's targets are read through the region index; wider scopes from the segments,
    // brought up to date first.
    let narrow = (!query.region_prefixes.is_empty()
        && query
            .region_prefixes
            .iter()
            .all(|p| p.len() >= NARROW_REGION))
        || !query.name_contains.is_empty();
    let source = if !narrow {
        segments::refresh(db).await?;
        Source::Segments(query.clone())
    } else if db.postgres().is_some() {
        // An index-only scan of the region index, sorted by id.
        Source::Copy(format!(
            "COPY (SELECT id, risk FROM targets WHERE true{} ORDER BY id) TO STDOUT",
            query.clause_literal()
        ))
    } else {
        let (clause, mut values) = query.clause();
        values.insert(0, String::new());
        Source::Select(
            format!("SELECT id, risk FROM targets WHERE id >= $1{clause} ORDER BY id"),
            values,
        )
    };
    let filter = serde_json::json!({ "query": query, "exclusions": rules }).to_string();
    freeze(db, actor, "targets", filter, source, exclusions).await
}

/// Freezes the inspectors matching `query` (eligible on its day, when it names one); no strata.
pub async fn create_inspectors(
    db: &Db,
    actor: &str,
    query: &InspectorQuery,
) -> Result<SnapshotInfo, sqlx::Error> {
    let sql = "SELECT id, '' AS stratum FROM inspectors WHERE ($1 = '' OR department_code = $1) \
               AND ($2 = '' OR qualifications LIKE $3) AND ($4 = '' OR (status = 'active' AND certificate_expires >= $4)) \
               ORDER BY id";
    let values = vec![
        query.department_code.clone(),
        query.qualification.clone(),
        format!("%,{},%", query.qualification),
        query.eligible_on.clone().unwrap_or_default(),
    ];
    let filter = serde_json::json!({
        "department_code": query.department_code,
        "qualification": query.qualification,
        "eligible_on": query.eligible_on,
    })
    .to_string();
    freeze(
        db,
        actor,
        "inspectors",
        filter,
        Source::Select(sql.into(), values),
        Exclusions::default(),
    )
    .await
}

/// Reads `source`, digests and stores the ids, and records the snapshot, in one transaction.
async fn freeze(
    db: &Db,
    actor: &str,
    what: &str,
    filter: String,
    source: Source,
    exclusions: Exclusions,
) -> Result<SnapshotInfo, sqlx::Error> {
    let id = uuid::Uuid::now_v7().to_string();
    let mut tx = db.begin().await?;
    sqlx::query(
        "INSERT INTO snapshots (id, what, filter, digest, count, strata, created_at, created_by) \
         VALUES ($1, $2, $3, '', 0, '{}', $4, $5)",
    )
    .bind(&id)
    .bind(what)
    .bind(&filter)
    .bind(now_ms())
    .bind(actor)
    .execute(&mut *tx)
    .await?;
    // Reading and storing overlap: the writer owns the transaction while this task reads and digests.
    let (chunks, received) = mpsc::channel(4);
    let writer = tokio::spawn(write_chunks(tx, id.clone(), received));
    let mut sink = Sink {
        hasher: Sha256::new(),
        strata: Vec::new(),
        count: 0,
        chunk: Vec::with_capacity(CHUNK + 128),
        risks: Vec::new(),
        chunk_no: 0,
        exclusions,
        excluded: BTreeMap::new(),
        writer: chunks,
    };
    let read = read_source(db, source, &mut sink).await;
    let Sink {
        hasher,
        strata,
        count,
        excluded,
        writer: chunks,
        ..
    } = sink;
    drop(chunks);
    let written = writer
        .await
        .map_err(|e| sqlx::Error::Protocol(format!("the snapshot writer failed: {e}")))?;
    // A failed write explains a closed channel, so it is reported first.
    let mut tx = written?;
    read?;
    let strata: BTreeMap<String, u64> = strata.into_iter().filter(|(s, _)| !s.is_empty()).collect();
    let digest = hex::encode(hasher.finalize());
    let strata_json = serde_json::to_string(&strata).unwrap_or_default();
    sqlx::query(
        "UPDATE snapshots SET digest = $1, count = $2, strata = $3, excluded = $4 WHERE id = $5",
    )
    .bind(&digest)
    .bind(count as i64)
    .bind(&strata_json)
    .bind(serde_json::to_string(&excluded).unwrap_or_default())
    .bind(&id)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(SnapshotInfo {
        id,
        digest,
        count,
        strata,
        filter,
        created_at: now_ms(),
        pinned_by: Vec::new(),
        excluded,
    })
}

/// Reads `source` into `sink` in id order, then flushes its last chunk. `Ok` with the writer gone means the
/// writer's own error is the one to report.
async fn read_source(db: &Db, source: Source, sink: &mut Sink) -> Result<(), sqlx::Error> {
    let pushed = match source {
        Source::Copy(sql) => {
            let pg = db.postgres().expect("COPY only on PostgreSQL");
            let mut tx = pg.begin().await?;
            // A district's ids are sorted in memory: with the default 4 MB, 90,000 of them spilled to disk.
            sqlx::Executor::execute(&mut *tx, "SET LOCAL work_mem = '64MB'").await?;
            let mut copy = store::CopyLines::new(tx.copy_out_raw(&sql).await?);
            'read: loop {
                let Some(block) = copy.next().await? else {
                    break Ok(());
                };
                for line in store::lines(&block) {
                    let tab = line.iter().position(|b| *b == b'\t').unwrap_or(line.len());
                    let stratum =
                        std::str::from_utf8(line.get(tab + 1..).unwrap_or_default()).unwrap_or("");
                    if let Err(closed) = sink.push(&line[..tab], stratum).await {
                        break 'read Err(closed);
                    }
                }
            }
        }
        Source::Segments(query) => {
            // The next segments are fetched while this one is filtered.
            let (fetched, mut segments) = mpsc::channel::<Result<Vec<u8>, sqlx::Error>>(2);
            let pool = db.pool().clone();
            let fetcher = tokio::spawn(async move {
                let mut rows =
                    sqlx::query("SELECT data FROM target_segments ORDER BY lo").fetch(&pool);
                loop {
                    let next = match rows.try_next().await {
                        Ok(Some(row)) => row.try_get::<Vec<u8>, _>(0),
                        Ok(None) => return,
                        Err(e) => Err(e),
                    };
                    let failed = next.is_err();
                    if fetched.send(next).await.is_err() || failed {
                        return;
                    }
                }
            });
            let mut ids: Vec<u8> = Vec::new();
            let mut matched: Vec<(usize, &'static str)> = Vec::new();
            let read = 'segments: loop {
                let Some(data) = segments.recv().await else {
                    break Ok(());
                };
                let data = data?;
                ids.clear();
                matched.clear();
                let segment = segments::Segment::parse(&data)?;
                let strata: Vec<&'static str> = segment
                    .risk_levels()
                    .iter()
                    .map(|r| stratum_name(r))
                    .collect();
                segment.matching(&query, |id, risk| {
                    ids.extend_from_slice(id);
                    matched.push((ids.len(), strata[risk]));
                    Ok(())
                })?;
                let mut at = 0;
                for (end, risk) in &matched {
                    if let Err(closed) = sink.push(&ids[at..*end], risk).await {
                        break 'segments Err(closed);
                    }
                    at = *end;
                }
            };
            fetcher.abort();
            read
        }
        Source::Select(sql, values) => {
            let mut reader = db.pool().acquire().await?;
            let mut q = sqlx::query(AssertSqlSafe(sql));
            for v in values {
                q = q.bind(v);
            }
            let mut rows = q.fetch(&mut *reader);
            loop {
                let Some(row) = rows.try_next().await? else {
                    break Ok(());
                };
                let record: String = row.try_get(0)?;
                let stratum: String = row.try_get(1)?;
                if let Err(closed) = sink.push(record.as_bytes(), &stratum).await {
                    break Err(closed);
                }
            }
        }
    };
    if pushed.is_ok() {
        let _ = sink.flush().await;
    }
    Ok(())
}

async fn store_chunk(
    tx: &mut Tx,
    id: &str,
    chunk_no: i64,
    ids: &[u8],
    risks: &[u8],
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO snapshot_chunks (snapshot_id, chunk, ids, risk_levels) VALUES ($1, $2, $3, $4)",
    )
    .bind(id)
    .bind(chunk_no)
    .bind(segments::pack_ids(ids))
    .bind(risks.to_vec())
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// A snapshot's description, if it exists.
pub async fn get(db: &Db, id: &str) -> Result<Option<SnapshotInfo>, sqlx::Error> {
    let row = sqlx::query(
        "SELECT id, filter, digest, count, strata, created_at, excluded FROM snapshots WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(db.pool())
    .await?;
    let info: Option<Result<SnapshotInfo, sqlx::Error>> = row.map(|r| {
        let strata: String = r.try_get("strata")?;
        let excluded: String = r.try_get("excluded")?;
        Ok(SnapshotInfo {
            id: r.try_get("id")?,
            digest: r.try_get("digest")?,
            count: r.try_get::<i64, _>("count")? as u64,
            strata: serde_json::from_str(&strata).unwrap_or_default(),
            filter: r.try_get("filter")?,
            created_at: r.try_get("created_at")?,
            pinned_by: Vec::new(),
            excluded: serde_json::from_str(&excluded).unwrap_or_default(),
        })
    });
    match info.transpose()? {
        Some(info) => Ok(Some(pins_of(db, info).await?)),
        None => Ok(None),
    }
}

async fn pins_of(db: &Db, mut info: SnapshotInfo) -> Result<SnapshotInfo, sqlx::Error> {
    info.pinned_by = sqlx::query_scalar(
        "SELECT holder FROM snapshot_pins WHERE snapshot_id = $1 ORDER BY holder",
    )
    .bind(&info.id)
    .fetch_all(db.pool())
    .await?;
    Ok(info)
}

/// Pins a snapshot for `holder`; true when the pin is new.
pub async fn pin(
    tx: &mut Tx,
    id: &str,
    holder: &str,
    by: &str,
    now: i64,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "INSERT INTO snapshot_pins (snapshot_id, holder, pinned_by, pinned_at) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (snapshot_id, holder) DO NOTHING",
    )
    .bind(id)
    .bind(holder)
    .bind(by)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Who pinned `id` for `holder`, when it is pinned for them.
pub async fn pinned_by(tx: &mut Tx, id: &str, holder: &str) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar("SELECT pinned_by FROM snapshot_pins WHERE snapshot_id = $1 AND holder = $2")
        .bind(id)
        .bind(holder)
        .fetch_optional(&mut **tx)
        .await
}

/// Holders whose pins are never released: a draw's record refers to its snapshot, which must stay to verify it.
pub const PERMANENT_HOLDER: &str = "draw:";

/// Releases `holder`'s pin; true when there was one.
pub async fn unpin(tx: &mut Tx, id: &str, holder: &str) -> Result<bool, sqlx::Error> {
    let done = sqlx::query("DELETE FROM snapshot_pins WHERE snapshot_id = $1 AND holder = $2")
        .bind(id)
        .bind(holder)
        .execute(&mut **tx)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// Deletes the snapshots made before `cutoff` (epoch ms) that nobody pins; returns how many.
pub async fn purge_unpinned(db: &Db, cutoff: i64) -> Result<u64, sqlx::Error> {
    let mut tx = db.begin().await?;
    let doomed = "SELECT id FROM snapshots s WHERE s.created_at < $1 \
                  AND NOT EXISTS (SELECT 1 FROM snapshot_pins p WHERE p.snapshot_id = s.id)";
    sqlx::query(AssertSqlSafe(format!(
        "DELETE FROM snapshot_chunks WHERE snapshot_id IN ({doomed})"
    )))
    .bind(cutoff)
    .execute(&mut *tx)
    .await?;
    let done = sqlx::query(AssertSqlSafe(format!(
        "DELETE FROM snapshots WHERE id IN ({doomed})"
    )))
    .bind(cutoff)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(done.rows_affected())
}

/// A snapshot's chunks, in order: newline-terminated ids and one risk byte per id (targets only).
pub type Chunks = mpsc::Receiver<Result<(Vec<u8>, Vec<u8>), sqlx::Error>>;

/// Every chunk of snapshot `id` in order, each as newline-terminated ids and its risk bytes, from one query read
/// by a task of its own (so the next chunks are fetched and unpacked while the caller works on one), `ahead` at
/// most waiting.
pub fn chunks(db: &Db, id: &str, ahead: usize) -> Chunks {
    let (sender, received) = mpsc::channel(ahead.max(1));
    let (pool, id) = (db.pool().clone(), id.to_string());
    tokio::spawn(async move {
        let mut rows = sqlx::query(
            "SELECT ids, risk_levels FROM snapshot_chunks WHERE snapshot_id = $1 ORDER BY chunk",
        )
        .bind(&id)
        .fetch(&pool);
        loop {
            let next = match rows.try_next().await {
                Ok(Some(r)) => (|| {
                    let ids: Vec<u8> = r.try_get(0)?;
                    let risks: Option<Vec<u8>> = r.try_get(1)?;
                    Ok((segments::unpack_ids(ids)?, risks.unwrap_or_default()))
                })(),
                Ok(None) => return,
                Err(e) => Err(e),
            };
            let failed = next.is_err();
            if sender.send(next).await.is_err() || failed {
                return;
            }
        }
    });
    received
}

/// Recomputes a digest from newline-terminated ids, and checks they are strictly ascending.
pub fn digest_of(ids: &[u8]) -> Result<String, String> {
    let mut previous: Option<&[u8]> = None;
    for id in ids.split(|b| *b == b'\n').filter(|s| !s.is_empty()) {
        if previous.is_some_and(|p| p >= id) {
            return Err(format!(
                "ids are not in ascending order at {:?}",
                String::from_utf8_lossy(id)
            ));
        }
        previous = Some(id);
    }
    Ok(hex::encode(Sha256::digest(ids)))
}

#[cfg(test)]
mod tests {
    use super::digest_of;

    #[test]
    fn the_digest_is_sha256_of_the_newline_terminated_ids() {
        // printf 'A\nB\n' | sha256sum
        assert_eq!(
            digest_of(b"A\nB\n").unwrap(),
            "daee1cd25194ae952d046ad9b9c81d3c07dc5332440b58d6d7461b248be56712"
        );
        assert!(digest_of(b"B\nA\n").unwrap_err().contains("ascending"));
        assert!(digest_of(b"A\nA\n").is_err(), "ids are unique");
    }
}

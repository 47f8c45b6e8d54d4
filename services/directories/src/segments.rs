//! Segments: the columns a target snapshot filters on, packed per key range in id order.
//!
//! A province-wide snapshot of ten million targets walked the covering primary key row by row; reading the same
//! rows packed (front-coded ids, a dictionary per column) is a fraction of the work. The segments tile the key
//! space: each covers `[lo, hi)` (`hi` empty = no upper bound) and holds every target in it. Whatever writes
//! targets records the key range it touched with [`touch`] in the same transaction; [`refresh`] rebuilds the
//! segments those ranges overlap, and deletes exactly the marks it saw, so a write committed meanwhile is
//! rebuilt by the next refresh.
//!
//! Layout of `data` (little-endian):
//! `"SJS1"`, `u32` rows, then per column (kind, region, industry, status, risk, departments) a dictionary
//! (`u16` count, then per value `u16` length and bytes), then per row: `u8` bytes shared with the previous id,
//! `u16` length of the rest, the rest, and six `u16` dictionary indexes.

use std::collections::HashMap;

use futures::TryStreamExt;
use sqlx::{AssertSqlSafe, Row};
use suiji_platform::db::{Db, Tx, now_ms};

use crate::store::{self, TargetQuery};

/// Rows per segment (a segment may close earlier when a dictionary fills).
pub const SEGMENT_ROWS: usize = 65_536;
/// Filter columns, in stored order.
pub const COLUMNS: [&str; 6] = [
    "kind",
    "region_code",
    "industry_code",
    "status",
    "risk",
    "departments",
];
const MAGIC: &[u8; 4] = b"SJS1";
/// Index of the risk column, a snapshot's stratum.
pub const RISK: usize = 4;
const MAX_DICT: usize = u16::MAX as usize;

/// Marks the key range `[$1, $2]` as written.
const TOUCH: &str = "INSERT INTO target_segments_stale (lo, hi) VALUES ($1, $2)";

/// Records, in `tx`, that targets with ids in `[lo, hi]` were written.
pub async fn touch(tx: &mut Tx, lo: &str, hi: &str) -> Result<(), sqlx::Error> {
    sqlx::query(TOUCH)
        .bind(lo)
        .bind(hi)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// [`touch`] on a PostgreSQL connection (an import's writers).
pub async fn touch_pg(
    conn: &mut sqlx::PgConnection,
    lo: &str,
    hi: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(TOUCH).bind(lo).bind(hi).execute(conn).await?;
    Ok(())
}

/// Records that targets with ids between the least and the greatest id of `relation` were written, if it has
/// rows (PostgreSQL: an import's staged or loaded rows).
pub async fn touch_ids_of(
    conn: &mut sqlx::PgConnection,
    relation: &str,
) -> Result<(), sqlx::Error> {
    use sqlx::Executor;
    conn.execute(sqlx::AssertSqlSafe(format!(
        "INSERT INTO target_segments_stale (lo, hi) SELECT lo, hi \
         FROM (SELECT min(id) AS lo, max(id) AS hi FROM {relation}) s WHERE lo IS NOT NULL"
    )))
    .await?;
    Ok(())
}

#[derive(Default)]
struct Dict {
    index: HashMap<Vec<u8>, u16>,
    values: Vec<Vec<u8>>,
}

impl Dict {
    fn code(&mut self, value: &[u8]) -> u16 {
        if let Some(code) = self.index.get(value) {
            return *code;
        }
        let code = self.values.len() as u16;
        self.values.push(value.to_vec());
        self.index.insert(value.to_vec(), code);
        code
    }
}

/// Packs rows given in ascending id order into one segment.
pub struct Builder {
    /// Rows at which the segment is full.
    limit: usize,
    rows: u32,
    dicts: [Dict; 6],
    body: Vec<u8>,
    previous: Vec<u8>,
    first: Option<String>,
}

impl Builder {
    /// A builder whose segments hold up to `limit` rows.
    pub fn new(limit: usize) -> Self {
        Self {
            limit: limit.max(1),
            rows: 0,
            dicts: Default::default(),
            body: Vec::new(),
            previous: Vec::new(),
            first: None,
        }
    }

    /// Adds a row; true when the segment is full.
    pub fn push(&mut self, id: &[u8], columns: [&[u8]; 6]) -> bool {
        if self.first.is_none() {
            self.first = Some(String::from_utf8_lossy(id).into_owned());
        }
        front_code(&self.previous, id, &mut self.body);
        for (dict, value) in self.dicts.iter_mut().zip(columns) {
            let value = &value[..value.len().min(u16::MAX as usize)];
            self.body.extend_from_slice(&dict.code(value).to_le_bytes());
        }
        self.previous.clear();
        self.previous.extend_from_slice(id);
        self.rows += 1;
        self.rows as usize >= self.limit || self.dicts.iter().any(|d| d.values.len() >= MAX_DICT)
    }

    /// Rows so far.
    pub fn rows(&self) -> u32 {
        self.rows
    }

    /// The first id pushed.
    pub fn first_id(&self) -> Option<&str> {
        self.first.as_deref()
    }

    /// The packed segment; the builder starts over.
    pub fn finish(&mut self) -> Vec<u8> {
        let done = std::mem::replace(self, Self::new(self.limit));
        let mut out = Vec::with_capacity(done.body.len() + 4096);
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&done.rows.to_le_bytes());
        for dict in &done.dicts {
            out.extend_from_slice(&(dict.values.len() as u16).to_le_bytes());
            for value in &dict.values {
                out.extend_from_slice(&(value.len() as u16).to_le_bytes());
                out.extend_from_slice(value);
            }
        }
        out.extend_from_slice(&done.body);
        out
    }
}

/// A packed segment, read.
pub struct Segment<'a> {
    rows: u32,
    dicts: [Vec<&'a [u8]>; 6],
    body: &'a [u8],
}

/// A segment that does not parse (a bug or a damaged row: the snapshot fails rather than guess).
fn damaged(what: &str) -> sqlx::Error {
    sqlx::Error::Protocol(format!("a target segment is damaged: {what}"))
}

/// Appends `id` to `out` front-coded against `previous`: `u8` bytes shared with it, `u16` (little-endian)
/// length of the rest, the rest. Sorted ids share long prefixes, so this about halves them.
pub fn front_code(previous: &[u8], id: &[u8], out: &mut Vec<u8>) {
    let shared = previous
        .iter()
        .zip(id)
        .take_while(|(a, b)| a == b)
        .count()
        .min(255);
    let rest = &id[shared..];
    let rest = &rest[..rest.len().min(u16::MAX as usize)];
    out.push(shared as u8);
    out.extend_from_slice(&(rest.len() as u16).to_le_bytes());
    out.extend_from_slice(rest);
}

/// Reads one front-coded id into `id`, which holds the previous one.
fn front_decode(c: &mut Cursor<'_>, id: &mut Vec<u8>) -> Result<(), sqlx::Error> {
    let shared = c.take(1)?[0] as usize;
    let len = c.u16()? as usize;
    if shared > id.len() {
        return Err(damaged("an id shares more than the previous one has"));
    }
    id.truncate(shared);
    id.extend_from_slice(c.take(len)?);
    Ok(())
}

/// Front-codes newline-terminated ids (a stored snapshot chunk), behind a marker no id list starts with.
pub fn pack_ids(ids: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(ids.len() / 2 + 16);
    out.extend_from_slice(PACKED_IDS);
    let mut previous: &[u8] = &[];
    for id in ids.split(|b| *b == b'\n').filter(|i| !i.is_empty()) {
        front_code(previous, id, &mut out);
        previous = id;
    }
    out
}

/// The newline-terminated ids of a stored chunk: unpacked if [`pack_ids`] packed it, else as stored.
pub fn unpack_ids(stored: Vec<u8>) -> Result<Vec<u8>, sqlx::Error> {
    let Some(packed) = stored.strip_prefix(PACKED_IDS) else {
        return Ok(stored);
    };
    let mut out = Vec::with_capacity(packed.len() * 2);
    let mut c = Cursor(packed);
    let mut id = Vec::with_capacity(64);
    while !c.0.is_empty() {
        front_decode(&mut c, &mut id)?;
        out.extend_from_slice(&id);
        out.push(b'\n');
    }
    Ok(out)
}

const PACKED_IDS: &[u8] = b"\0SJF1";

struct Cursor<'a>(&'a [u8]);

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], sqlx::Error> {
        if self.0.len() < n {
            return Err(damaged("it ends early"));
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Ok(head)
    }

    fn u16(&mut self) -> Result<u16, sqlx::Error> {
        let b = self.take(2)?;
        Ok(u16::from_le_bytes([b[0], b[1]]))
    }
}

impl<'a> Segment<'a> {
    /// Reads the header and dictionaries of `data`.
    pub fn parse(data: &'a [u8]) -> Result<Self, sqlx::Error> {
        let mut c = Cursor(data);
        if c.take(4)? != MAGIC {
            return Err(damaged("unknown format"));
        }
        let rows = c.take(4)?;
        let rows = u32::from_le_bytes([rows[0], rows[1], rows[2], rows[3]]);
        let mut dicts: [Vec<&[u8]>; 6] = Default::default();
        for dict in &mut dicts {
            let n = c.u16()?;
            for _ in 0..n {
                let len = c.u16()? as usize;
                dict.push(c.take(len)?);
            }
        }
        Ok(Self {
            rows,
            dicts,
            body: c.0,
        })
    }

    /// Rows in the segment.
    pub fn rows(&self) -> u32 {
        self.rows
    }

    /// The risk levels the rows refer to by index.
    pub fn risk_levels(&self) -> &[&'a [u8]] {
        &self.dicts[RISK]
    }

    /// Calls `each` with the id of every row `query` matches and the index of its risk level in
    /// [`Self::risk_levels`], in id order.
    pub fn matching(
        &self,
        query: &TargetQuery,
        mut each: impl FnMut(&[u8], usize) -> Result<(), sqlx::Error>,
    ) -> Result<(), sqlx::Error> {
        // Each dictionary value is judged once; a row then costs six lookups.
        let allowed: Vec<Vec<bool>> = self
            .dicts
            .iter()
            .enumerate()
            .map(|(k, dict)| {
                dict.iter()
                    .map(|v| query.admits(COLUMNS[k], &String::from_utf8_lossy(v)))
                    .collect()
            })
            .collect();
        let mut c = Cursor(self.body);
        let mut id: Vec<u8> = Vec::with_capacity(64);
        for _ in 0..self.rows {
            front_decode(&mut c, &mut id)?;
            let mut admitted = true;
            let mut risk = 0;
            for (k, allowed) in allowed.iter().enumerate() {
                let code = c.u16()? as usize;
                admitted &= *allowed
                    .get(code)
                    .ok_or_else(|| damaged("a value outside its dictionary"))?;
                if k == RISK {
                    risk = code;
                }
            }
            if admitted {
                each(&id, risk)?;
            }
        }
        Ok(())
    }
}

/// What a refresh did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Refreshed {
    /// Segments replaced.
    pub replaced: u64,
    /// Segments written.
    pub written: u64,
    /// Target rows packed.
    pub rows: u64,
}

/// A current segment's bounds.
struct Bounds {
    lo: String,
    hi: String,
}

impl Bounds {
    /// Whether `[lo, hi]` (inclusive) meets this segment.
    fn meets(&self, lo: &str, hi: &str) -> bool {
        hi >= self.lo.as_str() && (self.hi.is_empty() || lo < self.hi.as_str())
    }
}

/// Rebuilds the segments whose key ranges were written since they were built. Refreshes run one at a time.
pub async fn refresh(db: &Db) -> Result<Refreshed, sqlx::Error> {
    refresh_sized(db, SEGMENT_ROWS).await
}

/// [`refresh`], with new segments of up to `rows` rows (tests use small ones).
pub async fn refresh_sized(db: &Db, rows: usize) -> Result<Refreshed, sqlx::Error> {
    // Most refreshes (one before every snapshot) find nothing stale: a plain read says so without queueing behind
    // the refresh lock. A range marked after this read is one a refresh under the lock could have missed as well.
    let any: Option<i64> = sqlx::query_scalar("SELECT id FROM target_segments_stale LIMIT 1")
        .fetch_optional(db.pool())
        .await?;
    if any.is_none() {
        return Ok(Refreshed::default());
    }
    let mut tx = db.begin().await?;
    if db.postgres().is_some() {
        sqlx::query("SELECT pg_advisory_xact_lock(8237401)")
            .execute(&mut *tx)
            .await?;
    } else {
        // Takes SQLite's write lock now, so two refreshes queue instead of both reading and one failing.
        sqlx::query("DELETE FROM target_segments_stale WHERE id < 0")
            .execute(&mut *tx)
            .await?;
    }
    let stale: Vec<(i64, String, String)> =
        sqlx::query("SELECT id, lo, hi FROM target_segments_stale ORDER BY id")
            .fetch_all(&mut *tx)
            .await?
            .iter()
            .map(|r| Ok((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?)))
            .collect::<Result<_, sqlx::Error>>()?;
    if stale.is_empty() {
        tx.commit().await?;
        return Ok(Refreshed::default());
    }
    let mut segments: Vec<Bounds> = sqlx::query("SELECT lo, hi FROM target_segments ORDER BY lo")
        .fetch_all(&mut *tx)
        .await?
        .iter()
        .map(|r| {
            Ok(Bounds {
                lo: r.try_get(0)?,
                hi: r.try_get(1)?,
            })
        })
        .collect::<Result<_, sqlx::Error>>()?;
    if segments.is_empty() {
        // No segments yet: the whole key space is one to build.
        segments.push(Bounds {
            lo: String::new(),
            hi: String::new(),
        });
    }
    let dirty: Vec<bool> = segments
        .iter()
        .map(|s| stale.iter().any(|(_, lo, hi)| s.meets(lo, hi)))
        .collect();
    // Adjacent dirty segments are rebuilt as one run `[lo, hi)`.
    let mut runs: Vec<(String, String)> = Vec::new();
    for (segment, dirty) in segments.iter().zip(&dirty) {
        match runs.last_mut() {
            _ if !dirty => {}
            Some((_, hi)) if *hi == segment.lo => *hi = segment.hi.clone(),
            _ => runs.push((segment.lo.clone(), segment.hi.clone())),
        }
    }
    let mut outcome = Refreshed::default();
    for (lo, hi) in runs {
        outcome.replaced +=
            sqlx::query("DELETE FROM target_segments WHERE lo >= $1 AND ($2 = '' OR lo < $2)")
                .bind(&lo)
                .bind(&hi)
                .execute(&mut *tx)
                .await?
                .rows_affected();
        let done = rebuild(db, &mut tx, &lo, &hi, rows).await?;
        outcome.written += done.written;
        outcome.rows += done.rows;
    }
    for ids in stale.chunks(1000) {
        let list: Vec<String> = ids.iter().map(|(id, _, _)| id.to_string()).collect();
        sqlx::query(AssertSqlSafe(format!(
            "DELETE FROM target_segments_stale WHERE id IN ({})",
            list.join(",")
        )))
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(outcome)
}

/// Turns rows in id order into segments written in a transaction. A full segment is written when the next one
/// begins, since its upper bound is that one's first id.
struct Packer {
    builder: Builder,
    /// Where the segment being built starts.
    start: String,
    /// A full segment waiting for its upper bound: start, data, rows.
    full: Option<(String, Vec<u8>, u32)>,
    outcome: Refreshed,
}

impl Packer {
    async fn row(&mut self, tx: &mut Tx, id: &[u8], cols: [&[u8]; 6]) -> Result<(), sqlx::Error> {
        if let Some((lo, data, rows)) = self.full.take() {
            self.start = String::from_utf8_lossy(id).into_owned();
            self.write(tx, &lo, &self.start.clone(), data, rows).await?;
        }
        if self.builder.push(id, cols) {
            let rows = self.builder.rows();
            self.full = Some((self.start.clone(), self.builder.finish(), rows));
        }
        Ok(())
    }

    /// Writes what is left; the last segment ends at `hi`. A range without targets keeps one empty segment.
    async fn finish(mut self, tx: &mut Tx, hi: &str) -> Result<Refreshed, sqlx::Error> {
        match self.full.take() {
            Some((lo, data, rows)) => self.write(tx, &lo, hi, data, rows).await?,
            None => {
                let rows = self.builder.rows();
                let data = self.builder.finish();
                let lo = self.start.clone();
                self.write(tx, &lo, hi, data, rows).await?;
            }
        }
        Ok(self.outcome)
    }

    async fn write(
        &mut self,
        tx: &mut Tx,
        lo: &str,
        hi: &str,
        data: Vec<u8>,
        rows: u32,
    ) -> Result<(), sqlx::Error> {
        sqlx::query(
            "INSERT INTO target_segments (lo, hi, rows, data, built_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(lo)
        .bind(hi)
        .bind(i64::from(rows))
        .bind(data)
        .bind(now_ms())
        .execute(&mut **tx)
        .await?;
        self.outcome.written += 1;
        self.outcome.rows += u64::from(rows);
        Ok(())
    }
}

/// Packs the targets in `[lo, hi)` into new segments, written in `tx`; the first starts at `lo` and the last
/// ends at `hi`, so the tiling stays whole.
async fn rebuild(
    db: &Db,
    tx: &mut Tx,
    lo: &str,
    hi: &str,
    rows: usize,
) -> Result<Refreshed, sqlx::Error> {
    let mut packer = Packer {
        builder: Builder::new(rows),
        start: lo.to_string(),
        full: None,
        outcome: Refreshed::default(),
    };
    let columns = format!("id, {}", COLUMNS.join(", "));
    match db.postgres() {
        Some(pg) => {
            let upper = if hi.is_empty() {
                String::new()
            } else {
                format!(" AND id < {}", store::literal(hi))
            };
            let sql = format!(
                "COPY (SELECT {columns} FROM targets WHERE id >= {}{upper} ORDER BY id) TO STDOUT",
                store::literal(lo)
            );
            let mut conn = pg.acquire().await?;
            let mut copy = store::CopyLines::new(conn.copy_out_raw(&sql).await?);
            while let Some(block) = copy.next().await? {
                for line in store::lines(&block) {
                    let mut fields = line.split(|b| *b == b'\t');
                    let id = fields.next().unwrap_or_default();
                    let cols: [&[u8]; 6] =
                        std::array::from_fn(|_| fields.next().unwrap_or_default());
                    packer.row(tx, id, cols).await?;
                }
            }
        }
        None => {
            let mut reader = db.pool().acquire().await?;
            let sql = format!(
                "SELECT {columns} FROM targets WHERE id >= $1 AND ($2 = '' OR id < $2) ORDER BY id"
            );
            let mut found = sqlx::query(AssertSqlSafe(sql))
                .bind(lo)
                .bind(hi)
                .fetch(&mut *reader);
            while let Some(row) = found.try_next().await? {
                let values: Vec<String> = (0..=6)
                    .map(|i| row.try_get::<String, _>(i))
                    .collect::<Result<_, _>>()?;
                let cols: [&[u8]; 6] = std::array::from_fn(|i| values[i + 1].as_bytes());
                packer.row(tx, values[0].as_bytes(), cols).await?;
            }
        }
    }
    packer.finish(tx, hi).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cols<'a>(kind: &'a str, region: &'a str, risk: &'a str) -> [&'a [u8]; 6] {
        [
            kind.as_bytes(),
            region.as_bytes(),
            b"C13",
            b"operating",
            risk.as_bytes(),
            b",SCJG,",
        ]
    }

    #[test]
    fn a_segment_reads_back_what_was_packed() {
        let mut b = Builder::new(SEGMENT_ROWS);
        let rows = [
            ("91610102MA6TG1234X", "enterprise", "610102", "high"),
            ("91610102MA6TG1235X", "enterprise", "610103", "low"),
            ("92610102MA6TG1", "individual_business", "620102", "low"),
            ("P-0001", "natural_person", "610102", "medium"),
        ];
        for (id, kind, region, risk) in rows {
            assert!(!b.push(id.as_bytes(), cols(kind, region, risk)));
        }
        assert_eq!(b.first_id(), Some("91610102MA6TG1234X"));
        let data = b.finish();
        let s = Segment::parse(&data).unwrap();
        assert_eq!(s.rows(), 4);
        let mut back = Vec::new();
        s.matching(&TargetQuery::default(), |id, risk| {
            back.push((
                String::from_utf8(id.to_vec()).unwrap(),
                String::from_utf8(s.risk_levels()[risk].to_vec()).unwrap(),
            ));
            Ok(())
        })
        .unwrap();
        let expected: Vec<_> = rows
            .iter()
            .map(|(id, _, _, risk)| (id.to_string(), risk.to_string()))
            .collect();
        assert_eq!(back, expected, "every row, in order, with its risk level");
        let kinds = |kinds: &[&str]| {
            let query = TargetQuery {
                kinds: kinds.iter().map(|k| k.to_string()).collect(),
                ..Default::default()
            };
            let mut hits = Vec::new();
            s.matching(&query, |id, _| {
                hits.push(String::from_utf8(id.to_vec()).unwrap());
                Ok(())
            })
            .unwrap();
            hits
        };
        assert_eq!(kinds(&["natural_person"]), ["P-0001"]);
        assert_eq!(kinds(&["individual_business"]), ["92610102MA6TG1"]);
        let query = TargetQuery {
            region_prefixes: vec!["61".into()],
            risks: vec!["low".into(), "medium".into()],
            ..Default::default()
        };
        let mut hits = Vec::new();
        s.matching(&query, |id, risk| {
            hits.push(format!(
                "{} {}",
                String::from_utf8_lossy(id),
                String::from_utf8_lossy(s.risk_levels()[risk])
            ));
            Ok(())
        })
        .unwrap();
        assert_eq!(hits, ["91610102MA6TG1235X low", "P-0001 medium"]);
    }

    #[test]
    fn packed_ids_unpack_to_the_same_bytes() {
        let ids = b"91610102MA6TG1234X\n91610102MA6TG1235X\n92610102MA6TG1\nP-0001\n".to_vec();
        let packed = pack_ids(&ids);
        assert!(packed.len() < ids.len());
        assert_eq!(unpack_ids(packed).unwrap(), ids);
        assert_eq!(
            unpack_ids(ids.clone()).unwrap(),
            ids,
            "a plain chunk reads as it is"
        );
        assert_eq!(unpack_ids(pack_ids(b"")).unwrap(), b"");
    }

    #[test]
    fn a_damaged_segment_is_an_error_not_a_guess() {
        let mut b = Builder::new(SEGMENT_ROWS);
        b.push(b"A1", cols("enterprise", "610102", "low"));
        let data = b.finish();
        assert!(Segment::parse(&data[..data.len() - 3]).is_ok());
        let cut = Segment::parse(&data[..data.len() - 3]).unwrap();
        assert!(
            cut.matching(&TargetQuery::default(), |_, _| Ok(()))
                .is_err()
        );
        assert!(Segment::parse(b"XXXX\0\0\0\0").is_err());
    }
}

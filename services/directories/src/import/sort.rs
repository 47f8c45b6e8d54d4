//! The external sort of a PostgreSQL import: rows by id in runs spilled to temporary files and merged, so they are
//! written in key order and a second row of an id is found by the merge.

use super::*;

/// One row on its way through the sort: its id, then its COPY line; ordered by id, then by file line.
pub(super) struct SortRow {
    /// The id's first 16 bytes as a number, so most comparisons are one comparison of integers.
    pub(super) prefix: u128,
    pub(super) line: u64,
    pub(super) id_len: u32,
    /// The row's digest ([`store::row_digest`]), also in its COPY line.
    pub(super) digest: [u8; 32],
    pub(super) bytes: Vec<u8>,
}

impl SortRow {
    pub(super) fn new(line: u64, id_len: u32, digest: [u8; 32], bytes: Vec<u8>) -> Self {
        let mut head = [0u8; 16];
        let id = &bytes[..id_len as usize];
        let n = id.len().min(16);
        head[..n].copy_from_slice(&id[..n]);
        Self {
            prefix: u128::from_be_bytes(head),
            line,
            id_len,
            digest,
            bytes,
        }
    }

    pub(super) fn id(&self) -> &[u8] {
        &self.bytes[..self.id_len as usize]
    }

    pub(super) fn copy_line(&self) -> &[u8] {
        &self.bytes[self.id_len as usize..]
    }

    /// By id, then by line.
    pub(super) fn order(&self, other: &Self) -> std::cmp::Ordering {
        self.prefix
            .cmp(&other.prefix)
            .then_with(|| self.id().cmp(other.id()))
            .then(self.line.cmp(&other.line))
    }

    /// A checked row as the sort takes it: its COPY line, stamped with the import.
    pub(super) fn of<R: Record>(staged: Staged<R>, import_id: &str, now: i64) -> Self {
        let id = staged.record.id();
        let mut bytes = Vec::with_capacity(320);
        bytes.extend_from_slice(id.as_bytes());
        let values = staged.record.values();
        let digest = store::row_digest(&values);
        store::copy_line(&mut bytes, staged.line, values, import_id, now);
        Self::new(staged.line, id.len() as u32, digest, bytes)
    }
}

impl Keyed for SortRow {
    fn key(&self) -> &[u8] {
        self.id()
    }

    fn line(&self) -> u64 {
        self.line
    }
}

impl extsort::Sortable for SortRow {
    fn encode<W: std::io::Write>(&self, writer: &mut W) -> std::io::Result<()> {
        writer.write_all(&self.line.to_le_bytes())?;
        writer.write_all(&self.id_len.to_le_bytes())?;
        writer.write_all(&(self.bytes.len() as u32).to_le_bytes())?;
        writer.write_all(&self.digest)?;
        writer.write_all(&self.bytes)
    }

    fn decode<Rd: Read>(reader: &mut Rd) -> std::io::Result<Self> {
        let mut head = [0u8; 16];
        reader.read_exact(&mut head)?;
        let word = |at: usize| u32::from_le_bytes(head[at..at + 4].try_into().unwrap_or_default());
        let line = u64::from_le_bytes(head[..8].try_into().unwrap_or_default());
        let mut digest = [0u8; 32];
        reader.read_exact(&mut digest)?;
        let mut bytes = vec![0; word(12) as usize];
        reader.read_exact(&mut bytes)?;
        Ok(Self::new(line, word(8), digest, bytes))
    }
}

/// Sorts the checked rows by id on disk and hands them out in chunks of consecutive ids to whichever writer is free.
/// A second row with an id is rejected here, naming the first; the rows that reach the writers have distinct ids.
/// Returns the digest of the rows handed out ([`crate::changes::ListDigest`]).
pub(super) fn sort_rows(
    mut batches: mpsc::Receiver<Vec<SortRow>>,
    writers: mpsc::Sender<store::Chunk>,
    sizes: Sizes,
    counters: &Counters,
    reports: &mpsc::Sender<Report>,
) -> Result<String, ImportError> {
    let io = |e: std::io::Error| ImportError::Io(format!("sorting the rows: {e}"));
    let mut sorter = extsort::ExternalSorter::new()
        .with_segment_size(sizes.sort_run)
        .pushed_by(SortRow::order);
    while let Some(batch) = batches.blocking_recv() {
        sorter.push_iter(batch).map_err(io)?;
    }
    let mut chunk = store::Chunk::default();
    let mut written = crate::changes::ListDigest::default();
    let mut last: Option<SortRow> = None;
    let deal = |chunk: &mut store::Chunk, last: &SortRow| {
        chunk.hi = String::from_utf8_lossy(last.id()).into_owned();
        writers.blocking_send(std::mem::take(chunk)).is_ok()
    };
    for row in sorter.done().map_err(io)? {
        let row = row.map_err(io)?;
        if let Some(previous) = &last {
            if previous.id() == row.id() {
                let reason = duplicate(previous.line, &String::from_utf8_lossy(row.id()));
                counters.reject(reports, row.line, "id", reason);
                continue;
            }
            if chunk.rows == sizes.chunk && !deal(&mut chunk, previous) {
                // A writer stopped; its error is the import's.
                return Ok(written.finish());
            }
        }
        if chunk.rows == 0 {
            chunk.lo = String::from_utf8_lossy(row.id()).into_owned();
        }
        chunk.lines.extend_from_slice(row.copy_line());
        chunk.rows += 1;
        written.written(&String::from_utf8_lossy(row.id()), Some(&row.digest));
        last = Some(row);
    }
    if let Some(previous) = &last
        && chunk.rows > 0
    {
        deal(&mut chunk, previous);
    }
    Ok(written.finish())
}

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

/// Accepted rows after which a PostgreSQL import vacuums the table.
const VACUUM_AFTER: u64 = 100_000;
/// Connections that write chunks at once on PostgreSQL.
pub const WRITERS: usize = 2;
/// Rejections listed one by one; beyond this they are only counted.
pub const MAX_LISTED: u64 = 10_000;
/// Bytes looked at to tell UTF-8 from GB18030.
const SNIFF: usize = 64 * 1024;

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

/// Chooses the encoding: a BOM decides; otherwise UTF-8 unless the sample decodes with fewer errors as
/// GB18030 (which also reads GBK and GB2312). A few bad bytes in a UTF-8 file thus reject their rows rather
/// than turning the whole file into nonsense.
pub fn sniff_encoding(head: &[u8]) -> &'static Encoding {
    if let Some((encoding, _)) = Encoding::for_bom(head) {
        return encoding;
    }
    let errors = |encoding: &'static Encoding| {
        encoding
            .decode_without_bom_handling(head)
            .0
            .chars()
            .filter(|c| *c == '\u{FFFD}')
            .count()
    };
    if let Err(e) = std::str::from_utf8(head)
        && e.error_len().is_none()
    {
        // Valid UTF-8 but for a character cut by the end of the sample.
        return UTF_8;
    }
    let utf8 = errors(UTF_8);
    if utf8 == 0 || utf8 <= errors(GB18030) {
        UTF_8
    } else {
        GB18030
    }
}

/// Counts shared by the parser and the writer, for progress reports.
#[derive(Default)]
struct Counters {
    rows_read: AtomicU64,
    accepted: AtomicU64,
    rejected: AtomicU64,
    listed: AtomicU64,
    /// The file's columns, once its header is read: a rejection names its column's letters.
    layout: std::sync::OnceLock<Arc<Layout>>,
}

impl Counters {
    /// The rejection of `field` on the row at `line`, with its column's letters.
    fn rejection(&self, line: u64, field: &str, reason: Text) -> Rejection {
        let column = self
            .layout
            .get()
            .and_then(|l| l.position_of(field))
            .map(crate::lines::column_letters)
            .unwrap_or_default();
        Rejection {
            line,
            field: field.into(),
            column,
            reason,
        }
    }

    /// Lists one problem of a row, while under the listing cap.
    fn list(&self, reports: &mpsc::Sender<Report>, line: u64, field: &str, reason: Text) {
        if self.listed.fetch_add(1, Ordering::Relaxed) < MAX_LISTED {
            let _ = reports.blocking_send(Report::Rejected(self.rejection(line, field, reason)));
        }
    }

    /// Counts so far.
    fn progress(&self) -> Report {
        Report::Progress {
            rows_read: self.rows_read.load(Ordering::Relaxed),
            accepted: self.accepted.load(Ordering::Relaxed),
            rejected: self.rejected.load(Ordering::Relaxed),
        }
    }

    /// Counts a rejected row and lists why.
    fn reject(&self, reports: &mpsc::Sender<Report>, line: u64, field: &str, reason: Text) {
        self.rejected.fetch_add(1, Ordering::Relaxed);
        self.list(reports, line, field, reason);
    }
}

/// The most data rows one file may bring: twice a province's directory of ten million targets. A larger file is
/// read up to here, and its rows after are refused (split it).
pub const MAX_ROWS: u64 = 20_000_000;

/// Raw rows read but not yet checked, dealt to the checkers this many at a time.
const RAW_BATCH: usize = 2_000;
/// The bytes and fields a record is made with, enough for a typical row.
const RECORD_BYTES: usize = 256;
const RECORD_FIELDS: usize = 24;
/// Threads that check rows while the file is read.
const CHECKERS: usize = 2;

/// A row as read from the file, before its checks.
enum Raw {
    /// The cells of a data row.
    Row { line: u64, cells: csv::StringRecord },
    /// A row that could not be read into cells, and why.
    Bad { line: u64, reason: Text },
}

/// A row after its checks.
enum Checked<T> {
    Good(T),
    Bad {
        line: u64,
        problems: Vec<FieldError>,
    },
}

/// A run of raw rows with the layout of the file's header.
struct RawBatch {
    layout: Arc<Layout>,
    rows: Vec<Raw>,
}

/// Takes rows from the file reader, whatever the file format: the header first, then each data row with its
/// line. Data rows are dealt in runs to the checkers, in turn, so that they are checked on several threads and
/// come back in the file's order.
struct Rows<'a> {
    layout: Option<Arc<Layout>>,
    counters: &'a Counters,
    reports: mpsc::Sender<Report>,
    checkers: Vec<std::sync::mpsc::SyncSender<RawBatch>>,
    turn: usize,
    open: Vec<Raw>,
}

impl<'a> Rows<'a> {
    fn reject(&self, line: u64, field: &str, reason: Text) {
        self.counters.reject(&self.reports, line, field, reason);
    }

    /// Reads the header; false when the file cannot be read further.
    fn header<R: Record>(&mut self, cells: &[&str]) -> bool {
        match R::layout(cells) {
            Ok(layout) => {
                let layout = Arc::new(layout);
                let _ = self.counters.layout.set(layout.clone());
                self.layout = Some(layout);
                true
            }
            Err(reason) => {
                self.reject(1, "", msg("import-header").then(reason));
                false
            }
        }
    }

    /// Takes one data row; false when the import was abandoned.
    fn row(&mut self, line: u64, cells: csv::StringRecord) -> bool {
        if cells.iter().all(|f| f.trim().is_empty()) {
            return true;
        }
        self.push(Raw::Row { line, cells })
    }

    /// Takes a row that could not be read, in its place among the others.
    fn bad(&mut self, line: u64, reason: Text) -> bool {
        self.push(Raw::Bad { line, reason })
    }

    fn push(&mut self, raw: Raw) -> bool {
        if self.counters.rows_read.fetch_add(1, Ordering::Relaxed) >= MAX_ROWS {
            self.counters.rows_read.fetch_sub(1, Ordering::Relaxed);
            let line = match &raw {
                Raw::Row { line, .. } | Raw::Bad { line, .. } => *line,
            };
            self.reject(line, "", msg("import-too-many-rows").arg("max", MAX_ROWS));
            return false;
        }
        self.open.push(raw);
        self.open.len() < RAW_BATCH || self.deal()
    }

    /// Hands the open run to the next checker; false when the import was abandoned.
    fn deal(&mut self) -> bool {
        let Some(layout) = self.layout.clone() else {
            return false;
        };
        let rows = std::mem::replace(&mut self.open, Vec::with_capacity(RAW_BATCH));
        let checker = &self.checkers[self.turn % self.checkers.len()];
        self.turn += 1;
        checker.send(RawBatch { layout, rows }).is_ok()
    }

    /// Hands on the last, partly filled run.
    fn finish(mut self) {
        if !self.open.is_empty() {
            self.deal();
        }
    }
}

/// A checked row on its way to be written: its key and the file line it came from.
trait Keyed: Send {
    fn key(&self) -> &[u8];
    fn line(&self) -> u64;
}

impl<R: Record> Keyed for Staged<R> {
    fn key(&self) -> &[u8] {
        self.record.id().as_bytes()
    }

    fn line(&self) -> u64 {
        self.line
    }
}

/// Checks runs of raw rows until the reader is done, turning each good row into what the writing side takes.
fn check_rows<R: Record, T: Keyed>(
    raw: std::sync::mpsc::Receiver<RawBatch>,
    checked: std::sync::mpsc::SyncSender<Vec<Checked<T>>>,
    checks: &Checks<'_>,
    encode: &(dyn Fn(Staged<R>) -> T + Sync),
) {
    for batch in raw {
        let rows = batch
            .rows
            .into_iter()
            .map(|raw| match raw {
                Raw::Bad { line, reason } => Checked::Bad {
                    line,
                    problems: vec![("", reason)],
                },
                Raw::Row { line, cells } => {
                    // Cells an export neutralised (`'=…`) are read as they were.
                    let cells: Vec<&str> = cells
                        .iter()
                        .map(suiji_platform::spreadsheet::restored)
                        .collect();
                    match R::parse(&batch.layout, &cells, checks) {
                        Ok(record) => Checked::Good(encode(Staged { line, record })),
                        Err(problems) => Checked::Bad { line, problems },
                    }
                }
            })
            .collect();
        if checked.send(rows).is_err() {
            return;
        }
    }
}

/// Takes the checked rows back from the checkers in the file's order (the order they were dealt in), reports
/// the rejected ones, rejects a second row of an id within a batch (naming the first) and hands on batches.
fn sequence<T: Keyed>(
    checkers: Vec<std::sync::mpsc::Receiver<Vec<Checked<T>>>>,
    counters: &Counters,
    reports: &mpsc::Sender<Report>,
    batches: mpsc::Sender<Vec<T>>,
) {
    let mut open: Vec<T> = Vec::with_capacity(BATCH);
    let mut lines: HashMap<Box<[u8]>, u64, foldhash::fast::RandomState> =
        HashMap::with_capacity_and_hasher(BATCH, Default::default());
    for turn in 0.. {
        let Ok(rows) = checkers[turn % checkers.len()].recv() else {
            break;
        };
        for row in rows {
            match row {
                Checked::Good(row) => {
                    if let Some(first) = lines.get(row.key()) {
                        let id = String::from_utf8_lossy(row.key());
                        counters.reject(reports, row.line(), "id", duplicate(*first, &id));
                        continue;
                    }
                    lines.insert(row.key().into(), row.line());
                    open.push(row);
                    if open.len() == BATCH {
                        lines.clear();
                        let full = std::mem::replace(&mut open, Vec::with_capacity(BATCH));
                        if batches.blocking_send(full).is_err() {
                            return;
                        }
                    }
                }
                Checked::Bad { line, problems } => {
                    // One row counts once, however many of its fields are wrong; each problem is listed.
                    counters.rejected.fetch_add(1, Ordering::Relaxed);
                    for (field, reason) in problems {
                        counters.list(reports, line, field, reason);
                    }
                }
            }
        }
    }
    if !open.is_empty() {
        let _ = batches.blocking_send(open);
    }
}

/// Reads `source` in `format` and hands its good rows on in batches, in the file's order: one thread reads, the
/// checkers check, and one puts the rows back in order.
fn read_rows<R: Record, T: Keyed>(
    format: Format,
    source: impl Read,
    checks: &Checks<'_>,
    encode: &(dyn Fn(Staged<R>) -> T + Sync),
    counters: &Counters,
    reports: &mpsc::Sender<Report>,
    batches: mpsc::Sender<Vec<T>>,
) -> Result<(), ImportError> {
    std::thread::scope(|scope| {
        let (to_checkers, from_checkers): (Vec<_>, Vec<_>) = (0..CHECKERS)
            .map(|_| {
                let (raw_tx, raw_rx) = std::sync::mpsc::sync_channel(1);
                let (checked_tx, checked_rx) = std::sync::mpsc::sync_channel(1);
                scope.spawn(move || check_rows::<R, T>(raw_rx, checked_tx, checks, encode));
                (raw_tx, checked_rx)
            })
            .unzip();
        scope.spawn(move || sequence(from_checkers, counters, reports, batches));
        let mut rows = Rows {
            layout: None,
            counters,
            reports: reports.clone(),
            checkers: to_checkers,
            turn: 0,
            open: Vec::with_capacity(RAW_BATCH),
        };
        // Reads of a megabyte: each read of the upload may wait on another thread.
        let source = std::io::BufReader::with_capacity(1 << 20, source);
        let result = match format {
            Format::Csv => parse_csv::<R>(source, &mut rows),
            Format::Xlsx => spool(source).and_then(|file| parse_xlsx::<R>(file, &mut rows)),
        };
        rows.finish();
        result
    })
}

/// The text of an uploaded CSV file: its head (read to sniff the encoding) then the rest, decoded to UTF-8, its
/// line breaks counted as they pass.
pub type Decoded<S> = crate::lines::Lines<
    encoding_rs_io::DecodeReaderBytes<std::io::Chain<std::io::Cursor<Vec<u8>>, S>, Vec<u8>>,
>;

/// A CSV file opened for reading: its records, the line each starts on, and how its text was written.
pub struct CsvFile<S: Read> {
    /// The records, decoded to UTF-8.
    pub reader: csv::Reader<Decoded<S>>,
    /// The line each record starts on, as [`crate::lines::LineIndex::line_at`] tells from its position.
    pub(crate) lines: std::rc::Rc<std::cell::RefCell<crate::lines::LineIndex>>,
    /// UTF-8 or GB18030, as sniffed.
    pub encoding: &'static Encoding,
    /// The file opens with a byte-order mark.
    pub bom: bool,
    /// Its first lines end in CRLF (Excel and WPS on Windows), else in lone CR, else in LF.
    pub line_end: &'static [u8],
}

impl<S: Read> CsvFile<S> {
    /// Opens `source` (UTF-8 or GB18030, any line ends).
    pub fn open(mut source: S) -> Result<Self, ImportError> {
        let mut head = Vec::with_capacity(SNIFF);
        (&mut source)
            .take(SNIFF as u64)
            .read_to_end(&mut head)
            .map_err(|e| ImportError::Io(e.to_string()))?;
        let encoding = sniff_encoding(&head);
        let bom = Encoding::for_bom(&head).is_some();
        let line_end: &'static [u8] = match head.iter().position(|b| *b == b'\r' || *b == b'\n') {
            Some(i) if head[i] == b'\r' && head.get(i + 1) == Some(&b'\n') => b"\r\n",
            Some(i) if head[i] == b'\r' => b"\r",
            _ => b"\n",
        };
        let decoded = encoding_rs_io::DecodeReaderBytesBuilder::new()
            .encoding(Some(encoding))
            .bom_override(true)
            .build(std::io::Cursor::new(head).chain(source));
        // Lines as the person's editor counts them (LF, CRLF or lone CR), not as the csv crate does (LF only).
        let (decoded, lines) = crate::lines::Lines::new(decoded);
        let reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_reader(decoded);
        Ok(Self {
            reader,
            lines,
            encoding,
            bom,
            line_end,
        })
    }
}

/// Reads a CSV file (UTF-8 or GB18030) into `rows`.
fn parse_csv<R: Record>(source: impl Read, rows: &mut Rows<'_>) -> Result<(), ImportError> {
    let CsvFile {
        mut reader,
        lines,
        encoding,
        ..
    } = CsvFile::open(source)?;
    let line_at = |position: &csv::Position| lines.borrow_mut().line_at(position.byte());
    let mut record = csv::StringRecord::new();
    match reader.read_record(&mut record) {
        Ok(true) => {
            let cells: Vec<&str> = record.iter().collect();
            if !rows.header::<R>(&cells) {
                return Ok(());
            }
        }
        Ok(false) => {
            rows.reject(1, "", msg("import-empty"));
            return Ok(());
        }
        Err(e) => {
            rows.reject(1, "", msg("import-header").then(e.to_string().into()));
            return Ok(());
        }
    }
    loop {
        let line = line_at(reader.position());
        match reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            // A record that runs on past any row's length: the rest of the file is not read.
            Err(e) if matches!(e.kind(), csv::ErrorKind::Io(io) if crate::lines::too_long(io)) => {
                let kib = crate::lines::MAX_RECORD_BYTES >> 10;
                rows.bad(line, msg("import-record-too-long").arg("kib", kib));
                return Ok(());
            }
            // The upload itself failed (the client went away): stop; committed batches stay.
            Err(e) if matches!(e.kind(), csv::ErrorKind::Io(_)) => {
                return Err(ImportError::Io(e.to_string()));
            }
            Err(e) => {
                if !rows.bad(line, msg("import-malformed-csv").arg("error", &e)) {
                    return Ok(());
                }
                continue;
            }
        }
        let line = record.position().map(line_at).unwrap_or(line);
        let more = if record.iter().any(|f| f.contains('\u{FFFD}')) {
            let reason = msg("import-encoding").arg("encoding", encoding.name());
            rows.bad(line, reason)
        } else {
            // The next row read into a record of a row's size, rather than one grown from nothing.
            let next = csv::StringRecord::with_capacity(RECORD_BYTES, RECORD_FIELDS);
            rows.row(line, std::mem::replace(&mut record, next))
        };
        if !more {
            return Ok(());
        }
    }
    Ok(())
}

/// The text of a spreadsheet cell as the import reads it: whole numbers without a decimal point.
pub(crate) fn cell_text(value: &calamine::DataRef<'_>) -> String {
    use calamine::DataRef;
    match value {
        DataRef::Int(n) => n.to_string(),
        DataRef::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", *f as i64),
        DataRef::Float(f) => f.to_string(),
        DataRef::String(s) => s.clone(),
        DataRef::SharedString(s) => s.to_string(),
        DataRef::Bool(b) => if *b { "1" } else { "0" }.into(),
        DataRef::DateTimeIso(s) | DataRef::DurationIso(s) => s.clone(),
        DataRef::DateTime(d) => format!("{d:?}"),
        DataRef::Error(e) => format!("#{e:?}"),
        DataRef::Empty => String::new(),
    }
}

/// The most any part of a workbook may unpack to: a sheet of a million rows of the import's columns is about
/// 400 MB of XML.
pub const MAX_PART_BYTES: u64 = 1 << 30;
/// The most its shared strings may unpack to: calamine holds them all in memory while the sheet is read.
pub const MAX_SHARED_STRINGS_BYTES: u64 = 256 << 20;
/// The most a part may unpack to per byte packed, once past [`RATIO_FROM`]: spreadsheet XML packs 5 to 20 times,
/// a column of one repeated value perhaps 200; a zip bomb a thousand.
pub const MAX_PART_RATIO: u64 = 250;
const RATIO_FROM: u64 = 16 << 20;
/// The most parts a workbook may have.
const MAX_PARTS: usize = 10_000;
/// The fewest bytes one shared string takes (`<si/>`).
const SHARED_STRING_MIN_BYTES: u64 = 5;

/// Why a workbook is refused before it is parsed, if it is: every part is unpacked once as a stream (its declared
/// size may lie) and held to [`MAX_PART_BYTES`] and [`MAX_PART_RATIO`]; the shared strings' `uniqueCount`, which
/// calamine reserves memory for, to the room their unpacked size holds. Leaves `file` at its start.
pub fn check_workbook(file: &mut std::fs::File) -> Result<Option<Text>, ImportError> {
    use std::io::{Seek, SeekFrom};
    let io = |e: std::io::Error| ImportError::Io(e.to_string());
    let unreadable =
        |e: &dyn std::fmt::Display| msg("import-workbook-unreadable").arg("error", e.to_string());
    let refused = {
        let mut zip = match zip::ZipArchive::new(&mut *file) {
            Ok(zip) => zip,
            Err(e) => return Ok(Some(unreadable(&e))),
        };
        check_parts(&mut zip, &unreadable)
    };
    file.seek(SeekFrom::Start(0)).map_err(io)?;
    Ok(refused)
}

fn check_parts<F: Read + std::io::Seek>(
    zip: &mut zip::ZipArchive<F>,
    unreadable: &dyn Fn(&dyn std::fmt::Display) -> Text,
) -> Option<Text> {
    if zip.len() > MAX_PARTS {
        return Some(msg("import-workbook-parts").arg("max", MAX_PARTS));
    }
    let mut buf = vec![0u8; 64 << 10];
    for i in 0..zip.len() {
        let mut part = match zip.by_index(i) {
            Ok(part) => part,
            Err(e) => return Some(unreadable(&e)),
        };
        let name = match part.name() {
            Ok(name) => name.to_string(),
            Err(e) => return Some(unreadable(&e)),
        };
        let strings = name.ends_with("sharedStrings.xml");
        let limit = if strings {
            MAX_SHARED_STRINGS_BYTES
        } else {
            MAX_PART_BYTES
        };
        let packed = part.compressed_size().max(1);
        let mut head: Vec<u8> = Vec::new();
        let mut unpacked = 0u64;
        loop {
            let n = match part.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) => return Some(unreadable(&e)),
            };
            if strings && head.len() < 4096 {
                head.extend_from_slice(&buf[..n.min(4096 - head.len())]);
            }
            unpacked += n as u64;
            if unpacked > limit {
                return Some(
                    msg("import-workbook-entry")
                        .arg("entry", &name)
                        .arg("mib", limit >> 20),
                );
            }
            if unpacked > RATIO_FROM && unpacked > packed.saturating_mul(MAX_PART_RATIO) {
                return Some(
                    msg("import-workbook-ratio")
                        .arg("entry", &name)
                        .arg("ratio", MAX_PART_RATIO),
                );
            }
        }
        if strings {
            let room = unpacked / SHARED_STRING_MIN_BYTES;
            if let Some(claimed) = unique_count(&head)
                && claimed > room
            {
                return Some(
                    msg("import-workbook-strings")
                        .arg("claimed", claimed)
                        .arg("room", room),
                );
            }
        }
    }
    None
}

/// The `uniqueCount` the shared strings' `<sst>` element claims, from the part's first bytes.
fn unique_count(head: &[u8]) -> Option<u64> {
    let text = String::from_utf8_lossy(head);
    let sst = text.find("<sst")?;
    let element = &text[sst..text[sst..].find('>').map_or(text.len(), |end| sst + end)];
    let at = element.find("uniqueCount=")? + "uniqueCount=".len();
    let value = element[at..].trim_start_matches(['"', '\'']);
    let digits: String = value.chars().take_while(char::is_ascii_digit).collect();
    // More digits than a u64 holds claims more than any file could.
    Some(digits.parse().unwrap_or(u64::MAX))
}

/// Reads the first sheet of an XLSX workbook into `rows`, cell by cell (the sheet is never held whole).
fn parse_xlsx<R: Record>(mut file: std::fs::File, rows: &mut Rows<'_>) -> Result<(), ImportError> {
    use calamine::Reader;
    if let Some(reason) = check_workbook(&mut file)? {
        rows.reject(1, "", reason);
        return Ok(());
    }
    // A workbook calamine cannot read is refused at its first row, as one the checks above refuse.
    let bad = |e: calamine::XlsxError| msg("import-workbook-unreadable").arg("error", e);
    let mut workbook = match calamine::Xlsx::new(std::io::BufReader::new(file)) {
        Ok(workbook) => workbook,
        Err(e) => {
            rows.reject(1, "", bad(e));
            return Ok(());
        }
    };
    let Some(sheet) = workbook.sheet_names().first().cloned() else {
        rows.reject(1, "", "the workbook has no sheet".into());
        return Ok(());
    };
    let mut cells = match workbook.worksheet_cells_reader(&sheet) {
        Ok(cells) => cells,
        Err(e) => {
            rows.reject(1, "", bad(e));
            return Ok(());
        }
    };
    let mut current: Option<u32> = None;
    let mut row: Vec<String> = Vec::new();
    let mut header_seen = false;
    let mut emit = |index: u32, row: &mut Vec<String>, rows: &mut Rows<'_>| -> bool {
        if let Some(width) = rows.layout.as_ref().map(|layout| layout.width()) {
            // Trailing empty cells are not stored in a sheet.
            if row.len() < width {
                row.resize(width, String::new());
            }
        }
        let more = if header_seen {
            rows.row(
                u64::from(index) + 1,
                csv::StringRecord::from(std::mem::take(row)),
            )
        } else {
            header_seen = true;
            let values: Vec<&str> = row.iter().map(String::as_str).collect();
            rows.header::<R>(&values)
        };
        row.clear();
        more
    };
    loop {
        let cell = match cells.next_cell() {
            Ok(Some(cell)) => cell,
            Ok(None) => break,
            Err(e) => {
                // Where the sheet stops being readable: the rows before it stand.
                let line = current.map_or(1, |r| u64::from(r) + 1);
                if rows.layout.is_none() {
                    rows.reject(line, "", bad(e));
                } else {
                    rows.bad(line, bad(e));
                }
                return Ok(());
            }
        };
        let (r, c) = cell.get_position();
        if current.is_some_and(|cur| cur != r) && !emit(current.unwrap_or_default(), &mut row, rows)
        {
            return Ok(());
        }
        current = Some(r);
        let c = c as usize;
        if row.len() <= c {
            row.resize(c + 1, String::new());
        }
        row[c] = cell_text(cell.get_value());
    }
    if let Some(r) = current {
        emit(r, &mut row, rows);
    } else {
        rows.reject(1, "", "the sheet is empty".into());
    }
    Ok(())
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

/// Writes a batch whose ids are unique, in one transaction, by multi-row upserts (the SQLite path).
async fn write_batch<R: Record>(
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

/// Why a second row of an id is refused.
fn duplicate(first: u64, id: &str) -> Text {
    msg("import-duplicate").arg("first", first).arg("id", id)
}

/// What one writer did.
#[derive(Default)]
struct Written {
    accepted: u64,
    created: u64,
    time: std::time::Duration,
}

/// Counts what a write did and reports its duplicates.
async fn tally(
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
async fn write_batches<R: Record>(
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

/// One row on its way through the sort: its id, then its COPY line; ordered by id, then by file line.
struct SortRow {
    /// The id's first 16 bytes as a number, so most comparisons are one comparison of integers.
    prefix: u128,
    line: u64,
    id_len: u32,
    /// The row's digest ([`store::row_digest`]), also in its COPY line.
    digest: [u8; 32],
    bytes: Vec<u8>,
}

impl SortRow {
    fn new(line: u64, id_len: u32, digest: [u8; 32], bytes: Vec<u8>) -> Self {
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

    fn id(&self) -> &[u8] {
        &self.bytes[..self.id_len as usize]
    }

    fn copy_line(&self) -> &[u8] {
        &self.bytes[self.id_len as usize..]
    }

    /// By id, then by line.
    fn order(&self, other: &Self) -> std::cmp::Ordering {
        self.prefix
            .cmp(&other.prefix)
            .then_with(|| self.id().cmp(other.id()))
            .then(self.line.cmp(&other.line))
    }

    /// A checked row as the sort takes it: its COPY line, stamped with the import.
    fn of<R: Record>(staged: Staged<R>, import_id: &str, now: i64) -> Self {
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
fn sort_rows(
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

/// Writes chunks of rows in key order on one PostgreSQL connection, each in its own transaction.
async fn write_chunks<R: Record>(
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

/// Formats an import reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// CSV, UTF-8 or GB18030.
    Csv,
    /// Excel workbook, first sheet.
    Xlsx,
}

impl Format {
    /// Guessed from a file name: `.xlsx` is a workbook, anything else CSV.
    pub fn of(file_name: &str) -> Self {
        if file_name.to_lowercase().ends_with(".xlsx") {
            Self::Xlsx
        } else {
            Self::Csv
        }
    }
}

/// Largest workbook accepted: a workbook is read from a temporary file, not as a stream.
pub const MAX_XLSX_BYTES: u64 = 512 << 20;

/// Copies an upload to an unnamed temporary file (deleted when closed), refusing oversized workbooks.
fn spool(mut source: impl Read) -> Result<std::fs::File, ImportError> {
    use std::io::{Seek, SeekFrom};
    let io = |e: std::io::Error| ImportError::Io(e.to_string());
    let path = std::env::temp_dir().join(format!("suiji-import-{}.xlsx", uuid::Uuid::new_v4()));
    let mut file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create_new(true)
        .open(&path)
        .map_err(io)?;
    let _ = std::fs::remove_file(&path);
    let copied =
        std::io::copy(&mut (&mut source).take(MAX_XLSX_BYTES + 1), &mut file).map_err(io)?;
    if copied > MAX_XLSX_BYTES {
        return Err(ImportError::Io(format!(
            "the workbook is larger than {} MiB; save it as CSV",
            MAX_XLSX_BYTES >> 20
        )));
    }
    file.seek(SeekFrom::Start(0)).map_err(io)?;
    Ok(file)
}

/// Imports targets from `source` into `db`, sending progress and rejections to `reports`.
pub async fn import_targets(
    db: &Db,
    actor: &str,
    file_name: &str,
    format: Format,
    source: impl AsyncRead + Send + Unpin + 'static,
    reports: mpsc::Sender<Report>,
) -> Result<Summary, ImportError> {
    import::<Target>(
        db,
        Actor {
            subject: actor,
            scope: None,
        },
        file_name,
        format,
        source,
        reports,
        Sizes::default(),
    )
    .await
}

/// Imports inspectors from `source` into `db`, sending progress and rejections to `reports`.
pub async fn import_inspectors(
    db: &Db,
    actor: &str,
    file_name: &str,
    format: Format,
    source: impl AsyncRead + Send + Unpin + 'static,
    reports: mpsc::Sender<Report>,
) -> Result<Summary, ImportError> {
    import::<Inspector>(
        db,
        Actor {
            subject: actor,
            scope: None,
        },
        file_name,
        format,
        source,
        reports,
        Sizes::default(),
    )
    .await
}

/// What the reading side of an import needs besides the file.
struct Reader {
    format: Format,
    departments: HashSet<String>,
    scope: Option<Scope>,
    counters: Arc<Counters>,
    reports: mpsc::Sender<Report>,
}

impl Reader {
    /// Reads and checks the file on blocking threads, handing on its good rows as `encode` makes them.
    fn spawn<R: Record, T: Keyed + 'static>(
        self,
        source: impl Read + Send + 'static,
        batches: mpsc::Sender<Vec<T>>,
        encode: impl Fn(Staged<R>) -> T + Send + Sync + 'static,
    ) -> tokio::task::JoinHandle<Result<(), ImportError>> {
        tokio::task::spawn_blocking(move || {
            let checks = Checks {
                regions: Regions::shipped(),
                departments: &self.departments,
                scope: self.scope.as_ref(),
            };
            read_rows::<R, T>(
                self.format,
                source,
                &checks,
                &encode,
                &self.counters,
                &self.reports,
                batches,
            )
        })
    }
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

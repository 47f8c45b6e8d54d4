//! The import pipeline: one thread reads raw rows, two check runs of them, and the checked runs are put back in the
//! file's order, so rejections are reported in it; memory stays bounded by the runs in flight.

use super::*;

/// Counts shared by the parser and the writer, for progress reports.
#[derive(Default)]
pub(super) struct Counters {
    pub(super) rows_read: AtomicU64,
    pub(super) accepted: AtomicU64,
    pub(super) rejected: AtomicU64,
    pub(super) listed: AtomicU64,
    /// The file's columns, once its header is read: a rejection names its column's letters.
    pub(super) layout: std::sync::OnceLock<Arc<Layout>>,
}

impl Counters {
    /// The rejection of `field` on the row at `line`, with its column's letters.
    pub(super) fn rejection(&self, line: u64, field: &str, reason: Text) -> Rejection {
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
    pub(super) fn list(
        &self,
        reports: &mpsc::Sender<Report>,
        line: u64,
        field: &str,
        reason: Text,
    ) {
        if self.listed.fetch_add(1, Ordering::Relaxed) < MAX_LISTED {
            let _ = reports.blocking_send(Report::Rejected(self.rejection(line, field, reason)));
        }
    }

    /// Counts so far.
    pub(super) fn progress(&self) -> Report {
        Report::Progress {
            rows_read: self.rows_read.load(Ordering::Relaxed),
            accepted: self.accepted.load(Ordering::Relaxed),
            rejected: self.rejected.load(Ordering::Relaxed),
        }
    }

    /// Counts a rejected row and lists why.
    pub(super) fn reject(
        &self,
        reports: &mpsc::Sender<Report>,
        line: u64,
        field: &str,
        reason: Text,
    ) {
        self.rejected.fetch_add(1, Ordering::Relaxed);
        self.list(reports, line, field, reason);
    }
}

/// The most data rows one file may bring: twice a province's directory of ten million targets. A larger file is
/// read up to here, and its rows after are refused (split it).
pub const MAX_ROWS: u64 = 20_000_000;

/// Raw rows read but not yet checked, dealt to the checkers this many at a time.
pub(super) const RAW_BATCH: usize = 2_000;

/// The bytes and fields a record is made with, enough for a typical row.
pub(super) const RECORD_BYTES: usize = 256;

pub(super) const RECORD_FIELDS: usize = 24;

/// Threads that check rows while the file is read.
pub(super) const CHECKERS: usize = 2;

/// A row as read from the file, before its checks.
pub(super) enum Raw {
    /// The cells of a data row.
    Row { line: u64, cells: csv::StringRecord },
    /// A row that could not be read into cells, and why.
    Bad { line: u64, reason: Text },
}

/// A row after its checks.
pub(super) enum Checked<T> {
    Good(T),
    Bad {
        line: u64,
        problems: Vec<FieldError>,
    },
}

/// A run of raw rows with the layout of the file's header.
pub(super) struct RawBatch {
    pub(super) layout: Arc<Layout>,
    pub(super) rows: Vec<Raw>,
}

/// Takes rows from the file reader, whatever the file format: the header first, then each data row with its
/// line. Data rows are dealt in runs to the checkers, in turn, so that they are checked on several threads and
/// come back in the file's order.
pub(super) struct Rows<'a> {
    pub(super) layout: Option<Arc<Layout>>,
    pub(super) counters: &'a Counters,
    pub(super) reports: mpsc::Sender<Report>,
    pub(super) checkers: Vec<std::sync::mpsc::SyncSender<RawBatch>>,
    pub(super) turn: usize,
    pub(super) open: Vec<Raw>,
}

impl<'a> Rows<'a> {
    pub(super) fn reject(&self, line: u64, field: &str, reason: Text) {
        self.counters.reject(&self.reports, line, field, reason);
    }

    /// Reads the header; false when the file cannot be read further.
    pub(super) fn header<R: Record>(&mut self, cells: &[&str]) -> bool {
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
    pub(super) fn row(&mut self, line: u64, cells: csv::StringRecord) -> bool {
        if cells.iter().all(|f| f.trim().is_empty()) {
            return true;
        }
        self.push(Raw::Row { line, cells })
    }

    /// Takes a row that could not be read, in its place among the others.
    pub(super) fn bad(&mut self, line: u64, reason: Text) -> bool {
        self.push(Raw::Bad { line, reason })
    }

    pub(super) fn push(&mut self, raw: Raw) -> bool {
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
    pub(super) fn deal(&mut self) -> bool {
        let Some(layout) = self.layout.clone() else {
            return false;
        };
        let rows = std::mem::replace(&mut self.open, Vec::with_capacity(RAW_BATCH));
        let checker = &self.checkers[self.turn % self.checkers.len()];
        self.turn += 1;
        checker.send(RawBatch { layout, rows }).is_ok()
    }

    /// Hands on the last, partly filled run.
    pub(super) fn finish(mut self) {
        if !self.open.is_empty() {
            self.deal();
        }
    }
}

/// A checked row on its way to be written: its key and the file line it came from.
pub(super) trait Keyed: Send {
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
pub(super) fn check_rows<R: Record, T: Keyed>(
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
pub(super) fn sequence<T: Keyed>(
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
pub(super) fn read_rows<R: Record, T: Keyed>(
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

/// What the reading side of an import needs besides the file.
pub(super) struct Reader {
    pub(super) format: Format,
    pub(super) departments: HashSet<String>,
    pub(super) scope: Option<Scope>,
    pub(super) counters: Arc<Counters>,
    pub(super) reports: mpsc::Sender<Report>,
}

impl Reader {
    /// Reads and checks the file on blocking threads, handing on its good rows as `encode` makes them.
    pub(super) fn spawn<R: Record, T: Keyed + 'static>(
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

//! Reading an import file: CSV in UTF-8 or GB18030 (its encoding sniffed), or an XLSX workbook checked against
//! archive bombs before it is read; each row handed to the pipeline as raw cells with its line.

use super::*;

/// Bytes looked at to tell UTF-8 from GB18030.
pub(super) const SNIFF: usize = 64 * 1024;

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
pub(super) fn parse_csv<R: Record>(
    source: impl Read,
    rows: &mut Rows<'_>,
) -> Result<(), ImportError> {
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

pub(super) const RATIO_FROM: u64 = 16 << 20;

/// The most parts a workbook may have.
pub(super) const MAX_PARTS: usize = 10_000;

/// The fewest bytes one shared string takes (`<si/>`).
pub(super) const SHARED_STRING_MIN_BYTES: u64 = 5;

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

pub(super) fn check_parts<F: Read + std::io::Seek>(
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
pub(super) fn unique_count(head: &[u8]) -> Option<u64> {
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
pub(super) fn parse_xlsx<R: Record>(
    mut file: std::fs::File,
    rows: &mut Rows<'_>,
) -> Result<(), ImportError> {
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
pub(super) fn spool(mut source: impl Read) -> Result<std::fs::File, ImportError> {
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

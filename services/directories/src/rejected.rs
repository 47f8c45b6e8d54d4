//! The rejected rows of an import, written back as a file in the upload's own format and encoding (CSV in UTF-8
//! or GB18030 with the same line ends and BOM; XLSX), each row as it was with its reasons in a last column: the
//! clerk corrects it where it stands and uploads it again, and the import passes over that column.

use std::collections::BTreeMap;
use std::io::{Read, Write};

use crate::import::{CsvFile, Format, ImportError};

/// The header of the reasons' column, `(English, Chinese)`; an import ignores a column so named.
pub const REASON_COLUMN: (&str, &str) = ("rejection_reason", "错误原因");

/// Whether a header cell names the reasons' column.
pub fn is_reason_column(cell: &str) -> bool {
    let cell = cell.trim().trim_start_matches('\u{feff}').trim();
    cell.eq_ignore_ascii_case(REASON_COLUMN.0) || cell == REASON_COLUMN.1
}

/// Writes to `out` the header of `source` and each of its rows whose line (as the import named it) has reasons,
/// with them; how many rows were written.
pub fn write<S: Read>(
    format: Format,
    source: S,
    reasons: &BTreeMap<u64, Vec<String>>,
    out: impl Write,
) -> Result<u64, ImportError> {
    match format {
        Format::Csv => write_csv(source, reasons, out),
        Format::Xlsx => write_xlsx(source, reasons, out),
    }
}

fn io(e: impl std::fmt::Display) -> ImportError {
    ImportError::Io(e.to_string())
}

/// The reasons' header in the language of the file's own header.
fn reason_header(header: &[&str]) -> &'static str {
    if header.iter().any(|h| !h.is_ascii()) {
        REASON_COLUMN.1
    } else {
        REASON_COLUMN.0
    }
}

fn write_csv<S: Read>(
    source: S,
    reasons: &BTreeMap<u64, Vec<String>>,
    mut out: impl Write,
) -> Result<u64, ImportError> {
    let CsvFile {
        mut reader,
        lines,
        encoding,
        bom,
        line_end,
    } = CsvFile::open(source)?;
    let terminator = match line_end {
        b"\r\n" => csv::Terminator::CRLF,
        other => csv::Terminator::Any(other[0]),
    };
    let mut text = csv::WriterBuilder::new()
        .flexible(true)
        .terminator(terminator)
        .from_writer(Vec::new());
    let mut record = csv::StringRecord::new();
    let mut written = 0;
    let mut first = true;
    while reader.read_record(&mut record).map_err(io)? {
        let mut cells: Vec<String> = record.iter().map(String::from).collect();
        if first {
            first = false;
            let header: Vec<&str> = record.iter().collect();
            cells.push(reason_header(&header).into());
        } else {
            let line = lines
                .borrow_mut()
                .line_at(record.position().map_or(0, |p| p.byte()));
            let Some(why) = reasons.get(&line) else {
                continue;
            };
            cells.push(why.join("；"));
            written += 1;
        }
        text.write_record(&cells).map_err(io)?;
    }
    let text = String::from_utf8(text.into_inner().map_err(io)?).map_err(io)?;
    if bom {
        let mark: &[u8] = if encoding == encoding_rs::UTF_8 {
            b"\xEF\xBB\xBF"
        } else {
            b"\x84\x31\x95\x33"
        };
        out.write_all(mark).map_err(io)?;
    }
    let (bytes, _, _) = encoding.encode(&text);
    out.write_all(&bytes).map_err(io)?;
    Ok(written)
}

fn write_xlsx<S: Read>(
    mut source: S,
    reasons: &BTreeMap<u64, Vec<String>>,
    mut out: impl Write,
) -> Result<u64, ImportError> {
    use calamine::Reader;
    let mut bytes = Vec::new();
    source.read_to_end(&mut bytes).map_err(io)?;
    let mut workbook = calamine::Xlsx::new(std::io::Cursor::new(bytes)).map_err(io)?;
    let Some(sheet) = workbook.sheet_names().first().cloned() else {
        return Err(io("the workbook has no sheet"));
    };
    let mut cells = workbook.worksheet_cells_reader(&sheet).map_err(io)?;
    // The sheet's rows that are kept, by row number: the header (the first row with cells) and the rejected.
    let mut kept: BTreeMap<u32, Vec<String>> = BTreeMap::new();
    let mut header_row = None;
    while let Some(cell) = cells.next_cell().map_err(io)? {
        let (r, c) = cell.get_position();
        let header = *header_row.get_or_insert(r);
        if r != header && !reasons.contains_key(&(u64::from(r) + 1)) {
            continue;
        }
        let row = kept.entry(r).or_default();
        let c = c as usize;
        if row.len() <= c {
            row.resize(c + 1, String::new());
        }
        row[c] = crate::import::cell_text(cell.get_value());
    }
    let mut book = rust_xlsxwriter::Workbook::new();
    let out_sheet = book.add_worksheet();
    let width = header_row.and_then(|r| kept.get(&r)).map_or(0, Vec::len);
    let mut written = 0;
    for (i, (r, row)) in kept.iter().enumerate() {
        let at = i as u32;
        for (c, text) in row.iter().enumerate() {
            out_sheet.write_string(at, c as u16, text).map_err(io)?;
        }
        let why = if Some(*r) == header_row {
            let header: Vec<&str> = row.iter().map(String::as_str).collect();
            reason_header(&header).to_string()
        } else {
            written += 1;
            reasons[&(u64::from(*r) + 1)].join("；")
        };
        out_sheet.write_string(at, width as u16, why).map_err(io)?;
    }
    out.write_all(&book.save_to_buffer().map_err(io)?)
        .map_err(io)?;
    Ok(written)
}

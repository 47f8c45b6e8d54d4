//! Line numbers as a person sees them where they open the file. The csv crate counts only LF, so a file saved by
//! Excel or WPS on Windows (CRLF) was numbered one short from its third line on, and a file with lone CRs not at
//! all. [`Lines`] counts every line break the text holds — LF, CRLF and lone CR, one line each — as the bytes pass
//! to the parser, and [`LineIndex::line_at`] turns the byte a record starts at into its line.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::io::Read;
use std::rc::Rc;

/// The line breaks between what the parser has asked about and what has been read: bounded by the parser's
/// buffer, whatever the file's size.
#[derive(Debug, Default)]
pub struct LineIndex {
    /// Bytes read so far.
    read: u64,
    /// Each line break not yet passed, as the bytes it takes (`start..end`: one for LF or CR, two for CRLF), in
    /// order.
    breaks: VecDeque<(u64, u64)>,
    /// Line breaks already passed.
    passed: u64,
    /// The last byte read.
    last: u8,
    /// The furthest byte the parser asked about: where the record being read starts.
    asked: u64,
}

/// The most bytes one record (a row, with its quoted line breaks) may take: a row of the import's columns is a
/// few hundred bytes, and a record is held whole in memory while it is parsed, so a file whose one field runs on
/// for gigabytes is refused when it passes this, not when the memory is gone.
pub const MAX_RECORD_BYTES: u64 = 1 << 20;
/// What the parser reads ahead of the record it is on (its buffer), besides the record.
const READ_AHEAD: u64 = 64 << 10;

/// A record longer than [`MAX_RECORD_BYTES`].
#[derive(Debug)]
pub struct RecordTooLong;

impl std::fmt::Display for RecordTooLong {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "a record longer than {} bytes", MAX_RECORD_BYTES)
    }
}

impl std::error::Error for RecordTooLong {}

impl LineIndex {
    fn scan(&mut self, bytes: &[u8]) {
        // Only the line breaks are looked at, found a vector at a time: every byte of a directory of ten million
        // rows passes here.
        for i in memchr::memchr2_iter(b'\n', b'\r', bytes) {
            let at = self.read + i as u64;
            let after_cr = match i {
                0 => self.last == b'\r',
                i => bytes[i - 1] == b'\r',
            };
            match bytes[i] {
                // The LF of a CRLF: the same line break (already passed, when the parser asked about the byte
                // after the CR before the LF was read).
                b'\n' if after_cr => {
                    if let Some(back) = self.breaks.back_mut().filter(|b| b.1 == at) {
                        back.1 = at + 1;
                    }
                }
                _ => self.breaks.push_back((at, at + 1)),
            }
        }
        if let Some(last) = bytes.last() {
            self.last = *last;
        }
        self.read += bytes.len() as u64;
    }

    /// The line (from 1) of the record the parser says starts at `offset` of the text read. The parser counts a
    /// record from the end of the one before, so the line breaks at `offset` — the rest of a CRLF, blank lines —
    /// come before it. Offsets asked about never go back.
    pub fn line_at(&mut self, offset: u64) -> u64 {
        self.asked = self.asked.max(offset);
        let mut at = offset;
        while let Some(&(start, end)) = self.breaks.front() {
            if end <= at || start <= at {
                self.breaks.pop_front();
                self.passed += 1;
                at = at.max(end);
            } else {
                break;
            }
        }
        self.passed + 1
    }
}

/// A reader that counts line breaks as they pass.
pub struct Lines<R> {
    inner: R,
    index: Rc<RefCell<LineIndex>>,
}

impl<R: Read> Lines<R> {
    /// Wraps `inner`; the index answers for the bytes read through it.
    pub fn new(inner: R) -> (Self, Rc<RefCell<LineIndex>>) {
        let index = Rc::new(RefCell::new(LineIndex::default()));
        (
            Self {
                inner,
                index: index.clone(),
            },
            index,
        )
    }
}

impl<R: Read> Read for Lines<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        let mut index = self.index.borrow_mut();
        index.scan(&buf[..n]);
        if index.read.saturating_sub(index.asked) > MAX_RECORD_BYTES + READ_AHEAD {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                RecordTooLong,
            ));
        }
        Ok(n)
    }
}

/// Whether `error` is a record refused for its length.
pub fn too_long(error: &std::io::Error) -> bool {
    error
        .get_ref()
        .is_some_and(|e| e.downcast_ref::<RecordTooLong>().is_some())
}

/// The letters a spreadsheet names the column at `index` (from 0) with: A … Z, AA, AB, ….
pub fn column_letters(index: usize) -> String {
    let mut n = index + 1;
    let mut letters = Vec::new();
    while n > 0 {
        let rem = (n - 1) % 26;
        letters.push(b'A' + rem as u8);
        n = (n - 1) / 26;
    }
    letters.reverse();
    String::from_utf8(letters).expect("ASCII letters")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The line of each record start of `text` (each line's first byte), read in small pieces.
    fn lines_of(text: &[u8], starts: &[u64]) -> Vec<u64> {
        let (mut reader, index) = Lines::new(text);
        let mut buf = [0u8; 3];
        while reader.read(&mut buf).unwrap() > 0 {}
        starts
            .iter()
            .map(|s| index.borrow_mut().line_at(*s))
            .collect()
    }

    #[test]
    fn lf_crlf_and_lone_cr_each_end_one_line() {
        assert_eq!(lines_of(b"a\nb\nc\n", &[0, 2, 4]), [1, 2, 3]);
        assert_eq!(lines_of(b"a\r\nb\r\nc\r\n", &[0, 3, 6]), [1, 2, 3]);
        assert_eq!(lines_of(b"a\rb\rc\r", &[0, 2, 4]), [1, 2, 3]);
        // A CRLF cut between two reads, and mixed endings.
        assert_eq!(lines_of(b"ab\r\ncd\re\n\nf", &[0, 4, 7, 10]), [1, 2, 3, 5]);
    }

    #[test]
    fn a_crlf_cut_by_a_read_after_a_question_is_one_line_break() {
        // The parser asks about the byte after a CR before the LF is read, as it does between records.
        let (mut reader, index) = Lines::new(&b"a\r\nb\r\nc"[..]);
        let mut two = [0u8; 2];
        assert_eq!(reader.read(&mut two).unwrap(), 2);
        assert_eq!(index.borrow_mut().line_at(2), 2);
        let mut rest = Vec::new();
        reader.read_to_end(&mut rest).unwrap();
        assert_eq!(
            index.borrow_mut().line_at(3),
            2,
            "the LF after the CR is no new line"
        );
        assert_eq!(index.borrow_mut().line_at(6), 3);
    }

    #[test]
    fn a_record_counted_from_the_end_of_the_last_starts_after_blank_lines() {
        // The csv crate says a record starts right after the last one's terminator: at the LF of a CRLF, or at
        // blank lines it skips.
        assert_eq!(lines_of(b"h\r\n\r\nx\r\n", &[0, 2]), [1, 3]);
        assert_eq!(lines_of(b"h\n\nx\n", &[0, 2]), [1, 3]);
        assert_eq!(lines_of(b"h\r\rx\r", &[0, 2]), [1, 3]);
        assert_eq!(lines_of(b"h\rg\r\rx\r", &[0, 2, 4]), [1, 2, 4]);
    }

    #[test]
    fn a_quoted_line_break_moves_the_next_record_down() {
        let text = b"h\r\n\"two\r\nlines\",x\r\nnext\r\n";
        assert_eq!(lines_of(text, &[0, 3, 19]), [1, 2, 4]);
    }

    #[test]
    fn columns_are_lettered_as_spreadsheets_do() {
        let letters: Vec<String> = [0, 1, 25, 26, 27, 51, 52, 701, 702]
            .into_iter()
            .map(column_letters)
            .collect();
        assert_eq!(
            letters,
            ["A", "B", "Z", "AA", "AB", "AZ", "BA", "ZZ", "AAA"]
        );
    }
}

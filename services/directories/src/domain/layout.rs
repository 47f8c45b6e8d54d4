//! Import files' columns: which header names (English or Chinese) a record type knows, which it requires, and
//! where each sits in a given file.

/// The columns of one record type, in export order.
use suiji_platform::messages::{Text, msg};

#[derive(Debug)]
pub struct Columns {
    /// `(English, Chinese)` header of each column.
    pub headers: &'static [(&'static str, &'static str)],
    /// Indexes (into `headers`) of the columns a file must have.
    pub required: &'static [usize],
}

/// Where each column sits in a file's rows.
#[derive(Debug, Clone)]
pub struct Layout {
    columns: &'static Columns,
    /// For each column, its position in the file's rows, if the file has it.
    positions: Vec<Option<usize>>,
    width: usize,
}

impl Layout {
    /// Reads a header row. Unknown or repeated headers are refused, and required ones must be there.
    pub fn from_header(columns: &'static Columns, header: &[&str]) -> Result<Self, Text> {
        let mut positions = vec![None; columns.headers.len()];
        for (i, raw) in header.iter().enumerate() {
            let cell = raw.trim().trim_start_matches('\u{feff}').trim();
            // The reasons a rejected-rows file carries: passed over when it comes back corrected.
            if crate::rejected::is_reason_column(cell) {
                continue;
            }
            let Some(column) = columns
                .headers
                .iter()
                .position(|(en, zh)| cell.eq_ignore_ascii_case(en) || cell == *zh)
            else {
                let known: Vec<&str> = columns.headers.iter().map(|(en, _)| *en).collect();
                return Err(msg("import-unknown-column")
                    .arg("cell", cell)
                    .arg("known", known.join(", ")));
            };
            if positions[column].is_some() {
                return Err(msg("import-column-twice").arg("column", columns.headers[column].0));
            }
            positions[column] = Some(i);
        }
        if let Some(missing) = columns.required.iter().find(|c| positions[**c].is_none()) {
            return Err(msg("import-column-missing").arg("column", columns.headers[*missing].0));
        }
        Ok(Self {
            columns,
            positions,
            width: header.len(),
        })
    }

    /// Number of columns in the file's header.
    pub fn width(&self) -> usize {
        self.width
    }

    /// The trimmed value of `column` (an index into the record type's headers) in `row`; empty when absent.
    pub fn get<'a>(&self, row: &[&'a str], column: usize) -> &'a str {
        self.positions
            .get(column)
            .copied()
            .flatten()
            .and_then(|i| row.get(i))
            .map(|s| s.trim())
            .unwrap_or("")
    }

    /// Where the column named `name` (English) sits in the file's rows, if the file has it.
    pub fn position_of(&self, name: &str) -> Option<usize> {
        let column = self
            .columns
            .headers
            .iter()
            .position(|(en, _)| *en == name)?;
        self.positions[column]
    }

    /// The English header of `column`.
    pub fn name(&self, column: usize) -> &'static str {
        self.columns.headers[column].0
    }

    /// A row whose field count differs from the header's, as a problem of the whole row.
    pub fn check_width(&self, row: &[&str]) -> Result<(), Text> {
        if row.len() == self.width {
            Ok(())
        } else {
            Err(msg("import-width")
                .arg("fields", row.len())
                .arg("header", self.width))
        }
    }
}

/// Reads a yes/no cell, recording a problem under `column` when it is neither.
pub fn yes_no(value: &str, column: &'static str, errors: &mut Vec<(&'static str, Text)>) -> bool {
    match value {
        "" | "0" | "false" | "否" | "N" | "n" | "no" => false,
        "1" | "true" | "是" | "Y" | "y" | "yes" => true,
        other => {
            errors.push((column, msg("import-yes-no").arg("value", other)));
            false
        }
    }
}

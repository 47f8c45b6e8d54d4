//! Cells that a spreadsheet would take for a formula (CSV injection: `=HYPERLINK(…)` in a target's name): every CSV
//! the platform writes puts an apostrophe before them, and every import takes it off again, so an export imports back
//! unchanged.

use std::borrow::Cow;

/// The first characters that make a spreadsheet read a cell as a formula.
const TRIGGERS: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// `cell` as it is safe to write into a CSV file.
pub fn neutralised(cell: &str) -> Cow<'_, str> {
    // A cell that already reads as a neutralised one gets its own apostrophe too, so `restored` gives it back.
    if cell.starts_with(TRIGGERS) || restored(cell).len() != cell.len() {
        Cow::Owned(format!("'{cell}"))
    } else {
        Cow::Borrowed(cell)
    }
}

/// A cell read from a file, without the apostrophe [`neutralised`] put before it.
pub fn restored(cell: &str) -> &str {
    match cell.strip_prefix('\'') {
        Some(rest)
            if rest.starts_with(TRIGGERS) || rest.starts_with('\'') && restored(rest) != rest =>
        {
            rest
        }
        _ => cell,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_are_neutralised_and_come_back_unchanged() {
        for cell in [
            "=HYPERLINK(\"http://x\",\"点此\")",
            "+1",
            "-2",
            "@SUM(A1)",
            "\tx",
            "'=already",
            "''=twice",
            "'plain quote",
            "某商贸有限公司",
            "",
        ] {
            let written = neutralised(cell);
            assert!(
                !written.starts_with(TRIGGERS),
                "{cell:?} is written as {written:?}"
            );
            assert_eq!(restored(&written), cell, "{cell:?} via {written:?}");
        }
        assert_eq!(neutralised("=1+1"), "'=1+1");
        assert_eq!(neutralised("某商贸有限公司"), "某商贸有限公司");
        assert_eq!(neutralised("'plain quote"), "'plain quote");
    }
}

//! Fuzzing what a department uploads, from the seeds of `fuzz/corpus/`: credit codes, CSV files and XLSX
//! workbooks. Whatever the bytes, the import ends in a summary and row reports (or a clear error), never a panic or
//! an abort, and never counts more rows written than read.

use std::sync::OnceLock;

use proptest::prelude::*;
use suiji_directories::domain::uscc;
use suiji_directories::import::Format;
use suiji_platform::db::Db;
use suiji_platform::testing::fuzz::{corpus, mutated};
use suiji_platform::testing::{Backend, Isolated};

use crate::import::{directory, run_as};

/// One runtime and one embedded directory for every case.
fn world() -> &'static (tokio::runtime::Runtime, Isolated, Db) {
    static WORLD: OnceLock<(tokio::runtime::Runtime, Isolated, Db)> = OnceLock::new();
    WORLD.get_or_init(|| {
        let runtime = tokio::runtime::Runtime::new().unwrap();
        let (isolated, db) = runtime
            .block_on(directory(Backend::Embedded))
            .expect("the embedded directory");
        (runtime, isolated, db)
    })
}

fn imports(bytes: Vec<u8>, format: Format) -> Result<(), TestCaseError> {
    let (runtime, _, db) = world();
    if let Ok((summary, rejections)) = runtime.block_on(run_as(db, bytes, format)) {
        prop_assert!(summary.accepted <= summary.rows_read, "{summary:?}");
        prop_assert!(rejections.iter().all(|r| r.line >= 1), "{rejections:?}");
    }
    Ok(())
}

proptest! {
    #[test]
    fn a_credit_code_is_normalised_or_refused(input in mutated(corpus("uscc"))) {
        let text = String::from_utf8_lossy(&input);
        if let Ok(code) = uscc::validate(&text) {
            prop_assert_eq!(code.len(), 18);
            let again = uscc::validate(&code);
            prop_assert_eq!(again.as_deref(), Ok(code.as_str()), "normalised once");
        }
    }

    #[test]
    fn a_code_with_its_check_character_is_valid_and_any_other_refused(
        body in prop::collection::vec(prop::sample::select(&uscc::ALPHABET[..]), 8),
        region in prop::sample::select(vec!["610402", "610000", "510802", "110105"]),
        other in prop::sample::select(&uscc::ALPHABET[..]),
    ) {
        let valid = uscc::compose('9', '1', region, std::str::from_utf8(&body).unwrap());
        let checked = uscc::validate(&valid);
        prop_assert_eq!(checked.as_deref(), Ok(valid.as_str()));
        let check = valid.as_bytes()[17];
        if other != check {
            let wrong = format!("{}{}", &valid[..17], other as char);
            prop_assert!(uscc::validate(&wrong).is_err(), "{wrong}");
        }
    }

    #[test]
    fn a_csv_file_imports_or_is_reported(input in mutated(corpus("csv"))) {
        imports(input, Format::Csv)?;
    }

    #[test]
    fn a_workbook_imports_or_is_reported(input in mutated(corpus("xlsx"))) {
        imports(input, Format::Xlsx)?;
    }
}

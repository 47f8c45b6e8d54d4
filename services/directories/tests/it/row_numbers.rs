//! A rejection names the row where the person sees it when they open the file: the line of a CSV file however it
//! ends its lines (LF; CRLF as Excel and WPS write on Windows; lone CR), with or without a BOM, in UTF-8 or
//! GB18030, a quoted field's line breaks counted; the row number and column letter of an XLSX sheet, empty rows
//! counted. Each expected line is counted here from the bytes, apart from the importer's own counting.

use suiji_directories::generate::{self, Spec};
use suiji_directories::import::Format;
use suiji_platform::testing::Backend;

use crate::import::{directory, run, run_as};

suiji_platform::on_both_backends!(
    an_excel_csv_with_crlf_names_every_bad_row_where_it_stands,
    lone_cr_gb18030_and_quoted_line_breaks_are_counted_as_shown,
    xlsx_rows_are_named_by_sheet_row_and_column_letter,
    rejected_rows_come_back_in_the_uploads_own_format_ready_to_upload_again
);

/// The line (from 1) holding the byte at `offset`, as an editor counts: LF, CRLF and lone CR end one line each.
fn line_in(bytes: &[u8], offset: usize) -> u64 {
    let mut line = 1;
    let mut i = 0;
    while i < offset {
        if bytes[i] == b'\n' || (bytes[i] == b'\r' && bytes.get(i + 1) != Some(&b'\n')) {
            line += 1;
        }
        i += 1;
    }
    line
}

fn find(bytes: &[u8], needle: &[u8]) -> usize {
    bytes
        .windows(needle.len())
        .position(|w| w == needle)
        .unwrap_or_else(|| panic!("{:?} is in the file", String::from_utf8_lossy(needle)))
}

/// A code with its check character changed: the import refuses it on `credit_code`.
fn corrupted(code: &str) -> String {
    let (body, check) = code.split_at(17);
    format!("{body}{}", if check == "0" { "1" } else { "0" })
}

/// `count` generated targets, LF-ended, header first.
fn generated(count: u64) -> String {
    let mut file = Vec::new();
    let spec = Spec {
        count,
        seed: 11,
        province: "610000".into(),
        departments: vec!["610400-SCJG".into()],
    };
    generate::targets(&spec, &mut file).unwrap();
    String::from_utf8(file).unwrap()
}

async fn an_excel_csv_with_crlf_names_every_bad_row_where_it_stands(backend: Backend) {
    let Some((isolated, db)) = directory(backend).await else {
        return;
    };
    // 2,000 rows as Excel saves them on Windows: a UTF-8 BOM and CRLF; 25 wrong check characters spread through.
    let mut text = String::from("\u{feff}");
    let mut bad = Vec::new();
    for (i, line) in generated(2_000).lines().enumerate() {
        let mut cells: Vec<String> = line.split(',').map(String::from).collect();
        if i > 0 && i % 80 == 7 && cells[2].len() == 18 {
            cells[2] = corrupted(&cells[2]);
            bad.push(cells[2].clone());
        }
        text.push_str(&cells.join(","));
        text.push_str("\r\n");
    }
    assert_eq!(bad.len(), 25);
    let bytes = text.into_bytes();
    let expected: Vec<(u64, String, String)> = bad
        .iter()
        .map(|code| {
            (
                line_in(&bytes, find(&bytes, code.as_bytes())),
                "credit_code".into(),
                "C".into(),
            )
        })
        .collect();
    let (summary, rejections) = run(&db, bytes).await;
    let reported: Vec<(u64, String, String)> = rejections
        .iter()
        .map(|r| (r.line, r.field.clone(), r.column.clone()))
        .collect();
    assert_eq!(reported, expected);
    assert_eq!(
        (summary.rows_read, summary.rejected, summary.accepted),
        (2_000, 25, 1_975)
    );
    db.close().await;
    isolated.cleanup().await;
}

async fn lone_cr_gb18030_and_quoted_line_breaks_are_counted_as_shown(backend: Backend) {
    let Some((isolated, db)) = directory(backend).await else {
        return;
    };
    let header = "类型,统一社会信用代码,名称,行政区划";
    let good = "企业,91350100M000100Y43,某商贸有限公司,610402";
    let wrong = "企业,914403001922038217,校验码错的店,610404";

    // Lone CRs, as old Mac editors wrote: the bad row on line 4.
    let text = format!("{header}\r{good}\r\r{wrong}\r");
    let bytes = text.into_bytes();
    let line = line_in(&bytes, find(&bytes, b"914403001922038217"));
    assert_eq!(line, 4);
    let (_, rejections) = run(&db, bytes).await;
    assert_eq!(
        (rejections[0].line, rejections[0].column.as_str()),
        (line, "B")
    );

    // GB18030 with CRLF, and a name whose quoted cell holds a line break: the next row moves down a line, and a
    // bad row that spans two lines is named by its first.
    let text = format!(
        "{header}\r\n企业,91350100M000100Y43,\"两行的\r\n名称\",610402\r\n{wrong}\r\n企业,91610328000FXMLLX0,\"又是\r\n两行\",610403\r\n"
    );
    let (encoded, _, unmappable) = encoding_rs::GB18030.encode(&text);
    assert!(!unmappable);
    let bytes = encoded.into_owned();
    let (summary, rejections) = run(&db, bytes).await;
    let lines: Vec<(u64, &str)> = rejections
        .iter()
        .map(|r| (r.line, r.column.as_str()))
        .collect();
    // Counted in the decoded text, whose line breaks are the file's.
    let expected = [
        line_in(
            text.as_bytes(),
            find(text.as_bytes(), b"914403001922038217"),
        ),
        line_in(
            text.as_bytes(),
            find(text.as_bytes(), b"91610328000FXMLLX0"),
        ),
    ];
    assert_eq!(expected, [4, 5]);
    assert_eq!(lines, [(4, "B"), (5, "B")], "{rejections:?}");
    assert_eq!((summary.rows_read, summary.accepted), (3, 1));
    db.close().await;
    isolated.cleanup().await;
}

async fn xlsx_rows_are_named_by_sheet_row_and_column_letter(backend: Backend) {
    let Some((isolated, db)) = directory(backend).await else {
        return;
    };
    let mut workbook = rust_xlsxwriter::Workbook::new();
    let sheet = workbook.add_worksheet();
    for (c, h) in ["名称", "类型", "行政区划", "统一社会信用代码"]
        .iter()
        .enumerate()
    {
        sheet.write_string(0, c as u16, *h).unwrap();
    }
    // Rows 2 and 3, then three empty rows, then row 7 with a wrong check character and row 9 with a bad region.
    let rows: [(u32, &str, &str, f64); 4] = [
        (1, "表格里的公司", "91350100M000100Y43", 610402.0),
        (2, "表格里的店", "914403001922038216", 610404.0),
        (6, "空行之后", "914403001922038217", 610404.0),
        (8, "区划不对", "91610328000FXMLLX1", 123.0),
    ];
    for (r, name, code, region) in rows {
        sheet.write_string(r, 0, name).unwrap();
        sheet.write_string(r, 1, "企业").unwrap();
        sheet.write_number(r, 2, region).unwrap();
        sheet.write_string(r, 3, code).unwrap();
    }
    let bytes = workbook.save_to_buffer().unwrap();
    let (summary, rejections) = run_as(&db, bytes, Format::Xlsx).await.unwrap();
    let named: Vec<(u64, &str, &str)> = rejections
        .iter()
        .map(|r| (r.line, r.column.as_str(), r.field.as_str()))
        .collect();
    assert_eq!(
        named,
        [(7, "D", "credit_code"), (9, "C", "region_code")],
        "{rejections:?}"
    );
    assert_eq!((summary.rows_read, summary.accepted), (4, 2));
    db.close().await;
    isolated.cleanup().await;
}

/// The reasons of `rejections` by line, as the CLI gathers them for `--rejected`.
fn reasons_by_line(
    rejections: &[suiji_directories::import::Rejection],
) -> std::collections::BTreeMap<u64, Vec<String>> {
    let mut reasons = std::collections::BTreeMap::<u64, Vec<String>>::new();
    for r in rejections {
        reasons
            .entry(r.line)
            .or_default()
            .push(format!("{} {}: {}", r.column, r.field, r.reason));
    }
    reasons
}

async fn rejected_rows_come_back_in_the_uploads_own_format_ready_to_upload_again(backend: Backend) {
    use suiji_directories::rejected;
    let Some((isolated, db)) = directory(backend).await else {
        return;
    };
    // GB18030 with CRLF, as a clerk's Excel on a Chinese Windows saves it: two bad rows among three.
    let text = "类型,统一社会信用代码,名称,行政区划\r\n企业,91350100M000100Y43,某商贸有限公司,610402\r\n\
                企业,914403001922038217,校验码错的店,610404\r\n企业,91610328000FXMLLX0,\"名称\r\n两行\",610403\r\n";
    let (encoded, _, _) = encoding_rs::GB18030.encode(text);
    let upload = encoded.into_owned();
    let (_, rejections) = run(&db, upload.clone()).await;
    assert_eq!(rejections.len(), 2);
    let mut file = Vec::new();
    let written = rejected::write(
        Format::Csv,
        &upload[..],
        &reasons_by_line(&rejections),
        &mut file,
    )
    .unwrap();
    assert_eq!(written, 2);
    let (back, _, malformed) = encoding_rs::GB18030.decode(&file);
    assert!(!malformed);
    assert!(
        !file.starts_with(b"\xEF\xBB\xBF") && std::str::from_utf8(&file).is_err(),
        "GB18030 as uploaded, not UTF-8"
    );
    let lines: Vec<&str> = back.split("\r\n").collect();
    assert_eq!(lines[0], "类型,统一社会信用代码,名称,行政区划,错误原因");
    assert!(
        lines[1].starts_with("企业,914403001922038217,校验码错的店,610404,\"B credit_code: "),
        "{back:?}"
    );
    assert_eq!(lines[2], "企业,91610328000FXMLLX0,\"名称");
    assert!(
        lines[3].starts_with("两行\",610403,\"B credit_code: "),
        "{back}"
    );
    assert_eq!(lines.len(), 5, "CRLF throughout, ending in one: {back:?}");

    // Corrected where they stand and uploaded again: the reasons' column is passed over, both rows land.
    let corrected = back
        .replace("914403001922038217", "914403001922038216")
        .replace("91610328000FXMLLX0", "91610328000FXMLLX1");
    let (encoded, _, _) = encoding_rs::GB18030.encode(&corrected);
    let (summary, rejections) = run(&db, encoded.into_owned()).await;
    assert_eq!(
        (summary.accepted, summary.rejected),
        (2, 0),
        "{rejections:?}"
    );

    // An XLSX upload gives an XLSX back, header and rejected rows with their reasons.
    let mut workbook = rust_xlsxwriter::Workbook::new();
    let sheet = workbook.add_worksheet();
    for (c, h) in ["类型", "统一社会信用代码", "名称", "行政区划"]
        .iter()
        .enumerate()
    {
        sheet.write_string(0, c as u16, *h).unwrap();
    }
    for (r, code) in [(1, "91350100M000100Y43"), (3, "914403001922038218")] {
        sheet.write_string(r, 0, "企业").unwrap();
        sheet.write_string(r, 1, code).unwrap();
        sheet.write_string(r, 2, "表格里的公司").unwrap();
        sheet.write_number(r, 3, 610402.0).unwrap();
    }
    let upload = workbook.save_to_buffer().unwrap();
    let (_, rejections) = run_as(&db, upload.clone(), Format::Xlsx).await.unwrap();
    assert_eq!(rejections[0].line, 4);
    let mut file = Vec::new();
    rejected::write(
        Format::Xlsx,
        &upload[..],
        &reasons_by_line(&rejections),
        &mut file,
    )
    .unwrap();
    use calamine::Reader;
    let mut back = calamine::Xlsx::new(std::io::Cursor::new(file)).unwrap();
    let range = back.worksheet_range_at(0).unwrap().unwrap();
    let rows: Vec<Vec<String>> = range
        .rows()
        .map(|r| r.iter().map(|c| c.to_string()).collect())
        .collect();
    assert_eq!(rows.len(), 2);
    assert_eq!(
        rows[0],
        ["类型", "统一社会信用代码", "名称", "行政区划", "错误原因"]
    );
    assert_eq!(rows[1][1], "914403001922038218");
    assert!(rows[1][4].starts_with("B credit_code: "), "{rows:?}");
    db.close().await;
    isolated.cleanup().await;
}

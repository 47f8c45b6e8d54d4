//! The report as a file: CSV (UTF-8 with a BOM, for spreadsheets) or XLSX, one row per department and the joint
//! meeting's total, rates in percent.

use suiji_api::publication::v1 as pb;

/// The columns.
const HEADER: [&str; 11] = [
    "部门代码",
    "部门",
    "应录入",
    "已录入",
    "已公示",
    "不予公示",
    "逾期未公示",
    "发现问题",
    "录入率(%)",
    "公示率(%)",
    "期限无法计算",
];

fn percent(basis_points: u32) -> f64 {
    f64::from(basis_points) / 100.0
}

/// The report as CSV.
pub fn csv(report: &pb::ReportResponse) -> Vec<u8> {
    // The first line (period and day) is shorter than the table under it.
    let mut w = csv::WriterBuilder::new()
        .flexible(true)
        .from_writer(b"\xEF\xBB\xBF".to_vec());
    w.write_record([
        format!("期间 {}", report.period),
        format!("统计日 {}", report.as_of),
    ])
    .expect("writing to memory cannot fail");
    w.write_record(HEADER)
        .expect("writing to memory cannot fail");
    for r in &report.rows {
        w.write_record([
            r.department_code.clone(),
            suiji_platform::spreadsheet::neutralised(&r.department_name).into_owned(),
            r.results.to_string(),
            r.entered.to_string(),
            r.published.to_string(),
            r.withheld.to_string(),
            r.overdue.to_string(),
            r.problems.to_string(),
            format!("{:.2}", percent(r.entry_rate_basis_points)),
            format!("{:.2}", percent(r.publication_rate_basis_points)),
            r.undated.to_string(),
        ])
        .expect("writing to memory cannot fail");
    }
    w.into_inner().expect("writing to memory cannot fail")
}

/// The report as an XLSX workbook of one sheet.
pub fn xlsx(report: &pb::ReportResponse) -> Result<Vec<u8>, rust_xlsxwriter::XlsxError> {
    let mut workbook = rust_xlsxwriter::Workbook::new();
    let sheet = workbook.add_worksheet();
    sheet.set_name(format!("公示统计 {}", report.period))?;
    let bold = rust_xlsxwriter::Format::new().set_bold();
    sheet.write_string(0, 0, format!("期间 {}", report.period))?;
    sheet.write_string(0, 1, format!("统计日 {}", report.as_of))?;
    for (c, h) in HEADER.iter().enumerate() {
        sheet.write_string_with_format(1, c as u16, *h, &bold)?;
    }
    for (i, r) in report.rows.iter().enumerate() {
        let row = i as u32 + 2;
        sheet.write_string(row, 0, &r.department_code)?;
        sheet.write_string(row, 1, &r.department_name)?;
        for (c, n) in [
            r.results,
            r.entered,
            r.published,
            r.withheld,
            r.overdue,
            r.problems,
        ]
        .into_iter()
        .enumerate()
        {
            sheet.write_number(row, c as u16 + 2, n as f64)?;
        }
        sheet.write_number(row, 8, percent(r.entry_rate_basis_points))?;
        sheet.write_number(row, 9, percent(r.publication_rate_basis_points))?;
        sheet.write_number(row, 10, r.undated as f64)?;
    }
    sheet.set_column_width(1, 28)?;
    workbook.save_to_buffer()
}

#[cfg(test)]
mod tests {
    use super::*;
    use calamine::{Reader, Xlsx};

    fn report() -> pb::ReportResponse {
        pb::ReportResponse {
            period: "2027-Q1".into(),
            as_of: "2027-04-10".into(),
            rows: vec![
                pb::ReportRow {
                    department_code: "610400-SCJG".into(),
                    department_name: "咸阳市市场监督管理局".into(),
                    results: 4,
                    entered: 3,
                    published: 2,
                    withheld: 1,
                    overdue: 1,
                    problems: 1,
                    undated: 0,
                    entry_rate_basis_points: 7500,
                    publication_rate_basis_points: 6666,
                },
                pb::ReportRow {
                    department_name: "联席会议".into(),
                    results: 4,
                    ..Default::default()
                },
            ],
        }
    }

    #[test]
    fn the_csv_has_a_bom_the_period_and_a_row_per_department() {
        let text = String::from_utf8(csv(&report())).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "\u{feff}期间 2027-Q1,统计日 2027-04-10");
        assert!(lines[1].starts_with("部门代码,部门,应录入"));
        assert_eq!(
            lines[2],
            "610400-SCJG,咸阳市市场监督管理局,4,3,2,1,1,1,75.00,66.66,0"
        );
        assert!(lines[3].starts_with(",联席会议,4,"));
    }

    #[test]
    fn the_workbook_reads_back() {
        let bytes = xlsx(&report()).unwrap();
        let mut book = Xlsx::new(std::io::Cursor::new(bytes)).unwrap();
        let range = book.worksheet_range("公示统计 2027-Q1").unwrap();
        assert_eq!(
            range.get_value((2, 1)).unwrap().to_string(),
            "咸阳市市场监督管理局"
        );
        assert_eq!(
            range.get_value((2, 2)).unwrap(),
            &calamine::Data::Float(4.0)
        );
        assert_eq!(
            range.get_value((2, 9)).unwrap(),
            &calamine::Data::Float(66.66)
        );
        assert_eq!(range.get_value((3, 1)).unwrap().to_string(), "联席会议");
    }
}

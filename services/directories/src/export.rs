//! Export of targets as CSV in the import format (English headers), so an export imports back unchanged.

use crate::domain::target::{COLUMNS, Target};

/// One page of targets as CSV bytes, with the header when `header` is set.
pub fn csv_page<'a>(
    targets: impl Iterator<Item = &'a Target>,
    header: bool,
) -> Result<Vec<u8>, csv::Error> {
    let mut w = csv::WriterBuilder::new().from_writer(Vec::new());
    if header {
        w.write_record(COLUMNS.iter().map(|(en, _)| *en))?;
    }
    for t in targets {
        let flag = |b: bool| if b { "1" } else { "0" };
        // Kinds identified by their credit code leave `id` empty: it is the credit code.
        let id = if t.credit_code.is_some() {
            ""
        } else {
            t.id.as_str()
        };
        let complaints = t.complaints_12m.to_string();
        let departments = t.departments.join(";");
        let cells = [
            id,
            t.kind.as_str(),
            t.credit_code.as_deref().unwrap_or(""),
            &t.name,
            &t.region_code,
            &t.industry_code,
            &t.address,
            t.status.as_str(),
            &departments,
            t.risk.as_str(),
            flag(t.abnormal),
            flag(t.serious_violation),
            &complaints,
            flag(t.key_focus),
        ];
        // A name or an address a spreadsheet would run as a formula is written with an apostrophe before it.
        let cells: Vec<std::borrow::Cow<'_, str>> = cells
            .iter()
            .map(|c| suiji_platform::spreadsheet::neutralised(c))
            .collect();
        w.write_record(cells.iter().map(|c| c.as_bytes()))?;
    }
    w.into_inner().map_err(|e| csv::Error::from(e.into_error()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_formula_in_a_name_is_written_as_text() {
        use crate::domain::target::{Kind, Risk, Status};
        let target = Target {
            id: "91350100M000100Y43".into(),
            kind: Kind::Enterprise,
            credit_code: Some("91350100M000100Y43".into()),
            name: "=HYPERLINK(\"http://x\",\"点此\")".into(),
            region_code: "610402".into(),
            industry_code: String::new(),
            address: "+86 某路".into(),
            status: Status::Operating,
            departments: Vec::new(),
            risk: Risk::Low,
            abnormal: false,
            serious_violation: false,
            complaints_12m: 0,
            key_focus: false,
        };
        let bytes = csv_page(std::iter::once(&target), false).unwrap();
        let mut read = csv::ReaderBuilder::new()
            .has_headers(false)
            .from_reader(bytes.as_slice());
        let row = read.records().next().unwrap().unwrap();
        let cells: Vec<&str> = row.iter().collect();
        assert!(
            cells.contains(&"'=HYPERLINK(\"http://x\",\"点此\")"),
            "{cells:?}"
        );
        assert!(cells.contains(&"'+86 某路"), "{cells:?}");
        let back: Vec<&str> = cells
            .iter()
            .map(|c| suiji_platform::spreadsheet::restored(c))
            .collect();
        assert!(back.contains(&target.name.as_str()) && back.contains(&target.address.as_str()));
    }
}

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
        w.write_record([
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
        ])?;
    }
    w.into_inner().map_err(|e| csv::Error::from(e.into_error()))
}

//! Reports: entry and publication rates, overdue and withheld results per department and for the joint meeting,
//! by year or quarter; and the day's published results for the export file.

use super::*;

impl Publications {
    /// Counts per department and the joint meeting's total for `year` (or one quarter), overdue on `as_of`.
    pub async fn report(
        &self,
        year: u32,
        quarter: u32,
        task_id: &str,
        as_of: Option<NaiveDate>,
    ) -> Result<pb::ReportResponse, Error> {
        let as_of = as_of.unwrap_or_else(today);
        if !task_id.trim().is_empty() {
            let mut tx = self.db.begin().await?;
            let counts = store::counts(
                &mut tx,
                store::Scope::Task(task_id.trim()),
                &as_of.to_string(),
            )
            .await?;
            return self
                .report_of(tx, &counts, task_id.trim().to_string(), as_of)
                .await;
        }
        let mut v = Violations::new();
        v.check(!(2000..=2100).contains(&year), "year", msg("report-year"));
        v.check(quarter > 4, "quarter", msg("report-quarter"));
        v.into_result()?;
        let y = year as i32;
        let (from, to, period) = if quarter == 0 {
            (
                NaiveDate::from_ymd_opt(y, 1, 1),
                NaiveDate::from_ymd_opt(y, 12, 31),
                year.to_string(),
            )
        } else {
            let first = NaiveDate::from_ymd_opt(y, (quarter - 1) * 3 + 1, 1);
            let next = if quarter == 4 {
                NaiveDate::from_ymd_opt(y + 1, 1, 1)
            } else {
                NaiveDate::from_ymd_opt(y, quarter * 3 + 1, 1)
            };
            (
                first,
                next.and_then(|d| d.pred_opt()),
                format!("{year}-Q{quarter}"),
            )
        };
        let (Some(from), Some(to)) = (from, to) else {
            return Err(Violations::one("year", msg("out-of-range")).into());
        };
        let mut tx = self.db.begin().await?;
        let (from, to) = (from.to_string(), to.to_string());
        let counts = store::counts(
            &mut tx,
            store::Scope::Period(&from, &to),
            &as_of.to_string(),
        )
        .await?;
        self.report_of(tx, &counts, period, as_of).await
    }

    /// The report of `counts`: a row per department, with its name, and the joint meeting's total.
    pub(super) async fn report_of(
        &self,
        mut tx: Tx,
        counts: &[Counts],
        period: String,
        as_of: NaiveDate,
    ) -> Result<pb::ReportResponse, Error> {
        let mut rows = Vec::with_capacity(counts.len() + 1);
        let mut total = Counts::default();
        for c in counts {
            let name = self.department_name(&mut tx, &c.department).await?;
            rows.push(report_row(c, name));
            total.results += c.results;
            total.entered += c.entered;
            total.published += c.published;
            total.withheld += c.withheld;
            total.overdue += c.overdue;
            total.problems += c.problems;
            total.undated += c.undated;
        }
        tx.commit().await?;
        rows.push(report_row(&total, "联席会议".into()));
        Ok(pb::ReportResponse {
            rows,
            period,
            as_of: as_of.to_string(),
        })
    }

    /// The records published or corrected on `day`, `limit` at a time after id `after`.
    pub async fn published_on(
        &self,
        day: NaiveDate,
        after: &str,
        limit: i64,
    ) -> Result<Vec<PublicRecord>, Error> {
        let mut conn = self.db.pool().acquire().await?;
        store::published_on(&mut conn, &day.to_string(), after, limit).await
    }
}

fn rate(part: u64, whole: u64) -> u32 {
    if whole == 0 {
        10_000
    } else {
        ((part as u128 * 10_000) / whole as u128) as u32
    }
}

fn report_row(c: &Counts, name: String) -> pb::ReportRow {
    pb::ReportRow {
        department_code: c.department.clone(),
        department_name: name,
        results: c.results,
        entered: c.entered,
        published: c.published,
        withheld: c.withheld,
        overdue: c.overdue,
        entry_rate_basis_points: rate(c.entered, c.results),
        publication_rate_basis_points: rate(c.published, c.results - c.withheld),
        problems: c.problems,
        undated: c.undated,
    }
}

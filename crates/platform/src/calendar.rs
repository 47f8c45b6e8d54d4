//! The official working-day calendar: weekends, statutory holidays and adjusted working days (调休), from the
//! shipped `data/calendar.toml` (one entry per year, each naming the State Council notice it transcribes)
//! plus an operator's file of further years. A date in a year the table does not cover is an error, never a
//! guess.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{Datelike, Duration, NaiveDate, Weekday};

/// Milliseconds China (UTC+8, no daylight saving) is ahead of UTC.
const CHINA_OFFSET_MS: i64 = 8 * 3_600_000;

/// The date in China at `epoch_ms`: the day rules and deadlines count in.
pub fn china_date(epoch_ms: i64) -> NaiveDate {
    chrono::DateTime::from_timestamp_millis(epoch_ms + CHINA_OFFSET_MS)
        .expect("a representable time")
        .date_naive()
}

/// Today in China.
pub fn today() -> NaiveDate {
    china_date(chrono::Utc::now().timestamp_millis())
}

/// The start of `day` in China, in epoch ms: when a deadline on that day falls due.
pub fn start_of_day_ms(day: NaiveDate) -> i64 {
    day.and_hms_opt(0, 0, 0)
        .expect("midnight exists")
        .and_utc()
        .timestamp_millis()
        - CHINA_OFFSET_MS
}
use serde::Deserialize;

/// The shipped table, 2004–2026.
pub const SHIPPED: &str = include_str!("../data/calendar.toml");

/// Why a calendar question has no answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CalendarError {
    /// The year's holiday notice is not in the table.
    #[error(
        "the working-day calendar has no entry for {0}: add that year's State Council notice to calendar.extra_file"
    )]
    YearNotCovered(i32),
    /// A data file is malformed.
    #[error("calendar file: {0}")]
    Invalid(String),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    year: Vec<YearEntry>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct YearEntry {
    year: i32,
    notice: String,
    holidays: Vec<NaiveDate>,
    workdays: Vec<NaiveDate>,
}

/// One year of the table.
#[derive(Debug, Clone)]
pub struct Year {
    /// The notice the year comes from.
    pub notice: String,
    holidays: BTreeSet<NaiveDate>,
    workdays: BTreeSet<NaiveDate>,
}

/// The working-day calendar.
#[derive(Debug, Clone)]
pub struct Calendar {
    years: BTreeMap<i32, Year>,
}

impl Calendar {
    /// The shipped table alone.
    pub fn shipped() -> Self {
        Self::from_sources(&[SHIPPED]).expect("the shipped calendar is valid")
    }

    /// The shipped table plus an operator's file (later years, or corrections that replace a year).
    pub fn with_extra(extra: Option<&str>) -> Result<Self, CalendarError> {
        match extra {
            Some(text) => Self::from_sources(&[SHIPPED, text]),
            None => Ok(Self::shipped()),
        }
    }

    /// Builds from TOML texts; a later text's year replaces an earlier one's.
    pub fn from_sources(sources: &[&str]) -> Result<Self, CalendarError> {
        let mut years = BTreeMap::new();
        for text in sources {
            let file: File =
                toml::from_str(text).map_err(|e| CalendarError::Invalid(e.to_string()))?;
            for entry in file.year {
                for day in entry.holidays.iter().chain(&entry.workdays) {
                    if day.year() != entry.year {
                        return Err(CalendarError::Invalid(format!(
                            "{day} is listed under year {}",
                            entry.year
                        )));
                    }
                }
                if let Some(day) = entry.workdays.iter().find(|d| entry.holidays.contains(d)) {
                    return Err(CalendarError::Invalid(format!(
                        "{day} is both a holiday and a working day"
                    )));
                }
                if entry.notice.trim().is_empty() {
                    return Err(CalendarError::Invalid(format!(
                        "year {} names no notice",
                        entry.year
                    )));
                }
                years.insert(
                    entry.year,
                    Year {
                        notice: entry.notice,
                        holidays: entry.holidays.into_iter().collect(),
                        workdays: entry.workdays.into_iter().collect(),
                    },
                );
            }
        }
        Ok(Self { years })
    }

    /// Years the table covers, in order.
    pub fn years(&self) -> impl Iterator<Item = (i32, &Year)> {
        self.years.iter().map(|(y, e)| (*y, e))
    }

    /// Whether `day` is a working day.
    pub fn is_working_day(&self, day: NaiveDate) -> Result<bool, CalendarError> {
        let year = self
            .years
            .get(&day.year())
            .ok_or(CalendarError::YearNotCovered(day.year()))?;
        if year.workdays.contains(&day) {
            return Ok(true);
        }
        if year.holidays.contains(&day) {
            return Ok(false);
        }
        Ok(!matches!(day.weekday(), Weekday::Sat | Weekday::Sun))
    }

    /// `day` if it is a working day, else the next one that is.
    pub fn working_day_on_or_after(&self, day: NaiveDate) -> Result<NaiveDate, CalendarError> {
        let mut day = day;
        while !self.is_working_day(day)? {
            day += Duration::days(1);
        }
        Ok(day)
    }

    /// The day `n` working days after `start` (`start` itself is not counted): the deadline "within n working
    /// days" of an event on `start`. `n = 0` gives `start`.
    pub fn add_working_days(&self, start: NaiveDate, n: u32) -> Result<NaiveDate, CalendarError> {
        let mut day = start;
        let mut left = n;
        while left > 0 {
            day += Duration::days(1);
            if self.is_working_day(day)? {
                left -= 1;
            }
        }
        Ok(day)
    }

    /// Working days in `(from, to]`: how many working days have passed from `from` to `to`; negative when `to`
    /// is before `from`.
    pub fn working_days_between(
        &self,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<i64, CalendarError> {
        let (lo, hi, sign) = if from <= to {
            (from, to, 1)
        } else {
            (to, from, -1)
        };
        let mut count = 0;
        let mut day = lo;
        while day < hi {
            day += Duration::days(1);
            if self.is_working_day(day)? {
                count += 1;
            }
        }
        Ok(sign * count)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn china_days_start_at_midnight_beijing_time() {
        // 2027-03-01 00:00 in Beijing is 2027-02-28 16:00 UTC.
        let start = start_of_day_ms(d("2027-03-01"));
        assert_eq!(start, 1_803_859_200_000 - 8 * 3_600_000);
        assert_eq!(china_date(start), d("2027-03-01"));
        assert_eq!(china_date(start - 1), d("2027-02-28"));
    }

    #[test]
    fn the_first_working_day_skips_weekends_and_holidays() {
        let c = Calendar::shipped();
        // 2026-10-01 is National Day; the holiday runs to the 7th (a Wednesday); the 8th is a working day.
        assert_eq!(
            c.working_day_on_or_after(d("2026-10-01")).unwrap(),
            d("2026-10-08")
        );
        assert_eq!(
            c.working_day_on_or_after(d("2026-11-30")).unwrap(),
            d("2026-11-30")
        );
    }

    #[test]
    fn covers_2004_to_2026_and_names_each_notice() {
        let cal = Calendar::shipped();
        let years: Vec<i32> = cal.years().map(|(y, _)| y).collect();
        assert_eq!(years, (2004..=2026).collect::<Vec<_>>());
        assert!(cal.years().all(|(y, e)| e.notice.contains(&y.to_string())));
    }

    #[test]
    fn national_day_and_adjusted_working_days() {
        let cal = Calendar::shipped();
        assert!(
            !cal.is_working_day(d("2025-10-03")).unwrap(),
            "National Day holiday"
        );
        assert!(
            cal.is_working_day(d("2025-09-28")).unwrap(),
            "Sunday made a working day (调休)"
        );
        assert!(
            cal.is_working_day(d("2025-10-11")).unwrap(),
            "Saturday made a working day (调休)"
        );
        assert!(
            !cal.is_working_day(d("2025-10-12")).unwrap(),
            "an ordinary Sunday"
        );
        assert!(
            cal.is_working_day(d("2025-10-09")).unwrap(),
            "an ordinary Thursday"
        );
    }

    #[test]
    fn twenty_working_days_cross_the_spring_festival() {
        let cal = Calendar::shipped();
        // 2026-02-13 is a Friday; 2026-02-14 (Sat) is worked; 02-15..23 are off; 02-28 (Sat) is worked.
        assert_eq!(
            cal.add_working_days(d("2026-02-13"), 1).unwrap(),
            d("2026-02-14")
        );
        assert_eq!(
            cal.add_working_days(d("2026-02-13"), 2).unwrap(),
            d("2026-02-24")
        );
        let due = cal.add_working_days(d("2026-02-13"), 20).unwrap();
        assert_eq!(cal.working_days_between(d("2026-02-13"), due).unwrap(), 20);
        assert_eq!(cal.working_days_between(due, d("2026-02-13")).unwrap(), -20);
        assert_eq!(due, d("2026-03-19"));
    }

    #[test]
    fn a_year_not_in_the_table_is_an_error() {
        let cal = Calendar::shipped();
        assert_eq!(
            cal.is_working_day(d("2027-03-01")),
            Err(CalendarError::YearNotCovered(2027))
        );
        assert_eq!(
            cal.add_working_days(d("2026-12-30"), 5),
            Err(CalendarError::YearNotCovered(2027))
        );
    }

    #[test]
    fn operators_add_a_year() {
        let extra = r#"
[[year]]
year = 2027
notice = "国务院办公厅关于2027年部分节假日安排的通知"
holidays = ["2027-01-01"]
workdays = []
"#;
        let cal = Calendar::with_extra(Some(extra)).unwrap();
        assert!(!cal.is_working_day(d("2027-01-01")).unwrap());
        assert!(cal.is_working_day(d("2027-01-04")).unwrap());
    }

    #[test]
    fn a_malformed_extra_file_is_refused() {
        let bad =
            "[[year]]\nyear = 2027\nnotice = \"x\"\nholidays = [\"2028-01-01\"]\nworkdays = []\n";
        assert!(matches!(
            Calendar::with_extra(Some(bad)),
            Err(CalendarError::Invalid(_))
        ));
    }
}

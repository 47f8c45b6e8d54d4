//! The official working-day calendar: weekends, statutory holidays and adjusted working days (调休), from the
//! shipped `data/calendar.toml` (one entry per year, each naming the State Council notice it transcribes)
//! plus an operator's file of further years. A date in a year the table does not cover is an error, never a
//! guess.

use crate::messages::{Text, msg};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, RwLock};

use chrono::{Datelike, Duration, NaiveDate, Weekday};

/// Milliseconds China (UTC+8, no daylight saving) is ahead of UTC.
const CHINA_OFFSET_MS: i64 = 8 * 3_600_000;

/// The date in China at `epoch_ms`: the day rules and deadlines count in.
pub fn china_date(epoch_ms: i64) -> NaiveDate {
    chrono::DateTime::from_timestamp_millis(epoch_ms + CHINA_OFFSET_MS)
        .expect("a representable time")
        .date_naive()
}

/// Today in China, on the platform's clock.
pub use crate::clock::today;

/// The start of `day` in China, in epoch ms: when a deadline on that day falls due.
pub fn start_of_day_ms(day: NaiveDate) -> i64 {
    day.and_hms_opt(0, 0, 0)
        .expect("midnight exists")
        .and_utc()
        .timestamp_millis()
        - CHINA_OFFSET_MS
}
use serde::Deserialize;

/// The shipped table: the notices of 2004–2026 and the moving holidays' dates of 2025–2100.
pub const SHIPPED: &str = include_str!("../data/calendar.toml");

/// What a provisional year is built by: the statutory holidays of this text, as revised in 2024.
pub const PROVISIONAL_RULE: &str = "全国年节及纪念日放假办法（2024年修订）";

/// Why a calendar question has no answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CalendarError {
    /// Neither a notice nor the moving holidays' dates cover the year.
    #[error(
        "the working-day calendar does not cover {0}: add that year's State Council notice to calendar.extra_file"
    )]
    YearNotCovered(i32),
    /// A data file is malformed.
    #[error("calendar file: {0}")]
    Invalid(String),
}

impl CalendarError {
    /// What it says, as a message of the catalogs.
    pub fn text(&self) -> Text {
        match self {
            CalendarError::YearNotCovered(year) => {
                msg("calendar-year-not-covered").arg("year", year)
            }
            CalendarError::Invalid(_) => Text::Plain(self.to_string()),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    year: Vec<YearEntry>,
    #[serde(default)]
    feasts: Vec<Feasts>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct YearEntry {
    year: i32,
    notice: String,
    holidays: Vec<NaiveDate>,
    workdays: Vec<NaiveDate>,
}

/// The dates of one year's holidays that move with the lunar calendar or the solar terms.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct Feasts {
    year: i32,
    /// 除夕: the last day of the previous lunar year.
    new_years_eve: NaiveDate,
    /// 春节: the first day of the first lunar month.
    spring_festival: NaiveDate,
    /// 清明: the day of the solar term.
    qingming: NaiveDate,
    /// 端午: the fifth day of the fifth lunar month.
    dragon_boat: NaiveDate,
    /// 中秋: the fifteenth day of the eighth lunar month.
    mid_autumn: NaiveDate,
}

impl Feasts {
    /// The statutory days off of 全国年节及纪念日放假办法 (2024): 元旦 1, 春节 4 (除夕 and 初一 to 初三), 清明 1,
    /// 劳动节 2 (1–2 May), 端午 1, 中秋 1, 国庆 3 (1–3 October). No day is moved: adjusted working days come only
    /// with the year's notice.
    fn statutory_days(&self) -> Result<BTreeSet<NaiveDate>, CalendarError> {
        let y = self.year;
        let fixed = |m, d| NaiveDate::from_ymd_opt(y, m, d).expect("a valid fixed date");
        let named = [
            ("new_years_eve", self.new_years_eve),
            ("spring_festival", self.spring_festival),
            ("qingming", self.qingming),
            ("dragon_boat", self.dragon_boat),
            ("mid_autumn", self.mid_autumn),
        ];
        for (name, day) in named {
            if day.year() != y {
                return Err(CalendarError::Invalid(format!(
                    "feasts of {y}: {name} {day} is not in {y}"
                )));
            }
        }
        if self.new_years_eve.succ_opt() != Some(self.spring_festival) {
            return Err(CalendarError::Invalid(format!(
                "feasts of {y}: new_years_eve {} is not the day before spring_festival {}",
                self.new_years_eve, self.spring_festival
            )));
        }
        let mut days = BTreeSet::from([
            fixed(1, 1),
            self.new_years_eve,
            self.qingming,
            fixed(5, 1),
            fixed(5, 2),
            self.dragon_boat,
            self.mid_autumn,
            fixed(10, 1),
            fixed(10, 2),
            fixed(10, 3),
        ]);
        days.extend(self.spring_festival.iter_days().take(3));
        Ok(days)
    }
}

/// One year of the calendar.
#[derive(Debug, Clone)]
pub struct Year {
    /// The notice the year comes from; for a provisional year, the rule it was built by.
    pub notice: String,
    /// Built from the statutory holidays alone, because no notice for the year is loaded: its deadlines may move
    /// when the notice comes.
    pub provisional: bool,
    holidays: BTreeSet<NaiveDate>,
    workdays: BTreeSet<NaiveDate>,
}

/// A deadline: the day, and whether a provisional year was counted through to reach it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Due {
    /// The last day.
    pub date: NaiveDate,
    /// Counted through a year with no notice loaded: it moves if the notice adds days off or working days.
    pub provisional: bool,
}

impl Due {
    /// How this deadline, counted again, reads on a timeline or in a history: which deadline (`what`: `invite`,
    /// `visit` or `due`), the day it had and this one, and whether it is final now. A visit's last day names the
    /// visit: its caller adds the argument `visit`.
    pub fn recounted(&self, what: &str, old: Option<NaiveDate>) -> Text {
        let how = match old {
            Some(old) if old == self.date => "stays",
            Some(_) => "moved",
            None => "counted",
        };
        let id = if what == "visit" {
            format!("due-visit-{how}")
        } else {
            format!("due-{how}")
        };
        let mut text = msg(&id).arg("deadline", what);
        if let Some(old) = old {
            text = text.arg("old_day", old);
        }
        text.arg("new_day", self.date)
            .arg("final", if self.provisional { "no" } else { "yes" })
    }
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

    /// Builds from TOML texts; a later text's year replaces an earlier one's. A year with no notice in any text
    /// but with its moving holidays' dates is provisional.
    pub fn from_sources(sources: &[&str]) -> Result<Self, CalendarError> {
        let mut years = BTreeMap::new();
        let mut feasts = BTreeMap::new();
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
                        provisional: false,
                        holidays: entry.holidays.into_iter().collect(),
                        workdays: entry.workdays.into_iter().collect(),
                    },
                );
            }
            for f in file.feasts {
                feasts.insert(f.year, f);
            }
        }
        for (year, f) in feasts {
            let holidays = f.statutory_days()?;
            years.entry(year).or_insert_with(|| Year {
                notice: PROVISIONAL_RULE.to_string(),
                provisional: true,
                holidays,
                workdays: BTreeSet::new(),
            });
        }
        Ok(Self { years })
    }

    /// Years the calendar covers, in order, provisional ones included.
    pub fn years(&self) -> impl Iterator<Item = (i32, &Year)> {
        self.years.iter().map(|(y, e)| (*y, e))
    }

    /// One year, if covered.
    pub fn year(&self, year: i32) -> Option<&Year> {
        self.years.get(&year)
    }

    fn covering(&self, day: NaiveDate) -> Result<&Year, CalendarError> {
        self.years
            .get(&day.year())
            .ok_or(CalendarError::YearNotCovered(day.year()))
    }

    /// Whether `day` is a working day (in a provisional year, as far as the statutory holidays tell).
    pub fn is_working_day(&self, day: NaiveDate) -> Result<bool, CalendarError> {
        Ok(self.day(day)?.0)
    }

    /// Whether `day` is a working day, and whether its year is provisional.
    fn day(&self, day: NaiveDate) -> Result<(bool, bool), CalendarError> {
        let year = self.covering(day)?;
        let working = if year.workdays.contains(&day) {
            true
        } else if year.holidays.contains(&day) {
            false
        } else {
            !matches!(day.weekday(), Weekday::Sat | Weekday::Sun)
        };
        Ok((working, year.provisional))
    }

    /// Whether `day`'s year is provisional.
    pub fn is_provisional(&self, day: NaiveDate) -> Result<bool, CalendarError> {
        Ok(self.covering(day)?.provisional)
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
    /// days" of an event on `start`, provisional when a day counted lies in a provisional year. `n = 0` gives
    /// `start`, provisional when its year is.
    pub fn add_working_days(&self, start: NaiveDate, n: u32) -> Result<Due, CalendarError> {
        let mut day = start;
        let mut provisional = self.is_provisional(start)?;
        let mut left = n;
        while left > 0 {
            day += Duration::days(1);
            let (working, in_provisional_year) = self.day(day)?;
            provisional |= in_provisional_year;
            if working {
                left -= 1;
            }
        }
        Ok(Due {
            date: day,
            provisional,
        })
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

    /// The years, from `today`'s on, whose notice operators should load now: this year's if it is provisional or
    /// missing, and from 1 October next year's too.
    pub fn notices_wanted(&self, today: NaiveDate) -> Vec<i32> {
        let this = today.year();
        let mut wanted = Vec::new();
        let lacks = |y: i32| self.years.get(&y).is_none_or(|e| e.provisional);
        if lacks(this) {
            wanted.push(this);
        }
        if today.month() >= 10 && lacks(this + 1) {
            wanted.push(this + 1);
        }
        wanted
    }
}

/// The calendar a running service uses, which an operator's reload replaces.
#[derive(Debug, Clone)]
pub struct Calendars {
    current: Arc<RwLock<Arc<Calendar>>>,
    extra_file: String,
}

impl Calendars {
    /// Reads the shipped table and `extra_file` (empty for none).
    pub fn load(extra_file: &str) -> Result<Self, CalendarError> {
        Ok(Self {
            current: Arc::new(RwLock::new(Arc::new(Self::read(extra_file)?))),
            extra_file: extra_file.to_string(),
        })
    }

    /// A fixed calendar (tests).
    pub fn fixed(calendar: Calendar) -> Self {
        Self {
            current: Arc::new(RwLock::new(Arc::new(calendar))),
            extra_file: String::new(),
        }
    }

    fn read(extra_file: &str) -> Result<Calendar, CalendarError> {
        if extra_file.is_empty() {
            return Ok(Calendar::shipped());
        }
        let text = std::fs::read_to_string(extra_file).map_err(|e| {
            CalendarError::Invalid(format!("calendar.extra_file {extra_file}: {e}"))
        })?;
        Calendar::with_extra(Some(&text))
    }

    /// The calendar now.
    pub fn current(&self) -> Arc<Calendar> {
        self.current
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Reads the files again; on an error the calendar in use stays.
    pub fn reload(&self) -> Result<Arc<Calendar>, CalendarError> {
        let fresh = Arc::new(Self::read(&self.extra_file)?);
        *self.current.write().unwrap_or_else(|e| e.into_inner()) = fresh.clone();
        Ok(fresh)
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
    fn notices_cover_2004_to_2026_and_provisional_years_run_to_2100() {
        let cal = Calendar::shipped();
        let notices: Vec<i32> = cal
            .years()
            .filter(|(_, e)| !e.provisional)
            .map(|(y, _)| y)
            .collect();
        assert_eq!(notices, (2004..=2026).collect::<Vec<_>>());
        assert!(
            cal.years()
                .filter(|(_, e)| !e.provisional)
                .all(|(y, e)| e.notice.contains(&y.to_string()))
        );
        let provisional: Vec<i32> = cal
            .years()
            .filter(|(_, e)| e.provisional)
            .map(|(y, _)| y)
            .collect();
        assert_eq!(provisional, (2027..=2100).collect::<Vec<_>>());
        assert!(
            cal.years()
                .filter(|(_, e)| e.provisional)
                .all(|(_, e)| e.notice == PROVISIONAL_RULE)
        );
    }

    #[test]
    fn a_provisional_year_has_the_statutory_holidays_and_no_adjusted_days() {
        let cal = Calendar::shipped();
        let off = [
            "2027-01-01", // 元旦 (a Friday)
            "2027-02-05", // 除夕 (Friday)
            "2027-02-08", // 正月初三 (Monday; 初一 and 初二 are the weekend)
            "2027-04-05", // 清明 (Monday)
            "2027-06-09", // 端午 (Wednesday)
            "2027-09-15", // 中秋 (Wednesday)
            "2027-10-01", // 国庆 (Friday)
        ];
        for day in off {
            assert!(!cal.is_working_day(d(day)).unwrap(), "{day} is a holiday");
            assert!(cal.is_provisional(d(day)).unwrap());
        }
        let on = [
            "2027-02-09", // the day after 初三: no day is moved until the notice says so
            "2027-05-03", // 劳动节 is 1–2 May (a weekend in 2027); the notice may add days, the rule does not
            "2027-10-04", // 国庆 is 1–3 October
            "2027-09-16", // the day after 中秋
        ];
        for day in on {
            assert!(
                cal.is_working_day(d(day)).unwrap(),
                "{day} is a working day"
            );
        }
        // No weekend day is made a working day.
        let weekends = d("2027-01-01")
            .iter_days()
            .take_while(|x| x.year() == 2027)
            .filter(|x| matches!(x.weekday(), Weekday::Sat | Weekday::Sun));
        for day in weekends {
            assert!(!cal.is_working_day(day).unwrap(), "{day}");
        }
    }

    #[test]
    fn the_provisional_rule_gives_days_the_2025_and_2026_notices_also_give() {
        // The same rule built from the moving holidays alone, for the two years whose notices followed the 2024
        // revision: every day it takes off, the notice took off too.
        let (_, feasts) = SHIPPED.split_once("[[feasts]]").unwrap();
        let rule_only = Calendar::from_sources(&[&format!("[[feasts]]{feasts}")]).unwrap();
        let notices = Calendar::shipped();
        let mut counted = 0;
        for year in [2025, 2026] {
            let days = d(&format!("{year}-01-01"))
                .iter_days()
                .take_while(|x| x.year() == year);
            for day in days {
                if !rule_only.is_working_day(day).unwrap()
                    && !matches!(day.weekday(), Weekday::Sat | Weekday::Sun)
                {
                    counted += 1;
                    assert!(!notices.is_working_day(day).unwrap(), "{day}");
                }
            }
        }
        assert!(
            counted >= 16,
            "the rule's weekday holidays were counted: {counted}"
        );
    }

    #[test]
    fn a_deadline_counted_into_a_provisional_year_says_so() {
        let cal = Calendar::shipped();
        let inside = cal.add_working_days(d("2026-06-01"), 20).unwrap();
        assert!(!inside.provisional);
        let across = cal.add_working_days(d("2026-12-20"), 20).unwrap();
        assert!(across.provisional);
        // 2026-12-21..31 are 9 working days; 2027-01-01 is 元旦; 11 more from 4 January.
        assert_eq!(across.date, d("2027-01-18"));
        let far = cal.add_working_days(d("2031-06-01"), 20).unwrap();
        assert!(far.provisional);
        assert_eq!(cal.working_days_between(d("2031-06-01"), far.date), Ok(20));
    }

    #[test]
    fn from_1_october_the_next_years_notice_is_wanted() {
        let cal = Calendar::shipped();
        assert!(cal.notices_wanted(d("2026-09-30")).is_empty());
        assert_eq!(cal.notices_wanted(d("2026-10-01")), vec![2027]);
        assert_eq!(cal.notices_wanted(d("2027-03-01")), vec![2027]);
        assert_eq!(cal.notices_wanted(d("2027-11-01")), vec![2027, 2028]);
        assert_eq!(cal.notices_wanted(d("2101-01-02")), vec![2101]);
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
            cal.add_working_days(d("2026-02-13"), 1).unwrap().date,
            d("2026-02-14")
        );
        assert_eq!(
            cal.add_working_days(d("2026-02-13"), 2).unwrap().date,
            d("2026-02-24")
        );
        let due = cal.add_working_days(d("2026-02-13"), 20).unwrap();
        assert!(!due.provisional);
        let due = due.date;
        assert_eq!(cal.working_days_between(d("2026-02-13"), due).unwrap(), 20);
        assert_eq!(cal.working_days_between(due, d("2026-02-13")).unwrap(), -20);
        assert_eq!(due, d("2026-03-19"));
    }

    #[test]
    fn a_year_neither_noticed_nor_provisional_is_an_error() {
        let cal = Calendar::shipped();
        assert_eq!(
            cal.is_working_day(d("2003-03-03")),
            Err(CalendarError::YearNotCovered(2003))
        );
        assert_eq!(
            cal.add_working_days(d("2100-12-30"), 5),
            Err(CalendarError::YearNotCovered(2101))
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
        assert!(
            !cal.is_provisional(d("2027-06-09")).unwrap(),
            "the notice replaces the provisional year"
        );
        assert!(
            cal.is_working_day(d("2027-06-09")).unwrap(),
            "this notice (a test's) gives no 端午"
        );
        assert!(cal.is_provisional(d("2028-06-09")).unwrap());
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

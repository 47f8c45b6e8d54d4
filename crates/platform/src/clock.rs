//! The platform's one clock: every time a service stamps and every "today" a deadline counts from comes from
//! here. It runs with the system clock, shifted when `clock.start` pins the moment a process starts at — what
//! tests do to run on a chosen day (a deadline in a year without a notice, a day far ahead) and what a
//! demonstration does to show a given season. Production leaves it unset.
//!
//! Token lifetimes are not read from here: tokens are stamped by issuers outside the platform, on real time.

use std::sync::Mutex;
use std::sync::atomic::{AtomicI64, Ordering};

use chrono::{NaiveDate, NaiveTime};

use crate::calendar::{china_date, start_of_day_ms};

/// Milliseconds added to the system clock.
static OFFSET_MS: AtomicI64 = AtomicI64::new(0);

/// The `clock.start` this process was pinned with, so a second service in the same process cannot pin another.
static PINNED: Mutex<Option<String>> = Mutex::new(None);

/// Now, in epoch milliseconds.
pub fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis() + OFFSET_MS.load(Ordering::Relaxed)
}

/// Today in China: the day rules and deadlines count in.
pub fn today() -> NaiveDate {
    china_date(now_ms())
}

/// Why `clock.start` was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClockError {
    /// Neither a date nor an RFC 3339 time.
    #[error(
        "clock.start {0:?}: expected a date (2026-12-20, 09:00 in China) or an RFC 3339 time (2026-12-20T09:00:00+08:00)"
    )]
    Unreadable(String),
    /// The process already runs on another start.
    #[error("clock.start {wanted:?}: this process already runs from {pinned:?}")]
    Conflict {
        /// The start asked for.
        wanted: String,
        /// The start in force.
        pinned: String,
    },
}

/// The epoch ms `start` names: a date means 09:00 that day in China.
pub fn parse_start(start: &str) -> Result<i64, ClockError> {
    let start = start.trim();
    if let Ok(day) = start.parse::<NaiveDate>() {
        let nine = NaiveTime::from_hms_opt(9, 0, 0).expect("a valid time");
        let since_midnight = (nine - NaiveTime::MIN).num_milliseconds();
        return Ok(start_of_day_ms(day) + since_midnight);
    }
    chrono::DateTime::parse_from_rfc3339(start)
        .map(|t| t.timestamp_millis())
        .map_err(|_| ClockError::Unreadable(start.to_string()))
}

/// Pins now to `start`; time runs on from there. Empty asks for nothing and leaves the clock as it is (the
/// system clock unless pinned before). Pinning again with the same start changes nothing, so every service of
/// one process may pass the same setting; another start is refused.
pub fn pin(start: &str) -> Result<(), ClockError> {
    let start = start.trim();
    if start.is_empty() {
        return Ok(());
    }
    let mut pinned = PINNED.lock().unwrap_or_else(|e| e.into_inner());
    match pinned.as_deref() {
        Some(p) if p == start => Ok(()),
        Some(p) => Err(ClockError::Conflict {
            wanted: start.to_string(),
            pinned: p.to_string(),
        }),
        None => {
            let at = parse_start(start)?;
            OFFSET_MS.store(
                at - chrono::Utc::now().timestamp_millis(),
                Ordering::Relaxed,
            );
            *pinned = Some(start.to_string());
            Ok(())
        }
    }
}

/// Pins the clock of a test process to `start` (its own process under cargo-nextest); panics on a conflict, which
/// only tests that share a process and pin different days meet.
pub fn pin_for_test(start: &str) {
    pin(start).unwrap_or_else(|e| {
        panic!("{e}: run the tests that pin the clock each in its own process (cargo nextest)")
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_date_starts_at_nine_in_china() {
        let at = parse_start("2026-12-20").unwrap();
        assert_eq!(china_date(at), "2026-12-20".parse::<NaiveDate>().unwrap());
        assert_eq!(at, parse_start("2026-12-20T09:00:00+08:00").unwrap());
        assert_eq!(at, parse_start("2026-12-20T01:00:00Z").unwrap());
        assert!(matches!(
            parse_start("20 December"),
            Err(ClockError::Unreadable(_))
        ));
    }

    #[test]
    fn a_pinned_clock_runs_from_its_start_and_refuses_another() {
        pin("2031-06-01").unwrap();
        assert_eq!(today(), "2031-06-01".parse::<NaiveDate>().unwrap());
        let first = now_ms();
        assert!(first >= parse_start("2031-06-01").unwrap());
        pin("2031-06-01").unwrap();
        assert!(
            now_ms() >= first,
            "pinning again does not move the clock back"
        );
        pin("").unwrap();
        assert_eq!(
            today(),
            "2031-06-01".parse::<NaiveDate>().unwrap(),
            "empty leaves the pin"
        );
        assert!(matches!(
            pin("2026-12-20"),
            Err(ClockError::Conflict { .. })
        ));
    }
}

//! `suiji calendar`: the working-day calendar as the services count it — the years covered (each notice, and the
//! provisional years built from the statutory holidays alone), a deadline N working days on, and one day.

use anyhow::Context as _;
use chrono::NaiveDate;
use clap::Subcommand;
use suiji_api::admin::v1::ReloadCalendarRequest;
use suiji_api::admin::v1::calendar_service_client::CalendarServiceClient;
use suiji_platform::calendar::{Calendar, Calendars};
use suiji_platform::config::Settings;
use suiji_platform::grpc::{Bearer, channel};

/// `suiji calendar …`.
#[derive(clap::Args)]
pub struct CalendarArgs {
    #[command(subcommand)]
    command: CalendarCommand,
}

#[derive(Subcommand)]
enum CalendarCommand {
    /// The years covered: each year's notice, then the provisional years; and the notices operators should load.
    Years,
    /// The day N working days after FROM, as the services count a deadline (FROM itself not counted); says
    /// `provisional` when a year counted through has no notice loaded.
    Due {
        /// The day counted from, YYYY-MM-DD.
        from: NaiveDate,
        /// Working days.
        n: u32,
    },
    /// Whether DAY is a working day.
    IsWorkingDay {
        /// The day, YYYY-MM-DD.
        day: NaiveDate,
    },
    /// Has running services read calendar.extra_file again (after a year's notice was added to it) and count
    /// their provisional deadlines anew; needs the `admin` role.
    Reload {
        /// A service's address; repeat for each service that counts deadlines (inspection, publication).
        #[arg(long = "addr", required = true)]
        addrs: Vec<String>,
        /// Bearer token (`suiji token …`, or the one `suiji dev` prints).
        #[arg(long, env = "SUIJI_TOKEN")]
        token: Option<String>,
    },
}

/// Runs `suiji calendar …`: `reload` on the services named, the others with the calendar the services would load
/// (the shipped table and calendar.extra_file).
pub async fn run(settings: &Settings, args: CalendarArgs) -> anyhow::Result<()> {
    if let CalendarCommand::Reload { addrs, token } = &args.command {
        for addr in addrs {
            let mut client = CalendarServiceClient::with_interceptor(
                channel(addr)?,
                Bearer::for_person(token.as_deref()),
            );
            let reloaded = client
                .reload_calendar(ReloadCalendarRequest {})
                .await
                .with_context(|| format!("reloading the calendar of {addr}"))?
                .into_inner();
            let wanted = reloaded
                .calendar
                .map(|c| c.notices_wanted)
                .unwrap_or_default();
            println!(
                "{addr}  reloaded; {} deadlines counted again{}",
                reloaded.deadlines_recounted,
                if wanted.is_empty() {
                    String::new()
                } else {
                    format!("; notices still wanted: {wanted:?}")
                }
            );
        }
        return Ok(());
    }
    suiji_platform::clock::pin(&settings.clock.start)?;
    let calendar = Calendars::load(&settings.calendar.extra_file)
        .context("loading the working-day calendar")?
        .current();
    for line in lines(&calendar, args.command, suiji_platform::clock::today())? {
        println!("{line}");
    }
    Ok(())
}

/// What `suiji calendar` prints, line by line.
fn lines(
    calendar: &Calendar,
    command: CalendarCommand,
    today: NaiveDate,
) -> anyhow::Result<Vec<String>> {
    Ok(match command {
        CalendarCommand::Years => {
            let mut out = Vec::new();
            let mut provisional: Option<(i32, i32, String)> = None;
            for (year, entry) in calendar.years() {
                if entry.provisional {
                    match &mut provisional {
                        Some((_, last, _)) => *last = year,
                        None => provisional = Some((year, year, entry.notice.clone())),
                    }
                } else {
                    out.push(format!("{year}  {}", entry.notice));
                }
            }
            if let Some((first, last, rule)) = provisional {
                out.push(format!(
                    "{first}–{last}  provisional: weekends and the statutory holidays of {rule}; no adjusted working days"
                ));
            }
            for year in calendar.notices_wanted(today) {
                out.push(format!(
                    "wanted: the State Council notice for {year} (calendar.extra_file); its deadlines are provisional until then"
                ));
            }
            out
        }
        CalendarCommand::Due { from, n } => {
            let due = calendar.add_working_days(from, n)?;
            vec![if due.provisional {
                format!("{} provisional", due.date)
            } else {
                due.date.to_string()
            }]
        }
        CalendarCommand::Reload { .. } => unreachable!("reload is answered by the services"),
        CalendarCommand::IsWorkingDay { day } => {
            let working = calendar.is_working_day(day)?;
            let mut line = format!(
                "{day} {}",
                if working {
                    "working day"
                } else {
                    "not a working day"
                }
            );
            if calendar.is_provisional(day)? {
                line.push_str(" provisional");
            }
            vec![line]
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn due_counts_as_the_services_do_and_says_provisional() {
        let cal = Calendar::shipped();
        let due = |from, n| {
            lines(
                &cal,
                CalendarCommand::Due { from: d(from), n },
                d("2026-12-07"),
            )
        };
        assert_eq!(due("2026-06-01", 5).unwrap(), ["2026-06-08"]);
        assert_eq!(due("2026-12-20", 20).unwrap(), ["2027-01-18 provisional"]);
        assert!(
            due("2100-12-30", 5)
                .unwrap_err()
                .to_string()
                .contains("2101")
        );
    }

    #[test]
    fn one_day() {
        let cal = Calendar::shipped();
        let day = |s| {
            lines(
                &cal,
                CalendarCommand::IsWorkingDay { day: d(s) },
                d("2026-12-07"),
            )
        };
        assert_eq!(day("2026-10-08").unwrap(), ["2026-10-08 working day"]);
        assert_eq!(day("2026-10-07").unwrap(), ["2026-10-07 not a working day"]);
        assert_eq!(
            day("2027-10-01").unwrap(),
            ["2027-10-01 not a working day provisional"]
        );
    }

    #[test]
    fn years_lists_the_notices_the_provisional_span_and_what_is_wanted() {
        let cal = Calendar::shipped();
        let years = lines(&cal, CalendarCommand::Years, d("2026-10-01")).unwrap();
        assert_eq!(years[0], "2004  国务院办公厅关于2004年部分节假日安排的通知");
        assert_eq!(years.len(), 23 + 2);
        assert!(
            years[23].starts_with("2027–2100  provisional"),
            "{}",
            years[23]
        );
        assert!(years[24].starts_with("wanted: the State Council notice for 2027"));
        let summer = lines(&cal, CalendarCommand::Years, d("2026-07-01")).unwrap();
        assert_eq!(summer.len(), 23 + 1, "no notice is wanted before October");
    }
}

//! `suiji.admin.v1.CalendarService`: operators read the working-day calendar a service counts with and load a
//! year's notice into it (calendar.extra_file) without a restart; the service then counts its provisional
//! deadlines again through its [`Recount`].

use crate::messages::msg;
use std::sync::Arc;

use futures::future::BoxFuture;
use suiji_api::admin::v1 as pb;
use suiji_api::admin::v1::calendar_service_server::{CalendarService, CalendarServiceServer};
use tonic::{Request, Response, Status};

use crate::auth::ROLE_ADMIN;
use crate::calendar::{Calendar, Calendars};

/// What a service does after the calendar is reloaded: counts its provisional deadlines again, returning how many
/// it recorded.
pub type Recount = Arc<dyn Fn() -> BoxFuture<'static, Result<u64, String>> + Send + Sync>;

/// The calendar API of one service.
#[derive(Clone)]
pub struct Api {
    calendars: Calendars,
    recount: Option<Recount>,
}

impl Api {
    /// Serves `calendars`; `recount` runs after each reload.
    pub fn server(calendars: Calendars, recount: Option<Recount>) -> CalendarServiceServer<Self> {
        CalendarServiceServer::new(Self { calendars, recount })
    }
}

/// The calendar as the API shows it, with today on the platform's clock.
pub fn describe(calendar: &Calendar) -> pb::GetCalendarResponse {
    let today = crate::clock::today();
    pb::GetCalendarResponse {
        years: calendar
            .years()
            .map(|(year, e)| pb::CalendarYear {
                year,
                notice: e.notice.clone(),
                provisional: e.provisional,
            })
            .collect(),
        notices_wanted: calendar.notices_wanted(today),
        today: today.to_string(),
    }
}

#[tonic::async_trait]
impl CalendarService for Api {
    /// Public, like the notices it transcribes: `suiji health` and the console read it without a token.
    async fn get_calendar(
        &self,
        _request: Request<pb::GetCalendarRequest>,
    ) -> Result<Response<pb::GetCalendarResponse>, Status> {
        Ok(Response::new(describe(&self.calendars.current())))
    }

    async fn count_working_days(
        &self,
        request: Request<pb::CountWorkingDaysRequest>,
    ) -> Result<Response<pb::CountWorkingDaysResponse>, Status> {
        let dates = request.into_inner().dates;
        let mut v = crate::validation::Violations::default();
        v.check(
            dates.len() > 1000,
            "dates",
            msg("dates-max").arg("max", 1000),
        );
        let mut days = Vec::with_capacity(dates.len());
        for (i, date) in dates.iter().enumerate() {
            match chrono::NaiveDate::parse_from_str(date, "%Y-%m-%d") {
                Ok(day) => days.push(day),
                Err(_) => v.check(
                    true,
                    format!("dates[{i}]"),
                    msg("not-a-date").arg("value", date),
                ),
            }
        }
        v.into_result()
            .map_err(|v| crate::grpc::invalid_argument(&v))?;
        let today = crate::clock::today();
        let calendar = self.calendars.current();
        let working_days = days
            .into_iter()
            .map(|day| {
                calendar.working_days_between(today, day).map(|n| {
                    // A day already passed is overdue by at least one working day, even seen on a weekend.
                    let n = if day < today { n.min(-1) } else { n };
                    n.clamp(i32::MIN.into(), i32::MAX.into()) as i32
                })
            })
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| Status::failed_precondition(e.to_string()))?;
        Ok(Response::new(pb::CountWorkingDaysResponse {
            working_days,
            today: today.to_string(),
        }))
    }

    async fn reload_calendar(
        &self,
        request: Request<pb::ReloadCalendarRequest>,
    ) -> Result<Response<pb::ReloadCalendarResponse>, Status> {
        let who = crate::grpc::require(&request)?;
        if !who.has_role(ROLE_ADMIN) {
            return Err(crate::grpc::permission_denied(
                "authorization",
                &msg("denied-role").arg("role", ROLE_ADMIN),
            ));
        }
        let calendar = self.calendars.reload().map_err(|e| {
            Status::failed_precondition(format!("{e}; the calendar in use stays as it was"))
        })?;
        let deadlines_recounted = match &self.recount {
            Some(recount) => recount().await.map_err(|e| {
                tracing::error!(error = %e, "counting the deadlines again failed");
                Status::internal("the calendar is reloaded; counting the deadlines again failed (see the service's log)")
            })?,
            None => 0,
        };
        tracing::info!(deadlines_recounted, "calendar reloaded");
        Ok(Response::new(pb::ReloadCalendarResponse {
            calendar: Some(describe(&calendar)),
            deadlines_recounted,
        }))
    }
}

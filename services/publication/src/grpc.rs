//! The gRPC face of the publication service: the only file that sees requests and statuses.

use std::pin::Pin;

use chrono::NaiveDate;
use futures::Stream;
use suiji_api::publication::v1 as pb;
use suiji_api::publication::v1::publication_service_server::PublicationService;
use suiji_platform::error::Error;
use suiji_platform::grpc::{require, timestamp as ts};
use suiji_platform::messages::Words;
use suiji_platform::paging;
use suiji_platform::validation::{Violations, msg};
use tonic::{Request, Response, Status};

use crate::domain::result::{Content, Decision, Disposal, Result as Res, State};
use crate::service::{Publications, public_pb};
use crate::store::{Filter, Stored};

type ResponseStream<T> = Pin<Box<dyn Stream<Item = Result<T, Status>> + Send>>;

/// The `suiji.publication.v1.PublicationService` implementation.
pub struct Api {
    publications: Publications,
}

impl Api {
    /// Serves `publications`.
    pub fn new(publications: Publications) -> Self {
        Self { publications }
    }
}

fn state_pb(s: State) -> pb::ResultState {
    match s {
        State::NotEntered => pb::ResultState::NotEntered,
        State::AwaitingReview => pb::ResultState::AwaitingReview,
        State::Returned => pb::ResultState::Returned,
        State::Rejected => pb::ResultState::Rejected,
        State::Approved => pb::ResultState::Approved,
        State::Published => pb::ResultState::Published,
        State::Withheld => pb::ResultState::Withheld,
    }
}

/// The gRPC form of a disposal.
pub fn disposal_pb(d: Disposal) -> pb::Disposal {
    match d {
        Disposal::None => pb::Disposal::None,
        Disposal::OrderedToCorrect => pb::Disposal::OrderedToCorrect,
        Disposal::CaseOpened => pb::Disposal::CaseOpened,
        Disposal::Transferred => pb::Disposal::Transferred,
        Disposal::Notified => pb::Disposal::Notified,
    }
}

fn content_pb(c: &Content) -> pb::Content {
    pb::Content {
        codes: c.codes.clone(),
        disposal: disposal_pb(c.disposal) as i32,
        disposal_department_code: c.disposal_department.clone(),
        note: c.note.clone(),
    }
}

/// The content of a request: a missing disposal means none.
fn content_from(c: Option<pb::Content>) -> Result<Content, Error> {
    let Some(c) = c else {
        return Err(Violations::one("content", msg("required")).into());
    };
    let disposal = match pb::Disposal::try_from(c.disposal) {
        Ok(pb::Disposal::Unspecified) | Ok(pb::Disposal::None) => Disposal::None,
        Ok(pb::Disposal::OrderedToCorrect) => Disposal::OrderedToCorrect,
        Ok(pb::Disposal::CaseOpened) => Disposal::CaseOpened,
        Ok(pb::Disposal::Transferred) => Disposal::Transferred,
        Ok(pb::Disposal::Notified) => Disposal::Notified,
        Err(_) => {
            return Err(Violations::one(
                "content.disposal",
                msg("not-a-known-value").arg("value", c.disposal),
            )
            .into());
        }
    };
    Ok(Content {
        codes: c.codes.iter().map(|s| s.trim().to_string()).collect(),
        disposal,
        disposal_department: c.disposal_department_code.trim().to_string(),
        note: c.note,
    })
}

/// A result as the API carries it; with its history when `history` words it.
fn result_pb(
    s: &Stored,
    history: Option<&Words>,
    today: NaiveDate,
    department_name: &str,
) -> pb::Result {
    let r: &Res = &s.result;
    pb::Result {
        id: r.id.clone(),
        task_id: r.task_id.clone(),
        task_name: r.task_name.clone(),
        visit_id: r.visit_id.clone(),
        target_id: r.target_id.clone(),
        credit_code: r.credit_code.clone(),
        target_name: r.target_name.clone(),
        department_code: r.department.clone(),
        department_name: department_name.to_string(),
        item_code: r.item.clone(),
        item_name: r.item_name.clone(),
        inspection_type: r.inspection_type.clone(),
        inspection_date: r.inspection_date.to_string(),
        visit_outcome: r.visit_outcome.clone(),
        problem_found: r.problem_found,
        problems: r.problems.clone(),
        suggested_codes: r.suggested.clone(),
        state: state_pb(r.state) as i32,
        content: r.content.as_ref().map(content_pb),
        code_table_version: r.table.clone(),
        due_date: r.due.map(|d| d.to_string()).unwrap_or_default(),
        due_date_provisional: r.due_provisional,
        overdue: r.overdue(today),
        reason: r.reason.clone(),
        withholding_request: r.withholding.as_ref().map(|w| pb::WithholdingRequest {
            requested_by: w.by.clone(),
            reason: w.reason.clone(),
            requested_time: Some(ts(w.at)),
        }),
        published_time: r.published_at.map(ts),
        corrections: r
            .corrections
            .iter()
            .map(|c| pb::Correction {
                time: Some(ts(c.at)),
                previous: Some(content_pb(&c.previous)),
                reason: c.reason.clone(),
                signed_off_by: c.signed_off_by.clone(),
            })
            .collect(),
        history: if let Some(words) = history {
            r.history
                .iter()
                .map(|h| pb::HistoryEntry {
                    time: Some(ts(h.at)),
                    actor: h.actor.clone(),
                    kind: h.kind.clone(),
                    detail: words.of(&h.detail),
                    detail_text: Some(h.detail.to_pb()),
                })
                .collect()
        } else {
            Vec::new()
        },
        revision: s.version,
    }
}

impl Api {
    /// How the texts the caller reads are worded.
    async fn words<T>(&self, request: &Request<T>) -> Result<Words, Status> {
        suiji_platform::departments::words_in(request, self.publications.db()).await
    }

    /// One result with its history, worded by `words`, and its department's name.
    async fn one(&self, s: &Stored, words: &Words) -> Result<Option<pb::Result>, Status> {
        let name = words
            .names
            .get(&s.result.department)
            .cloned()
            .unwrap_or_else(|| s.result.department.clone());
        Ok(Some(result_pb(
            s,
            Some(words),
            suiji_platform::calendar::today(),
            &name,
        )))
    }
}

fn day(s: &str, field: &str) -> Result<Option<NaiveDate>, Error> {
    if s.is_empty() {
        return Ok(None);
    }
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .map(Some)
        .map_err(|_| Violations::one(field, msg("not-a-date").arg("value", s)).into())
}

#[tonic::async_trait]
impl PublicationService for Api {
    async fn list_results(
        &self,
        request: Request<pb::ListResultsRequest>,
    ) -> Result<Response<pb::ListResultsResponse>, Status> {
        let who = require(&request)?;
        let r = request.into_inner();
        let page = paging::page(r.page_size as i32, &r.page_token).map_err(Error::from)?;
        let mut v = Violations::new();
        let mut states = Vec::new();
        for (i, s) in r.states.iter().enumerate() {
            match State::ALL.into_iter().find(|x| state_pb(*x) as i32 == *s) {
                Some(x) => states.push(x),
                None => v.add(
                    format!("states[{i}]"),
                    msg("not-a-known-value").arg("value", s),
                ),
            }
        }
        v.into_result().map_err(Error::from)?;
        let filter = Filter {
            department: r.department_code,
            task_id: r.task_id,
            states,
            overdue_on: None,
            withholding_asked: r.withholding_requested,
        };
        let results = self
            .publications
            .list(&who, filter, r.overdue_only, &page)
            .await?;
        let today = suiji_platform::calendar::today();
        // A list is of one department.
        let name = match results.first() {
            Some(s) => {
                self.publications
                    .department_name_of(&s.result.department)
                    .await?
            }
            None => String::new(),
        };
        Ok(Response::new(pb::ListResultsResponse {
            next_page_token: paging::next_token(&results, &page, |s| s.result.id.as_str()),
            results: results
                .iter()
                .map(|s| result_pb(s, None, today, &name))
                .collect(),
        }))
    }

    async fn get_result(
        &self,
        request: Request<pb::GetResultRequest>,
    ) -> Result<Response<pb::GetResultResponse>, Status> {
        let who = require(&request)?;
        let words = self.words(&request).await?;
        let s = self
            .publications
            .get(&who, &request.into_inner().id)
            .await?;
        Ok(Response::new(pb::GetResultResponse {
            result: self.one(&s, &words).await?,
        }))
    }

    async fn enter_result(
        &self,
        request: Request<pb::EnterResultRequest>,
    ) -> Result<Response<pb::EnterResultResponse>, Status> {
        let who = require(&request)?;
        let words = self.words(&request).await?;
        let r = request.into_inner();
        let content = content_from(r.content)?;
        let s = self
            .publications
            .enter(&who, &r.id, content, r.expected_revision)
            .await?;
        Ok(Response::new(pb::EnterResultResponse {
            result: self.one(&s, &words).await?,
        }))
    }

    async fn review_result(
        &self,
        request: Request<pb::ReviewResultRequest>,
    ) -> Result<Response<pb::ReviewResultResponse>, Status> {
        let who = require(&request)?;
        let words = self.words(&request).await?;
        let r = request.into_inner();
        let decision = match pb::ReviewDecision::try_from(r.decision) {
            Ok(pb::ReviewDecision::Approve) => Decision::Approve,
            Ok(pb::ReviewDecision::Return) => Decision::Return,
            Ok(pb::ReviewDecision::Reject) => Decision::Reject,
            _ => {
                return Err(
                    Error::from(Violations::one("decision", msg("review-decision"))).into(),
                );
            }
        };
        let s = self
            .publications
            .review(&who, &r.id, decision, &r.reason, r.expected_revision)
            .await?;
        Ok(Response::new(pb::ReviewResultResponse {
            result: self.one(&s, &words).await?,
        }))
    }

    async fn publish_results(
        &self,
        request: Request<pb::PublishResultsRequest>,
    ) -> Result<Response<pb::PublishResultsResponse>, Status> {
        let who = require(&request)?;
        let r = request.into_inner();
        if r.ids.is_empty() {
            return Err(Error::from(Violations::one("ids", msg("results-none"))).into());
        }
        if r.ids.len() > 1000 {
            return Err(Error::from(Violations::one(
                "ids",
                msg("at-most-at-once").arg("max", 1000),
            ))
            .into());
        }
        let outcomes = self.publications.publish(&who, &r.ids).await;
        // A caller who may publish none of them is refused as a whole.
        let denied = |o: &Result<(), Error>| matches!(o, Err(Error::Denied(_)));
        if !outcomes.is_empty() && outcomes.iter().all(denied) {
            return Err(match outcomes.into_iter().next() {
                Some(Err(e)) => e.into(),
                _ => Status::permission_denied("publication.reviewer"),
            });
        }
        Ok(Response::new(pb::PublishResultsResponse {
            outcomes: r
                .ids
                .iter()
                .zip(outcomes)
                .map(|(id, o)| match o {
                    Ok(()) => pb::PublishOutcome {
                        id: id.clone(),
                        published: true,
                        error: String::new(),
                    },
                    Err(e) => pb::PublishOutcome {
                        id: id.clone(),
                        published: false,
                        error: Status::from(e).message().to_string(),
                    },
                })
                .collect(),
        }))
    }

    async fn request_withholding(
        &self,
        request: Request<pb::RequestWithholdingRequest>,
    ) -> Result<Response<pb::RequestWithholdingResponse>, Status> {
        let who = require(&request)?;
        let words = self.words(&request).await?;
        let r = request.into_inner();
        let s = self
            .publications
            .request_withholding(&who, &r.id, &r.reason, r.expected_revision)
            .await?;
        Ok(Response::new(pb::RequestWithholdingResponse {
            result: self.one(&s, &words).await?,
        }))
    }

    async fn decline_withholding(
        &self,
        request: Request<pb::DeclineWithholdingRequest>,
    ) -> Result<Response<pb::DeclineWithholdingResponse>, Status> {
        let who = require(&request)?;
        let words = self.words(&request).await?;
        let r = request.into_inner();
        let s = self
            .publications
            .decline_withholding(&who, &r.id, &r.reason, r.expected_revision)
            .await?;
        Ok(Response::new(pb::DeclineWithholdingResponse {
            result: self.one(&s, &words).await?,
        }))
    }

    async fn withhold_result(
        &self,
        request: Request<pb::WithholdResultRequest>,
    ) -> Result<Response<pb::WithholdResultResponse>, Status> {
        let who = require(&request)?;
        let words = self.words(&request).await?;
        let r = request.into_inner();
        let s = self
            .publications
            .withhold(&who, &r.id, &r.reason, r.expected_revision)
            .await?;
        Ok(Response::new(pb::WithholdResultResponse {
            result: self.one(&s, &words).await?,
        }))
    }

    async fn correct_result(
        &self,
        request: Request<pb::CorrectResultRequest>,
    ) -> Result<Response<pb::CorrectResultResponse>, Status> {
        let who = require(&request)?;
        let words = self.words(&request).await?;
        let r = request.into_inner();
        let content = content_from(r.content)?;
        let s = self
            .publications
            .correct(&who, &r.id, content, &r.reason, r.expected_revision)
            .await?;
        Ok(Response::new(pb::CorrectResultResponse {
            result: self.one(&s, &words).await?,
        }))
    }

    async fn list_result_codes(
        &self,
        _request: Request<pb::ListResultCodesRequest>,
    ) -> Result<Response<pb::ListResultCodesResponse>, Status> {
        let t = self.publications.tables().current();
        Ok(Response::new(pb::ListResultCodesResponse {
            version: t.version.clone(),
            codes: t
                .current()
                .map(|c| pb::ResultCode {
                    code: c.code.clone(),
                    text: c.text.clone(),
                    problem: c.problem,
                    credit: c.credit.clone(),
                    exclusive: c.exclusive,
                })
                .collect(),
        }))
    }

    async fn public_search(
        &self,
        request: Request<pb::PublicSearchRequest>,
    ) -> Result<Response<pb::PublicSearchResponse>, Status> {
        let r = request.into_inner();
        let page = paging::page(r.page_size.min(200) as i32, &r.page_token).map_err(Error::from)?;
        let (records, next_page_token) = self.publications.search(&r.query, &page).await?;
        Ok(Response::new(pb::PublicSearchResponse {
            records: records.iter().map(public_pb).collect(),
            next_page_token,
        }))
    }

    async fn report(
        &self,
        request: Request<pb::ReportRequest>,
    ) -> Result<Response<pb::ReportResponse>, Status> {
        // Any department's staff: the rates are the joint meeting's business and no secret among its members.
        require(&request)?;
        let r = request.into_inner();
        let as_of = day(&r.as_of, "as_of")?;
        Ok(Response::new(
            self.publications
                .report(r.year, r.quarter, &r.task_id, as_of)
                .await?,
        ))
    }

    async fn list_deliveries(
        &self,
        request: Request<pb::ListDeliveriesRequest>,
    ) -> Result<Response<pb::ListDeliveriesResponse>, Status> {
        let who = require(&request)?;
        let r = request.into_inner();
        let page = paging::page(r.page_size as i32, &r.page_token).map_err(Error::from)?;
        let state = match pb::DeliveryState::try_from(r.state) {
            Ok(pb::DeliveryState::Unspecified) => None,
            Ok(pb::DeliveryState::Pending) => Some("pending"),
            Ok(pb::DeliveryState::Delivered) => Some("delivered"),
            Ok(pb::DeliveryState::Dead) => Some("dead"),
            Err(_) => {
                return Err(Error::from(Violations::one(
                    "state",
                    msg("not-a-known-value").arg("value", r.state),
                ))
                .into());
            }
        };
        let list = self.publications.deliveries(&who, state, &page).await?;
        Ok(Response::new(pb::ListDeliveriesResponse {
            next_page_token: paging::next_token(&list, &page, |d| d.id.as_str()),
            deliveries: list
                .iter()
                .map(|d| pb::Delivery {
                    id: d.id.clone(),
                    connector: d.connector.clone(),
                    kind: d.kind.clone(),
                    result_id: d.result_id.clone(),
                    state: match d.state.as_str() {
                        "pending" => pb::DeliveryState::Pending,
                        "delivered" => pb::DeliveryState::Delivered,
                        _ => pb::DeliveryState::Dead,
                    } as i32,
                    attempts: d.attempts as u32,
                    last_error: d.last_error.clone(),
                    next_time: Some(ts(d.next_at)),
                })
                .collect(),
        }))
    }

    async fn retry_deliveries(
        &self,
        request: Request<pb::RetryDeliveriesRequest>,
    ) -> Result<Response<pb::RetryDeliveriesResponse>, Status> {
        let who = require(&request)?;
        let queued = self
            .publications
            .retry_deliveries(&who, &request.into_inner().ids)
            .await?;
        Ok(Response::new(pb::RetryDeliveriesResponse { queued }))
    }

    type ExportPublishedStream = ResponseStream<pb::ExportPublishedResponse>;

    async fn export_published(
        &self,
        request: Request<pb::ExportPublishedRequest>,
    ) -> Result<Response<Self::ExportPublishedStream>, Status> {
        require(&request)?;
        let d = day(&request.into_inner().day, "day")?
            .ok_or_else(|| Error::from(Violations::one("day", msg("required"))))?;
        let (send, receive) = tokio::sync::mpsc::channel(4);
        let publications = self.publications.clone();
        tokio::spawn(async move {
            let mut export = crate::connector::Export::new(d);
            loop {
                let message = match export.next(&publications).await {
                    Ok(Some(chunk)) => Ok(pb::ExportPublishedResponse { chunk }),
                    Ok(None) => return,
                    Err(e) => Err(Status::from(e)),
                };
                let failed = message.is_err();
                // The caller went away, or the export failed and was told so.
                if send.send(message).await.is_err() || failed {
                    return;
                }
            }
        });
        Ok(Response::new(Box::pin(
            tokio_stream::wrappers::ReceiverStream::new(receive),
        )))
    }
}

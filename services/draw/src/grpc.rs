//! The gRPC face of the draw: the only file that sees requests and statuses.

use std::pin::Pin;
use suiji_platform::messages::msg;

use futures::{Stream, StreamExt};
use suiji_api::draw::v1 as pb;
use suiji_api::draw::v1::draw_service_server::DrawService;
use suiji_platform::auth::Identity;
use suiji_platform::error::Error;
use suiji_platform::grpc::require;
use suiji_platform::paging;
use suiji_platform::validation::Violations;
use tonic::{Request, Response, Status};

use crate::convert::{
    draw_pb, reason_from, replacement_pb, state_from, team_pb, without_target_lists, witnesses_from,
};
use crate::record::{Check, Record, RecordFile};
use crate::service::{Draws, lines};

type ResponseStream<T> = Pin<Box<dyn Stream<Item = Result<T, Status>> + Send>>;

/// The `suiji.draw.v1.DrawService` implementation.
pub struct Api {
    draws: Draws,
}

impl Api {
    /// Serves `draws`.
    pub fn new(draws: Draws) -> Self {
        Self { draws }
    }
}

fn day(field: &str, text: &str) -> Result<Option<chrono::NaiveDate>, Error> {
    if text.is_empty() {
        return Ok(None);
    }
    text.parse()
        .map(Some)
        .map_err(|_| Violations::one(field, msg("not-a-date").arg("value", text)).into())
}

/// The record as the caller may see it: whole with a token, the public view without.
/// The record as `who` may read it.
fn view(record: Record, who: Option<&Identity>) -> Record {
    if record.lists_readable_by(who) {
        record
    } else {
        record.public_view()
    }
}

/// `bytes` as export chunks of at most a mebibyte (a province's record is some tens of them).
fn chunks_of(bytes: Vec<u8>) -> impl Stream<Item = Result<pb::ExportDrawResponse, Status>> {
    let chunks: Vec<Vec<u8>> = bytes.chunks(1 << 20).map(<[u8]>::to_vec).collect();
    futures::stream::iter(
        chunks
            .into_iter()
            .map(|chunk| Ok(pb::ExportDrawResponse { chunk })),
    )
}

fn checks_pb(checks: Vec<Check>, lists_checked: bool) -> pb::VerifyDrawResponse {
    pb::VerifyDrawResponse {
        r#match: checks.iter().all(|c| c.ok),
        lists_checked,
        checks: checks
            .into_iter()
            .map(|c| pb::Check {
                name: c.name,
                ok: c.ok,
                detail: c.detail,
            })
            .collect(),
    }
}

#[tonic::async_trait]
impl DrawService for Api {
    async fn get_draw(
        &self,
        request: Request<pb::GetDrawRequest>,
    ) -> Result<Response<pb::GetDrawResponse>, Status> {
        let who = request.extensions().get::<Identity>().cloned();
        let record = self.draws.get(&request.into_inner().task_id).await?;
        Ok(Response::new(pb::GetDrawResponse {
            draw: Some(draw_pb(&view(record, who.as_ref()))),
        }))
    }

    async fn list_draws(
        &self,
        request: Request<pb::ListDrawsRequest>,
    ) -> Result<Response<pb::ListDrawsResponse>, Status> {
        require(&request)?;
        let r = request.into_inner();
        let page = paging::page(r.page_size, &r.page_token).map_err(Error::from)?;
        let records = self.draws.list(state_from(r.state), r.year, &page).await?;
        let next_page_token = paging::next_token(&records, &page, |r| r.task_id.as_str());
        Ok(Response::new(pb::ListDrawsResponse {
            draws: records
                .iter()
                .map(|r| {
                    let mut d = draw_pb(r);
                    // Listings carry no lists; GetDraw does.
                    without_target_lists(&mut d);
                    if let Some(t) = &mut d.teams {
                        t.pools.iter_mut().for_each(|p| p.members.clear());
                    }
                    d
                })
                .collect(),
            next_page_token,
        }))
    }

    async fn draw_targets(
        &self,
        request: Request<pb::DrawTargetsRequest>,
    ) -> Result<Response<pb::DrawTargetsResponse>, Status> {
        let who = require(&request)?;
        let r = request.into_inner();
        let record = self
            .draws
            .draw_targets(
                &who,
                &r.task_id,
                &r.witness_entropy,
                witnesses_from(r.witnesses),
            )
            .await?;
        Ok(Response::new(pb::DrawTargetsResponse {
            draw: Some(draw_pb(&record)),
        }))
    }

    async fn lock_draw(
        &self,
        request: Request<pb::LockDrawRequest>,
    ) -> Result<Response<pb::LockDrawResponse>, Status> {
        let who = require(&request)?;
        let r = request.into_inner();
        let record = self
            .draws
            .lock(&who, &r.task_id, r.expected_revision)
            .await?;
        Ok(Response::new(pb::LockDrawResponse {
            draw: Some(draw_pb(&record)),
        }))
    }

    async fn draw_inspectors(
        &self,
        request: Request<pb::DrawInspectorsRequest>,
    ) -> Result<Response<pb::DrawInspectorsResponse>, Status> {
        let who = require(&request)?;
        let r = request.into_inner();
        let record = self
            .draws
            .draw_inspectors(
                &who,
                &r.task_id,
                &r.witness_entropy,
                witnesses_from(r.witnesses),
                day("eligible_on", &r.eligible_on)?,
                &r.departments,
            )
            .await?;
        Ok(Response::new(pb::DrawInspectorsResponse {
            draw: Some(draw_pb(&record)),
        }))
    }

    async fn replace_inspector(
        &self,
        request: Request<pb::ReplaceInspectorRequest>,
    ) -> Result<Response<pb::ReplaceInspectorResponse>, Status> {
        let who = require(&request)?;
        let r = request.into_inner();
        let (record, replacement) = self
            .draws
            .replace(
                &who,
                &r.task_id,
                &r.target_id,
                &r.inspector_id,
                reason_from(r.reason),
                &r.note,
                day("eligible_on", &r.eligible_on)?,
            )
            .await?;
        Ok(Response::new(pb::ReplaceInspectorResponse {
            draw: Some(draw_pb(&record)),
            replacement: Some(replacement_pb(&replacement)),
        }))
    }

    async fn list_teams(
        &self,
        request: Request<pb::ListTeamsRequest>,
    ) -> Result<Response<pb::ListTeamsResponse>, Status> {
        let who = request.extensions().get::<Identity>().cloned();
        let r = request.into_inner();
        let mut v = Violations::new();
        v.check(r.task_id.is_empty(), "task_id", msg("required"));
        v.check(r.page_size < 0, "page_size", msg("not-negative"));
        v.into_result().map_err(Error::from)?;
        let after = paging::page(0, &r.page_token).map_err(Error::from)?.after;
        let teams = self
            .draws
            .teams(
                who.as_ref(),
                &r.task_id,
                &r.department_code,
                &r.inspector_id,
                r.page_size,
                &after,
            )
            .await?;
        let full = teams.len() == Draws::teams_page_size(r.page_size);
        let next_page_token = match teams.last() {
            Some(last) if full => paging::token_after(&last.target_id),
            _ => String::new(),
        };
        Ok(Response::new(pb::ListTeamsResponse {
            teams: teams.iter().map(team_pb).collect(),
            next_page_token,
        }))
    }

    type ExportDrawStream = ResponseStream<pb::ExportDrawResponse>;

    async fn export_draw(
        &self,
        request: Request<pb::ExportDrawRequest>,
    ) -> Result<Response<Self::ExportDrawStream>, Status> {
        let who = request.extensions().get::<Identity>().cloned();
        let record = self.draws.get(&request.into_inner().task_id).await?;
        let with_candidates =
            !record.targets.snapshot_id.is_empty() && record.lists_readable_by(who.as_ref());
        let record = view(record, who.as_ref());
        let mut head = b"{\"record\":".to_vec();
        serde_json::to_writer(&mut head, &record).map_err(|e| Status::internal(e.to_string()))?;
        if !with_candidates {
            head.extend_from_slice(b"}\n");
            return Ok(Response::new(Box::pin(chunks_of(head))));
        }
        head.extend_from_slice(b",\"candidates\":[");
        let snapshot = self
            .draws
            .snapshot_stream(&record.targets.snapshot_id)
            .await?;
        let mut first = true;
        let body = snapshot.map(move |chunk| {
            let chunk = chunk.map_err(|s| Status::internal(format!("directories: {s}")))?;
            let mut out = Vec::with_capacity(chunk.ids.len() * 2);
            for (id, stratum) in lines(&chunk) {
                if !first {
                    out.push(b',');
                }
                first = false;
                out.push(b'[');
                serde_json::to_writer(&mut out, &String::from_utf8_lossy(id))
                    .map_err(|e| Status::internal(e.to_string()))?;
                out.push(b',');
                serde_json::to_writer(&mut out, stratum)
                    .map_err(|e| Status::internal(e.to_string()))?;
                out.push(b']');
            }
            Ok(pb::ExportDrawResponse { chunk: out })
        });
        let stream = chunks_of(head)
            .chain(body)
            .chain(futures::stream::once(async {
                Ok(pb::ExportDrawResponse {
                    chunk: b"]}\n".to_vec(),
                })
            }));
        Ok(Response::new(Box::pin(stream)))
    }

    async fn verify_draw(
        &self,
        request: Request<pb::VerifyDrawRequest>,
    ) -> Result<Response<pb::VerifyDrawResponse>, Status> {
        let who = request.extensions().get::<Identity>().cloned();
        let r = request.into_inner();
        // The record to check, and the stored one it claims to be (whose lists decide what may be read).
        let (record, stored) = if !r.record.is_empty() {
            let file: RecordFile = serde_json::from_slice(&r.record).map_err(|e| {
                Error::from(Violations::one(
                    "record",
                    msg("not-a-record-file").arg("error", e),
                ))
            })?;
            if let Some(c) = &file.candidates {
                // Self-contained: checked from the file alone, which tells nothing its sender lacks.
                let mut checks = crate::record::verify_targets(
                    &file.record,
                    c.iter().map(|(id, s)| (id.as_bytes(), s.as_str())),
                );
                checks.extend(crate::record::verify_teams(&file.record));
                return Ok(Response::new(checks_pb(checks, true)));
            }
            let stored = self.draws.get(&file.record.task_id).await?;
            (file.record, stored)
        } else if !r.task_id.is_empty() {
            let record = self.draws.get(&r.task_id).await?;
            (record.clone(), record)
        } else {
            return Err(Error::from(Violations::one("task_id", msg("task-or-record"))).into());
        };
        if stored.lists_readable_by(who.as_ref()) {
            let checks = self.draws.verify(&record).await?;
            Ok(Response::new(checks_pb(checks, true)))
        } else {
            // The stored candidates are not the caller's to read, nor anything a check would say of them.
            Ok(Response::new(checks_pb(
                crate::record::verify_public(&record),
                false,
            )))
        }
    }
}

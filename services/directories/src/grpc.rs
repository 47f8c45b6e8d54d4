//! The gRPC face of the directories: the only file that sees requests and statuses.

use std::pin::Pin;
use suiji_platform::auth::{ROLE_DRAW_OPERATOR, ROLE_SERVICE};
use suiji_platform::messages::msg;

use futures::{Stream, StreamExt};
use suiji_api::directories::v1 as pb;
use suiji_api::directories::v1::directories_service_server::DirectoriesService;
use suiji_platform::auth::{ROLE_ADMIN, ROLE_DIRECTORIES_EDITOR};
use suiji_platform::error::Error;
use suiji_platform::grpc::require;
use suiji_platform::paging;
use suiji_platform::reference::DepartmentSeed;
use suiji_platform::validation::{Denied, Violations};
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tonic::{Request, Response, Status, Streaming};

use crate::convert::*;
use crate::domain::inspector::Inspector;
use crate::domain::target::Target;
use crate::import::Report;
use crate::service::{Directories, SNAPSHOT_READ_AHEAD};

/// The `suiji.directories.v1.DirectoriesService` implementation.
pub struct Api {
    directories: Directories,
}

impl Api {
    /// Serves `directories`.
    pub fn new(directories: Directories) -> Self {
        Self { directories }
    }
}

/// Targets per export message.
const EXPORT_PAGE: i64 = 5000;

/// Departments one inspector list may name.
const MAX_DEPARTMENT_CODES: usize = 50;

type ResponseStream<T> = Pin<Box<dyn Stream<Item = Result<T, Status>> + Send>>;

/// A message of an import request stream, whatever the record type.
enum Part {
    Header(pb::ImportHeader),
    Chunk(Vec<u8>),
    Empty,
}

/// A message of an import reply stream, whatever the record type.
enum Reply {
    Progress(pb::ImportProgress),
    Rejected(pb::RejectedRow),
    Summary(pb::ImportSummary),
}

impl Api {
    /// Runs an import stream for records of kind `R`: checks the caller, reads the header, feeds the chunks to
    /// the import and streams its reports back, the summary last.
    async fn import<R, Req, Resp>(
        &self,
        request: Request<Streaming<Req>>,
        part: fn(Req) -> Part,
        reply: fn(Reply) -> Resp,
    ) -> Result<Response<ResponseStream<Resp>>, Status>
    where
        R: crate::import::Record,
        Req: Send + 'static,
        Resp: Send + 'static,
    {
        let who = require(&request)?;
        if !who.has_role(ROLE_DIRECTORIES_EDITOR) {
            return Err(Error::Denied(Denied::role(ROLE_DIRECTORIES_EDITOR)).into());
        }
        let words = suiji_platform::departments::words_in(&request, self.directories.db()).await?;
        let mut incoming = request.into_inner();
        let header = match incoming.message().await?.map(part) {
            Some(Part::Header(h)) => h,
            _ => {
                return Err(Error::Invalid(Violations::one("header", msg("header-first"))).into());
            }
        };
        let format = match pb::FileFormat::try_from(header.format) {
            Ok(pb::FileFormat::Csv) => crate::import::Format::Csv,
            Ok(pb::FileFormat::Xlsx) => crate::import::Format::Xlsx,
            _ => crate::import::Format::of(&header.file_name),
        };
        let chunks = incoming.map(move |message| match message.map(part) {
            Ok(Part::Chunk(bytes)) => Ok(bytes::Bytes::from(bytes)),
            Ok(_) => Err(std::io::Error::other("a second header in the stream")),
            Err(status) => Err(std::io::Error::other(status.message().to_string())),
        });
        let source = tokio_util::io::StreamReader::new(chunks);
        let (out, rx) = mpsc::channel::<Result<Resp, Status>>(256);
        let (reports, mut report_rx) = mpsc::channel::<Report>(256);
        let forward = {
            let out = out.clone();
            tokio::spawn(async move {
                while let Some(report) = report_rx.recv().await {
                    let message = match report {
                        Report::Progress {
                            rows_read,
                            accepted,
                            rejected,
                        } => Reply::Progress(pb::ImportProgress {
                            rows_read,
                            accepted,
                            rejected,
                        }),
                        Report::Rejected(r) => Reply::Rejected(pb::RejectedRow {
                            line: r.line,
                            field: r.field,
                            reason: words.of(&r.reason),
                            column: r.column,
                            reason_text: Some(r.reason.to_pb()),
                        }),
                    };
                    if out.send(Ok(reply(message))).await.is_err() {
                        break;
                    }
                }
            })
        };
        let directories = self.directories.clone();
        tokio::spawn(async move {
            let result = directories
                .import::<R>(&who, &header.file_name, format, source, reports)
                .await;
            let _ = forward.await;
            let message = result.map_err(Status::from).map(|s| {
                reply(Reply::Summary(pb::ImportSummary {
                    rows_read: s.rows_read,
                    accepted: s.accepted,
                    rejected: s.rejected,
                    created: s.created,
                    rejections_listed: s.listed,
                }))
            });
            let _ = out.send(message).await;
        });
        Ok(Response::new(Box::pin(ReceiverStream::new(rx))))
    }
}

/// Refuses `who` unless they make and pin snapshots: the draw service (acting as itself), a draw operator, an
/// administrator. Everyone else reads the directory page by page.
fn snapshot_maker(who: &suiji_platform::auth::Identity) -> Result<(), Status> {
    if who.has_role(ROLE_ADMIN) || who.has_role(ROLE_DRAW_OPERATOR) || who.has_role(ROLE_SERVICE) {
        return Ok(());
    }
    Err(Error::Denied(Denied::role(ROLE_DRAW_OPERATOR)).into())
}

#[tonic::async_trait]
impl DirectoriesService for Api {
    type ImportTargetsStream = ResponseStream<pb::ImportTargetsResponse>;
    type ExportTargetsStream = ResponseStream<pb::ExportTargetsResponse>;
    type ImportInspectorsStream = ResponseStream<pb::ImportInspectorsResponse>;

    async fn upsert_department(
        &self,
        request: Request<pb::UpsertDepartmentRequest>,
    ) -> Result<Response<pb::UpsertDepartmentResponse>, Status> {
        let who = require(&request)?;
        if !who.has_role(ROLE_ADMIN) {
            return Err(Error::Denied(Denied::role(ROLE_ADMIN)).into());
        }
        let d = request
            .into_inner()
            .department
            .ok_or_else(|| Error::Invalid(Violations::one("department", msg("required"))))?;
        let mut v = Violations::new();
        v.check(
            d.code.trim().is_empty(),
            "department.code",
            msg("not-empty"),
        );
        v.check(
            d.name.trim().is_empty(),
            "department.name",
            msg("not-empty"),
        );
        let level = level_name(d.level);
        v.check(level.is_none(), "department.level", msg("department-level"));
        v.check(
            self.directories.regions().get(&d.region_code).is_none(),
            "department.region_code",
            msg("region-code").arg("value", &d.region_code),
        );
        v.into_result().map_err(Error::Invalid)?;
        let seed = DepartmentSeed {
            code: d.code,
            name: d.name,
            level: level.unwrap_or_default().into(),
            region_code: d.region_code,
        };
        self.directories
            .upsert_department(&who, &seed, d.active)
            .await?;
        Ok(Response::new(pb::UpsertDepartmentResponse {
            department: Some(department_pb(&seed, d.active)),
        }))
    }

    async fn list_departments(
        &self,
        request: Request<pb::ListDepartmentsRequest>,
    ) -> Result<Response<pb::ListDepartmentsResponse>, Status> {
        require(&request)?;
        let all = self
            .directories
            .departments(request.into_inner().include_inactive)
            .await?;
        Ok(Response::new(pb::ListDepartmentsResponse {
            departments: all.iter().map(|(d, a)| department_pb(d, *a)).collect(),
        }))
    }

    async fn get_target(
        &self,
        request: Request<pb::GetTargetRequest>,
    ) -> Result<Response<pb::GetTargetResponse>, Status> {
        require(&request)?;
        let r = request.into_inner();
        if !r.with_history {
            let (target, updated) = self.directories.target(&r.id).await?;
            return Ok(Response::new(pb::GetTargetResponse {
                target: Some(target_pb(&target, updated)),
                inspections: Vec::new(),
            }));
        }
        let (target, updated, history) = self.directories.target_with_history(&r.id).await?;
        Ok(Response::new(pb::GetTargetResponse {
            target: Some(target_pb(&target, updated)),
            inspections: history
                .into_iter()
                .map(|i| pb::TargetInspection {
                    task_id: i.task_id,
                    department_code: i.department,
                    level: i.level,
                    visit_date: i.date.to_string(),
                    problem_found: i.problem_found,
                })
                .collect(),
        }))
    }

    async fn list_targets(
        &self,
        request: Request<pb::ListTargetsRequest>,
    ) -> Result<Response<pb::ListTargetsResponse>, Status> {
        require(&request)?;
        let r = request.into_inner();
        let page = paging::page(r.page_size, &r.page_token).map_err(Error::Invalid)?;
        let query = query_from(r.filter, r.name_contains, self.directories.regions())
            .map_err(Error::Invalid)?;
        let (targets, next_page_token) = self.directories.targets(&query, &page).await?;
        Ok(Response::new(pb::ListTargetsResponse {
            targets: targets.iter().map(|(t, u)| target_pb(t, *u)).collect(),
            next_page_token,
        }))
    }

    async fn import_targets(
        &self,
        request: Request<Streaming<pb::ImportTargetsRequest>>,
    ) -> Result<Response<Self::ImportTargetsStream>, Status> {
        use pb::import_targets_request::Part as P;
        use pb::import_targets_response::Event as E;
        let part = |m: pb::ImportTargetsRequest| match m.part {
            Some(P::Header(h)) => Part::Header(h),
            Some(P::Chunk(c)) => Part::Chunk(c),
            None => Part::Empty,
        };
        let reply = |r: Reply| pb::ImportTargetsResponse {
            event: Some(match r {
                Reply::Progress(p) => E::Progress(p),
                Reply::Rejected(r) => E::Rejected(r),
                Reply::Summary(s) => E::Summary(s),
            }),
        };
        self.import::<Target, _, _>(request, part, reply).await
    }

    async fn import_inspectors(
        &self,
        request: Request<Streaming<pb::ImportInspectorsRequest>>,
    ) -> Result<Response<Self::ImportInspectorsStream>, Status> {
        use pb::import_inspectors_request::Part as P;
        use pb::import_inspectors_response::Event as E;
        let part = |m: pb::ImportInspectorsRequest| match m.part {
            Some(P::Header(h)) => Part::Header(h),
            Some(P::Chunk(c)) => Part::Chunk(c),
            None => Part::Empty,
        };
        let reply = |r: Reply| pb::ImportInspectorsResponse {
            event: Some(match r {
                Reply::Progress(p) => E::Progress(p),
                Reply::Rejected(r) => E::Rejected(r),
                Reply::Summary(s) => E::Summary(s),
            }),
        };
        self.import::<Inspector, _, _>(request, part, reply).await
    }

    async fn request_recusal(
        &self,
        request: Request<pb::RequestRecusalRequest>,
    ) -> Result<Response<pb::RequestRecusalResponse>, Status> {
        let who = require(&request)?;
        let r = request.into_inner();
        let row = self
            .directories
            .request_recusal(&who, &r.target_id, &r.inspector_id, &r.reason)
            .await?;
        Ok(Response::new(pb::RequestRecusalResponse {
            recusal: Some(recusal_pb(&row)),
        }))
    }

    async fn decide_recusal(
        &self,
        request: Request<pb::DecideRecusalRequest>,
    ) -> Result<Response<pb::DecideRecusalResponse>, Status> {
        let who = require(&request)?;
        let r = request.into_inner();
        let row = self
            .directories
            .decide_recusal(&who, &r.id, r.accept, &r.reason)
            .await?;
        Ok(Response::new(pb::DecideRecusalResponse {
            recusal: Some(recusal_pb(&row)),
        }))
    }

    async fn list_recusals(
        &self,
        request: Request<pb::ListRecusalsRequest>,
    ) -> Result<Response<pb::ListRecusalsResponse>, Status> {
        let who = require(&request)?;
        let r = request.into_inner();
        let department = self
            .directories
            .recusal_scope(&who, &r.department_code)
            .map_err(Error::Denied)?;
        let state = match pb::RecusalState::try_from(r.state) {
            Ok(pb::RecusalState::Pending) => "pending",
            Ok(pb::RecusalState::Accepted) => "accepted",
            Ok(pb::RecusalState::Rejected) => "rejected",
            _ => "",
        };
        let rows = self
            .directories
            .recusals(&r.inspector_id, &r.target_id, state, department)
            .await?;
        Ok(Response::new(pb::ListRecusalsResponse {
            recusals: rows.iter().map(recusal_pb).collect(),
        }))
    }

    async fn list_inspectors(
        &self,
        request: Request<pb::ListInspectorsRequest>,
    ) -> Result<Response<pb::ListInspectorsResponse>, Status> {
        require(&request)?;
        let r = request.into_inner();
        let page = paging::page(r.page_size, &r.page_token).map_err(Error::Invalid)?;
        let eligible_on = parse_day("eligible_on", &r.eligible_on)?;
        let mut v = Violations::new();
        v.check(
            r.department_codes.len() > MAX_DEPARTMENT_CODES,
            "department_codes",
            msg("departments-max")
                .arg("given", r.department_codes.len())
                .arg("max", MAX_DEPARTMENT_CODES),
        );
        for (i, code) in r.department_codes.iter().enumerate() {
            v.check(
                code.is_empty(),
                format!("department_codes[{i}]"),
                msg("not-empty"),
            );
        }
        v.into_result().map_err(Error::from)?;
        let filter = crate::store::InspectorQuery {
            department_code: r.department_code,
            departments: r.department_codes,
            qualification: r.qualification,
            eligible_on: eligible_on.map(|d| d.to_string()),
        };
        let (inspectors, next_page_token) = self.directories.inspectors(&filter, &page).await?;
        Ok(Response::new(pb::ListInspectorsResponse {
            inspectors: inspectors
                .iter()
                .map(|(i, workload)| inspector_pb(i, *workload))
                .collect(),
            next_page_token,
        }))
    }

    async fn export_targets(
        &self,
        request: Request<pb::ExportTargetsRequest>,
    ) -> Result<Response<Self::ExportTargetsStream>, Status> {
        let who = require(&request)?;
        let r = request.into_inner();
        let mut query = query_from(r.filter, r.name_contains, self.directories.regions())
            .map_err(Error::Invalid)?;
        self.directories
            .export_scope(&who, &mut query)
            .map_err(Error::Denied)?;
        let directories = self.directories.clone();
        // One page of targets per message, header first; memory holds one page whatever the directory's size.
        let pages = futures::stream::try_unfold(Some(String::new()), move |after| {
            let directories = directories.clone();
            let query = query.clone();
            async move {
                let Some(after) = after else { return Ok(None) };
                let page = paging::Page {
                    size: EXPORT_PAGE,
                    after: after.clone(),
                };
                let (targets, _) = directories
                    .targets(&query, &page)
                    .await
                    .map_err(Status::from)?;
                let header = after.is_empty();
                if targets.is_empty() && !header {
                    return Ok(None);
                }
                let next = (targets.len() as i64 == EXPORT_PAGE)
                    .then(|| targets.last().map(|(t, _)| t.id.clone()))
                    .flatten();
                let chunk = crate::export::csv_page(targets.iter().map(|(t, _)| t), header)
                    .map_err(|e| Status::internal(e.to_string()))?;
                Ok(Some((pb::ExportTargetsResponse { chunk }, next)))
            }
        });
        Ok(Response::new(Box::pin(pages)))
    }

    async fn create_target_snapshot(
        &self,
        request: Request<pb::CreateTargetSnapshotRequest>,
    ) -> Result<Response<pb::CreateTargetSnapshotResponse>, Status> {
        let who = require(&request)?;
        snapshot_maker(&who)?;
        let r = request.into_inner();
        let filter = r.filter;
        let query = query_from(filter.clone(), String::new(), self.directories.regions())
            .map_err(Error::Invalid)?;
        let rules = rules_from(r.exclusions).map_err(Error::Invalid)?;
        let info = self
            .directories
            .create_snapshot(&who, &query, &rules)
            .await?;
        Ok(Response::new(pb::CreateTargetSnapshotResponse {
            snapshot: Some(snapshot_pb(&info, filter)),
        }))
    }

    async fn create_inspector_snapshot(
        &self,
        request: Request<pb::CreateInspectorSnapshotRequest>,
    ) -> Result<Response<pb::CreateInspectorSnapshotResponse>, Status> {
        let who = require(&request)?;
        snapshot_maker(&who)?;
        let r = request.into_inner();
        let query = crate::store::InspectorQuery {
            department_code: r.department_code,
            departments: Vec::new(),
            qualification: r.qualification,
            eligible_on: parse_day("eligible_on", &r.eligible_on)?.map(|d| d.to_string()),
        };
        let info = self
            .directories
            .create_inspector_snapshot(&who, &query)
            .await?;
        Ok(Response::new(pb::CreateInspectorSnapshotResponse {
            snapshot: Some(snapshot_pb(&info, None)),
        }))
    }

    async fn get_snapshot(
        &self,
        request: Request<pb::GetSnapshotRequest>,
    ) -> Result<Response<pb::GetSnapshotResponse>, Status> {
        require(&request)?;
        let info = self.directories.snapshot(&request.into_inner().id).await?;
        Ok(Response::new(pb::GetSnapshotResponse {
            snapshot: Some(snapshot_pb(&info, None)),
        }))
    }

    async fn pin_snapshot(
        &self,
        request: Request<pb::PinSnapshotRequest>,
    ) -> Result<Response<pb::PinSnapshotResponse>, Status> {
        let who = require(&request)?;
        snapshot_maker(&who)?;
        let r = request.into_inner();
        let info = self
            .directories
            .pin_snapshot(&who, &r.id, &r.holder, true)
            .await?;
        Ok(Response::new(pb::PinSnapshotResponse {
            snapshot: Some(snapshot_pb(&info, None)),
        }))
    }

    async fn unpin_snapshot(
        &self,
        request: Request<pb::UnpinSnapshotRequest>,
    ) -> Result<Response<pb::UnpinSnapshotResponse>, Status> {
        let who = require(&request)?;
        let r = request.into_inner();
        let info = self
            .directories
            .pin_snapshot(&who, &r.id, &r.holder, false)
            .await?;
        Ok(Response::new(pb::UnpinSnapshotResponse {
            snapshot: Some(snapshot_pb(&info, None)),
        }))
    }

    async fn pick_from_snapshot(
        &self,
        request: Request<pb::PickFromSnapshotRequest>,
    ) -> Result<Response<pb::PickFromSnapshotResponse>, Status> {
        let who = require(&request)?;
        snapshot_maker(&who)?;
        let r = request.into_inner();
        let mut v = Violations::new();
        v.check(r.id.is_empty(), "id", msg("required"));
        let mut seen = std::collections::BTreeSet::new();
        for (i, s) in r.strata.iter().enumerate() {
            match pb::RiskLevel::try_from(s.risk_level) {
                Ok(level) if level != pb::RiskLevel::Unspecified => {
                    if !seen.insert(s.risk_level) {
                        v.add(format!("strata[{i}].risk_level"), msg("level-twice"));
                    }
                }
                _ => v.add(format!("strata[{i}].risk_level"), msg("risk-level")),
            }
        }
        v.into_result().map_err(Error::from)?;
        let wanted: Vec<(u8, Vec<u64>)> = r
            .strata
            .iter()
            .map(|s| (s.risk_level as u8, s.positions.clone()))
            .collect();
        let picked = self.directories.pick_from_snapshot(&r.id, &wanted).await?;
        let mut v = Violations::new();
        let mut strata = Vec::with_capacity(picked.len());
        for (i, ((ids, count), asked)) in picked.into_iter().zip(&r.strata).enumerate() {
            if let Some(j) = ids.iter().position(Option::is_none) {
                v.add(
                    format!("strata[{i}].positions[{j}]"),
                    msg("position-past-end")
                        .arg("given", asked.positions[j])
                        .arg("count", count),
                );
                continue;
            }
            strata.push(pb::StratumIds {
                risk_level: asked.risk_level,
                ids: ids.into_iter().flatten().collect(),
                count,
            });
        }
        v.into_result().map_err(Error::from)?;
        Ok(Response::new(pb::PickFromSnapshotResponse { strata }))
    }

    type ReadSnapshotIdsStream = ResponseStream<pb::ReadSnapshotIdsResponse>;

    async fn read_snapshot_ids(
        &self,
        request: Request<pb::ReadSnapshotIdsRequest>,
    ) -> Result<Response<Self::ReadSnapshotIdsStream>, Status> {
        let who = require(&request)?;
        snapshot_maker(&who)?;
        let r = request.into_inner();
        let (id, with_risks) = (r.id, r.with_risk_levels);
        self.directories.snapshot(&id).await?;
        // The next chunks are read while one is on the wire; the stream ends after the first error.
        let received = self.directories.snapshot_chunks(&id, SNAPSHOT_READ_AHEAD);
        let chunks =
            tokio_stream::wrappers::ReceiverStream::new(received).map(move |read| match read {
                Ok((ids, risks)) => Ok(pb::ReadSnapshotIdsResponse {
                    ids,
                    risk_levels: if with_risks { risks } else { Vec::new() },
                }),
                Err(e) => Err(Status::from(Error::from(e))),
            });
        Ok(Response::new(Box::pin(chunks)))
    }
}

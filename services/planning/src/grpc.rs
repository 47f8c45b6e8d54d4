//! The gRPC face of planning: the only file that sees requests and statuses.

use suiji_api::planning::v1 as pb;
use suiji_api::planning::v1::planning_service_server::PlanningService;
use suiji_platform::paging;
use tonic::{Request, Response, Status};

use crate::convert::{self, content_from, plan_pb, task_pb, task_request_from, version_pb};
use crate::error::Error;
use crate::service::{PlanView, Planning, cap_pb};
use crate::store::{PlanFilter, TaskFilter};

/// The `suiji.planning.v1.PlanningService` implementation.
pub struct Api {
    planning: Planning,
}

impl Api {
    /// Serves `planning`.
    pub fn new(planning: Planning) -> Self {
        Self { planning }
    }
}

fn who<T>(request: &Request<T>) -> Result<suiji_platform::auth::Identity, Status> {
    suiji_platform::grpc::require(request)
}

fn plan(view: &PlanView) -> Option<pb::Plan> {
    Some(plan_pb(&view.0, &view.1))
}

fn non_empty(s: String) -> Option<String> {
    Some(s).filter(|s| !s.is_empty())
}

#[tonic::async_trait]
impl PlanningService for Api {
    async fn create_plan(
        &self,
        request: Request<pb::CreatePlanRequest>,
    ) -> Result<Response<pb::CreatePlanResponse>, Status> {
        let who = who(&request)?;
        let content = content_from(request.into_inner().content).map_err(Error::from)?;
        let view = self.planning.create(&who, content).await?;
        Ok(Response::new(pb::CreatePlanResponse { plan: plan(&view) }))
    }

    async fn update_plan(
        &self,
        request: Request<pb::UpdatePlanRequest>,
    ) -> Result<Response<pb::UpdatePlanResponse>, Status> {
        let who = who(&request)?;
        let r = request.into_inner();
        let content = content_from(r.content).map_err(Error::from)?;
        let view = self
            .planning
            .update(&who, &r.id, content, r.expected_revision)
            .await?;
        Ok(Response::new(pb::UpdatePlanResponse { plan: plan(&view) }))
    }

    async fn submit_plan(
        &self,
        request: Request<pb::SubmitPlanRequest>,
    ) -> Result<Response<pb::SubmitPlanResponse>, Status> {
        let who = who(&request)?;
        let r = request.into_inner();
        let view = self
            .planning
            .submit(&who, &r.id, r.expected_revision)
            .await?;
        Ok(Response::new(pb::SubmitPlanResponse { plan: plan(&view) }))
    }

    async fn return_plan(
        &self,
        request: Request<pb::ReturnPlanRequest>,
    ) -> Result<Response<pb::ReturnPlanResponse>, Status> {
        let who = who(&request)?;
        let r = request.into_inner();
        let view = self
            .planning
            .return_plan(&who, &r.id, &r.reason, r.expected_revision)
            .await?;
        Ok(Response::new(pb::ReturnPlanResponse { plan: plan(&view) }))
    }

    async fn approve_plan(
        &self,
        request: Request<pb::ApprovePlanRequest>,
    ) -> Result<Response<pb::ApprovePlanResponse>, Status> {
        let who = who(&request)?;
        let r = request.into_inner();
        let view = self
            .planning
            .approve(&who, &r.id, r.expected_revision)
            .await?;
        Ok(Response::new(pb::ApprovePlanResponse { plan: plan(&view) }))
    }

    async fn publish_plan(
        &self,
        request: Request<pb::PublishPlanRequest>,
    ) -> Result<Response<pb::PublishPlanResponse>, Status> {
        let who = who(&request)?;
        let r = request.into_inner();
        let view = self
            .planning
            .publish(&who, &r.id, r.expected_revision)
            .await?;
        Ok(Response::new(pb::PublishPlanResponse { plan: plan(&view) }))
    }

    async fn get_plan(
        &self,
        request: Request<pb::GetPlanRequest>,
    ) -> Result<Response<pb::GetPlanResponse>, Status> {
        who(&request)?;
        let r = request.into_inner();
        let view = self.planning.get(&r.id, r.version).await?;
        Ok(Response::new(pb::GetPlanResponse { plan: plan(&view) }))
    }

    async fn list_plans(
        &self,
        request: Request<pb::ListPlansRequest>,
    ) -> Result<Response<pb::ListPlansResponse>, Status> {
        who(&request)?;
        let r = request.into_inner();
        let page = paging::page(r.page_size, &r.page_token).map_err(Error::from)?;
        let filter = PlanFilter {
            year: Some(r.year).filter(|y| *y > 0),
            department_code: non_empty(r.department_code),
            state: convert::plan_state(r.state),
        };
        let (plans, next_page_token) = self.planning.list(&filter, &page).await?;
        Ok(Response::new(pb::ListPlansResponse {
            plans: plans.iter().map(|(p, v)| plan_pb(p, v)).collect(),
            next_page_token,
        }))
    }

    async fn list_plan_versions(
        &self,
        request: Request<pb::ListPlanVersionsRequest>,
    ) -> Result<Response<pb::ListPlanVersionsResponse>, Status> {
        who(&request)?;
        let versions = self.planning.versions(&request.into_inner().id).await?;
        Ok(Response::new(pb::ListPlanVersionsResponse {
            versions: versions.iter().map(version_pb).collect(),
        }))
    }

    async fn list_public_plans(
        &self,
        request: Request<pb::ListPublicPlansRequest>,
    ) -> Result<Response<pb::ListPublicPlansResponse>, Status> {
        let r = request.into_inner();
        let page = paging::page(r.page_size, &r.page_token).map_err(Error::from)?;
        let filter = PlanFilter {
            year: Some(r.year).filter(|y| *y > 0),
            department_code: non_empty(r.department_code),
            state: Some(crate::domain::PlanState::Published),
        };
        let (plans, next_page_token) = self.planning.list(&filter, &page).await?;
        Ok(Response::new(pb::ListPublicPlansResponse {
            plans: plans.iter().map(|(p, v)| plan_pb(p, v)).collect(),
            next_page_token,
        }))
    }

    async fn propose_amendment(
        &self,
        request: Request<pb::ProposeAmendmentRequest>,
    ) -> Result<Response<pb::ProposeAmendmentResponse>, Status> {
        let who = who(&request)?;
        let r = request.into_inner();
        let content = content_from(r.content).map_err(Error::from)?;
        let view = self
            .planning
            .propose_amendment(&who, &r.id, content, &r.reason, r.expected_revision)
            .await?;
        Ok(Response::new(pb::ProposeAmendmentResponse {
            plan: plan(&view),
        }))
    }

    async fn file_amendment(
        &self,
        request: Request<pb::FileAmendmentRequest>,
    ) -> Result<Response<pb::FileAmendmentResponse>, Status> {
        let who = who(&request)?;
        let r = request.into_inner();
        let view = self.planning.file_amendment(&who, &r.id, r.version).await?;
        Ok(Response::new(pb::FileAmendmentResponse {
            plan: plan(&view),
        }))
    }

    async fn publish_amendment(
        &self,
        request: Request<pb::PublishAmendmentRequest>,
    ) -> Result<Response<pb::PublishAmendmentResponse>, Status> {
        let who = who(&request)?;
        let r = request.into_inner();
        let view = self
            .planning
            .publish_amendment(&who, &r.id, r.version, r.expected_revision)
            .await?;
        Ok(Response::new(pb::PublishAmendmentResponse {
            plan: plan(&view),
        }))
    }

    async fn set_annual_cap(
        &self,
        request: Request<pb::SetAnnualCapRequest>,
    ) -> Result<Response<pb::SetAnnualCapResponse>, Status> {
        let who = who(&request)?;
        let r = request.into_inner();
        let cap = self
            .planning
            .set_cap(&who, r.year, r.max_per_target)
            .await?;
        Ok(Response::new(pb::SetAnnualCapResponse {
            cap: Some(cap_pb(&cap)),
        }))
    }

    async fn list_annual_caps(
        &self,
        request: Request<pb::ListAnnualCapsRequest>,
    ) -> Result<Response<pb::ListAnnualCapsResponse>, Status> {
        let caps = self.planning.caps(request.into_inner().year).await?;
        Ok(Response::new(pb::ListAnnualCapsResponse {
            caps: caps.iter().map(cap_pb).collect(),
        }))
    }

    async fn coverage_report(
        &self,
        request: Request<pb::CoverageReportRequest>,
    ) -> Result<Response<pb::CoverageReportResponse>, Status> {
        who(&request)?;
        let r = request.into_inner();
        let department = non_empty(r.department_code);
        let (report, items, plans) = self
            .planning
            .coverage(r.year, department.as_deref())
            .await?;
        Ok(Response::new(pb::CoverageReportResponse {
            year: r.year,
            uncovered_items: report
                .uncovered
                .iter()
                .map(|code| {
                    let item = &items[code];
                    pb::UncoveredItem {
                        item_code: code.clone(),
                        name: item.name.clone(),
                        department_code: item.department_code.clone(),
                    }
                })
                .collect(),
            idle_departments: report.idle_departments,
            cap_breaches: report
                .breaches
                .into_iter()
                .map(
                    |(plan_id, entry_key, item_code, ratio, cap)| pb::CapBreach {
                        plan_id,
                        entry_key,
                        item_code,
                        ratio_basis_points: ratio,
                        cap_basis_points: cap,
                    },
                )
                .collect(),
            published_plans: plans as u32,
        }))
    }

    async fn create_task(
        &self,
        request: Request<pb::CreateTaskRequest>,
    ) -> Result<Response<pb::CreateTaskResponse>, Status> {
        let who = who(&request)?;
        let req = task_request_from(request.into_inner().content).map_err(Error::from)?;
        let task = self.planning.create_task(&who, req).await?;
        Ok(Response::new(pb::CreateTaskResponse {
            task: Some(task_pb(&task)),
        }))
    }

    async fn launch_task(
        &self,
        request: Request<pb::LaunchTaskRequest>,
    ) -> Result<Response<pb::LaunchTaskResponse>, Status> {
        let who = who(&request)?;
        let r = request.into_inner();
        let task = self
            .planning
            .launch_task(&who, &r.id, r.expected_revision)
            .await?;
        Ok(Response::new(pb::LaunchTaskResponse {
            task: Some(task_pb(&task)),
        }))
    }

    async fn cancel_task(
        &self,
        request: Request<pb::CancelTaskRequest>,
    ) -> Result<Response<pb::CancelTaskResponse>, Status> {
        let who = who(&request)?;
        let r = request.into_inner();
        let task = self
            .planning
            .cancel_task(&who, &r.id, &r.reason, r.expected_revision)
            .await?;
        Ok(Response::new(pb::CancelTaskResponse {
            task: Some(task_pb(&task)),
        }))
    }

    async fn get_task(
        &self,
        request: Request<pb::GetTaskRequest>,
    ) -> Result<Response<pb::GetTaskResponse>, Status> {
        who(&request)?;
        let task = self.planning.task(&request.into_inner().id).await?;
        Ok(Response::new(pb::GetTaskResponse {
            task: Some(task_pb(&task)),
        }))
    }

    async fn list_tasks(
        &self,
        request: Request<pb::ListTasksRequest>,
    ) -> Result<Response<pb::ListTasksResponse>, Status> {
        who(&request)?;
        let r = request.into_inner();
        let page = paging::page(r.page_size, &r.page_token).map_err(Error::from)?;
        let filter = TaskFilter {
            plan_id: non_empty(r.plan_id),
            department_code: non_empty(r.department_code),
            state: convert::task_state(r.state),
        };
        let (tasks, next_page_token) = self.planning.tasks(&filter, &page).await?;
        Ok(Response::new(pb::ListTasksResponse {
            tasks: tasks.iter().map(task_pb).collect(),
            next_page_token,
        }))
    }
}

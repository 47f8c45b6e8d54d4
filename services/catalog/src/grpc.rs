//! The gRPC face of the catalog: the only file that sees requests and statuses.

use suiji_api::catalog::v1 as pb;
use suiji_api::catalog::v1::catalog_service_server::CatalogService;
use suiji_platform::paging;
use tonic::{Request, Response, Status};

use crate::convert::{self, content_from, item_pb, version_pb};
use crate::error::Error;
use crate::service::Catalog;
use crate::store::ListFilter;

/// The `suiji.catalog.v1.CatalogService` implementation.
pub struct Api {
    catalog: Catalog,
}

impl Api {
    /// Serves `catalog`.
    pub fn new(catalog: Catalog) -> Self {
        Self { catalog }
    }
}

fn who<T>(request: &Request<T>) -> Result<suiji_platform::auth::Identity, Status> {
    suiji_platform::grpc::require(request)
}

#[tonic::async_trait]
impl CatalogService for Api {
    async fn create_item(
        &self,
        request: Request<pb::CreateItemRequest>,
    ) -> Result<Response<pb::CreateItemResponse>, Status> {
        let who = who(&request)?;
        let r = request.into_inner();
        let content = content_from(r.content).map_err(Error::from)?;
        let (item, version) = self.catalog.create(&who, &r.code, content).await?;
        Ok(Response::new(pb::CreateItemResponse {
            item: Some(item_pb(&item, &version)),
        }))
    }

    async fn update_item(
        &self,
        request: Request<pb::UpdateItemRequest>,
    ) -> Result<Response<pb::UpdateItemResponse>, Status> {
        let who = who(&request)?;
        let r = request.into_inner();
        let content = content_from(r.content).map_err(Error::from)?;
        let (item, version) = self
            .catalog
            .update(&who, &r.code, content, r.expected_revision)
            .await?;
        Ok(Response::new(pb::UpdateItemResponse {
            item: Some(item_pb(&item, &version)),
        }))
    }

    async fn publish_item(
        &self,
        request: Request<pb::PublishItemRequest>,
    ) -> Result<Response<pb::PublishItemResponse>, Status> {
        let who = who(&request)?;
        let r = request.into_inner();
        let (item, version) = self
            .catalog
            .publish(&who, &r.code, r.expected_revision)
            .await?;
        Ok(Response::new(pb::PublishItemResponse {
            item: Some(item_pb(&item, &version)),
        }))
    }

    async fn retire_item(
        &self,
        request: Request<pb::RetireItemRequest>,
    ) -> Result<Response<pb::RetireItemResponse>, Status> {
        let who = who(&request)?;
        let r = request.into_inner();
        let (item, version) = self
            .catalog
            .retire(&who, &r.code, &r.reason, r.expected_revision)
            .await?;
        Ok(Response::new(pb::RetireItemResponse {
            item: Some(item_pb(&item, &version)),
        }))
    }

    async fn get_item(
        &self,
        request: Request<pb::GetItemRequest>,
    ) -> Result<Response<pb::GetItemResponse>, Status> {
        who(&request)?;
        let r = request.into_inner();
        let (item, version) = self.catalog.get(&r.code, r.version).await?;
        Ok(Response::new(pb::GetItemResponse {
            item: Some(item_pb(&item, &version)),
        }))
    }

    async fn list_items(
        &self,
        request: Request<pb::ListItemsRequest>,
    ) -> Result<Response<pb::ListItemsResponse>, Status> {
        who(&request)?;
        let r = request.into_inner();
        let page = paging::page(r.page_size, &r.page_token).map_err(Error::from)?;
        let filter = ListFilter {
            department_code: Some(r.department_code).filter(|d| !d.is_empty()),
            state: convert::item_state(r.state),
            category: convert::category(r.category),
            target_kind: convert::target_kind(r.target_kind),
        };
        let (items, next_page_token) = self.catalog.list(&filter, &page).await?;
        Ok(Response::new(pb::ListItemsResponse {
            items: items.iter().map(|(i, v)| item_pb(i, v)).collect(),
            next_page_token,
        }))
    }

    async fn list_item_versions(
        &self,
        request: Request<pb::ListItemVersionsRequest>,
    ) -> Result<Response<pb::ListItemVersionsResponse>, Status> {
        who(&request)?;
        let versions = self.catalog.versions(&request.into_inner().code).await?;
        Ok(Response::new(pb::ListItemVersionsResponse {
            versions: versions.iter().map(version_pb).collect(),
        }))
    }

    async fn announce_items(
        &self,
        request: Request<pb::AnnounceItemsRequest>,
    ) -> Result<Response<pb::AnnounceItemsResponse>, Status> {
        let who = who(&request)?;
        let announced = self.catalog.announce(&who).await?;
        Ok(Response::new(pb::AnnounceItemsResponse { announced }))
    }

    async fn list_public_items(
        &self,
        request: Request<pb::ListPublicItemsRequest>,
    ) -> Result<Response<pb::ListPublicItemsResponse>, Status> {
        let r = request.into_inner();
        let page = paging::page(r.page_size, &r.page_token).map_err(Error::from)?;
        let (items, next_page_token) = self.catalog.list_public(&r.department_code, &page).await?;
        Ok(Response::new(pb::ListPublicItemsResponse {
            items: items.iter().map(|(i, v)| item_pb(i, v)).collect(),
            next_page_token,
        }))
    }
}

//! `suiji.admin.v1.AuditService`: auditors check a service's audit trail and read it, page by page. Every service
//! serves it over its own database, beside the calendar.

use suiji_api::admin::v1 as pb;
use suiji_api::admin::v1::audit_service_server::{AuditService, AuditServiceServer};
use tonic::{Request, Response, Status};

use crate::audit::{self, Filter, Verification};
use crate::auth::{ROLE_ADMIN, ROLE_AUDIT_READER};
use crate::db::Db;
use crate::grpc::timestamp;
use crate::messages::msg;
use crate::validation::Violations;

/// The audit API of one service.
#[derive(Clone)]
pub struct Api {
    db: Db,
}

impl Api {
    /// Serves the trail in `db`.
    pub fn server(db: Db) -> AuditServiceServer<Self> {
        AuditServiceServer::new(Self { db })
    }
}

/// Refuses a caller who holds neither [`ROLE_AUDIT_READER`] nor [`ROLE_ADMIN`].
fn reader<T>(request: &Request<T>) -> Result<(), Status> {
    let who = crate::grpc::require(request)?;
    if who.has_role(ROLE_AUDIT_READER) || who.has_role(ROLE_ADMIN) {
        Ok(())
    } else {
        Err(crate::grpc::permission_denied(
            "authorization",
            &msg("denied-role").arg("role", ROLE_AUDIT_READER),
        ))
    }
}

fn internal(error: sqlx::Error) -> Status {
    tracing::error!(%error, "reading the audit trail");
    Status::unavailable("the service's database is unavailable")
}

/// Epoch milliseconds of a timestamp, 0 for none.
fn ms(t: Option<prost_types::Timestamp>) -> i64 {
    t.map_or(0, |t| t.seconds * 1000 + i64::from(t.nanos) / 1_000_000)
}

fn entry(e: audit::AuditEntry) -> pb::AuditEntry {
    pb::AuditEntry {
        seq: e.seq,
        at: Some(timestamp(e.at_ms)),
        actor: e.actor,
        department: e.department,
        action: e.action,
        entity: e.entity,
        entity_id: e.entity_id,
        before_digest: e.before_digest,
        after_digest: e.after_digest,
        detail: e.detail,
        prev_hash: e.prev_hash,
        hash: e.hash,
    }
}

#[tonic::async_trait]
impl AuditService for Api {
    async fn verify_chain(
        &self,
        request: Request<pb::VerifyChainRequest>,
    ) -> Result<Response<pb::VerifyChainResponse>, Status> {
        reader(&request)?;
        let lang = crate::grpc::lang(&request);
        let found = audit::verify(&self.db).await.map_err(internal)?;
        let verified_at = Some(timestamp(crate::db::now_ms()));
        Ok(Response::new(match found {
            Verification::Intact { entries, head } => pb::VerifyChainResponse {
                intact: true,
                entries,
                head,
                verified_at,
                ..Default::default()
            },
            Verification::Broken { seq, reason } => {
                tracing::error!(seq, reason = %reason.text(), "the audit chain is broken");
                pb::VerifyChainResponse {
                    intact: false,
                    entries: seq - 1,
                    broken_seq: seq,
                    reason: reason.render(lang),
                    reason_text: Some(reason.to_pb()),
                    verified_at,
                    ..Default::default()
                }
            }
        }))
    }

    async fn list_entries(
        &self,
        request: Request<pb::ListEntriesRequest>,
    ) -> Result<Response<pb::ListEntriesResponse>, Status> {
        reader(&request)?;
        let r = request.into_inner();
        let page = crate::paging::page(r.page_size, &r.page_token)
            .map_err(|v| crate::grpc::invalid_argument(&v))?;
        let mut v = Violations::new();
        let before = if page.after.is_empty() {
            0
        } else {
            page.after.parse::<i64>().unwrap_or_else(|_| {
                v.add("page_token", msg("page-token"));
                0
            })
        };
        v.check(
            !r.entity_id.is_empty() && r.entity.is_empty(),
            "entity",
            msg("audit-entity-with-id"),
        );
        let filter = Filter {
            entity: r.entity,
            entity_id: r.entity_id,
            actor: r.actor,
            department: r.department,
            action: r.action,
            since_ms: ms(r.since),
            until_ms: ms(r.until),
        };
        v.check(
            filter.until_ms > 0 && filter.until_ms <= filter.since_ms,
            "until",
            msg("audit-until-after-since"),
        );
        v.into_result()
            .map_err(|v| crate::grpc::invalid_argument(&v))?;
        let listed = audit::list(&self.db, &filter, before, page.size)
            .await
            .map_err(internal)?;
        let next_page_token = if listed.read_down_to > 1 {
            crate::paging::token_after(&listed.read_down_to.to_string())
        } else {
            String::new()
        };
        Ok(Response::new(pb::ListEntriesResponse {
            entries: listed.entries.into_iter().map(entry).collect(),
            next_page_token,
            read_down_to: listed.read_down_to,
            total: listed.total,
        }))
    }
}

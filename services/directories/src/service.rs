//! The directories' use cases.

use std::sync::Arc;

use suiji_api::directories::v1 as pb;
use suiji_platform::audit::{self, AuditEvent, digest_of};
use suiji_platform::auth::Identity;
use suiji_platform::db::Db;
use suiji_platform::error::Error;
use suiji_platform::outbox::{self, Event, Relay};
use suiji_platform::paging::{self, Page};
use suiji_platform::reference::{DepartmentSeed, Regions};
use tokio::io::AsyncRead;
use tokio::sync::mpsc;

use crate::domain::target::Target;
use crate::import::{self, ImportError, Report, Summary};
use crate::store::{self, TargetQuery};

/// Routing key of a department change.
pub const DEPARTMENT_UPSERTED: &str = "directories.department.upserted";

/// The directories' use cases.
#[derive(Clone)]
pub struct Directories {
    db: Db,
    relay: Relay,
    regions: Arc<Regions>,
}

fn internal(e: ImportError) -> Error {
    Error::Internal(e.to_string())
}

impl Directories {
    /// The use cases over `db`.
    pub fn new(db: Db, relay: Relay) -> Self {
        Self {
            db,
            relay,
            regions: Arc::new(Regions::shipped()),
        }
    }

    /// The region table.
    pub fn regions(&self) -> &Regions {
        &self.regions
    }

    /// Adds or changes a department and tells the other services.
    pub async fn upsert_department(
        &self,
        who: &Identity,
        d: &DepartmentSeed,
        active: bool,
    ) -> Result<(), Error> {
        let mut tx = self.db.begin().await?;
        suiji_platform::departments::upsert(&mut tx, d, active).await?;
        let event = pb::DepartmentUpsertedEvent {
            department: Some(crate::grpc::department_pb(d, active)),
        };
        outbox::enqueue(
            &mut tx,
            crate::NAME,
            Event::new(DEPARTMENT_UPSERTED, &d.code, &event),
        )
        .await?;
        let change = AuditEvent {
            action: "department.upsert",
            entity: "department",
            entity_id: &d.code,
            before_digest: String::new(),
            after_digest: digest_of(&(&d.code, &d.name, &d.level, &d.region_code, active)),
            detail: String::new(),
        };
        audit::append(&mut tx, who, change).await?;
        tx.commit().await?;
        self.relay.notify();
        Ok(())
    }

    /// Departments.
    pub async fn departments(
        &self,
        include_inactive: bool,
    ) -> Result<Vec<(DepartmentSeed, bool)>, Error> {
        let mut conn = self.db.pool().acquire().await?;
        Ok(suiji_platform::departments::list(&mut conn, include_inactive).await?)
    }

    /// One target by id or credit code.
    pub async fn target(&self, id: &str) -> Result<(Target, i64), Error> {
        let mut conn = self.db.pool().acquire().await?;
        let id = id.trim().to_ascii_uppercase();
        store::get_target(&mut conn, &id)
            .await?
            .ok_or_else(|| Error::NotFound(format!("no target {id:?}")))
    }

    /// A page of targets.
    pub async fn targets(
        &self,
        query: &TargetQuery,
        page: &Page,
    ) -> Result<(Vec<(Target, i64)>, String), Error> {
        let mut conn = self.db.pool().acquire().await?;
        let targets = store::list_targets(&mut conn, query, &page.after, page.size).await?;
        let token = match targets.last() {
            Some((t, _)) if targets.len() as i64 == page.size => paging::token_after(&t.id),
            _ => String::new(),
        };
        Ok((targets, token))
    }

    /// Imports records of kind `R`; the import is audited with its counts.
    pub async fn import<R: import::Record>(
        &self,
        who: &Identity,
        file_name: &str,
        format: import::Format,
        source: impl AsyncRead + Send + Unpin + 'static,
        reports: mpsc::Sender<Report>,
    ) -> Result<Summary, Error> {
        let summary =
            import::import::<R>(&self.db, &who.subject, file_name, format, source, reports)
                .await
                .map_err(internal)?;
        let mut tx = self.db.begin().await?;
        let action = format!("{}.import", R::WHAT);
        let change = AuditEvent {
            action: &action,
            entity: "import",
            entity_id: &summary.import_id,
            before_digest: String::new(),
            after_digest: String::new(),
            detail: format!(
                "{file_name}: {} rows read, {} accepted ({} new), {} rejected",
                summary.rows_read, summary.accepted, summary.created, summary.rejected
            ),
        };
        audit::append(&mut tx, who, change).await?;
        tx.commit().await?;
        Ok(summary)
    }

    /// A page of inspectors with their workloads.
    pub async fn inspectors(
        &self,
        query: &store::InspectorQuery,
        page: &Page,
    ) -> Result<(Vec<(crate::domain::inspector::Inspector, u32)>, String), Error> {
        let mut conn = self.db.pool().acquire().await?;
        let inspectors = store::list_inspectors(&mut conn, query, &page.after, page.size).await?;
        let token = match inspectors.last() {
            Some((i, _)) if inspectors.len() as i64 == page.size => paging::token_after(&i.id),
            _ => String::new(),
        };
        Ok((inspectors, token))
    }

    /// Freezes the targets matching `query` for a draw; audited.
    pub async fn create_snapshot(
        &self,
        who: &Identity,
        query: &TargetQuery,
    ) -> Result<crate::snapshot::SnapshotInfo, Error> {
        let info = crate::snapshot::create(&self.db, &who.subject, query).await?;
        let mut tx = self.db.begin().await?;
        let change = AuditEvent {
            action: "snapshot.create",
            entity: "snapshot",
            entity_id: &info.id,
            before_digest: String::new(),
            after_digest: info.digest.clone(),
            detail: format!("{} targets; filter {}", info.count, info.filter),
        };
        audit::append(&mut tx, who, change).await?;
        tx.commit().await?;
        Ok(info)
    }

    /// A snapshot's description.
    pub async fn snapshot(&self, id: &str) -> Result<crate::snapshot::SnapshotInfo, Error> {
        crate::snapshot::get(&self.db, id)
            .await?
            .ok_or_else(|| Error::NotFound(format!("no snapshot {id:?}")))
    }

    /// A snapshot's chunk `n`.
    pub async fn snapshot_chunk(&self, id: &str, n: i64) -> Result<Option<Vec<u8>>, Error> {
        Ok(crate::snapshot::chunk(&self.db, id, n).await?)
    }
}

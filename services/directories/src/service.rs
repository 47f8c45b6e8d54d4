//! The directories' use cases.

use std::sync::Arc;
use suiji_platform::auth::{ROLE_ADMIN, ROLE_DIRECTORIES_EDITOR};

use suiji_api::directories::v1 as pb;
use suiji_api::topics;
use suiji_platform::audit::{self, AuditEvent, digest_of};
use suiji_platform::auth::Identity;
use suiji_platform::db::{Db, now_ms};
use suiji_platform::error::Error;
use suiji_platform::messages::msg;
use suiji_platform::outbox::{self, Event, Relay};
use suiji_platform::paging::{self, Page};
use suiji_platform::reference::{DepartmentSeed, Regions};
use suiji_platform::validation::{Denied, NotNow, Violations};
use tokio::io::AsyncRead;
use tokio::sync::mpsc;

use crate::domain::target::{Scope, Target};
use crate::import::{self, ImportError, Report, Summary};
use crate::store::{self, TargetQuery};

/// Snapshot chunks read ahead of the one being sent or picked from.
pub(crate) const SNAPSHOT_READ_AHEAD: usize = 3;

/// The directories' use cases.
#[derive(Clone)]
pub struct Directories {
    db: Db,
    relay: Relay,
    regions: &'static Regions,
    /// The departments that keep the directory of targets.
    target_sources: Arc<Vec<String>>,
}

fn internal(e: ImportError) -> Error {
    Error::Internal(e.to_string())
}

impl Directories {
    /// The database.
    pub fn db(&self) -> &Db {
        &self.db
    }

    /// The use cases over `db`.
    pub fn new(db: Db, relay: Relay, target_sources: Vec<String>) -> Self {
        Self {
            db,
            relay,
            regions: Regions::shipped(),
            target_sources: Arc::new(target_sources),
        }
    }

    /// Narrows an export of the directory to what `who` may copy whole: everything for the departments that keep
    /// it and those who oversee every department's work; the targets their own department regulates for anyone else.
    pub fn export_scope(&self, who: &Identity, query: &mut TargetQuery) -> Result<(), Denied> {
        if who.oversees() || self.target_sources.contains(&who.department) {
            return Ok(());
        }
        if query.departments.iter().any(|d| d != &who.department) {
            return Err(Denied::new(
                "filter.departments",
                msg("denied-export-scope").arg("dept", &who.department),
            ));
        }
        query.departments = vec![who.department.clone()];
        Ok(())
    }

    /// The recusal requests `who` reads: their own department's, unless they oversee every department's work.
    pub fn recusal_scope<'a>(
        &self,
        who: &'a Identity,
        department: &'a str,
    ) -> Result<&'a str, Denied> {
        if who.oversees() {
            return Ok(department);
        }
        if !department.is_empty() && department != who.department {
            return Err(Denied::new(
                "department_code",
                msg("denied-own-recusals").arg("dept", &who.department),
            ));
        }
        Ok(&who.department)
    }

    /// What `who`'s import of `R` may write: refused outright when their department does not keep the
    /// directory of targets; for inspectors, their own department's only; anything for an administrator.
    async fn scope<R: import::Record>(&self, who: &Identity) -> Result<Option<Scope>, Error> {
        if who.has_role(ROLE_ADMIN) {
            return Ok(None);
        }
        if !R::OWN_RECORDS {
            if self.target_sources.contains(&who.department) {
                return Ok(None);
            }
            return Err(Denied::new(
                "authorization",
                msg("denied-target-source")
                    .arg("depts", self.target_sources.join(","))
                    .arg("by_dept", &who.department),
            )
            .into());
        }
        let mut conn = self.db.pool().acquire().await?;
        let held_by_others = store::inspectors_of_others(&mut conn, &who.department).await?;
        Ok(Some(Scope {
            department: who.department.clone(),
            held_by_others,
        }))
    }

    /// The region table.
    pub fn regions(&self) -> &Regions {
        self.regions
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
            department: Some(crate::convert::department_pb(d, active)),
        };
        outbox::enqueue(
            &mut tx,
            crate::NAME,
            Event::new::<topics::DepartmentUpserted>(&d.code, &event),
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
            .ok_or_else(|| Error::NotFound(msg("nf-target").arg("target", id)))
    }

    /// A target with its inspection history, newest first.
    pub async fn target_with_history(
        &self,
        id: &str,
    ) -> Result<(Target, i64, Vec<crate::domain::history::Inspection>), Error> {
        let (target, updated) = self.target(id).await?;
        let mut conn = self.db.pool().acquire().await?;
        let history = crate::history::of_target(&mut conn, &target.id).await?;
        Ok((target, updated, history))
    }

    /// A page of targets.
    pub async fn targets(
        &self,
        query: &TargetQuery,
        page: &Page,
    ) -> Result<(Vec<(Target, i64)>, String), Error> {
        let mut conn = self.db.pool().acquire().await?;
        let targets = store::list_targets(&mut conn, query, &page.after, page.size).await?;
        let token = paging::next_token(&targets, page, |(t, _)| &t.id);
        Ok((targets, token))
    }

    /// Imports records of kind `R`; the import is audited with its counts and the digests of what it replaced and
    /// wrote ([`crate::changes`]).
    pub async fn import<R: import::Record>(
        &self,
        who: &Identity,
        file_name: &str,
        format: import::Format,
        source: impl AsyncRead + Send + Unpin + 'static,
        reports: mpsc::Sender<Report>,
    ) -> Result<Summary, Error> {
        let scope = self.scope::<R>(who).await?;
        let summary = import::import::<R>(
            &self.db,
            import::Actor {
                subject: &who.subject,
                scope,
            },
            file_name,
            format,
            source,
            reports,
            import::Sizes::default(),
        )
        .await
        .map_err(internal)?;
        let mut tx = self.db.begin().await?;
        let event = pb::ImportedEvent {
            import_id: summary.import_id.clone(),
            file_name: file_name.to_string(),
            rows_read: summary.rows_read,
            accepted: summary.accepted,
            created: summary.created,
            rejected: summary.rejected,
        };
        outbox::enqueue(
            &mut tx,
            crate::NAME,
            Event::new::<R::Imported>(&summary.import_id, &event),
        )
        .await?;
        let action = format!("{}.import", R::WHAT);
        let change = AuditEvent {
            action: &action,
            entity: "import",
            entity_id: &summary.import_id,
            before_digest: summary.before_digest.clone(),
            after_digest: summary.after_digest.clone(),
            detail: format!(
                "{file_name}: {} rows read, {} accepted ({} new), {} rejected",
                summary.rows_read, summary.accepted, summary.created, summary.rejected
            ),
        };
        audit::append(&mut tx, who, change).await?;
        tx.commit().await?;
        self.relay.notify();
        if R::TABLE.segmented && summary.accepted > 0 {
            // The next draw should not wait for the segments the import made stale: rebuilt now, in the
            // background (a snapshot meanwhile simply waits for this refresh and finds nothing left to do).
            let db = self.db.clone();
            tokio::spawn(async move {
                match crate::segments::refresh(&db).await {
                    Ok(done) => tracing::info!(
                        segments = done.written,
                        rows = done.rows,
                        "target segments refreshed"
                    ),
                    Err(e) => {
                        tracing::warn!(error = %e, "refreshing the target segments failed; the next snapshot retries")
                    }
                }
            });
        }
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
        let token = paging::next_token(&inspectors, page, |(i, _)| &i.id);
        Ok((inspectors, token))
    }

    /// Freezes the targets matching `query` for a draw; audited.
    pub async fn create_snapshot(
        &self,
        who: &Identity,
        query: &TargetQuery,
        rules: &crate::domain::history::Rules,
    ) -> Result<crate::snapshot::SnapshotInfo, Error> {
        let info = crate::snapshot::create(&self.db, &who.subject, query, rules).await?;
        self.audit_snapshot(who, &info, "targets").await?;
        Ok(info)
    }

    /// Freezes an inspector pool; audited.
    pub async fn create_inspector_snapshot(
        &self,
        who: &Identity,
        query: &store::InspectorQuery,
    ) -> Result<crate::snapshot::SnapshotInfo, Error> {
        let info = crate::snapshot::create_inspectors(&self.db, &who.subject, query).await?;
        self.audit_snapshot(who, &info, "inspectors").await?;
        Ok(info)
    }

    /// Records a new snapshot in the audit trail.
    async fn audit_snapshot(
        &self,
        who: &Identity,
        info: &crate::snapshot::SnapshotInfo,
        what: &str,
    ) -> Result<(), Error> {
        let mut tx = self.db.begin().await?;
        let change = AuditEvent {
            action: "snapshot.create",
            entity: "snapshot",
            entity_id: &info.id,
            before_digest: String::new(),
            after_digest: info.digest.clone(),
            detail: format!("{} {what}; filter {}", info.count, info.filter),
        };
        audit::append(&mut tx, who, change).await?;
        tx.commit().await?;
        Ok(())
    }

    /// A snapshot's description.
    pub async fn snapshot(&self, id: &str) -> Result<crate::snapshot::SnapshotInfo, Error> {
        crate::snapshot::get(&self.db, id)
            .await?
            .ok_or_else(|| Error::NotFound(msg("nf-snapshot").arg("snapshot", id)))
    }

    /// Pins (`pin`) or releases a holder's pin on a snapshot; audited when it changes anything.
    pub async fn pin_snapshot(
        &self,
        who: &Identity,
        id: &str,
        holder: &str,
        pin: bool,
    ) -> Result<crate::snapshot::SnapshotInfo, Error> {
        let holder = holder.trim();
        if holder.is_empty() || holder.len() > 200 {
            return Err(Violations::one("holder", msg("snapshot-holder")).into());
        }
        let mut tx = self.db.begin().await?;
        let found: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM snapshots WHERE id = $1")
            .bind(id)
            .fetch_one(&mut *tx)
            .await?;
        if found == 0 {
            return Err(Error::NotFound(msg("nf-snapshot").arg("snapshot", id)));
        }
        let changed = if pin {
            crate::snapshot::pin(&mut tx, id, holder, &who.subject, now_ms()).await?
        } else {
            if let Some(by) = crate::snapshot::pinned_by(&mut tx, id, holder).await? {
                // Whoever pinned it releases it; an administrator may, on the audit trail.
                if by != who.subject && !who.has_role(ROLE_ADMIN) {
                    return Err(Denied::new("holder", msg("denied-unpin").arg("who", &by)).into());
                }
                if holder.starts_with(crate::snapshot::PERMANENT_HOLDER) {
                    return Err(Error::NotNow(NotNow(
                        msg("nn-unpin-draw").arg("holder", holder),
                    )));
                }
            }
            crate::snapshot::unpin(&mut tx, id, holder).await?
        };
        if changed {
            let change = AuditEvent {
                action: if pin {
                    "snapshot.pin"
                } else {
                    "snapshot.unpin"
                },
                entity: "snapshot",
                entity_id: id,
                before_digest: String::new(),
                after_digest: String::new(),
                detail: holder.to_string(),
            };
            audit::append(&mut tx, who, change).await?;
        }
        tx.commit().await?;
        self.snapshot(id).await
    }

    /// A snapshot's chunks in order, `ahead` of them read ahead ([`crate::snapshot::chunks`]).
    pub fn snapshot_chunks(&self, id: &str, ahead: usize) -> crate::snapshot::Chunks {
        crate::snapshot::chunks(&self.db, id, ahead)
    }

    /// The ids at `wanted` positions of target snapshot `id`'s risk levels (`(risk level number, positions)`, each
    /// level once), in the order asked, with each level's count; `None` where a position is past its level's end.
    /// The chunks are read in order, a few ahead, and each id is looked at once.
    pub async fn pick_from_snapshot(
        &self,
        id: &str,
        wanted: &[(u8, Vec<u64>)],
    ) -> Result<Vec<(Vec<Option<String>>, u64)>, Error> {
        self.snapshot(id).await?;
        // Per risk level: ids read so far and the positions wanted, ascending, with their place in the answer.
        struct Level {
            read: u64,
            wanted: Vec<(u64, usize)>,
            cursor: usize,
        }
        let mut levels: Vec<Level> = (0..=u8::MAX)
            .map(|_| Level {
                read: 0,
                wanted: Vec::new(),
                cursor: 0,
            })
            .collect();
        let mut out: Vec<(Vec<Option<String>>, u64)> = Vec::with_capacity(wanted.len());
        for (answer, (risk, positions)) in wanted.iter().enumerate() {
            let level = &mut levels[*risk as usize];
            level.wanted = positions.iter().copied().zip(0..).collect();
            level.wanted.sort_unstable();
            // The answer's index rides in the high bits: `(answer << 32) | place`.
            for w in &mut level.wanted {
                w.1 |= answer << 32;
            }
            out.push((vec![None; positions.len()], 0));
        }
        let mut chunks = crate::snapshot::chunks(&self.db, id, SNAPSHOT_READ_AHEAD);
        while let Some(read) = chunks.recv().await {
            let (ids, risks) = read?;
            let lines = ids.split(|b| *b == b'\n').filter(|l| !l.is_empty());
            for (line, risk) in lines.zip(risks) {
                let level = &mut levels[risk as usize];
                while let Some((position, slot)) = level.wanted.get(level.cursor)
                    && *position == level.read
                {
                    out[slot >> 32].0[slot & 0xffff_ffff] =
                        Some(String::from_utf8_lossy(line).into_owned());
                    level.cursor += 1;
                }
                level.read += 1;
            }
        }
        for ((_, count), (risk, _)) in out.iter_mut().zip(wanted) {
            *count = levels[*risk as usize].read;
        }
        Ok(out)
    }

    /// Records a target's recusal request against an inspector; audited.
    pub async fn request_recusal(
        &self,
        who: &Identity,
        target_id: &str,
        inspector_id: &str,
        reason: &str,
    ) -> Result<store::RecusalRow, Error> {
        if !who.has_role(ROLE_DIRECTORIES_EDITOR) {
            return Err(Error::Denied(Denied::role(ROLE_DIRECTORIES_EDITOR)));
        }
        crate::domain::recusal::check_request(reason)?;
        let mut tx = self.db.begin().await?;
        let target = store::get_target(&mut tx, &target_id.trim().to_ascii_uppercase()).await?;
        let mut v = Violations::new();
        v.check(
            target.is_none(),
            "target_id",
            msg("no-target").arg("target", target_id),
        );
        let department = store::inspector_department(&mut tx, inspector_id).await?;
        v.check(
            department.is_none(),
            "inspector_id",
            msg("no-inspector").arg("inspector", inspector_id),
        );
        v.into_result()?;
        // A recusal is recorded by the inspector's own department (or an administrator).
        if let Some(department) = department.as_deref()
            && department != who.department
            && !who.has_role(ROLE_ADMIN)
        {
            return Err(Error::Denied(Denied::new(
                "inspector_id",
                msg("denied-department")
                    .arg("dept", department)
                    .arg("by_dept", &who.department),
            )));
        }
        let row = store::RecusalRow {
            id: uuid::Uuid::now_v7().to_string(),
            target_id: target.map(|(t, _)| t.id).unwrap_or_default(),
            inspector_id: inspector_id.to_string(),
            reason: reason.trim().to_string(),
            state: "pending".into(),
            decision_reason: String::new(),
            filed_by: who.subject.clone(),
            filed_at: now_ms(),
            decided_by: String::new(),
            decided_at: None,
        };
        store::insert_recusal(&mut tx, &row).await?;
        let change = AuditEvent {
            action: "recusal.request",
            entity: "recusal",
            entity_id: &row.id,
            before_digest: String::new(),
            after_digest: digest_of(&(&row.target_id, &row.inspector_id, &row.reason)),
            detail: format!(
                "{} asks that {} not inspect it",
                row.target_id, row.inspector_id
            ),
        };
        audit::append(&mut tx, who, change).await?;
        tx.commit().await?;
        Ok(row)
    }

    /// Decides a pending recusal request; announces and audits the decision.
    pub async fn decide_recusal(
        &self,
        who: &Identity,
        id: &str,
        accept: bool,
        reason: &str,
    ) -> Result<store::RecusalRow, Error> {
        use crate::domain::recusal::{RecusalState, Refusal, decide};
        let mut tx = self.db.begin().await?;
        let row = store::get_recusal(&mut tx, id)
            .await?
            .ok_or_else(|| Error::NotFound(msg("nf-recusal").arg("recusal", id)))?;
        let department = store::inspector_department(&mut tx, &row.inspector_id)
            .await?
            .unwrap_or_default();
        let state = RecusalState::parse(&row.state)
            .ok_or_else(|| Error::Internal(format!("stored state {:?}", row.state)))?;
        let decided =
            decide(state, who, &department, accept, reason).map_err(|refusal| match refusal {
                Refusal::Invalid(v) => Error::Invalid(v),
                Refusal::Denied(d) => Error::Denied(d),
                Refusal::NotNow(n) => Error::NotNow(n),
            })?;
        let now = now_ms();
        if !store::decide_recusal(
            &mut tx,
            id,
            decided.as_str(),
            reason.trim(),
            &who.subject,
            now,
        )
        .await?
        {
            return Err(Error::Conflict("the request was decided meanwhile".into()));
        }
        let row = store::get_recusal(&mut tx, id)
            .await?
            .ok_or_else(|| Error::Internal("decided request vanished".into()))?;
        let event = pb::RecusalDecidedEvent {
            recusal: Some(crate::convert::recusal_pb(&row)),
        };
        outbox::enqueue(
            &mut tx,
            crate::NAME,
            Event::new::<topics::RecusalDecided>(&row.inspector_id, &event),
        )
        .await?;
        let change = AuditEvent {
            action: "recusal.decide",
            entity: "recusal",
            entity_id: id,
            before_digest: String::new(),
            after_digest: String::new(),
            detail: format!("{}: {}", decided.as_str(), reason.trim()),
        };
        audit::append(&mut tx, who, change).await?;
        tx.commit().await?;
        self.relay.notify();
        Ok(row)
    }

    /// Recusal requests by inspector, target and state.
    pub async fn recusals(
        &self,
        inspector_id: &str,
        target_id: &str,
        state: &str,
        department: &str,
    ) -> Result<Vec<store::RecusalRow>, Error> {
        let mut conn = self.db.pool().acquire().await?;
        Ok(store::list_recusals(&mut conn, inspector_id, target_id, state, department).await?)
    }
}

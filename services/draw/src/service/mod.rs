//! The draw's use cases. Each reads the record, calls the directories for what the draw needs (a snapshot,
//! the inspector pools), draws with [`crate::algorithm`], and writes the record, its audit entry and its event
//! in one transaction that checks the revision it read.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::sync::{Arc, Mutex};
use suiji_platform::auth::{ROLE_DEPARTMENT_HEAD, ROLE_DRAW_OPERATOR};

use chrono::NaiveDate;
use futures::TryStreamExt;
use prost::Message;
use suiji_api::catalog::v1 as cat;
use suiji_api::directories::v1 as dir;
use suiji_api::directories::v1::directories_service_client::DirectoriesServiceClient;
use suiji_api::draw::v1 as pb;
use suiji_api::planning::v1 as plan;
use suiji_api::topics;
use suiji_platform::audit::{self, AuditEvent, OwnedAuditEvent, digest_of};
use suiji_platform::auth::{Identity, Tokens};
use suiji_platform::config::DrawSettings;
use suiji_platform::db::{Db, Tx, now_ms};
use suiji_platform::error::Error;
use suiji_platform::grpc::Bearer;
use suiji_platform::outbox::{self, Event, Relay};
use suiji_platform::paging::Page;
use suiji_platform::validation::{Denied, NotNow, Violations, msg};
use tonic::service::interceptor::InterceptedService;
use tonic::transport::Channel;

use crate::algorithm::{self, Amount, Candidate, DepartmentSeats, DrawError};
use crate::convert::{draw_pb, without_target_lists};
use crate::record::{
    self, Check, Reason, Record, ReplacementRecord, Scope, SeedRecord, State, TeamDraw, TeamRecord,
    Witness,
};
use crate::store;

mod replacements;
mod targets;
mod teams;

/// The national rule: at most twice a year unless high risk.
const MAX_PER_YEAR: u32 = 2;
/// Largest witness entropy, bytes.
const MAX_ENTROPY: usize = 4096;

type Directories = DirectoriesServiceClient<InterceptedService<Channel, Bearer>>;

/// The draw's use cases.
#[derive(Clone)]
pub struct Draws {
    db: Db,
    relay: Relay,
    tokens: Tokens,
    directories: Channel,
    settings: DrawSettings,
    teams: TeamsCache,
}

/// The teams of the records read last, by task and revision: `ListTeams` pages through a province's 200,000 teams
/// without parsing its record again for every page. At most [`CACHED_RECORDS`] are kept.
type TeamsCache = Arc<Mutex<Vec<(String, i64, Arc<Record>)>>>;

/// Records whose teams are kept for paging.
const CACHED_RECORDS: usize = 2;

/// Largest page of teams, and the default.
const MAX_TEAMS_PAGE: usize = 10_000;
const DEFAULT_TEAMS_PAGE: usize = 1_000;

/// A target draw's inputs from the launch.
struct Launch {
    task: plan::Task,
    items: Vec<cat::Item>,
    caps: Vec<u32>,
    annual: Vec<plan::AnnualCap>,
}

fn launch_of(bytes: &[u8]) -> Result<Launch, Error> {
    let e = plan::TaskLaunchedEvent::decode(bytes)
        .map_err(|e| Error::Internal(format!("stored launch: {e}")))?;
    Ok(Launch {
        task: e.task.unwrap_or_default(),
        items: e.items,
        caps: e.item_caps_basis_points,
        annual: e.annual_caps,
    })
}

pub use suiji_platform::calendar::today;

fn random_secret() -> Result<[u8; 32], Error> {
    let mut secret = [0u8; 32];
    getrandom::fill(&mut secret).map_err(|e| Error::Internal(format!("no randomness: {e}")))?;
    Ok(secret)
}

fn upstream(what: &str, status: tonic::Status) -> Error {
    match status.code() {
        tonic::Code::InvalidArgument | tonic::Code::NotFound | tonic::Code::FailedPrecondition => {
            NotNow(format!("directories refused {what}: {}", status.message()).into()).into()
        }
        _ => Error::Internal(format!("directories, {what}: {status}")),
    }
}

fn risk_name(level: i32) -> &'static str {
    match dir::RiskLevel::try_from(level) {
        Ok(dir::RiskLevel::High) => "high",
        Ok(dir::RiskLevel::MediumHigh) => "medium_high",
        Ok(dir::RiskLevel::Medium) => "medium",
        Ok(dir::RiskLevel::Low) => "low",
        _ => "unknown",
    }
}

/// The level of a stratum name ([`risk_name`] backwards).
fn risk_level(name: &str) -> dir::RiskLevel {
    match name {
        "high" => dir::RiskLevel::High,
        "medium_high" => dir::RiskLevel::MediumHigh,
        "medium" => dir::RiskLevel::Medium,
        "low" => dir::RiskLevel::Low,
        _ => dir::RiskLevel::Unspecified,
    }
}

fn kind_name(kind: i32) -> String {
    suiji_api::types::v1::TargetKind::try_from(kind)
        .map(|k| {
            k.as_str_name()
                .trim_start_matches("TARGET_KIND_")
                .to_ascii_lowercase()
        })
        .unwrap_or_default()
}

fn status_name(status: i32) -> String {
    dir::OperatingStatus::try_from(status)
        .map(|s| {
            s.as_str_name()
                .trim_start_matches("OPERATING_STATUS_")
                .to_ascii_lowercase()
        })
        .unwrap_or_default()
}

/// The `(id, stratum)` pairs of one message of a snapshot stream.
pub fn lines(chunk: &dir::ReadSnapshotIdsResponse) -> impl Iterator<Item = (&[u8], &'static str)> {
    chunk
        .ids
        .split(|b| *b == b'\n')
        .filter(|l| !l.is_empty())
        .zip(chunk.risk_levels.iter())
        .map(|(id, risk)| (id, risk_name(i32::from(*risk))))
}

fn check_witnesses(entropy: &str, witnesses: &[Witness]) -> Result<(), Violations> {
    let mut v = Violations::new();
    v.check(
        entropy.len() > MAX_ENTROPY,
        "witness_entropy",
        msg("entropy-max").arg("max", MAX_ENTROPY),
    );
    for (i, w) in witnesses.iter().enumerate() {
        v.check(
            w.name.trim().is_empty(),
            format!("witnesses[{i}].name"),
            msg("required"),
        );
        v.check(
            w.organisation.trim().is_empty(),
            format!("witnesses[{i}].organisation"),
            msg("witness-role"),
        );
    }
    v.into_result()
}

fn require_lead(who: &Identity, record: &Record) -> Result<(), Error> {
    if who.department != record.lead_department || !who.has_role(ROLE_DRAW_OPERATOR) {
        return Err(Denied::new(
            "task_id",
            msg("denied-draw-lead")
                .arg("dept", &record.lead_department)
                .arg("role", ROLE_DRAW_OPERATOR),
        )
        .into());
    }
    Ok(())
}

/// The audit trail's "before" of `record`: the digest of its stored document.
fn before_digest(record: &Record) -> String {
    if record.stored_digest.is_empty() {
        digest_of(record)
    } else {
        record.stored_digest.clone()
    }
}

fn wrong_state(record: &Record, doing: &str) -> Error {
    NotNow(
        msg("nn-draw-state")
            .arg("task", &record.task_id)
            .arg("doing", doing)
            .arg("draw_state", record.state.as_str()),
    )
    .into()
}

impl Draws {
    /// The use cases over `db`, calling the directories on `directories`.
    pub fn new(
        db: Db,
        relay: Relay,
        tokens: Tokens,
        directories: Channel,
        settings: DrawSettings,
    ) -> Self {
        Self {
            db,
            relay,
            tokens,
            directories,
            settings,
            teams: TeamsCache::default(),
        }
    }

    async fn directories(&self) -> Result<Directories, Error> {
        let token = self
            .tokens
            .service_token(crate::NAME)
            .await
            .map_err(|e| Error::Internal(format!("calling the directories: {e}")))?;
        Ok(DirectoriesServiceClient::with_interceptor(
            self.directories.clone(),
            Bearer::new(Some(&token)),
        )
        .max_decoding_message_size(16 << 20))
    }

    async fn load(&self, task_id: &str) -> Result<(Record, Launch), Error> {
        let mut conn = self.db.pool().acquire().await?;
        let (record, launched) = store::get(&mut conn, task_id)
            .await?
            .ok_or_else(|| Error::NotFound(msg("nf-draw").arg("task", task_id)))?;
        Ok((record, launch_of(&launched)?))
    }

    /// A task's record.
    pub async fn get(&self, task_id: &str) -> Result<Record, Error> {
        Ok(self.load(task_id).await?.0)
    }

    /// A page of records.
    pub async fn list(
        &self,
        state: Option<State>,
        year: u32,
        page: &Page,
    ) -> Result<Vec<Record>, Error> {
        let mut conn = self.db.pool().acquire().await?;
        store::list(&mut conn, state, year, page).await
    }

    /// Writes a new revision of `record` with its audit entry and event, and wakes the relay.
    async fn save(
        &self,
        mut tx: Tx,
        who: &Identity,
        record: &mut Record,
        action: &str,
        detail: String,
        event: Event,
    ) -> Result<(), Error> {
        let before = before_digest(record);
        record.revision += 1;
        store::update(&mut tx, record).await?;
        let change = AuditEvent {
            action,
            entity: "draw",
            entity_id: &record.task_id,
            before_digest: before,
            after_digest: record.stored_digest.clone(),
            detail,
        };
        outbox::enqueue(&mut tx, crate::NAME, event).await?;
        // Last before the commit: the audit head stays locked from here on.
        audit::append(&mut tx, who, change).await?;
        tx.commit().await?;
        self.relay.notify();
        Ok(())
    }

    /// Commits a target secret for a launched task (once; a redelivered launch changes nothing). Returns the
    /// change for the caller to append to the audit trail last in its transaction.
    pub async fn on_launched(
        &self,
        tx: &mut Tx,
        event: &plan::TaskLaunchedEvent,
        causation: &str,
    ) -> Result<Option<OwnedAuditEvent>, Error> {
        let task = event.task.clone().unwrap_or_default();
        let entry = task.entry.clone().unwrap_or_default();
        let content = task.content.clone().unwrap_or_default();
        let secret = random_secret()?;
        let mut record = Record::committed(&task.id, algorithm::commitment(&secret));
        record.task_name = content.name.clone();
        record.year = task.year;
        record.lead_department = task.lead_department_code.clone();
        let mut departments = vec![task.lead_department_code.clone()];
        let others: BTreeSet<&str> = content
            .participants
            .iter()
            .map(|p| p.department_code.as_str())
            .filter(|d| *d != task.lead_department_code)
            .collect();
        departments.extend(others.into_iter().map(str::to_string));
        record.departments = departments;
        record.items = content
            .participants
            .iter()
            .map(|p| (p.department_code.clone(), p.item_codes.clone()))
            .collect();
        record.list_public = entry.publish_drawn_list;
        record.witnessed = entry.witnessed_draw;
        if !store::insert(
            &mut *tx,
            &record,
            &event.encode_to_vec(),
            &hex::encode(secret),
        )
        .await?
        {
            return Ok(None);
        }
        let change = OwnedAuditEvent {
            action: "draw.commit",
            entity: "draw",
            entity_id: record.task_id.clone(),
            before_digest: String::new(),
            after_digest: digest_of(&record),
            detail: format!("commitment {}", record.targets.seed.commitment),
        };
        let published = pb::DrawCommittedEvent {
            task_id: record.task_id.clone(),
            commitment: record.targets.seed.commitment.clone(),
        };
        outbox::enqueue(
            tx,
            crate::NAME,
            Event::new::<topics::DrawCommitted>(&record.task_id, &published).caused_by(causation),
        )
        .await?;
        Ok(Some(change))
    }

    /// Marks a task's draw cancelled unless its teams are drawn; what was drawn or locked stays on record. Returns
    /// the change for the caller to append to the audit trail last in its transaction.
    pub async fn on_cancelled(
        &self,
        tx: &mut Tx,
        task_id: &str,
        reason: &str,
    ) -> Result<Option<OwnedAuditEvent>, Error> {
        let Some((mut record, _)) = store::get(&mut *tx, task_id).await? else {
            return Ok(None);
        };
        if matches!(record.state, State::TeamsDrawn | State::Cancelled) {
            return Ok(None);
        }
        let before = before_digest(&record);
        record.state = State::Cancelled;
        record.cancel_reason = reason.to_string();
        record.revision += 1;
        store::update(&mut *tx, &mut record).await?;
        Ok(Some(OwnedAuditEvent {
            action: "draw.cancel",
            entity: "draw",
            entity_id: task_id.to_string(),
            before_digest: before,
            after_digest: record.stored_digest.clone(),
            detail: reason.to_string(),
        }))
    }

    /// A snapshot's ids with their risk levels, as the directories stream them; [`lines`] reads a message.
    pub async fn snapshot_stream(
        &self,
        snapshot_id: &str,
    ) -> Result<tonic::Streaming<dir::ReadSnapshotIdsResponse>, Error> {
        Ok(self
            .directories()
            .await?
            .read_snapshot_ids(dir::ReadSnapshotIdsRequest {
                id: snapshot_id.to_string(),
                with_risk_levels: true,
            })
            .await
            .map_err(|s| upstream("the snapshot's ids", s))?
            .into_inner())
    }

    /// Reads a snapshot's candidates once, in order, as `(id, stratum)`.
    async fn for_each_candidate(
        &self,
        snapshot_id: &str,
        mut each: impl FnMut(&[u8], &str),
    ) -> Result<(), Error> {
        let mut stream = self.snapshot_stream(snapshot_id).await?;
        while let Some(chunk) = stream
            .try_next()
            .await
            .map_err(|s| upstream("the snapshot's ids", s))?
        {
            for (id, stratum) in lines(&chunk) {
                each(id, stratum);
            }
        }
        Ok(())
    }

    /// Verifies `record` against its snapshot, read from the directories.
    pub async fn verify(&self, record: &Record) -> Result<Vec<Check>, Error> {
        let mut checks = if record.targets.seed.server_secret.is_empty() {
            vec![Check {
                name: "targets".into(),
                ok: false,
                detail: "the targets are not drawn yet".into(),
            }]
        } else {
            let mut v = record::TargetVerifier::new(record);
            self.for_each_candidate(&record.targets.snapshot_id, |id, stratum| {
                v.push(id, stratum)
            })
            .await?;
            v.finish()
        };
        checks.extend(record::verify_teams(record));
        Ok(checks)
    }
}

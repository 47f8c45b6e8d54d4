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

/// Routing key of a command that failed.
pub const COMMAND_FAILED: &str = "draw.command.failed";

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

    /// A page of the teams of `task_id` (by target id, after `after`), only those with a seat of `department` or
    /// of `inspector` when given; without credentials, only when the list is public.
    pub async fn teams(
        &self,
        who: Option<&Identity>,
        task_id: &str,
        department: &str,
        inspector: &str,
        page_size: i32,
        after: &str,
    ) -> Result<Vec<TeamRecord>, Error> {
        let record = {
            let mut conn = self.db.pool().acquire().await?;
            let revision = store::revision(&mut conn, task_id)
                .await?
                .ok_or_else(|| Error::NotFound(msg("nf-draw").arg("task", task_id)))?;
            let cached = self
                .teams
                .lock()
                .expect("teams cache")
                .iter()
                .find(|(t, r, _)| t == task_id && *r == revision)
                .map(|(_, _, record)| record.clone());
            match cached {
                Some(record) => record,
                None => {
                    let (record, _) = store::get(&mut conn, task_id)
                        .await?
                        .ok_or_else(|| Error::NotFound(msg("nf-draw").arg("task", task_id)))?;
                    let record = Arc::new(record);
                    let mut cache = self.teams.lock().expect("teams cache");
                    cache.retain(|(t, _, _)| t != task_id);
                    if cache.len() >= CACHED_RECORDS {
                        cache.remove(0);
                    }
                    cache.push((task_id.to_string(), record.revision, record.clone()));
                    record
                }
            }
        };
        if !record.lists_readable_by(who) {
            return Err(match who {
                None => Error::Unauthenticated,
                Some(_) => Denied::new(
                    "task_id",
                    msg("denied-draw-lists").arg("depts", record.departments.join(",")),
                )
                .into(),
            });
        }
        let size = Self::teams_page_size(page_size);
        let Some(d) = &record.teams else {
            return Ok(Vec::new());
        };
        let from = d
            .teams
            .partition_point(|t| t.target_id.as_bytes() <= after.as_bytes());
        let sits = |t: &TeamRecord| {
            t.drawn.iter().chain(&t.current).any(|s| {
                (department.is_empty() || &*s.department == department)
                    && (inspector.is_empty() || &*s.inspector_id == inspector)
            })
        };
        Ok(d.teams[from..]
            .iter()
            .filter(|t| sits(t))
            .take(size)
            .cloned()
            .collect())
    }

    /// Teams a `ListTeams` page holds when asked for `page_size`.
    pub fn teams_page_size(page_size: i32) -> usize {
        match page_size {
            n if n <= 0 => DEFAULT_TEAMS_PAGE,
            n => (n as usize).min(MAX_TEAMS_PAGE),
        }
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

    /// The scope of the snapshot: the task's, with closed and revoked targets left out unless the scope names
    /// statuses itself, and the items' target kinds when it names none.
    fn scope_of(launch: &Launch) -> dir::TargetFilter {
        let content = launch.task.content.clone().unwrap_or_default();
        let entry = launch.task.entry.clone().unwrap_or_default();
        let mut scope = content.scope.or(entry.scope).unwrap_or_default();
        if scope.statuses.is_empty() {
            scope.statuses = vec![
                dir::OperatingStatus::Operating as i32,
                dir::OperatingStatus::Liquidating as i32,
            ];
        }
        if scope.kinds.is_empty() {
            let kinds: BTreeSet<i32> = launch
                .items
                .iter()
                .filter_map(|i| i.version.as_ref()?.content.as_ref())
                .flat_map(|c| c.target_kinds.iter().copied())
                .collect();
            scope.kinds = kinds.into_iter().collect();
        }
        scope
    }

    fn amount_of(launch: &Launch) -> Amount {
        let content = launch.task.content.clone().unwrap_or_default();
        let entry = launch.task.entry.clone().unwrap_or_default();
        if content.quantity > 0 {
            Amount::Quantity(u64::from(content.quantity))
        } else {
            Amount::Ratio {
                base_basis_points: entry.ratio_basis_points,
                per_stratum: entry
                    .risk_ratios
                    .iter()
                    .map(|r| (risk_name(r.level).to_string(), r.basis_points))
                    .collect(),
            }
        }
    }

    async fn lead_level(&self, lead: &str) -> Result<i32, Error> {
        let level: Option<String> =
            sqlx::query_scalar("SELECT level FROM departments WHERE code = $1")
                .bind(lead)
                .fetch_optional(self.db.pool())
                .await?;
        Ok(match level.as_deref() {
            Some("province") => dir::DepartmentLevel::Province as i32,
            Some("city") => dir::DepartmentLevel::City as i32,
            Some("county") => dir::DepartmentLevel::County as i32,
            _ => dir::DepartmentLevel::Unspecified as i32,
        })
    }

    /// Draws the targets of `task_id` (once): a snapshot of the scope minus the exclusions, strata by risk,
    /// quantities by the task's rules within the items' caps, the seed from the committed secret and the
    /// witnesses' entropy.
    pub async fn draw_targets(
        &self,
        who: &Identity,
        task_id: &str,
        entropy: &str,
        witnesses: Vec<Witness>,
    ) -> Result<Record, Error> {
        check_witnesses(entropy, &witnesses)?;
        let (mut record, launch) = self.load(task_id).await?;
        require_lead(who, &record)?;
        if record.witnessed {
            // A witnessed draw is made with its witnesses, who each add entropy.
            let mut v = Violations::new();
            v.check(
                witnesses.is_empty(),
                "witnesses",
                msg("draw-witnesses-required"),
            );
            v.check(
                entropy.trim().is_empty(),
                "witness_entropy",
                msg("draw-witness-entropy-required"),
            );
            v.into_result()?;
        }
        if record.state != State::Committed {
            return Err(wrong_state(&record, "draw_targets"));
        }
        let scope = Self::scope_of(&launch);
        let exclusions = dir::Exclusions {
            as_of: today().to_string(),
            max_per_year: MAX_PER_YEAR,
            lead_level: self.lead_level(&record.lead_department).await?,
            annual_caps: launch
                .annual
                .iter()
                .filter(|c| record.departments.contains(&c.department_code))
                .map(|c| dir::DepartmentCap {
                    department_code: c.department_code.clone(),
                    max_per_target: c.max_per_target,
                })
                .collect(),
        };
        let mut directories = self.directories().await?;
        let snapshot = directories
            .create_target_snapshot(dir::CreateTargetSnapshotRequest {
                filter: Some(scope.clone()),
                exclusions: Some(exclusions),
            })
            .await
            .map_err(|s| upstream("the snapshot", s))?
            .into_inner()
            .snapshot
            .ok_or_else(|| Error::Internal("directories returned no snapshot".into()))?;
        directories
            .pin_snapshot(dir::PinSnapshotRequest {
                id: snapshot.id.clone(),
                holder: format!("draw:{task_id}"),
            })
            .await
            .map_err(|s| upstream("the pin", s))?;
        let counts: BTreeMap<String, u64> = snapshot
            .strata
            .iter()
            .filter(|s| s.count > 0)
            .map(|s| (risk_name(s.risk_level).to_string(), s.count))
            .collect();
        let amount = Self::amount_of(&launch);
        let cap = launch.caps.iter().copied().min().unwrap_or(10_000);
        let planned = record::plan_strata(&counts, &amount, cap);
        let secret = {
            let mut conn = self.db.pool().acquire().await?;
            store::secret(&mut conn, task_id, "targets").await?
        };
        let seed = record::seed_of(&secret, entropy, task_id, &snapshot.digest)
            .map_err(Error::Internal)?;
        let picks = record::positions(seed, &planned).map_err(|e| NotNow(e.to_string().into()))?;
        // The directories pick the drawn positions from the snapshot they hold: a province's ten million
        // candidates stay there (anyone verifying the record reads them all, and the digest with them).
        let picked = directories
            .pick_from_snapshot(dir::PickFromSnapshotRequest {
                id: snapshot.id.clone(),
                strata: picks
                    .iter()
                    .map(|(name, positions)| dir::StratumPositions {
                        risk_level: risk_level(name) as i32,
                        positions: positions.clone(),
                    })
                    .collect(),
            })
            .await
            .map_err(|s| upstream("the drawn positions", s))?
            .into_inner()
            .strata;
        // Each level as asked, counted as when the snapshot was made.
        let differs = picked.len() != picks.len()
            || picked.iter().zip(&picks).any(|(s, (name, _))| {
                risk_name(s.risk_level) != name || counts.get(name) != Some(&s.count)
            });
        if differs {
            let read: Vec<(&str, u64)> = picked
                .iter()
                .map(|s| (risk_name(s.risk_level), s.count))
                .collect();
            return Err(Error::Internal(format!(
                "snapshot {} counted {read:?} when picked from, {counts:?} when made",
                snapshot.id
            )));
        }
        let picked: Vec<Option<String>> = picked
            .into_iter()
            .flat_map(|s| s.ids.into_iter().map(Some))
            .collect();
        let strata = record::target_strata(&planned, picked).map_err(Error::Internal)?;
        let t = &mut record.targets;
        t.result_digest = algorithm::ids_digest(
            strata
                .iter()
                .flat_map(|s| s.drawn.iter().map(String::as_str)),
        );
        t.strata = strata;
        t.seed = SeedRecord {
            commitment: t.seed.commitment.clone(),
            server_secret: secret,
            witness_entropy: entropy.to_string(),
            witnesses,
            snapshot_digest: snapshot.digest.clone(),
            seed: hex::encode(seed),
            drawn_at: now_ms(),
            drawn_by: who.subject.clone(),
        };
        t.snapshot_id = snapshot.id.clone();
        t.scope = Scope {
            kinds: scope.kinds.iter().map(|k| kind_name(*k)).collect(),
            region_codes: scope.region_codes.clone(),
            industry_prefixes: scope.industry_prefixes.clone(),
            departments: scope.departments.clone(),
            statuses: scope.statuses.iter().map(|s| status_name(*s)).collect(),
        };
        t.candidates = snapshot.count;
        t.exclusions = snapshot
            .excluded
            .iter()
            .map(|e| (e.rule.clone(), e.count))
            .collect();
        t.amount = Some(amount);
        t.cap_basis_points = cap;
        record.state = State::TargetsDrawn;
        let drawn: u64 = record.targets.strata.iter().map(|s| s.take).sum();
        let detail = format!(
            "{drawn} of {} candidates, snapshot {}, result {}",
            snapshot.count, snapshot.id, record.targets.result_digest
        );
        let tx = self.db.begin().await?;
        let event = Event::new::<topics::TargetsDrawn>(
            task_id,
            &pb::TargetsDrawnEvent {
                draw: Some(draw_pb(&record)),
            },
        );
        self.save(tx, who, &mut record, "draw.targets", detail, event)
            .await?;
        Ok(record)
    }

    /// Locks the drawn targets for good and commits the team secret.
    pub async fn lock(
        &self,
        who: &Identity,
        task_id: &str,
        expected_revision: i64,
    ) -> Result<Record, Error> {
        let (mut record, _) = self.load(task_id).await?;
        require_lead(who, &record)?;
        if record.state != State::TargetsDrawn {
            return Err(wrong_state(&record, "lock"));
        }
        if expected_revision != 0 && expected_revision != record.revision {
            return Err(Error::Conflict(format!(
                "the draw is at revision {}, not {expected_revision}: review it again",
                record.revision
            )));
        }
        let secret = random_secret()?;
        record.targets.locked_at = now_ms();
        record.targets.locked_by = who.subject.clone();
        record.teams = Some(TeamDraw {
            seed: SeedRecord {
                commitment: algorithm::commitment(&secret),
                ..Default::default()
            },
            ..Default::default()
        });
        record.state = State::TargetsLocked;
        let mut tx = self.db.begin().await?;
        store::put_secret(&mut tx, task_id, "teams", &hex::encode(secret)).await?;
        let event = Event::new::<topics::TargetsLocked>(
            task_id,
            &pb::TargetsLockedEvent {
                draw: Some(draw_pb(&record)),
            },
        );
        let detail = format!("result {}", record.targets.result_digest);
        self.save(tx, who, &mut record, "draw.lock", detail, event)
            .await?;
        Ok(record)
    }

    /// Every inspector of each `wanted` department eligible on `day`, with all of that department's
    /// qualifications; one list (by id) for them all, in the order of `wanted`.
    async fn eligible(
        &self,
        directories: &mut Directories,
        wanted: &[(&str, &[String])],
        day: NaiveDate,
    ) -> Result<Vec<Vec<dir::Inspector>>, Error> {
        let mut out: Vec<Vec<dir::Inspector>> = vec![Vec::new(); wanted.len()];
        // One department's list is narrowed by its first qualification in the directories already.
        let qualification = match wanted {
            [(_, quals)] => quals.first().cloned().unwrap_or_default(),
            _ => String::new(),
        };
        let mut token = String::new();
        loop {
            let page = directories
                .list_inspectors(dir::ListInspectorsRequest {
                    department_codes: wanted.iter().map(|(d, _)| d.to_string()).collect(),
                    qualification: qualification.clone(),
                    eligible_on: day.to_string(),
                    page_size: 500,
                    page_token: token,
                    ..Default::default()
                })
                .await
                .map_err(|s| upstream("the inspectors", s))?
                .into_inner();
            for inspector in page.inspectors {
                let Some(at) = wanted
                    .iter()
                    .position(|(d, _)| *d == inspector.department_code)
                else {
                    continue;
                };
                if wanted[at]
                    .1
                    .iter()
                    .all(|q| inspector.qualifications.contains(q))
                {
                    out[at].push(inspector);
                }
            }
            if page.next_page_token.is_empty() {
                return Ok(out);
            }
            token = page.next_page_token;
        }
    }

    /// What a department's items ask of its inspectors: qualifications and an expert.
    fn requirements(record: &Record, launch: &Launch, department: &str) -> (Vec<String>, bool) {
        let codes = record.items.get(department).cloned().unwrap_or_default();
        let mut qualifications = BTreeSet::new();
        let mut expert = false;
        for item in &launch.items {
            if !codes.contains(&item.code) {
                continue;
            }
            if let Some(c) = item.version.as_ref().and_then(|v| v.content.as_ref()) {
                qualifications.extend(c.inspector_qualifications.iter().cloned());
                expert |= c.requires_expert;
            }
        }
        (qualifications.into_iter().collect(), expert)
    }

    fn seats(&self, department: &str) -> u32 {
        self.settings
            .seats
            .get(department)
            .copied()
            .unwrap_or(self.settings.seats_per_department)
            .max(1)
    }

    /// Draws a team for every locked target.
    pub async fn draw_inspectors(
        &self,
        who: &Identity,
        task_id: &str,
        entropy: &str,
        witnesses: Vec<Witness>,
        eligible_on: Option<NaiveDate>,
        only: &[String],
    ) -> Result<Record, Error> {
        check_witnesses(entropy, &witnesses)?;
        let (mut record, launch) = self.load(task_id).await?;
        require_lead(who, &record)?;
        if record.state != State::TargetsLocked {
            return Err(wrong_state(&record, "draw_inspectors"));
        }
        let mut violations = Violations::default();
        for (i, d) in only.iter().enumerate() {
            if !record.departments.contains(d) {
                violations.add(
                    format!("departments[{i}]"),
                    msg("draw-not-in-task").arg("dept", d).arg("task", task_id),
                );
            }
        }
        if !only.is_empty() && !only.contains(&record.lead_department) {
            violations.add(
                "departments",
                msg("draw-lead-included").arg("dept", &record.lead_department),
            );
        }
        violations.into_result()?;
        let sending: Vec<String> = record
            .departments
            .iter()
            .filter(|d| only.is_empty() || only.contains(d))
            .cloned()
            .collect();
        let day = eligible_on.unwrap_or_else(today);
        let team_size: u32 = sending.iter().map(|d| self.seats(d)).sum();
        if team_size < self.settings.min_team_size {
            return Err(NotNow(
                msg("nn-team-too-small")
                    .arg("size", team_size)
                    .arg("min", self.settings.min_team_size),
            )
            .into());
        }
        let targets = record.targets.locked_list();
        let target_set: HashSet<&str> = targets.iter().map(String::as_str).collect();
        let mut directories = self.directories().await?;
        let mut pools = Vec::new();
        let mut qualifications = BTreeMap::new();
        let mut exclusions: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        let mut members: HashSet<String> = HashSet::new();
        // Every department's pool, in one list.
        let wanted: Vec<(Vec<String>, bool)> = sending
            .iter()
            .map(|d| Self::requirements(&record, &launch, d))
            .collect();
        let asked: Vec<(&str, &[String])> = sending
            .iter()
            .zip(&wanted)
            .map(|(department, (quals, _))| (department.as_str(), quals.as_slice()))
            .collect();
        let found = self.eligible(&mut directories, &asked, day).await?;
        for ((department, (quals, needs_expert)), inspectors) in
            sending.iter().zip(wanted).zip(found)
        {
            for i in &inspectors {
                members.insert(i.id.clone());
                for t in &i.recusals {
                    if target_set.contains(t.as_str()) {
                        exclusions
                            .entry(t.clone())
                            .or_default()
                            .insert(i.id.clone());
                    }
                }
            }
            pools.push(DepartmentSeats {
                department: department.clone(),
                seats: self.seats(department),
                needs_expert,
                pool: inspectors
                    .iter()
                    .map(|i| Candidate {
                        id: i.id.clone(),
                        expert: i.expert,
                        load: i.workload,
                    })
                    .collect(),
            });
            qualifications.insert(department.clone(), quals);
        }
        let accepted = directories
            .list_recusals(dir::ListRecusalsRequest {
                state: dir::RecusalState::Accepted as i32,
                ..Default::default()
            })
            .await
            .map_err(|s| upstream("the recusals", s))?
            .into_inner()
            .recusals;
        for r in accepted {
            if target_set.contains(r.target_id.as_str()) && members.contains(&r.inspector_id) {
                exclusions
                    .entry(r.target_id)
                    .or_default()
                    .insert(r.inspector_id);
            }
        }
        let exclusions: BTreeMap<String, Vec<String>> = exclusions
            .into_iter()
            .map(|(t, s)| (t, s.into_iter().collect()))
            .collect();
        for p in &mut pools {
            p.pool.sort_by(|a, b| a.id.cmp(&b.id));
        }
        let digest = algorithm::pool_digest(&pools);
        let secret = {
            let mut conn = self.db.pool().acquire().await?;
            store::secret(&mut conn, task_id, "teams").await?
        };
        let seed = record::seed_of(&secret, entropy, task_id, &digest).map_err(Error::Internal)?;
        let teams =
            algorithm::draw_teams(seed, &record.lead_department, &targets, &pools, &exclusions)
                .map_err(|e| match e {
                    DrawError::Shortage { .. } | DrawError::TooMany { .. } => {
                        Error::from(NotNow(msg("nn-teams-cannot").then(e.to_string().into())))
                    }
                })?;
        let d = record.teams.get_or_insert_with(TeamDraw::default);
        d.seed = SeedRecord {
            commitment: d.seed.commitment.clone(),
            server_secret: secret,
            witness_entropy: entropy.to_string(),
            witnesses,
            snapshot_digest: digest,
            seed: hex::encode(seed),
            drawn_at: now_ms(),
            drawn_by: who.subject.clone(),
        };
        d.result_digest = algorithm::teams_digest(&teams);
        d.teams = teams
            .into_iter()
            .map(|(target_id, seats)| TeamRecord {
                target_id,
                current: seats.clone(),
                drawn: seats,
            })
            .collect();
        d.pools = pools;
        d.qualifications = qualifications;
        d.exclusions = exclusions;
        record.state = State::TeamsDrawn;
        let detail = format!("{} teams, result {}", d.teams.len(), d.result_digest);
        let seats = {
            let mut seats: BTreeMap<&str, u32> = BTreeMap::new();
            for seat in d.teams.iter().flat_map(|t| &t.drawn) {
                *seats.entry(&*seat.inspector_id).or_default() += 1;
            }
            seats
                .into_iter()
                .map(|(id, seats)| pb::InspectorSeats {
                    inspector_id: id.to_string(),
                    seats,
                })
                .collect()
        };
        // The locked list went out with `draw.targets.locked`; this event names the teams' count and seats.
        let mut draw = draw_pb(&record);
        without_target_lists(&mut draw);
        let event = Event::new::<topics::TeamsDrawn>(
            task_id,
            &pb::TeamsDrawnEvent {
                draw: Some(draw),
                seats,
            },
        );
        let tx = self.db.begin().await?;
        self.save(tx, who, &mut record, "draw.teams", detail, event)
            .await?;
        Ok(record)
    }

    /// Replaces `inspector_id` on the team of `target_id` for `reason`, approved by the head of the inspector's
    /// department (the caller). The replacement is chosen by rule, not by lottery (docs/draw-v1.md §8.1): of the
    /// department's inspectors eligible on the day who hold its qualifications (an expert for an expert seat),
    /// not on the team, not excluded for the target and never replaced off it, the one with the fewest open
    /// assignments, then the smallest id.
    #[allow(clippy::too_many_arguments)]
    pub async fn replace(
        &self,
        who: &Identity,
        task_id: &str,
        target_id: &str,
        inspector_id: &str,
        reason: Option<Reason>,
        note: &str,
        eligible_on: Option<NaiveDate>,
    ) -> Result<(Record, ReplacementRecord), Error> {
        let Some(reason) = reason else {
            return Err(Violations::one("reason", msg("replacement-reason")).into());
        };
        let (mut record, _) = self.load(task_id).await?;
        if record.state != State::TeamsDrawn {
            return Err(wrong_state(&record, "replace"));
        }
        let d = record.teams.as_ref().expect("teams drawn");
        let team = d
            .teams
            .iter()
            .find(|t| t.target_id == target_id)
            .ok_or_else(|| Violations::one("target_id", msg("not-on-locked-list")))?;
        let seat = team
            .current
            .iter()
            .find(|s| &*s.inspector_id == inspector_id)
            .ok_or_else(|| Violations::one("inspector_id", msg("not-on-team")))?
            .clone();
        if who.department.as_str() != &*seat.department || !who.has_role(ROLE_DEPARTMENT_HEAD) {
            return Err(Denied::new(
                "inspector_id",
                msg("denied-replacement-head")
                    .arg("role", ROLE_DEPARTMENT_HEAD)
                    .arg("dept", &*seat.department),
            )
            .into());
        }
        let quals = d
            .qualifications
            .get(&*seat.department)
            .cloned()
            .unwrap_or_default();
        let mut directories = self.directories().await?;
        let day = eligible_on.unwrap_or_else(today);
        let mut candidates = self
            .eligible(&mut directories, &[(&seat.department, &quals)], day)
            .await?
            .remove(0);
        let excluded: HashSet<&str> = d
            .exclusions
            .get(target_id)
            .map(|v| v.iter().map(String::as_str).collect())
            .unwrap_or_default();
        let replaced_off: HashSet<&str> = d
            .replacements
            .iter()
            .filter(|r| r.target_id == target_id)
            .map(|r| r.replaced.as_str())
            .collect();
        candidates.retain(|c| {
            (!seat.expert_seat || c.expert)
                && !team.current.iter().any(|s| *s.inspector_id == *c.id)
                && !excluded.contains(c.id.as_str())
                && !replaced_off.contains(c.id.as_str())
                && c.id != inspector_id
                && !c.recusals.iter().any(|t| t == target_id)
        });
        let chosen = candidates
            .iter()
            .min_by(|a, b| (a.workload, a.id.as_bytes()).cmp(&(b.workload, b.id.as_bytes())))
            .ok_or_else(|| NotNow(msg("nn-no-replacement").arg("dept", &seat.department)))?
            .id
            .clone();
        let replacement = ReplacementRecord {
            target_id: target_id.to_string(),
            department: seat.department.to_string(),
            replaced: inspector_id.to_string(),
            replacement: chosen.clone(),
            reason,
            note: note.to_string(),
            approved_by: who.subject.clone(),
            at: now_ms(),
        };
        let d = record.teams.as_mut().expect("teams drawn");
        d.replacements.push(replacement.clone());
        let team = d
            .teams
            .iter_mut()
            .find(|t| t.target_id == target_id)
            .expect("found above");
        for s in &mut team.current {
            if &*s.inspector_id == inspector_id {
                s.inspector_id = chosen.as_str().into();
            }
        }
        let event = Event::new::<topics::InspectorReplaced>(
            task_id,
            &pb::InspectorReplacedEvent {
                task_id: task_id.to_string(),
                replacement: Some(crate::convert::replacement_pb(&replacement)),
                team: Some(crate::convert::team_pb(team)),
            },
        );
        let detail = format!("{target_id}: {inspector_id} → {chosen} ({reason:?}) {note}");
        let tx = self.db.begin().await?;
        self.save(tx, who, &mut record, "draw.replace", detail, event)
            .await?;
        Ok((record, replacement))
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

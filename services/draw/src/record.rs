//! The draw record: everything an outsider needs to re-run a draw (docs/draw-v1.md §9), kept as one document
//! and exported as the record file. [`verify_targets`] reads a snapshot's ids once, in order, and keeps only those
//! the draw picked, so memory stays in proportion to the drawn list, not to the directory; [`Picker`] does the
//! same reading for a draw made outside the service (the directories pick the service's draws where the
//! snapshot is kept).
//!
//! One piece, though long: the record is the published format of `suiji-draw-v1` and its verification; the two
//! change together, and splitting them would let one drift from the other.

use std::collections::BTreeMap;
use suiji_platform::auth::{ROLE_ADMIN, ROLE_AUDIT_READER, ROLE_SERVICE};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::algorithm::{
    self, Amount, DepartmentSeats, DrawError, NAME, Seat, SeedParts, StratumSize,
};

/// Where a draw stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum State {
    /// Launched; the target secret is committed.
    Committed,
    /// Targets drawn, awaiting review.
    TargetsDrawn,
    /// Targets locked; the team secret is committed.
    TargetsLocked,
    /// Teams drawn.
    TeamsDrawn,
    /// The task was cancelled.
    Cancelled,
}

impl State {
    /// Stable name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Committed => "committed",
            Self::TargetsDrawn => "targets_drawn",
            Self::TargetsLocked => "targets_locked",
            Self::TeamsDrawn => "teams_drawn",
            Self::Cancelled => "cancelled",
        }
    }
}

/// A witness of a draw.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Witness {
    /// Name.
    pub name: String,
    /// Organisation.
    pub organisation: String,
}

/// The seed parts of one draw (§1–2); secrets hex.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeedRecord {
    /// SHA-256 of the secret, published before the draw.
    pub commitment: String,
    /// The secret, revealed once the draw is made; empty before.
    pub server_secret: String,
    /// The witnesses' entropy.
    pub witness_entropy: String,
    /// Witnesses.
    pub witnesses: Vec<Witness>,
    /// Digest of the candidates.
    pub snapshot_digest: String,
    /// The seed.
    pub seed: String,
    /// When the draw was made (epoch ms; 0 before).
    pub drawn_at: i64,
    /// Who made it.
    pub drawn_by: String,
}

/// The task's scope as the snapshot was made with it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Scope {
    /// Target kinds (stable names).
    pub kinds: Vec<String>,
    /// Region codes.
    pub region_codes: Vec<String>,
    /// Industry prefixes.
    pub industry_prefixes: Vec<String>,
    /// Supervising departments.
    pub departments: Vec<String>,
    /// Operating statuses (stable names).
    pub statuses: Vec<String>,
}

/// One stratum of a target draw.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StratumRecord {
    /// Name (`high` … `low`).
    pub name: String,
    /// Candidates.
    pub candidates: u64,
    /// Taken.
    pub take: u64,
    /// Drawn ids in draw order.
    pub drawn: Vec<String>,
}

/// The target half of a record.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TargetRecord {
    /// Seed parts.
    pub seed: SeedRecord,
    /// Directories snapshot.
    pub snapshot_id: String,
    /// Scope.
    pub scope: Scope,
    /// Candidates after exclusions.
    pub candidates: u64,
    /// Targets removed per rule before the draw.
    pub exclusions: BTreeMap<String, u64>,
    /// How many were asked for.
    pub amount: Option<Amount>,
    /// Cap on the total, basis points.
    pub cap_basis_points: u32,
    /// Strata in walking order.
    pub strata: Vec<StratumRecord>,
    /// Result digest.
    pub result_digest: String,
    /// When locked (epoch ms; 0 before).
    pub locked_at: i64,
    /// Who locked.
    pub locked_by: String,
}

impl TargetRecord {
    /// Every drawn id, bytewise sorted: the locked list the teams are drawn for.
    pub fn locked_list(&self) -> Vec<String> {
        let mut ids: Vec<String> = self
            .strata
            .iter()
            .flat_map(|s| s.drawn.iter().cloned())
            .collect();
        ids.sort_unstable_by(|a, b| a.as_bytes().cmp(b.as_bytes()));
        ids
    }
}

/// A team as drawn and after replacements. A province's record holds some hundred thousand teams, so `current`
/// is written only when a replacement changed it: a record without it reads as `current` = `drawn`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(from = "StoredTeam")]
pub struct TeamRecord {
    /// Target.
    pub target_id: String,
    /// As drawn.
    pub drawn: Vec<Seat>,
    /// After replacements.
    pub current: Vec<Seat>,
}

impl Serialize for TeamRecord {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let changed = self.current != self.drawn;
        let mut team = serializer.serialize_struct("TeamRecord", 2 + usize::from(changed))?;
        team.serialize_field("target_id", &self.target_id)?;
        team.serialize_field("drawn", &self.drawn)?;
        if changed {
            team.serialize_field("current", &self.current)?;
        }
        team.end()
    }
}

/// A [`TeamRecord`] as stored: `current` absent while it equals `drawn`.
#[derive(Deserialize)]
struct StoredTeam {
    target_id: String,
    drawn: Vec<Seat>,
    #[serde(default)]
    current: Option<Vec<Seat>>,
}

impl From<StoredTeam> for TeamRecord {
    fn from(t: StoredTeam) -> Self {
        let current = t.current.unwrap_or_else(|| t.drawn.clone());
        Self {
            target_id: t.target_id,
            drawn: t.drawn,
            current,
        }
    }
}

/// How a record writes its teams. Every team of a draw has the same seats in the same order (docs/draw-v1.md §8),
/// so the seats are named once and each team is one row of ids — a province's 200,000 teams take about a fifth
/// of the space they would as one object per seat:
///
/// ```json
/// {"slots": [{"department": "610400-SCJG", "leader": true}, {"department": "610400-STHJ", "expert_seat": true}],
///  "rows": [["<target id>", "<inspector in slot 1>", "<inspector in slot 2>"], …],
///  "current": [["<target id>", …]]}
/// ```
///
/// `rows` are the teams as drawn, `current` the rows of the teams a replacement changed, in the same order. Teams
/// that do not share their seats (none are drawn so) are written as a list of [`TeamRecord`]s, which is also read.
pub mod team_table {
    use std::collections::HashMap;
    use std::sync::Arc;

    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    use super::{Seat, TeamRecord};

    /// One seat of every team: whose it is and what it is, without the inspector.
    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
    struct Slot {
        department: Arc<str>,
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        leader: bool,
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        expert_seat: bool,
    }

    impl Slot {
        fn of(seat: &Seat) -> Self {
            Self {
                department: seat.department.clone(),
                leader: seat.leader,
                expert_seat: seat.expert_seat,
            }
        }

        fn fits(&self, seat: &Seat) -> bool {
            self.department == seat.department
                && self.leader == seat.leader
                && self.expert_seat == seat.expert_seat
        }

        fn seat(&self, inspector_id: Arc<str>) -> Seat {
            Seat {
                department: self.department.clone(),
                inspector_id,
                leader: self.leader,
                expert_seat: self.expert_seat,
            }
        }
    }

    #[derive(Serialize)]
    struct TableOut<'a> {
        slots: Vec<Slot>,
        rows: Vec<Row<'a>>,
        #[serde(skip_serializing_if = "Vec::is_empty")]
        current: Vec<Row<'a>>,
    }

    /// A target id followed by its seats' inspector ids.
    struct Row<'a>(&'a str, &'a [Seat]);

    impl Serialize for Row<'_> {
        fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
            use serde::ser::SerializeSeq;
            let mut row = serializer.serialize_seq(Some(1 + self.1.len()))?;
            row.serialize_element(self.0)?;
            for seat in self.1 {
                row.serialize_element(&seat.inspector_id)?;
            }
            row.end()
        }
    }

    #[derive(Deserialize)]
    struct TableIn {
        slots: Vec<Slot>,
        rows: Vec<Vec<String>>,
        #[serde(default)]
        current: Vec<Vec<String>>,
    }

    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Stored {
        Table(TableIn),
        Teams(Vec<TeamRecord>),
    }

    /// Writes `teams` as a table when they share their seats, else as a list.
    pub fn serialize<S: Serializer>(
        teams: &[TeamRecord],
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        let slots: Vec<Slot> = teams
            .first()
            .map(|t| t.drawn.iter().map(Slot::of).collect())
            .unwrap_or_default();
        let fits = |seats: &[Seat]| {
            seats.len() == slots.len() && slots.iter().zip(seats).all(|(s, seat)| s.fits(seat))
        };
        if teams.is_empty() || !teams.iter().all(|t| fits(&t.drawn) && fits(&t.current)) {
            return teams.serialize(serializer);
        }
        TableOut {
            rows: teams.iter().map(|t| Row(&t.target_id, &t.drawn)).collect(),
            current: teams
                .iter()
                .filter(|t| t.current != t.drawn)
                .map(|t| Row(&t.target_id, &t.current))
                .collect(),
            slots,
        }
        .serialize(serializer)
    }

    /// Reads either form.
    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Vec<TeamRecord>, D::Error> {
        use serde::de::Error;
        let table = match Stored::deserialize(deserializer)? {
            Stored::Teams(teams) => return Ok(teams),
            Stored::Table(table) => table,
        };
        // Each inspector's id once, shared by their seats.
        let mut names: HashMap<String, Arc<str>> = HashMap::new();
        let mut seats = |row: Vec<String>| -> Result<(String, Vec<Seat>), D::Error> {
            if row.len() != table.slots.len() + 1 {
                return Err(D::Error::custom(format!(
                    "a team row has {} values, not a target and {} seats",
                    row.len(),
                    table.slots.len()
                )));
            }
            let mut ids = row.into_iter();
            let target = ids.next().unwrap_or_default();
            let seats = table
                .slots
                .iter()
                .zip(ids)
                .map(|(slot, id)| {
                    let name = match names.get(&id) {
                        Some(name) => name.clone(),
                        None => names
                            .entry(id)
                            .or_insert_with_key(|id| Arc::from(id.as_str()))
                            .clone(),
                    };
                    slot.seat(name)
                })
                .collect();
            Ok((target, seats))
        };
        let current = table
            .current
            .into_iter()
            .map(&mut seats)
            .collect::<Result<Vec<_>, _>>()?;
        let mut current = current.into_iter().peekable();
        let mut teams = Vec::with_capacity(table.rows.len());
        for row in table.rows {
            let (target_id, drawn) = seats(row)?;
            let changed = current.next_if(|(t, _)| *t == target_id);
            teams.push(TeamRecord {
                current: changed.map_or_else(|| drawn.clone(), |(_, seats)| seats),
                target_id,
                drawn,
            });
        }
        if let Some((target, _)) = current.next() {
            return Err(D::Error::custom(format!(
                "current seats of {target}, which has no team or is out of order"
            )));
        }
        Ok(teams)
    }
}

/// Why an inspector may be replaced.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    /// 工作调动.
    JobChange,
    /// 利害冲突.
    Conflict,
    /// 身体原因.
    Health,
    /// 回避.
    Recusal,
}

/// One replacement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReplacementRecord {
    /// Target.
    pub target_id: String,
    /// Department.
    pub department: String,
    /// Who left.
    pub replaced: String,
    /// Who came.
    pub replacement: String,
    /// Why.
    pub reason: Reason,
    /// Details.
    pub note: String,
    /// The department head who approved.
    pub approved_by: String,
    /// When (epoch ms).
    pub at: i64,
}

/// The inspector half of a record.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TeamDraw {
    /// Seed parts.
    pub seed: SeedRecord,
    /// Pools, as the algorithm takes them.
    pub pools: Vec<DepartmentSeats>,
    /// Qualifications each department's members hold.
    pub qualifications: BTreeMap<String, Vec<String>>,
    /// Inspectors excluded per target.
    pub exclusions: BTreeMap<String, Vec<String>>,
    /// Teams by target id, bytewise; stored as a [`team_table`].
    #[serde(with = "team_table")]
    pub teams: Vec<TeamRecord>,
    /// Result digest.
    pub result_digest: String,
    /// Replacements in order.
    pub replacements: Vec<ReplacementRecord>,
}

/// A task's draw record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Record {
    /// `suiji-draw-v1`.
    pub algorithm: String,
    /// Task.
    pub task_id: String,
    /// Task name.
    pub task_name: String,
    /// Plan year.
    pub year: u32,
    /// Lead department.
    pub lead_department: String,
    /// Participating departments, lead first.
    pub departments: Vec<String>,
    /// Items per department.
    pub items: BTreeMap<String, Vec<String>>,
    /// The drawn list is public.
    pub list_public: bool,
    /// The targets are drawn only with witnesses present, who add entropy (the plan entry's `witnessed_draw`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub witnessed: bool,
    /// State.
    pub state: State,
    /// Why cancelled.
    pub cancel_reason: String,
    /// Targets.
    pub targets: TargetRecord,
    /// Teams, once the targets are locked.
    pub teams: Option<TeamDraw>,
    /// Revision.
    pub revision: i64,
    /// SHA-256 of the document as last stored (hex; empty before the first store): the audit trail's "before",
    /// without serialising a large record once more.
    #[serde(skip)]
    pub stored_digest: String,
}

impl Record {
    /// A new record for a launched task, its target secret committed.
    pub fn committed(task_id: &str, commitment: String) -> Self {
        Self {
            algorithm: NAME.into(),
            task_id: task_id.into(),
            task_name: String::new(),
            year: 0,
            lead_department: String::new(),
            departments: Vec::new(),
            items: BTreeMap::new(),
            list_public: false,
            witnessed: false,
            state: State::Committed,
            cancel_reason: String::new(),
            targets: TargetRecord {
                seed: SeedRecord {
                    commitment,
                    ..Default::default()
                },
                ..Default::default()
            },
            teams: None,
            revision: 1,
            stored_digest: String::new(),
        }
    }

    /// Whether `who` reads this draw's lists (candidates, drawn ids, pools, teams): anyone when the plan entry makes
    /// them public; otherwise the departments taking part, auditors (`audit.reader`) and operators (`admin`).
    pub fn lists_readable_by(&self, who: Option<&suiji_platform::auth::Identity>) -> bool {
        self.list_public
            || who.is_some_and(|w| {
                self.departments.contains(&w.department)
                    || w.has_role(ROLE_ADMIN)
                    || w.has_role(ROLE_AUDIT_READER)
                    || w.has_role(ROLE_SERVICE)
            })
    }

    /// The view for someone who may not read the lists ([`Record::lists_readable_by`]): everything but the drawn
    /// lists, teams and pools, unless they are public.
    pub fn public_view(&self) -> Self {
        let mut r = self.clone();
        if !r.list_public {
            for s in &mut r.targets.strata {
                s.drawn.clear();
            }
            if let Some(t) = &mut r.teams {
                t.teams.clear();
                t.exclusions.clear();
                t.replacements.clear();
                // Who could have been drawn tells whom to look for: the pools go with the teams.
                for p in &mut t.pools {
                    p.pool.clear();
                }
            }
        }
        r
    }
}

/// The record file: the record and, when it is self-contained, every candidate as `[id, stratum]` in snapshot
/// order. `ExportDraw` writes it; `suiji draw verify` and `VerifyDraw` read it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RecordFile {
    /// The record.
    pub record: Record,
    /// The candidates, if included.
    #[serde(default)]
    pub candidates: Option<Vec<(String, String)>>,
}

/// The seed of a draw from hex parts.
pub fn seed_of(
    secret_hex: &str,
    entropy: &str,
    task_id: &str,
    digest_hex: &str,
) -> Result<[u8; 32], String> {
    let secret = hex::decode(secret_hex).map_err(|e| format!("server secret is not hex: {e}"))?;
    let digest: [u8; 32] = hex::decode(digest_hex)
        .ok()
        .and_then(|d| d.try_into().ok())
        .ok_or("snapshot digest is not 32 bytes of hex")?;
    Ok(algorithm::seed(&SeedParts {
        server_secret: &secret,
        witness_entropy: entropy.as_bytes(),
        task_id,
        snapshot_digest: &digest,
    }))
}

/// Reads candidates in snapshot order and keeps those at chosen positions of their stratum, while digesting
/// every id, counting each stratum and checking the order. A directory's worth of candidates passes through
/// here, so the work per candidate is a short list walk and a comparison, never a hash-map lookup.
pub struct Picker {
    /// Strata met so far or wanted, in the order first named.
    strata: Vec<PickStratum>,
    out: Vec<Option<String>>,
    hasher: Sha256,
    /// Ids not yet digested (digested a block at a time).
    pending: Vec<u8>,
    previous: Option<Vec<u8>>,
    disorder: Option<String>,
}

/// One stratum's reading position and its wanted positions.
struct PickStratum {
    name: String,
    /// Candidates of this stratum read so far.
    read: u64,
    /// `(position, slot)`, ascending by position.
    wanted: Vec<(u64, usize)>,
    /// Index of the next wanted position in `wanted`.
    cursor: usize,
}

/// Bytes of ids digested at once.
const DIGEST_BLOCK: usize = 64 * 1024;

impl Picker {
    /// Picks, for each `(stratum, positions)`, those positions; slots are numbered in the order given.
    pub fn new(picks: &[(String, Vec<u64>)]) -> Self {
        let mut strata = Vec::new();
        let mut slot = 0;
        for (name, positions) in picks {
            let mut wanted: Vec<(u64, usize)> = positions
                .iter()
                .map(|p| {
                    slot += 1;
                    (*p, slot - 1)
                })
                .collect();
            wanted.sort_unstable();
            strata.push(PickStratum {
                name: name.clone(),
                read: 0,
                wanted,
                cursor: 0,
            });
        }
        Self {
            strata,
            out: vec![None; slot],
            hasher: Sha256::new(),
            pending: Vec::with_capacity(DIGEST_BLOCK + 256),
            previous: None,
            disorder: None,
        }
    }

    /// The next candidate.
    pub fn push(&mut self, id: &[u8], stratum: &str) {
        self.pending.extend_from_slice(id);
        self.pending.push(b'\n');
        if self.pending.len() >= DIGEST_BLOCK {
            self.hasher.update(&self.pending);
            self.pending.clear();
        }
        if self.disorder.is_none()
            && let Some(p) = &self.previous
            && p.as_slice() >= id
        {
            self.disorder = Some(String::from_utf8_lossy(id).into_owned());
        }
        // One buffer for the previous id, not an allocation per candidate.
        let previous = self.previous.get_or_insert_with(Vec::new);
        previous.clear();
        previous.extend_from_slice(id);
        let s = match self.strata.iter().position(|s| s.name == stratum) {
            Some(i) => &mut self.strata[i],
            None => {
                self.strata.push(PickStratum {
                    name: stratum.to_string(),
                    read: 0,
                    wanted: Vec::new(),
                    cursor: 0,
                });
                self.strata.last_mut().expect("just pushed")
            }
        };
        // Positions are distinct, so at most one slot matches.
        if let Some((position, slot)) = s.wanted.get(s.cursor)
            && *position == s.read
        {
            self.out[*slot] = Some(String::from_utf8_lossy(id).into_owned());
            s.cursor += 1;
        }
        s.read += 1;
    }

    /// The digest of every id read, the counts per stratum, the first id out of order (if any), and the picked
    /// ids by slot (`None` where a position was past the end of its stratum).
    pub fn finish(mut self) -> Picked {
        self.hasher.update(&self.pending);
        Picked {
            digest: hex::encode(self.hasher.finalize()),
            counts: self
                .strata
                .into_iter()
                .filter(|s| s.read > 0)
                .map(|s| (s.name, s.read))
                .collect(),
            disorder: self.disorder,
            picked: self.out,
        }
    }
}

/// What a [`Picker`] read.
#[derive(Debug)]
pub struct Picked {
    /// SHA-256 of the ids, hex.
    pub digest: String,
    /// Ids per stratum.
    pub counts: BTreeMap<String, u64>,
    /// The first id not above the one before it.
    pub disorder: Option<String>,
    /// Picked ids by slot.
    pub picked: Vec<Option<String>>,
}

/// The strata a target draw walks, with their sizes and quantities, from counts and rules.
pub fn plan_strata(
    counts: &BTreeMap<String, u64>,
    amount: &Amount,
    cap_basis_points: u32,
) -> Vec<(String, u64, u64)> {
    let mut names: Vec<String> = counts.keys().cloned().collect();
    algorithm::walking_order(&mut names);
    let sizes: Vec<(String, u64)> = names.iter().map(|n| (n.clone(), counts[n])).collect();
    let takes = algorithm::quantities(&sizes, amount, cap_basis_points);
    sizes
        .into_iter()
        .zip(takes)
        .map(|((name, n), take)| (name, n, take))
        .collect()
}

/// The positions a target draw picks from `strata` (walking order, with sizes and quantities).
pub fn positions(
    seed: [u8; 32],
    strata: &[(String, u64, u64)],
) -> Result<Vec<(String, Vec<u64>)>, DrawError> {
    let sizes: Vec<StratumSize<'_>> = strata
        .iter()
        .map(|(name, n, take)| (name.as_str(), *n, *take))
        .collect();
    Ok(algorithm::draw_positions(seed, &sizes)?
        .into_iter()
        .map(|(i, p)| (strata[i].0.clone(), p))
        .collect())
}

/// The strata of a finished target draw: `planned` (walking order, sizes, quantities), the positions drawn
/// in the same order, and the ids a [`Picker`] found at them. Fails when a position found no id (the candidates
/// were fewer than their counts said).
pub fn target_strata(
    planned: &[(String, u64, u64)],
    picked: Vec<Option<String>>,
) -> Result<Vec<StratumRecord>, String> {
    let mut picked = picked.into_iter();
    planned
        .iter()
        .map(|(name, n, take)| {
            let drawn: Option<Vec<String>> = picked.by_ref().take(*take as usize).collect();
            Ok(StratumRecord {
                name: name.clone(),
                candidates: *n,
                take: *take,
                drawn: drawn
                    .ok_or_else(|| format!("stratum {name}: fewer candidates than its count"))?,
            })
        })
        .collect()
}

/// One verification step.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Check {
    /// What.
    pub name: String,
    /// Passed.
    pub ok: bool,
    /// What was found when it did not.
    pub detail: String,
}

fn check(name: &str, ok: bool, detail: impl FnOnce() -> String) -> Check {
    Check {
        name: name.into(),
        ok,
        detail: if ok { String::new() } else { detail() },
    }
}

fn commitment_check(name: &str, seed: &SeedRecord) -> Check {
    let got = hex::decode(&seed.server_secret)
        .map(|s| algorithm::commitment(&s))
        .unwrap_or_default();
    check(name, got == seed.commitment, || {
        format!(
            "SHA-256 of the revealed secret is {got}, the commitment was {}",
            seed.commitment
        )
    })
}

fn first_difference(expected: &[String], recorded: &[String]) -> Option<String> {
    let n = expected.len().max(recorded.len());
    (0..n).find_map(|i| {
        let (e, r) = (expected.get(i), recorded.get(i));
        (e != r).then(|| {
            format!(
                "position {}: recomputed {}, recorded {}",
                i + 1,
                e.map_or("nothing", String::as_str),
                r.map_or("nothing", String::as_str)
            )
        })
    })
}

/// Verifies the target half of a record while its candidates stream past: [`TargetVerifier::new`] checks
/// what needs no candidates, [`TargetVerifier::push`] takes each `(id, stratum)` in snapshot order, and
/// [`TargetVerifier::finish`] compares.
pub struct TargetVerifier<'r> {
    record: &'r Record,
    checks: Vec<Check>,
    picker: Option<Picker>,
}

impl<'r> TargetVerifier<'r> {
    /// Starts verifying `record`.
    pub fn new(record: &'r Record) -> Self {
        let t = &record.targets;
        let mut checks = vec![
            check("algorithm", record.algorithm == NAME, || {
                format!(
                    "record says {:?}; this verifier runs {NAME}",
                    record.algorithm
                )
            }),
            commitment_check("target commitment", &t.seed),
        ];
        checks.push(quantities_check(record));
        let seed = match seed_of(
            &t.seed.server_secret,
            &t.seed.witness_entropy,
            &record.task_id,
            &t.seed.snapshot_digest,
        ) {
            Ok(seed) => seed,
            Err(e) => {
                checks.push(check("seed", false, || e));
                return Self {
                    record,
                    checks,
                    picker: None,
                };
            }
        };
        checks.push(check("seed", hex::encode(seed) == t.seed.seed, || {
            format!("recomputed {}, recorded {}", hex::encode(seed), t.seed.seed)
        }));
        let strata: Vec<(String, u64, u64)> = t
            .strata
            .iter()
            .map(|s| (s.name.clone(), s.candidates, s.take))
            .collect();
        let picker = match positions(seed, &strata) {
            Ok(p) => Some(Picker::new(&p)),
            Err(e) => {
                checks.push(check("draw", false, || e.to_string()));
                None
            }
        };
        Self {
            record,
            checks,
            picker,
        }
    }

    /// The next candidate.
    pub fn push(&mut self, id: &[u8], stratum: &str) {
        if let Some(p) = &mut self.picker {
            p.push(id, stratum);
        }
    }

    /// Every check, in order.
    pub fn finish(self) -> Vec<Check> {
        let Self {
            record,
            mut checks,
            picker,
        } = self;
        let Some(picker) = picker else {
            return checks;
        };
        let t = &record.targets;
        let recorded = recorded_counts(record);
        let read = picker.finish();
        checks.push(check(
            "candidates in order",
            read.disorder.is_none(),
            || {
                format!(
                    "{} is not above the id before it",
                    read.disorder.clone().unwrap_or_default()
                )
            },
        ));
        checks.push(check(
            "snapshot digest",
            read.digest == t.seed.snapshot_digest,
            || {
                format!(
                    "the candidates hash to {}, the record says {}",
                    read.digest, t.seed.snapshot_digest
                )
            },
        ));
        checks.push(check("strata", read.counts == recorded, || {
            format!(
                "the candidates count {:?}, the record says {recorded:?}",
                read.counts
            )
        }));
        let expected: Vec<String> = read.picked.into_iter().flatten().collect();
        let drawn: Vec<String> = t
            .strata
            .iter()
            .flat_map(|s| s.drawn.iter().cloned())
            .collect();
        let diff = first_difference(&expected, &drawn);
        checks.push(check("drawn targets", diff.is_none(), || {
            diff.unwrap_or_default()
        }));
        let digest = algorithm::ids_digest(drawn.iter().map(String::as_str));
        checks.push(check(
            "target result digest",
            digest == t.result_digest,
            || format!("recomputed {digest}, recorded {}", t.result_digest),
        ));
        checks
    }
}

fn recorded_counts(record: &Record) -> BTreeMap<String, u64> {
    record
        .targets
        .strata
        .iter()
        .filter(|s| s.candidates > 0)
        .map(|s| (s.name.clone(), s.candidates))
        .collect()
}

/// Verifies the target half of `record` against its candidates, read in snapshot order as `(id, stratum)`.
pub fn verify_targets<'a>(
    record: &Record,
    candidates: impl Iterator<Item = (&'a [u8], &'a str)>,
) -> Vec<Check> {
    let mut v = TargetVerifier::new(record);
    for (id, stratum) in candidates {
        v.push(id, stratum);
    }
    v.finish()
}

/// What anyone can check of a record whose lists they may not read: the algorithm, each half's commitment against
/// its revealed secret, the target quantities from the public counts, and each seed from its parts. No detail names a
/// candidate, a drawn id or an inspector.
pub fn verify_public(record: &Record) -> Vec<Check> {
    let t = &record.targets;
    let mut checks = vec![check("algorithm", record.algorithm == NAME, || {
        format!(
            "record says {:?}; this verifier runs {NAME}",
            record.algorithm
        )
    })];
    if t.seed.server_secret.is_empty() {
        checks.push(check("targets", false, || {
            "the targets are not drawn yet".to_string()
        }));
        return checks;
    }
    checks.push(commitment_check("target commitment", &t.seed));
    checks.push(quantities_check(record));
    checks.push(seed_check("seed", record, &t.seed));
    if let Some(d) = record
        .teams
        .as_ref()
        .filter(|d| !d.seed.server_secret.is_empty())
    {
        checks.push(commitment_check("team commitment", &d.seed));
        checks.push(seed_check("team seed", record, &d.seed));
    }
    checks
}

/// The takes of each stratum recomputed from the public counts, the amount and the cap.
fn quantities_check(record: &Record) -> Check {
    let t = &record.targets;
    let recorded = recorded_counts(record);
    let amount = t.amount.clone().unwrap_or(Amount::Quantity(0));
    let planned = plan_strata(&recorded, &amount, t.cap_basis_points);
    let takes: Vec<(String, u64)> = planned.iter().map(|(n, _, k)| (n.clone(), *k)).collect();
    let recorded_takes: Vec<(String, u64)> =
        t.strata.iter().map(|s| (s.name.clone(), s.take)).collect();
    check("quantities", takes == recorded_takes, || {
        format!("the rules give {takes:?}, the record took {recorded_takes:?}")
    })
}

/// The seed of `seed` recomputed from its parts.
fn seed_check(name: &str, record: &Record, seed: &SeedRecord) -> Check {
    match seed_of(
        &seed.server_secret,
        &seed.witness_entropy,
        &record.task_id,
        &seed.snapshot_digest,
    ) {
        Ok(s) => check(name, hex::encode(s) == seed.seed, || {
            format!("recomputed {}, recorded {}", hex::encode(s), seed.seed)
        }),
        Err(e) => check(name, false, || e),
    }
}

/// Verifies the inspector half of `record`, if there is one: commitment, pool digest, seed, every seat, and that
/// every replacement kept the rules (reason recorded, approver named, same department, nobody twice).
pub fn verify_teams(record: &Record) -> Vec<Check> {
    let Some(d) = &record.teams else {
        return Vec::new();
    };
    if d.seed.server_secret.is_empty() {
        return vec![check("teams", true, String::new)];
    }
    let mut checks = vec![commitment_check("team commitment", &d.seed)];
    let pool_digest = algorithm::pool_digest(&d.pools);
    checks.push(check(
        "pool digest",
        pool_digest == d.seed.snapshot_digest,
        || {
            format!(
                "the pools hash to {pool_digest}, the record says {}",
                d.seed.snapshot_digest
            )
        },
    ));
    let seed = match seed_of(
        &d.seed.server_secret,
        &d.seed.witness_entropy,
        &record.task_id,
        &d.seed.snapshot_digest,
    ) {
        Ok(s) => s,
        Err(e) => {
            checks.push(check("team seed", false, || e));
            return checks;
        }
    };
    checks.push(check("team seed", hex::encode(seed) == d.seed.seed, || {
        format!("recomputed {}, recorded {}", hex::encode(seed), d.seed.seed)
    }));
    let targets = record.targets.locked_list();
    let listed: Vec<String> = d.teams.iter().map(|t| t.target_id.clone()).collect();
    let diff = first_difference(&targets, &listed);
    checks.push(check("teams cover the locked list", diff.is_none(), || {
        diff.unwrap_or_default()
    }));
    match algorithm::draw_teams(
        seed,
        &record.lead_department,
        &targets,
        &d.pools,
        &d.exclusions,
    ) {
        Ok(teams) => {
            let seat = |s: &Seat| {
                format!(
                    "{}/{}{}",
                    s.department,
                    s.inspector_id,
                    if s.leader { " (leader)" } else { "" }
                )
            };
            let expected: Vec<String> = teams
                .iter()
                .flat_map(|(t, seats)| seats.iter().map(move |s| format!("{t}: {}", seat(s))))
                .collect();
            let recorded: Vec<String> = d
                .teams
                .iter()
                .flat_map(|t| {
                    t.drawn
                        .iter()
                        .map(move |s| format!("{}: {}", t.target_id, seat(s)))
                })
                .collect();
            let diff = first_difference(&expected, &recorded);
            checks.push(check("drawn teams", diff.is_none(), || {
                diff.unwrap_or_default()
            }));
            let digest = algorithm::teams_digest(&teams);
            checks.push(check(
                "team result digest",
                digest == d.result_digest,
                || format!("recomputed {digest}, recorded {}", d.result_digest),
            ));
        }
        Err(e) => checks.push(check("drawn teams", false, || e.to_string())),
    }
    checks.push(replacements_check(d));
    checks
}

/// Replays the replacements over the drawn teams and compares with the current teams.
fn replacements_check(d: &TeamDraw) -> Check {
    let mut teams: BTreeMap<&str, Vec<Seat>> = d
        .teams
        .iter()
        .map(|t| (t.target_id.as_str(), t.drawn.clone()))
        .collect();
    for (i, r) in d.replacements.iter().enumerate() {
        let Some(team) = teams.get_mut(r.target_id.as_str()) else {
            return check("replacements", false, || {
                format!("replacement {}: target {} has no team", i + 1, r.target_id)
            });
        };
        if r.approved_by.is_empty() {
            return check("replacements", false, || {
                format!("replacement {}: no approver", i + 1)
            });
        }
        if team.iter().any(|s| *s.inspector_id == *r.replacement) {
            return check("replacements", false, || {
                format!(
                    "replacement {}: {} already sits on the team",
                    i + 1,
                    r.replacement
                )
            });
        }
        let Some(seat) = team
            .iter_mut()
            .find(|s| *s.inspector_id == *r.replaced && *s.department == *r.department)
        else {
            return check("replacements", false, || {
                format!(
                    "replacement {}: {} does not sit on the team for {}",
                    i + 1,
                    r.replaced,
                    r.department
                )
            });
        };
        seat.inspector_id = r.replacement.as_str().into();
    }
    let bad = d
        .teams
        .iter()
        .find(|t| teams.get(t.target_id.as_str()) != Some(&t.current));
    check("replacements", bad.is_none(), || {
        format!(
            "the current team of {} is not the drawn team with its replacements",
            bad.map_or("", |t| t.target_id.as_str())
        )
    })
}

#[cfg(test)]
mod tests;

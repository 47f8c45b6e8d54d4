//! `suiji-draw-v1`: seed derivation, the random stream, unbiased bounded integers, sampling without
//! replacement, stratified target draws and inspector teams. `docs/draw-v1.md` is the specification; this file
//! implements it line by line and checks the page's test vectors.
//!
//! Nothing here calls a library routine whose output could change between versions: the only outside
//! primitive is the ChaCha20 keystream (`rand_chacha`, checked against RFC 8439's vectors below) and SHA-256.

use std::collections::BTreeMap;
use std::sync::Arc;

use rustc_hash::FxHashMap;

use rand_chacha::ChaCha20Rng;
use rand_core::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The algorithm's name, recorded in every draw record.
pub const NAME: &str = "suiji-draw-v1";

/// What the seed is made of.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeedParts<'a> {
    /// The server secret committed (by its SHA-256) when the task was launched, revealed after the draw.
    pub server_secret: &'a [u8],
    /// Entropy the witnesses added at draw time (UTF-8 text as typed; may be empty).
    pub witness_entropy: &'a [u8],
    /// The task id.
    pub task_id: &'a str,
    /// The SHA-256 digest of the candidate snapshot (32 bytes, not hex).
    pub snapshot_digest: &'a [u8; 32],
}

/// `SHA-256(LP(server_secret) ‖ LP(witness_entropy) ‖ LP(task_id) ‖ LP(snapshot_digest))`, where `LP(x)` is
/// the length of `x` as a 4-byte big-endian integer followed by `x`.
pub fn seed(parts: &SeedParts<'_>) -> [u8; 32] {
    let mut h = Sha256::new();
    for part in [
        parts.server_secret,
        parts.witness_entropy,
        parts.task_id.as_bytes(),
        parts.snapshot_digest.as_slice(),
    ] {
        h.update((part.len() as u32).to_be_bytes());
        h.update(part);
    }
    h.finalize().into()
}

/// The commitment published before the draw: SHA-256 of the server secret, hex.
pub fn commitment(server_secret: &[u8]) -> String {
    hex::encode(Sha256::digest(server_secret))
}

/// The random stream: the ChaCha20 keystream (key = seed, nonce 0, block counter from 0), read as 64-bit
/// little-endian words.
pub struct Stream(ChaCha20Rng);

impl Stream {
    /// The stream of `seed`.
    pub fn new(seed: [u8; 32]) -> Self {
        Self(ChaCha20Rng::from_seed(seed))
    }

    /// The next 64-bit word.
    pub fn next_u64(&mut self) -> u64 {
        self.0.next_u64()
    }

    /// A uniform integer in `0..n` (`n ≥ 1`), by Lemire's multiply-and-reject method: no modulo bias.
    pub fn below(&mut self, n: u64) -> u64 {
        assert!(n > 0, "below(0) has no value");
        let mut m = u128::from(self.next_u64()) * u128::from(n);
        if (m as u64) < n {
            let threshold = n.wrapping_neg() % n;
            while (m as u64) < threshold {
                m = u128::from(self.next_u64()) * u128::from(n);
            }
        }
        (m >> 64) as u64
    }
}

/// `k` distinct positions of `0..n`, in the order drawn: a partial Fisher–Yates shuffle of the virtual array
/// `[0, 1, …, n-1]` (step `i` swaps position `i` with `i + below(n - i)` and emits position `i`), with the
/// moved entries kept in a map so memory is O(k), not O(n).
pub fn sample(stream: &mut Stream, n: u64, k: u64) -> Vec<u64> {
    assert!(k <= n, "cannot draw {k} of {n}");
    let mut moved: FxHashMap<u64, u64> =
        FxHashMap::with_capacity_and_hasher(k as usize, Default::default());
    let mut out = Vec::with_capacity(k as usize);
    for i in 0..k {
        let j = i + stream.below(n - i);
        let at_j = moved.get(&j).copied().unwrap_or(j);
        let at_i = moved.get(&i).copied().unwrap_or(i);
        moved.insert(j, at_i);
        out.push(at_j);
    }
    out
}

/// One stratum of a target draw: its candidate ids in snapshot (bytewise) order and how many to take.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stratum {
    /// Name, e.g. `high`.
    pub name: String,
    /// Candidates, sorted bytewise, unique.
    pub ids: Vec<String>,
    /// How many to draw.
    pub take: u64,
}

/// The order strata are walked in: highest risk first, then any other stratum by name.
pub const STRATUM_ORDER: [&str; 4] = ["high", "medium_high", "medium", "low"];

fn stratum_rank(name: &str) -> (usize, &str) {
    (
        STRATUM_ORDER
            .iter()
            .position(|s| *s == name)
            .unwrap_or(STRATUM_ORDER.len()),
        name,
    )
}

/// How many targets a task asks for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Amount {
    /// A ratio in basis points of each stratum, with ratios for named strata overriding the base.
    Ratio {
        /// Basis points for strata without their own.
        base_basis_points: u32,
        /// Basis points per stratum name.
        per_stratum: BTreeMap<String, u32>,
    },
    /// A number of targets shared among the strata.
    Quantity(u64),
}

/// The number to take from each stratum (`counts`: name and size, any order; the result is in the same order),
/// by §7 of the page: ratios round up per stratum; a quantity is shared in proportion to the strata's sizes with
/// the remainder one by one to the strata in walking order; then the total is held to
/// `⌊N × cap / 10000⌋` by taking back from the strata in reverse walking order, each down to 0 before the
/// next (lowest risk first).
pub fn quantities(counts: &[(String, u64)], amount: &Amount, cap_basis_points: u32) -> Vec<u64> {
    let total: u64 = counts.iter().map(|(_, n)| n).sum();
    let mut walk: Vec<usize> = (0..counts.len()).collect();
    walk.sort_by(|&a, &b| stratum_rank(&counts[a].0).cmp(&stratum_rank(&counts[b].0)));
    let mut take: Vec<u64> = match amount {
        Amount::Ratio {
            base_basis_points,
            per_stratum,
        } => counts
            .iter()
            .map(|(name, n)| {
                let bp = u64::from(*per_stratum.get(name).unwrap_or(base_basis_points));
                (n * bp).div_ceil(10_000).min(*n)
            })
            .collect(),
        Amount::Quantity(q) => {
            let q = (*q).min(total);
            let mut take: Vec<u64> = counts
                .iter()
                .map(|(_, n)| (q * n).checked_div(total).unwrap_or(0))
                .collect();
            let mut left = q - take.iter().sum::<u64>();
            while left > 0 {
                for &i in &walk {
                    if left > 0 && take[i] < counts[i].1 {
                        take[i] += 1;
                        left -= 1;
                    }
                }
            }
            take
        }
    };
    let cap = total * u64::from(cap_basis_points) / 10_000;
    let mut over = take.iter().sum::<u64>().saturating_sub(cap);
    for &i in walk.iter().rev() {
        let back = over.min(take[i]);
        take[i] -= back;
        over -= back;
    }
    take
}

/// Why a draw cannot be made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DrawError {
    /// A stratum asks for more than it holds.
    TooMany {
        /// Stratum.
        stratum: String,
        /// Asked.
        take: u64,
        /// Held.
        available: u64,
    },
    /// Not enough eligible inspectors for a seat.
    Shortage {
        /// Target.
        target_id: String,
        /// Department.
        department: String,
        /// What was missing.
        reason: String,
    },
}

impl std::fmt::Display for DrawError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::TooMany {
                stratum,
                take,
                available,
            } => write!(f, "stratum {stratum}: {take} asked, {available} candidates"),
            Self::Shortage {
                target_id,
                department,
                reason,
            } => write!(f, "target {target_id}, department {department}: {reason}"),
        }
    }
}

impl std::error::Error for DrawError {}

/// The drawn ids of each stratum, in walking order, each in draw order.
pub type Drawn = Vec<(String, Vec<String>)>;

/// A stratum by its size only: name, candidates, how many to take.
pub type StratumSize<'a> = (&'a str, u64, u64);

/// The positions a target draw picks in each stratum's candidate list: strata walked in [`STRATUM_ORDER`],
/// one stream across all of them, [`sample`] in each. Returns, in walking order, the index of the stratum in
/// `strata` and its positions in draw order. Only sizes are needed, so a service can draw first and then read
/// the candidate ids once, keeping only those picked.
pub fn draw_positions(
    seed: [u8; 32],
    strata: &[StratumSize<'_>],
) -> Result<Vec<(usize, Vec<u64>)>, DrawError> {
    let mut order: Vec<usize> = (0..strata.len()).collect();
    order.sort_by(|&a, &b| stratum_rank(strata[a].0).cmp(&stratum_rank(strata[b].0)));
    let mut stream = Stream::new(seed);
    let mut out = Vec::with_capacity(order.len());
    for i in order {
        let (name, n, take) = strata[i];
        if take > n {
            return Err(DrawError::TooMany {
                stratum: name.to_string(),
                take,
                available: n,
            });
        }
        out.push((i, sample(&mut stream, n, take)));
    }
    Ok(out)
}

/// Draws targets: [`draw_positions`] over the strata, then the ids at those positions.
pub fn draw_targets(seed: [u8; 32], strata: &[Stratum]) -> Result<Drawn, DrawError> {
    let sizes: Vec<StratumSize<'_>> = strata
        .iter()
        .map(|s| (s.name.as_str(), s.ids.len() as u64, s.take))
        .collect();
    Ok(draw_positions(seed, &sizes)?
        .into_iter()
        .map(|(i, positions)| {
            let s = &strata[i];
            let ids = positions
                .into_iter()
                .map(|p| s.ids[p as usize].clone())
                .collect();
            (s.name.clone(), ids)
        })
        .collect())
}

/// Sorts stratum names into walking order (§7).
pub fn walking_order(names: &mut [String]) {
    names.sort_by(|a, b| stratum_rank(a).cmp(&stratum_rank(b)));
}

/// SHA-256 over ids, each followed by `\n`, hex: the digest of a result (in draw order) or of a snapshot (in
/// bytewise order).
pub fn ids_digest<'a>(ids: impl IntoIterator<Item = &'a str>) -> String {
    let mut h = Sha256::new();
    for id in ids {
        h.update(id.as_bytes());
        h.update(b"\n");
    }
    hex::encode(h.finalize())
}

/// The result digest of a target draw: every drawn id in walking and draw order.
pub fn result_digest(drawn: &Drawn) -> String {
    ids_digest(
        drawn
            .iter()
            .flat_map(|(_, ids)| ids.iter().map(String::as_str)),
    )
}

/// The snapshot digest of an inspector draw (§8): [`ids_digest`] over the ids of every department's pool,
/// merged, sorted bytewise, each once.
pub fn pool_digest(departments: &[DepartmentSeats]) -> String {
    let ids: std::collections::BTreeSet<&[u8]> = departments
        .iter()
        .flat_map(|d| d.pool.iter().map(|c| c.id.as_bytes()))
        .collect();
    let mut h = Sha256::new();
    for id in ids {
        h.update(id);
        h.update(b"\n");
    }
    hex::encode(h.finalize())
}

/// The result digest of an inspector draw (§8): every seat's inspector id, targets in the order drawn, seats in
/// order.
pub fn teams_digest(teams: &[(String, Vec<Seat>)]) -> String {
    ids_digest(
        teams
            .iter()
            .flat_map(|(_, seats)| seats.iter().map(|s| &*s.inspector_id)),
    )
}

/// An inspector who may be drawn.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Candidate {
    /// Id.
    pub id: String,
    /// Is an expert (专家).
    pub expert: bool,
    /// Open assignments before this draw.
    pub load: u32,
}

/// What one department sends to every target.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DepartmentSeats {
    /// Department code.
    pub department: String,
    /// Seats per target (at least 1).
    pub seats: u32,
    /// Its first seat must be an expert.
    pub needs_expert: bool,
    /// Its eligible inspectors (qualified, certified, active), any order; the draw sorts them by id.
    pub pool: Vec<Candidate>,
}

/// One inspector on one team.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Seat {
    /// Department (shared by every seat of the department: a province's teams have some hundred thousand).
    pub department: Arc<str>,
    /// Inspector (shared likewise).
    pub inspector_id: Arc<str>,
    /// Leads the team (the lead department's first seat); written only when true.
    #[serde(default, skip_serializing_if = "is_false")]
    pub leader: bool,
    /// Drawn from the experts; written only when true.
    #[serde(default, skip_serializing_if = "is_false")]
    pub expert_seat: bool,
}

fn is_false(b: &bool) -> bool {
    !*b
}

/// Draws a team for each target, in the given target order (the service gives them sorted bytewise).
///
/// Departments are served lead first, then by code bytewise. Each seat is drawn with [`Stream::below`] from
/// the department's candidates sorted by id, without those excluded for the target (recusals) or already on the
/// team, and among them only those with the least load so far (load before the draw plus seats given in it):
/// work is spread evenly and nobody sits twice on one team. An expert seat draws from experts only.
pub fn draw_teams(
    seed: [u8; 32],
    lead: &str,
    targets: &[String],
    departments: &[DepartmentSeats],
    excluded: &BTreeMap<String, Vec<String>>,
) -> Result<Vec<(String, Vec<Seat>)>, DrawError> {
    let (order, mut pools) = arrange(lead, departments);
    let mut loads: Vec<Loads> = pools.iter().map(|p| Loads::new(p)).collect();
    // Each name once: the seats share them.
    let names: Vec<(Arc<str>, Vec<Arc<str>>)> = order
        .iter()
        .zip(&pools)
        .map(|(d, pool)| {
            (
                Arc::from(d.department.as_str()),
                pool.iter().map(|c| Arc::from(c.id.as_str())).collect(),
            )
        })
        .collect();
    let seats: usize = order.iter().map(|d| d.seats.max(1) as usize).sum();
    let mut stream = Stream::new(seed);
    let mut teams = Vec::with_capacity(targets.len());
    let mut skip: Vec<u32> = Vec::new();
    let mut present: Vec<usize> = Vec::new();
    for target in targets {
        let out_for_target = excluded.get(target).map(Vec::as_slice).unwrap_or(&[]);
        let mut team: Vec<Seat> = Vec::with_capacity(seats);
        for (((d, pool), loads), (department, ids)) in order
            .iter()
            .zip(pools.iter_mut())
            .zip(loads.iter_mut())
            .zip(&names)
        {
            for seat in 0..d.seats.max(1) {
                let expert_seat = d.needs_expert && seat == 0;
                // Not eligible: excluded for the target, or already on the team.
                skip.clear();
                skip.extend(
                    out_for_target
                        .iter()
                        .map(String::as_str)
                        .chain(team.iter().map(|s| &*s.inspector_id))
                        .filter_map(|id| pool.binary_search_by(|c| c.id.as_str().cmp(id)).ok())
                        .map(|i| i as u32),
                );
                let Some(chosen) = loads.pick(expert_seat, &skip, &mut present, &mut stream) else {
                    return Err(DrawError::Shortage {
                        target_id: target.clone(),
                        department: d.department.clone(),
                        reason: format!(
                            "no {} left for seat {} of {}",
                            if expert_seat {
                                "eligible expert"
                            } else {
                                "eligible inspector"
                            },
                            seat + 1,
                            d.seats.max(1)
                        ),
                    });
                };
                let c = &mut pool[chosen as usize];
                loads.raise(chosen, c.load, c.expert);
                c.load += 1;
                team.push(Seat {
                    department: department.clone(),
                    inspector_id: ids[chosen as usize].clone(),
                    leader: d.department == lead && seat == 0,
                    expert_seat,
                });
            }
        }
        teams.push((target.clone(), team));
    }
    Ok(teams)
}

/// The departments in serving order (the lead first, then by code bytewise), each with its pool sorted by id
/// and without repeats.
pub(crate) fn arrange<'a>(
    lead: &str,
    departments: &'a [DepartmentSeats],
) -> (Vec<&'a DepartmentSeats>, Vec<Vec<Candidate>>) {
    let mut order: Vec<&DepartmentSeats> = departments.iter().collect();
    order.sort_by(|a, b| {
        (a.department != lead, &a.department).cmp(&(b.department != lead, &b.department))
    });
    let pools = order
        .iter()
        .map(|d| {
            let mut pool = d.pool.clone();
            pool.sort_by(|a, b| a.id.cmp(&b.id));
            pool.dedup_by(|a, b| a.id == b.id);
            pool
        })
        .collect();
    (order, pools)
}

/// A department's pool arranged by load, so that a seat costs a few binary searches, not a pass over the pool.
/// It gives exactly what a pass would: the eligible candidates with the least load, the `r`-th of them in id
/// order.
struct Loads {
    /// Indices into the id-sorted pool, per load, each list ascending (so in id order).
    all: BTreeMap<u32, Vec<u32>>,
    /// The same for the experts alone.
    experts: BTreeMap<u32, Vec<u32>>,
}

impl Loads {
    fn new(pool: &[Candidate]) -> Self {
        let mut loads = Self {
            all: BTreeMap::new(),
            experts: BTreeMap::new(),
        };
        for (i, c) in pool.iter().enumerate() {
            loads.all.entry(c.load).or_default().push(i as u32);
            if c.expert {
                loads.experts.entry(c.load).or_default().push(i as u32);
            }
        }
        loads
    }

    /// Draws one of the candidates with the least load, leaving out `skip` (pool indices): `below(count)` picks
    /// the `r`-th in id order. `None` when nobody is left.
    /// `present` is scratch space.
    fn pick(
        &self,
        expert_only: bool,
        skip: &[u32],
        present: &mut Vec<usize>,
        stream: &mut Stream,
    ) -> Option<u32> {
        let buckets = if expert_only {
            &self.experts
        } else {
            &self.all
        };
        for members in buckets.values() {
            present.clear();
            present.extend(skip.iter().filter_map(|i| members.binary_search(i).ok()));
            present.sort_unstable();
            present.dedup();
            let count = members.len() - present.len();
            if count == 0 {
                continue;
            }
            // The r-th member not skipped: step over each skipped position at or before it.
            let mut at = stream.below(count as u64) as usize;
            for p in present.iter() {
                if *p <= at {
                    at += 1;
                }
            }
            return Some(members[at]);
        }
        None
    }

    /// Moves candidate `index` from `load` to `load + 1`.
    fn raise(&mut self, index: u32, load: u32, expert: bool) {
        fn step(buckets: &mut BTreeMap<u32, Vec<u32>>, index: u32, load: u32) {
            if let Some(members) = buckets.get_mut(&load) {
                if let Ok(at) = members.binary_search(&index) {
                    members.remove(at);
                }
                if members.is_empty() {
                    buckets.remove(&load);
                }
            }
            let next = buckets.entry(load + 1).or_default();
            if let Err(at) = next.binary_search(&index) {
                next.insert(at, index);
            }
        }
        step(&mut self.all, index, load);
        if expert {
            step(&mut self.experts, index, load);
        }
    }
}

#[cfg(test)]
mod tests;

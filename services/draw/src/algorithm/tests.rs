use std::collections::HashMap;

use super::*;

/// The `test-vectors` block of `docs/draw-v1.md`: what the page promises, checked against this code.
const PAGE: &str = include_str!("../../../../docs/draw-v1.md");

#[derive(Deserialize)]
struct Vectors {
    seeds: Vec<SeedVector>,
    below: Vec<BelowVector>,
    samples: Vec<SampleVector>,
    targets: Vec<TargetVector>,
    teams: Vec<TeamVector>,
}

#[derive(Deserialize)]
struct SeedVector {
    server_secret_hex: String,
    witness_entropy: String,
    task_id: String,
    snapshot_digest_hex: String,
    seed_hex: String,
    commitment_hex: String,
    first_u64: Vec<String>,
}

#[derive(Deserialize)]
struct BelowVector {
    seed_hex: String,
    n: u64,
    values: Vec<u64>,
}

#[derive(Deserialize)]
struct SampleVector {
    seed_hex: String,
    n: u64,
    k: u64,
    positions: Vec<u64>,
}

#[derive(Deserialize)]
struct TargetVector {
    seed_hex: String,
    strata: Vec<Stratum>,
    drawn: Vec<(String, Vec<String>)>,
    result_digest: String,
}

#[derive(Deserialize)]
struct TeamVector {
    seed_hex: String,
    lead: String,
    targets: Vec<String>,
    departments: Vec<DepartmentSeats>,
    excluded: BTreeMap<String, Vec<String>>,
    teams: Vec<(String, Vec<Seat>)>,
}

fn page_vectors() -> Vectors {
    let start = PAGE
        .find("```json test-vectors\n")
        .expect("the page has a test-vectors block")
        + "```json test-vectors\n".len();
    let end = start + PAGE[start..].find("\n```").expect("the block ends");
    serde_json::from_str(&PAGE[start..end]).expect("the block is JSON")
}

fn seed_of(hex_text: &str) -> [u8; 32] {
    hex::decode(hex_text).unwrap().try_into().unwrap()
}

#[test]
fn the_pages_test_vectors_hold() {
    let v = page_vectors();
    for s in &v.seeds {
        let secret = hex::decode(&s.server_secret_hex).unwrap();
        let digest = seed_of(&s.snapshot_digest_hex);
        let seed = seed(&SeedParts {
            server_secret: &secret,
            witness_entropy: s.witness_entropy.as_bytes(),
            task_id: &s.task_id,
            snapshot_digest: &digest,
        });
        assert_eq!(hex::encode(seed), s.seed_hex);
        assert_eq!(commitment(&secret), s.commitment_hex);
        let mut stream = Stream::new(seed);
        let words: Vec<String> = (0..s.first_u64.len())
            .map(|_| stream.next_u64().to_string())
            .collect();
        assert_eq!(words, s.first_u64);
    }
    for b in &v.below {
        let mut stream = Stream::new(seed_of(&b.seed_hex));
        let values: Vec<u64> = (0..b.values.len()).map(|_| stream.below(b.n)).collect();
        assert_eq!(values, b.values, "below({})", b.n);
    }
    for s in &v.samples {
        let mut stream = Stream::new(seed_of(&s.seed_hex));
        assert_eq!(
            sample(&mut stream, s.n, s.k),
            s.positions,
            "{} of {}",
            s.k,
            s.n
        );
    }
    for t in &v.targets {
        let drawn = draw_targets(seed_of(&t.seed_hex), &t.strata).unwrap();
        assert_eq!(drawn, t.drawn);
        assert_eq!(result_digest(&drawn), t.result_digest);
    }
    for t in &v.teams {
        let teams = draw_teams(
            seed_of(&t.seed_hex),
            &t.lead,
            &t.targets,
            &t.departments,
            &t.excluded,
        )
        .unwrap();
        assert_eq!(teams, t.teams);
    }
}

#[test]
fn the_stream_is_the_rfc_8439_chacha20_keystream() {
    // RFC 8439 appendix A.1, test vectors 1 and 2: key 0, nonce 0, blocks 0 and 1.
    let mut stream = Stream::new([0; 32]);
    let block0 = "76b8e0ada0f13d90405d6ae55386bd28bdd219b8a08ded1aa836efcc8b770dc7da41597c5157488d7724e03fb8d84a376a43b8f41518a11cc387b669b2ee6586";
    let block1 = "9f07e7be5551387a98ba977c732d080dcb0f29a048e3656912c6533e32ee7aed29b721769ce64e43d57133b074d839d531ed1f28510afb45ace10a1f4b794d6f";
    let mut bytes = Vec::new();
    for _ in 0..16 {
        bytes.extend_from_slice(&stream.next_u64().to_le_bytes());
    }
    assert_eq!(hex::encode(bytes), format!("{block0}{block1}"));
}

#[test]
fn the_seed_separates_its_parts() {
    let d = [7u8; 32];
    let a = seed(&SeedParts {
        server_secret: b"ab",
        witness_entropy: b"c",
        task_id: "T",
        snapshot_digest: &d,
    });
    let b = seed(&SeedParts {
        server_secret: b"a",
        witness_entropy: b"bc",
        task_id: "T",
        snapshot_digest: &d,
    });
    assert_ne!(a, b, "length prefixes keep 'ab'+'c' apart from 'a'+'bc'");
}

#[test]
fn samples_are_distinct_in_range_and_complete() {
    for seed_byte in 0..50u8 {
        let mut stream = Stream::new([seed_byte; 32]);
        let n = 1 + u64::from(seed_byte) * 7;
        let k = n / 3;
        let picked = sample(&mut stream, n, k);
        let mut sorted = picked.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted.len() as u64, k, "no duplicates");
        assert!(picked.iter().all(|p| *p < n));
        let all = sample(&mut stream, n, n);
        let mut all_sorted = all.clone();
        all_sorted.sort_unstable();
        assert_eq!(
            all_sorted,
            (0..n).collect::<Vec<_>>(),
            "k = n is a permutation"
        );
    }
}

/// Pearson's chi-square statistic of `counts` against a uniform expectation.
fn chi_square(counts: &[u64]) -> f64 {
    let total: u64 = counts.iter().sum();
    let expected = total as f64 / counts.len() as f64;
    counts
        .iter()
        .map(|c| (*c as f64 - expected).powi(2) / expected)
        .sum()
}

/// 99.9% quantiles of chi-square with 5 and 23 degrees of freedom.
const CHI2_5_999: f64 = 20.52;
const CHI2_23_999: f64 = 49.73;

#[test]
fn every_position_is_equally_likely_and_a_biased_method_would_be_caught() {
    // 60,000 draws of 1 in 6: ours passes; a modulo of a 3-bit value (0 and 1 twice as likely) fails.
    let mut stream = Stream::new([42; 32]);
    let mut ours = [0u64; 6];
    let mut biased = [0u64; 6];
    for _ in 0..60_000 {
        ours[stream.below(6) as usize] += 1;
        biased[((stream.next_u64() >> 61) % 6) as usize] += 1;
    }
    assert!(chi_square(&ours) < CHI2_5_999, "ours: {ours:?}");
    assert!(
        chi_square(&biased) > CHI2_5_999,
        "the check has the power to see bias: {biased:?}"
    );

    // Ordered 2-samples of 5 (20 outcomes): every (first, second) pair equally likely, so the shuffle is
    // uniform over positions as well as over sets.
    let mut pairs = [0u64; 25];
    for s in 0..24_000u32 {
        let mut seed = [0u8; 32];
        seed[..4].copy_from_slice(&s.to_le_bytes());
        let p = sample(&mut Stream::new(seed), 5, 2);
        pairs[(p[0] * 5 + p[1]) as usize] += 1;
    }
    let outcomes: Vec<u64> = pairs
        .iter()
        .enumerate()
        .filter(|(i, _)| i / 5 != i % 5)
        .map(|(_, c)| *c)
        .collect();
    assert_eq!(outcomes.len(), 20);
    assert!(
        pairs
            .iter()
            .enumerate()
            .all(|(i, c)| i / 5 != i % 5 || *c == 0),
        "never the same twice"
    );
    assert!(chi_square(&outcomes) < CHI2_23_999, "{outcomes:?}");
}

fn stratum(name: &str, n: usize, take: u64) -> Stratum {
    Stratum {
        name: name.into(),
        ids: (0..n).map(|i| format!("{name}-{i:04}")).collect(),
        take,
    }
}

#[test]
fn strata_are_walked_high_risk_first_with_exact_quantities() {
    let strata = vec![
        stratum("low", 500, 5),
        stratum("high", 40, 12),
        stratum("medium", 200, 4),
    ];
    let drawn = draw_targets([1; 32], &strata).unwrap();
    let names: Vec<&str> = drawn.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, vec!["high", "medium", "low"]);
    for ((name, ids), want) in drawn.iter().zip([12, 4, 5]) {
        assert_eq!(ids.len(), want);
        assert!(
            ids.iter().all(|id| id.starts_with(name.as_str())),
            "each from its own stratum"
        );
    }
    let err = draw_targets([1; 32], &[stratum("low", 3, 4)]).unwrap_err();
    assert_eq!(
        err,
        DrawError::TooMany {
            stratum: "low".into(),
            take: 4,
            available: 3
        }
    );
}

fn pool(prefix: &str, n: usize, experts: usize) -> Vec<Candidate> {
    (0..n)
        .map(|i| Candidate {
            id: format!("{prefix}{i:02}"),
            expert: i < experts,
            load: 0,
        })
        .collect()
}

#[test]
fn teams_respect_leaders_experts_recusals_and_spread_the_work() {
    let targets: Vec<String> = (0..40).map(|i| format!("T{i:03}")).collect();
    let departments = vec![
        DepartmentSeats {
            department: "B-STHJ".into(),
            seats: 1,
            needs_expert: true,
            pool: pool("B", 6, 2),
        },
        DepartmentSeats {
            department: "A-SCJG".into(),
            seats: 2,
            needs_expert: false,
            pool: pool("A", 8, 0),
        },
    ];
    let mut excluded = BTreeMap::new();
    excluded.insert(
        "T000".to_string(),
        vec!["A00".to_string(), "A01".to_string(), "B00".to_string()],
    );
    for seed_byte in 0..20u8 {
        let teams =
            draw_teams([seed_byte; 32], "A-SCJG", &targets, &departments, &excluded).unwrap();
        let mut load: HashMap<String, u32> = HashMap::new();
        for (target, team) in &teams {
            assert_eq!(team.len(), 3);
            let leaders: Vec<&Seat> = team.iter().filter(|s| s.leader).collect();
            assert_eq!(leaders.len(), 1);
            assert_eq!(
                &*leaders[0].department, "A-SCJG",
                "the leader is from the lead department"
            );
            let mut ids: Vec<&str> = team.iter().map(|s| &*s.inspector_id).collect();
            ids.sort_unstable();
            ids.dedup();
            assert_eq!(ids.len(), 3, "nobody twice on one team");
            let expert = team.iter().find(|s| &*s.department == "B-STHJ").unwrap();
            assert!(expert.expert_seat && ["B00", "B01"].contains(&&*expert.inspector_id));
            if target == "T000" {
                assert!(
                    team.iter()
                        .all(|s| !["A00", "A01", "B00"].contains(&&*s.inspector_id)),
                    "recusals"
                );
            }
            for s in team {
                *load.entry(s.inspector_id.to_string()).or_default() += 1;
            }
        }
        // 80 seats over 8 A inspectors: exactly 10 each; 40 expert seats over 2 experts: 20 each.
        assert!((0..8).all(|i| load[&format!("A{i:02}")] == 10), "{load:?}");
        assert_eq!((load["B00"], load["B01"]), (20, 20));
    }
    let short = vec![DepartmentSeats {
        department: "A-SCJG".into(),
        seats: 3,
        needs_expert: false,
        pool: pool("A", 2, 0),
    }];
    assert!(matches!(
        draw_teams([0; 32], "A-SCJG", &targets, &short, &BTreeMap::new()),
        Err(DrawError::Shortage { .. })
    ));
}

#[test]
fn quantities_follow_ratios_quantities_and_the_cap() {
    let counts: Vec<(String, u64)> = [("low", 9_000u64), ("high", 100), ("medium", 900)]
        .into_iter()
        .map(|(n, c)| (n.to_string(), c))
        .collect();
    // Henan 2021 style: high 30%, medium 2%, low 1%; a cap of 5% does not bind (30 + 18 + 90 = 138 ≤ 500).
    let ratio = Amount::Ratio {
        base_basis_points: 100,
        per_stratum: [("high".to_string(), 3000), ("medium".to_string(), 200)]
            .into_iter()
            .collect(),
    };
    assert_eq!(quantities(&counts, &ratio, 500), vec![90, 30, 18]);
    // A 1% cap (100 of 10,000) takes back from the lowest risk first.
    assert_eq!(quantities(&counts, &ratio, 100), vec![52, 30, 18]);
    // Ratios round up per stratum: 1% of 150 is 2.
    assert_eq!(quantities(&[("low".into(), 150)], &ratio, 10_000), vec![2]);
    // 57 shared in proportion (51.3, 0.57, 5.13 → 51, 0, 5), the one left over to the highest risk first.
    assert_eq!(
        quantities(&counts, &Amount::Quantity(57), 10_000),
        vec![51, 1, 5]
    );
    assert_eq!(
        quantities(&counts, &Amount::Quantity(57), 10_000)
            .iter()
            .sum::<u64>(),
        57
    );
    // More than the snapshot holds: everything, then the cap.
    assert_eq!(
        quantities(&counts, &Amount::Quantity(50_000), 200)
            .iter()
            .sum::<u64>(),
        200
    );
    assert_eq!(
        quantities(&[], &Amount::Quantity(5), 200),
        Vec::<u64>::new()
    );
}

/// The team rule as docs/draw-v1.md states it, one pass over the pool per seat: the yardstick for the indexed
/// implementation.
fn teams_by_passes(
    seed: [u8; 32],
    lead: &str,
    targets: &[String],
    departments: &[DepartmentSeats],
    excluded: &BTreeMap<String, Vec<String>>,
) -> Option<Vec<(String, Vec<Seat>)>> {
    let (order, mut pools) = arrange(lead, departments);
    let mut stream = Stream::new(seed);
    let mut teams = Vec::new();
    for target in targets {
        let out = excluded.get(target).map(Vec::as_slice).unwrap_or(&[]);
        let mut team: Vec<Seat> = Vec::new();
        for (d, pool) in order.iter().zip(pools.iter_mut()) {
            for seat in 0..d.seats.max(1) {
                let expert_seat = d.needs_expert && seat == 0;
                let eligible: Vec<usize> = (0..pool.len())
                    .filter(|&i| {
                        let c = &pool[i];
                        (!expert_seat || c.expert)
                            && !out.contains(&c.id)
                            && !team.iter().any(|s| *s.inspector_id == *c.id)
                    })
                    .collect();
                let least = eligible.iter().map(|&i| pool[i].load).min()?;
                let tied: Vec<usize> = eligible
                    .into_iter()
                    .filter(|&i| pool[i].load == least)
                    .collect();
                let chosen = tied[stream.below(tied.len() as u64) as usize];
                pool[chosen].load += 1;
                team.push(Seat {
                    department: d.department.as_str().into(),
                    inspector_id: pool[chosen].id.as_str().into(),
                    leader: d.department == lead && seat == 0,
                    expert_seat,
                });
            }
        }
        teams.push((target.clone(), team));
    }
    Some(teams)
}

#[test]
fn indexed_teams_equal_the_rule_applied_by_passes() {
    // Uneven starting loads, experts, recusals and shortages, over many seeds.
    let mut drawn = 0;
    for seed_byte in 0..60u8 {
        let mut stream = Stream::new([seed_byte ^ 0x5a; 32]);
        let mut pool = |prefix: &str, n: u64| -> Vec<Candidate> {
            (0..n)
                .map(|i| Candidate {
                    id: format!("{prefix}{:03}", n - 1 - i),
                    expert: stream.below(4) == 0,
                    load: stream.below(3) as u32,
                })
                .collect()
        };
        let departments = vec![
            DepartmentSeats {
                department: "B-STHJ".into(),
                seats: 2,
                needs_expert: true,
                pool: pool("B", 5 + u64::from(seed_byte % 7)),
            },
            DepartmentSeats {
                department: "A-SCJG".into(),
                seats: 2,
                needs_expert: seed_byte % 2 == 0,
                pool: pool("A", 4 + u64::from(seed_byte % 5)),
            },
        ];
        let targets: Vec<String> = (0..50).map(|i| format!("T{i:03}")).collect();
        let mut excluded = BTreeMap::new();
        for (i, t) in targets.iter().enumerate().step_by(3) {
            excluded.insert(
                t.clone(),
                vec![
                    format!("A{:03}", i % 4),
                    format!("B{:03}", i % 5),
                    "Z999".into(),
                ],
            );
        }
        let fast = draw_teams([seed_byte; 32], "A-SCJG", &targets, &departments, &excluded).ok();
        let slow = teams_by_passes([seed_byte; 32], "A-SCJG", &targets, &departments, &excluded);
        assert_eq!(fast, slow, "seed byte {seed_byte}");
        drawn += usize::from(fast.is_some());
    }
    assert!(drawn >= 30, "most seeds draw whole teams ({drawn} of 60)");
}

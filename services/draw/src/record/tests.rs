use super::*;
use crate::algorithm::Candidate;

/// Candidates `<stratum>-NNNN`, sorted bytewise as a snapshot is.
fn candidates() -> Vec<(String, String)> {
    let mut all: Vec<(String, String)> = [("high", 40), ("low", 300), ("medium", 160)]
        .iter()
        .flat_map(|(s, n)| (0..*n).map(move |i| (format!("{s}-{i:04}"), s.to_string())))
        .collect();
    all.sort();
    all
}

/// A record drawn the way the service draws: counts, quantities, seed, positions, one pass of the picker.
fn drawn_record() -> Record {
    let secret = [7u8; 32];
    let mut r = Record::committed("TASK-2027-000001", algorithm::commitment(&secret));
    r.lead_department = "610400-SCJG".into();
    let cands = candidates();
    let mut counts = BTreeMap::new();
    let mut h = Sha256::new();
    for (id, s) in &cands {
        *counts.entry(s.clone()).or_insert(0u64) += 1;
        h.update(id.as_bytes());
        h.update(b"\n");
    }
    let digest = hex::encode(h.finalize());
    let amount = Amount::Ratio {
        base_basis_points: 300,
        per_stratum: [("high".to_string(), 1000)].into_iter().collect(),
    };
    let planned = plan_strata(&counts, &amount, 10_000);
    let seed = seed_of(&hex::encode(secret), "公证员 42", &r.task_id, &digest).unwrap();
    let picks = positions(seed, &planned).unwrap();
    let mut picker = Picker::new(&picks);
    for (id, s) in &cands {
        picker.push(id.as_bytes(), s);
    }
    let read = picker.finish();
    assert_eq!(read.digest, digest);
    let strata = target_strata(&planned, read.picked).unwrap();
    r.targets.seed = SeedRecord {
        commitment: r.targets.seed.commitment.clone(),
        server_secret: hex::encode(secret),
        witness_entropy: "公证员 42".into(),
        witnesses: vec![],
        snapshot_digest: digest,
        seed: hex::encode(seed),
        drawn_at: 1,
        drawn_by: "t".into(),
    };
    r.targets.amount = Some(amount);
    r.targets.cap_basis_points = 10_000;
    r.targets.result_digest = algorithm::ids_digest(
        strata
            .iter()
            .flat_map(|s| s.drawn.iter().map(String::as_str)),
    );
    r.targets.strata = strata;
    r.state = State::TargetsDrawn;
    r
}

fn verify(r: &Record, cands: &[(String, String)]) -> Vec<Check> {
    verify_targets(r, cands.iter().map(|(id, s)| (id.as_bytes(), s.as_str())))
}

fn failed(checks: &[Check]) -> Vec<&str> {
    checks
        .iter()
        .filter(|c| !c.ok)
        .map(|c| c.name.as_str())
        .collect()
}

#[test]
fn the_picker_draws_what_the_in_memory_algorithm_draws() {
    let r = drawn_record();
    let cands = candidates();
    let strata: Vec<algorithm::Stratum> = r
        .targets
        .strata
        .iter()
        .map(|s| algorithm::Stratum {
            name: s.name.clone(),
            ids: cands
                .iter()
                .filter(|(_, n)| *n == s.name)
                .map(|(id, _)| id.clone())
                .collect(),
            take: s.take,
        })
        .collect();
    let seed: [u8; 32] = hex::decode(&r.targets.seed.seed)
        .unwrap()
        .try_into()
        .unwrap();
    let expected = algorithm::draw_targets(seed, &strata).unwrap();
    let got: Vec<(String, Vec<String>)> = r
        .targets
        .strata
        .iter()
        .map(|s| (s.name.clone(), s.drawn.clone()))
        .collect();
    assert_eq!(got, expected);
    // 10% of 40 high, 3% of 160 medium and of 300 low, rounded up; high first.
    let takes: Vec<(&str, u64)> = r
        .targets
        .strata
        .iter()
        .map(|s| (s.name.as_str(), s.take))
        .collect();
    assert_eq!(takes, vec![("high", 4), ("medium", 5), ("low", 9)]);
}

#[test]
fn an_honest_record_matches_and_every_tampering_is_named() {
    let r = drawn_record();
    let cands = candidates();
    assert!(
        failed(&verify(&r, &cands)).is_empty(),
        "{:?}",
        verify(&r, &cands)
    );

    let mut swapped = r.clone();
    swapped.targets.strata[1].drawn[2] = "medium-0159".into();
    let checks = verify(&swapped, &cands);
    assert_eq!(
        failed(&checks),
        vec!["drawn targets", "target result digest"]
    );
    let detail = &checks
        .iter()
        .find(|c| c.name == "drawn targets")
        .unwrap()
        .detail;
    assert!(detail.starts_with("position 7:"), "{detail}");

    let mut secret = r.clone();
    secret.targets.seed.server_secret = hex::encode([8u8; 32]);
    assert!(failed(&verify(&secret, &cands)).contains(&"target commitment"));

    let mut entropy = r.clone();
    entropy.targets.seed.witness_entropy = "公证员 43".into();
    assert!(failed(&verify(&entropy, &cands)).contains(&"seed"));

    let mut more = r.clone();
    more.targets.strata[2].take += 1;
    assert!(failed(&verify(&more, &cands)).contains(&"quantities"));

    // One candidate left out of the snapshot: digest and counts say so.
    let fewer: Vec<(String, String)> = cands.iter().skip(1).cloned().collect();
    let checks = verify(&r, &fewer);
    let f = failed(&checks);
    assert!(
        f.contains(&"snapshot digest") && f.contains(&"strata"),
        "{f:?}"
    );

    let mut reversed = cands.clone();
    reversed.swap(0, 1);
    assert!(failed(&verify(&r, &reversed)).contains(&"candidates in order"));
}

fn with_teams(mut r: Record) -> Record {
    let secret = [9u8; 32];
    let pools = vec![
        DepartmentSeats {
            department: "610400-SCJG".into(),
            seats: 2,
            needs_expert: false,
            pool: (0..6)
                .map(|i| Candidate {
                    id: format!("S{i}"),
                    expert: false,
                    load: 0,
                })
                .collect(),
        },
        DepartmentSeats {
            department: "610400-STHJ".into(),
            seats: 1,
            needs_expert: true,
            pool: (0..3)
                .map(|i| Candidate {
                    id: format!("H{i}"),
                    expert: i == 0,
                    load: 0,
                })
                .collect(),
        },
    ];
    let digest = algorithm::pool_digest(&pools);
    let seed = seed_of(&hex::encode(secret), "", &r.task_id, &digest).unwrap();
    let targets = r.targets.locked_list();
    let exclusions: BTreeMap<String, Vec<String>> = [(targets[0].clone(), vec!["S0".to_string()])]
        .into_iter()
        .collect();
    let teams =
        algorithm::draw_teams(seed, &r.lead_department, &targets, &pools, &exclusions).unwrap();
    r.teams = Some(TeamDraw {
        seed: SeedRecord {
            commitment: algorithm::commitment(&secret),
            server_secret: hex::encode(secret),
            snapshot_digest: digest,
            seed: hex::encode(seed),
            ..Default::default()
        },
        result_digest: algorithm::teams_digest(&teams),
        teams: teams
            .into_iter()
            .map(|(t, seats)| TeamRecord {
                target_id: t,
                drawn: seats.clone(),
                current: seats,
            })
            .collect(),
        pools,
        exclusions,
        ..Default::default()
    });
    r.state = State::TeamsDrawn;
    r
}

#[test]
fn teams_verify_and_replacements_must_replay() {
    let r = with_teams(drawn_record());
    let checks = verify_teams(&r);
    assert!(failed(&checks).is_empty(), "{checks:?}");

    // A replacement recorded and applied: still a match.
    let mut replaced = r.clone();
    let d = replaced.teams.as_mut().unwrap();
    let team = &mut d.teams[0];
    let out = team.current[1].inspector_id.clone();
    let free = (0..6)
        .map(|i| format!("S{i}"))
        .find(|c| !team.current.iter().any(|s| *s.inspector_id == **c))
        .unwrap();
    team.current[1].inspector_id = free.as_str().into();
    d.replacements.push(ReplacementRecord {
        target_id: team.target_id.clone(),
        department: "610400-SCJG".into(),
        replaced: out.to_string(),
        replacement: free,
        reason: Reason::Health,
        note: String::new(),
        approved_by: "head".into(),
        at: 1,
    });
    assert!(failed(&verify_teams(&replaced)).is_empty());

    // A seat changed without a replacement on record.
    let mut silent = r.clone();
    silent.teams.as_mut().unwrap().teams[1].current[0].inspector_id = "S-unknown".into();
    assert_eq!(failed(&verify_teams(&silent)), vec!["replacements"]);

    // A drawn seat rewritten.
    let mut forged = r.clone();
    let t = &mut forged.teams.as_mut().unwrap().teams[2];
    t.drawn[0].inspector_id = "S5".into();
    t.current = t.drawn.clone();
    assert!(failed(&verify_teams(&forged)).contains(&"drawn teams"));
}

#[test]
fn the_public_view_hides_lists_unless_they_are_public() {
    let r = with_teams(drawn_record());
    let hidden = r.public_view();
    assert!(hidden.targets.strata.iter().all(|s| s.drawn.is_empty()));
    assert_eq!(hidden.targets.result_digest, r.targets.result_digest);
    assert!(hidden.teams.as_ref().unwrap().teams.is_empty());
    let mut public = r.clone();
    public.list_public = true;
    assert_eq!(public.public_view(), public);
}

#[test]
fn a_stored_team_writes_its_current_seats_only_once_they_differ() {
    let r = with_teams(drawn_record());
    let json = serde_json::to_string(&r).unwrap();
    assert!(
        !json.contains("\"current\""),
        "no replacement, no current seats"
    );
    assert!(
        !json.contains("\"expert_seat\":false"),
        "unset flags are left out"
    );
    assert!(json.contains("\"leader\":true"));
    let back: Record = serde_json::from_str(&json).unwrap();
    assert_eq!(back, r, "current reads back as drawn");

    let mut replaced = r.clone();
    let team = &mut replaced.teams.as_mut().unwrap().teams[0];
    team.current[1].inspector_id = "S-other".into();
    let json = serde_json::to_string(&replaced).unwrap();
    assert_eq!(json.matches("\"current\"").count(), 1);
    let back: Record = serde_json::from_str(&json).unwrap();
    assert_eq!(back, replaced);
}

#[test]
fn teams_are_stored_as_one_row_of_ids_each_and_the_list_form_still_reads() {
    let r = with_teams(drawn_record());
    let d = r.teams.as_ref().unwrap();
    assert!(d.teams.len() >= 2, "a record with several teams");
    let table = serde_json::to_value(&r).unwrap()["teams"]["teams"].clone();
    let slots = table["slots"].as_array().expect("the seats, named once");
    assert_eq!(slots.len(), d.teams[0].drawn.len());
    assert_eq!(slots[0]["department"], &*d.teams[0].drawn[0].department);
    let rows = table["rows"].as_array().unwrap();
    assert_eq!(rows.len(), d.teams.len(), "a row per team");
    let first: Vec<&str> = rows[0]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    let mut expected = vec![d.teams[0].target_id.as_str()];
    expected.extend(d.teams[0].drawn.iter().map(|s| &*s.inspector_id));
    assert_eq!(first, expected, "the target, then its seats' inspectors");

    // The second team's seats changed: its current row follows, and reads back onto that team only.
    let mut replaced = r.clone();
    replaced.teams.as_mut().unwrap().teams[1].current[0].inspector_id = "S-other".into();
    let value = serde_json::to_value(&replaced).unwrap();
    assert_eq!(
        value["teams"]["teams"]["current"].as_array().unwrap().len(),
        1
    );
    let back: Record = serde_json::from_value(value).unwrap();
    assert_eq!(back, replaced);

    // Records written before the table read as they were.
    let mut old = serde_json::to_value(&r).unwrap();
    old["teams"]["teams"] = serde_json::to_value(&d.teams).unwrap();
    assert!(old["teams"]["teams"].is_array());
    assert_eq!(serde_json::from_value::<Record>(old).unwrap(), r);

    // Teams that do not share their seats are written as a list.
    let mut odd = r.clone();
    let t = &mut odd.teams.as_mut().unwrap().teams[1];
    t.drawn.pop();
    t.current.pop();
    let value = serde_json::to_value(&odd).unwrap();
    assert!(value["teams"]["teams"].is_array());
    assert_eq!(serde_json::from_value::<Record>(value).unwrap(), odd);

    // A row that does not fit the seats is refused, naming the mismatch.
    let mut broken = serde_json::to_value(&r).unwrap();
    broken["teams"]["teams"]["rows"][0]
        .as_array_mut()
        .unwrap()
        .pop();
    let e = serde_json::from_value::<Record>(broken).unwrap_err();
    assert!(e.to_string().contains("team row"), "{e}");
}

/// Fuzzing the verifier with records as anyone may send them (`VerifyDraw` takes a record file without a token):
/// an honest record with its candidates and teams, and the seeds of `fuzz/corpus/record/`, their bytes changed.
/// Whatever parses is checked without a panic, and a record changed from the honest one still names the checks it
/// runs.
mod fuzz {
    use super::*;
    use proptest::prelude::*;
    use suiji_platform::testing::fuzz::{corpus, mutated};

    fn seeds() -> Vec<Vec<u8>> {
        let honest = RecordFile {
            record: with_teams(drawn_record()),
            candidates: Some(candidates()),
        };
        let mut seeds = corpus("record");
        seeds.push(serde_json::to_vec(&honest).unwrap());
        seeds
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(128))]

        #[test]
        fn any_record_file_is_checked_without_a_panic(input in mutated(seeds())) {
            let Ok(file) = serde_json::from_slice::<RecordFile>(&input) else {
                return Ok(());
            };
            let candidates = file.candidates.clone().unwrap_or_default();
            let mut checks = verify_targets(
                &file.record,
                candidates.iter().map(|(id, s)| (id.as_bytes(), s.as_str())),
            );
            checks.extend(verify_teams(&file.record));
            checks.extend(verify_public(&file.record));
            prop_assert!(checks.iter().all(|c| !c.name.is_empty()));
        }
    }
}

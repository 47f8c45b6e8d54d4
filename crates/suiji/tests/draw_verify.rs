//! `suiji draw verify` re-runs a record file offline: MATCH for an honest record, the first difference otherwise.

use std::collections::BTreeMap;
use std::process::Command;

use sha2::{Digest, Sha256};
use suiji_draw::algorithm::{self, Amount};
use suiji_draw::record::{self, Picker, Record, RecordFile};

fn candidates() -> Vec<(String, String)> {
    let mut c: Vec<(String, String)> = (0..50)
        .map(|i| {
            (
                format!("91610400MA6X{i:05}"),
                if i % 5 == 0 { "high" } else { "low" }.to_string(),
            )
        })
        .collect();
    c.sort();
    c
}

fn honest() -> Record {
    let secret = [3u8; 32];
    let mut r = Record::committed("TASK-2027-cli", algorithm::commitment(&secret));
    let cands = candidates();
    let mut counts = BTreeMap::new();
    let mut h = Sha256::new();
    for (id, s) in &cands {
        *counts.entry(s.clone()).or_insert(0u64) += 1;
        h.update(format!("{id}\n"));
    }
    let digest = hex::encode(h.finalize());
    let amount = Amount::Quantity(7);
    let planned = record::plan_strata(&counts, &amount, 10_000);
    let seed = record::seed_of(&hex::encode(secret), "dice 3 3", &r.task_id, &digest).unwrap();
    let mut picker = Picker::new(&record::positions(seed, &planned).unwrap());
    for (id, s) in &cands {
        picker.push(id.as_bytes(), s);
    }
    let strata = record::target_strata(&planned, picker.finish().picked).unwrap();
    r.targets.result_digest = algorithm::ids_digest(
        strata
            .iter()
            .flat_map(|s| s.drawn.iter().map(String::as_str)),
    );
    r.targets.strata = strata;
    r.targets.amount = Some(amount);
    r.targets.cap_basis_points = 10_000;
    r.targets.seed.server_secret = hex::encode(secret);
    r.targets.seed.witness_entropy = "dice 3 3".into();
    r.targets.seed.snapshot_digest = digest;
    r.targets.seed.seed = hex::encode(seed);
    r
}

fn verify(args: &[&std::path::Path]) -> (bool, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_suiji"))
        .arg("draw")
        .arg("verify")
        .args(args)
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr),
    )
}

#[test]
fn verify_says_match_or_the_first_difference() {
    let dir = std::env::temp_dir().join(format!("suiji-verify-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let whole = dir.join("record.json");
    let file = RecordFile {
        record: honest(),
        candidates: Some(candidates()),
    };
    std::fs::write(&whole, serde_json::to_vec(&file).unwrap()).unwrap();
    let (ok, out) = verify(&[&whole]);
    assert!(ok && out.contains("MATCH"), "{out}");

    // The record alone with the candidates in a SNAPSHOT file.
    let bare = dir.join("bare.json");
    std::fs::write(
        &bare,
        serde_json::to_vec(&RecordFile {
            record: honest(),
            candidates: None,
        })
        .unwrap(),
    )
    .unwrap();
    let snapshot = dir.join("snapshot.tsv");
    let lines: String = candidates()
        .iter()
        .map(|(id, s)| format!("{id}\t{s}\n"))
        .collect();
    std::fs::write(&snapshot, lines).unwrap();
    let (ok, out) = verify(&[&bare, &snapshot]);
    assert!(ok && out.contains("MATCH"), "{out}");
    let (ok, out) = verify(&[&bare]);
    assert!(!ok && out.contains("SNAPSHOT"), "{out}");

    // A drawn id swapped for another candidate.
    let mut forged = file.clone();
    let other = candidates()
        .into_iter()
        .map(|(id, _)| id)
        .find(|id| {
            !forged
                .record
                .targets
                .strata
                .iter()
                .any(|s| s.drawn.contains(id))
        })
        .unwrap();
    forged.record.targets.strata[0].drawn[0] = other;
    std::fs::write(&whole, serde_json::to_vec(&forged).unwrap()).unwrap();
    let (ok, out) = verify(&[&whole]);
    assert!(!ok, "{out}");
    assert!(out.contains("FAIL  drawn targets: position 1:"), "{out}");
    let _ = std::fs::remove_dir_all(&dir);
}

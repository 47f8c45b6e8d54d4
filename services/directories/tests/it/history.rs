//! The exclusions a snapshot applies are summed up by the database, from the per-year sums kept with the history
//! or, for a draw dated before some recorded visit, from the rows; over random histories both must remove exactly
//! the targets the rules remove when every row is read (`Exclusions::new`, the rules' own statement), for every
//! lead level, yearly maximum and set of annual caps, on both backends. The rows are recorded as the directories
//! record concluded visits, some of them twice, so the sums are rewritten with every change.

use rand_chacha::ChaCha8Rng;
use rand_core::{Rng, SeedableRng};
use suiji_directories::domain::history::{Exclusions, Inspection, Rules};
use suiji_directories::domain::target::Risk;
use suiji_directories::history;
use suiji_platform::testing::Backend;

const TARGETS: usize = 40;
const DEPARTMENTS: [(&str, &str); 4] = [
    ("610000-SCJG", "province"),
    ("610400-SCJG", "city"),
    ("610402-STHJ", "county"),
    ("610400-WSJK", "city"),
];

fn history(rng: &mut ChaCha8Rng) -> Vec<Inspection> {
    let mut rows: Vec<Inspection> = Vec::new();
    for task in 0..60 {
        let target = format!("T{:02}", rng.next_u32() as usize % TARGETS);
        // Days from mid-2026 to mid-December 2027, around the draws' days.
        let date = chrono::NaiveDate::from_ymd_opt(2026, 6, 1).unwrap()
            + chrono::Days::new(u64::from(rng.next_u32() % 560));
        let departments = 1 + rng.next_u32() as usize % 3;
        for d in 0..departments {
            let (department, level) = DEPARTMENTS[(task + d) % DEPARTMENTS.len()];
            rows.push(Inspection {
                target_id: target.clone(),
                task_id: format!("TASK-{task}"),
                department: department.into(),
                level: level.into(),
                date,
                problem_found: rng.next_u32().is_multiple_of(3),
            });
        }
    }
    rows
}

fn rules(rng: &mut ChaCha8Rng, as_of: &str) -> Rules {
    let lead = [None, Some("province"), Some("city"), Some("county")][rng.next_u32() as usize % 4];
    let mut caps = std::collections::BTreeMap::new();
    for (department, _) in DEPARTMENTS {
        if rng.next_u32().is_multiple_of(2) {
            caps.insert(department.to_string(), 1 + rng.next_u32() % 2);
        }
    }
    Rules {
        as_of: Some(as_of.parse().unwrap()),
        max_per_year: rng.next_u32() % 3,
        lead_level: lead.map(str::to_string),
        annual_caps: caps,
    }
}

async fn database_sums_up_history_as_the_rules_say(backend: Backend) {
    let Some((isolated, db)) = crate::import::directory(backend).await else {
        return;
    };
    let mut rng = ChaCha8Rng::seed_from_u64(2027);
    let rows = history(&mut rng);
    let mut tx = db.begin().await.unwrap();
    for (i, r) in rows.iter().enumerate() {
        if i % 7 == 0 {
            // Reported first with other findings, then corrected: the sums follow the row as it ends up.
            let first = Inspection {
                problem_found: !r.problem_found,
                date: r.date - chrono::Days::new(40),
                ..r.clone()
            };
            suiji_directories::history::record(&mut tx, &[first])
                .await
                .unwrap();
        }
    }
    // Then the rows as they end up, a visit's departments at a time.
    for visit in rows.chunk_by(|a, b| a.task_id == b.task_id) {
        suiji_directories::history::record(&mut tx, visit)
            .await
            .unwrap();
    }
    tx.commit().await.unwrap();
    let latest = rows.iter().map(|r| r.date).max().unwrap();
    let mut seen = std::collections::HashSet::new();
    let mut from_sums = 0;
    for (round, as_of) in ["2027-02-10", "2027-07-01", "2027-09-15", "2027-12-31"]
        .iter()
        .cycle()
        .take(32)
        .enumerate()
    {
        let rules = rules(&mut rng, as_of);
        let expected = Exclusions::new(rules.clone(), rows.clone());
        let mut summed = vec![
            ("rows", history::from_rows(&db, &rules).await.unwrap()),
            ("chosen", history::exclusions(&db, &rules).await.unwrap()),
        ];
        // The sums count a whole year: right for a draw no recorded visit comes after.
        if rules.as_of.unwrap() >= latest {
            summed.push(("sums", history::from_sums(&db, &rules).await.unwrap()));
            from_sums += 1;
        }
        for (how, summed) in &summed {
            for t in 0..TARGETS {
                let target = format!("T{t:02}");
                for risk in Risk::ALL {
                    let rule = expected.rule_for(&target, risk);
                    seen.extend(rule);
                    assert_eq!(
                        summed.rule_for(&target, risk),
                        rule,
                        "{how}, round {round}, {target} at {risk:?} under {rules:?}"
                    );
                }
            }
        }
    }
    assert_eq!(from_sums, 8);
    // The histories and rules reach every rule, so no rule is compared only on empty sets.
    assert_eq!(seen.len(), 3, "rules reached: {seen:?}");
    isolated.cleanup().await;
}

suiji_platform::on_both_backends!(database_sums_up_history_as_the_rules_say);

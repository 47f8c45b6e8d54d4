//! The exclusions a snapshot applies are summed up by the database; over random histories they must remove
//! exactly the targets the rules remove when every row is read (`Exclusions::new`, the rules' own statement),
//! for every lead level, yearly maximum and set of annual caps, on both backends.

use rand_chacha::ChaCha8Rng;
use rand_core::{Rng, SeedableRng};
use suiji_directories::domain::history::{Exclusions, Inspection, Rules};
use suiji_directories::domain::target::Risk;
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
        // Days from mid-2026 to the end of 2027, around the draw's day.
        let date = chrono::NaiveDate::from_ymd_opt(2026, 6, 1).unwrap()
            + chrono::Days::new(u64::from(rng.next_u32() % 580));
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
    for r in &rows {
        sqlx::query(
            "INSERT INTO target_inspections (target_id, task_id, department_code, level, visit_date, problem_found) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&r.target_id)
        .bind(&r.task_id)
        .bind(&r.department)
        .bind(&r.level)
        .bind(r.date.to_string())
        .bind(i64::from(r.problem_found))
        .execute(db.pool())
        .await
        .unwrap();
    }
    let mut seen = std::collections::HashSet::new();
    for (round, as_of) in ["2027-02-10", "2027-07-01", "2027-09-15"]
        .iter()
        .cycle()
        .take(24)
        .enumerate()
    {
        let rules = rules(&mut rng, as_of);
        let expected = Exclusions::new(rules.clone(), rows.clone());
        let summed = suiji_directories::snapshot::exclusions(&db, &rules)
            .await
            .unwrap();
        for t in 0..TARGETS {
            let target = format!("T{t:02}");
            for risk in Risk::ALL {
                let rule = expected.rule_for(&target, risk);
                seen.extend(rule);
                assert_eq!(
                    summed.rule_for(&target, risk),
                    rule,
                    "round {round}, {target} at {risk:?} under {rules:?}"
                );
            }
        }
    }
    // The histories and rules reach every rule, so no rule is compared only on empty sets.
    assert_eq!(seen.len(), 3, "rules reached: {seen:?}");
    isolated.cleanup().await;
}

suiji_platform::on_both_backends!(database_sums_up_history_as_the_rules_say);

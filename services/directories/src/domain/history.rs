//! Inspection history and the exclusions the draw applies from it (seed 002 第十三条, seed 001 §四(一)): a
//! target inspected the year's maximum number of times is not drawn again unless high risk; a target a higher
//! level inspected in the last 6 months without finding a problem is not drawn again; a department's annual
//! cap on inspections of one target holds.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{Datelike, Months, NaiveDate};
use serde::{Deserialize, Serialize};

use super::target::Risk;

/// One department's part in one concluded visit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inspection {
    /// Target.
    pub target_id: String,
    /// Task (one visit per task and target).
    pub task_id: String,
    /// Department.
    pub department: String,
    /// Its level: `province`, `city`, `county`.
    pub level: String,
    /// Day of the visit.
    pub date: NaiveDate,
    /// It found a problem.
    pub problem_found: bool,
}

/// Rank of a level: lower is higher (province 0, city 1, county 2); unknown levels rank lowest.
pub fn level_rank(level: &str) -> u8 {
    match level {
        "province" => 0,
        "city" => 1,
        "county" => 2,
        _ => 3,
    }
}

/// The rules of one draw.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rules {
    /// The draw's day.
    pub as_of: Option<NaiveDate>,
    /// The year's maximum of inspections of one target unless high risk; 0: none.
    pub max_per_year: u32,
    /// The lead department's level, for the higher-level rule; `None`: no such rule.
    pub lead_level: Option<String>,
    /// Annual caps per department.
    pub annual_caps: BTreeMap<String, u32>,
}

/// Why a target was removed, in the order the rules are tried.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Rule {
    /// A higher level inspected it in the last 6 months and found nothing.
    HigherLevelRecent,
    /// Inspected the year's maximum number of times already, and not high risk.
    YearMaximum,
    /// A participating department's annual cap is reached.
    AnnualCap,
}

impl Rule {
    /// Stable name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::HigherLevelRecent => "higher_level_recent",
            Self::YearMaximum => "twice_this_year",
            Self::AnnualCap => "annual_cap",
        }
    }
}

/// What the history says about one target, before its risk is known.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Standing {
    /// A higher level than the lead's inspected it in the last six months and found nothing.
    pub higher_clean: bool,
    /// Tasks that inspected it this year (several departments in one task are one visit).
    pub visits_this_year: u32,
    /// A department's annual cap on inspections of it is reached.
    pub cap_reached: bool,
}

/// The targets some rule may remove, built from the history of the window the rules look at.
#[derive(Debug, Default)]
pub struct Exclusions {
    rules: Rules,
    standing: HashMap<String, Standing>,
}

impl Rules {
    /// True when no rule applies.
    pub fn is_empty(&self) -> bool {
        self.as_of.is_none()
            || (self.max_per_year == 0 && self.lead_level.is_none() && self.annual_caps.is_empty())
    }

    /// The first day of history the rules look at (the earlier of 1 January and six months back), and the last.
    pub fn window(&self) -> Option<(NaiveDate, NaiveDate)> {
        let (jan1, six) = (self.year_start()?, self.six_months_ago()?);
        Some((jan1.min(six), self.as_of?))
    }

    /// 1 January of the draw's year: inspections from that day count towards the year's maximum and the caps.
    pub fn year_start(&self) -> Option<NaiveDate> {
        NaiveDate::from_ymd_opt(self.as_of?.year(), 1, 1)
    }

    /// Six months before the draw's day: a higher level's clean inspection after that day protects a target.
    pub fn six_months_ago(&self) -> Option<NaiveDate> {
        let as_of = self.as_of?;
        Some(as_of.checked_sub_months(Months::new(6)).unwrap_or(as_of))
    }

    /// The levels above the lead department's (whose clean inspections protect a target); none without a lead.
    pub fn higher_levels(&self) -> Vec<&'static str> {
        let Some(lead) = self.lead_level.as_deref().map(level_rank) else {
            return Vec::new();
        };
        ["province", "city", "county"]
            .into_iter()
            .filter(|l| level_rank(l) < lead)
            .collect()
    }
}

impl Exclusions {
    /// Reads `history` (any order; rows outside the window are ignored) under `rules`.
    pub fn new(rules: Rules, history: impl IntoIterator<Item = Inspection>) -> Self {
        let Some(as_of) = rules.as_of else {
            return Self {
                rules,
                standing: HashMap::new(),
            };
        };
        let six_months_ago = rules.six_months_ago().unwrap_or(as_of);
        let higher = rules.higher_levels();
        let mut tasks: HashMap<String, HashSet<String>> = HashMap::new();
        let mut per_department: HashMap<(String, String), u32> = HashMap::new();
        let mut standing: HashMap<String, Standing> = HashMap::new();
        for row in history {
            if row.date > as_of {
                continue;
            }
            if row.date.year() == as_of.year() {
                tasks
                    .entry(row.target_id.clone())
                    .or_default()
                    .insert(row.task_id.clone());
                *per_department
                    .entry((row.target_id.clone(), row.department.clone()))
                    .or_default() += 1;
            }
            if row.date > six_months_ago
                && !row.problem_found
                && higher.contains(&row.level.as_str())
            {
                standing
                    .entry(row.target_id.clone())
                    .or_default()
                    .higher_clean = true;
            }
        }
        for (target, visits) in tasks {
            standing.entry(target).or_default().visits_this_year = visits.len() as u32;
        }
        for ((target, department), n) in per_department {
            if rules
                .annual_caps
                .get(&department)
                .is_some_and(|cap| n >= *cap)
            {
                standing.entry(target).or_default().cap_reached = true;
            }
        }
        Self { rules, standing }
    }

    /// The exclusions of `rules` from each target's standing, as the database summed it up
    /// (`crate::history`); targets no rule can remove may be left out.
    pub fn from_standings(
        rules: Rules,
        standings: impl IntoIterator<Item = (String, Standing)>,
    ) -> Self {
        let standing = standings
            .into_iter()
            .filter(|(_, s)| *s != Standing::default())
            .collect();
        Self { rules, standing }
    }

    /// The rule that removes `target` at risk level `risk`, if any.
    pub fn rule_for(&self, target: &str, risk: Risk) -> Option<Rule> {
        let s = self.standing.get(target)?;
        if s.higher_clean {
            Some(Rule::HigherLevelRecent)
        } else if self.rules.max_per_year > 0
            && s.visits_this_year >= self.rules.max_per_year
            && risk != Risk::High
        {
            Some(Rule::YearMaximum)
        } else if s.cap_reached {
            Some(Rule::AnnualCap)
        } else {
            None
        }
    }

    /// Targets with any history in the window.
    pub fn len(&self) -> usize {
        self.standing.len()
    }

    /// True when no target has history in the window.
    pub fn is_empty(&self) -> bool {
        self.standing.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn visit(
        target: &str,
        task: &str,
        dept: &str,
        level: &str,
        date: &str,
        problem: bool,
    ) -> Inspection {
        Inspection {
            target_id: target.into(),
            task_id: task.into(),
            department: dept.into(),
            level: level.into(),
            date: day(date),
            problem_found: problem,
        }
    }

    fn rules(lead: Option<&str>, caps: &[(&str, u32)]) -> Rules {
        Rules {
            as_of: Some(day("2027-09-15")),
            max_per_year: 2,
            lead_level: lead.map(str::to_string),
            annual_caps: caps.iter().map(|(d, n)| (d.to_string(), *n)).collect(),
        }
    }

    #[test]
    fn twice_this_year_removes_all_but_high_risk() {
        let history = vec![
            // Two tasks this year, one with two departments: two visits.
            visit("A", "T1", "SCJG", "city", "2027-03-01", true),
            visit("A", "T1", "STHJ", "city", "2027-03-01", false),
            visit("A", "T2", "SCJG", "city", "2027-06-01", false),
            // One visit this year and one last year: not twice this year.
            visit("B", "T0", "SCJG", "city", "2026-12-30", false),
            visit("B", "T2", "SCJG", "city", "2027-06-01", false),
            // After the draw's day: not yet history.
            visit("C", "T3", "SCJG", "city", "2027-03-01", false),
            visit("C", "T4", "SCJG", "city", "2027-10-01", false),
        ];
        let ex = Exclusions::new(rules(None, &[]), history);
        assert_eq!(ex.rule_for("A", Risk::Medium), Some(Rule::YearMaximum));
        assert_eq!(ex.rule_for("A", Risk::MediumHigh), Some(Rule::YearMaximum));
        assert_eq!(ex.rule_for("A", Risk::High), None, "high risk is exempt");
        assert_eq!(ex.rule_for("B", Risk::Low), None);
        assert_eq!(ex.rule_for("C", Risk::Low), None);
        assert_eq!(ex.rule_for("nobody", Risk::Low), None);
    }

    #[test]
    fn a_higher_levels_clean_inspection_protects_for_six_months() {
        let history = vec![
            // Province found nothing 3 months ago: a city draw skips it, even at high risk.
            visit("A", "P1", "610000-SCJG", "province", "2027-06-10", false),
            // Province found a problem: may be drawn again.
            visit("B", "P1", "610000-SCJG", "province", "2027-06-10", true),
            // More than six months ago (the window is 2027-03-15 exclusive).
            visit("C", "P0", "610000-SCJG", "province", "2027-03-15", false),
            // Same level: no protection.
            visit("D", "C1", "610400-SCJG", "city", "2027-08-01", false),
        ];
        let ex = Exclusions::new(rules(Some("city"), &[]), history.clone());
        assert_eq!(ex.rule_for("A", Risk::High), Some(Rule::HigherLevelRecent));
        assert_eq!(ex.rule_for("B", Risk::Low), None);
        assert_eq!(ex.rule_for("C", Risk::Low), None);
        assert_eq!(ex.rule_for("D", Risk::Low), None);
        // A province draw is not protected by a province inspection.
        let ex = Exclusions::new(rules(Some("province"), &[]), history);
        assert_eq!(ex.rule_for("A", Risk::Low), None);
    }

    #[test]
    fn annual_caps_count_only_that_departments_inspections() {
        let history = vec![
            visit("A", "T1", "STHJ", "city", "2027-02-01", false),
            visit("B", "T1", "SCJG", "city", "2027-02-01", false),
        ];
        let ex = Exclusions::new(rules(None, &[("STHJ", 1)]), history);
        assert_eq!(ex.rule_for("A", Risk::High), Some(Rule::AnnualCap));
        assert_eq!(ex.rule_for("B", Risk::Low), None);
    }

    #[test]
    fn the_window_reaches_back_to_january_or_six_months() {
        let r = rules(None, &[]);
        assert_eq!(r.window(), Some((day("2027-01-01"), day("2027-09-15"))));
        let early = Rules {
            as_of: Some(day("2027-02-10")),
            ..r
        };
        assert_eq!(early.window(), Some((day("2026-08-10"), day("2027-02-10"))));
        assert!(Rules::default().is_empty());
    }
}

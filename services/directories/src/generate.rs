//! Synthetic directories for demos and benchmarks: realistic rows in the import format — valid credit codes,
//! real region codes of one province, a plausible mix of kinds, industries and risk — reproducible from a seed.

use std::io::Write;

use rand_chacha::ChaCha20Rng;
use rand_core::{Rng, SeedableRng};
use suiji_platform::reference::{RegionLevel, Regions};

use crate::domain::target::{COLUMNS, Kind};
use crate::domain::uscc::{ALPHABET, compose};

/// What to generate, targets or inspectors.
#[derive(Debug, Clone)]
pub struct Spec {
    /// Rows.
    pub count: u64,
    /// Seed; the same seed gives the same file.
    pub seed: u64,
    /// Province (GB/T 2260, e.g. `610000`): targets sit in its counties, inspectors work in its cities.
    pub province: String,
    /// Departments: the targets' supervisors, or the inspectors' employers.
    pub departments: Vec<String>,
}

const WORDS: &[&str] = &[
    "华", "秦", "长", "兴", "盛", "泰", "丰", "安", "和", "信", "达", "通", "宏", "远", "瑞", "祥",
];
const TRADES: &[(&str, &str)] = &[
    ("C1311", "食品"),
    ("C1512", "酒业"),
    ("F5211", "商贸"),
    ("F5261", "超市"),
    ("H6210", "餐饮"),
    ("E4710", "建筑"),
    ("G5430", "运输"),
    ("C2710", "制药"),
    ("O8010", "家政"),
    ("I6510", "科技"),
];

/// Writes `spec.count` rows of CSV (header first) to `out`.
pub fn targets(spec: &Spec, out: impl Write) -> std::io::Result<()> {
    let regions = Regions::shipped();
    let prefix = &spec.province[..2.min(spec.province.len())];
    let counties = regions.under(prefix, RegionLevel::County);
    let counties = if counties.is_empty() {
        vec![spec.province.clone()]
    } else {
        counties
    };
    let mut rng = ChaCha20Rng::seed_from_u64(spec.seed);
    let mut w =
        csv::WriterBuilder::new().from_writer(std::io::BufWriter::with_capacity(1 << 20, out));
    w.write_record(COLUMNS.iter().map(|(en, _)| *en))?;
    let mut below = |n: u64| -> u64 { rng.next_u64() % n };
    // A bijection of 0..31^8 scrambles row numbers into distinct organisation codes.
    let space: u64 = 31u64.pow(8);
    let offset = spec.seed % space;
    for i in 0..spec.count {
        let roll = below(1000);
        let kind = match roll {
            0..=299 => Kind::Enterprise,
            300..=919 => Kind::IndividualBusiness,
            920..=949 => Kind::FarmersCooperative,
            950..=964 => Kind::PublicInstitution,
            965..=979 => Kind::SocialOrganisation,
            980..=984 => Kind::NaturalPerson,
            985..=989 => Kind::Project,
            990..=994 => Kind::Facility,
            _ => Kind::Premises,
        };
        let region = &counties[below(counties.len() as u64) as usize];
        let (industry, trade) = TRADES[below(TRADES.len() as u64) as usize];
        let word = |r: u64| WORDS[(r % WORDS.len() as u64) as usize];
        let brand = format!("{}{}", word(below(1 << 16)), word(below(1 << 16)));
        let (id, code, name) = match kind.id_prefix() {
            Some(prefix) => (
                format!("{prefix}{region}-{i:08}"),
                String::new(),
                format!("{brand}{trade}{}", kind.chinese()),
            ),
            None => {
                let mut n = (i.wrapping_mul(7_368_787) + offset) % space;
                let mut body = [0u8; 8];
                for slot in body.iter_mut().rev() {
                    *slot = ALPHABET[(n % 31) as usize];
                    n /= 31;
                }
                let (authority, type_) = match kind {
                    Kind::IndividualBusiness => ('9', '2'),
                    Kind::FarmersCooperative => ('9', '3'),
                    Kind::PublicInstitution => ('1', '2'),
                    Kind::SocialOrganisation => ('5', '1'),
                    _ => ('9', '1'),
                };
                let code = compose(
                    authority,
                    type_,
                    region,
                    std::str::from_utf8(&body).expect("ascii"),
                );
                let suffix = match kind {
                    Kind::Enterprise => "有限公司",
                    Kind::IndividualBusiness => "店",
                    Kind::FarmersCooperative => "专业合作社",
                    Kind::PublicInstitution => "中心",
                    _ => "协会",
                };
                (String::new(), code, format!("{brand}{trade}{suffix}"))
            }
        };
        let risk = match below(100) {
            0..=59 => "low",
            60..=89 => "medium",
            90..=96 => "medium_high",
            _ => "high",
        };
        let status = match below(100) {
            0..=93 => "operating",
            94..=96 => "closed",
            97 => "liquidating",
            _ => "revoked",
        };
        let departments = if spec.departments.is_empty() {
            String::new()
        } else {
            spec.departments[below(spec.departments.len() as u64) as usize].clone()
        };
        let abnormal = if below(100) < 3 { "1" } else { "0" };
        let serious = if below(1000) < 5 { "1" } else { "0" };
        let complaints = match below(100) {
            0..=89 => 0,
            90..=97 => 1,
            _ => 2 + below(5),
        };
        let key_focus = if below(100) < 2 { "1" } else { "0" };
        let address = format!("{region}某路{}号", 1 + below(999));
        let complaints = complaints.to_string();
        w.write_record([
            id.as_str(),
            kind.as_str(),
            code.as_str(),
            name.as_str(),
            region.as_str(),
            industry,
            address.as_str(),
            status,
            departments.as_str(),
            risk,
            abnormal,
            serious,
            complaints.as_str(),
            key_focus,
        ])?;
    }
    w.flush()?;
    Ok(())
}

const SURNAMES: &[&str] = &[
    "王", "李", "张", "刘", "陈", "杨", "赵", "黄", "周", "吴", "徐", "孙", "马", "朱", "胡", "郭",
];
const GIVEN: &[&str] = &[
    "伟", "芳", "娜", "敏", "静", "磊", "军", "洋", "勇", "艳", "杰", "涛", "明", "超", "霞", "平",
];
const QUALIFICATIONS: &[&str] = &[
    "market-regulation",
    "food-safety",
    "drug-safety",
    "special-equipment",
    "environment",
    "work-safety",
    "product-quality",
    "advertising",
];

/// Writes `spec.count` inspector rows of CSV (header first) to `out`. About one in twenty certificates has
/// already expired, and about one in ten inspectors is away, so draws meet both.
pub fn inspectors(spec: &Spec, out: impl Write) -> std::io::Result<()> {
    let regions = Regions::shipped();
    let prefix = &spec.province[..2.min(spec.province.len())];
    let cities = regions.under(prefix, RegionLevel::City);
    let cities = if cities.is_empty() {
        vec![spec.province.clone()]
    } else {
        cities
    };
    let departments = if spec.departments.is_empty() {
        vec!["610400-SCJG".to_string()]
    } else {
        spec.departments.clone()
    };
    let mut rng = ChaCha20Rng::seed_from_u64(spec.seed);
    let mut below = |n: u64| -> u64 { rng.next_u64() % n };
    let mut w = csv::WriterBuilder::new().from_writer(std::io::BufWriter::new(out));
    w.write_record(crate::domain::inspector::COLUMNS.iter().map(|(en, _)| *en))?;
    for i in 0..spec.count {
        let department = &departments[(i % departments.len() as u64) as usize];
        let id = format!("{department}-{i:05}");
        let name = format!(
            "{}{}{}",
            SURNAMES[below(SURNAMES.len() as u64) as usize],
            GIVEN[below(GIVEN.len() as u64) as usize],
            if below(2) == 0 {
                GIVEN[below(GIVEN.len() as u64) as usize]
            } else {
                ""
            }
        );
        let certificate = format!("{prefix}{:08}", below(100_000_000));
        let expires = if below(20) == 0 {
            format!("2025-{:02}-{:02}", 1 + below(12), 1 + below(28))
        } else {
            format!(
                "{}-{:02}-{:02}",
                2027 + below(4),
                1 + below(12),
                1 + below(28)
            )
        };
        let mut tags: Vec<&str> = Vec::new();
        for _ in 0..1 + below(3) {
            let tag = QUALIFICATIONS[below(QUALIFICATIONS.len() as u64) as usize];
            if !tags.contains(&tag) {
                tags.push(tag);
            }
        }
        let expertise = if below(4) == 0 {
            QUALIFICATIONS[below(QUALIFICATIONS.len() as u64) as usize]
        } else {
            ""
        };
        let expert = if below(20) == 0 { "1" } else { "0" };
        let region = &cities[below(cities.len() as u64) as usize];
        let status = match below(100) {
            0..=89 => "active",
            90..=94 => "on_leave",
            95..=97 => "transferred",
            _ => "retired",
        };
        w.write_record([
            id.as_str(),
            name.as_str(),
            department,
            certificate.as_str(),
            expires.as_str(),
            tags.join(";").as_str(),
            expertise,
            expert,
            region.as_str(),
            status,
            "",
        ])?;
    }
    w.flush()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;
    use crate::domain::target::{Checks, parse_row};

    fn spec(seed: u64) -> Spec {
        Spec {
            count: 2000,
            seed,
            province: "610000".into(),
            departments: vec!["610400-SCJG".into()],
        }
    }

    #[test]
    fn generated_rows_all_pass_the_import_rules_and_ids_are_unique() {
        let mut out = Vec::new();
        targets(&spec(7), &mut out).unwrap();
        let mut reader = csv::Reader::from_reader(out.as_slice());
        let header: Vec<String> = reader
            .headers()
            .unwrap()
            .iter()
            .map(str::to_string)
            .collect();
        let layout =
            crate::domain::target::layout(&header.iter().map(String::as_str).collect::<Vec<_>>())
                .unwrap();
        let regions = Regions::shipped();
        let departments: HashSet<String> = ["610400-SCJG".to_string()].into_iter().collect();
        let checks = Checks {
            regions,
            departments: &departments,
            scope: None,
        };
        let mut ids = HashSet::new();
        let mut kinds = HashSet::new();
        for record in reader.records() {
            let record = record.unwrap();
            let row: Vec<&str> = record.iter().collect();
            let target =
                parse_row(&layout, &row, &checks).unwrap_or_else(|e| panic!("{row:?}: {e:?}"));
            assert!(target.region_code.starts_with("61"));
            kinds.insert(target.kind);
            assert!(ids.insert(target.id), "ids are unique");
        }
        assert_eq!(ids.len(), 2000);
        assert!(kinds.len() >= 6, "a mix of kinds: {kinds:?}");
    }

    #[test]
    fn generated_inspectors_pass_the_import_rules() {
        let spec = Spec {
            count: 300,
            seed: 9,
            province: "610000".into(),
            departments: vec!["610400-SCJG".into(), "610400-STHJ".into()],
        };
        let mut out = Vec::new();
        inspectors(&spec, &mut out).unwrap();
        let mut reader = csv::Reader::from_reader(out.as_slice());
        let header: Vec<String> = reader
            .headers()
            .unwrap()
            .iter()
            .map(str::to_string)
            .collect();
        let layout = crate::domain::inspector::layout(
            &header.iter().map(String::as_str).collect::<Vec<_>>(),
        )
        .unwrap();
        let regions = Regions::shipped();
        let departments: HashSet<String> = spec.departments.iter().cloned().collect();
        let checks = Checks {
            regions,
            departments: &departments,
            scope: None,
        };
        let mut ids = HashSet::new();
        for record in reader.records() {
            let record = record.unwrap();
            let row: Vec<&str> = record.iter().collect();
            let inspector = crate::domain::inspector::parse_row(&layout, &row, &checks)
                .unwrap_or_else(|e| panic!("{row:?}: {e:?}"));
            assert!(ids.insert(inspector.id));
        }
        assert_eq!(ids.len(), 300);
    }

    #[test]
    fn the_same_seed_gives_the_same_file() {
        let (mut a, mut b, mut c) = (Vec::new(), Vec::new(), Vec::new());
        targets(&spec(1), &mut a).unwrap();
        targets(&spec(1), &mut b).unwrap();
        targets(&spec(2), &mut c).unwrap();
        assert_eq!(a, b);
        assert_ne!(a, c);
    }
}

//! Reference data shipped with suiji: the demo departments used until the directories service owns them.

use serde::Deserialize;

/// The shipped demo departments.
pub const DEPARTMENTS: &str = include_str!("../data/departments.toml");

/// A department as the seed file lists it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DepartmentSeed {
    /// Unique code, e.g. `610400-SCJG`.
    pub code: String,
    /// Name.
    pub name: String,
    /// `province`, `city` or `county`.
    pub level: String,
    /// GB/T 2260 region code.
    pub region_code: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    department: Vec<DepartmentSeed>,
}

/// Parses a departments file; `path` empty means the shipped one.
pub fn departments(path: &str) -> Result<Vec<DepartmentSeed>, String> {
    let text = if path.is_empty() {
        DEPARTMENTS.to_string()
    } else {
        std::fs::read_to_string(path)
            .map_err(|e| format!("reference.departments_file {path}: {e}"))?
    };
    let file: File = toml::from_str(&text).map_err(|e| format!("departments file: {e}"))?;
    for d in &file.department {
        if !matches!(d.level.as_str(), "province" | "city" | "county") {
            return Err(format!(
                "department {}: level must be province, city or county",
                d.code
            ));
        }
    }
    Ok(file.department)
}

#[cfg(test)]
mod tests {
    #[test]
    fn shipped_departments_parse() {
        let all = super::departments("").unwrap();
        assert!(all.iter().any(|d| d.code == "610400-SCJG"));
    }
}

/// GB/T 2260 administrative divisions, shipped as `data/regions.csv`.
pub const REGIONS: &str = include_str!("../data/regions.csv");

/// Level of an administrative division.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RegionLevel {
    /// 省级.
    Province,
    /// 地级.
    City,
    /// 县级.
    County,
}

/// The table of region codes.
#[derive(Debug, Clone)]
pub struct Regions {
    codes: std::collections::HashMap<u32, (RegionLevel, String)>,
}

impl Regions {
    /// The shipped table, parsed once per process.
    pub fn shipped() -> &'static Self {
        static TABLE: std::sync::OnceLock<Regions> = std::sync::OnceLock::new();
        TABLE.get_or_init(Self::parse_shipped)
    }

    fn parse_shipped() -> Self {
        let mut codes = std::collections::HashMap::new();
        for line in REGIONS.lines().filter(|l| !l.starts_with('#')).skip(1) {
            let mut parts = line.split(',');
            let (Some(code), Some(name), Some(level)) = (parts.next(), parts.next(), parts.next())
            else {
                continue;
            };
            let level = match level {
                "province" => RegionLevel::Province,
                "city" => RegionLevel::City,
                _ => RegionLevel::County,
            };
            if let Ok(code) = code.parse() {
                codes.insert(code, (level, name.to_string()));
            }
        }
        Self { codes }
    }

    /// The level and name of a six-digit code, if it exists.
    pub fn get(&self, code: &str) -> Option<(RegionLevel, &str)> {
        if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        self.codes
            .get(&code.parse().ok()?)
            .map(|(l, n)| (*l, n.as_str()))
    }

    /// Every code of `level` under `prefix` (e.g. the counties of `61`), in order.
    pub fn under(&self, prefix: &str, level: RegionLevel) -> Vec<String> {
        let mut codes: Vec<String> = self
            .codes
            .iter()
            .filter(|(_, (l, _))| *l == level)
            .map(|(code, _)| format!("{code:06}"))
            .filter(|code| code.starts_with(prefix))
            .collect();
        codes.sort();
        codes
    }

    /// The prefix that selects a region and its subdivisions: `61` for a province, `6104` for a city, the
    /// whole code for a county.
    pub fn prefix<'a>(&self, code: &'a str) -> Option<&'a str> {
        Some(match self.get(code)?.0 {
            RegionLevel::Province => &code[..2],
            RegionLevel::City => &code[..4],
            RegionLevel::County => code,
        })
    }
}

#[cfg(test)]
mod region_tests {
    use super::*;

    #[test]
    fn regions_know_xianyang() {
        let r = Regions::shipped();
        assert_eq!(r.get("610400"), Some((RegionLevel::City, "咸阳市")));
        assert_eq!(r.get("610402"), Some((RegionLevel::County, "秦都区")));
        assert_eq!(r.get("610000").map(|x| x.0), Some(RegionLevel::Province));
        assert_eq!(r.get("999999"), None);
        assert_eq!(r.get("61040"), None);
        assert_eq!(r.prefix("610000"), Some("61"));
        assert_eq!(r.prefix("610400"), Some("6104"));
        assert_eq!(r.prefix("610402"), Some("610402"));
    }
}

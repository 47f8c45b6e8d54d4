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

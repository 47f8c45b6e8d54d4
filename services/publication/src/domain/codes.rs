//! The result code table (检查结果代码): versioned data, shipped in `data/result_codes.toml` and replaceable by
//! operators, never literals in code.

use serde::Deserialize;

/// One code.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Code {
    /// Code, e.g. `1`, `B`.
    pub code: String,
    /// What it says.
    pub text: String,
    /// It states a problem.
    #[serde(default)]
    pub problem: bool,
    /// It stands alone.
    #[serde(default)]
    pub exclusive: bool,
    /// The credit record it makes; empty: none.
    #[serde(default)]
    pub credit: String,
    /// Refused for new entries.
    #[serde(default)]
    pub retired: bool,
}

/// A version of the table.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct CodeTable {
    /// Version, e.g. `2024-1`.
    pub version: String,
    /// Its codes.
    #[serde(rename = "code")]
    pub codes: Vec<Code>,
}

/// Credit record kinds a code may make.
pub const CREDIT_KINDS: &[&str] = &[
    "abnormal_operations",
    "false_disclosure",
    "refused_inspection",
];

impl CodeTable {
    /// The table shipped with suiji.
    pub fn shipped() -> Self {
        Self::parse(include_str!("../../data/result_codes.toml"))
            .expect("the shipped table is valid")
    }

    /// The table in `path`, or the shipped one when `path` is empty.
    pub fn load(path: &str) -> Result<Self, String> {
        if path.is_empty() {
            return Ok(Self::shipped());
        }
        let text = std::fs::read_to_string(path).map_err(|e| format!("{path}: {e}"))?;
        Self::parse(&text).map_err(|e| format!("{path}: {e}"))
    }

    /// Parses and checks a table.
    pub fn parse(text: &str) -> Result<Self, String> {
        let table: CodeTable = toml::from_str(text).map_err(|e| e.to_string())?;
        if table.version.trim().is_empty() {
            return Err("version is empty".into());
        }
        let mut seen = std::collections::BTreeSet::new();
        for (i, c) in table.codes.iter().enumerate() {
            if c.code.trim().is_empty() || c.text.trim().is_empty() {
                return Err(format!("code[{i}]: code and text are required"));
            }
            if !seen.insert(c.code.as_str()) {
                return Err(format!("code[{i}]: {} appears twice", c.code));
            }
            if !c.credit.is_empty() && !CREDIT_KINDS.contains(&c.credit.as_str()) {
                return Err(format!(
                    "code[{i}]: credit {:?} is not one of {}",
                    c.credit,
                    CREDIT_KINDS.join(", ")
                ));
            }
            if c.exclusive && c.problem {
                return Err(format!(
                    "code[{i}]: a code that stands alone cannot state a problem"
                ));
            }
        }
        Ok(table)
    }

    /// The code `code`, retired or not.
    pub fn get(&self, code: &str) -> Option<&Code> {
        self.codes.iter().find(|c| c.code == code)
    }

    /// The codes in force (not retired).
    pub fn current(&self) -> impl Iterator<Item = &Code> {
        self.codes.iter().filter(|c| !c.retired)
    }

    /// The texts of `codes`, joined as the public record shows them.
    pub fn texts(&self, codes: &[String]) -> String {
        codes
            .iter()
            .map(|c| self.get(c).map_or(c.as_str(), |x| x.text.as_str()))
            .collect::<Vec<_>>()
            .join("；")
    }

    /// The code for "nothing found" (the first exclusive code that states no problem and no closure): `1`.
    pub fn no_problem(&self) -> Option<&Code> {
        self.current().find(|c| c.exclusive)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_table_has_every_national_code() {
        let t = CodeTable::shipped();
        for code in [
            "1", "3", "4", "5", "G", "6", "7", "8", "9", "10", "11", "12", "B", "C", "D", "E", "F",
        ] {
            assert!(t.get(code).is_some_and(|c| !c.retired), "{code}");
        }
        assert!(t.get("A").is_some_and(|c| c.retired));
        assert_eq!(t.get("8").unwrap().credit, "refused_inspection");
        assert_eq!(t.no_problem().unwrap().code, "1");
    }

    #[test]
    fn a_bad_table_is_refused_with_the_row() {
        let dup = "version = \"x\"\n[[code]]\ncode = \"1\"\ntext = \"a\"\n[[code]]\ncode = \"1\"\ntext = \"b\"\n";
        assert!(CodeTable::parse(dup).unwrap_err().contains("code[1]"));
        let credit = "version = \"x\"\n[[code]]\ncode = \"1\"\ntext = \"a\"\ncredit = \"jail\"\n";
        assert!(CodeTable::parse(credit).unwrap_err().contains("jail"));
        assert!(CodeTable::parse("version = \"\"\ncode = []\n").is_err());
    }
}

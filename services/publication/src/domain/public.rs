//! What the public sees of a published result (检查实施机关, 类型, 日期, 结果), and its corrections.

use serde::{Deserialize, Serialize};

use super::codes::CodeTable;
use super::result::Result;

/// A correction as the public sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublicCorrection {
    /// Epoch ms.
    pub at: i64,
    /// 更正时间, YYYY-MM-DD HH:MM in China time.
    pub time: String,
    /// The result before it.
    pub previous_result: String,
    /// Why.
    pub reason: String,
}

/// A published result as the public sees it; also the JSON feed's record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublicRecord {
    /// Result id.
    pub id: String,
    /// Credit code.
    pub credit_code: String,
    /// Name.
    pub target_name: String,
    /// Task name.
    pub task_name: String,
    /// 检查实施机关.
    pub authority: String,
    /// 类型.
    pub inspection_type: String,
    /// 日期.
    pub inspection_date: String,
    /// Item.
    pub item: String,
    /// 结果.
    pub result: String,
    /// Epoch ms.
    pub published_at: i64,
    /// Corrections, oldest first.
    pub corrections: Vec<PublicCorrection>,
}

/// China time of `ms` as `YYYY-MM-DD HH:MM`.
pub fn china_time(ms: i64) -> String {
    let offset = chrono::FixedOffset::east_opt(8 * 3600).expect("UTC+8 is valid");
    chrono::DateTime::from_timestamp_millis(ms)
        .unwrap_or_default()
        .with_timezone(&offset)
        .format("%Y-%m-%d %H:%M")
        .to_string()
}

impl PublicRecord {
    /// The public record of published result `r`, its codes read in the table version each was entered in
    /// (`table`), the authority named `authority`.
    pub fn of<'a>(r: &Result, authority: &str, table: impl Fn(&str) -> &'a CodeTable) -> Self {
        let text = |codes: &[String], version: &str| table(version).texts(codes);
        let content = r.content.as_ref().expect("a published result has content");
        Self {
            id: r.id.clone(),
            credit_code: r.credit_code.clone(),
            target_name: r.target_name.clone(),
            task_name: r.task_name.clone(),
            authority: authority.to_string(),
            inspection_type: r.inspection_type.clone(),
            inspection_date: r.inspection_date.to_string(),
            item: if r.item_name.is_empty() {
                r.item.clone()
            } else {
                r.item_name.clone()
            },
            result: text(&content.codes, &r.table),
            published_at: r.published_at.unwrap_or_default(),
            corrections: r
                .corrections
                .iter()
                .map(|c| PublicCorrection {
                    at: c.at,
                    time: china_time(c.at),
                    previous_result: text(&c.previous.codes, &c.previous_table),
                    reason: c.reason.clone(),
                })
                .collect(),
        }
    }
}

/// A name as the public search compares it: ASCII letters in lower case, everything else as it is (the same fold
/// as the migration that filled `name_key` for earlier records, on both databases).
pub fn name_key(name: &str) -> String {
    name.to_ascii_lowercase()
}

/// The distinct pairs of adjacent characters of a name key, in order of first appearance: the public search
/// indexes a record under each, and every name containing a query contains all of the query's pairs.
pub fn bigrams(key: &str) -> Vec<String> {
    let chars: Vec<char> = key.chars().collect();
    let mut out: Vec<String> = Vec::new();
    for pair in chars.windows(2) {
        let gram: String = pair.iter().collect();
        if !out.contains(&gram) {
            out.push(gram);
        }
    }
    out
}

#[cfg(test)]
mod search_tests {
    use super::*;

    #[test]
    fn a_name_is_indexed_under_each_distinct_pair_of_characters() {
        assert_eq!(
            bigrams(&name_key("AB商贸商贸")),
            ["ab", "b商", "商贸", "贸商"]
        );
        assert!(bigrams("某").is_empty());
        // Every pair of a substring is a pair of the name.
        let name = name_key("西安市雁塔区ABC科技有限公司");
        for q in ["雁塔", "abc科技", "有限公司", "c科"] {
            let all = bigrams(&name);
            assert!(bigrams(q).iter().all(|g| all.contains(g)), "{q}");
        }
        assert_eq!(name_key("ÄBc（北京）"), "Äbc（北京）");
    }
}

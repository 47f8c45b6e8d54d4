//! AIP-158 pagination: `page_size` with a default and a ceiling, and opaque page tokens that carry the last
//! key seen.

use crate::messages::msg;
use crate::validation::Violations;

/// Page size when the caller gives none.
pub const DEFAULT_PAGE_SIZE: i64 = 50;
/// Largest page served.
pub const MAX_PAGE_SIZE: i64 = 500;

/// A checked page request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page {
    /// Rows to return.
    pub size: i64,
    /// Last key of the previous page; empty for the first page.
    pub after: String,
}

/// Checks `page_size` and decodes `page_token`.
pub fn page(page_size: i32, page_token: &str) -> Result<Page, Violations> {
    let mut v = Violations::new();
    v.check(page_size < 0, "page_size", msg("not-negative"));
    let after = if page_token.is_empty() {
        String::new()
    } else {
        match hex::decode(page_token)
            .ok()
            .and_then(|b| String::from_utf8(b).ok())
        {
            Some(key) if key.starts_with("k:") => key[2..].to_string(),
            _ => {
                v.add("page_token", msg("page-token"));
                String::new()
            }
        }
    };
    v.into_result()?;
    let size = if page_size == 0 {
        DEFAULT_PAGE_SIZE
    } else {
        i64::from(page_size).min(MAX_PAGE_SIZE)
    };
    Ok(Page { size, after })
}

/// The token that continues after `last_key`.
pub fn token_after(last_key: &str) -> String {
    hex::encode(format!("k:{last_key}"))
}

/// The token for the page after `items`: empty when `items` did not fill `page`, so it was the last one.
pub fn next_token<T>(items: &[T], page: &Page, key: impl Fn(&T) -> &str) -> String {
    match items.last() {
        Some(last) if items.len() as i64 == page.size => token_after(key(last)),
        _ => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip_and_sizes_are_clamped() {
        let p = page(0, "").unwrap();
        assert_eq!(
            p,
            Page {
                size: DEFAULT_PAGE_SIZE,
                after: String::new()
            }
        );
        let p = page(10_000, &token_after("SX-001")).unwrap();
        assert_eq!(
            p,
            Page {
                size: MAX_PAGE_SIZE,
                after: "SX-001".into()
            }
        );
    }

    #[test]
    fn a_full_page_continues_and_a_short_one_ends() {
        let page = Page {
            size: 2,
            after: String::new(),
        };
        assert_eq!(next_token(&["a", "b"], &page, |s| s), token_after("b"));
        assert_eq!(next_token(&["a"], &page, |s| s), "");
    }

    #[test]
    fn bad_input_names_the_field() {
        let v = page(-1, "zz").unwrap_err();
        let fields: Vec<&str> = v.iter().map(|x| x.field.as_str()).collect();
        assert_eq!(fields, vec!["page_size", "page_token"]);
    }
}

//! The headers of a service's public HTML pages (扫码入企 `/verify`, the results search `/public`): a
//! Content-Security-Policy that lets run only the page's own inline script and style (named by their SHA-256),
//! no framing, no sniffing, no referrer sent elsewhere.

use base64::Engine;
use http::{HeaderName, HeaderValue, header};
use sha2::{Digest, Sha256};

/// The `'sha256-…'` sources of every `<tag>…</tag>` block inline in `html`.
fn hashes(html: &str, tag: &str) -> Vec<String> {
    let (open, close) = (format!("<{tag}>"), format!("</{tag}>"));
    let mut out = Vec::new();
    let mut rest = html;
    while let Some(start) = rest.find(&open) {
        let body = &rest[start + open.len()..];
        let Some(end) = body.find(&close) else { break };
        let digest = Sha256::digest(&body.as_bytes()[..end]);
        out.push(format!(
            "'sha256-{}'",
            base64::engine::general_purpose::STANDARD.encode(digest)
        ));
        rest = &body[end + close.len()..];
    }
    out
}

/// The policy of `html`: its own inline scripts and styles, everything else from its origin only.
pub fn csp(html: &str) -> String {
    let scripts = hashes(html, "script").join(" ");
    let styles = hashes(html, "style").join(" ");
    format!(
        "default-src 'self'; script-src 'self' {scripts}; style-src 'self' {styles}; img-src 'self' data:; \
         connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    )
}

/// The headers to send with `html`.
pub fn headers(html: &str) -> [(HeaderName, HeaderValue); 4] {
    [
        (
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_str(&csp(html)).expect("a policy is a header value"),
        ),
        (header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")),
        (
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ),
        (
            header::REFERRER_POLICY,
            HeaderValue::from_static("same-origin"),
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_policy_names_each_inline_block_by_its_hash() {
        let html = "<style>p{}</style><script>run()</script><script>two()</script>";
        let policy = csp(html);
        let hash = |s: &str| {
            format!(
                "'sha256-{}'",
                base64::engine::general_purpose::STANDARD.encode(Sha256::digest(s.as_bytes()))
            )
        };
        assert!(policy.contains(&format!(
            "script-src 'self' {} {};",
            hash("run()"),
            hash("two()")
        )));
        assert!(policy.contains(&format!("style-src 'self' {};", hash("p{}"))));
        assert!(!policy.contains("unsafe-inline") && policy.contains("frame-ancestors 'none'"));
    }
}

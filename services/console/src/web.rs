//! The web app's files, embedded at build time (see `build.rs`), served under /console/ with the headers a
//! government console needs: a Content-Security-Policy without inline scripts, no framing, no sniffing; hashed
//! assets cached for a year, the page itself never.

use axum::body::Body;
use axum::extract::Path;
use axum::http::{HeaderMap, HeaderValue, Response, StatusCode, header};

include!(concat!(env!("OUT_DIR"), "/web_assets.rs"));

/// The policy of every page: scripts and everything else only from this origin; Element Plus sets inline styles.
pub const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
img-src 'self' data: blob:; font-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; \
form-action 'self'; frame-ancestors 'none'";

/// Adds the headers every page and file of the console carries.
pub fn secure(headers: &mut HeaderMap) {
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
}

fn find(name: &str) -> Option<&'static (&'static str, &'static str, &'static [u8], &'static [u8])> {
    ASSETS.iter().find(|a| a.0 == name)
}

fn serve(
    asset: &'static (&'static str, &'static str, &'static [u8], &'static [u8]),
    request: &HeaderMap,
    cache: &'static str,
) -> Response<Body> {
    let gzip = request
        .get(header::ACCEPT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|e| e.trim().starts_with("gzip")));
    let mut response = Response::new(Body::from(if gzip { asset.3 } else { asset.2 }));
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(asset.1));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    headers.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    if gzip {
        headers.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
    }
    secure(headers);
    response
}

/// The app's page, for every path the app routes itself (`/console/sagas/…`).
pub async fn page(request: HeaderMap) -> Response<Body> {
    match find("index.html") {
        Some(asset) => serve(asset, &request, "no-store"),
        None => not_found(),
    }
}

/// Any other path: the app's page for a GET under /console/ (the app routes it), else nothing.
pub async fn fallback(
    method: axum::http::Method,
    uri: axum::http::Uri,
    request: HeaderMap,
) -> Response<Body> {
    if method == axum::http::Method::GET && uri.path().starts_with("/console/") {
        page(request).await
    } else {
        not_found()
    }
}

/// A built file under `/console/assets/`; their names carry their content's hash.
pub async fn asset(Path(name): Path<String>, request: HeaderMap) -> Response<Body> {
    match find(&format!("assets/{name}")) {
        Some(asset) => serve(asset, &request, "public, max-age=31536000, immutable"),
        None => not_found(),
    }
}

fn not_found() -> Response<Body> {
    let mut response = Response::new(Body::empty());
    *response.status_mut() = StatusCode::NOT_FOUND;
    response
}

/// What a first visit loads, gzipped: the page and the files it names (scripts, styles, preloads); bytes and files.
pub fn first_load() -> (usize, usize) {
    let Some(page) = find("index.html") else {
        return (0, 0);
    };
    let html = String::from_utf8_lossy(page.2);
    let named: Vec<_> = ASSETS
        .iter()
        .filter(|a| a.0.starts_with("assets/") && html.contains(&format!("/console/{}", a.0)))
        .collect();
    (
        page.3.len() + named.iter().map(|a| a.3.len()).sum::<usize>(),
        1 + named.len(),
    )
}

//! The console as a token issuer, for deployments that sign people in with local accounts: its public keys
//! (`/.well-known/jwks.json`, which the services verify tokens with) and an OAuth 2.0 token endpoint for the
//! client-credentials grant (RFC 6749 §4.4), where the services and other departments' systems get their own
//! tokens. With OpenID Connect the identity provider does both and the console holds no key.

use std::time::Duration;

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::{Form, Json};
use base64::Engine;
use serde::Deserialize;
use sha2::{Digest, Sha256};
use suiji_platform::auth::Identity;

use crate::Console;

/// Lifetime of a client's token.
const CLIENT_TOKEN_TTL: Duration = Duration::from_secs(600);

/// The public keys of the console's signing key; 404 when it holds none.
pub async fn jwks(State(c): State<Console>) -> Response {
    match c.tokens.signer() {
        Some(signer) => (
            [(header::CACHE_CONTROL, "public, max-age=300")],
            Json(signer.jwks()),
        )
            .into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

#[derive(Deserialize)]
pub struct TokenRequest {
    #[serde(default)]
    grant_type: String,
    #[serde(default)]
    client_id: Option<String>,
    #[serde(default)]
    client_secret: Option<String>,
}

/// An OAuth 2.0 error answer (RFC 6749 §5.2).
fn oauth_error(status: StatusCode, error: &str, description: &str) -> Response {
    let mut response = (
        status,
        [(header::CACHE_CONTROL, "no-store")],
        Json(serde_json::json!({ "error": error, "error_description": description })),
    )
        .into_response();
    if status == StatusCode::UNAUTHORIZED {
        response.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Basic realm=\"suiji\""),
        );
    }
    response
}

/// The client id and secret of HTTP Basic authentication (RFC 6749 §2.3.1: each form-urlencoded).
fn basic(headers: &HeaderMap) -> Option<(String, String)> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let encoded = value.strip_prefix("Basic ")?;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (id, secret) = text.split_once(':')?;
    Some((url_decode(id)?, url_decode(secret)?))
}

/// `application/x-www-form-urlencoded` decoding of one value (`+` is a space, a literal plus is `%2B`).
fn url_decode(s: &str) -> Option<String> {
    percent_encoding::percent_decode_str(&s.replace('+', " "))
        .decode_utf8()
        .ok()
        .map(|s| s.into_owned())
}

/// Equal without telling by its time how much matched.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Issues a token to a configured client that proves its secret.
pub async fn token(
    State(c): State<Console>,
    headers: HeaderMap,
    Form(form): Form<TokenRequest>,
) -> Response {
    if form.grant_type != "client_credentials" {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            "only client_credentials is offered here",
        );
    }
    let presented = match (basic(&headers), form.client_id, form.client_secret) {
        (Some(pair), None, None) => pair,
        (None, Some(id), Some(secret)) => (id, secret),
        (None, _, _) => {
            return oauth_error(
                StatusCode::UNAUTHORIZED,
                "invalid_client",
                "authenticate with HTTP Basic or client_id and client_secret",
            );
        }
        (Some(_), _, _) => {
            return oauth_error(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                "use one way of client authentication, not two",
            );
        }
    };
    let digest = Sha256::digest(presented.1.as_bytes());
    let client = c.settings.clients.iter().find(|client| {
        client.id == presented.0
            && hex::decode(&client.secret_sha256).is_ok_and(|want| same(&want, &digest))
    });
    let Some(client) = client else {
        tracing::warn!(client_id = %presented.0, "client credentials refused");
        return oauth_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "unknown client or wrong secret",
        );
    };
    let identity = Identity {
        subject: format!("client:{}", client.id),
        department: client.department.clone(),
        roles: client.roles.clone(),
        inspector: None,
    };
    match c.tokens.issue(&identity, CLIENT_TOKEN_TTL) {
        Ok(token) => (
            [(header::CACHE_CONTROL, "no-store")],
            Json(serde_json::json!({
                "access_token": token,
                "token_type": "Bearer",
                "expires_in": CLIENT_TOKEN_TTL.as_secs(),
            })),
        )
            .into_response(),
        Err(error) => oauth_error(
            StatusCode::SERVICE_UNAVAILABLE,
            "temporarily_unavailable",
            &error.to_string(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_credentials_are_form_decoded() {
        let mut headers = HeaderMap::new();
        let encoded = base64::engine::general_purpose::STANDARD.encode("my%20app:s%2Bcret+x");
        headers.insert(
            header::AUTHORIZATION,
            HeaderValue::from_str(&format!("Basic {encoded}")).unwrap(),
        );
        assert_eq!(
            basic(&headers),
            Some(("my app".to_string(), "s+cret x".to_string()))
        );
    }

    #[test]
    fn same_compares_whole_values() {
        assert!(same(b"abc", b"abc"));
        assert!(!same(b"abc", b"abd"));
        assert!(!same(b"abc", b"ab"));
    }
}

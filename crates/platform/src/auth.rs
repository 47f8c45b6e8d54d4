//! Identity: callers present a bearer token (JWT, HS256) naming their department and roles. The gRPC layer
//! checks the token and puts the [`Identity`] in the request; each service decides what that identity may do.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

use crate::config::AuthSettings;

/// Role: edits the catalog items of the caller's department.
pub const ROLE_CATALOG_EDITOR: &str = "catalog.editor";
/// Role: publishes and retires the catalog items of the caller's department.
pub const ROLE_CATALOG_PUBLISHER: &str = "catalog.publisher";
/// Role: maintains the directories (imports targets and inspectors).
pub const ROLE_DIRECTORIES_EDITOR: &str = "directories.editor";
/// Role: operates the platform (migrations, audits, reference data).
pub const ROLE_ADMIN: &str = "admin";

/// Who is calling, as the token says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Identity {
    /// Person or system id (`sub`).
    pub subject: String,
    /// Department code the caller acts for.
    pub department: String,
    /// Roles held in that department.
    pub roles: Vec<String>,
}

impl Identity {
    /// Whether the caller holds `role`.
    pub fn has_role(&self, role: &str) -> bool {
        self.roles.iter().any(|r| r == role)
    }

    /// The identity of a service acting on its own (consumers, timers).
    pub fn system(service: &str) -> Self {
        Self {
            subject: format!("system:{service}"),
            // Tokens must name a department; a service acting on its own names none of the government's.
            department: "system".into(),
            roles: vec![ROLE_ADMIN.into()],
        }
    }
}

#[derive(Debug, Serialize, Deserialize)]
struct Claims {
    sub: String,
    dept: String,
    roles: Vec<String>,
    iss: String,
    iat: u64,
    exp: u64,
}

/// Why a token was refused.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    /// Malformed, wrongly signed, expired or from another issuer.
    #[error("invalid bearer token: {0}")]
    Invalid(String),
}

/// Checks and issues tokens with the configured secret.
#[derive(Clone)]
pub struct Tokens {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    issuer: String,
}

impl std::fmt::Debug for Tokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tokens")
            .field("issuer", &self.issuer)
            .finish_non_exhaustive()
    }
}

impl Tokens {
    /// Keys from the settings.
    pub fn new(settings: &AuthSettings) -> Self {
        let secret = settings.jwt_secret.expose().as_bytes();
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[settings.issuer.as_str()]);
        validation.set_required_spec_claims(&["exp", "iss", "sub"]);
        validation.leeway = 30;
        Self {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
            issuer: settings.issuer.clone(),
        }
    }

    /// Checks a token and returns who it names.
    pub fn verify(&self, token: &str) -> Result<Identity, TokenError> {
        let data = jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation)
            .map_err(|e| TokenError::Invalid(e.to_string()))?;
        let c = data.claims;
        if c.dept.is_empty() {
            return Err(TokenError::Invalid(
                "the token names no department (dept)".into(),
            ));
        }
        Ok(Identity {
            subject: c.sub,
            department: c.dept,
            roles: c.roles,
        })
    }

    /// Issues a token for `identity`, valid for `ttl`. Used by `suiji dev` and by tests.
    pub fn issue(&self, identity: &Identity, ttl: Duration) -> String {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_secs();
        let claims = Claims {
            sub: identity.subject.clone(),
            dept: identity.department.clone(),
            roles: identity.roles.clone(),
            iss: self.issuer.clone(),
            iat: now,
            exp: now + ttl.as_secs(),
        };
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .expect("HS256 encoding of plain claims cannot fail")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Secret;

    fn settings(secret: &str) -> AuthSettings {
        AuthSettings {
            jwt_secret: Secret::new(secret),
            issuer: "suiji".into(),
            dev_tokens: true,
        }
    }

    fn alice() -> Identity {
        Identity {
            subject: "alice".into(),
            department: "610000-SCJG".into(),
            roles: vec![ROLE_CATALOG_EDITOR.into()],
        }
    }

    #[test]
    fn a_token_round_trips() {
        let tokens = Tokens::new(&settings("0123456789abcdef0123"));
        let token = tokens.issue(&alice(), Duration::from_secs(60));
        assert_eq!(tokens.verify(&token).unwrap(), alice());
    }

    #[test]
    fn a_token_signed_with_another_secret_is_refused() {
        let token = Tokens::new(&settings("another-secret-0123456"))
            .issue(&alice(), Duration::from_secs(60));
        assert!(
            Tokens::new(&settings("0123456789abcdef0123"))
                .verify(&token)
                .is_err()
        );
    }

    #[test]
    fn an_expired_token_is_refused() {
        let tokens = Tokens::new(&settings("0123456789abcdef0123"));
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs();
        let claims = Claims {
            sub: "a".into(),
            dept: "d".into(),
            roles: vec![],
            iss: "suiji".into(),
            iat: now - 600,
            exp: now - 300,
        };
        let token = jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &tokens.encoding)
            .unwrap();
        let err = tokens.verify(&token).unwrap_err();
        assert!(err.to_string().contains("Expired"), "{err}");
    }
}

//! Identity: callers present a bearer token, a JWT signed with ES256 (or EdDSA), naming their department and
//! roles. Every service verifies tokens with public keys only — a JWKS from a file or a URL — and checks `iss`,
//! `aud` and a maximum lifetime. Only an issuer holds a private key: the console when it signs people in with
//! local accounts (and `suiji dev`); with OpenID Connect the identity provider is the issuer and suiji holds
//! none. A service that calls another gets its own token by OAuth 2.0 client credentials from `auth.token_url`.
//! The gRPC layer checks the token and puts the [`Identity`] in the request; each service decides what that
//! identity may do.
//!
//! One piece, though long: tokens are verified, issued and carried in one place, beside the roles they name, so
//! there is one reading of who a caller is.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use jsonwebtoken::jwk::{Jwk, JwkSet, KeyAlgorithm, ThumbprintHash};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::config::AuthSettings;

/// Role: edits the catalog items of the caller's department.
pub const ROLE_CATALOG_EDITOR: &str = "catalog.editor";
/// Role: publishes and retires the catalog items of the caller's department.
pub const ROLE_CATALOG_PUBLISHER: &str = "catalog.publisher";
/// Role: maintains the directories (imports targets and inspectors).
pub const ROLE_DIRECTORIES_EDITOR: &str = "directories.editor";
/// Role: operates the platform (migrations, audits, reference data).
pub const ROLE_ADMIN: &str = "admin";
/// Role: reads and checks the audit trails of every service (discipline inspection, the joint meeting's office).
pub const ROLE_AUDIT_READER: &str = "audit.reader";
/// Role: a service acting on its own or calling another (`system:<service>`): it reads what it needs of the others
/// (a draw's lists and teams, the directory's snapshots) and makes the draw's snapshots; it administers nothing.
pub const ROLE_SERVICE: &str = "service";
/// Role: an inspector on a visit's team, who confirms the record form (确认检查记录) under their own id, which
/// their token names ([`Identity::inspector`]).
pub const ROLE_MEMBER: &str = "inspection.member";
/// Role: the joint meeting (联席会议): approves plans, files amendments, oversees every department's inspections.
pub const ROLE_JOINT_MEETING: &str = "planning.joint-meeting";
/// Role: drafts and submits the caller's department's plans, creates and launches its tasks.
pub const ROLE_PLANNING_EDITOR: &str = "planning.editor";
/// Role: the judicial department (司法部门), with whom plan amendments are filed.
pub const ROLE_PLANNING_JUDICIAL: &str = "planning.judicial";
/// Role: draws and locks for the lead department, with witnesses when there are.
pub const ROLE_DRAW_OPERATOR: &str = "draw.operator";
/// Role: a department's coordinator of joint inspections: answers invitations, reviews, schedules, records.
pub const ROLE_INSPECTION_COORDINATOR: &str = "inspection.coordinator";
/// Role: enters the department's results (结果录入).
pub const ROLE_RESULT_ENTRY: &str = "publication.entry";
/// Role: reviews and publishes what another person of the department entered (four eyes).
pub const ROLE_RESULT_REVIEWER: &str = "publication.reviewer";
/// Role: reads every department's results and reports for the joint meeting.
pub const ROLE_RESULT_JOINT_MEETING: &str = "publication.joint-meeting";
/// Role: the head of a department (负责人): approves replacements, recusals, withholding and corrections.
pub const ROLE_DEPARTMENT_HEAD: &str = "department.head";

/// Every role a person's token may carry, in the order the console and `suiji token` list them.
pub const PEOPLE_ROLES: &[&str] = &[
    ROLE_CATALOG_EDITOR,
    ROLE_CATALOG_PUBLISHER,
    ROLE_DIRECTORIES_EDITOR,
    ROLE_PLANNING_EDITOR,
    ROLE_JOINT_MEETING,
    ROLE_PLANNING_JUDICIAL,
    ROLE_DRAW_OPERATOR,
    ROLE_INSPECTION_COORDINATOR,
    ROLE_MEMBER,
    ROLE_RESULT_ENTRY,
    ROLE_RESULT_REVIEWER,
    ROLE_RESULT_JOINT_MEETING,
    ROLE_DEPARTMENT_HEAD,
    ROLE_AUDIT_READER,
    ROLE_ADMIN,
];

/// How long a service keeps the keys of a JWKS URL before it fetches them again.
const KEYS_REFRESH: Duration = Duration::from_secs(300);
/// A token naming a key the set lacks fetches the set again, at most this often.
const KEYS_REFETCH_AT_MOST: Duration = Duration::from_secs(30);
/// Lifetime of the tokens a service signs for itself in development.
const SERVICE_TOKEN_TTL: Duration = Duration::from_secs(600);

/// Who is calling, as the token says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Identity {
    /// Person or system id (`sub`).
    pub subject: String,
    /// Department code the caller acts for.
    pub department: String,
    /// Roles held in that department.
    pub roles: Vec<String>,
    /// The inspector (执法检查人员) the caller is in the directories, when the caller is one: a team member
    /// confirms the record form under this id (`auth.inspector_claim`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inspector: Option<String>,
}

impl Identity {
    /// Whether the caller holds `role`.
    pub fn has_role(&self, role: &str) -> bool {
        self.roles.iter().any(|r| r == role)
    }

    /// Whether the caller oversees every department's work and so reads what is each department's own: an
    /// administrator, an audit reader (discipline inspection) or the joint meeting. Reading is all it grants.
    pub fn oversees(&self) -> bool {
        self.has_role(ROLE_ADMIN)
            || self.has_role(ROLE_AUDIT_READER)
            || self.has_role(ROLE_JOINT_MEETING)
    }

    /// The identity of a service acting on its own (consumers, timers).
    pub fn system(service: &str) -> Self {
        Self {
            subject: format!("system:{service}"),
            // Tokens must name a department; a service acting on its own names none of the government's.
            department: "system".into(),
            roles: vec![ROLE_SERVICE.into()],
            inspector: None,
        }
    }
}

/// The claims suiji writes when it issues a token.
#[derive(Debug, Serialize)]
struct Claims<'a> {
    sub: &'a str,
    dept: &'a str,
    roles: &'a [String],
    #[serde(skip_serializing_if = "Option::is_none")]
    inspector: Option<&'a str>,
    iss: &'a str,
    aud: &'a str,
    iat: u64,
    exp: u64,
}

/// Why a token was refused, or could not be had.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    /// Malformed, wrongly signed, expired, too long-lived, or from another issuer or for another audience.
    #[error("invalid bearer token: {0}")]
    Invalid(String),
    /// The keys or the token endpoint are not usable.
    #[error("{0}")]
    Setup(String),
}

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs()
}

/// An issuer's private key (ES256), with its public half as a JWK named by its RFC 7638 thumbprint.
pub struct Signer {
    key: EncodingKey,
    public: Jwk,
    issuer: String,
    audience: String,
}

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Signer")
            .field("kid", &self.kid())
            .field("issuer", &self.issuer)
            .finish_non_exhaustive()
    }
}

impl Signer {
    /// The key of `pem` (PKCS#8, P-256), issuing for `issuer` and `audience`.
    pub fn from_pem(pem: &str, issuer: &str, audience: &str) -> Result<Self, TokenError> {
        let key = EncodingKey::from_ec_pem(pem.as_bytes()).map_err(|e| {
            TokenError::Setup(format!(
                "auth.signing_key: not a PKCS#8 PEM EC P-256 private key ({e})"
            ))
        })?;
        let mut public = Jwk::from_encoding_key(&key, Algorithm::ES256)
            .map_err(|e| TokenError::Setup(format!("auth.signing_key: {e}")))?;
        let kid = public
            .thumbprint(ThumbprintHash::SHA256)
            .map_err(|e| TokenError::Setup(format!("auth.signing_key: {e}")))?;
        public.common.key_id = Some(kid);
        public.common.public_key_use = Some(jsonwebtoken::jwk::PublicKeyUse::Signature);
        Ok(Self {
            key,
            public,
            issuer: issuer.into(),
            audience: audience.into(),
        })
    }

    /// A new P-256 private key as PKCS#8 PEM (`suiji keys signing-key`, `suiji dev`, tests).
    pub fn generate_pem() -> String {
        use p256::pkcs8::{EncodePrivateKey, LineEnding};
        loop {
            let mut bytes = [0u8; 32];
            getrandom::fill(&mut bytes).expect("the operating system's random numbers");
            // A 32-byte string is a valid scalar unless it is zero or not below the group order (p < 2^-32).
            if let Ok(secret) = p256::SecretKey::from_slice(&bytes) {
                return secret
                    .to_pkcs8_pem(LineEnding::LF)
                    .expect("PKCS#8 encoding of a valid key")
                    .to_string();
            }
        }
    }

    /// The key id (`kid`) its tokens carry.
    pub fn kid(&self) -> &str {
        self.public.common.key_id.as_deref().unwrap_or_default()
    }

    /// The public key set that verifies its tokens.
    pub fn jwks(&self) -> JwkSet {
        JwkSet {
            keys: vec![self.public.clone()],
        }
    }

    /// A token for `identity`, valid for `ttl`.
    pub fn issue(&self, identity: &Identity, ttl: Duration) -> String {
        let now = now_secs();
        let claims = Claims {
            sub: &identity.subject,
            dept: &identity.department,
            roles: &identity.roles,
            inspector: identity.inspector.as_deref(),
            iss: &self.issuer,
            aud: &self.audience,
            iat: now,
            exp: now + ttl.as_secs(),
        };
        let mut header = Header::new(Algorithm::ES256);
        header.kid = Some(self.kid().to_string());
        jsonwebtoken::encode(&header, &claims, &self.key)
            .expect("ES256 signing of plain claims cannot fail")
    }
}

/// Where the verifying keys come from.
#[derive(Debug, Clone)]
enum KeySource {
    /// The public half of the process's own signing key.
    Own,
    /// A JWKS file, read once.
    File(String),
    /// A JWKS URL, fetched at start, every [`KEYS_REFRESH`], and when a token names an unknown key.
    Url(String),
}

/// Verifying keys by `kid`.
#[derive(Default)]
struct Keys {
    by_kid: HashMap<String, (DecodingKey, Algorithm)>,
    /// Keys without a `kid`, tried for tokens without one.
    anonymous: Vec<(DecodingKey, Algorithm)>,
}

impl Keys {
    fn of(set: &JwkSet) -> Self {
        let mut keys = Keys::default();
        for jwk in &set.keys {
            let algorithm = match (&jwk.common.key_algorithm, &jwk.algorithm) {
                (Some(KeyAlgorithm::ES256), _) => Algorithm::ES256,
                (Some(KeyAlgorithm::EdDSA), _) => Algorithm::EdDSA,
                (None, jsonwebtoken::jwk::AlgorithmParameters::EllipticCurve(p))
                    if p.curve == jsonwebtoken::jwk::EllipticCurve::P256 =>
                {
                    Algorithm::ES256
                }
                (None, jsonwebtoken::jwk::AlgorithmParameters::OctetKeyPair(_)) => Algorithm::EdDSA,
                // RSA, HMAC and the rest are not accepted: public keys of ES256 or EdDSA only.
                _ => continue,
            };
            let Ok(key) = DecodingKey::from_jwk(jwk) else {
                continue;
            };
            match &jwk.common.key_id {
                Some(kid) => {
                    keys.by_kid.insert(kid.clone(), (key, algorithm));
                }
                None => keys.anonymous.push((key, algorithm)),
            }
        }
        keys
    }
}

/// A token this process got for itself, kept until shortly before it expires.
#[derive(Default)]
struct Cached {
    token: String,
    until: Option<Instant>,
}

struct Inner {
    settings: AuthSettings,
    source: KeySource,
    keys: RwLock<Arc<Keys>>,
    signer: Option<Signer>,
    /// Wakes the fetcher of a URL source.
    refetch: Arc<tokio::sync::Notify>,
    fetched: tokio::sync::watch::Sender<bool>,
    own: tokio::sync::Mutex<Cached>,
    /// What every token is checked for (issuer, audience, required claims, leeway), by algorithm: made once.
    validations: [(Algorithm, Validation); 2],
    /// The HTTP client of the key fetches and the token requests, made on first use.
    http: std::sync::OnceLock<reqwest::Client>,
}

impl Inner {
    fn http(&self) -> &reqwest::Client {
        self.http.get_or_init(|| {
            reqwest::Client::builder()
                // A redirect would let an answer send this process's secret anywhere.
                .redirect(reqwest::redirect::Policy::none())
                .timeout(Duration::from_secs(10))
                .build()
                .expect("an HTTP client")
        })
    }
}

/// What a token signed with `algorithm` is checked for under `s`.
fn validation(algorithm: Algorithm, s: &AuthSettings) -> Validation {
    let mut validation = Validation::new(algorithm);
    validation.set_issuer(&[s.issuer.as_str()]);
    validation.set_audience(&[s.audience.as_str()]);
    validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
    validation.leeway = 30;
    validation
}

/// Verifies callers' tokens, and gets this process's own.
#[derive(Clone)]
pub struct Tokens {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Tokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tokens")
            .field("issuer", &self.inner.settings.issuer)
            .field("source", &self.inner.source)
            .finish_non_exhaustive()
    }
}

impl Tokens {
    /// Keys from the settings. A JWKS URL is fetched in the background (this must run inside Tokio); until
    /// it has answered, tokens are refused — [`Tokens::ready`] waits for it.
    pub fn new(settings: &AuthSettings) -> Result<Self, TokenError> {
        let signer = match settings.signing_key.expose().trim() {
            "" => None,
            pem => Some(Signer::from_pem(pem, &settings.issuer, &settings.audience)?),
        };
        let jwks = settings.jwks.trim();
        let source = if jwks.is_empty() {
            KeySource::Own
        } else if jwks.starts_with("http://") || jwks.starts_with("https://") {
            KeySource::Url(jwks.to_string())
        } else {
            KeySource::File(jwks.to_string())
        };
        let keys = match &source {
            KeySource::Own => {
                let signer = signer.as_ref().ok_or_else(|| {
                    TokenError::Setup(
                        "auth.jwks is empty and there is no auth.signing_key: name the JWKS file or URL that verifies tokens"
                            .into(),
                    )
                })?;
                Keys::of(&signer.jwks())
            }
            KeySource::File(path) => {
                let text = std::fs::read_to_string(path)
                    .map_err(|e| TokenError::Setup(format!("auth.jwks: reading {path}: {e}")))?;
                let set: JwkSet = serde_json::from_str(&text).map_err(|e| {
                    TokenError::Setup(format!("auth.jwks: {path} is not a JWKS: {e}"))
                })?;
                Keys::of(&set)
            }
            KeySource::Url(_) => Keys::default(),
        };
        let fetched = matches!(source, KeySource::Own | KeySource::File(_));
        let tokens = Self {
            inner: Arc::new(Inner {
                settings: settings.clone(),
                source,
                keys: RwLock::new(Arc::new(keys)),
                signer,
                refetch: Arc::new(tokio::sync::Notify::new()),
                fetched: tokio::sync::watch::Sender::new(fetched),
                own: tokio::sync::Mutex::new(Cached::default()),
                validations: [Algorithm::ES256, Algorithm::EdDSA]
                    .map(|a| (a, validation(a, settings))),
                http: std::sync::OnceLock::new(),
            }),
        };
        if let KeySource::Url(url) = &tokens.inner.source {
            tokio::spawn(fetch_keys(
                Arc::downgrade(&tokens.inner),
                tokens.inner.refetch.clone(),
                url.clone(),
            ));
        }
        Ok(tokens)
    }

    /// Waits (at most `limit`) until the verifying keys are loaded; whether they are.
    pub async fn ready(&self, limit: Duration) -> bool {
        let mut fetched = self.inner.fetched.subscribe();
        tokio::time::timeout(limit, fetched.wait_for(|f| *f))
            .await
            .is_ok_and(|r| r.is_ok())
    }

    /// The issuer's key, when this process holds one.
    pub fn signer(&self) -> Option<&Signer> {
        self.inner.signer.as_ref()
    }

    /// Checks a token and returns who it names.
    pub fn verify(&self, token: &str) -> Result<Identity, TokenError> {
        let header =
            jsonwebtoken::decode_header(token).map_err(|e| TokenError::Invalid(e.to_string()))?;
        if !matches!(header.alg, Algorithm::ES256 | Algorithm::EdDSA) {
            return Err(TokenError::Invalid(format!(
                "{:?} is not accepted: tokens are signed with ES256 or EdDSA",
                header.alg
            )));
        }
        let keys = self.inner.keys.read().expect("keys lock").clone();
        let candidates: Vec<&(DecodingKey, Algorithm)> = match &header.kid {
            Some(kid) => match keys.by_kid.get(kid) {
                Some(key) => vec![key],
                None => {
                    self.inner.refetch.notify_one();
                    return Err(TokenError::Invalid(format!(
                        "no key {kid:?} in auth.jwks{}",
                        if *self.inner.fetched.borrow() {
                            ""
                        } else {
                            " (the key set has not been fetched yet)"
                        }
                    )));
                }
            },
            None => keys.anonymous.iter().collect(),
        };
        let mut last = TokenError::Invalid("the token names no key (kid)".into());
        for (key, algorithm) in candidates {
            if *algorithm != header.alg {
                continue;
            }
            let Some((_, validation)) = self.inner.validations.iter().find(|(a, _)| a == algorithm)
            else {
                continue;
            };
            match jsonwebtoken::decode::<serde_json::Map<String, Value>>(token, key, validation) {
                Ok(data) => return self.identity(&data.claims),
                Err(e) => last = TokenError::Invalid(e.to_string()),
            }
        }
        Err(last)
    }

    fn identity(&self, claims: &serde_json::Map<String, Value>) -> Result<Identity, TokenError> {
        let s = &self.inner.settings;
        let number = |name: &str| claims.get(name).and_then(Value::as_u64);
        let (Some(iat), Some(exp)) = (number("iat"), number("exp")) else {
            return Err(TokenError::Invalid(
                "the token must carry iat and exp".into(),
            ));
        };
        if exp.saturating_sub(iat) > s.max_token_lifetime_secs {
            return Err(TokenError::Invalid(format!(
                "the token is valid for {} s, longer than auth.max_token_lifetime_secs ({})",
                exp.saturating_sub(iat),
                s.max_token_lifetime_secs
            )));
        }
        if iat > now_secs() + 60 {
            return Err(TokenError::Invalid(
                "the token is issued in the future".into(),
            ));
        }
        let subject = claims
            .get("sub")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        let department = claims
            .get(&s.department_claim)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        if department.is_empty() {
            return Err(TokenError::Invalid(format!(
                "the token names no department ({})",
                s.department_claim
            )));
        }
        let roles = match claims.get(&s.roles_claim) {
            Some(Value::Array(items)) => items
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect(),
            Some(Value::String(text)) => text.split_whitespace().map(str::to_string).collect(),
            _ => Vec::new(),
        };
        let inspector = claims
            .get(&s.inspector_claim)
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|id| !id.is_empty())
            .map(str::to_string);
        Ok(Identity {
            subject,
            department,
            roles,
            inspector,
        })
    }

    /// Issues a token for `identity` with this process's signing key: the console signing people in, `suiji
    /// dev` and tests.
    pub fn issue(&self, identity: &Identity, ttl: Duration) -> Result<String, TokenError> {
        let signer = self.inner.signer.as_ref().ok_or_else(|| {
            TokenError::Setup("this process holds no auth.signing_key: it issues no tokens".into())
        })?;
        Ok(signer.issue(identity, ttl))
    }

    /// This process's own token, to call another service as `system:{service}`: by client credentials from
    /// `auth.token_url`, or — in development only, without one — signed with its own key. Kept until a minute
    /// before it expires.
    pub async fn service_token(&self, service: &str) -> Result<String, TokenError> {
        let mut own = self.inner.own.lock().await;
        if own.until.is_some_and(|until| Instant::now() < until) {
            return Ok(own.token.clone());
        }
        let s = &self.inner.settings;
        let (token, lifetime) = if !s.token_url.is_empty() {
            client_credentials(s, self.inner.http()).await?
        } else if s.dev_tokens
            && let Some(signer) = &self.inner.signer
        {
            (
                signer.issue(&Identity::system(service), SERVICE_TOKEN_TTL),
                SERVICE_TOKEN_TTL,
            )
        } else {
            return Err(TokenError::Setup(
                "auth.token_url is not set: this process cannot get a token to call the other services"
                    .into(),
            ));
        };
        own.token = token.clone();
        own.until = Some(Instant::now() + lifetime.saturating_sub(Duration::from_secs(60)));
        Ok(token)
    }
}

/// Fetches the key set of `url` until the tokens are dropped: at start (retrying), every [`KEYS_REFRESH`], and
/// when a token names an unknown key (at most every [`KEYS_REFETCH_AT_MOST`]).
async fn fetch_keys(inner: std::sync::Weak<Inner>, refetch: Arc<tokio::sync::Notify>, url: String) {
    let Some(client) = inner.upgrade().map(|i| i.http().clone()) else {
        return;
    };
    let mut retry = Duration::from_millis(200);
    loop {
        let fetched = async {
            let response = client.get(&url).send().await?.error_for_status()?;
            response.json::<JwkSet>().await
        }
        .await;
        let last = Instant::now();
        let wait = {
            let Some(strong) = inner.upgrade() else {
                return;
            };
            match fetched {
                Ok(set) => {
                    *strong.keys.write().expect("keys lock") = Arc::new(Keys::of(&set));
                    strong.fetched.send_replace(true);
                    retry = Duration::from_millis(200);
                    KEYS_REFRESH
                }
                Err(error) => {
                    tracing::warn!(%error, url, "fetching the token keys (auth.jwks) failed; retrying");
                    retry = (retry * 2).min(Duration::from_secs(10));
                    retry
                }
            }
        };
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = refetch.notified() => {
                tokio::time::sleep(KEYS_REFETCH_AT_MOST.saturating_sub(last.elapsed())).await;
            }
        }
    }
}

/// A token by OAuth 2.0 client credentials, and how long it is good for.
async fn client_credentials(
    s: &AuthSettings,
    http: &reqwest::Client,
) -> Result<(String, Duration), TokenError> {
    use oauth2::basic::BasicClient;
    use oauth2::{ClientId, ClientSecret, TokenResponse, TokenUrl};
    let url = TokenUrl::new(s.token_url.clone())
        .map_err(|e| TokenError::Setup(format!("auth.token_url: {e}")))?;
    let client = BasicClient::new(ClientId::new(s.client_id.clone()))
        .set_client_secret(ClientSecret::new(s.client_secret.expose().to_string()))
        .set_token_uri(url);
    let response = client
        .exchange_client_credentials()
        .request_async(http)
        .await
        .map_err(|e| TokenError::Setup(format!("client credentials at {}: {e}", s.token_url)))?;
    let lifetime = response
        .expires_in()
        .unwrap_or(Duration::from_secs(300))
        .min(Duration::from_secs(s.max_token_lifetime_secs));
    Ok((response.access_token().secret().clone(), lifetime))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Secret;

    fn settings(pem: &str) -> AuthSettings {
        AuthSettings {
            issuer: "suiji".into(),
            audience: "suiji".into(),
            jwks: String::new(),
            max_token_lifetime_secs: 3600,
            signing_key: Secret::new(pem),
            department_claim: "dept".into(),
            roles_claim: "roles".into(),
            inspector_claim: "inspector".into(),
            dev_tokens: true,
            token_url: String::new(),
            client_id: String::new(),
            client_secret: Secret::new(""),
        }
    }

    fn alice() -> Identity {
        Identity {
            subject: "alice".into(),
            department: "610000-SCJG".into(),
            roles: vec![ROLE_CATALOG_EDITOR.into()],
            inspector: None,
        }
    }

    fn sign(signer: &Signer, claims: &Value, alg: Algorithm, key: &EncodingKey) -> String {
        let mut header = Header::new(alg);
        header.kid = Some(signer.kid().to_string());
        jsonwebtoken::encode(&header, claims, key).unwrap()
    }

    #[tokio::test]
    async fn a_token_round_trips() {
        let tokens = Tokens::new(&settings(&Signer::generate_pem())).unwrap();
        let token = tokens.issue(&alice(), Duration::from_secs(60)).unwrap();
        assert_eq!(tokens.verify(&token).unwrap(), alice());
    }

    #[tokio::test]
    async fn an_inspector_id_round_trips_and_is_read_where_the_settings_say() {
        let tokens = Tokens::new(&settings(&Signer::generate_pem())).unwrap();
        let member = Identity {
            roles: vec![ROLE_MEMBER.into()],
            inspector: Some("INS-0001".into()),
            ..alice()
        };
        let token = tokens.issue(&member, Duration::from_secs(60)).unwrap();
        assert_eq!(tokens.verify(&token).unwrap(), member);
        let mut s = settings(&Signer::generate_pem());
        s.inspector_claim = "employee_no".into();
        let tokens = Tokens::new(&s).unwrap();
        let signer = tokens.signer().unwrap();
        let now = now_secs();
        for (value, read) in [("INS-0002", Some("INS-0002")), ("  ", None)] {
            let claims = serde_json::json!({"sub":"a","dept":"d","employee_no":value,"inspector":"INS-9","iss":"suiji","aud":"suiji","iat":now,"exp":now+60});
            let token = sign(signer, &claims, Algorithm::ES256, &signer.key);
            assert_eq!(tokens.verify(&token).unwrap().inspector.as_deref(), read);
        }
    }

    #[tokio::test]
    async fn a_token_of_another_key_is_refused() {
        let other = Tokens::new(&settings(&Signer::generate_pem())).unwrap();
        let token = other.issue(&alice(), Duration::from_secs(60)).unwrap();
        let tokens = Tokens::new(&settings(&Signer::generate_pem())).unwrap();
        let err = tokens.verify(&token).unwrap_err();
        assert!(err.to_string().contains("no key"), "{err}");
    }

    #[tokio::test]
    async fn a_forged_kid_with_another_key_is_refused() {
        let tokens = Tokens::new(&settings(&Signer::generate_pem())).unwrap();
        let mine = tokens.signer().unwrap();
        let forger = Signer::from_pem(&Signer::generate_pem(), "suiji", "suiji").unwrap();
        let now = now_secs();
        let claims = serde_json::json!({"sub":"x","dept":"d","roles":["admin"],"iss":"suiji","aud":"suiji","iat":now,"exp":now+60});
        let token = sign(mine, &claims, Algorithm::ES256, &forger.key);
        let err = tokens.verify(&token).unwrap_err();
        assert!(err.to_string().contains("InvalidSignature"), "{err}");
    }

    #[tokio::test]
    async fn an_hmac_token_is_refused() {
        let tokens = Tokens::new(&settings(&Signer::generate_pem())).unwrap();
        let now = now_secs();
        let claims = serde_json::json!({"sub":"x","dept":"d","iss":"suiji","aud":"suiji","iat":now,"exp":now+60});
        let token = jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &claims,
            &EncodingKey::from_secret(b"suiji-development-secret-change-me"),
        )
        .unwrap();
        let err = tokens.verify(&token).unwrap_err();
        assert!(err.to_string().contains("HS256"), "{err}");
    }

    #[tokio::test]
    async fn expired_wrong_audience_wrong_issuer_and_too_long_are_refused() {
        let tokens = Tokens::new(&settings(&Signer::generate_pem())).unwrap();
        let signer = tokens.signer().unwrap();
        let now = now_secs();
        let cases = [
            (
                serde_json::json!({"sub":"a","dept":"d","iss":"suiji","aud":"suiji","iat":now-600,"exp":now-300}),
                "Expired",
            ),
            (
                serde_json::json!({"sub":"a","dept":"d","iss":"suiji","aud":"another","iat":now,"exp":now+60}),
                "InvalidAudience",
            ),
            (
                serde_json::json!({"sub":"a","dept":"d","iss":"elsewhere","aud":"suiji","iat":now,"exp":now+60}),
                "InvalidIssuer",
            ),
            (
                serde_json::json!({"sub":"a","dept":"d","iss":"suiji","aud":"suiji","iat":now,"exp":now+7200}),
                "max_token_lifetime_secs",
            ),
            (
                serde_json::json!({"sub":"a","dept":"d","iss":"suiji","aud":"suiji","exp":now+60}),
                "iat",
            ),
            (
                serde_json::json!({"sub":"a","iss":"suiji","aud":"suiji","iat":now,"exp":now+60}),
                "department",
            ),
        ];
        for (claims, why) in cases {
            let token = sign(signer, &claims, Algorithm::ES256, &signer.key);
            let err = tokens.verify(&token).unwrap_err();
            assert!(err.to_string().contains(why), "{claims}: {err}");
        }
    }

    #[tokio::test]
    async fn claims_are_read_where_the_settings_say() {
        let mut s = settings(&Signer::generate_pem());
        s.department_claim = "suiji_department".into();
        s.roles_claim = "scope".into();
        let tokens = Tokens::new(&s).unwrap();
        let signer = tokens.signer().unwrap();
        let now = now_secs();
        let claims = serde_json::json!({"sub":"a","suiji_department":"610400-STHJ","scope":"catalog.editor admin","iss":"suiji","aud":"suiji","iat":now,"exp":now+60});
        let token = sign(signer, &claims, Algorithm::ES256, &signer.key);
        let who = tokens.verify(&token).unwrap();
        assert_eq!(who.department, "610400-STHJ");
        assert_eq!(who.roles, ["catalog.editor", "admin"]);
    }

    #[tokio::test]
    async fn a_jwks_file_verifies_without_the_private_key() {
        let signer = Signer::from_pem(&Signer::generate_pem(), "suiji", "suiji").unwrap();
        let dir = std::env::temp_dir().join(format!("suiji-jwks-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("jwks.json");
        std::fs::write(&path, serde_json::to_string(&signer.jwks()).unwrap()).unwrap();
        let mut s = settings("");
        s.jwks = path.display().to_string();
        let tokens = Tokens::new(&s).unwrap();
        assert!(tokens.signer().is_none());
        let token = signer.issue(&alice(), Duration::from_secs(60));
        assert_eq!(tokens.verify(&token).unwrap(), alice());
        assert!(tokens.issue(&alice(), Duration::from_secs(60)).is_err());
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[tokio::test]
    async fn without_keys_or_a_token_url_nothing_is_issued() {
        assert!(Tokens::new(&settings("")).is_err());
        let mut s = settings(&Signer::generate_pem());
        s.dev_tokens = false;
        let tokens = Tokens::new(&s).unwrap();
        let err = tokens.service_token("draw").await.unwrap_err();
        assert!(err.to_string().contains("auth.token_url"), "{err}");
    }
}

//! Sign-in with OpenID Connect: the authorization code flow with PKCE against the department's identity
//! provider. The provider is the issuer of every token: the console keeps the person's access token in the
//! session and forwards it with their calls, and the services verify it with the provider's public keys. Which
//! claims carry the department and the roles is `auth.department_claim` / `auth.roles_claim`; the console reads
//! them from the access token exactly as the services will, so a sign-in the services would refuse is refused
//! here, at the door.
//!
//! The flow under way lives in the console's database (`oidc_flows`), so the provider's answer may reach any
//! replica; a cookie ties it to the browser that began it.

use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use openidconnect::core::{CoreAuthenticationFlow, CoreClient, CoreProviderMetadata};
use openidconnect::{
    AccessTokenHash, AuthorizationCode, ClientId, ClientSecret, CsrfToken, IssuerUrl, Nonce,
    OAuth2TokenResponse, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, Scope, TokenResponse,
};
use serde::Deserialize;
use suiji_platform::config::OidcSettings;

use crate::{COOKIE, Console, PATH, sessions};

/// The cookie that ties a sign-in under way to its browser.
const FLOW_COOKIE: &str = "suiji_oidc";

/// The provider, discovered on first use (and again after a failure).
#[derive(Clone)]
pub struct Provider {
    settings: Arc<OidcSettings>,
    metadata: Arc<tokio::sync::OnceCell<CoreProviderMetadata>>,
    http: openidconnect::reqwest::Client,
}

impl Provider {
    /// The provider of `settings`, when sign-in with one is configured.
    pub fn of(settings: &OidcSettings) -> Option<Self> {
        if settings.issuer_url.is_empty() {
            return None;
        }
        let http = openidconnect::reqwest::Client::builder()
            // Following redirects would let a provider's answer send the console anywhere (SSRF).
            .redirect(openidconnect::reqwest::redirect::Policy::none())
            .timeout(std::time::Duration::from_secs(10))
            .build()
            .expect("an HTTP client");
        Some(Self {
            settings: Arc::new(settings.clone()),
            metadata: Arc::new(tokio::sync::OnceCell::new()),
            http,
        })
    }

    /// The button's label.
    pub fn label(&self) -> &str {
        &self.settings.label
    }

    async fn metadata(&self) -> Result<&CoreProviderMetadata, String> {
        self.metadata
            .get_or_try_init(|| async {
                let issuer = IssuerUrl::new(self.settings.issuer_url.clone())
                    .map_err(|e| format!("console.oidc.issuer_url: {e}"))?;
                CoreProviderMetadata::discover_async(issuer, &self.http)
                    .await
                    .map_err(|e| format!("discovering {}: {e}", self.settings.issuer_url))
            })
            .await
    }

    async fn client(
        &self,
    ) -> Result<
        CoreClient<
            openidconnect::EndpointSet,
            openidconnect::EndpointNotSet,
            openidconnect::EndpointNotSet,
            openidconnect::EndpointNotSet,
            openidconnect::EndpointMaybeSet,
            openidconnect::EndpointMaybeSet,
        >,
        String,
    > {
        let metadata = self.metadata().await?.clone();
        let redirect = RedirectUrl::new(self.settings.redirect_url.clone())
            .map_err(|e| format!("console.oidc.redirect_url: {e}"))?;
        let secret = self.settings.client_secret.expose();
        Ok(CoreClient::from_provider_metadata(
            metadata,
            ClientId::new(self.settings.client_id.clone()),
            (!secret.is_empty()).then(|| ClientSecret::new(secret.to_string())),
        )
        .set_redirect_uri(redirect))
    }
}

#[derive(Deserialize)]
pub struct Start {
    #[serde(default)]
    next: String,
}

/// Only a path inside the console may be where a sign-in returns to.
fn inside(next: &str) -> String {
    if next.starts_with(PATH) && !next.starts_with("//") && !next.contains("://") {
        next.to_string()
    } else {
        format!("{PATH}/")
    }
}

/// Where a failed sign-in lands: the sign-in page, with the reason's code.
fn failed(code: &str) -> Response {
    Redirect::to(&format!("{PATH}/sign-in?signin_error={code}")).into_response()
}

/// Begins a sign-in: remembers the PKCE verifier and the nonce under the state, and sends the browser to the
/// provider.
pub async fn start(State(c): State<Console>, Query(q): Query<Start>) -> Response {
    let Some(provider) = &c.oidc else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let client = match provider.client().await {
        Ok(client) => client,
        Err(error) => {
            tracing::error!(%error, "the identity provider");
            return failed("provider_unavailable");
        }
    };
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let mut request = client
        .authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .set_pkce_challenge(challenge);
    for scope in &provider.settings.scopes {
        request = request.add_scope(Scope::new(scope.clone()));
    }
    if !provider.settings.resource.is_empty() {
        request = request.add_extra_param("resource", provider.settings.resource.clone());
    }
    let (url, state, nonce) = request.url();
    if let Err(error) = c
        .sessions
        .begin_flow(
            state.secret(),
            verifier.secret(),
            nonce.secret(),
            &inside(&q.next),
        )
        .await
    {
        tracing::error!(%error, "recording a sign-in");
        return failed("unavailable");
    }
    // Lax: the provider's answer is a top-level navigation from its site, which a Strict cookie would miss.
    let cookie = format!(
        "{FLOW_COOKIE}={}; Path={PATH}/oidc; HttpOnly; Secure; SameSite=Lax; Max-Age=3600",
        state.secret()
    );
    ([(header::SET_COOKIE, cookie)], Redirect::to(url.as_str())).into_response()
}

#[derive(Deserialize)]
pub struct Callback {
    #[serde(default)]
    code: String,
    #[serde(default)]
    state: String,
    #[serde(default)]
    error: String,
}

/// The provider's answer: checks the state against the browser's cookie, exchanges the code with the PKCE
/// verifier, verifies the ID token (signature, issuer, audience, nonce, the access token's hash) and the access
/// token (as the services will), and starts the session.
pub async fn callback(
    State(c): State<Console>,
    headers: HeaderMap,
    Query(q): Query<Callback>,
) -> Response {
    let Some(provider) = &c.oidc else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let clear =
        format!("{FLOW_COOKIE}=; Path={PATH}/oidc; HttpOnly; Secure; SameSite=Lax; Max-Age=0");
    let fail = |code: &str| ([(header::SET_COOKIE, clear.clone())], failed(code)).into_response();
    if !q.error.is_empty() {
        tracing::info!(error = %q.error, "the identity provider refused the sign-in");
        return fail("refused");
    }
    if q.state.is_empty()
        || crate::cookie(&headers, FLOW_COOKIE).as_deref() != Some(q.state.as_str())
    {
        tracing::warn!("a sign-in answer whose state this browser did not begin");
        return fail("state");
    }
    let flow = match c.sessions.take_flow(&q.state).await {
        Ok(Some(flow)) => flow,
        Ok(None) => return fail("state"),
        Err(error) => {
            tracing::error!(%error, "reading a sign-in");
            return fail("unavailable");
        }
    };
    let (verifier, nonce, next) = flow;
    match finish(&c, provider, q.code, verifier, nonce).await {
        Ok((identity, name, access, until)) => {
            match c
                .sessions
                .start(&identity, &name, "oidc", Some((&access, until)))
                .await
            {
                Ok((id, _)) => {
                    tracing::info!(subject = %identity.subject, department = %identity.department, "signed in with OpenID Connect");
                    let cookie = format!(
                        "{COOKIE}={id}; Path={PATH}; HttpOnly; Secure; SameSite=Strict; Max-Age={}",
                        sessions::LIFETIME.as_secs()
                    );
                    let mut response = Redirect::to(&next).into_response();
                    let headers = response.headers_mut();
                    headers.append(header::SET_COOKIE, cookie.parse().expect("a cookie header"));
                    headers.append(header::SET_COOKIE, clear.parse().expect("a cookie header"));
                    response
                }
                Err(error) => {
                    tracing::error!(%error, "starting a session");
                    fail("unavailable")
                }
            }
        }
        Err((code, detail)) => {
            tracing::warn!(%detail, code, "an OpenID Connect sign-in failed");
            fail(code)
        }
    }
}

type Finished = (suiji_platform::auth::Identity, String, String, i64);

async fn finish(
    c: &Console,
    provider: &Provider,
    code: String,
    verifier: String,
    nonce: String,
) -> Result<Finished, (&'static str, String)> {
    let client = provider
        .client()
        .await
        .map_err(|e| ("provider_unavailable", e))?;
    let mut exchange = client
        .exchange_code(AuthorizationCode::new(code))
        .map_err(|e| ("provider_unavailable", e.to_string()))?
        .set_pkce_verifier(PkceCodeVerifier::new(verifier));
    if !provider.settings.resource.is_empty() {
        exchange = exchange.add_extra_param("resource", provider.settings.resource.clone());
    }
    let tokens = exchange
        .request_async(&provider.http)
        .await
        .map_err(|e| ("exchange", e.to_string()))?;
    let id_token = tokens
        .id_token()
        .ok_or(("exchange", "the provider sent no ID token".to_string()))?;
    let id_verifier = client.id_token_verifier();
    let claims = id_token
        .claims(&id_verifier, &Nonce::new(nonce))
        .map_err(|e| ("id_token", e.to_string()))?;
    if let Some(expected) = claims.access_token_hash() {
        let algorithm = id_token
            .signing_alg()
            .map_err(|e| ("id_token", e.to_string()))?;
        let key = id_token
            .signing_key(&id_verifier)
            .map_err(|e| ("id_token", e.to_string()))?;
        let actual = AccessTokenHash::from_token(tokens.access_token(), algorithm, key)
            .map_err(|e| ("id_token", e.to_string()))?;
        if actual != *expected {
            return Err(("id_token", "the access token is not the ID token's".into()));
        }
    }
    let access = tokens.access_token().secret().clone();
    // The services will check the access token with the provider's keys: so does the door.
    let identity = c
        .tokens
        .verify(&access)
        .map_err(|e| ("access_token", e.to_string()))?;
    if identity.subject != claims.subject().as_str() {
        return Err((
            "access_token",
            "the access token names another person than the ID token".into(),
        ));
    }
    let name = claims
        .name()
        .and_then(|n| n.get(None))
        .map(|n| n.as_str().to_string())
        .or_else(|| claims.preferred_username().map(|n| n.as_str().to_string()))
        .unwrap_or_else(|| identity.subject.clone());
    let lifetime = tokens
        .expires_in()
        .unwrap_or(std::time::Duration::from_secs(300));
    let until = sessions::wall_ms() + lifetime.as_millis() as i64 - 30_000;
    Ok((identity, name, access, until))
}

//! Sessions of signed-in people, in the console's database so that every replica serves the same people. The
//! cookie carries 256 random bits; the table keeps only their SHA-256, with who the person is and the token each
//! change must carry back in a header (CSRF). A session ends when it is signed out, after [`IDLE`] without use, or
//! [`LIFETIME`] after it began.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use sha2::{Digest, Sha256};
use suiji_platform::auth::Identity;
use suiji_platform::db::Db;

/// A session unused this long ends.
pub const IDLE: Duration = Duration::from_secs(8 * 3600);

/// A session ends this long after sign-in, used or not.
pub const LIFETIME: Duration = Duration::from_secs(12 * 3600);

/// An OpenID Connect sign-in must come back from the provider within this (ms).
const FLOW_LIFETIME_MS: i64 = 3_600_000;

/// Last-use times are written at most this often per session.
const TOUCH_EVERY: i64 = 60_000;

/// Wall-clock now in epoch milliseconds: sessions follow real time, not the platform's test clock.
pub fn wall_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or_default()
}

/// A signed-in person's session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// Who, for which department, with which roles.
    pub identity: Identity,
    /// Name shown.
    pub display_name: String,
    /// `local` or `oidc`.
    pub source: String,
    /// What the `x-suiji-csrf` header of every change must say.
    pub csrf: String,
    /// When it ends at the latest (epoch ms).
    pub expires_at: i64,
    /// The identity provider's access token (OpenID Connect sessions), forwarded with the person's calls.
    pub access_token: Option<String>,
}

#[derive(sqlx::FromRow)]
struct SessionRow {
    subject: String,
    display_name: String,
    department: String,
    roles: String,
    source: String,
    csrf: String,
    last_seen: i64,
    expires_at: i64,
    access_token: Option<String>,
    inspector: Option<String>,
}

/// The sessions table.
#[derive(Clone)]
pub struct Sessions {
    db: Db,
}

fn id_hash(id: &str) -> String {
    hex::encode(Sha256::digest(id.as_bytes()))
}

/// 256 random bits as hex.
pub fn random_hex() -> Result<String, getrandom::Error> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes)?;
    Ok(hex::encode(bytes))
}

impl Sessions {
    /// The sessions in the console's database.
    pub fn new(db: Db) -> Self {
        Self { db }
    }

    /// Starts a session; returns the id for the cookie (never stored) and the session. An OpenID Connect
    /// session carries the provider's access token and ends when it expires (`access` = token, expiry in ms).
    pub async fn start(
        &self,
        identity: &Identity,
        display_name: &str,
        source: &str,
        access: Option<(&str, i64)>,
    ) -> Result<(String, Session), sqlx::Error> {
        let random = |_| sqlx::Error::Protocol("no randomness".into());
        let id = random_hex().map_err(random)?;
        let csrf = random_hex().map_err(random)?;
        let now = wall_ms();
        let session = Session {
            identity: identity.clone(),
            display_name: display_name.to_string(),
            source: source.to_string(),
            csrf,
            expires_at: access
                .map_or(i64::MAX, |(_, until)| until)
                .min(now + LIFETIME.as_millis() as i64),
            access_token: access.map(|(token, _)| token.to_string()),
        };
        sqlx::query(
            "INSERT INTO sessions (id_hash, subject, display_name, department, roles, source, csrf, created_at, \
             last_seen, expires_at, access_token, inspector) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8, $9, $10, $11)",
        )
        .bind(id_hash(&id))
        .bind(&identity.subject)
        .bind(display_name)
        .bind(&identity.department)
        .bind(serde_json::to_string(&identity.roles).expect("strings serialize"))
        .bind(source)
        .bind(&session.csrf)
        .bind(now)
        .bind(session.expires_at)
        .bind(&session.access_token)
        .bind(&identity.inspector)
        .execute(self.db.pool())
        .await?;
        Ok((id, session))
    }

    /// The live session of a cookie's id; marks it used.
    pub async fn find(&self, id: &str) -> Result<Option<Session>, sqlx::Error> {
        let now = wall_ms();
        let hash = id_hash(id);
        let row: Option<SessionRow> = sqlx::query_as(
            "SELECT subject, display_name, department, roles, source, csrf, last_seen, expires_at, access_token, \
             inspector FROM sessions \
             WHERE id_hash = $1 AND revoked_at IS NULL AND expires_at > $2 AND last_seen > $3",
        )
        .bind(&hash)
        .bind(now)
        .bind(now - IDLE.as_millis() as i64)
        .fetch_optional(self.db.pool())
        .await?;
        let Some(row) = row else {
            return Ok(None);
        };
        if now - row.last_seen > TOUCH_EVERY {
            sqlx::query("UPDATE sessions SET last_seen = $2 WHERE id_hash = $1")
                .bind(&hash)
                .bind(now)
                .execute(self.db.pool())
                .await?;
        }
        Ok(Some(Session {
            identity: Identity {
                subject: row.subject,
                department: row.department,
                roles: serde_json::from_str(&row.roles).unwrap_or_default(),
                inspector: row.inspector,
            },
            display_name: row.display_name,
            source: row.source,
            csrf: row.csrf,
            expires_at: row.expires_at,
            access_token: row.access_token,
        }))
    }

    /// Ends the session of a cookie's id.
    pub async fn revoke(&self, id: &str) -> Result<(), sqlx::Error> {
        sqlx::query(
            "UPDATE sessions SET revoked_at = $2 WHERE id_hash = $1 AND revoked_at IS NULL",
        )
        .bind(id_hash(id))
        .bind(wall_ms())
        .execute(self.db.pool())
        .await?;
        Ok(())
    }

    /// Ends every session of a person (their account changed: roles, password, disabled).
    pub async fn revoke_subject(&self, subject: &str) -> Result<u64, sqlx::Error> {
        Ok(sqlx::query(
            "UPDATE sessions SET revoked_at = $2 WHERE subject = $1 AND revoked_at IS NULL",
        )
        .bind(subject)
        .bind(wall_ms())
        .execute(self.db.pool())
        .await?
        .rows_affected())
    }

    /// Records an OpenID Connect sign-in under way: the state's hash, the PKCE verifier, the nonce and where the
    /// person was going.
    pub async fn begin_flow(
        &self,
        state: &str,
        verifier: &str,
        nonce: &str,
        next: &str,
    ) -> Result<(), sqlx::Error> {
        sqlx::query(
            "INSERT INTO oidc_flows (state_hash, verifier, nonce, next, created_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(id_hash(state))
        .bind(verifier)
        .bind(nonce)
        .bind(next)
        .bind(wall_ms())
        .execute(self.db.pool())
        .await?;
        Ok(())
    }

    /// Takes the sign-in of `state` (once: a second answer with the same state finds nothing): its verifier,
    /// nonce and destination, when it is under an hour old.
    pub async fn take_flow(
        &self,
        state: &str,
    ) -> Result<Option<(String, String, String)>, sqlx::Error> {
        let hash = id_hash(state);
        let mut tx = self.db.pool().begin().await?;
        let row: Option<(String, String, String, i64)> = sqlx::query_as(
            "SELECT verifier, nonce, next, created_at FROM oidc_flows WHERE state_hash = $1",
        )
        .bind(&hash)
        .fetch_optional(&mut *tx)
        .await?;
        let deleted = sqlx::query("DELETE FROM oidc_flows WHERE state_hash = $1")
            .bind(&hash)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        tx.commit().await?;
        Ok(row
            .filter(|r| deleted == 1 && wall_ms() - r.3 < FLOW_LIFETIME_MS)
            .map(|(verifier, nonce, next, _)| (verifier, nonce, next)))
    }

    /// Deletes sessions that ended more than a day ago, and sign-ins never finished; how many sessions.
    pub async fn purge(&self) -> Result<u64, sqlx::Error> {
        sqlx::query("DELETE FROM oidc_flows WHERE created_at < $1")
            .bind(wall_ms() - FLOW_LIFETIME_MS)
            .execute(self.db.pool())
            .await?;
        let before = wall_ms() - 24 * 3600 * 1000;
        Ok(sqlx::query(
            "DELETE FROM sessions WHERE expires_at < $1 OR revoked_at < $1 OR last_seen < $2",
        )
        .bind(before)
        .bind(before - IDLE.as_millis() as i64)
        .execute(self.db.pool())
        .await?
        .rows_affected())
    }
}

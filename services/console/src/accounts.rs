//! Local accounts: user name and password (Argon2id), for the embedded default and deployments without single
//! sign-on. Repeated failures lock an account for a while; an unknown name costs the same hashing as a wrong
//! password, so the answer's timing does not tell which names exist.

use std::time::Duration;

use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use suiji_platform::auth::Identity;
use suiji_platform::db::Db;

use crate::sessions::wall_ms;

/// Failed sign-ins in a row that lock an account.
pub const MAX_FAILURES: i64 = 5;

/// How long a locked account stays locked.
pub const LOCKED_FOR: Duration = Duration::from_secs(15 * 60);

/// Shortest password taken when one is set.
pub const MIN_PASSWORD: usize = 10;

/// A new random password: 16 letters and digits, without the ones people misread (0/O, 1/l/I).
pub fn new_password() -> Result<String, getrandom::Error> {
    const ALPHABET: &[u8] = b"abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes)?;
    // 256 is not a multiple of the alphabet's 56 letters: bytes past the last whole multiple are drawn again.
    let limit = 256 - 256 % ALPHABET.len();
    let mut out = String::new();
    for mut b in bytes {
        while usize::from(b) >= limit {
            let mut one = [0u8; 1];
            getrandom::fill(&mut one)?;
            b = one[0];
        }
        out.push(ALPHABET[usize::from(b) % ALPHABET.len()] as char);
    }
    Ok(out)
}

/// A person's local account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    /// Sign-in name.
    pub username: String,
    /// Name shown, e.g. 张三.
    pub display_name: String,
    /// Department code the person acts for.
    pub department: String,
    /// Roles held there.
    pub roles: Vec<String>,
    /// The person's inspector id in the directories, when they are an inspector: their tokens carry it, and with
    /// the role `inspection.member` they confirm visits' record forms under their own name.
    pub inspector_id: Option<String>,
    /// Disabled accounts cannot sign in.
    pub disabled: bool,
}

impl Account {
    /// The identity the person's calls carry.
    pub fn identity(&self) -> Identity {
        Identity {
            subject: self.username.clone(),
            department: self.department.clone(),
            roles: self.roles.clone(),
            inspector: self.inspector_id.clone(),
        }
    }
}

/// Why a sign-in was refused.
#[derive(Debug, thiserror::Error)]
pub enum SignInError {
    /// Unknown name or wrong password (not told apart).
    #[error("the user name or password is not right")]
    Wrong,
    /// Too many failures; locked until this time (epoch ms).
    #[error("the account is locked until {0}")]
    Locked(i64),
    /// Disabled by an administrator.
    #[error("the account is disabled")]
    Disabled,
    /// The database failed.
    #[error(transparent)]
    Db(#[from] sqlx::Error),
    /// Hashing failed.
    #[error("password hashing: {0}")]
    Hash(String),
}

/// Why an account could not be saved.
#[derive(Debug, thiserror::Error)]
pub enum SaveError {
    /// A field is not acceptable: which and why.
    #[error("{0}: {1}")]
    Invalid(&'static str, String),
    /// The database failed.
    #[error(transparent)]
    Db(#[from] sqlx::Error),
    /// Hashing failed.
    #[error("password hashing: {0}")]
    Hash(String),
}

/// The accounts table.
#[derive(Clone)]
pub struct Accounts {
    db: Db,
}

/// What every account must have: a user name without spaces, a department, roles of lower-case words.
fn validate(account: &Account) -> Result<(), SaveError> {
    if account.username.trim().is_empty() || account.username.chars().any(char::is_whitespace) {
        return Err(SaveError::Invalid(
            "username",
            "a user name is required, without spaces".into(),
        ));
    }
    if account.department.trim().is_empty() {
        return Err(SaveError::Invalid(
            "department",
            "a department is required".into(),
        ));
    }
    if let Some(role) = account.roles.iter().find(|r| {
        r.is_empty()
            || !r
                .chars()
                .all(|c| c.is_ascii_lowercase() || c == '.' || c == '-')
    }) {
        return Err(SaveError::Invalid(
            "roles",
            format!("{role:?} is not a role name"),
        ));
    }
    Ok(())
}

/// A hash of no one's password, checked when the name is unknown so that answer takes as long as a wrong one.
static DECOY: std::sync::OnceLock<String> = std::sync::OnceLock::new();

async fn hash(password: String) -> Result<String, String> {
    tokio::task::spawn_blocking(move || {
        Argon2::default()
            .hash_password(password.as_bytes())
            .map(|h| h.to_string())
            .map_err(|e| e.to_string())
    })
    .await
    .map_err(|e| e.to_string())?
}

/// Whether `password` is the one `stored` was made from; `None`: checks against the decoy (and fails).
async fn verify(password: String, stored: Option<String>) -> bool {
    tokio::task::spawn_blocking(move || {
        let stored = stored.unwrap_or_else(|| {
            DECOY
                .get_or_init(|| {
                    Argon2::default()
                        .hash_password(b"no one's password")
                        .map(|h| h.to_string())
                        .unwrap_or_default()
                })
                .clone()
        });
        PasswordHash::new(&stored)
            .map(|h| {
                Argon2::default()
                    .verify_password(password.as_bytes(), &h)
                    .is_ok()
            })
            .unwrap_or(false)
    })
    .await
    .unwrap_or(false)
}

impl Accounts {
    /// The accounts in the console's database.
    pub fn new(db: Db) -> Self {
        Self { db }
    }

    /// Creates the account or replaces its name, department, roles and password; unlocks and enables it.
    pub async fn save(&self, account: &Account, password: &str) -> Result<(), SaveError> {
        validate(account)?;
        if password.chars().count() < MIN_PASSWORD {
            return Err(SaveError::Invalid(
                "password",
                format!("at least {MIN_PASSWORD} characters"),
            ));
        }
        let hashed = hash(password.to_string()).await.map_err(SaveError::Hash)?;
        let roles = serde_json::to_string(&account.roles).expect("strings serialize");
        let now = wall_ms();
        sqlx::query(
            "INSERT INTO accounts (username, display_name, department, roles, password_hash, failed_attempts, \
             locked_until, disabled, created_at, updated_at, inspector_id) VALUES ($1, $2, $3, $4, $5, 0, 0, $6, $7, $7, $8) \
             ON CONFLICT (username) DO UPDATE SET display_name = excluded.display_name, \
             department = excluded.department, roles = excluded.roles, password_hash = excluded.password_hash, \
             inspector_id = excluded.inspector_id, \
             failed_attempts = 0, locked_until = 0, disabled = excluded.disabled, updated_at = excluded.updated_at",
        )
        .bind(&account.username)
        .bind(&account.display_name)
        .bind(&account.department)
        .bind(roles)
        .bind(hashed)
        .bind(i64::from(account.disabled))
        .bind(now)
        .bind(&account.inspector_id)
        .execute(self.db.pool())
        .await?;
        Ok(())
    }

    /// Changes an account's name, department, roles and whether it is disabled; its password stays. False when
    /// there is no such account.
    pub async fn update(&self, account: &Account) -> Result<bool, SaveError> {
        validate(account)?;
        let roles = serde_json::to_string(&account.roles).expect("strings serialize");
        let changed = sqlx::query(
            "UPDATE accounts SET display_name = $2, department = $3, roles = $4, disabled = $5, updated_at = $6, \
             inspector_id = $7 WHERE username = $1",
        )
        .bind(&account.username)
        .bind(&account.display_name)
        .bind(&account.department)
        .bind(roles)
        .bind(i64::from(account.disabled))
        .bind(wall_ms())
        .bind(&account.inspector_id)
        .execute(self.db.pool())
        .await?
        .rows_affected();
        Ok(changed == 1)
    }

    /// Every account, by user name, with whether it is locked now.
    pub async fn list(&self) -> Result<Vec<(Account, bool)>, sqlx::Error> {
        let rows: Vec<AccountRow> = sqlx::query_as(
            "SELECT username, display_name, department, roles, password_hash, failed_attempts, locked_until, \
             disabled, inspector_id FROM accounts ORDER BY username",
        )
        .fetch_all(self.db.pool())
        .await?;
        let now = wall_ms();
        Ok(rows
            .into_iter()
            .map(|r| {
                let locked = r.locked_until > now;
                (r.into_account(), locked)
            })
            .collect())
    }

    /// The account of `username`, if any.
    pub async fn get(&self, username: &str) -> Result<Option<Account>, sqlx::Error> {
        Ok(self.row(username).await?.map(|(a, _)| a))
    }

    async fn row(&self, username: &str) -> Result<Option<(Account, Stored)>, sqlx::Error> {
        let row: Option<AccountRow> = sqlx::query_as(
            "SELECT username, display_name, department, roles, password_hash, failed_attempts, locked_until, \
             disabled, inspector_id FROM accounts WHERE username = $1",
        )
        .bind(username)
        .fetch_optional(self.db.pool())
        .await?;
        Ok(row.map(|r| {
            let stored = Stored {
                hash: r.password_hash.clone(),
                failed: r.failed_attempts,
                locked_until: r.locked_until,
            };
            (r.into_account(), stored)
        }))
    }

    /// Checks a user name and password. A wrong password counts towards the lock; a right one clears the count.
    pub async fn sign_in(&self, username: &str, password: &str) -> Result<Account, SignInError> {
        let Some((account, stored)) = self.row(username).await? else {
            verify(password.to_string(), None).await;
            return Err(SignInError::Wrong);
        };
        let now = wall_ms();
        if stored.locked_until > now {
            return Err(SignInError::Locked(stored.locked_until));
        }
        if !verify(password.to_string(), Some(stored.hash)).await {
            // Counted in the statement itself, so two replicas' failures add up.
            let locked_until: i64 = sqlx::query_scalar(
                "UPDATE accounts SET failed_attempts = failed_attempts + 1, \
                 locked_until = CASE WHEN failed_attempts + 1 >= $2 THEN $3 ELSE locked_until END \
                 WHERE username = $1 RETURNING locked_until",
            )
            .bind(username)
            .bind(MAX_FAILURES)
            .bind(now + LOCKED_FOR.as_millis() as i64)
            .fetch_one(self.db.pool())
            .await?;
            if locked_until > now {
                sqlx::query("UPDATE accounts SET failed_attempts = 0 WHERE username = $1")
                    .bind(username)
                    .execute(self.db.pool())
                    .await?;
                return Err(SignInError::Locked(locked_until));
            }
            return Err(SignInError::Wrong);
        }
        if account.disabled {
            return Err(SignInError::Disabled);
        }
        if stored.failed != 0 {
            sqlx::query("UPDATE accounts SET failed_attempts = 0 WHERE username = $1")
                .bind(username)
                .execute(self.db.pool())
                .await?;
        }
        Ok(account)
    }
}

#[derive(sqlx::FromRow)]
struct AccountRow {
    username: String,
    display_name: String,
    department: String,
    roles: String,
    password_hash: String,
    failed_attempts: i64,
    locked_until: i64,
    disabled: i64,
    inspector_id: Option<String>,
}

impl AccountRow {
    fn into_account(self) -> Account {
        Account {
            username: self.username,
            display_name: self.display_name,
            department: self.department,
            roles: serde_json::from_str(&self.roles).unwrap_or_default(),
            inspector_id: self.inspector_id,
            disabled: self.disabled != 0,
        }
    }
}

struct Stored {
    hash: String,
    failed: i64,
    locked_until: i64,
}

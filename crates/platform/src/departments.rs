//! Every service's copy of the departments (the platform's `departments` table): seeded from the reference
//! file at start, kept current from `directories.department.upserted`, owned by the directories service.

use std::sync::{Arc, LazyLock, RwLock};
use std::time::{Duration, Instant};

use sqlx::{AnyConnection, Row};

use crate::db::{Db, flag, now_ms};
use crate::reference::DepartmentSeed;

/// The department names this process has read, by code, and when it last read the whole table: for wording what is
/// said without reading the table on every call. Filled when the departments are seeded, and read again by
/// [`words_in`] when older than [`READ_AGAIN`], so a name changed by another replica's event is known here within
/// that time.
static KNOWN: LazyLock<RwLock<Known>> = LazyLock::new(Default::default);

/// How long the names read from the table serve before they are read again.
const READ_AGAIN: Duration = Duration::from_secs(30);

#[derive(Default)]
struct Known {
    names: Arc<crate::messages::Names>,
    read_at: Option<Instant>,
}

/// The department names this process knows (see [`KNOWN`]).
pub fn known_names() -> Arc<crate::messages::Names> {
    KNOWN
        .read()
        .map(|k| Arc::clone(&k.names))
        .unwrap_or_default()
}

/// Adds `names` to those known; `whole`: they are the whole table, just read.
fn remember(names: impl IntoIterator<Item = (String, String)>, whole: bool) {
    if let Ok(mut known) = KNOWN.write() {
        let mut next = (*known.names).clone();
        next.extend(names);
        known.names = Arc::new(next);
        if whole {
            known.read_at = Some(Instant::now());
        }
    }
}

/// Adds or updates a department.
pub async fn upsert(
    conn: &mut AnyConnection,
    d: &DepartmentSeed,
    active: bool,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO departments (code, name, level, region_code, active, updated_at) VALUES ($1, $2, $3, $4, $5, $6) \
         ON CONFLICT (code) DO UPDATE SET name = excluded.name, level = excluded.level, \
         region_code = excluded.region_code, active = excluded.active, updated_at = excluded.updated_at",
    )
    .bind(&d.code)
    .bind(&d.name)
    .bind(&d.level)
    .bind(&d.region_code)
    .bind(flag(active))
    .bind(now_ms())
    .execute(conn)
    .await?;
    Ok(())
}

/// Loads the reference file (`path` empty: the shipped demo departments) into `db`.
pub async fn seed(db: &Db, path: &str) -> Result<usize, String> {
    let seeds = crate::reference::departments(path)?;
    let mut tx = db.begin().await.map_err(|e| e.to_string())?;
    for seed in &seeds {
        upsert(&mut tx, seed, true)
            .await
            .map_err(|e| e.to_string())?;
    }
    tx.commit().await.map_err(|e| e.to_string())?;
    remember(
        seeds.iter().map(|d| (d.code.clone(), d.name.clone())),
        false,
    );
    Ok(seeds.len())
}

/// Whether an active department has this code.
pub async fn exists(conn: &mut AnyConnection, code: &str) -> Result<bool, sqlx::Error> {
    let n: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM departments WHERE code = $1 AND active = 1")
            .bind(code)
            .fetch_one(conn)
            .await?;
    Ok(n > 0)
}

/// The name and level (`province`, `city`, `county`) of department `code`, active or not, if it is known here.
pub async fn find(
    conn: &mut AnyConnection,
    code: &str,
) -> Result<Option<(String, String)>, sqlx::Error> {
    let row = sqlx::query("SELECT name, level FROM departments WHERE code = $1")
        .bind(code)
        .fetch_optional(conn)
        .await?;
    row.map(|r| Ok((r.try_get("name")?, r.try_get("level")?)))
        .transpose()
}

/// Codes of the active departments.
pub async fn codes(conn: &mut AnyConnection) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar("SELECT code FROM departments WHERE active = 1")
        .fetch_all(conn)
        .await
}

/// Every department with whether it is active, by code.
pub async fn list(
    conn: &mut AnyConnection,
    include_inactive: bool,
) -> Result<Vec<(DepartmentSeed, bool)>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT code, name, level, region_code, active FROM departments WHERE active = 1 OR $1 = 1 ORDER BY code",
    )
    .bind(flag(include_inactive))
    .fetch_all(conn)
    .await?;
    rows.iter()
        .map(|r| {
            Ok((
                DepartmentSeed {
                    code: r.try_get("code")?,
                    name: r.try_get("name")?,
                    level: r.try_get("level")?,
                    region_code: r.try_get("region_code")?,
                },
                r.try_get::<i64, _>("active")? != 0,
            ))
        })
        .collect()
}

/// How the texts the caller of `request` reads are worded: its language, and the departments by name (all of
/// them, active or not: a text may name one since merged away), from the names known here, read again from `db`
/// when older than [`READ_AGAIN`].
pub async fn words_in<T>(
    request: &tonic::Request<T>,
    db: &Db,
) -> Result<crate::messages::Words, tonic::Status> {
    let fresh = KNOWN.read().ok().and_then(|k| {
        k.read_at
            .filter(|at| at.elapsed() < READ_AGAIN)
            .map(|_| Arc::clone(&k.names))
    });
    let names = match fresh {
        Some(names) => names,
        None => {
            let mut conn = db
                .pool()
                .acquire()
                .await
                .map_err(crate::error::Error::from)?;
            let all = list(&mut conn, true)
                .await
                .map_err(crate::error::Error::from)?;
            remember(all.into_iter().map(|(d, _)| (d.code, d.name)), true);
            known_names()
        }
    };
    Ok(crate::messages::Words {
        lang: crate::grpc::lang(request),
        names,
    })
}

/// Applies a department's change (`suiji_api::topics::DepartmentUpserted`) to the local copy.
pub async fn apply(
    conn: &mut AnyConnection,
    event: suiji_api::directories::v1::DepartmentUpsertedEvent,
) -> Result<(), crate::inbox::HandleError> {
    use crate::inbox::HandleError;
    use suiji_api::directories::v1::DepartmentLevel;
    let d = event
        .department
        .ok_or_else(|| HandleError::Permanent("no department".into()))?;
    if !matches!(
        DepartmentLevel::try_from(d.level),
        Ok(DepartmentLevel::Province | DepartmentLevel::City | DepartmentLevel::County)
    ) {
        return Err(HandleError::Permanent(format!(
            "department {}: unknown level {}",
            d.code, d.level
        )));
    }
    let seed = DepartmentSeed {
        level: suiji_api::named::name::<DepartmentLevel>(d.level),
        code: d.code,
        name: d.name,
        region_code: d.region_code,
    };
    upsert(conn, &seed, d.active)
        .await
        .map_err(|e| HandleError::Transient(e.to_string()))
}

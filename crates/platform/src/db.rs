//! One database code path for SQLite (the embedded default) and PostgreSQL, chosen by URL.
//!
//! Decisions kept here and nowhere else:
//! - Queries go through sqlx's `Any` driver with `$1` placeholders, so stores are written once.
//! - `Any` knows few types, so columns hold only integers, text and blobs: flags are 0/1 integers, times are
//!   epoch milliseconds (`i64`), structured values are JSON text.
//! - SQLite keeps one file per service (`<dir>/<service>.db`), in WAL mode, and write transactions start with
//!   `BEGIN IMMEDIATE` so two writers queue instead of failing to upgrade their locks.
//! - PostgreSQL keeps one schema per service in one database, with `search_path` set on every connection,
//!   because sqlx keeps one migration table per search path.
//! - Each service's migrator runs the platform's own tables (outbox, inbox, audit) first, then its own.

use std::time::Duration;

use sqlx::any::{AnyPoolOptions, install_default_drivers};
use sqlx::migrate::{Migration, Migrator};
use sqlx::{Any, AnyPool, AssertSqlSafe, Executor};

use crate::config::DatabaseSettings;

/// A transaction on a service's database.
pub type Tx = sqlx::Transaction<'static, Any>;

/// The platform's own tables, present in every service's database, migration versions 1–999.
static PLATFORM_POSTGRES: Migrator = sqlx::migrate!("../../migrations/platform/postgres");
static PLATFORM_SQLITE: Migrator = sqlx::migrate!("../../migrations/platform/sqlite");

/// Which SQL dialect a database speaks, for the few statements that differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// SQLite 3.
    Sqlite,
    /// PostgreSQL.
    Postgres,
}

/// A service's migrations for both dialects, versions 1000 and up.
pub struct Migrations {
    /// Migrations for PostgreSQL.
    pub postgres: &'static Migrator,
    /// Migrations for SQLite.
    pub sqlite: &'static Migrator,
}

/// How long a pooled connection may sit idle before it is checked with a ping when next taken.
const PING_AFTER_IDLE: Duration = Duration::from_secs(1);

/// A service's connection pool.
#[derive(Clone, Debug)]
pub struct Db {
    pool: AnyPool,
    dialect: Dialect,
    service: String,
    /// A native PostgreSQL pool (lazy, same search path) for what `Any` cannot do: `COPY` for bulk loads.
    postgres: Option<sqlx::PgPool>,
}

impl Db {
    /// Opens (creating when needed) the database of `service`.
    #[tracing::instrument(skip(settings), fields(service))]
    pub async fn connect(settings: &DatabaseSettings, service: &str) -> Result<Self, sqlx::Error> {
        install_default_drivers();
        let url = settings.url.expose();
        // A connection is pinged before reuse only after it has been idle a while: a ping on every acquire is a
        // round trip per transaction. One that died meanwhile fails its statement, which the caller retries.
        let options = AnyPoolOptions::new()
            .max_connections(settings.max_connections)
            .acquire_timeout(Duration::from_secs(settings.acquire_timeout_secs))
            .test_before_acquire(false)
            .before_acquire(|conn, meta| {
                Box::pin(async move {
                    if meta.idle_for > PING_AFTER_IDLE {
                        sqlx::Connection::ping(conn).await?;
                    }
                    Ok(true)
                })
            });
        if let Some(dir) = url.strip_prefix("sqlite:") {
            let dir = dir.trim_start_matches("//");
            std::fs::create_dir_all(dir).map_err(sqlx::Error::Io)?;
            let file = std::path::Path::new(dir).join(format!("{service}.db"));
            let url = format!("sqlite://{}?mode=rwc", file.display());
            let pool = options
                .after_connect(|conn, _| {
                    Box::pin(async move {
                        conn.execute(
                            "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; \
                             PRAGMA busy_timeout = 10000; PRAGMA foreign_keys = ON;",
                        )
                        .await?;
                        Ok(())
                    })
                })
                .connect(&url)
                .await?;
            Ok(Self {
                pool,
                dialect: Dialect::Sqlite,
                service: service.to_string(),
                postgres: None,
            })
        } else {
            let schema = quote_ident(service);
            // The schema name is the service's own constant name, quoted.
            // Create the schema before the pool's connections start pointing their search_path at it.
            let bootstrap = AnyPoolOptions::new()
                .max_connections(1)
                .connect(url)
                .await?;
            // A service's own role (docs/security.md) owns its schema, made beforehand by `suiji grants`, and may
            // not create schemas: it is made here only when missing (PostgreSQL checks the right to create before it
            // looks whether the schema exists).
            let exists: Option<i32> =
                sqlx::query_scalar("SELECT 1 FROM pg_namespace WHERE nspname = $1")
                    .bind(service)
                    .fetch_optional(&bootstrap)
                    .await?;
            if exists.is_none() {
                bootstrap
                    .execute(AssertSqlSafe(format!(
                        "CREATE SCHEMA IF NOT EXISTS {schema}"
                    )))
                    .await?;
            }
            bootstrap.close().await;
            // The application name tells an operator's `pg_stat_activity` which service a connection serves.
            let set_path = format!(
                "SET search_path TO {schema}; SET application_name TO {}",
                quote_literal(&format!("suiji-{service}"))
            );
            let native_path = set_path.clone();
            let postgres = sqlx::postgres::PgPoolOptions::new()
                .max_connections(4)
                .acquire_timeout(Duration::from_secs(settings.acquire_timeout_secs))
                .after_connect(move |conn, _| {
                    let set_path = native_path.clone();
                    Box::pin(async move {
                        conn.execute(AssertSqlSafe(set_path)).await?;
                        Ok(())
                    })
                })
                .connect_lazy(url)?;
            let pool = options
                .after_connect(move |conn, _| {
                    let set_path = set_path.clone();
                    Box::pin(async move {
                        conn.execute(AssertSqlSafe(set_path)).await?;
                        Ok(())
                    })
                })
                .connect(url)
                .await?;
            Ok(Self {
                pool,
                dialect: Dialect::Postgres,
                service: service.to_string(),
                postgres: Some(postgres),
            })
        }
    }

    /// Applies the platform's migrations and then the service's, each once.
    #[tracing::instrument(skip_all, fields(service = %self.service))]
    pub async fn migrate(
        &self,
        migrations: &Migrations,
    ) -> Result<(), sqlx::migrate::MigrateError> {
        let (platform, service) = match self.dialect {
            Dialect::Sqlite => (&PLATFORM_SQLITE, migrations.sqlite),
            Dialect::Postgres => (&PLATFORM_POSTGRES, migrations.postgres),
        };
        let all: Vec<Migration> = platform.iter().chain(service.iter()).cloned().collect();
        let mut migrator = Migrator::with_migrations(all);
        migrator.set_locking(self.dialect == Dialect::Postgres);
        migrator.run(&self.pool).await
    }

    /// Starts a write transaction.
    pub async fn begin(&self) -> Result<Tx, sqlx::Error> {
        match self.dialect {
            Dialect::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await,
            Dialect::Postgres => self.pool.begin().await,
        }
    }

    /// The pool, for reads outside a transaction.
    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// The native PostgreSQL pool, for bulk paths (`COPY`); `None` on SQLite.
    pub fn postgres(&self) -> Option<&sqlx::PgPool> {
        self.postgres.as_ref()
    }

    /// The dialect of this database.
    pub fn dialect(&self) -> Dialect {
        self.dialect
    }

    /// The service whose database this is.
    pub fn service(&self) -> &str {
        &self.service
    }

    /// Closes every connection.
    pub async fn close(&self) {
        if let Some(pg) = &self.postgres {
            pg.close().await;
        }
        self.pool.close().await;
    }
}

/// Quotes an SQL identifier.
pub fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// Quotes an SQL string literal.
pub fn quote_literal(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

/// Now, in epoch milliseconds, as every time column stores it.
pub fn now_ms() -> i64 {
    crate::clock::now_ms()
}

/// Whether an error is a unique-key violation.
pub fn is_unique_violation(error: &sqlx::Error) -> bool {
    error
        .as_database_error()
        .is_some_and(|e| e.is_unique_violation())
}

/// Whether `conn` talks to PostgreSQL (for statements only it can run, such as a data-modifying `WITH`).
pub fn is_postgres(conn: &sqlx::AnyConnection) -> bool {
    conn.backend_name() == "PostgreSQL"
}

/// A bool as the 0/1 integer a flag column stores.
pub fn flag(value: bool) -> i64 {
    i64::from(value)
}

/// `($1, $2, …), ($k+1, …)`: the VALUES list of a multi-row insert of `rows` rows of `columns` values, for
/// `Any` (whose query builder writes `?`, which PostgreSQL does not accept).
pub fn values_list(rows: usize, columns: usize) -> String {
    values_rows(rows, columns, |p| format!("({})", p.join(", ")))
}

/// The VALUES list of `rows` rows, each written by `row` from its `columns` placeholders (`$1`… for the
/// first row, on from there): for rows with constants or expressions among their values.
pub fn values_rows(rows: usize, columns: usize, row: impl Fn(&[String]) -> String) -> String {
    values_rows_from(1, rows, columns, row)
}

/// [`values_rows`] with placeholders from `$first`, for rows bound after other parameters.
pub fn values_rows_from(
    first: usize,
    rows: usize,
    columns: usize,
    row: impl Fn(&[String]) -> String,
) -> String {
    (0..rows)
        .map(|r| {
            let placeholders: Vec<String> = (0..columns)
                .map(|c| format!("${}", first + r * columns + c))
                .collect();
            row(&placeholders)
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// `$first, $first+1, …`: a list of `n` placeholders, for `IN (…)`.
pub fn placeholder_list(first: usize, n: usize) -> String {
    (first..first + n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Integers as an SQL list, `1,2,3`, for `IN (…)` over ids a statement read itself (`Any` has no arrays; being
/// integers, they are safe inline).
pub fn integer_list(values: &[i64]) -> String {
    values
        .iter()
        .map(i64::to_string)
        .collect::<Vec<_>>()
        .join(",")
}

#[cfg(test)]
mod tests {
    #[test]
    fn placeholders_number_from_one() {
        assert_eq!(super::values_list(2, 3), "($1, $2, $3), ($4, $5, $6)");
        assert_eq!(super::placeholder_list(3, 2), "$3, $4");
        assert_eq!(super::integer_list(&[7, -1, 30]), "7,-1,30");
    }
}

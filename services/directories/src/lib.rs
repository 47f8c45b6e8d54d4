//! The directories service: the two directories (两库) — inspection targets and inspectors — and the
//! departments every other service refers to.

pub mod domain;
pub mod generate;
pub mod import;
pub mod store;

use suiji_platform::db::Migrations;

/// The service's name: its schema, its queue, its events' prefix.
pub const NAME: &str = "directories";

static POSTGRES: sqlx::migrate::Migrator = sqlx::migrate!("../../migrations/directories/postgres");
static SQLITE: sqlx::migrate::Migrator = sqlx::migrate!("../../migrations/directories/sqlite");

/// The directories' migrations.
pub fn migrations() -> Migrations {
    Migrations {
        postgres: &POSTGRES,
        sqlite: &SQLITE,
    }
}

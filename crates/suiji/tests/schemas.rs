//! The two migration trees of every service, held to each other: each service (and the console) is migrated on
//! SQLite and on PostgreSQL, and the tables, their columns, whether each may be NULL, and the indexes (their key
//! columns, in order, and whether unique; PostgreSQL's INCLUDE columns ride along uncompared) must be the same on
//! both. What differs on purpose is listed below with
//! the reason; anything else that differs fails, so the trees cannot drift apart (docs/adr/0004-two-backends.md).

use std::collections::{BTreeMap, BTreeSet};

use sqlx::{AnyConnection, Row};
use suiji_platform::db::{Db, Migrations};
use suiji_platform::testing::{Backend, isolated, require};

/// What one backend's schema says: tables with their columns (name → NOT NULL), and indexes as (table, columns,
/// unique).
#[derive(Debug, Default)]
struct Schema {
    tables: BTreeMap<String, BTreeMap<String, bool>>,
    indexes: BTreeSet<(String, Vec<String>, bool)>,
}

/// Tables only one backend has, on purpose: (service, table, why).
const ONE_BACKEND_TABLES: &[(&str, &str, &str)] = &[];

/// Indexes only one backend has, on purpose: (service, table, columns joined by ',', why).
const ONE_BACKEND_INDEXES: &[(&str, &str, &str, &str)] = &[(
    "directories",
    "import_changes",
    "before_import,id",
    "SQLite finds a writer's replaced rows by this index; PostgreSQL computes them in one merge by the key",
)];

async fn sqlite_schema(conn: &mut AnyConnection) -> Schema {
    let mut schema = Schema::default();
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' \
         AND name <> '_sqlx_migrations' ORDER BY name",
    )
    .fetch_all(&mut *conn)
    .await
    .unwrap();
    for table in tables {
        let columns = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT name, \"notnull\", pk FROM pragma_table_info('{table}')"
        )))
        .fetch_all(&mut *conn)
        .await
        .unwrap();
        let columns = columns
            .iter()
            .map(|c| {
                let name: String = c.get(0);
                // A primary key column is NOT NULL on PostgreSQL whatever it says; SQLite says so only with the
                // words (and an INTEGER PRIMARY KEY is the rowid, never NULL).
                let not_null = c.get::<i64, _>(1) != 0 || c.get::<i64, _>(2) != 0;
                (name, not_null)
            })
            .collect();
        let indexes = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT name, \"unique\", origin FROM pragma_index_list('{table}')"
        )))
        .fetch_all(&mut *conn)
        .await
        .unwrap();
        for index in indexes {
            let name: String = index.get(0);
            let unique = index.get::<i64, _>(1) != 0;
            let columns: Vec<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
                "SELECT name FROM pragma_index_info('{name}') ORDER BY seqno"
            )))
            .fetch_all(&mut *conn)
            .await
            .unwrap();
            schema.indexes.insert((table.clone(), columns, unique));
        }
        // An INTEGER PRIMARY KEY is the rowid and has no index of its own in SQLite.
        let rowid_key: Vec<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "SELECT name FROM pragma_table_info('{table}') WHERE pk > 0 ORDER BY pk"
        )))
        .fetch_all(&mut *conn)
        .await
        .unwrap();
        if !rowid_key.is_empty()
            && !schema
                .indexes
                .iter()
                .any(|(t, c, u)| *t == table && *c == rowid_key && *u)
        {
            schema.indexes.insert((table.clone(), rowid_key, true));
        }
        schema.tables.insert(table, columns);
    }
    schema
}

async fn postgres_schema(conn: &mut AnyConnection, schema_name: &str) -> Schema {
    let mut schema = Schema::default();
    let columns = sqlx::query(
        "SELECT c.table_name::text, c.column_name::text, (c.is_nullable = 'NO') AS not_null \
         FROM information_schema.columns c JOIN information_schema.tables t \
           ON t.table_schema = c.table_schema AND t.table_name = c.table_name \
         WHERE c.table_schema = $1 AND t.table_type = 'BASE TABLE' AND c.table_name <> '_sqlx_migrations'",
    )
    .bind(schema_name)
    .fetch_all(&mut *conn)
    .await
    .unwrap();
    for c in columns {
        schema
            .tables
            .entry(c.get(0))
            .or_default()
            .insert(c.get(1), c.get(2));
    }
    let indexes = sqlx::query(
        "SELECT t.relname::text, ix.indisunique, \
                array_to_string(ARRAY(SELECT a.attname FROM unnest(ix.indkey) WITH ORDINALITY k(n, o) \
                  JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.n \
                  WHERE k.o <= ix.indnkeyatts ORDER BY k.o), ',') \
         FROM pg_index ix JOIN pg_class t ON t.oid = ix.indrelid JOIN pg_namespace n ON n.oid = t.relnamespace \
         WHERE n.nspname = $1 AND t.relname <> '_sqlx_migrations'",
    )
    .bind(schema_name)
    .fetch_all(&mut *conn)
    .await
    .unwrap();
    for index in indexes {
        let columns: String = index.get(2);
        schema.indexes.insert((
            index.get(0),
            columns.split(',').map(String::from).collect(),
            index.get(1),
        ));
    }
    schema
}

/// Every way `sqlite` and `postgres` differ, as sentences, leaving out the differences listed as deliberate.
fn differences(service: &str, sqlite: &Schema, postgres: &Schema) -> Vec<String> {
    let mut found = Vec::new();
    let deliberate_table = |t: &str| {
        ONE_BACKEND_TABLES
            .iter()
            .any(|(s, name, _)| *s == service && *name == t)
    };
    let all_tables: BTreeSet<&String> =
        sqlite.tables.keys().chain(postgres.tables.keys()).collect();
    for table in all_tables {
        match (sqlite.tables.get(table), postgres.tables.get(table)) {
            (Some(_), None) if !deliberate_table(table) => {
                found.push(format!("{service}: table {table} only on SQLite"))
            }
            (None, Some(_)) if !deliberate_table(table) => {
                found.push(format!("{service}: table {table} only on PostgreSQL"))
            }
            (Some(a), Some(b)) => {
                for column in a.keys().chain(b.keys()).collect::<BTreeSet<_>>() {
                    match (a.get(column), b.get(column)) {
                        (Some(x), Some(y)) if x != y => found.push(format!(
                            "{service}: {table}.{column} is {} on SQLite and {} on PostgreSQL",
                            if *x { "NOT NULL" } else { "nullable" },
                            if *y { "NOT NULL" } else { "nullable" },
                        )),
                        (Some(_), None) => {
                            found.push(format!("{service}: column {table}.{column} only on SQLite"))
                        }
                        (None, Some(_)) => found.push(format!(
                            "{service}: column {table}.{column} only on PostgreSQL"
                        )),
                        _ => {}
                    }
                }
            }
            _ => {}
        }
    }
    let deliberate_index = |(table, columns, _): &(String, Vec<String>, bool)| {
        ONE_BACKEND_INDEXES
            .iter()
            .any(|(s, t, c, _)| *s == service && t == table && *c == columns.join(","))
    };
    for index in sqlite.indexes.difference(&postgres.indexes) {
        if !deliberate_index(index) {
            found.push(format!("{service}: index {index:?} only on SQLite"));
        }
    }
    for index in postgres.indexes.difference(&sqlite.indexes) {
        if !deliberate_index(index) {
            found.push(format!("{service}: index {index:?} only on PostgreSQL"));
        }
    }
    found
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migrations_agree() {
    if !require(Backend::Servers).await {
        return;
    }
    let (embedded, servers) = (
        isolated(Backend::Embedded).await,
        isolated(Backend::Servers).await,
    );
    let services: [(&str, Migrations); 7] = [
        (suiji_catalog::NAME, suiji_catalog::migrations()),
        (suiji_directories::NAME, suiji_directories::migrations()),
        (suiji_planning::NAME, suiji_planning::migrations()),
        (suiji_draw::NAME, suiji_draw::migrations()),
        (suiji_inspection::NAME, suiji_inspection::migrations()),
        (suiji_publication::NAME, suiji_publication::migrations()),
        (suiji_console::NAME, suiji_console::migrations()),
    ];
    let mut found = Vec::new();
    for (service, migrations) in &services {
        let mut schemas = Vec::new();
        for isolated in [&embedded, &servers] {
            let db = Db::connect(&isolated.settings.database, service)
                .await
                .unwrap();
            db.migrate(migrations).await.unwrap();
            let mut conn = db.pool().acquire().await.unwrap();
            schemas.push(match isolated.backend {
                Backend::Embedded => sqlite_schema(&mut conn).await,
                Backend::Servers => postgres_schema(&mut conn, service).await,
            });
            drop(conn);
            db.close().await;
        }
        assert!(
            schemas[0].tables.len() > 3,
            "{service}: {:?}",
            schemas[0].tables.keys()
        );
        found.extend(differences(service, &schemas[0], &schemas[1]));
    }
    embedded.cleanup().await;
    servers.cleanup().await;
    assert!(
        found.is_empty(),
        "the two migration trees differ:\n{}",
        found.join("\n")
    );
}

#[test]
fn a_column_missing_on_one_backend_is_told() {
    let mut sqlite = Schema::default();
    let mut postgres = Schema::default();
    sqlite.tables.insert(
        "visits".into(),
        [("id".to_string(), true), ("note".to_string(), false)].into(),
    );
    postgres
        .tables
        .insert("visits".into(), [("id".to_string(), false)].into());
    postgres
        .indexes
        .insert(("visits".into(), vec!["id".into()], true));
    let found = differences("inspection", &sqlite, &postgres);
    assert_eq!(
        found,
        [
            "inspection: visits.id is NOT NULL on SQLite and nullable on PostgreSQL",
            "inspection: column visits.note only on SQLite",
            "inspection: index (\"visits\", [\"id\"], true) only on PostgreSQL",
        ]
    );
}

//! A first load on PostgreSQL: an import into an empty table (a province's directory brought in for the first
//! time) writes its rows into a copy of the table without indexes, builds the indexes once over the loaded rows,
//! side by side, and then puts the copy in the table's place in one short transaction — the way PostgreSQL's own
//! documentation advises populating a table ("Populating a Database": load, then create the indexes). Keeping
//! ten million rows' index entries up to date one by one costs more than the load itself, and leaves the indexes
//! half-filled; built at the end they are sorted once and packed.
//!
//! Nothing is visible before the swap: readers see the empty table until the loaded one replaces it. Only one
//! first load runs at a time (an advisory lock held by the load's own connection, released when it closes, also
//! when the process dies); a copy left by a load that died is dropped by the next one. Should rows reach the
//! table meanwhile (another import that did not wait for this one), the loaded rows are merged into them
//! instead, as an import into a table with rows is.

use sqlx::{Acquire, AssertSqlSafe, Connection, Executor, PgPool, Row};

use crate::store::{self, BatchOutcome, Table};

/// One index of the table, to be built again on the loaded copy.
struct Index {
    /// Its name, which it keeps.
    name: String,
    /// Its `CREATE INDEX` statement.
    definition: String,
    /// Whether it is the primary key.
    primary: bool,
}

impl Index {
    /// The name it has on the loaded copy until the swap.
    fn loading_name(&self) -> String {
        format!("{}_loading", self.name)
    }

    /// Its statement, for the loaded copy `into`.
    fn build_on(&self, into: &str) -> Option<String> {
        let (head, rest) = self.definition.split_once(" ON ")?;
        let (_, columns) = rest.split_once(" USING ")?;
        let head = head.replacen(&self.name, &self.loading_name(), 1);
        Some(format!("{head} ON {into} USING {columns}"))
    }
}

/// Whether `table` has no rows.
async fn is_empty(conn: &mut sqlx::PgConnection, table: &str) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar(AssertSqlSafe(format!(
        "SELECT NOT EXISTS (SELECT 1 FROM {table})"
    )))
    .fetch_one(conn)
    .await
}

/// A first load under way.
pub struct FirstLoad {
    /// The connection that holds the load's advisory lock, and swaps the tables at the end.
    conn: sqlx::PgConnection,
    table: &'static Table,
    /// Where the rows go: a copy of the table without its indexes.
    pub into: String,
    indexes: Vec<Index>,
}

/// Starts a first load of `table` when it is empty and no other first load of it is running; `None` otherwise
/// (the import then writes into the table itself).
pub async fn begin(pg: &PgPool, table: &'static Table) -> Result<Option<FirstLoad>, sqlx::Error> {
    if !table.first_load {
        return Ok(None);
    }
    // Its own connection, not the pool's: the advisory lock lasts as long as the session.
    let mut conn = pg.acquire().await?.detach();
    let locked: bool = sqlx::query_scalar("SELECT pg_try_advisory_lock(hashtext($1))")
        .bind(format!("suiji.first_load.{}", table.name))
        .fetch_one(&mut conn)
        .await?;
    if !locked || !is_empty(&mut conn, table.name).await? {
        conn.close().await?;
        return Ok(None);
    }
    let into = format!("{}_loading", table.name);
    conn.execute(AssertSqlSafe(format!("DROP TABLE IF EXISTS {into}")))
        .await?;
    conn.execute(AssertSqlSafe(format!(
        "CREATE TABLE {into} (LIKE {} INCLUDING ALL EXCLUDING INDEXES)",
        table.name
    )))
    .await?;
    let indexes = sqlx::query(
        "SELECT c.relname AS name, pg_get_indexdef(c.oid) AS definition, x.indisprimary AS primary \
         FROM pg_index x JOIN pg_class c ON c.oid = x.indexrelid WHERE x.indrelid = $1::regclass \
         ORDER BY c.relname",
    )
    .bind(table.name)
    .fetch_all(&mut conn)
    .await?
    .into_iter()
    .map(|row| {
        Ok(Index {
            name: row.try_get("name")?,
            definition: row.try_get("definition")?,
            primary: row.try_get("primary")?,
        })
    })
    .collect::<Result<Vec<_>, sqlx::Error>>()?;
    Ok(Some(FirstLoad {
        conn,
        table,
        into,
        indexes,
    }))
}

impl FirstLoad {
    /// Vacuums the `rows` loaded (hint bits and visibility map set once, before the index builds read them),
    /// builds the indexes, each on its own connection, puts the loaded copy in the table's place and analyses
    /// it. Returns the merge's outcome when the table had rows by then and the copy was merged into it instead.
    pub async fn finish(
        mut self,
        pg: &PgPool,
        rows: u64,
        now: i64,
    ) -> Result<Option<BatchOutcome>, sqlx::Error> {
        let (name, into) = (self.table.name, self.into.clone());
        self.conn
            .execute(AssertSqlSafe(format!("VACUUM {into}")))
            .await?;
        let mut builds = Vec::new();
        for index in &self.indexes {
            let statement = index.build_on(&into).ok_or_else(|| {
                sqlx::Error::Protocol(format!("unexpected index definition: {}", index.definition))
            })?;
            let pg = pg.clone();
            builds.push(async move {
                let mut conn = pg.acquire().await?;
                let mut tx = conn.begin().await?;
                // The sort of the index's entries in memory rather than in runs on disk.
                tx.execute("SET LOCAL maintenance_work_mem = '256MB'")
                    .await?;
                tx.execute(AssertSqlSafe(statement)).await?;
                tx.commit().await
            });
        }
        futures::future::try_join_all(builds).await?;
        let mut tx = Connection::begin(&mut self.conn).await?;
        tx.execute(AssertSqlSafe(format!(
            "LOCK TABLE {name} IN ACCESS EXCLUSIVE MODE"
        )))
        .await?;
        let merged = if is_empty(&mut tx, name).await? {
            tx.execute(AssertSqlSafe(format!("DROP TABLE {name}")))
                .await?;
            tx.execute(AssertSqlSafe(format!(
                "ALTER TABLE {into} RENAME TO {name}"
            )))
            .await?;
            for index in &self.indexes {
                let (loading, kept) = (index.loading_name(), &index.name);
                let statement = if index.primary {
                    format!(
                        "ALTER TABLE {name} ADD CONSTRAINT {kept} PRIMARY KEY USING INDEX {loading}"
                    )
                } else {
                    format!("ALTER INDEX {loading} RENAME TO {kept}")
                };
                tx.execute(AssertSqlSafe(statement)).await?;
            }
            if self.table.segmented {
                crate::segments::touch_ids_of(&mut tx, name).await?;
            }
            tx.commit().await?;
            self.conn
                .execute(AssertSqlSafe(format!("ANALYZE {name}")))
                .await?;
            None
        } else {
            tx.commit().await?;
            Some(store::merge_from(&mut self.conn, self.table, &into, rows, now).await?)
        };
        self.conn.close().await?;
        Ok(merged)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_statements_are_turned_to_the_loaded_copy() {
        let index = Index {
            name: "targets_region".into(),
            definition: "CREATE INDEX targets_region ON directories.targets USING btree \
                         (region_code text_pattern_ops, id)"
                .into(),
            primary: false,
        };
        assert_eq!(
            index.build_on("targets_loading").as_deref(),
            Some(
                "CREATE INDEX targets_region_loading ON targets_loading USING btree \
                 (region_code text_pattern_ops, id)"
            )
        );
        let key = Index {
            name: "targets_pkey".into(),
            definition: "CREATE UNIQUE INDEX targets_pkey ON targets USING btree (id)".into(),
            primary: true,
        };
        assert_eq!(
            key.build_on("targets_loading").as_deref(),
            Some("CREATE UNIQUE INDEX targets_pkey_loading ON targets_loading USING btree (id)")
        );
    }
}

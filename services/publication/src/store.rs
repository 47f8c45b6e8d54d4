//! Results as versioned rows, the public records, the code table versions and the connector's deliveries.

use sqlx::{AnyConnection, Row};
use suiji_platform::db::{Tx, flag};
use suiji_platform::error::Error;
use suiji_platform::paging::Page;

use crate::domain::codes::{Code, CodeTable};
use crate::domain::public::{PublicRecord, bigrams, name_key};
use crate::domain::result::{Result as Res, State};

/// A result with its version.
#[derive(Debug, Clone)]
pub struct Stored {
    /// The result.
    pub result: Res,
    /// One more for every change.
    pub version: i64,
}

fn encode<T: serde::Serialize>(value: &T) -> Result<String, Error> {
    serde_json::to_string(value).map_err(|e| Error::Internal(format!("encode: {e}")))
}

fn decode<T: serde::de::DeserializeOwned>(text: &str) -> Result<T, Error> {
    serde_json::from_str(text).map_err(|e| Error::Internal(format!("stored document: {e}")))
}

fn stored(r: &sqlx::any::AnyRow) -> Result<Stored, Error> {
    let doc: String = r.try_get("doc")?;
    Ok(Stored {
        result: decode(&doc)?,
        version: r.try_get("version")?,
    })
}

fn due(r: &Res) -> String {
    r.due.map(|d| d.to_string()).unwrap_or_default()
}

/// Adds a new result; false when it is there already (a redelivered visit).
pub async fn insert(tx: &mut Tx, r: &Res, now: i64) -> Result<bool, Error> {
    let done = sqlx::query(
        "INSERT INTO results (id, task_id, department, state, entered, problem, inspection_date, due_date, version, doc, updated_at, \
         due_provisional, asked) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 1, $9, $10, $11, $12) ON CONFLICT (id) DO NOTHING",
    )
    .bind(&r.id)
    .bind(&r.task_id)
    .bind(&r.department)
    .bind(r.state.as_str())
    .bind(flag(r.state.is_entered()))
    .bind(flag(r.problem_found))
    .bind(r.inspection_date.to_string())
    .bind(due(r))
    .bind(encode(r)?)
    .bind(now)
    .bind(flag(r.due_provisional))
    .bind(flag(r.withholding.is_some()))
    .execute(&mut **tx)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Writes `r` over version `version`; `Conflict` when someone else changed it first.
pub async fn update(tx: &mut Tx, r: &Res, version: i64, now: i64) -> Result<(), Error> {
    let done = sqlx::query(
        "UPDATE results SET state = $1, entered = $2, problem = $3, due_date = $4, version = version + 1, doc = $5, \
         updated_at = $6, due_provisional = $9, asked = $10 WHERE id = $7 AND version = $8",
    )
    .bind(r.state.as_str())
    .bind(flag(r.state.is_entered()))
    .bind(flag(r.problem_found))
    .bind(due(r))
    .bind(encode(r)?)
    .bind(now)
    .bind(&r.id)
    .bind(version)
    .bind(flag(r.due_provisional))
    .bind(flag(r.withholding.is_some()))
    .execute(&mut **tx)
    .await?;
    if done.rows_affected() == 1 {
        Ok(())
    } else {
        Err(Error::Conflict(format!(
            "result {} changed since revision {version}; read it again",
            r.id
        )))
    }
}

/// A page of the ids of results whose due date is provisional, after `after`, in id order.
pub async fn provisional_due(
    conn: &mut AnyConnection,
    after: &str,
    limit: i64,
) -> Result<Vec<String>, Error> {
    Ok(sqlx::query_scalar(
        "SELECT id FROM results WHERE due_provisional = 1 AND id > $1 ORDER BY id LIMIT $2",
    )
    .bind(after)
    .bind(limit)
    .fetch_all(conn)
    .await?)
}

/// One result.
pub async fn get(conn: &mut AnyConnection, id: &str) -> Result<Option<Stored>, Error> {
    let row = sqlx::query("SELECT doc, version FROM results WHERE id = $1")
        .bind(id)
        .fetch_optional(conn)
        .await?;
    row.as_ref().map(stored).transpose()
}

/// What a list of results is filtered by.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// Department.
    pub department: String,
    /// Task; empty: all.
    pub task_id: String,
    /// States; empty: all.
    pub states: Vec<State>,
    /// Only those past their due date on this day (YYYY-MM-DD).
    pub overdue_on: Option<String>,
    /// Only those whose withholding waits on the head.
    pub withholding_asked: bool,
}

/// A page of results, in id order.
pub async fn list(conn: &mut AnyConnection, f: &Filter, page: &Page) -> Result<Vec<Stored>, Error> {
    // The department, the page's start, and the other filters, the same in every branch: `$1`, `$2`, `$3`...
    let mut binds: Vec<String> = vec![f.department.clone(), page.after.clone()];
    let mut filters = String::new();
    if !f.task_id.is_empty() {
        binds.push(f.task_id.clone());
        filters.push_str(&format!(" AND task_id = ${}", binds.len()));
    }
    if let Some(day) = &f.overdue_on {
        binds.push(day.clone());
        filters.push_str(&format!(
            " AND state NOT IN ('published', 'withheld') AND due_date <> '' AND due_date < ${}",
            binds.len()
        ));
    }
    if f.withholding_asked {
        // A literal, so the plan reads the partial index of the few rows asked (migration 1006).
        filters.push_str(" AND asked = 1");
    }
    // A state is written as a literal (one of `State::as_str`, never the caller's text): PostgreSQL plans a prepared
    // statement once for any parameters, and only a literal state lets that plan read the state's index range.
    let branch = |state: Option<&'static str>| {
        let state = state
            .map(|s| format!(" AND state = '{s}'"))
            .unwrap_or_default();
        format!(
            "SELECT doc, version, id FROM results WHERE department = $1 AND id > $2{state}{filters} \
             ORDER BY id LIMIT {}",
            page.size
        )
    };
    let sql = if f.states.is_empty() {
        branch(None)
    } else {
        // One branch per state, each the first page of that state's rows in id order (the index on department,
        // state and id reads exactly those), merged in id order: the same page as one query filtering on the
        // states, without reading past the rows in other states (docs/adr/0002-results-by-state.md). Each state
        // once: a state asked for twice must not give its rows twice.
        let mut states: Vec<&'static str> = f.states.iter().map(|s| s.as_str()).collect();
        states.sort_unstable();
        states.dedup();
        let branches: Vec<String> = states
            .into_iter()
            .enumerate()
            .map(|(i, s)| format!("SELECT doc, version, id FROM ({}) AS s{i}", branch(Some(s))))
            .collect();
        format!(
            "{} ORDER BY id LIMIT {}",
            branches.join(" UNION ALL "),
            page.size
        )
    };
    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
    for b in &binds {
        q = q.bind(b);
    }
    q.fetch_all(conn).await?.iter().map(stored).collect()
}

/// Writes the public record of a result (on publication and on every correction), and the correction's line
/// for the daily export.
pub async fn put_public(
    tx: &mut Tx,
    record: &PublicRecord,
    published_day: &str,
    correction: Option<(i64, &str)>,
) -> Result<(), Error> {
    let sort_key = format!("{}|{}", record.inspection_date, record.id);
    let key = name_key(&record.target_name);
    sqlx::query(
        "INSERT INTO public_records (result_id, credit_code, target_name, sort_key, published_day, doc, name_key) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (result_id) DO UPDATE SET doc = excluded.doc",
    )
    .bind(&record.id)
    .bind(&record.credit_code)
    .bind(&record.target_name)
    .bind(&sort_key)
    .bind(published_day)
    .bind(encode(record)?)
    .bind(&key)
    .execute(&mut **tx)
    .await?;
    // A correction keeps the record's name and sort key, so its pairs are written once, with the record.
    if correction.is_none() {
        let grams = bigrams(&key);
        if !grams.is_empty() {
            // Each row its pair, after the sort key ($1) and the name ($2) they share.
            let values = suiji_platform::db::values_rows_from(3, grams.len(), 1, |p| {
                format!("({}, $1, $2)", p[0])
            });
            let sql = format!(
                "INSERT INTO public_name_grams (gram, sort_key, name_key) VALUES {values} ON CONFLICT DO NOTHING"
            );
            // Only numbered placeholders are written into the text; the pairs are bound.
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(&sort_key)
                .bind(&key);
            for g in &grams {
                q = q.bind(g);
            }
            q.execute(&mut **tx).await?;
        }
    }
    if let Some((seq, day)) = correction {
        sqlx::query("INSERT INTO corrections (result_id, seq, day) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING")
            .bind(&record.id)
            .bind(seq)
            .bind(day)
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}

/// How many rows of a pair the search counts, first, and again when every pair reached that: most queries have a
/// pair under a few hundred records and pay only the first count.
const PAIR_PROBES: [i64; 2] = [256, 1_024];

/// How many of a query's pairs the search weighs, at most.
const PAIRS_WEIGHED: usize = 8;

/// Public records of a full credit code, or whose name contains `query` (ASCII letters in either case), newest
/// inspection first; the page key is the sort key.
///
/// A name is found through `public_name_grams`: the search walks, newest first, the records kept under the rarest
/// pair of characters of the query and keeps those whose name contains the whole query (see
/// docs/adr/0003-public-name-search.md).
pub async fn search_public(
    conn: &mut AnyConnection,
    query: &str,
    by_code: bool,
    page: &Page,
) -> Result<Vec<(String, PublicRecord)>, Error> {
    let after = if page.after.is_empty() {
        "\u{10FFFF}".to_string()
    } else {
        page.after.clone()
    };
    let rows = if by_code {
        sqlx::query(
            "SELECT sort_key, doc FROM public_records WHERE credit_code = $1 AND sort_key < $2 \
             ORDER BY sort_key DESC LIMIT $3",
        )
        .bind(query)
        .bind(after)
        .bind(page.size)
        .fetch_all(conn)
        .await?
    } else {
        let key = name_key(query);
        let Some(gram) = rarest_pair(&mut *conn, &bigrams(&key)).await? else {
            return Ok(Vec::new());
        };
        let escaped = key
            .replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_");
        // The names are checked in the index; only the page's records are read.
        sqlx::query(
            "SELECT p.sort_key, p.doc FROM (SELECT sort_key FROM public_name_grams \
             WHERE gram = $1 AND sort_key < $2 AND name_key LIKE $3 ESCAPE '\\' \
             ORDER BY sort_key DESC LIMIT $4) AS g JOIN public_records p ON p.sort_key = g.sort_key \
             ORDER BY p.sort_key DESC",
        )
        .bind(gram)
        .bind(after)
        .bind(format!("%{escaped}%"))
        .bind(page.size)
        .fetch_all(conn)
        .await?
    };
    rows.iter()
        .map(|r| {
            let doc: String = r.try_get("doc")?;
            Ok((r.try_get("sort_key")?, decode(&doc)?))
        })
        .collect()
}

/// The pair of `grams` kept under the fewest records, or none when one of them is under no record at all, so nothing
/// can match. Each is counted up to the first of [`PAIR_PROBES`], all in one statement; when none is under it, again
/// up to the next.
async fn rarest_pair(conn: &mut AnyConnection, grams: &[String]) -> Result<Option<String>, Error> {
    let weighed = &grams[..grams.len().min(PAIRS_WEIGHED)];
    if weighed.is_empty() {
        return Ok(None);
    }
    // Only numbered placeholders are written into the text; the pairs are bound.
    let counts: Vec<String> = (0..weighed.len())
        .map(|i| {
            format!(
                "(SELECT COUNT(*) FROM (SELECT 1 FROM public_name_grams WHERE gram = ${} LIMIT $1) AS k{i}) AS n{i}",
                i + 2
            )
        })
        .collect();
    let sql = format!("SELECT {}", counts.join(", "));
    let mut rarest: Option<(&String, i64)> = None;
    for limit in PAIR_PROBES {
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql.as_str())).bind(limit);
        for g in weighed {
            q = q.bind(g);
        }
        let row = q.fetch_one(&mut *conn).await?;
        rarest = None;
        for (i, gram) in weighed.iter().enumerate() {
            let n: i64 = row.try_get(i)?;
            if n == 0 {
                return Ok(None);
            }
            if rarest.is_none_or(|(_, least)| n < least) {
                rarest = Some((gram, n));
            }
        }
        if rarest.is_some_and(|(_, least)| least < limit) {
            break;
        }
    }
    Ok(rarest.map(|(g, _)| g.clone()))
}

/// The public records published on `day` and those corrected on it, in id order, `after` the id given.
pub async fn published_on(
    conn: &mut AnyConnection,
    day: &str,
    after: &str,
    limit: i64,
) -> Result<Vec<PublicRecord>, Error> {
    let rows = sqlx::query(
        "SELECT result_id, doc FROM public_records WHERE result_id > $2 AND (published_day = $1 OR result_id IN \
         (SELECT result_id FROM corrections WHERE day = $1)) ORDER BY result_id LIMIT $3",
    )
    .bind(day)
    .bind(after)
    .bind(limit)
    .fetch_all(conn)
    .await?;
    rows.iter()
        .map(|r| decode(&r.try_get::<String, _>("doc")?))
        .collect()
}

/// Keeps `table` among the versions used, unless that version is kept already.
pub async fn save_table(tx: &mut Tx, table: &CodeTable) -> Result<(), Error> {
    for c in &table.codes {
        sqlx::query(
            "INSERT INTO result_codes (version, code, text, problem, exclusive, credit, retired) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (version, code) DO NOTHING",
        )
        .bind(&table.version)
        .bind(&c.code)
        .bind(&c.text)
        .bind(flag(c.problem))
        .bind(flag(c.exclusive))
        .bind(&c.credit)
        .bind(flag(c.retired))
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

/// Every version of the code table kept.
pub async fn tables(conn: &mut AnyConnection) -> Result<Vec<CodeTable>, Error> {
    let rows = sqlx::query(
        "SELECT version, code, text, problem, exclusive, credit, retired FROM result_codes ORDER BY version, code",
    )
    .fetch_all(conn)
    .await?;
    let mut out: Vec<CodeTable> = Vec::new();
    for r in rows {
        let version: String = r.try_get("version")?;
        let code = Code {
            code: r.try_get("code")?,
            text: r.try_get("text")?,
            problem: r.try_get::<i64, _>("problem")? != 0,
            exclusive: r.try_get::<i64, _>("exclusive")? != 0,
            credit: r.try_get("credit")?,
            retired: r.try_get::<i64, _>("retired")? != 0,
        };
        match out.last_mut() {
            Some(t) if t.version == version => t.codes.push(code),
            _ => out.push(CodeTable {
                version,
                codes: vec![code],
            }),
        }
    }
    Ok(out)
}

/// One department's counts over inspections between two days.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Counts {
    /// Department.
    pub department: String,
    /// Results.
    pub results: u64,
    /// Entered.
    pub entered: u64,
    /// Published.
    pub published: u64,
    /// Withheld.
    pub withheld: u64,
    /// Overdue.
    pub overdue: u64,
    /// With a problem.
    pub problems: u64,
    /// With no due date: not countable on the calendar as loaded.
    pub undated: u64,
}

/// Counts per department of the results of inspections from `from` to `to` (inclusive, YYYY-MM-DD), overdue
/// counted on `as_of`.
/// Which results a report counts.
pub enum Scope<'a> {
    /// Those of the inspections from one day to another, inclusive (YYYY-MM-DD).
    Period(&'a str, &'a str),
    /// One task's.
    Task(&'a str),
}

/// Each department's counts of the results in `scope`, overdue on `as_of`.
pub async fn counts(
    conn: &mut AnyConnection,
    scope: Scope<'_>,
    as_of: &str,
) -> Result<Vec<Counts>, Error> {
    // One query per scope, each a literal; both count alike.
    macro_rules! counts {
        ($where:literal) => {
            concat!(
                "SELECT department, COUNT(*) AS results, SUM(entered) AS entered, \
                 SUM(CASE WHEN state = 'published' THEN 1 ELSE 0 END) AS published, \
                 SUM(CASE WHEN state = 'withheld' THEN 1 ELSE 0 END) AS withheld, \
                 SUM(CASE WHEN state NOT IN ('published', 'withheld') AND due_date <> '' AND due_date < $1 THEN 1 ELSE 0 END) AS overdue, \
                 SUM(problem) AS problems, \
                 SUM(CASE WHEN due_date = '' THEN 1 ELSE 0 END) AS undated \
                 FROM results WHERE ",
                $where,
                " GROUP BY department ORDER BY department"
            )
        };
    }
    let rows = match scope {
        Scope::Period(from, to) => {
            sqlx::query(counts!("inspection_date >= $2 AND inspection_date <= $3"))
                .bind(as_of)
                .bind(from)
                .bind(to)
                .fetch_all(conn)
                .await?
        }
        Scope::Task(task_id) => {
            sqlx::query(counts!("task_id = $2"))
                .bind(as_of)
                .bind(task_id)
                .fetch_all(conn)
                .await?
        }
    };
    let n = |r: &sqlx::any::AnyRow, c: &str| -> Result<u64, Error> {
        Ok(r.try_get::<Option<i64>, _>(c)?.unwrap_or(0).max(0) as u64)
    };
    rows.iter()
        .map(|r| {
            Ok(Counts {
                department: r.try_get("department")?,
                results: n(r, "results")?,
                entered: n(r, "entered")?,
                published: n(r, "published")?,
                withheld: n(r, "withheld")?,
                overdue: n(r, "overdue")?,
                problems: n(r, "problems")?,
                undated: n(r, "undated")?,
            })
        })
        .collect()
}

/// A delivery to an outside system.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    /// Id.
    pub id: String,
    /// Connector name.
    pub connector: String,
    /// `result.published`, `result.corrected`, `credit.recorded`.
    pub kind: String,
    /// The result it is about.
    pub result_id: String,
    /// JSON body.
    pub body: String,
    /// `pending`, `delivered`, `dead`.
    pub state: String,
    /// Attempts made.
    pub attempts: i64,
    /// Next attempt (epoch ms).
    pub next_at: i64,
    /// Last error.
    pub last_error: String,
}

fn delivery(r: &sqlx::any::AnyRow) -> Result<Delivery, Error> {
    Ok(Delivery {
        id: r.try_get("id")?,
        connector: r.try_get("connector")?,
        kind: r.try_get("kind")?,
        result_id: r.try_get("result_id")?,
        body: r.try_get("body")?,
        state: r.try_get("state")?,
        attempts: r.try_get("attempts")?,
        next_at: r.try_get("next_at")?,
        last_error: r.try_get("last_error")?,
    })
}

const DELIVERY_COLUMNS: &str =
    "id, connector, kind, result_id, body, state, attempts, next_at, last_error";

/// Queues a delivery in the caller's transaction.
pub async fn enqueue_delivery(
    tx: &mut Tx,
    connector: &str,
    kind: &str,
    result_id: &str,
    body: &str,
    now: i64,
) -> Result<(), Error> {
    sqlx::query(
        "INSERT INTO deliveries (id, connector, kind, result_id, body, state, attempts, next_at, last_error, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, 'pending', 0, $6, '', $6, $6)",
    )
    .bind(uuid::Uuid::now_v7().to_string())
    .bind(connector)
    .bind(kind)
    .bind(result_id)
    .bind(body)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Pending deliveries due by `now`, oldest first.
pub async fn due_deliveries(
    conn: &mut AnyConnection,
    now: i64,
    limit: i64,
) -> Result<Vec<Delivery>, Error> {
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {DELIVERY_COLUMNS} FROM deliveries WHERE state = 'pending' AND next_at <= $1 ORDER BY next_at, id LIMIT $2"
    )))
    .bind(now)
    .bind(limit)
    .fetch_all(conn)
    .await?;
    rows.iter().map(delivery).collect()
}

/// Records an attempt's end: delivered, retried at `next_at`, or dead.
pub async fn attempted(
    conn: &mut AnyConnection,
    id: &str,
    state: &str,
    next_at: i64,
    error: &str,
    now: i64,
) -> Result<(), Error> {
    sqlx::query(
        "UPDATE deliveries SET state = $1, attempts = attempts + 1, next_at = $2, last_error = $3, updated_at = $4 \
         WHERE id = $5 AND state = 'pending'",
    )
    .bind(state)
    .bind(next_at)
    .bind(error)
    .bind(now)
    .bind(id)
    .execute(conn)
    .await?;
    Ok(())
}

/// A page of deliveries in id order, of one state or all.
pub async fn list_deliveries(
    conn: &mut AnyConnection,
    state: Option<&str>,
    page: &Page,
) -> Result<Vec<Delivery>, Error> {
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {DELIVERY_COLUMNS} FROM deliveries WHERE id > $1 AND ($2 = '' OR state = $2) ORDER BY id LIMIT $3"
    )))
    .bind(&page.after)
    .bind(state.unwrap_or(""))
    .bind(page.size)
    .fetch_all(conn)
    .await?;
    rows.iter().map(delivery).collect()
}

/// Puts dead letters (these, or all when `ids` is empty) back in the queue with fresh attempts.
pub async fn retry_dead(conn: &mut AnyConnection, ids: &[String], now: i64) -> Result<u64, Error> {
    if ids.is_empty() {
        let done = sqlx::query(
            "UPDATE deliveries SET state = 'pending', attempts = 0, next_at = $1, updated_at = $1 WHERE state = 'dead'",
        )
        .bind(now)
        .execute(conn)
        .await?;
        return Ok(done.rows_affected());
    }
    let mut n = 0;
    for id in ids {
        let done = sqlx::query(
            "UPDATE deliveries SET state = 'pending', attempts = 0, next_at = $1, updated_at = $1 WHERE state = 'dead' AND id = $2",
        )
        .bind(now)
        .bind(id)
        .execute(&mut *conn)
        .await?;
        n += done.rows_affected();
    }
    Ok(n)
}

/// Counts `created` new results of `task` as pending.
pub async fn add_pending(tx: &mut Tx, task_id: &str, created: i64) -> Result<(), Error> {
    sqlx::query(
        "INSERT INTO task_progress (task_id, pending, results) VALUES ($1, $2, $2) ON CONFLICT (task_id) DO UPDATE \
         SET pending = task_progress.pending + excluded.pending, results = task_progress.results + excluded.results",
    )
    .bind(task_id)
    .bind(created)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// One result of `task` became final: its pending and total counts after it.
pub async fn settle(tx: &mut Tx, task_id: &str) -> Result<(i64, i64), Error> {
    let row = sqlx::query(
        "UPDATE task_progress SET pending = pending - 1 WHERE task_id = $1 RETURNING pending, results",
    )
    .bind(task_id)
    .fetch_one(&mut **tx)
    .await?;
    Ok((row.try_get("pending")?, row.try_get("results")?))
}

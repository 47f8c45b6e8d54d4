//! The audit trail (全程留痕): append-only, hash-chained entries in each service's database, written in the
//! same transaction as the change they record.
//!
//! Entry n's hash is `SHA-256(prev_hash ‖ 0x1F ‖ seq ‖ 0x1F ‖ at_ms ‖ 0x1F ‖ actor ‖ … ‖ detail)` over the
//! decimal or UTF-8 text of each field, separated by the unit separator byte, with the previous entry's hash
//! (64 zeros for the first). Changing, removing or reordering any entry breaks every later link.

use futures::TryStreamExt;
use serde::Serialize;
use sha2::{Digest, Sha256};
use sqlx::Row;

use crate::auth::Identity;
use crate::db::{Db, now_ms};
use crate::messages::{Text, msg};

/// The columns of an entry, in [`entry_of`]'s order.
macro_rules! columns {
    () => {
        "seq, at_ms, actor, department, action, entity, entity_id, before_digest, after_digest, detail, prev_hash, hash"
    };
}

/// Hash that precedes the first entry.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// One change to record.
#[derive(Debug, Clone)]
pub struct AuditEvent<'a> {
    /// What was done, e.g. `item.publish`.
    pub action: &'a str,
    /// Kind of thing changed, e.g. `item`.
    pub entity: &'a str,
    /// Its id.
    pub entity_id: &'a str,
    /// SHA-256 of the state before (empty when created).
    pub before_digest: String,
    /// SHA-256 of the state after (empty when deleted).
    pub after_digest: String,
    /// Free text: a reason, a version number.
    pub detail: String,
}

/// An [`AuditEvent`] that owns its text: a change whose entry is appended later in its transaction (a consumer
/// appends the entries of a whole batch of messages at its end, so the chain's head is locked only from there to
/// the commit).
#[derive(Debug, Clone)]
pub struct OwnedAuditEvent {
    /// What was done.
    pub action: &'static str,
    /// Kind of thing changed.
    pub entity: &'static str,
    /// Its id.
    pub entity_id: String,
    /// SHA-256 of the state before (empty when created).
    pub before_digest: String,
    /// SHA-256 of the state after.
    pub after_digest: String,
    /// Free text.
    pub detail: String,
}

impl OwnedAuditEvent {
    /// The event to append.
    pub fn event(&self) -> AuditEvent<'_> {
        AuditEvent {
            action: self.action,
            entity: self.entity,
            entity_id: &self.entity_id,
            before_digest: self.before_digest.clone(),
            after_digest: self.after_digest.clone(),
            detail: self.detail.clone(),
        }
    }
}

/// An entry as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditEntry {
    /// Position in the chain, from 1.
    pub seq: i64,
    /// When, in epoch milliseconds.
    pub at_ms: i64,
    /// Who (token subject, or `system:<service>`).
    pub actor: String,
    /// Department of the actor.
    pub department: String,
    /// What was done.
    pub action: String,
    /// Kind of thing changed.
    pub entity: String,
    /// Its id.
    pub entity_id: String,
    /// Digest of the state before.
    pub before_digest: String,
    /// Digest of the state after.
    pub after_digest: String,
    /// Free text.
    pub detail: String,
    /// Hash of the previous entry.
    pub prev_hash: String,
    /// Hash of this entry.
    pub hash: String,
}

impl AuditEntry {
    /// Recomputes this entry's hash from its fields and `prev_hash`.
    pub fn compute_hash(&self) -> String {
        let mut h = Sha256::new();
        for part in [
            self.prev_hash.as_str(),
            &self.seq.to_string(),
            &self.at_ms.to_string(),
            &self.actor,
            &self.department,
            &self.action,
            &self.entity,
            &self.entity_id,
            &self.before_digest,
            &self.after_digest,
            &self.detail,
        ] {
            h.update(part.as_bytes());
            h.update([0x1f]);
        }
        hex::encode(h.finalize())
    }
}

/// SHA-256 of a value's JSON form, for `before_digest`/`after_digest`.
pub fn digest_of<T: Serialize>(value: &T) -> String {
    let json = serde_json::to_vec(value).unwrap_or_default();
    hex::encode(Sha256::digest(json))
}

/// Appends an entry inside the caller's transaction. The head row is locked by the update, so concurrent
/// transactions append one after the other: append last, just before committing, to hold it briefly.
#[tracing::instrument(skip_all, fields(action = event.action, entity_id = event.entity_id))]
pub async fn append(
    tx: &mut sqlx::AnyConnection,
    who: &Identity,
    event: AuditEvent<'_>,
) -> Result<AuditEntry, sqlx::Error> {
    let mut entries = append_many(tx, who, vec![event]).await?;
    Ok(entries.pop().expect("one entry per event"))
}

/// Rows of one audit insert: 12 parameters each, within SQLite's 999.
const INSERT_ROWS: usize = 80;

/// Appends `events` in order inside the caller's transaction with three statements whatever their number: the
/// head is moved on by all of them at once (which locks it until the transaction ends, so call this last), the
/// entries are chained in memory and inserted together.
pub async fn append_many(
    tx: &mut sqlx::AnyConnection,
    who: &Identity,
    events: Vec<AuditEvent<'_>>,
) -> Result<Vec<AuditEntry>, sqlx::Error> {
    if events.is_empty() {
        return Ok(Vec::new());
    }
    let row = sqlx::query("UPDATE audit_head SET seq = seq + $1 WHERE id = 1 RETURNING seq, hash")
        .bind(events.len() as i64)
        .fetch_one(&mut *tx)
        .await?;
    let last: i64 = row.try_get("seq")?;
    let mut prev: String = row.try_get("hash")?;
    let at_ms = now_ms();
    let first = last - events.len() as i64 + 1;
    let mut entries = Vec::with_capacity(events.len());
    for (i, event) in events.into_iter().enumerate() {
        let mut entry = AuditEntry {
            seq: first + i as i64,
            at_ms,
            actor: who.subject.clone(),
            department: who.department.clone(),
            action: event.action.to_string(),
            entity: event.entity.to_string(),
            entity_id: event.entity_id.to_string(),
            before_digest: event.before_digest,
            after_digest: event.after_digest,
            detail: event.detail,
            prev_hash: std::mem::take(&mut prev),
            hash: String::new(),
        };
        entry.hash = entry.compute_hash();
        prev = entry.hash.clone();
        entries.push(entry);
    }
    // On PostgreSQL the last insert moves the head's hash on in the same statement: the head stays locked until
    // the commit, so every round trip saved here is time other writers do not wait.
    let postgres = crate::db::is_postgres(tx);
    let chunks: Vec<&[AuditEntry]> = entries.chunks(INSERT_ROWS).collect();
    for (i, chunk) in chunks.iter().enumerate() {
        let insert = format!(
            "INSERT INTO audit_log (seq, at_ms, actor, department, action, entity, entity_id, before_digest, \
             after_digest, detail, prev_hash, hash) VALUES {}",
            crate::db::values_list(chunk.len(), 12)
        );
        let with_head = postgres && i + 1 == chunks.len();
        let sql = if with_head {
            format!(
                "WITH logged AS ({insert}) UPDATE audit_head SET hash = ${} WHERE id = 1",
                chunk.len() * 12 + 1
            )
        } else {
            insert
        };
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for e in *chunk {
            q = q
                .bind(e.seq)
                .bind(e.at_ms)
                .bind(&e.actor)
                .bind(&e.department)
                .bind(&e.action)
                .bind(&e.entity)
                .bind(&e.entity_id)
                .bind(&e.before_digest)
                .bind(&e.after_digest)
                .bind(&e.detail)
                .bind(&e.prev_hash)
                .bind(&e.hash);
        }
        if with_head {
            q = q.bind(&prev);
        }
        q.execute(&mut *tx).await?;
    }
    if !postgres {
        sqlx::query("UPDATE audit_head SET hash = $1 WHERE id = 1")
            .bind(&prev)
            .execute(&mut *tx)
            .await?;
    }
    Ok(entries)
}

/// What `suiji audit verify` finds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verification {
    /// Every link holds.
    Intact {
        /// Entries checked.
        entries: i64,
        /// Hash of the last entry.
        head: String,
    },
    /// The first entry whose link does not hold.
    Broken {
        /// Its position.
        seq: i64,
        /// Why (`audit-missing`, `audit-prev`, `audit-content`, `audit-head`).
        reason: Text,
    },
}

/// Walks the whole chain in order, streaming, and reports the first broken link.
pub async fn verify(db: &Db) -> Result<Verification, sqlx::Error> {
    let mut rows = sqlx::query(concat!(
        "SELECT ",
        columns!(),
        " FROM audit_log ORDER BY seq"
    ))
    .fetch(db.pool());
    let mut expected_prev = GENESIS.to_string();
    let mut expected_seq = 1;
    while let Some(row) = rows.try_next().await? {
        let entry = entry_of(&row)?;
        if entry.seq != expected_seq {
            return Ok(Verification::Broken {
                seq: expected_seq,
                reason: msg("audit-missing")
                    .arg("seq", expected_seq)
                    .arg("next", entry.seq),
            });
        }
        if entry.prev_hash != expected_prev {
            return Ok(Verification::Broken {
                seq: entry.seq,
                reason: msg("audit-prev"),
            });
        }
        if entry.compute_hash() != entry.hash {
            return Ok(Verification::Broken {
                seq: entry.seq,
                reason: msg("audit-content"),
            });
        }
        expected_prev = entry.hash;
        expected_seq += 1;
    }
    drop(rows);
    let head: String = sqlx::query_scalar("SELECT hash FROM audit_head WHERE id = 1")
        .fetch_one(db.pool())
        .await?;
    if head != expected_prev {
        return Ok(Verification::Broken {
            seq: expected_seq,
            reason: msg("audit-head"),
        });
    }
    Ok(Verification::Intact {
        entries: expected_seq - 1,
        head,
    })
}

fn entry_of(row: &sqlx::any::AnyRow) -> Result<AuditEntry, sqlx::Error> {
    Ok(AuditEntry {
        seq: row.try_get("seq")?,
        at_ms: row.try_get("at_ms")?,
        actor: row.try_get("actor")?,
        department: row.try_get("department")?,
        action: row.try_get("action")?,
        entity: row.try_get("entity")?,
        entity_id: row.try_get("entity_id")?,
        before_digest: row.try_get("before_digest")?,
        after_digest: row.try_get("after_digest")?,
        detail: row.try_get("detail")?,
        prev_hash: row.try_get("prev_hash")?,
        hash: row.try_get("hash")?,
    })
}

/// Which entries [`list`] reads. Every field is exact; empty matches all.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    /// Kind of thing changed.
    pub entity: String,
    /// Its id; with `entity`, the read goes through the entity's index instead of a window of the chain.
    pub entity_id: String,
    /// Who.
    pub actor: String,
    /// The actor's department.
    pub department: String,
    /// What was done; ending in `.`, every action it begins.
    pub action: String,
    /// At or after, epoch ms (0: no bound).
    pub since_ms: i64,
    /// Before, epoch ms (0: no bound).
    pub until_ms: i64,
}

/// The most entries of the chain one page reads when it is not filtered by an entity's id: a filter that matches
/// little gives short pages instead of a read of the whole chain.
pub const LIST_WINDOW: i64 = 10_000;

/// A page of entries, newest first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listed {
    /// The entries that matched.
    pub entries: Vec<AuditEntry>,
    /// The read stopped below this number: the next page reads the entries before it; 1 or less when every entry
    /// was read.
    pub read_down_to: i64,
    /// The chain's length.
    pub total: i64,
}

/// Reads up to `limit` entries numbered below `before` (0: from the newest) that match `filter`, newest first,
/// reading at most [`LIST_WINDOW`] entries of the chain unless the filter names an entity's id.
pub async fn list(
    db: &Db,
    filter: &Filter,
    before: i64,
    limit: i64,
) -> Result<Listed, sqlx::Error> {
    let total: i64 = sqlx::query_scalar("SELECT seq FROM audit_head WHERE id = 1")
        .fetch_one(db.pool())
        .await?;
    let before = if before <= 0 {
        total + 1
    } else {
        before.min(total + 1)
    };
    let by_id = !filter.entity.is_empty() && !filter.entity_id.is_empty();
    let floor = if by_id {
        1
    } else {
        (before - LIST_WINDOW).max(1)
    };
    let (exact, prefix) = match filter.action.strip_suffix('.') {
        Some(_) => (String::new(), format!("{}%", like_escaped(&filter.action))),
        None => (filter.action.clone(), String::new()),
    };
    let until = if filter.until_ms > 0 {
        filter.until_ms
    } else {
        i64::MAX
    };
    let rows = sqlx::query(concat!(
        "SELECT ",
        columns!(),
        " FROM audit_log WHERE seq < $1 AND seq >= $2 \
         AND ($3 = '' OR entity = $3) AND ($4 = '' OR entity_id = $4) AND ($5 = '' OR actor = $5) \
         AND ($6 = '' OR department = $6) AND ($7 = '' OR action = $7) \
         AND ($8 = '' OR action LIKE $8 ESCAPE '\\') AND at_ms >= $9 AND at_ms < $10 \
         ORDER BY seq DESC LIMIT $11"
    ))
    .bind(before)
    .bind(floor)
    .bind(&filter.entity)
    .bind(&filter.entity_id)
    .bind(&filter.actor)
    .bind(&filter.department)
    .bind(&exact)
    .bind(&prefix)
    .bind(filter.since_ms)
    .bind(until)
    .bind(limit)
    .fetch_all(db.pool())
    .await?;
    let entries = rows.iter().map(entry_of).collect::<Result<Vec<_>, _>>()?;
    // A full page stops at its last entry; a short one read the whole window.
    let read_down_to = match entries.last() {
        Some(last) if entries.len() as i64 == limit => last.seq,
        _ => floor,
    };
    Ok(Listed {
        entries,
        read_down_to,
        total,
    })
}

/// `text` with LIKE's wildcards and its escape character escaped by `\`.
fn like_escaped(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

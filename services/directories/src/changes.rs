//! What each writer of the directories (an import, or a credit record raising a target's flags) changed, and the
//! check that the rows and the audit trail still agree.
//!
//! Every target and inspector row names its last writer (`import_id`); its digest is that of its data columns
//! ([`store::row_digest`]). A writer replacing an existing row records it in `import_changes`: which writer had
//! written it and the digest it had, and the new digest. So the rows a writer `W` wrote are the rows naming `W` and
//! the `import_changes` entries whose `before_import` is `W`; and the rows it replaced are its own `import_changes`
//! entries. The writer's audit entry commits to both lists ([`ListDigest`]): its `after_digest` to the rows it
//! wrote, its `before_digest` to what it replaced. [`verify`] recomputes all of it from the tables: a row changed
//! behind the service's back no longer gives the list of the writer it names.

use std::collections::HashMap;

use futures::TryStreamExt;
use futures::stream::BoxStream;
use sha2::{Digest, Sha256};
use sqlx::{AssertSqlSafe, Row};
use suiji_platform::db::Db;

use crate::store;

/// The audit actions whose entries commit to a writer's lists.
pub const WRITER_ACTIONS: [&str; 3] = ["targets.import", "inspectors.import", FLAGS_RAISED];

/// The audit action of a credit record raising a target's flags.
pub const FLAGS_RAISED: &str = "targets.flags_raised";

/// The digest of a list of rows in id order (bytewise), streamed: for each row its id (four bytes of length,
/// big-endian, then UTF-8), then for a list of written rows its digest (0x00 when unknown, else 0x01 and the 32
/// bytes), and for a list of replaced rows the writer it replaced (as the id) and that writer's digest.
#[derive(Default, Clone)]
pub struct ListDigest(Sha256);

impl ListDigest {
    /// A written row.
    pub fn written(&mut self, id: &str, digest: Option<&[u8]>) {
        self.text(id);
        self.digest(digest);
    }

    /// A replaced row.
    pub fn replaced(&mut self, id: &str, before_import: &str, before_digest: Option<&[u8]>) {
        self.text(id);
        self.text(before_import);
        self.digest(before_digest);
    }

    fn text(&mut self, text: &str) {
        self.0.update((text.len() as u32).to_be_bytes());
        self.0.update(text.as_bytes());
    }

    fn digest(&mut self, digest: Option<&[u8]>) {
        match digest {
            None => self.0.update([0u8]),
            Some(d) => {
                self.0.update([1u8]);
                self.0.update(d);
            }
        }
    }

    /// The digest, in hex as the audit trail keeps digests.
    pub fn finish(self) -> String {
        hex::encode(self.0.finalize())
    }
}

/// One row of a writer's list: the writer, the row's id, and a digest (or, in a list of replaced rows, the writer
/// replaced and its digest).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Listed {
    writer: String,
    id: String,
    before_import: String,
    digest: Option<Vec<u8>>,
    /// A row of a table (not a recorded change).
    stored: bool,
}

type Listing<'a> = BoxStream<'a, Result<Listed, sqlx::Error>>;

/// `ORDER BY` these columns, text compared bytewise on both databases.
fn bytewise(db: &Db, columns: &[&str]) -> String {
    columns
        .iter()
        .map(|c| {
            if db.postgres().is_some() {
                format!("{c} COLLATE \"C\"")
            } else {
                c.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// The rows of `table` (those naming `writer`, or all), by writer and id, each with its digest as it reads now.
fn rows_of<'a>(db: &'a Db, table: &'static store::Table, writer: Option<&'a str>) -> Listing<'a> {
    let filter = if writer.is_some() {
        "WHERE import_id = $1"
    } else {
        ""
    };
    // One writer's rows by id alone, which the key gives in order; all of them by writer too.
    let order = if writer.is_some() {
        &["id"][..]
    } else {
        &["import_id", "id"][..]
    };
    let sql = format!(
        "SELECT * FROM {} {filter} ORDER BY {}",
        table.name,
        bytewise(db, order)
    );
    let mut query = sqlx::query(AssertSqlSafe(sql));
    if let Some(writer) = writer {
        query = query.bind(writer);
    }
    Box::pin(query.fetch(db.pool()).map_ok(move |row| Listed {
        writer: row.try_get("import_id").unwrap_or_default(),
        id: row.try_get("id").unwrap_or_default(),
        before_import: String::new(),
        digest: store::stored_digest(table, &row).map(|d| d.to_vec()),
        stored: true,
    }))
}

/// The `import_changes` entries as `(writer, id, before_import, digest)`: by the writer they replaced, with the
/// digest it had written (`replaced: false`, part of that writer's written list), or by the writer that replaced,
/// with what it replaced (`replaced: true`); those of one writer, or all.
fn changes_of<'a>(db: &'a Db, replaced: bool, writer: Option<&'a str>) -> Listing<'a> {
    let (by, other, digest) = if replaced {
        ("import_id", "before_import", "before_digest")
    } else {
        ("before_import", "''", "before_digest")
    };
    let filter = if writer.is_some() {
        format!("WHERE {by} = $1")
    } else {
        String::new()
    };
    let order = if writer.is_some() {
        &["id"][..]
    } else {
        &[by, "id"][..]
    };
    let sql = format!(
        "SELECT {by} AS writer, id, {other} AS before_import, {digest} AS digest FROM import_changes {filter} \
         ORDER BY {}",
        bytewise(db, order)
    );
    let mut query = sqlx::query(AssertSqlSafe(sql));
    if let Some(writer) = writer {
        query = query.bind(writer);
    }
    Box::pin(query.fetch(db.pool()).map_ok(|row| Listed {
        writer: row.try_get("writer").unwrap_or_default(),
        id: row.try_get("id").unwrap_or_default(),
        before_import: row.try_get("before_import").unwrap_or_default(),
        digest: row.try_get("digest").unwrap_or_default(),
        stored: false,
    }))
}

/// Calls `each` with the rows of every listing in (writer, id) order, bytewise; each listing is in that order.
async fn merged(
    mut listings: Vec<Listing<'_>>,
    mut each: impl FnMut(Listed) -> Option<Finding>,
) -> Result<Option<Finding>, sqlx::Error> {
    let mut heads = Vec::with_capacity(listings.len());
    for listing in &mut listings {
        heads.push(listing.try_next().await?);
    }
    loop {
        let next = heads
            .iter()
            .enumerate()
            .filter_map(|(i, h)| h.as_ref().map(|h| (i, h)))
            .min_by(|(_, a), (_, b)| {
                (a.writer.as_bytes(), a.id.as_bytes()).cmp(&(b.writer.as_bytes(), b.id.as_bytes()))
            })
            .map(|(i, _)| i);
        let Some(i) = next else {
            return Ok(None);
        };
        let row = std::mem::replace(&mut heads[i], listings[i].try_next().await?)
            .expect("the smallest head is there");
        if let Some(finding) = each(row) {
            return Ok(Some(finding));
        }
    }
}

/// The digest of the rows `writer` wrote into `table`: those still naming it, and those replaced since.
pub async fn written_digest(
    db: &Db,
    table: &'static store::Table,
    writer: &str,
) -> Result<String, sqlx::Error> {
    let mut list = ListDigest::default();
    let listings = vec![
        rows_of(db, table, Some(writer)),
        changes_of(db, false, Some(writer)),
    ];
    merged(listings, |row| {
        list.written(&row.id, row.digest.as_deref());
        None
    })
    .await?;
    Ok(list.finish())
}

/// The digest of the rows `writer` replaced.
pub async fn replaced_digest(db: &Db, writer: &str) -> Result<String, sqlx::Error> {
    let mut list = ListDigest::default();
    merged(vec![changes_of(db, true, Some(writer))], |row| {
        list.replaced(&row.id, &row.before_import, row.digest.as_deref());
        None
    })
    .await?;
    Ok(list.finish())
}

/// What [`verify`] finds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Finding {
    /// Every writer's audit entry matches its lists.
    Intact {
        /// Target and inspector rows read.
        rows: u64,
        /// Writers whose lists were checked.
        writers: u64,
    },
    /// A writer's lists no longer match its audit entry: rows it wrote or replaced were changed since.
    WriterAltered {
        /// The import (or credit change) named in the audit entry.
        writer: String,
        /// `before` (what it replaced) or `after` (what it wrote).
        list: &'static str,
    },
}

/// Recomputes both lists of every writer whose audit entry commits to them, streaming (one pass over each table
/// and the changes, merged by writer), and names the first writer whose lists no longer give its entry's digests.
pub async fn verify(db: &Db) -> Result<Finding, sqlx::Error> {
    // The writers as their audit entries name them (entries from before digests were kept name none).
    let mut expected: HashMap<String, (String, String)> = HashMap::new();
    for action in WRITER_ACTIONS {
        let mut entries = sqlx::query(
            "SELECT entity_id, before_digest, after_digest FROM audit_log \
             WHERE action = $1 AND after_digest <> ''",
        )
        .bind(action)
        .fetch(db.pool());
        while let Some(r) = entries.try_next().await? {
            expected.insert(r.try_get(0)?, (r.try_get(1)?, r.try_get(2)?));
        }
    }
    let mut rows = 0u64;
    for list in ["after", "before"] {
        let listings = if list == "after" {
            vec![
                rows_of(db, &store::TARGETS, None),
                rows_of(db, &store::INSPECTORS, None),
                changes_of(db, false, None),
            ]
        } else {
            vec![changes_of(db, true, None)]
        };
        let check = |writer: String, digest: ListDigest| -> Option<Finding> {
            let (before, after) = expected.get(&writer)?;
            let want = if list == "after" { after } else { before };
            (digest.finish() != *want).then_some(Finding::WriterAltered { writer, list })
        };
        let mut seen = std::collections::HashSet::new();
        let mut current: Option<(String, ListDigest)> = None;
        let found = merged(listings, |row| {
            rows += u64::from(row.stored);
            if current.as_ref().is_some_and(|(w, _)| *w != row.writer) {
                let (done, digest) = current.take().expect("a writer in progress");
                seen.insert(done.clone());
                if let Some(finding) = check(done, digest) {
                    return Some(finding);
                }
            }
            let (_, digest) =
                current.get_or_insert_with(|| (row.writer.clone(), ListDigest::default()));
            if list == "after" {
                digest.written(&row.id, row.digest.as_deref());
            } else {
                digest.replaced(&row.id, &row.before_import, row.digest.as_deref());
            }
            None
        })
        .await?;
        if let Some(finding) = found {
            return Ok(finding);
        }
        if let Some((done, digest)) = current.take() {
            seen.insert(done.clone());
            if let Some(finding) = check(done, digest) {
                return Ok(finding);
            }
        }
        // A writer with nothing in the list committed to the empty one.
        let mut unseen: Vec<&String> = expected.keys().filter(|w| !seen.contains(*w)).collect();
        unseen.sort();
        for writer in unseen {
            if let Some(finding) = check(writer.clone(), ListDigest::default()) {
                return Ok(finding);
            }
        }
    }
    Ok(Finding::Intact {
        rows,
        writers: expected.len() as u64,
    })
}

/// A credit record raising a target's flags: the row is rewritten by the writer `writer` (unique per credit
/// record), the change recorded and audited like an import of one row. A flag is raised, never lowered; nothing is
/// written when both are already up, or when the target is not in the directory.
pub async fn raise_flags(
    conn: &mut sqlx::AnyConnection,
    writer: &str,
    target_id: &str,
    (abnormal, key_focus): (bool, bool),
    detail: String,
) -> Result<bool, sqlx::Error> {
    let Some((mut target, before_import)) = store::target_for_change(conn, target_id).await? else {
        return Ok(false);
    };
    let before_digest = Some(store::row_digest(&store::target_values(&target)).to_vec());
    if (target.abnormal || !abnormal) && (target.key_focus || !key_focus) {
        return Ok(false);
    }
    target.abnormal |= abnormal;
    target.key_focus |= key_focus;
    let digest = store::row_digest(&store::target_values(&target));
    // Neither flag is a snapshot filter column, so the target segments stay as they are.
    sqlx::query(
        "UPDATE targets SET abnormal = $1, key_focus = $2, import_id = $3, import_line = 0, updated_at = $4 \
         WHERE id = $5",
    )
    .bind(suiji_platform::db::flag(target.abnormal))
    .bind(suiji_platform::db::flag(target.key_focus))
    .bind(writer)
    .bind(suiji_platform::db::now_ms())
    .bind(&target.id)
    .execute(&mut *conn)
    .await?;
    let mut replaced = ListDigest::default();
    replaced.replaced(&target.id, &before_import, before_digest.as_deref());
    let mut written = ListDigest::default();
    written.written(&target.id, Some(&digest));
    let change = store::Change {
        id: target.id.clone(),
        before_import,
        before_digest,
        after_digest: digest.to_vec(),
    };
    store::record_changes(conn, writer, std::slice::from_ref(&change)).await?;
    suiji_platform::audit::append(
        conn,
        &suiji_platform::auth::Identity::system(crate::NAME),
        suiji_platform::audit::AuditEvent {
            action: FLAGS_RAISED,
            entity: "target_change",
            entity_id: writer,
            before_digest: replaced.finish(),
            after_digest: written.finish(),
            detail,
        },
    )
    .await?;
    Ok(true)
}

//! What each writer of the directories (an import, or a credit record raising a target's flags) changed, and the
//! check that the rows and the audit trail still agree.
//!
//! Every target and inspector row carries the digest of its data columns ([`store::row_digest`]) and names its
//! last writer (`import_id`). A writer replacing an existing row records it in `import_changes`: which writer had
//! written it and with what digest, and the new digest. So the rows a writer `W` wrote are the rows naming `W` and
//! the `import_changes` entries whose `before_import` is `W`; and the rows it replaced are its own `import_changes`
//! entries. The writer's audit entry commits to both lists ([`ListDigest`]): its `after_digest` to the rows it
//! wrote, its `before_digest` to what it replaced. [`verify`] recomputes all of it from the tables.

use std::collections::HashMap;

use futures::TryStreamExt;
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

/// `select` ordered by `columns`, text compared bytewise on both databases.
fn ordered(db: &Db, select: &str, columns: &str) -> String {
    let order = if db.postgres().is_some() {
        columns
            .split(", ")
            .map(|c| format!("{c} COLLATE \"C\""))
            .collect::<Vec<_>>()
            .join(", ")
    } else {
        columns.to_string()
    };
    format!("SELECT * FROM ({select}) u ORDER BY {order}")
}

/// The digest of the rows `writer` wrote into `table`: those still naming it, and those replaced since.
pub async fn written_digest(db: &Db, table: &str, writer: &str) -> Result<String, sqlx::Error> {
    let sql = ordered(
        db,
        &format!(
            "SELECT id, digest FROM {table} WHERE import_id = $1 \
             UNION ALL SELECT id, before_digest FROM import_changes WHERE before_import = $1"
        ),
        "id",
    );
    let mut rows = sqlx::query(AssertSqlSafe(sql))
        .bind(writer)
        .fetch(db.pool());
    let mut list = ListDigest::default();
    while let Some(row) = rows.try_next().await? {
        let id: String = row.try_get("id")?;
        let digest: Option<Vec<u8>> = row.try_get("digest")?;
        list.written(&id, digest.as_deref());
    }
    Ok(list.finish())
}

/// The digest of the rows `writer` replaced.
pub async fn replaced_digest(db: &Db, writer: &str) -> Result<String, sqlx::Error> {
    let mut rows = sqlx::query(
        "SELECT id, before_import, before_digest FROM import_changes WHERE import_id = $1 ORDER BY id",
    )
    .bind(writer)
    .fetch(db.pool());
    let mut list = ListDigest::default();
    while let Some(row) = rows.try_next().await? {
        let id: String = row.try_get("id")?;
        let before_import: String = row.try_get("before_import")?;
        let digest: Option<Vec<u8>> = row.try_get("before_digest")?;
        list.replaced(&id, &before_import, digest.as_deref());
    }
    Ok(list.finish())
}

/// What [`verify`] finds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Finding {
    /// Every row matches its digest and every writer's audit entry its lists.
    Intact {
        /// Rows whose digests were checked.
        rows: u64,
        /// Rows written before digests were kept, which nothing vouches for.
        undigested: u64,
        /// Writers whose lists were checked.
        writers: u64,
    },
    /// A row's content no longer matches its digest.
    RowAltered {
        /// `targets` or `inspectors`.
        table: &'static str,
        /// The row.
        id: String,
    },
    /// A writer's lists no longer match its audit entry.
    WriterAltered {
        /// The import (or credit change) named in the audit entry.
        writer: String,
        /// `before` (what it replaced) or `after` (what it wrote).
        list: &'static str,
    },
}

/// Recomputes every row's digest and every writer's lists, streaming, and names the first that differs.
pub async fn verify(db: &Db) -> Result<Finding, sqlx::Error> {
    let (mut rows, mut undigested) = (0u64, 0u64);
    for table in [&store::TARGETS, &store::INSPECTORS] {
        let sql = format!("SELECT * FROM {} ORDER BY id", table.name);
        let mut stream = sqlx::query(AssertSqlSafe(sql)).fetch(db.pool());
        while let Some(row) = stream.try_next().await? {
            let digest: Option<Vec<u8>> = row.try_get("digest")?;
            let Some(digest) = digest else {
                undigested += 1;
                continue;
            };
            rows += 1;
            if store::stored_digest(table, &row)
                .as_ref()
                .map(<[u8; 32]>::as_slice)
                != Some(&digest)
            {
                return Ok(Finding::RowAltered {
                    table: table.name,
                    id: row.try_get("id")?,
                });
            }
        }
    }
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
    // Every writer's two lists, each in one pass over all writers grouped.
    let lists = [
        (
            "after",
            "SELECT import_id AS writer, id, '' AS before_import, digest FROM targets \
             UNION ALL SELECT import_id, id, '', digest FROM inspectors \
             UNION ALL SELECT before_import, id, '', before_digest FROM import_changes",
        ),
        (
            "before",
            "SELECT import_id AS writer, id, before_import, before_digest AS digest FROM import_changes",
        ),
    ];
    for (list, select) in lists {
        let sql = ordered(db, select, "writer, id");
        let mut stream = sqlx::query(AssertSqlSafe(sql)).fetch(db.pool());
        let mut seen = std::collections::HashSet::new();
        let mut current: Option<(String, ListDigest)> = None;
        let check = |writer: String, digest: ListDigest| -> Option<Finding> {
            let (before, after) = expected.get(&writer)?;
            let want = if list == "after" { after } else { before };
            (digest.finish() != *want).then_some(Finding::WriterAltered { writer, list })
        };
        loop {
            let row = stream.try_next().await?;
            let writer: Option<String> = row.as_ref().map(|r| r.try_get("writer")).transpose()?;
            if current.as_ref().map(|(w, _)| Some(w) != writer.as_ref()) == Some(true) {
                let (done, digest) = current.take().expect("a writer in progress");
                seen.insert(done.clone());
                if let Some(finding) = check(done, digest) {
                    return Ok(finding);
                }
            }
            let (Some(row), Some(writer)) = (row, writer) else {
                break;
            };
            let digest = current.get_or_insert_with(|| (writer, ListDigest::default()));
            let id: String = row.try_get("id")?;
            let hash: Option<Vec<u8>> = row.try_get("digest")?;
            if list == "after" {
                digest.1.written(&id, hash.as_deref());
            } else {
                let before_import: String = row.try_get("before_import")?;
                digest.1.replaced(&id, &before_import, hash.as_deref());
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
    let writers = expected.len() as u64;
    Ok(Finding::Intact {
        rows,
        undigested,
        writers,
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
    let Some((mut target, before_import, before_digest)) =
        store::target_for_change(conn, target_id).await?
    else {
        return Ok(false);
    };
    if (target.abnormal || !abnormal) && (target.key_focus || !key_focus) {
        return Ok(false);
    }
    target.abnormal |= abnormal;
    target.key_focus |= key_focus;
    let digest = store::row_digest(&store::target_values(&target));
    // Neither flag is a snapshot filter column, so the target segments stay as they are.
    sqlx::query(
        "UPDATE targets SET abnormal = $1, key_focus = $2, digest = $3, import_id = $4, import_line = 0, \
         updated_at = $5 WHERE id = $6",
    )
    .bind(suiji_platform::db::flag(target.abnormal))
    .bind(suiji_platform::db::flag(target.key_focus))
    .bind(digest.to_vec())
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

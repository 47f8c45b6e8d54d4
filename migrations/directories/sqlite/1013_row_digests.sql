-- Every row a writer of the directories (an import, or a credit record raising a target's flags) replaced: which
-- writer had written it and the digest it had, and the new digest. A row's digest is the SHA-256 of its data
-- columns (docs/audit.md, "Directory rows"). A created row has no entry here; the writer's audit entry commits to
-- it.
CREATE TABLE import_changes (
    import_id      TEXT NOT NULL,
    id             TEXT NOT NULL,
    before_import  TEXT NOT NULL,
    before_digest  BLOB,
    after_digest   BLOB NOT NULL,
    PRIMARY KEY (import_id, id)
);
CREATE INDEX import_changes_before ON import_changes (before_import, id);

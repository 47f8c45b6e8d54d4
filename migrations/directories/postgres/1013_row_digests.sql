-- Every row a writer of the directories (an import, or a credit record raising a target's flags) replaced: which
-- writer had written it and the digest it had, and the new digest. A row's digest is the SHA-256 of its data
-- columns (docs/audit.md, "Directory rows"). A created row has no entry here; the writer's audit entry commits to
-- it.
CREATE TABLE import_changes (
    import_id      TEXT NOT NULL,
    id             TEXT COLLATE "C" NOT NULL,
    before_import  TEXT NOT NULL,
    before_digest  BYTEA,
    after_digest   BYTEA NOT NULL,
    PRIMARY KEY (import_id, id)
);
-- No index by before_import here: on PostgreSQL an import hashes what it wrote as it writes it, and only the
-- offline check reads the changes by the writer they replaced, sorting them all at once.

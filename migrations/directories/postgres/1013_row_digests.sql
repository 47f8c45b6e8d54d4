-- Every change an import (or a credit record) makes to a target or an inspector, with digests.
-- `digest` is the SHA-256 of the row's data columns as the writer wrote them (docs/audit.md, "Directory rows");
-- NULL for a row written before digests were kept. `import_id` names the row's last writer.
ALTER TABLE targets ADD COLUMN digest BYTEA;
ALTER TABLE inspectors ADD COLUMN digest BYTEA;

-- One row per existing row a writer replaced: which writer had written it and with what digest, and the new
-- digest. A created row has no entry here; its digest is on the row until a later writer replaces it.
CREATE TABLE import_changes (
    import_id      TEXT NOT NULL,
    id             TEXT COLLATE "C" NOT NULL,
    before_import  TEXT NOT NULL,
    before_digest  BYTEA,
    after_digest   BYTEA NOT NULL,
    PRIMARY KEY (import_id, id)
);
CREATE INDEX import_changes_before ON import_changes (before_import, id);

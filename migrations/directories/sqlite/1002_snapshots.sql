-- Snapshots: frozen, digested candidate sets for the draw (sorted ids, SHA-256, counts per risk level).

CREATE TABLE snapshots (
    id          TEXT PRIMARY KEY,
    what        TEXT NOT NULL,
    filter      TEXT NOT NULL,
    digest      TEXT NOT NULL,
    count       INTEGER NOT NULL,
    strata      TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    created_by  TEXT NOT NULL
);

-- The ids themselves, in order, newline-terminated, in chunks of about a megabyte.
CREATE TABLE snapshot_chunks (
    snapshot_id  TEXT NOT NULL REFERENCES snapshots (id),
    chunk        INTEGER NOT NULL,
    ids          BLOB NOT NULL,
    PRIMARY KEY (snapshot_id, chunk)
);

-- The platform's tables, present in every service's database: transactional outbox, inbox, audit trail.

-- Events written in the same transaction as the change they describe; the relay publishes and marks them.
CREATE TABLE outbox (
    seq          INTEGER PRIMARY KEY AUTOINCREMENT,
    id           TEXT NOT NULL UNIQUE,
    routing_key  TEXT NOT NULL,
    body         BLOB NOT NULL,
    headers      TEXT NOT NULL,
    created_at   INTEGER NOT NULL,
    sent_at      INTEGER,
    attempts     INTEGER NOT NULL DEFAULT 0,
    last_error   TEXT
);
CREATE INDEX outbox_unsent ON outbox (seq) WHERE sent_at IS NULL;
CREATE INDEX outbox_sent_at ON outbox (sent_at) WHERE sent_at IS NOT NULL;

-- Ids of handled messages, recorded in the same transaction as their effect.
CREATE TABLE inbox (
    message_id   TEXT PRIMARY KEY,
    routing_key  TEXT NOT NULL,
    handled_at   INTEGER NOT NULL
);
CREATE INDEX inbox_handled_at ON inbox (handled_at);

-- Append-only, hash-chained audit trail (全程留痕).
CREATE TABLE audit_log (
    seq            INTEGER PRIMARY KEY,
    at_ms          INTEGER NOT NULL,
    actor          TEXT NOT NULL,
    department     TEXT NOT NULL,
    action         TEXT NOT NULL,
    entity         TEXT NOT NULL,
    entity_id      TEXT NOT NULL,
    before_digest  TEXT NOT NULL,
    after_digest   TEXT NOT NULL,
    detail         TEXT NOT NULL,
    prev_hash      TEXT NOT NULL,
    hash           TEXT NOT NULL
);
CREATE INDEX audit_log_entity ON audit_log (entity, entity_id);

-- The chain's head: one row, updated by each append so entries form one line.
CREATE TABLE audit_head (
    id    INTEGER PRIMARY KEY CHECK (id = 1),
    seq   INTEGER NOT NULL,
    hash  TEXT NOT NULL
);
INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');

CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;

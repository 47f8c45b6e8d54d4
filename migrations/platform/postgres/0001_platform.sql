-- The platform's tables, present in every service's schema: transactional outbox, inbox, audit trail.

-- Events written in the same transaction as the change they describe; the relay publishes and marks them.
CREATE TABLE outbox (
    seq          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id           TEXT NOT NULL UNIQUE,
    routing_key  TEXT NOT NULL,
    body         BYTEA NOT NULL,
    headers      TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    sent_at      BIGINT,
    attempts     INTEGER NOT NULL DEFAULT 0,
    last_error   TEXT
);
CREATE INDEX outbox_unsent ON outbox (seq) WHERE sent_at IS NULL;
CREATE INDEX outbox_sent_at ON outbox (sent_at) WHERE sent_at IS NOT NULL;

-- Ids of handled messages, recorded in the same transaction as their effect.
CREATE TABLE inbox (
    message_id   TEXT PRIMARY KEY,
    routing_key  TEXT NOT NULL,
    handled_at   BIGINT NOT NULL
);
CREATE INDEX inbox_handled_at ON inbox (handled_at);

-- Append-only, hash-chained audit trail (全程留痕).
CREATE TABLE audit_log (
    seq            BIGINT PRIMARY KEY,
    at_ms          BIGINT NOT NULL,
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

-- The chain's head: one row, locked by each append so entries form one line.
CREATE TABLE audit_head (
    id    INTEGER PRIMARY KEY CHECK (id = 1),
    seq   BIGINT NOT NULL,
    hash  TEXT NOT NULL
);
INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');

CREATE OR REPLACE FUNCTION audit_log_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER audit_log_no_update BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();

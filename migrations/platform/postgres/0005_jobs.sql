-- Durable jobs (suiji_platform::jobs): background work a transaction decided and a worker carries out outside any
-- transaction, retried with back-off, removed when done or failed for good. Jobs of one lane (a saga's task, say) run one at a time, in
-- the order they were added. A worker claims a job by moving next_at past a lease, so a job another replica or a
-- dead process held is taken again when its lease ends.
CREATE TABLE jobs (
    id          TEXT PRIMARY KEY,
    kind        TEXT NOT NULL,
    lane        TEXT NOT NULL,
    payload     BYTEA NOT NULL,
    attempts    BIGINT NOT NULL DEFAULT 0,
    next_at     BIGINT NOT NULL,
    last_error  TEXT NOT NULL DEFAULT '',
    created_at  BIGINT NOT NULL
);
CREATE INDEX jobs_next ON jobs (next_at);
CREATE INDEX jobs_lane ON jobs (lane, created_at);

-- Draws: one record per launched task (docs/draw-v1.md), kept as a JSON document beside the columns listings
-- filter on. Every write checks the revision it read, so two racing draws produce one winner.
CREATE TABLE draws (
    task_id          TEXT PRIMARY KEY,
    year             BIGINT NOT NULL,
    lead_department  TEXT NOT NULL,
    state            TEXT NOT NULL,
    revision         BIGINT NOT NULL,
    doc              TEXT NOT NULL,
    -- The `planning.task.launched` payload (TaskLaunchedEvent), as received: scope, amounts, items, caps.
    launched         BLOB NOT NULL,
    created_at       BIGINT NOT NULL,
    updated_at       BIGINT NOT NULL
);
CREATE INDEX draws_state ON draws (state, task_id);

-- Server secrets (hex) until the record reveals them; only their SHA-256 is published before the draw.
CREATE TABLE draw_secrets (
    task_id  TEXT NOT NULL REFERENCES draws (task_id),
    part     TEXT NOT NULL CHECK (part IN ('targets', 'teams')),
    secret   TEXT NOT NULL,
    PRIMARY KEY (task_id, part)
);

-- Saga commands received and not yet carried out. The consumer records a command here in the transaction that
-- marks its message handled; a worker carries it out outside any message transaction (it calls the
-- directories), retrying with back-off, and deletes it when done or when it failed for good.
CREATE TABLE draw_jobs (
    id          TEXT PRIMARY KEY,
    kind        TEXT NOT NULL,
    task_id     TEXT NOT NULL,
    payload     BLOB NOT NULL,
    attempts    BIGINT NOT NULL DEFAULT 0,
    next_at     BIGINT NOT NULL,
    last_error  TEXT NOT NULL DEFAULT '',
    created_at  BIGINT NOT NULL
);
CREATE INDEX draw_jobs_next ON draw_jobs (next_at);

-- Results: one per department, item and inspected target (谁检查、谁录入), created when the visit concludes and
-- versioned for optimistic concurrency. The columns are what lists, deadlines and reports filter on; the whole
-- result with its history is the JSON document (services/publication/src/domain/result.rs).
CREATE TABLE results (
    id               TEXT PRIMARY KEY,
    task_id          TEXT NOT NULL,
    department       TEXT NOT NULL,
    state            TEXT NOT NULL,
    -- 1 once entered (awaiting review or beyond).
    entered          INTEGER NOT NULL,
    problem          INTEGER NOT NULL,
    inspection_date  TEXT NOT NULL,
    -- Last day to publish, YYYY-MM-DD; '' while the calendar does not cover it.
    due_date         TEXT NOT NULL,
    version          BIGINT NOT NULL,
    doc              TEXT NOT NULL,
    updated_at       BIGINT NOT NULL
);
CREATE INDEX results_department ON results (department, id);
CREATE INDEX results_task ON results (task_id, id);
CREATE INDEX results_period ON results (inspection_date, department);

-- What the public sees: one row per published result, written when it is published or corrected. The public
-- search reads nothing else, so nothing unpublished or withheld can reach it.
CREATE TABLE public_records (
    result_id        TEXT PRIMARY KEY,
    credit_code      TEXT NOT NULL,
    target_name      TEXT NOT NULL,
    -- Newest first: inspection date, then id.
    sort_key         TEXT NOT NULL,
    published_day    TEXT NOT NULL,
    doc              TEXT NOT NULL
);
CREATE INDEX public_records_code ON public_records (credit_code, sort_key);
CREATE INDEX public_records_sort ON public_records (sort_key);
CREATE INDEX public_records_day ON public_records (published_day, result_id);

-- Corrections as the daily export lists them.
CREATE TABLE corrections (
    result_id        TEXT NOT NULL,
    seq              INTEGER NOT NULL,
    day              TEXT NOT NULL,
    PRIMARY KEY (result_id, seq)
);
CREATE INDEX corrections_day ON corrections (day, result_id);

-- Every version of the result code table the service has used, so a result reads in the table it was entered in.
CREATE TABLE result_codes (
    version    TEXT NOT NULL,
    code       TEXT NOT NULL,
    text       TEXT NOT NULL,
    problem    INTEGER NOT NULL,
    exclusive  INTEGER NOT NULL,
    credit     TEXT NOT NULL,
    retired    INTEGER NOT NULL,
    PRIMARY KEY (version, code)
);

-- The connector's own outbox: each message to an outside system, written in the transaction that publishes,
-- delivered with retries and back-off, and kept as a dead letter when the attempts run out.
CREATE TABLE deliveries (
    id          TEXT PRIMARY KEY,
    connector   TEXT NOT NULL,
    kind        TEXT NOT NULL,
    result_id   TEXT NOT NULL,
    body        TEXT NOT NULL,
    state       TEXT NOT NULL,
    attempts    INTEGER NOT NULL,
    next_at     BIGINT NOT NULL,
    last_error  TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);
CREATE INDEX deliveries_due ON deliveries (state, next_at);

-- Follow-up transfers (移送): a problem found on a visit sent to the department responsible or the judicial
-- organs, tracked until its receiver closes it. Versioned like the visits; the whole transfer with its history is
-- the JSON document (services/inspection/src/domain/transfer.rs).
CREATE TABLE transfers (
    id             TEXT PRIMARY KEY,
    task_id        TEXT NOT NULL,
    to_department  TEXT NOT NULL,
    state          TEXT NOT NULL,
    version        BIGINT NOT NULL,
    doc            TEXT NOT NULL,
    updated_at     BIGINT NOT NULL
);
CREATE INDEX transfers_task ON transfers (task_id, id);
CREATE INDEX transfers_receiver ON transfers (to_department, state, id);

-- The joint-inspection saga: one row per launched task (the task id is the correlation key, so two messages
-- racing to start a saga make one), versioned for optimistic concurrency: every change reads the version and
-- writes only if it is unchanged, so two racing messages produce one winner and the other is retried.
CREATE TABLE sagas (
    task_id      TEXT PRIMARY KEY,
    lead         TEXT NOT NULL,
    phase        TEXT NOT NULL,
    -- Departments taking part or invited, as ',A,B,' so one LIKE finds a participant.
    departments  TEXT NOT NULL,
    attention    INTEGER NOT NULL,
    version      BIGINT NOT NULL,
    -- The state machine (services/inspection/src/domain/saga.rs) as JSON.
    doc          TEXT NOT NULL,
    -- The `planning.task.launched` payload as received: the items and their check points.
    launched     BYTEA NOT NULL,
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL
);
CREATE INDEX sagas_phase ON sagas (phase, task_id);

-- Every input a saga received, in order, applied or recognised as late: the console's timeline.
CREATE TABLE saga_history (
    task_id  TEXT NOT NULL REFERENCES sagas (task_id),
    seq      BIGINT NOT NULL,
    at       BIGINT NOT NULL,
    actor    TEXT NOT NULL,
    kind     TEXT NOT NULL,
    detail   TEXT NOT NULL,
    phase    TEXT NOT NULL,
    applied  INTEGER NOT NULL,
    cause    TEXT NOT NULL,
    PRIMARY KEY (task_id, seq)
);

-- Durable timers: a timer fires by being deleted in the transaction that applies it, so a restart neither
-- loses nor doubles one.
CREATE TABLE saga_timers (
    id          TEXT PRIMARY KEY,
    task_id     TEXT NOT NULL REFERENCES sagas (task_id),
    kind        TEXT NOT NULL,
    due_at      BIGINT NOT NULL,
    created_at  BIGINT NOT NULL
);
CREATE INDEX saga_timers_due ON saga_timers (due_at);
CREATE INDEX saga_timers_task ON saga_timers (task_id);

-- Visits: one per locked target, created with the teams; versioned like the sagas.
CREATE TABLE visits (
    id           TEXT PRIMARY KEY,
    task_id      TEXT NOT NULL REFERENCES sagas (task_id),
    target_id    TEXT NOT NULL,
    -- The code the team shows the target, who checks it on a public call.
    code         TEXT NOT NULL UNIQUE,
    scheduled    INTEGER NOT NULL,
    concluded    INTEGER NOT NULL,
    version      BIGINT NOT NULL,
    -- The visit (services/inspection/src/domain/visit.rs) as JSON.
    doc          TEXT NOT NULL,
    updated_at   BIGINT NOT NULL,
    UNIQUE (task_id, target_id)
);

-- The directories (两库): inspection targets (the departments table is the platform's). Inspectors follow.

-- One row per target, keyed by its public identifier (credit code or prefixed id).
CREATE TABLE targets (
    id                 TEXT PRIMARY KEY,
    kind               TEXT NOT NULL,
    credit_code        TEXT,
    name               TEXT NOT NULL,
    region_code        TEXT NOT NULL,
    industry_code      TEXT NOT NULL,
    address            TEXT NOT NULL,
    status             TEXT NOT NULL,
    -- Supervising departments as ',A,B,' so one LIKE finds a department.
    departments        TEXT NOT NULL,
    risk               TEXT NOT NULL,
    abnormal           INTEGER NOT NULL,
    serious_violation  INTEGER NOT NULL,
    complaints_12m     INTEGER NOT NULL,
    key_focus          INTEGER NOT NULL,
    -- The import that last wrote the row and the file line it came from: a second row with the same id in
    -- one file is recognised as a duplicate, and named by the line of the first.
    import_id          TEXT NOT NULL DEFAULT '',
    import_line        INTEGER NOT NULL DEFAULT 0,
    created_at         INTEGER NOT NULL,
    updated_at         INTEGER NOT NULL
);

-- One row per import, with its counts.
CREATE TABLE imports (
    id           TEXT PRIMARY KEY,
    what         TEXT NOT NULL,
    file_name    TEXT NOT NULL,
    actor        TEXT NOT NULL,
    started_at   INTEGER NOT NULL,
    finished_at  INTEGER,
    rows_read    INTEGER NOT NULL DEFAULT 0,
    accepted     INTEGER NOT NULL DEFAULT 0,
    rejected     INTEGER NOT NULL DEFAULT 0,
    created      INTEGER NOT NULL DEFAULT 0
);

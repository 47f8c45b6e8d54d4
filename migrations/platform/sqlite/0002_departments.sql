-- Departments: owned by the directories service, copied into every service (from a seed file at start and
-- from `directories.department.upserted` events), so no service calls another to check a department code.
CREATE TABLE departments (
    code         TEXT PRIMARY KEY,
    name         TEXT NOT NULL,
    level        TEXT NOT NULL,
    region_code  TEXT NOT NULL,
    active       INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL
);

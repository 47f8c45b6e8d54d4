-- Inspectors (执法检查人员名录库). Lists are stored as ',a,b,' so one LIKE finds a member.

CREATE TABLE inspectors (
    -- Sorted bytewise, as snapshots of eligible inspectors are.
    id                   TEXT COLLATE "C" PRIMARY KEY,
    name                 TEXT NOT NULL,
    department_code      TEXT NOT NULL,
    certificate_no       TEXT NOT NULL,
    -- Last day the enforcement certificate is valid, ISO 8601 (YYYY-MM-DD), so text order is date order.
    certificate_expires  TEXT NOT NULL,
    qualifications       TEXT NOT NULL,
    expertise            TEXT NOT NULL,
    expert               INTEGER NOT NULL,
    region_code          TEXT NOT NULL,
    status               TEXT NOT NULL,
    recusals             TEXT NOT NULL,
    -- Open assignments, kept from the draw's and the inspection's events.
    workload             INTEGER NOT NULL DEFAULT 0,
    import_id            TEXT NOT NULL DEFAULT '',
    import_line          BIGINT NOT NULL DEFAULT 0,
    created_at           BIGINT NOT NULL,
    updated_at           BIGINT NOT NULL
);
CREATE INDEX inspectors_department ON inspectors (department_code, id);

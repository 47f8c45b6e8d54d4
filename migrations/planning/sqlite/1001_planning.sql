-- Planning: annual plans (年度抽查计划) and their versions, the local copy of the published catalog, the
-- departments' annual caps, and tasks (抽查任务).

-- One row per plan. The searchable fields are columns; the whole header is `doc` (JSON).
CREATE TABLE plans (
    id                 TEXT PRIMARY KEY,
    department_code    TEXT NOT NULL REFERENCES departments (code),
    year               INTEGER NOT NULL,
    state              TEXT NOT NULL CHECK (state IN ('draft', 'submitted', 'approved', 'published')),
    revision           INTEGER NOT NULL,
    doc                TEXT NOT NULL,
    created_at         INTEGER NOT NULL,
    updated_at         INTEGER NOT NULL
);
CREATE INDEX plans_year ON plans (year, state, id);
CREATE INDEX plans_department ON plans (department_code, id);

-- Every version of a plan: version 1 and each amendment. A version that came into force is never changed.
CREATE TABLE plan_versions (
    plan_id    TEXT NOT NULL REFERENCES plans (id),
    version    INTEGER NOT NULL,
    doc        TEXT NOT NULL,
    PRIMARY KEY (plan_id, version)
);

-- The catalog items as the catalog last announced them (catalog.item.published / .retired). `item` is the
-- encoded suiji.catalog.v1.Item, passed on unchanged in planning.task.launched.
CREATE TABLE catalog_items (
    code             TEXT PRIMARY KEY,
    department_code  TEXT NOT NULL,
    state            TEXT NOT NULL,
    version          INTEGER NOT NULL,
    item             BLOB NOT NULL,
    updated_at       INTEGER NOT NULL
);
CREATE INDEX catalog_items_department ON catalog_items (department_code, code);

-- Each department's published cap on inspections of one target in a year.
CREATE TABLE annual_caps (
    department_code  TEXT NOT NULL REFERENCES departments (code),
    year             INTEGER NOT NULL,
    max_per_target   INTEGER NOT NULL CHECK (max_per_target BETWEEN 1 AND 12),
    set_at           INTEGER NOT NULL,
    set_by           TEXT NOT NULL,
    PRIMARY KEY (department_code, year)
);

-- Tasks. `departments` is ',A,B,' (lead and participants) so one LIKE finds a department's tasks.
CREATE TABLE tasks (
    id                    TEXT PRIMARY KEY,
    plan_id               TEXT NOT NULL REFERENCES plans (id),
    entry_key             TEXT NOT NULL,
    year                  INTEGER NOT NULL,
    lead_department_code  TEXT NOT NULL,
    departments           TEXT NOT NULL,
    state                 TEXT NOT NULL CHECK (state IN ('created', 'launched', 'cancelled')),
    quantity              INTEGER NOT NULL,
    revision              INTEGER NOT NULL,
    doc                   TEXT NOT NULL,
    created_at            INTEGER NOT NULL,
    updated_at            INTEGER NOT NULL
);
CREATE INDEX tasks_plan ON tasks (plan_id, entry_key);
CREATE INDEX tasks_state ON tasks (state, id);

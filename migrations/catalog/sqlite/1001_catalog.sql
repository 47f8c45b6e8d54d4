-- The catalog (随机抽查事项清单): items and their versions.

-- One row per item: its owner, lifecycle state and which versions matter.
CREATE TABLE items (
    code               TEXT PRIMARY KEY,
    department_code    TEXT NOT NULL REFERENCES departments (code),
    state              TEXT NOT NULL CHECK (state IN ('draft', 'published', 'retired')),
    latest_version     INTEGER NOT NULL,
    published_version  INTEGER NOT NULL DEFAULT 0,
    -- Of the latest version, for filtering without reading content.
    category           TEXT NOT NULL,
    target_kinds       TEXT NOT NULL,
    revision           INTEGER NOT NULL,
    retire_reason      TEXT NOT NULL DEFAULT '',
    created_at         INTEGER NOT NULL,
    updated_at         INTEGER NOT NULL
);
CREATE INDEX items_department ON items (department_code, code);
CREATE INDEX items_state ON items (state, code);

-- Every version ever drafted; published versions are never changed again.
CREATE TABLE item_versions (
    code           TEXT NOT NULL REFERENCES items (code),
    version        INTEGER NOT NULL,
    state          TEXT NOT NULL CHECK (state IN ('draft', 'published', 'superseded', 'retired')),
    content        TEXT NOT NULL,
    created_at     INTEGER NOT NULL,
    created_by     TEXT NOT NULL,
    published_at   INTEGER,
    published_by   TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (code, version)
);

-- The console's own tables: local accounts (the embedded default and deployments without single sign-on) and the
-- signed-in people's sessions (local or OpenID Connect), shared by every console replica.

CREATE TABLE accounts (
    username        TEXT PRIMARY KEY,
    display_name    TEXT    NOT NULL,
    department      TEXT    NOT NULL,
    -- JSON array of role names.
    roles           TEXT    NOT NULL,
    -- Argon2id in the PHC string format.
    password_hash   TEXT    NOT NULL,
    -- Failed sign-ins since the last success; at the limit the account locks until locked_until.
    failed_attempts BIGINT  NOT NULL DEFAULT 0,
    locked_until    BIGINT  NOT NULL DEFAULT 0,
    disabled        BIGINT  NOT NULL DEFAULT 0,
    created_at      BIGINT  NOT NULL,
    updated_at      BIGINT  NOT NULL
);

CREATE TABLE sessions (
    -- SHA-256 (hex) of the id the cookie carries: a copy of this table opens no session.
    id_hash      TEXT PRIMARY KEY,
    -- The local account, or the OpenID Connect subject.
    subject      TEXT    NOT NULL,
    display_name TEXT    NOT NULL,
    department   TEXT    NOT NULL,
    roles        TEXT    NOT NULL,
    -- 'local' or 'oidc'.
    source       TEXT    NOT NULL,
    -- Sent back in a header on every change (CSRF).
    csrf         TEXT    NOT NULL,
    created_at   BIGINT  NOT NULL,
    last_seen    BIGINT  NOT NULL,
    expires_at   BIGINT  NOT NULL,
    revoked_at   BIGINT
);

CREATE INDEX sessions_by_subject ON sessions (subject);
CREATE INDEX sessions_by_expiry ON sessions (expires_at);

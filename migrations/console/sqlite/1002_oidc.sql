-- Sign-in with OpenID Connect: the flows under way, and the provider's access token of each such session.

-- The console forwards the provider's access token with the person's calls; a local session has none (the
-- console signs a short-lived one for each call). The session ends when this token expires.
ALTER TABLE sessions ADD COLUMN access_token TEXT;

-- An authorization request sent to the provider, until its answer comes back (to any replica) or it is an hour
-- old: the PKCE verifier and the nonce, by the SHA-256 of the state the browser carries.
CREATE TABLE oidc_flows (
    state_hash  TEXT PRIMARY KEY,
    verifier    TEXT   NOT NULL,
    nonce       TEXT   NOT NULL,
    -- Where in the console the person was going.
    next        TEXT   NOT NULL,
    created_at  INTEGER NOT NULL
);

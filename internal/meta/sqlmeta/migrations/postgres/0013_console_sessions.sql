-- The web console's sign-in sessions, shared by every node. id_hash is the
-- SHA-256 of the session ID the browser holds in its cookie, never the ID;
-- times are unix milliseconds. It holds a row per signed-in browser, few
-- enough that purging ended sessions needs no index.
CREATE TABLE console_sessions (
    id_hash       TEXT PRIMARY KEY,
    csrf_token    TEXT NOT NULL,
    account_id    TEXT NOT NULL,
    access_key_id TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    expires_at    BIGINT NOT NULL,
    last_seen_at  BIGINT NOT NULL
);

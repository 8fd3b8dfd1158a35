-- Access key IDs deleted on purpose. A deleted ID can never be stored again,
-- so a root key revoked with `seqstore admin key delete` does not come back
-- when a server restarts with it in its environment or its credentials file.
CREATE TABLE deleted_access_keys (
    id         TEXT PRIMARY KEY,
    account_id TEXT NOT NULL,
    deleted_at BIGINT NOT NULL
);

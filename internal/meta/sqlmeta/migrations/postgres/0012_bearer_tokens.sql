-- Bearer tokens an operator issues to an account (`seqstore admin token
-- create`): htsget and refget accept one in place of a SigV4 signature.
-- Only the SHA-256 of the token's secret is kept; a revoked token stays,
-- with revoked_at set, so that listing shows it was revoked. Times are
-- Unix milliseconds; expires_at 0 means the token never expires.
CREATE TABLE bearer_tokens (
    id          TEXT PRIMARY KEY,
    account_id  TEXT NOT NULL REFERENCES accounts (id),
    name        TEXT NOT NULL,
    secret_hash TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL,
    revoked_at  BIGINT NOT NULL
);
CREATE INDEX bearer_tokens_account ON bearer_tokens (account_id, created_at, id);

-- The first schema, as released. Times are unix milliseconds (BIGINT, which
-- SQLite stores as INTEGER) so that one set of queries serves SQLite and
-- PostgreSQL; nested leftovers are JSON text. Never edit a released
-- migration: add the next number instead.
CREATE TABLE accounts (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE TABLE access_keys (
    id         TEXT PRIMARY KEY,
    secret     TEXT NOT NULL,
    account_id TEXT NOT NULL REFERENCES accounts (id),
    created_at BIGINT NOT NULL
);
CREATE INDEX access_keys_account ON access_keys (account_id);
CREATE TABLE sequence_stores (
    id                  TEXT PRIMARY KEY,
    account_id          TEXT NOT NULL,
    name                TEXT NOT NULL,
    description         TEXT NOT NULL,
    sse_type            TEXT NOT NULL,
    sse_key_arn         TEXT NOT NULL,
    etag_family         TEXT NOT NULL,
    fallback_location   TEXT NOT NULL,
    propagated_tags     TEXT NOT NULL,
    access_log_location TEXT NOT NULL,
    status              TEXT NOT NULL,
    status_message      TEXT NOT NULL,
    created_at          BIGINT NOT NULL,
    updated_at          BIGINT NOT NULL
);
CREATE INDEX sequence_stores_list ON sequence_stores (account_id, created_at, id);
CREATE TABLE reference_stores (
    id          TEXT PRIMARY KEY,
    account_id  TEXT NOT NULL,
    name        TEXT NOT NULL,
    description TEXT NOT NULL,
    sse_type    TEXT NOT NULL,
    sse_key_arn TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);
CREATE INDEX reference_stores_list ON reference_stores (account_id, created_at, id);
CREATE TABLE genome_references (
    id              TEXT PRIMARY KEY,
    account_id      TEXT NOT NULL,
    store_id        TEXT NOT NULL,
    name            TEXT NOT NULL,
    description     TEXT NOT NULL,
    md5             TEXT NOT NULL,
    status          TEXT NOT NULL,
    creation_job_id TEXT NOT NULL,
    files           TEXT NOT NULL,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL
);
CREATE INDEX genome_references_list ON genome_references (account_id, store_id, created_at, id);
CREATE TABLE read_sets (
    id              TEXT PRIMARY KEY,
    account_id      TEXT NOT NULL,
    store_id        TEXT NOT NULL,
    name            TEXT NOT NULL,
    description     TEXT NOT NULL,
    subject_id      TEXT NOT NULL,
    sample_id       TEXT NOT NULL,
    status          TEXT NOT NULL,
    status_message  TEXT NOT NULL,
    file_type       TEXT NOT NULL,
    reference_arn   TEXT NOT NULL,
    generated_from  TEXT NOT NULL,
    creation_type   TEXT NOT NULL,
    creation_job_id TEXT NOT NULL,
    upload_id       TEXT NOT NULL,
    sequence_info   TEXT NOT NULL,
    etag            TEXT NOT NULL,
    files           TEXT NOT NULL,
    tags            TEXT NOT NULL,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL,
    lease_owner     TEXT NOT NULL DEFAULT '',
    lease_until     BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX read_sets_list ON read_sets (account_id, store_id, created_at, id);
CREATE INDEX read_sets_status ON read_sets (status, lease_until);
CREATE INDEX read_sets_reference ON read_sets (account_id, reference_arn);
CREATE TABLE uploads (
    id               TEXT PRIMARY KEY,
    account_id       TEXT NOT NULL,
    store_id         TEXT NOT NULL,
    status           TEXT NOT NULL,
    source_file_type TEXT NOT NULL,
    subject_id       TEXT NOT NULL,
    sample_id        TEXT NOT NULL,
    generated_from   TEXT NOT NULL,
    reference_arn    TEXT NOT NULL,
    name             TEXT NOT NULL,
    description      TEXT NOT NULL,
    tags             TEXT NOT NULL,
    created_at       BIGINT NOT NULL
);
CREATE INDEX uploads_list ON uploads (account_id, store_id, created_at, id);
CREATE TABLE upload_parts (
    upload_id  TEXT NOT NULL,
    source     TEXT NOT NULL,
    number     INTEGER NOT NULL,
    size       BIGINT NOT NULL,
    checksum   TEXT NOT NULL,
    object_key TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (upload_id, source, number)
);
CREATE TABLE tags (
    account_id TEXT NOT NULL,
    arn        TEXT NOT NULL,
    tag_key    TEXT NOT NULL,
    tag_value  TEXT NOT NULL,
    PRIMARY KEY (account_id, arn, tag_key)
);
CREATE TABLE s3_access_policies (
    account_id       TEXT NOT NULL,
    access_point_arn TEXT NOT NULL,
    store_id         TEXT NOT NULL,
    store_type       TEXT NOT NULL,
    policy           TEXT NOT NULL,
    updated_at       BIGINT NOT NULL,
    PRIMARY KEY (account_id, access_point_arn)
);
CREATE TABLE idempotency_tokens (
    account_id   TEXT NOT NULL,
    operation    TEXT NOT NULL,
    token        TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    response     TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    PRIMARY KEY (account_id, operation, token)
);

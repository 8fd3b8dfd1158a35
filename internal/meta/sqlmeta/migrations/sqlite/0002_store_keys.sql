-- Children name their parent by foreign key, with the account in the key so
-- a child can never sit in another account's store; deleting a store takes
-- its children with it. SQLite cannot add a constraint to a table, so each
-- child table is rebuilt: create the new shape, copy, drop, rename. A row
-- whose parent is missing fails the copy, and with it the whole migration,
-- rather than being dropped silently.
CREATE UNIQUE INDEX sequence_stores_account_id ON sequence_stores (account_id, id);
CREATE UNIQUE INDEX reference_stores_account_id ON reference_stores (account_id, id);

CREATE TABLE read_sets_v2 (
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
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    lease_owner     TEXT NOT NULL DEFAULT '',
    lease_until     INTEGER NOT NULL DEFAULT 0,
    FOREIGN KEY (account_id, store_id) REFERENCES sequence_stores (account_id, id) ON DELETE CASCADE
);
INSERT INTO read_sets_v2 SELECT * FROM read_sets;
DROP TABLE read_sets;
ALTER TABLE read_sets_v2 RENAME TO read_sets;
CREATE INDEX read_sets_list ON read_sets (account_id, store_id, created_at, id);
CREATE INDEX read_sets_status ON read_sets (status, lease_until);
CREATE INDEX read_sets_reference ON read_sets (account_id, reference_arn);

CREATE TABLE uploads_v2 (
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
    created_at       INTEGER NOT NULL,
    FOREIGN KEY (account_id, store_id) REFERENCES sequence_stores (account_id, id) ON DELETE CASCADE
);
INSERT INTO uploads_v2 SELECT * FROM uploads;
DROP TABLE uploads;
ALTER TABLE uploads_v2 RENAME TO uploads;
CREATE INDEX uploads_list ON uploads (account_id, store_id, created_at, id);

CREATE TABLE upload_parts_v2 (
    upload_id  TEXT NOT NULL REFERENCES uploads (id) ON DELETE CASCADE,
    source     TEXT NOT NULL,
    number     INTEGER NOT NULL,
    size       INTEGER NOT NULL,
    checksum   TEXT NOT NULL,
    object_key TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (upload_id, source, number)
);
INSERT INTO upload_parts_v2 SELECT * FROM upload_parts;
DROP TABLE upload_parts;
ALTER TABLE upload_parts_v2 RENAME TO upload_parts;

CREATE TABLE genome_references_v2 (
    id              TEXT PRIMARY KEY,
    account_id      TEXT NOT NULL,
    store_id        TEXT NOT NULL,
    name            TEXT NOT NULL,
    description     TEXT NOT NULL,
    md5             TEXT NOT NULL,
    status          TEXT NOT NULL,
    creation_job_id TEXT NOT NULL,
    files           TEXT NOT NULL,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    FOREIGN KEY (account_id, store_id) REFERENCES reference_stores (account_id, id) ON DELETE CASCADE
);
INSERT INTO genome_references_v2 SELECT * FROM genome_references;
DROP TABLE genome_references;
ALTER TABLE genome_references_v2 RENAME TO genome_references;
CREATE INDEX genome_references_list ON genome_references (account_id, store_id, created_at, id);

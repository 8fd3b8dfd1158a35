-- Durable jobs (imports, exports, and later reference imports, activations
-- and archival) and their items. A job belongs to an account and a store;
-- the store is checked when the job is created (the store table depends on
-- the kind, so there is no foreign key) and its jobs go with it when it is
-- deleted. last_served orders jobs by when one of their items was last
-- claimed, so that claims take turns across accounts and jobs.
CREATE TABLE jobs (
    id             TEXT PRIMARY KEY,
    account_id     TEXT NOT NULL,
    store_id       TEXT NOT NULL,
    kind           TEXT NOT NULL,
    status         TEXT NOT NULL,
    status_message TEXT NOT NULL,
    role_arn       TEXT NOT NULL,
    destination    TEXT NOT NULL,
    created_at     BIGINT NOT NULL,
    completed_at   BIGINT NOT NULL,
    last_served    BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX jobs_list ON jobs (account_id, store_id, kind, created_at, id);
CREATE INDEX jobs_open ON jobs (status, account_id);
CREATE INDEX jobs_served ON jobs (last_served);
-- Each item is done under a lease like a read set's ingestion: lease_owner
-- and lease_until name who holds it, attempts counts its claims. account_id
-- repeats the job's, for counting an account's running items.
CREATE TABLE job_items (
    job_id         TEXT NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    item_index     INTEGER NOT NULL,
    account_id     TEXT NOT NULL,
    status         TEXT NOT NULL,
    status_message TEXT NOT NULL,
    spec           BYTEA NOT NULL,
    read_set_id    TEXT NOT NULL,
    updated_at     BIGINT NOT NULL,
    lease_owner    TEXT NOT NULL DEFAULT '',
    lease_until    BIGINT NOT NULL DEFAULT 0,
    attempts       INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (job_id, item_index)
);
CREATE INDEX job_items_open ON job_items (status, lease_until);

-- The quality-control report ingestion computes for each read set, as the
-- JSON the API serves. It lives in a table of its own, not a column of
-- read_sets, so that listing and reading read sets never carries reports of
-- tens of kilobytes; the foreign key deletes it with its read set's row.
CREATE TABLE read_set_qc (
    read_set_id TEXT PRIMARY KEY REFERENCES read_sets (id) ON DELETE CASCADE,
    account_id  TEXT NOT NULL,
    store_id    TEXT NOT NULL,
    report      TEXT NOT NULL
);

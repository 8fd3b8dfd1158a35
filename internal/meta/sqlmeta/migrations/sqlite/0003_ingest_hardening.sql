-- source_parts freezes, with a read set made by an upload, the parts that
-- CompleteMultipartReadSetUpload validated (JSON, with their object keys and
-- checksums): ingestion reads exactly those objects, whatever happens to the
-- upload afterwards. ingest_attempts counts the claims of a read set's
-- ingestion, so one whose ingestion keeps crashing its node can be failed
-- instead of claimed forever.
ALTER TABLE read_sets ADD COLUMN source_parts TEXT NOT NULL DEFAULT '';
ALTER TABLE read_sets ADD COLUMN ingest_attempts INTEGER NOT NULL DEFAULT 0;

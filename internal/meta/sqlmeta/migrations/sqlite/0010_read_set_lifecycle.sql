-- The read-set life cycle: last_read_at is when a read set's data was last
-- read (GetReadSet, an export), in unix milliseconds, written at most about
-- once an hour per read set; read sets unread for the archive period move to
-- the archive tier. Existing read sets count as read when last updated.
-- activation_job_id names the activation job moving an ACTIVATING read set
-- back, so that job's item, done again after a crash, resumes it while
-- another job's item finds nothing to do.
ALTER TABLE read_sets ADD COLUMN last_read_at INTEGER NOT NULL DEFAULT 0;
ALTER TABLE read_sets ADD COLUMN activation_job_id TEXT NOT NULL DEFAULT '';
UPDATE read_sets SET last_read_at = updated_at;
CREATE INDEX read_sets_idle ON read_sets (status, last_read_at);

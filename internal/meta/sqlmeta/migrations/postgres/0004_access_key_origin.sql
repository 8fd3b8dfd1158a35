-- Where a key came from: '' for keys made by `seqstore admin` (and before
-- this migration), 'environment' for the root key configured by
-- SEQSTORE_ACCESS_KEY_ID, which a restart with another such key replaces.
ALTER TABLE access_keys ADD COLUMN origin TEXT NOT NULL DEFAULT '';

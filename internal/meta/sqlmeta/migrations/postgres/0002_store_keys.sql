-- Children name their parent by foreign key, so that a store delete and a
-- concurrent create of something in that store cannot both succeed: the
-- delete locks the store row, and the child's key check waits on that lock
-- and then finds the store gone. Keys include the account, so a child can
-- never sit in another account's store.
CREATE UNIQUE INDEX sequence_stores_account_id ON sequence_stores (account_id, id);
CREATE UNIQUE INDEX reference_stores_account_id ON reference_stores (account_id, id);
ALTER TABLE read_sets ADD CONSTRAINT read_sets_store
    FOREIGN KEY (account_id, store_id) REFERENCES sequence_stores (account_id, id) ON DELETE CASCADE;
ALTER TABLE uploads ADD CONSTRAINT uploads_store
    FOREIGN KEY (account_id, store_id) REFERENCES sequence_stores (account_id, id) ON DELETE CASCADE;
ALTER TABLE upload_parts ADD CONSTRAINT upload_parts_upload
    FOREIGN KEY (upload_id) REFERENCES uploads (id) ON DELETE CASCADE;
ALTER TABLE genome_references ADD CONSTRAINT genome_references_store
    FOREIGN KEY (account_id, store_id) REFERENCES reference_stores (account_id, id) ON DELETE CASCADE;

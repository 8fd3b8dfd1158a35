package sqlmeta

import (
	"context"
	"fmt"

	"github.com/seqstore/seqstore"
	"github.com/seqstore/seqstore/internal/meta"
)

const sequenceStoreColumns = `id, account_id, name, description, sse_type, sse_key_arn, etag_family, fallback_location,
	propagated_tags, access_log_location, status, status_message, created_at, updated_at`

func scanSequenceStore(row scanner) (*seqstore.SequenceStore, error) {
	var st seqstore.SequenceStore
	var tags string
	var created, updated int64
	err := row.Scan(&st.ID, &st.AccountID, &st.Name, &st.Description, &st.SSEType, &st.SSEKeyArn, &st.ETagAlgorithmFamily,
		&st.FallbackLocation, &tags, &st.AccessLogLocation, &st.Status, &st.StatusMessage, &created, &updated)
	if err != nil {
		return nil, translate(err)
	}
	st.CreatedAt, st.UpdatedAt = fromMillis(created), fromMillis(updated)
	if err := fromJSON("sequence_stores.propagated_tags", tags, &st.PropagatedSetLevelTags); err != nil {
		return nil, err
	}
	return &st, nil
}

// SequenceStoreCreate inserts a store; ErrConflict if its ID exists.
func (s *Store) SequenceStoreCreate(ctx context.Context, st *seqstore.SequenceStore) error {
	_, err := s.write.exec(ctx, `INSERT INTO sequence_stores (`+sequenceStoreColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`,
		st.ID, st.AccountID, st.Name, st.Description, st.SSEType, st.SSEKeyArn, st.ETagAlgorithmFamily, st.FallbackLocation,
		toJSON(st.PropagatedSetLevelTags), st.AccessLogLocation, st.Status, st.StatusMessage, millis(st.CreatedAt), millis(st.UpdatedAt))
	return err
}

// SequenceStoreGet returns a store of the account.
func (s *Store) SequenceStoreGet(ctx context.Context, accountID, id string) (*seqstore.SequenceStore, error) {
	return scanSequenceStore(s.read.queryRow(ctx, `SELECT `+sequenceStoreColumns+` FROM sequence_stores WHERE account_id = $1 AND id = $2`, accountID, id))
}

// SequenceStoreUpdate writes a store's mutable fields: everything but the
// IDs, the encryption settings, the ETag family and the creation time,
// which the API fixes at creation.
func (s *Store) SequenceStoreUpdate(ctx context.Context, st *seqstore.SequenceStore) error {
	return affected(s.write.exec(ctx, `UPDATE sequence_stores SET name = $3, description = $4, fallback_location = $5,
		propagated_tags = $6, access_log_location = $7, status = $8, status_message = $9, updated_at = $10
		WHERE account_id = $1 AND id = $2`,
		st.AccountID, st.ID, st.Name, st.Description, st.FallbackLocation, toJSON(st.PropagatedSetLevelTags),
		st.AccessLogLocation, st.Status, st.StatusMessage, millis(st.UpdatedAt)))
}

// SequenceStoreDelete deletes a store, and with it (by foreign key) its
// DELETED read sets and finished uploads, and its jobs. The guard runs in the deleting
// transaction with the store row locked, so a read set or upload created
// meanwhile either is counted or fails for want of its store.
func (s *Store) SequenceStoreDelete(ctx context.Context, accountID, id string) error {
	return s.tx(ctx, func(t *txRunner) error {
		var one int
		if err := t.queryRow(ctx, `SELECT 1 FROM sequence_stores WHERE account_id = $1 AND id = $2`+s.d.forUpdate, accountID, id).Scan(&one); err != nil {
			return translate(err)
		}
		var readSets, uploads int
		if err := t.queryRow(ctx, `SELECT
			(SELECT COUNT(*) FROM read_sets WHERE account_id = $1 AND store_id = $2 AND status <> $3),
			(SELECT COUNT(*) FROM uploads WHERE account_id = $1 AND store_id = $2 AND status = $4)`,
			accountID, id, seqstore.ReadSetStatusDeleted, seqstore.UploadStatusInProgress).Scan(&readSets, &uploads); err != nil {
			return translate(err)
		}
		if readSets > 0 || uploads > 0 {
			return fmt.Errorf("%w: sequence store %s holds %d read set(s) and %d upload(s) in progress", meta.ErrConflict, id, readSets, uploads)
		}
		if _, err := t.exec(ctx, `DELETE FROM jobs WHERE account_id = $1 AND store_id = $2`, accountID, id); err != nil {
			return err
		}
		return affected(t.exec(ctx, `DELETE FROM sequence_stores WHERE account_id = $1 AND id = $2`, accountID, id))
	})
}

// SequenceStoreList lists an account's stores.
func (s *Store) SequenceStoreList(ctx context.Context, accountID string, f meta.SequenceStoreFilter, p meta.Page) ([]*seqstore.SequenceStore, string, error) {
	var w where
	w.eq("account_id", accountID)
	w.eq("name", f.Name)
	w.eq("status", f.Status)
	w.timeRange("created_at", f.Created)
	w.timeRange("updated_at", f.Updated)
	if err := w.after(p.After); err != nil {
		return nil, "", err
	}
	rows, err := s.read.query(ctx, `SELECT `+sequenceStoreColumns+` FROM sequence_stores`+w.String()+orderPage(p), w.args...)
	items, err := collect(rows, err, scanSequenceStore)
	if err != nil {
		return nil, "", err
	}
	items, next := trimPage(items, pageLimit(p), func(st *seqstore.SequenceStore) string { return pageKey(st.CreatedAt, st.ID) })
	return items, next, nil
}

const referenceStoreColumns = `id, account_id, name, description, sse_type, sse_key_arn, created_at`

func scanReferenceStore(row scanner) (*seqstore.ReferenceStore, error) {
	var st seqstore.ReferenceStore
	var created int64
	if err := row.Scan(&st.ID, &st.AccountID, &st.Name, &st.Description, &st.SSEType, &st.SSEKeyArn, &created); err != nil {
		return nil, translate(err)
	}
	st.CreatedAt = fromMillis(created)
	return &st, nil
}

// ReferenceStoreCreate inserts a reference store; ErrConflict if its ID
// exists.
func (s *Store) ReferenceStoreCreate(ctx context.Context, st *seqstore.ReferenceStore) error {
	_, err := s.write.exec(ctx, `INSERT INTO reference_stores (`+referenceStoreColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		st.ID, st.AccountID, st.Name, st.Description, st.SSEType, st.SSEKeyArn, millis(st.CreatedAt))
	return err
}

// ReferenceStoreGet returns a reference store of the account.
func (s *Store) ReferenceStoreGet(ctx context.Context, accountID, id string) (*seqstore.ReferenceStore, error) {
	return scanReferenceStore(s.read.queryRow(ctx, `SELECT `+referenceStoreColumns+` FROM reference_stores WHERE account_id = $1 AND id = $2`, accountID, id))
}

// ReferenceStoreDelete deletes a reference store, and with it its DELETED
// references and its jobs, unless it holds references in any other status;
// the guard runs like SequenceStoreDelete's.
func (s *Store) ReferenceStoreDelete(ctx context.Context, accountID, id string) error {
	return s.tx(ctx, func(t *txRunner) error {
		var one int
		if err := t.queryRow(ctx, `SELECT 1 FROM reference_stores WHERE account_id = $1 AND id = $2`+s.d.forUpdate, accountID, id).Scan(&one); err != nil {
			return translate(err)
		}
		var refs int
		if err := t.queryRow(ctx, `SELECT COUNT(*) FROM genome_references WHERE account_id = $1 AND store_id = $2 AND status <> $3`,
			accountID, id, seqstore.ReferenceStatusDeleted).Scan(&refs); err != nil {
			return translate(err)
		}
		if refs > 0 {
			return fmt.Errorf("%w: reference store %s holds %d reference(s)", meta.ErrConflict, id, refs)
		}
		if _, err := t.exec(ctx, `DELETE FROM jobs WHERE account_id = $1 AND store_id = $2`, accountID, id); err != nil {
			return err
		}
		return affected(t.exec(ctx, `DELETE FROM reference_stores WHERE account_id = $1 AND id = $2`, accountID, id))
	})
}

// ReferenceStoreList lists an account's reference stores.
func (s *Store) ReferenceStoreList(ctx context.Context, accountID, name string, created meta.TimeRange, p meta.Page) ([]*seqstore.ReferenceStore, string, error) {
	var w where
	w.eq("account_id", accountID)
	w.eq("name", name)
	w.timeRange("created_at", created)
	if err := w.after(p.After); err != nil {
		return nil, "", err
	}
	rows, err := s.read.query(ctx, `SELECT `+referenceStoreColumns+` FROM reference_stores`+w.String()+orderPage(p), w.args...)
	items, err := collect(rows, err, scanReferenceStore)
	if err != nil {
		return nil, "", err
	}
	items, next := trimPage(items, pageLimit(p), func(st *seqstore.ReferenceStore) string { return pageKey(st.CreatedAt, st.ID) })
	return items, next, nil
}

const referenceColumns = `id, account_id, store_id, name, description, md5, status, creation_job_id, files, sequences, created_at, updated_at`

func scanReference(row scanner) (*seqstore.Reference, error) {
	var r seqstore.Reference
	var files, sequences string
	var created, updated int64
	if err := row.Scan(&r.ID, &r.AccountID, &r.StoreID, &r.Name, &r.Description, &r.MD5, &r.Status, &r.CreationJobID, &files, &sequences, &created, &updated); err != nil {
		return nil, translate(err)
	}
	r.CreatedAt, r.UpdatedAt = fromMillis(created), fromMillis(updated)
	if err := fromJSON("genome_references.files", files, &r.Files); err != nil {
		return nil, err
	}
	if err := fromJSON("genome_references.sequences", sequences, &r.Sequences); err != nil {
		return nil, err
	}
	if len(r.Sequences) == 0 {
		r.Sequences = nil // the column's default, '[]', for references made before it
	}
	return &r, nil
}

// ReferenceCreate inserts a reference: ErrConflict if its ID exists,
// ErrNotFound if its store does not.
func (s *Store) ReferenceCreate(ctx context.Context, r *seqstore.Reference) error {
	_, err := s.write.exec(ctx, `INSERT INTO genome_references (`+referenceColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
		r.ID, r.AccountID, r.StoreID, r.Name, r.Description, r.MD5, r.Status, r.CreationJobID, toJSON(r.Files), toJSON(r.Sequences), millis(r.CreatedAt), millis(r.UpdatedAt))
	return err
}

// ReferenceGet returns a reference of the account.
func (s *Store) ReferenceGet(ctx context.Context, accountID, storeID, id string) (*seqstore.Reference, error) {
	return scanReference(s.read.queryRow(ctx, `SELECT `+referenceColumns+` FROM genome_references WHERE account_id = $1 AND store_id = $2 AND id = $3`, accountID, storeID, id))
}

// ReferenceUpdate writes a reference's mutable fields: everything but the
// IDs and the creation time.
func (s *Store) ReferenceUpdate(ctx context.Context, r *seqstore.Reference) error {
	return affected(s.write.exec(ctx, `UPDATE genome_references SET name = $4, description = $5, md5 = $6, status = $7,
		creation_job_id = $8, files = $9, sequences = $10, updated_at = $11
		WHERE account_id = $1 AND store_id = $2 AND id = $3`,
		r.AccountID, r.StoreID, r.ID, r.Name, r.Description, r.MD5, r.Status, r.CreationJobID, toJSON(r.Files), toJSON(r.Sequences), millis(r.UpdatedAt)))
}

// ReferenceSequencesSet replaces an ACTIVE reference's sequences.
func (s *Store) ReferenceSequencesSet(ctx context.Context, accountID, storeID, id string, seqs []seqstore.ReferenceSequence) error {
	return affected(s.write.exec(ctx, `UPDATE genome_references SET sequences = $4
		WHERE account_id = $1 AND store_id = $2 AND id = $3 AND status = $5`,
		accountID, storeID, id, toJSON(seqs), seqstore.ReferenceStatusActive))
}

// ReferenceDelete removes a reference's row for good. Whether read sets
// still name it is the caller's question (ReadSetCountByReference).
func (s *Store) ReferenceDelete(ctx context.Context, accountID, storeID, id string) error {
	return affected(s.write.exec(ctx, `DELETE FROM genome_references WHERE account_id = $1 AND store_id = $2 AND id = $3`, accountID, storeID, id))
}

// ReferenceList lists a store's references.
func (s *Store) ReferenceList(ctx context.Context, accountID, storeID string, f meta.ReferenceFilter, p meta.Page) ([]*seqstore.Reference, string, error) {
	var w where
	w.eq("account_id", accountID)
	w.eq("store_id", storeID)
	w.eq("name", f.Name)
	w.eq("md5", f.MD5)
	if f.Sequence != "" {
		// The sequences column is the JSON of []seqstore.ReferenceSequence
		// as encoding/json writes it: a digest is the whole string value
		// of its member, and a name that mimics one has its quotes escaped.
		w.add("("+s.d.contains("sequences")+" OR "+s.d.contains("sequences")+")",
			`"md5":`+toJSON(f.Sequence), `"ga4gh":`+toJSON(f.Sequence))
	}
	w.timeRange("created_at", f.Created)
	if err := w.after(p.After); err != nil {
		return nil, "", err
	}
	rows, err := s.read.query(ctx, `SELECT `+referenceColumns+` FROM genome_references`+w.String()+orderPage(p), w.args...)
	items, err := collect(rows, err, scanReference)
	if err != nil {
		return nil, "", err
	}
	items, next := trimPage(items, pageLimit(p), func(r *seqstore.Reference) string { return pageKey(r.CreatedAt, r.ID) })
	return items, next, nil
}

package sqlmeta

import (
	"context"
	"database/sql"

	"github.com/seqstore/seqstore"
	"github.com/seqstore/seqstore/internal/meta"
)

const sequenceStoreColumns = `id, account_id, name, description, sse_type, sse_key_arn, etag_family, fallback_location,
	propagated_tags, access_log_location, status, status_message, created_at, updated_at`

func scanSequenceStore(row interface{ Scan(...any) error }) (*seqstore.SequenceStore, error) {
	var st seqstore.SequenceStore
	var tags string
	var created, updated int64
	err := row.Scan(&st.ID, &st.AccountID, &st.Name, &st.Description, &st.SSEType, &st.SSEKeyArn, &st.ETagAlgorithmFamily,
		&st.FallbackLocation, &tags, &st.AccessLogLocation, &st.Status, &st.StatusMessage, &created, &updated)
	if err != nil {
		return nil, translate(err)
	}
	st.CreatedAt, st.UpdatedAt = fromMillis(created), fromMillis(updated)
	if err := fromJSON(tags, &st.PropagatedSetLevelTags); err != nil {
		return nil, err
	}
	return &st, nil
}

// SequenceStoreCreate inserts a store.
func (s *Store) SequenceStoreCreate(ctx context.Context, st *seqstore.SequenceStore) error {
	_, err := s.exec(ctx, `INSERT INTO sequence_stores (`+sequenceStoreColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`,
		st.ID, st.AccountID, st.Name, st.Description, st.SSEType, st.SSEKeyArn, st.ETagAlgorithmFamily, st.FallbackLocation,
		toJSON(st.PropagatedSetLevelTags), st.AccessLogLocation, st.Status, st.StatusMessage, millis(st.CreatedAt), millis(st.UpdatedAt))
	return err
}

// SequenceStoreGet returns a store of the account.
func (s *Store) SequenceStoreGet(ctx context.Context, accountID, id string) (*seqstore.SequenceStore, error) {
	return scanSequenceStore(s.queryRow(ctx, `SELECT `+sequenceStoreColumns+` FROM sequence_stores WHERE account_id = $1 AND id = $2`, accountID, id))
}

// SequenceStoreUpdate writes a store's mutable fields.
func (s *Store) SequenceStoreUpdate(ctx context.Context, st *seqstore.SequenceStore) error {
	return affected(s.exec(ctx, `UPDATE sequence_stores SET name = $3, description = $4, fallback_location = $5, propagated_tags = $6,
		access_log_location = $7, status = $8, status_message = $9, updated_at = $10 WHERE account_id = $1 AND id = $2`,
		st.AccountID, st.ID, st.Name, st.Description, st.FallbackLocation, toJSON(st.PropagatedSetLevelTags),
		st.AccessLogLocation, st.Status, st.StatusMessage, millis(st.UpdatedAt)))
}

// SequenceStoreDelete deletes an empty store.
func (s *Store) SequenceStoreDelete(ctx context.Context, accountID, id string) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, s.q(`SELECT COUNT(*) FROM sequence_stores WHERE account_id = $1 AND id = $2`), accountID, id).Scan(&n); err != nil {
			return err
		}
		if n == 0 {
			return meta.ErrNotFound
		}
		if err := tx.QueryRowContext(ctx, s.q(`SELECT
			(SELECT COUNT(*) FROM read_sets WHERE account_id = $1 AND store_id = $2 AND status <> $3) +
			(SELECT COUNT(*) FROM uploads WHERE account_id = $1 AND store_id = $2 AND status = $4)`),
			accountID, id, seqstore.ReadSetStatusDeleted, seqstore.UploadStatusInProgress).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return meta.ErrConflict
		}
		for _, stmt := range []string{
			`DELETE FROM read_sets WHERE account_id = $1 AND store_id = $2`,
			`DELETE FROM upload_parts WHERE upload_id IN (SELECT id FROM uploads WHERE account_id = $1 AND store_id = $2)`,
			`DELETE FROM uploads WHERE account_id = $1 AND store_id = $2`,
			`DELETE FROM sequence_stores WHERE account_id = $1 AND id = $2`,
		} {
			if _, err := tx.ExecContext(ctx, s.q(stmt), accountID, id); err != nil {
				return err
			}
		}
		return nil
	})
}

// SequenceStoreList lists an account's stores.
func (s *Store) SequenceStoreList(ctx context.Context, accountID string, f meta.SequenceStoreFilter, p meta.Page) ([]*seqstore.SequenceStore, string, error) {
	var w filter
	w.eq("account_id", accountID)
	w.eq("name", f.Name)
	w.eq("status", f.Status)
	w.timeRange("created_at", f.Created)
	w.timeRange("updated_at", f.Updated)
	order, err := w.page(p)
	if err != nil {
		return nil, "", err
	}
	rows, err := s.query(ctx, `SELECT `+sequenceStoreColumns+` FROM sequence_stores`+w.where()+order, w.args...)
	if err != nil {
		return nil, "", err
	}
	defer rows.Close()
	var out []*seqstore.SequenceStore
	for rows.Next() {
		st, err := scanSequenceStore(rows)
		if err != nil {
			return nil, "", err
		}
		out = append(out, st)
	}
	if err := rows.Err(); err != nil {
		return nil, "", err
	}
	return trimPage(out, p, func(st *seqstore.SequenceStore) string { return pageKey(st.CreatedAt, st.ID) })
}

// trimPage drops the look-ahead row and makes the next key.
func trimPage[T any](items []T, p meta.Page, key func(T) string) ([]T, string, error) {
	limit := p.Limit
	if limit <= 0 || limit > 1000 {
		limit = 100
	}
	if len(items) <= limit {
		return items, "", nil
	}
	items = items[:limit]
	return items, key(items[limit-1]), nil
}

const referenceStoreColumns = `id, account_id, name, description, sse_type, sse_key_arn, created_at`

func scanReferenceStore(row interface{ Scan(...any) error }) (*seqstore.ReferenceStore, error) {
	var st seqstore.ReferenceStore
	var created int64
	if err := row.Scan(&st.ID, &st.AccountID, &st.Name, &st.Description, &st.SSEType, &st.SSEKeyArn, &created); err != nil {
		return nil, translate(err)
	}
	st.CreatedAt = fromMillis(created)
	return &st, nil
}

// ReferenceStoreCreate inserts a reference store.
func (s *Store) ReferenceStoreCreate(ctx context.Context, st *seqstore.ReferenceStore) error {
	_, err := s.exec(ctx, `INSERT INTO reference_stores (`+referenceStoreColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		st.ID, st.AccountID, st.Name, st.Description, st.SSEType, st.SSEKeyArn, millis(st.CreatedAt))
	return err
}

// ReferenceStoreGet returns a reference store.
func (s *Store) ReferenceStoreGet(ctx context.Context, accountID, id string) (*seqstore.ReferenceStore, error) {
	return scanReferenceStore(s.queryRow(ctx, `SELECT `+referenceStoreColumns+` FROM reference_stores WHERE account_id = $1 AND id = $2`, accountID, id))
}

// ReferenceStoreDelete deletes an empty reference store.
func (s *Store) ReferenceStoreDelete(ctx context.Context, accountID, id string) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, s.q(`SELECT COUNT(*) FROM genome_references WHERE account_id = $1 AND store_id = $2 AND status <> $3`),
			accountID, id, seqstore.ReferenceStatusDeleted).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return meta.ErrConflict
		}
		if _, err := tx.ExecContext(ctx, s.q(`DELETE FROM genome_references WHERE account_id = $1 AND store_id = $2`), accountID, id); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, s.q(`DELETE FROM reference_stores WHERE account_id = $1 AND id = $2`), accountID, id)
		return affected(res, err)
	})
}

// ReferenceStoreList lists an account's reference stores.
func (s *Store) ReferenceStoreList(ctx context.Context, accountID, name string, created meta.TimeRange, p meta.Page) ([]*seqstore.ReferenceStore, string, error) {
	var w filter
	w.eq("account_id", accountID)
	w.eq("name", name)
	w.timeRange("created_at", created)
	order, err := w.page(p)
	if err != nil {
		return nil, "", err
	}
	rows, err := s.query(ctx, `SELECT `+referenceStoreColumns+` FROM reference_stores`+w.where()+order, w.args...)
	if err != nil {
		return nil, "", err
	}
	defer rows.Close()
	var out []*seqstore.ReferenceStore
	for rows.Next() {
		st, err := scanReferenceStore(rows)
		if err != nil {
			return nil, "", err
		}
		out = append(out, st)
	}
	if err := rows.Err(); err != nil {
		return nil, "", err
	}
	return trimPage(out, p, func(st *seqstore.ReferenceStore) string { return pageKey(st.CreatedAt, st.ID) })
}

const referenceColumns = `id, account_id, store_id, name, description, md5, status, creation_job_id, files, created_at, updated_at`

func scanReference(row interface{ Scan(...any) error }) (*seqstore.Reference, error) {
	var r seqstore.Reference
	var files string
	var created, updated int64
	if err := row.Scan(&r.ID, &r.AccountID, &r.StoreID, &r.Name, &r.Description, &r.MD5, &r.Status, &r.CreationJobID, &files, &created, &updated); err != nil {
		return nil, translate(err)
	}
	r.CreatedAt, r.UpdatedAt = fromMillis(created), fromMillis(updated)
	return &r, fromJSON(files, &r.Files)
}

// ReferenceCreate inserts a reference.
func (s *Store) ReferenceCreate(ctx context.Context, r *seqstore.Reference) error {
	_, err := s.exec(ctx, `INSERT INTO genome_references (`+referenceColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
		r.ID, r.AccountID, r.StoreID, r.Name, r.Description, r.MD5, r.Status, r.CreationJobID, toJSON(r.Files), millis(r.CreatedAt), millis(r.UpdatedAt))
	return err
}

// ReferenceGet returns a reference.
func (s *Store) ReferenceGet(ctx context.Context, accountID, storeID, id string) (*seqstore.Reference, error) {
	return scanReference(s.queryRow(ctx, `SELECT `+referenceColumns+` FROM genome_references WHERE account_id = $1 AND store_id = $2 AND id = $3`, accountID, storeID, id))
}

// ReferenceUpdate writes a reference's mutable fields.
func (s *Store) ReferenceUpdate(ctx context.Context, r *seqstore.Reference) error {
	return affected(s.exec(ctx, `UPDATE genome_references SET name = $4, description = $5, md5 = $6, status = $7, files = $8, updated_at = $9
		WHERE account_id = $1 AND store_id = $2 AND id = $3`,
		r.AccountID, r.StoreID, r.ID, r.Name, r.Description, r.MD5, r.Status, toJSON(r.Files), millis(r.UpdatedAt)))
}

// ReferenceDelete deletes a reference no read set uses.
func (s *Store) ReferenceDelete(ctx context.Context, accountID, storeID, id string) error {
	return affected(s.exec(ctx, `DELETE FROM genome_references WHERE account_id = $1 AND store_id = $2 AND id = $3`, accountID, storeID, id))
}

// ReferenceList lists a store's references.
func (s *Store) ReferenceList(ctx context.Context, accountID, storeID string, f meta.ReferenceFilter, p meta.Page) ([]*seqstore.Reference, string, error) {
	var w filter
	w.eq("account_id", accountID)
	w.eq("store_id", storeID)
	w.eq("name", f.Name)
	w.eq("md5", f.MD5)
	w.timeRange("created_at", f.Created)
	order, err := w.page(p)
	if err != nil {
		return nil, "", err
	}
	rows, err := s.query(ctx, `SELECT `+referenceColumns+` FROM genome_references`+w.where()+order, w.args...)
	if err != nil {
		return nil, "", err
	}
	defer rows.Close()
	var out []*seqstore.Reference
	for rows.Next() {
		r, err := scanReference(rows)
		if err != nil {
			return nil, "", err
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, "", err
	}
	return trimPage(out, p, func(r *seqstore.Reference) string { return pageKey(r.CreatedAt, r.ID) })
}

package sqlmeta

import (
	"context"
	"database/sql"
	"time"

	"github.com/seqstore/seqstore"
	"github.com/seqstore/seqstore/internal/meta"
)

const readSetColumns = `id, account_id, store_id, name, description, subject_id, sample_id, status, status_message, file_type,
	reference_arn, generated_from, creation_type, creation_job_id, upload_id, sequence_info, etag, files, tags, created_at, updated_at`

func scanReadSet(row interface{ Scan(...any) error }) (*seqstore.ReadSet, error) {
	var r seqstore.ReadSet
	var info, etag, files, tags string
	var created, updated int64
	err := row.Scan(&r.ID, &r.AccountID, &r.StoreID, &r.Name, &r.Description, &r.SubjectID, &r.SampleID, &r.Status, &r.StatusMessage,
		&r.FileType, &r.ReferenceArn, &r.GeneratedFrom, &r.CreationType, &r.CreationJobID, &r.UploadID, &info, &etag, &files, &tags, &created, &updated)
	if err != nil {
		return nil, translate(err)
	}
	r.CreatedAt, r.UpdatedAt = fromMillis(created), fromMillis(updated)
	for _, f := range []struct {
		s string
		v any
	}{{info, &r.SequenceInformation}, {etag, &r.ETag}, {files, &r.Files}, {tags, &r.Tags}} {
		if err := fromJSON(f.s, f.v); err != nil {
			return nil, err
		}
	}
	return &r, nil
}

func readSetArgs(r *seqstore.ReadSet) []any {
	return []any{r.ID, r.AccountID, r.StoreID, r.Name, r.Description, r.SubjectID, r.SampleID, r.Status, r.StatusMessage, r.FileType,
		r.ReferenceArn, r.GeneratedFrom, r.CreationType, r.CreationJobID, r.UploadID, toJSON(r.SequenceInformation), toJSON(r.ETag),
		toJSON(r.Files), toJSON(r.Tags), millis(r.CreatedAt), millis(r.UpdatedAt)}
}

const insertReadSet = `INSERT INTO read_sets (` + readSetColumns + `)
	VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21)`

// ReadSetCreate inserts a read set.
func (s *Store) ReadSetCreate(ctx context.Context, r *seqstore.ReadSet) error {
	_, err := s.exec(ctx, insertReadSet, readSetArgs(r)...)
	return err
}

// ReadSetGet returns a read set of the account.
func (s *Store) ReadSetGet(ctx context.Context, accountID, storeID, id string) (*seqstore.ReadSet, error) {
	return scanReadSet(s.queryRow(ctx, `SELECT `+readSetColumns+` FROM read_sets WHERE account_id = $1 AND store_id = $2 AND id = $3`, accountID, storeID, id))
}

// ReadSetUpdate writes a read set if its stored status is fromStatus.
func (s *Store) ReadSetUpdate(ctx context.Context, r *seqstore.ReadSet, fromStatus string) error {
	res, err := s.exec(ctx, `UPDATE read_sets SET name = $4, description = $5, subject_id = $6, sample_id = $7, status = $8,
		status_message = $9, reference_arn = $10, generated_from = $11, sequence_info = $12, etag = $13, files = $14, tags = $15,
		updated_at = $16, lease_owner = CASE WHEN $8 = 'PROCESSING_UPLOAD' THEN lease_owner ELSE '' END
		WHERE account_id = $1 AND store_id = $2 AND id = $3 AND status = $17`,
		r.AccountID, r.StoreID, r.ID, r.Name, r.Description, r.SubjectID, r.SampleID, r.Status, r.StatusMessage, r.ReferenceArn,
		r.GeneratedFrom, toJSON(r.SequenceInformation), toJSON(r.ETag), toJSON(r.Files), toJSON(r.Tags), millis(r.UpdatedAt), fromStatus)
	if err := affected(res, err); err == meta.ErrNotFound {
		if _, gerr := s.ReadSetGet(ctx, r.AccountID, r.StoreID, r.ID); gerr != nil {
			return gerr
		}
		return meta.ErrConflict
	} else if err != nil {
		return err
	}
	return nil
}

// ReadSetList lists a store's read sets.
func (s *Store) ReadSetList(ctx context.Context, accountID, storeID string, f meta.ReadSetFilter, p meta.Page) ([]*seqstore.ReadSet, string, error) {
	var w filter
	w.eq("account_id", accountID)
	w.eq("store_id", storeID)
	w.eq("name", f.Name)
	w.eq("status", f.Status)
	w.eq("reference_arn", f.ReferenceArn)
	w.eq("sample_id", f.SampleID)
	w.eq("subject_id", f.SubjectID)
	w.eq("generated_from", f.GeneratedFrom)
	w.eq("creation_type", f.CreationType)
	w.timeRange("created_at", f.Created)
	if f.Status == "" {
		w.add("status <> ?", seqstore.ReadSetStatusDeleted)
	}
	order, err := w.page(p)
	if err != nil {
		return nil, "", err
	}
	rows, err := s.query(ctx, `SELECT `+readSetColumns+` FROM read_sets`+w.where()+order, w.args...)
	if err != nil {
		return nil, "", err
	}
	defer rows.Close()
	var out []*seqstore.ReadSet
	for rows.Next() {
		r, err := scanReadSet(rows)
		if err != nil {
			return nil, "", err
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, "", err
	}
	return trimPage(out, p, func(r *seqstore.ReadSet) string { return pageKey(r.CreatedAt, r.ID) })
}

// ReadSetDelete removes a read set's row.
func (s *Store) ReadSetDelete(ctx context.Context, accountID, storeID, id string) error {
	return affected(s.exec(ctx, `DELETE FROM read_sets WHERE account_id = $1 AND store_id = $2 AND id = $3`, accountID, storeID, id))
}

// ReadSetCountByReference counts the read sets that use a reference.
func (s *Store) ReadSetCountByReference(ctx context.Context, accountID, referenceArn string) (int, error) {
	var n int
	err := s.queryRow(ctx, `SELECT COUNT(*) FROM read_sets WHERE account_id = $1 AND reference_arn = $2 AND status <> $3`,
		accountID, referenceArn, seqstore.ReadSetStatusDeleted).Scan(&n)
	return n, err
}

// IngestClaim leases one read set awaiting ingestion.
func (s *Store) IngestClaim(ctx context.Context, owner string, now, leaseUntil time.Time) (*seqstore.ReadSet, error) {
	var claimed *seqstore.ReadSet
	err := s.tx(ctx, func(tx *sql.Tx) error {
		pick := `SELECT id FROM read_sets WHERE status = $1 AND lease_until < $2 ORDER BY created_at, id LIMIT 1`
		if s.dialect == dialectPostgres {
			// Nodes racing for work skip each other's rows instead of
			// waiting on them.
			pick += ` FOR UPDATE SKIP LOCKED`
		}
		var id string
		if err := tx.QueryRowContext(ctx, s.q(pick), seqstore.ReadSetStatusProcessingUpload, now.UnixMilli()).Scan(&id); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, s.q(`UPDATE read_sets SET lease_owner = $1, lease_until = $2 WHERE id = $3`), owner, leaseUntil.UnixMilli(), id); err != nil {
			return err
		}
		r, err := scanReadSet(tx.QueryRowContext(ctx, s.q(`SELECT `+readSetColumns+` FROM read_sets WHERE id = $1`), id))
		claimed = r
		return err
	})
	if err != nil {
		return nil, err
	}
	return claimed, nil
}

// IngestRenew extends a lease its owner still holds.
func (s *Store) IngestRenew(ctx context.Context, accountID, storeID, id, owner string, leaseUntil time.Time) error {
	res, err := s.exec(ctx, `UPDATE read_sets SET lease_until = $5 WHERE account_id = $1 AND store_id = $2 AND id = $3 AND lease_owner = $4 AND status = $6`,
		accountID, storeID, id, owner, leaseUntil.UnixMilli(), seqstore.ReadSetStatusProcessingUpload)
	if err := affected(res, err); err == meta.ErrNotFound {
		return meta.ErrConflict
	} else if err != nil {
		return err
	}
	return nil
}

package sqlmeta

import (
	"context"
	"database/sql"
	"errors"
	"strconv"

	"github.com/seqstore/seqstore"
	"github.com/seqstore/seqstore/internal/meta"
)

const uploadColumns = `id, account_id, store_id, status, source_file_type, subject_id, sample_id, generated_from, reference_arn,
	name, description, tags, created_at`

func scanUpload(row interface{ Scan(...any) error }) (*seqstore.Upload, error) {
	var u seqstore.Upload
	var tags string
	var created int64
	err := row.Scan(&u.ID, &u.AccountID, &u.StoreID, &u.Status, &u.SourceFileType, &u.SubjectID, &u.SampleID, &u.GeneratedFrom,
		&u.ReferenceArn, &u.Name, &u.Description, &tags, &created)
	if err != nil {
		return nil, translate(err)
	}
	u.CreatedAt = fromMillis(created)
	return &u, fromJSON(tags, &u.Tags)
}

// UploadCreate inserts an upload.
func (s *Store) UploadCreate(ctx context.Context, u *seqstore.Upload) error {
	_, err := s.exec(ctx, `INSERT INTO uploads (`+uploadColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`,
		u.ID, u.AccountID, u.StoreID, u.Status, u.SourceFileType, u.SubjectID, u.SampleID, u.GeneratedFrom, u.ReferenceArn,
		u.Name, u.Description, toJSON(u.Tags), millis(u.CreatedAt))
	return err
}

// UploadGet returns an upload.
func (s *Store) UploadGet(ctx context.Context, accountID, storeID, id string) (*seqstore.Upload, error) {
	return scanUpload(s.queryRow(ctx, `SELECT `+uploadColumns+` FROM uploads WHERE account_id = $1 AND store_id = $2 AND id = $3`, accountID, storeID, id))
}

// UploadSetStatus moves an upload between statuses.
func (s *Store) UploadSetStatus(ctx context.Context, accountID, storeID, id, fromStatus, toStatus string) error {
	res, err := s.exec(ctx, `UPDATE uploads SET status = $5 WHERE account_id = $1 AND store_id = $2 AND id = $3 AND status = $4`,
		accountID, storeID, id, fromStatus, toStatus)
	if err := affected(res, err); errors.Is(err, meta.ErrNotFound) {
		if _, gerr := s.UploadGet(ctx, accountID, storeID, id); gerr != nil {
			return gerr
		}
		return meta.ErrConflict
	} else if err != nil {
		return err
	}
	return nil
}

// UploadComplete completes an upload and creates its read set at once.
func (s *Store) UploadComplete(ctx context.Context, u *seqstore.Upload, r *seqstore.ReadSet) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, s.q(`UPDATE uploads SET status = $4 WHERE account_id = $1 AND store_id = $2 AND id = $3 AND status = $5`),
			u.AccountID, u.StoreID, u.ID, seqstore.UploadStatusCompleted, seqstore.UploadStatusInProgress)
		if err := affected(res, err); errors.Is(err, meta.ErrNotFound) {
			return meta.ErrConflict
		} else if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, s.q(insertReadSet), readSetArgs(r)...)
		return err
	})
}

// UploadList lists a store's uploads.
func (s *Store) UploadList(ctx context.Context, accountID, storeID string, f meta.UploadFilter, p meta.Page) ([]*seqstore.Upload, string, error) {
	var w filter
	w.eq("account_id", accountID)
	w.eq("store_id", storeID)
	w.eq("status", f.Status)
	order, err := w.page(p)
	if err != nil {
		return nil, "", err
	}
	rows, err := s.query(ctx, `SELECT `+uploadColumns+` FROM uploads`+w.where()+order, w.args...)
	if err != nil {
		return nil, "", err
	}
	defer rows.Close()
	var out []*seqstore.Upload
	for rows.Next() {
		u, err := scanUpload(rows)
		if err != nil {
			return nil, "", err
		}
		out = append(out, u)
	}
	if err := rows.Err(); err != nil {
		return nil, "", err
	}
	return trimPage(out, p, func(u *seqstore.Upload) string { return pageKey(u.CreatedAt, u.ID) })
}

const partColumns = `upload_id, source, number, size, checksum, object_key, created_at, updated_at`

func scanPart(row interface{ Scan(...any) error }) (*seqstore.UploadPart, error) {
	var p seqstore.UploadPart
	var created, updated int64
	if err := row.Scan(&p.UploadID, &p.Source, &p.Number, &p.Size, &p.Checksum, &p.Key, &created, &updated); err != nil {
		return nil, translate(err)
	}
	p.CreatedAt, p.UpdatedAt = fromMillis(created), fromMillis(updated)
	return &p, nil
}

// UploadPartPut inserts or replaces a part.
func (s *Store) UploadPartPut(ctx context.Context, part *seqstore.UploadPart) (*seqstore.UploadPart, error) {
	var replaced *seqstore.UploadPart
	err := s.tx(ctx, func(tx *sql.Tx) error {
		old, err := scanPart(tx.QueryRowContext(ctx, s.q(`SELECT `+partColumns+` FROM upload_parts WHERE upload_id = $1 AND source = $2 AND number = $3`),
			part.UploadID, part.Source, part.Number))
		switch {
		case err == nil:
			replaced = old
			part.CreatedAt = old.CreatedAt
			_, err = tx.ExecContext(ctx, s.q(`UPDATE upload_parts SET size = $4, checksum = $5, object_key = $6, updated_at = $7
				WHERE upload_id = $1 AND source = $2 AND number = $3`),
				part.UploadID, part.Source, part.Number, part.Size, part.Checksum, part.Key, millis(part.UpdatedAt))
			return err
		case errors.Is(err, meta.ErrNotFound):
			_, err = tx.ExecContext(ctx, s.q(`INSERT INTO upload_parts (`+partColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`),
				part.UploadID, part.Source, part.Number, part.Size, part.Checksum, part.Key, millis(part.CreatedAt), millis(part.UpdatedAt))
			return err
		default:
			return err
		}
	})
	return replaced, err
}

// UploadPartList lists one source's parts by number.
func (s *Store) UploadPartList(ctx context.Context, uploadID string, f meta.UploadPartFilter, p meta.Page) ([]*seqstore.UploadPart, string, error) {
	var w filter
	w.eq("upload_id", uploadID)
	w.eq("source", f.Source)
	w.timeRange("created_at", f.Created)
	if p.After != "" {
		n, err := strconv.Atoi(p.After)
		if err != nil {
			return nil, "", meta.ErrBadPageKey
		}
		w.add("number > ?", n)
	}
	limit := p.Limit
	if limit <= 0 || limit > 1000 {
		limit = 100
	}
	rows, err := s.query(ctx, `SELECT `+partColumns+` FROM upload_parts`+w.where()+` ORDER BY number LIMIT `+strconv.Itoa(limit+1), w.args...)
	if err != nil {
		return nil, "", err
	}
	defer rows.Close()
	var out []*seqstore.UploadPart
	for rows.Next() {
		part, err := scanPart(rows)
		if err != nil {
			return nil, "", err
		}
		out = append(out, part)
	}
	if err := rows.Err(); err != nil {
		return nil, "", err
	}
	return trimPage(out, meta.Page{Limit: limit}, func(p *seqstore.UploadPart) string { return strconv.Itoa(p.Number) })
}

// UploadPartsAll returns every part of an upload by source and number.
func (s *Store) UploadPartsAll(ctx context.Context, uploadID string) ([]*seqstore.UploadPart, error) {
	rows, err := s.query(ctx, `SELECT `+partColumns+` FROM upload_parts WHERE upload_id = $1 ORDER BY source, number`, uploadID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*seqstore.UploadPart
	for rows.Next() {
		part, err := scanPart(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, part)
	}
	return out, rows.Err()
}

// UploadPartsDelete forgets an upload's parts.
func (s *Store) UploadPartsDelete(ctx context.Context, uploadID string) error {
	_, err := s.exec(ctx, `DELETE FROM upload_parts WHERE upload_id = $1`, uploadID)
	return err
}

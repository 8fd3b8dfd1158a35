package sqlmeta

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/seqstore/seqstore"
	"github.com/seqstore/seqstore/internal/meta"
)

const uploadColumns = `id, account_id, store_id, status, source_file_type, subject_id, sample_id, generated_from, reference_arn,
	name, description, tags, created_at`

func scanUpload(row scanner) (*seqstore.Upload, error) {
	var u seqstore.Upload
	var tags string
	var created int64
	err := row.Scan(&u.ID, &u.AccountID, &u.StoreID, &u.Status, &u.SourceFileType, &u.SubjectID, &u.SampleID, &u.GeneratedFrom,
		&u.ReferenceArn, &u.Name, &u.Description, &tags, &created)
	if err != nil {
		return nil, translate(err)
	}
	u.CreatedAt = fromMillis(created)
	if err := fromJSON("uploads.tags", tags, &u.Tags); err != nil {
		return nil, err
	}
	return &u, nil
}

// UploadCreate inserts an upload: ErrConflict if its ID exists, ErrNotFound
// if its store does not.
func (s *Store) UploadCreate(ctx context.Context, u *seqstore.Upload) error {
	_, err := s.write.exec(ctx, `INSERT INTO uploads (`+uploadColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`,
		u.ID, u.AccountID, u.StoreID, u.Status, u.SourceFileType, u.SubjectID, u.SampleID, u.GeneratedFrom, u.ReferenceArn,
		u.Name, u.Description, toJSON(u.Tags), millis(u.CreatedAt))
	return err
}

// UploadGet returns an upload of the account.
func (s *Store) UploadGet(ctx context.Context, accountID, storeID, id string) (*seqstore.Upload, error) {
	return scanUpload(s.read.queryRow(ctx, `SELECT `+uploadColumns+` FROM uploads WHERE account_id = $1 AND store_id = $2 AND id = $3`, accountID, storeID, id))
}

// UploadSetStatus moves an upload from one status to another.
func (s *Store) UploadSetStatus(ctx context.Context, accountID, storeID, id, fromStatus, toStatus string) error {
	err := affected(s.write.exec(ctx, `UPDATE uploads SET status = $5 WHERE account_id = $1 AND store_id = $2 AND id = $3 AND status = $4`,
		accountID, storeID, id, fromStatus, toStatus))
	if !errors.Is(err, meta.ErrNotFound) {
		return err
	}
	if _, err := s.UploadGet(ctx, accountID, storeID, id); err != nil {
		return err
	}
	return conflictf("upload %s is no longer %s", id, fromStatus)
}

// UploadComplete marks the upload COMPLETED and inserts its read set in one
// transaction: if either fails, neither happens.
func (s *Store) UploadComplete(ctx context.Context, u *seqstore.Upload, r *seqstore.ReadSet) error {
	return s.tx(ctx, func(t *txRunner) error {
		err := affected(t.exec(ctx, `UPDATE uploads SET status = $4 WHERE account_id = $1 AND store_id = $2 AND id = $3 AND status = $5`,
			u.AccountID, u.StoreID, u.ID, seqstore.UploadStatusCompleted, seqstore.UploadStatusInProgress))
		if errors.Is(err, meta.ErrNotFound) {
			var status string
			if err := t.queryRow(ctx, `SELECT status FROM uploads WHERE account_id = $1 AND store_id = $2 AND id = $3`,
				u.AccountID, u.StoreID, u.ID).Scan(&status); err != nil {
				return translate(err)
			}
			return conflictf("upload %s is %s, not %s", u.ID, status, seqstore.UploadStatusInProgress)
		}
		if err != nil {
			return err
		}
		// Parts are stored only into an upload in progress (see
		// UploadPartPut), so once the status above is written the part
		// rows cannot change: compare them now with the list r carries.
		rows, err := t.query(ctx, `SELECT `+partColumns+` FROM upload_parts WHERE upload_id = $1 ORDER BY source, number`, u.ID)
		stored, err := collect(rows, err, scanPart)
		if err != nil {
			return err
		}
		if !samePartObjects(stored, r.SourceParts) {
			return fmt.Errorf("%w: upload %s", meta.ErrPartsChanged, u.ID)
		}
		_, err = t.exec(ctx, insertReadSet, insertReadSetArgs(r)...)
		return err
	})
}

// samePartObjects reports whether two part lists name the same objects with
// the same checksums, in any order.
func samePartObjects(stored []*seqstore.UploadPart, frozen []seqstore.UploadPart) bool {
	if len(stored) != len(frozen) {
		return false
	}
	type object struct {
		source, key, checksum string
		number                int
	}
	want := map[object]bool{}
	for _, p := range frozen {
		want[object{p.Source, p.Key, p.Checksum, p.Number}] = true
	}
	for _, p := range stored {
		if !want[object{p.Source, p.Key, p.Checksum, p.Number}] {
			return false
		}
	}
	return true
}

// UploadList lists a store's uploads.
func (s *Store) UploadList(ctx context.Context, accountID, storeID string, f meta.UploadFilter, p meta.Page) ([]*seqstore.Upload, string, error) {
	var w where
	w.eq("account_id", accountID)
	w.eq("store_id", storeID)
	w.eq("status", f.Status)
	if err := w.after(p.After); err != nil {
		return nil, "", err
	}
	rows, err := s.read.query(ctx, `SELECT `+uploadColumns+` FROM uploads`+w.String()+orderPage(p), w.args...)
	items, err := collect(rows, err, scanUpload)
	if err != nil {
		return nil, "", err
	}
	items, next := trimPage(items, pageLimit(p), func(u *seqstore.Upload) string { return pageKey(u.CreatedAt, u.ID) })
	return items, next, nil
}

// Upload parts are reached by upload ID alone: upload IDs are unique across
// accounts, and callers reach an upload's parts only after finding the
// upload itself in the caller's account (UploadGet).

const partColumns = `upload_id, source, number, size, checksum, object_key, created_at, updated_at`

func scanPart(row scanner) (*seqstore.UploadPart, error) {
	var p seqstore.UploadPart
	var created, updated int64
	if err := row.Scan(&p.UploadID, &p.Source, &p.Number, &p.Size, &p.Checksum, &p.Key, &created, &updated); err != nil {
		return nil, translate(err)
	}
	p.CreatedAt, p.UpdatedAt = fromMillis(created), fromMillis(updated)
	return &p, nil
}

// UploadPartPut inserts a part, or replaces the part with its upload,
// source and number and returns the one replaced. A replaced part keeps its
// first creation time. ErrNotFound if the upload does not exist,
// ErrConflict if it is no longer in progress.
//
// The upload's row is read under a shared lock (on PostgreSQL; SQLite's
// transaction holds the write lock), so a completion or an abort either
// happens before, and the part is refused, or waits until the part is in
// and sees it.
//
// The insert is tried first and does nothing on a clash; only then is the
// existing row locked (on PostgreSQL; SQLite's transaction holds the write
// lock) and overwritten, so two uploads of the same part one after the
// other each see the one before.
func (s *Store) UploadPartPut(ctx context.Context, part *seqstore.UploadPart) (*seqstore.UploadPart, error) {
	var replaced *seqstore.UploadPart
	err := s.tx(ctx, func(t *txRunner) error {
		replaced = nil
		var status string
		if err := t.queryRow(ctx, `SELECT status FROM uploads WHERE id = $1`+s.d.forShare, part.UploadID).Scan(&status); err != nil {
			return translate(err)
		}
		if status != seqstore.UploadStatusInProgress {
			return conflictf("upload %s is %s, not %s", part.UploadID, status, seqstore.UploadStatusInProgress)
		}
		inserted, err := affectedRows(t.exec(ctx, `INSERT INTO upload_parts (`+partColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
			ON CONFLICT (upload_id, source, number) DO NOTHING`,
			part.UploadID, part.Source, part.Number, part.Size, part.Checksum, part.Key, millis(part.CreatedAt), millis(part.UpdatedAt)))
		if err != nil || inserted == 1 {
			return err
		}
		old, err := scanPart(t.queryRow(ctx, `SELECT `+partColumns+` FROM upload_parts WHERE upload_id = $1 AND source = $2 AND number = $3`+s.d.forUpdate,
			part.UploadID, part.Source, part.Number))
		if err != nil {
			return err
		}
		if err := affected(t.exec(ctx, `UPDATE upload_parts SET size = $4, checksum = $5, object_key = $6, updated_at = $7
			WHERE upload_id = $1 AND source = $2 AND number = $3`,
			part.UploadID, part.Source, part.Number, part.Size, part.Checksum, part.Key, millis(part.UpdatedAt))); err != nil {
			return err
		}
		replaced = old
		return nil
	})
	if err != nil {
		return nil, err
	}
	if replaced != nil {
		part.CreatedAt = replaced.CreatedAt
	}
	return replaced, nil
}

// affectedRows returns how many rows a statement changed.
func affectedRows(res interface{ RowsAffected() (int64, error) }, err error) (int64, error) {
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// UploadPartList lists one source's parts by number; a page key is the last
// part number of the previous page.
func (s *Store) UploadPartList(ctx context.Context, uploadID string, f meta.UploadPartFilter, p meta.Page) ([]*seqstore.UploadPart, string, error) {
	var w where
	w.eq("upload_id", uploadID)
	w.eq("source", f.Source)
	w.timeRange("created_at", f.Created)
	if p.After != "" {
		n, err := strconv.Atoi(p.After)
		if err != nil || n < 0 {
			return nil, "", fmt.Errorf("%w: %q is not a part number", meta.ErrBadPageKey, p.After)
		}
		w.add("number > ?", n)
	}
	limit := pageLimit(p)
	rows, err := s.read.query(ctx, `SELECT `+partColumns+` FROM upload_parts`+w.String()+` ORDER BY number LIMIT `+strconv.Itoa(limit+1), w.args...)
	items, err := collect(rows, err, scanPart)
	if err != nil {
		return nil, "", err
	}
	items, next := trimPage(items, limit, func(p *seqstore.UploadPart) string { return strconv.Itoa(p.Number) })
	return items, next, nil
}

// UploadPartsAll returns every part of an upload by source, then number.
func (s *Store) UploadPartsAll(ctx context.Context, uploadID string) ([]*seqstore.UploadPart, error) {
	rows, err := s.read.query(ctx, `SELECT `+partColumns+` FROM upload_parts WHERE upload_id = $1 ORDER BY source, number`, uploadID)
	return collect(rows, err, scanPart)
}

// UploadPartsDelete forgets an upload's parts.
func (s *Store) UploadPartsDelete(ctx context.Context, uploadID string) error {
	_, err := s.write.exec(ctx, `DELETE FROM upload_parts WHERE upload_id = $1`, uploadID)
	return err
}

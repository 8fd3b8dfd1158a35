package sqlmeta

import (
	"context"
	"errors"
	"time"

	"github.com/seqstore/seqstore"
	"github.com/seqstore/seqstore/internal/meta"
)

const readSetColumns = `id, account_id, store_id, name, description, subject_id, sample_id, status, status_message, file_type,
	reference_arn, generated_from, creation_type, creation_job_id, upload_id, sequence_info, etag, files, tags, created_at, updated_at,
	source_parts, last_read_at, activation_job_id`

func scanReadSet(row scanner) (*seqstore.ReadSet, error) {
	return scanReadSetAnd(row)
}

// scanReadSetAnd scans a read set's columns followed by extra ones.
func scanReadSetAnd(row scanner, extra ...any) (*seqstore.ReadSet, error) {
	var r seqstore.ReadSet
	var info, etag, files, tags, parts string
	var created, updated, lastRead int64
	dest := []any{&r.ID, &r.AccountID, &r.StoreID, &r.Name, &r.Description, &r.SubjectID, &r.SampleID, &r.Status, &r.StatusMessage,
		&r.FileType, &r.ReferenceArn, &r.GeneratedFrom, &r.CreationType, &r.CreationJobID, &r.UploadID, &info, &etag, &files, &tags, &created, &updated,
		&parts, &lastRead, &r.ActivationJobID}
	if err := row.Scan(append(dest, extra...)...); err != nil {
		return nil, translate(err)
	}
	r.CreatedAt, r.UpdatedAt, r.LastReadAt = fromMillis(created), fromMillis(updated), fromMillis(lastRead)
	for _, c := range []struct {
		column, text string
		into         any
	}{
		{"read_sets.sequence_info", info, &r.SequenceInformation},
		{"read_sets.etag", etag, &r.ETag},
		{"read_sets.files", files, &r.Files},
		{"read_sets.tags", tags, &r.Tags},
		{"read_sets.source_parts", parts, &r.SourceParts},
	} {
		if err := fromJSON(c.column, c.text, c.into); err != nil {
			return nil, err
		}
	}
	return &r, nil
}

const insertReadSet = `INSERT INTO read_sets (` + readSetColumns + `)
	VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24)`

func insertReadSetArgs(r *seqstore.ReadSet) []any {
	return []any{r.ID, r.AccountID, r.StoreID, r.Name, r.Description, r.SubjectID, r.SampleID, r.Status, r.StatusMessage, r.FileType,
		r.ReferenceArn, r.GeneratedFrom, r.CreationType, r.CreationJobID, r.UploadID, toJSON(r.SequenceInformation), toJSON(r.ETag),
		toJSON(r.Files), toJSON(r.Tags), millis(r.CreatedAt), millis(r.UpdatedAt), toJSON(r.SourceParts),
		millis(lastReadAt(r)), r.ActivationJobID}
}

// lastReadAt is when a new read set counts as last read: when it was
// created, unless said otherwise.
func lastReadAt(r *seqstore.ReadSet) time.Time {
	if r.LastReadAt.IsZero() {
		return r.CreatedAt
	}
	return r.LastReadAt
}

// ReadSetCreate inserts a read set: ErrConflict if its ID exists,
// ErrNotFound if its store does not.
func (s *Store) ReadSetCreate(ctx context.Context, r *seqstore.ReadSet) error {
	_, err := s.write.exec(ctx, insertReadSet, insertReadSetArgs(r)...)
	return err
}

// ReadSetGet returns a read set of the account, in any status.
func (s *Store) ReadSetGet(ctx context.Context, accountID, storeID, id string) (*seqstore.ReadSet, error) {
	return scanReadSet(s.read.queryRow(ctx, `SELECT `+readSetColumns+` FROM read_sets WHERE account_id = $1 AND store_id = $2 AND id = $3`, accountID, storeID, id))
}

// ReadSetUpdate writes every field of r but its IDs and creation time,
// provided the stored status is fromStatus. A read set leaving
// PROCESSING_UPLOAD gives up its ingest lease.
func (s *Store) ReadSetUpdate(ctx context.Context, r *seqstore.ReadSet, fromStatus string) error {
	keepLease := 0
	if r.Status == seqstore.ReadSetStatusProcessingUpload {
		keepLease = 1
	}
	err := affected(s.write.exec(ctx, `UPDATE read_sets SET name = $4, description = $5, subject_id = $6, sample_id = $7,
		status = $8, status_message = $9, file_type = $10, reference_arn = $11, generated_from = $12, creation_type = $13,
		creation_job_id = $14, upload_id = $15, sequence_info = $16, etag = $17, files = $18, tags = $19, updated_at = $20,
		lease_owner = CASE WHEN $21 = 1 THEN lease_owner ELSE '' END,
		lease_until = CASE WHEN $21 = 1 THEN lease_until ELSE 0 END,
		source_parts = $23, activation_job_id = $24
		WHERE account_id = $1 AND store_id = $2 AND id = $3 AND status = $22`,
		r.AccountID, r.StoreID, r.ID, r.Name, r.Description, r.SubjectID, r.SampleID, r.Status, r.StatusMessage, r.FileType,
		r.ReferenceArn, r.GeneratedFrom, r.CreationType, r.CreationJobID, r.UploadID, toJSON(r.SequenceInformation), toJSON(r.ETag),
		toJSON(r.Files), toJSON(r.Tags), millis(r.UpdatedAt), keepLease, fromStatus, toJSON(r.SourceParts), r.ActivationJobID))
	if !errors.Is(err, meta.ErrNotFound) {
		return err
	}
	// Nothing matched: tell a missing read set from one in another status.
	// The update changed nothing either way, so reading afterwards is safe.
	if _, err := s.ReadSetGet(ctx, r.AccountID, r.StoreID, r.ID); err != nil {
		return err
	}
	return conflictf("read set %s is no longer %s", r.ID, fromStatus)
}

// ReadSetList lists a store's read sets. With no Status filter it leaves out
// DELETED read sets, whose rows linger only until their files are gone.
func (s *Store) ReadSetList(ctx context.Context, accountID, storeID string, f meta.ReadSetFilter, p meta.Page) ([]*seqstore.ReadSet, string, error) {
	var w where
	w.eq("account_id", accountID)
	w.eq("store_id", storeID)
	w.eq("name", f.Name)
	w.eq("status", f.Status)
	if f.Status == "" {
		w.add("status <> ?", seqstore.ReadSetStatusDeleted)
	}
	w.eq("reference_arn", f.ReferenceArn)
	w.eq("sample_id", f.SampleID)
	w.eq("subject_id", f.SubjectID)
	w.eq("generated_from", f.GeneratedFrom)
	w.eq("creation_type", f.CreationType)
	w.timeRange("created_at", f.Created)
	if err := w.after(p.After); err != nil {
		return nil, "", err
	}
	rows, err := s.read.query(ctx, `SELECT `+readSetColumns+` FROM read_sets`+w.String()+orderPage(p), w.args...)
	items, err := collect(rows, err, scanReadSet)
	if err != nil {
		return nil, "", err
	}
	items, next := trimPage(items, pageLimit(p), func(r *seqstore.ReadSet) string { return pageKey(r.CreatedAt, r.ID) })
	return items, next, nil
}

// ReadSetDelete removes a read set's row for good.
func (s *Store) ReadSetDelete(ctx context.Context, accountID, storeID, id string) error {
	return affected(s.write.exec(ctx, `DELETE FROM read_sets WHERE account_id = $1 AND store_id = $2 AND id = $3`, accountID, storeID, id))
}

// ReadSetTouch moves a read set's last_read_at forward to at.
func (s *Store) ReadSetTouch(ctx context.Context, accountID, storeID, id string, at time.Time) error {
	err := affected(s.write.exec(ctx, `UPDATE read_sets SET last_read_at = $4
		WHERE account_id = $1 AND store_id = $2 AND id = $3 AND last_read_at < $4`, accountID, storeID, id, millis(at)))
	if !errors.Is(err, meta.ErrNotFound) {
		return err
	}
	// Nothing matched: missing, or read later already.
	_, err = s.ReadSetGet(ctx, accountID, storeID, id)
	return err
}

// ReadSetsPurgeDeleted removes the rows of read sets DELETED before before.
func (s *Store) ReadSetsPurgeDeleted(ctx context.Context, before time.Time) (int64, error) {
	return affectedRows(s.write.exec(ctx, `DELETE FROM read_sets WHERE status = $1 AND updated_at < $2`, seqstore.ReadSetStatusDeleted, millis(before)))
}

// ReadSetsIdle lists ACTIVE read sets unread since before, longest unread
// first (index read_sets_idle).
func (s *Store) ReadSetsIdle(ctx context.Context, before time.Time, limit int) ([]*seqstore.ReadSet, error) {
	rows, err := s.read.query(ctx, `SELECT `+readSetColumns+` FROM read_sets WHERE status = $1 AND last_read_at < $2
		ORDER BY last_read_at, id LIMIT $3`, seqstore.ReadSetStatusActive, millis(before), limit)
	return collect(rows, err, scanReadSet)
}

// ReadSetCountByReference counts the account's read sets, in any status but
// DELETED, that name a reference.
func (s *Store) ReadSetCountByReference(ctx context.Context, accountID, referenceArn string) (int, error) {
	var n int
	err := s.read.queryRow(ctx, `SELECT COUNT(*) FROM read_sets WHERE account_id = $1 AND reference_arn = $2 AND status <> $3`,
		accountID, referenceArn, seqstore.ReadSetStatusDeleted).Scan(&n)
	return n, translate(err)
}

// nextToIngest picks the read set an ingest claim takes ($1: the status
// PROCESSING_UPLOAD, $2: now in unix milliseconds), among those a direct
// upload made (an import's job item ingests its read sets itself), fairly
// across accounts:
// each waiting read set scores its place in its account's queue (1 for the
// account's oldest) plus the ingestions of its account running now, and the
// lowest score goes first, the oldest among equals. So an account with
// nothing running goes before one that has, and accounts with as much
// running take turns, rather than one account's long queue holding up
// everyone's.
const nextToIngest = `SELECT c.id FROM read_sets c
	JOIN (SELECT id, ROW_NUMBER() OVER (PARTITION BY account_id ORDER BY created_at, id) AS place
		FROM read_sets WHERE status = $1 AND lease_until < $2 AND creation_type <> '` + seqstore.CreationTypeImport + `') w ON w.id = c.id
	LEFT JOIN (SELECT account_id, COUNT(*) AS running
		FROM read_sets WHERE status = $1 AND lease_until >= $2 GROUP BY account_id) r ON r.account_id = c.account_id
	WHERE c.status = $1 AND c.lease_until < $2
	ORDER BY w.place + COALESCE(r.running, 0), c.created_at, c.id LIMIT 1`

// IngestClaim leases the read set nextToIngest picks among those awaiting
// ingestion whose lease is free (lease_until 0) or ran out before now, and
// counts the claim in ingest_attempts.
//
// The two dialects claim differently. SQLite runs one statement on the
// writer connection: the UPDATE takes the database's write lock before its
// subquery reads, so no other writer, in this process or another, can pick
// the same row in between. PostgreSQL locks the chosen row in a
// transaction, skipping rows other nodes are claiming this instant, then
// writes the lease; a row whose lease changed after the statement's
// snapshot is re-checked under the lock and passed over.
func (s *Store) IngestClaim(ctx context.Context, owner string, now, leaseUntil time.Time) (*seqstore.ReadSet, int, error) {
	const claim = `UPDATE read_sets SET lease_owner = $3, lease_until = $4, ingest_attempts = ingest_attempts + 1
		WHERE id = `
	const returning = ` RETURNING ` + readSetColumns + `, ingest_attempts`
	var attempt int
	if s.d == &sqliteDialect {
		rs, err := scanReadSetAnd(s.write.queryRow(ctx, claim+`(`+nextToIngest+`)`+returning,
			seqstore.ReadSetStatusProcessingUpload, now.UnixMilli(), owner, leaseUntil.UnixMilli()), &attempt)
		return rs, attempt, err
	}
	var claimed *seqstore.ReadSet
	err := s.tx(ctx, func(t *txRunner) error {
		var id string
		if err := t.queryRow(ctx, nextToIngest+` FOR UPDATE OF c SKIP LOCKED`,
			seqstore.ReadSetStatusProcessingUpload, now.UnixMilli()).Scan(&id); err != nil {
			return translate(err)
		}
		r, err := scanReadSetAnd(t.queryRow(ctx, claim+`$5 AND status = $1 AND lease_until < $2`+returning,
			seqstore.ReadSetStatusProcessingUpload, now.UnixMilli(), owner, leaseUntil.UnixMilli(), id), &attempt)
		claimed = r
		return err
	})
	if err != nil {
		return nil, 0, err
	}
	return claimed, attempt, nil
}

// IngestRenew moves owner's lease to leaseUntil; ErrConflict if owner no
// longer holds it or the read set left PROCESSING_UPLOAD.
func (s *Store) IngestRenew(ctx context.Context, accountID, storeID, id, owner string, leaseUntil time.Time) error {
	err := affected(s.write.exec(ctx, `UPDATE read_sets SET lease_until = $5
		WHERE account_id = $1 AND store_id = $2 AND id = $3 AND lease_owner = $4 AND lease_owner <> '' AND status = $6`,
		accountID, storeID, id, owner, leaseUntil.UnixMilli(), seqstore.ReadSetStatusProcessingUpload))
	if errors.Is(err, meta.ErrNotFound) {
		return conflictf("%s does not hold the ingest lease of read set %s", owner, id)
	}
	return err
}

// IngestRelease frees owner's lease at once and takes back the attempt its
// claim counted; ErrConflict if owner no longer holds the lease or the read
// set left PROCESSING_UPLOAD.
func (s *Store) IngestRelease(ctx context.Context, accountID, storeID, id, owner string) error {
	err := affected(s.write.exec(ctx, `UPDATE read_sets SET lease_owner = '', lease_until = 0,
		ingest_attempts = CASE WHEN ingest_attempts > 0 THEN ingest_attempts - 1 ELSE 0 END
		WHERE account_id = $1 AND store_id = $2 AND id = $3 AND lease_owner = $4 AND lease_owner <> '' AND status = $5`,
		accountID, storeID, id, owner, seqstore.ReadSetStatusProcessingUpload))
	if errors.Is(err, meta.ErrNotFound) {
		return conflictf("%s does not hold the ingest lease of read set %s", owner, id)
	}
	return err
}

// ReadSetQCPut stores a read set's QC report, replacing any: ErrNotFound if
// the account's store holds no such read set.
func (s *Store) ReadSetQCPut(ctx context.Context, accountID, storeID, id string, report []byte) error {
	return affected(s.write.exec(ctx, `INSERT INTO read_set_qc (read_set_id, account_id, store_id, report)
		SELECT id, account_id, store_id, $4 FROM read_sets WHERE account_id = $1 AND store_id = $2 AND id = $3
		ON CONFLICT (read_set_id) DO UPDATE SET report = excluded.report`, accountID, storeID, id, string(report)))
}

// ReadSetQCGet returns a read set's QC report: ErrNotFound if it has none.
func (s *Store) ReadSetQCGet(ctx context.Context, accountID, storeID, id string) ([]byte, error) {
	var report string
	err := s.read.queryRow(ctx, `SELECT report FROM read_set_qc WHERE account_id = $1 AND store_id = $2 AND read_set_id = $3`,
		accountID, storeID, id).Scan(&report)
	if err != nil {
		return nil, translate(err)
	}
	return []byte(report), nil
}

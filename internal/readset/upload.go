package readset

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/seqstore/seqstore"
	"github.com/seqstore/seqstore/internal/arn"
	"github.com/seqstore/seqstore/internal/meta"
	"github.com/seqstore/seqstore/internal/service"
)

// CreateUploadParams describe the read set an upload will make.
type CreateUploadParams struct {
	SourceFileType string
	SubjectID      string
	SampleID       string
	GeneratedFrom  string
	ReferenceArn   string
	Name           string
	Description    string
	Tags           map[string]string
}

// needsReference reports whether a file type holds alignments that only
// make sense against a reference genome.
func needsReference(fileType string) bool {
	return fileType == seqstore.FileTypeBAM || fileType == seqstore.FileTypeCRAM
}

// CreateUpload starts a multipart upload into a store.
func (s *Service) CreateUpload(ctx context.Context, account, storeID string, p CreateUploadParams) (*seqstore.Upload, error) {
	if _, err := s.store(ctx, account, storeID); err != nil {
		return nil, err
	}
	if err := s.checkFileTypeAndReference(ctx, account, p.SourceFileType, p.ReferenceArn); err != nil {
		return nil, err
	}
	u := &seqstore.Upload{
		AccountID:      account,
		StoreID:        storeID,
		Status:         seqstore.UploadStatusInProgress,
		SourceFileType: p.SourceFileType,
		SubjectID:      p.SubjectID,
		SampleID:       p.SampleID,
		GeneratedFrom:  p.GeneratedFrom,
		ReferenceArn:   p.ReferenceArn,
		Name:           p.Name,
		Description:    p.Description,
		Tags:           p.Tags,
		CreatedAt:      s.now(),
	}
	for range 8 {
		u.ID = service.NewID()
		err := s.Meta.UploadCreate(ctx, u)
		if errors.Is(err, meta.ErrConflict) {
			continue
		}
		if err != nil {
			return nil, err
		}
		s.Log.InfoContext(ctx, "upload started", "account", account, "store", storeID, "upload", u.ID, "fileType", u.SourceFileType, "name", u.Name)
		return u, nil
	}
	return nil, seqstore.Errorf(seqstore.CodeInternal, "could not allocate an upload ID; try again")
}

// checkFileTypeAndReference judges a read set's file type and reference
// ARN, for an upload or an import alike: BAM and CRAM need a reference, a
// CRAM one that is stored here, since it is decoded against its bases.
func (s *Service) checkFileTypeAndReference(ctx context.Context, account, fileType, referenceArn string) error {
	switch fileType {
	case seqstore.FileTypeFASTQ, seqstore.FileTypeBAM, seqstore.FileTypeUBAM, seqstore.FileTypeCRAM:
	default:
		return seqstore.Errorf(seqstore.CodeValidation, "sourceFileType %q is not one of FASTQ, BAM, UBAM, CRAM", fileType)
	}
	if needsReference(fileType) && referenceArn == "" {
		return seqstore.Errorf(seqstore.CodeValidation, "referenceArn is required for %s read sets: aligned reads are only meaningful against the reference they were aligned to", fileType)
	}
	if referenceArn == "" {
		return nil
	}
	if fileType == seqstore.FileTypeCRAM {
		_, err := s.storedReference(ctx, account, referenceArn)
		return err
	}
	return s.checkReference(ctx, account, referenceArn)
}

// checkReference accepts a reference ARN of the right form that belongs to
// the account's region. A reference of this seqstore must be ACTIVE, and
// one that names a reference store of the account must name a reference in
// it. An ARN naming a reference store this seqstore does not hold is still
// accepted on its form alone, so read sets aligned to references kept
// elsewhere can be stored.
func (s *Service) checkReference(ctx context.Context, account, referenceArn string) error {
	_, err := s.lookupReference(ctx, account, referenceArn)
	return err
}

// lookupReference is checkReference that also returns the reference when
// this seqstore holds it (nil when the ARN names a store kept elsewhere).
func (s *Service) lookupReference(ctx context.Context, account, referenceArn string) (*seqstore.Reference, error) {
	r, err := arn.Parse(referenceArn)
	if err != nil || r.Kind != arn.KindReference {
		return nil, seqstore.Errorf(seqstore.CodeValidation, "referenceArn %q is not a reference ARN (arn:aws:omics:REGION:ACCOUNT:referenceStore/ID/reference/ID)", referenceArn)
	}
	if r.AccountID != account || r.Region != s.ARN.Region {
		return nil, seqstore.Errorf(seqstore.CodeValidation, "referenceArn %q names a reference outside this account and region", referenceArn)
	}
	ref, err := s.Meta.ReferenceGet(ctx, account, r.StoreID, r.ID)
	switch {
	case errors.Is(err, meta.ErrNotFound):
		if _, err := s.Meta.ReferenceStoreGet(ctx, account, r.StoreID); err == nil {
			return nil, seqstore.Errorf(seqstore.CodeValidation, "referenceArn %q names no reference of reference store %s", referenceArn, r.StoreID)
		} else if !errors.Is(err, meta.ErrNotFound) {
			return nil, err
		}
		return nil, nil
	case err != nil:
		return nil, err
	case ref.Status != seqstore.ReferenceStatusActive:
		return nil, seqstore.Errorf(seqstore.CodeValidation, "reference %s is %s, not ACTIVE", referenceArn, ref.Status)
	}
	return ref, nil
}

func (s *Service) store(ctx context.Context, account, storeID string) (*seqstore.SequenceStore, error) {
	st, err := s.Meta.SequenceStoreGet(ctx, account, storeID)
	if errors.Is(err, meta.ErrNotFound) {
		return nil, seqstore.Errorf(seqstore.CodeNotFound, "sequence store %s does not exist in this account", storeID)
	}
	return st, err
}

func (s *Service) upload(ctx context.Context, account, storeID, uploadID string) (*seqstore.Upload, error) {
	if _, err := s.store(ctx, account, storeID); err != nil {
		return nil, err
	}
	u, err := s.Meta.UploadGet(ctx, account, storeID, uploadID)
	if errors.Is(err, meta.ErrNotFound) {
		return nil, seqstore.Errorf(seqstore.CodeNotFound, "upload %s does not exist in sequence store %s", uploadID, storeID)
	}
	return u, err
}

func (s *Service) uploadInProgress(ctx context.Context, account, storeID, uploadID string) (*seqstore.Upload, error) {
	u, err := s.upload(ctx, account, storeID, uploadID)
	if err != nil {
		return nil, err
	}
	if u.Status != seqstore.UploadStatusInProgress {
		return nil, seqstore.Errorf(seqstore.CodeNotFound, "upload %s is %s and takes no more requests; start a new upload", uploadID, strings.ToLower(strings.ReplaceAll(u.Status, "_", " ")))
	}
	return u, nil
}

// PartChecksum describes the checksum UploadReadSetPart returns: the
// lowercase hex SHA-256 of the part's bytes, what sha256sum prints.
const PartChecksum = "SHA-256 (lowercase hex)"

// UploadPart stores one part. size is the request's Content-Length. A part
// number uploaded again replaces the earlier part.
func (s *Service) UploadPart(ctx context.Context, account, storeID, uploadID, source string, number int, body io.Reader, size int64) (string, error) {
	u, err := s.uploadInProgress(ctx, account, storeID, uploadID)
	if err != nil {
		return "", err
	}
	switch source {
	case seqstore.FileSource1:
	case seqstore.FileSource2:
		if u.SourceFileType != seqstore.FileTypeFASTQ {
			return "", seqstore.Errorf(seqstore.CodeValidation, "partSource SOURCE2 is only for the second mate of paired FASTQ; this upload is %s", u.SourceFileType)
		}
	default:
		return "", seqstore.Errorf(seqstore.CodeValidation, "partSource %q must be SOURCE1 or SOURCE2", source)
	}
	if number < 1 || number > MaxParts {
		return "", seqstore.Errorf(seqstore.CodeValidation, "partNumber %d is outside 1..%d", number, MaxParts)
	}
	if size > MaxPartSize {
		return "", seqstore.Errorf(seqstore.CodeValidation, "part %d is %d bytes; a part may be at most %d bytes (100 MiB): split the file into smaller parts", number, size, MaxPartSize)
	}
	if size == 0 {
		return "", seqstore.Errorf(seqstore.CodeValidation, "part %d is empty; every part must hold at least one byte", number)
	}
	// Every object key starts KIND/ACCOUNT/STORE/: the object store's
	// encryption policy finds the store, and so the key, there.
	key := fmt.Sprintf("uploads/%s/%s/%s/%s/%05d-%s", account, storeID, uploadID, strings.ToLower(source), number, service.NewID())
	w, err := s.Blobs.NewWriter(ctx, key)
	if err != nil {
		return "", err
	}
	// Read one byte past the declared size so that a body longer than its
	// Content-Length is caught rather than silently cut. Hashing as the
	// body is read, rather than through a MultiWriter, lets the blob writer
	// read the body straight into its own large buffer: fewer, larger
	// reads from the connection and no copy through a 32 KiB one.
	h := sha256.New()
	n, err := io.Copy(w, io.TeeReader(io.LimitReader(body, size+1), h))
	if err == nil && n != size {
		err = seqstore.Errorf(seqstore.CodeValidation, "part %d carried %d bytes but Content-Length said %d", number, n, size)
	}
	if err != nil {
		w.Abort()
		return "", err
	}
	if err := w.Close(); err != nil {
		return "", err
	}
	now := s.now()
	part := &seqstore.UploadPart{
		UploadID:  uploadID,
		Source:    source,
		Number:    number,
		Size:      n,
		Checksum:  hex.EncodeToString(h.Sum(nil)),
		Key:       key,
		CreatedAt: now,
		UpdatedAt: now,
	}
	replaced, err := s.Meta.UploadPartPut(ctx, part)
	if err != nil {
		// Whatever kept the part out (most often a Complete or an Abort
		// that won the race with this request), its bytes belong to
		// nothing now.
		if derr := s.Blobs.Delete(context.WithoutCancel(ctx), key); derr != nil {
			s.Log.WarnContext(ctx, "could not delete a refused part", "key", key, "err", derr)
		}
		if errors.Is(err, meta.ErrConflict) || errors.Is(err, meta.ErrNotFound) {
			return "", seqstore.Errorf(seqstore.CodeNotFound, "upload %s stopped taking parts (it was completed, aborted or deleted) while part %d of %s was being sent; the part was not stored: start a new upload", uploadID, number, source)
		}
		return "", err
	}
	if replaced != nil {
		if err := s.Blobs.Delete(ctx, replaced.Key); err != nil {
			s.Log.WarnContext(ctx, "could not delete a replaced part", "key", replaced.Key, "err", err)
		}
	}
	s.Log.DebugContext(ctx, "part stored", "upload", uploadID, "source", source, "part", number, "bytes", n)
	return part.Checksum, nil
}

// ListParts lists the parts of one source.
func (s *Service) ListParts(ctx context.Context, account, storeID, uploadID string, f meta.UploadPartFilter, p meta.Page) ([]*seqstore.UploadPart, string, error) {
	u, err := s.uploadInProgress(ctx, account, storeID, uploadID)
	if err != nil {
		return nil, "", err
	}
	if f.Source == seqstore.FileSource2 && u.SourceFileType != seqstore.FileTypeFASTQ {
		return nil, "", seqstore.Errorf(seqstore.CodeValidation, "partSource SOURCE2 is only for paired FASTQ; this upload is %s", u.SourceFileType)
	}
	return s.Meta.UploadPartList(ctx, uploadID, f, p)
}

// CompletedPart is one entry of CompleteMultipartReadSetUpload's parts list.
type CompletedPart struct {
	Number   int
	Source   string
	Checksum string
}

// Complete checks the client's list of parts against what was uploaded and
// turns the upload into a read set in PROCESSING_UPLOAD, for the ingester.
func (s *Service) Complete(ctx context.Context, account, storeID, uploadID string, listed []CompletedPart) (string, error) {
	u, err := s.uploadInProgress(ctx, account, storeID, uploadID)
	if err != nil {
		return "", err
	}
	stored, err := s.Meta.UploadPartsAll(ctx, uploadID)
	if err != nil {
		return "", err
	}
	if err := checkCompletedParts(u, stored, listed); err != nil {
		return "", err
	}
	now := s.now()
	rs := &seqstore.ReadSet{
		AccountID:     account,
		StoreID:       storeID,
		Name:          u.Name,
		Description:   u.Description,
		SubjectID:     u.SubjectID,
		SampleID:      u.SampleID,
		Status:        seqstore.ReadSetStatusProcessingUpload,
		FileType:      u.SourceFileType,
		ReferenceArn:  u.ReferenceArn,
		GeneratedFrom: u.GeneratedFrom,
		CreationType:  seqstore.CreationTypeUpload,
		CreationJobID: u.ID,
		UploadID:      u.ID,
		Tags:          u.Tags,
		CreatedAt:     now,
		UpdatedAt:     now,
	}
	// The read set keeps the parts just validated; UploadComplete stores it
	// only if they are still the upload's parts.
	for _, p := range stored {
		rs.SourceParts = append(rs.SourceParts, *p)
	}
	for range 8 {
		rs.ID = service.NewID()
		err = s.Meta.UploadComplete(ctx, u, rs)
		if errors.Is(err, meta.ErrPartsChanged) {
			return "", seqstore.Errorf(seqstore.CodeValidation, "a part of upload %s was uploaded while the upload was being completed, so the parts list no longer matches; list the parts again (ListReadSetUploadParts) and complete with their checksums", uploadID)
		}
		if !errors.Is(err, meta.ErrConflict) {
			break
		}
		// A conflict is either a read-set ID collision or an upload that
		// another request completed or aborted meanwhile.
		cur, gerr := s.Meta.UploadGet(ctx, account, storeID, uploadID)
		if gerr == nil && cur.Status != seqstore.UploadStatusInProgress {
			return "", seqstore.Errorf(seqstore.CodeNotFound, "upload %s was completed or aborted by another request", uploadID)
		}
	}
	if err != nil {
		return "", err
	}
	if len(u.Tags) > 0 {
		if err := s.Meta.TagsSet(ctx, account, s.ARN.ReadSet(account, storeID, rs.ID), u.Tags); err != nil {
			return "", err
		}
	}
	s.Log.InfoContext(ctx, "upload completed; read set queued for ingestion", "account", account, "store", storeID, "upload", uploadID, "readSet", rs.ID, "parts", len(stored))
	if s.Wake != nil {
		s.Wake()
	}
	return rs.ID, nil
}

// checkCompletedParts demands that the client lists exactly the parts that
// were uploaded, each with the checksum it was given, numbered 1..N without
// gaps in each source.
func checkCompletedParts(u *seqstore.Upload, stored []*seqstore.UploadPart, listed []CompletedPart) error {
	type key struct {
		source string
		number int
	}
	have := map[key]*seqstore.UploadPart{}
	for _, p := range stored {
		have[key{p.Source, p.Number}] = p
	}
	seen := map[key]bool{}
	counts := map[string]int{}
	for _, l := range listed {
		k := key{l.Source, l.Number}
		if seen[k] {
			return seqstore.Errorf(seqstore.CodeValidation, "parts lists part %d of %s twice", l.Number, l.Source)
		}
		seen[k] = true
		p, ok := have[k]
		if !ok {
			return seqstore.Errorf(seqstore.CodeValidation, "parts lists part %d of %s, which was never uploaded", l.Number, l.Source)
		}
		if !strings.EqualFold(l.Checksum, p.Checksum) {
			return seqstore.Errorf(seqstore.CodeValidation, "part %d of %s: checksum %q does not match %q, the checksum UploadReadSetPart returned for it", l.Number, l.Source, l.Checksum, p.Checksum)
		}
		counts[l.Source]++
	}
	var missing []string
	for _, p := range stored {
		if !seen[key{p.Source, p.Number}] {
			missing = append(missing, fmt.Sprintf("%d of %s", p.Number, p.Source))
		}
	}
	if len(missing) > 0 {
		sort.Strings(missing)
		return seqstore.Errorf(seqstore.CodeValidation, "uploaded parts missing from the parts list: %s; list every part, or upload again", strings.Join(missing, ", "))
	}
	if counts[seqstore.FileSource1] == 0 {
		return seqstore.Errorf(seqstore.CodeValidation, "the upload has no SOURCE1 parts; upload the file before completing")
	}
	for source, n := range counts {
		for i := 1; i <= n; i++ {
			if !seen[key{source, i}] {
				return seqstore.Errorf(seqstore.CodeValidation, "part %d of %s is missing: parts must be numbered 1 to %d without gaps", i, source, n)
			}
		}
	}
	return nil
}

// Abort cancels an upload and deletes its parts.
func (s *Service) Abort(ctx context.Context, account, storeID, uploadID string) error {
	if _, err := s.uploadInProgress(ctx, account, storeID, uploadID); err != nil {
		return err
	}
	if err := s.Meta.UploadSetStatus(ctx, account, storeID, uploadID, seqstore.UploadStatusInProgress, seqstore.UploadStatusAborted); err != nil {
		if errors.Is(err, meta.ErrConflict) {
			return seqstore.Errorf(seqstore.CodeNotFound, "upload %s was completed or aborted by another request", uploadID)
		}
		return err
	}
	s.deleteParts(ctx, uploadID)
	s.Log.InfoContext(ctx, "upload aborted", "account", account, "store", storeID, "upload", uploadID)
	return nil
}

// deleteParts removes an upload's part bytes and rows. Failures are logged:
// the parts are no longer reachable through the API either way.
func (s *Service) deleteParts(ctx context.Context, uploadID string) {
	parts, err := s.Meta.UploadPartsAll(ctx, uploadID)
	if err != nil {
		s.Log.WarnContext(ctx, "could not list parts to delete", "upload", uploadID, "err", err)
		return
	}
	for _, p := range parts {
		if err := s.Blobs.Delete(ctx, p.Key); err != nil {
			s.Log.WarnContext(ctx, "could not delete a part", "key", p.Key, "err", err)
		}
	}
	if err := s.Meta.UploadPartsDelete(ctx, uploadID); err != nil {
		s.Log.WarnContext(ctx, "could not forget parts", "upload", uploadID, "err", err)
	}
}

// ListUploads lists the uploads in progress.
func (s *Service) ListUploads(ctx context.Context, account, storeID string, p meta.Page) ([]*seqstore.Upload, string, error) {
	if _, err := s.store(ctx, account, storeID); err != nil {
		return nil, "", err
	}
	return s.Meta.UploadList(ctx, account, storeID, meta.UploadFilter{Status: seqstore.UploadStatusInProgress}, p)
}

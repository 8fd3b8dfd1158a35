package reference

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"

	"github.com/seqstore/seqstore"
	"github.com/seqstore/seqstore/internal/format/compress"
	"github.com/seqstore/seqstore/internal/format/fasta"
	"github.com/seqstore/seqstore/internal/format/panics"
	"github.com/seqstore/seqstore/internal/jobs"
	"github.com/seqstore/seqstore/internal/meta"
	"github.com/seqstore/seqstore/internal/service"
)

// MaxImportSources is the most sources one import job takes.
const MaxImportSources = 100

// ImportSource is one source of an import job: a FASTA file and the
// reference it becomes.
type ImportSource struct {
	SourceFile  string            `json:"sourceFile"`
	Name        string            `json:"name"`
	Description string            `json:"description,omitempty"`
	Tags        map[string]string `json:"tags,omitempty"`
}

// ImportItem is one source of an import job with how it went.
type ImportItem struct {
	ImportSource
	Status        string
	StatusMessage string
	ReferenceID   string
}

// ImportJob is an import job with its sources.
type ImportJob struct {
	*seqstore.Job
	Sources []ImportItem
}

// fastaExtensions are the file name extensions HealthOmics accepts for a
// reference, each optionally followed by a compression extension.
var (
	fastaExtensions       = []string{".fasta", ".fa", ".fas", ".fsa", ".faa", ".fna", ".ffn", ".frn", ".mpfa", ".seq", ".txt"}
	compressionExtensions = []string{".gz", ".bgz", ".bgzf"}
)

// StartImport checks an import's sources and queues it. What can be judged
// without reading a byte is judged here: names, file extensions, and
// whether the account may read each source.
func (s *Service) StartImport(ctx context.Context, account, storeID, roleArn string, sources []ImportSource) (*seqstore.Job, error) {
	if err := s.store(ctx, account, storeID); err != nil {
		return nil, err
	}
	if len(sources) == 0 || len(sources) > MaxImportSources {
		return nil, seqstore.Errorf(seqstore.CodeValidation, "an import job takes 1 to %d sources, not %d", MaxImportSources, len(sources))
	}
	if s.Sources == nil {
		return nil, seqstore.Errorf(seqstore.CodeNotSupported, "this server reads no import sources; start it with -file-root or S3 settings")
	}
	now := s.now()
	j := &seqstore.Job{
		AccountID: account,
		StoreID:   storeID,
		Kind:      seqstore.JobKindReferenceImport,
		Status:    seqstore.JobStatusSubmitted,
		RoleArn:   roleArn,
		CreatedAt: now,
	}
	for i, src := range sources {
		if err := s.checkSource(ctx, account, src); err != nil {
			return nil, seqstore.Prefix(fmt.Sprintf("sources[%d]", i), err)
		}
		spec, err := json.Marshal(src)
		if err != nil {
			return nil, err
		}
		// The reference's ID is chosen now, so that an item done again
		// after a crash finds the reference it made.
		j.Items = append(j.Items, seqstore.JobItem{Spec: spec, ReadSetID: service.NewID(), UpdatedAt: now})
	}
	if err := jobs.Create(ctx, s.Meta, j, service.NewID); errors.Is(err, meta.ErrNotFound) {
		return nil, seqstore.Errorf(seqstore.CodeNotFound, "reference store %s does not exist in this account", storeID)
	} else if err != nil {
		return nil, err
	}
	if s.WakeJobs != nil {
		s.WakeJobs()
	}
	s.Log.InfoContext(ctx, "reference import job started", "account", account, "store", storeID, "job", j.ID, "sources", len(sources))
	return j, nil
}

func (s *Service) checkSource(ctx context.Context, account string, src ImportSource) error {
	if src.Name == "" {
		return seqstore.Errorf(seqstore.CodeValidation, "name is required: it names the reference")
	}
	if src.SourceFile == "" {
		return seqstore.Errorf(seqstore.CodeValidation, "sourceFile is required")
	}
	if !hasFASTAExtension(src.SourceFile) {
		return seqstore.Errorf(seqstore.CodeValidation, "sourceFile %q does not end in a FASTA extension (%s), optionally followed by %s",
			src.SourceFile, strings.Join(fastaExtensions, " "), strings.Join(compressionExtensions, " "))
	}
	return s.Sources.CheckRead(ctx, account, src.SourceFile)
}

func hasFASTAExtension(uri string) bool {
	name := strings.ToLower(uncompressedName(path.Base(uri)))
	for _, ext := range fastaExtensions {
		if strings.HasSuffix(name, ext) && len(name) > len(ext) {
			return true
		}
	}
	return false
}

// uncompressedName is a file name without its compression extension.
func uncompressedName(name string) string {
	for _, ext := range compressionExtensions {
		if len(name) > len(ext) && strings.EqualFold(name[len(name)-len(ext):], ext) {
			return name[:len(name)-len(ext)]
		}
	}
	return name
}

// GetImport returns an import job with each source's status.
func (s *Service) GetImport(ctx context.Context, account, storeID, id string) (*ImportJob, error) {
	if err := s.store(ctx, account, storeID); err != nil {
		return nil, err
	}
	j, err := s.Meta.JobGet(ctx, account, storeID, seqstore.JobKindReferenceImport, id)
	if errors.Is(err, meta.ErrNotFound) {
		return nil, seqstore.Errorf(seqstore.CodeNotFound, "import job %s does not exist in reference store %s", id, storeID)
	}
	if err != nil {
		return nil, err
	}
	out := &ImportJob{Job: j}
	for _, it := range j.Items {
		var src ImportSource
		if err := json.Unmarshal(it.Spec, &src); err != nil {
			return nil, fmt.Errorf("reference import job %s item %d: %w", id, it.Index, err)
		}
		item := ImportItem{ImportSource: src, Status: it.Status, StatusMessage: it.StatusMessage}
		// The reference exists once its item finished.
		if it.Status == seqstore.JobItemStatusFinished {
			item.ReferenceID = it.ReadSetID
		}
		out.Sources = append(out.Sources, item)
	}
	return out, nil
}

// ListImports lists a store's import jobs.
func (s *Service) ListImports(ctx context.Context, account, storeID string, f meta.JobFilter, p meta.Page) ([]*seqstore.Job, string, error) {
	if err := s.store(ctx, account, storeID); err != nil {
		return nil, "", err
	}
	if f.Status != "" && !seqstore.JobStatusValid(f.Status) {
		return nil, "", seqstore.Errorf(seqstore.CodeValidation, "filter.status %q is not a job status", f.Status)
	}
	return s.Meta.JobList(ctx, account, storeID, seqstore.JobKindReferenceImport, f, p)
}

// ImportHandler does the items of reference import jobs: each streams its
// FASTA file from its location, decompressing gzip or BGZF, checks it with
// fasta.Scan while storing it plain, then stores its .fai index and creates
// the reference.
type ImportHandler struct{ *Service }

// Do imports one source. The job engine's claim hands out one item of
// a store's reference imports at a time, on every node together
// (meta.Store.JobItemClaim), as HealthOmics imports one reference at a
// time into a store. It is safe to run again: the reference's ID was
// chosen when the job started, its files are written under keys of that
// ID (a second run overwrites them), and the reference is created last, so
// a run finding it made has nothing left to do.
func (h ImportHandler) Do(ctx context.Context, job *seqstore.Job, item *seqstore.JobItem) (err error) {
	defer func() {
		// The item's statusMessage has room for a domain error's message,
		// not for its code too.
		var se *seqstore.Error
		if errors.As(err, &se) {
			err = errors.New(se.Message)
		}
	}()
	var src ImportSource
	if err := json.Unmarshal(item.Spec, &src); err != nil {
		return fmt.Errorf("the job's record of this source is unreadable (%v); start the import again", err)
	}
	_, err = h.Meta.ReferenceGet(ctx, job.AccountID, job.StoreID, item.ReadSetID)
	if err == nil {
		return nil
	}
	if !errors.Is(err, meta.ErrNotFound) {
		return err
	}
	ref := &seqstore.Reference{
		AccountID:     job.AccountID,
		StoreID:       job.StoreID,
		ID:            item.ReadSetID,
		Name:          src.Name,
		Description:   src.Description,
		Status:        seqstore.ReferenceStatusActive,
		CreationJobID: job.ID,
	}
	if err := h.importFiles(ctx, ref, src.SourceFile); err != nil {
		item.ReadSetID = ""
		return err
	}
	arn := h.ARN.Reference(ref.AccountID, ref.StoreID, ref.ID)
	if len(src.Tags) > 0 {
		if err := h.Meta.TagsSet(ctx, job.AccountID, arn, src.Tags); err != nil {
			return err
		}
	}
	ref.CreatedAt = h.now()
	ref.UpdatedAt = ref.CreatedAt
	if err := h.Meta.ReferenceCreate(ctx, ref); err != nil {
		if errors.Is(err, meta.ErrNotFound) {
			h.deleteFiles(context.WithoutCancel(ctx), ref.Files)
			item.ReadSetID = ""
			return fmt.Errorf("reference store %s was deleted before this source was imported", job.StoreID)
		}
		return err
	}
	h.Log.InfoContext(ctx, "reference imported", "account", ref.AccountID, "store", ref.StoreID, "reference", ref.ID,
		"job", job.ID, "sequences", len(ref.Sequences), "bytes", ref.Files[0].ContentLength)
	return nil
}

// importFiles reads the source once, storing it as plain FASTA while
// checking it, then stores its index, and fills in ref's files, digest
// and sequences. On an error nothing it wrote is left.
func (h ImportHandler) importFiles(ctx context.Context, ref *seqstore.Reference, uri string) (err error) {
	in, err := h.Sources.Open(ctx, ref.AccountID, uri)
	if err != nil {
		return err
	}
	defer in.Close()
	plain, _, err := compress.Open(in)
	if err != nil {
		return fmt.Errorf("sourceFile is neither plain FASTA nor gzip or BGZF-compressed: %v", err)
	}
	defer plain.Close()
	name := fileName(uri, ref.ID)
	source := seqstore.StoredFile{Kind: seqstore.FileSource, Key: fileKey(ref, name), Name: name, PartSize: PartSize}
	index := seqstore.StoredFile{Kind: seqstore.FileIndex, Key: fileKey(ref, name+".fai"), Name: name + ".fai", PartSize: PartSize}
	var written []seqstore.StoredFile
	defer func() {
		if err != nil {
			h.deleteFiles(context.WithoutCancel(ctx), written)
		}
	}()
	digest := md5.New()
	var seqs []fasta.Sequence
	source.ContentLength, err = h.write(ctx, source.Key, func(w io.Writer) error {
		// The file's digest and its stored copy follow the scan on a
		// goroutine of their own.
		behind := newBehindWriter(io.MultiWriter(w, digest))
		defer behind.Close()
		var err error
		seqs, err = fasta.Scan(io.TeeReader(plain, behind), fasta.Limits{})
		if fasta.IsDefect(err) {
			return fmt.Errorf("invalid FASTA: %w", err)
		}
		if err != nil {
			return err
		}
		return behind.Close()
	})
	if err != nil {
		return err
	}
	written = append(written, source)
	entries := make([]fasta.Entry, len(seqs))
	ref.Sequences = make([]seqstore.ReferenceSequence, len(seqs))
	for i, sq := range seqs {
		entries[i] = sq.Entry
		ref.Sequences[i] = seqstore.ReferenceSequence{Name: sq.Name, Length: sq.Length, MD5: sq.MD5, GA4GH: sq.GA4GH}
	}
	index.ContentLength, err = h.write(ctx, index.Key, func(w io.Writer) error { return fasta.WriteIndex(w, entries) })
	if err != nil {
		return err
	}
	written = append(written, index)
	ref.MD5 = hex.EncodeToString(digest.Sum(nil))
	ref.Files = written
	return nil
}

// write stores one object with what fill writes, and returns its size; the
// object exists only if it returns no error. A panic in fill is returned as
// an error, after the object is discarded.
func (h ImportHandler) write(ctx context.Context, key string, fill func(io.Writer) error) (n int64, err error) {
	w, err := h.Blobs.NewWriter(ctx, key)
	if err != nil {
		return 0, err
	}
	closed := false
	defer func() {
		if !closed {
			w.Abort()
		}
	}()
	defer panics.Recover(&err)
	cw := &countingWriter{w: w}
	if err := fill(cw); err != nil {
		return 0, err
	}
	closed = true
	if err := w.Close(); err != nil {
		return 0, fmt.Errorf("store %s: %w", key, err)
	}
	return cw.n, nil
}

type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// fileKey is where a reference's file lives in the object store. Like every
// object key it starts KIND/ACCOUNT/STORE/, which the encryption policy
// relies on.
func fileKey(ref *seqstore.Reference, name string) string {
	return fmt.Sprintf("references/%s/%s/%s/%s", ref.AccountID, ref.StoreID, ref.ID, name)
}

// fileName is the name the reference's FASTA is stored and served under:
// the source's, without its compression extension (it is stored plain),
// made safe for a key.
func fileName(uri, id string) string {
	var b strings.Builder
	for _, r := range uncompressedName(path.Base(uri)) {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_', r == '.':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	if strings.Trim(b.String(), "._") == "" {
		return id + ".fa"
	}
	return b.String()
}

func (s *Service) deleteFiles(ctx context.Context, files []seqstore.StoredFile) {
	for _, f := range files {
		if err := s.Blobs.Delete(ctx, f.Key); err != nil {
			s.Log.WarnContext(ctx, "could not delete a stored reference file", "key", f.Key, "err", err)
		}
	}
}

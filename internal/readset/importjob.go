package readset

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"path"
	"strings"

	"github.com/seqstore/seqstore"
	"github.com/seqstore/seqstore/internal/meta"
	"github.com/seqstore/seqstore/internal/service"
)

// ImportSource is one source of an import job: the file (a FASTQ pair in
// two) and the read set it becomes.
type ImportSource struct {
	Source1       string            `json:"source1"`
	Source2       string            `json:"source2,omitempty"`
	FileType      string            `json:"fileType"`
	SubjectID     string            `json:"subjectId"`
	SampleID      string            `json:"sampleId"`
	GeneratedFrom string            `json:"generatedFrom,omitempty"`
	ReferenceArn  string            `json:"referenceArn,omitempty"`
	Name          string            `json:"name,omitempty"`
	Description   string            `json:"description,omitempty"`
	Tags          map[string]string `json:"tags,omitempty"`
}

// ImportItem is one source of an import job with how it went.
type ImportItem struct {
	ImportSource
	Status        string
	StatusMessage string
	ReadSetID     string
}

// ImportJob is an import job with its sources.
type ImportJob struct {
	*seqstore.Job
	Sources []ImportItem
}

// StartImport checks an import's sources and queues it. Everything that
// can be judged without reading a byte is judged here, so a job refused
// for a bad request never starts: file types, references, and whether the
// account may read each source (AccessDeniedException before any read).
// A source that turns out missing or malformed fails its item only.
func (s *Service) StartImport(ctx context.Context, account, storeID, roleArn string, sources []ImportSource) (*seqstore.Job, error) {
	if _, err := s.store(ctx, account, storeID); err != nil {
		return nil, err
	}
	if len(sources) == 0 || len(sources) > MaxImportSources {
		return nil, seqstore.Errorf(seqstore.CodeValidation, "an import job takes 1 to %d sources, not %d", MaxImportSources, len(sources))
	}
	if s.Locations == nil {
		return nil, seqstore.Errorf(seqstore.CodeNotSupported, "this server reads no import sources; start it with -file-root or S3 settings")
	}
	now := s.now()
	j := &seqstore.Job{
		AccountID: account,
		StoreID:   storeID,
		Kind:      seqstore.JobKindReadSetImport,
		Status:    seqstore.JobStatusSubmitted,
		RoleArn:   roleArn,
		CreatedAt: now,
	}
	for i, src := range sources {
		if err := s.checkImportSource(ctx, account, src); err != nil {
			return nil, seqstore.Prefix(fmt.Sprintf("sources[%d]", i), err)
		}
		spec, err := json.Marshal(src)
		if err != nil {
			return nil, err
		}
		j.Items = append(j.Items, seqstore.JobItem{
			Index:     i,
			Status:    seqstore.JobItemStatusNotStarted,
			Spec:      spec,
			ReadSetID: service.NewID(),
			UpdatedAt: now,
		})
	}
	if err := s.createJob(ctx, j); err != nil {
		return nil, err
	}
	s.Log.InfoContext(ctx, "import job started", "account", account, "store", storeID, "job", j.ID, "sources", len(sources))
	return j, nil
}

func (s *Service) checkImportSource(ctx context.Context, account string, src ImportSource) error {
	if src.Source1 == "" {
		return seqstore.Errorf(seqstore.CodeValidation, "sourceFiles.source1 is required")
	}
	if src.Source2 != "" && src.FileType != seqstore.FileTypeFASTQ {
		return seqstore.Errorf(seqstore.CodeValidation, "sourceFiles.source2 is for the second file of a FASTQ pair; a %s read set has one file", src.FileType)
	}
	if err := s.checkFileTypeAndReference(ctx, account, src.FileType, src.ReferenceArn); err != nil {
		return err
	}
	for _, uri := range []string{src.Source1, src.Source2} {
		if uri == "" {
			continue
		}
		if err := s.Locations.CheckRead(ctx, account, uri); err != nil {
			return err
		}
	}
	return nil
}

// GetImport returns an import job with each source's status.
func (s *Service) GetImport(ctx context.Context, account, storeID, id string) (*ImportJob, error) {
	j, err := s.job(ctx, account, storeID, seqstore.JobKindReadSetImport, id)
	if err != nil {
		return nil, err
	}
	out := &ImportJob{Job: j}
	for _, it := range j.Items {
		var src ImportSource
		if err := json.Unmarshal(it.Spec, &src); err != nil {
			return nil, fmt.Errorf("import job %s item %d: %w", id, it.Index, err)
		}
		item := ImportItem{ImportSource: src, Status: it.Status, StatusMessage: it.StatusMessage}
		// The read set's ID is chosen at the start but shown only once
		// the item ended; an item that failed before making its read set
		// ended without one.
		if seqstore.JobItemEnded(it.Status) {
			item.ReadSetID = it.ReadSetID
		}
		out.Sources = append(out.Sources, item)
	}
	return out, nil
}

// ListImports lists a store's import jobs.
func (s *Service) ListImports(ctx context.Context, account, storeID string, f meta.JobFilter, p meta.Page) ([]*seqstore.Job, string, error) {
	return s.listJobs(ctx, account, storeID, seqstore.JobKindReadSetImport, f, p)
}

// ImportHandler does the items of read-set import jobs: each streams its
// sources from their locations through the same ingestion as an upload.
type ImportHandler struct{ *Service }

// Do imports one source. It is safe to run again after a crash: the read
// set's ID was chosen when the job started, so a second run finds the read
// set the first one made and ingests it afresh, or, if it already ended,
// reports how.
func (h ImportHandler) Do(ctx context.Context, job *seqstore.Job, item *seqstore.JobItem) (err error) {
	defer func() { err = itemError(err) }()
	var src ImportSource
	if err := json.Unmarshal(item.Spec, &src); err != nil {
		return fmt.Errorf("the job's record of this source is unreadable (%v); start the import again", err)
	}
	log := h.Log.With("account", job.AccountID, "store", job.StoreID, "job", job.ID, "item", item.Index, "readSet", item.ReadSetID, "fileType", src.FileType)
	rs, err := h.Meta.ReadSetGet(ctx, job.AccountID, job.StoreID, item.ReadSetID)
	switch {
	case errors.Is(err, meta.ErrNotFound):
		rs = nil
	case err != nil:
		return err
	case rs.Status == seqstore.ReadSetStatusProcessingUpload:
		// A run that stopped midway: ingest again from the start.
	default:
		return h.importOutcome(rs)
	}
	// Open every source before the read set exists: a source that is
	// missing or unreadable fails the item without leaving a read set.
	var sources []source
	for i, uri := range []string{src.Source1, src.Source2} {
		if uri == "" {
			continue
		}
		r, err := h.Locations.Open(ctx, job.AccountID, uri)
		if err != nil {
			closeSources(sources)
			if rs == nil {
				item.ReadSetID = ""
			}
			return err
		}
		name := importedFileName(uri, src.FileType, item.ReadSetID)
		if i == 1 && name == sources[0].name {
			name = "source2_" + name
		}
		sources = append(sources, source{kind: []string{seqstore.FileSource1, seqstore.FileSource2}[i], name: name, r: r})
	}
	if rs == nil {
		if rs, err = h.createImported(ctx, log, job, item, src); err != nil {
			closeSources(sources)
			if errors.Is(err, meta.ErrNotFound) {
				item.ReadSetID = ""
				return fmt.Errorf("sequence store %s was deleted before this source was imported", job.StoreID)
			}
			return err
		}
	}
	if _, err := h.ingestSources(ctx, log, rs, sources, 0); err != nil {
		return err
	}
	rs, err = h.Meta.ReadSetGet(ctx, job.AccountID, job.StoreID, item.ReadSetID)
	if err != nil {
		return err
	}
	return h.importOutcome(rs)
}

// createImported makes the read set an import item fills, in
// PROCESSING_UPLOAD, with the source's tags.
func (h ImportHandler) createImported(ctx context.Context, log *slog.Logger, job *seqstore.Job, item *seqstore.JobItem, src ImportSource) (*seqstore.ReadSet, error) {
	now := h.now()
	rs := &seqstore.ReadSet{
		AccountID:     job.AccountID,
		StoreID:       job.StoreID,
		ID:            item.ReadSetID,
		Name:          src.Name,
		Description:   src.Description,
		SubjectID:     src.SubjectID,
		SampleID:      src.SampleID,
		Status:        seqstore.ReadSetStatusProcessingUpload,
		FileType:      src.FileType,
		ReferenceArn:  src.ReferenceArn,
		GeneratedFrom: src.GeneratedFrom,
		CreationType:  seqstore.CreationTypeImport,
		CreationJobID: job.ID,
		Tags:          src.Tags,
		CreatedAt:     now,
		UpdatedAt:     now,
	}
	if err := h.Meta.ReadSetCreate(ctx, rs); err != nil {
		return nil, err
	}
	if len(src.Tags) > 0 {
		if err := h.Meta.TagsSet(ctx, job.AccountID, h.ARN.ReadSet(job.AccountID, job.StoreID, rs.ID), src.Tags); err != nil {
			return nil, err
		}
	}
	log.Info("import: read set created")
	return rs, nil
}

// importOutcome is how an item whose read set ended went: nil when ACTIVE,
// else an error carrying the read set's statusMessage.
func (h ImportHandler) importOutcome(rs *seqstore.ReadSet) error {
	switch rs.Status {
	case seqstore.ReadSetStatusActive, seqstore.ReadSetStatusArchived:
		return nil
	case seqstore.ReadSetStatusUploadFailed:
		return errors.New(rs.StatusMessage)
	default:
		return fmt.Errorf("read set %s was %s before its import finished", rs.ID, strings.ToLower(rs.Status))
	}
}

// importedFileName is the name an imported file is stored and exported
// under: the source's own, as HealthOmics keeps it, with ".gz" added to a
// FASTQ whose name does not say it is compressed, since it is stored
// compressed (as it arrived, or as BGZF if it arrived plain).
func importedFileName(uri, fileType, readSetID string) string {
	name := safeFileName(path.Base(uri))
	if name == "" {
		name = readSetID
	}
	if fileType == seqstore.FileTypeFASTQ && !hasSuffix(name, ".gz", ".bgz", ".bgzf") {
		name += ".gz"
	}
	return name
}

func hasSuffix(s string, suffixes ...string) bool {
	for _, x := range suffixes {
		if strings.HasSuffix(s, x) {
			return true
		}
	}
	return false
}

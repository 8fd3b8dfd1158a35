package readset

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync/atomic"

	"github.com/seqstore/seqstore"
	"github.com/seqstore/seqstore/internal/location"
	"github.com/seqstore/seqstore/internal/meta"
)

// exportSpec is an export item's request.
type exportSpec struct {
	ReadSetID string `json:"readSetId"`
}

// StartExport checks an export's request and queues it: the destination
// must be a prefix the account may write, each read set must exist in the
// store; whether it is ACTIVE is judged when its item runs.
func (s *Service) StartExport(ctx context.Context, account, storeID, roleArn, destination string, readSetIDs []string) (*seqstore.Job, error) {
	if _, err := s.store(ctx, account, storeID); err != nil {
		return nil, err
	}
	if len(readSetIDs) == 0 || len(readSetIDs) > MaxExportReadSets {
		return nil, seqstore.Errorf(seqstore.CodeValidation, "an export job takes 1 to %d read sets, not %d", MaxExportReadSets, len(readSetIDs))
	}
	if s.Locations == nil {
		return nil, seqstore.Errorf(seqstore.CodeNotSupported, "this server writes no exports; start it with -file-root or S3 settings")
	}
	if err := s.Locations.CheckWrite(ctx, account, destination); err != nil {
		return nil, seqstore.Prefix("destination", err)
	}
	now := s.now()
	j := &seqstore.Job{
		AccountID:   account,
		StoreID:     storeID,
		Kind:        seqstore.JobKindReadSetExport,
		Status:      seqstore.JobStatusSubmitted,
		RoleArn:     roleArn,
		Destination: destination,
		CreatedAt:   now,
	}
	seen := map[string]bool{}
	for i, id := range readSetIDs {
		if seen[id] {
			return nil, seqstore.Errorf(seqstore.CodeValidation, "sources[%d]: read set %s is listed twice", i, id)
		}
		seen[id] = true
		if _, err := s.Get(ctx, account, storeID, id); err != nil {
			return nil, seqstore.Prefix(fmt.Sprintf("sources[%d]", i), err)
		}
		spec, _ := json.Marshal(exportSpec{ReadSetID: id})
		j.Items = append(j.Items, seqstore.JobItem{
			Index:     i,
			Status:    seqstore.JobItemStatusNotStarted,
			Spec:      spec,
			ReadSetID: id,
			UpdatedAt: now,
		})
	}
	if err := s.createJob(ctx, j); err != nil {
		return nil, err
	}
	s.Log.InfoContext(ctx, "export job started", "account", account, "store", storeID, "job", j.ID, "readSets", len(readSetIDs), "destination", destination)
	return j, nil
}

// GetExport returns an export job with each read set's status.
func (s *Service) GetExport(ctx context.Context, account, storeID, id string) (*seqstore.Job, error) {
	return s.job(ctx, account, storeID, seqstore.JobKindReadSetExport, id)
}

// ListExports lists a store's export jobs.
func (s *Service) ListExports(ctx context.Context, account, storeID string, f meta.JobFilter, p meta.Page) ([]*seqstore.Job, string, error) {
	return s.listJobs(ctx, account, storeID, seqstore.JobKindReadSetExport, f, p)
}

// ExportHandler does the items of read-set export jobs: each copies one
// read set's stored files, byte for byte as GetReadSet serves them, to
// {destination}/{readSetId}/{file name}.
type ExportHandler struct{ *Service }

// ExportPath is where an export writes a read set's file under its
// destination.
func ExportPath(destination, readSetID, fileName string) string {
	return location.Join(location.Join(destination, readSetID), fileName)
}

// Do exports one read set. Running it again writes the same files again:
// each appears under its name only once written whole.
func (h ExportHandler) Do(ctx context.Context, job *seqstore.Job, item *seqstore.JobItem) (err error) {
	defer func() { err = itemError(err) }()
	rs, err := h.Get(ctx, job.AccountID, job.StoreID, item.ReadSetID)
	if err != nil {
		return err
	}
	if rs.Status != seqstore.ReadSetStatusActive {
		msg := fmt.Sprintf("read set %s is %s; only ACTIVE read sets can be exported", rs.ID, rs.Status)
		if rs.Status == seqstore.ReadSetStatusArchived {
			msg += "; activate it first (StartReadSetActivationJob)"
		}
		return errors.New(msg)
	}
	log := h.Log.With("account", job.AccountID, "store", job.StoreID, "job", job.ID, "item", item.Index, "readSet", rs.ID)
	tags, err := h.propagatedTags(ctx, rs)
	if err != nil {
		return err
	}
	var total int64
	for _, f := range rs.Files {
		total += f.ContentLength
	}
	var copied atomic.Int64
	stopProgress := h.watchProgress(ctx, log, "export progress", &copied, nil, total)
	defer stopProgress()
	for _, f := range rs.Files {
		dst := ExportPath(job.Destination, rs.ID, f.Name)
		if err := h.exportFile(ctx, job.AccountID, f, dst, tags, &copied); err != nil {
			return err
		}
	}
	h.touch(ctx, rs)
	log.Info("read set exported", "files", len(rs.Files), "bytes", total, "destination", job.Destination)
	return nil
}

// propagatedTags are the read set's tags whose keys its store lists in
// propagatedSetLevelTags: what HealthOmics copies onto the S3 objects of a
// read set, and seqstore onto the objects an export writes.
func (h ExportHandler) propagatedTags(ctx context.Context, rs *seqstore.ReadSet) (map[string]string, error) {
	st, err := h.store(ctx, rs.AccountID, rs.StoreID)
	if err != nil || len(st.PropagatedSetLevelTags) == 0 {
		return nil, err
	}
	all, err := h.Meta.TagsGet(ctx, rs.AccountID, h.ARN.ReadSet(rs.AccountID, rs.StoreID, rs.ID))
	if err != nil {
		return nil, err
	}
	tags := map[string]string{}
	for _, k := range st.PropagatedSetLevelTags {
		if v, ok := all[k]; ok {
			tags[k] = v
		}
	}
	return tags, nil
}

// exportFile copies one stored file to dst, checking its length, and
// commits it only when whole. It adds the bytes it reads to copied.
func (h ExportHandler) exportFile(ctx context.Context, account string, f seqstore.StoredFile, dst string, tags map[string]string, copied *atomic.Int64) error {
	r, err := h.Blobs.NewRangeReader(ctx, f.Key, 0, -1)
	if err != nil {
		return fmt.Errorf("reading stored file %s failed (%v); export the read set again", f.Name, err)
	}
	defer r.Close()
	w, err := h.Locations.CreateTagged(ctx, account, dst, f.ContentLength, tags)
	if err != nil {
		return err
	}
	n, err := io.Copy(w, &countingReader{r, copied})
	if err == nil && n != f.ContentLength {
		err = fmt.Errorf("stored file %s has %d bytes, not the %d recorded", f.Name, n, f.ContentLength)
	}
	if err != nil {
		w.Abort()
		return fmt.Errorf("writing %s failed: %s", dst, strings.TrimSpace(err.Error()))
	}
	if err := w.Commit(); err != nil {
		return fmt.Errorf("writing %s failed: %w", dst, err)
	}
	return nil
}

package readset

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/seqstore/seqstore"
	"github.com/seqstore/seqstore/internal/blob"
	"github.com/seqstore/seqstore/internal/meta"
)

// The read-set life cycle after ingestion: a read set unread for
// Service.ArchiveAfter moves, by an archive job's item, from the active
// object store to the archive tier (Service.Archive), and an activation job
// brings it back. Both moves copy every file, check the copy against the
// bytes read, and only then change the read set's status and remove the
// source copy, so a crash at any point leaves the read set readable from
// the tier its status names, and a move done again after a crash finishes
// it. Files keep their names, lengths and part sizes, so ETags, counts and
// parts are those of the first ingestion.

// Limits of the life cycle.
const (
	// MaxActivationReadSets is the most read sets one activation job takes.
	MaxActivationReadSets = 20
	// TouchInterval is how stale a read set's LastReadAt may get before a
	// read records it again: reads of a busy read set cost no write each.
	TouchInterval = time.Hour
	// archiveSweepBatch is the most idle read sets one sweep queues.
	archiveSweepBatch = 500
)

// NoActivationNeeded is the statusMessage of an activation item whose read
// set is ACTIVE or being activated already, as AWS words it.
const NoActivationNeeded = "No activation needed as read set is already in ACTIVATING or ACTIVE state."

// lifecycleSpec is an archive or activation item's request.
type lifecycleSpec struct {
	ReadSetID string `json:"readSetId"`
}

// archivedError is what reading an archived read set's data answers.
func archivedError(id string) error {
	return seqstore.Errorf(seqstore.CodeConflict,
		"read set %s is ARCHIVED; start an activation job (StartReadSetActivationJob) and read it once the read set is ACTIVE", id)
}

// touch records a read of rs's data, at most once per TouchInterval.
// Failing to record it is logged, not returned: the read itself went well.
func (s *Service) touch(ctx context.Context, rs *seqstore.ReadSet) {
	now := s.now()
	if now.Sub(rs.LastReadAt) < TouchInterval {
		return
	}
	if err := s.Meta.ReadSetTouch(ctx, rs.AccountID, rs.StoreID, rs.ID, now); err != nil && !errors.Is(err, meta.ErrNotFound) {
		s.Log.WarnContext(ctx, "could not record when a read set was read", "readSet", rs.ID, "err", err)
	}
}

// StartActivation queues the activation of 1..MaxActivationReadSets read
// sets of a store; each must exist. Whether it needs activating is judged
// when its item runs.
func (s *Service) StartActivation(ctx context.Context, account, storeID string, readSetIDs []string) (*seqstore.Job, error) {
	if _, err := s.store(ctx, account, storeID); err != nil {
		return nil, err
	}
	if len(readSetIDs) == 0 || len(readSetIDs) > MaxActivationReadSets {
		return nil, seqstore.Errorf(seqstore.CodeValidation, "an activation job takes 1 to %d read sets, not %d", MaxActivationReadSets, len(readSetIDs))
	}
	now := s.now()
	j := &seqstore.Job{AccountID: account, StoreID: storeID, Kind: seqstore.JobKindReadSetActivation,
		Status: seqstore.JobStatusSubmitted, CreatedAt: now}
	seen := map[string]bool{}
	for i, id := range readSetIDs {
		if seen[id] {
			return nil, seqstore.Errorf(seqstore.CodeValidation, "sources[%d]: read set %s is listed twice", i, id)
		}
		seen[id] = true
		if _, err := s.Get(ctx, account, storeID, id); err != nil {
			return nil, seqstore.Prefix(fmt.Sprintf("sources[%d]", i), err)
		}
		j.Items = append(j.Items, lifecycleItem(i, id, now))
	}
	if err := s.createJob(ctx, j); err != nil {
		return nil, err
	}
	s.Log.InfoContext(ctx, "activation job started", "account", account, "store", storeID, "job", j.ID, "readSets", len(readSetIDs))
	return j, nil
}

func lifecycleItem(index int, readSetID string, now time.Time) seqstore.JobItem {
	spec, _ := json.Marshal(lifecycleSpec{ReadSetID: readSetID})
	return seqstore.JobItem{Index: index, Status: seqstore.JobItemStatusNotStarted, Spec: spec, ReadSetID: readSetID, UpdatedAt: now}
}

// GetActivation returns an activation job with each read set's status.
func (s *Service) GetActivation(ctx context.Context, account, storeID, id string) (*seqstore.Job, error) {
	return s.job(ctx, account, storeID, seqstore.JobKindReadSetActivation, id)
}

// ListActivations lists a store's activation jobs.
func (s *Service) ListActivations(ctx context.Context, account, storeID string, f meta.JobFilter, p meta.Page) ([]*seqstore.Job, string, error) {
	return s.listJobs(ctx, account, storeID, seqstore.JobKindReadSetActivation, f, p)
}

// SweepArchive queues an archive job per store for the ACTIVE read sets
// unread for ArchiveAfter, and returns how many it queued. Any node may
// sweep: each read set is moved by one job item at a time under its lease,
// and an item that finds its read set archived already, or read since,
// leaves it be. A store with an archive job still open is left for that
// job, so sweeps do not pile jobs up.
func (s *Service) SweepArchive(ctx context.Context) (int, error) {
	if s.Archive == nil || s.ArchiveAfter <= 0 {
		return 0, nil
	}
	now := s.now()
	idle, err := s.Meta.ReadSetsIdle(ctx, now.Add(-s.ArchiveAfter), archiveSweepBatch)
	if err != nil {
		return 0, err
	}
	type storeKey struct{ account, store string }
	byStore := map[storeKey][]string{}
	var order []storeKey
	for _, rs := range idle {
		k := storeKey{rs.AccountID, rs.StoreID}
		if byStore[k] == nil {
			order = append(order, k)
		}
		byStore[k] = append(byStore[k], rs.ID)
	}
	queued := 0
	for _, k := range order {
		open, err := s.archiveJobOpen(ctx, k.account, k.store)
		if err != nil {
			return queued, err
		}
		if open {
			continue
		}
		j := &seqstore.Job{AccountID: k.account, StoreID: k.store, Kind: seqstore.JobKindReadSetArchive,
			Status: seqstore.JobStatusSubmitted, CreatedAt: now}
		for i, id := range byStore[k] {
			j.Items = append(j.Items, lifecycleItem(i, id, now))
		}
		if err := s.createJob(ctx, j); err != nil {
			if se := (*seqstore.Error)(nil); errors.As(err, &se) && se.Code == seqstore.CodeNotFound {
				continue // the store went meanwhile
			}
			return queued, err
		}
		queued += len(j.Items)
		s.Log.InfoContext(ctx, "archiving read sets unread for the archive period", "account", k.account, "store", k.store,
			"job", j.ID, "readSets", len(j.Items), "archiveAfter", s.ArchiveAfter)
	}
	return queued, nil
}

// archiveJobOpen reports whether a store has an archive job not yet ended.
func (s *Service) archiveJobOpen(ctx context.Context, account, storeID string) (bool, error) {
	for _, status := range []string{seqstore.JobStatusSubmitted, seqstore.JobStatusInProgress} {
		jobs, _, err := s.Meta.JobList(ctx, account, storeID, seqstore.JobKindReadSetArchive, meta.JobFilter{Status: status}, meta.Page{Limit: 1})
		if err != nil || len(jobs) > 0 {
			return len(jobs) > 0, err
		}
	}
	return false, nil
}

// RunArchiveSweeps sweeps every interval until ctx ends.
func (s *Service) RunArchiveSweeps(ctx context.Context, interval time.Duration) {
	s.runEvery(ctx, interval, "the archive sweep", func(ctx context.Context) error {
		_, err := s.SweepArchive(ctx)
		return err
	})
}

// ArchiveHandler does the items of archive jobs: each moves one read set's
// files to the archive tier.
type ArchiveHandler struct{ *Service }

// Do archives one read set if it is still ACTIVE and unread.
func (h ArchiveHandler) Do(ctx context.Context, job *seqstore.Job, item *seqstore.JobItem) error {
	if h.Archive == nil {
		return errors.New("this server has no archive tier")
	}
	rs, err := h.Meta.ReadSetGet(ctx, job.AccountID, job.StoreID, item.ReadSetID)
	if errors.Is(err, meta.ErrNotFound) {
		item.StatusMessage = "the read set was deleted"
		return nil
	}
	if err != nil {
		return err
	}
	switch {
	case rs.Status == seqstore.ReadSetStatusArchived:
		// Archived by an earlier run of this item, which may have stopped
		// before removing the active copy.
		h.deleteFilesIn(ctx, h.Blobs, rs.Files)
		item.StatusMessage = "archived"
		return nil
	case rs.Status != seqstore.ReadSetStatusActive:
		item.StatusMessage = fmt.Sprintf("left as it is: the read set is %s", rs.Status)
		return nil
	case h.now().Sub(rs.LastReadAt) < h.ArchiveAfter:
		item.StatusMessage = "left as it is: the read set was read since the sweep"
		return nil
	}
	h.Log.InfoContext(ctx, "archiving read set", "account", rs.AccountID, "store", rs.StoreID, "readSet", rs.ID, "bytes", filesSize(rs.Files))
	for _, f := range rs.Files {
		if err := copyVerified(ctx, h.Blobs, f.Key, h.Archive, f.Key, f.ContentLength); err != nil {
			return fmt.Errorf("copying %s to the archive tier failed: %w", f.Name, err)
		}
	}
	next := *rs
	next.Status = seqstore.ReadSetStatusArchived
	next.UpdatedAt = h.now()
	if err := h.Meta.ReadSetUpdate(ctx, &next, seqstore.ReadSetStatusActive); err != nil {
		if errors.Is(err, meta.ErrConflict) || errors.Is(err, meta.ErrNotFound) {
			// Archived by another run of the item (its copies are these
			// very objects: leave them), or deleted meanwhile, perhaps
			// before these copies were made: remove them.
			if h.readSetGone(ctx, rs) {
				h.deleteFilesIn(ctx, h.Archive, rs.Files)
			}
			item.StatusMessage = "left as it is: the read set changed while being archived"
			return nil
		}
		return err
	}
	h.deleteFilesIn(ctx, h.Blobs, rs.Files)
	h.Log.InfoContext(ctx, "read set archived", "account", rs.AccountID, "store", rs.StoreID, "readSet", rs.ID,
		"files", len(rs.Files), "lastRead", rs.LastReadAt)
	item.StatusMessage = "archived"
	return nil
}

// ActivationHandler does the items of activation jobs: each brings one
// archived read set's files back to the active store.
type ActivationHandler struct{ *Service }

// Do activates one read set. The read set is ACTIVATING, naming this job,
// while its files are copied back, so a run of this item done again after
// a crash resumes it, and any other job finds nothing to do.
func (h ActivationHandler) Do(ctx context.Context, job *seqstore.Job, item *seqstore.JobItem) (err error) {
	defer func() { err = itemError(err) }()
	rs, err := h.Get(ctx, job.AccountID, job.StoreID, item.ReadSetID)
	if err != nil {
		return err
	}
	switch rs.Status {
	case seqstore.ReadSetStatusActive:
		item.StatusMessage = NoActivationNeeded
		return nil
	case seqstore.ReadSetStatusActivating:
		if rs.ActivationJobID != job.ID {
			owner, err := h.Meta.JobGet(ctx, job.AccountID, job.StoreID, seqstore.JobKindReadSetActivation, rs.ActivationJobID)
			if err == nil && !seqstore.JobStatusTerminal(owner.Status) {
				item.StatusMessage = NoActivationNeeded
				return nil
			}
			// The job that began it ended without finishing: take it over.
			if err := h.claimActivation(ctx, rs, job.ID, seqstore.ReadSetStatusActivating); err != nil {
				return err
			}
		}
	case seqstore.ReadSetStatusArchived:
		if h.Archive == nil {
			return errors.New("this server has no archive tier to activate from; start it with the -archive-objects it archived to")
		}
		if err := h.claimActivation(ctx, rs, job.ID, seqstore.ReadSetStatusArchived); err != nil {
			return err
		}
	default:
		return fmt.Errorf("read set %s is %s; only ARCHIVED read sets can be activated", rs.ID, rs.Status)
	}
	files := activatedFiles(rs, job.ID)
	h.Log.InfoContext(ctx, "activating read set", "account", rs.AccountID, "store", rs.StoreID, "readSet", rs.ID, "job", job.ID, "bytes", filesSize(rs.Files))
	for i, f := range rs.Files {
		if err := copyVerified(ctx, h.Archive, f.Key, h.Blobs, files[i].Key, f.ContentLength); err != nil {
			return fmt.Errorf("copying %s back from the archive tier failed: %w", f.Name, err)
		}
	}
	// Activation counts as a read, recorded before the read set is ACTIVE
	// so that no archive item finds it ACTIVE and unread: it stays active
	// a whole archive period before the next sweep takes it.
	now := h.now()
	if err := h.Meta.ReadSetTouch(ctx, rs.AccountID, rs.StoreID, rs.ID, now); err != nil && !errors.Is(err, meta.ErrNotFound) {
		return err
	}
	next := *rs
	next.Status, next.ActivationJobID, next.Files, next.UpdatedAt = seqstore.ReadSetStatusActive, "", files, now
	if err := h.Meta.ReadSetUpdate(ctx, &next, seqstore.ReadSetStatusActivating); err != nil {
		if errors.Is(err, meta.ErrConflict) || errors.Is(err, meta.ErrNotFound) {
			// Another run of this item may have finished it with these
			// very copies: remove them only if the read set is gone.
			if h.readSetGone(ctx, rs) {
				h.deleteFilesIn(ctx, h.Blobs, files)
				return fmt.Errorf("read set %s was deleted while being activated", rs.ID)
			}
			return fmt.Errorf("read set %s changed status while being activated; see its status", rs.ID)
		}
		return err
	}
	h.deleteFilesIn(ctx, h.Archive, rs.Files)
	h.Log.InfoContext(ctx, "read set activated", "account", rs.AccountID, "store", rs.StoreID, "readSet", rs.ID, "job", job.ID)
	return nil
}

// filesSize is how many bytes files hold.
func filesSize(files []seqstore.StoredFile) int64 {
	var n int64
	for _, f := range files {
		n += f.ContentLength
	}
	return n
}

// readSetGone reports whether rs was deleted or is being deleted, so that
// copies a move made of it are nobody's. On an error reading it, it says
// no: a copy left behind costs bytes, one removed wrongly costs data.
func (s *Service) readSetGone(ctx context.Context, rs *seqstore.ReadSet) bool {
	now, err := s.Meta.ReadSetGet(ctx, rs.AccountID, rs.StoreID, rs.ID)
	if errors.Is(err, meta.ErrNotFound) {
		return true
	}
	return err == nil && (now.Status == seqstore.ReadSetStatusDeleting || now.Status == seqstore.ReadSetStatusDeleted)
}

// claimActivation marks rs ACTIVATING by job, provided it is still in from.
func (h ActivationHandler) claimActivation(ctx context.Context, rs *seqstore.ReadSet, jobID, from string) error {
	next := *rs
	next.Status, next.ActivationJobID, next.UpdatedAt = seqstore.ReadSetStatusActivating, jobID, h.now()
	err := h.Meta.ReadSetUpdate(ctx, &next, from)
	if errors.Is(err, meta.ErrConflict) {
		return fmt.Errorf("read set %s changed status while its activation began; start the activation again", rs.ID)
	}
	if err == nil {
		*rs = next
	}
	return err
}

// activatedFiles are rs's files as an activation by job puts them back.
func activatedFiles(rs *seqstore.ReadSet, jobID string) []seqstore.StoredFile {
	files := make([]seqstore.StoredFile, len(rs.Files))
	for i, f := range rs.Files {
		files[i] = f
		files[i].Key = activatedKey(rs, jobID, f.Name)
	}
	return files
}

// activatedKey is where an activation by job puts a read set's file back:
// a key of its own, so no archive item done late (which removes the
// pre-archive keys) can remove it. Like every key it starts
// readsets/ACCOUNT/STORE/.
func activatedKey(rs *seqstore.ReadSet, jobID, name string) string {
	return fmt.Sprintf("readsets/%s/%s/%s/%s/%s", rs.AccountID, rs.StoreID, rs.ID, jobID, name)
}

// copyVerified copies key from one store to another and checks the copy:
// the source must have length bytes, and the copy, read back, the same
// length and SHA-256. Memory stays flat whatever the size.
func copyVerified(ctx context.Context, from blob.Store, fromKey string, to blob.Store, toKey string, length int64) error {
	r, err := from.NewRangeReader(ctx, fromKey, 0, -1)
	if err != nil {
		return err
	}
	defer r.Close()
	w, err := to.NewWriter(ctx, toKey)
	if err != nil {
		return err
	}
	defer w.Abort()
	h := sha256.New()
	n, err := io.Copy(w, io.TeeReader(r, h))
	if err != nil {
		return err
	}
	if n != length {
		return fmt.Errorf("the stored file has %d bytes, not the %d recorded", n, length)
	}
	if err := w.Close(); err != nil {
		return err
	}
	want := h.Sum(nil)
	back, err := to.NewRangeReader(ctx, toKey, 0, -1)
	if err != nil {
		return fmt.Errorf("reading the copy back: %w", err)
	}
	defer back.Close()
	h.Reset()
	if n, err = io.Copy(h, back); err != nil {
		return fmt.Errorf("reading the copy back: %w", err)
	}
	if n != length || string(h.Sum(nil)) != string(want) {
		return errors.New("the copy read back differs from the original")
	}
	return nil
}

// deleteCopies removes rs's files from every tier, wherever a move cut
// short may have left a copy: under their keys in both tiers, under the keys
// ingestion gave them (an activation that stopped before removing the
// archive copy), and under the keys of an activation under way.
func (s *Service) deleteCopies(ctx context.Context, rs *seqstore.ReadSet) {
	copies := slices.Clone(rs.Files)
	for _, f := range rs.Files {
		if k := fileKey(rs, f.Name); k != f.Key {
			copies = append(copies, seqstore.StoredFile{Name: f.Name, Key: k})
		}
	}
	if rs.ActivationJobID != "" {
		copies = append(copies, activatedFiles(rs, rs.ActivationJobID)...)
	}
	s.deleteFilesIn(ctx, s.Blobs, copies)
	if s.Archive != nil {
		s.deleteFilesIn(ctx, s.Archive, copies)
	}
}

// deleteFilesIn removes files from one tier, logging what it could not.
func (s *Service) deleteFilesIn(ctx context.Context, store blob.Store, files []seqstore.StoredFile) {
	for _, f := range files {
		if err := store.Delete(ctx, f.Key); err != nil {
			s.Log.WarnContext(ctx, "could not delete a stored file", "key", f.Key, "err", err)
		}
	}
}

package readset

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/seqstore/seqstore"
	"github.com/seqstore/seqstore/internal/analyze"
	"github.com/seqstore/seqstore/internal/etag"
	"github.com/seqstore/seqstore/internal/format/panics"
	"github.com/seqstore/seqstore/internal/meta"
)

// source is one file of a read set as ingestion reads it: an upload's
// parts back to back, or an object an import job streams in.
type source struct {
	kind string // SOURCE1 or SOURCE2
	// name is the file name the stored copy gets.
	name string
	r    io.ReadCloser
}

// Ingest reads a read set's uploaded parts once, stores its files, and
// records the outcome. It is safe to run again on the same read set: stored
// files are overwritten whole and the status moves only from
// PROCESSING_UPLOAD. A panic on the way fails the read set, not the
// process. The parts are deleted once the outcome is recorded.
func (s *Service) Ingest(ctx context.Context, rs *seqstore.ReadSet) {
	log := s.Log.With("account", rs.AccountID, "store", rs.StoreID, "readSet", rs.ID, "fileType", rs.FileType)
	parts, err := s.sourceParts(ctx, rs)
	if err != nil {
		log.Error("ingest: listing parts failed", "err", err)
		return
	}
	var uploaded int64
	bySource := map[string][]*seqstore.UploadPart{}
	for _, p := range parts {
		uploaded += p.Size
		bySource[p.Source] = append(bySource[p.Source], p)
	}
	base := fileBaseName(rs)
	var sources []source
	for i, kind := range []string{seqstore.FileSource1, seqstore.FileSource2} {
		if len(bySource[kind]) == 0 {
			continue
		}
		name := base + ".bam"
		switch rs.FileType {
		case seqstore.FileTypeFASTQ:
			name = fmt.Sprintf("%s_source%d.fastq.gz", base, i+1)
		case seqstore.FileTypeCRAM:
			name = base + ".cram"
		}
		sources = append(sources, source{kind: kind, name: name, r: &partsReader{ctx: ctx, blobs: s.Blobs, parts: bySource[kind]}})
	}
	_, err = s.ingestSources(ctx, log, rs, sources, uploaded)
	if err != nil && !s.settled(context.WithoutCancel(ctx), rs) {
		return
	}
	// The read set no longer needs its parts, whether or not this node
	// goes on: a shutdown now must not leave them behind for good.
	s.deleteParts(context.WithoutCancel(ctx), rs.UploadID)
}

// settled reports whether rs has left PROCESSING_UPLOAD, so that its parts
// are no longer needed whatever error its ingestion ended with: an outcome
// recorded just before the lease was lost, or by another node. Nobody
// claims a settled read set again, so its parts would otherwise stay for
// good.
func (s *Service) settled(ctx context.Context, rs *seqstore.ReadSet) bool {
	cur, err := s.Meta.ReadSetGet(ctx, rs.AccountID, rs.StoreID, rs.ID)
	return err == nil && cur.Status != seqstore.ReadSetStatusProcessingUpload
}

// ingestSources analyses a read set's sources, stores its files and records
// the outcome with the read set: ACTIVE with its counts, ETags and files,
// or UPLOAD_FAILED with a statusMessage, which it returns. It closes every
// source. expected is how many bytes the sources hold, for progress lines
// (0 if unknown).
//
// An error means that no outcome was recorded: ingestion was interrupted
// (ctx ended: a shutdown or a lost lease) or the read set left
// PROCESSING_UPLOAD meanwhile. Whoever runs it again starts afresh.
func (s *Service) ingestSources(ctx context.Context, log *slog.Logger, rs *seqstore.ReadSet, sources []source, expected int64) (failure string, err error) {
	// A panic outside the analysis (which returns its own as errors)
	// fails the read set too, not the process.
	defer func() {
		var pe *panics.Error
		if errors.As(err, &pe) {
			failure = failureMessage(log, err)
			if err = s.fail(ctx, log, rs, failure); err != nil {
				failure = ""
			}
		}
	}()
	defer panics.Recover(&err)
	start := time.Now()
	log.Info("ingesting read set", "bytes", expected)
	read := &atomic.Int64{}
	for i := range sources {
		sources[i].r = &countingReader{r: sources[i].r, n: read}
	}
	st, err := s.Meta.SequenceStoreGet(ctx, rs.AccountID, rs.StoreID)
	if err != nil {
		closeSources(sources)
		log.Error("ingest: store lookup failed", "err", err)
		return "", err
	}
	family, err := etag.ParseFamily(st.ETagAlgorithmFamily)
	if err != nil {
		family = etag.MD5up
	}
	records := &atomic.Int64{}
	stopProgress := s.watchProgress(ctx, log, "ingest progress", read, records, expected)
	files, result, err := s.analyzeAndStore(analyze.WithRecordCounter(ctx, records), rs, sources, family)
	stopProgress()
	if ctx.Err() != nil {
		// Shutting down or lost the lease: leave the read set as it is
		// for whoever claims it next.
		log.Info("ingest interrupted; it will start again", "err", ctx.Err())
		return "", ctx.Err()
	}
	if err != nil {
		failure = failureMessage(log, err)
		if rerr := s.fail(ctx, log, rs, failure); rerr != nil {
			return "", rerr
		}
		return failure, nil
	}
	next := *rs
	next.UpdatedAt = s.now()
	next.Status = seqstore.ReadSetStatusActive
	next.StatusMessage = ""
	next.SourceParts = nil
	next.Files = files
	next.SequenceInformation = &seqstore.SequenceInformation{
		TotalReadCount: result.ReadCount,
		TotalBaseCount: result.BaseCount,
		GeneratedFrom:  rs.GeneratedFrom,
		Alignment:      result.Alignment,
	}
	sums := result.ETags[family]
	next.ETag = &seqstore.ETag{Algorithm: family.Algorithm(rs.FileType)}
	if len(sums) > 0 {
		next.ETag.Source1 = sums[0]
	}
	if len(sums) > 1 {
		next.ETag.Source2 = sums[1]
	}
	// Stored before the read set becomes ACTIVE, so that every ACTIVE
	// read set has its report.
	if err := s.storeQC(ctx, rs, files, result.QC); err != nil {
		log.Warn("ingest finished but its QC report could not be stored", "err", err)
		if errors.Is(err, meta.ErrNotFound) {
			// Deleted while we worked: the files belong to nobody.
			s.deleteFiles(context.WithoutCancel(ctx), files)
		}
		return "", err
	}
	// The outcome is known: it is recorded even if the lease is lost now,
	// since the update holds only while the read set is PROCESSING_UPLOAD.
	// Cancelled midway, an update may be applied yet answer the
	// cancellation, and the parts would never be deleted.
	if err := s.Meta.ReadSetUpdate(context.WithoutCancel(ctx), &next, seqstore.ReadSetStatusProcessingUpload); err != nil {
		// Deleted while we worked (or another node finished first): the
		// files we wrote belong to nobody.
		log.Warn("ingest finished but the read set moved on; discarding its files", "err", err)
		if errors.Is(err, meta.ErrConflict) || errors.Is(err, meta.ErrNotFound) {
			cur, gerr := s.Meta.ReadSetGet(context.WithoutCancel(ctx), rs.AccountID, rs.StoreID, rs.ID)
			if gerr != nil || cur.Status != seqstore.ReadSetStatusActive {
				s.deleteFiles(context.WithoutCancel(ctx), files)
			}
		}
		return "", err
	}
	log.Info("read set active", "reads", result.ReadCount, "bases", result.BaseCount, "readBytes", read.Load(), "storedBytes", filesSize(files), "elapsed", time.Since(start))
	for i, b := range result.Sources {
		log.Info("read set source", "source", i+1, "compressedBytes", b.Compressed, "decompressedBytes", b.Decompressed, "ratio", fmt.Sprintf("%.2f", b.Ratio()))
	}
	return "", nil
}

// failureMessage is the statusMessage of a read set whose analysis or
// storing failed with err: the analysis's own words for a bad file, an
// internal-error message for a panic, and for anything else (the object
// store failing) what happened and what to do.
func failureMessage(log *slog.Logger, err error) string {
	var ae *analyze.Error
	var pe *panics.Error
	switch {
	case errors.As(err, &pe):
		log.Error("ingest panicked; failing the read set", "panic", pe.Value, "stack", string(pe.Stack))
		return internalErrorMessage(pe.Value)
	case errors.As(err, &ae):
		return ae.Error()
	default:
		log.Error("ingest failed", "err", err)
		return "seqstore could not store the read set: " + err.Error() + "; upload it again"
	}
}

// sourceParts returns the parts to ingest: those frozen with the read set
// when its upload was completed, or, for a read set completed before parts
// were frozen, the upload's parts as they are now.
func (s *Service) sourceParts(ctx context.Context, rs *seqstore.ReadSet) ([]*seqstore.UploadPart, error) {
	if len(rs.SourceParts) == 0 {
		return s.Meta.UploadPartsAll(ctx, rs.UploadID)
	}
	parts := make([]*seqstore.UploadPart, len(rs.SourceParts))
	for i := range rs.SourceParts {
		parts[i] = &rs.SourceParts[i]
	}
	return parts, nil
}

// fail records that a read set cannot be ingested, with message as its
// statusMessage.
func (s *Service) fail(ctx context.Context, log *slog.Logger, rs *seqstore.ReadSet, message string) error {
	next := *rs
	next.UpdatedAt = s.now()
	next.Status = seqstore.ReadSetStatusUploadFailed
	next.StatusMessage = truncate(message, 255)
	next.SourceParts = nil
	if err := s.Meta.ReadSetUpdate(context.WithoutCancel(ctx), &next, seqstore.ReadSetStatusProcessingUpload); err != nil {
		log.Error("ingest: recording the failure failed", "err", err)
		return err
	}
	log.Warn("read set failed ingestion", "statusMessage", next.StatusMessage)
	return nil
}

// internalErrorMessage is the statusMessage of a read set whose ingestion
// panicked: a fault of seqstore, not necessarily of the file.
func internalErrorMessage(p any) string {
	return fmt.Sprintf("seqstore failed on an internal error while reading this upload (%v); upload it again, and report it with the file if it fails again", p)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n-3] + "..."
}

// countingReader adds the bytes read to n, for progress lines.
type countingReader struct {
	r io.ReadCloser
	n *atomic.Int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}

func (c *countingReader) Close() error { return c.r.Close() }

func closeSources(sources []source) {
	for _, src := range sources {
		src.r.Close()
	}
}

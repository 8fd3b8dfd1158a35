package readset

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/seqstore/seqstore"
	"github.com/seqstore/seqstore/internal/analyze"
	"github.com/seqstore/seqstore/internal/blob"
	"github.com/seqstore/seqstore/internal/etag"
	"github.com/seqstore/seqstore/internal/format/panics"
	"github.com/seqstore/seqstore/internal/meta"
)

// Ingester turns read sets in PROCESSING_UPLOAD into ACTIVE or UPLOAD_FAILED
// ones. Any number of ingesters, on any number of nodes, may share one
// metadata store: each read set is leased to one of them at a time, and a
// lease that is not renewed (its node died) lets another pick the read set
// up and start again from the parts, which stay until ingestion ends.
type Ingester struct {
	*Service
	// Owner names this ingester in leases (host and process).
	Owner string
	// Lease is how long a claim holds without renewal.
	Lease time.Duration
	// Poll is how often to look for work when not woken.
	Poll time.Duration
	// Workers is how many read sets are ingested at once.
	Workers int
	// MaxAttempts is how many times a read set's ingestion may be started
	// and abandoned (its node crashed, hung or was killed) before the read
	// set fails instead of being claimed again: an upload that brings down
	// its node would otherwise bring it down at every restart.
	MaxAttempts int

	wake chan struct{}
	once sync.Once
}

func (in *Ingester) init() {
	in.once.Do(func() {
		in.wake = make(chan struct{}, 1)
		if in.Lease == 0 {
			in.Lease = time.Minute
		}
		if in.Poll == 0 {
			in.Poll = 2 * time.Second
		}
		if in.Workers == 0 {
			in.Workers = 1
		}
		if in.MaxAttempts == 0 {
			in.MaxAttempts = DefaultIngestAttempts
		}
		if in.Owner == "" {
			host, _ := os.Hostname()
			in.Owner = fmt.Sprintf("%s/%d", host, os.Getpid())
		}
	})
}

// DefaultIngestAttempts is Ingester.MaxAttempts unless set.
const DefaultIngestAttempts = 3

// Wake tells the ingester that work may be waiting.
func (in *Ingester) Wake() {
	in.init()
	select {
	case in.wake <- struct{}{}:
	default:
	}
}

// Run ingests until ctx ends. A read set being ingested when ctx ends is left
// in PROCESSING_UPLOAD for the next start (or another node) to redo.
func (in *Ingester) Run(ctx context.Context) {
	in.init()
	var wg sync.WaitGroup
	for range in.Workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			in.loop(ctx)
		}()
	}
	wg.Wait()
}

func (in *Ingester) loop(ctx context.Context) {
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-in.wake:
		case <-timer.C:
		}
		for ctx.Err() == nil {
			now := in.now()
			rs, attempt, err := in.Meta.IngestClaim(ctx, in.Owner, now, now.Add(in.Lease))
			if errors.Is(err, meta.ErrNotFound) {
				break
			}
			if err != nil {
				if ctx.Err() == nil {
					in.Log.Error("could not claim a read set to ingest", "err", err)
				}
				break
			}
			if attempt > in.MaxAttempts {
				in.giveUp(ctx, rs, attempt-1)
				continue
			}
			in.ingestLeased(ctx, rs, attempt)
		}
		timer.Reset(in.Poll)
	}
}

// giveUp fails a read set whose ingestion was started and abandoned more
// often than MaxAttempts allows.
func (in *Ingester) giveUp(ctx context.Context, rs *seqstore.ReadSet, abandoned int) {
	log := in.Log.With("account", rs.AccountID, "store", rs.StoreID, "readSet", rs.ID, "fileType", rs.FileType)
	log.Error("ingestion was abandoned too often; failing the read set", "attempts", abandoned, "maxAttempts", in.MaxAttempts)
	in.fail(ctx, log, rs, fmt.Sprintf("ingestion was started %d times and never finished: the server stopped or crashed while reading this upload each time; "+
		"check the file, upload it again, and report it if it fails again", abandoned))
}

// ingestLeased ingests a claimed read set while renewing its lease. A
// shutdown midway gives the lease, and the attempt, back at once, so the
// next start (or another node) need not wait for it to run out.
func (in *Ingester) ingestLeased(parent context.Context, rs *seqstore.ReadSet, attempt int) {
	ctx, cancel := context.WithCancel(parent)
	defer cancel()
	defer func() {
		if parent.Err() != nil {
			in.Meta.IngestRelease(context.WithoutCancel(parent), rs.AccountID, rs.StoreID, rs.ID, in.Owner)
		}
	}()
	go func() {
		if err := in.renewLease(ctx, cancel, rs); err != nil {
			// A panic renewing, in the metadata store: stop as if the
			// lease were lost rather than end the process.
			var pe *panics.Error
			errors.As(err, &pe)
			in.Log.Error("renewing the ingest lease panicked; stopping", "readSet", rs.ID, "panic", pe.Value, "stack", string(pe.Stack))
			cancel()
		}
	}()
	in.Log.Debug("claimed a read set to ingest", "readSet", rs.ID, "attempt", attempt)
	in.Ingest(ctx, rs)
}

// renewLease renews rs's lease until ctx ends, and cancels ctx when the
// lease is lost. It returns only a panic.
func (in *Ingester) renewLease(ctx context.Context, cancel context.CancelFunc, rs *seqstore.ReadSet) (err error) {
	defer panics.Recover(&err)
	t := time.NewTicker(in.Lease / 3)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
			if err := in.Meta.IngestRenew(ctx, rs.AccountID, rs.StoreID, rs.ID, in.Owner, in.now().Add(in.Lease)); err != nil {
				if ctx.Err() == nil {
					in.Log.Warn("lost the ingest lease; stopping", "readSet", rs.ID, "err", err)
				}
				cancel()
				return nil
			}
		}
	}
}

// Ingest reads a read set's uploaded parts once, stores its files, and
// records the outcome. It is safe to run again on the same read set: stored
// files are overwritten whole and the status moves only from
// PROCESSING_UPLOAD. A panic on the way fails the read set, not the
// process.
func (s *Service) Ingest(ctx context.Context, rs *seqstore.ReadSet) {
	log := s.Log.With("account", rs.AccountID, "store", rs.StoreID, "readSet", rs.ID, "fileType", rs.FileType)
	if err := s.ingest(ctx, log, rs); err != nil {
		s.failInternal(context.WithoutCancel(ctx), log, rs, err)
	}
}

// ingest is Ingest; it returns only a panic, of its own goroutine or of
// the analysis, for Ingest to fail the read set with; any other outcome is
// recorded with the read set.
func (s *Service) ingest(ctx context.Context, log *slog.Logger, rs *seqstore.ReadSet) (err error) {
	defer panics.Recover(&err)
	start := time.Now()
	log.Info("ingesting read set")
	st, err := s.Meta.SequenceStoreGet(ctx, rs.AccountID, rs.StoreID)
	if err != nil {
		log.Error("ingest: store lookup failed", "err", err)
		return nil
	}
	family, err := etag.ParseFamily(st.ETagAlgorithmFamily)
	if err != nil {
		family = etag.MD5up
	}
	parts, err := s.sourceParts(ctx, rs)
	if err != nil {
		log.Error("ingest: listing parts failed", "err", err)
		return nil
	}
	var uploaded int64
	for _, p := range parts {
		uploaded += p.Size
	}
	read := &atomic.Int64{}
	stopProgress := s.watchProgress(ctx, log, read, uploaded)
	files, result, err := s.analyzeAndStore(ctx, rs, parts, family, read)
	stopProgress()
	if ctx.Err() != nil {
		// Shutting down or lost the lease: leave the read set as it is
		// for whoever claims it next.
		log.Info("ingest interrupted; it will start again", "err", ctx.Err())
		return nil
	}
	if err != nil {
		var ae *analyze.Error
		var pe *panics.Error
		switch {
		case errors.As(err, &pe):
			return err
		case errors.As(err, &ae):
			s.fail(ctx, log, rs, ae.Error())
		default:
			log.Error("ingest failed", "err", err)
			s.fail(ctx, log, rs, "seqstore could not store the read set: "+err.Error()+"; upload it again")
		}
		return nil
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
	if err := s.Meta.ReadSetUpdate(ctx, &next, seqstore.ReadSetStatusProcessingUpload); err != nil {
		// Deleted while we worked (or another node finished first): the
		// files we wrote belong to nobody.
		log.Warn("ingest finished but the read set moved on; discarding its files", "err", err)
		if errors.Is(err, meta.ErrConflict) || errors.Is(err, meta.ErrNotFound) {
			cur, gerr := s.Meta.ReadSetGet(ctx, rs.AccountID, rs.StoreID, rs.ID)
			if gerr != nil || cur.Status != seqstore.ReadSetStatusActive {
				s.deleteFiles(context.WithoutCancel(ctx), files)
			}
		}
		return nil
	}
	// The read set no longer needs its parts, whether or not this node
	// goes on: a shutdown now must not leave them behind for good.
	s.deleteParts(context.WithoutCancel(ctx), rs.UploadID)
	var size int64
	for _, f := range files {
		size += f.ContentLength
	}
	log.Info("read set active", "reads", result.ReadCount, "bases", result.BaseCount, "uploadedBytes", uploaded, "storedBytes", size, "elapsed", time.Since(start))
	for i, b := range result.Sources {
		log.Info("read set source", "source", i+1, "compressedBytes", b.Compressed, "decompressedBytes", b.Decompressed, "ratio", fmt.Sprintf("%.2f", b.Ratio()))
	}
	return nil
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
// statusMessage, and deletes its parts.
func (s *Service) fail(ctx context.Context, log *slog.Logger, rs *seqstore.ReadSet, message string) {
	next := *rs
	next.UpdatedAt = s.now()
	next.Status = seqstore.ReadSetStatusUploadFailed
	next.StatusMessage = truncate(message, 255)
	next.SourceParts = nil
	if err := s.Meta.ReadSetUpdate(ctx, &next, seqstore.ReadSetStatusProcessingUpload); err != nil {
		log.Error("ingest: recording the failure failed", "err", err)
		return
	}
	s.deleteParts(context.WithoutCancel(ctx), rs.UploadID)
	log.Warn("read set failed ingestion", "statusMessage", next.StatusMessage)
}

// failInternal fails a read set whose ingestion panicked, logging the
// panic's stack with the read set; other errors get the same message.
func (s *Service) failInternal(ctx context.Context, log *slog.Logger, rs *seqstore.ReadSet, err error) {
	var value any = err
	var stack []byte
	var pe *panics.Error
	if errors.As(err, &pe) {
		value, stack = pe.Value, pe.Stack
	}
	log.Error("ingest panicked; failing the read set", "panic", value, "stack", string(stack))
	s.fail(ctx, log, rs, internalErrorMessage(value))
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

// partsReader reads a source's parts back to back, opening each when it is
// reached. Analysis may read it from a goroutine of its own that outlives
// an early error, so it is safe to close while a read runs: Close waits for
// the read, and reads after Close fail. A panic of the object store's
// reader is returned as an error.
type partsReader struct {
	ctx   context.Context
	blobs blob.Store
	// read, when set, counts the bytes returned, for progress lines.
	read *atomic.Int64

	mu     sync.Mutex
	parts  []*seqstore.UploadPart
	cur    io.ReadCloser
	closed bool
}

// errReadAfterClose ends reads of a source after ingestion stopped reading.
var errReadAfterClose = errors.New("read of an upload's parts after ingestion stopped")

func (r *partsReader) Read(p []byte) (n int, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	defer panics.Recover(&err)
	for {
		if r.closed {
			return 0, errReadAfterClose
		}
		if r.cur == nil {
			if len(r.parts) == 0 {
				return 0, io.EOF
			}
			rc, err := r.blobs.NewRangeReader(r.ctx, r.parts[0].Key, 0, -1)
			if err != nil {
				return 0, fmt.Errorf("open part %d: %w", r.parts[0].Number, err)
			}
			r.cur = rc
			r.parts = r.parts[1:]
		}
		n, err := r.cur.Read(p)
		if r.read != nil {
			r.read.Add(int64(n))
		}
		if err == io.EOF {
			r.cur.Close()
			r.cur = nil
			if n > 0 {
				return n, nil
			}
			continue
		}
		return n, err
	}
}

func (r *partsReader) Close() (err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	defer panics.Recover(&err)
	r.closed = true
	if r.cur != nil {
		err = r.cur.Close()
		r.cur = nil
	}
	return err
}

// storedCopy is the writer of one file ingestion stores, as analysis sees
// it. Analysis may write from goroutines of its own that outlive an early
// error, so a write after the file was aborted (or closed) fails instead of
// reaching a blob writer whose buffers are already released, and Abort
// waits for a write in progress. A panic of the object store's writer is
// returned as an error.
type storedCopy struct {
	mu    sync.Mutex
	w     blob.Writer
	n     int64
	ended bool
}

// errWriteAfterEnd refuses a write to a stored file already closed or
// aborted.
var errWriteAfterEnd = errors.New("write to a stored file after ingestion ended it")

func (c *storedCopy) Write(p []byte) (n int, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ended {
		return 0, errWriteAfterEnd
	}
	defer panics.Recover(&err)
	n, err = c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// written is how many bytes reached the file.
func (c *storedCopy) written() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n
}

// abort discards the file unless it already ended.
func (c *storedCopy) abort() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ended {
		return
	}
	c.ended = true
	c.w.Abort()
}

// close commits the file.
func (c *storedCopy) close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ended {
		return errWriteAfterEnd
	}
	c.ended = true
	return c.w.Close()
}

// fileKey is where a read set's file lives in the object store. Like every object key it
// starts KIND/ACCOUNT/STORE/, which the encryption policy relies on.
func fileKey(rs *seqstore.ReadSet, name string) string {
	return fmt.Sprintf("readsets/%s/%s/%s/%s", rs.AccountID, rs.StoreID, rs.ID, name)
}

// fileBaseName is the read set's name made safe for a file name, as AWS names
// direct-upload files {read_set_name}_{source}.fastq.gz or {name}.bam.
func fileBaseName(rs *seqstore.ReadSet) string {
	var b strings.Builder
	for _, r := range rs.Name {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_', r == '.':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	if b.Len() == 0 {
		return rs.ID
	}
	return b.String()
}

type output struct {
	kind string
	name string
	w    *storedCopy
}

// analyzeAndStore runs the analysis of the read set's file type over its
// parts, writing the files to keep, and adds the bytes it reads of the
// parts to read. On any error, or a panic, every file it began is discarded
// and no goroutine of the analysis can write to one afterwards.
func (s *Service) analyzeAndStore(ctx context.Context, rs *seqstore.ReadSet, parts []*seqstore.UploadPart, family etag.Family, read *atomic.Int64) (files []seqstore.StoredFile, result *analyze.Result, err error) {
	bySource := map[string][]*seqstore.UploadPart{}
	for _, p := range parts {
		bySource[p.Source] = append(bySource[p.Source], p)
	}
	var outs []*output
	var readers []*partsReader
	// kept are the files closed so far: they exist, and an error after
	// them must delete them, where the others are only aborted.
	var kept []seqstore.StoredFile
	defer func() {
		for _, pr := range readers {
			pr.Close()
		}
		if err == nil {
			return
		}
		files, result = nil, nil
		for _, o := range outs {
			o.w.abort()
		}
		s.deleteFiles(context.WithoutCancel(ctx), kept)
	}()
	// Deferred after the clean-up, so that it runs first and a panic is
	// cleaned up after like any error.
	defer panics.Recover(&err)
	open := func(kind, name string) (*output, error) {
		w, err := s.Blobs.NewWriter(ctx, fileKey(rs, name))
		if err != nil {
			return nil, err
		}
		o := &output{kind: kind, name: name, w: &storedCopy{w: w}}
		outs = append(outs, o)
		return o, nil
	}
	source := func(name string) *partsReader {
		pr := &partsReader{ctx: ctx, blobs: s.Blobs, read: read, parts: bySource[name]}
		readers = append(readers, pr)
		return pr
	}
	base := fileBaseName(rs)
	families := []etag.Family{family}
	switch rs.FileType {
	case seqstore.FileTypeFASTQ:
		var sources []io.Reader
		var stored []io.Writer
		for i, src := range []string{seqstore.FileSource1, seqstore.FileSource2} {
			if len(bySource[src]) == 0 {
				continue
			}
			o, err := open(src, fmt.Sprintf("%s_source%d.fastq.gz", base, i+1))
			if err != nil {
				return nil, nil, err
			}
			sources = append(sources, source(src))
			stored = append(stored, o.w)
		}
		result, err = analyze.FASTQ(ctx, sources, stored, families, s.Limits)
	case seqstore.FileTypeBAM, seqstore.FileTypeUBAM:
		src, err := open(seqstore.FileSource1, base+".bam")
		if err != nil {
			return nil, nil, err
		}
		idx, err := open(seqstore.FileIndex, base+".bam.bai")
		if err != nil {
			return nil, nil, err
		}
		// The stored BAM is the uploaded bytes, teed as the analysis
		// reads them.
		result, err = analyze.BAM(ctx, io.TeeReader(source(seqstore.FileSource1), src.w), rs.FileType, idx.w, families, s.Limits)
		if err != nil {
			return nil, nil, err
		}
		if !result.Indexed {
			idx.w.abort()
			outs = outs[:1]
		}
	default:
		err = fmt.Errorf("file type %s cannot be ingested", rs.FileType)
	}
	if err != nil {
		return nil, nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, nil, err
	}
	for _, o := range outs {
		if err := o.w.close(); err != nil {
			return nil, nil, fmt.Errorf("store %s: %w", o.name, err)
		}
		kept = append(kept, seqstore.StoredFile{
			Kind:          o.kind,
			Key:           fileKey(rs, o.name),
			Name:          o.name,
			ContentLength: o.w.written(),
			PartSize:      ServePartSize,
		})
	}
	return kept, result, nil
}

func (s *Service) deleteFiles(ctx context.Context, files []seqstore.StoredFile) {
	for _, f := range files {
		if err := s.Blobs.Delete(ctx, f.Key); err != nil {
			s.Log.WarnContext(ctx, "could not delete a stored file", "key", f.Key, "err", err)
		}
	}
}

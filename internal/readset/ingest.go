package readset

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/seqstore/seqstore"
	"github.com/seqstore/seqstore/internal/analyze"
	"github.com/seqstore/seqstore/internal/blob"
	"github.com/seqstore/seqstore/internal/etag"
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
		if in.Owner == "" {
			host, _ := os.Hostname()
			in.Owner = fmt.Sprintf("%s/%d", host, os.Getpid())
		}
	})
}

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
			rs, err := in.Meta.IngestClaim(ctx, in.Owner, now, now.Add(in.Lease))
			if errors.Is(err, meta.ErrNotFound) {
				break
			}
			if err != nil {
				if ctx.Err() == nil {
					in.Log.Error("could not claim a read set to ingest", "err", err)
				}
				break
			}
			in.ingestLeased(ctx, rs)
		}
		timer.Reset(in.Poll)
	}
}

// ingestLeased ingests a claimed read set while renewing its lease. A
// shutdown midway gives the lease back at once, so the next start (or
// another node) need not wait for it to run out.
func (in *Ingester) ingestLeased(parent context.Context, rs *seqstore.ReadSet) {
	ctx, cancel := context.WithCancel(parent)
	defer cancel()
	defer func() {
		if parent.Err() != nil {
			in.Meta.IngestRenew(context.WithoutCancel(parent), rs.AccountID, rs.StoreID, rs.ID, in.Owner, in.now())
		}
	}()
	go func() {
		t := time.NewTicker(in.Lease / 3)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				if err := in.Meta.IngestRenew(ctx, rs.AccountID, rs.StoreID, rs.ID, in.Owner, in.now().Add(in.Lease)); err != nil {
					if ctx.Err() == nil {
						in.Log.Warn("lost the ingest lease; stopping", "readSet", rs.ID, "err", err)
					}
					cancel()
					return
				}
			}
		}
	}()
	in.Ingest(ctx, rs)
}

// Ingest reads a read set's uploaded parts once, stores its files, and
// records the outcome. It is safe to run again on the same read set: stored
// files are overwritten whole and the status moves only from
// PROCESSING_UPLOAD.
func (s *Service) Ingest(ctx context.Context, rs *seqstore.ReadSet) {
	log := s.Log.With("account", rs.AccountID, "store", rs.StoreID, "readSet", rs.ID, "fileType", rs.FileType)
	start := time.Now()
	log.Info("ingesting read set")
	st, err := s.Meta.SequenceStoreGet(ctx, rs.AccountID, rs.StoreID)
	if err != nil {
		log.Error("ingest: store lookup failed", "err", err)
		return
	}
	family, err := etag.ParseFamily(st.ETagAlgorithmFamily)
	if err != nil {
		family = etag.MD5up
	}
	parts, err := s.Meta.UploadPartsAll(ctx, rs.UploadID)
	if err != nil {
		log.Error("ingest: listing parts failed", "err", err)
		return
	}
	files, result, err := s.analyzeAndStore(ctx, rs, parts, family)
	if ctx.Err() != nil {
		// Shutting down or lost the lease: leave the read set as it is
		// for whoever claims it next.
		log.Info("ingest interrupted; it will start again", "err", ctx.Err())
		return
	}
	next := *rs
	next.UpdatedAt = s.now()
	if err != nil {
		var ae *analyze.Error
		if errors.As(err, &ae) {
			next.StatusMessage = ae.Error()
		} else {
			log.Error("ingest failed", "err", err)
			next.StatusMessage = truncate("seqstore could not store the read set: "+err.Error()+"; upload it again", 255)
		}
		next.Status = seqstore.ReadSetStatusUploadFailed
		if uerr := s.Meta.ReadSetUpdate(ctx, &next, seqstore.ReadSetStatusProcessingUpload); uerr != nil {
			log.Error("ingest: recording the failure failed", "err", uerr)
			return
		}
		s.deleteParts(ctx, rs.UploadID)
		log.Warn("read set failed ingestion", "statusMessage", next.StatusMessage, "elapsed", time.Since(start))
		return
	}
	next.Status = seqstore.ReadSetStatusActive
	next.StatusMessage = ""
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
				s.deleteFiles(ctx, files)
			}
		}
		return
	}
	s.deleteParts(ctx, rs.UploadID)
	var size int64
	for _, f := range files {
		size += f.ContentLength
	}
	log.Info("read set active", "reads", result.ReadCount, "bases", result.BaseCount, "storedBytes", size, "elapsed", time.Since(start))
	for i, b := range result.Sources {
		log.Info("read set source", "source", i+1, "compressedBytes", b.Compressed, "decompressedBytes", b.Decompressed, "ratio", fmt.Sprintf("%.2f", b.Ratio()))
	}
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n-3] + "..."
}

// partsReader reads a source's parts back to back, opening each when it is
// reached.
type partsReader struct {
	ctx   context.Context
	blobs blob.Store
	parts []*seqstore.UploadPart
	cur   io.ReadCloser
}

func (r *partsReader) Read(p []byte) (int, error) {
	for {
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

func (r *partsReader) Close() error {
	if r.cur != nil {
		return r.cur.Close()
	}
	return nil
}

// countingWriter counts what passes through to a blob writer.
type countingWriter struct {
	w blob.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// fileKey is where a read set's file lives in the object store.
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
	w    blob.Writer
	cw   *countingWriter
	// closed reports that w was closed, so the object exists and must be
	// deleted rather than aborted if a later file fails.
	closed bool
}

// analyzeAndStore runs the analysis of the read set's file type over its
// parts, writing the files to keep. On any error every file it began is
// aborted.
func (s *Service) analyzeAndStore(ctx context.Context, rs *seqstore.ReadSet, parts []*seqstore.UploadPart, family etag.Family) ([]seqstore.StoredFile, *analyze.Result, error) {
	bySource := map[string][]*seqstore.UploadPart{}
	for _, p := range parts {
		bySource[p.Source] = append(bySource[p.Source], p)
	}
	var outs []*output
	open := func(kind, name string) (*output, error) {
		w, err := s.Blobs.NewWriter(ctx, fileKey(rs, name))
		if err != nil {
			return nil, err
		}
		o := &output{kind: kind, name: name, w: w, cw: &countingWriter{w: w}}
		outs = append(outs, o)
		return o, nil
	}
	fail := func(err error) ([]seqstore.StoredFile, *analyze.Result, error) {
		for _, o := range outs {
			if o.closed {
				s.Blobs.Delete(context.WithoutCancel(ctx), fileKey(rs, o.name))
			} else {
				o.w.Abort()
			}
		}
		return nil, nil, err
	}
	base := fileBaseName(rs)
	families := []etag.Family{family}
	var result *analyze.Result
	var err error
	switch rs.FileType {
	case seqstore.FileTypeFASTQ:
		var sources []io.Reader
		var stored []io.Writer
		for i, src := range []string{seqstore.FileSource1, seqstore.FileSource2} {
			if len(bySource[src]) == 0 {
				continue
			}
			pr := &partsReader{ctx: ctx, blobs: s.Blobs, parts: bySource[src]}
			defer pr.Close()
			o, oerr := open(src, fmt.Sprintf("%s_source%d.fastq.gz", base, i+1))
			if oerr != nil {
				return fail(oerr)
			}
			sources = append(sources, pr)
			stored = append(stored, o.cw)
		}
		result, err = analyze.FASTQ(ctx, sources, stored, families, s.Limits)
	case seqstore.FileTypeBAM, seqstore.FileTypeUBAM:
		pr := &partsReader{ctx: ctx, blobs: s.Blobs, parts: bySource[seqstore.FileSource1]}
		defer pr.Close()
		src, oerr := open(seqstore.FileSource1, base+".bam")
		if oerr != nil {
			return fail(oerr)
		}
		idx, oerr := open(seqstore.FileIndex, base+".bam.bai")
		if oerr != nil {
			return fail(oerr)
		}
		// The stored BAM is the uploaded bytes, teed as the analysis
		// reads them.
		result, err = analyze.BAM(ctx, io.TeeReader(pr, src.cw), rs.FileType, idx.cw, families, s.Limits)
		if err == nil && !result.Indexed {
			idx.w.Abort()
			outs = outs[:1]
		}
	default:
		err = fmt.Errorf("file type %s cannot be ingested", rs.FileType)
	}
	if err != nil {
		return fail(err)
	}
	if err := ctx.Err(); err != nil {
		return fail(err)
	}
	var files []seqstore.StoredFile
	for _, o := range outs {
		err := o.w.Close()
		o.closed = err == nil
		if err != nil {
			return fail(fmt.Errorf("store %s: %w", o.name, err))
		}
		files = append(files, seqstore.StoredFile{
			Kind:          o.kind,
			Key:           fileKey(rs, o.name),
			Name:          o.name,
			ContentLength: o.cw.n,
			PartSize:      ServePartSize,
		})
	}
	return files, result, nil
}

func (s *Service) deleteFiles(ctx context.Context, files []seqstore.StoredFile) {
	for _, f := range files {
		if err := s.Blobs.Delete(ctx, f.Key); err != nil {
			s.Log.WarnContext(ctx, "could not delete a stored file", "key", f.Key, "err", err)
		}
	}
}

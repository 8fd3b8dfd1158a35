package readset

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"

	"github.com/seqstore/seqstore"
	"github.com/seqstore/seqstore/internal/analyze"
	"github.com/seqstore/seqstore/internal/blob"
	"github.com/seqstore/seqstore/internal/etag"
	"github.com/seqstore/seqstore/internal/format/panics"
)

// guardedReader makes a source safe to close while a read runs. Analysis
// may read a source from a goroutine of its own that outlives an early
// error: Close waits for the read in progress, and reads after Close fail
// instead of reaching a reader whose buffers are already released. A panic
// of the reader underneath is returned as an error.
type guardedReader struct {
	mu     sync.Mutex
	r      io.ReadCloser
	closed bool
}

// errReadAfterClose ends reads of a source after ingestion stopped reading.
var errReadAfterClose = errors.New("read of a source after ingestion stopped reading it")

func (g *guardedReader) Read(p []byte) (n int, err error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	defer panics.Recover(&err)
	if g.closed {
		return 0, errReadAfterClose
	}
	return g.r.Read(p)
}

func (g *guardedReader) Close() (err error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	defer panics.Recover(&err)
	if g.closed {
		return nil
	}
	g.closed = true
	return g.r.Close()
}

// partsReader reads a source's uploaded parts back to back, opening each
// when it is reached.
type partsReader struct {
	ctx   context.Context
	blobs blob.Store
	parts []*seqstore.UploadPart
	cur   io.ReadCloser
}

func (r *partsReader) Read(p []byte) (n int, err error) {
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
	r.parts = nil
	if r.cur != nil {
		err := r.cur.Close()
		r.cur = nil
		return err
	}
	return nil
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

// fileKey is where a read set's file lives in the object store. Like every
// object key it starts KIND/ACCOUNT/STORE/, which the encryption policy
// relies on.
func fileKey(rs *seqstore.ReadSet, name string) string {
	return fmt.Sprintf("readsets/%s/%s/%s/%s", rs.AccountID, rs.StoreID, rs.ID, name)
}

// fileBaseName is the read set's name made safe for a file name, as AWS names
// direct-upload files {read_set_name}_{source}.fastq.gz or {name}.bam.
func fileBaseName(rs *seqstore.ReadSet) string {
	if name := safeFileName(rs.Name); name != "" {
		return name
	}
	return rs.ID
}

// safeFileName keeps letters, digits, '-', '_' and '.', and replaces every
// other character with '_'.
func safeFileName(name string) string {
	var b strings.Builder
	for _, r := range name {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_', r == '.':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	if strings.Trim(b.String(), ".") == "" {
		return ""
	}
	return b.String()
}

type output struct {
	kind string
	name string
	w    *storedCopy
}

// analyzeAndStore runs the analysis of the read set's file type over its
// sources, writing the files to keep, and closes every source. On any
// error, or a panic, every file it began is discarded and no goroutine of
// the analysis can read a source or write a file afterwards.
func (s *Service) analyzeAndStore(ctx context.Context, rs *seqstore.ReadSet, sources []source, family etag.Family) (files []seqstore.StoredFile, result *analyze.Result, err error) {
	if s.NoQC {
		ctx = analyze.WithoutQC(ctx)
	}
	if s.FASTQStoreLevel != 0 {
		ctx = analyze.WithFASTQStoreLevel(ctx, s.FASTQStoreLevel)
	}
	var outs []*output
	readers := make([]*guardedReader, len(sources))
	for i := range sources {
		readers[i] = &guardedReader{r: sources[i].r}
	}
	// kept are the files closed so far: they exist, and an error after
	// them must delete them, where the others are only aborted.
	var kept []seqstore.StoredFile
	defer func() {
		for _, r := range readers {
			r.Close()
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
	families := []etag.Family{family}
	switch rs.FileType {
	case seqstore.FileTypeFASTQ:
		var in []io.Reader
		var stored []io.Writer
		for i, src := range sources {
			o, err := open(src.kind, src.name)
			if err != nil {
				return nil, nil, err
			}
			in = append(in, readers[i])
			stored = append(stored, o.w)
		}
		result, err = analyze.FASTQ(ctx, in, stored, families, s.Limits)
	case seqstore.FileTypeBAM, seqstore.FileTypeUBAM:
		if len(sources) != 1 {
			return nil, nil, fmt.Errorf("a %s read set has one source, not %d", rs.FileType, len(sources))
		}
		src, err := open(seqstore.FileSource1, sources[0].name)
		if err != nil {
			return nil, nil, err
		}
		idx, err := open(seqstore.FileIndex, sources[0].name+".bai")
		if err != nil {
			return nil, nil, err
		}
		// The stored BAM is the source's bytes, teed as the analysis
		// reads them.
		result, err = analyze.BAM(ctx, io.TeeReader(readers[0], src.w), rs.FileType, idx.w, families, s.Limits)
		if err != nil {
			return nil, nil, err
		}
		if !result.Indexed {
			idx.w.abort()
			outs = outs[:1]
		}
	case seqstore.FileTypeCRAM:
		if len(sources) != 1 {
			return nil, nil, fmt.Errorf("a CRAM read set has one source, not %d", len(sources))
		}
		ref, err := s.cramReference(ctx, rs)
		if err != nil {
			return nil, nil, &analyze.Error{Source: "source1", Msg: err.Error()}
		}
		defer ref.Close()
		src, err := open(seqstore.FileSource1, sources[0].name)
		if err != nil {
			return nil, nil, err
		}
		idx, err := open(seqstore.FileIndex, sources[0].name+".crai")
		if err != nil {
			return nil, nil, err
		}
		// The stored CRAM is the source's bytes, teed as they are
		// decoded.
		result, err = analyze.CRAM(ctx, io.TeeReader(readers[0], src.w), ref, idx.w, families, s.Limits)
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
	ref, err := s.referenceToCheck(ctx, rs)
	if err != nil {
		return nil, nil, err
	}
	if ref != nil {
		if err := checkAgainstReference(result.Header, ref, rs.ReferenceArn); err != nil {
			return nil, nil, err
		}
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
	s.deleteFilesIn(ctx, s.Blobs, files)
}

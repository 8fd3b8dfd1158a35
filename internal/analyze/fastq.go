package analyze

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/seqstore/seqstore/internal/etag"
	"github.com/seqstore/seqstore/internal/format/bgzf"
	"github.com/seqstore/seqstore/internal/format/compress"
	"github.com/seqstore/seqstore/internal/format/fastq"
)

// storeLevel is the deflate level of stored BGZF: the fastest, since the
// stored file is rewritten on every upload and read back often.
const storeLevel = 1

// pairBatch is how many read names travel together from source 1 to the
// pairing check of source 2.
const pairBatch = 4096

type nameBatch struct {
	first int64  // number of the first record in the batch (1-based)
	names []byte // the pairing keys, each followed by a zero byte
}

// FASTQ analyses one FASTQ source, or two that form pairs. Each source may
// be plain, gzip or BGZF. It hashes each source's uncompressed bytes in the
// given families, validates every record, counts reads and bases, checks
// that the mates pair one to one, and writes each source, recompressed as
// BGZF, to stored[i] (nil skips it). The sources are read side by side, each
// in its own goroutines.
func FASTQ(ctx context.Context, sources []io.Reader, stored []io.Writer, families []etag.Family) (*Result, error) {
	if len(sources) == 0 || len(sources) > 2 {
		return nil, fmt.Errorf("FASTQ takes one or two sources, got %d", len(sources))
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var pairs chan nameBatch
	if len(sources) == 2 {
		pairs = make(chan nameBatch, 8)
	}
	type outcome struct {
		reads, bases int64
		sums         map[etag.Family]string
		err          error
	}
	outs := make([]outcome, len(sources))
	var wg sync.WaitGroup
	for i, src := range sources {
		var w io.Writer
		if i < len(stored) {
			w = stored[i]
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			s := &fastqSource{name: fmt.Sprintf("source%d", i+1), index: i, pairs: pairs}
			o := &outs[i]
			o.reads, o.bases, o.sums, o.err = s.run(ctx, src, w, families)
			if o.err != nil {
				cancel()
			}
		}()
	}
	wg.Wait()
	// Report the first real defect, not the cancellation it caused in the
	// other source.
	var firstErr error
	for _, o := range outs {
		if o.err != nil && !errors.Is(o.err, context.Canceled) {
			var ae *Error
			if errors.As(o.err, &ae) {
				return nil, o.err
			}
			if firstErr == nil {
				firstErr = o.err
			}
		}
	}
	if firstErr != nil {
		return nil, firstErr
	}
	if err := ctx.Err(); err != nil && outs[0].err != nil {
		return nil, err
	}
	res := &Result{FileType: FileTypeFASTQ, Alignment: Unaligned, ETags: map[etag.Family][]string{}}
	for _, o := range outs {
		res.ReadCount += o.reads
		res.BaseCount += o.bases
		for _, f := range families {
			res.ETags[f] = append(res.ETags[f], o.sums[f])
		}
	}
	return res, nil
}

type fastqSource struct {
	name  string
	index int
	pairs chan nameBatch
}

// hashingReader feeds what it reads to a hasher and an optional writer.
type hashingReader struct {
	r   io.Reader
	h   *etag.Hasher
	out io.Writer
	err error // the first error writing to out
}

func (h *hashingReader) Read(p []byte) (int, error) {
	n, err := h.r.Read(p)
	if n > 0 {
		h.h.Write(p[:n])
		if h.out != nil && h.err == nil {
			if _, werr := h.out.Write(p[:n]); werr != nil {
				h.err = werr
				return n, werr
			}
		}
	}
	return n, err
}

func (s *fastqSource) run(ctx context.Context, src io.Reader, stored io.Writer, families []etag.Family) (reads, bases int64, sums map[etag.Family]string, err error) {
	raw, kind, err := compress.Open(src)
	if err != nil {
		return 0, 0, nil, Errorf(s.name, "", "%v", err)
	}
	defer raw.Close()
	var bw *bgzf.Writer
	var out io.Writer
	if stored != nil {
		bw, err = bgzf.NewWriterLevel(stored, storeLevel)
		if err != nil {
			return 0, 0, nil, err
		}
		out = bw
		defer func() {
			if bw != nil {
				bw.Close()
			}
		}()
	}
	hasher := etag.NewHasher(families...)
	hr := &hashingReader{r: raw, h: hasher, out: out}
	rd := fastq.NewReader(hr)
	var rec fastq.Record
	var batch nameBatch
	var mates []byte // the current batch from source 1, consumed by source 2
	var mateFirst int64
	for {
		if err := ctx.Err(); err != nil {
			return 0, 0, nil, err
		}
		err := rd.Read(&rec)
		if err == io.EOF {
			break
		}
		if err != nil {
			return 0, 0, nil, s.wrap(err, hr, kind)
		}
		reads++
		bases += int64(len(rec.Seq))
		key := fastq.PairKey(rec.Name)
		switch {
		case s.pairs != nil && s.index == 0:
			if len(batch.names) == 0 {
				batch.first = reads
			}
			batch.names = append(append(batch.names, key...), 0)
			if reads-batch.first+1 == pairBatch {
				if err := s.send(ctx, batch); err != nil {
					return 0, 0, nil, err
				}
				batch = nameBatch{names: make([]byte, 0, len(batch.names))}
			}
		case s.pairs != nil && s.index == 1:
			if len(mates) == 0 {
				b, ok, err := s.receive(ctx)
				if err != nil {
					return 0, 0, nil, err
				}
				if !ok {
					return 0, 0, nil, Errorf(s.name, fmt.Sprintf("record %d (line %d)", reads, rd.Lines()-3), "source2 has more records than source1's %d; the mates do not pair", reads-1)
				}
				mates, mateFirst = b.names, b.first
			}
			end := bytes.IndexByte(mates, 0)
			mate := mates[:end]
			mates = mates[end+1:]
			if !bytes.Equal(mate, key) {
				return 0, 0, nil, Errorf(s.name, fmt.Sprintf("record %d (line %d)", reads, rd.Lines()-3), "read %q does not pair with record %d of source1, %q", key, mateFirst, mate)
			}
			mateFirst++
		}
	}
	if reads == 0 {
		return 0, 0, nil, Errorf(s.name, "", "holds no FASTQ records")
	}
	if s.pairs != nil && s.index == 0 {
		if len(batch.names) > 0 {
			if err := s.send(ctx, batch); err != nil {
				return 0, 0, nil, err
			}
		}
		close(s.pairs)
	}
	if s.pairs != nil && s.index == 1 {
		if len(mates) > 0 {
			return 0, 0, nil, Errorf(s.name, fmt.Sprintf("after record %d", reads), "source2 ends before source1: it has %d records, source1 more; the mates do not pair", reads)
		}
		if b, ok, err := s.receive(ctx); err != nil {
			return 0, 0, nil, err
		} else if ok {
			return 0, 0, nil, Errorf(s.name, fmt.Sprintf("after record %d", reads), "source2 ends before source1: source1 has record %d and beyond; the mates do not pair", b.first)
		}
	}
	if hr.err != nil {
		return 0, 0, nil, hr.err
	}
	if bw != nil {
		err := bw.Close()
		bw = nil
		if err != nil {
			return 0, 0, nil, err
		}
	}
	return reads, bases, hasher.Sums(), nil
}

func (s *fastqSource) send(ctx context.Context, b nameBatch) error {
	select {
	case s.pairs <- b:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (s *fastqSource) receive(ctx context.Context) (nameBatch, bool, error) {
	select {
	case b, ok := <-s.pairs:
		return b, ok, nil
	case <-ctx.Done():
		return nameBatch{}, false, ctx.Err()
	}
}

// wrap turns a reading error into an analysis error naming the source.
func (s *fastqSource) wrap(err error, hr *hashingReader, kind compress.Kind) error {
	if hr.err != nil && errors.Is(err, hr.err) {
		return err // a storage failure, not a defect of the file
	}
	var pe *fastq.ParseError
	if errors.As(err, &pe) {
		msg := pe.Msg
		if errors.Is(err, fastq.ErrNotFASTQ) && pe.Record == 1 {
			msg += looksLike(kind)
		}
		return Errorf(s.name, fmt.Sprintf("record %d (line %d)", pe.Record, pe.Line), "%s", msg)
	}
	return Errorf(s.name, "", "%v (%s input)", err, kind)
}

// looksLike guesses what a file that is not FASTQ is, for the message.
func looksLike(kind compress.Kind) string {
	if kind == compress.BGZF {
		return "; this looks like BAM or another BGZF-compressed binary file, not FASTQ"
	}
	return "; this is not FASTQ"
}

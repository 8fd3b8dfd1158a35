package analyze

import (
	"bufio"
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
	"github.com/seqstore/seqstore/internal/format/panics"
	"github.com/seqstore/seqstore/internal/qc"
)

// sourceOutcome is what one source's goroutine found.
type sourceOutcome struct {
	reads, bases int64
	bytes        SourceBytes
	sums         map[etag.Family]string
	qc           *qc.ReadsReport
	err          error
	// errRecord orders defects: the record the defect is in, or
	// math.MaxInt64 for a defect of the file as a whole.
	errRecord int64
}

// rank orders failures: a panic, a fault of seqstore's and not of the
// file, first, then defects by the record they are in.
func (o *sourceOutcome) rank() int64 {
	if isPanic(o.err) {
		return -1
	}
	return o.errRecord
}

// errStopped ends source 2 when source 1 failed first: source 1's error is
// the one to report.
var errStopped = errors.New("stopped because source1 failed")

// FASTQ analyses one FASTQ source, or two that hold the two mates of each
// pair. Each source may be plain, gzip (one member or many) or BGZF. In one
// streaming pass per source it hashes the uncompressed bytes in each family
// (the FASTQ_*up ETag), validates every record, counts records and bases,
// and writes the file to keep to stored[i] (a nil writer, or a missing one,
// stores nothing): a gzip or BGZF source byte for byte as it arrived, a
// plain one compressed as BGZF at bgzip's default level.
//
// For paired sources, record N of source2 must pair with record N of
// source1: their names agree once the comment and a /1 or /2 are dropped
// (fastq.PairKey), and both hold the same number of records.
//
// The two sources are read side by side: each inflates on its own goroutine
// (BGZF on several), parses and hashes on another, and a plain source's
// stored copy is deflated on every CPU. Source 1 hands its read names to source 2 in batches
// over a short channel, so neither runs far ahead and memory stays flat.
//
// What each source may buffer, and how much it may decompress to, is
// bounded by lim; a source that passes a limit fails with an *Error naming
// it. A defect of a source is an *Error naming the source and the record
// and line, or the byte offset for compression errors. When there are several,
// the one at the earliest record is reported, so the message does not
// depend on which goroutine got there first. A failure reading a source or
// writing a stored copy is returned as it is, and so is a panic on any of
// the goroutines (a *panics.Error), before any defect.
//
// Every goroutine FASTQ starts has ended when it returns, whatever it
// returns: nothing reads the sources or writes the stored copies after.
func FASTQ(ctx context.Context, sources []io.Reader, stored []io.Writer, families []etag.Family, lim Limits) (*Result, error) {
	if len(sources) == 0 || len(sources) > 2 {
		return nil, fmt.Errorf("analyze.FASTQ takes one or two sources, got %d", len(sources))
	}
	parent := ctx
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var pair *pairing
	if len(sources) == 2 {
		pair = &pairing{batches: make(chan nameBatch, 4)}
	}
	outs := make([]sourceOutcome, len(sources))
	var wg sync.WaitGroup
	for i, src := range sources {
		var w io.Writer
		if i < len(stored) && stored[i] != nil {
			w = stored[i]
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			s := &fastqSource{name: fmt.Sprintf("source%d", i+1), index: i, pairing: pair, limits: lim}
			outs[i] = s.run(ctx, src, w, families)
			// Source 1's failure reaches source 2 through the pairing
			// channel, after the names before it, so that source 2 can
			// still find an earlier defect; anything else stops both.
			if outs[i].err != nil && (pair == nil || i == 1) {
				cancel()
			}
		}()
	}
	wg.Wait()
	// A source stopped by the other's failure (errStopped, or the
	// cancellation that failure caused) has nothing to report.
	var first *sourceOutcome
	for i := range outs {
		o := &outs[i]
		if o.err == nil || o.err == errStopped || errors.Is(o.err, context.Canceled) {
			continue
		}
		if first == nil || o.rank() < first.rank() {
			first = o
		}
	}
	if first != nil {
		return nil, first.err
	}
	if err := parent.Err(); err != nil {
		return nil, err
	}
	res := &Result{FileType: FileTypeFASTQ, Alignment: Unaligned, ETags: map[etag.Family][]string{}}
	if wantQC(ctx) {
		res.QC = &qc.Report{FileType: FileTypeFASTQ}
	}
	for i, o := range outs {
		if res.QC != nil {
			res.QC.Sources = append(res.QC.Sources, qc.SourceReport{Source: fmt.Sprintf("source%d", i+1), Reads: o.qc})
		}
		res.Sources = append(res.Sources, o.bytes)
		res.ReadCount += o.reads
		res.BaseCount += o.bases
		for _, f := range families {
			res.ETags[f] = append(res.ETags[f], o.sums[f])
		}
	}
	return res, nil
}

type fastqSource struct {
	name    string
	index   int
	pairing *pairing
	limits  Limits
	// kept copies a compressed source to its stored file; nil for a
	// plain source, or when nothing is stored.
	kept *keptSource
}

// keptSource passes a compressed source's bytes, as they are read, to its
// stored file. A FASTQ that arrives gzip- or BGZF-compressed is kept as it
// arrived rather than recompressed: a download is then the upload byte for
// byte (md5sum says so), and the stored file is never larger than what was
// given. Recompressing could only win against a fast gzip level such as
// -1, and only by spending more CPU on deflate than the rest of ingestion
// costs (levels that beat gzip -6 are several times slower than
// inflating), so the arrived bytes are kept always.
type keptSource struct {
	r   io.Reader
	w   io.Writer
	mu  sync.Mutex
	err error // the first failure writing the stored file
}

// keepCompressed looks at the first bytes of src: when they open a gzip or
// BGZF stream and stored is not nil, it returns a reader of src that copies
// every byte it reads to stored, and the keptSource doing so; otherwise a
// reader of src as it is and no keptSource.
func keepCompressed(src io.Reader, stored io.Writer) (io.Reader, *keptSource, error) {
	if stored == nil {
		return src, nil, nil
	}
	// A buffer of the sniff's size holds the head for the decompressor to
	// read again; larger reads pass it by.
	br := bufio.NewReaderSize(src, compress.SniffSize)
	head, err := br.Peek(compress.SniffSize)
	if err != nil && err != io.EOF {
		return nil, nil, err // the source could not be read
	}
	if kind := compress.Sniff(head); kind != compress.Gzip && kind != compress.BGZF {
		return br, nil, nil
	}
	k := &keptSource{r: br, w: stored}
	return k, k, nil
}

func (k *keptSource) Read(p []byte) (int, error) {
	n, err := k.r.Read(p)
	if n > 0 {
		if _, werr := k.w.Write(p[:n]); werr != nil {
			werr = fmt.Errorf("writing the stored copy: %w", werr)
			k.mu.Lock()
			if k.err == nil {
				k.err = werr
			}
			k.mu.Unlock()
			return 0, werr
		}
	}
	return n, err
}

// failure is the error to report for err, met while the source was read:
// a failure writing the stored file, when there was one, explains it
// better than whatever the decompressor made of the read that it ended.
func (k *keptSource) failure(err error) error {
	if k == nil {
		return err
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.err != nil {
		return k.err
	}
	return err
}

// teeReader feeds what the parser reads to the ETag hasher and the stored
// copy, so the source is read once.
type teeReader struct {
	r        io.Reader
	h        *etag.Hasher
	out      io.Writer
	writeErr error // the first error writing the stored copy
	limits   Limits
	n        int64 // bytes read
}

func (t *teeReader) Read(p []byte) (int, error) {
	n, err := t.r.Read(p)
	t.n += int64(n)
	if lerr := t.limits.checkDecompressed(t.n); lerr != nil {
		return 0, lerr
	}
	if n > 0 {
		t.h.Write(p[:n])
		if t.out != nil {
			if _, werr := t.out.Write(p[:n]); werr != nil {
				t.writeErr = fmt.Errorf("writing the stored copy: %w", werr)
				return n, t.writeErr
			}
		}
	}
	return n, err
}

// sniffSize is how much of the uncompressed stream is examined to tell a
// file that is not FASTQ at all.
const sniffSize = 4096

func (s *fastqSource) run(ctx context.Context, src io.Reader, stored io.Writer, families []etag.Family) (o sourceOutcome) {
	// Source 1 always tells source 2 how it ended, whatever the path out.
	if s.pairing != nil && s.index == 0 {
		defer func() {
			if o.err != nil {
				s.pairing.source1Failed.Store(true)
			}
			close(s.pairing.batches)
		}()
	}
	// A panic on this goroutine fails the analysis, not the process;
	// deferred after the pairing's, so that source 2 hears that source 1
	// failed.
	defer panics.Recover(&o.err)
	fail := func(record int64, err error) sourceOutcome {
		return sourceOutcome{err: err, errRecord: record}
	}
	counted := &byteCounter{r: src}
	input, kept, err := keepCompressed(counted, stored)
	if err != nil {
		return fail(0, err)
	}
	s.kept = kept
	raw, kind, err := compress.Open(input)
	if err != nil {
		if kind == compress.Plain {
			return fail(0, err) // the source could not be read
		}
		return fail(0, Errorf(s.name, "", "%v", err)) // bzip2, xz or zstd
	}
	defer raw.Close()

	head := make([]byte, sniffSize)
	n, err := io.ReadFull(raw, head)
	head = head[:n]
	if err != nil && err != io.EOF && err != io.ErrUnexpectedEOF {
		return fail(1, s.decompressError(err))
	}
	if what := notFASTQ(kind, head); what != "" {
		return fail(1, Errorf(s.name, "", "%s", what))
	}

	var bw *bgzf.Writer
	tee := &teeReader{r: io.MultiReader(bytes.NewReader(head), raw), h: etag.NewHasher(families...), limits: s.limits}
	if stored != nil && kept == nil {
		// At the default level the stored copy is smaller than `bgzip -c`
		// makes it (package deflate). Compressed sources are not
		// recompressed at all (see keptSource).
		bw, err = bgzf.NewWriterLevel(stored, fastqStoreLevel(ctx))
		if err != nil {
			return fail(0, err)
		}
		// On failure the copy is abandoned: its workers stop without
		// writing what is left.
		defer func() {
			if bw != nil {
				bw.Abort()
			}
		}()
		tee.out = bw
	}
	rd := fastq.NewReaderOptions(tee, s.limits.fastq())
	var stats *readStats
	if wantQC(ctx) {
		stats = startReadStats(false)
		// Also on failure or a panic, so that its goroutine ends.
		defer stats.stop()
	}
	records := recordCounter(ctx)
	var rec fastq.Record
	var names *nameSender  // source 1 of a pair
	var mates *nameChecker // source 2 of a pair
	if s.pairing != nil && s.index == 0 {
		names = &nameSender{p: s.pairing}
	} else if s.pairing != nil {
		mates = &nameChecker{s: s}
	}
	for {
		if o.reads > 0 && o.reads%progressStride == 0 {
			records.Add(progressStride)
		}
		if o.reads&1023 == 0 && ctx.Err() != nil {
			return fail(o.reads+1, ctx.Err())
		}
		err := rd.Read(&rec)
		if err == io.EOF {
			break
		}
		if err != nil {
			if names != nil {
				names.flush(ctx) // source 2 still checks the records before the defect
			}
			return fail(o.reads+1, s.readError(err, tee, rd))
		}
		o.reads++
		o.bases += int64(len(rec.Seq))
		stats.add(rec.Seq, rec.Qual)
		switch {
		case names != nil:
			if err := names.add(ctx, fastq.PairKey(rec.Name), o.reads); err != nil {
				return fail(o.reads, err)
			}
		case mates != nil:
			if at, err := mates.check(ctx, fastq.PairKey(rec.Name), o.reads, rd); err != nil {
				return fail(at, err)
			}
		}
	}
	if o.reads == 0 {
		return fail(1, Errorf(s.name, "", "the file holds no FASTQ records"))
	}
	if names != nil {
		if err := names.flush(ctx); err != nil {
			return fail(o.reads, err)
		}
	}
	if mates != nil {
		if at, err := mates.end(ctx, o.reads); err != nil {
			return fail(at, err)
		}
	}
	if bw != nil {
		err := bw.Close()
		bw = nil
		if err != nil {
			return fail(0, fmt.Errorf("writing the stored copy: %w", err))
		}
	}
	if o.qc, err = stats.finish(); err != nil {
		return fail(0, err)
	}
	o.sums = tee.h.Sums()
	// Closed here, not only deferred, so that the compressed count is
	// read after the goroutines that read the source have ended.
	raw.Close()
	if kept != nil {
		// Whatever the decompressor left unread (nothing, in a sound
		// file) belongs to the upload too.
		if _, err := io.Copy(io.Discard, kept); err != nil {
			return fail(0, kept.failure(err))
		}
	}
	o.bytes = SourceBytes{Compressed: counted.n, Decompressed: tee.n}
	return o
}

func (s *fastqSource) where(rd *fastq.Reader) string {
	return fmt.Sprintf("record %d (line %d)", rd.Records(), rd.RecordLine())
}

// readError turns an error met while parsing into an analysis error that
// says where, leaving failures of the source or of the stored copy as they
// are.
func (s *fastqSource) readError(err error, tee *teeReader, rd *fastq.Reader) error {
	if isPanic(err) || tee.writeErr != nil && errors.Is(err, tee.writeErr) {
		return err
	}
	if kerr := s.kept.failure(nil); kerr != nil {
		return kerr
	}
	var pe *fastq.ParseError
	if errors.As(err, &pe) {
		return Errorf(s.name, fmt.Sprintf("record %d (line %d)", pe.Record, pe.Line), "%s", pe.Msg)
	}
	if le := limitError(s.name, fmt.Sprintf("record %d (line %d)", rd.Records()+1, rd.Lines()+1), err); le != nil {
		return le
	}
	return s.decompressError(err)
}

func (s *fastqSource) decompressError(err error) error {
	if isPanic(err) {
		return err
	}
	if kerr := s.kept.failure(nil); kerr != nil {
		return kerr
	}
	var ce *compress.Error
	var be *bgzf.BlockError
	switch {
	case errors.As(err, &be):
		return Errorf(s.name, fmt.Sprintf("BGZF block at offset %d", be.Offset), "%s", be.Msg)
	case errors.As(err, &ce):
		return Errorf(s.name, fmt.Sprintf("byte offset %d", ce.Offset), "%v", ce)
	}
	return err
}

// notFASTQ says what a file is when its first bytes show it is not FASTQ,
// or "" when they might be.
func notFASTQ(kind compress.Kind, head []byte) string {
	packed := ""
	if kind != compress.Plain {
		packed = kind.String() + "-compressed "
	}
	has := func(prefix string) bool { return bytes.HasPrefix(head, []byte(prefix)) }
	switch {
	case len(head) == 0:
		return "the file holds no FASTQ records: it is empty"
	case has("BAM\x01"):
		if kind == compress.BGZF {
			return "this looks like BAM (BGZF-compressed binary), not FASTQ: upload it with file type BAM or UBAM"
		}
		return "this looks like BAM data, not FASTQ"
	case has("CRAM"):
		return "this looks like CRAM, not FASTQ: upload it with file type CRAM"
	case has("BCF\x02"):
		return "this looks like BCF (binary variant calls), not FASTQ"
	case has("##fileformat=VCF"):
		return "this looks like " + packed + "VCF (variant calls), not FASTQ"
	case has(">"):
		return "this looks like " + packed + "FASTA (sequences without qualities), not FASTQ"
	case has("@HD\t"), has("@SQ\t"), has("@RG\t"), has("@PG\t"), has("@CO\t"):
		return "this looks like " + packed + "SAM (a header line " + fmt.Sprintf("%q", head[:3]) + "), not FASTQ: convert it to BAM to upload it"
	case head[0] != '@' && bytes.Count(firstLine(head), []byte{'\t'}) >= 10:
		return "this looks like " + packed + "SAM without a header (tab-separated alignment fields), not FASTQ"
	}
	if binary(head) {
		return "this is " + packed + "binary data, not FASTQ text"
	}
	return ""
}

func firstLine(b []byte) []byte {
	if i := bytes.IndexByte(b, '\n'); i >= 0 {
		return b[:i]
	}
	return b
}

// binary reports whether b holds bytes that text never does: NUL, or many
// control characters other than white space.
func binary(b []byte) bool {
	control := 0
	for _, c := range b {
		if c == 0 {
			return true
		}
		if c < ' ' && c != '\n' && c != '\r' && c != '\t' || c == 0x7f {
			control++
		}
	}
	return control > 0 && control*20 > len(b)
}

// FASTQETag is the ETag of one FASTQ source, compressed or not: the hash of
// its uncompressed bytes. It only inflates and hashes, without checking the
// records, for a copy that ingestion checked already (a download).
func FASTQETag(r io.Reader, family etag.Family) (string, error) {
	rc, _, err := compress.Open(r)
	if err != nil {
		return "", err
	}
	defer rc.Close()
	h := etag.NewHasher(family)
	if _, err := io.Copy(h, rc); err != nil {
		return "", err
	}
	return h.Sums()[family], nil
}

// Package cram decodes CRAM 3.0 and 3.1 alignment files into the shared
// sam.Record model, reproducing what `samtools view -T ref.fa` prints: the
// sequence rebuilt from the reference, the CIGAR from the read features,
// mates linked and template lengths recomputed within slices, the MD and NM
// tags htslib generates, and names generated for nameless reads. It also
// yields the slice entries of a CRAI index.
//
// CRAM is hand-written here because no Go library decodes CRAM 3.1 (its
// codecs live in the codec sub-packages) and the output must match htslib's
// quirks byte for byte, which a general library has no reason to do.
//
// The Reader streams: one goroutine reads containers in order, two workers
// decode them, and records come out in file order. What is in flight (read,
// decoding, decoded and not yet read) is bounded in estimated bytes, not in
// containers, because a container of the archive profile holds ten times
// the reads of a normal one: counting containers let big ones pile up to
// hundreds of megabytes. That estimate comes from container headers, which
// a hostile file fills as it likes, so what decoding allocates is also
// charged, before it is allocated, to a memory account (see memory) that
// no input can overdraw.
package cram

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/seqstore/seqstore/internal/cpus"
	"github.com/seqstore/seqstore/internal/format/cram/crai"
	"github.com/seqstore/seqstore/internal/format/limit"
	"github.com/seqstore/seqstore/internal/format/panics"
	"github.com/seqstore/seqstore/internal/format/sam"
)

// ReferenceSource gives the bases of reference sequences by name.
type ReferenceSource interface {
	// Bases returns the bases [start, end) of the named sequence, 0-based
	// and upper case, cut short at the sequence's end (none when start is
	// past it), and the sequence's length. The decoder asks for the
	// stretch a slice spans and a little more, never the whole of a long
	// sequence but for slices that hold reads of several. The returned
	// slice is only read.
	Bases(name string, start, end int64) ([]byte, int64, error)
}

// Error is a defect in the CRAM input, with where it was found.
type Error struct {
	// Offset is the byte offset of the container (or of the structure, for
	// the file definition and header) in the input.
	Offset int64
	// Slice is the 1-based slice number within the container; 0 if the
	// error is not in a slice.
	Slice int
	// Record is the 1-based record number in the file; 0 if unknown.
	Record int64
	// Container is false for errors in the file definition.
	Container bool
	Msg       string
	Err       error
}

func (e *Error) Error() string {
	return "CRAM " + e.Where() + ": " + e.Msg
}

func (e *Error) Unwrap() error { return e.Err }

// Where says where the error is, for messages that name the place apart.
func (e *Error) Where() string {
	if !e.Container {
		return fmt.Sprintf("byte %d", e.Offset)
	}
	s := fmt.Sprintf("container at byte %d", e.Offset)
	if e.Slice > 0 {
		s += fmt.Sprintf(", slice %d", e.Slice)
	}
	if e.Record > 0 {
		s += fmt.Sprintf(", record %d", e.Record)
	}
	return s
}

// Options tune a Reader.
type Options struct {
	// NamePrefix starts the names generated for reads stored without one;
	// samtools uses the CRAM file's base name.
	NamePrefix string
	// Workers decode containers in parallel; 0 means up to two.
	Workers int
	// Index, if set, receives the CRAI entries of each container's slices,
	// in file order, as its records are about to be read.
	Index func(crai.Entry)
	// MaxContainer bounds a container's length, the sum of the
	// uncompressed sizes its blocks declare, and what its slices decode to
	// (bases, read features and records); 0 means DefaultMaxContainer.
	MaxContainer int
	// MaxBlock bounds the uncompressed size one block declares, which its
	// decoder allocates; 0 means DefaultMaxBlock.
	MaxBlock int
	// MaxMemory bounds the decoded blocks and records the Reader holds
	// across the containers in flight, and so what one container may
	// decode to; 0 means DefaultMaxMemory. Whatever it is set to, the
	// Reader holds no more than MaxRatio bytes decoded per byte of the
	// file read so far (or 16 MiB, if more); 0 means DefaultMaxRatio.
	MaxMemory, MaxRatio int
	// MaxHeader bounds the SAM header text, MaxReferences its @SQ lines
	// and MaxReferenceName one SN; 0 means sam's default.
	MaxHeader, MaxReferences, MaxReferenceName int

	// skipCRC lets fuzz tests reach the decoders behind the checksums.
	skipCRC bool
	// maxWork overrides defaultMaxWork, so fuzzing stays quick.
	maxWork int64
	// inFlight overrides defaultInFlight, so tests can watch the bound.
	inFlight int64
}

// Default limits. htslib's containers hold about ten thousand reads (a
// hundred thousand for the archive profile) or half a million bases per
// read in a slice, so a quality block of a long-read slice takes some
// tens of megabytes and a container a few times that. The defaults leave
// room above them while keeping what a hostile header can make the reader
// allocate to a few hundred megabytes.
const (
	DefaultMaxContainer = 256 << 20
	DefaultMaxBlock     = 128 << 20
)

// withDefaults fills in the limits left zero.
func (o Options) withDefaults() Options {
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&o.MaxContainer, DefaultMaxContainer)
	def(&o.MaxBlock, DefaultMaxBlock)
	def(&o.MaxMemory, DefaultMaxMemory)
	def(&o.MaxRatio, DefaultMaxRatio)
	def(&o.MaxHeader, sam.DefaultMaxHeader)
	def(&o.MaxReferences, sam.DefaultMaxReferences)
	def(&o.MaxReferenceName, sam.DefaultMaxReferenceName)
	return o
}

// defaultInFlight bounds the estimated bytes of the containers between the
// file and Read: two archive-profile containers (100,000 reads each), one
// decoding while the other is read, which keeps two cores busy; normal
// containers are a tenth of that, and the order queue bounds them first.
const defaultInFlight = 96 << 20

// containerCost estimates the memory a container takes from being read to
// being read past: its compressed bytes, and the bases and qualities,
// names, CIGARs and tags it decodes to (and the raw blocks they come from).
func containerCost(h *containerHeader) int64 {
	return int64(h.length) + 2*max(h.bases, 0) + 96*int64(max(h.records, 0))
}

// budget is a counting semaphore in bytes. One acquire always succeeds when
// nothing is held, so a container bigger than the limit still decodes, alone.
type budget struct {
	mu     sync.Mutex
	cond   sync.Cond
	limit  int64
	used   int64
	peak   int64 // most ever held, for tests
	most   int64 // largest single acquire, for tests
	closed bool
}

func newBudget(limit int64) *budget {
	b := &budget{limit: limit}
	b.cond.L = &b.mu
	return b
}

// acquire waits until n bytes fit; it returns false once the budget is closed.
func (b *budget) acquire(n int64) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	for !b.closed && b.used > 0 && b.used+n > b.limit {
		b.cond.Wait()
	}
	if b.closed {
		return false
	}
	b.used += n
	b.peak = max(b.peak, b.used)
	b.most = max(b.most, n)
	return true
}

func (b *budget) release(n int64) {
	b.mu.Lock()
	b.used -= n
	b.mu.Unlock()
	b.cond.Broadcast()
}

func (b *budget) close() {
	b.mu.Lock()
	b.closed = true
	b.mu.Unlock()
	b.cond.Broadcast()
}

// env is what container decoding needs from the file: shared, read-only
// but for the reference cache.
type env struct {
	refs      []sam.Reference
	rgNames   [][]byte
	unknownRG int32
	prefix    string
	major     int
	src       ReferenceSource
	checkCRC  bool
	// maxWork bounds what one container may decode to, counted as bases
	// plus read features plus records: a corrupt count with codecs that
	// read nothing (a one-symbol HUFFMAN) must not turn into gigabytes or
	// hours.
	maxWork      int64
	maxContainer int
	maxBlock     int
	// inflated counts the uncompressed bytes of the blocks decoded.
	inflated atomic.Int64
	// mem accounts the memory decoded data takes.
	mem *memory

	// refCache holds the reference windows slices decode against.
	refCache refCache

	// batches is the free list of decoded batches, raws that of the
	// buffers a worker decodes a slice's blocks into.
	batches freeList[*batch]
	raws    freeList[[][]byte]
}

// job is one container on its way through the pipeline.
type job struct {
	offset int64
	// charge is the memory the container's decoding took, held until
	// Read moves past it; its seq numbers the container in the file.
	charge charge
	hdr    containerHeader
	cost   int64 // held from budget until Read moves past the container
	data   []byte
	b      *batch
	err    error
	done   chan struct{}
}

// Reader decodes a CRAM stream.
type Reader struct {
	limits Options
	env    *env
	header sam.Header
	minor  int
	index  func(crai.Entry)

	order   chan *job
	budget  *budget
	quit    chan struct{}
	stopped sync.Once
	wg      sync.WaitGroup

	cur     *batch
	curCost int64
	// curCharge is the memory cur holds.
	curCharge *charge
	next      int
	err       error
	n         int64
}

// freeList keeps a few values a reader is done with for reuse. Batches and
// block buffers live on free lists of the reader's, not in a sync.Pool: a
// pool empties at every other GC, and an archive container's batch regrown
// from nothing leaves tens of megabytes of garbage behind each time.
type freeList[T any] chan T

// get returns a kept value, or the zero value when none is kept.
func (l freeList[T]) get() (v T) {
	select {
	case v = <-l:
	default:
	}
	return v
}

// put keeps v unless the list is full, and says whether it did.
func (l freeList[T]) put(v T) bool {
	select {
	case l <- v:
		return true
	default:
		return false
	}
}

// reserve returns b emptied with room for n bytes, n capped so a corrupt
// container header cannot make it allocate much: past the cap, the buffer
// grows as records arrive, and keeps its size for the next container.
func reserve(b []byte, n int64) []byte {
	n = min(max(n, 0), 4<<20)
	if int64(cap(b)) < n {
		return make([]byte, 0, n)
	}
	return b[:0]
}

// NewReader reads the file definition and SAM header of a CRAM stream and
// starts decoding. ref may be nil when no slice needs a reference. Close
// stops the decoding goroutines if the stream is not read to its end.
func NewReader(r io.Reader, ref ReferenceSource) (*Reader, error) {
	return NewReaderOptions(r, ref, Options{})
}

// NewReaderOptions is NewReader with options.
func NewReaderOptions(r io.Reader, ref ReferenceSource, opt Options) (*Reader, error) {
	br := bufio.NewReaderSize(r, 1<<20)
	var def [26]byte
	if n, err := io.ReadFull(br, def[:]); err != nil {
		if n == 0 {
			return nil, &Error{Msg: "the file is empty"}
		}
		return nil, &Error{Msg: fmt.Sprintf("file definition: %v after %d of 26 bytes", errTruncated, n)}
	}
	if string(def[:4]) != "CRAM" {
		return nil, &Error{Msg: fmt.Sprintf("not a CRAM file: starts with %q, not \"CRAM\"", def[:4])}
	}
	major, minor := int(def[4]), int(def[5])
	if major != 3 || minor > 1 {
		return nil, &Error{Msg: fmt.Sprintf("CRAM version %d.%d is not supported (only 3.0 and 3.1)", major, minor)}
	}
	opt = opt.withDefaults()
	e := &env{major: major, src: ref, prefix: opt.NamePrefix, unknownRG: -1, checkCRC: !opt.skipCRC,
		maxContainer: opt.MaxContainer, maxBlock: opt.MaxBlock, mem: newMemory(int64(opt.MaxMemory), int64(opt.MaxRatio)), batches: make(freeList[*batch], 1), raws: make(freeList[[][]byte], 2)}
	e.maxWork = int64(e.maxContainer)
	if opt.maxWork > 0 {
		e.maxWork = opt.maxWork
	}
	inFlight := int64(defaultInFlight)
	if opt.inFlight > 0 {
		inFlight = opt.inFlight
	}
	// The order queue bounds small containers, the budget big ones: a
	// few containers past the workers' keep them busy.
	rd := &Reader{limits: opt, env: e, minor: minor, index: opt.Index, order: make(chan *job, 4), budget: newBudget(inFlight), quit: make(chan struct{})}

	// The SAM header container.
	offset := int64(len(def))
	h, _, err := readContainerHeader(br, major, !opt.skipCRC, e.maxContainer, nil)
	if err != nil {
		if err == io.EOF {
			err = errTruncated
		}
		return nil, &Error{Offset: offset, Container: true, Msg: "SAM header container: " + err.Error(), Err: err}
	}
	data := make([]byte, 0, min(int(h.length), 1<<20))
	data, err = readN(br, data, int(h.length), nil)
	if err != nil {
		return nil, &Error{Offset: offset, Container: true, Msg: "SAM header container: " + err.Error(), Err: err}
	}
	blk, _, err := parseBlock(data, major, !opt.skipCRC, e.maxBlock)
	if err == nil {
		err = blk.uncompress()
	}
	if err == nil && blk.contentType != contentFileHeader {
		err = fmt.Errorf("first block has content type %d, not a file header", blk.contentType)
	}
	if err == nil && len(blk.raw) < 4 {
		err = fmt.Errorf("header block of %d bytes", len(blk.raw))
	}
	if err != nil {
		return nil, &Error{Offset: offset, Container: true, Msg: "SAM header: " + err.Error(), Err: err}
	}
	textLen := int64(binary.LittleEndian.Uint32(blk.raw))
	if textLen > int64(rd.limits.MaxHeader) {
		le := &limit.Error{Name: "max-header", What: fmt.Sprintf("the SAM header text length %d", textLen), Limit: int64(rd.limits.MaxHeader), Bytes: true}
		return nil, &Error{Offset: offset, Container: true, Msg: "SAM header: " + le.Error(), Err: le}
	}
	if textLen > int64(len(blk.raw)-4) {
		return nil, &Error{Offset: offset, Container: true, Msg: fmt.Sprintf("SAM header text of %d bytes does not fit its %d-byte block", textLen, len(blk.raw)-4)}
	}
	text := blk.raw[4 : 4+textLen]
	if i := bytes.IndexByte(text, 0); i >= 0 {
		text = text[:i]
	}
	if err := rd.parseHeader(string(text)); err != nil {
		return nil, &Error{Offset: offset, Container: true, Msg: "SAM header: " + err.Error(), Err: err}
	}
	offset += int64(h.headerBytes) + int64(h.length)
	e.mem.read.Store(offset)

	workers := opt.Workers
	if workers <= 0 {
		workers = min(2, cpus.Compute())
	}
	jobs := make(chan *job, workers)
	for range workers {
		rd.wg.Add(1)
		go func() {
			defer rd.wg.Done()
			// A panic decoding a container becomes its error, and the
			// worker goes on, so that every container queued comes done.
			for {
				j, err := e.decodeJobs(jobs)
				if err == nil {
					return
				}
				j.b, j.err = nil, err
				close(j.done)
			}
		}()
	}
	rd.wg.Add(1)
	go func() {
		defer rd.wg.Done()
		defer close(jobs)
		defer close(rd.order)
		j, err := rd.readContainers(br, major, offset, jobs)
		if err == nil {
			return
		}
		// A panic (of the source, say): Read gets it in order, in place
		// of the container being read.
		if j == nil {
			j = &job{done: make(chan struct{})}
		}
		j.err = err
		close(j.done)
		select {
		case rd.order <- j:
		case <-rd.quit:
		}
	}()
	return rd, nil
}

// decodeJobs decodes containers until the queue closes (nil, nil) or one
// panics (that container and the panic).
func (e *env) decodeJobs(jobs <-chan *job) (j *job, err error) {
	defer panics.Recover(&err)
	for j = range jobs {
		for {
			j.b, j.err = e.decodeContainer(j)
			if !errors.Is(j.err, errGiveWay) {
				break
			}
			if !e.mem.waitHead(&j.charge) {
				j.err = errClosed
				break
			}
		}
		d := j.data[:0]
		dataPool.Put(&d)
		j.data = nil
		close(j.done)
	}
	return nil, nil
}

// readN reads n bytes into dst, growing it as bytes arrive rather than
// trusting n up front. It gives up, with errClosed, once quit is closed, so
// that closing a Reader does not wait for a large container to arrive.
func readN(r io.Reader, dst []byte, n int, quit <-chan struct{}) ([]byte, error) {
	dst = dst[:0]
	for len(dst) < n {
		select {
		case <-quit:
			return dst, errClosed
		default:
		}
		chunk := min(n-len(dst), 1<<20)
		if cap(dst)-len(dst) < chunk {
			nd := make([]byte, len(dst), max(2*cap(dst), len(dst)+chunk))
			copy(nd, dst)
			dst = nd
		}
		m, err := io.ReadFull(r, dst[len(dst):len(dst)+chunk])
		dst = dst[:len(dst)+m]
		if err != nil {
			return dst, fmt.Errorf("%w: %d of %d bytes", errTruncated, len(dst), n)
		}
	}
	return dst, nil
}

// errClosed ends the reading of a container when the Reader is closed.
var errClosed = errors.New("reader closed")

var dataPool = sync.Pool{New: func() any { return new([]byte) }}

// readContainers reads containers in order and hands them to the workers
// and, in the same order, to Read. It returns an error only for a panic,
// with the container it was reading (nil if none was queued yet).
func (rd *Reader) readContainers(br *bufio.Reader, major int, offset int64, jobs chan<- *job) (j *job, err error) {
	defer panics.Recover(&err)
	var hbuf []byte
	for seq := int64(0); ; seq++ {
		h, hb, err := readContainerHeader(br, major, rd.env.checkCRC, rd.env.maxContainer, hbuf)
		hbuf = hb
		if err == io.EOF {
			return nil, nil
		}
		j = &job{offset: offset, hdr: h, charge: charge{seq: seq}, done: make(chan struct{})}
		if err != nil {
			j.err = &Error{Offset: offset, Container: true, Msg: err.Error(), Err: err}
			close(j.done)
			select {
			case rd.order <- j:
			case <-rd.quit:
			}
			return nil, nil
		}
		j.cost = containerCost(&h)
		if !rd.budget.acquire(j.cost) {
			return nil, nil
		}
		bp := dataPool.Get().(*[]byte)
		j.data, err = readN(br, *bp, int(h.length), rd.quit)
		if err != nil {
			j.err = &Error{Offset: offset, Container: true, Msg: "container data: " + err.Error(), Err: err}
			close(j.done)
			select {
			case rd.order <- j:
			case <-rd.quit:
			}
			return nil, nil
		}
		offset += int64(h.headerBytes) + int64(h.length)
		rd.env.mem.read.Store(offset)
		select {
		case rd.order <- j:
		case <-rd.quit:
			return nil, nil
		}
		select {
		case jobs <- j:
		case <-rd.quit:
			j.err = errClosed
			close(j.done)
			return nil, nil
		}
		j = nil // queued: no longer the reader's to fail
	}
}

// decodeContainer decodes every slice of a container.
func (e *env) decodeContainer(j *job) (*batch, error) {
	if !e.mem.admit(&j.charge) {
		return nil, errClosed
	}
	b := e.getBatch()
	b.reset()
	// Size the batch from the header, so that it does not grow by doubling.
	h := &j.hdr
	b.seqs = reserve(b.seqs, h.bases)
	b.quals = reserve(b.quals, h.bases)
	if n := min(max(int(h.records), 0), 1<<14); cap(b.recs) < n {
		b.recs = make([]record, 0, n)
	}
	b.offset = j.offset
	b.counter = j.hdr.counter
	d := &sliceDecoder{env: e, raws: e.getRaws(), b: b, work: e.maxWork, charge: &j.charge}
	e.mem.begin(&j.charge)
	defer func() {
		e.mem.end(&j.charge)
		// The block buffers go back for the next container: they are
		// charged to it when it takes them.
		e.mem.untake(&j.charge, d.rawsSize)
		e.putRaws(d.raws)
	}()
	fail := func(slice int, rec int64, err error) (*batch, error) {
		e.mem.release(&j.charge)
		e.putBatch(b)
		if errors.Is(err, errGiveWay) || errors.Is(err, errClosed) {
			return nil, err
		}
		return nil, &Error{Offset: j.offset, Container: true, Slice: slice, Record: rec, Msg: err.Error(), Err: err}
	}
	if len(h.landmarks) == 0 {
		if h.records != 0 {
			return fail(0, 0, fmt.Errorf("container holds %d records but no slices", h.records))
		}
		// The EOF container, or an empty one.
		return b, nil
	}
	data := j.data
	for _, r := range d.raws {
		d.rawsSize += int64(cap(r))
	}
	if err := d.account(0, "the container's buffers"); err != nil {
		return fail(0, 0, err)
	}
	cblk, _, err := parseBlock(data, e.major, e.checkCRC, e.maxBlock)
	declared := int64(cblk.rawSize)
	if err == nil {
		err = d.uncompressHeader(&cblk, "the compression header")
	}
	if err == nil && cblk.contentType != contentCompression {
		err = fmt.Errorf("first block has content type %d, not a compression header", cblk.contentType)
	}
	if err != nil {
		return fail(0, 0, fmt.Errorf("compression header: %w", err))
	}
	ch, err := parseCompressionHeader(cblk.raw)
	if err != nil {
		return fail(0, 0, fmt.Errorf("compression header: %w", err))
	}
	d.ch = ch
	var blocks []block
	for s, lm := range h.landmarks {
		if lm < 0 || int(lm) >= len(data) {
			return fail(s+1, 0, fmt.Errorf("landmark %d outside the container's %d bytes", lm, len(data)))
		}
		pos := int(lm)
		sblk, n, err := parseBlock(data[pos:], e.major, e.checkCRC, e.maxBlock)
		declared += int64(sblk.rawSize)
		if err == nil {
			err = d.uncompressHeader(&sblk, fmt.Sprintf("slice %d's header", s+1))
		}
		if err == nil && sblk.contentType != contentSliceHeader {
			err = fmt.Errorf("block at the landmark has content type %d, not a slice header", sblk.contentType)
		}
		if err != nil {
			return fail(s+1, 0, fmt.Errorf("slice header: %w", err))
		}
		sh, err := parseSliceHeader(sblk.raw, e.major)
		if err != nil {
			return fail(s+1, 0, fmt.Errorf("slice header: %w", err))
		}
		pos += n
		blocks = blocks[:0]
		for k := 0; k < sh.blocks; k++ {
			blk, n, err := parseBlock(data[pos:], e.major, e.checkCRC, e.maxBlock)
			if err != nil {
				return fail(s+1, 0, fmt.Errorf("block %d of %d: %w", k+1, sh.blocks, err))
			}
			// Checked before any block of the slice is decoded, since
			// decoders allocate what the blocks declare.
			if declared += int64(blk.rawSize); declared > int64(e.maxContainer) {
				return fail(s+1, 0, &limit.Error{Name: "max-cram-container", What: fmt.Sprintf("the uncompressed sizes the container's blocks declare (%d bytes up to this one)", declared), Limit: int64(e.maxContainer), Bytes: true})
			}
			blk.offset = pos
			blocks = append(blocks, blk)
			pos += n
		}
		d.sh = sh
		d.sliceOffset = int64(lm)
		d.sliceSize = int64(pos) - int64(lm)
		if err := d.decode(blocks); err != nil {
			var re *recordError
			if errors.As(err, &re) {
				return fail(s+1, sh.counter+int64(re.index)+1, re.err)
			}
			return fail(s+1, 0, err)
		}
	}
	if err := e.mem.finish(&j.charge); err != nil {
		return fail(0, 0, err)
	}
	e.inflated.Add(declared)
	return b, nil
}

// parseHeader reads the reference dictionary and read groups.
func (rd *Reader) parseHeader(text string) error {
	rd.header.Text = text
	e := rd.env
	for line := range strings.SplitSeq(text, "\n") {
		line = strings.TrimSuffix(line, "\r")
		switch {
		case strings.HasPrefix(line, "@SQ\t"):
			var ref sam.Reference
			hasLen := false
			for f := range strings.SplitSeq(line[4:], "\t") {
				switch {
				case strings.HasPrefix(f, "SN:"):
					ref.Name = f[3:]
				case strings.HasPrefix(f, "LN:"):
					n, err := strconv.ParseInt(f[3:], 10, 64)
					if err != nil || n < 0 {
						return fmt.Errorf("@SQ line %q has a bad LN", line)
					}
					ref.Length = int(n)
					hasLen = true
				}
			}
			if ref.Name == "" || !hasLen {
				return fmt.Errorf("@SQ line %q lacks SN or LN", line)
			}
			if len(ref.Name) > rd.limits.MaxReferenceName {
				return &limit.Error{Name: "max-reference-name", What: fmt.Sprintf("reference %d's name length %d", len(e.refs)+1, len(ref.Name)), Limit: int64(rd.limits.MaxReferenceName), Bytes: true}
			}
			if len(e.refs) == rd.limits.MaxReferences {
				return &limit.Error{Name: "max-references", What: "the header's @SQ lines", Limit: int64(rd.limits.MaxReferences)}
			}
			e.refs = append(e.refs, ref)
		case strings.HasPrefix(line, "@RG\t"):
			for f := range strings.SplitSeq(line[4:], "\t") {
				if strings.HasPrefix(f, "ID:") {
					e.rgNames = append(e.rgNames, []byte(f[3:]))
				}
			}
		}
	}
	rd.header.References = e.refs
	// htsjdk adds a read group named UNKNOWN last; htslib drops it from
	// records.
	if n := len(e.rgNames); n > 0 && string(e.rgNames[n-1]) == "UNKNOWN" {
		e.unknownRG = int32(n - 1)
	}
	return nil
}

// Header returns the SAM header.
func (rd *Reader) Header() *sam.Header { return &rd.header }

// Version returns the CRAM major and minor version.
func (rd *Reader) Version() (major, minor int) { return rd.env.major, rd.minor }

// Inflated returns how many uncompressed bytes the blocks decoded so far
// hold, for a caller that bounds or reports it.
func (rd *Reader) Inflated() int64 { return rd.env.inflated.Load() }

// Records is how many records Read has returned.
func (rd *Reader) Records() int64 { return rd.n }

// Close stops decoding and waits for the goroutines to end, so that nothing
// reads the underlying reader once it returns (a Read of it in progress is
// waited for, and a container being decoded is finished). It is safe to
// call more than once and after the stream ended.
func (rd *Reader) Close() error {
	rd.stopped.Do(func() {
		close(rd.quit)
		rd.budget.close()
		rd.env.mem.close()
		// Drain what the reader goroutine queued so it and the workers end.
		for j := range rd.order {
			<-j.done
			rd.budget.release(j.cost)
			rd.env.mem.release(&j.charge)
		}
		rd.wg.Wait()
	})
	return nil
}

// Read fills rec with the next record. It returns io.EOF after the last.
// The record's slices point into the reader's buffers and stay valid until
// the following Read: copy what must outlive it, and do not write through
// them.
func (rd *Reader) Read(rec *sam.Record) error {
	if rd.err != nil {
		return rd.err
	}
	for rd.cur == nil || rd.next >= len(rd.cur.recs) {
		if rd.cur != nil {
			rd.budget.release(rd.curCost)
			rd.env.mem.release(rd.curCharge)
			rd.env.putBatch(rd.cur)
			rd.cur = nil
		}
		j, ok := <-rd.order
		if !ok {
			rd.err = io.EOF
			return io.EOF
		}
		<-j.done
		rd.env.mem.advance(&j.charge)
		if j.err != nil {
			rd.budget.release(j.cost)
			rd.env.mem.release(&j.charge)
			rd.err = j.err
			rd.Close()
			return rd.err
		}
		rd.cur, rd.curCost, rd.curCharge, rd.next = j.b, j.cost, &j.charge, 0
		if rd.index != nil {
			for _, e := range j.b.index {
				rd.index(e)
			}
		}
	}
	b := rd.cur
	r := &b.recs[rd.next]
	rd.next++
	rd.n++
	// The record's slices point into the batch, which stays alive until
	// the next Read moves past it; capacities end at each field so that a
	// caller's append copies instead of overwriting the next record.
	rec.Name = b.names[r.name.start:r.name.end:r.name.end]
	rec.Flag = uint16(r.flag)
	rec.RefID = r.refID
	rec.Pos = int32(r.apos - 1)
	rec.MapQ = r.mapq
	rec.Cigar = b.cigars[r.cigar.start:r.cigar.end:r.cigar.end]
	rec.MateRefID = r.mateRef
	rec.MatePos = int32(r.matePos - 1)
	rec.TLen = int32(r.tlen)
	rec.Seq = b.seqs[r.seq.start:r.seq.end:r.seq.end]
	rec.Qual = b.quals[r.qual.start:r.qual.end:r.qual.end]
	rec.Aux = b.aux[r.aux.start:r.aux.end:r.aux.end]
	return nil
}

// Package bam reads BAM files (hts-specs SAMv1 §4.2) as a stream of
// sam.Records, validating every field on the way, and reports the BGZF
// virtual offsets around each record so that an index can be built in the
// same pass. Records are decoded into a caller-owned sam.Record without
// allocating per record.
//
// It is hand-written because the Go BAM readers that exist allocate a record
// per read, do not expose the virtual offsets an indexer needs alongside a
// parallel BGZF reader, validate too little to tell a user what is wrong
// with a file, and do not reproduce what samtools does with the records it
// accepts (the CG tag that carries a long CIGAR, names missing their NUL),
// which the SAM text ETag depends on.
package bam

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sync"
	"unsafe"

	"github.com/seqstore/seqstore/internal/format/bgzf"
	"github.com/seqstore/seqstore/internal/format/limit"
	"github.com/seqstore/seqstore/internal/format/sam"
)

// Magic starts the uncompressed data of every BAM file.
var Magic = []byte("BAM\x01")

// ErrNotBAM is what a *ParseError wraps when the input is not BAM at all
// (CRAM, VCF, FASTQ, plain gzip, ...); its message says what it looks like.
var ErrNotBAM = errors.New("not a BAM file")

// ErrTruncated is what a *ParseError wraps when the data stops early: in a
// block, in a record, or without BGZF's end-of-file marker.
var ErrTruncated = errors.New("truncated BAM file")

// ParseError is a defect in a BAM file and where it is.
type ParseError struct {
	// Record is the 1-based number of the record being read; 0 means the
	// header.
	Record int64
	// Offset is the virtual offset where the record (or header) starts, or
	// the start of the defective BGZF block.
	Offset bgzf.VirtualOffset
	Msg    string
	// Err is the underlying cause when there is one: ErrNotBAM,
	// ErrTruncated or a *bgzf.BlockError.
	Err error
}

// Where names the place: "record 3021 (BGZF block at byte 1048576)" or
// "header (BGZF block at byte 0)".
func (e *ParseError) Where() string {
	what := "header"
	if e.Record > 0 {
		what = fmt.Sprintf("record %d", e.Record)
	}
	return fmt.Sprintf("%s (BGZF block at byte %d)", what, e.Offset.BlockOffset())
}

func (e *ParseError) Error() string { return e.Where() + ": " + e.Msg }

func (e *ParseError) Unwrap() error { return e.Err }

// Default limits: the header's are sam's. htslib accepts records of up to
// 2 GiB; a real one needs far less, and a corrupt or hostile length must
// not turn into gigabytes held. A record of the longest nanopore reads
// (about 4 million bases: 2 MB of packed bases, 4 MB of qualities, a long
// CIGAR and base-modification tags) takes some 10 MB.
const (
	DefaultMaxRecord        = 32 << 20
	DefaultMaxHeader        = sam.DefaultMaxHeader
	DefaultMaxReferences    = sam.DefaultMaxReferences
	DefaultMaxReferenceName = sam.DefaultMaxReferenceName
)

// Options bound what a Reader buffers. Zero fields take the defaults.
type Options struct {
	// MaxRecord bounds a record's block_size.
	MaxRecord int
	// MaxHeader bounds the header's text (l_text) and its reference names
	// together.
	MaxHeader int
	// MaxReferences bounds the header's reference count (n_ref).
	MaxReferences int
	// MaxReferenceName bounds one reference name (l_name).
	MaxReferenceName int
}

func (o Options) withDefaults() Options {
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&o.MaxRecord, DefaultMaxRecord)
	def(&o.MaxHeader, DefaultMaxHeader)
	def(&o.MaxReferences, DefaultMaxReferences)
	def(&o.MaxReferenceName, DefaultMaxReferenceName)
	return o
}

const (
	// growStep is how much buffer the reader adds at a time for a large
	// record or header, so that a corrupt length fails on the missing data
	// instead of allocating what it claims.
	growStep = 1 << 20
	// fixedSize is the part of a record after block_size up to read_name.
	fixedSize = 32
)

// Reader reads a BAM stream. It is not safe for concurrent use.
type Reader struct {
	opt     Options
	z       *bgzf.Reader
	src     *sourceReader
	header  sam.Header
	records int64
	buf     []byte
	// size receives each record's block_size; kept here because a local
	// array passed to io.ReadFull escapes, costing an allocation per record.
	size [4]byte
	// start and end are the virtual offsets around the last record read.
	start, end bgzf.VirtualOffset
}

// NewReader checks that r holds BAM, starts decompressing it (on every
// CPU) and reads the header, within the default limits. A stream that is
// not BAM gets an error wrapping ErrNotBAM that says what it looks like.
// Close the Reader to stop its goroutines.
func NewReader(r io.Reader) (*Reader, error) { return NewReaderOptions(r, Options{}) }

// NewReaderOptions is NewReader within the limits of opt. A file that
// passes one fails with a *ParseError wrapping a *limit.Error.
func NewReaderOptions(r io.Reader, opt Options) (*Reader, error) {
	src := &sourceReader{r: r}
	br := bufio.NewReaderSize(src, 64<<10)
	head, _ := br.Peek(64)
	if src.err != nil {
		return nil, &ParseError{Msg: src.err.Error(), Err: src.err}
	}
	if !bgzf.IsHeader(head) {
		return nil, &ParseError{Msg: describeNonBGZF(head), Err: ErrNotBAM}
	}
	rd := &Reader{opt: opt.withDefaults(), z: bgzf.NewReader(br), src: src}
	if err := rd.readHeader(); err != nil {
		rd.Close()
		return nil, err
	}
	return rd, nil
}

// sourceReader remembers the first failure of the underlying reader, so
// that a read error is reported as itself and not as the truncated block
// the BGZF layer sees.
type sourceReader struct {
	r   io.Reader
	mu  sync.Mutex
	err error
}

func (s *sourceReader) Read(p []byte) (int, error) {
	n, err := s.r.Read(p)
	if err != nil && err != io.EOF {
		s.mu.Lock()
		if s.err == nil {
			s.err = err
		}
		s.mu.Unlock()
	}
	return n, err
}

func (s *sourceReader) failure() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

// Close stops the decompressing goroutines. It does not close the
// underlying reader.
func (r *Reader) Close() error { return r.z.Close() }

// Inflated returns how many uncompressed bytes the reader has reached, for
// a caller that bounds or reports it.
func (r *Reader) Inflated() int64 { return r.z.Inflated() }

// Header returns the header.
func (r *Reader) Header() *sam.Header { return &r.header }

// Offsets returns the virtual offsets at the start and the end of the last
// record read, normalised as htslib's bgzf_tell normalises them, which is
// what a BAI records.
func (r *Reader) Offsets() (start, end bgzf.VirtualOffset) { return r.start, r.end }

// Records returns how many records have been read.
func (r *Reader) Records() int64 { return r.records }

func (r *Reader) fail(format string, args ...any) error {
	return &ParseError{Record: r.records + 1, Offset: r.start, Msg: fmt.Sprintf(format, args...)}
}

// readErr turns an error from the BGZF layer, met while reading what, into
// a ParseError for the record being read (0 for the header).
func (r *Reader) readErr(err error, record int64, got, want int, what string) error {
	if cause := r.src.failure(); cause != nil {
		return &ParseError{Record: record, Offset: r.start, Msg: "reading the file: " + cause.Error(), Err: cause}
	}
	var be *bgzf.BlockError
	if errors.As(err, &be) {
		return &ParseError{Record: record, Offset: bgzf.MakeVirtualOffset(be.Offset, 0), Msg: be.Msg, Err: be}
	}
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		msg := fmt.Sprintf("the file ends %d bytes into %s of %d bytes: it is truncated", got, what, want)
		if !r.z.SawEOFMarker() {
			msg = fmt.Sprintf("the file ends %d bytes into %s of %d bytes, without the BGZF end-of-file marker: it is truncated", got, what, want)
		}
		return &ParseError{Record: record, Offset: r.start, Msg: msg, Err: ErrTruncated}
	}
	return &ParseError{Record: record, Offset: r.start, Msg: err.Error(), Err: err}
}

// readFull fills buf[:n] from the stream, growing buf a step at a time so
// that a corrupt length cannot make it allocate more than the data holds.
func (r *Reader) readFull(buf []byte, n int, record int64, what string) ([]byte, error) {
	if cap(buf) >= n {
		buf = buf[:n]
		if got, err := io.ReadFull(r.z, buf); err != nil {
			return buf, r.readErr(err, record, got, n, what)
		}
		return buf, nil
	}
	buf = buf[:0]
	for len(buf) < n {
		step := min(n-len(buf), max(growStep, len(buf)))
		buf = append(buf, make([]byte, step)...)
		if got, err := io.ReadFull(r.z, buf[len(buf)-step:]); err != nil {
			return buf, r.readErr(err, record, len(buf)-step+got, n, what)
		}
	}
	return buf, nil
}

func (r *Reader) readHeader() error {
	var word [4]byte
	if got, err := io.ReadFull(r.z, word[:]); err != nil {
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			return &ParseError{Msg: fmt.Sprintf("the BGZF data holds %d bytes, too few for the BAM magic", got), Err: ErrNotBAM}
		}
		return r.readErr(err, 0, got, 4, "the BAM magic")
	}
	if !bytes.Equal(word[:], Magic) {
		// Look further to say what the compressed data is.
		more := make([]byte, 60)
		n, _ := io.ReadFull(r.z, more)
		return &ParseError{Msg: describeBGZFContent(append(word[:], more[:n]...)), Err: ErrNotBAM}
	}
	u32 := func(what string) (uint32, error) {
		if got, err := io.ReadFull(r.z, word[:]); err != nil {
			return 0, r.readErr(err, 0, got, 4, what)
		}
		return binary.LittleEndian.Uint32(word[:]), nil
	}
	lText, err := u32("the header text length")
	if err != nil {
		return err
	}
	if int64(lText) > int64(r.opt.MaxHeader) {
		return r.tooBig(0, &limit.Error{Name: "max-header", What: fmt.Sprintf("the header text length %d", lText), Limit: int64(r.opt.MaxHeader), Bytes: true})
	}
	text, err := r.readFull(nil, int(lText), 0, "the header text")
	if err != nil {
		return err
	}
	if err := checkHeaderText(text); err != nil {
		return err
	}
	if i := bytes.IndexByte(text, 0); i >= 0 {
		// htslib reads the text only up to a NUL; writers pad with them.
		text = text[:i]
	}
	// The buffer is never written again, so the string can share it
	// instead of holding a second copy of a header of many megabytes.
	r.header.Text = unsafe.String(unsafe.SliceData(text), len(text))
	headerBytes := int64(lText)
	n, err := u32("the reference count")
	if err != nil {
		return err
	}
	if int32(n) < 0 {
		return &ParseError{Msg: fmt.Sprintf("the reference count %d is negative", int32(n))}
	}
	if int64(n) > int64(r.opt.MaxReferences) {
		return r.tooBig(0, &limit.Error{Name: "max-references", What: fmt.Sprintf("the header's %d reference sequences", n), Limit: int64(r.opt.MaxReferences)})
	}
	// The list grows as references arrive, not by the count's say.
	r.header.References = make([]sam.Reference, 0, min(n, 1<<12))
	var names nameArena
	var name []byte
	for i := range int(n) {
		lName, err := u32("a reference name length")
		if err != nil {
			return err
		}
		if int32(lName) <= 0 {
			return &ParseError{Msg: fmt.Sprintf("reference %d has a name length of %d", i+1, int32(lName))}
		}
		if int64(lName) > int64(r.opt.MaxReferenceName) {
			return r.tooBig(0, &limit.Error{Name: "max-reference-name", What: fmt.Sprintf("reference %d's name length %d", i+1, lName), Limit: int64(r.opt.MaxReferenceName), Bytes: true})
		}
		if headerBytes += int64(lName); headerBytes > int64(r.opt.MaxHeader) {
			return r.tooBig(0, &limit.Error{Name: "max-header", What: fmt.Sprintf("the header text and reference names up to reference %d", i+1), Limit: int64(r.opt.MaxHeader), Bytes: true})
		}
		if name, err = r.readFull(name, int(lName)+4, 0, "a reference name and length"); err != nil {
			return err
		}
		length := int32(binary.LittleEndian.Uint32(name[lName:]))
		ref := name[:lName]
		if j := bytes.IndexByte(ref, 0); j >= 0 {
			// samtools prints a name up to its first NUL, and keeps one
			// that lacks its NUL whole.
			ref = ref[:j]
		}
		if length < 0 {
			return &ParseError{Msg: fmt.Sprintf("reference %d (%q) has the negative length %d", i+1, ref, length)}
		}
		r.header.References = append(r.header.References, sam.Reference{Name: names.string(ref), Length: int(length)})
	}
	r.end = r.z.VirtualOffset()
	return nil
}

// tooBig is the error for a file that passes a limit.
func (r *Reader) tooBig(record int64, le *limit.Error) error {
	return &ParseError{Record: record, Offset: r.start, Msg: le.Error(), Err: le}
}

// nameArena keeps reference names in a few large blocks rather than one
// allocation each: a header of a million names costs their bytes, not a
// million objects.
type nameArena struct{ block []byte }

// string returns a string holding b, stored in the arena.
func (a *nameArena) string(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	if cap(a.block)-len(a.block) < len(b) {
		a.block = make([]byte, 0, max(64<<10, len(b)))
	}
	start := len(a.block)
	a.block = append(a.block, b...)
	// Bytes once appended are never written again, so strings may share
	// them.
	return unsafe.String(&a.block[start], len(b))
}

// checkHeaderText refuses what samtools refuses in header text: a line (up
// to the first NUL) that does not start with '@', empty lines included.
func checkHeaderText(text []byte) error {
	if i := bytes.IndexByte(text, 0); i >= 0 {
		text = text[:i]
	}
	line := 1
	for start := 0; start < len(text); line++ {
		if text[start] != '@' {
			return &ParseError{Msg: fmt.Sprintf("header text line %d does not start with '@'", line)}
		}
		end := bytes.IndexByte(text[start:], '\n')
		if end < 0 {
			break
		}
		start += end + 1
	}
	return nil
}

// baseLetters is BAM's 4-bit base code as letters (SAMv1 §4.2.3).
const baseLetters = "=ACMGRSVTWYHKDBN"

// basePairs decodes one byte of BAM sequence into its two letters, the
// first in the low byte, so that a little-endian store writes them in order.
var basePairs = func() (t [256]uint16) {
	for v := range t {
		t[v] = uint16(baseLetters[v>>4]) | uint16(baseLetters[v&0xf])<<8
	}
	return t
}()

// decodeSeq writes the letters of the packed sequence into seq, which holds
// at least two bytes per packed byte. Four packed bytes become one 8-byte
// store, which halves the time of a byte-at-a-time loop.
func decodeSeq(seq, packed []byte) {
	i := 0
	for ; i+4 <= len(packed); i += 4 {
		x := binary.LittleEndian.Uint32(packed[i:])
		w := uint64(basePairs[x&0xff]) | uint64(basePairs[x>>8&0xff])<<16 |
			uint64(basePairs[x>>16&0xff])<<32 | uint64(basePairs[x>>24])<<48
		binary.LittleEndian.PutUint64(seq[2*i:], w)
	}
	for ; i < len(packed); i++ {
		binary.LittleEndian.PutUint16(seq[2*i:], basePairs[packed[i]])
	}
}

// Read fills rec with the next record. rec.Qual and rec.Aux point into the
// reader's buffer and stay valid until the next Read. At the clean end of
// the file it returns io.EOF; a file that stops without BGZF's end-of-file marker is an
// error wrapping ErrTruncated.
func (r *Reader) Read(rec *sam.Record) error {
	r.start = r.z.VirtualOffset()
	got, err := io.ReadFull(r.z, r.size[:])
	if err == io.EOF {
		if !r.z.SawEOFMarker() {
			return &ParseError{Record: r.records + 1, Offset: r.start, Err: ErrTruncated,
				Msg: "the file ends without the BGZF end-of-file marker: it is truncated"}
		}
		return io.EOF
	}
	if err != nil {
		return r.readErr(err, r.records+1, got, 4, "a record's block_size")
	}
	blockSize := binary.LittleEndian.Uint32(r.size[:])
	if blockSize < fixedSize || int32(blockSize) < 0 {
		return r.fail("block_size %d is less than the %d bytes of a record's fixed fields", int32(blockSize), fixedSize)
	}
	if int64(blockSize) > int64(r.opt.MaxRecord) {
		return r.tooBig(r.records+1, &limit.Error{Name: "max-bam-record", What: fmt.Sprintf("block_size %d", blockSize), Limit: int64(r.opt.MaxRecord), Bytes: true})
	}
	if r.buf, err = r.readFull(r.buf, int(blockSize), r.records+1, "a record"); err != nil {
		return err
	}
	r.end = r.z.VirtualOffset()
	if err := r.decode(r.buf, rec); err != nil {
		return err
	}
	r.records++
	return nil
}

// decode fills rec from one record's bytes (after block_size), checking
// every field.
func (r *Reader) decode(b []byte, rec *sam.Record) error {
	le := binary.LittleEndian
	nRef := int32(len(r.header.References))
	rec.RefID = int32(le.Uint32(b[0:]))
	rec.Pos = int32(le.Uint32(b[4:]))
	lName := int(b[8])
	rec.MapQ = b[9]
	// b[10:12] is the bin, which htslib recomputes and never checks.
	nCigar := int(le.Uint16(b[12:]))
	rec.Flag = le.Uint16(b[14:])
	lSeq := int32(le.Uint32(b[16:]))
	rec.MateRefID = int32(le.Uint32(b[20:]))
	rec.MatePos = int32(le.Uint32(b[24:]))
	rec.TLen = int32(le.Uint32(b[28:]))
	if rec.RefID < -1 || rec.RefID >= nRef {
		return r.fail("refID %d is out of range [-1, %d)", rec.RefID, nRef)
	}
	if rec.MateRefID < -1 || rec.MateRefID >= nRef {
		return r.fail("next refID %d is out of range [-1, %d)", rec.MateRefID, nRef)
	}
	if rec.Pos < -1 {
		return r.fail("pos %d is below -1", rec.Pos)
	}
	// A next pos below -1 breaks the specification too, but samtools
	// prints it unchanged and real files carry it (one of htslib's own test
	// BAMs does); nothing seqstore computes depends on it.
	if lName < 1 {
		return r.fail("l_read_name is 0: a read name needs at least its NUL")
	}
	if lSeq < 0 {
		return r.fail("l_seq %d is negative", lSeq)
	}
	seqBytes := (int(lSeq) + 1) / 2
	if need := fixedSize + lName + 4*nCigar + seqBytes + int(lSeq); need > len(b) {
		return r.fail("l_read_name %d, n_cigar_op %d and l_seq %d need %d bytes but block_size is %d", lName, nCigar, lSeq, need, len(b))
	}
	p := fixedSize
	name := b[p : p+lName]
	if name[lName-1] == 0 {
		name = name[:lName-1]
	}
	// A name without its NUL is kept whole, as samtools keeps it.
	rec.Name = append(rec.Name[:0], name...)
	p += lName
	rec.Cigar = rec.Cigar[:0]
	for i := range nCigar {
		c := le.Uint32(b[p+4*i:])
		if c&0xf > sam.CigarDiff {
			return r.fail("CIGAR operation %d has the invalid op code %d", i+1, c&0xf)
		}
		rec.Cigar = append(rec.Cigar, c)
	}
	p += 4 * nCigar
	if cap(rec.Seq) < seqBytes*2 {
		rec.Seq = make([]byte, 0, seqBytes*2)
	}
	seq := rec.Seq[:seqBytes*2]
	decodeSeq(seq, b[p:p+seqBytes])
	rec.Seq = seq[:lSeq]
	p += seqBytes
	// Qualities and tags are the bulk of a record; rather than copy them,
	// the record points into the reader's buffer, which stays untouched
	// until the next Read.
	rec.Qual = b[p : p+int(lSeq) : p+int(lSeq)]
	p += int(lSeq)
	aux := b[p:len(b):len(b)]
	if err := sam.CheckAux(aux); err != nil {
		return r.fail("%v", err)
	}
	rec.Aux = aux
	if err := r.moveLongCigar(rec); err != nil {
		return err
	}
	if len(rec.Cigar) > 0 && lSeq > 0 && rec.Flag&sam.FlagUnmapped == 0 {
		if q := rec.QueryLength(); q != int64(lSeq) {
			return r.fail("CIGAR consumes %d query bases but SEQ has %d", q, lSeq)
		}
	}
	return nil
}

// moveLongCigar puts back a CIGAR of more than 65535 operations, which BAM
// keeps in a CG:B:I tag behind a placeholder CIGAR of a soft clip spanning
// the read (SAMv1 §4.2.2), as htslib does when it reads the record: the
// real CIGAR replaces the placeholder and the CG tag disappears, so samtools
// view prints neither.
func (r *Reader) moveLongCigar(rec *sam.Record) error {
	if len(rec.Cigar) == 0 || rec.RefID < 0 || rec.Pos < 0 {
		return nil
	}
	if c := rec.Cigar[0]; c&0xf != sam.CigarSoftClip || int(c>>4) != len(rec.Seq) {
		return nil
	}
	tagStart, typ, value := sam.FindAux(rec.Aux, "CG")
	if tagStart < 0 || typ != 'B' || (value[0] != 'I' && value[0] != 'i') {
		return nil
	}
	n := binary.LittleEndian.Uint32(value[1:])
	if int(n) < len(rec.Cigar) || n >= 1<<29 {
		return nil
	}
	rec.Cigar = rec.Cigar[:0]
	for i := range int(n) {
		c := binary.LittleEndian.Uint32(value[5+4*i:])
		if c&0xf > sam.CigarDiff {
			return r.fail("CIGAR operation %d (in the CG tag) has the invalid op code %d", i+1, c&0xf)
		}
		rec.Cigar = append(rec.Cigar, c)
	}
	// Cut the whole field (tag, 'B', subtype, count, values) out of Aux.
	rec.Aux = append(rec.Aux[:tagStart], rec.Aux[tagStart+3+len(value):]...)
	return nil
}

// describeNonBGZF says what a stream that does not start with a BGZF block
// looks like.
func describeNonBGZF(head []byte) string {
	switch {
	case len(head) == 0:
		return "the file is empty"
	case bytes.HasPrefix(head, []byte("CRAM")):
		return "this is CRAM, not BAM"
	case bytes.HasPrefix(head, Magic):
		return "this is uncompressed BAM; BAM files are BGZF-compressed (samtools view -b writes them)"
	case len(head) >= 2 && head[0] == 0x1f && head[1] == 0x8b:
		return "this is gzip but not BGZF (no BC block-size field), so not BAM; a gzipped FASTQ?"
	case bytes.HasPrefix(head, []byte("BZh")):
		return "this is bzip2-compressed data, not BAM"
	case bytes.HasPrefix(head, []byte{0xfd, '7', 'z', 'X', 'Z', 0}):
		return "this is xz-compressed data, not BAM"
	case bytes.HasPrefix(head, []byte{0x28, 0xb5, 0x2f, 0xfd}):
		return "this is zstd-compressed data, not BAM"
	}
	if what := describeText(head); what != "" {
		return "this is " + what + ", not BAM"
	}
	return fmt.Sprintf("this is not BAM: it starts with the bytes %x instead of a BGZF block", head[:min(len(head), 8)])
}

// describeBGZFContent says what BGZF-compressed data that lacks the BAM
// magic looks like.
func describeBGZFContent(head []byte) string {
	if bytes.HasPrefix(head, []byte("BCF")) {
		return "this is BCF (bgzipped binary VCF), not BAM"
	}
	if what := describeText(head); what != "" {
		return "this is bgzipped " + what + ", not BAM"
	}
	return fmt.Sprintf("this is BGZF-compressed but not BAM: the data starts with %q instead of the magic \"BAM\\1\"", head[:min(len(head), 8)])
}

// describeText recognises the text formats people upload by mistake.
func describeText(head []byte) string {
	switch {
	case bytes.HasPrefix(head, []byte("##fileformat=VCF")):
		return "VCF"
	case bytes.HasPrefix(head, []byte("@HD\t")), bytes.HasPrefix(head, []byte("@SQ\t")),
		bytes.HasPrefix(head, []byte("@RG\t")), bytes.HasPrefix(head, []byte("@PG\t")), bytes.HasPrefix(head, []byte("@CO\t")):
		return "SAM text"
	case len(head) > 0 && head[0] == '@':
		return "FASTQ"
	case len(head) > 0 && head[0] == '>':
		return "FASTA"
	}
	return ""
}

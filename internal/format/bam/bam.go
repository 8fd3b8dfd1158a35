// Package bam reads BAM files (SAMv1 §4.2) as a stream of sam.Records,
// validating every field on the way, and reports the BGZF virtual offsets
// around each record so that an index can be built in the same pass. Records
// are decoded into a caller-owned sam.Record without allocating per record.
//
// It is hand-written because the Go BAM readers that exist allocate a record
// per read, do not expose the virtual offsets an indexer needs alongside a
// parallel BGZF reader, and validate too little to tell a user what is wrong
// with a file.
package bam

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/seqstore/seqstore/internal/format/bgzf"
	"github.com/seqstore/seqstore/internal/format/sam"
)

// ParseError is a defect in a BAM file.
type ParseError struct {
	Record int64 // 1-based; 0 for the header
	Offset bgzf.VirtualOffset
	Msg    string
}

func (e *ParseError) Error() string {
	where := "header"
	if e.Record > 0 {
		where = fmt.Sprintf("record %d", e.Record)
	}
	return fmt.Sprintf("%s (BGZF block at byte %d): %s", where, e.Offset.BlockOffset(), e.Msg)
}

// Reader reads a BAM stream.
type Reader struct {
	z       *bgzf.Reader
	header  sam.Header
	records int64
	buf     []byte
	// Start and End are the virtual offsets of the last record read.
	start, end bgzf.VirtualOffset
}

// maxRecordSize bounds block_size so a corrupt length cannot make the reader
// allocate gigabytes.
const maxRecordSize = 64 << 20

// NewReader reads the BAM header from z, a BGZF reader over the file.
func NewReader(z *bgzf.Reader) (*Reader, error) {
	r := &Reader{z: z}
	if err := r.readHeader(); err != nil {
		return nil, err
	}
	return r, nil
}

// Header returns the header.
func (r *Reader) Header() *sam.Header { return &r.header }

// Offsets returns the virtual offsets at the start and end of the last
// record read.
func (r *Reader) Offsets() (start, end bgzf.VirtualOffset) { return r.start, r.end }

// Records returns how many records were read.
func (r *Reader) Records() int64 { return r.records }

func (r *Reader) fail(format string, args ...any) error {
	rec := r.records + 1
	if r.header.References == nil && r.records == 0 && r.start == 0 {
		rec = 0
	}
	return &ParseError{Record: rec, Offset: r.start, Msg: fmt.Sprintf(format, args...)}
}

// ErrNotBAM marks input that is not BAM at all.
var ErrNotBAM = errors.New("not BAM")

func (r *Reader) full(p []byte, what string) error {
	if _, err := io.ReadFull(r.z, p); err != nil {
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			return &ParseError{Record: r.records + 1, Offset: r.start, Msg: "the file ends inside " + what + ": it is truncated"}
		}
		return err
	}
	return nil
}

func (r *Reader) readHeader() error {
	var fixed [8]byte
	if _, err := io.ReadFull(r.z, fixed[:4]); err != nil {
		return &ParseError{Msg: fmt.Sprintf("cannot read the BAM magic: %v", err)}
	}
	if !bytes.Equal(fixed[:4], []byte("BAM\x01")) {
		return fmt.Errorf("%w: %w", ErrNotBAM, &ParseError{Msg: "the BGZF data does not start with the BAM magic \"BAM\\1\"" + guess(fixed[:4])})
	}
	if err := r.full(fixed[:4], "the header"); err != nil {
		return err
	}
	lText := int32(binary.LittleEndian.Uint32(fixed[:4]))
	if lText < 0 || lText > maxRecordSize {
		return &ParseError{Msg: fmt.Sprintf("header text length %d is out of range", lText)}
	}
	text := make([]byte, lText)
	if err := r.full(text, "the header text"); err != nil {
		return err
	}
	r.header.Text = string(bytes.TrimRight(text, "\x00"))
	if err := r.full(fixed[:4], "the reference list"); err != nil {
		return err
	}
	nRef := int32(binary.LittleEndian.Uint32(fixed[:4]))
	if nRef < 0 || nRef > 1<<24 {
		return &ParseError{Msg: fmt.Sprintf("reference count %d is out of range", nRef)}
	}
	r.header.References = make([]sam.Reference, 0, nRef)
	for i := int32(0); i < nRef; i++ {
		if err := r.full(fixed[:4], "the reference list"); err != nil {
			return err
		}
		lName := int32(binary.LittleEndian.Uint32(fixed[:4]))
		if lName < 1 || lName > 1<<16 {
			return &ParseError{Msg: fmt.Sprintf("reference %d has a name length of %d", i, lName)}
		}
		name := make([]byte, lName+4)
		if err := r.full(name, "the reference list"); err != nil {
			return err
		}
		length := int32(binary.LittleEndian.Uint32(name[lName:]))
		if length < 0 {
			return &ParseError{Msg: fmt.Sprintf("reference %d has a negative length", i)}
		}
		r.header.References = append(r.header.References, sam.Reference{Name: string(bytes.TrimRight(name[:lName], "\x00")), Length: int(length)})
	}
	return nil
}

// guess names what a stream that is not BAM looks like.
func guess(head []byte) string {
	switch {
	case bytes.HasPrefix(head, []byte("##fi")):
		return "; it looks like bgzipped VCF"
	case len(head) > 0 && head[0] == '@':
		return "; it looks like bgzipped FASTQ or SAM text"
	case bytes.HasPrefix(head, []byte("BCF")):
		return "; it looks like BCF"
	}
	return ""
}

// seqLetters decodes BAM's 4-bit bases.
const seqLetters = "=ACMGRSVTWYHKDBN"

// basePairs decodes a byte of BAM sequence into its two letters.
var basePairs = func() (t [256][2]byte) {
	for v := range t {
		t[v] = [2]byte{seqLetters[v>>4], seqLetters[v&0xf]}
	}
	return t
}()

// Read fills rec with the next record; at the end it returns io.EOF. A
// stream that ends without BGZF's end-of-file marker is an error: the file
// was truncated at a block boundary.
func (r *Reader) Read(rec *sam.Record) error {
	r.start = r.z.VirtualOffset()
	var size [4]byte
	n, err := io.ReadFull(r.z, size[:])
	if err == io.EOF {
		if !r.z.SawEOFMarker() {
			return &ParseError{Record: r.records + 1, Offset: r.start, Msg: "the file ends without the BGZF end-of-file marker: it is truncated"}
		}
		return io.EOF
	}
	if err == io.ErrUnexpectedEOF {
		return r.fail("the file ends inside a record's length (%d of 4 bytes): it is truncated", n)
	}
	if err != nil {
		return err
	}
	blockSize := int32(binary.LittleEndian.Uint32(size[:]))
	if blockSize < 32 || blockSize > maxRecordSize {
		return r.fail("block_size %d is out of range [32, %d]", blockSize, maxRecordSize)
	}
	if cap(r.buf) < int(blockSize) {
		r.buf = make([]byte, blockSize)
	}
	b := r.buf[:blockSize]
	if err := r.full(b, "a record"); err != nil {
		return err
	}
	r.end = r.z.VirtualOffset()
	if err := r.decode(b, rec); err != nil {
		return err
	}
	r.records++
	return nil
}

func (r *Reader) decode(b []byte, rec *sam.Record) error {
	le := binary.LittleEndian
	nRef := int32(len(r.header.References))
	rec.RefID = int32(le.Uint32(b[0:]))
	rec.Pos = int32(le.Uint32(b[4:]))
	lName := int(b[8])
	rec.MapQ = b[9]
	nCigar := int(le.Uint16(b[12:]))
	rec.Flag = le.Uint16(b[14:])
	lSeq := int32(le.Uint32(b[16:]))
	rec.MateRefID = int32(le.Uint32(b[20:]))
	rec.MatePos = int32(le.Uint32(b[24:]))
	rec.TLen = int32(le.Uint32(b[28:]))
	if rec.RefID < -1 || rec.RefID >= nRef {
		return r.fail("reference id %d is out of range [-1, %d)", rec.RefID, nRef)
	}
	if rec.MateRefID < -1 || rec.MateRefID >= nRef {
		return r.fail("mate reference id %d is out of range [-1, %d)", rec.MateRefID, nRef)
	}
	if rec.Pos < -1 || rec.MatePos < -1 {
		return r.fail("position %d or mate position %d is below -1", rec.Pos, rec.MatePos)
	}
	if lName < 1 {
		return r.fail("read name length is 0")
	}
	if lSeq < 0 {
		return r.fail("sequence length %d is negative", lSeq)
	}
	need := 32 + lName + 4*nCigar + int((lSeq+1)/2) + int(lSeq)
	if need > len(b) {
		return r.fail("the fields need %d bytes but block_size says %d", need, len(b))
	}
	p := 32
	name := b[p : p+lName]
	if name[lName-1] != 0 {
		return r.fail("read name is not NUL-terminated")
	}
	rec.Name = append(rec.Name[:0], name[:lName-1]...)
	p += lName
	rec.Cigar = rec.Cigar[:0]
	for i := 0; i < nCigar; i++ {
		c := le.Uint32(b[p:])
		if c&0xf > 8 {
			return r.fail("CIGAR operation %d has the invalid op code %d", i+1, c&0xf)
		}
		rec.Cigar = append(rec.Cigar, c)
		p += 4
	}
	if rec.Flag&sam.FlagUnmapped == 0 && nCigar > 0 && lSeq > 0 {
		if q := rec.QueryLength(); q != int(lSeq) {
			return r.fail("CIGAR consumes %d query bases but SEQ has %d", q, lSeq)
		}
	}
	seqBytes := b[p : p+int((lSeq+1)/2)]
	if cap(rec.Seq) < int(lSeq)+1 {
		rec.Seq = make([]byte, 0, lSeq+1)
	}
	// Two bases a byte, looked up two at a time.
	seq := rec.Seq[:len(seqBytes)*2]
	for i, v := range seqBytes {
		pair := basePairs[v]
		seq[2*i], seq[2*i+1] = pair[0], pair[1]
	}
	rec.Seq = seq[:lSeq]
	p += len(seqBytes)
	rec.Qual = append(rec.Qual[:0], b[p:p+int(lSeq)]...)
	rec.QualMissing = lSeq > 0 && b[p] == 0xff
	p += int(lSeq)
	aux := b[p:]
	for q := aux; len(q) > 0; {
		if len(q) < 3 {
			return r.fail("a tag is cut short at the end of the record")
		}
		n := sam.AuxSize(q[2], q[3:])
		if n < 0 {
			return r.fail("tag %q has the unknown type %q or runs past the end of the record", q[:2], q[2])
		}
		q = q[3+n:]
	}
	rec.Aux = append(rec.Aux[:0], aux...)
	return nil
}

// Package fastq reads FASTQ records as a stream, the way htslib (and so
// samtools) reads them: a name line starting with '@', sequence lines up to a
// line starting with '+', then quality lines until the qualities are as long
// as the sequence. Every record is validated and a defect is reported with
// its record and line number. The reader allocates nothing per record and,
// for the common four-line record, copies nothing either: the record points
// into its buffer. That matters at hundreds of megabytes a second.
//
// Line endings may be "\n" or "\r\n": like htslib's line reader, the
// reader drops one '\r' before each '\n', so Windows files read as their Unix
// twins (a '\r' anywhere else is an invalid character). Blank lines between
// records and at the end are skipped, as seqkit skips them (samtools import
// stops at a blank line and calls the file truncated; refusing files that
// every other tool reads would help no one). The '+' line may repeat
// the name or say anything; like samtools, the reader does not compare it.
// Sequences may hold letters of either case and '*', '.', '-', '='; qualities
// must be Phred+33, '!' to '~'.
//
// It is hand-written because the Go FASTQ readers that exist either allocate
// per record, accept only four-line records, or do not validate.
package fastq

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strconv"

	"github.com/seqstore/seqstore/internal/format/limit"
)

// Record is one FASTQ record. Its slices point into the Reader's buffers
// and are valid until the next Read.
type Record struct {
	Name []byte // the header line without '@' (name and comment)
	Seq  []byte
	Qual []byte
}

// ParseError is a defect in the input.
type ParseError struct {
	Record int64 // 1-based
	Line   int64 // 1-based line where the defect was found
	Msg    string
	// Err is a *limit.Error when the record is too long to read, else nil.
	Err error
}

func (e *ParseError) Error() string {
	return fmt.Sprintf("record %d (line %d): %s", e.Record, e.Line, e.Msg)
}

func (e *ParseError) Unwrap() error { return e.Err }

// Default limits. The longest nanopore reads reported are about 4 million
// bases, a 4 MB sequence line and a 4 MB quality line; the defaults leave
// four times that, and still keep what one record can make the reader hold
// (its lines are gathered into the record's buffers, nowhere else) at a few
// tens of megabytes.
const (
	DefaultMaxLine   = 16 << 20
	DefaultMaxRecord = 32 << 20
)

// Options bound what a Reader buffers. Zero fields take the defaults.
type Options struct {
	// MaxLine bounds one line, without its line ending.
	MaxLine int
	// MaxRecord bounds a record's name, sequence and quality lines
	// together, so that a sequence cut into many short lines is bounded
	// too.
	MaxRecord int
}

// Reader reads records.
type Reader struct {
	r          *bufio.Reader
	maxLine    int
	maxRecord  int
	line       int64
	recordLine int64
	records    int64
	// name, seq and qual gather a record that Read takes line by line;
	// name keeps the line's '@'.
	name, seq, qual []byte
}

// NewReader reads FASTQ from r with the default limits.
func NewReader(r io.Reader) *Reader { return NewReaderOptions(r, Options{}) }

// NewReaderOptions reads FASTQ from r within the limits of opt.
func NewReaderOptions(r io.Reader, opt Options) *Reader {
	rd := &Reader{r: bufio.NewReaderSize(r, 1<<20), maxLine: opt.MaxLine, maxRecord: opt.MaxRecord}
	if rd.maxLine <= 0 {
		rd.maxLine = DefaultMaxLine
	}
	if rd.maxRecord <= 0 {
		rd.maxRecord = DefaultMaxRecord
	}
	return rd
}

// Records returns how many records were read.
func (r *Reader) Records() int64 { return r.records }

// Lines returns how many lines were read.
func (r *Reader) Lines() int64 { return r.line }

// RecordLine returns the line number of the name line of the record Read
// last returned (or failed on), so callers can point at a record that is
// well-formed but wrong in their eyes, such as an unpaired mate.
func (r *Reader) RecordLine() int64 { return r.recordLine }

// appendLine appends the next line, without its line ending ("\n" or
// "\r\n"), to dst, and returns dst and the line (the tail of dst). used is
// how many bytes of the record came before, which counts against
// MaxRecord. The line is gathered straight into dst and checked against
// the limits as it arrives, so a line without an end costs no more memory
// than the limits allow. At the end of the input it returns io.EOF.
func (r *Reader) appendLine(dst []byte, used int) ([]byte, []byte, error) {
	start := len(dst)
	room := min(r.maxLine, r.maxRecord-used)
	for {
		chunk, err := r.r.ReadSlice('\n')
		// One byte more than room may be the '\r' of a "\r\n".
		if len(dst)-start+len(chunk) > room+2 || err == bufio.ErrBufferFull && len(dst)-start+len(chunk) > room+1 {
			return dst, nil, r.tooLong(used)
		}
		dst = grow(dst, len(chunk), start+room+2)
		dst = append(dst, chunk...)
		if err == bufio.ErrBufferFull {
			continue
		}
		if err == io.EOF {
			if len(dst) == start {
				return dst, nil, io.EOF
			}
			err = nil
		}
		if err != nil {
			return dst, nil, err
		}
		break
	}
	r.line++
	// Byte tests rather than bytes.TrimSuffix, whose comparison is a call
	// per line.
	if n := len(dst); n > start && dst[n-1] == '\n' {
		dst = dst[:n-1]
	}
	dst = dst[:start+len(dropCR(dst[start:]))]
	if len(dst)-start > room {
		r.line--
		return dst, nil, r.tooLong(used)
	}
	return dst, dst[start:], nil
}

// grow makes room in b for n more bytes, doubling its capacity but never
// past most (unless n needs it), so that a record near the limit does not
// leave a buffer a quarter bigger again, as append's growth would.
func grow(b []byte, n, most int) []byte {
	if len(b)+n <= cap(b) {
		return b
	}
	c := max(len(b)+n, min(2*cap(b), most))
	nb := make([]byte, len(b), c)
	copy(nb, b)
	return nb
}

// tooLong is the error for a line that passes a limit: the line's own, or
// the record's when the record's earlier lines used up most of it.
func (r *Reader) tooLong(used int) error {
	le := &limit.Error{Name: "max-fastq-line", What: fmt.Sprintf("line %d", r.line+1), Limit: int64(r.maxLine), Bytes: true}
	if r.maxRecord-used < r.maxLine {
		le = &limit.Error{Name: "max-fastq-record", What: fmt.Sprintf("record %d", r.records+1), Limit: int64(r.maxRecord), Bytes: true}
	}
	return &ParseError{Record: r.records + 1, Line: r.line + 1, Msg: le.Error(), Err: le}
}

// dropCR drops the '\r' of a "\r\n" line ending from a line whose '\n' is
// gone, as htslib does.
func dropCR(line []byte) []byte {
	if n := len(line); n > 0 && line[n-1] == '\r' {
		return line[:n-1]
	}
	return line
}

func (r *Reader) fail(format string, args ...any) error {
	return &ParseError{Record: r.records + 1, Line: r.line, Msg: fmt.Sprintf(format, args...)}
}

// ErrNotFASTQ marks input that is not FASTQ at all.
var ErrNotFASTQ = errors.New("not FASTQ")

// Read fills rec with the next record. At the end it returns io.EOF.
func (r *Reader) Read(rec *Record) error {
	if r.readBuffered(rec) {
		return nil
	}
	var line []byte
	var err error
	// Blank lines between records (and at the end) are skipped.
	for {
		r.name, line, err = r.appendLine(r.name[:0], 0)
		if err != nil {
			return err
		}
		if len(line) > 0 {
			break
		}
	}
	r.recordLine = r.line
	if line[0] != '@' {
		if r.records == 0 {
			return fmt.Errorf("%w: %w", ErrNotFASTQ, r.fail("the first line does not start with '@' (%s)", describe(line)))
		}
		return r.fail("expected a name line starting with '@', found %s", describe(line))
	}
	// The sequence lines gather in seq; the line after them, which ends
	// the sequence, is read into qual and moved over when it is the '+'.
	r.seq = r.seq[:0]
	for {
		r.qual, line, err = r.appendLine(r.qual[:0], len(r.name)+len(r.seq))
		if err == io.EOF {
			return r.fail("the file ends before the '+' line")
		}
		if err != nil {
			return err
		}
		if len(line) > 0 && line[0] == '+' {
			break
		}
		if len(line) > 0 && line[0] == '@' {
			return r.fail("no '+' line after the sequence: the next line is a name line %s", describe(line))
		}
		if i := invalidBase(line); i >= 0 {
			return r.fail("sequence has an invalid character %s at position %d", quoteByte(line[i]), len(r.seq)+i+1)
		}
		if len(r.seq) == 0 {
			// The usual single sequence line: swap buffers rather than
			// copy it.
			r.seq, r.qual = r.qual, r.seq
			continue
		}
		r.seq = append(grow(r.seq, len(line), r.maxRecord-len(r.name)), line...)
	}
	r.qual = r.qual[:0]
	for len(r.qual) < len(r.seq) {
		n := len(r.qual)
		r.qual, line, err = r.appendLine(r.qual, len(r.name)+len(r.seq)+n)
		if err == io.EOF {
			return r.fail("the file ends inside the qualities: quality length %d, sequence length %d", n, len(r.seq))
		}
		if err != nil {
			return err
		}
		if i := invalidQual(line); i >= 0 {
			return r.fail("quality character %s (byte %d) at position %d is outside the Phred+33 range '!'..'~'", quoteByte(line[i]), line[i], n+i+1)
		}
	}
	if len(r.qual) != len(r.seq) {
		return r.fail("quality length %d differs from sequence length %d", len(r.qual), len(r.seq))
	}
	r.records++
	rec.Name, rec.Seq, rec.Qual = r.name[1:], r.seq, r.qual
	return nil
}

// readBuffered reads the next record straight from the buffer when it is a
// valid four-line record held there whole, as nearly every record is, and
// reports whether it did. No line is copied: the record points into the
// buffer. Anything else (a record cut by the buffer's end, blank lines,
// multi-line sequences, a defect) is left untouched for Read's line by line
// path, which also words the errors.
func (r *Reader) readBuffered(rec *Record) bool {
	buf, _ := r.r.Peek(r.r.Buffered())
	if len(buf) == 0 || buf[0] != '@' {
		return false
	}
	var lines [4][]byte
	p := 0
	for i := range lines {
		j := bytes.IndexByte(buf[p:], '\n')
		if j < 0 {
			return false
		}
		lines[i] = dropCR(buf[p : p+j])
		p += j + 1
	}
	name, seq, plus, qual := lines[0], lines[1], lines[2], lines[3]
	if len(seq) == 0 || seq[0] == '+' || seq[0] == '@' || len(plus) == 0 || plus[0] != '+' || len(qual) != len(seq) {
		return false
	}
	if invalidBase(seq) >= 0 || invalidQual(qual) >= 0 {
		return false
	}
	if len(name) > r.maxLine || len(seq) > r.maxLine || len(plus) > r.maxLine || len(name)+2*len(seq) > r.maxRecord {
		return false // the line by line path words the error
	}
	r.r.Discard(p)
	r.line += 4
	r.recordLine = r.line - 3
	r.records++
	rec.Name, rec.Seq, rec.Qual = name[1:], seq, qual
	return true
}

// describe shows the start of a line in an error message.
func describe(line []byte) string {
	if len(line) > 20 {
		line = line[:20]
	}
	return fmt.Sprintf("%q", line)
}

// quoteByte shows one byte in single quotes, escaping it as Go would in a
// string: a lone byte of a UTF-8 sequence shows as '\xc3', not as a letter.
func quoteByte(c byte) string {
	q := strconv.Quote(string([]byte{c}))
	return "'" + q[1:len(q)-1] + "'"
}

// baseOK marks the bytes htslib accepts in a sequence: IUPAC letters of
// either case, and '*', '.', '-', '='.
var baseOK = func() (t [256]bool) {
	for c := 'A'; c <= 'Z'; c++ {
		t[c], t[c+'a'-'A'] = true, true
	}
	for _, c := range "*.-=" {
		t[c] = true
	}
	return t
}()

// The checks below test eight bytes at a time with the "has a byte less
// than / more than" bit tricks, falling back to one byte at a time only for
// a word that fails, which is where the bad byte (or a rare legal one such
// as '*' in a sequence) is.
const (
	ones  = 0x0101010101010101
	highs = 0x8080808080808080
)

// hasLess reports whether a byte of x is below n (n <= 128).
func hasLess(x, n uint64) bool { return (x-ones*n)&^x&highs != 0 }

// hasMore reports whether a byte of x is above n (n <= 127).
func hasMore(x, n uint64) bool { return ((x+ones*(127-n))|x)&highs != 0 }

func invalidBase(s []byte) int {
	i := 0
	for ; i+8 <= len(s); i += 8 {
		// Letters of either case, folded to lower case, lie in 'a'..'z';
		// folding maps every other byte outside that range.
		x := binary.LittleEndian.Uint64(s[i:]) | ones*0x20
		if hasLess(x, 'a') || hasMore(x, 'z') {
			if j := invalidBaseSlow(s[i : i+8]); j >= 0 {
				return i + j
			}
		}
	}
	if j := invalidBaseSlow(s[i:]); j >= 0 {
		return i + j
	}
	return -1
}

func invalidBaseSlow(s []byte) int {
	for i, c := range s {
		if !baseOK[c] {
			return i
		}
	}
	return -1
}

func invalidQual(s []byte) int {
	i := 0
	for ; i+8 <= len(s); i += 8 {
		x := binary.LittleEndian.Uint64(s[i:])
		if hasLess(x, '!') || hasMore(x, '~') {
			break
		}
	}
	for ; i < len(s); i++ {
		if c := s[i]; c < '!' || c > '~' {
			return i
		}
	}
	return -1
}

// PairKey returns the part of a header line that names the read pair: the
// name up to the first white space, without a trailing /1 or /2.
func PairKey(header []byte) []byte {
	// A loop, since names are short and bytes.IndexAny sets up a table.
	for i, c := range header {
		if c == ' ' || c == '\t' {
			header = header[:i]
			break
		}
	}
	if n := len(header); n >= 2 && header[n-2] == '/' && (header[n-1] == '1' || header[n-1] == '2') {
		header = header[:n-2]
	}
	return header
}

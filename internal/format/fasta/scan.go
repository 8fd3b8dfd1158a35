package fasta

import (
	"bufio"
	"bytes"
	"crypto/md5"
	"crypto/sha512"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
)

// Sequence is one sequence of a FASTA file as Scan found it: its .fai entry
// and its digests.
type Sequence struct {
	Entry
	// MD5 is the SAM @SQ M5 digest: the lower-case hex MD5 of the
	// sequence's residues, upper-cased, without line breaks.
	MD5 string
	// GA4GH is the GA4GH sequence identifier (refget's "ga4gh" digest,
	// sha512t24u): "SQ." and the URL-safe unpadded base64 of the first 24
	// bytes of the SHA-512 of the same upper-cased residues.
	GA4GH string
}

// GA4GHPrefix starts every GA4GH sequence identifier.
const GA4GHPrefix = "SQ."

// ga4ghDigest turns a finished SHA-512 into a GA4GH sequence identifier.
func ga4ghDigest(sum []byte) string {
	return GA4GHPrefix + base64.RawURLEncoding.EncodeToString(sum[:24])
}

// Limits bound what Scan keeps in memory: one entry per sequence and one
// header line at a time. The zero value takes the defaults.
type Limits struct {
	// MaxSequences is the most sequences a file may hold.
	MaxSequences int
	// MaxHeader is the longest header line, in bytes.
	MaxHeader int
}

// Default limits: far above any genome assembly's count of sequences (the
// largest have a few hundred thousand scaffolds) and header length.
const (
	DefaultMaxSequences = 1_000_000
	DefaultMaxHeader    = 64 << 10
)

// Defect is a FASTA file's first defect, at a line (counted from 1) and,
// once the first header has been read, in a named sequence.
type Defect struct {
	Line     int64
	Sequence string // "" before the first header
	Reason   string
}

func (d *Defect) Error() string {
	if d.Sequence == "" {
		return fmt.Sprintf("line %d: %s", d.Line, d.Reason)
	}
	return fmt.Sprintf("sequence %q, line %d: %s", d.Sequence, d.Line, d.Reason)
}

// iupac holds the residues a reference may contain: the IUPAC nucleotide
// codes, in either case.
var iupac = func() (t [256]bool) {
	for _, c := range []byte("ACGTURYSWKMBDHVN") {
		t[c], t[c+'a'-'A'] = true, true
	}
	return t
}()

// scanner is Scan's state between lines.
type scanner struct {
	lim    Limits
	seqs   []Sequence
	names  map[string]struct{}
	line   int64 // the current line's number
	off    int64 // byte offset of the current line's start
	cur    *Sequence
	header int64 // line of the current sequence's header
	// short is the line of a line of the current sequence shorter than
	// its first, or of a blank line in it: only a header or the end of
	// the file may follow.
	short int64
	// upper collects upper-cased residues for the hasher, which digests
	// them on a goroutine of its own while the scan goes on.
	upper  []byte
	hasher *hasher
}

// hasher digests the residues of one sequence at a time, MD5 and SHA-512
// each on a goroutine of its own: hashing is most of an import's work, and
// the scan with the copy it feeds takes the rest, so the three share it
// between the cores. Buffers go round between the scan and the digests,
// each one read by both before it is filled again, so memory stays bounded.
type hasher struct {
	md, sha  digester
	free     [][]byte // buffers both digests are done with
	inflight [][]byte // buffers handed over, oldest first
}

// digester is one digest's goroutine. It takes buffers of residues, and nil
// for the sum since the last; it acknowledges each buffer once digested.
type digester struct {
	work chan []byte
	ack  chan struct{}
	sums chan []byte
	done chan struct{}
}

// hasherBuffers is how many buffers of hasherBuffer bytes go round: one
// the scan fills while the digests work through the others. With room for
// a few MiB between them, the scan and the two digests seldom wait on one
// another; three of 64 KiB made them take turns, and an import of a
// chromosome took a quarter longer.
const (
	hasherBuffers = 8
	hasherBuffer  = 256 << 10
)

func newHasher() *hasher {
	h := &hasher{md: startDigester(md5.New()), sha: startDigester(sha512.New())}
	for range hasherBuffers {
		h.free = append(h.free, make([]byte, 0, hasherBuffer))
	}
	return h
}

func startDigester(d hash.Hash) digester {
	g := digester{
		work: make(chan []byte, hasherBuffers+1),
		ack:  make(chan struct{}, hasherBuffers),
		sums: make(chan []byte),
		done: make(chan struct{}),
	}
	go func() {
		defer close(g.done)
		for b := range g.work {
			if b == nil {
				g.sums <- d.Sum(nil)
				d.Reset()
				continue
			}
			d.Write(b)
			g.ack <- struct{}{}
		}
	}()
	return g
}

// take returns an empty buffer, waiting until both digests are done with
// the oldest one handed over when none is free.
func (h *hasher) take() []byte {
	if len(h.free) == 0 {
		<-h.md.ack
		<-h.sha.ack
		h.free = append(h.free, h.inflight[0][:0])
		h.inflight = h.inflight[1:]
	}
	b := h.free[len(h.free)-1]
	h.free = h.free[:len(h.free)-1]
	return b
}

// give hands residues to both digests.
func (h *hasher) give(b []byte) {
	h.inflight = append(h.inflight, b)
	h.md.work <- b
	h.sha.work <- b
}

// sum returns the MD5 and SHA-512 of the residues handed over since the
// last sum, once they are digested; every buffer is free again after it.
func (h *hasher) sum() (md, sha []byte) {
	h.md.work <- nil
	h.sha.work <- nil
	md, sha = <-h.md.sums, <-h.sha.sums
	for _, b := range h.inflight {
		<-h.md.ack
		<-h.sha.ack
		h.free = append(h.free, b[:0])
	}
	h.inflight = h.inflight[:0]
	return md, sha
}

// stop ends the digests' goroutines and waits until they have.
func (h *hasher) stop() {
	close(h.md.work)
	close(h.sha.work)
	<-h.md.done
	<-h.sha.done
}

// Scan reads a plain FASTA file once and returns its sequences, checking
// what a reference must be: at least one sequence; every header naming a
// sequence (the text up to the first space or tab), each name once; each
// sequence holding at least one residue, every residue an IUPAC nucleotide
// code (case is kept in the file, and ignored by the digest); and in each
// sequence every line but the last of the same length and line ending, so
// that the returned entries are a valid .fai index (WriteIndex). Blank
// lines may follow a sequence's last line. The first defect is returned as
// a *Defect; memory is bounded by lim whatever the input.
func Scan(r io.Reader, lim Limits) ([]Sequence, error) {
	if lim.MaxSequences <= 0 {
		lim.MaxSequences = DefaultMaxSequences
	}
	if lim.MaxHeader <= 0 {
		lim.MaxHeader = DefaultMaxHeader
	}
	s := &scanner{lim: lim, names: make(map[string]struct{}), hasher: newHasher()}
	defer s.hasher.stop()
	s.upper = s.hasher.take()
	br := bufio.NewReaderSize(r, 256<<10)
	for {
		s.line++
		eof, err := s.readLine(br)
		if err != nil {
			return nil, err
		}
		if eof {
			break
		}
	}
	if err := s.endSequence(); err != nil {
		return nil, err
	}
	if len(s.seqs) == 0 {
		return nil, &Defect{Line: s.line, Reason: "no sequences: a FASTA file has at least one '>' header followed by residues"}
	}
	return s.seqs, nil
}

func (s *scanner) defect(format string, args ...any) error {
	d := &Defect{Line: s.line, Reason: fmt.Sprintf(format, args...)}
	if s.cur != nil {
		d.Sequence = s.cur.Name
	}
	return d
}

// readLine consumes one line, which may be longer than the reader's
// buffer, and reports whether the input had ended before it.
func (s *scanner) readLine(br *bufio.Reader) (eof bool, err error) {
	first, err := br.Peek(1)
	if len(first) == 0 {
		if err == io.EOF {
			return true, nil
		}
		return false, err
	}
	if first[0] == '>' {
		return false, s.readHeader(br)
	}
	if s.bulkResidues(br) {
		return false, nil
	}
	return false, s.readResidues(br)
}

// bulkResidues consumes, straight from the reader's buffer, the run of
// whole lines of the current sequence that it holds, as long as each is
// as wide as the sequence's first line and holds only IUPAC residues, and
// reports whether it consumed any. That is nearly every line of a genome,
// taken here without a call per line; the line-by-line path
// (readResidues) takes the rest: a sequence's first and last lines, and
// any defect, which it reports with its line and column.
func (s *scanner) bulkResidues(br *bufio.Reader) bool {
	if s.cur == nil || s.short != 0 || s.cur.LineBases == 0 {
		return false
	}
	e := &s.cur.Entry
	width, bases := int(e.LineWidth), int(e.LineBases)
	if width-bases != 1 && width-bases != 2 {
		return false
	}
	data, _ := br.Peek(br.Buffered())
	lines := 0
	for ; len(data) >= width; data = data[width:] {
		line := data[:width]
		if line[width-1] != '\n' || (width-bases == 2 && line[bases] != '\r') || !allIUPAC(line[:bases]) {
			break
		}
		s.addUpper(line[:bases])
		lines++
	}
	if lines == 0 {
		return false
	}
	br.Discard(lines * width)
	// The caller counted the first line; the rest are counted here.
	s.line += int64(lines) - 1
	s.off += int64(lines * width)
	e.Length += int64(lines * bases)
	return true
}

// notIUPAC is zero for the residues a reference may contain, one for
// every other byte.
var notIUPAC = func() (t [256]byte) {
	for c := range t {
		if !iupac[c] {
			t[c] = 1
		}
	}
	return t
}()

// allIUPAC reports whether every byte of b is an IUPAC nucleotide code.
func allIUPAC(b []byte) bool {
	var bad byte
	for len(b) >= 8 {
		bad |= notIUPAC[b[0]] | notIUPAC[b[1]] | notIUPAC[b[2]] | notIUPAC[b[3]] |
			notIUPAC[b[4]] | notIUPAC[b[5]] | notIUPAC[b[6]] | notIUPAC[b[7]]
		b = b[8:]
	}
	for _, c := range b {
		bad |= notIUPAC[c]
	}
	return bad == 0
}

// addUpper adds residues already checked, upper-cased, to the digest's
// buffer, eight at a time.
func (s *scanner) addUpper(b []byte) {
	const lower = 0x2020202020202020 // bit 5 of each byte: set in lower-case letters
	for len(b) > 0 {
		buf, n := s.upper[:cap(s.upper)], len(s.upper)
		k := min(len(b), len(buf)-n)
		dst, src := buf[n:n+k], b[:k]
		for len(src) >= 8 {
			binary.LittleEndian.PutUint64(dst, binary.LittleEndian.Uint64(src)&^lower)
			dst, src = dst[8:], src[8:]
		}
		for i, c := range src {
			dst[i] = c &^ 0x20
		}
		b = b[k:]
		s.upper = buf[:n+k]
		if n+k == len(buf) {
			s.digest(s.upper)
		}
	}
}

func (s *scanner) readHeader(br *bufio.Reader) error {
	if err := s.endSequence(); err != nil {
		return err
	}
	var text []byte
	for {
		b, err := br.ReadSlice('\n')
		if len(text)+len(b) > s.lim.MaxHeader {
			return s.defect("header line longer than %d bytes", s.lim.MaxHeader)
		}
		text = append(text, b...)
		if err == bufio.ErrBufferFull {
			continue
		}
		if err != nil && err != io.EOF {
			return err
		}
		break
	}
	width := int64(len(text))
	text = bytes.TrimRight(text, "\r\n")
	name := text[1:]
	if i := bytes.IndexAny(name, " \t"); i >= 0 {
		name = name[:i]
	}
	if len(name) == 0 {
		return s.defect("header without a sequence name: '>' must be followed by the name")
	}
	if _, dup := s.names[string(name)]; dup {
		s.cur = nil
		return s.defect("sequence name %q is used by an earlier sequence; names must be unique", name)
	}
	if len(s.seqs) >= s.lim.MaxSequences {
		return s.defect("more than %d sequences", s.lim.MaxSequences)
	}
	s.names[string(name)] = struct{}{}
	s.off += width
	s.seqs = append(s.seqs, Sequence{Entry: Entry{Name: string(name), Offset: s.off}})
	s.cur = &s.seqs[len(s.seqs)-1]
	s.header, s.short = s.line, 0
	return nil
}

// endSequence checks and digests the sequence read so far.
func (s *scanner) endSequence() error {
	if s.cur == nil {
		return nil
	}
	if s.cur.Length == 0 {
		s.line = s.header
		return s.defect("empty sequence: the header is followed by no residues")
	}
	s.digest(s.upper)
	md, sha := s.hasher.sum()
	s.cur.MD5 = hex.EncodeToString(md)
	s.cur.GA4GH = ga4ghDigest(sha)
	s.cur = nil
	return nil
}

// readResidues consumes a line of residues (or a blank line) of the
// current sequence.
func (s *scanner) readResidues(br *bufio.Reader) error {
	var bases, width int64
	ended := false // the line ended with '\n' (rather than the input)
	crlf := false
	for {
		b, err := br.ReadSlice('\n')
		if err != nil && err != bufio.ErrBufferFull && err != io.EOF {
			return err
		}
		width += int64(len(b))
		if n := len(b); n > 0 && b[n-1] == '\n' {
			ended = true
			b = b[:n-1]
			if n := len(b); n > 0 && b[n-1] == '\r' {
				crlf = true
				b = b[:n-1]
			}
		}
		if err := s.residues(b, bases); err != nil {
			return err
		}
		bases += int64(len(b))
		if err != bufio.ErrBufferFull {
			break
		}
	}
	start := s.off
	s.off += width
	if bases == 0 {
		if s.cur != nil && s.short == 0 {
			s.short = s.line
		}
		return nil
	}
	if s.cur == nil {
		s.off = start
		return s.defect("residues before the first '>' header")
	}
	e := &s.cur.Entry
	switch {
	case s.short != 0:
		return s.defect("uneven lines: line %d is shorter than those before it but is not the last", s.short)
	case e.LineBases == 0:
		e.LineBases, e.LineWidth = bases, width
		if !ended {
			// A one-line sequence at the end of a file without a final
			// newline: samtools counts the line ending it would have.
			e.LineWidth++
			if crlf {
				e.LineWidth++
			}
		}
	case bases > e.LineBases:
		return s.defect("uneven lines: %d residues after lines of %d", bases, e.LineBases)
	case bases < e.LineBases:
		s.short = s.line
	case ended && width != e.LineWidth:
		return s.defect("line endings differ from the sequence's first line (LF and CRLF mixed)")
	}
	e.Length += bases
	return nil
}

// residues checks a piece of a line, whose first residue is the line's
// col'th (from 0), and adds it, upper-cased, to the digest's buffer.
func (s *scanner) residues(b []byte, col int64) error {
	if s.cur == nil {
		if len(b) > 0 {
			return s.defect("residues before the first '>' header")
		}
		return nil
	}
	if !allIUPAC(b) {
		for i, c := range b {
			if !iupac[c] {
				return s.defect("column %d: %s is not an IUPAC nucleotide code", col+int64(i)+1, quoteByte(c))
			}
		}
	}
	s.addUpper(b)
	return nil
}

// digest hands upper-cased residues of the current sequence to the hasher
// and takes an empty buffer for the next ones.
func (s *scanner) digest(upper []byte) {
	if len(upper) == 0 {
		return
	}
	s.hasher.give(upper)
	s.upper = s.hasher.take()
}

func quoteByte(c byte) string {
	if c >= 0x20 && c < 0x7f {
		return fmt.Sprintf("%q", rune(c))
	}
	return fmt.Sprintf("byte 0x%02x", c)
}

// IsDefect reports whether err is a defect of the FASTA file (rather than
// a failure to read it).
func IsDefect(err error) bool {
	var d *Defect
	return errors.As(err, &d)
}

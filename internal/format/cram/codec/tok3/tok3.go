// Package tok3 decodes the name tokeniser of CRAM 3.1 (block compression
// method 8, "tokenise_name3" in htscodecs): read names split into typed
// tokens, each token position and type stored as its own byte stream and
// compressed with rANS Nx16 or the adaptive arithmetic coder, as specified
// in the hts-specs CRAMcodecs document. No Go library implements it; it is
// written from the specification and checked against samtools.
//
// The output is every name followed by a NUL byte, concatenated, which is
// how CRAM stores read names in the block.
package tok3

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"unsafe"

	"github.com/seqstore/seqstore/internal/format/cram/codec/arith"
	"github.com/seqstore/seqstore/internal/format/cram/codec/itf8"
	"github.com/seqstore/seqstore/internal/format/cram/codec/ransnx16"
)

// MaxSize is the largest uncompressed size Decode accepts.
const MaxSize = 1 << 30

// Token types.
const (
	tokType    = 0
	tokString  = 1
	tokChar    = 2
	tokDigits0 = 3
	tokDZLen   = 4
	tokDup     = 5
	tokDiff    = 6
	tokDigits  = 7
	tokDelta   = 8
	tokDelta0  = 9
	tokMatch   = 10
	tokNop     = 11
	tokEnd     = 12
)

const maxTokens = 128

// maxStreamBytes bounds the bytes all token streams of a stream of ulen
// bytes of names decode to: a token is at least one character of a name
// and takes at most six bytes of streams (its type, a number and its
// width), and htslib's streams take little more than the names.
func maxStreamBytes(ulen int) int { return 6*ulen + 64<<10 }

// Error is a decoding failure with the byte offset in the compressed
// stream, or the read name number, where it was found.
type Error struct {
	Offset int // byte offset, or -1 when the failure is in a name
	Name   int // name number when Offset is -1
	Msg    string
}

func (e *Error) Error() string {
	if e.Offset < 0 {
		return fmt.Sprintf("tok3: name %d: %s", e.Name, e.Msg)
	}
	return fmt.Sprintf("tok3: %s at byte %d", e.Msg, e.Offset)
}

func errorf(off int, format string, args ...any) error {
	return &Error{Offset: off, Msg: fmt.Sprintf(format, args...)}
}

func nameErrorf(n int, format string, args ...any) error {
	return &Error{Offset: -1, Name: n, Msg: fmt.Sprintf(format, args...)}
}

// stream is one decoded token byte stream with its read cursor.
type stream struct {
	data []byte
	pos  int
}

func (s *stream) byte() (byte, bool) {
	if s.pos >= len(s.data) {
		return 0, false
	}
	b := s.data[s.pos]
	s.pos++
	return b, true
}

func (s *stream) uint32() (uint32, bool) {
	if len(s.data)-s.pos < 4 {
		return 0, false
	}
	v := binary.LittleEndian.Uint32(s.data[s.pos:])
	s.pos += 4
	return v, true
}

// token is one decoded token of a name, kept for MATCH and DELTA tokens of
// later names.
type token struct {
	typ   byte   // tokChar, tokString, tokDigits, tokDigits0 or tokNop
	width byte   // digit count of a tokDigits0
	val   uint32 // character, number, or string length
	off   uint32 // start of a tokString in the output
}

// Decode decodes one name tokeniser stream into dst when its capacity
// suffices, otherwise into a new slice.
func Decode(src, dst []byte) ([]byte, error) { return DecodeLimit(src, dst, MaxSize) }

// DecodeLimit is Decode with a bound on the uncompressed size.
func DecodeLimit(src, dst []byte, limit int) ([]byte, error) {
	return DecodeAccount(src, dst, limit, nil)
}

// DecodeAccount is DecodeLimit that reports what it allocates besides
// its output (token streams and the tokens of the names decoded so far)
// to take before allocating it where it can, and after where it cannot
// (a negative n gives bytes back); decoding stops with take's error. The
// scratch is garbage once it returns. take may be nil.
func DecodeAccount(src, dst []byte, limit int, take func(n int) error) ([]byte, error) {
	if take == nil {
		take = func(int) error { return nil }
	}
	if limit < 0 || limit > MaxSize {
		limit = MaxSize
	}
	if len(src) < 9 {
		return nil, errorf(len(src), "stream shorter than its 9-byte header")
	}
	ulen := binary.LittleEndian.Uint32(src)
	nreads := binary.LittleEndian.Uint32(src[4:])
	useArith := src[8] != 0
	if uint64(ulen) > uint64(limit) {
		return nil, errorf(0, "uncompressed size %d exceeds the limit %d", ulen, limit)
	}
	if nreads == 0 || nreads > ulen {
		return nil, errorf(4, "%d names cannot fill %d bytes", nreads, ulen)
	}
	// Every token stream holds at most four bytes per output byte, and
	// all of them together at most maxStreamBytes: a stream of a few
	// bytes may declare megabytes, in each of two thousand streams.
	streamLimit := 4*int(ulen) + 16
	left := maxStreamBytes(int(ulen))
	use := func(start, n int) error {
		if left -= n; left < 0 {
			return errorf(start, "token streams decode to more than %d bytes for %d bytes of names", maxStreamBytes(int(ulen)), ulen)
		}
		return nil
	}

	var streams [maxTokens * 16]stream
	maxTok := 0
	tnum := -1
	p := 9
	for p < len(src) {
		start := p
		ttype := src[p]
		p++
		if ttype&128 != 0 {
			tnum++
			if tnum >= maxTokens {
				return nil, errorf(start, "more than %d token positions", maxTokens)
			}
			maxTok = tnum + 1
			if typ := ttype & 15; typ != tokType {
				// No stored type stream: the position always has this type
				// (MATCH after the first name).
				if err := use(start, int(nreads)); err != nil {
					return nil, err
				}
				if err := take(int(nreads)); err != nil {
					return nil, err
				}
				types := make([]byte, nreads)
				types[0] = typ
				for i := 1; i < len(types); i++ {
					types[i] = tokMatch
				}
				streams[tnum<<4] = stream{data: types}
			}
		}
		if tnum < 0 {
			return nil, errorf(start, "token stream before the first position")
		}
		id := tnum<<4 | int(ttype&15)
		if ttype&64 != 0 {
			if len(src)-p < 2 {
				return nil, errorf(p, "duplicate stream reference truncated")
			}
			from := int(src[p])<<4 + int(src[p+1])
			p += 2
			if from >= id || streams[from].data == nil {
				return nil, errorf(start, "stream %d duplicates missing stream %d", id, from)
			}
			streams[id] = stream{data: streams[from].data}
			continue
		}
		clen, n, err := itf8.ReadUint7(src[p:])
		if err != nil {
			return nil, errorf(p, "stream length: %v", err)
		}
		p += n
		if uint64(clen) > uint64(len(src)-p) {
			return nil, errorf(p, "stream of %d bytes truncated to %d", clen, len(src)-p)
		}
		data := src[p : p+int(clen)]
		var out []byte
		most := min(streamLimit, max(left, 0))
		if err := take(most); err != nil {
			return nil, err
		}
		if useArith {
			out, err = arith.DecodeLimit(data, nil, most)
		} else {
			out, err = ransnx16.DecodeLimit(data, nil, most)
		}
		if err == nil {
			err = use(start, len(out))
		}
		if err == nil {
			err = take(len(out) - most)
		}
		if err != nil {
			return nil, fmt.Errorf("tok3: token position %d type %d at byte %d: %w", tnum, ttype&15, p, err)
		}
		streams[id] = stream{data: out}
		p += int(clen)
	}

	d := decoder{streams: &streams, maxTok: maxTok, limit: int(ulen)}
	d.out = dst[:0]
	if cap(d.out) < int(ulen) {
		d.out = make([]byte, 0, ulen)
	}
	// The lists grow as names decode: the count is the stream's claim.
	d.names = make([]nameToks, 0, min(nreads, 1<<12))
	d.ends = make([]int, 0, min(nreads, 1<<12))
	taken := 0
	for n := 0; n < int(nreads); n++ {
		more, err := d.decodeName(n)
		if err != nil {
			return nil, err
		}
		if size := d.size(); size > taken {
			if err := take(size - taken); err != nil {
				return nil, err
			}
			taken = size
		}
		if !more {
			break
		}
	}
	return d.out, nil
}

// nameToks locates the tokens of one decoded name.
type nameToks struct {
	start, count int32
}

type decoder struct {
	streams *[maxTokens * 16]stream
	maxTok  int
	limit   int
	out     []byte
	toks    []token
	names   []nameToks
	ends    []int // end of each name in out, after its NUL
}

func (d *decoder) nameEnd(m int) int { return d.ends[m] }

// size is the bytes the tokens of the names decoded so far take.
func (d *decoder) size() int {
	return cap(d.toks)*int(unsafe.Sizeof(token{})) + cap(d.names)*int(unsafe.Sizeof(nameToks{})) + cap(d.ends)*int(unsafe.Sizeof(0))
}

func (d *decoder) st(pos, typ int) *stream { return &d.streams[pos<<4|typ] }

// prevToken returns token t of name m, or false when it has none.
func (d *decoder) prevToken(m, t int) (token, bool) {
	if m >= len(d.names) {
		return token{}, false
	}
	nt := d.names[m]
	if t >= int(nt.count) {
		return token{}, false
	}
	return d.toks[int(nt.start)+t], true
}

func (d *decoder) room(n, extra int) error {
	if len(d.out)+extra > d.limit {
		return nameErrorf(n, "names pass the declared %d bytes", d.limit)
	}
	return nil
}

// decodeName decodes name n; it returns false when the names end.
func (d *decoder) decodeName(n int) (bool, error) {
	t0, ok := d.st(0, tokType).byte()
	if !ok {
		return false, nil
	}
	if t0 != tokDup && t0 != tokDiff {
		return false, nameErrorf(n, "first token type %d, want DUP or DIFF", t0)
	}
	dist, ok := d.st(0, int(t0)).uint32()
	if !ok {
		return false, nameErrorf(n, "distance stream exhausted")
	}
	if uint64(dist) > uint64(n) {
		return false, nameErrorf(n, "refers %d names back", dist)
	}
	m := n - int(dist)
	if t0 == tokDup {
		if m == n {
			return false, nameErrorf(n, "duplicates itself")
		}
		if err := d.duplicate(n, m); err != nil {
			return false, err
		}
		return true, nil
	}

	first := len(d.toks)
	d.toks = append(d.toks, token{}) // position 0 holds no token
	for t := 1; ; t++ {
		if t >= d.maxTok || t >= maxTokens {
			return false, nameErrorf(n, "no end token within %d positions", t)
		}
		typ := -1
		if b, ok := d.st(t, tokType).byte(); ok {
			typ = int(b)
		}
		tok, err := d.token(n, m, t, typ)
		if err == errEnd {
			// END, or (as in htslib) an exhausted or unknown type stream.
			if err := d.room(n, 1); err != nil {
				return false, err
			}
			d.out = append(d.out, 0)
			d.names = append(d.names, nameToks{start: int32(first), count: int32(t)})
			d.ends = append(d.ends, len(d.out))
			return true, nil
		}
		if err != nil {
			return false, err
		}
		d.toks = append(d.toks, tok)
	}
}

// duplicate makes name n a copy of the earlier name m, sharing its tokens.
func (d *decoder) duplicate(n, m int) error {
	start := 0
	if m > 0 {
		start = d.nameEnd(m - 1)
	}
	name := d.out[start:d.nameEnd(m)]
	if err := d.room(n, len(name)); err != nil {
		return err
	}
	d.out = append(d.out, name...)
	d.names = append(d.names, d.names[m])
	d.ends = append(d.ends, len(d.out))
	return nil
}

// errEnd is what token returns for the token that ends a name.
var errEnd = errors.New("end of name")

// token decodes token t of name n, of type typ, whose earlier name to
// compare with is m, and appends its text to the names.
func (d *decoder) token(n, m, t, typ int) (token, error) {
	var tok token
	switch typ {
	case tokChar:
		c, ok := d.st(t, tokChar).byte()
		if !ok {
			return token{}, nameErrorf(n, "character stream of token %d exhausted", t)
		}
		if err := d.room(n, 1); err != nil {
			return token{}, err
		}
		d.out = append(d.out, c)
		tok = token{typ: tokChar, val: uint32(c)}
	case tokString:
		s := d.st(t, tokString)
		end := s.pos
		for end < len(s.data) && s.data[end] != 0 {
			end++
		}
		if end >= len(s.data) {
			return token{}, nameErrorf(n, "string of token %d has no terminator", t)
		}
		str := s.data[s.pos:end]
		s.pos = end + 1
		if err := d.room(n, len(str)); err != nil {
			return token{}, err
		}
		tok = token{typ: tokString, val: uint32(len(str)), off: uint32(len(d.out))}
		d.out = append(d.out, str...)
	case tokDigits0:
		width, ok1 := d.st(t, tokDZLen).byte()
		v, ok2 := d.st(t, tokDigits0).uint32()
		if !ok1 || !ok2 {
			return token{}, nameErrorf(n, "digit streams of token %d exhausted", t)
		}
		tok = token{typ: tokDigits0, val: v, width: width}
		if err := d.appendPadded(n, v, width); err != nil {
			return token{}, err
		}
	case tokDelta0, tokDelta:
		return d.delta(n, m, t, typ)
	case tokDigits:
		v, ok := d.st(t, tokDigits).uint32()
		if !ok {
			return token{}, nameErrorf(n, "digit stream of token %d exhausted", t)
		}
		tok = token{typ: tokDigits, val: v}
		if err := d.appendNumber(n, v); err != nil {
			return token{}, err
		}
	case tokMatch:
		return d.match(n, m, t)
	case tokNop:
		tok = token{typ: tokNop}
	default:
		return token{}, errEnd
	}
	return tok, nil
}

// delta decodes token t of name n, a DELTA or DELTA0 token: the number of
// token t of name m, a DIGITS or DIGITS0 token, plus a byte of its own.
func (d *decoder) delta(n, m, t, typ int) (token, error) {
	digits, names := byte(tokDigits), [2]string{"DELTA", "DIGITS"}
	if typ == tokDelta0 {
		digits, names = tokDigits0, [2]string{"DELTA0", "DIGITS0"}
	}
	prev, ok := d.prevToken(m, t)
	if !ok || prev.typ != digits {
		return token{}, nameErrorf(n, "%s token %d without a %s token in name %d", names[0], t, names[1], m)
	}
	delta, ok := d.st(t, typ).byte()
	if !ok {
		return token{}, nameErrorf(n, "delta stream of token %d exhausted", t)
	}
	tok := token{typ: digits, val: prev.val + uint32(delta), width: prev.width}
	if digits == tokDigits0 {
		return tok, d.appendPadded(n, tok.val, tok.width)
	}
	return tok, d.appendNumber(n, tok.val)
}

// match repeats token t of name m as token t of name n.
func (d *decoder) match(n, m, t int) (token, error) {
	prev, ok := d.prevToken(m, t)
	if !ok {
		return token{}, nameErrorf(n, "MATCH token %d without a token in name %d", t, m)
	}
	tok := prev
	switch prev.typ {
	case tokChar:
		if err := d.room(n, 1); err != nil {
			return token{}, err
		}
		d.out = append(d.out, byte(prev.val))
	case tokString:
		if err := d.room(n, int(prev.val)); err != nil {
			return token{}, err
		}
		tok.off = uint32(len(d.out))
		d.out = append(d.out, d.out[prev.off:prev.off+prev.val]...)
	case tokDigits:
		if err := d.appendNumber(n, prev.val); err != nil {
			return token{}, err
		}
	case tokDigits0:
		if err := d.appendPadded(n, prev.val, prev.width); err != nil {
			return token{}, err
		}
	default:
		return token{}, nameErrorf(n, "MATCH token %d refers to a token of type %d", t, prev.typ)
	}
	return tok, nil
}

func (d *decoder) appendNumber(n int, v uint32) error {
	var buf [10]byte
	digits := strconv.AppendUint(buf[:0], uint64(v), 10)
	if err := d.room(n, len(digits)); err != nil {
		return err
	}
	d.out = append(d.out, digits...)
	return nil
}

func (d *decoder) appendPadded(n int, v uint32, width byte) error {
	var buf [10]byte
	digits := strconv.AppendUint(buf[:0], uint64(v), 10)
	if len(digits) > int(width) {
		return nameErrorf(n, "number %d does not fit its %d digits", v, width)
	}
	if err := d.room(n, int(width)); err != nil {
		return err
	}
	for i := len(digits); i < int(width); i++ {
		d.out = append(d.out, '0')
	}
	d.out = append(d.out, digits...)
	return nil
}

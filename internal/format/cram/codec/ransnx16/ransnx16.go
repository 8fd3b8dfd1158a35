// Package ransnx16 decodes the rANS Nx16 codec of CRAM 3.1 (block
// compression method 5) with every format flag: order 0 and 1, 4 or 32
// interleaved states (N32), STRIPE, NOSZ, CAT, RLE and PACK, as specified
// in the hts-specs CRAMcodecs document. No Go library implements it; it is
// written from the specification and checked against htslib's output.
//
// The stream normally records its uncompressed size; DecodeLimit's limit
// bounds that size and, for a stream whose top level sets NOSZ, is taken as
// the size. Order-0 data uses a 4096-entry reverse lookup table and order-1
// data one 1024- or 4096-entry table per context, as htslib does.
package ransnx16

import (
	"encoding/binary"
	"fmt"
	"sync"

	"github.com/seqstore/seqstore/internal/format/cram/codec/internal/transform"
	"github.com/seqstore/seqstore/internal/format/cram/codec/itf8"
)

// MaxSize is the largest uncompressed size Decode accepts.
const MaxSize = 1 << 30

// Format flags of the first byte.
const (
	FlagOrder  = 0x01
	FlagN32    = 0x04
	FlagStripe = 0x08
	FlagNoSize = 0x10
	FlagCat    = 0x20
	FlagRLE    = 0x40
	FlagPack   = 0x80
)

const (
	stateLow   = 1 << 15 // renormalisation lower bound of the 16-bit rANS
	order0Bits = 12
)

// Error is a decoding failure with the byte offset in the outermost
// compressed stream where it was found.
type Error struct {
	Offset int
	Msg    string
}

func (e *Error) Error() string { return fmt.Sprintf("ransnx16: %s at byte %d", e.Msg, e.Offset) }

func errorf(off int, format string, args ...any) error {
	return &Error{Offset: off, Msg: fmt.Sprintf(format, args...)}
}

// Decode decodes one rANS Nx16 stream into dst when its capacity suffices,
// otherwise into a new slice.
func Decode(src, dst []byte) ([]byte, error) { return DecodeLimit(src, dst, MaxSize) }

// DecodeLimit is Decode with a bound on the uncompressed size, typically
// the raw size from the CRAM block header. A stream with NOSZ set at its
// top level decodes to exactly limit bytes.
func DecodeLimit(src, dst []byte, limit int) ([]byte, error) {
	if limit > MaxSize || limit < 0 {
		limit = MaxSize
	}
	return decode(src, 0, dst, -1, limit, 0)
}

// maxStripeDepth bounds the nesting of striped streams; htslib writes one
// level, and the bound keeps crafted input from recursing without end.
const maxStripeDepth = 4

// decode decodes the stream src, found at offset base of the outermost
// stream. size is the size a parent stream dictates (-1 when none).
func decode(src []byte, base int, dst []byte, size, limit, depth int) ([]byte, error) {
	if len(src) == 0 {
		return nil, errorf(base, "empty stream")
	}
	flags := src[0]
	p := 1
	readUint7 := func(what string) (int, error) {
		v, n, err := itf8.ReadUint7(src[p:])
		if err != nil {
			return 0, errorf(base+p, "%s: %v", what, err)
		}
		p += n
		return int(v), nil
	}

	if flags&FlagStripe != 0 {
		if depth >= maxStripeDepth {
			return nil, errorf(base, "stripes nested more than %d deep", maxStripeDepth)
		}
		return decodeStripe(src, base, dst, size, limit, depth+1)
	}

	outSize := size
	if flags&FlagNoSize == 0 {
		v, err := readUint7("uncompressed size")
		if err != nil {
			return nil, err
		}
		if size >= 0 && v != size {
			return nil, errorf(base+1, "uncompressed size %d, parent stream expects %d", v, size)
		}
		outSize = v
	} else if outSize < 0 {
		outSize = limit
	}
	if outSize > limit {
		return nil, errorf(base+1, "uncompressed size %d exceeds the limit %d", outSize, limit)
	}
	n := 4
	if flags&FlagN32 != 0 {
		n = 32
	}

	// Metadata of the transforms, in stream order: pack, then RLE.
	entropySize := outSize
	var pack transform.Pack
	if flags&FlagPack != 0 {
		var used int
		var err error
		pack, used, err = transform.ParsePackMeta(src[p:])
		if err != nil {
			return nil, errorf(base+p, "%v", err)
		}
		p += used
		v, err := readUint7("packed size")
		if err != nil {
			return nil, err
		}
		if v > entropySize {
			return nil, errorf(base+p, "packed size %d exceeds the output size %d", v, entropySize)
		}
		entropySize = v
	}
	var rle *transform.RLE
	if flags&FlagRLE != 0 {
		metaLen, err := readUint7("run-length metadata size")
		if err != nil {
			return nil, err
		}
		litLen, err := readUint7("run-length literal count")
		if err != nil {
			return nil, err
		}
		if litLen > entropySize {
			return nil, errorf(base+p, "literal count %d exceeds the output size %d", litLen, entropySize)
		}
		var meta []byte
		if metaLen&1 != 0 {
			m := metaLen / 2
			if m > len(src)-p {
				return nil, errorf(base+p, "run-length metadata of %d bytes truncated", m)
			}
			meta = src[p : p+m]
			p += m
		} else {
			compLen, err := readUint7("compressed run-length metadata size")
			if err != nil {
				return nil, err
			}
			if compLen > len(src)-p {
				return nil, errorf(base+p, "compressed run-length metadata of %d bytes truncated", compLen)
			}
			if metaLen/2 > limit {
				return nil, errorf(base+p, "run-length metadata size %d exceeds the limit", metaLen/2)
			}
			meta = make([]byte, metaLen/2)
			if err := decodeOrder0(src[p:p+compLen], base+p, meta, n); err != nil {
				return nil, err
			}
			p += compLen
		}
		if rle, err = transform.ParseRLEMeta(meta); err != nil {
			return nil, errorf(base+p, "%v", err)
		}
		entropySize = litLen
	}

	// The entropy-coded (or copied) data.
	var data []byte
	switch {
	case p == len(src):
		// htslib treats a stream with nothing after its metadata as empty.
	case flags&FlagCat != 0:
		if entropySize > len(src)-p {
			return nil, errorf(base+p, "uncompressed data of %d bytes truncated to %d", entropySize, len(src)-p)
		}
		data = src[p : p+entropySize]
	default:
		if flags&(FlagPack|FlagRLE) == 0 {
			data = grow(dst, entropySize)
		} else {
			data = make([]byte, entropySize)
		}
		var err error
		if flags&FlagOrder != 0 {
			err = decodeOrder1(src[p:], base+p, data, n)
		} else {
			err = decodeOrder0(src[p:], base+p, data, n)
		}
		if err != nil {
			return nil, err
		}
	}

	if rle != nil {
		// Expand into dst unless unpacking still has to follow.
		target := dst
		if flags&FlagPack != 0 {
			target = nil
		}
		expanded, err := rle.Expand(target, data, outSize)
		if err != nil {
			return nil, errorf(base, "%v", err)
		}
		data = expanded
	}
	if flags&FlagPack != 0 {
		unpacked, err := pack.Unpack(dst, data, outSize)
		if err != nil {
			return nil, errorf(base, "%v", err)
		}
		data = unpacked
	} else if rle == nil && flags&FlagCat != 0 {
		data = append(dst[:0], data...) // never hand back a view of src
	}
	if data == nil {
		data = dst[:0]
	}
	return data, nil
}

func decodeStripe(src []byte, base int, dst []byte, size, limit, depth int) ([]byte, error) {
	p := 1
	total, k, err := itf8.ReadUint7(src[p:])
	if err != nil {
		return nil, errorf(base+p, "stripe size: %v", err)
	}
	p += k
	if int64(total) > int64(limit) {
		return nil, errorf(base+1, "uncompressed size %d exceeds the limit %d", total, limit)
	}
	if size >= 0 && int(total) != size {
		return nil, errorf(base+1, "uncompressed size %d, parent stream expects %d", total, size)
	}
	if p >= len(src) {
		return nil, errorf(base+p, "stripe count missing")
	}
	n := int(src[p])
	p++
	if n == 0 {
		return nil, errorf(base+p-1, "stripe count is zero")
	}
	clens := make([]int, n)
	for j := range clens {
		v, k, err := itf8.ReadUint7(src[p:])
		if err != nil {
			return nil, errorf(base+p, "stripe %d length: %v", j, err)
		}
		p += k
		clens[j] = int(v)
	}
	ulens := transform.StripeLengths(int(total), n)
	parts := make([][]byte, n)
	for j := range parts {
		if clens[j] > len(src)-p {
			return nil, errorf(base+p, "stripe %d of %d bytes truncated", j, clens[j])
		}
		part, err := decode(src[p:p+clens[j]], base+p, nil, ulens[j], ulens[j], depth)
		if err != nil {
			return nil, err
		}
		if len(part) != ulens[j] {
			return nil, errorf(base+p, "stripe %d decoded to %d bytes, want %d", j, len(part), ulens[j])
		}
		parts[j] = part
		p += clens[j]
	}
	return transform.Unstripe(dst, parts, int(total)), nil
}

func grow(dst []byte, n int) []byte {
	if cap(dst) >= n {
		return dst[:n]
	}
	return make([]byte, n)
}

// readAlphabet reads a run-length coded symbol list, setting present[s].
func readAlphabet(src []byte, p, base int, present *[256]bool) (int, error) {
	if p >= len(src) {
		return p, errorf(base+p, "alphabet truncated")
	}
	sym := int(src[p])
	p++
	rle := 0
	for {
		present[sym] = true
		switch {
		case rle > 0:
			rle--
			sym++
			if sym > 255 {
				return p, errorf(base+p, "alphabet run passes 255")
			}
		case p >= len(src):
			return p, errorf(base+p, "alphabet truncated")
		case int(src[p]) == sym+1:
			if p+1 >= len(src) {
				return p, errorf(base+p, "alphabet truncated")
			}
			sym = int(src[p])
			rle = int(src[p+1])
			p += 2
		default:
			sym = int(src[p])
			p++
		}
		if sym == 0 {
			return p, nil
		}
	}
}

// lookup maps each cumulative-frequency slot to the symbol (bits 0-7), the
// slot's offset in the symbol's range (bits 8-19) and the symbol frequency
// minus one (bits 20-31).
type lookup [1 << order0Bits]uint32

// fill builds the lookup table for frequencies f summing to 1<<bits,
// scaling them up by a power of two first as the format allows.
func fill(tab []uint32, f *[256]uint32, bits uint, off int) error {
	total := uint32(0)
	for _, v := range f {
		total += v
	}
	want := uint32(1) << bits
	if total != 0 && total < want {
		shift := uint(0)
		for total<<shift < want {
			shift++
		}
		for i := range f {
			f[i] <<= shift
		}
		total <<= shift
	}
	if total != want {
		return errorf(off, "frequencies sum to %d, want %d", total, want)
	}
	x := uint32(0)
	for s, v := range f {
		for y := uint32(0); y < v; y++ {
			tab[x+y] = (v-1)<<20 | y<<8 | uint32(s)
		}
		x += v
	}
	return nil
}

var lookupPool = sync.Pool{New: func() any { return new(lookup) }}

func readStates(src []byte, p, base, n int, r []uint32) (int, error) {
	if len(src)-p < 4*n {
		return p, errorf(base+p, "missing %d rANS states", n)
	}
	for j := 0; j < n; j++ {
		r[j] = binary.LittleEndian.Uint32(src[p:])
		if r[j] < stateLow {
			return p, errorf(base+p, "rANS state %d below the lower bound", j)
		}
		p += 4
	}
	return p, nil
}

// decodeOrder0 decodes len(out) order-0 symbols with n interleaved states.
func decodeOrder0(src []byte, base int, out []byte, n int) error {
	var present [256]bool
	p, err := readAlphabet(src, 0, base, &present)
	if err != nil {
		return err
	}
	var f [256]uint32
	for s := range present {
		if !present[s] {
			continue
		}
		v, k, err := itf8.ReadUint7(src[p:])
		if err != nil {
			return errorf(base+p, "frequency of symbol %d: %v", s, err)
		}
		f[s] = v
		p += k
		if v > 1<<order0Bits {
			return errorf(base+p, "frequency %d of symbol %d too large", v, s)
		}
	}
	tab := lookupPool.Get().(*lookup)
	defer lookupPool.Put(tab)
	if err := fill(tab[:], &f, order0Bits, base+p); err != nil {
		return err
	}
	var states [32]uint32
	r := states[:n]
	if p, err = readStates(src, p, base, n, r); err != nil {
		return err
	}
	const mask = 1<<order0Bits - 1
	i := 0
	if n == 4 {
		// Fast path: a group of four symbols reads at most 8 bytes.
		r0, r1, r2, r3 := r[0], r[1], r[2], r[3]
		for ; i+4 <= len(out) && p+8 <= len(src); i += 4 {
			e0, e1, e2, e3 := tab[r0&mask], tab[r1&mask], tab[r2&mask], tab[r3&mask]
			o := out[i : i+4 : i+4]
			o[0], o[1], o[2], o[3] = byte(e0), byte(e1), byte(e2), byte(e3)
			r0 = (e0>>20+1)*(r0>>order0Bits) + (e0>>8)&mask
			r1 = (e1>>20+1)*(r1>>order0Bits) + (e1>>8)&mask
			r2 = (e2>>20+1)*(r2>>order0Bits) + (e2>>8)&mask
			r3 = (e3>>20+1)*(r3>>order0Bits) + (e3>>8)&mask
			if r0 < stateLow {
				r0 = r0<<16 | uint32(src[p]) | uint32(src[p+1])<<8
				p += 2
			}
			if r1 < stateLow {
				r1 = r1<<16 | uint32(src[p]) | uint32(src[p+1])<<8
				p += 2
			}
			if r2 < stateLow {
				r2 = r2<<16 | uint32(src[p]) | uint32(src[p+1])<<8
				p += 2
			}
			if r3 < stateLow {
				r3 = r3<<16 | uint32(src[p]) | uint32(src[p+1])<<8
				p += 2
			}
		}
		r[0], r[1], r[2], r[3] = r0, r1, r2, r3
	}
	for ; i < len(out); i++ {
		j := i & (n - 1)
		x := r[j]
		e := tab[x&mask]
		out[i] = byte(e)
		x = (e>>20+1)*(x>>order0Bits) + (e>>8)&mask
		// Like htslib, stop renormalising rather than fail when the input
		// is exhausted; only the last symbols of a valid stream get there.
		if x < stateLow && p+1 < len(src) {
			x = x<<16 | uint32(src[p]) | uint32(src[p+1])<<8
			p += 2
		}
		r[j] = x
	}
	return nil
}

// order1Tables holds the per-context lookup tables of one order-1 stream.
type order1Tables struct {
	ctx  [256]*lookup
	free []*lookup
}

var order1Pool = sync.Pool{New: func() any { return new(order1Tables) }}

func (t *order1Tables) get(c int) *lookup {
	if n := len(t.free); n > 0 {
		t.ctx[c] = t.free[n-1]
		t.free = t.free[:n-1]
	} else {
		t.ctx[c] = new(lookup)
	}
	return t.ctx[c]
}

func (t *order1Tables) release() {
	for i, tab := range t.ctx {
		if tab != nil {
			t.free = append(t.free, tab)
			t.ctx[i] = nil
		}
	}
	order1Pool.Put(t)
}

// decodeOrder1 decodes len(out) order-1 symbols with n states, each
// working on its own contiguous region of the output.
func decodeOrder1(src []byte, base int, out []byte, n int) error {
	if len(src) == 0 {
		return errorf(base, "order-1 frequency table missing")
	}
	head := src[0]
	bits := uint(head >> 4)
	if bits != 10 && bits != 12 {
		return errorf(base, "order-1 frequency precision %d bits, want 10 or 12", bits)
	}
	p := 1
	table, tbase, tp := src, base, 0 // where the frequency table is read from
	if head&1 != 0 {
		usize, k, err := itf8.ReadUint7(src[p:])
		if err != nil {
			return errorf(base+p, "frequency table size: %v", err)
		}
		p += k
		csize, k, err := itf8.ReadUint7(src[p:])
		if err != nil {
			return errorf(base+p, "compressed frequency table size: %v", err)
		}
		p += k
		if uint64(csize) > uint64(len(src)-p) {
			return errorf(base+p, "compressed frequency table of %d bytes truncated", csize)
		}
		// 256 contexts of 256 frequencies of at most 3 bytes bound a table.
		if usize > 256*(256*3+2)+512 {
			return errorf(base+p, "frequency table size %d too large", usize)
		}
		table = make([]byte, usize)
		if err := decodeOrder0(src[p:p+int(csize)], base+p, table, 4); err != nil {
			return err
		}
		tbase = base + p // errors inside the table point at its compressed form
		p += int(csize)
	} else {
		tp = p
	}

	var present [256]bool
	tp, err := readAlphabet(table, tp, tbase, &present)
	if err != nil {
		return err
	}
	tabs := order1Pool.Get().(*order1Tables)
	defer tabs.release()
	for c := range present {
		if !present[c] {
			continue
		}
		var f [256]uint32
		total := uint32(0)
		run := 0
		for s := range present {
			if !present[s] {
				continue
			}
			if run > 0 {
				run--
				continue
			}
			v, k, err := itf8.ReadUint7(table[tp:])
			if err != nil {
				return errorf(tbase+tp, "frequency of %d after %d: %v", s, c, err)
			}
			tp += k
			if v > 1<<bits {
				return errorf(tbase+tp, "frequency %d of %d after %d too large", v, s, c)
			}
			f[s] = v
			total += v
			if v == 0 {
				if tp >= len(table) {
					return errorf(tbase+tp, "zero run after %d truncated", c)
				}
				run = int(table[tp])
				tp++
			}
		}
		if total == 0 {
			continue // a context never followed by a symbol
		}
		if err := fill(tabs.get(c)[:1<<bits], &f, bits, tbase+tp); err != nil {
			return err
		}
	}
	if head&1 == 0 {
		p = tp
	}

	var states [32]uint32
	r := states[:n]
	if p, err = readStates(src, p, base, n, r); err != nil {
		return err
	}
	mask := uint32(1)<<bits - 1
	region := len(out) / n
	if n == 4 {
		_, err = decodeOrder1x4(src, p, base, out, tabs, r, bits)
		return err
	}
	var cur [32]*lookup
	var last [32]int
	for j := 0; j < n; j++ {
		cur[j] = tabs.ctx[0]
	}
	for i := 0; i < region; i++ {
		fast := p+2*n <= len(src)
		for j := 0; j < n; j++ {
			t := cur[j]
			if t == nil {
				return errorf(base+p, "no frequency table for context %d (output byte %d)", last[j], i+j*region)
			}
			x := r[j]
			e := t[x&mask&(1<<order0Bits-1)]
			s := byte(e)
			out[i+j*region] = s
			x = (e>>20+1)*(x>>bits) + (e>>8)&mask
			if x < stateLow && (fast || p+1 < len(src)) {
				x = x<<16 | uint32(src[p]) | uint32(src[p+1])<<8
				p += 2
			}
			r[j] = x
			last[j] = int(s)
			cur[j] = tabs.ctx[s]
		}
	}
	// The remainder belongs to the last state.
	j := n - 1
	for i := n * region; i < len(out); i++ {
		t := cur[j]
		if t == nil {
			return errorf(base+p, "no frequency table for context %d (output byte %d)", last[j], i)
		}
		x := r[j]
		e := t[x&mask&(1<<order0Bits-1)]
		s := byte(e)
		out[i] = s
		x = (e>>20+1)*(x>>bits) + (e>>8)&mask
		if x < stateLow && p+1 < len(src) {
			x = x<<16 | uint32(src[p]) | uint32(src[p+1])<<8
			p += 2
		}
		r[j] = x
		last[j] = int(s)
		cur[j] = tabs.ctx[s]
	}
	return nil
}

// decodeOrder1x4 is decodeOrder1's loop for the common four states, kept in
// local variables so that the four dependency chains run side by side.
func decodeOrder1x4(src []byte, p, base int, out []byte, tabs *order1Tables, r []uint32, bits uint) (int, error) {
	const full = 1<<order0Bits - 1
	mask := uint32(1)<<bits - 1
	region := len(out) / 4
	o0, o1, o2, o3 := out[:region], out[region:2*region], out[2*region:3*region], out[3*region:]
	o1, o2 = o1[:len(o0)], o2[:len(o0)]
	r0, r1, r2, r3 := r[0], r[1], r[2], r[3]
	t0, t1, t2, t3 := tabs.ctx[0], tabs.ctx[0], tabs.ctx[0], tabs.ctx[0]
	renorm := func(x uint32) uint32 {
		if x < stateLow && p+1 < len(src) {
			x = x<<16 | uint32(src[p]) | uint32(src[p+1])<<8
			p += 2
		}
		return x
	}
	for i := range o0 {
		if t0 == nil || t1 == nil || t2 == nil || t3 == nil {
			return p, errorf(base+p, "no frequency table for the context of output byte %d", i)
		}
		e0, e1, e2, e3 := t0[r0&mask&full], t1[r1&mask&full], t2[r2&mask&full], t3[r3&mask&full]
		o0[i], o1[i], o2[i], o3[i] = byte(e0), byte(e1), byte(e2), byte(e3)
		r0 = (e0>>20+1)*(r0>>bits) + (e0>>8)&mask
		r1 = (e1>>20+1)*(r1>>bits) + (e1>>8)&mask
		r2 = (e2>>20+1)*(r2>>bits) + (e2>>8)&mask
		r3 = (e3>>20+1)*(r3>>bits) + (e3>>8)&mask
		if p+8 <= len(src) {
			if r0 < stateLow {
				r0 = r0<<16 | uint32(src[p]) | uint32(src[p+1])<<8
				p += 2
			}
			if r1 < stateLow {
				r1 = r1<<16 | uint32(src[p]) | uint32(src[p+1])<<8
				p += 2
			}
			if r2 < stateLow {
				r2 = r2<<16 | uint32(src[p]) | uint32(src[p+1])<<8
				p += 2
			}
			if r3 < stateLow {
				r3 = r3<<16 | uint32(src[p]) | uint32(src[p+1])<<8
				p += 2
			}
		} else {
			r0, r1, r2, r3 = renorm(r0), renorm(r1), renorm(r2), renorm(r3)
		}
		t0, t1, t2, t3 = tabs.ctx[byte(e0)], tabs.ctx[byte(e1)], tabs.ctx[byte(e2)], tabs.ctx[byte(e3)]
	}
	// The remainder belongs to the last state.
	for i := 4 * region; i < len(out); i++ {
		if t3 == nil {
			return p, errorf(base+p, "no frequency table for the context of output byte %d", i)
		}
		e := t3[r3&mask&full]
		out[i] = byte(e)
		r3 = renorm((e>>20+1)*(r3>>bits) + (e>>8)&mask)
		t3 = tabs.ctx[byte(e)]
	}
	return p, nil
}

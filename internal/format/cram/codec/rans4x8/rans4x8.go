// Package rans4x8 decodes the rANS 4x8 entropy codec of CRAM 3.0 (block
// compression method 4), orders 0 and 1, as specified in the hts-specs
// CRAMcodecs document. No Go library implements it, so it is written here
// from the specification and checked against blocks written by htslib.
//
// The stream carries its own sizes: a one-byte order, the compressed size
// and the uncompressed size as 32-bit little-endian integers, then the
// frequency table and the four interleaved rANS states with their byte
// stream. Decoding uses a 4096-entry reverse lookup table per context, as
// htslib does, so each symbol costs one table load and a multiply.
package rans4x8

import (
	"encoding/binary"
	"fmt"
	"sync"
)

// MaxSize is the largest uncompressed size Decode accepts. CRAM blocks are
// far smaller; the bound keeps corrupt headers from allocating without end.
const MaxSize = 1 << 30

const (
	totFreqShift = 12
	totFreq      = 1 << totFreqShift
	stateLow     = 1 << 23 // renormalisation lower bound of the 8-bit rANS
	headerSize   = 9
)

// Error is a decoding failure with the byte offset in the compressed
// stream where it was found.
type Error struct {
	Offset int
	Msg    string
}

func (e *Error) Error() string { return fmt.Sprintf("rans4x8: %s at byte %d", e.Msg, e.Offset) }

func errorf(off int, format string, args ...any) error {
	return &Error{Offset: off, Msg: fmt.Sprintf(format, args...)}
}

// Decode decodes one rANS 4x8 stream. The output is written to dst when its
// capacity suffices, otherwise to a new slice.
func Decode(src, dst []byte) ([]byte, error) { return DecodeLimit(src, dst, MaxSize) }

// DecodeLimit is Decode with a caller-chosen bound on the declared
// uncompressed size (for example the raw size from the CRAM block header).
func DecodeLimit(src, dst []byte, limit int) ([]byte, error) {
	if len(src) < headerSize {
		return nil, errorf(len(src), "stream shorter than its 9-byte header")
	}
	order := src[0]
	inSize := binary.LittleEndian.Uint32(src[1:])
	outSize := binary.LittleEndian.Uint32(src[5:])
	if uint64(inSize) > uint64(len(src)-headerSize) {
		return nil, errorf(1, "compressed size %d exceeds the %d bytes present", inSize, len(src)-headerSize)
	}
	if uint64(outSize) > uint64(limit) || uint64(outSize) > MaxSize {
		return nil, errorf(5, "uncompressed size %d exceeds the limit %d", outSize, limit)
	}
	n := int(outSize)
	var out []byte
	if cap(dst) >= n {
		out = dst[:n]
	} else {
		out = make([]byte, n)
	}
	body := src[:headerSize+int(inSize)]
	var err error
	switch order {
	case 0:
		err = decode0(body, out)
	case 1:
		err = decode1(body, out)
	default:
		return nil, errorf(0, "unknown order %d", order)
	}
	if err != nil {
		return nil, err
	}
	return out, nil
}

// A lookup entry packs, for one cumulative-frequency slot, the symbol (bits
// 0-7), the slot's offset within the symbol's range (bits 8-19) and the
// symbol frequency minus one (bits 20-31), so that the rANS step is
// R = freq*(R>>12) + offset.
type lookup [totFreq]uint32

func entry(sym byte, offset, freq uint32) uint32 {
	return (freq-1)<<20 | offset<<8 | uint32(sym)
}

// readFreqs reads one order-0 frequency table starting at src[p] into tab
// and returns the offset after it. zeroMeansFull selects the order-1 rule
// that a stored frequency of zero stands for the whole range.
func readFreqs(src []byte, p int, tab *lookup, zeroMeansFull bool) (int, error) {
	if p >= len(src) {
		return p, errorf(p, "frequency table truncated")
	}
	sym := int(src[p])
	p++
	rle := 0
	total := uint32(0)
	for {
		if p >= len(src) {
			return p, errorf(p, "frequency table truncated")
		}
		f := uint32(src[p])
		p++
		if f >= 0x80 {
			if p >= len(src) {
				return p, errorf(p, "frequency table truncated")
			}
			f = (f&0x7f)<<8 | uint32(src[p])
			p++
		}
		if f == 0 && zeroMeansFull {
			f = totFreq
		}
		if total+f > totFreq {
			return p, errorf(p, "frequencies sum past %d", totFreq)
		}
		for y := uint32(0); y < f; y++ {
			tab[total+y] = entry(byte(sym), y, f)
		}
		total += f

		if p >= len(src) {
			return p, errorf(p, "frequency table truncated")
		}
		switch {
		case rle == 0 && int(src[p]) == sym+1:
			if p+1 >= len(src) {
				return p, errorf(p, "frequency table truncated")
			}
			sym = int(src[p])
			rle = int(src[p+1])
			p += 2
		case rle > 0:
			rle--
			sym++
			if sym > 255 {
				return p, errorf(p, "symbol run passes 255")
			}
		default:
			sym = int(src[p])
			p++
		}
		if sym == 0 {
			break
		}
	}
	// Tables summing to 4095 are valid: htslib's encoder historically left
	// the last slot unused, and its decoder maps it to the last symbol.
	if total < totFreq-1 {
		return p, errorf(p, "frequencies sum to %d, want %d", total, totFreq)
	}
	if total == totFreq-1 {
		tab[totFreq-1] = tab[totFreq-2] + 1<<8
	}
	return p, nil
}

func readStates(src []byte, p int, r *[4]uint32) (int, error) {
	if len(src)-p < 16 {
		return p, errorf(p, "missing rANS states")
	}
	for j := range r {
		r[j] = binary.LittleEndian.Uint32(src[p:])
		if r[j] < stateLow {
			return p, errorf(p, "rANS state %d below the lower bound", j)
		}
		p += 4
	}
	return p, nil
}

var lookupPool = sync.Pool{New: func() any { return new(lookup) }}

func decode0(src, out []byte) error {
	tab := lookupPool.Get().(*lookup)
	defer lookupPool.Put(tab)
	p, err := readFreqs(src, headerSize, tab, false)
	if err != nil {
		return err
	}
	var r [4]uint32
	if p, err = readStates(src, p, &r); err != nil {
		return err
	}
	const mask = totFreq - 1
	i := 0
	// Fast path: each step of four symbols reads at most 2 bytes per state.
	for ; i+4 <= len(out) && p+8 <= len(src); i += 4 {
		o := out[i : i+4 : i+4]
		for j := 0; j < 4; j++ {
			x := r[j]
			e := tab[x&mask]
			o[j] = byte(e)
			x = (e>>20+1)*(x>>totFreqShift) + (e>>8)&mask
			for x < stateLow {
				x = x<<8 | uint32(src[p])
				p++
			}
			r[j] = x
		}
	}
	for ; i < len(out); i++ {
		j := i & 3
		x := r[j]
		e := tab[x&mask]
		out[i] = byte(e)
		x = (e>>20+1)*(x>>totFreqShift) + (e>>8)&mask
		// Past the end of the input htslib stops renormalising rather than
		// failing; a valid stream never gets there before its last symbols.
		for x < stateLow && p < len(src) {
			x = x<<8 | uint32(src[p])
			p++
		}
		r[j] = x
	}
	return nil
}

// order1Tables holds one lookup table per context byte that has one.
type order1Tables struct {
	ctx  [256]*lookup
	pool []*lookup
}

var order1Pool = sync.Pool{New: func() any { return new(order1Tables) }}

func (t *order1Tables) release() {
	for i := range t.ctx {
		if t.ctx[i] != nil {
			t.pool = append(t.pool, t.ctx[i])
			t.ctx[i] = nil
		}
	}
	order1Pool.Put(t)
}

func (t *order1Tables) table(c int) *lookup {
	if t.ctx[c] == nil {
		if n := len(t.pool); n > 0 {
			t.ctx[c] = t.pool[n-1]
			t.pool = t.pool[:n-1]
		} else {
			t.ctx[c] = new(lookup)
		}
	}
	return t.ctx[c]
}

func decode1(src, out []byte) error {
	tabs := order1Pool.Get().(*order1Tables)
	defer tabs.release()

	p := headerSize
	if p >= len(src) {
		return errorf(p, "frequency table truncated")
	}
	ctx := int(src[p])
	p++
	rle := 0
	for {
		var err error
		if p, err = readFreqs(src, p, tabs.table(ctx), true); err != nil {
			return err
		}
		if p >= len(src) {
			return errorf(p, "frequency table truncated")
		}
		switch {
		case rle == 0 && int(src[p]) == ctx+1:
			if p+1 >= len(src) {
				return errorf(p, "frequency table truncated")
			}
			ctx = int(src[p])
			rle = int(src[p+1])
			p += 2
		case rle > 0:
			rle--
			ctx++
			if ctx > 255 {
				return errorf(p, "context run passes 255")
			}
		default:
			ctx = int(src[p])
			p++
		}
		if ctx == 0 {
			break
		}
	}
	var r [4]uint32
	var err error
	if p, err = readStates(src, p, &r); err != nil {
		return err
	}

	const mask = totFreq - 1
	quarter := len(out) / 4
	var last [4]byte
	var cur [4]*lookup
	for j := range cur {
		cur[j] = tabs.ctx[0]
	}
	o0, o1, o2, o3 := out[:quarter], out[quarter:2*quarter], out[2*quarter:3*quarter], out[3*quarter:]
	for i := 0; i < quarter; i++ {
		if cur[0] == nil || cur[1] == nil || cur[2] == nil || cur[3] == nil {
			return errorf(p, "no frequency table for the context of output byte %d", i)
		}
		// Decode one symbol from each of the four regions, then renormalise;
		// each state needs at most two bytes.
		e0 := cur[0][r[0]&mask]
		e1 := cur[1][r[1]&mask]
		e2 := cur[2][r[2]&mask]
		e3 := cur[3][r[3]&mask]
		last = [4]byte{byte(e0), byte(e1), byte(e2), byte(e3)}
		o0[i], o1[i], o2[i], o3[i] = last[0], last[1], last[2], last[3]
		r[0] = (e0>>20+1)*(r[0]>>totFreqShift) + (e0>>8)&mask
		r[1] = (e1>>20+1)*(r[1]>>totFreqShift) + (e1>>8)&mask
		r[2] = (e2>>20+1)*(r[2]>>totFreqShift) + (e2>>8)&mask
		r[3] = (e3>>20+1)*(r[3]>>totFreqShift) + (e3>>8)&mask
		for j := range r {
			x := r[j]
			for x < stateLow && p < len(src) {
				x = x<<8 | uint32(src[p])
				p++
			}
			r[j] = x
			cur[j] = tabs.ctx[last[j]]
		}
	}
	// The remainder belongs to the fourth state.
	t := cur[3]
	for i := 4 * quarter; i < len(out); i++ {
		if t == nil {
			return errorf(p, "no frequency table for the context of output byte %d", i)
		}
		e := t[r[3]&mask]
		out[i] = byte(e)
		x := (e>>20+1)*(r[3]>>totFreqShift) + (e>>8)&mask
		for x < stateLow && p < len(src) {
			x = x<<8 | uint32(src[p])
			p++
		}
		r[3] = x
		t = tabs.ctx[byte(e)]
	}
	return nil
}

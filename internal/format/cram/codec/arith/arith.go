// Package arith decodes the adaptive arithmetic codec of CRAM 3.1 (block
// compression method 6, "arith_dynamic" in htscodecs) with its format
// flags: order 0 and 1, RLE, STRIPE, NOSZ, CAT, PACK and EXT (bzip2), as
// specified in the hts-specs CRAMcodecs document. No Go library implements
// it; it is written from the specification and checked against htslib.
//
// The stream normally records its uncompressed size; DecodeLimit's limit
// bounds that size and, for a stream whose top level sets NOSZ, is taken as
// the size.
package arith

import (
	"bytes"
	"compress/bzip2"
	"fmt"
	"io"
	"sync"

	"github.com/seqstore/seqstore/internal/format/cram/codec/internal/rangecoder"
	"github.com/seqstore/seqstore/internal/format/cram/codec/internal/transform"
	"github.com/seqstore/seqstore/internal/format/cram/codec/itf8"
)

// MaxSize is the largest uncompressed size Decode accepts.
const MaxSize = 1 << 30

// Format flags of the first byte.
const (
	FlagOrder  = 0x01
	FlagExt    = 0x04
	FlagStripe = 0x08
	FlagNoSize = 0x10
	FlagCat    = 0x20
	FlagRLE    = 0x40
	FlagPack   = 0x80
)

const maxStripeDepth = 4

// Error is a decoding failure with the byte offset in the outermost
// compressed stream where it was found.
type Error struct {
	Offset int
	Msg    string
}

func (e *Error) Error() string { return fmt.Sprintf("arith: %s at byte %d", e.Msg, e.Offset) }

func errorf(off int, format string, args ...any) error {
	return &Error{Offset: off, Msg: fmt.Sprintf(format, args...)}
}

// Decode decodes one stream into dst when its capacity suffices, otherwise
// into a new slice.
func Decode(src, dst []byte) ([]byte, error) { return DecodeLimit(src, dst, MaxSize) }

// DecodeLimit is Decode with a bound on the uncompressed size, typically the
// raw size from the CRAM block header. A stream with NOSZ set at its top
// level decodes to exactly limit bytes.
func DecodeLimit(src, dst []byte, limit int) ([]byte, error) {
	if limit > MaxSize || limit < 0 {
		limit = MaxSize
	}
	return decode(src, 0, dst, -1, limit, 0)
}

func decode(src []byte, base int, dst []byte, size, limit, depth int) ([]byte, error) {
	if len(src) == 0 {
		return nil, errorf(base, "empty stream")
	}
	flags := src[0]
	if flags&FlagStripe != 0 {
		if depth >= maxStripeDepth {
			return nil, errorf(base, "stripes nested more than %d deep", maxStripeDepth)
		}
		return decodeStripe(src, base, dst, size, limit, depth+1)
	}
	p := 1
	outSize := size
	if flags&FlagNoSize == 0 {
		v, n, err := itf8.ReadUint7(src[p:])
		if err != nil {
			return nil, errorf(base+p, "uncompressed size: %v", err)
		}
		p += n
		if size >= 0 && int(v) != size {
			return nil, errorf(base+1, "uncompressed size %d, parent stream expects %d", v, size)
		}
		outSize = int(v)
	} else if outSize < 0 {
		outSize = limit
	}
	if outSize > limit {
		return nil, errorf(base+1, "uncompressed size %d exceeds the limit %d", outSize, limit)
	}

	entropySize := outSize
	var pack transform.Pack
	if flags&FlagPack != 0 {
		var used int
		var err error
		if pack, used, err = transform.ParsePackMeta(src[p:]); err != nil {
			return nil, errorf(base+p, "%v", err)
		}
		p += used
		v, n, err := itf8.ReadUint7(src[p:])
		if err != nil {
			return nil, errorf(base+p, "packed size: %v", err)
		}
		p += n
		if int64(v) > int64(entropySize) {
			return nil, errorf(base+p, "packed size %d exceeds the output size %d", v, entropySize)
		}
		entropySize = int(v)
	}

	var data []byte
	body := src[p:]
	switch {
	case len(body) == 0:
		// htslib treats a stream with nothing after its metadata as empty.
	case flags&FlagCat != 0:
		if entropySize > len(body) {
			return nil, errorf(base+p, "uncompressed data of %d bytes truncated to %d", entropySize, len(body))
		}
		data = body[:entropySize]
	case flags&FlagExt != 0:
		var err error
		if data, err = decodeExt(body, base+p, entropySize); err != nil {
			return nil, err
		}
	default:
		if flags&FlagPack == 0 {
			data = grow(dst, entropySize)
		} else {
			data = make([]byte, entropySize)
		}
		var n int
		switch flags & (FlagRLE | FlagOrder) {
		case 0:
			n = decodeOrder0(body, data)
		case FlagOrder:
			n = decodeOrder1(body, data)
		case FlagRLE:
			n = decodeRLE(body, data, false)
		default:
			n = decodeRLE(body, data, true)
		}
		if n < 0 {
			return nil, errorf(base+p+(-n-1), "arithmetic-coded data corrupt or truncated")
		}
	}

	if flags&FlagPack != 0 {
		out, err := pack.Unpack(dst, data, outSize)
		if err != nil {
			return nil, errorf(base, "%v", err)
		}
		return out, nil
	}
	if flags&(FlagCat|FlagExt) != 0 || data == nil {
		data = append(dst[:0], data...) // never hand back a view of src
	}
	return data, nil
}

// decodeExt inflates bzip2 data of at most size bytes.
func decodeExt(body []byte, off, size int) ([]byte, error) {
	if len(body) < 3 || string(body[:3]) != "BZh" {
		return nil, errorf(off, "external codec data is not bzip2")
	}
	out, err := io.ReadAll(io.LimitReader(bzip2.NewReader(bytes.NewReader(body)), int64(size)+1))
	if err != nil {
		return nil, errorf(off, "bzip2: %v", err)
	}
	if len(out) > size {
		return nil, errorf(off, "bzip2 data inflates past %d bytes", size)
	}
	return out, nil
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

// The decoders below return the input bytes consumed, or -(offset+1) of
// the failure.

func alphabetSize(b byte) int {
	if b == 0 {
		return 256
	}
	return int(b)
}

func finish(rc *rangecoder.Decoder, n int) int {
	if rc.Failed() {
		return -(rc.FailOffset() + 1 + 1) // +1 for the alphabet size byte
	}
	return n
}

func decodeOrder0(src, out []byte) int {
	if len(out) == 0 {
		return len(src)
	}
	var m rangecoder.Model
	m.Init(alphabetSize(src[0]))
	var rc rangecoder.Decoder
	rc.Init(src[1:])
	for i := range out {
		out[i] = byte(m.Decode(&rc))
	}
	return finish(&rc, len(src))
}

// order1Models is the storage of 256 models of up to 256 symbols.
type order1Models struct {
	models  [256]rangecoder.Model
	storage [256 * 256]rangecoder.SymFreq
}

var order1Pool = sync.Pool{New: func() any { return new(order1Models) }}

func decodeOrder1(src, out []byte) int {
	if len(out) == 0 {
		return len(src)
	}
	n := alphabetSize(src[0])
	ms := order1Pool.Get().(*order1Models)
	defer order1Pool.Put(ms)
	for i := range ms.models {
		ms.models[i].InitStorage(ms.storage[i*256:], n)
	}
	var rc rangecoder.Decoder
	rc.Init(src[1:])
	last := byte(0)
	for i := range out {
		last = byte(ms.models[last].Decode(&rc))
		out[i] = last
	}
	return finish(&rc, len(src))
}

// runModels are the run-length models: one per literal symbol for the
// first part of a run, then one for the second part and one for the rest.
type runModels struct {
	lit    [256]rangecoder.Model
	litMem [256 * 256]rangecoder.SymFreq
	run    [258]rangecoder.Model
	runMem [258 * 4]rangecoder.SymFreq
}

var runPool = sync.Pool{New: func() any { return new(runModels) }}

func decodeRLE(src, out []byte, order1 bool) int {
	if len(out) == 0 {
		return len(src)
	}
	n := alphabetSize(src[0])
	ms := runPool.Get().(*runModels)
	defer runPool.Put(ms)
	nlit := 1
	if order1 {
		nlit = 256
	}
	for i := 0; i < nlit; i++ {
		ms.lit[i].InitStorage(ms.litMem[i*256:], n)
	}
	for i := range ms.run {
		ms.run[i].InitStorage(ms.runMem[i*4:], 4)
	}
	var rc rangecoder.Decoder
	rc.Init(src[1:])
	last := byte(0)
	for i := 0; i < len(out); i++ {
		ctx := 0
		if order1 {
			ctx = int(last)
		}
		last = byte(ms.lit[ctx].Decode(&rc))
		out[i] = last
		run := 0
		rctx := int(last)
		for {
			part := int(ms.run[rctx].Decode(&rc))
			if rctx == int(last) {
				rctx = 256
			} else if rctx < 257 {
				rctx++
			}
			run += part
			if part != 3 || run >= len(out) || rc.Failed() {
				break
			}
		}
		// A run longer than the output is cut short, as in htslib.
		for ; run > 0 && i+1 < len(out); run-- {
			i++
			out[i] = last
		}
		if rc.Failed() {
			break
		}
	}
	return finish(&rc, len(src))
}

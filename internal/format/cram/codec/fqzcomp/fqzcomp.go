// Package fqzcomp decodes the fqzcomp quality codec of CRAM 3.1 (block
// compression method 7, "fqzcomp_qual" in htscodecs): adaptive arithmetic
// coding of quality values in a context built from previous qualities, the
// position in the read, the running count of quality changes and an
// optional selector, as specified in the hts-specs CRAMcodecs document. No
// Go library implements it; it is written from the specification and
// checked against samtools.
//
// The stream records its uncompressed size (all quality strings
// concatenated) and the read lengths inside its coded data, so Decode needs
// no size from the caller; DecodeLimit bounds the size.
//
// Where htscodecs and the specification differ for multi-parameter streams
// (which htscodecs never writes) this package follows the specification:
// the selected parameter block supplies the context tables and the quality
// map, and its starting context is added at every step.
package fqzcomp

import (
	"fmt"
	"sync"

	"github.com/seqstore/seqstore/internal/format/cram/codec/internal/rangecoder"
	"github.com/seqstore/seqstore/internal/format/cram/codec/itf8"
)

// MaxSize is the largest uncompressed size Decode accepts.
const MaxSize = 1 << 30

// Version is the only fqzcomp format version CRAM 3.1 defines.
const Version = 5

// Global and per-parameter-block flags.
const (
	gflagMultiParam = 1
	gflagHaveStab   = 2
	gflagDoRev      = 4

	pflagDoDedup  = 2
	pflagDoLen    = 4
	pflagDoSel    = 8
	pflagHaveQmap = 16
	pflagHavePtab = 32
	pflagHaveDtab = 64
	pflagHaveQtab = 128
)

const contexts = 1 << 16

// Error is a decoding failure with the byte offset in the compressed
// stream where it was found.
type Error struct {
	Offset int
	Msg    string
}

func (e *Error) Error() string { return fmt.Sprintf("fqzcomp: %s at byte %d", e.Msg, e.Offset) }

func errorf(off int, format string, args ...any) error {
	return &Error{Offset: off, Msg: fmt.Sprintf(format, args...)}
}

// param is one parameter block.
type param struct {
	context       uint32
	flags         byte
	maxSym        int
	qbits, qshift uint
	qloc, sloc    uint
	ploc, dloc    uint
	qmask         uint32
	qmap          [256]byte
	qtab          [256]uint32
	ptab          [1024]uint32 // already shifted by ploc
	dtab          [256]uint32  // already shifted by dloc
}

type params struct {
	gflags byte
	maxSel int
	stab   [256]byte
	p      []param
	maxSym int
}

// readArray reads a two-level run-length coded monotonic table of n
// entries, returning the bytes used (htscodecs' read_array).
func readArray(src []byte, out []uint32) (int, error) {
	n := len(out)
	var runs [1024]byte
	i, j, z, last := 0, 0, 0, -1
	for ; z < n && i < len(src); i++ {
		run := int(src[i])
		runs[j] = byte(run)
		j++
		z += run
		if run == last {
			if i+1 >= len(src) {
				return 0, fmt.Errorf("table copy count truncated")
			}
			i++
			copies := int(src[i])
			z += run * copies
			for ; copies > 0 && z <= n && j < len(runs); copies-- {
				runs[j] = byte(run)
				j++
			}
		}
		if j >= len(runs) {
			return 0, fmt.Errorf("table has too many runs")
		}
		last = run
	}
	used := i
	nruns := j
	z = 0
	for v, k := 0, 0; k < n; v++ {
		if z >= nruns {
			return 0, fmt.Errorf("table runs cover %d of %d entries", k, n)
		}
		runLen, part := 0, 0
		for {
			part = int(runs[z])
			z++
			runLen += part
			if part != 255 || z >= nruns {
				break
			}
		}
		if part == 255 {
			return 0, fmt.Errorf("table run truncated")
		}
		for ; runLen > 0 && k < n; runLen-- {
			out[k] = uint32(v)
			k++
		}
	}
	return used, nil
}

func readParams(src []byte, p int, ps *params) (int, error) {
	if len(src)-p < 2 {
		return p, errorf(p, "parameters truncated")
	}
	if v := src[p]; v != Version {
		return p, errorf(p, "format version %d, want %d", v, Version)
	}
	ps.gflags = src[p+1]
	p += 2
	nparam := 1
	if ps.gflags&gflagMultiParam != 0 {
		if p >= len(src) {
			return p, errorf(p, "parameter count missing")
		}
		nparam = int(src[p])
		p++
		if nparam == 0 {
			return p, errorf(p-1, "zero parameter blocks")
		}
	}
	ps.maxSel = 0
	if nparam > 1 {
		ps.maxSel = nparam
	}
	if ps.gflags&gflagHaveStab != 0 {
		if p >= len(src) {
			return p, errorf(p, "selector count missing")
		}
		ps.maxSel = int(src[p])
		p++
		var stab [256]uint32
		n, err := readArray(src[p:], stab[:])
		if err != nil {
			return p, errorf(p, "selector table: %v", err)
		}
		p += n
		for i, v := range stab {
			ps.stab[i] = byte(min(v, 255))
		}
	} else {
		for i := range ps.stab {
			ps.stab[i] = byte(min(i, nparam-1))
		}
	}
	if cap(ps.p) < nparam {
		ps.p = make([]param, nparam)
	}
	ps.p = ps.p[:nparam]
	ps.maxSym = 0
	for k := range ps.p {
		var err error
		if p, err = readParam(src, p, &ps.p[k]); err != nil {
			return p, err
		}
		if ps.p[k].flags&pflagDoSel != 0 && ps.maxSel == 0 {
			return p, errorf(p, "parameter block %d uses a selector but none is coded", k)
		}
		ps.maxSym = max(ps.maxSym, ps.p[k].maxSym)
	}
	return p, nil
}

func readParam(src []byte, p int, pm *param) (int, error) {
	if len(src)-p < 7 {
		return p, errorf(p, "parameter block truncated")
	}
	pm.context = uint32(src[p]) | uint32(src[p+1])<<8
	pm.flags = src[p+2]
	pm.maxSym = int(src[p+3])
	pm.qbits, pm.qshift = uint(src[p+4]>>4), uint(src[p+4]&15)
	pm.qloc, pm.sloc = uint(src[p+5]>>4), uint(src[p+5]&15)
	pm.ploc, pm.dloc = uint(src[p+6]>>4), uint(src[p+6]&15)
	pm.qmask = 1<<pm.qbits - 1
	p += 7
	if pm.flags&pflagHaveQmap != 0 {
		if len(src)-p < pm.maxSym {
			return p, errorf(p, "quality map truncated")
		}
		for i := range pm.qmap {
			pm.qmap[i] = 0xff
		}
		copy(pm.qmap[:], src[p:p+pm.maxSym])
		p += pm.maxSym
	} else {
		for i := range pm.qmap {
			pm.qmap[i] = byte(i)
		}
	}
	// Like htscodecs, a quality table is only stored when qualities are
	// part of the context.
	if pm.qbits > 0 && pm.flags&pflagHaveQtab != 0 {
		n, err := readArray(src[p:], pm.qtab[:])
		if err != nil {
			return p, errorf(p, "quality table: %v", err)
		}
		p += n
	} else {
		for i := range pm.qtab {
			pm.qtab[i] = uint32(i)
		}
	}
	if pm.flags&pflagHavePtab != 0 {
		n, err := readArray(src[p:], pm.ptab[:])
		if err != nil {
			return p, errorf(p, "position table: %v", err)
		}
		p += n
		for i := range pm.ptab {
			pm.ptab[i] <<= pm.ploc
		}
	} else {
		clear(pm.ptab[:])
	}
	if pm.flags&pflagHaveDtab != 0 {
		n, err := readArray(src[p:], pm.dtab[:])
		if err != nil {
			return p, errorf(p, "delta table: %v", err)
		}
		p += n
		for i := range pm.dtab {
			pm.dtab[i] <<= pm.dloc
		}
	} else {
		clear(pm.dtab[:])
	}
	return p, nil
}

// models holds the adaptive models of one decode. The 65536 quality models
// are initialised on first use and stored inline (total, then symbols) in
// one growing slice, so a block only pays for the contexts it visits.
type models struct {
	qualOff [contexts]int32 // 1 + offset of the context's model in mem, 0 if unused
	used    []uint16        // contexts initialised in this decode
	mem     []rangecoder.SymFreq
	nsym    int

	length [4]rangecoder.Model
	rev    rangecoder.Model
	dup    rangecoder.Model
	sel    rangecoder.Model
	ps     params
	revs   []bool
	lens   []int
}

var modelPool = sync.Pool{New: func() any { return new(models) }}

func (m *models) reset(nsym int) {
	for _, c := range m.used {
		m.qualOff[c] = 0
	}
	m.used = m.used[:0]
	m.mem = m.mem[:0]
	m.nsym = nsym
	m.revs = m.revs[:0]
	m.lens = m.lens[:0]
}

// qualModel returns the inline model of context c, initialising it if
// needed.
func (m *models) qualModel(c uint32) []rangecoder.SymFreq {
	off := int(m.qualOff[c&(contexts-1)]) - 1
	if off < 0 {
		off = len(m.mem)
		m.mem = append(m.mem, make([]rangecoder.SymFreq, m.nsym+1)...)
		rangecoder.InitBlock(m.mem[off:], m.nsym)
		m.qualOff[c&(contexts-1)] = int32(off + 1)
		m.used = append(m.used, uint16(c))
	}
	return m.mem[off : off+m.nsym+1]
}

// Decode decodes one fqzcomp stream into dst when its capacity suffices,
// otherwise into a new slice.
func Decode(src, dst []byte) ([]byte, error) { return DecodeLimit(src, dst, MaxSize) }

// DecodeLimit is Decode with a bound on the uncompressed size.
func DecodeLimit(src, dst []byte, limit int) ([]byte, error) {
	if limit < 0 || limit > MaxSize {
		limit = MaxSize
	}
	size, n, err := itf8.ReadUint7(src)
	if err != nil {
		return nil, errorf(0, "uncompressed size: %v", err)
	}
	if int64(size) > int64(limit) {
		return nil, errorf(0, "uncompressed size %d exceeds the limit %d", size, limit)
	}
	m := modelPool.Get().(*models)
	defer modelPool.Put(m)
	ps := &m.ps
	p, err := readParams(src, n, ps)
	if err != nil {
		return nil, err
	}
	m.reset(ps.maxSym + 1)
	for i := range m.length {
		m.length[i].Init(256)
	}
	m.rev.Init(2)
	m.dup.Init(2)
	if ps.maxSel > 0 {
		m.sel.Init(ps.maxSel + 1)
	}

	out := dst[:0]
	if cap(out) < int(size) {
		out = make([]byte, 0, size)
	}
	out = out[:size]
	if size == 0 {
		return out, nil
	}
	var rc rangecoder.Decoder
	rc.Init(src[p:])
	if err := decodeQuals(m, &rc, out); err != nil {
		if e, ok := err.(*Error); ok {
			e.Offset += p
		}
		return nil, err
	}
	if rc.Failed() {
		return nil, errorf(p+rc.FailOffset(), "coded data corrupt or truncated")
	}
	if ps.gflags&gflagDoRev != 0 {
		i := 0
		for r, rev := range m.revs {
			l := m.lens[r]
			if rev {
				q := out[i : i+l]
				for a, b := 0, l-1; a < b; a, b = a+1, b-1 {
					q[a], q[b] = q[b], q[a]
				}
			}
			i += l
		}
	}
	return out, nil
}

func decodeQuals(m *models, rc *rangecoder.Decoder, out []byte) error {
	ps := &m.ps
	var (
		pm       *param
		remain   int // qualities left in the current record
		lastLen  int
		firstLen = true
		sel      uint32
		qctx     uint32
		delta    uint32
		prevq    uint32
		ctx      uint32
	)
	doRev := ps.gflags&gflagDoRev != 0
	for i := 0; i < len(out); {
		if remain == 0 {
			sel = 0
			if ps.maxSel > 0 {
				sel = uint32(m.sel.Decode(rc))
			}
			x := int(sel)
			if ps.gflags&gflagHaveStab != 0 {
				x = int(ps.stab[min(sel, 255)])
			}
			if x >= len(ps.p) {
				return errorf(rc.Offset(), "selector %d picks parameter block %d of %d (record %d)", sel, x, len(ps.p), len(m.lens))
			}
			pm = &ps.p[x]
			n := lastLen
			if pm.flags&pflagDoLen == 0 || firstLen {
				n = int(m.length[0].Decode(rc)) | int(m.length[1].Decode(rc))<<8 |
					int(m.length[2].Decode(rc))<<16 | int(m.length[3].Decode(rc))<<24
				firstLen = false
				lastLen = n
			}
			if n <= 0 || n > len(out)-i {
				return errorf(rc.Offset(), "record %d length %d does not fit the %d qualities left", len(m.lens), n, len(out)-i)
			}
			if rc.Failed() {
				return errorf(rc.FailOffset(), "coded data corrupt or truncated")
			}
			if doRev {
				m.revs = append(m.revs, m.rev.Decode(rc) != 0)
				m.lens = append(m.lens, n)
			}
			if pm.flags&pflagDoDedup != 0 && m.dup.Decode(rc) != 0 {
				if n > i {
					return errorf(rc.Offset(), "record %d duplicates a record before the start", len(m.lens))
				}
				copy(out[i:i+n], out[i-n:i])
				i += n
				continue
			}
			remain = n
			qctx, delta, prevq = 0, 0, 0
			ctx = pm.context
		}

		q := uint32(rangecoder.DecodeBlock(rc, m.qualModel(ctx&(contexts-1))))
		out[i] = pm.qmap[q]
		i++

		// The context of the next quality.
		qctx = qctx<<pm.qshift + pm.qtab[q]
		ctx = pm.context + (qctx&pm.qmask)<<pm.qloc
		ctx += pm.ptab[min(remain, 1023)]
		ctx += pm.dtab[min(delta, 255)]
		if prevq != q {
			delta++
		}
		prevq = q
		if pm.flags&pflagDoSel != 0 {
			ctx += sel << pm.sloc
		}
		remain--
		if rc.Failed() {
			return errorf(rc.FailOffset(), "coded data corrupt or truncated")
		}
	}
	return nil
}

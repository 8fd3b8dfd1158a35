package cram

import (
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"math"
	"strconv"

	"github.com/seqstore/seqstore/internal/format/cram/codec"
	"github.com/seqstore/seqstore/internal/format/cram/crai"
	"github.com/seqstore/seqstore/internal/format/sam"
)

// CRAM compression bit flags (CF) and mate flags (MF).
const (
	cfQualArray      = 1
	cfDetached       = 2
	cfMateDownstream = 4
	cfNoSeq          = 8
	cfExplicitTLen   = 16

	mfReverse  = 1
	mfUnmapped = 2
)

// BAM flag bits the decoder sets.
const (
	flagPaired      = 0x1
	flagUnmapped    = 0x4
	flagMateUnmap   = 0x8
	flagReverse     = 0x10
	flagMateReverse = 0x20
	flagRead1       = 0x40
)

const noTLen = math.MinInt64

// span locates a record's field in one of its batch's arenas.
type span struct{ start, end int32 }

// record is a decoded record inside a batch, before mate resolution and
// name generation are final.
type record struct {
	flag      int32
	cf        int32
	refID     int32
	apos      int64 // 1-based
	aend      int64 // 1-based inclusive
	mapq      uint8
	rg        int32
	mateLine  int32
	mateFlags int32
	mateRef   int32
	matePos   int64 // 1-based; 0 for none
	tlen      int64
	explicit  int64
	name      span
	seq       span
	qual      span
	aux       span
	cigar     span
}

// batch is everything decoded from one container.
type batch struct {
	offset  int64 // byte offset of the container in the file
	recs    []record
	names   []byte
	seqs    []byte
	quals   []byte
	aux     []byte
	cigars  []uint32
	index   []crai.Entry
	counter int64 // record counter of the container's first record
	err     error
}

func (b *batch) reset() {
	b.recs = b.recs[:0]
	b.names = b.names[:0]
	b.seqs = b.seqs[:0]
	b.quals = b.quals[:0]
	b.aux = b.aux[:0]
	b.cigars = b.cigars[:0]
	b.index = b.index[:0]
	b.err = nil
}

// l1 maps a reference base to its substitution matrix row, as htslib does:
// anything but A, C, G and T uses the N row.
var l1 = func() (t [256]byte) {
	for i := range t {
		t[i] = 4
	}
	t['A'], t['a'] = 0, 0
	t['C'], t['c'] = 1, 1
	t['G'], t['g'] = 2, 2
	t['T'], t['t'] = 3, 3
	return
}()

// sliceDecoder decodes the records of one slice into a batch.
type sliceDecoder struct {
	env  *env
	raws [][]byte // buffers the slice's blocks decode into, by position
	ch   *compressionHeader
	sh   sliceHeader
	b    *batch
	core bitReader
	exts []extBlock
	ds   [numDS]*fieldCodec
	tags map[int32]*fieldCodec
	// lineCodecs holds, per tag line, the codecs of its tags, bound on
	// first use.
	lineCodecs [][]*fieldCodec
	err        error
	first      int // index in b.recs of the slice's first record

	// Reference bases of the record being decoded: ref[p-refStart] is the
	// base at 1-based position p, up to refEnd inclusive.
	ref      []byte
	refStart int64
	refEnd   int64
	refLen   int64 // the @SQ length of the record's reference

	md []byte
	// refCanonical is set when ref holds only letters samtools prints as
	// they are, so bases copied from it need no normalising.
	refCanonical bool

	work int64 // what the container may still decode (see defaultMaxWork)
	// charge is the container's memory; rawsSize and headers the bytes
	// of it the block buffers and the decoded header blocks take.
	charge      *charge
	rawsSize    int64
	headers     int64
	scratch     int64 // what the codec decoding a block has allocated
	sliceOffset int64 // landmark of the slice in its container
	sliceSize   int64
}

func (d *sliceDecoder) external(id int32) *extBlock {
	for i := range d.exts {
		if d.exts[i].id == id {
			return &d.exts[i]
		}
	}
	return nil
}

func (d *sliceDecoder) tagCodec(t tagDesc) *fieldCodec {
	if c, ok := d.tags[t.key]; ok {
		return c
	}
	e, ok := d.ch.tags[t.key]
	var c *fieldCodec
	name := string(t.name[:]) + ":" + string(t.typ)
	if !ok {
		c = &fieldCodec{kind: -1, name: "tag " + name, d: d}
	} else {
		c = bind(e, "tag "+name, d)
	}
	d.tags[t.key] = c
	return c
}

// decodeSlice decodes the slice whose header and blocks are given, appending
// its records to b.
func (d *sliceDecoder) decode(blocks []block) error {
	sh := &d.sh
	d.tags = map[int32]*fieldCodec{}
	d.lineCodecs = make([][]*fieldCodec, len(d.ch.tagLines))
	var core *block
	d.exts = d.exts[:0]
	for i := range blocks {
		blk := &blocks[i]
		if blk.contentType != contentCore && blk.contentType != contentExternal {
			return fmt.Errorf("unexpected block of content type %d among the slice's blocks", blk.contentType)
		}
		// Blocks decode into the worker's buffers, kept from slice to
		// slice: records copy what they need, so nothing refers to them
		// once the slice is done.
		if len(d.raws) <= i {
			d.raws = append(d.raws, nil)
		}
		// Decoders allocate what the block declares, and some scratch:
		// both are charged first.
		old := cap(d.raws[i])
		if err := d.uncompress(blk, d.raws[i], fmt.Sprintf("block %d (content type %d, id %d), which declares %d bytes uncompressed", i+1, blk.contentType, blk.contentID, blk.rawSize)); err != nil {
			return err
		}
		if blk.method != codec.Raw && cap(blk.raw) > old {
			d.raws[i] = blk.raw[:0]
			d.rawsSize += int64(cap(blk.raw) - old)
		}
		switch blk.contentType {
		case contentCore:
			core = blk
		case contentExternal:
			d.exts = append(d.exts, extBlock{id: blk.contentID, data: blk.raw})
		}
	}
	if core == nil {
		return fmt.Errorf("slice has no core data block")
	}
	d.core = bitReader{data: core.raw}
	for i := range d.ds {
		d.ds[i] = bind(d.ch.series[i], dsNames[i], d)
	}

	// The slice's reference.
	d.ref = nil
	embedded := sh.embedRefID >= 0
	if sh.refID >= 0 {
		if int(sh.refID) >= len(d.env.refs) {
			return fmt.Errorf("reference id %d is not in the header's %d @SQ lines", sh.refID, len(d.env.refs))
		}
		d.refLen = int64(d.env.refs[sh.refID].Length)
		d.refStart = int64(sh.start)
		d.refEnd = int64(sh.start) + int64(sh.span) - 1
		switch {
		case embedded:
			var blk *extBlock
			if blk = d.external(sh.embedRefID); blk == nil {
				return fmt.Errorf("embedded reference block %d is missing", sh.embedRefID)
			}
			if int64(sh.span) > int64(len(blk.data)) {
				return fmt.Errorf("embedded reference is %d bases, the slice spans %d", len(blk.data), sh.span)
			}
			d.ref = blk.data
			d.refCanonical = canonical(blk.data)
		case d.ch.refNeeded:
			if d.refStart < 1 {
				d.refStart = 1
			}
			// The span and one base past it: a substitution at a
			// read's last base reads the base after it for MD.
			w, err := d.env.reference(sh.refID, d.refStart-1, d.refEnd+1)
			if err != nil {
				return err
			}
			if d.refStart-1 > w.length {
				return fmt.Errorf("slice starts at %d, beyond the end of %s (%d bases)", sh.start, d.env.refs[sh.refID].Name, w.length)
			}
			d.refEnd = min(d.refEnd, w.length)
			d.ref = w.seq[d.refStart-1-w.start:]
			d.refCanonical = w.canonical
		}
		if d.ref != nil && sh.md5 != [16]byte{} {
			start := int64(sh.start) - d.refStart
			if start < 0 {
				start = 0
			}
			n := int64(sh.span)
			if n > d.refEnd-d.refStart+1 {
				n = d.refEnd - d.refStart + 1
			}
			if start+n > d.refEnd-d.refStart+1 {
				n = d.refEnd - d.refStart + 1 - start
			}
			var sum [16]byte
			if n >= 0 && start+n <= int64(len(d.ref)) {
				sum = md5.Sum(d.ref[start : start+n])
			}
			if sum != sh.md5 {
				return fmt.Errorf("reference MD5 mismatch for %s:%d-%d: the CRAM has %s, the reference gives %s: is this the reference the file was written with?",
					d.env.refs[sh.refID].Name, sh.start, int64(sh.start)+int64(sh.span)-1, hex.EncodeToString(sh.md5[:]), hex.EncodeToString(sum[:]))
			}
		}
	}

	d.first = len(d.b.recs)
	// Positions are deltas from the previous record's, the first from the
	// slice start.
	lastAPos := int64(sh.start)
	lastRef := int32(-9)
	for i := 0; i < int(sh.records); i++ {
		err := d.record(i, &lastAPos, &lastRef)
		if err == nil {
			// Small appends grow the batch unchecked: they are charged
			// once done, doubling at most what was charged before.
			err = d.account(0, "the records")
		}
		if err != nil {
			d.b.recs = d.b.recs[:d.first+i]
			return &recordError{index: i, err: err}
		}
	}
	if err := d.resolveMates(); err != nil {
		return err
	}
	d.names()
	d.indexSlice()
	return nil
}

// recordError marks an error in the i-th record of a slice.
type recordError struct {
	index int
	err   error
}

func (e *recordError) Error() string { return e.err.Error() }
func (e *recordError) Unwrap() error { return e.err }

// maxReadLength bounds a read's length so that a corrupt value cannot
// demand a huge buffer.
const maxReadLength = 1 << 28

// record decodes the slice's i-th record (0-based) into the batch, field
// by field in the order the data series interleave.
func (d *sliceDecoder) record(i int, lastAPos *int64, lastRef *int32) error {
	b := d.b
	b.recs = append(b.recs, record{})
	r := &b.recs[len(b.recs)-1]
	rl, err := d.placement(r, lastAPos, lastRef)
	if err != nil {
		return err
	}
	if err := d.nameAndMate(r, i); err != nil {
		return err
	}
	hasMD, hasNM, err := d.storedTags(r)
	if err != nil {
		return err
	}
	return d.basesAndQualities(r, rl, hasMD, hasNM)
}

// placement decodes a record's flags, reference, read length, position
// and read group, and returns the read length. lastAPos and lastRef carry
// the previous record's position and reference across the slice.
func (d *sliceDecoder) placement(r *record, lastAPos *int64, lastRef *int32) (int32, error) {
	ds := &d.ds
	bf := ds[dsBF].int()
	if d.err == nil && (bf < 0 || bf >= 0x1000) {
		return 0, fmt.Errorf("BAM flags %d out of range", bf)
	}
	r.flag = bf
	r.cf = ds[dsCF].int()
	if d.sh.refID == -2 {
		r.refID = ds[dsRI].int()
		if d.err == nil && r.refID >= 0 && r.refID != *lastRef && int(r.refID) < len(d.env.refs) {
			*lastRef = r.refID
			d.refStart = 1
			d.refLen = int64(d.env.refs[r.refID].Length)
			d.refEnd = d.refLen
			if d.ch.refNeeded {
				// A slice of several sequences gives no span for
				// each: the record's sequence is fetched whole.
				// Writers make such slices of sequences with few
				// reads, typically short ones.
				w, err := d.env.reference(r.refID, 0, d.refLen+1)
				if err != nil {
					return 0, err
				}
				d.ref = w.seq
				d.refCanonical = w.canonical
				d.refEnd = w.length
			}
		}
	} else {
		r.refID = d.sh.refID
	}
	if d.err != nil {
		return 0, d.err
	}
	if r.refID < -1 || int(r.refID) >= len(d.env.refs) {
		return 0, fmt.Errorf("reference id %d is not in the header's %d @SQ lines", r.refID, len(d.env.refs))
	}
	rl := ds[dsRL].int()
	if d.err == nil && (rl < 0 || rl > maxReadLength) {
		return 0, fmt.Errorf("read length %d out of range", rl)
	}
	d.work -= int64(rl) + 1
	if d.work < 0 {
		return 0, fmt.Errorf("the container decodes to more than %d bases and records; it is corrupt", d.env.maxWork)
	}
	if ds[dsAP].kind >= 0 {
		r.apos = int64(ds[dsAP].int())
		if d.ch.apDelta {
			r.apos += *lastAPos
		}
		*lastAPos = r.apos
	} else {
		r.apos = int64(d.sh.start)
	}
	if ds[dsRG].kind >= 0 {
		r.rg = ds[dsRG].int()
		if r.rg == d.env.unknownRG {
			r.rg = -1
		}
	} else {
		r.rg = -1
	}
	if d.err != nil {
		return 0, d.err
	}
	return rl, nil
}

// nameAndMate decodes the read name of record i and where its mate is: in
// fields of its own (a detached mate), or a later record of the slice.
func (d *sliceDecoder) nameAndMate(r *record, i int) error {
	b, ds, cf := d.b, &d.ds, r.cf
	r.name.start = int32(len(b.names))
	if d.ch.readNames {
		b.names = ds[dsRN].bytes(b.names, -1)
	}
	r.mateLine, r.mateRef, r.matePos, r.explicit = -1, -1, 0, noTLen
	switch {
	case cf&cfDetached != 0:
		r.mateFlags = ds[dsMF].int()
		if !d.ch.readNames {
			b.names = ds[dsRN].bytes(b.names, -1)
		}
		r.mateRef = ds[dsNS].int()
		r.matePos = int64(ds[dsNP].int())
		r.tlen = int64(ds[dsTS].int())
	case cf&cfMateDownstream != 0:
		nf := ds[dsNF].int()
		if d.err == nil && (nf < 0 || i+1+int(nf) >= int(d.sh.records)) {
			return fmt.Errorf("next-fragment distance %d points outside the slice's %d records", nf, d.sh.records)
		}
		r.mateLine = int32(i + 1 + int(nf))
		r.tlen = noTLen
		if cf&cfExplicitTLen != 0 {
			r.explicit = int64(ds[dsTS].int())
		}
	case cf&cfExplicitTLen != 0:
		r.explicit = int64(ds[dsTS].int())
		r.tlen = noTLen
	default:
		r.tlen = noTLen
	}
	r.name.end = int32(len(b.names))
	if d.err != nil {
		return d.err
	}
	if r.name.end-r.name.start > 254 {
		return fmt.Errorf("read name of %d bytes is longer than 254", r.name.end-r.name.start)
	}
	return nil
}

// storedTags decodes a record's stored tags and says whether they include
// MD and NM, or htslib's cF tag forbids generating them.
func (d *sliceDecoder) storedTags(r *record) (hasMD, hasNM bool, err error) {
	b, ds := d.b, &d.ds
	r.aux.start = int32(len(b.aux))
	tl := ds[dsTL].int()
	if d.err != nil {
		return false, false, d.err
	}
	if tl < 0 || int(tl) >= len(d.ch.tagLines) {
		if !(tl == 0 && len(d.ch.tagLines) == 0) {
			return false, false, fmt.Errorf("tag line %d out of range (the dictionary has %d)", tl, len(d.ch.tagLines))
		}
	}
	if int(tl) < len(d.ch.tagLines) {
		codecs := d.lineCodecs[tl]
		if codecs == nil {
			for _, t := range d.ch.tagLines[tl] {
				codecs = append(codecs, d.tagCodec(t))
			}
			d.lineCodecs[tl] = codecs
		}
		for k, t := range d.ch.tagLines[tl] {
			if t.name == [2]byte{'M', 'D'} {
				hasMD = true
			}
			if t.name == [2]byte{'N', 'M'} {
				hasNM = true
			}
			at := len(b.aux)
			b.aux = append(b.aux, t.name[0], t.name[1], t.typ)
			b.aux = codecs[k].bytes(b.aux, 1)
			if d.err != nil {
				return false, false, d.err
			}
			if t.name == [2]byte{'c', 'F'} && t.typ == 'C' && len(b.aux)-at == 4 {
				// htslib's CRAM flags tag: bit 1 stops MD, bit 2 NM being
				// generated; the tag itself is not output.
				v := b.aux[at+3]
				b.aux = b.aux[:at]
				if v&1 != 0 {
					hasMD = true
				}
				if v&2 != 0 {
					hasNM = true
				}
			}
		}
	}
	return hasMD, hasNM, nil
}

// basesAndQualities decodes a record's bases and qualities (from its read
// features and the reference for a mapped read), adds the read group tag
// and checks that the CIGAR covers the bases.
func (d *sliceDecoder) basesAndQualities(r *record, rl int32, hasMD, hasNM bool) error {
	b, ds, bf, cf := d.b, &d.ds, r.flag, r.cf
	r.seq.start = int32(len(b.seqs))
	r.qual.start = int32(len(b.quals))
	if cap(b.seqs)-len(b.seqs) < int(rl) || cap(b.quals)-len(b.quals) < int(rl) {
		if err := d.account(int64(2*cap(b.seqs)+2*cap(b.quals)+2*int(rl)), "the bases and qualities"); err != nil {
			return err
		}
	}
	b.seqs = grow(b.seqs, int(rl))
	b.quals = grow(b.quals, int(rl))
	seq := b.seqs[r.seq.start:]
	qual := b.quals[r.qual.start:]
	if d.ref == nil {
		for k := range seq {
			seq[k] = '='
		}
	}
	r.cigar.start = int32(len(b.cigars))
	if bf&flagUnmapped == 0 {
		if r.apos <= 0 {
			return fmt.Errorf("read has alignment position %d but no unmapped flag", r.apos)
		}
		if err := d.features(r, seq, qual, hasMD, hasNM); err != nil {
			return err
		}
	} else {
		r.aend = r.apos
		if rl > 0 {
			copyInto(seq, ds[dsBA], int(rl), d)
			normalize(seq)
		}
		if cf&cfQualArray != 0 {
			if rl > 0 {
				copyInto(qual, ds[dsQS], int(rl), d)
			}
		} else {
			for k := range qual {
				qual[k] = 0xff
			}
		}
	}
	r.cigar.end = int32(len(b.cigars))
	r.seq.end = int32(len(b.seqs))
	r.qual.end = int32(len(b.quals))
	if cf&cfNoSeq != 0 {
		r.seq.end = r.seq.start
		r.qual.end = r.qual.start
	}
	// htslib adds the read group last, after the stored and generated tags.
	if r.rg >= 0 {
		if int(r.rg) >= len(d.env.rgNames) {
			return fmt.Errorf("read group %d is not in the header's %d @RG lines", r.rg, len(d.env.rgNames))
		}
		b.aux = append(b.aux, 'R', 'G', 'Z')
		b.aux = append(b.aux, d.env.rgNames[r.rg]...)
		b.aux = append(b.aux, 0)
	}
	r.aux.end = int32(len(b.aux))
	// As htslib's bam_set1, refuse a mapped read whose CIGAR does not
	// cover its bases.
	if bf&flagUnmapped == 0 && r.seq.end > r.seq.start {
		cigar := b.cigars[r.cigar.start:r.cigar.end]
		if len(cigar) == 0 {
			return fmt.Errorf("mapped read has no CIGAR")
		}
		if q := sam.CigarQueryLength(cigar); q != int64(r.seq.end-r.seq.start) {
			return fmt.Errorf("CIGAR covers %d bases but the sequence has %d", q, r.seq.end-r.seq.start)
		}
	}
	// Bases from the file were normalised as they came; reference bases
	// only need it when the reference holds other letters.
	if d.ref != nil && !d.refCanonical {
		normalize(seq)
	}
	return d.err
}

// normalize rewrites bases as samtools prints them (see seqLetter).
func normalize(b []byte) {
	for k, c := range b {
		b[k] = seqLetter[c]
	}
}

// canonical reports whether every base is already as samtools prints it.
func canonical(b []byte) bool {
	for _, c := range b {
		if seqLetter[c] != c {
			return false
		}
	}
	return true
}

// seqLetter maps a base to the letter htslib prints after storing it in
// BAM's 4-bit code: IUPAC letters of either case keep their meaning, '='
// stays, anything else becomes N.
var seqLetter = func() (t [256]byte) {
	const codes = "=ACMGRSVTWYHKDBN"
	for i := range t {
		t[i] = 'N'
	}
	for i := 0; i < len(codes); i++ {
		c := codes[i]
		t[c] = c
		if c >= 'A' && c <= 'Z' {
			t[c+'a'-'A'] = c
		}
	}
	// htslib's table also reads the digits 0-3 as A, C, G and T.
	t['0'], t['1'], t['2'], t['3'] = 'A', 'C', 'G', 'T'
	return
}()

// grow extends b by n bytes.
func grow(b []byte, n int) []byte {
	if cap(b)-len(b) < n {
		nb := make([]byte, len(b), 2*cap(b)+n)
		copy(nb, b)
		b = nb
	}
	return b[:len(b)+n]
}

// copyInto decodes n bytes with c into dst.
func copyInto(dst []byte, c *fieldCodec, n int, d *sliceDecoder) {
	if c.kind == encExternal && c.ext != nil {
		if n > len(c.ext.data)-c.ext.pos {
			c.exhausted()
			return
		}
		copy(dst, c.ext.data[c.ext.pos:c.ext.pos+n])
		c.ext.pos += n
		return
	}
	tmp := c.bytes(d.md[:0], n)
	copy(dst, tmp)
	d.md = tmp[:0]
}

// Appenders for the generated MD tag.
func appendUint(dst []byte, v int32) []byte { return strconv.AppendUint(dst, uint64(uint32(v)), 10) }

// resolveMates links mates within the slice and computes their template
// lengths, as htslib's cram_decode_slice_xref does.
func (d *sliceDecoder) resolveMates() error {
	recs := d.b.recs[d.first:]
	n := int32(len(recs))
	for i := range recs {
		cr := &recs[i]
		if cr.mateLine >= 0 {
			if cr.mateLine >= n {
				return fmt.Errorf("record %d: mate line %d outside the slice's %d records", i+1, cr.mateLine, n)
			}
			if cr.tlen == noTLen {
				id1, id2 := int32(i), int32(i)
				aleft, aright := cr.apos, cr.aend
				ref := cr.refID
				leftCount := 0
				for steps := 0; ; steps++ {
					m := &recs[id2]
					if aleft > m.apos {
						aleft, leftCount = m.apos, 1
					} else if aleft == m.apos {
						leftCount++
					}
					if aright < m.aend {
						aright = m.aend
					}
					if m.mateLine == -1 {
						m.mateLine = int32(i)
						break
					}
					if m.mateLine <= id2 || m.mateLine >= n {
						return fmt.Errorf("record %d: mate chain is not ordered", i+1)
					}
					id2 = m.mateLine
					if recs[id2].refID != ref {
						ref = -1
					}
					if id2 == id1 {
						break
					}
				}
				set := func(m *record, tlen int64) {
					if ref == -1 {
						m.tlen = 0
						return
					}
					if m.apos == aleft {
						if leftCount == 1 || m.flag&flagRead1 != 0 {
							m.tlen = tlen
						} else {
							m.tlen = -tlen
						}
					} else {
						m.tlen = -tlen
					}
				}
				tlen := aright - aleft + 1
				id2 = id1
				set(&recs[id2], tlen)
				id2 = recs[id2].mateLine
				for steps := int32(0); id2 != id1; steps++ {
					if id2 < 0 || id2 >= n || steps > n {
						return fmt.Errorf("record %d: mate chain does not close", i+1)
					}
					set(&recs[id2], tlen)
					id2 = recs[id2].mateLine
				}
			}
			mate := &recs[cr.mateLine]
			cr.matePos = mate.apos
			cr.mateRef = mate.refID
			cr.flag |= flagPaired
			if mate.flag&flagUnmapped != 0 {
				cr.flag |= flagMateUnmap
				cr.tlen = 0
			}
			if cr.flag&flagUnmapped != 0 {
				cr.tlen = 0
			}
			if mate.flag&flagReverse != 0 {
				cr.flag |= flagMateReverse
			}
		} else {
			if cr.mateFlags&mfReverse != 0 {
				cr.flag |= flagPaired | flagMateReverse
			}
			if cr.mateFlags&mfUnmapped != 0 {
				cr.flag |= flagMateUnmap
			}
			if cr.flag&flagPaired == 0 {
				cr.mateRef = -1
			}
		}
		if cr.tlen == noTLen {
			cr.tlen = 0
		}
	}
	for i := range recs {
		if recs[i].explicit != noTLen {
			recs[i].tlen = recs[i].explicit
		}
	}
	return nil
}

// names gives nameless records a name as htslib does: the mate's name if
// it has one, otherwise the prefix, a colon and the record's number in the
// file (its first mate's number when the mate came earlier).
func (d *sliceDecoder) names() {
	b := d.b
	recs := b.recs[d.first:]
	for i := range recs {
		cr := &recs[i]
		if cr.name.end > cr.name.start {
			continue
		}
		start := int32(len(b.names))
		if cr.mateLine >= 0 && int(cr.mateLine) < len(recs) && recs[cr.mateLine].name.end > recs[cr.mateLine].name.start {
			m := recs[cr.mateLine].name
			b.names = append(b.names, b.names[m.start:m.end]...)
		} else {
			b.names = append(b.names, d.env.prefix...)
			b.names = append(b.names, ':')
			num := d.sh.counter + int64(i) + 1
			if cr.mateLine >= 0 && int(cr.mateLine) < i {
				num = d.sh.counter + int64(cr.mateLine) + 1
			}
			b.names = strconv.AppendInt(b.names, num, 10)
		}
		cr.name = span{start, int32(len(b.names))}
	}
}

// indexSlice records the slice's CRAI entries: one for a single-reference
// slice, one per reference run for a multi-reference slice.
func (d *sliceDecoder) indexSlice() {
	sh := &d.sh
	e := crai.Entry{RefID: sh.refID, Start: int64(sh.start), Span: int64(sh.span), ContainerOffset: d.b.offset, SliceOffset: d.sliceOffset, SliceSize: d.sliceSize}
	if sh.refID != -2 {
		d.b.index = append(d.b.index, e)
		return
	}
	ref := int32(-2)
	var start, end int64
	for _, r := range d.b.recs[d.first:] {
		if r.refID == ref {
			end = max(end, r.aend)
			continue
		}
		if ref != -2 {
			e.RefID, e.Start, e.Span = ref, start, end-start+1
			d.b.index = append(d.b.index, e)
		}
		ref, start, end = r.refID, r.apos, r.aend
	}
	if ref != -2 {
		e.RefID, e.Start, e.Span = ref, start, end-start+1
		d.b.index = append(d.b.index, e)
	}
}

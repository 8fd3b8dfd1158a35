package cram

import (
	"bytes"
	"fmt"
	"math"

	"github.com/seqstore/seqstore/internal/format/sam"
)

// featureDecoder rebuilds one mapped record from its read features: the
// bases (the reference's, where no feature says otherwise), the qualities
// that features carry, the CIGAR, and the MD and NM tags htslib computes
// when the record stores none. Positions follow the specification: read
// positions and reference positions are 1-based.
type featureDecoder struct {
	d         *sliceDecoder
	r         *record
	seq, qual []byte
	rl        int  // the read's length
	haveRef   bool // the record is placed and the slice has its reference
	// decodeMD and decodeNM are set when the record has no tag of its own
	// and the tag can be computed (there is a reference and a sequence).
	decodeMD, decodeNM bool
	md                 []byte
	nm                 uint32
	// mdDist counts the matching bases since the last MD entry; -1 once
	// the read runs past the reference's end, where MD stops.
	mdDist int32
	// cigOp and cigLen are the CIGAR operation being extended; it is
	// appended to the batch's CIGARs when another operation begins.
	cigOp, cigLen uint32
	seqPos        int   // the next read position to decode
	refPos        int64 // the last reference position consumed
	scratch       []byte
}

// features decodes a mapped read's features, rebuilding its sequence from
// the reference, its CIGAR and, as htslib does when decoding, its MD and NM
// tags; then its mapping quality and qualities. hasMD and hasNM say whether
// the record stores those tags already.
func (d *sliceDecoder) features(r *record, seq, qual []byte, hasMD, hasNM bool) error {
	haveRef := d.ref != nil && r.refID >= 0
	computable := haveRef && r.cf&cfNoSeq == 0
	f := featureDecoder{
		d: d, r: r, seq: seq, qual: qual, rl: len(seq), haveRef: haveRef,
		decodeMD: computable && !hasMD, decodeNM: computable && !hasNM,
		md:     d.md[:0],
		seqPos: 1, refPos: r.apos - 1,
	}
	if r.cf&cfQualArray == 0 {
		for k := range qual {
			qual[k] = 0xff
		}
	}
	ds := &d.ds
	fn := ds[dsFN].int()
	if d.err != nil {
		return d.err
	}
	// A read stored without its sequence may still have features (for its
	// CIGAR), so their count is bounded only by the container's budget.
	if fn < 0 {
		return fmt.Errorf("feature count %d", fn)
	}
	if d.work -= int64(fn); d.work < 0 {
		return fmt.Errorf("the container decodes to more than %d bases, features and records; it is corrupt", d.env.maxWork)
	}
	prevPos := int32(0)
	for i := int32(0); i < fn; i++ {
		code := ds[dsFC].byte()
		pos := ds[dsFP].int() + prevPos
		if d.err != nil {
			return d.err
		}
		if pos <= 0 {
			return fmt.Errorf("feature %d at read position %d, before the start of the read", i+1, pos)
		}
		if int(pos) > f.seqPos {
			if int(pos) > f.rl+1 {
				return fmt.Errorf("feature %d at read position %d, beyond the read's %d bases", i+1, pos, f.rl)
			}
			if err := f.matchBefore(int(pos)); err != nil {
				return err
			}
		}
		prevPos = pos
		if err := f.feature(code, int(pos)-1); err != nil {
			return err
		}
		if d.err != nil {
			return d.err
		}
	}
	if err := f.matchToEnd(); err != nil {
		return err
	}
	f.finish()
	return d.err
}

// feature applies one feature at read offset at (0-based).
func (f *featureDecoder) feature(code byte, at int) error {
	switch code {
	case 'S':
		f.softClip(at)
	case 'X':
		return f.substitution(at)
	case 'D':
		return f.deletion()
	case 'I':
		f.insertion(at)
	case 'i':
		f.insertedBase(at)
	case 'b':
		return f.bases(at)
	case 'q':
		f.qualities(at)
	case 'B':
		return f.baseAndQuality(at)
	case 'Q':
		f.quality(at)
	case 'H':
		f.extend(sam.CigarHardClip, uint32(f.d.ds[dsHC].int()))
	case 'P':
		f.extend(sam.CigarPadding, uint32(f.d.ds[dsPD].int()))
	case 'N':
		n := f.d.ds[dsRS].int()
		f.extend(sam.CigarSkip, uint32(n))
		f.refPos += int64(n)
	default:
		return fmt.Errorf("unknown read feature code %q", code)
	}
	return nil
}

// extend adds n to the CIGAR operation op, first appending the operation
// being extended if it is another.
func (f *featureDecoder) extend(op, n uint32) {
	if f.cigLen != 0 && f.cigOp != op {
		f.d.b.cigars = append(f.d.b.cigars, f.cigLen<<4|f.cigOp)
		f.cigLen = 0
	}
	f.cigOp = op
	f.cigLen += n
}

func (f *featureDecoder) beyond() error {
	return fmt.Errorf("CIGAR extends beyond the slice's reference extent (%d-%d)", f.d.refStart, f.d.refEnd)
}

// refAt is the reference base at 1-based position p, if the slice holds it.
func (f *featureDecoder) refAt(p int64) (byte, bool) {
	k := p - f.d.refStart
	if k < 0 || k >= int64(len(f.d.ref)) {
		return 0, false
	}
	return f.d.ref[k], true
}

// mismatch ends the MD run of matches with the reference base c.
func (f *featureDecoder) mismatch(c byte) {
	if f.decodeMD {
		f.md = appendUint(f.md, f.mdDist)
		f.md = append(f.md, c)
		f.mdDist = 0
	}
}

// closeMDRun writes the MD run of matches before an entry, unless MD has
// stopped at the reference's end.
func (f *featureDecoder) closeMDRun() {
	if f.mdDist >= 0 && f.decodeMD {
		f.md = appendUint(f.md, f.mdDist)
	}
}

// matchBefore decodes the bases from seqPos up to read position pos, which
// match the reference.
func (f *featureDecoder) matchBefore(pos int) error {
	n := pos - f.seqPos
	if f.haveRef {
		if f.refPos+int64(n) > f.d.refLen {
			if err := f.pastReferenceEnd(f.seqPos-1, n); err != nil {
				return err
			}
		} else {
			if f.refPos+int64(n) > f.d.refEnd {
				return f.beyond()
			}
			if err := f.copyRef(f.seqPos-1, f.refPos+1, n); err != nil {
				return err
			}
		}
	}
	f.extend(sam.CigarMatch, uint32(n))
	f.refPos += int64(n)
	f.seqPos = pos
	return nil
}

// matchToEnd decodes the bases after the last feature, which match the
// reference.
func (f *featureDecoder) matchToEnd() error {
	d := f.d
	if f.rl < f.seqPos {
		return nil
	}
	n := f.rl - f.seqPos + 1
	switch {
	case f.haveRef && f.refPos+int64(n) > d.refLen:
		rlen := d.refLen - f.refPos
		if rlen > 0 {
			k := f.refPos + 1 - d.refStart
			if f.seqPos-1+int(rlen) < f.rl {
				if k < 0 || k+rlen > int64(len(d.ref)) {
					return f.beyond()
				}
				copy(f.seq[f.seqPos-1:], d.ref[k:k+rlen])
			}
			for j := f.seqPos - 1 + int(rlen); j < f.rl; j++ {
				f.seq[j] = 'N'
			}
		} else {
			for j := f.seqPos - 1; j < f.rl; j++ {
				f.seq[j] = 'N'
			}
		}
		if f.mdDist >= 0 {
			f.mdDist += int32(n)
		}
	case f.haveRef:
		if n > 0 {
			if f.refPos+int64(n) > d.refEnd {
				return f.beyond()
			}
			if err := f.copyRef(f.seqPos-1, f.refPos+1, n); err != nil {
				return err
			}
		}
		f.refPos += int64(n)
	case f.r.refID >= 0:
		f.refPos += int64(n)
	}
	f.extend(sam.CigarMatch, uint32(n))
	return nil
}

// copyRef fills seq[from:from+n] with reference bases from 1-based
// position p, counting MD/NM as htslib does ('N' in the reference is a
// mismatch).
func (f *featureDecoder) copyRef(from int, p int64, n int) error {
	if n <= 0 {
		return nil
	}
	d := f.d
	k := p - d.refStart
	if k < 0 || k+int64(n) > int64(len(d.ref)) || from+n > f.rl {
		return f.beyond()
	}
	src := d.ref[k : k+int64(n)]
	if (f.decodeMD || f.decodeNM) && bytes.IndexByte(src, 'N') >= 0 {
		for j, base := range src {
			if base == 'N' {
				f.mismatch('N')
				f.nm++
			} else {
				f.mdDist++
			}
			f.seq[from+j] = base
		}
		return nil
	}
	copy(f.seq[from:], src)
	f.mdDist += int32(n)
	return nil
}

// pastReferenceEnd decodes a match run of n bases at read offset from that
// passes the end of the reference: htslib warns and pads with N.
func (f *featureDecoder) pastReferenceEnd(from int, n int) error {
	d := f.d
	rlen := d.refLen - f.refPos
	if rlen > 0 {
		if f.refPos+rlen > d.refEnd {
			return f.beyond()
		}
		k := f.refPos + 1 - d.refStart
		if k < 0 || k+rlen > int64(len(d.ref)) || from+int(rlen) > f.rl {
			return f.beyond()
		}
		copy(f.seq[from:], d.ref[k:k+rlen])
		for j := from + int(rlen); j < from+n; j++ {
			f.seq[j] = 'N'
		}
	} else {
		for j := from; j < f.rl; j++ {
			f.seq[j] = 'N'
		}
	}
	if f.mdDist >= 0 {
		f.mdDist += int32(n)
	}
	return nil
}

// softClip ('S') places clipped bases, which are a CIGAR operation of
// their own, never merged with a neighbour.
func (f *featureDecoder) softClip(at int) {
	b := f.d.b
	if f.cigLen != 0 {
		b.cigars = append(b.cigars, f.cigLen<<4|f.cigOp)
		f.cigLen = 0
	}
	f.scratch = f.d.ds[dsSC].bytes(f.scratch[:0], -1)
	normalize(f.scratch)
	copy(f.seq[min(at, f.rl):], f.scratch)
	b.cigars = append(b.cigars, uint32(len(f.scratch))<<4|sam.CigarSoftClip)
	f.cigOp = sam.CigarSoftClip
	f.seqPos += len(f.scratch)
}

// substitution ('X') replaces one base by the substitution matrix's
// choice for the reference base and the stored code.
func (f *featureDecoder) substitution(at int) error {
	d := f.d
	code := d.ds[dsBS].byte()
	if d.err != nil {
		return d.err
	}
	if code > 3 {
		return fmt.Errorf("substitution code %d out of range", code)
	}
	if f.r.refID < 0 || f.refPos >= d.refLen || d.ref == nil {
		if at < f.rl {
			f.seq[at] = d.ch.subst[4][code]
		}
		if f.decodeMD || f.decodeNM {
			f.closeMDRun()
			f.mdDist = -1
			f.nm--
		}
	} else {
		refCall := byte('N')
		if f.refPos < d.refEnd {
			c, ok := f.refAt(f.refPos + 1)
			if !ok {
				return f.beyond()
			}
			refCall = c
		}
		if at < f.rl {
			f.seq[at] = d.ch.subst[l1[refCall]][code]
		}
		f.mismatch(refCall)
	}
	f.extend(sam.CigarMatch, 1)
	f.nm++
	f.seqPos++
	f.refPos++
	return nil
}

// deletion ('D') skips reference bases, which MD lists after a '^'.
func (f *featureDecoder) deletion() error {
	d := f.d
	dl := d.ds[dsDL].int()
	if d.err != nil {
		return d.err
	}
	if dl < 0 {
		return fmt.Errorf("deletion length %d", dl)
	}
	if f.decodeMD || f.decodeNM {
		if f.refPos+int64(dl) > d.refEnd {
			return f.beyond()
		}
		f.closeMDRun()
		if f.refPos+int64(dl) <= d.refLen {
			if f.decodeMD {
				k := f.refPos + 1 - d.refStart
				if k < 0 || k+int64(dl) > int64(len(d.ref)) {
					return f.beyond()
				}
				f.md = append(f.md, '^')
				f.md = append(f.md, d.ref[k:k+int64(dl)]...)
				f.mdDist = 0
			}
			f.nm += uint32(dl)
		} else {
			if d.refLen >= f.refPos {
				if f.decodeMD {
					k := f.refPos + 1 - d.refStart
					n := d.refLen - f.refPos
					if k < 0 || k+n > int64(len(d.ref)) {
						return f.beyond()
					}
					f.md = append(f.md, '^')
					f.md = append(f.md, d.ref[k:k+n]...)
					f.md = append(f.md, '0')
				}
				f.nm += uint32(d.refLen - f.refPos)
			}
			f.mdDist = -1
		}
	}
	f.extend(sam.CigarDeletion, uint32(dl))
	f.refPos += int64(dl)
	return nil
}

// insertion ('I') places inserted bases.
func (f *featureDecoder) insertion(at int) {
	f.scratch = f.d.ds[dsIN].bytes(f.scratch[:0], -1)
	if at < f.rl {
		normalize(f.scratch)
		copy(f.seq[at:], f.scratch)
	}
	n := len(f.scratch)
	f.extend(sam.CigarInsertion, uint32(n))
	f.seqPos += n
	f.nm += uint32(n)
}

// insertedBase ('i') places one inserted base.
func (f *featureDecoder) insertedBase(at int) {
	base := f.d.ds[dsBA].byte()
	if at < f.rl {
		f.seq[at] = seqLetter[base]
	}
	f.extend(sam.CigarInsertion, 1)
	f.seqPos++
	f.nm++
}

// bases ('b') places a run of bases aligned to the reference, each of
// which MD counts as a mismatch.
func (f *featureDecoder) bases(at int) error {
	d := f.d
	f.scratch = d.ds[dsBB].bytes(f.scratch[:0], -1)
	if d.err != nil {
		return d.err
	}
	if at < f.rl {
		normalize(f.scratch)
		copy(f.seq[at:], f.scratch)
	}
	n := len(f.scratch)
	if f.decodeMD || f.decodeNM {
		f.closeMDRun()
		x := 0
		for ; x < n; x++ {
			if x > 0 && f.decodeMD {
				f.md = append(f.md, '0')
			}
			if f.refPos+int64(x) >= d.refLen || d.ref == nil {
				f.mdDist = -1
				break
			}
			if f.decodeMD {
				if f.refPos+int64(x) > d.refEnd {
					return f.beyond()
				}
				c, ok := f.refAt(f.refPos + int64(x) + 1)
				if !ok {
					return f.beyond()
				}
				f.md = append(f.md, c)
			}
		}
		f.nm += uint32(x)
		f.mdDist = 0
	}
	f.extend(sam.CigarMatch, uint32(n))
	f.seqPos += n
	f.refPos += int64(n)
	return nil
}

// qualities ('q') places a run of quality scores.
func (f *featureDecoder) qualities(at int) {
	f.extend(sam.CigarMatch, 0)
	f.defaultQualities()
	f.scratch = f.d.ds[dsQQ].bytes(f.scratch[:0], -1)
	if at < f.rl {
		copy(f.qual[at:], f.scratch)
	}
}

// baseAndQuality ('B') places one aligned base, a mismatch to MD, and its
// quality score.
func (f *featureDecoder) baseAndQuality(at int) error {
	d := f.d
	base := d.ds[dsBA].byte()
	if at < f.rl {
		f.seq[at] = seqLetter[base]
	}
	if f.decodeMD || f.decodeNM {
		f.closeMDRun()
		if f.refPos >= d.refLen || d.ref == nil {
			f.mdDist = -1
		} else {
			if f.decodeMD {
				if f.refPos > d.refEnd {
					return f.beyond()
				}
				c, ok := f.refAt(f.refPos + 1)
				if !ok {
					return f.beyond()
				}
				f.md = append(f.md, c)
			}
			f.nm++
			f.mdDist = 0
		}
	}
	f.quality(at)
	f.extend(sam.CigarMatch, 1)
	f.seqPos++
	f.refPos++
	return nil
}

// quality ('Q') places one quality score.
func (f *featureDecoder) quality(at int) {
	f.defaultQualities()
	q := f.d.ds[dsQS].byte()
	if at < f.rl {
		f.qual[at] = q
	}
}

// defaultQualities gives a record stored without its quality scores 30 at
// every position, once a feature sets one of them, as htslib does; before,
// they are missing (0xff).
func (f *featureDecoder) defaultQualities() {
	if f.r.cf&cfQualArray == 0 && f.rl > 0 && f.qual[0] == 0xff {
		for k := range f.qual {
			f.qual[k] = 30
		}
	}
}

// finish appends the last CIGAR operation and the MD and NM tags, and
// reads the mapping quality and the quality scores stored as an array.
func (f *featureDecoder) finish() {
	d, b, r := f.d, f.d.b, f.r
	if f.decodeMD && f.mdDist >= 0 {
		f.md = appendUint(f.md, f.mdDist)
	}
	if f.cigLen != 0 {
		b.cigars = append(b.cigars, f.cigLen<<4|f.cigOp)
	}
	r.aend = max(f.refPos, r.apos)
	r.mapq = uint8(d.ds[dsMQ].int())
	if r.cf&cfQualArray != 0 && f.rl > 0 {
		copyInto(f.qual, d.ds[dsQS], f.rl, d)
	}
	if f.decodeMD {
		b.aux = append(b.aux, 'M', 'D', 'Z')
		b.aux = append(b.aux, f.md...)
		b.aux = append(b.aux, 0)
	}
	if f.decodeNM {
		nm := f.nm
		switch {
		case nm <= math.MaxUint8:
			b.aux = append(b.aux, 'N', 'M', 'C', byte(nm))
		case nm <= math.MaxUint16:
			b.aux = append(b.aux, 'N', 'M', 'S', byte(nm), byte(nm>>8))
		default:
			b.aux = append(b.aux, 'N', 'M', 'I', byte(nm), byte(nm>>8), byte(nm>>16), byte(nm>>24))
		}
	}
	d.md = f.md[:0]
}

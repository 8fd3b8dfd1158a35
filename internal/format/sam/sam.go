// Package sam holds the alignment record model that BAM and CRAM decoding
// share, and renders records as SAM text exactly as `samtools view` prints
// them (without a header): that text is what HealthOmics' BAM and CRAM ETags
// hash, so the rendering must match samtools byte for byte.
//
// The record keeps BAM's binary layout for sequence, qualities and tags, so a
// BAM reader fills it with copies, not conversions, and rendering is one pass
// of appends into a reusable buffer.
package sam

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"strconv"
)

// Flags (SAMv1 §1.4).
const (
	FlagPaired        = 0x1
	FlagUnmapped      = 0x4
	FlagSecondary     = 0x100
	FlagSupplementary = 0x800
)

// Reference is one @SQ line.
type Reference struct {
	Name   string
	Length int
}

// Header is the text header and the reference dictionary.
type Header struct {
	Text       string
	References []Reference
}

// Record is one alignment. Slices are owned by the record and reused.
type Record struct {
	Name      []byte
	Flag      uint16
	RefID     int32 // -1: none
	Pos       int32 // 0-based; -1: none
	MapQ      uint8
	Cigar     []uint32 // BAM encoding: length<<4 | op
	MateRefID int32
	MatePos   int32
	TLen      int32
	// Seq is the sequence as letters (ASCII); empty means '*'.
	Seq []byte
	// Qual holds Phred scores (not +33); QualMissing marks '*'.
	Qual        []byte
	QualMissing bool
	// Aux holds the tags in BAM's binary layout, in file order.
	Aux []byte
}

// IsPrimary reports whether the record is neither secondary nor
// supplementary: the records HealthOmics counts.
func (r *Record) IsPrimary() bool { return r.Flag&(FlagSecondary|FlagSupplementary) == 0 }

// cigarOps are the operation letters of BAM's 4-bit op codes.
const cigarOps = "MIDNSHP=X"

// RefLength is how many reference bases the CIGAR spans.
func (r *Record) RefLength() int {
	n := 0
	for _, c := range r.Cigar {
		switch c & 0xf {
		case 0, 2, 3, 7, 8: // M D N = X
			n += int(c >> 4)
		}
	}
	return n
}

// QueryLength is how many query bases the CIGAR consumes.
func (r *Record) QueryLength() int {
	n := 0
	for _, c := range r.Cigar {
		switch c & 0xf {
		case 0, 1, 4, 7, 8: // M I S = X
			n += int(c >> 4)
		}
	}
	return n
}

// End is the 0-based exclusive end on the reference, as htslib's
// bam_endpos computes it: pos plus the CIGAR's reference span, or pos+1 for
// unmapped reads and CIGARs that span nothing.
func (r *Record) End() int {
	if r.Flag&FlagUnmapped == 0 {
		if n := r.RefLength(); n > 0 {
			return int(r.Pos) + n
		}
	}
	return int(r.Pos) + 1
}

// ErrBadAux reports malformed tag data.
var ErrBadAux = errors.New("malformed auxiliary tag")

// AppendText appends the record as a SAM line (with its newline), resolving
// reference IDs through refs. It fails only on malformed tag bytes, which a
// validating reader has already refused.
func AppendText(dst []byte, r *Record, refs []Reference) ([]byte, error) {
	dst = append(dst, r.Name...)
	dst = append(dst, '\t')
	dst = strconv.AppendUint(dst, uint64(r.Flag), 10)
	dst = append(dst, '\t')
	dst = appendRef(dst, r.RefID, refs)
	dst = append(dst, '\t')
	dst = strconv.AppendInt(dst, int64(r.Pos)+1, 10)
	dst = append(dst, '\t')
	dst = strconv.AppendUint(dst, uint64(r.MapQ), 10)
	dst = append(dst, '\t')
	if len(r.Cigar) == 0 {
		dst = append(dst, '*')
	}
	for _, c := range r.Cigar {
		dst = strconv.AppendUint(dst, uint64(c>>4), 10)
		op := c & 0xf
		if int(op) < len(cigarOps) {
			dst = append(dst, cigarOps[op])
		} else {
			dst = append(dst, '?')
		}
	}
	dst = append(dst, '\t')
	switch {
	case r.MateRefID < 0:
		dst = append(dst, '*')
	case r.MateRefID == r.RefID:
		dst = append(dst, '=')
	default:
		dst = appendRef(dst, r.MateRefID, refs)
	}
	dst = append(dst, '\t')
	dst = strconv.AppendInt(dst, int64(r.MatePos)+1, 10)
	dst = append(dst, '\t')
	dst = strconv.AppendInt(dst, int64(r.TLen), 10)
	dst = append(dst, '\t')
	if len(r.Seq) == 0 {
		dst = append(dst, '*')
	} else {
		dst = append(dst, r.Seq...)
	}
	dst = append(dst, '\t')
	if len(r.Seq) == 0 || r.QualMissing {
		dst = append(dst, '*')
	} else {
		for _, q := range r.Qual {
			dst = append(dst, q+33)
		}
	}
	var err error
	dst, err = appendAux(dst, r.Aux)
	if err != nil {
		return dst, err
	}
	return append(dst, '\n'), nil
}

func appendRef(dst []byte, id int32, refs []Reference) []byte {
	if id < 0 || int(id) >= len(refs) {
		return append(dst, '*')
	}
	return append(dst, refs[id].Name...)
}

// AuxSize returns the size in bytes of the value of a tag of type t at the
// start of b (b starts after the type byte), or -1 if b is too short or the
// type unknown.
func AuxSize(t byte, b []byte) int {
	switch t {
	case 'A', 'c', 'C':
		return fits(1, b)
	case 's', 'S':
		return fits(2, b)
	case 'i', 'I', 'f':
		return fits(4, b)
	case 'Z', 'H':
		for i, c := range b {
			if c == 0 {
				return i + 1
			}
		}
		return -1
	case 'B':
		if len(b) < 5 {
			return -1
		}
		n := int64(binary.LittleEndian.Uint32(b[1:]))
		var w int64
		switch b[0] {
		case 'c', 'C':
			w = 1
		case 's', 'S':
			w = 2
		case 'i', 'I', 'f':
			w = 4
		default:
			return -1
		}
		if 5+n*w > int64(len(b)) {
			return -1
		}
		return int(5 + n*w)
	}
	return -1
}

func fits(n int, b []byte) int {
	if len(b) < n {
		return -1
	}
	return n
}

// appendAux renders the tags: integers of every width as type i, floats as
// C's %g, arrays with their element type.
func appendAux(dst, aux []byte) ([]byte, error) {
	for len(aux) > 0 {
		if len(aux) < 3 {
			return dst, ErrBadAux
		}
		tag, t, b := aux[:2], aux[2], aux[3:]
		n := AuxSize(t, b)
		if n < 0 {
			return dst, fmt.Errorf("%w: tag %q of type %q", ErrBadAux, tag, t)
		}
		dst = append(dst, '\t', tag[0], tag[1], ':')
		switch t {
		case 'A':
			dst = append(dst, 'A', ':', b[0])
		case 'c':
			dst = strconv.AppendInt(append(dst, 'i', ':'), int64(int8(b[0])), 10)
		case 'C':
			dst = strconv.AppendUint(append(dst, 'i', ':'), uint64(b[0]), 10)
		case 's':
			dst = strconv.AppendInt(append(dst, 'i', ':'), int64(int16(binary.LittleEndian.Uint16(b))), 10)
		case 'S':
			dst = strconv.AppendUint(append(dst, 'i', ':'), uint64(binary.LittleEndian.Uint16(b)), 10)
		case 'i':
			dst = strconv.AppendInt(append(dst, 'i', ':'), int64(int32(binary.LittleEndian.Uint32(b))), 10)
		case 'I':
			dst = strconv.AppendUint(append(dst, 'i', ':'), uint64(binary.LittleEndian.Uint32(b)), 10)
		case 'f':
			dst = AppendFloat(append(dst, 'f', ':'), math.Float32frombits(binary.LittleEndian.Uint32(b)))
		case 'Z', 'H':
			dst = append(append(dst, t, ':'), b[:n-1]...)
		case 'B':
			sub := b[0]
			count := int(binary.LittleEndian.Uint32(b[1:]))
			dst = append(dst, 'B', ':', sub)
			v := b[5:]
			for i := 0; i < count; i++ {
				dst = append(dst, ',')
				switch sub {
				case 'c':
					dst = strconv.AppendInt(dst, int64(int8(v[i])), 10)
				case 'C':
					dst = strconv.AppendUint(dst, uint64(v[i]), 10)
				case 's':
					dst = strconv.AppendInt(dst, int64(int16(binary.LittleEndian.Uint16(v[2*i:]))), 10)
				case 'S':
					dst = strconv.AppendUint(dst, uint64(binary.LittleEndian.Uint16(v[2*i:])), 10)
				case 'i':
					dst = strconv.AppendInt(dst, int64(int32(binary.LittleEndian.Uint32(v[4*i:]))), 10)
				case 'I':
					dst = strconv.AppendUint(dst, uint64(binary.LittleEndian.Uint32(v[4*i:])), 10)
				case 'f':
					dst = AppendFloat(dst, math.Float32frombits(binary.LittleEndian.Uint32(v[4*i:])))
				}
			}
		}
		aux = b[n:]
	}
	return dst, nil
}

// AppendFloat formats f as C's printf("%g") does, which is how htslib prints
// float tags.
func AppendFloat(dst []byte, f float32) []byte {
	v := float64(f)
	switch {
	case math.IsNaN(v):
		return append(dst, "nan"...)
	case math.IsInf(v, 1):
		return append(dst, "inf"...)
	case math.IsInf(v, -1):
		return append(dst, "-inf"...)
	}
	return strconv.AppendFloat(dst, v, 'g', 6, 64)
}

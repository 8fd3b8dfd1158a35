// Package sam holds the alignment record model that BAM and CRAM decoding
// share, and renders records as SAM text exactly as `samtools view` prints
// them (without a header): that text is what HealthOmics' BAM and CRAM ETags
// hash, so the rendering must match samtools byte for byte, quirks included.
//
// The record keeps BAM's binary layout for CIGAR, qualities and tags, so a
// BAM reader fills it with copies rather than conversions, and rendering is
// one pass of appends into a reusable buffer. The rendering follows htslib
// 1.16 (sam_format1 and sam_format_aux1), the library behind the samtools the
// tests compare against; where htslib departs from the SAM specification's
// letter (float arrays, names that lack their NUL) the comments say so.
//
// No existing Go library fits: the SAM writers of biogo/hts and others
// render tags and floats in their own way, which changes the ETag.
package sam

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Flags (SAMv1 §1.4) that seqstore looks at.
const (
	FlagPaired        = 0x1
	FlagUnmapped      = 0x4
	FlagSecondary     = 0x100
	FlagSupplementary = 0x800
)

// CIGAR operation codes (SAMv1 §4.2, "cigar op").
const (
	CigarMatch     = 0 // M
	CigarInsertion = 1 // I
	CigarDeletion  = 2 // D
	CigarSkip      = 3 // N
	CigarSoftClip  = 4 // S
	CigarHardClip  = 5 // H
	CigarPadding   = 6 // P
	CigarEqual     = 7 // =
	CigarDiff      = 8 // X
	// CigarBack is htslib's legacy "B" operation, outside the SAM
	// specification; readers refuse it, the renderer prints it as htslib does.
	CigarBack = 9
)

// cigarLetters maps a 4-bit op code to the letter htslib prints; codes with
// no operation print '?', as in htslib's BAM_CIGAR_STR padding.
const cigarLetters = "MIDNSHP=XB??????"

// consumes has bit 1 set for operations that consume query bases and bit 2
// for those that consume reference bases (SAMv1 §1.4.6 table).
var consumes = [16]uint8{
	CigarMatch: 3, CigarInsertion: 1, CigarDeletion: 2, CigarSkip: 2,
	CigarSoftClip: 1, CigarEqual: 3, CigarDiff: 3,
}

// Reference is one entry of the reference dictionary.
type Reference struct {
	Name   string
	Length int
}

// Default limits of a header, as BAM and CRAM readers apply them. htslib
// accepts header text of up to 2 GiB and 2^31 reference sequences; a real
// file needs far less, and a corrupt or hostile count must not turn into
// gigabytes held. The largest headers, those of transcriptome alignments
// with a quarter of a million @SQ lines, take about 10 MB of text; a
// million references covers those and all but the most fragmented draft
// assemblies; names are rarely over a hundred bytes.
const (
	// DefaultMaxHeader bounds the text and the reference names together.
	DefaultMaxHeader        = 32 << 20
	DefaultMaxReferences    = 1 << 20
	DefaultMaxReferenceName = 64 << 10
)

// Header is the text header and the reference dictionary.
type Header struct {
	Text       string
	References []Reference
}

// SortOrder returns the SO field of the @HD line ("coordinate",
// "queryname", "unsorted", ...), or "" when there is none.
func (h *Header) SortOrder() string {
	line := h.Text
	if !strings.HasPrefix(line, "@HD\t") {
		return ""
	}
	if i := strings.IndexByte(line, '\n'); i >= 0 {
		line = line[:i]
	}
	for _, field := range strings.Split(strings.TrimRight(line, "\r"), "\t")[1:] {
		if v, ok := strings.CutPrefix(field, "SO:"); ok {
			return v
		}
	}
	return ""
}

// SequenceTag returns, for each @SQ line of the text that carries tag
// (such as "M5"), its SN name and the tag's value.
func (h *Header) SequenceTag(tag string) map[string]string {
	out := map[string]string{}
	prefix := tag + ":"
	for line := range strings.SplitSeq(h.Text, "\n") {
		if !strings.HasPrefix(line, "@SQ\t") {
			continue
		}
		var name, value string
		for _, field := range strings.Split(strings.TrimRight(line, "\r"), "\t")[1:] {
			if v, ok := strings.CutPrefix(field, "SN:"); ok {
				name = v
			} else if v, ok := strings.CutPrefix(field, prefix); ok {
				value = v
			}
		}
		if name != "" && value != "" {
			out[name] = value
		}
	}
	return out
}

// Record is one alignment. A reader that fills it reuses its slices or
// points them into its own buffers, so a caller keeping a field beyond the
// next read must copy it.
type Record struct {
	// Name is the read name as stored, without the NUL that ends it in BAM.
	Name  []byte
	Flag  uint16
	RefID int32 // index into Header.References; -1: none
	Pos   int32 // 0-based leftmost position; -1: none
	MapQ  uint8
	// Cigar holds the operations in BAM's encoding: length<<4 | op.
	Cigar     []uint32
	MateRefID int32 // -1: none
	MatePos   int32 // 0-based; -1: none
	TLen      int32
	// Seq is the sequence as letters from "=ACMGRSVTWYHKDBN"; empty means
	// SAM's '*'.
	Seq []byte
	// Qual holds one Phred score per base (not +33). As in BAM, a first
	// score of 0xff means the qualities are missing (SAM's '*').
	Qual []byte
	// Aux holds the optional fields in BAM's binary layout (two tag
	// letters, a type letter, the value), in file order.
	Aux []byte
}

// IsPrimary reports whether the record is neither secondary nor
// supplementary: the records HealthOmics counts as reads.
func (r *Record) IsPrimary() bool { return r.Flag&(FlagSecondary|FlagSupplementary) == 0 }

// IsUnmapped reports whether flag 0x4 is set.
func (r *Record) IsUnmapped() bool { return r.Flag&FlagUnmapped != 0 }

// RefLength is how many reference bases the CIGAR spans.
func (r *Record) RefLength() int64 { return CigarRefLength(r.Cigar) }

// QueryLength is how many query bases the CIGAR consumes.
func (r *Record) QueryLength() int64 { return CigarQueryLength(r.Cigar) }

// CigarRefLength is how many reference bases the BAM-encoded CIGAR spans.
func CigarRefLength(cigar []uint32) int64 {
	var n int64
	for _, c := range cigar {
		if consumes[c&0xf]&2 != 0 {
			n += int64(c >> 4)
		}
	}
	return n
}

// CigarQueryLength is how many query bases the BAM-encoded CIGAR consumes.
func CigarQueryLength(cigar []uint32) int64 {
	var n int64
	for _, c := range cigar {
		if consumes[c&0xf]&1 != 0 {
			n += int64(c >> 4)
		}
	}
	return n
}

// End is the 0-based exclusive end on the reference, as htslib's
// bam_endpos computes it for indexing: pos plus the CIGAR's reference span,
// or pos+1 for unmapped reads and CIGARs that span nothing.
func (r *Record) End() int64 {
	if r.Flag&FlagUnmapped == 0 {
		if n := r.RefLength(); n > 0 {
			return int64(r.Pos) + n
		}
	}
	return int64(r.Pos) + 1
}

// AuxError reports optional-field bytes that do not parse.
type AuxError struct {
	Offset int    // byte offset of the bad field within Record.Aux
	Msg    string // what is wrong
}

func (e *AuxError) Error() string {
	return fmt.Sprintf("optional field at byte %d of the tags: %s", e.Offset, e.Msg)
}

// ErrBadAux is what every *AuxError matches with errors.Is.
var ErrBadAux = errors.New("malformed optional field")

// Is makes errors.Is(err, ErrBadAux) hold for every *AuxError.
func (e *AuxError) Is(target error) bool { return target == ErrBadAux }

// AuxValueSize returns the size in bytes of a value of type t at the start
// of b (b starts just after the type letter), or an explanation of why it
// does not fit. Type 'd' (a double) is outside the SAM specification but
// htslib reads and prints it, so seqstore does too.
func AuxValueSize(t byte, b []byte) (int, string) {
	need := 0
	switch t {
	case 'A', 'c', 'C':
		need = 1
	case 's', 'S':
		need = 2
	case 'i', 'I', 'f':
		need = 4
	case 'd':
		need = 8
	case 'Z', 'H':
		for i, c := range b {
			if c == 0 {
				return i + 1, ""
			}
		}
		return 0, fmt.Sprintf("type %c string has no NUL before the end of the record", t)
	case 'B':
		if len(b) < 5 {
			return 0, "B array header (subtype and count) runs past the end of the record"
		}
		width := arrayElementSize(b[0])
		if width == 0 {
			return 0, fmt.Sprintf("B array has the invalid element type %s", quoteByte(b[0]))
		}
		n := uint64(binary.LittleEndian.Uint32(b[1:]))
		if n*uint64(width) > uint64(len(b)-5) {
			return 0, fmt.Sprintf("B array of %d type %c elements runs past the end of the record", n, b[0])
		}
		return 5 + int(n)*width, ""
	default:
		return 0, fmt.Sprintf("unknown type %s", quoteByte(t))
	}
	if len(b) < need {
		return 0, fmt.Sprintf("type %c value runs past the end of the record", t)
	}
	return need, ""
}

// fixedSize is the size of a value of type t when all values of t have one
// size and b holds it, else 0: the callers that walk every field answer
// most tags with it inline and call fieldSize only for the others.
func fixedSize(t byte, b []byte) int {
	n := int(fixedAuxSize[t])
	// One test for both "no fixed size" (n-1 wraps) and "too short".
	if uint(n-1) >= uint(len(b)) {
		return 0
	}
	return n
}

// fieldSize is the size of the value of the field at aux[p:], or the
// *AuxError saying why it has none.
func fieldSize(aux []byte, p int) (int, error) {
	n, why := AuxValueSize(aux[p+2], aux[p+3:])
	if why != "" {
		return 0, &AuxError{Offset: p, Msg: fmt.Sprintf("tag %s: %s", printableTag(aux[p:p+2]), why)}
	}
	return n, nil
}

// fixedAuxSize is the value size of each optional-field type whose values
// all have one size, and 0 for the others and for invalid types.
var fixedAuxSize = [256]uint8{'A': 1, 'c': 1, 'C': 1, 's': 2, 'S': 2, 'i': 4, 'I': 4, 'f': 4, 'd': 8}

func arrayElementSize(sub byte) int {
	switch sub {
	case 'c', 'C':
		return 1
	case 's', 'S':
		return 2
	case 'i', 'I', 'f':
		return 4
	}
	return 0
}

// quoteByte shows a type byte readably in a message, whatever it is.
func quoteByte(c byte) string {
	if c >= 0x21 && c < 0x7f {
		return "'" + string(rune(c)) + "'"
	}
	return fmt.Sprintf("0x%02x", c)
}

// CheckAux walks optional-field bytes and reports the first malformed
// field: an unknown type, a value running past the end, or trailing bytes
// too few to be a field.
func CheckAux(aux []byte) error {
	for p := 0; p < len(aux); {
		if len(aux)-p < 4 {
			return &AuxError{Offset: p, Msg: fmt.Sprintf("%d stray bytes after the last field", len(aux)-p)}
		}
		n := fixedSize(aux[p+2], aux[p+3:])
		if n == 0 {
			var err error
			if n, err = fieldSize(aux, p); err != nil {
				return err
			}
		}
		p += 3 + n
	}
	return nil
}

func printableTag(t []byte) string {
	for _, c := range t {
		if c < 0x21 || c >= 0x7f {
			return fmt.Sprintf("%q", t)
		}
	}
	return string(t)
}

// FindAux finds tag in aux (which must be well formed) and returns the
// offset of its field, its type letter and its value bytes; offset is -1
// when the tag is absent.
func FindAux(aux []byte, tag string) (offset int, typ byte, value []byte) {
	for p := 0; len(aux)-p >= 4; {
		n, why := AuxValueSize(aux[p+2], aux[p+3:])
		if why != "" {
			break
		}
		if aux[p] == tag[0] && aux[p+1] == tag[1] {
			return p, aux[p+2], aux[p+3 : p+3+n]
		}
		p += 3 + n
	}
	return -1, 0, nil
}

// AppendText appends the record as one SAM line, newline included,
// resolving reference IDs through refs, exactly as samtools view prints it.
// It fails only on malformed optional fields (samtools fails there too),
// which a validating reader has already refused.
func AppendText(dst []byte, r *Record, refs []Reference) ([]byte, error) {
	dst = append(dst, r.Name...)
	dst = append(dst, '\t')
	dst = appendUint(dst, uint32(r.Flag))
	dst = append(dst, '\t')
	dst = appendRef(dst, r.RefID, refs)
	dst = append(dst, '\t')
	dst = appendInt(dst, int64(r.Pos)+1)
	dst = append(dst, '\t')
	dst = appendUint(dst, uint32(r.MapQ))
	dst = append(dst, '\t')
	if len(r.Cigar) == 0 {
		dst = append(dst, '*')
	}
	for _, c := range r.Cigar {
		dst = appendUint(dst, c>>4)
		dst = append(dst, cigarLetters[c&0xf])
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
	dst = appendInt(dst, int64(r.MatePos)+1)
	dst = append(dst, '\t')
	dst = appendInt(dst, int64(r.TLen))
	dst = append(dst, '\t')
	if len(r.Seq) == 0 {
		dst = append(dst, '*', '\t', '*')
	} else {
		dst = append(dst, r.Seq...)
		dst = append(dst, '\t')
		dst = appendQual(dst, r.Qual, len(r.Seq))
	}
	var err error
	if dst, err = AppendAux(dst, r.Aux); err != nil {
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

// appendQual appends n Phred scores as SAM text: each plus 33, wrapping
// modulo 256 as htslib's char arithmetic does, or '*' when the first score
// is 0xff. Eight scores are added at a time without carries between bytes.
func appendQual(dst, qual []byte, n int) []byte {
	if len(qual) == 0 || qual[0] == 0xff {
		return append(dst, '*')
	}
	if len(qual) < n {
		n = len(qual)
	}
	start := len(dst)
	dst = append(dst, qual[:n]...)
	out := dst[start:]
	const high = 0x8080808080808080
	const add = 0x2121212121212121
	i := 0
	for ; i+8 <= n; i += 8 {
		x := binary.LittleEndian.Uint64(out[i:])
		binary.LittleEndian.PutUint64(out[i:], ((x&^high)+add)^(x&high))
	}
	for ; i < n; i++ {
		out[i] += 33
	}
	return dst
}

// AppendAux appends optional fields as SAM text, each preceded by a tab:
// integers of every width as type i, 'f' as C's %g, 'd' as htslib prints
// it, arrays with their element type. Like htslib it stops when fewer than
// four bytes remain, and fails on a malformed field.
func AppendAux(dst, aux []byte) ([]byte, error) {
	le := binary.LittleEndian
	for p := 0; len(aux)-p >= 4; {
		t, b := aux[p+2], aux[p+3:]
		n := fixedSize(t, b)
		if n == 0 {
			var err error
			if n, err = fieldSize(aux, p); err != nil {
				return dst, err
			}
		}
		dst = append(dst, '\t', aux[p], aux[p+1], ':')
		switch t {
		case 'A':
			dst = append(dst, 'A', ':', b[0])
		case 'c':
			dst = appendInt(append(dst, 'i', ':'), int64(int8(b[0])))
		case 'C':
			dst = appendUint(append(dst, 'i', ':'), uint32(b[0]))
		case 's':
			dst = appendInt(append(dst, 'i', ':'), int64(int16(le.Uint16(b))))
		case 'S':
			dst = appendUint(append(dst, 'i', ':'), uint32(le.Uint16(b)))
		case 'i':
			dst = appendInt(append(dst, 'i', ':'), int64(int32(le.Uint32(b))))
		case 'I':
			dst = appendUint(append(dst, 'i', ':'), le.Uint32(b))
		case 'f':
			dst = appendFloat32(append(dst, 'f', ':'), math.Float32frombits(le.Uint32(b)))
		case 'd':
			dst = AppendFloat(append(dst, 'd', ':'), math.Float64frombits(le.Uint64(b)))
		case 'Z', 'H':
			dst = append(append(dst, t, ':'), b[:n-1]...)
		case 'B':
			dst = appendArray(dst, b[0], int(le.Uint32(b[1:])), b[5:n])
		}
		p += 3 + n
	}
	return dst, nil
}

func appendArray(dst []byte, sub byte, count int, v []byte) []byte {
	le := binary.LittleEndian
	dst = append(dst, 'B', ':', sub)
	for i := 0; i < count; i++ {
		dst = append(dst, ',')
		switch sub {
		case 'c':
			dst = appendInt(dst, int64(int8(v[i])))
		case 'C':
			dst = appendUint(dst, uint32(v[i]))
		case 's':
			dst = appendInt(dst, int64(int16(le.Uint16(v[2*i:]))))
		case 'S':
			dst = appendUint(dst, uint32(le.Uint16(v[2*i:])))
		case 'i':
			dst = appendInt(dst, int64(int32(le.Uint32(v[4*i:]))))
		case 'I':
			dst = appendUint(dst, le.Uint32(v[4*i:]))
		case 'f':
			dst = AppendArrayFloat(dst, float64(math.Float32frombits(le.Uint32(v[4*i:]))))
		}
	}
	return dst
}

// AppendFloat formats v as C's printf("%g") does with glibc, which is how
// htslib prints 'f' and 'd' tags: six significant digits, trailing zeros
// dropped, exponent form below 1e-4 or from 1e6, and "inf", "nan", "-nan".
func AppendFloat(dst []byte, v float64) []byte {
	switch {
	case math.IsNaN(v):
		if math.Signbit(v) {
			return append(dst, "-nan"...)
		}
		return append(dst, "nan"...)
	case math.IsInf(v, 1):
		return append(dst, "inf"...)
	case math.IsInf(v, -1):
		return append(dst, "-inf"...)
	}
	// Go's 'g' with precision 6 chooses between the two forms by the same
	// rule as C and also drops trailing zeros; both round correctly.
	return strconv.AppendFloat(dst, v, 'g', 6, 64)
}

// AppendArrayFloat formats one element of a B:f array as htslib 1.16's
// kputd does. kputd stands in for %g but rounds its own way between 1e-4
// and 999999: it truncates v×10¹⁰ to an integer, adds half a unit of the
// sixth significant digit, and keeps six digits, so a value just below a
// rounding boundary can print one unit higher than %g would print it. Other
// values go through %g. (Later htslib releases round with rint instead;
// the ETag follows the samtools seqstore is tested against.)
func AppendArrayFloat(dst []byte, v float64) []byte {
	if v == 0 {
		if math.Signbit(v) {
			return append(dst, '-', '0')
		}
		return append(dst, '0')
	}
	if v < 0 {
		dst = append(dst, '-')
		v = -v
	}
	if !(v >= 0.0001 && v <= 999999) {
		if math.IsNaN(v) && math.Signbit(v) {
			// The minus sign went with the test above only for numbers;
			// glibc prints a negative NaN as "-nan".
			return append(dst, "-nan"...)
		}
		return AppendFloat(dst, v)
	}
	// Separate the conversion from the product so no fused operation can
	// change the truncated integer.
	scaled := v * 1e10
	i := uint64(scaled)
	i += kputdHalfUnit(v)
	var digits [24]byte
	d := strconv.AppendUint(digits[:0], i, 10)
	if len(d) <= 10 {
		// v < 1: "0." then zeros up to ten fraction digits, then the first
		// six significant digits, trailing zeros removed.
		dst = append(dst, '0', '.')
		for k := len(d); k < 10; k++ {
			dst = append(dst, '0')
		}
		return append(dst, trimZeros(d[:6])...)
	}
	intDigits := len(d) - 10
	if intDigits >= 6 {
		// Six integer digits fill the precision: no point, no trimming
		// (kputd can reach seven only for values above 999999, which take
		// the %g path).
		return append(dst, d[:intDigits]...)
	}
	dst = append(dst, d[:intDigits]...)
	frac := trimZeros(d[intDigits:6])
	if len(frac) > 0 {
		dst = append(dst, '.')
		dst = append(dst, frac...)
	}
	return dst
}

// kputdHalfUnit is the rounding increment kputd adds for v's magnitude:
// half a unit in the sixth significant digit of v×10¹⁰.
func kputdHalfUnit(v float64) uint64 {
	switch {
	case v < 0.001:
		return 5
	case v < 0.01:
		return 50
	case v < 0.1:
		return 500
	case v < 1:
		return 5000
	case v < 10:
		return 50000
	case v < 100:
		return 500000
	case v < 1000:
		return 5000000
	case v < 10000:
		return 50000000
	case v < 100000:
		return 500000000
	}
	return 5000000000
}

func trimZeros(d []byte) []byte {
	for len(d) > 0 && d[len(d)-1] == '0' {
		d = d[:len(d)-1]
	}
	return d
}

// Package transform holds the data transforms that CRAM 3.1's rANS Nx16
// and adaptive arithmetic codecs share: bit-packing of small alphabets,
// the rANS Nx16 run-length expansion and N-way striping. They are
// specified once in the hts-specs CRAMcodecs document and used by both
// codec packages.
package transform

import (
	"errors"
	"fmt"

	"github.com/seqstore/seqstore/internal/format/cram/codec/itf8"
)

// Pack describes bit-packed data: how many symbols share each byte and the
// table from packed values to symbols.
type Pack struct {
	// PerByte is 8, 4 or 2 for 1-, 2- or 4-bit values, 0 for a constant
	// (every symbol is Map[0]) and 1 for data stored unpacked.
	PerByte int
	Map     [16]byte
}

// ParsePackMeta reads the symbol count and map at the start of src and
// returns the number of bytes used. Like htslib it treats a count of 0
// (meaning 256) or above 16 as "not packed" with no map following.
func ParsePackMeta(src []byte) (Pack, int, error) {
	var p Pack
	if len(src) == 0 {
		return p, 0, errors.New("pack metadata missing")
	}
	n := int(src[0])
	if n == 0 {
		n = 256
	}
	switch {
	case n <= 1:
		p.PerByte = 0
	case n <= 2:
		p.PerByte = 8
	case n <= 4:
		p.PerByte = 4
	case n <= 16:
		p.PerByte = 2
	default:
		p.PerByte = 1
		return p, 1, nil
	}
	if len(src) < 1+n {
		return p, 0, fmt.Errorf("pack map of %d symbols truncated", n)
	}
	copy(p.Map[:], src[1:1+n])
	return p, 1 + n, nil
}

// Unpack expands packed into n symbols appended to dst[:0]. For PerByte 1
// the data is returned unchanged whatever n is, as htslib does.
func (p *Pack) Unpack(dst, packed []byte, n int) ([]byte, error) {
	if p.PerByte == 1 {
		return append(dst[:0], packed...), nil
	}
	out := grow(dst, n)
	switch p.PerByte {
	case 0:
		for i := range out {
			out[i] = p.Map[0]
		}
		return out, nil
	case 8, 4, 2:
	default:
		return nil, fmt.Errorf("invalid symbols per byte %d", p.PerByte)
	}
	per := p.PerByte
	if (n+per-1)/per > len(packed) {
		return nil, fmt.Errorf("packed data has %d bytes, %d symbols need %d", len(packed), n, (n+per-1)/per)
	}
	bits := uint(8 / per)
	mask := byte(1)<<bits - 1
	// Expand whole bytes through a 256-entry table of symbol groups.
	var table [256][8]byte
	for v := 0; v < 256; v++ {
		x := byte(v)
		for k := 0; k < per; k++ {
			table[v][k] = p.Map[x&mask]
			x >>= bits
		}
	}
	full := n / per
	for j := 0; j < full; j++ {
		copy(out[j*per:j*per+per], table[packed[j]][:per])
	}
	if rest := n - full*per; rest > 0 {
		copy(out[full*per:], table[packed[full]][:rest])
	}
	return out, nil
}

// RLE is the run-length metadata of rANS Nx16: which symbols carry a run
// count, and the uint7 run counts in the order they are needed.
type RLE struct {
	Runs    []byte
	hasRuns [256]bool
}

// ParseRLEMeta splits decoded run-length metadata into its symbol set and
// run counts.
func ParseRLEMeta(meta []byte) (*RLE, error) {
	if len(meta) == 0 {
		return nil, errors.New("run-length metadata empty")
	}
	n := int(meta[0])
	if n == 0 {
		n = 256
	}
	if len(meta) < 1+n {
		return nil, fmt.Errorf("run-length symbol list of %d truncated", n)
	}
	r := &RLE{Runs: meta[1+n:]}
	for _, s := range meta[1 : 1+n] {
		r.hasRuns[s] = true
	}
	return r, nil
}

// Expand appends to dst[:0] the literals with each run symbol repeated by
// its run count, producing at most max bytes. A run count missing at the
// end of the metadata counts as zero, as in htslib.
func (r *RLE) Expand(dst, lit []byte, max int) ([]byte, error) {
	out := dst[:0]
	runs := r.Runs
	for i, b := range lit {
		if len(out) >= max {
			return nil, fmt.Errorf("run-length output passes %d bytes at literal %d", max, i)
		}
		if !r.hasRuns[b] {
			out = append(out, b)
			continue
		}
		var run uint32
		if len(runs) > 0 {
			v, n, err := itf8.ReadUint7(runs)
			if err != nil {
				return nil, fmt.Errorf("run count for literal %d: %w", i, err)
			}
			run, runs = v, runs[n:]
		}
		if uint64(len(out))+uint64(run)+1 > uint64(max) {
			return nil, fmt.Errorf("run of %d at literal %d passes %d bytes", run, i, max)
		}
		for k := uint32(0); k <= run; k++ {
			out = append(out, b)
		}
	}
	return out, nil
}

// StripeLengths returns the sizes of the n sub-streams that a striped
// stream of total bytes is split into: the first total%n are one longer.
func StripeLengths(total, n int) []int {
	lens := make([]int, n)
	for j := range lens {
		lens[j] = total / n
		if total%n > j {
			lens[j]++
		}
	}
	return lens
}

// Unstripe interleaves the sub-streams back into dst[:0]: byte i of the
// output comes from part i%N at index i/N.
func Unstripe(dst []byte, parts [][]byte, total int) []byte {
	out := grow(dst, total)
	n := len(parts)
	for j, part := range parts {
		for i, b := range part {
			out[i*n+j] = b
		}
	}
	return out
}

func grow(dst []byte, n int) []byte {
	if cap(dst) >= n {
		return dst[:n]
	}
	return make([]byte, n)
}

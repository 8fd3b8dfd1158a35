// Package bai builds BAM indexes (SAMv1 §5.2) while records stream by: the
// UCSC binning scheme with chunks of virtual offsets, the 16 kbp linear
// index, and the per-reference pseudo-bin of mapped and unmapped counts that
// samtools idxstats reads. samtools answers region queries through these
// indexes exactly as through its own.
package bai

import (
	"encoding/binary"
	"fmt"
	"io"
	"sort"

	"github.com/seqstore/seqstore/internal/format/bgzf"
)

const (
	linearShift = 14    // 16 kbp windows
	pseudoBin   = 37450 // the bin that carries per-reference metadata
)

type chunk struct{ beg, end bgzf.VirtualOffset }

type refIndex struct {
	bins     map[uint32][]chunk
	linear   []bgzf.VirtualOffset // 0 means unset
	first    bgzf.VirtualOffset
	last     bgzf.VirtualOffset
	mapped   uint64
	unmapped uint64
	seen     bool
}

// Builder accumulates an index.
type Builder struct {
	refs     []refIndex
	noCoor   uint64
	lastRef  int32
	lastPos  int32
	sorted   bool
	unsorted string
}

// NewBuilder indexes a BAM with nRefs references.
func NewBuilder(nRefs int) *Builder {
	return &Builder{refs: make([]refIndex, nRefs), sorted: true, lastRef: -1}
}

// Reg2Bin is the smallest bin that holds [beg, end) (SAMv1 §5.3).
func Reg2Bin(beg, end int) uint32 {
	end--
	switch {
	case beg>>14 == end>>14:
		return uint32(((1<<15)-1)/7 + (beg >> 14))
	case beg>>17 == end>>17:
		return uint32(((1<<12)-1)/7 + (beg >> 17))
	case beg>>20 == end>>20:
		return uint32(((1<<9)-1)/7 + (beg >> 20))
	case beg>>23 == end>>23:
		return uint32(((1<<6)-1)/7 + (beg >> 23))
	case beg>>26 == end>>26:
		return uint32(((1<<3)-1)/7 + (beg >> 26))
	}
	return 0
}

// Add records one alignment: its reference, 0-based start and exclusive end,
// whether it is unmapped, and the virtual offsets around it. Records must
// come in coordinate order; Sorted reports whether they did.
func (b *Builder) Add(refID int32, pos, end int, unmapped bool, beg, fin bgzf.VirtualOffset) {
	if !b.sorted {
		return
	}
	if refID < 0 {
		// Unplaced reads come last in a sorted file.
		b.noCoor++
		b.lastRef = int32(len(b.refs))
		return
	}
	if int(refID) >= len(b.refs) {
		b.unsorted = fmt.Sprintf("reference id %d is out of range", refID)
		b.sorted = false
		return
	}
	if refID < b.lastRef || (refID == b.lastRef && int32(pos) < b.lastPos) {
		b.unsorted = fmt.Sprintf("a record at reference %d position %d follows reference %d position %d", refID, pos+1, b.lastRef, b.lastPos+1)
		b.sorted = false
		return
	}
	ri := &b.refs[refID]
	if refID != b.lastRef && ri.seen {
		b.unsorted = fmt.Sprintf("reference %d appears again after other references", refID)
		b.sorted = false
		return
	}
	b.lastRef, b.lastPos = refID, int32(pos)
	if !ri.seen {
		ri.seen = true
		ri.bins = map[uint32][]chunk{}
		ri.first = beg
	}
	ri.last = fin
	if unmapped {
		ri.unmapped++
	} else {
		ri.mapped++
	}
	if end <= pos {
		end = pos + 1
	}
	bin := Reg2Bin(pos, end)
	cs := ri.bins[bin]
	// Records in the same bin that follow one another share one chunk.
	if n := len(cs); n > 0 && cs[n-1].end == beg {
		cs[n-1].end = fin
	} else {
		cs = append(cs, chunk{beg, fin})
	}
	ri.bins[bin] = cs
	for w := pos >> linearShift; w <= (end-1)>>linearShift; w++ {
		for len(ri.linear) <= w {
			ri.linear = append(ri.linear, 0)
		}
		if ri.linear[w] == 0 {
			ri.linear[w] = beg
		}
	}
}

// Sorted reports whether every record came in coordinate order, and if not,
// why not.
func (b *Builder) Sorted() (bool, string) { return b.sorted, b.unsorted }

// WriteTo writes the index.
func (b *Builder) WriteTo(w io.Writer) (int64, error) {
	if !b.sorted {
		return 0, fmt.Errorf("bai: records are not sorted by coordinate: %s", b.unsorted)
	}
	var out []byte
	u32 := func(v uint32) { out = binary.LittleEndian.AppendUint32(out, v) }
	u64 := func(v uint64) { out = binary.LittleEndian.AppendUint64(out, v) }
	out = append(out, 'B', 'A', 'I', 1)
	u32(uint32(len(b.refs)))
	for i := range b.refs {
		ri := &b.refs[i]
		if !ri.seen {
			u32(0) // n_bin
			u32(0) // n_intv
			continue
		}
		bins := make([]uint32, 0, len(ri.bins))
		for bin := range ri.bins {
			bins = append(bins, bin)
		}
		sort.Slice(bins, func(i, j int) bool { return bins[i] < bins[j] })
		u32(uint32(len(bins) + 1))
		for _, bin := range bins {
			u32(bin)
			cs := ri.bins[bin]
			u32(uint32(len(cs)))
			for _, c := range cs {
				u64(uint64(c.beg))
				u64(uint64(c.end))
			}
		}
		u32(pseudoBin)
		u32(2)
		u64(uint64(ri.first))
		u64(uint64(ri.last))
		u64(ri.mapped)
		u64(ri.unmapped)
		// Windows no record starts in point at the next earlier one, as
		// htslib fills them.
		for j := range ri.linear {
			if ri.linear[j] == 0 {
				if j == 0 {
					ri.linear[j] = ri.first
				} else {
					ri.linear[j] = ri.linear[j-1]
				}
			}
		}
		u32(uint32(len(ri.linear)))
		for _, off := range ri.linear {
			u64(uint64(off))
		}
	}
	u64(b.noCoor)
	n, err := w.Write(out)
	return int64(n), err
}

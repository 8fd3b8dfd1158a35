// Package bai builds BAM indexes (hts-specs SAMv1 §5.2) while records
// stream by: the UCSC binning scheme with chunks of virtual offsets, the
// 16 kbp linear index, the per-reference pseudo-bin of mapped and unmapped
// counts that samtools idxstats reads, and the count of unplaced reads.
//
// It follows htslib's indexer (hts_idx_push and hts_idx_finish) step for
// step: the same chunks, the same merging of small bins into their parents
// and of chunks that share a BGZF block, the same linear index, and the
// same sortedness rules, so that its index equals the one `samtools index`
// writes apart from the order of bins (htslib writes them in hash-table
// order). No Go library builds BAIs incrementally from a stream; biogo's
// indexer needs its own BAM reader and merges chunks differently.
//
// It also reads indexes back (Read) and answers region queries with them
// (Index.Query): the chunks of the file that hold a region's records,
// which htsget hands out.
package bai

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"slices"

	"github.com/seqstore/seqstore/internal/format/bgzf"
	"github.com/seqstore/seqstore/internal/format/sam"
)

const (
	minShift = 14 // 16 kbp bottom bins and linear windows
	levels   = 5
	// binCount is the number of real bins, 0 to 37448.
	binCount = ((1 << (3*levels + 3)) - 1) / 7
	// MetaBin is the pseudo-bin that carries a reference's offsets and
	// mapped and unmapped counts.
	MetaBin = binCount + 1
	// MaxPosition is the largest coordinate a BAI can hold (2^29); longer
	// references need CSI.
	MaxPosition = 1 << (minShift + 3*levels)
	// minMarkerDistance is htslib's HTS_MIN_MARKER_DIST: a bin whose chunks
	// span less compressed data than this is merged into its parent.
	minMarkerDistance = 0x10000
)

// ErrNotSorted is what an error from Add wraps when the records are not in
// an order that can be indexed.
var ErrNotSorted = errors.New("records are not sorted by coordinate")

// ErrTooLong is what an error from Add wraps when a record lies beyond
// MaxPosition.
var ErrTooLong = errors.New("position beyond what a BAI can index")

// Chunk is a stretch of the BAM file between two virtual offsets.
type Chunk struct{ Begin, End bgzf.VirtualOffset }

type refIndex struct {
	seen     bool
	bins     map[uint32][]Chunk
	linear   []bgzf.VirtualOffset // unsetOffset where no record starts
	first    bgzf.VirtualOffset   // start of the reference's first record
	last     bgzf.VirtualOffset   // end of its last record
	mapped   uint64
	unmapped uint64
}

const unsetOffset = ^bgzf.VirtualOffset(0)

// Builder accumulates an index. Call Add for every record in file order,
// then Write.
type Builder struct {
	refs  []sam.Reference
	index []refIndex
	// noCoor counts unplaced records (refID -1), which must come last.
	noCoor uint64
	err    error

	records int64
	lastRef int32
	lastPos int64 // htslib compares with the position clamped at 0
	// The run of consecutive records that share a bin becomes one chunk.
	runRef   int32
	runBin   uint32
	runStart bgzf.VirtualOffset
	lastEnd  bgzf.VirtualOffset
}

// NewBuilder indexes a BAM whose reference dictionary is refs.
func NewBuilder(refs []sam.Reference) *Builder {
	return &Builder{refs: refs, lastRef: -2, runRef: -2}
}

// Reg2Bin is the smallest bin that holds the 0-based half-open interval
// [beg, end) (SAMv1 §5.3).
func Reg2Bin(beg, end int64) uint32 {
	end--
	shift, first := int64(minShift), int64(binCount-(1<<(3*levels)))
	for level := levels; level > 0; level-- {
		if beg>>shift == end>>shift {
			return uint32(first + beg>>shift)
		}
		shift += 3
		first -= 1 << (3 * (level - 1))
	}
	return 0
}

func (b *Builder) refName(id int32) string {
	if id >= 0 && int(id) < len(b.refs) {
		return b.refs[id].Name
	}
	return fmt.Sprintf("#%d", id)
}

// Add records one alignment in file order: its reference (-1 for none),
// its 0-based start and exclusive end (sam.Record.End), whether it is
// unmapped, and the virtual offsets at its start and end. It returns an
// error wrapping ErrNotSorted or ErrTooLong when the file cannot be
// indexed; after that Add does nothing and Write fails with the same error.
func (b *Builder) Add(refID int32, pos, end int64, unmapped bool, start, stop bgzf.VirtualOffset) error {
	if b.err != nil {
		return b.err
	}
	b.records++
	if refID >= 0 && (pos > MaxPosition || end > MaxPosition) {
		b.err = fmt.Errorf("%w: record %d reaches %s:%d, past the BAI limit of %d (it needs a CSI index)", ErrTooLong, b.records, b.refName(refID), end, int64(MaxPosition))
		return b.err
	}
	if refID >= int32(len(b.refs)) {
		b.err = fmt.Errorf("%w: record %d names reference %d of %d", ErrNotSorted, b.records, refID, len(b.refs))
		return b.err
	}
	if refID != b.lastRef {
		switch {
		case refID >= 0 && b.noCoor > 0:
			b.err = fmt.Errorf("%w: record %d is placed on %s after unplaced records, which must come last", ErrNotSorted, b.records, b.refName(refID))
		case refID >= 0 && refID < int32(len(b.index)) && b.index[refID].seen:
			b.err = fmt.Errorf("%w: record %d is on %s again after records on %s", ErrNotSorted, b.records, b.refName(refID), b.refName(b.lastRef))
		}
		if b.err != nil {
			return b.err
		}
		b.lastRef = refID
	} else if refID >= 0 && b.lastPos > pos {
		b.err = fmt.Errorf("%w: record %d at %s:%d follows one at %s:%d", ErrNotSorted, b.records, b.refName(refID), pos+1, b.refName(refID), b.lastPos+1)
		return b.err
	}
	if refID < 0 {
		b.noCoor++
		b.closeRun(start)
		b.runRef = -1
		b.lastEnd = stop
		return nil
	}
	// htslib puts a position of -1 in the first bottom bin.
	pos = max(pos, 0)
	end = max(end, 1)
	// The index grows to the references records name, not to the
	// header's count, which may be large for a file that uses few.
	for int32(len(b.index)) <= refID {
		b.index = append(b.index, refIndex{})
	}
	ri := &b.index[refID]
	if !ri.seen {
		ri.seen = true
		ri.bins = map[uint32][]Chunk{}
		ri.first = start
	}
	for w := pos >> minShift; w <= (end-1)>>minShift; w++ {
		for int64(len(ri.linear)) <= w {
			ri.linear = append(ri.linear, unsetOffset)
		}
		if ri.linear[w] == unsetOffset {
			ri.linear[w] = start
		}
	}
	if bin := Reg2Bin(pos, end); bin != b.runBin || refID != b.runRef {
		b.closeRun(start)
		b.runRef, b.runBin, b.runStart = refID, bin, start
	}
	if unmapped {
		ri.unmapped++
	} else {
		ri.mapped++
	}
	ri.last = stop
	b.lastPos = pos
	b.lastEnd = stop
	return nil
}

// closeRun ends the current run of same-bin records at offset end and
// stores it as a chunk of its bin.
func (b *Builder) closeRun(end bgzf.VirtualOffset) {
	if b.runRef >= 0 {
		ri := &b.index[b.runRef]
		ri.bins[b.runBin] = append(ri.bins[b.runBin], Chunk{b.runStart, end})
	}
	b.runRef = -2
}

// Err returns the reason the records cannot be indexed, or nil.
func (b *Builder) Err() error { return b.err }

// finish closes the last run and compacts the bins as htslib's
// compress_binning does.
func (b *Builder) finish() {
	b.closeRun(b.lastEnd)
	for i := range b.index {
		ri := &b.index[i]
		if !ri.seen {
			continue
		}
		// Windows where no record starts take the next window's offset.
		for w := len(ri.linear) - 2; w >= 0; w-- {
			if ri.linear[w] == unsetOffset {
				ri.linear[w] = ri.linear[w+1]
			}
		}
		compressBins(ri.bins)
	}
}

func levelFirst(level int) uint32 { return ((1 << (3 * level)) - 1) / 7 }

// compressBins merges each bin whose chunks span less than
// minMarkerDistance bytes of compressed file into its parent, when the
// parent exists, deepest level first; then, in every bin, merges chunks
// that overlap or start in the BGZF block where the previous one ends.
func compressBins(bins map[uint32][]Chunk) {
	byBegin := func(x, y Chunk) int {
		switch {
		case x.Begin < y.Begin:
			return -1
		case x.Begin > y.Begin:
			return 1
		}
		return 0
	}
	for level := levels; level > 0; level-- {
		lo, hi := levelFirst(level), levelFirst(level+1)
		for bin, cs := range bins {
			if bin < lo || bin >= hi {
				continue
			}
			if level < levels {
				slices.SortFunc(cs, byBegin)
			}
			if cs[len(cs)-1].End.BlockOffset()-cs[0].Begin.BlockOffset() >= minMarkerDistance {
				continue
			}
			parent := (bin - 1) >> 3
			if _, ok := bins[parent]; !ok {
				continue
			}
			bins[parent] = append(bins[parent], cs...)
			delete(bins, bin)
		}
	}
	if cs, ok := bins[0]; ok {
		slices.SortFunc(cs, byBegin)
	}
	for bin, cs := range bins {
		m := 0
		for _, c := range cs[1:] {
			if cs[m].End.BlockOffset() >= c.Begin.BlockOffset() {
				cs[m].End = max(cs[m].End, c.End)
			} else {
				m++
				cs[m] = c
			}
		}
		bins[bin] = cs[:m+1]
	}
}

// Write finishes the index and writes it. It fails with Err's error when
// the records could not be indexed.
func (b *Builder) Write(w io.Writer) error {
	if b.err != nil {
		return b.err
	}
	b.finish()
	out := make([]byte, 0, 1<<16)
	u32 := func(v uint32) { out = binary.LittleEndian.AppendUint32(out, v) }
	u64 := func(v uint64) { out = binary.LittleEndian.AppendUint64(out, v) }
	flush := func() error {
		_, err := w.Write(out)
		out = out[:0]
		return err
	}
	out = append(out, 'B', 'A', 'I', 1)
	u32(uint32(len(b.refs)))
	for i := range b.refs {
		if i >= len(b.index) || !b.index[i].seen {
			u32(0) // n_bin
			u32(0) // n_intv
			continue
		}
		ri := &b.index[i]
		bins := make([]uint32, 0, len(ri.bins))
		for bin := range ri.bins {
			bins = append(bins, bin)
		}
		slices.Sort(bins)
		u32(uint32(len(bins) + 1))
		for _, bin := range bins {
			cs := ri.bins[bin]
			u32(bin)
			u32(uint32(len(cs)))
			for _, c := range cs {
				u64(uint64(c.Begin))
				u64(uint64(c.End))
			}
			if len(out) >= 1<<16 {
				if err := flush(); err != nil {
					return err
				}
			}
		}
		u32(MetaBin)
		u32(2)
		u64(uint64(ri.first))
		u64(uint64(ri.last))
		u64(ri.mapped)
		u64(ri.unmapped)
		u32(uint32(len(ri.linear)))
		for _, off := range ri.linear {
			u64(uint64(off))
			if len(out) >= 1<<16 {
				if err := flush(); err != nil {
					return err
				}
			}
		}
	}
	u64(b.noCoor)
	return flush()
}

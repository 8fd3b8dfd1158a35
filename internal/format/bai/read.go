package bai

import (
	"bufio"
	"cmp"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"

	"github.com/seqstore/seqstore/internal/format/bgzf"
)

// ErrBadIndex is what an error from Read wraps when the index is not a
// BAI or is damaged.
var ErrBadIndex = errors.New("not a valid BAM index")

// Index is a BAI read back, for region queries.
type Index struct {
	Refs []RefIndex
	// Unplaced is the count of unplaced reads the index records (the
	// optional n_no_coor), 0 when absent.
	Unplaced uint64
}

// RefIndex is one reference's part of an Index.
type RefIndex struct {
	Bins   map[uint32][]Chunk
	Linear []bgzf.VirtualOffset
	// Span is the virtual offsets of the reference's first record and of
	// the end of its last (the pseudo-bin); zero when the index lacks it.
	Span Chunk
	// Mapped and Unmapped count the reference's placed reads (pseudo-bin).
	Mapped, Unmapped uint64
}

// Read parses a BAI, reading at most maxBytes of it: every count is
// checked against what is left, so a damaged index fails instead of
// making Read allocate without bound.
func Read(r io.Reader, maxBytes int64) (*Index, error) {
	p := &indexParser{r: bufio.NewReader(io.LimitReader(r, maxBytes+1)), left: maxBytes}
	var magic [4]byte
	p.read(magic[:])
	if p.err == nil && string(magic[:]) != "BAI\x01" {
		return nil, fmt.Errorf("%w: the file starts %q, not the BAI magic", ErrBadIndex, magic[:])
	}
	nRef := p.count(4+4+4, "references")
	idx := &Index{}
	for i := 0; i < nRef && p.err == nil; i++ {
		ref := RefIndex{Bins: map[uint32][]Chunk{}}
		nBin := p.count(4+4, "bins")
		for range nBin {
			if p.err != nil {
				break
			}
			bin := p.u32()
			chunks := make([]Chunk, p.count(16, "chunks"))
			for j := range chunks {
				chunks[j] = Chunk{bgzf.VirtualOffset(p.u64()), bgzf.VirtualOffset(p.u64())}
			}
			if bin == MetaBin {
				if len(chunks) == 2 {
					ref.Span = chunks[0]
					ref.Mapped, ref.Unmapped = uint64(chunks[1].Begin), uint64(chunks[1].End)
				}
				continue
			}
			if bin > MetaBin {
				p.fail("reference %d has bin %d, beyond the last bin %d", i, bin, MetaBin)
			}
			ref.Bins[bin] = append(ref.Bins[bin], chunks...)
		}
		ref.Linear = make([]bgzf.VirtualOffset, p.count(8, "linear index entries"))
		for j := range ref.Linear {
			ref.Linear[j] = bgzf.VirtualOffset(p.u64())
		}
		idx.Refs = append(idx.Refs, ref)
	}
	if p.err != nil {
		return nil, p.err
	}
	// n_no_coor is optional.
	var tail [8]byte
	if n, _ := io.ReadFull(p.r, tail[:]); n == 8 {
		idx.Unplaced = binary.LittleEndian.Uint64(tail[:])
	}
	return idx, nil
}

// indexParser reads little-endian fields, remembering the first failure.
type indexParser struct {
	r    *bufio.Reader
	left int64
	err  error
	buf  [8]byte
}

func (p *indexParser) fail(format string, args ...any) {
	if p.err == nil {
		p.err = fmt.Errorf("%w: %s", ErrBadIndex, fmt.Sprintf(format, args...))
	}
}

func (p *indexParser) read(b []byte) {
	if p.err != nil {
		clear(b)
		return
	}
	if int64(len(b)) > p.left {
		p.fail("it is larger than the %d bytes allowed", p.left)
		clear(b)
		return
	}
	if _, err := io.ReadFull(p.r, b); err != nil {
		p.fail("it is truncated")
		clear(b)
		return
	}
	p.left -= int64(len(b))
}

func (p *indexParser) u32() uint32 { p.read(p.buf[:4]); return binary.LittleEndian.Uint32(p.buf[:4]) }
func (p *indexParser) u64() uint64 { p.read(p.buf[:8]); return binary.LittleEndian.Uint64(p.buf[:8]) }

// count reads a count of items each at least size bytes long, failing when
// the bytes left cannot hold them.
func (p *indexParser) count(size int64, what string) int {
	n := int64(int32(p.u32()))
	if p.err != nil {
		return 0
	}
	if n < 0 || n*size > p.left {
		p.fail("it claims %d %s, more than its %d remaining bytes hold", n, what, p.left)
		return 0
	}
	return int(n)
}

// Query returns the chunks of the BAM that hold every record of reference
// ref overlapping the 0-based half-open interval [beg, end), sorted and
// merged so that none overlap: the chunks of the bins that overlap the
// interval (SAMv1 §5.3), cut to start no earlier than the linear index's
// smallest offset for beg and to end where the records that start at or
// after end begin. Records outside the interval may be among
// them, as with any index query. A reference the index does not know
// gives none.
func (x *Index) Query(ref int, beg, end int64) []Chunk {
	if ref < 0 || ref >= len(x.Refs) {
		return nil
	}
	beg, end = max(beg, 0), min(end, MaxPosition)
	if beg >= end {
		return nil
	}
	ri := &x.Refs[ref]
	var minOffset bgzf.VirtualOffset
	if len(ri.Linear) > 0 {
		minOffset = ri.Linear[min(beg>>minShift, int64(len(ri.Linear))-1)]
	}
	maxOffset := ri.firstStartingFrom(end)
	var chunks []Chunk
	for _, bin := range regionBins(beg, end) {
		for _, c := range ri.Bins[bin] {
			// A bin's chunks were merged across the records of other
			// bins, so they may run far beyond the interval on either
			// side: cut them to what can hold its records.
			c.Begin, c.End = max(c.Begin, minOffset), min(c.End, maxOffset)
			if c.Begin < c.End {
				chunks = append(chunks, c)
			}
		}
	}
	return MergeChunks(chunks)
}

// firstStartingFrom returns a virtual offset from which on every record
// starts at or after pos, or the largest offset when the index knows none.
// A bin holds only records within its span (samtools moves small bins'
// chunks into their parents, which keeps that true), and records are
// sorted by position, so the first chunk of a non-empty bin whose span
// starts at or after pos is one; the smallest such over the levels is
// taken. (The linear index will not do: its offset for a window may be a
// record that starts before it.)
func (ri *RefIndex) firstStartingFrom(pos int64) bgzf.VirtualOffset {
	best := bgzf.VirtualOffset(math.MaxUint64)
	windows := int64(len(ri.Linear))
	for level := 1; level <= levels; level++ {
		shift := int64(minShift + 3*(levels-level))
		first := int64(levelFirst(level))
		last := min(int64(1)<<(3*level), (windows<<minShift)>>shift+1)
		for b := (pos + 1<<shift - 1) >> shift; b < last; b++ {
			chunks := ri.Bins[uint32(first+b)]
			if len(chunks) == 0 {
				continue
			}
			for _, c := range chunks {
				best = min(best, c.Begin)
			}
			break
		}
	}
	return best
}

// MergeChunks sorts chunks by their start and joins those that overlap or
// touch.
func MergeChunks(chunks []Chunk) []Chunk {
	if len(chunks) == 0 {
		return nil
	}
	slices.SortFunc(chunks, func(a, b Chunk) int { return cmp.Compare(a.Begin, b.Begin) })
	out := chunks[:1]
	for _, c := range chunks[1:] {
		last := &out[len(out)-1]
		if c.Begin <= last.End {
			last.End = max(last.End, c.End)
			continue
		}
		out = append(out, c)
	}
	return out
}

// regionBins lists the bins that may hold records overlapping [beg, end),
// one run of bins per level (SAMv1 §5.3's reg2bins).
func regionBins(beg, end int64) []uint32 {
	end--
	bins := []uint32{0}
	for level := 1; level <= levels; level++ {
		first, shift := int64(levelFirst(level)), int64(minShift+3*(levels-level))
		for b := first + beg>>shift; b <= first+end>>shift; b++ {
			bins = append(bins, uint32(b))
		}
	}
	return bins
}

// PlacedEnd is the virtual offset where the placed records end and the
// unplaced ones (reference -1, at the end of a sorted BAM) begin: the end
// of the last placed record the index knows of, or zero when it knows of
// none.
func (x *Index) PlacedEnd() bgzf.VirtualOffset {
	var end bgzf.VirtualOffset
	for i := range x.Refs {
		ri := &x.Refs[i]
		end = max(end, ri.Span.End)
		for _, cs := range ri.Bins {
			for _, c := range cs {
				end = max(end, c.End)
			}
		}
	}
	return end
}

package deflate

import (
	"encoding/binary"
	"slices"
)

// huffBuilder builds length-limited Huffman codes, keeping its scratch
// between calls.
type huffBuilder struct {
	leaves []uint64 // frequency<<16 | symbol, sorted
	weight []uint32
	parent []int32
	depth  []uint8
}

// build sets lens to the code lengths of a Huffman code for freq in which
// no code is longer than limit. Unused symbols get 0. At least two symbols
// get a code, as zlib does, so that every code is complete and a lone
// symbol still costs a bit.
func (h *huffBuilder) build(freq []uint32, limit int, lens []uint8) {
	clear(lens)
	h.leaves = h.leaves[:0]
	for s, f := range freq {
		if f > 0 {
			h.leaves = append(h.leaves, uint64(f)<<16|uint64(s))
		}
	}
	for s := 0; len(h.leaves) < 2; s++ {
		if freq[s] == 0 {
			h.leaves = append(h.leaves, uint64(s)) // frequency 0
		}
	}
	slices.Sort(h.leaves)
	n := len(h.leaves)

	// Merge the two lightest of the sorted leaves and the internal nodes
	// made so far, which come out in order of weight too.
	nodes := 2*n - 1
	h.weight = slices.Grow(h.weight[:0], nodes)[:nodes]
	h.parent = slices.Grow(h.parent[:0], nodes)[:nodes]
	h.depth = slices.Grow(h.depth[:0], nodes)[:nodes]
	for i, l := range h.leaves {
		h.weight[i] = uint32(l >> 16)
	}
	leaf, inner := 0, n
	lightest := func(made int) int {
		if leaf < n && (inner >= made || h.weight[leaf] <= h.weight[inner]) {
			leaf++
			return leaf - 1
		}
		inner++
		return inner - 1
	}
	for k := n; k < nodes; k++ {
		a, b := lightest(k), lightest(k)
		h.weight[k] = h.weight[a] + h.weight[b]
		h.parent[a], h.parent[b] = int32(k), int32(k)
	}

	// Depths from the root down; a parent always comes after its children.
	// Leaves deeper than limit are counted at limit.
	var count [maxCodeLen + 1]int
	h.depth[nodes-1] = 0
	for k := nodes - 2; k >= 0; k-- {
		d := h.depth[h.parent[k]] + 1
		h.depth[k] = d
		if k < n {
			count[min(int(d), limit)]++
		}
	}
	// Clamped, the lengths oversubscribe the code: Kraft's sum, in units
	// of 2^-limit, is over 1. Each step takes one code off the longest
	// length and moves one from the deepest shorter length one level
	// down, where it becomes two: the count of codes stays, the sum falls
	// by one unit.
	kraft := 0
	for l := 1; l <= limit; l++ {
		kraft += count[l] << (limit - l)
	}
	for ; kraft > 1<<limit; kraft-- {
		count[limit]--
		for l := limit - 1; l > 0; l-- {
			if count[l] > 0 {
				count[l]--
				count[l+1] += 2
				break
			}
		}
	}
	// The lightest leaves take the longest lengths.
	i := 0
	for l := limit; l >= 1; l-- {
		for range count[l] {
			lens[h.leaves[i]&0xffff] = uint8(l)
			i++
		}
	}
}

// bitWriter writes DEFLATE's LSB-first bit stream.
type bitWriter struct {
	out []byte
	acc uint64
	n   uint // bits in acc
}

func (w *bitWriter) reset(dst []byte) { *w = bitWriter{out: dst} }

// pending is how many bits of a partial byte are written.
func (w *bitWriter) pending() uint { return w.n % 8 }

// write appends the low n bits of v (n at most 56).
func (w *bitWriter) write(v uint64, n uint) {
	if w.n+n > 64 {
		w.flush()
	}
	w.acc |= v << w.n
	w.n += n
}

// flush moves the whole bytes of acc to out.
func (w *bitWriter) flush() {
	w.out = binary.LittleEndian.AppendUint64(w.out, w.acc)
	whole := w.n / 8
	w.out = w.out[:len(w.out)-8+int(whole)]
	if whole == 8 {
		w.acc = 0
	} else {
		w.acc >>= whole * 8
	}
	w.n -= whole * 8
}

func (w *bitWriter) alignByte() { w.n = (w.n + 7) &^ 7 }

func (w *bitWriter) writeBytes(p []byte) {
	w.flush()
	w.out = append(w.out, p...)
}

// finish pads the last byte and returns the output.
func (w *bitWriter) finish() []byte {
	w.alignByte()
	w.flush()
	return w.out
}

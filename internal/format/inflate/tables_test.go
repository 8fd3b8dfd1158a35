package inflate

import (
	"math/bits"
	"math/rand/v2"
	"testing"
)

// randomCodeLengths makes a complete prefix code for n symbols of at most
// 15 bits by splitting leaves of a tree, preferring deep ones so that
// subtables are many and large, and gives the lengths to symbols at random.
func randomCodeLengths(rng *rand.Rand, n int) []uint8 {
	leaves := []uint8{0}
	for len(leaves) < n {
		i := rng.IntN(len(leaves))
		if rng.IntN(4) != 0 {
			// Prefer the deepest leaf there is.
			for j, d := range leaves {
				if d > leaves[i] && d < maxCodeLen {
					i = j
				}
			}
		}
		if leaves[i] == maxCodeLen {
			continue
		}
		leaves[i]++
		leaves = append(leaves, leaves[i])
	}
	rng.Shuffle(len(leaves), func(i, j int) { leaves[i], leaves[j] = leaves[j], leaves[i] })
	return leaves
}

// TestBuildTable checks that every symbol of random complete codes decodes
// through the main table and subtables, within the tables' worst-case size.
func TestBuildTable(t *testing.T) {
	rng := rand.New(rand.NewPCG(40, 41))
	var symEntry [numLitlenSyms]uint32
	for sym := range symEntry {
		symEntry[sym] = uint32(sym) << 16
	}
	for _, tc := range []struct {
		syms, tableBits, size int
	}{
		{maxDynLitlen, litlenTableBits, litlenTableSize},
		{maxDynDist, distTableBits, distTableSize},
	} {
		table := make([]uint32, tc.size)
		for range 3000 {
			lens := randomCodeLengths(rng, tc.syms)
			if !buildTable(table, lens, symEntry[:], uint(tc.tableBits)) {
				t.Fatalf("complete code %v does not build", lens)
			}
			checkDecodes(t, table, lens, uint(tc.tableBits))
		}
	}
}

func checkDecodes(t *testing.T, table []uint32, lens []uint8, tableBits uint) {
	t.Helper()
	var count [maxCodeLen + 1]int
	for _, l := range lens {
		count[l]++
	}
	count[0] = 0
	// RFC 1951's canonical codes.
	var next [maxCodeLen + 1]int
	code := 0
	for l := 1; l <= maxCodeLen; l++ {
		code = (code + count[l-1]) << 1
		next[l] = code
	}
	for sym, l := range lens {
		c := next[l]
		next[l]++
		// The bits as the stream delivers them, with random bits after.
		stream := uint32(bits.Reverse16(uint16(c)))>>(16-l) | uint32(rand.IntN(1<<16))<<l
		e := table[stream&(1<<tableBits-1)]
		consumed := uint(0)
		if e&flagSub != 0 {
			consumed = uint(e & codeLenMask)
			e = table[e>>16+stream>>consumed&(1<<(e>>8&0x1f)-1)]
		}
		if e&flagBad != 0 || int(e>>16) != sym || consumed+uint(e&codeLenMask) != uint(l) {
			t.Fatalf("symbol %d (length %d) decodes as entry %#x", sym, l, e)
		}
	}
}

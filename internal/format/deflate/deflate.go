// Package deflate compresses whole buffers into raw DEFLATE (RFC 1951), the
// payload of a BGZF block.
//
// seqstore stores a plain FASTQ upload as BGZF and promises a file no
// larger than bgzip's default output. Debian's bgzip is built on
// libdeflate, whose parser out-compresses the pure-Go deflaters on FASTQ:
// klauspost/compress's level 6 comes out 4-5% larger, and the standard
// library's level 9 still larger at fifty times the time. Binding
// libdeflate would take cgo and a C library on every machine that builds
// seqstore, which the single pure-Go binary avoids. So this package has
// its own deflater, made for reads rather than text:
//
//   - Hash chains of six-byte keys, searched to a bounded depth per level.
//     Four bases are a byte of literals, less than any match's codes, and
//     six-byte keys keep chains over a four-letter alphabet short.
//   - The cheapest path: every position's longest match is found once, and
//     a shortest-path pass over the input chooses, for each position, a
//     literal or a match of any length up to the longest there, by what
//     each costs in bits under the Huffman codes the block will have. A
//     quick lazy parse, priced by the input's byte counts, counts the
//     symbols those codes are built from. A plain lazy parse takes every
//     match of three bytes or more, and in quality strings most are chance
//     repeats whose codes cost more than their literals.
//   - Blocks split where the statistics of the symbols change, each with
//     Huffman codes built from its exact counts, written as the cheapest of
//     the dynamic, fixed and stored forms.
//
// On real and simulated Illumina and nanopore reads this comes out 0.4-5%
// smaller than bgzip's default (libdeflate's level 7, as htslib maps it),
// at about 0.4 of its speed on one core. It keeps the whole input in view,
// so it is meant for blocks of tens of kilobytes, not streams;
// decompression lives in package inflate.
package deflate

import (
	"encoding/binary"
	"math/bits"
	"slices"
)

// Levels trade time for size, as zlib's do: the higher, the more
// candidates each position's search looks at.
const (
	MinLevel     = 1
	DefaultLevel = 6
	MaxLevel     = 9
)

const (
	windowSize = 1 << 15 // the farthest a match may reach back
	minMatch   = 3       // the shortest match the format has
	maxMatch   = 258
	// minMatchFound is the shortest match the search finds. Shorter
	// ones hardly ever pay in FASTQ: four bases cost a byte as literals,
	// less than a match's codes, and quality strings rarely repeat by
	// more than chance. Chains of six-byte keys are also far shorter
	// than of four-byte ones over an alphabet of four bases.
	minMatchFound = 6

	hashBits = 15
)

// params are a level's search effort.
type params struct {
	depth int // candidates looked at for each position
	nice  int // a match this long ends the search at once
}

var levels = [MaxLevel + 1]params{
	1: {depth: 2, nice: 65},
	2: {depth: 3, nice: 65},
	3: {depth: 4, nice: 65},
	4: {depth: 5, nice: 65},
	5: {depth: 6, nice: 65},
	6: {depth: 8, nice: 65},
	7: {depth: 16, nice: 130},
	8: {depth: 35, nice: maxMatch},
	9: {depth: 100, nice: maxMatch},
}

// Compressor compresses buffers at one level. Its tables (128 KiB, and
// about 30 bytes for each byte of the largest input so far) are reused
// from call to call, so keep one per goroutine. A Compressor is not safe
// for concurrent use.
type Compressor struct {
	p      params
	chains chains
	// found is the longest match at each position, once searched for.
	// See longest.
	found []uint64

	price prices
	// The cheapest path: see parseCheapest.
	cheapest []uint32
	step     []uint32
	path     []uint32

	syms  []uint32 // the parse of the block being built: see sym
	freqs frequencies
	bw    bitWriter

	// Scratch for building codes.
	lit, dist codes
	pre       codes
	lens      []uint8
	runs      []uint16
	hb        huffBuilder
}

// NewCompressor returns a Compressor at level, which is clamped to
// MinLevel..MaxLevel.
func NewCompressor(level int) *Compressor {
	level = min(max(level, MinLevel), MaxLevel)
	return &Compressor{p: levels[level]}
}

// Compress appends src compressed as raw DEFLATE, ending with a final
// block, to dst and returns it.
func (c *Compressor) Compress(dst, src []byte) []byte {
	c.bw.reset(dst)
	if len(src) == 0 {
		// A fixed block holding only its end.
		c.bw.write(1|1<<1, 3)
		c.bw.write(0, 7)
		return c.bw.finish()
	}
	// A quick parse, priced by estimates, counts the symbols; the
	// cheapest path under the codes those counts make is written.
	c.index(src)
	c.price.start(src)
	c.countSymbols(src)
	c.price.fromCodes(&c.freqs, &c.hb)
	c.parseCheapest(src)
	return c.bw.finish()
}

// index chains every position of src that has a key to the one before
// with the same hash, and marks every position not searched yet.
func (c *Compressor) index(src []byte) {
	n := len(src)
	for i := range c.chains.head {
		c.chains.head[i] = -1
	}
	c.chains.prev = slices.Grow(c.chains.prev[:0], n)[:n]
	c.found = slices.Grow(c.found[:0], n)[:n]
	for i := range c.found {
		c.found[i] = unsearched
	}
	for i := 0; i+8 <= n; i++ {
		h := hashKey(keyAt(src, i))
		c.chains.prev[i] = c.chains.head[h]
		c.chains.head[h] = int32(i)
	}
}

// chains index positions by the hash of their first bytes: each position
// links to the one before with the same hash.
type chains struct {
	head [1 << hashBits]int32 // the latest position of each hash
	prev []int32
}

// A sym is one symbol of the parse: a literal byte (below 1<<31), or a
// match of length (bits 16-24) at distance (bits 0-15, less one).
type sym = uint32

const matchFlag = 1 << 31

func literalSym(b byte) sym { return sym(b) }

func matchSym(length, distance int) sym {
	return matchFlag | sym(length)<<16 | sym(distance-1)
}

// hashKey hashes a position's key.
func hashKey(key uint64) uint32 { return uint32((key * 0x9E3779B97F4A7C15) >> (64 - hashBits)) }

// keyAt is the key of position i, its first minMatchFound bytes; eight
// bytes must follow i.
func keyAt(src []byte, i int) uint64 {
	return binary.LittleEndian.Uint64(src[i:]) & keyMask
}

const keyMask = 1<<(8*minMatchFound) - 1

// longest returns the longest match at position i if it is longer than
// atLeast; length 0 if it is not, or there is none. The last seven
// positions of src have no key and start no match.
//
// Both parses ask for most positions, so found keeps each answer, with the
// atLeast it was searched for: a match is the longest there was for any
// atLeast down to that one, and a smaller atLeast searches again.
func (c *Compressor) longest(src []byte, i, atLeast int) (length, distance int) {
	atLeast = max(atLeast, minMatchFound-1)
	f := c.found[i]
	if f == unsearched || atLeast < int(f>>32) {
		f = c.search(src, i, atLeast)
		c.found[i] = f
	}
	if l := int(f>>16) & 0xffff; l > atLeast {
		return l, int(f & 0xffff)
	}
	return 0, 0
}

// unsearched marks an entry of found not searched yet.
const unsearched = 1<<64 - 1

// search looks for the longest match at position i longer than atLeast
// among the level's depth of candidates on its chain, and returns
// atLeast<<32 | length<<16 | distance; length 0 if none.
func (c *Compressor) search(src []byte, i, atLeast int) uint64 {
	found := uint64(atLeast) << 32
	if i+8 > len(src) {
		return found // no key
	}
	limit := min(len(src)-i, maxMatch)
	best := atLeast
	if best >= limit {
		return found
	}
	v := keyAt(src, i)
	nice := min(c.p.nice, limit)
	lowest := i - windowSize
	cand := c.chains.prev[i]
	for depth := c.p.depth; cand >= 0 && int(cand) >= lowest && depth > 0; depth-- {
		j := int(cand)
		cand = c.chains.prev[j]
		// The byte that would make this match the new best must
		// agree, and the key, before the rest is worth comparing.
		if src[j+best] != src[i+best] || keyAt(src, j) != v {
			continue
		}
		n := matchLength(src[j:], src[i:i+limit])
		if n > best {
			best = n
			found = uint64(atLeast)<<32 | uint64(n)<<16 | uint64(i-j)
			if n >= nice {
				break
			}
		}
	}
	return found
}

// matchLength is how many leading bytes of a and b agree; b is the shorter.
func matchLength(a, b []byte) int {
	n := 0
	for n+8 <= len(b) {
		x := binary.LittleEndian.Uint64(a[n:]) ^ binary.LittleEndian.Uint64(b[n:])
		if x != 0 {
			return n + bits.TrailingZeros64(x)/8
		}
		n += 8
	}
	for n < len(b) && a[n] == b[n] {
		n++
	}
	return n
}

// countSymbols counts the symbols of a quick parse of src into c.freqs,
// for prices of the cheapest path. The parse is lazy: it takes a match
// where the running estimates say it costs less than its literals, unless
// a match at the next position saves more. Its prices follow its own
// counts as it goes.
func (c *Compressor) countSymbols(src []byte) {
	c.freqs.reset()
	f := &c.freqs
	repriceAt := repriceEvery
	for i := 0; i < len(src); {
		if i >= repriceAt {
			c.price.update(f)
			repriceAt = i + repriceEvery
		}
		length, distance := c.longest(src, i, c.price.shortestWorthwhile(src[i:])-1)
		saves := int32(0)
		if length > 0 {
			saves = c.price.savings(src[i:i+length], distance)
		}
		if saves <= 0 {
			f.literal(src[i])
			i++
			continue
		}
		for length < c.p.nice {
			l2, d2 := c.longest(src, i+1, length-1)
			if l2 == 0 {
				break
			}
			s2 := c.price.savings(src[i+1:i+1+l2], d2)
			if s2 <= saves {
				break
			}
			f.literal(src[i])
			i++
			length, distance, saves = l2, d2, s2
		}
		f.match(length, distance)
		i += length
	}
}

func (c *Compressor) addLiteral(b byte, s *splitter) {
	c.syms = append(c.syms, literalSym(b))
	c.freqs.literal(b)
	s.literal(b)
}

func (c *Compressor) addMatch(length, distance int, s *splitter) {
	c.syms = append(c.syms, matchSym(length, distance))
	c.freqs.match(length, distance)
	s.match(length)
}

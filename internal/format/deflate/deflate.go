// Package deflate compresses whole buffers into raw DEFLATE (RFC 1951), the
// payload of a BGZF block.
//
// seqstore stores a plain FASTQ upload as BGZF and promises a file about
// as small as bgzip's default output. Debian's bgzip is built on
// libdeflate, whose lazy parser out-compresses the pure-Go deflaters on
// FASTQ: klauspost/compress's level 6 comes out 4-5% larger, and the
// standard library's level 9 still larger at fifty times the time. Binding
// libdeflate would take cgo and a C library on every machine that builds
// seqstore, which the single pure-Go binary avoids. So this package has
// its own deflater, made for reads rather than text:
//
//   - Hash chains of six-byte keys, searched to a bounded depth per level.
//     Four bases are a byte of literals, less than any match costs, and
//     six-byte keys make chains over a four-letter alphabet short.
//   - A parse priced in bits: a match is taken only where its codes cost
//     less than the literals it replaces, and lazily, when the next
//     position does not save more. A first parse, priced by the input's
//     byte counts, counts the symbols; a second, priced by the Huffman
//     codes those counts make, is written. A plain lazy parse takes every
//     match of three bytes or more, and in quality strings most are chance
//     repeats whose codes cost more than their literals.
//   - Blocks split where the statistics of the symbols change, each with
//     Huffman codes built from its exact counts, written as the cheapest of
//     the dynamic, fixed and stored forms.
//
// It keeps the whole input in view, so it is meant for blocks of tens of
// kilobytes, not streams; decompression lives in package inflate.
package deflate

import (
	"encoding/binary"
	"math/bits"
)

// Levels. Level trades time for size the way zlib's and libdeflate's
// levels do; DefaultLevel is theirs.
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

	hashBits  = 15
	chainSize = 1 << 16 // positions remembered; more than the window
	chainMask = chainSize - 1
)

// params are a level's search effort.
type params struct {
	depth int // candidates looked at for each position
	nice  int // a match this long ends the search at once
}

var levels = [MaxLevel + 1]params{
	1: {depth: 4, nice: 16},
	2: {depth: 6, nice: 16},
	3: {depth: 12, nice: 24},
	4: {depth: 16, nice: 32},
	5: {depth: 24, nice: 48},
	6: {depth: 35, nice: 65},
	7: {depth: 100, nice: 130},
	8: {depth: 300, nice: maxMatch},
	9: {depth: 600, nice: maxMatch},
}

// Compressor compresses buffers at one level. Its tables are large (about
// 400 KiB) and reused from call to call, so keep one per goroutine. A
// Compressor is not safe for concurrent use.
type Compressor struct {
	p    params
	head [1 << hashBits]int32 // the latest position of each key's hash
	prev [chainSize]int32     // the position before, by position

	price prices
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
	// A first parse, priced by estimates, counts the symbols; the second
	// is priced by the codes those counts make, and is written.
	c.resetMatcher()
	c.price.start(src)
	c.parse(src, true)
	c.price.fromCodes(&c.freqs, &c.hb)
	c.resetMatcher()
	c.parse(src, false)
	return c.bw.finish()
}

func (c *Compressor) resetMatcher() {
	for i := range c.head {
		c.head[i] = -1
	}
}

// A sym is one symbol of the parse: a literal byte (below 1<<31), or a
// match of length (bits 16-24) at distance (bits 0-15, less one).
type sym = uint32

const matchFlag = 1 << 31

func literalSym(b byte) sym { return sym(b) }

func matchSym(length, distance int) sym {
	return matchFlag | sym(length)<<16 | sym(distance-1)
}

// hashKey hashes a position's first minMatchFound bytes, its key.
func hashKey(key uint64) uint32 { return uint32((key * 0x9E3779B97F4A7C15) >> (64 - hashBits)) }

// keyAt is the key of position i, which has eight bytes after it.
func keyAt(src []byte, i int) uint64 {
	return binary.LittleEndian.Uint64(src[i:]) & (1<<(8*minMatchFound) - 1)
}

// insert adds position i to the hash chains.
func (c *Compressor) insert(src []byte, i int) {
	if i+8 > len(src) {
		return
	}
	h := hashKey(keyAt(src, i))
	c.prev[i&chainMask] = c.head[h]
	c.head[h] = int32(i)
}

// longest inserts position i and returns the longest match there that is
// longer than atLeast, looking at up to depth candidates of its chain;
// length 0 if none is. The last seven positions of src have no key, and
// neither start a match nor join a chain.
func (c *Compressor) longest(src []byte, i, atLeast, depth int) (length, distance int) {
	if i+8 > len(src) {
		return 0, 0
	}
	limit := min(len(src)-i, maxMatch)
	v := keyAt(src, i)
	h := hashKey(v)
	cand := c.head[h]
	c.prev[i&chainMask] = cand
	c.head[h] = int32(i)

	best := max(atLeast, minMatchFound-1)
	if best >= limit {
		return 0, 0
	}
	nice := min(c.p.nice, limit)
	lowest := i - windowSize
	for ; cand >= 0 && int(cand) >= lowest && depth > 0; depth-- {
		j := int(cand)
		cand = c.prev[j&chainMask]
		// The byte that would make this match the new best must
		// agree before the rest is worth comparing.
		if src[j+best] != src[i+best] || keyAt(src, j) != v {
			continue
		}
		n := matchLength(src[j:], src[i:i+limit])
		if n > best {
			best, length, distance = n, n, i-j
			if n >= nice {
				break
			}
		}
	}
	return length, distance
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

// parse chooses literals and matches for src, and writes a block whenever
// the splitter says the statistics changed.
//
// A match is taken only where it costs fewer bits than the literals it
// replaces, as prices estimates them. That is where this
// beats a plain lazy parse, which takes every match of three or more
// bytes: in FASTQ most short matches are chance repeats in quality
// strings, and their length and distance codes cost more than the
// literals, whose code they also make longer. The parse is lazy: before
// taking a match it looks at the next position, and takes a literal
// instead when a match there saves more.
func (c *Compressor) parse(src []byte, dry bool) {
	// The first parse's prices follow its own counts; the second's are
	// fixed.
	repriceAt := repriceEvery
	if !dry {
		repriceAt = len(src)
	}
	c.syms = c.syms[:0]
	c.freqs.reset()
	var split splitter
	blockStart := 0
	n := len(src)
	i := 0
	for i < n {
		if i >= repriceAt {
			c.price.update(&c.freqs)
			repriceAt = i + repriceEvery
		}
		length, distance := c.longest(src, i, c.price.shortestWorthwhile(src[i:])-1, c.p.depth)
		saves := int32(0)
		if length > 0 {
			saves = c.price.savings(src[i:i+length], distance)
		}
		if saves <= 0 {
			c.addLiteral(src[i], &split)
			i++
		} else {
			lookedAhead := false
			for length < c.p.nice {
				l2, d2 := c.longest(src, i+1, length-1, c.p.depth)
				lookedAhead = true
				if l2 == 0 {
					break
				}
				s2 := c.price.savings(src[i+1:i+1+l2], d2)
				if s2 <= saves {
					break
				}
				c.addLiteral(src[i], &split)
				i++
				length, distance, saves = l2, d2, s2
				lookedAhead = false
			}
			c.addMatch(length, distance, &split)
			// Positions inside the match join the chains too. The
			// first is in already, and so is the next if it was looked
			// at lazily: inserting a position twice would loop its
			// chain.
			next := i + 1
			if lookedAhead {
				next++
			}
			end := i + length
			for ; next < end; next++ {
				c.insert(src, next)
			}
			i = end
		}
		if !dry && split.due() && i < n && split.shouldEnd(i-blockStart) {
			c.writeBlock(src[blockStart:i], false)
			blockStart = i
			c.syms = c.syms[:0]
			c.freqs.reset()
			split.reset()
		}
	}
	if !dry {
		c.writeBlock(src[blockStart:], true)
	}
}

func (c *Compressor) addLiteral(b byte, s *splitter) {
	c.syms = append(c.syms, literalSym(b))
	c.freqs.lit[b]++
	s.literal(b)
}

func (c *Compressor) addMatch(length, distance int, s *splitter) {
	c.syms = append(c.syms, matchSym(length, distance))
	c.freqs.lit[257+int(lengthCode[length])]++
	c.freqs.dist[distCode(distance-1)]++
	s.match(length)
}

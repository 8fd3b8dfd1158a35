package deflate

import "math/bits"

const (
	numLitLen = 286 // literal/length symbols that may appear
	// numFixedLitLen counts the two symbols more that the fixed code
	// gives codes to, and which move the codes after them.
	numFixedLitLen = 288
	numDist        = 30
	numPrecode     = 19
	endOfBlock     = 256
	maxCodeLen     = 15
	maxPreLen      = 7
	storedLimit    = 65535 // the most a stored block holds
)

// lengthCode maps a match length (3-258) to its length symbol less 257.
var lengthCode [maxMatch + 1]uint8

// lengthBase and lengthExtra are each length symbol's first length and
// count of extra bits (RFC 1951, 3.2.5).
var (
	lengthBase  = [29]uint16{3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258}
	lengthExtra = [29]uint8{0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0}
	distBase    = [30]uint16{1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577}
	distExtra   = [30]uint8{0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13}
	// precodeOrder is the order the code-length code's lengths are sent in.
	precodeOrder = [numPrecode]uint8{16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15}
)

func init() {
	for code := range lengthBase {
		last := maxMatch
		if code+1 < len(lengthBase) {
			last = int(lengthBase[code+1]) - 1
		}
		for l := int(lengthBase[code]); l <= last; l++ {
			lengthCode[l] = uint8(code)
		}
	}
	// 258 has a symbol of its own, not the top of 227-257's range.
	lengthCode[maxMatch] = 28
}

// distCode is the distance symbol of a distance less one (0-32767).
func distCode(d int) int {
	if d < 4 {
		return d
	}
	// Two symbols per power of two: the top bit's position and the
	// bit under it.
	n := bits.Len32(uint32(d)) - 1
	return 2*n + int(d>>(n-1)&1)
}

// frequencies counts a block's symbols.
type frequencies struct {
	lit  [numLitLen]uint32
	dist [numDist]uint32
}

func (f *frequencies) reset() { *f = frequencies{} }

func (f *frequencies) literal(b byte) { f.lit[b]++ }

func (f *frequencies) match(length, distance int) {
	f.lit[257+int(lengthCode[length])]++
	f.dist[distCode(distance-1)]++
}

// codes is a canonical Huffman code: each symbol's length and its code,
// bit-reversed for LSB-first output.
type codes struct {
	len  [numFixedLitLen]uint8
	code [numFixedLitLen]uint16
}

// writeBlock writes the symbols parsed for data as the cheapest of a
// dynamic, a fixed and a stored block.
func (c *Compressor) writeBlock(data []byte, final bool) {
	c.freqs.lit[endOfBlock] = 1
	c.hb.build(c.freqs.lit[:], maxCodeLen, c.lit.len[:numLitLen])
	c.hb.build(c.freqs.dist[:], maxCodeLen, c.dist.len[:numDist])
	nlit := lastUsed(c.lit.len[:numLitLen], 257)
	ndist := lastUsed(c.dist.len[:numDist], 1)

	// The code lengths, run-length coded, and the precode that codes them.
	c.lens = append(append(c.lens[:0], c.lit.len[:nlit]...), c.dist.len[:ndist]...)
	c.runs = runLengths(c.runs[:0], c.lens)
	var preFreq [numPrecode]uint32
	for _, r := range c.runs {
		preFreq[r&0x1f]++
	}
	c.hb.build(preFreq[:], maxPreLen, c.pre.len[:numPrecode])
	npre := numPrecode
	for npre > 4 && c.pre.len[precodeOrder[npre-1]] == 0 {
		npre--
	}

	dynamic := 3 + 5 + 5 + 4 + 3*npre
	for _, r := range c.runs {
		dynamic += int(c.pre.len[r&0x1f]) + runExtraBits(r)
	}
	dynamic += c.dataBits(&c.lit.len, &c.dist.len)
	fixed := 3 + c.dataBits(&fixedLit.len, &fixedDist.len)
	stored := storedBits(len(data), c.bw.pending())

	switch {
	case stored <= dynamic && stored <= fixed:
		c.writeStored(data, final)
	case fixed <= dynamic:
		c.bw.write(uint64(b2u(final))|1<<1, 3)
		c.writeSymbols(&fixedLit, &fixedDist)
	default:
		canonical(&c.lit, nlit)
		canonical(&c.dist, ndist)
		canonical(&c.pre, numPrecode)
		c.bw.write(uint64(b2u(final))|2<<1, 3)
		c.bw.write(uint64(nlit-257), 5)
		c.bw.write(uint64(ndist-1), 5)
		c.bw.write(uint64(npre-4), 4)
		for _, s := range precodeOrder[:npre] {
			c.bw.write(uint64(c.pre.len[s]), 3)
		}
		for _, r := range c.runs {
			s := r & 0x1f
			c.bw.write(uint64(c.pre.code[s]), uint(c.pre.len[s]))
			if n := runExtraBits(r); n > 0 {
				c.bw.write(uint64(r>>5), uint(n))
			}
		}
		c.writeSymbols(&c.lit, &c.dist)
	}
}

func b2u(b bool) uint {
	if b {
		return 1
	}
	return 0
}

// lastUsed is how many leading lengths a header must list: up to the last
// used symbol, and at least least.
func lastUsed(lens []uint8, least int) int {
	n := len(lens)
	for n > least && lens[n-1] == 0 {
		n--
	}
	return n
}

// dataBits is the size in bits of the block's symbols under the codes.
func (c *Compressor) dataBits(lit, dist *[numFixedLitLen]uint8) int {
	n := 0
	for s, f := range c.freqs.lit {
		if f == 0 {
			continue
		}
		b := int(lit[s])
		if s > endOfBlock {
			b += int(lengthExtra[s-257])
		}
		n += int(f) * b
	}
	for s, f := range c.freqs.dist {
		n += int(f) * (int(dist[s]) + int(distExtra[s]))
	}
	return n
}

// storedBits is the size of data as stored blocks, given how many bits
// the last byte written so far holds (to pad to a byte).
func storedBits(n int, pending uint) int {
	blocks := max(1, (n+storedLimit-1)/storedLimit)
	first := 3 + int((8-(pending+3)%8)%8) // header, then padding to a byte
	return first + (blocks-1)*8 + blocks*32 + 8*n
}

func (c *Compressor) writeStored(data []byte, final bool) {
	for {
		n := min(len(data), storedLimit)
		last := final && n == len(data)
		c.bw.write(uint64(b2u(last)), 3)
		c.bw.alignByte()
		c.bw.write(uint64(n)|uint64(^uint16(n))<<16, 32)
		c.bw.writeBytes(data[:n])
		data = data[n:]
		if len(data) == 0 {
			return
		}
	}
}

// writeSymbols writes the block's symbols and its end.
func (c *Compressor) writeSymbols(lit *codes, dist *codes) {
	w := &c.bw
	for _, s := range c.syms {
		if s&matchFlag == 0 {
			w.write(uint64(lit.code[s]), uint(lit.len[s]))
			continue
		}
		length := int(s>>16) & 0x1ff
		d := int(s & 0xffff)
		lc := int(lengthCode[length])
		dc := distCode(d)
		// Symbol, extra bits, distance symbol and its extra bits: at
		// most 15+5+15+13 bits, one write.
		v := uint64(lit.code[257+lc])
		n := uint(lit.len[257+lc])
		v |= uint64(length-int(lengthBase[lc])) << n
		n += uint(lengthExtra[lc])
		v |= uint64(dist.code[dc]) << n
		n += uint(dist.len[dc])
		v |= uint64(d+1-int(distBase[dc])) << n
		n += uint(distExtra[dc])
		w.write(v, n)
	}
	w.write(uint64(lit.code[endOfBlock]), uint(lit.len[endOfBlock]))
}

// runLengths codes lens with the code-length alphabet: each entry is a
// symbol (low 5 bits) and the value of its extra bits (above).
func runLengths(out []uint16, lens []uint8) []uint16 {
	for i := 0; i < len(lens); {
		l := lens[i]
		run := 1
		for i+run < len(lens) && lens[i+run] == l {
			run++
		}
		i += run
		if l == 0 {
			for run >= 11 {
				n := min(run, 138)
				out = append(out, 18|uint16(n-11)<<5)
				run -= n
			}
			if run >= 3 {
				out = append(out, 17|uint16(run-3)<<5)
				run = 0
			}
		} else {
			out = append(out, uint16(l))
			run--
			for run >= 3 {
				n := min(run, 6)
				out = append(out, 16|uint16(n-3)<<5)
				run -= n
			}
		}
		for ; run > 0; run-- {
			out = append(out, uint16(l))
		}
	}
	return out
}

func runExtraBits(r uint16) int {
	switch r & 0x1f {
	case 16:
		return 2
	case 17:
		return 3
	case 18:
		return 7
	}
	return 0
}

// canonical assigns the canonical codes of the first n symbols' lengths,
// bit-reversed as DEFLATE sends them.
func canonical(c *codes, n int) {
	var count [maxCodeLen + 1]uint16
	for _, l := range c.len[:n] {
		count[l]++
	}
	count[0] = 0
	var next [maxCodeLen + 2]uint16
	code := uint16(0)
	for l := 1; l <= maxCodeLen; l++ {
		code = (code + count[l-1]) << 1
		next[l] = code
	}
	for s, l := range c.len[:n] {
		if l == 0 {
			continue
		}
		c.code[s] = bits.Reverse16(next[l]) >> (16 - l)
		next[l]++
	}
}

// fixedLit and fixedDist are the fixed block's codes (RFC 1951, 3.2.6).
var fixedLit, fixedDist codes

func init() {
	for s := range numFixedLitLen {
		switch {
		case s < 144:
			fixedLit.len[s] = 8
		case s < 256:
			fixedLit.len[s] = 9
		case s < 280:
			fixedLit.len[s] = 7
		default:
			fixedLit.len[s] = 8
		}
	}
	canonical(&fixedLit, numFixedLitLen)
	for s := range numDist {
		fixedDist.len[s] = 5
	}
	canonical(&fixedDist, numDist)
}

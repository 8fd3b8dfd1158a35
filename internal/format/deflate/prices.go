package deflate

import (
	"math"
	"slices"
)

// prices estimates what symbols will cost in the block being parsed, in
// sixteenths of a bit, so that the parse takes a match only where it costs
// less than its literals. A symbol costs about -log2 of its share of the
// symbols, as its Huffman code will. The estimates start from the input's
// byte counts and a guess for matches, and are redone from the parse's own
// counts every repriceEvery bytes: reads whose qualities are binned to
// four values repeat often and make matches cheap; reads with full
// qualities hardly repeat, and matches stay dear.
type prices struct {
	lit  [256]int32
	len  [29]int32 // by length code
	dist [30]int32 // by distance code
	// leastMatch is the cheapest length code and distance code together.
	leastMatch int32
}

// repriceEvery is how many bytes the parse goes between estimates.
const repriceEvery = 4096

// startMatchCost is the first guess at a length code and a distance code
// together, tuned on simulated Illumina reads: matches are few among the
// literals of FASTQ, so their codes are long.
const startMatchCost = 168

// start prices literals by their share of src, and matches by the guess.
func (p *prices) start(src []byte) {
	var hist [256]uint32
	for _, b := range src {
		hist[b]++
	}
	total := float64(len(src))
	for b, f := range hist {
		p.lit[b] = cost(total, float64(f))
	}
	for lc := range p.len {
		p.len[lc] = startMatchCost/2 + 16*int32(lengthExtra[lc])
	}
	for dc := range p.dist {
		p.dist[dc] = startMatchCost/2 + 16*int32(distExtra[dc])
	}
	p.findLeast()
}

func (p *prices) findLeast() { p.leastMatch = slices.Min(p.len[:]) + slices.Min(p.dist[:]) }

// update prices every symbol from the counts of the parse so far. A
// symbol not seen yet is priced as if seen half a time.
func (p *prices) update(f *frequencies) {
	var symbols, matches float64
	for _, n := range f.lit[:endOfBlock] {
		symbols += float64(n)
	}
	for _, n := range f.lit[endOfBlock+1:] {
		matches += float64(n)
	}
	symbols += matches
	for b, n := range f.lit[:endOfBlock] {
		p.lit[b] = cost(symbols, float64(n)+0.5)
	}
	for lc := range p.len {
		p.len[lc] = cost(symbols, float64(f.lit[257+lc])+0.5) + 16*int32(lengthExtra[lc])
	}
	for dc := range p.dist {
		p.dist[dc] = cost(matches+1, float64(f.dist[dc])+0.5) + 16*int32(distExtra[dc])
	}
	p.findLeast()
}

// cost is -log2(n/total) in sixteenths of a bit, for n of total, and a
// little over 0 for a symbol that is all there is.
func cost(total, n float64) int32 {
	if n <= 0 {
		return 16 * maxCodeLen
	}
	return max(int32(16*math.Log2(total/n)+0.5), 8)
}

// savings is what a match covering lits at distance saves over them as
// literals.
func (p *prices) savings(lits []byte, distance int) int32 {
	m := p.len[lengthCode[len(lits)]] + p.dist[distCode(distance-1)]
	for _, b := range lits {
		m -= p.lit[b]
	}
	return -m
}

// shortestWorthwhile is the length below which no match over the start of
// src can cost less than its literals, whatever its distance: searching for
// shorter ones is wasted, and the longer the least length, the sooner a
// candidate is turned down. It assumes the cheapest codes.
func (p *prices) shortestWorthwhile(src []byte) int {
	least := p.leastMatch
	sum := int32(0)
	for l, b := range src[:min(len(src), maxMatch)] {
		sum += p.lit[b]
		if sum > least && l+1 >= minMatch {
			return l + 1
		}
	}
	return maxMatch + 1
}

// fromCodes prices every symbol at the length of its code in a Huffman
// code built for the counts f; unused symbols as if used half as often as
// the rarest.
func (p *prices) fromCodes(f *frequencies, hb *huffBuilder) {
	var lens [numLitLen]uint8
	var freq [numLitLen]uint32
	for i, n := range f.lit {
		freq[i] = 2*n + 1
	}
	freq[endOfBlock] = 2
	hb.build(freq[:], maxCodeLen, lens[:])
	for b := range p.lit {
		p.lit[b] = 16 * int32(lens[b])
	}
	for lc := range p.len {
		p.len[lc] = 16*int32(lens[257+lc]) + 16*int32(lengthExtra[lc])
	}
	var dfreq [numDist]uint32
	for i, n := range f.dist {
		dfreq[i] = 2*n + 1
	}
	hb.build(dfreq[:], maxCodeLen, lens[:numDist])
	for dc := range p.dist {
		p.dist[dc] = 16*int32(lens[dc]) + 16*int32(distExtra[dc])
	}
	p.findLeast()
}

package deflate

import "slices"

// parseCheapest chooses literals and matches for src by the cheapest path
// under the prices, the way libdeflate's near-optimal levels do in spirit:
// cheapest[i] is the fewest bits that code src[:i], reached either by a
// literal from i-1 or by a match from an earlier position, of any length
// up to the longest found there, at that match's distance. It then writes
// the path, ending a block wherever the splitter says.
func (c *Compressor) parseCheapest(src []byte) {
	n := len(src)
	c.cheapest = slices.Grow(c.cheapest[:0], n+1)[:n+1]
	c.step = slices.Grow(c.step[:0], n+1)[:n+1]
	for i := range c.cheapest {
		c.cheapest[i] = maxCost
	}
	c.cheapest[0] = 0
	p := &c.price
	for i := 0; i < n; i++ {
		here := c.cheapest[i]
		if lit := here + uint32(p.lit[src[i]]); lit < c.cheapest[i+1] {
			c.cheapest[i+1], c.step[i+1] = lit, 1
		}
		length, distance := c.longest(src, i, p.shortestWorthwhile(src[i:])-1)
		if length == 0 {
			continue
		}
		dist := here + uint32(p.dist[distCode(distance-1)])
		shortest := minMatchFound
		if length >= c.p.nice {
			// A long match is taken whole: trying each of its lengths,
			// at each of its positions, would take time quadratic in it.
			shortest = length
		}
		for l := shortest; l <= length; l++ {
			if cost := dist + uint32(p.len[lengthCode[l]]); cost < c.cheapest[i+l] {
				c.cheapest[i+l], c.step[i+l] = cost, uint32(l)<<16|uint32(distance)
			}
		}
	}

	// The path, back to front, then written front to back.
	c.path = c.path[:0]
	for i := n; i > 0; {
		s := c.step[i]
		c.path = append(c.path, s)
		if s == 1 {
			i--
		} else {
			i -= int(s >> 16)
		}
	}
	c.syms = c.syms[:0]
	c.freqs.reset()
	var split splitter
	blockStart, i := 0, 0
	for k := len(c.path) - 1; k >= 0; k-- {
		if s := c.path[k]; s == 1 {
			c.addLiteral(src[i], &split)
			i++
		} else {
			c.addMatch(int(s>>16), int(s&0xffff), &split)
			i += int(s >> 16)
		}
		if split.due() && i < n && split.shouldEnd(i-blockStart) {
			c.writeBlock(src[blockStart:i], false)
			blockStart = i
			c.syms = c.syms[:0]
			c.freqs.reset()
			split.reset()
		}
	}
	c.writeBlock(src[blockStart:], true)
}

// maxCost is the cost of a position not reached yet.
const maxCost = 1<<32 - 1

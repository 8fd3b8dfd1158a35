package cram

import (
	"fmt"
	"sync"
)

// Reference bases reach the decoder in windows: a slice needs the stretch
// of its sequence it spans, which for coordinate-sorted reads is a few
// hundred kilobases at most coverages, while holding whole sequences would
// cost a quarter of a gigabyte per human chromosome. Each fetch reads
// ahead, so that the slices that follow (decoded in parallel, in order)
// find their bases cached, and the cache keeps windows up to a byte
// budget, the most recently used first. A slice that spans a long
// stretch (few reads over a long sequence, or an archive profile's
// large slices at low coverage) still needs all of it, as in htslib.
const (
	// refReadAhead is the least a fetch reads: neighbouring slices then
	// cost one range read of the reference between them.
	refReadAhead = 1 << 20
	// refCacheBudget bounds the bytes of cached windows; windows the
	// slices being decoded hold stay alive beyond it until they are done.
	refCacheBudget = 16 << 20
)

// refWindow is the bases [start, start+len(seq)) of a sequence, 0-based.
type refWindow struct {
	id        int32
	start     int64
	seq       []byte
	length    int64 // the whole sequence's
	canonical bool  // only letters samtools prints unchanged
}

// end is the 0-based position after the window's last base.
func (w *refWindow) end() int64 { return w.start + int64(len(w.seq)) }

// covers reports whether the window holds every base of [start, end) that
// the sequence has, and reaches start (so that a range wholly past the
// sequence's end is fetched, and found empty, rather than cut from a
// window before it).
func (w *refWindow) covers(id int32, start, end int64) bool {
	return w.id == id && w.start <= start && start <= w.end() && min(end, w.length) <= w.end()
}

// refCache keeps reference windows for the slices of one reader.
type refCache struct {
	fetching sync.Mutex // one fetch at a time, so parallel slices share it
	mu       sync.Mutex
	windows  []*refWindow // most recently used first
	bytes    int
}

// lookup returns a cached window covering the range, or nil.
func (c *refCache) lookup(id int32, start, end int64) *refWindow {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i, w := range c.windows {
		if w.covers(id, start, end) {
			copy(c.windows[1:i+1], c.windows[:i])
			c.windows[0] = w
			return w
		}
	}
	return nil
}

// add caches w, dropping the least recently used windows past the budget.
func (c *refCache) add(w *refWindow) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.windows = append([]*refWindow{w}, c.windows...)
	c.bytes += len(w.seq)
	for len(c.windows) > 1 && c.bytes > refCacheBudget {
		last := c.windows[len(c.windows)-1]
		c.windows = c.windows[:len(c.windows)-1]
		c.bytes -= len(last.seq)
	}
}

// reference returns a window of the header's reference id holding the
// bases [start, end) (0-based) the sequence has. The window's length
// tells where the sequence ends.
func (e *env) reference(id int32, start, end int64) (*refWindow, error) {
	start = max(start, 0)
	if w := e.refCache.lookup(id, start, end); w != nil {
		return w, nil
	}
	name := e.refs[id].Name
	if e.src == nil {
		return nil, fmt.Errorf("reference %q is needed to decode this slice but no reference was given", name)
	}
	e.refCache.fetching.Lock()
	defer e.refCache.fetching.Unlock()
	// Another slice may have fetched it meanwhile.
	if w := e.refCache.lookup(id, start, end); w != nil {
		return w, nil
	}
	seq, length, err := e.src.Bases(name, start, max(end, start+refReadAhead))
	if err != nil {
		return nil, fmt.Errorf("reference %q: %w", name, err)
	}
	w := &refWindow{id: id, start: start, seq: seq, length: length, canonical: canonical(seq)}
	e.refCache.add(w)
	return w, nil
}

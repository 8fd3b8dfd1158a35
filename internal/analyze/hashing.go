package analyze

import (
	"errors"
	"sync/atomic"

	"github.com/seqstore/seqstore/internal/etag"
	"github.com/seqstore/seqstore/internal/format/panics"
)

// textChunk is how much SAM text is rendered before it goes to the hashing
// goroutine: large enough that handing chunks over costs nothing, small
// enough that the few in flight stay in cache-friendly memory.
const textChunk = 256 << 10

// textBuffers is how many chunks circulate between rendering and hashing.
const textBuffers = 4

// textHashing hashes rendered SAM text on a goroutine of its own, so that
// rendering and hashing overlap: the BAM and CRAM analyses fill a buffer,
// hand it over, and go on with an empty one.
type textHashing struct {
	h     *etag.Hasher
	full  chan []byte
	empty chan []byte
	done  chan struct{}
	// failed is set when hashing panicked; err, the panic, may be read
	// once done is closed.
	failed  atomic.Bool
	err     error
	stopped bool
}

// startHashing starts hashing into h with buffers buffers of size bytes
// (plus room for one record past it), and returns the first to fill.
func startHashing(h *etag.Hasher, buffers, size int) (*textHashing, []byte) {
	t := &textHashing{h: h, full: make(chan []byte, buffers), empty: make(chan []byte, buffers), done: make(chan struct{})}
	for range buffers - 1 {
		t.empty <- make([]byte, 0, size+64<<10)
	}
	go t.run()
	return t, make([]byte, 0, size+64<<10)
}

// run hashes until the text ends. After a panic it still hands the buffers
// back, so that the renderer never waits for one, and hashes no more.
func (t *textHashing) run() {
	defer close(t.done)
	if t.err = t.hash(); t.err != nil {
		t.failed.Store(true)
		for text := range t.full {
			t.empty <- text[:0]
		}
	}
}

func (t *textHashing) hash() (err error) {
	defer panics.Recover(&err)
	for text := range t.full {
		t.h.Write(text)
		t.empty <- text[:0]
	}
	return nil
}

// errHashingFailed ends a hand-over once hashing has failed; stop returns
// the failure itself.
var errHashingFailed = errors.New("hashing failed")

// hand gives text to be hashed and returns an empty buffer, or
// errHashingFailed (with a buffer, for stop to be called) when hashing has
// failed and the analysis should stop.
func (t *textHashing) hand(text []byte) ([]byte, error) {
	t.full <- text
	text = <-t.empty
	if t.failed.Load() {
		return text, errHashingFailed
	}
	return text, nil
}

// stop waits for everything handed over to be hashed and returns the
// panic that ended hashing, if one did. Calls after the first only return
// that again, so that it can also be deferred.
func (t *textHashing) stop() error {
	if !t.stopped {
		t.stopped = true
		close(t.full)
		<-t.done
	}
	return t.err
}

// fail stops hashing and returns err, or the panic that ended hashing: a
// fault of seqstore comes before whatever it caused.
func (t *textHashing) fail(err error) error {
	if herr := t.stop(); herr != nil {
		return herr
	}
	return err
}

// finish hands over the last text, stops, and returns the digest of each
// family as a Result of one source holds them.
func (t *textHashing) finish(text []byte, families []etag.Family) (map[etag.Family][]string, error) {
	t.full <- text
	if err := t.stop(); err != nil {
		return nil, err
	}
	sums := t.h.Sums()
	etags := make(map[etag.Family][]string, len(families))
	for _, f := range families {
		etags[f] = []string{sums[f]}
	}
	return etags, nil
}

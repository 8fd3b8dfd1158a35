package cram

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"unsafe"

	"github.com/seqstore/seqstore/internal/format/cram/codec"
	"github.com/seqstore/seqstore/internal/format/cram/crai"
	"github.com/seqstore/seqstore/internal/format/limit"
)

// DefaultMaxMemory bounds what one Reader holds decoded, in blocks and
// records, across the containers it decodes at once. An archive-profile
// container of short reads takes some tens of megabytes decoded, so three
// in flight (the one Read is in and two decoding ahead) fit with room
// to spare.
const DefaultMaxMemory = 256 << 20

// DefaultMaxRatio bounds what a Reader holds decoded by the bytes of the
// file it has read: real CRAMs decode to a few times their size (ten
// times for an archive-profile one), where a hostile one can declare a
// thousand times its size in blocks that decode from a few bytes. So a
// megabyte of input never holds more than 40 MB.
const DefaultMaxRatio = 40

// memoryFloor is what a Reader may hold decoded whatever it has read, so
// that a small file of reads that match the reference and carry no
// qualities, which decodes to a hundred times its size, still decodes.
const memoryFloor = 16 << 20

// errGiveWay stops the decoding of a container ahead of the one Read needs
// when the memory it needs is taken: it releases what it holds, waits to
// be the one Read needs, and starts again.
var errGiveWay = errors.New("giving way to the container being read")

// memory accounts the memory a Reader's decoded data takes: every block
// buffer and batch is charged before it is allocated (the few small
// appends that grow a batch record by record are charged once they are
// done) and released when Read moves past its container. Only the
// container Read needs next, the head, is sure to get what it asks up to
// the limit, whoever else holds memory; a container decoding ahead that
// finds the limit reached gives way. So what is held stays near the limit
// and decoding never waits on a container that waits in turn.
type memory struct {
	mu    sync.Mutex
	cond  sync.Cond
	max   int64
	ratio int64
	read  atomic.Int64 // bytes of the file read so far
	used  int64
	head  int64 // sequence number of the container Read needs next
	// current is the charge of the batch Read is in.
	current *charge
	// decoding holds the charges of the containers being decoded.
	decoding map[*charge]struct{}
	// squeeze is set while the head waits for memory.
	squeeze bool
	// idle is the charge of the buffers kept for reuse.
	idle charge
	// last is what the last container decoded held at its end, what
	// the next is expected to take.
	last int64
	// peak is the most ever held; gaveWay counts the containers that
	// gave way and waited the times the head waited; for tests.
	peak    int64
	gaveWay int64
	waited  int64
	most    int64 // the most one container held
	closed  bool
}

func newMemory(max, ratio int64) *memory {
	m := &memory{max: max, ratio: ratio, decoding: map[*charge]struct{}{}, idle: charge{seq: -1}}
	m.cond.L = &m.mu
	return m
}

// limit is what may be held now.
func (m *memory) limit() int64 {
	return min(m.max, max(memoryFloor, m.ratio*m.read.Load()))
}

// charge is what one container holds.
type charge struct {
	seq  int64
	held int64
}

// take charges n more bytes to c. what says what needs them, for the
// error when the container alone would pass the limit.
//
// A container decoding ahead gets errGiveWay, rather than waiting, when
// the bytes are not free or the head is waiting for them. The head waits
// while containers decoding ahead or the batch Read is in hold what it
// needs, since both let go without waiting on it; it takes the bytes
// anyway when only containers decoded ahead hold them, as those let go
// only after it.
func (m *memory) take(c *charge, n int64, what string) error {
	if n <= 0 {
		return nil
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for {
		lim := m.limit()
		switch {
		case m.closed:
			return errClosed
		case c.seq != m.head:
			if m.squeeze || m.used+n > lim {
				m.gaveWay++
				return errGiveWay
			}
		case c.held+n > lim:
			m.squeeze = false
			return m.limitError(c.held+n, what)
		case m.used+n > lim && m.othersDecoding(c):
			m.squeeze = true
			m.waited++
			m.cond.Wait()
			continue
		case m.used+n > lim && m.current != nil && m.current.held > 0:
			m.waited++
			m.cond.Wait()
			continue
		default:
			m.squeeze = false
		}
		m.used += n
		c.held += n
		m.peak = max(m.peak, m.used)
		m.most = max(m.most, c.held)
		return nil
	}
}

// othersDecoding reports whether containers other than c are decoding
// with memory charged.
func (m *memory) othersDecoding(c *charge) bool {
	for d := range m.decoding {
		if d != c && d.held > 0 {
			return true
		}
	}
	return false
}

// begin and end bracket the decoding of c's container.
func (m *memory) begin(c *charge) {
	m.mu.Lock()
	m.decoding[c] = struct{}{}
	m.mu.Unlock()
}

func (m *memory) end(c *charge) {
	m.mu.Lock()
	delete(m.decoding, c)
	m.mu.Unlock()
	m.cond.Broadcast()
}

// admit waits, before c's container is decoded ahead of the head, until
// what the last container took fits beside what is held: giving way
// would waste the work done. It returns false once closed.
func (m *memory) admit(c *charge) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	for !m.closed && c.seq != m.head && m.used+m.last > m.limit() {
		m.waited++
		m.cond.Wait()
	}
	return !m.closed
}

// finish is called when c's container is decoded: one decoded ahead gives
// way if the head is waiting for memory, since what it holds would stay
// held until Read moves past it.
func (m *memory) finish(c *charge) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.last = c.held
	if c.seq != m.head && m.squeeze {
		m.gaveWay++
		return errGiveWay
	}
	return nil
}

func (m *memory) limitError(need int64, what string) error {
	if lim := m.limit(); lim < m.max {
		read := m.read.Load()
		return &limit.Error{Name: "max-cram-ratio", What: fmt.Sprintf("%s, making %d bytes decoded for the container, %.0f times the %d bytes of the file read so far (and over 16 MiB),", what, need, float64(need)/float64(max(read, 1)), read), Limit: m.ratio}
	}
	return &limit.Error{Name: "max-cram-memory", What: fmt.Sprintf("%s, making %d bytes decoded for the container,", what, need), Limit: m.max, Bytes: true}
}

// keep charges n bytes of buffers kept for reuse if they fit.
func (m *memory) keep(n int64) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed || m.used+n > m.limit() {
		return false
	}
	m.used += n
	m.idle.held += n
	m.peak = max(m.peak, m.used)
	return true
}

// unkeep gives back the charge of n bytes of buffers taken for reuse.
func (m *memory) unkeep(n int64) { m.untake(&m.idle, n) }

// release returns what c holds.
func (m *memory) release(c *charge) { m.untake(c, -1) }

// untake returns n of what c holds, all of it if n is negative.
func (m *memory) untake(c *charge, n int64) {
	m.mu.Lock()
	if n < 0 || n > c.held {
		n = c.held
	}
	m.used -= n
	c.held -= n
	m.mu.Unlock()
	if n > 0 {
		m.cond.Broadcast()
	}
}

// advance makes the container after c's the head, once Read has c's.
func (m *memory) advance(c *charge) {
	m.mu.Lock()
	m.head = max(m.head, c.seq+1)
	m.current = c
	m.mu.Unlock()
	m.cond.Broadcast()
}

// waitHead waits until c is the head; it returns false once closed.
func (m *memory) waitHead(c *charge) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	for !m.closed && m.head < c.seq {
		m.cond.Wait()
	}
	return !m.closed
}

func (m *memory) close() {
	m.mu.Lock()
	m.closed = true
	m.mu.Unlock()
	m.cond.Broadcast()
}

// recordSize and entrySize are the bytes a batch's record and index
// entry take.
const (
	recordSize = int64(unsafe.Sizeof(record{}))
	entrySize  = int64(unsafe.Sizeof(crai.Entry{}))
)

// size is the memory a batch's buffers take.
func (b *batch) size() int64 {
	return int64(cap(b.recs))*recordSize + int64(cap(b.names)+cap(b.seqs)+cap(b.quals)+cap(b.aux)) +
		4*int64(cap(b.cigars)) + int64(cap(b.index))*entrySize
}

// rawsSize is the memory block buffers take.
func rawsSize(raws [][]byte) int64 {
	var n int64
	for _, r := range raws {
		n += int64(cap(r))
	}
	return n
}

// The buffers a Reader keeps for reuse are charged while they wait, and
// dropped when they do not fit.

func (e *env) getBatch() *batch {
	b := e.batches.get()
	if b == nil {
		return new(batch)
	}
	e.mem.unkeep(b.size())
	return b
}

func (e *env) putBatch(b *batch) {
	if n := b.size(); e.mem.keep(n) && !e.batches.put(b) {
		e.mem.unkeep(n)
	}
}

func (e *env) getRaws() [][]byte {
	r := e.raws.get()
	e.mem.unkeep(rawsSize(r))
	return r
}

func (e *env) putRaws(r [][]byte) {
	if n := rawsSize(r); e.mem.keep(n) && !e.raws.put(r) {
		e.mem.unkeep(n)
	}
}

// footprint is the memory the decoder's buffers take: the batch, the block
// buffers and the headers.
func (d *sliceDecoder) footprint() int64 {
	return d.b.size() + int64(cap(d.md)) + d.rawsSize + d.headers + d.scratch
}

// account charges the container for its buffers as they are, and for
// extra bytes about to be allocated; what names what needs them. Memory
// the buffers no longer hold is given back.
func (d *sliceDecoder) account(extra int64, what string) error {
	want := d.footprint() + extra
	if held := d.charge.held; want > held {
		return d.env.mem.take(d.charge, want-held, what)
	} else if held-want > 1<<20 {
		d.env.mem.untake(d.charge, held-want)
	}
	return nil
}

// uncompress decompresses blk into dst's memory when it is big enough,
// charging the container first for the output it allocates and the
// scratch of its codec; what names the block for the error.
func (d *sliceDecoder) uncompress(blk *block, dst []byte, what string) error {
	if blk.method == codec.Raw || blk.rawSize == 0 {
		return blk.uncompressInto(dst, nil)
	}
	extra := int64(codec.Scratch(blk.method, blk.rawSize))
	if blk.rawSize > cap(dst) {
		extra += int64(blk.rawSize)
	}
	if err := d.account(extra, what); err != nil {
		return err
	}
	err := blk.uncompressInto(dst, func(n int) error {
		d.scratch += int64(n)
		return d.account(extra, what)
	})
	d.scratch = 0
	return err
}

// uncompressHeader decompresses a compression or slice header block,
// charging its decoded size to the container.
func (d *sliceDecoder) uncompressHeader(blk *block, what string) error {
	if err := d.uncompress(blk, nil, what); err != nil {
		return err
	}
	if blk.method != codec.Raw {
		d.headers += int64(blk.rawSize)
	}
	return nil
}

// growArray makes room in dst for n more bytes, charging the container
// first: a byte array's length comes from the file. It grows dst as append
// would (by a quarter, past small sizes), whose growth it charges with
// room for rounding.
func (d *sliceDecoder) growArray(dst []byte, n int, what string) ([]byte, error) {
	if n <= cap(dst)-len(dst) {
		return dst, nil
	}
	size := max(len(dst)+n, 2*cap(dst)) + 8<<10
	if cap(dst) >= 256 {
		size = max(len(dst)+n, cap(dst)+(cap(dst)+768)/4) + 8<<10
	}
	if err := d.account(int64(size), what); err != nil {
		return dst, err
	}
	return slices.Grow(dst, n), nil
}

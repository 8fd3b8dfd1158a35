package bgzf

import (
	"bufio"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"io"
	"sync"

	"github.com/seqstore/seqstore/internal/cpus"
	"github.com/seqstore/seqstore/internal/format/inflate"
	"github.com/seqstore/seqstore/internal/format/panics"
)

// readBlock is one block on its way through the reader's pipeline.
type readBlock struct {
	offset int64  // file offset of the block's first byte
	raw    []byte // the whole compressed block
	data   []byte // its inflated data, at most MaxDataSize bytes
	err    error
	// done receives once the block is inflated (or failed); it is buffered
	// so a block can be reused without a new channel.
	done chan struct{}
}

// Reader decompresses a BGZF stream. A goroutine reads raw blocks in file
// order, workers inflate and check them in parallel, and Read delivers
// their data in order. Close it to stop the goroutines.
//
// Reader is not safe for concurrent use.
type Reader struct {
	src *bufio.Reader

	ordered chan *readBlock // every block, in file order
	work    chan *readBlock // blocks waiting for a worker
	free    chan *readBlock // blocks the consumer has finished with
	quit    chan struct{}
	once    sync.Once
	// running counts the goroutines, so that Close can wait for them.
	running sync.WaitGroup

	cur *readBlock
	pos int
	// inflated counts the bytes of the blocks delivered so far.
	inflated int64
	err      error // sticky: io.EOF or the first defect
	last     bool  // the most recent block was the EOF marker
	eof      bool  // the stream ended cleanly after the EOF marker
}

// NewReader starts decompressing r with one worker per CPU.
func NewReader(r io.Reader) *Reader { return NewReaderWorkers(r, 0) }

// NewReaderWorkers starts decompressing r with the given number of inflating
// workers; zero or less means one per CPU.
func NewReaderWorkers(r io.Reader, workers int) *Reader {
	if workers <= 0 {
		workers = cpus.Compute()
	}
	// Enough blocks in flight that every worker has one queued behind the
	// one it inflates while the consumer holds another; memory stays at
	// about depth × 128 KiB whatever the file size.
	depth := 4 * workers
	if depth < 4 {
		depth = 4
	}
	br := &Reader{
		src:     bufio.NewReaderSize(r, 128<<10),
		ordered: make(chan *readBlock, depth),
		work:    make(chan *readBlock, depth),
		free:    make(chan *readBlock, depth),
		quit:    make(chan struct{}),
	}
	for range depth {
		br.free <- &readBlock{done: make(chan struct{}, 1)}
	}
	br.running.Add(1 + workers)
	go br.readBlocks()
	for range workers {
		go br.inflateBlocks()
	}
	return br
}

// readBlocks reads raw blocks in file order and hands each both to the
// workers and to the consumer's ordered queue. It stops at the end of the
// stream, at the first unreadable block, or when the Reader is closed.
func (r *Reader) readBlocks() {
	defer r.running.Done()
	defer close(r.ordered)
	defer close(r.work)
	b, offset, err := r.readEachBlock()
	if err == nil {
		return
	}
	// A panic (of the source, say): the consumer gets it in order, after
	// every block before it, in the block being filled or a free one.
	if b == nil {
		select {
		case b = <-r.free:
		case <-r.quit:
			return
		}
	}
	b.offset, b.err = offset, err
	b.done <- struct{}{}
	select {
	case r.ordered <- b:
	case <-r.quit:
	}
}

// readEachBlock is readBlocks' loop. It returns an error only for a panic,
// with the block it was filling (nil if none) and that block's offset.
func (r *Reader) readEachBlock() (b *readBlock, offset int64, err error) {
	defer panics.Recover(&err)
	for {
		// A select with a free block ready may pick it over quit: look at
		// quit first, so that a closed Reader reads no further block.
		select {
		case <-r.quit:
			return
		default:
		}
		select {
		case b = <-r.free:
		case <-r.quit:
			return nil, offset, nil
		}
		b.offset, b.err, b.data = offset, nil, b.data[:0]
		n, err := readRawBlock(r.src, offset, b)
		if err == io.EOF {
			return nil, offset, nil
		}
		queue := r.work
		if err != nil {
			// The consumer gets the error in order, after every block
			// before it; no worker needs to see the block.
			b.err = err
			b.done <- struct{}{}
			queue = nil
		}
		select {
		case r.ordered <- b:
		case <-r.quit:
			return nil, offset, nil
		}
		if queue == nil {
			return nil, offset, nil
		}
		select {
		case queue <- b:
		case <-r.quit:
			return nil, offset, nil
		}
		b = nil
		offset += int64(n)
	}
}

// inflateBlocks inflates queued blocks until the queue closes. A panic
// inflating a block becomes that block's error, and the worker goes on
// with a fresh decompressor, so that every block queued still comes done.
func (r *Reader) inflateBlocks() {
	defer r.running.Done()
	for {
		b, err := r.inflateQueued()
		if err == nil {
			return
		}
		b.err = err
		b.done <- struct{}{}
	}
}

// inflateQueued inflates blocks until the queue closes (nil, nil) or one
// panics (that block and the panic).
func (r *Reader) inflateQueued() (b *readBlock, err error) {
	defer panics.Recover(&err)
	d := new(inflate.Decompressor)
	for b = range r.work {
		b.err = inflateBlock(d, b)
		b.done <- struct{}{}
	}
	return nil, nil
}

// readRawBlock reads one whole block into b.raw and returns its size. A
// clean end of stream before the block's first byte is io.EOF.
func readRawBlock(src *bufio.Reader, offset int64, b *readBlock) (int, error) {
	if cap(b.raw) < MaxBlockSize {
		b.raw = make([]byte, MaxBlockSize)
	}
	raw := b.raw[:MaxBlockSize]
	// The fixed part of a gzip header, up to and including XLEN.
	n, err := io.ReadFull(src, raw[:12])
	if err == io.EOF {
		return 0, io.EOF
	}
	if err != nil && err != io.ErrUnexpectedEOF {
		return 0, err // the source failed: not a defect of the file
	}
	if err != nil {
		return 0, blockErrorf(offset, "truncated: the file ends %d bytes into the block header", n)
	}
	if raw[0] != 0x1f || raw[1] != 0x8b {
		return 0, blockErrorf(offset, "not a BGZF block: starts with bytes %x instead of the gzip magic 1f8b", raw[:4])
	}
	if raw[2] != 8 {
		return 0, blockErrorf(offset, "compression method %d is not deflate (8)", raw[2])
	}
	if raw[3]&4 == 0 {
		return 0, blockErrorf(offset, "gzip member without an extra field, so without BGZF's block size: this is plain gzip, not BGZF")
	}
	if raw[3]&^4 != 0 {
		return 0, blockErrorf(offset, "gzip flags %#x: BGZF blocks carry no file name, comment or header CRC", raw[3])
	}
	xlen := int(binary.LittleEndian.Uint16(raw[10:]))
	if 12+xlen+footerSize > MaxBlockSize {
		return 0, blockErrorf(offset, "extra field of %d bytes does not fit in a block", xlen)
	}
	if n, err := io.ReadFull(src, raw[12:12+xlen]); err != nil {
		if err != io.ErrUnexpectedEOF && err != io.EOF {
			return 0, err
		}
		return 0, blockErrorf(offset, "truncated: the file ends %d bytes into the block header", 12+n)
	}
	bsize := -1
	for extra := raw[12 : 12+xlen]; len(extra) >= 4; {
		slen := int(binary.LittleEndian.Uint16(extra[2:]))
		if 4+slen > len(extra) {
			break
		}
		if extra[0] == 'B' && extra[1] == 'C' && slen == 2 {
			bsize = int(binary.LittleEndian.Uint16(extra[4:])) + 1
			break
		}
		extra = extra[4+slen:]
	}
	if bsize < 0 {
		return 0, blockErrorf(offset, "gzip member without a BC subfield: plain gzip, not BGZF")
	}
	if bsize < 12+xlen+footerSize {
		return 0, blockErrorf(offset, "BSIZE says the block is %d bytes, less than its %d bytes of header and footer", bsize, 12+xlen+footerSize)
	}
	if n, err := io.ReadFull(src, raw[12+xlen:bsize]); err != nil {
		if err != io.ErrUnexpectedEOF && err != io.EOF {
			return 0, err
		}
		return 0, blockErrorf(offset, "truncated: the file ends after %d of the block's %d bytes", 12+xlen+n, bsize)
	}
	b.raw = raw[:bsize]
	return bsize, nil
}

// inflateBlock inflates b.raw into b.data and checks the result against the
// block's ISIZE and CRC32. ISIZE gives the exact room, so the whole block
// goes through the whole-buffer decoder (inflate.BenchmarkDecompress
// compares it with the streaming ones).
func inflateBlock(d *inflate.Decompressor, b *readBlock) error {
	raw := b.raw
	xlen := int(binary.LittleEndian.Uint16(raw[10:]))
	footer := raw[len(raw)-footerSize:]
	wantCRC := binary.LittleEndian.Uint32(footer)
	isize := binary.LittleEndian.Uint32(footer[4:])
	if isize > MaxDataSize {
		return blockErrorf(b.offset, "ISIZE %d exceeds BGZF's %d-byte block limit", isize, MaxDataSize)
	}
	if cap(b.data) < MaxDataSize {
		b.data = make([]byte, MaxDataSize)
	}
	data := b.data[:isize]
	n, _, err := d.Decompress(data, raw[12+xlen:len(raw)-footerSize])
	switch {
	case errors.Is(err, inflate.ErrShortBuffer):
		return blockErrorf(b.offset, "inflates to more than the %d bytes ISIZE says", isize)
	case errors.Is(err, inflate.ErrUnexpectedEnd):
		return blockErrorf(b.offset, "deflate data ends before its final block")
	case err != nil:
		return blockErrorf(b.offset, "corrupt deflate data: %v", err)
	case n != len(data):
		return blockErrorf(b.offset, "inflates to %d bytes but ISIZE says %d", n, isize)
	}
	if got := crc32.ChecksumIEEE(data); got != wantCRC {
		return blockErrorf(b.offset, "CRC32 of the inflated data is %08x but the block says %08x", got, wantCRC)
	}
	b.data = data
	return nil
}

// Read reads uncompressed data. It returns io.EOF at the clean end of the
// stream, a *BlockError for a defective block, a *panics.Error for a panic
// on one of the reader's goroutines (reading the underlying reader or
// inflating), and an error reading the underlying reader as it is.
func (r *Reader) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	for r.cur == nil || r.pos == len(r.cur.data) {
		if err := r.nextBlock(); err != nil {
			return 0, err
		}
	}
	n := copy(p, r.cur.data[r.pos:])
	r.pos += n
	return n, nil
}

// ReadByte reads one uncompressed byte.
func (r *Reader) ReadByte() (byte, error) {
	for r.cur == nil || r.pos == len(r.cur.data) {
		if err := r.nextBlock(); err != nil {
			return 0, err
		}
	}
	c := r.cur.data[r.pos]
	r.pos++
	return c, nil
}

func (r *Reader) nextBlock() error {
	if r.err != nil {
		return r.err
	}
	b, ok := <-r.ordered
	if !ok {
		// The current block stays, so VirtualOffset still names the end.
		r.err = io.EOF
		r.eof = r.last
		return r.err
	}
	if r.cur != nil {
		r.free <- r.cur
		r.cur = nil
	}
	<-b.done
	if b.err != nil {
		r.err = b.err
		return r.err
	}
	r.last = len(b.data) == 0 && isEOFMarker(b.raw)
	r.cur, r.pos = b, 0
	r.inflated += int64(len(b.data))
	return nil
}

// VirtualOffset is the virtual offset of the next byte Read will return. At
// the end of a block it names the start of the next block, and in an empty
// block (such as the EOF marker, at the end) that block's start, as htslib's
// bgzf_tell does, so a BAM indexer calling it before and after each record
// gets the offsets samtools writes.
func (r *Reader) VirtualOffset() VirtualOffset {
	if r.cur == nil {
		return 0
	}
	if r.pos == len(r.cur.data) && r.pos > 0 {
		return MakeVirtualOffset(r.cur.offset+int64(len(r.cur.raw)), 0)
	}
	return MakeVirtualOffset(r.cur.offset, r.pos)
}

// Inflated returns how many uncompressed bytes the blocks Read has reached
// so far hold: at most one block more than Read has returned.
func (r *Reader) Inflated() int64 { return r.inflated }

// SawEOFMarker reports whether the stream, read to its end, ended with the
// 28-byte EOF marker block. It is false until Read has returned io.EOF.
func (r *Reader) SawEOFMarker() bool { return r.eof }

// Close stops the reader's goroutines and waits for them to end, so that
// nothing reads the underlying reader once it returns: a caller may then
// release what that reader writes to (a tee into a file being discarded).
// If the underlying reader is blocked in a Read, Close waits for that Read
// to return. It does not close the underlying reader.
func (r *Reader) Close() error {
	r.once.Do(func() {
		close(r.quit)
		r.running.Wait()
		r.cur = nil
		r.err = errors.New("bgzf: read after Close")
	})
	return nil
}

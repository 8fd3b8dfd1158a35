package bgzf

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"sync"

	"github.com/klauspost/compress/flate"

	"github.com/seqstore/seqstore/internal/cpus"
	"github.com/seqstore/seqstore/internal/format/deflate"
	"github.com/seqstore/seqstore/internal/format/panics"
)

// DefaultLevel is bgzip's default compression level (zlib's default).
const DefaultLevel = 6

// HuffmanOnly is a level below 0 that entropy-codes bytes without looking
// for repeats: the fastest level that still compresses, for data with few
// long repeats.
const HuffmanOnly = flate.HuffmanOnly

// BlockInfo describes one block the Writer wrote.
type BlockInfo struct {
	Offset     int64 // file offset of the block's first byte
	Size       int   // compressed size of the whole block
	DataOffset int64 // offset of the block's first byte in the uncompressed stream
	DataSize   int   // uncompressed size
}

// WriterOptions tunes a Writer. The zero value means bgzip's defaults: level
// 6 and one worker per CPU.
type WriterOptions struct {
	// Level is the deflate level, 0 (store) to 9, or HuffmanOnly; -1
	// means DefaultLevel.
	// Zero is taken literally only when LevelSet is true, so that the zero
	// WriterOptions means the default.
	Level    int
	LevelSet bool
	// Workers compressing blocks in parallel; zero or less means one per CPU.
	Workers int
	// BlockWritten, if set, is called in file order as each block reaches
	// the underlying writer, so a caller can map uncompressed positions to
	// virtual offsets. It runs on the Writer's output goroutine.
	BlockWritten func(BlockInfo)
}

type writeBlock struct {
	data []byte // uncompressed, at most BlockDataSize bytes
	out  []byte // the finished block
	err  error
	done chan struct{}
}

// Writer compresses a stream into BGZF blocks, deflating them on parallel
// workers and writing them in order. Close writes the EOF marker.
//
// Writer is not safe for concurrent use.
type Writer struct {
	dst          io.Writer
	blockWritten func(BlockInfo)

	cur     *writeBlock
	free    chan *writeBlock
	work    chan *writeBlock
	ordered chan *writeBlock
	written chan struct{} // closed when the output goroutine ends

	mu          sync.Mutex
	cond        *sync.Cond
	dispatched  int64 // blocks handed to the pipeline
	flushed     int64 // blocks written out (or dropped after an error)
	err         error // the first compression or write error
	offset      int64 // compressed bytes written
	dataOffset  int64 // uncompressed bytes written (output goroutine only)
	closed      bool
	workerGroup sync.WaitGroup
}

// NewWriter compresses to w at bgzip's default level on every CPU.
func NewWriter(w io.Writer) *Writer {
	bw, _ := NewWriterOptions(w, WriterOptions{})
	return bw
}

// NewWriterLevel compresses to w at the given level (0-9, HuffmanOnly, or
// -1 for the default) on every CPU.
func NewWriterLevel(w io.Writer, level int) (*Writer, error) {
	return NewWriterOptions(w, WriterOptions{Level: level, LevelSet: true})
}

// NewWriterOptions compresses to w as opts say.
func NewWriterOptions(w io.Writer, opts WriterOptions) (*Writer, error) {
	level := opts.Level
	if !opts.LevelSet || level == -1 {
		level = DefaultLevel
	}
	if (level < 0 || level > 9) && level != HuffmanOnly {
		return nil, fmt.Errorf("bgzf: compression level %d is neither between 0 and 9 nor HuffmanOnly", level)
	}
	workers := opts.Workers
	if workers <= 0 {
		workers = cpus.Compute()
	}
	depth := 4 * workers
	if depth < 4 {
		depth = 4
	}
	bw := &Writer{
		dst:          w,
		blockWritten: opts.BlockWritten,
		free:         make(chan *writeBlock, depth),
		work:         make(chan *writeBlock, depth),
		ordered:      make(chan *writeBlock, depth),
		written:      make(chan struct{}),
	}
	bw.cond = sync.NewCond(&bw.mu)
	for range depth {
		bw.free <- &writeBlock{done: make(chan struct{}, 1)}
	}
	bw.workerGroup.Add(workers)
	for range workers {
		go bw.compressBlocks(level)
	}
	go bw.writeBlocks()
	return bw, nil
}

// Write buffers p into blocks of BlockDataSize bytes, handing each full
// block to the workers. It returns the first error any earlier block met,
// a *panics.Error if compressing or writing one panicked.
func (w *Writer) Write(p []byte) (int, error) {
	if w.closed {
		return 0, errors.New("bgzf: write after Close")
	}
	if err := w.firstErr(); err != nil {
		return 0, err
	}
	n := 0
	for len(p) > 0 {
		if w.cur == nil {
			w.cur = <-w.free
			w.cur.data = w.cur.data[:0]
		}
		room := BlockDataSize - len(w.cur.data)
		if room > len(p) {
			room = len(p)
		}
		w.cur.data = append(w.cur.data, p[:room]...)
		p = p[room:]
		n += room
		if len(w.cur.data) == BlockDataSize {
			w.dispatch()
		}
	}
	return n, nil
}

// dispatch hands the block being filled to the pipeline.
func (w *Writer) dispatch() {
	b := w.cur
	w.cur = nil
	w.mu.Lock()
	w.dispatched++
	w.mu.Unlock()
	w.ordered <- b
	w.work <- b
}

// Flush ends the current block, even if short, so that the next byte
// written starts a block, and waits until every block so far has reached
// the underlying writer.
func (w *Writer) Flush() error {
	if w.closed {
		return errors.New("bgzf: flush after Close")
	}
	if w.cur != nil && len(w.cur.data) > 0 {
		w.dispatch()
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	for w.flushed < w.dispatched {
		w.cond.Wait()
	}
	return w.err
}

// Offset is the number of compressed bytes written to the underlying writer
// so far; after Flush it is the file offset at which the next block starts.
func (w *Writer) Offset() int64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.offset
}

// Close writes the last partial block and the EOF marker and stops the
// workers. It does not close the underlying writer.
func (w *Writer) Close() error {
	if w.closed {
		return w.firstErr()
	}
	if w.cur != nil && len(w.cur.data) > 0 {
		w.dispatch()
	}
	w.closed = true
	close(w.work)
	close(w.ordered)
	<-w.written
	w.workerGroup.Wait()
	if err := w.firstErr(); err != nil {
		return err
	}
	if _, err := w.dst.Write(EOFMarker); err != nil {
		return err
	}
	w.offset += int64(len(EOFMarker))
	return nil
}

// errAborted is the sticky error of an aborted Writer.
var errAborted = errors.New("bgzf: writer aborted")

// Abort stops the writer for a copy that is being discarded: blocks not
// yet written are dropped, the EOF marker is not written, and the
// goroutines are waited for, so nothing writes to the underlying writer
// once Abort returns. A Writer already closed is left as it is.
func (w *Writer) Abort() {
	if w.closed {
		return
	}
	w.mu.Lock()
	if w.err == nil {
		w.err = errAborted
	}
	w.mu.Unlock()
	w.closed = true
	close(w.work)
	close(w.ordered)
	<-w.written
	w.workerGroup.Wait()
}

func (w *Writer) firstErr() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.err
}

// compressBlocks compresses queued blocks until the queue closes. A panic
// compressing a block becomes that block's error, and the worker goes on
// with fresh compressors, so that every block queued still comes done.
func (w *Writer) compressBlocks(level int) {
	defer w.workerGroup.Done()
	for {
		b, err := w.compressQueued(level)
		if err == nil {
			return
		}
		b.err = err
		b.done <- struct{}{}
	}
}

// compressQueued compresses blocks until the queue closes (nil, nil) or
// one panics (that block and the panic).
func (w *Writer) compressQueued(level int) (b *writeBlock, err error) {
	defer panics.Recover(&err)
	d := newDeflater(level)
	var stored deflater
	for b = range w.work {
		b.out, b.err = compressBlock(d, b.out[:0], b.data)
		if b.err == nil && len(b.out) > MaxBlockSize {
			// Incompressible data deflated past the block limit: storing
			// it costs only five bytes of framing.
			if stored == nil {
				stored = newDeflater(0)
			}
			b.out, b.err = compressBlock(stored, b.out[:0], b.data)
		}
		b.done <- struct{}{}
	}
	return nil, nil
}

// A deflater appends data deflated (raw) to out.
type deflater interface {
	deflate(out, data []byte) ([]byte, error)
}

// newDeflater returns the deflater of a level. From MinStoreLevel up it is
// the project's own (package deflate), whose output is as small as
// bgzip's: what seqstore stores. Below, and for HuffmanOnly, it is
// klauspost/compress's, which is several times faster at those levels.
func newDeflater(level int) deflater {
	if level >= MinStoreLevel {
		return ownDeflater{deflate.NewCompressor(level)}
	}
	fw, _ := flate.NewWriter(nil, level)
	return &flateDeflater{fw: fw}
}

// MinStoreLevel is the lowest level deflated by package deflate.
const MinStoreLevel = 5

type ownDeflater struct{ c *deflate.Compressor }

func (d ownDeflater) deflate(out, data []byte) ([]byte, error) {
	return d.c.Compress(out, data), nil
}

type flateDeflater struct {
	fw *flate.Writer
	a  appender
}

func (d *flateDeflater) deflate(out, data []byte) ([]byte, error) {
	d.a.buf = out
	d.fw.Reset(&d.a)
	if _, err := d.fw.Write(data); err != nil {
		return d.a.buf, err
	}
	err := d.fw.Close()
	return d.a.buf, err
}

// appender lets a flate.Writer append to a reused slice.
type appender struct{ buf []byte }

func (a *appender) Write(p []byte) (int, error) {
	a.buf = append(a.buf, p...)
	return len(p), nil
}

// compressBlock appends one whole BGZF block holding data to out.
func compressBlock(d deflater, out, data []byte) ([]byte, error) {
	out = append(out,
		0x1f, 0x8b, 8, 4, 0, 0, 0, 0, 0, 0xff, 6, 0, 'B', 'C', 2, 0,
		0, 0) // BSIZE, filled in below
	out, err := d.deflate(out, data)
	if err != nil {
		return out, err
	}
	out = binary.LittleEndian.AppendUint32(out, crc32.ChecksumIEEE(data))
	out = binary.LittleEndian.AppendUint32(out, uint32(len(data)))
	if len(out) <= MaxBlockSize {
		binary.LittleEndian.PutUint16(out[16:], uint16(len(out)-1))
	}
	return out, nil
}

// writeBlocks writes finished blocks in order. A panic writing one (of the
// underlying writer or of BlockWritten) becomes the Writer's error, and the
// blocks after it are dropped as after any write error, so that Write,
// Flush and Close still return.
func (w *Writer) writeBlocks() {
	defer close(w.written)
	for {
		b, err := w.writeOrdered()
		if err == nil {
			return
		}
		w.mu.Lock()
		if w.err == nil {
			w.err = err
		}
		w.flushed++
		w.cond.Broadcast()
		w.mu.Unlock()
		w.free <- b
	}
}

// writeOrdered writes blocks until the queue closes (nil, nil) or a write
// panics (that block, already done, and the panic).
func (w *Writer) writeOrdered() (b *writeBlock, err error) {
	defer panics.Recover(&err)
	for b = range w.ordered {
		<-b.done
		w.mu.Lock()
		failed := w.err != nil
		if !failed && b.err != nil {
			w.err = b.err
			failed = true
		}
		offset := w.offset
		w.mu.Unlock()
		if !failed {
			_, err := w.dst.Write(b.out)
			w.mu.Lock()
			if err != nil {
				w.err = err
			} else {
				w.offset += int64(len(b.out))
			}
			w.mu.Unlock()
			if err == nil && w.blockWritten != nil {
				w.blockWritten(BlockInfo{Offset: offset, Size: len(b.out), DataOffset: w.dataOffset, DataSize: len(b.data)})
			}
		}
		w.dataOffset += int64(len(b.data))
		w.mu.Lock()
		w.flushed++
		w.cond.Broadcast()
		w.mu.Unlock()
		w.free <- b
	}
	return nil, nil
}

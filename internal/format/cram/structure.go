package cram

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math"

	"github.com/seqstore/seqstore/internal/format/cram/codec"
	"github.com/seqstore/seqstore/internal/format/cram/codec/itf8"
	"github.com/seqstore/seqstore/internal/format/limit"
)

// Block content types (CRAM 3.1 §8).
const (
	contentFileHeader  = 0
	contentCompression = 1
	contentSliceHeader = 2
	contentExternal    = 4
	contentCore        = 5
)

// Counts that keep a corrupt header from turning into a huge allocation or
// loop; htslib writes far fewer. Sizes are bounded by Options.
const (
	maxBlocks  = 1 << 16
	maxRecords = 1 << 24
)

var errTruncated = errors.New("truncated")

// cursor reads the ITF-8, LTF-8 and fixed-width fields of container,
// block and header structures, remembering the first error.
type cursor struct {
	b   []byte
	pos int
	err error
}

func (c *cursor) fail(what string) {
	if c.err == nil {
		c.err = fmt.Errorf("%s: %w at byte %d", what, errTruncated, c.pos)
	}
}

func (c *cursor) itf8(what string) int32 {
	if c.err != nil {
		return 0
	}
	v, n, err := itf8.ReadITF8(c.b[c.pos:])
	if err != nil {
		c.fail(what)
		return 0
	}
	c.pos += n
	return v
}

func (c *cursor) ltf8(what string) int64 {
	if c.err != nil {
		return 0
	}
	v, n, err := itf8.ReadLTF8(c.b[c.pos:])
	if err != nil {
		c.fail(what)
		return 0
	}
	c.pos += n
	return v
}

func (c *cursor) bytes(n int, what string) []byte {
	if c.err != nil {
		return nil
	}
	if n < 0 || n > len(c.b)-c.pos {
		c.fail(what)
		return nil
	}
	b := c.b[c.pos : c.pos+n]
	c.pos += n
	return b
}

func (c *cursor) byte1(what string) byte {
	b := c.bytes(1, what)
	if b == nil {
		return 0
	}
	return b[0]
}

// count reads an ITF-8 count and checks it against limit.
func (c *cursor) count(limit int, what string) int {
	v := c.itf8(what)
	if c.err == nil && (v < 0 || int(v) > limit) {
		c.err = fmt.Errorf("%s %d out of range at byte %d", what, v, c.pos)
		return 0
	}
	return int(v)
}

// containerHeader is the fixed part before a container's blocks.
type containerHeader struct {
	length      int32 // bytes of blocks after the header
	refID       int32
	start       int32
	span        int32
	records     int32
	counter     int64
	bases       int64
	blocks      int32
	landmarks   []int32
	headerBytes int // size of the header itself
}

// readContainerHeader reads a container header from r. It returns io.EOF
// at a clean end of input.
func readContainerHeader(r io.Reader, major int, checkCRC bool, maxSize int, buf []byte) (containerHeader, []byte, error) {
	var h containerHeader
	buf = buf[:0]
	var one [1]byte
	// Read the length, then ITF-8 fields byte by byte as they announce
	// their size; the header is small, so the reads are few.
	var head [4]byte
	n, err := io.ReadFull(r, head[:])
	if err != nil {
		if err == io.EOF && n == 0 {
			return h, buf, io.EOF
		}
		return h, buf, fmt.Errorf("container header: %w", errTruncated)
	}
	buf = append(buf, head[:]...)
	h.length = int32(binary.LittleEndian.Uint32(head[:]))
	readVar := func(ltf bool) (int64, error) {
		if _, err := io.ReadFull(r, one[:]); err != nil {
			return 0, fmt.Errorf("container header: %w", errTruncated)
		}
		start := len(buf)
		buf = append(buf, one[0])
		extra := 0
		for extra < 8 && one[0]&(0x80>>uint(extra)) != 0 {
			extra++
		}
		if !ltf && extra > 4 {
			extra = 4
		}
		for i := 0; i < extra; i++ {
			if _, err := io.ReadFull(r, one[:]); err != nil {
				return 0, fmt.Errorf("container header: %w", errTruncated)
			}
			buf = append(buf, one[0])
		}
		if ltf {
			v, _, err := itf8.ReadLTF8(buf[start:])
			return v, err
		}
		v, _, err := itf8.ReadITF8(buf[start:])
		return int64(v), err
	}
	fields := []*int32{&h.refID, &h.start, &h.span, &h.records}
	for _, f := range fields {
		v, err := readVar(false)
		if err != nil {
			return h, buf, err
		}
		*f = int32(v)
	}
	if major >= 3 {
		if h.counter, err = readVar(true); err != nil {
			return h, buf, err
		}
		if h.bases, err = readVar(true); err != nil {
			return h, buf, err
		}
	} else {
		v, err := readVar(false)
		if err != nil {
			return h, buf, err
		}
		h.counter = v
		if h.bases, err = readVar(true); err != nil {
			return h, buf, err
		}
	}
	v, err := readVar(false)
	if err != nil {
		return h, buf, err
	}
	h.blocks = int32(v)
	nl, err := readVar(false)
	if err != nil {
		return h, buf, err
	}
	if nl < 0 || nl > maxBlocks {
		return h, buf, fmt.Errorf("container header: %d landmarks", nl)
	}
	for i := int64(0); i < nl; i++ {
		v, err := readVar(false)
		if err != nil {
			return h, buf, err
		}
		h.landmarks = append(h.landmarks, int32(v))
	}
	if major >= 3 {
		var crc [4]byte
		if _, err := io.ReadFull(r, crc[:]); err != nil {
			return h, buf, fmt.Errorf("container header CRC32: %w", errTruncated)
		}
		want := binary.LittleEndian.Uint32(crc[:])
		if got := crc32.ChecksumIEEE(buf); checkCRC && got != want {
			return h, buf, fmt.Errorf("container header CRC32 is %08x, header says %08x", got, want)
		}
		buf = append(buf, crc[:]...)
	}
	h.headerBytes = len(buf)
	if h.length < 0 {
		return h, buf, fmt.Errorf("container length %d is negative", h.length)
	}
	if int(h.length) > maxSize {
		le := &limit.Error{Name: "max-cram-container", What: fmt.Sprintf("the container length %d", h.length), Limit: int64(maxSize), Bytes: true}
		return h, buf, fmt.Errorf("%w", le)
	}
	return h, buf, nil
}

// block is one block of a container, its data decompressed on demand.
type block struct {
	method      codec.Method
	contentType byte
	contentID   int32
	rawSize     int
	data        []byte // compressed (or raw) bytes as stored
	raw         []byte // decompressed bytes, after uncompress
	decoded     bool
	offset      int // byte offset of the block in its container's data
}

// parseBlock reads one block from the start of b; it returns the bytes used.
// A block that declares more than maxRaw bytes uncompressed, which its
// decoder would allocate, fails with a *limit.Error.
func parseBlock(b []byte, major int, checkCRC bool, maxRaw int) (block, int, error) {
	c := cursor{b: b}
	var blk block
	blk.method = codec.Method(c.byte1("block method"))
	blk.contentType = c.byte1("block content type")
	blk.contentID = c.itf8("block content id")
	size := c.count(math.MaxInt32, "block size")
	blk.rawSize = c.count(math.MaxInt32, "block raw size")
	if c.err == nil && blk.rawSize > maxRaw {
		return blk, 0, &limit.Error{Name: "max-cram-block", What: fmt.Sprintf("block (content type %d, id %d) declares %d bytes uncompressed, which", blk.contentType, blk.contentID, blk.rawSize), Limit: int64(maxRaw), Bytes: true}
	}
	blk.data = c.bytes(size, "block data")
	if c.err != nil {
		return blk, 0, c.err
	}
	if major >= 3 {
		end := c.pos
		crc := c.bytes(4, "block CRC32")
		if c.err != nil {
			return blk, 0, c.err
		}
		want := binary.LittleEndian.Uint32(crc)
		if got := crc32.ChecksumIEEE(b[:end]); checkCRC && got != want {
			return blk, 0, fmt.Errorf("block (content type %d, id %d) CRC32 is %08x, block says %08x", blk.contentType, blk.contentID, got, want)
		}
	}
	return blk, c.pos, nil
}

// uncompress decompresses the block's data once.
func (b *block) uncompress() error { return b.uncompressInto(nil, nil) }

// uncompressInto is uncompress decoding into dst's memory when it is big
// enough; the caller then owns b.raw and must not let it outlive dst's use.
// Raw blocks are not copied: b.raw is then b.data. take is given the
// codec's scratch, as codec.DecompressAccount says; it may be nil.
func (b *block) uncompressInto(dst []byte, take func(int) error) error {
	if b.decoded {
		return nil
	}
	if b.rawSize == 0 {
		// Empty blocks carry no codec stream whatever their method.
		b.raw = nil
	} else if b.method == codec.Raw {
		if len(b.data) != b.rawSize {
			return fmt.Errorf("raw block (content id %d) holds %d bytes, header declares %d", b.contentID, len(b.data), b.rawSize)
		}
		b.raw = b.data
	} else {
		out, err := codec.DecompressAccount(b.method, b.data, b.rawSize, dst, take)
		if err != nil {
			return fmt.Errorf("block (content type %d, id %d): %w", b.contentType, b.contentID, err)
		}
		b.raw = out
	}
	b.decoded = true
	return nil
}

// sliceHeader is the content of a slice header block.
type sliceHeader struct {
	refID      int32
	start      int32
	span       int32
	records    int32
	counter    int64
	blocks     int
	contentIDs []int32
	embedRefID int32
	md5        [16]byte
	tags       []byte
}

func parseSliceHeader(b []byte, major int) (sliceHeader, error) {
	c := cursor{b: b}
	var h sliceHeader
	h.refID = c.itf8("slice reference id")
	h.start = c.itf8("slice alignment start")
	h.span = c.itf8("slice alignment span")
	h.records = int32(c.count(maxRecords, "slice record count"))
	if major >= 3 {
		h.counter = c.ltf8("slice record counter")
	} else {
		h.counter = int64(c.itf8("slice record counter"))
	}
	h.blocks = c.count(maxBlocks, "slice block count")
	n := c.count(maxBlocks, "slice content id count")
	for i := 0; i < n && c.err == nil; i++ {
		h.contentIDs = append(h.contentIDs, c.itf8("slice content id"))
	}
	h.embedRefID = c.itf8("slice embedded reference block id")
	copy(h.md5[:], c.bytes(16, "slice reference MD5"))
	if c.err != nil {
		return h, c.err
	}
	h.tags = b[c.pos:]
	return h, nil
}

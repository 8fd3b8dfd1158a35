// Package bgzf reads and writes BGZF, the blocked gzip of BAM files and
// bgzip (hts-specs SAMv1 §4.1), decompressing and compressing blocks in
// parallel while delivering bytes in order, and cuts a stretch between two
// virtual offsets out of a file (CopyVirtual) as an index query names it.
//
// It is hand-written rather than taken from an existing Go library because
// seqstore needs three things together that none offers: a pipeline that
// keeps every core inflating while one goroutine parses, validation of every
// block (header, BSIZE, CRC32, ISIZE) with errors that name the block's file
// offset, and the virtual offsets a BAM indexer records, normalised the way
// htslib normalises them so that indexes match samtools'.
package bgzf

import (
	"bytes"
	"encoding/binary"
	"fmt"
)

const (
	// MaxBlockSize bounds a whole BGZF block, header to footer: BSIZE is a
	// 16-bit field holding the block size minus one.
	MaxBlockSize = 1 << 16
	// MaxDataSize bounds the uncompressed data of one block, so that the
	// in-block part of a virtual offset fits in 16 bits.
	MaxDataSize = 1 << 16
	// BlockDataSize is how much uncompressed data the Writer puts in each
	// block: htslib's choice (0xff00), which leaves room for incompressible
	// data plus deflate overhead inside MaxBlockSize.
	BlockDataSize = 0xff00

	headerSize = 18 // fixed gzip header with a 6-byte BC extra field
	footerSize = 8  // CRC32 and ISIZE
)

// EOFMarker is the empty block that ends every complete BGZF file. A BAM
// without it was truncated at a block boundary.
var EOFMarker = []byte{
	0x1f, 0x8b, 0x08, 0x04, 0x00, 0x00, 0x00, 0x00, 0x00, 0xff, 0x06, 0x00,
	0x42, 0x43, 0x02, 0x00, 0x1b, 0x00, 0x03, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00,
}

// IsHeader reports whether p starts with the header of a BGZF block as
// htslib recognises it: a gzip member whose only extra subfield is BC.
// Callers sniffing a stream pass at least its first 18 bytes.
func IsHeader(p []byte) bool {
	return len(p) >= headerSize &&
		p[0] == 0x1f && p[1] == 0x8b && p[2] == 8 && p[3]&4 != 0 &&
		binary.LittleEndian.Uint16(p[10:]) == 6 &&
		p[12] == 'B' && p[13] == 'C' && binary.LittleEndian.Uint16(p[14:]) == 2
}

// VirtualOffset is a position in a BGZF file: the file offset of a block's
// first byte shifted left 16 bits, or'ed with an offset into its
// uncompressed data.
type VirtualOffset uint64

// MakeVirtualOffset combines a block's file offset and an offset into its
// data.
func MakeVirtualOffset(blockOffset int64, dataOffset int) VirtualOffset {
	return VirtualOffset(uint64(blockOffset)<<16 | uint64(dataOffset)&0xffff)
}

// BlockOffset is the file offset of the block the position is in.
func (v VirtualOffset) BlockOffset() int64 { return int64(v >> 16) }

// DataOffset is the offset into the block's uncompressed data.
func (v VirtualOffset) DataOffset() int { return int(v & 0xffff) }

func (v VirtualOffset) String() string {
	return fmt.Sprintf("%d:%d", v.BlockOffset(), v.DataOffset())
}

// BlockError is a defect in one block of a BGZF stream.
type BlockError struct {
	Offset int64 // file offset of the block's first byte
	Msg    string
}

func (e *BlockError) Error() string {
	return fmt.Sprintf("BGZF block at offset %d: %s", e.Offset, e.Msg)
}

func blockErrorf(offset int64, format string, args ...any) *BlockError {
	return &BlockError{Offset: offset, Msg: fmt.Sprintf(format, args...)}
}

func isEOFMarker(raw []byte) bool { return bytes.Equal(raw, EOFMarker) }

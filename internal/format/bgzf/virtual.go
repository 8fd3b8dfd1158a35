package bgzf

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
)

// Opener reads the bytes [start, end) of a BGZF file.
type Opener func(start, end int64) (io.ReadCloser, error)

// CopyVirtual writes, as BGZF blocks without an EOF marker, exactly the
// uncompressed data between the virtual offsets begin and end of a BGZF
// file of size bytes: the whole blocks in between as they are stored,
// and the parts of begin's and end's blocks compressed anew. Cutting at
// virtual offsets rather than at block boundaries matters because blocks
// need not start or end with a record: bgzip, unlike htslib's BAM writer,
// cuts blocks every 64 KiB whatever they hold.
func CopyVirtual(w io.Writer, open Opener, size int64, begin, end VirtualOffset) error {
	if end <= begin {
		return nil
	}
	bb, eb := begin.BlockOffset(), end.BlockOffset()
	if eb > size {
		return blockErrorf(eb, "virtual offset %v is past the file's %d bytes", end, size)
	}
	if bb == eb {
		data, _, err := blockData(open, size, bb)
		if err != nil {
			return err
		}
		if end.DataOffset() > len(data) {
			return blockErrorf(bb, "virtual offset %v is past the block's %d bytes of data", end, len(data))
		}
		return writeData(w, data[begin.DataOffset():end.DataOffset()])
	}
	rawStart := bb
	if begin.DataOffset() > 0 {
		data, blockSize, err := blockData(open, size, bb)
		if err != nil {
			return err
		}
		if begin.DataOffset() > len(data) {
			return blockErrorf(bb, "virtual offset %v is past the block's %d bytes of data", begin, len(data))
		}
		if err := writeData(w, data[begin.DataOffset():]); err != nil {
			return err
		}
		rawStart += blockSize
	}
	if eb > rawStart {
		body, err := open(rawStart, eb)
		if err != nil {
			return err
		}
		_, err = io.Copy(w, body)
		body.Close()
		if err != nil {
			return err
		}
	}
	if end.DataOffset() == 0 {
		return nil
	}
	data, _, err := blockData(open, size, eb)
	if err != nil {
		return err
	}
	if end.DataOffset() > len(data) {
		return blockErrorf(eb, "virtual offset %v is past the block's %d bytes of data", end, len(data))
	}
	return writeData(w, data[:end.DataOffset()])
}

// blockData reads and inflates the block at offset, returning its data and
// its compressed size.
func blockData(open Opener, size, offset int64) ([]byte, int64, error) {
	if offset < 0 || offset >= size {
		return nil, 0, blockErrorf(offset, "no block here: the file has %d bytes", size)
	}
	body, err := open(offset, min(offset+MaxBlockSize, size))
	if err != nil {
		return nil, 0, err
	}
	raw, err := io.ReadAll(io.LimitReader(body, MaxBlockSize))
	body.Close()
	if err != nil {
		return nil, 0, err
	}
	if !IsHeader(raw) {
		return nil, 0, blockErrorf(offset, "no BGZF block header here")
	}
	blockSize := int64(binary.LittleEndian.Uint16(raw[16:])) + 1
	if blockSize > int64(len(raw)) {
		return nil, 0, blockErrorf(offset, "truncated: the block claims %d bytes, the file has %d", blockSize, len(raw))
	}
	r := NewReaderWorkers(bytes.NewReader(raw[:blockSize]), 1)
	defer r.Close()
	data, err := io.ReadAll(io.LimitReader(r, MaxDataSize+1))
	if err != nil {
		return nil, 0, fmt.Errorf("bgzf block at %d: %w", offset, err)
	}
	return data, blockSize, nil
}

// writeData compresses data into BGZF blocks; it writes nothing for no
// data, since an empty block would read as the end of the file.
func writeData(w io.Writer, data []byte) error {
	if len(data) == 0 {
		return nil
	}
	var buf bytes.Buffer
	bw, err := NewWriterOptions(&buf, WriterOptions{Workers: 1})
	if err != nil {
		return err
	}
	bw.Write(data)
	if err := bw.Close(); err != nil {
		return err
	}
	_, err = w.Write(bytes.TrimSuffix(buf.Bytes(), EOFMarker))
	return err
}

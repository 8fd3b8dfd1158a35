package codec

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
)

// The xz container (tukaani.org's xz file format 1.0) names in each block
// header the dictionary size of its LZMA2 filter, and the xz library
// allocates a dictionary that big before decoding a byte: up to 4 GiB for
// a block of a few bytes. A block decodes to its declared size at most,
// and LZMA2 never looks further back than the data decoded so far, so
// boundXZDictionaries lowers every block's dictionary to the smallest that
// holds that size: the output is unchanged and the allocation bounded.

// xzMinDict is LZMA's smallest dictionary.
const xzMinDict = 4096

// lzma2Filter is the xz filter ID of LZMA2.
const lzma2Filter = 0x21

var errXZ = errors.New("not a well-formed xz stream")

// boundXZDictionaries returns a copy of the xz stream src whose LZMA2
// dictionaries are at most what size bytes of output need. It finds the
// blocks through the stream's index, as it lists every block's size.
func boundXZDictionaries(src []byte, size int) ([]byte, error) {
	const headerSize, footerSize = 12, 12
	if len(src) < headerSize+footerSize || string(src[:6]) != "\xfd7zXZ\x00" {
		return nil, errXZ
	}
	footer := src[len(src)-footerSize:]
	if string(footer[10:]) != "YZ" {
		return nil, fmt.Errorf("%w: the stream footer is missing", errXZ)
	}
	indexStart := int64(len(src)-footerSize) - (int64(binary.LittleEndian.Uint32(footer[4:]))+1)*4
	if indexStart < headerSize || src[indexStart] != 0 {
		return nil, fmt.Errorf("%w: the index is missing", errXZ)
	}
	index := src[indexStart+1 : len(src)-footerSize]
	blocks, n := binary.Uvarint(index)
	if n <= 0 {
		return nil, fmt.Errorf("%w: bad index", errXZ)
	}
	index = index[n:]
	out := append([]byte(nil), src...)
	pos := int64(headerSize)
	for range blocks {
		unpadded, n := binary.Uvarint(index)
		if n <= 0 {
			return nil, fmt.Errorf("%w: bad index", errXZ)
		}
		index = index[n:]
		if _, n = binary.Uvarint(index); n <= 0 {
			return nil, fmt.Errorf("%w: bad index", errXZ)
		}
		index = index[n:]
		if unpadded > uint64(indexStart-pos) {
			return nil, fmt.Errorf("%w: the index lists blocks beyond the stream", errXZ)
		}
		if err := boundBlockDictionary(out[pos:indexStart], size); err != nil {
			return nil, err
		}
		pos += int64(unpadded+3) &^ 3
	}
	return out, nil
}

// boundBlockDictionary lowers the dictionary of the LZMA2 filter in the
// block header at the start of b, fixing the header's CRC32.
func boundBlockDictionary(b []byte, size int) error {
	if len(b) == 0 || b[0] == 0 || len(b) < (int(b[0])+1)*4 {
		return fmt.Errorf("%w: bad block header", errXZ)
	}
	h := b[:(int(b[0])+1)*4]
	body := h[:len(h)-4]
	if crc32.ChecksumIEEE(body) != binary.LittleEndian.Uint32(h[len(h)-4:]) {
		return fmt.Errorf("%w: block header CRC32 mismatch", errXZ)
	}
	flags := body[1]
	p := 2
	varint := func() (uint64, error) {
		if p >= len(body) {
			return 0, fmt.Errorf("%w: bad block header", errXZ)
		}
		v, n := binary.Uvarint(body[p:])
		if n <= 0 {
			return 0, fmt.Errorf("%w: bad block header", errXZ)
		}
		p += n
		return v, nil
	}
	// The compressed and uncompressed sizes, when present.
	for _, bit := range []byte{0x40, 0x80} {
		if flags&bit != 0 {
			if _, err := varint(); err != nil {
				return err
			}
		}
	}
	changed := false
	for range int(flags&3) + 1 {
		id, err := varint()
		if err != nil {
			return err
		}
		props, err := varint()
		if err != nil {
			return err
		}
		if props > uint64(len(body)-p) {
			return fmt.Errorf("%w: bad block header", errXZ)
		}
		if id == lzma2Filter && props == 1 {
			if want := dictCode(size); body[p] <= 40 && body[p] > want {
				body[p] = want
				changed = true
			}
		}
		p += int(props)
	}
	if changed {
		binary.LittleEndian.PutUint32(h[len(h)-4:], crc32.ChecksumIEEE(body))
	}
	return nil
}

// dictCode is the smallest LZMA2 dictionary code whose size holds n bytes:
// code c means (2 | c&1) << (c/2 + 11) bytes.
func dictCode(n int) byte {
	for c := byte(0); c < 40; c++ {
		if (2|int64(c&1))<<(c/2+11) >= int64(n) {
			return c
		}
	}
	return 40
}

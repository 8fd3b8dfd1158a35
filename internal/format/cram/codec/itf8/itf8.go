// Package itf8 reads and writes the variable-length integers of CRAM: ITF-8
// and LTF-8 (CRAM 3.0, big-endian with the byte count in the leading one
// bits) and uint7 (CRAM 3.1 codecs, big-endian 7 bits per byte with a
// continuation bit). They are a few lines each and no Go library carries
// them, so they live here for the container parser and every codec.
//
// Readers take a byte slice and return the value and the number of bytes
// used; they never read past the slice and report truncation as an error.
package itf8

import (
	"errors"
)

// ErrTruncated is returned when a slice ends inside an encoded integer.
var ErrTruncated = errors.New("truncated variable-length integer")

// ErrOverflow is returned when a uint7 integer does not fit the requested
// width.
var ErrOverflow = errors.New("variable-length integer overflows")

// ReadITF8 decodes one ITF-8 integer from the start of b. The five-byte
// form keeps only the low 4 bits of its last byte, as htslib and htsjdk do.
func ReadITF8(b []byte) (v int32, n int, err error) {
	if len(b) == 0 {
		return 0, 0, ErrTruncated
	}
	b0 := uint32(b[0])
	switch {
	case b0 < 0x80:
		return int32(b0), 1, nil
	case b0 < 0xc0:
		if len(b) < 2 {
			return 0, 0, ErrTruncated
		}
		return int32((b0&0x3f)<<8 | uint32(b[1])), 2, nil
	case b0 < 0xe0:
		if len(b) < 3 {
			return 0, 0, ErrTruncated
		}
		return int32((b0&0x1f)<<16 | uint32(b[1])<<8 | uint32(b[2])), 3, nil
	case b0 < 0xf0:
		if len(b) < 4 {
			return 0, 0, ErrTruncated
		}
		return int32((b0&0x0f)<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])), 4, nil
	default:
		if len(b) < 5 {
			return 0, 0, ErrTruncated
		}
		return int32((b0&0x0f)<<28 | uint32(b[1])<<20 | uint32(b[2])<<12 | uint32(b[3])<<4 | uint32(b[4])&0x0f), 5, nil
	}
}

// AppendITF8 appends the ITF-8 encoding of v to dst.
func AppendITF8(dst []byte, v int32) []byte {
	u := uint32(v)
	switch {
	case u < 1<<7:
		return append(dst, byte(u))
	case u < 1<<14:
		return append(dst, byte(u>>8)|0x80, byte(u))
	case u < 1<<21:
		return append(dst, byte(u>>16)|0xc0, byte(u>>8), byte(u))
	case u < 1<<28:
		return append(dst, byte(u>>24)|0xe0, byte(u>>16), byte(u>>8), byte(u))
	default:
		return append(dst, byte(u>>28)|0xf0, byte(u>>20), byte(u>>12), byte(u>>4), byte(u)&0x0f)
	}
}

// ReadLTF8 decodes one LTF-8 integer (up to 9 bytes) from the start of b.
func ReadLTF8(b []byte) (v int64, n int, err error) {
	if len(b) == 0 {
		return 0, 0, ErrTruncated
	}
	b0 := b[0]
	// The number of leading one bits is the number of extra bytes; a first
	// byte of 0xff means eight extra bytes holding the whole value.
	extra := 0
	for extra < 8 && b0&(0x80>>uint(extra)) != 0 {
		extra++
	}
	if len(b) < 1+extra {
		return 0, 0, ErrTruncated
	}
	var u uint64
	if extra < 8 {
		u = uint64(b0 & (0xff >> uint(extra+1)))
	}
	for i := 1; i <= extra; i++ {
		u = u<<8 | uint64(b[i])
	}
	return int64(u), 1 + extra, nil
}

// AppendLTF8 appends the LTF-8 encoding of v to dst.
func AppendLTF8(dst []byte, v int64) []byte {
	u := uint64(v)
	extra := 0
	for extra < 8 {
		// With extra bytes following, the first byte keeps 7-extra value bits.
		bits := uint(8*extra + 7 - extra)
		if extra < 7 && u < 1<<bits {
			break
		}
		if extra == 7 && u < 1<<56 {
			break
		}
		extra++
	}
	var first byte
	if extra < 8 {
		first = byte(uint32(0xff00)>>uint(extra)) | byte(u>>(8*uint(extra)))
	} else {
		first = 0xff
	}
	dst = append(dst, first)
	for i := extra - 1; i >= 0; i-- {
		dst = append(dst, byte(u>>(8*uint(i))))
	}
	return dst
}

// ReadUint7 decodes one uint7 integer (7 bits per byte, most significant
// group first, top bit set on every byte but the last) limited to 32 bits.
func ReadUint7(b []byte) (v uint32, n int, err error) {
	var u uint64
	for i := 0; i < len(b); i++ {
		c := b[i]
		u = u<<7 | uint64(c&0x7f)
		if u > 0xffffffff {
			return 0, 0, ErrOverflow
		}
		if c < 0x80 {
			return uint32(u), i + 1, nil
		}
	}
	return 0, 0, ErrTruncated
}

// ReadUint7_64 is ReadUint7 for values up to 64 bits.
func ReadUint7_64(b []byte) (v uint64, n int, err error) {
	for i := 0; i < len(b); i++ {
		c := b[i]
		if v>>57 != 0 {
			return 0, 0, ErrOverflow
		}
		v = v<<7 | uint64(c&0x7f)
		if c < 0x80 {
			return v, i + 1, nil
		}
	}
	return 0, 0, ErrTruncated
}

// AppendUint7 appends the uint7 encoding of v to dst.
func AppendUint7(dst []byte, v uint64) []byte {
	n := 1
	for x := v >> 7; x != 0; x >>= 7 {
		n++
	}
	for i := n - 1; i > 0; i-- {
		dst = append(dst, byte(v>>(7*uint(i)))|0x80)
	}
	return append(dst, byte(v&0x7f))
}

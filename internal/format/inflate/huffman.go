package inflate

import (
	"encoding/binary"
	"errors"
)

const (
	litlenMask = 1<<litlenTableBits - 1
	distMask   = 1<<distTableBits - 1
	maxMatch   = 258

	// The fast loop runs while an iteration cannot run off either buffer:
	// it refills at most twice, each time loading 8 bytes and advancing
	// at most 7, and writes at most six literals (three pairs, each
	// written as two bytes) and a match whose eight-byte copy overshoots
	// by up to 7 bytes.
	fastInputSlack  = 16
	fastOutputSlack = 6 + maxMatch + 7
)

// errPaused stops a block's decoding between two symbols, for a stream
// to deliver output or read more input before going on.
var errPaused = errors.New("inflate: paused")

// codes are the decode tables of one Huffman-coded block.
type codes struct {
	litlen *[litlenTableSize]uint32
	dist   *[distTableSize]uint32
}

var fixedCodes = codes{&fixedLitlen, &fixedDist}

// decodeHuffman decodes the symbols of one Huffman-coded block, up to and
// including its end-of-block code, from br into dst[out:]; dst[:out] is
// the output matches may reach back into. Where br.src is not all the
// input (a stream reading on), it returns errPaused once the fast loop
// runs short of input; otherwise it finishes the block one symbol at a
// time, returning errPaused before a symbol once out passes pauseAt.
func decodeHuffman(dst []byte, out int, br *bitReader, c codes, inputComplete bool, pauseAt int) (int, error) {
	// The fast loop keeps the bit reader in registers.
	litlen, dist := c.litlen, c.dist
	src := br.src
	in, buf, nbits := br.in, br.buf, br.nbits
	for in <= len(src)-fastInputSlack && out <= len(dst)-fastOutputSlack {
		// A refill loads eight bytes and keeps the whole ones that fit,
		// leaving 56 to 63 valid bits: enough for a length code with its
		// extra bits and a distance code with its (15+5+15+13 = 48), or
		// four lookups of literals. Bits above nbits are the stream's next
		// bits already, so loading them again changes nothing.
		buf |= binary.LittleEndian.Uint64(src[in:]) << nbits
		in += int(63-nbits) >> 3
		nbits |= 56

		e := litlen[buf&litlenMask]
		if e&flagLiteral != 0 {
			// Four lookups in the main table take at most 44 bits.
			// Each writes two bytes, the second garbage after a single
			// literal, overwritten next. Unrolled by hand: as a loop,
			// its counter pushes the bit buffer's state out of
			// registers, and decoding is some 3% slower.
			buf >>= e & codeLenMask
			nbits -= uint(e & codeLenMask)
			binary.LittleEndian.PutUint16(dst[out:], uint16(e>>16))
			out += 1 + int(e>>8&1)
			e = litlen[buf&litlenMask]
			if e&flagLiteral != 0 {
				buf >>= e & codeLenMask
				nbits -= uint(e & codeLenMask)
				binary.LittleEndian.PutUint16(dst[out:], uint16(e>>16))
				out += 1 + int(e>>8&1)
				e = litlen[buf&litlenMask]
				if e&flagLiteral != 0 {
					buf >>= e & codeLenMask
					nbits -= uint(e & codeLenMask)
					binary.LittleEndian.PutUint16(dst[out:], uint16(e>>16))
					out += 1 + int(e>>8&1)
					e = litlen[buf&litlenMask]
					if e&flagLiteral != 0 {
						buf >>= e & codeLenMask
						nbits -= uint(e & codeLenMask)
						binary.LittleEndian.PutUint16(dst[out:], uint16(e>>16))
						out += 1 + int(e>>8&1)
						continue
					}
				}
			}
			// Up to 33 bits are gone; a match may need 48. The refill
			// leaves the low bits, and so e, as they are.
			buf |= binary.LittleEndian.Uint64(src[in:]) << nbits
			in += int(63-nbits) >> 3
			nbits |= 56
		}
		if e&flagSub != 0 {
			buf >>= e & codeLenMask
			nbits -= uint(e & codeLenMask)
			e = litlen[e>>16+uint32(buf)&(1<<(e>>8&0x1f)-1)]
			if e&flagLiteral != 0 {
				buf >>= e & codeLenMask
				nbits -= uint(e & codeLenMask)
				dst[out] = byte(e >> 16)
				out++
				continue
			}
		}
		if e&(flagEOB|flagBad) != 0 {
			if e&flagBad != 0 {
				br.in, br.buf, br.nbits = in, buf, nbits
				return out, CorruptError("invalid literal/length code")
			}
			buf >>= e & codeLenMask
			nbits -= uint(e & codeLenMask)
			br.in, br.buf, br.nbits = in, buf, nbits
			return out, nil
		}
		buf >>= e & codeLenMask
		nbits -= uint(e & codeLenMask)
		length := int(e>>16) + int(buf&(1<<(e>>8&0x1f)-1))
		buf >>= e >> 8 & 0x1f
		nbits -= uint(e >> 8 & 0x1f)

		e = dist[buf&distMask]
		if e&flagSub != 0 {
			buf >>= e & codeLenMask
			nbits -= uint(e & codeLenMask)
			e = dist[e>>16+uint32(buf)&(1<<(e>>8&0x1f)-1)]
		}
		if e&flagBad != 0 {
			br.in, br.buf, br.nbits = in, buf, nbits
			return out, CorruptError("invalid distance code")
		}
		buf >>= e & codeLenMask
		nbits -= uint(e & codeLenMask)
		distance := int(e>>16) + int(buf&(1<<(e>>8&0x1f)-1))
		buf >>= e >> 8 & 0x1f
		nbits -= uint(e >> 8 & 0x1f)
		if distance > out {
			br.in, br.buf, br.nbits = in, buf, nbits
			return out, CorruptError("distance reaches back before the start of the output")
		}
		copyMatch(dst, out, distance, length)
		out += length
	}
	br.in, br.buf, br.nbits = in, buf, nbits
	if !inputComplete {
		return out, errPaused
	}
	return decodeHuffmanCarefully(dst, out, br, c, pauseAt)
}

// copyMatch copies length bytes from distance back to dst[out:], writing up
// to 7 bytes past the match; the caller guarantees the room.
func copyMatch(dst []byte, out, distance, length int) {
	from := out - distance
	end := out + length
	switch {
	case distance >= 8:
		// Each word read lies wholly before the word written, even when
		// the match overlaps its own output.
		for out < end {
			binary.LittleEndian.PutUint64(dst[out:], binary.LittleEndian.Uint64(dst[from:]))
			out += 8
			from += 8
		}
	case distance == 1:
		// A run of one byte, the commonest overlap.
		run := uint64(dst[from]) * 0x0101010101010101
		for out < end {
			binary.LittleEndian.PutUint64(dst[out:], run)
			out += 8
		}
	default:
		// The match repeats its first distance bytes; a word of them
		// written at steps of a whole number of periods keeps in phase.
		var pattern uint64
		for i := range 8 {
			pattern |= uint64(dst[from+i%distance]) << (8 * i)
		}
		step := 8 - 8%distance
		for out < end {
			binary.LittleEndian.PutUint64(dst[out:], pattern)
			out += step
		}
	}
}

// decodeHuffmanCarefully decodes the rest of a block one symbol at a time,
// checking every bound: it finishes the blocks the fast loop cannot.
func decodeHuffmanCarefully(dst []byte, out int, br *bitReader, c codes, pauseAt int) (int, error) {
	litlen, dist := c.litlen, c.dist
	for {
		if out > pauseAt {
			return out, errPaused
		}
		if !br.refill() {
			return out, ErrUnexpectedEnd
		}
		e := litlen[br.buf&litlenMask]
		if e&flagSub != 0 {
			br.take(uint(e & codeLenMask))
			e = litlen[e>>16+uint32(br.buf)&(1<<(e>>8&0x1f)-1)]
		}
		if e&flagBad != 0 {
			return out, CorruptError("invalid literal/length code")
		}
		br.take(uint(e & codeLenMask))
		// Checked before writing, so that a stream's reader never sees
		// output decoded from the zero bits past the end.
		if br.truncated() {
			return out, ErrUnexpectedEnd
		}
		if e&flagLiteral != 0 {
			if out == len(dst) {
				return out, ErrShortBuffer
			}
			dst[out] = byte(e >> 16)
			out++
			if e>>8&1 != 0 {
				if out == len(dst) {
					return out, ErrShortBuffer
				}
				dst[out] = byte(e >> 24)
				out++
			}
			continue
		}
		if e&flagEOB != 0 {
			return out, nil
		}
		length := int(e>>16) + int(br.take(uint(e>>8&0x1f)))

		e = dist[br.buf&distMask]
		if e&flagSub != 0 {
			br.take(uint(e & codeLenMask))
			e = dist[e>>16+uint32(br.buf)&(1<<(e>>8&0x1f)-1)]
		}
		if e&flagBad != 0 {
			return out, CorruptError("invalid distance code")
		}
		br.take(uint(e & codeLenMask))
		distance := int(e>>16) + int(br.take(uint(e>>8&0x1f)))
		if br.truncated() {
			return out, ErrUnexpectedEnd
		}
		if distance > out {
			return out, CorruptError("distance reaches back before the start of the output")
		}
		if length > len(dst)-out {
			return out, ErrShortBuffer
		}
		from := out - distance
		for range length {
			dst[out] = dst[from]
			out++
			from++
		}
	}
}

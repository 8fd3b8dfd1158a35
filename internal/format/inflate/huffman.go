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
	// by up to 7 bytes (a short match's three unconditional words, by
	// up to 21, within the same room).
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
	// A refill loads eight bytes and keeps the whole ones that fit,
	// leaving 56 to 63 valid bits: enough for a length code with its extra
	// bits and a distance code with its (15+5+15+13 = 48), or four lookups
	// of literals. Bits above nbits are the stream's next bits already, so
	// loading them again changes nothing. Each pass of the loop starts
	// refilled, with the entry of the next symbol looked up: the pass
	// before looks it up before copying its match, so the lookup's latency
	// overlaps the copy.
	var e uint32
	if in <= len(src)-fastInputSlack {
		in, buf, nbits = refill(src, in, buf, nbits)
		e = litlen[buf&litlenMask]
	}
	for in <= len(src)-fastInputSlack && out <= len(dst)-fastOutputSlack {
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
						in, buf, nbits = refill(src, in, buf, nbits)
						e = litlen[buf&litlenMask]
						continue
					}
				}
			}
			// Up to 33 bits are gone; a match may need 48. The refill
			// leaves the low bits, and so e, as they are.
			in, buf, nbits = refill(src, in, buf, nbits)
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
				in, buf, nbits = refill(src, in, buf, nbits)
				e = litlen[buf&litlenMask]
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
		// The code and its extra bits go in one shift, which shortens the
		// chain of shifts each lookup waits on; the extra bits are taken
		// from the bits as they were, off that chain.
		var length, distance int
		length, buf, nbits = codeValue(e, buf, nbits)

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
		distance, buf, nbits = codeValue(e, buf, nbits)
		if distance > out {
			br.in, br.buf, br.nbits = in, buf, nbits
			return out, CorruptError("distance reaches back before the start of the output")
		}
		in, buf, nbits = refill(src, in, buf, nbits)
		e = litlen[buf&litlenMask]
		if distance >= 8 {
			// Most matches: whole words, each read wholly before the
			// word written even when the match overlaps its output. The
			// first three go unconditionally, which covers most matches
			// of sequencing reads without a branch, and a copy inline
			// saves a call per match.
			w := dst[out : out+maxMatch+7]
			f := dst[out-distance : out-distance+maxMatch+7]
			binary.LittleEndian.PutUint64(w, binary.LittleEndian.Uint64(f))
			binary.LittleEndian.PutUint64(w[8:], binary.LittleEndian.Uint64(f[8:]))
			binary.LittleEndian.PutUint64(w[16:], binary.LittleEndian.Uint64(f[16:]))
			for i := 24; i < length; i += 8 {
				binary.LittleEndian.PutUint64(w[i:], binary.LittleEndian.Uint64(f[i:]))
			}
		} else {
			copyOverlap(dst, out, distance, length)
		}
		out += length
	}
	br.in, br.buf, br.nbits = in, buf, nbits
	if !inputComplete {
		return out, errPaused
	}
	return decodeHuffmanCarefully(dst, out, br, c, pauseAt)
}

// refill loads eight bytes of src at in into the bit buffer and keeps the
// whole ones that fit, leaving 56 to 63 valid bits; src must hold eight
// bytes at in.
func refill(src []byte, in int, buf uint64, nbits uint) (int, uint64, uint) {
	buf |= binary.LittleEndian.Uint64(src[in:]) << nbits
	return in + int(63-nbits)>>3, buf, nbits | 56
}

// codeValue consumes the code of a length or distance entry e and its extra
// bits in one shift, which shortens the chain of shifts each lookup waits
// on, and returns the value they give: the extra bits are taken from the
// bits as they were, off that chain.
func codeValue(e uint32, buf uint64, nbits uint) (int, uint64, uint) {
	taken := e&codeLenMask + e>>8&0x1f
	v := int(e>>16) + int(buf>>(e&codeLenMask)&(1<<(e>>8&0x1f)-1))
	return v, buf >> taken, nbits - uint(taken)
}

// copyOverlap copies a match whose distance is under 8, so that it overlaps
// its own output within a word, writing up to 7 bytes past its end; the
// caller guarantees the room.
func copyOverlap(dst []byte, out, distance, length int) {
	from := out - distance
	end := out + length
	if distance == 1 {
		// A run of one byte, the commonest overlap.
		run := uint64(dst[from]) * 0x0101010101010101
		for out < end {
			binary.LittleEndian.PutUint64(dst[out:], run)
			out += 8
		}
		return
	}
	// The match repeats its first distance bytes; a word of them written
	// at steps of a whole number of periods keeps in phase.
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

// Package inflate decodes DEFLATE (RFC 1951) fast: a whole raw stream from
// one buffer into another, as a BGZF block needs, and gzip (RFC 1952)
// input as a stream on the same decoder.
//
// The project writes its own because inflating is about half the CPU of
// ingesting a BAM or a gzipped FASTQ, and the well-kept Go decompressors
// (compress/flate and its faster relatives) are streaming state machines:
// they must be able to stop after any symbol, so they pay per symbol for
// reading bytes through an interface, keeping state in memory and checking
// how much room is left. None offers a whole-buffer decoder of the kind
// libdeflate is in C. This one refills a 64-bit bit buffer a word at a
// time, decodes from tables whose entries carry all a symbol needs (two
// literals where both codes are short), decodes several literals per
// refill and copies matches eight bytes at a time, falling back to careful
// one-symbol-at-a-time code only near the ends of the buffers. Its stream
// form stops only where that costs the fast loop nothing (see stream).
package inflate

import (
	"encoding/binary"
	"errors"
)

var (
	// ErrShortBuffer means the stream inflates to more than the
	// destination holds.
	ErrShortBuffer = errors.New("inflate: output does not fit in the destination")
	// ErrUnexpectedEnd means the input ends before the stream's final
	// block does.
	ErrUnexpectedEnd = errors.New("inflate: input ends before the final block")
)

// CorruptError is a defect of the stream itself.
type CorruptError string

func (e CorruptError) Error() string { return "inflate: " + string(e) }

// Decompressor decodes raw DEFLATE streams. Its tables are reused from call
// to call, so a Decompress makes no allocation. Its zero value is ready to
// use; it is not safe for concurrent use.
type Decompressor struct {
	litlen  [litlenTableSize]uint32
	dist    [distTableSize]uint32
	codeLen [codeLenTableSize]uint32
	lens    [maxDynLitlen + maxDynDist]uint8
}

// bitReader holds the input side between blocks. The fast path keeps the
// same state in local variables.
type bitReader struct {
	src   []byte
	in    int    // next byte of src to load into buf
	buf   uint64 // bits not yet consumed, next one lowest
	nbits uint   // how many of buf's bits are valid
	// padding counts zero bytes loaded past the end of src, so the decoder
	// can look ahead a full word near the end; consuming any of them means
	// the input was truncated.
	padding uint
}

// refill makes buf hold at least 57 bits, loading zero bytes past the end
// of src. It reports false once padding bits have been consumed.
func (br *bitReader) refill() bool {
	for br.nbits <= 56 {
		if br.in < len(br.src) {
			br.buf |= uint64(br.src[br.in]) << br.nbits
			br.in++
		} else {
			if br.nbits < 8*br.padding {
				return false
			}
			br.padding++
		}
		br.nbits += 8
	}
	return true
}

// take consumes and returns n bits (n at most 32); buf must hold them.
func (br *bitReader) take(n uint) uint32 {
	v := uint32(br.buf & (1<<n - 1))
	br.buf >>= n
	br.nbits -= n
	return v
}

// truncated reports whether any padding bits have been consumed.
func (br *bitReader) truncated() bool { return br.nbits < 8*br.padding }

// consumed is how many bytes of src have been read, counting a partly
// consumed byte.
func (br *bitReader) consumed() int {
	return min(br.in-int(br.nbits/8)+int(br.padding), len(br.src))
}

// Decompress decodes the one complete raw DEFLATE stream at the start of
// src into dst, whose length is all the room there is. It returns the
// number of bytes written and of src consumed (the stream may be followed
// by other data, such as a gzip trailer). It fails with ErrShortBuffer if
// the output does not fit, ErrUnexpectedEnd if src ends first, and a
// CorruptError for an invalid stream.
func (d *Decompressor) Decompress(dst, src []byte) (out int, in int, err error) {
	br := bitReader{src: src}
	for {
		if !br.refill() {
			return out, br.consumed(), ErrUnexpectedEnd
		}
		final := br.take(1)
		switch br.take(2) {
		case 0:
			out, err = storedBlock(dst, out, &br)
		case 1:
			out, err = decodeHuffman(dst, out, &br, fixedCodes, true, len(dst))
		case 2:
			if err = d.readDynamicTables(&br); err == nil {
				out, err = decodeHuffman(dst, out, &br, d.dynamicCodes(), true, len(dst))
			}
		default:
			err = CorruptError("block type 3 is reserved")
		}
		if err != nil {
			if br.truncated() {
				// Whatever went wrong, it went wrong decoding the zero
				// bits past the end.
				err = ErrUnexpectedEnd
			}
			return out, br.consumed(), err
		}
		if final == 1 {
			break
		}
	}
	if br.truncated() {
		return out, br.consumed(), ErrUnexpectedEnd
	}
	return out, br.consumed(), nil
}

// alignToByte drops the bits left of the current byte and hands the whole
// bytes still in buf back to src, for reading bytewise from br.src[br.in:].
func (br *bitReader) alignToByte() error {
	br.take(br.nbits % 8)
	if br.truncated() {
		return ErrUnexpectedEnd
	}
	br.in, br.buf, br.nbits, br.padding = br.consumed(), 0, 0, 0
	return nil
}

// storedHeader reads the length of a stored block, whose 3-bit header br
// has just consumed, leaving br at the block's first byte.
func storedHeader(br *bitReader) (int, error) {
	if err := br.alignToByte(); err != nil {
		return 0, err
	}
	pos := br.in
	if len(br.src)-pos < 4 {
		br.in = len(br.src)
		return 0, ErrUnexpectedEnd
	}
	n := binary.LittleEndian.Uint16(br.src[pos:])
	if n != ^binary.LittleEndian.Uint16(br.src[pos+2:]) {
		return 0, CorruptError("stored block length does not match its complement")
	}
	br.in = pos + 4
	return int(n), nil
}

// storedBlock copies an uncompressed block, whose 3-bit header br has just
// consumed.
func storedBlock(dst []byte, out int, br *bitReader) (int, error) {
	n, err := storedHeader(br)
	if err != nil {
		return out, err
	}
	if n > len(dst)-out {
		return out, ErrShortBuffer
	}
	if n > len(br.src)-br.in {
		out += copy(dst[out:], br.src[br.in:])
		br.in = len(br.src)
		return out, ErrUnexpectedEnd
	}
	copy(dst[out:], br.src[br.in:br.in+n])
	br.in += n
	return out + n, nil
}

// codeLenOrder is the order in which a dynamic block header sends the code
// lengths of the code-length code.
var codeLenOrder = [numCodeLenSyms]uint8{16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15}

func (d *Decompressor) dynamicCodes() codes { return codes{&d.litlen, &d.dist} }

// readDynamicTables reads a dynamic block's header and builds its tables.
func (d *Decompressor) readDynamicTables(br *bitReader) error {
	if !br.refill() {
		return ErrUnexpectedEnd
	}
	numLitlen := int(br.take(5)) + 257
	numDist := int(br.take(5)) + 1
	numCodeLen := int(br.take(4)) + 4
	if numLitlen > maxDynLitlen {
		return CorruptError("more than 286 literal/length codes")
	}
	if numDist > maxDynDist {
		return CorruptError("more than 30 distance codes")
	}
	var clLens [numCodeLenSyms]uint8
	for _, sym := range codeLenOrder[:numCodeLen] {
		// 19 × 3 bits is more than one refill holds.
		if br.nbits < 3 && !br.refill() {
			return ErrUnexpectedEnd
		}
		clLens[sym] = uint8(br.take(3))
	}
	if !buildTable(d.codeLen[:], clLens[:], codeLenEntry[:], codeLenTableBits) {
		return CorruptError("invalid code-length code")
	}

	lens := d.lens[:numLitlen+numDist]
	for i := 0; i < len(lens); {
		// A code-length code and its repeat count take at most 14 bits.
		if br.nbits < 14 && !br.refill() {
			return ErrUnexpectedEnd
		}
		e := d.codeLen[br.buf&(codeLenTableSize-1)]
		if e&flagBad != 0 {
			return CorruptError("invalid code-length code")
		}
		br.take(uint(e & codeLenMask))
		sym := e >> 16
		if sym < 16 {
			lens[i] = uint8(sym)
			i++
			continue
		}
		var value uint8
		var repeat int
		switch sym {
		case 16:
			if i == 0 {
				return CorruptError("repeat of the previous code length at the start")
			}
			value = lens[i-1]
			repeat = 3 + int(br.take(2))
		case 17:
			repeat = 3 + int(br.take(3))
		default:
			repeat = 11 + int(br.take(7))
		}
		if repeat > len(lens)-i {
			return CorruptError("code length repeat runs past the last symbol")
		}
		for range repeat {
			lens[i] = value
			i++
		}
	}
	if lens[endOfBlock] == 0 {
		return CorruptError("no code for the end of block")
	}
	if !buildTable(d.litlen[:], lens[:numLitlen], litlenSymEntry[:], litlenTableBits) {
		return CorruptError("invalid literal/length code")
	}
	pairLiterals(&d.litlen)
	if !buildTable(d.dist[:], lens[numLitlen:], distSymEntry[:], distTableBits) {
		return CorruptError("invalid distance code")
	}
	return nil
}

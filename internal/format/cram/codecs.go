package cram

import (
	"fmt"

	"github.com/seqstore/seqstore/internal/format/cram/codec/itf8"
)

// extBlock is a read position in an external block.
type extBlock struct {
	id   int32
	data []byte
	pos  int
}

// bitReader reads the core block most significant bit first.
type bitReader struct {
	data []byte
	pos  int  // byte
	bit  uint // bits of data[pos] already used
}

func (b *bitReader) readBits(n int) (uint32, bool) {
	var v uint32
	for ; n > 0; n-- {
		if b.pos >= len(b.data) {
			return 0, false
		}
		v = v<<1 | uint32(b.data[b.pos]>>(7-b.bit)&1)
		b.bit++
		if b.bit == 8 {
			b.bit = 0
			b.pos++
		}
	}
	return v, true
}

// codec is an encoding bound to one slice's core and external blocks.
// Decoding failures are recorded in the slice decoder, which checks them
// per record, so the hot calls return plain values.
type fieldCodec struct {
	kind   int32
	name   string // data series or tag, for messages
	d      *sliceDecoder
	ext    *extBlock
	extID  int32
	stop   byte
	offset int32
	param  int32
	huff   *huffman
	length *fieldCodec
	value  *fieldCodec
}

func (c *fieldCodec) fail(format string, args ...any) {
	if c.d.err == nil {
		c.d.err = fmt.Errorf("%s: %s", c.name, fmt.Sprintf(format, args...))
	}
}

func (c *fieldCodec) noBlock() {
	c.fail("external block %d is missing from the slice", c.extID)
}

func (c *fieldCodec) exhausted() {
	c.fail("read past the end of external block %d", c.extID)
}

// bind makes a codec for encoding e over slice decoder d.
func bind(e *encoding, name string, d *sliceDecoder) *fieldCodec {
	if e == nil {
		return &fieldCodec{kind: -1, name: name, d: d}
	}
	c := &fieldCodec{kind: e.kind, name: name, d: d, extID: e.contentID, stop: e.stop, offset: e.offset, param: e.param, huff: e.huff}
	switch e.kind {
	case encExternal, encByteArrayStop:
		c.ext = d.external(e.contentID)
	case encByteArrayLen:
		c.length = bind(e.length, name, d)
		c.value = bind(e.value, name, d)
	}
	return c
}

// int decodes one integer.
func (c *fieldCodec) int() int32 {
	switch c.kind {
	case encExternal:
		if c.ext == nil {
			c.noBlock()
			return 0
		}
		v, n, err := itf8.ReadITF8(c.ext.data[c.ext.pos:])
		if err != nil {
			c.exhausted()
			return 0
		}
		c.ext.pos += n
		return v
	case encHuffman:
		return c.huffman()
	case encBeta:
		v, ok := c.d.core.readBits(int(c.param))
		if !ok {
			c.coreEnd()
		}
		return int32(v) - c.offset
	case encSubexp:
		return c.subexp()
	case encGamma:
		return c.gamma()
	case -1:
		c.fail("no encoding for this data series")
	default:
		c.fail("encoding %s cannot decode integers", encNames[c.kind])
	}
	return 0
}

func (c *fieldCodec) coreEnd() { c.fail("read past the end of the core block") }

func (c *fieldCodec) huffman() int32 {
	h := c.huff
	if h.single {
		return h.symbol0
	}
	if len(h.sorted) == 0 {
		c.fail("HUFFMAN code with an empty alphabet")
		return 0
	}
	br := &c.d.core
	var code uint32
	for l := 1; l <= h.maxLen; l++ {
		bit, ok := br.readBits(1)
		if !ok {
			c.coreEnd()
			return 0
		}
		code = code<<1 | bit
		if n := h.count[l]; n > 0 && code >= h.first[l] && code-h.first[l] < uint32(n) {
			return h.sorted[h.start[l]+int32(code-h.first[l])]
		}
	}
	c.fail("no HUFFMAN code matches the core block bits")
	return 0
}

func (c *fieldCodec) subexp() int32 {
	br := &c.d.core
	i := 0
	for {
		bit, ok := br.readBits(1)
		if !ok {
			c.coreEnd()
			return 0
		}
		if bit == 0 {
			break
		}
		i++
		if i > 32 {
			c.fail("SUBEXP prefix too long")
			return 0
		}
	}
	var v uint32
	if i == 0 {
		b, ok := br.readBits(int(c.param))
		if !ok {
			c.coreEnd()
		}
		v = b
	} else {
		n := i + int(c.param) - 1
		if n > 31 {
			c.fail("SUBEXP value too large")
			return 0
		}
		b, ok := br.readBits(n)
		if !ok {
			c.coreEnd()
		}
		v = 1<<uint(n) | b
	}
	return int32(v) - c.offset
}

func (c *fieldCodec) gamma() int32 {
	br := &c.d.core
	n := 0
	for {
		bit, ok := br.readBits(1)
		if !ok {
			c.coreEnd()
			return 0
		}
		if bit == 1 {
			break
		}
		n++
		if n > 31 {
			c.fail("GAMMA prefix too long")
			return 0
		}
	}
	b, ok := br.readBits(n)
	if !ok {
		c.coreEnd()
	}
	return int32(1<<uint(n)|b) - c.offset
}

// byte decodes one byte.
func (c *fieldCodec) byte() byte {
	if c.kind == encExternal {
		if c.ext == nil {
			c.noBlock()
			return 0
		}
		if c.ext.pos >= len(c.ext.data) {
			c.exhausted()
			return 0
		}
		v := c.ext.data[c.ext.pos]
		c.ext.pos++
		return v
	}
	return byte(c.int())
}

// maxArray bounds one decoded byte array.
const maxArray = 1 << 28

// bytes appends a decoded byte array to dst: n bytes for encodings that
// decode single values (EXTERNAL, HUFFMAN, ...), the stored length for the
// byte array encodings.
func (c *fieldCodec) bytes(dst []byte, n int) []byte {
	// Codecs that read nothing (a one-symbol HUFFMAN length) could repeat
	// a huge array forever: every byte counts against the container.
	if n > 0 {
		if c.d.work -= int64(n); c.d.work < 0 {
			c.fail("the container decodes to more data than allowed; it is corrupt")
			return dst
		}
		if n > maxArray {
			c.fail("byte array length %d out of range", n)
			return dst
		}
		var err error
		if dst, err = c.d.growArray(dst, n, "a byte array"); err != nil {
			if c.d.err == nil {
				c.d.err = err
			}
			return dst
		}
	}
	switch c.kind {
	case encExternal:
		if c.ext == nil {
			if n > 0 {
				c.noBlock()
			}
			return dst
		}
		if n < 0 || n > len(c.ext.data)-c.ext.pos {
			c.exhausted()
			return dst
		}
		dst = append(dst, c.ext.data[c.ext.pos:c.ext.pos+n]...)
		c.ext.pos += n
		return dst
	case encByteArrayLen:
		l := c.length.int()
		if l < 0 || l > maxArray {
			c.fail("byte array length %d out of range", l)
			return dst
		}
		return c.value.bytes(dst, int(l))
	case encByteArrayStop:
		if c.ext == nil {
			c.noBlock()
			return dst
		}
		rest := c.ext.data[c.ext.pos:]
		for i, b := range rest {
			if b == c.stop {
				dst = append(dst, rest[:i]...)
				c.ext.pos += i + 1
				return dst
			}
		}
		c.fail("no stop byte %#x before the end of external block %d", c.stop, c.extID)
		return dst
	case encHuffman:
		if c.huff.single {
			s := byte(c.huff.symbol0)
			for i := 0; i < n; i++ {
				dst = append(dst, s)
			}
			return dst
		}
	}
	if n < 0 || n > maxArray {
		c.fail("byte array length %d out of range", n)
		return dst
	}
	for i := 0; i < n && c.d.err == nil; i++ {
		dst = append(dst, byte(c.int()))
	}
	return dst
}

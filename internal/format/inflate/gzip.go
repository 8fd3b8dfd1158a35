package inflate

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
)

// ErrGzipHeader means the input is not a gzip member where one should start.
var ErrGzipHeader = errors.New("inflate: invalid gzip header")

// The gzip header's flags (RFC 1952).
const (
	gzipFlagHeaderCRC = 1 << 1
	gzipFlagExtra     = 1 << 2
	gzipFlagName      = 1 << 3
	gzipFlagComment   = 1 << 4
)

// GzipReader decompresses gzip input: one member or several one after the
// other, as `cat a.gz b.gz` makes. It checks each member's CRC32 and size
// and any header CRC. A truncated input reads as io.ErrUnexpectedEOF, an
// error of the underlying reader as it is, a defect of the data as
// ErrGzipHeader, a CorruptError or a checksum error.
type GzipReader struct {
	s        *stream
	rpos     int // output in s.win up to here has been read
	inMember bool
	members  int
	crc      uint32
	size     uint32
	err      error // sticky
}

// NewGzipReader returns a reader of r's decompressed data. It reads r in
// large pieces and may read past the end of the gzip data.
func NewGzipReader(r io.Reader) *GzipReader {
	return &GzipReader{s: newStream(r)}
}

// Reset makes g read r from its start, keeping its buffers, so that many
// small gzip inputs (a CRAM file's blocks) cost no allocation each.
func (g *GzipReader) Reset(r io.Reader) {
	s := g.s
	*s = stream{r: r, inbuf: s.inbuf, win: s.win}
	s.br.src = s.inbuf[:0]
	*g = GzipReader{s: s}
}

// Read reads decompressed data; it returns io.EOF at the clean end of the
// input after the last member.
func (g *GzipReader) Read(p []byte) (int, error) {
	for g.rpos == g.s.wpos {
		if g.err != nil {
			return 0, g.err
		}
		g.err = g.advance()
	}
	n := copy(p, g.s.win[g.rpos:g.s.wpos])
	g.rpos += n
	return n, nil
}

// advance decodes more of the current member, reading the header of the
// next one first and the trailer once it ends.
func (g *GzipReader) advance() error {
	s := g.s
	if !g.inMember {
		if err := g.readHeader(); err != nil {
			return g.inputError(err)
		}
		g.inMember, g.crc, g.size = true, 0, 0
		s.start()
	}
	if !s.roomLeft() {
		s.slide()
		g.rpos = s.wpos
	}
	from := s.wpos
	err := s.decode()
	g.crc = crc32.Update(g.crc, crc32.IEEETable, s.win[from:s.wpos])
	g.size += uint32(s.wpos - from)
	if err != nil {
		return g.inputError(err)
	}
	if s.ended {
		return g.inputError(g.readTrailer())
	}
	return nil
}

// inputError says that input running out is the underlying reader's
// failure if it failed, otherwise a truncated file.
func (g *GzipReader) inputError(err error) error {
	if err != ErrUnexpectedEnd {
		return err
	}
	if g.s.rerr != nil {
		return g.s.rerr
	}
	return io.ErrUnexpectedEOF
}

// readHeader reads a member's header, or reports io.EOF where the input
// ends cleanly after a member.
func (g *GzipReader) readHeader() error {
	s := g.s
	s.fill(1)
	if s.br.in == len(s.br.src) && s.rerr == nil && g.members > 0 {
		return io.EOF
	}
	// Garbage is garbage even when too short to be a header.
	s.fill(10)
	if magic := s.br.src[s.br.in:min(s.br.in+2, len(s.br.src))]; !bytes.HasPrefix([]byte{0x1f, 0x8b}, magic) {
		return fmt.Errorf("%w: starts with %x, not the gzip magic 1f8b", ErrGzipHeader, magic)
	}
	h, err := s.readBytes(10)
	if err != nil {
		return err
	}
	if h[2] != 8 {
		return fmt.Errorf("%w: compression method %d is not deflate (8)", ErrGzipHeader, h[2])
	}
	// RFC 1952 asks for an error on reserved flags, but compress/gzip and
	// the reader this one replaced ignore them: a file they read must
	// still read.
	flags := h[3]
	crc := crc32.Update(0, crc32.IEEETable, h)
	if flags&gzipFlagExtra != 0 {
		x, err := s.readBytes(2)
		if err != nil {
			return err
		}
		crc = crc32.Update(crc, crc32.IEEETable, x)
		extra, err := s.readBytes(int(binary.LittleEndian.Uint16(x)))
		if err != nil {
			return err
		}
		crc = crc32.Update(crc, crc32.IEEETable, extra)
	}
	for _, flag := range []byte{gzipFlagName, gzipFlagComment} {
		if flags&flag == 0 {
			continue
		}
		// A zero-terminated string.
		for {
			c, err := s.readBytes(1)
			if err != nil {
				return err
			}
			crc = crc32.Update(crc, crc32.IEEETable, c)
			if c[0] == 0 {
				break
			}
		}
	}
	if flags&gzipFlagHeaderCRC != 0 {
		c, err := s.readBytes(2)
		if err != nil {
			return err
		}
		if got := binary.LittleEndian.Uint16(c); got != uint16(crc) {
			return fmt.Errorf("%w: header CRC16 is %04x but the header says %04x", ErrGzipHeader, uint16(crc), got)
		}
	}
	g.members++
	return nil
}

// readTrailer checks a member's CRC32 and size against its trailer.
func (g *GzipReader) readTrailer() error {
	if err := g.s.br.alignToByte(); err != nil {
		return err
	}
	t, err := g.s.readBytes(8)
	if err != nil {
		return err
	}
	if want := binary.LittleEndian.Uint32(t); g.crc != want {
		return fmt.Errorf("inflate: CRC32 of gzip member %d's data is %08x but its trailer says %08x", g.members, g.crc, want)
	}
	if want := binary.LittleEndian.Uint32(t[4:]); g.size != want {
		return fmt.Errorf("inflate: gzip member %d inflates to %d bytes (mod 2^32) but its trailer says %d", g.members, g.size, want)
	}
	g.inMember = false
	return nil
}

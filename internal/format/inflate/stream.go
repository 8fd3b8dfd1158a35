package inflate

import "io"

const (
	// windowSize is how far back a match can reach.
	windowSize = 32 << 10
	// outputArea is how much a stream decodes between deliveries: large,
	// so that sliding the window costs little next to decoding.
	outputArea = 256 << 10
	// inputBufferSize leaves room for a gzip header's largest extra
	// field (65535 bytes) as well as for reading far ahead.
	inputBufferSize = 128 << 10
	// headerLookahead is more than a block header takes: a dynamic one is
	// at most 3+14+19×3+316×14 bits, some 570 bytes. With that much input
	// at hand a header is read without stopping.
	headerLookahead = 600
)

// stream decodes a raw DEFLATE stream read piecewise. It stops only between
// blocks or between symbols, and only where no state but the bit buffer
// and the block's tables is pending: it starts a header only with the
// whole header at hand (or at the end of the input), and a symbol only
// with room for the longest match. So the fast loop of the whole-buffer
// decoder serves it unchanged.
type stream struct {
	d     Decompressor
	r     io.Reader
	inbuf []byte // backs br.src
	br    bitReader
	eof   bool  // r has reported io.EOF
	rerr  error // r's error other than io.EOF

	win  []byte // a window of past output, then room for new output
	wpos int    // end of the output in win
	base int    // start in win of this stream's output, which matches may not reach before

	inBlock bool
	final   bool  // the current block is the last
	stored  int   // bytes left of the current stored block, or -1 in a Huffman block
	codes   codes // the current Huffman block's tables
	ended   bool  // the final block has ended
}

func newStream(r io.Reader) *stream {
	s := &stream{r: r, inbuf: make([]byte, inputBufferSize), win: make([]byte, windowSize+outputArea)}
	s.br.src = s.inbuf[:0]
	return s
}

// fill reads until at least want bytes of input are at hand, or r ends.
func (s *stream) fill(want int) {
	if len(s.br.src)-s.br.in >= want || s.eof || s.rerr != nil {
		return
	}
	// Keep the 8 bytes before br.in: the bit buffer may hand whole bytes
	// back to br.src.
	keep := max(0, s.br.in-8)
	n := copy(s.inbuf, s.br.src[keep:])
	s.br.in -= keep
	for n-s.br.in < want && !s.eof && s.rerr == nil {
		m, err := s.r.Read(s.inbuf[n:])
		n += m
		if err == io.EOF {
			s.eof = true
		} else if err != nil {
			s.rerr = err
		}
	}
	s.br.src = s.inbuf[:n]
}

// readBytes returns the next n bytes of input, which must start on a byte
// boundary with the bit buffer empty.
func (s *stream) readBytes(n int) ([]byte, error) {
	s.fill(n)
	if len(s.br.src)-s.br.in < n {
		s.br.in = len(s.br.src)
		return nil, ErrUnexpectedEnd
	}
	b := s.br.src[s.br.in : s.br.in+n]
	s.br.in += n
	return b, nil
}

// start prepares to decode a new stream, from the next byte of input, whose
// matches may not reach into output before it.
func (s *stream) start() {
	s.inBlock, s.final, s.ended = false, false, false
	s.base = s.wpos
}

// slide drops all but the window of past output, to make room for more.
func (s *stream) slide() {
	keep := min(s.wpos, windowSize)
	shift := s.wpos - keep
	copy(s.win, s.win[shift:s.wpos])
	s.wpos = keep
	s.base = max(0, s.base-shift)
}

// roomLeft reports whether decode can go on without a slide.
func (s *stream) roomLeft() bool { return s.wpos <= len(s.win)-fastOutputSlack }

// decode decodes into win until its room runs low or the stream ends.
func (s *stream) decode() error {
	for !s.ended && s.roomLeft() {
		var err error
		switch {
		case !s.inBlock:
			if s.final {
				s.ended = true
				break
			}
			s.fill(headerLookahead)
			err = s.startBlock()
		case s.stored >= 0:
			err = s.copyStored()
		default:
			s.fill(fastInputSlack)
			inputComplete := s.eof || s.rerr != nil
			var out int
			out, err = decodeHuffman(s.win[s.base:], s.wpos-s.base, &s.br, s.codes, inputComplete, len(s.win)-s.base-fastOutputSlack)
			s.wpos = s.base + out
			if err == nil {
				s.inBlock = false
			} else if err == errPaused {
				err = nil
			}
		}
		if err != nil {
			if s.br.truncated() {
				return ErrUnexpectedEnd
			}
			return err
		}
	}
	return nil
}

// startBlock reads a block header.
func (s *stream) startBlock() error {
	br := &s.br
	if !br.refill() {
		return ErrUnexpectedEnd
	}
	s.final = br.take(1) == 1
	s.stored = -1
	switch br.take(2) {
	case 0:
		n, err := storedHeader(br)
		if err != nil {
			return err
		}
		s.stored = n
	case 1:
		s.codes = fixedCodes
	case 2:
		if err := s.d.readDynamicTables(br); err != nil {
			return err
		}
		s.codes = s.d.dynamicCodes()
	default:
		return CorruptError("block type 3 is reserved")
	}
	s.inBlock = true
	return nil
}

// copyStored copies as much of a stored block as input and room allow.
func (s *stream) copyStored() error {
	if s.stored == 0 {
		s.inBlock = false
		return nil
	}
	s.fill(1)
	avail := len(s.br.src) - s.br.in
	if avail == 0 {
		return ErrUnexpectedEnd
	}
	n := copy(s.win[s.wpos:], s.br.src[s.br.in:s.br.in+min(s.stored, avail)])
	s.wpos += n
	s.br.in += n
	s.stored -= n
	return nil
}

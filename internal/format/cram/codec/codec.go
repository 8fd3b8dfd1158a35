// Package codec decompresses CRAM blocks: it maps the block compression
// method numbers of CRAM 3.0 and 3.1 to their decoders (gzip from the
// project's inflate package, bzip2 and xz from Go libraries, the
// CRAM-specific ones from the sub-packages rans4x8, ransnx16, arith,
// fqzcomp and tok3), and checks that each block decodes to the size its
// header declares.
package codec

import (
	"bytes"
	"compress/bzip2"
	"fmt"
	"io"
	"sync"

	"github.com/ulikunitz/xz"

	"github.com/seqstore/seqstore/internal/format/cram/codec/arith"
	"github.com/seqstore/seqstore/internal/format/cram/codec/fqzcomp"
	"github.com/seqstore/seqstore/internal/format/cram/codec/rans4x8"
	"github.com/seqstore/seqstore/internal/format/cram/codec/ransnx16"
	"github.com/seqstore/seqstore/internal/format/cram/codec/tok3"
	"github.com/seqstore/seqstore/internal/format/inflate"
)

// gzipReaders keeps gzip readers, and their buffers, for reuse: a CRAM
// container holds dozens of blocks, and decoding workers run side by side.
var gzipReaders = sync.Pool{New: func() any { return inflate.NewGzipReader(nil) }}

// Method is a block compression method number.
type Method byte

// Block compression methods of CRAM 3.1, section 8.
const (
	Raw      Method = 0
	Gzip     Method = 1
	Bzip2    Method = 2
	LZMA     Method = 3 // xz container, as htslib writes it
	Rans4x8  Method = 4
	RansNx16 Method = 5
	Arith    Method = 6
	Fqzcomp  Method = 7
	Tok3     Method = 8
)

var names = [...]string{"raw", "gzip", "bzip2", "lzma", "rans4x8", "ransNx16", "arith", "fqzcomp", "tok3"}

func (m Method) String() string {
	if int(m) < len(names) {
		return names[m]
	}
	return fmt.Sprintf("method(%d)", byte(m))
}

// MaxRawSize bounds the raw size of one block.
const MaxRawSize = 1 << 30

// Scratch is the most memory decoding a block of rawSize bytes with method
// m may allocate besides its output, for callers that account memory
// before it is allocated: the rANS Nx16 and arithmetic coders' run-length,
// pack and stripe transforms decode to intermediate buffers, the
// name tokeniser to its token streams, and the stream formats' readers
// grow their output by doubling.
func Scratch(m Method, rawSize int) int {
	switch m {
	case Raw, Rans4x8, Fqzcomp, Tok3:
		// The name tokeniser reports its scratch to DecompressAccount.
		return 0
	}
	return rawSize
}

// Decompress decodes the data of one block compressed with method m,
// whose header declares rawSize uncompressed bytes. The output is written
// to dst when its capacity suffices (raw blocks are copied), otherwise to a
// new slice; it is an error unless exactly rawSize bytes come out.
func Decompress(m Method, src []byte, rawSize int, dst []byte) ([]byte, error) {
	return DecompressAccount(m, src, rawSize, dst, nil)
}

// DecompressAccount is Decompress that reports the name tokeniser's
// scratch, which can be many times its output, to take as
// tok3.DecodeAccount does; take may be nil.
func DecompressAccount(m Method, src []byte, rawSize int, dst []byte, take func(int) error) ([]byte, error) {
	if rawSize < 0 || rawSize > MaxRawSize {
		return nil, fmt.Errorf("%v block: raw size %d out of range", m, rawSize)
	}
	var out []byte
	var err error
	switch m {
	case Raw:
		out = append(dst[:0], src...)
	case Gzip:
		r := gzipReaders.Get().(*inflate.GzipReader)
		r.Reset(bytes.NewReader(src))
		out, err = readAll(r, dst, rawSize)
		gzipReaders.Put(r)
	case Bzip2:
		out, err = readAll(bzip2.NewReader(bytes.NewReader(src)), dst, rawSize)
	case LZMA:
		// The dictionaries are bounded first: the library allocates what
		// the stream declares.
		var bounded []byte
		if bounded, err = boundXZDictionaries(src, rawSize); err == nil {
			var r *xz.Reader
			cfg := xz.ReaderConfig{DictCap: xzMinDict, SingleStream: true}
			if r, err = cfg.NewReader(bytes.NewReader(bounded)); err == nil {
				out, err = readAll(r, dst, rawSize)
			}
		}
	case Rans4x8:
		out, err = rans4x8.DecodeLimit(src, dst, rawSize)
	case RansNx16:
		out, err = ransnx16.DecodeLimit(src, dst, rawSize)
	case Arith:
		out, err = arith.DecodeLimit(src, dst, rawSize)
	case Fqzcomp:
		out, err = fqzcomp.DecodeLimit(src, dst, rawSize)
	case Tok3:
		out, err = tok3.DecodeAccount(src, dst, rawSize, take)
	default:
		return nil, fmt.Errorf("unknown block compression method %d", byte(m))
	}
	if err != nil {
		return nil, fmt.Errorf("%v block: %w", m, err)
	}
	if len(out) != rawSize {
		return nil, fmt.Errorf("%v block: decoded %d bytes, header declares %d", m, len(out), rawSize)
	}
	return out, nil
}

// readAll reads r to its end into dst, failing past size bytes. Unless dst
// already has room, the output grows as data arrives, up to size: a stream
// that declares much and holds little costs little.
func readAll(r io.Reader, dst []byte, size int) ([]byte, error) {
	out := dst[:0]
	if cap(out) < size {
		out = make([]byte, 0, min(size, 1<<20))
	}
	for {
		if len(out) == cap(out) && len(out) < size {
			grown := make([]byte, len(out), min(2*cap(out), size))
			copy(grown, out)
			out = grown
		}
		if len(out) == cap(out) {
			// One byte beyond the declared size proves the block too long.
			var one [1]byte
			n, err := io.ReadFull(r, one[:])
			if n > 0 {
				return nil, fmt.Errorf("data inflates past %d bytes", size)
			}
			if err == io.EOF || err == io.ErrUnexpectedEOF {
				return out, nil
			}
			return nil, err
		}
		n, err := r.Read(out[len(out):cap(out)])
		out = out[:len(out)+n]
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
	}
}

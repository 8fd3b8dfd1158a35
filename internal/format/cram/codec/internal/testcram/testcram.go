// Package testcram is test support for the CRAM codec packages: it makes
// CRAM files with samtools and walks their containers and blocks so that
// every compressed block becomes a test vector with a known method and raw
// size. It is deliberately minimal (no record decoding) and is imported by
// tests only.
package testcram

import (
	"bytes"
	"compress/bzip2"
	"compress/gzip"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/seqstore/seqstore/internal/format/cram/codec/itf8"
	"github.com/seqstore/seqstore/internal/testutil"
)

// Block compression methods as numbered in the CRAM 3.1 specification.
const (
	MethodRaw      = 0
	MethodGzip     = 1
	MethodBzip2    = 2
	MethodLZMA     = 3
	MethodRans4x8  = 4
	MethodRansNx16 = 5
	MethodArith    = 6
	MethodFqzcomp  = 7
	MethodTok3     = 8
)

// Block content types.
const (
	ContentFileHeader        = 0
	ContentCompressionHeader = 1
	ContentSliceHeader       = 2
	ContentExternal          = 4
	ContentCore              = 5
)

// Block is one block of a CRAM file.
type Block struct {
	Container   int   // container number, 0 for the file header container
	Method      byte  // compression method
	ContentType byte  // content type
	ContentID   int32 // external content ID
	RawSize     int   // declared uncompressed size
	Offset      int64 // file offset of Data
	Data        []byte
}

// Blocks walks a whole CRAM file (version 3.x) and returns every block in
// file order, checking the block CRC32s.
func Blocks(file []byte) ([]Block, error) {
	if len(file) < 26 || string(file[:4]) != "CRAM" {
		return nil, fmt.Errorf("not a CRAM file")
	}
	if file[4] != 3 {
		return nil, fmt.Errorf("CRAM major version %d, want 3", file[4])
	}
	var blocks []Block
	off := 26
	for container := 0; off < len(file); container++ {
		start := off
		if len(file)-off < 4 {
			return nil, fmt.Errorf("container %d: truncated at byte %d", container, off)
		}
		length := int(int32(binary.LittleEndian.Uint32(file[off:])))
		off += 4
		// reference id, start, span, records: ITF-8; record counter, bases: LTF-8
		for i := 0; i < 4; i++ {
			if _, n, err := itf8.ReadITF8(file[off:]); err != nil {
				return nil, fmt.Errorf("container %d header at byte %d: %w", container, off, err)
			} else {
				off += n
			}
		}
		for i := 0; i < 2; i++ {
			if _, n, err := itf8.ReadLTF8(file[off:]); err != nil {
				return nil, fmt.Errorf("container %d header at byte %d: %w", container, off, err)
			} else {
				off += n
			}
		}
		nblocks, n, err := itf8.ReadITF8(file[off:])
		if err != nil {
			return nil, fmt.Errorf("container %d block count at byte %d: %w", container, off, err)
		}
		off += n
		nland, n, err := itf8.ReadITF8(file[off:])
		if err != nil || nland < 0 {
			return nil, fmt.Errorf("container %d landmarks at byte %d: %v", container, off, err)
		}
		off += n
		for i := int32(0); i < nland; i++ {
			_, n, err := itf8.ReadITF8(file[off:])
			if err != nil {
				return nil, fmt.Errorf("container %d landmark at byte %d: %w", container, off, err)
			}
			off += n
		}
		if len(file)-off < 4 {
			return nil, fmt.Errorf("container %d: truncated CRC at byte %d", container, off)
		}
		if got, want := crc32.ChecksumIEEE(file[start:off]), binary.LittleEndian.Uint32(file[off:]); got != want {
			return nil, fmt.Errorf("container %d at byte %d: header CRC %08x, want %08x", container, start, got, want)
		}
		off += 4
		end := off + length
		if length < 0 || end > len(file) {
			return nil, fmt.Errorf("container %d at byte %d: length %d past end of file", container, start, length)
		}
		for b := int32(0); b < nblocks && off < end; b++ {
			bstart := off
			if end-off < 2 {
				return nil, fmt.Errorf("container %d block %d: truncated at byte %d", container, b, off)
			}
			blk := Block{Container: container, Method: file[off], ContentType: file[off+1]}
			off += 2
			var vals [3]int32
			for i := range vals {
				v, n, err := itf8.ReadITF8(file[off:end])
				if err != nil {
					return nil, fmt.Errorf("container %d block %d header at byte %d: %w", container, b, off, err)
				}
				vals[i] = v
				off += n
			}
			blk.ContentID, blk.RawSize = vals[0], int(vals[2])
			csize := int(vals[1])
			if csize < 0 || off+csize+4 > end {
				return nil, fmt.Errorf("container %d block %d at byte %d: size %d past container end", container, b, bstart, csize)
			}
			blk.Offset = int64(off)
			blk.Data = file[off : off+csize]
			off += csize
			if got, want := crc32.ChecksumIEEE(file[bstart:off]), binary.LittleEndian.Uint32(file[off:]); got != want {
				return nil, fmt.Errorf("container %d block %d at byte %d: CRC %08x, want %08x", container, b, bstart, got, want)
			}
			off += 4
			blocks = append(blocks, blk)
		}
		off = end
	}
	return blocks, nil
}

// Samtools runs samtools view on input writing CRAM with the given
// --output-fmt options (for example "version=3.1,archive") and returns the
// file's bytes. ref, when not empty, is the reference FASTA. The file is
// written to the test's temporary directory.
func Samtools(t testing.TB, input, ref, fmtOpts string, extra ...string) []byte {
	t.Helper()
	testutil.RequireTool(t, "samtools")
	out := filepath.Join(t.TempDir(), "out.cram")
	args := []string{"view", "--no-PG", "-O", "cram," + fmtOpts, "-o", out}
	if ref != "" {
		args = append(args, "-T", ref)
	}
	args = append(args, extra...)
	args = append(args, input)
	testutil.Run(t, "samtools", args...)
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// HtslibTestDir is where Debian's htslib-test package installs its data.
const HtslibTestDir = "/usr/share/htslib-test/test"

// Bowtie2ReadsDir holds the lambda phage example reads of bowtie2-examples.
const Bowtie2ReadsDir = "/usr/share/doc/bowtie2/examples/reads"

// LambdaReads returns an unaligned SAM file of the first n read pairs of the
// bowtie2 lambda phage example, made with samtools import in a temporary
// directory. Unaligned reads need no reference, and their sequences,
// qualities and names pass through CRAM unchanged.
func LambdaReads(t testing.TB, n int) string {
	t.Helper()
	testutil.RequireTool(t, "samtools")
	testutil.RequireDir(t, Bowtie2ReadsDir)
	dir := t.TempDir()
	fq := [2]string{filepath.Join(dir, "r1.fq"), filepath.Join(dir, "r2.fq")}
	for i, name := range []string{"reads_1.fq.gz", "reads_2.fq.gz"} {
		cmd := exec.Command("sh", "-c", fmt.Sprintf("gzip -dc %q | head -n %d > %q", filepath.Join(Bowtie2ReadsDir, name), 4*n, fq[i]))
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("extracting reads: %v\n%s", err, out)
		}
	}
	sam := filepath.Join(dir, "reads.sam")
	testutil.Run(t, "samtools", "import", "-1", fq[0], "-2", fq[1], "-o", sam)
	return sam
}

// DecodeFunc decompresses one block; it returns handled=false for methods
// it does not know.
type DecodeFunc func(b Block) (out []byte, handled bool, err error)

// DecodeStandard handles the methods Go's standard library decodes: raw,
// gzip and bzip2.
func DecodeStandard(b Block) ([]byte, bool, error) {
	switch b.Method {
	case MethodRaw:
		return b.Data, true, nil
	case MethodGzip:
		r, err := gzip.NewReader(bytes.NewReader(b.Data))
		if err != nil {
			return nil, true, err
		}
		out, err := io.ReadAll(r)
		return out, true, err
	case MethodBzip2:
		out, err := io.ReadAll(bzip2.NewReader(bytes.NewReader(b.Data)))
		return out, true, err
	}
	return nil, false, nil
}

// Streams decodes every external block with the first DecodeFunc that
// handles its method and concatenates the results per content ID, in file
// order: the whole data series of a file, independent of how each block was
// compressed. Each decoded block must have its declared raw size.
func Streams(t testing.TB, blocks []Block, decoders ...DecodeFunc) map[int32][]byte {
	t.Helper()
	streams := map[int32][]byte{}
	for _, b := range blocks {
		if b.ContentType != ContentExternal {
			continue
		}
		var out []byte
		handled := false
		for _, d := range decoders {
			var err error
			out, handled, err = d(b)
			if err != nil {
				t.Fatalf("block at byte %d (method %d, content %d): %v", b.Offset, b.Method, b.ContentID, err)
			}
			if handled {
				break
			}
		}
		if !handled {
			t.Fatalf("block at byte %d: no decoder for method %d", b.Offset, b.Method)
		}
		if len(out) != b.RawSize {
			t.Fatalf("block at byte %d (method %d, content %d): decoded %d bytes, header says %d", b.Offset, b.Method, b.ContentID, len(out), b.RawSize)
		}
		streams[b.ContentID] = append(streams[b.ContentID], out...)
	}
	return streams
}

// CompareStreams checks that two files hold the same data series.
func CompareStreams(t testing.TB, got, want map[int32][]byte) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%d content IDs, want %d", len(got), len(want))
	}
	for id, w := range want {
		g, ok := got[id]
		if !ok {
			t.Errorf("content ID %d missing", id)
			continue
		}
		if !bytes.Equal(g, w) {
			i := 0
			for i < len(g) && i < len(w) && g[i] == w[i] {
				i++
			}
			t.Errorf("content ID %d: %d bytes differ from reference %d bytes at offset %d", id, len(g), len(w), i)
		}
	}
}

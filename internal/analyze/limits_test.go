package analyze

import (
	"bytes"
	"compress/gzip"
	"context"
	bin "encoding/binary"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/seqstore/seqstore/internal/etag"
	"github.com/seqstore/seqstore/internal/format/bam"
	"github.com/seqstore/seqstore/internal/format/bam/bamtest"
	"github.com/seqstore/seqstore/internal/testutil/heapcap"
)

// gzipBomb is a gzip stream of head followed by n MiB of the repeated
// tail, about 1 KB compressed per MiB: concatenated members, which gzip
// readers read as one stream, so that it is made without holding or
// compressing the gigabytes it expands to.
func gzipBomb(t testing.TB, head, tail string, mib int) io.Reader {
	member := gz(t, []byte(strings.Repeat(tail, (1<<20)/len(tail))))
	first := gz(t, []byte(head))
	return heapcap.Repeat(first, member, int64(len(first)+mib*len(member)))
}

// TestFASTQHostileUploads are the uploads that took the server down: a
// gzip of a name line and a gigabyte without a newline, or of a gigabyte of
// sequence lines. They must fail the read set with a message that names
// the limit and the record, holding little memory meanwhile.
func TestFASTQHostileUploads(t *testing.T) {
	tests := []struct {
		name, head, tail string
		lim              Limits
		want             string
	}{
		{"1 GiB line", "@r\n", "A", Limits{},
			"source1, record 1 (line 2): line 2 exceeds the limit max-fastq-line=16MiB; raise that setting to accept the file"},
		{"1 GiB of sequence lines", "@r\n", "ACGTACGTACGTACGTACGTACGTACGTACGTACGTACGTACGTACGTACGTACGTACGTACG\n", Limits{},
			"source1, record 1 (line 532612): record 1 exceeds the limit max-fastq-record=32MiB; raise that setting to accept the file"},
		{"lower limits", "@r\n", "A", Limits{FASTQLine: 1 << 20},
			"source1, record 1 (line 2): line 2 exceeds the limit max-fastq-line=1MiB; raise that setting to accept the file"},
		{"decompressed cap", "", "@r\nACGT\n+\nIIII\n", Limits{Decompressed: 10 << 20},
			// The record is the one being read when the reading, a buffer
			// ahead of the parsing, passed the cap.
			"the uncompressed data exceeds the limit max-decompressed=10MiB; raise that setting to accept the file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := gzipBomb(t, tt.head, tt.tail, 1024)
			var err error
			heapcap.Check(t, heapcap.Ceiling, func() {
				_, err = FASTQ(context.Background(), []io.Reader{src}, []io.Writer{io.Discard}, []etag.Family{etag.MD5up}, tt.lim)
			})
			var ae *Error
			if !errors.As(err, &ae) || !strings.HasPrefix(err.Error(), "source1, record ") || !strings.HasSuffix(err.Error(), tt.want) {
				t.Fatalf("got %v, want the analysis error %q", err, tt.want)
			}
		})
	}
}

// TestBAMHostileHeader is the BAM whose header declares 20 million
// reference sequences, 542 KB compressed, that took inspect to 2.3 GB.
func TestBAMHostileHeader(t *testing.T) {
	le := bin.LittleEndian
	head := le.AppendUint32(le.AppendUint32(append([]byte{}, bam.Magic...), 0), 20_000_000)
	ref := le.AppendUint32(append(le.AppendUint32(nil, 2), 'c', 0), 1000)
	for _, tt := range []struct {
		name string
		lim  Limits
		want string
	}{
		{"default limits", Limits{}, "source1, header (BGZF block at byte 0): the header's 20000000 reference sequences exceeds the limit max-references=1048576"},
		{"a lower limit", Limits{References: 1000}, "the header's 20000000 reference sequences exceeds the limit max-references=1000"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			src := bamtest.Stream(head, ref, int64(len(head))+200<<20)
			defer src.Close()
			var err error
			heapcap.Check(t, heapcap.Ceiling, func() {
				_, err = BAM(context.Background(), src, FileTypeBAM, io.Discard, []etag.Family{etag.MD5up}, tt.lim)
			})
			var ae *Error
			if !errors.As(err, &ae) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v, want an analysis error containing %q", err, tt.want)
			}
		})
	}
}

// TestDecompressedCapBAM caps what a real BAM may decompress to.
func TestDecompressedCapBAM(t *testing.T) {
	file, _ := lambdaBAM(t)
	data := mustRead(t, file)
	_, err := BAM(context.Background(), bytes.NewReader(data), FileTypeBAM, io.Discard, []etag.Family{etag.MD5up}, Limits{Decompressed: 1 << 20})
	var ae *Error
	if !errors.As(err, &ae) || !strings.Contains(err.Error(), "the uncompressed data exceeds the limit max-decompressed=1MiB") {
		t.Fatalf("got %v, want the decompressed cap's error", err)
	}
}

// TestSourceBytes checks the byte counts a caller logs the compression
// ratio from.
func TestSourceBytes(t *testing.T) {
	plain := bytes.Repeat(fq("r", "ACGTACGTAC", "IIIIIIIIII"), 50000)
	packed := gz(t, plain)
	res, err := FASTQ(context.Background(), []io.Reader{bytes.NewReader(packed), bytes.NewReader(plain)}, nil, []etag.Family{etag.MD5up}, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	want := []SourceBytes{{int64(len(packed)), int64(len(plain))}, {int64(len(plain)), int64(len(plain))}}
	if len(res.Sources) != 2 || res.Sources[0] != want[0] || res.Sources[1] != want[1] {
		t.Errorf("FASTQ: got %+v, want %+v", res.Sources, want)
	}

	file, _ := lambdaBAM(t)
	data := mustRead(t, file)
	zr, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	inflated, err := io.Copy(io.Discard, zr)
	if err != nil {
		t.Fatal(err)
	}
	res, err = BAM(context.Background(), bytes.NewReader(data), FileTypeBAM, io.Discard, []etag.Family{etag.MD5up}, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if want := (SourceBytes{int64(len(data)), inflated}); len(res.Sources) != 1 || res.Sources[0] != want {
		t.Errorf("BAM: got %+v, want %+v", res.Sources, want)
	}
	if r := res.Sources[0].Ratio(); r < 1.5 {
		t.Errorf("BAM compression ratio %.2f", r)
	}
}

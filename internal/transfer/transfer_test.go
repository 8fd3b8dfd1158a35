package transfer

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/omics"
	"github.com/aws/aws-sdk-go-v2/service/omics/types"
)

func tempFile(t *testing.T, b []byte) *os.File {
	t.Helper()
	path := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	r := rand.New(rand.NewPCG(1, 2))
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

func sha(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// The SDK measures a body by seeking and rewinds it for a retry; the sum
// must be of exactly the bytes of the part whatever it did, and the bytes
// reported as sent must come back to zero on a rewind.
func TestPartBody(t *testing.T) {
	data := randomBytes(10_000)
	f := tempFile(t, data)
	s := &source{label: "source1", f: f, layout: newLayout(int64(len(data)), 4000)}
	for _, tc := range []struct {
		name     string
		do       func(b *partBody)
		wantSent int64
	}{
		{"measured then read", func(b *partBody) {
			b.Seek(0, io.SeekCurrent)
			b.Seek(0, io.SeekEnd)
			b.Seek(0, io.SeekStart)
			io.ReadAll(b)
		}, 4000},
		{"retried after half", func(b *partBody) {
			io.CopyN(io.Discard, b, 1234)
			b.Seek(0, io.SeekStart)
			io.ReadAll(b)
		}, 4000},
		{"read from the middle", func(b *partBody) {
			b.Seek(100, io.SeekStart)
			io.ReadAll(b)
		}, 3900},
		{"not read to the end", func(b *partBody) {
			io.CopyN(io.Discard, b, 10)
		}, 10},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var sent int64
			off, length := s.part(2)
			b := &partBody{r: io.NewSectionReader(f, off, length), h: sha256.New(), valid: true, sent: func(n int64) { sent += n }}
			tc.do(b)
			got, err := b.sum(s, 2)
			if err != nil {
				t.Fatal(err)
			}
			if want := sha(data[4000:8000]); got != want {
				t.Errorf("sum %s, want %s", got, want)
			}
			if sent != tc.wantSent {
				t.Errorf("reported %d bytes sent, want %d", sent, tc.wantSent)
			}
			b.rewind()
			if sent != 0 {
				t.Errorf("after rewind %d bytes still reported sent", sent)
			}
		})
	}
	if _, length := s.part(3); length != 2000 {
		t.Errorf("last part is %d bytes, want 2000", length)
	}
}

// Parts landing in any order are read back in order, and a failure wakes a
// waiting reader.
func TestPrefixReader(t *testing.T) {
	data := randomBytes(1 << 20)
	const partSize = 100_000
	l := newLayout(int64(len(data)), partSize)
	parts := l.parts
	path := filepath.Join(t.TempDir(), "f")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	f.Truncate(int64(len(data)))
	a := newArrivals(l)
	got := make(chan []byte)
	go func() {
		b, _ := io.ReadAll(&prefixReader{f: f, a: a})
		got <- b
	}()
	for _, n := range rand.New(rand.NewPCG(3, 4)).Perm(parts) {
		off := n * partSize
		f.WriteAt(data[off:min(off+partSize, len(data))], int64(off))
		a.add(n + 1)
	}
	if b := <-got; !bytes.Equal(b, data) {
		t.Errorf("read %d bytes, not the file's %d", len(b), len(data))
	}

	// Parts written front to back in small writes, the last part first.
	a = newArrivals(l)
	go func() {
		b, _ := io.ReadAll(&prefixReader{f: f, a: a})
		got <- b
	}()
	for i := parts - 1; i >= 0; i-- {
		for n := int64(0); n < a.partLength(i); {
			n = min(n+7000, a.partLength(i))
			a.wrote(i, n)
		}
	}
	if b := <-got; !bytes.Equal(b, data) {
		t.Errorf("read %d bytes, not the file's %d", len(b), len(data))
	}

	a = newArrivals(l)
	errc := make(chan error)
	go func() {
		_, err := io.ReadAll(&prefixReader{f: f, a: a})
		errc <- err
	}()
	a.add(1)
	boom := errors.New("download failed")
	a.fail(boom)
	if err := <-errc; err != boom {
		t.Errorf("reader ended with %v, want %v", err, boom)
	}
}

func TestIsSHA256(t *testing.T) {
	for s, want := range map[string]bool{
		sha([]byte("x")): true,
		"ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef0123456789": false,
		"abc":                                   false,
		"opaque-identifier-from-another-server": false,
		sha([]byte("x"))[:63] + "g":             false,
	} {
		if got := isSHA256(s); got != want {
			t.Errorf("isSHA256(%q) = %v", s, got)
		}
	}
}

func TestFileName(t *testing.T) {
	md := &omics.GetReadSetMetadataOutput{Id: aws.String("1234567890"), FileType: types.FileTypeBam}
	uri := func(s string) *types.FileInformation {
		return &types.FileInformation{S3Access: &types.ReadSetS3Access{S3Uri: aws.String(s)}}
	}
	for _, tc := range []struct {
		file types.ReadSetFile
		info *types.FileInformation
		want string
	}{
		{types.ReadSetFileSource1, uri("s3://bucket/123/sequenceStore/1/readSet/1234567890/sample.bam"), "sample.bam"},
		{types.ReadSetFileIndex, uri("s3://bucket/123/sequenceStore/1/readSet/1234567890/sample.bam.bai"), "sample.bam.bai"},
		{types.ReadSetFileSource1, &types.FileInformation{}, "1234567890_source1.bam"},
		{types.ReadSetFileIndex, &types.FileInformation{}, "1234567890_index.bam.bai"},
		{types.ReadSetFileSource1, uri("s3://bucket/readSet/1234567890/.."), "1234567890_source1.bam"},
		{types.ReadSetFileSource1, uri("s3://bucket/readSet/1234567890/"), "1234567890_source1.bam"},
	} {
		if got := fileName(md, tc.file, tc.info); got != tc.want {
			t.Errorf("%s %v: %q, want %q", tc.file, tc.info.S3Access, got, tc.want)
		}
	}
}

package compress

import (
	"bytes"
	"io"
	"testing"

	"github.com/seqstore/seqstore/internal/testutil/leak"
	"github.com/seqstore/seqstore/internal/testutil/panicky"
)

// A source that panics when the decompressing goroutine reads it fails the
// stream's Read, after the data before it, instead of the process.
func TestSourcePanicIsAReadError(t *testing.T) {
	data := reads(4 << 20)
	for _, c := range []struct {
		name  string
		in    []byte
		after int64 // compressed bytes read before the panic
	}{
		// Open reads the header itself; the next read is the goroutine's.
		{"gzip, right after the header", gz(data), SniffSize},
		{"gzip, mid-stream", gz(data), 300 << 10},
		{"BGZF, mid-stream", bgz(data), 300 << 10},
	} {
		t.Run(c.name, func(t *testing.T) {
			if int64(len(c.in)) <= c.after {
				t.Fatalf("the input has only %d bytes", len(c.in))
			}
			done := leak.Check(t)
			rc, _, err := Open(panicky.Reader(bytes.NewReader(c.in), c.after))
			if err != nil {
				t.Fatal(err)
			}
			got, err := io.ReadAll(rc)
			if !panicky.Caught(err) {
				t.Fatalf("got error %v, want the panic as a *panics.Error with its stack", err)
			}
			if !bytes.Equal(got, data[:len(got)]) {
				t.Errorf("the %d bytes before the error are not the data", len(got))
			}
			rc.Close()
			done()
		})
	}
}

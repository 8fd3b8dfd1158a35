package analyze

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"sync/atomic"
	"testing"

	"github.com/seqstore/seqstore/internal/etag"
)

// An analysis adds the records it reads to its context's counter, a stride
// at a time, so a progress line can say how many.
func TestRecordCounterCountsFASTQRecords(t *testing.T) {
	for _, reads := range []int{10, progressStride, 5*progressStride + 7} {
		var in bytes.Buffer
		for i := range reads {
			fmt.Fprintf(&in, "@r%d\nACGT\n+\nIIII\n", i)
		}
		var n atomic.Int64
		res, err := FASTQ(WithRecordCounter(context.Background(), &n), []io.Reader{&in}, []io.Writer{io.Discard}, []etag.Family{etag.MD5up}, Limits{})
		if err != nil {
			t.Fatal(err)
		}
		if res.ReadCount != int64(reads) {
			t.Fatalf("%d reads counted, want %d", res.ReadCount, reads)
		}
		if got, want := n.Load(), int64(reads/progressStride*progressStride); got != want && got != want-progressStride {
			t.Errorf("%d reads: the counter says %d, want %d (or one stride less)", reads, got, want)
		}
	}
}

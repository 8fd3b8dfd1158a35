package cram

import (
	"bytes"
	"io"
	"testing"

	"github.com/seqstore/seqstore/internal/format/sam"
	"github.com/seqstore/seqstore/internal/testutil/leak"
	"github.com/seqstore/seqstore/internal/testutil/panicky"
)

// panickyReference panics when asked for a sequence, as a faulty reference
// store would, on the worker decoding the slice.
type panickyReference struct{}

func (panickyReference) Bases(string, int64, int64) ([]byte, int64, error) { panic(panicky.Value) }

// A panic on the Reader's goroutines, of the source on the goroutine that
// reads containers or of the reference on a decoding worker, fails Read
// after the records before it instead of the process.
func TestPanicIsAReadError(t *testing.T) {
	data, fa := manyContainers(t)
	for _, tc := range []struct {
		name    string
		src     io.Reader
		ref     ReferenceSource
		workers int
	}{
		// The header is read by NewReader; the rest by the goroutine.
		{"source, mid-stream", panicky.Reader(bytes.NewReader(data), int64(len(data)/2)), fa, 2},
		{"reference, one worker", bytes.NewReader(data), panickyReference{}, 1},
		{"reference, two workers", bytes.NewReader(data), panickyReference{}, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			done := leak.Check(t)
			rd, err := NewReaderOptions(tc.src, tc.ref, Options{Workers: tc.workers})
			if err != nil {
				t.Fatal(err)
			}
			var rec sam.Record
			for err == nil {
				err = rd.Read(&rec)
			}
			if !panicky.Caught(err) {
				t.Fatalf("after %d records: got error %v, want the panic as a *panics.Error with its stack", rd.Records(), err)
			}
			if err := rd.Read(&rec); err == nil {
				t.Error("a Read after the panic succeeded")
			}
			rd.Close()
			done()
		})
	}
}

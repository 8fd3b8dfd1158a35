package cram

import (
	"bytes"
	"io"
	"os"
	"runtime"
	"testing"
	"time"

	"github.com/seqstore/seqstore/internal/format/fasta"
	"github.com/seqstore/seqstore/internal/format/sam"
)

// render decodes a whole file with the given options.
func render(t *testing.T, path string, ref ReferenceSource, opt Options) []byte {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rd, err := NewReaderOptions(f, ref, opt)
	if err != nil {
		t.Fatal(err)
	}
	defer rd.Close()
	var out []byte
	var rec sam.Record
	for {
		if err := rd.Read(&rec); err == io.EOF {
			return out
		} else if err != nil {
			t.Fatal(err)
		}
		out, _ = sam.AppendText(out, &rec, rd.Header().References)
	}
}

// TestWorkersAgree decodes a many-container file with one, two and four
// workers: records must come out in the same order.
func TestWorkersAgree(t *testing.T) {
	lf := lambdaData(t)
	c := makeCRAM(t, t.TempDir(), lf.sorted, lf.ref, "many.cram", "version=3.0,seqs_per_slice=500")
	fa, err := fasta.Open(lf.ref)
	if err != nil {
		t.Fatal(err)
	}
	defer fa.Close()
	one := render(t, c, fa, Options{Workers: 1})
	for _, w := range []int{2, 4} {
		if got := render(t, c, fa, Options{Workers: w}); !bytes.Equal(got, one) {
			t.Errorf("%d workers give %d bytes, one worker %d", w, len(got), len(one))
		}
	}
}

// TestCloseEarly stops reading after a few records: Close must let every
// goroutine end.
func TestCloseEarly(t *testing.T) {
	lf := lambdaData(t)
	c := makeCRAM(t, t.TempDir(), lf.sorted, lf.ref, "early.cram", "version=3.0,seqs_per_slice=200")
	fa, err := fasta.Open(lf.ref)
	if err != nil {
		t.Fatal(err)
	}
	defer fa.Close()
	before := runtime.NumGoroutine()
	for range 5 {
		f, err := os.Open(c)
		if err != nil {
			t.Fatal(err)
		}
		rd, err := NewReader(f, fa)
		if err != nil {
			t.Fatal(err)
		}
		var rec sam.Record
		for range 10 {
			if err := rd.Read(&rec); err != nil {
				t.Fatal(err)
			}
		}
		rd.Close()
		rd.Close()
		f.Close()
	}
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		t.Errorf("%d goroutines after closing, %d before", n, before)
	}
}

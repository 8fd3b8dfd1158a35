package analyze

import (
	"bytes"
	"context"
	"errors"
	"io"
	"testing"

	"github.com/seqstore/seqstore/internal/etag"
	"github.com/seqstore/seqstore/internal/format/bgzf"
	"github.com/seqstore/seqstore/internal/format/cram"
	"github.com/seqstore/seqstore/internal/format/panics"
	"github.com/seqstore/seqstore/internal/testutil/leak"
	"github.com/seqstore/seqstore/internal/testutil/panicky"
)

// panicCase is an analysis of sources one of which, or one of whose stored
// copies, panics part-way on a goroutine the analysis (or a reader or
// writer it uses) starts.
type panicCase struct {
	name string
	data [][]byte
	// panicSource and panicStored pick the source whose reader, or whose
	// stored copy's writer, panics after after bytes (-1: none).
	panicSource, panicStored int
	after                    int64
	run                      func(src []io.Reader, stored []io.Writer) error
}

// failsOnPanic runs c and checks that the panic comes back as a
// *panics.Error with its stack and that, once the analysis returned, none
// of its goroutines runs and none reads a source or writes a copy.
func failsOnPanic(t *testing.T, c panicCase) {
	t.Helper()
	var src []io.Reader
	var stored []io.Writer
	for i, d := range c.data {
		var r io.Reader = bytes.NewReader(d)
		if i == c.panicSource {
			r = panicky.Reader(r, c.after)
		}
		src = append(src, r)
		var w io.Writer = io.Discard
		if i == c.panicStored {
			w = panicky.Writer(w, c.after)
		}
		stored = append(stored, w)
	}
	if err := guardedRun(t, src, stored, c.run); !panicky.Caught(err) {
		t.Errorf("got %v, want the panic as a *panics.Error with its stack", err)
	}
}

func fastqPanicRun(src []io.Reader, stored []io.Writer) error {
	_, err := FASTQ(context.Background(), src, stored, []etag.Family{etag.MD5up}, Limits{})
	return err
}

// A panic of a source or of a stored copy's writer fails the FASTQ
// analysis, whichever goroutine meets it: the gzip or BGZF reader's, the
// source's own (plain input), or the stored copy's BGZF writer's.
func TestFASTQPanicFailsTheAnalysis(t *testing.T) {
	var plain [2][]byte
	plain[0], plain[1] = syntheticPair(4 << 20)
	var bg bytes.Buffer
	w := bgzf.NewWriter(&bg)
	w.Write(plain[1])
	w.Close()
	gz0 := gz(t, plain[0])
	for _, c := range []panicCase{
		{name: "gzip source", data: [][]byte{gz0}, panicSource: 0, panicStored: -1, after: int64(len(gz0) / 2)},
		{name: "plain source", data: [][]byte{plain[0]}, panicSource: 0, panicStored: -1, after: int64(len(plain[0]) / 2)},
		{name: "pair, BGZF source2", data: [][]byte{gz0, bg.Bytes()}, panicSource: 1, panicStored: -1, after: int64(bg.Len() / 2)},
		{name: "pair, gzip source1", data: [][]byte{gz0, bg.Bytes()}, panicSource: 0, panicStored: -1, after: int64(len(gz0) / 2)},
		{name: "stored copy", data: [][]byte{gz0}, panicSource: -1, panicStored: 0, after: 100 << 10},
		{name: "pair, source2's stored copy", data: [][]byte{gz0, bg.Bytes()}, panicSource: -1, panicStored: 1, after: 0},
	} {
		c.run = fastqPanicRun
		t.Run(c.name, func(t *testing.T) { failsOnPanic(t, c) })
	}
}

// A panic of the source, read by the BGZF reader's goroutine, or of the
// stored copy teed from it there, or of the index writer, fails the BAM
// analysis.
func TestBAMPanicFailsTheAnalysis(t *testing.T) {
	file, _ := lambdaBAM(t)
	data := mustRead(t, file)
	index := func(after int64) io.Writer { return panicky.Writer(io.Discard, after) }
	for _, c := range []panicCase{
		{name: "source", panicSource: 0, panicStored: -1, after: int64(len(data) / 2)},
		{name: "stored copy", panicSource: -1, panicStored: 0, after: int64(len(data) / 2)},
		{name: "index", panicSource: -1, panicStored: -1, after: 0},
	} {
		c.data = [][]byte{data}
		idx := io.Discard
		if c.name == "index" {
			idx = index(0)
		}
		c.run = func(src []io.Reader, stored []io.Writer) error {
			_, err := BAM(context.Background(), io.TeeReader(src[0], stored[0]), FileTypeBAM, idx, []etag.Family{etag.MD5up}, Limits{})
			return err
		}
		t.Run(c.name, func(t *testing.T) { failsOnPanic(t, c) })
	}
}

// panickyReference panics when asked for a sequence, on the CRAM reader's
// decoding worker.
type panickyReference struct{}

func (panickyReference) Bases(string, int64, int64) ([]byte, int64, error) { panic(panicky.Value) }

// A panic of the source, read by the CRAM reader's goroutine, of the stored
// copy teed from it there, or of the reference on a decoding worker, fails
// the CRAM analysis.
func TestCRAMPanicFailsTheAnalysis(t *testing.T) {
	data, ref := smallContainerCRAM(t)
	for _, c := range []panicCase{
		{name: "source", panicSource: 0, panicStored: -1, after: int64(len(data) / 2)},
		{name: "stored copy", panicSource: -1, panicStored: 0, after: int64(len(data) / 2)},
		{name: "reference", panicSource: -1, panicStored: -1},
	} {
		c.data = [][]byte{data}
		var rs cram.ReferenceSource = openRef(t, ref)
		if c.name == "reference" {
			rs = panickyReference{}
		}
		c.run = func(src []io.Reader, stored []io.Writer) error {
			_, err := CRAM(context.Background(), io.TeeReader(src[0], stored[0]), rs, io.Discard, []etag.Family{etag.MD5up}, Limits{})
			return err
		}
		t.Run(c.name, func(t *testing.T) { failsOnPanic(t, c) })
	}
}

// A panic of the hashing goroutine (here a nil hasher's) stops the
// renderer at its next hand-over instead of leaving it waiting for an
// empty buffer, and stop returns the panic.
func TestHashingPanicStopsTheRenderer(t *testing.T) {
	done := leak.Check(t)
	hashing, text := startHashing(nil, textBuffers, 1<<10)
	var err error
	for range 100 {
		if text, err = hashing.hand(append(text, "r\t4\t*\n"...)); err != nil {
			break
		}
	}
	if err == nil {
		t.Fatal("hand-overs went on after hashing panicked")
	}
	var pe *panics.Error
	if serr := hashing.stop(); !errors.As(serr, &pe) || len(pe.Stack) == 0 {
		t.Fatalf("stop returned %v, want the panic as a *panics.Error", serr)
	}
	if serr := hashing.stop(); serr == nil {
		t.Error("a second stop forgot the panic")
	}
	done()
}

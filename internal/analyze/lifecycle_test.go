package analyze

import (
	"bytes"
	"context"
	bin "encoding/binary"
	"errors"
	"io"
	"math/rand/v2"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/seqstore/seqstore/internal/etag"
	"github.com/seqstore/seqstore/internal/format/bgzf"
	"github.com/seqstore/seqstore/internal/testutil"
	"github.com/seqstore/seqstore/internal/testutil/leak"
)

// failsEarly runs an analysis that fails early on a source with much left
// to read, as ingestion runs it (the source teed into the stored copy), and
// checks that when it returns no goroutine it started still runs and none
// reads the source or writes the copy any more: ingestion then aborts the
// copy, and a late write into it was the reported race.
func failsEarly(t *testing.T, data [][]byte, run func(src []io.Reader, stored []io.Writer) error) {
	t.Helper()
	var src []io.Reader
	var stored []io.Writer
	for _, d := range data {
		src = append(src, leak.Slow(bytes.NewReader(d)))
		stored = append(stored, io.Discard)
	}
	var ae *Error
	if err := guardedRun(t, src, stored, run); !errors.As(err, &ae) {
		t.Errorf("got %v, want an analysis error", err)
	}
}

// guardedRun runs an analysis of src into stored and returns its error,
// checking that once it returned no goroutine it started still runs and
// none reads a source or writes a copy.
func guardedRun(t *testing.T, src []io.Reader, stored []io.Writer, run func(src []io.Reader, stored []io.Writer) error) error {
	t.Helper()
	done := leak.Check(t)
	var g leak.Guard
	for i := range src {
		src[i], stored[i] = g.Reader(src[i]), g.Writer(stored[i])
	}
	err := run(src, stored)
	g.Seal()
	done()
	g.Verify(t)
	return err
}

// smallContainerCRAM writes the lambda alignments as CRAM in containers of
// 500 records, so that many follow any point of the file, and returns its
// bytes and reference.
func smallContainerCRAM(t *testing.T) (data []byte, ref string) {
	bamFile, ref := lambdaSources(t)
	testutil.RequireTool(t, "samtools")
	out := filepath.Join(t.TempDir(), "small.cram")
	if b, err := exec.Command("samtools", "view", "-C", "--output-fmt-option", "seqs_per_slice=500", "-T", ref, "-o", out, bamFile).CombinedOutput(); err != nil {
		t.Fatalf("%v: %s", err, b)
	}
	return mustRead(t, out), ref
}

// TestBAMStopsReadingOnError fails a BAM at a defect early in a long file.
func TestBAMStopsReadingOnError(t *testing.T) {
	file, _ := lambdaBAM(t)
	data := mustRead(t, file)
	// Flip a byte of the deflate data of the second block: its CRC fails.
	bad := append([]byte{}, data...)
	second := int(bin.LittleEndian.Uint16(bad[16:])) + 1
	bad[second+30] ^= 0xff
	mapped := data // a BAM of mapped reads, analysed as UBAM, fails at record 1
	for name, tt := range map[string]struct {
		data     []byte
		fileType string
	}{"corrupt block": {bad, FileTypeBAM}, "mapped read in a uBAM": {mapped, FileTypeUBAM}} {
		t.Run(name, func(t *testing.T) {
			failsEarly(t, [][]byte{bytes.Repeat(tt.data, 20)}, func(src []io.Reader, stored []io.Writer) error {
				_, err := BAM(context.Background(), io.TeeReader(src[0], stored[0]), tt.fileType, io.Discard, []etag.Family{etag.MD5up}, Limits{})
				return err
			})
		})
	}
}

// TestFASTQStopsReadingOnError fails one source of a pair early while the
// other, gzip or BGZF, has much left.
func TestFASTQStopsReadingOnError(t *testing.T) {
	// Random bases and qualities, so that the compressed forms are long
	// too and much is left to read when the analysis fails.
	rng := rand.New(rand.NewPCG(1, 2))
	var good []byte
	for range 20000 {
		seq, qual := make([]byte, 100), make([]byte, 100)
		for i := range seq {
			seq[i], qual[i] = "ACGT"[rng.IntN(4)], byte('!'+rng.IntN(40))
		}
		good = append(good, fq("r/1", string(seq), string(qual))...)
	}
	bad := append(fq("r/1", "ACGT", "IIII"), "@r/1\nAC!T\n+\nIIII\n"...)
	var bg bytes.Buffer
	w := bgzf.NewWriter(&bg)
	w.Write(good)
	w.Close()
	for name, other := range map[string][]byte{"gzip": gz(t, good), "BGZF": bg.Bytes(), "plain": good} {
		for _, order := range []string{"source1 fails", "source2 fails"} {
			t.Run(name+", "+order, func(t *testing.T) {
				data := [][]byte{bad, other}
				if order == "source2 fails" {
					data[0], data[1] = other, bad
				}
				failsEarly(t, data, func(src []io.Reader, stored []io.Writer) error {
					_, err := FASTQ(context.Background(), src, stored, []etag.Family{etag.MD5up}, Limits{})
					return err
				})
			})
		}
	}
}

// TestCRAMStopsReadingOnError fails a CRAM at a corrupt container while
// later containers are still to be read.
func TestCRAMStopsReadingOnError(t *testing.T) {
	data, ref := smallContainerCRAM(t)
	bad := append([]byte{}, data...)
	bad[len(bad)/5] ^= 0xff
	failsEarly(t, [][]byte{bad}, func(src []io.Reader, stored []io.Writer) error {
		_, err := CRAM(context.Background(), io.TeeReader(src[0], stored[0]), openRef(t, ref), nil, []etag.Family{etag.MD5up}, Limits{})
		return err
	})
}

package cram

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/seqstore/seqstore/internal/format/cram/codec/itf8"
	"github.com/seqstore/seqstore/internal/format/fasta"
	"github.com/seqstore/seqstore/internal/format/limit"
	"github.com/seqstore/seqstore/internal/format/sam"
	"github.com/seqstore/seqstore/internal/testutil"
	"github.com/seqstore/seqstore/internal/testutil/heapcap"
	"github.com/seqstore/seqstore/internal/testutil/leak"
)

// render decodes a whole file with the given options.
func render(t *testing.T, path string, ref ReferenceSource, opt Options) []byte {
	t.Helper()
	out, _ := renderReader(t, path, ref, opt)
	return out
}

// renderReader is render that also returns the closed Reader.
func renderReader(t *testing.T, path string, ref ReferenceSource, opt Options) ([]byte, *Reader) {
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
			return out, rd
		} else if err != nil {
			t.Fatal(err)
		}
		out, _ = sam.AppendText(out, &rec, rd.Header().References)
	}
}

// lambdaCRAM writes the lambda alignments as a CRAM with samtools' options
// opts and returns its path and the reference, closed when t ends.
func lambdaCRAM(t *testing.T, name, opts string) (string, *fasta.File) {
	t.Helper()
	lf := lambdaData(t)
	c := makeCRAM(t, t.TempDir(), lf.sorted, lf.ref, name, opts)
	fa, err := fasta.Open(lf.ref)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { fa.Close() })
	return c, fa
}

// readToEnd reads every record of a CRAM stream and returns the closed
// Reader, nil if NewReader failed, and the error that ended the reading
// (io.EOF at the end).
func readToEnd(r io.Reader, ref ReferenceSource, opt Options) (*Reader, error) {
	rd, err := NewReaderOptions(r, ref, opt)
	if err != nil {
		return nil, err
	}
	defer rd.Close()
	var rec sam.Record
	for err == nil {
		err = rd.Read(&rec)
	}
	return rd, err
}

// TestWorkersAgree decodes a many-container file with one, two and four
// workers: records must come out in the same order.
func TestWorkersAgree(t *testing.T) {
	c, fa := lambdaCRAM(t, "many.cram", "version=3.0,seqs_per_slice=500")
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
	c, fa := lambdaCRAM(t, "early.cram", "version=3.0,seqs_per_slice=200")
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

// TestInFlightBound decodes a many-container file under byte budgets that
// hold one container and three: what is in flight never exceeds the budget
// (or one container, when a container alone is bigger), everything is given
// back at the end, and the records do not change.
func TestInFlightBound(t *testing.T) {
	c, fa := lambdaCRAM(t, "bound.cram", "version=3.1,seqs_per_slice=300")
	want := render(t, c, fa, Options{})
	decode := func(limit int64) *budget {
		out, rd := renderReader(t, c, fa, Options{inFlight: limit})
		if !bytes.Equal(out, want) {
			t.Errorf("budget %d: %d bytes of SAM, want %d", limit, len(out), len(want))
		}
		b := rd.budget
		b.mu.Lock()
		defer b.mu.Unlock()
		if b.used != 0 {
			t.Errorf("budget %d: %d bytes still held after the end", limit, b.used)
		}
		return b
	}
	one := decode(1)
	if one.peak != one.most {
		t.Errorf("budget of one byte: %d bytes in flight, want one container's %d", one.peak, one.most)
	}
	limit := 3 * one.most
	if b := decode(limit); b.peak > limit {
		t.Errorf("budget %d: %d bytes in flight", limit, b.peak)
	}
}

// TestCloseStopsReading closes a Reader after one record of a file with
// many containers: once Close returns, no goroutine of it runs and none
// reads the source.
func TestCloseStopsReading(t *testing.T) {
	data, fa := manyContainers(t)
	done := leak.Check(t)
	var g leak.Guard
	rd, err := NewReader(g.Reader(leak.Slow(bytes.NewReader(data))), fa)
	if err != nil {
		t.Fatal(err)
	}
	var rec sam.Record
	if err := rd.Read(&rec); err != nil {
		t.Fatal(err)
	}
	rd.Close()
	g.Seal()
	done()
	g.Verify(t)
}

// manyContainers writes the lambda alignments as CRAM 3.0 in slices of 500
// records, so that many containers follow any point of the file, and
// returns its bytes and reference.
func manyContainers(t *testing.T) ([]byte, *fasta.File) {
	t.Helper()
	lf := lambdaData(t)
	c := makeCRAM(t, t.TempDir(), lf.sorted, lf.ref, "many.cram", "version=3.0,seqs_per_slice=500")
	data, err := os.ReadFile(c)
	if err != nil {
		t.Fatal(err)
	}
	fa, err := fasta.Open(lf.ref)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { fa.Close() })
	return data, fa
}

// TestHeaderLimits reads a CRAM whose header lists 20 references with
// lower limits on the header: each must fail naming its limit.
func TestHeaderLimits(t *testing.T) {
	testutil.RequireTool(t, "samtools")
	dir := t.TempDir()
	text := "@HD\tVN:1.6\n"
	for i := range 20 {
		text += fmt.Sprintf("@SQ\tSN:chr%d\tLN:1000\n", i)
	}
	samFile := filepath.Join(dir, "refs.sam")
	os.WriteFile(samFile, []byte(text+"r1\t4\t*\t0\t0\t*\t*\t0\t0\tACGT\tIIII\n"), 0o644)
	out := filepath.Join(dir, "refs.cram")
	testutil.Run(t, "samtools", "view", "--no-PG", "-O", "cram,no_ref", "-o", out, samFile)
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		opt   Options
		limit string
		want  string
	}{
		{Options{MaxReferences: 10}, "max-references", "the header's @SQ lines exceeds the limit max-references=10"},
		{Options{MaxReferenceName: 4}, "max-reference-name", "reference 11's name length 5 exceeds the limit max-reference-name=4B"},
		{Options{MaxHeader: 100}, "max-header", "exceeds the limit max-header=100B"},
	} {
		_, err := NewReaderOptions(bytes.NewReader(data), nil, tt.opt)
		var le *limit.Error
		if !errors.As(err, &le) || le.Name != tt.limit || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%+v: got %v, want an error containing %q", tt.opt, err, tt.want)
		}
	}
	if rd, err := NewReader(bytes.NewReader(data), nil); err != nil {
		t.Errorf("default limits: %v", err)
	} else {
		rd.Close()
	}
}

// containerHeaderBytes encodes a CRAM 3 container header.
func containerHeaderBytes(length int32, records int32, bases int64, landmarks ...int32) []byte {
	b := binary.LittleEndian.AppendUint32(nil, uint32(length))
	for _, v := range []int32{-1, 0, 0, records} { // refID, start, span, records
		b = itf8.AppendITF8(b, v)
	}
	b = itf8.AppendLTF8(b, 0) // record counter
	b = itf8.AppendLTF8(b, bases)
	b = itf8.AppendITF8(b, int32(len(landmarks)+1)) // blocks
	b = itf8.AppendITF8(b, int32(len(landmarks)))
	for _, l := range landmarks {
		b = itf8.AppendITF8(b, l)
	}
	return binary.LittleEndian.AppendUint32(b, crc32.ChecksumIEEE(b))
}

// TestHostileContainers feeds CRAMs whose first container declares sizes
// that made the reader hold a gigabyte from a few bytes, its data made as
// it is read: each must fail naming its limit while holding little.
func TestHostileContainers(t *testing.T) {
	testutil.RequireTool(t, "samtools")
	dir := t.TempDir()
	samFile := filepath.Join(dir, "one.sam")
	os.WriteFile(samFile, []byte("@HD\tVN:1.6\nr1\t4\t*\t0\t0\t*\t*\t0\t0\tACGT\tIIII\n"), 0o644)
	out := filepath.Join(dir, "one.cram")
	testutil.Run(t, "samtools", "view", "--no-PG", "-O", "cram,version=3.0", "-o", out, samFile)
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	// Keep the file definition and the SAM header container.
	h, _, err := readContainerHeader(bytes.NewReader(data[26:]), 3, true, DefaultMaxContainer, nil)
	if err != nil {
		t.Fatal(err)
	}
	prefix := data[:26+h.headerBytes+int(h.length)]
	// A block that declares 1 GiB uncompressed, rANS-coded in a stream
	// that declares the same.
	rans := append([]byte{0}, binary.LittleEndian.AppendUint32(binary.LittleEndian.AppendUint32(nil, 100), 1<<30-1)...)
	rans = append(rans, make([]byte, 100)...)
	block := append([]byte{4, 1}, itf8.AppendITF8(nil, 0)...) // rANS, compression header, id 0
	block = itf8.AppendITF8(block, int32(len(rans)))
	block = itf8.AppendITF8(block, 1<<30-1)
	block = append(block, rans...)
	block = binary.LittleEndian.AppendUint32(block, crc32.ChecksumIEEE(block))
	tests := []struct {
		name  string
		head  []byte
		limit string
	}{
		{"container of 1 GiB", containerHeaderBytes(1<<30-1, 1, 100), "max-cram-container"},
		{"container of 2 GiB", containerHeaderBytes(1<<31-1, 1, 100), "max-cram-container"},
		{"block of 1 GiB", append(containerHeaderBytes(int32(len(block)), 1, 100, 0), block...), "max-cram-block"},
		// Fails on its data, but must not reserve room for what the
		// header claims first.
		{"a trillion bases", containerHeaderBytes(1<<20, 1<<24, 1<<40, 0), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := heapcap.Repeat(append(append([]byte(nil), prefix...), tt.head...), []byte{0}, 1<<30+int64(len(prefix)))
			var err error
			heapcap.Check(t, heapcap.Ceiling, func() { _, err = readToEnd(src, nil, Options{}) })
			var le *limit.Error
			var ce *Error
			if tt.limit != "" && (!errors.As(err, &le) || le.Name != tt.limit) || !errors.As(err, &ce) {
				t.Errorf("got %v, want a CRAM error naming %q", err, tt.limit)
			}
		})
	}
}

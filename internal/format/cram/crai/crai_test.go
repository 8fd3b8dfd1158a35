package crai

import (
	"bytes"
	"compress/gzip"
	"io"
	"os"
	"testing"
)

func TestRoundTrip(t *testing.T) {
	want := []Entry{
		{RefID: 0, Start: 1, Span: 1000, ContainerOffset: 1077, SliceOffset: 233, SliceSize: 4021},
		{RefID: 1, Start: 500, Span: 1 << 33, ContainerOffset: 1 << 40, SliceOffset: 0, SliceSize: 7},
		{RefID: -1, Start: 0, Span: 0, ContainerOffset: 9000, SliceOffset: 190, SliceSize: 120},
	}
	var buf bytes.Buffer
	w := NewWriter(&buf)
	for _, e := range want {
		if err := w.Add(e); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if w.Entries() != len(want) {
		t.Errorf("Entries() = %d, want %d", w.Entries(), len(want))
	}
	zr, err := gzip.NewReader(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	text, _ := io.ReadAll(zr)
	if got, want := string(text), "0\t1\t1000\t1077\t233\t4021\n1\t500\t8589934592\t1099511627776\t0\t7\n-1\t0\t0\t9000\t190\t120\n"; got != want {
		t.Errorf("text %q, want %q", got, want)
	}
	got, err := Read(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Fatalf("read %d entries, want %d", len(got), len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("entry %d: got %+v, want %+v", i, got[i], want[i])
		}
	}
}

// TestReadSamtoolsIndexes parses the CRAIs htslib-test ships.
func TestReadSamtoolsIndexes(t *testing.T) {
	for _, p := range []string{"/usr/share/htslib-test/test/range.cram.crai", "/usr/share/htslib-test/test/index.cram.crai"} {
		f, err := os.Open(p)
		if err != nil {
			t.Skip(err)
		}
		es, err := Read(f)
		f.Close()
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		if len(es) == 0 {
			t.Errorf("%s: no entries", p)
		}
	}
}

func TestReadErrors(t *testing.T) {
	gz := func(s string) []byte {
		var b bytes.Buffer
		w := gzip.NewWriter(&b)
		w.Write([]byte(s))
		w.Close()
		return b.Bytes()
	}
	for _, tt := range []struct {
		name string
		in   []byte
	}{
		{"not gzip", []byte("0\t1\t2\t3\t4\t5\n")},
		{"five fields", gz("0\t1\t2\t3\t4\n")},
		{"not a number", gz("0\t1\tx\t3\t4\t5\n")},
	} {
		if _, err := Read(bytes.NewReader(tt.in)); err == nil {
			t.Errorf("%s: no error", tt.name)
		}
	}
}

func FuzzRead(f *testing.F) {
	var b bytes.Buffer
	w := NewWriter(&b)
	w.Add(Entry{0, 1, 2, 3, 4, 5})
	w.Close()
	f.Add(b.Bytes())
	f.Fuzz(func(t *testing.T, data []byte) {
		Read(bytes.NewReader(data))
	})
}

package cram

import (
	"bufio"
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/seqstore/seqstore/internal/format/fasta"
	"github.com/seqstore/seqstore/internal/format/sam"
	"github.com/seqstore/seqstore/internal/testutil"
	"github.com/seqstore/seqstore/internal/testutil/heapcap"
)

// countingReference counts the bases a ReferenceSource hands out.
type countingReference struct {
	ReferenceSource
	mu      sync.Mutex
	fetched int64
	calls   int
}

func (c *countingReference) Bases(name string, start, end int64) ([]byte, int64, error) {
	b, n, err := c.ReferenceSource.Bases(name, start, end)
	c.mu.Lock()
	c.fetched += int64(len(b))
	c.calls++
	c.mu.Unlock()
	return b, n, err
}

// writeLongReference writes a FASTA of a random sequence "long" of n bases
// in lines of 60, and a short one, and returns their bases.
func writeLongReference(t *testing.T, path string, n int) map[string][]byte {
	t.Helper()
	rng := rand.New(rand.NewSource(1))
	seqs := map[string][]byte{"long": make([]byte, n), "short": make([]byte, 5000)}
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	for _, name := range []string{"long", "short"} {
		seq := seqs[name]
		for i := range seq {
			seq[i] = "ACGT"[rng.Intn(4)]
		}
		fmt.Fprintf(w, ">%s\n", name)
		for i := 0; i < len(seq); i += 60 {
			w.Write(seq[i:min(i+60, len(seq))])
			w.WriteByte('\n')
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return seqs
}

// writeClusteredSAM writes reads of 100 bases, sorted, in clusters of the
// long sequence (the last running to its end) and on the short one, each
// with a substitution and some with a deletion, so that decoding reads
// reference bases on both sides of features.
func writeClusteredSAM(t *testing.T, path string, seqs map[string][]byte) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriter(f)
	long := len(seqs["long"])
	fmt.Fprintf(w, "@HD\tVN:1.6\tSO:coordinate\n@SQ\tSN:long\tLN:%d\n@SQ\tSN:short\tLN:%d\n", long, len(seqs["short"]))
	n := 0
	read := func(name string, pos int) {
		ref := seqs[name]
		seq := make([]byte, 0, 100)
		cigar := "100M"
		if n%3 == 0 && pos+102 <= len(ref) {
			cigar = "40M2D60M"
			seq = append(append(seq, ref[pos:pos+40]...), ref[pos+42:pos+102]...)
		} else {
			seq = append(seq, ref[pos:pos+100]...)
		}
		seq[50+n%50] = "CGTA"[(n+int(seq[50+n%50]))%4]
		if seq[50+n%50] == ref[pos+50+n%50] {
			seq[50+n%50] = 'N'
		}
		n++
		fmt.Fprintf(w, "r%d\t0\t%s\t%d\t60\t%s\t*\t0\t0\t%s\t*\n", n, name, pos+1, cigar, seq)
	}
	for _, at := range []int{1_000_000, long / 2, long - 120_000} {
		for pos := at; pos < at+118_000 && pos+102 <= long; pos += 59 {
			read("long", pos)
		}
	}
	for pos := 0; pos+102 <= len(seqs["short"]); pos += 97 {
		read("short", pos)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

// A long reference sequence is read in windows around the slices, not
// whole: the bases fetched and the heap held stay a small part of it,
// and the records decode as samtools decodes them, across slices and the
// FASTA's line breaks, to the sequence's last base.
func TestLongReferenceReadInWindows(t *testing.T) {
	testutil.RequireTool(t, "samtools")
	const long = 64 << 20
	dir := t.TempDir()
	ref := filepath.Join(dir, "ref.fa")
	seqs := writeLongReference(t, ref, long)
	sam := filepath.Join(dir, "reads.sam")
	writeClusteredSAM(t, sam, seqs)
	seqs = nil
	testutil.Run(t, "samtools", "faidx", ref)
	// Slices of 1000 and 500 reads keep to one cluster each (2000
	// reads): a slice that spans two clusters 30 Mbp apart needs every
	// base between them, as it does in htslib.
	for _, profile := range []string{"version=3.0,seqs_per_slice=1000", "version=3.1,archive,seqs_per_slice=500"} {
		t.Run(profile, func(t *testing.T) {
			file := filepath.Join(dir, "reads.cram")
			testutil.Run(t, "samtools", "view", "-T", ref, "-O", "cram,"+profile, "-o", file, sam)
			want := samtoolsView(t, file, ref)
			fa, err := fasta.Open(ref)
			if err != nil {
				t.Fatal(err)
			}
			defer fa.Close()
			src := &countingReference{ReferenceSource: fa}
			var got []byte
			peak := heapcap.Peak(256<<20, func() { got = render(t, file, src, Options{NamePrefix: filepath.Base(file)}) })
			compareSAM(t, profile, got, want)
			// Three clusters of 118 kb each read ahead by a megabase, and
			// the short sequence; the whole long one is 64 MB.
			if src.fetched > 4<<20 {
				t.Errorf("%d bases of the reference fetched in %d calls, want at most 4 MiB of its %d", src.fetched, src.calls, long)
			}
			// Holding the sequence whole took twice its size (the bytes
			// read and the bases kept); windows take the cache's budget
			// and the decoder's own buffers.
			if peak > 48<<20 {
				t.Errorf("decoding held %d MiB of heap at its peak, want at most 48 MiB for a %d MiB sequence", peak>>20, long>>20)
			}
			t.Logf("%d bases fetched in %d calls; heap peak %d MiB", src.fetched, src.calls, peak>>20)
		})
	}
}

// Slices that carry their reference decode from it alone: no reference
// source is asked for a base, and the records are samtools'.
func TestEmbeddedReferenceNeedsNoOther(t *testing.T) {
	d := lambdaData(t)
	dir := t.TempDir()
	for _, profile := range []string{"version=3.0,embed_ref=1", "version=3.1,embed_ref=1,seqs_per_slice=500"} {
		t.Run(profile, func(t *testing.T) {
			file := filepath.Join(dir, "embedded.cram")
			testutil.Run(t, "samtools", "view", "-T", d.ref, "-O", "cram,"+profile, "-o", file, d.sorted)
			want := samtoolsView(t, file, d.ref)
			fa, err := fasta.Open(d.ref)
			if err != nil {
				t.Fatal(err)
			}
			defer fa.Close()
			src := &countingReference{ReferenceSource: fa}
			compareSAM(t, profile, render(t, file, src, Options{NamePrefix: filepath.Base(file)}), want)
			if src.calls != 0 {
				t.Errorf("the reference source was asked %d times for %d bases", src.calls, src.fetched)
			}
			compareSAM(t, profile+" without a reference", render(t, file, nil, Options{NamePrefix: filepath.Base(file)}), want)
		})
	}
}

// The window cache: ranges inside a fetched window are not fetched again,
// a fetch reads ahead, a range past the sequence's end comes back empty
// with the length, and windows beyond the budget are dropped.
func TestReferenceWindows(t *testing.T) {
	const n = 3 << 20
	seq := make([]byte, n)
	for i := range seq {
		seq[i] = "ACGT"[i%4]
	}
	src := &countingReference{ReferenceSource: mapReference{"a": seq, "b": seq[:1000]}}
	e := &env{refs: []sam.Reference{{Name: "a", Length: n}, {Name: "b", Length: 1000}}, src: src}
	steps := []struct {
		name       string
		id         int32
		start, end int64
		wantStart  int64
		wantLen    int
		wantCalls  int
	}{
		{"a first range, read ahead", 0, 100, 200, 100, refReadAhead, 1},
		{"inside it", 0, 5000, 6000, 100, refReadAhead, 1},
		{"running past it", 0, refReadAhead + 90, refReadAhead + 110, refReadAhead + 90, refReadAhead, 2},
		{"the sequence's tail", 0, n - 10, n + 50, n - 10, 10, 3},
		{"past the end", 0, n + 20, n + 30, n + 20, 0, 4},
		{"another sequence, cut at its end", 1, 0, 1001, 0, 1000, 5},
		{"the first window again", 0, 150, 160, 100, refReadAhead, 5},
	}
	for _, s := range steps {
		w, err := e.reference(s.id, s.start, s.end)
		if err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		if w.start != s.wantStart || len(w.seq) != s.wantLen || src.calls != s.wantCalls || w.length != int64(e.refs[s.id].Length) {
			t.Errorf("%s: window at %d of %d bases (sequence %d), %d fetches; want at %d of %d, %d fetches",
				s.name, w.start, len(w.seq), w.length, src.calls, s.wantStart, s.wantLen, s.wantCalls)
		}
		if len(w.seq) > 0 && string(w.seq[:4]) != string(seq[w.start:w.start+4]) {
			t.Errorf("%s: the window's bases are not the sequence's at %d", s.name, w.start)
		}
	}
	// Past the budget the least recently used windows go.
	for i := range int64(refCacheBudget/refReadAhead + 4) {
		if _, err := e.reference(0, i*refReadAhead/2, i*refReadAhead/2+1); err != nil {
			t.Fatal(err)
		}
	}
	if e.refCache.bytes > refCacheBudget || e.refCache.bytes != sumWindows(e.refCache.windows) {
		t.Errorf("the cache holds %d bytes (counted %d) past its budget of %d", sumWindows(e.refCache.windows), e.refCache.bytes, refCacheBudget)
	}
}

func sumWindows(ws []*refWindow) int {
	n := 0
	for _, w := range ws {
		n += len(w.seq)
	}
	return n
}

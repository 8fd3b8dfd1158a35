package bai_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/seqstore/seqstore/internal/format/bai"
	"github.com/seqstore/seqstore/internal/format/bam"
	"github.com/seqstore/seqstore/internal/format/bam/bamtest"
	"github.com/seqstore/seqstore/internal/format/bgzf"
	"github.com/seqstore/seqstore/internal/format/sam"
	"github.com/seqstore/seqstore/internal/testutil"
)

func TestReg2Bin(t *testing.T) {
	// Bins from the binning scheme of SAMv1 §5.3: level 5 starts at 4681,
	// level 4 at 585, level 3 at 73, level 2 at 9, level 1 at 1.
	tests := []struct {
		beg, end int64
		want     uint32
	}{
		{0, 1, 4681}, {0, 16384, 4681}, {16383, 16385, 585}, {0, 1 << 17, 585},
		{0, 1<<17 + 1, 73}, {0, 1 << 26, 1}, {0, 1<<26 + 1, 0}, {1 << 26, 1<<26 + 1, 4681 + 4096},
		{1<<29 - 1, 1 << 29, 4681 + 32767},
	}
	for _, tt := range tests {
		if got := bai.Reg2Bin(tt.beg, tt.end); got != tt.want {
			t.Errorf("Reg2Bin(%d, %d) = %d, want %d", tt.beg, tt.end, got, tt.want)
		}
	}
}

type added struct {
	ref      int32
	pos, end int64
}

func TestOrderRules(t *testing.T) {
	refs := []sam.Reference{{Name: "chr1", Length: 1 << 30}, {Name: "chr2", Length: 1000}}
	tests := []struct {
		name    string
		records []added
		want    error
		msg     string
	}{
		{"sorted records", []added{{0, 5, 10}, {0, 5, 8}, {0, 7, 9}, {1, 0, 1}, {-1, -1, 0}, {-1, -1, 0}}, nil, ""},
		{"references in any order, each in one run, as htslib allows", []added{{1, 50, 60}, {0, 5, 10}}, nil, ""},
		{"positions going back", []added{{0, 100, 150}, {0, 50, 90}}, bai.ErrNotSorted, "record 2 at chr1:51 follows one at chr1:101"},
		{"a reference coming back", []added{{0, 1, 2}, {1, 1, 2}, {0, 5, 6}}, bai.ErrNotSorted, "record 3 is on chr1 again after records on chr2"},
		{"placed after unplaced", []added{{-1, -1, 0}, {0, 1, 2}}, bai.ErrNotSorted, "record 2 is placed on chr1 after unplaced records"},
		{"beyond 2^29", []added{{0, 1 << 29, 1<<29 + 100}}, bai.ErrTooLong, "reaches chr1:536871012"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := bai.NewBuilder(refs)
			var err error
			for i, r := range tt.records {
				off := bgzf.MakeVirtualOffset(100, i*50)
				if err = b.Add(r.ref, r.pos, r.end, false, off, off+50); err != nil {
					break
				}
			}
			if !errors.Is(err, tt.want) || (err != nil && !strings.Contains(err.Error(), tt.msg)) {
				t.Fatalf("Add error %v, want %v saying %q", err, tt.want, tt.msg)
			}
			if werr := b.Write(io.Discard); !errors.Is(werr, tt.want) {
				t.Fatalf("Write error %v, want %v", werr, tt.want)
			}
		})
	}
}

// A bin whose chunks span less than 64 KiB of compressed file merges into
// its parent, as htslib's compress_binning does; one spanning 64 KiB stays.
func TestSmallBinsMergeIntoTheirParent(t *testing.T) {
	refs := []sam.Reference{{Name: "chr1", Length: 100000}}
	for _, tt := range []struct {
		span      int64
		wantMerge bool
	}{{0xffff, true}, {0x10000, false}} {
		b := bai.NewBuilder(refs)
		v := bgzf.MakeVirtualOffset
		// One read across the 16 kbp boundary (bin 585, the parent of
		// 4681), then two inside the first window (bin 4681).
		b.Add(0, 16380, 16390, false, v(0, 0), v(0, 100))
		b.Add(0, 16381, 16383, false, v(0, 100), v(0, 200))
		b.Add(0, 16382, 16384, false, v(0, 200), v(tt.span, 50))
		var out bytes.Buffer
		if err := b.Write(&out); err != nil {
			t.Fatal(err)
		}
		idx := parseIndex(t, out.Bytes())
		_, kept := idx.Refs[0].Bins[4681]
		if kept == tt.wantMerge {
			t.Errorf("span %#x: bin 4681 kept %v, want merged %v (bins %v)", tt.span, kept, tt.wantMerge, idx.Refs[0].Bins)
		}
		if tt.wantMerge {
			if got, want := idx.Refs[0].Bins[585], [][2]uint64{{0, uint64(v(tt.span, 50))}}; !reflect.DeepEqual(got, want) {
				t.Errorf("bin 585 = %x, want %x", got, want)
			}
		}
	}
}

// buildIndex reads a BAM and builds its index as analysis does.
func buildIndex(t *testing.T, file string) ([]byte, error) {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rd, err := bam.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	defer rd.Close()
	b := bai.NewBuilder(rd.Header().References)
	var rec sam.Record
	for {
		err := rd.Read(&rec)
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		start, end := rd.Offsets()
		b.Add(rec.RefID, int64(rec.Pos), rec.End(), rec.IsUnmapped(), start, end)
	}
	var out bytes.Buffer
	if err := b.Write(&out); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}

// parsedIndex is a BAI with bins in a map, so two indexes compare equal
// whatever order their bins were written in.
type parsedIndex struct {
	Refs    []parsedRef
	NoCoor  uint64
	Trailer int
}

type parsedRef struct {
	Bins   map[uint32][][2]uint64
	Linear []uint64
}

func parseIndex(t *testing.T, b []byte) parsedIndex {
	t.Helper()
	le := binary.LittleEndian
	p := 0
	need := func(n int) {
		if p+n > len(b) {
			t.Fatalf("index truncated at byte %d", p)
		}
	}
	u32 := func() uint32 { need(4); p += 4; return le.Uint32(b[p-4:]) }
	u64 := func() uint64 { need(8); p += 8; return le.Uint64(b[p-8:]) }
	need(4)
	if string(b[:4]) != "BAI\x01" {
		t.Fatalf("no BAI magic: %q", b[:4])
	}
	p = 4
	var idx parsedIndex
	for range u32() {
		ref := parsedRef{Bins: map[uint32][][2]uint64{}}
		for range u32() {
			bin := u32()
			var chunks [][2]uint64
			for range u32() {
				chunks = append(chunks, [2]uint64{u64(), u64()})
			}
			ref.Bins[bin] = chunks
		}
		for range u32() {
			ref.Linear = append(ref.Linear, u64())
		}
		idx.Refs = append(idx.Refs, ref)
	}
	idx.NoCoor = u64()
	idx.Trailer = len(b) - p
	return idx
}

// describe says how two parsed indexes differ.
func describe(got, want parsedIndex) string {
	if len(got.Refs) != len(want.Refs) {
		return fmt.Sprintf("%d references, samtools %d", len(got.Refs), len(want.Refs))
	}
	for i := range got.Refs {
		g, w := got.Refs[i], want.Refs[i]
		var bins []uint32
		for bin := range w.Bins {
			bins = append(bins, bin)
		}
		for bin := range g.Bins {
			if _, ok := w.Bins[bin]; !ok {
				bins = append(bins, bin)
			}
		}
		slices.Sort(bins)
		for _, bin := range bins {
			if !reflect.DeepEqual(g.Bins[bin], w.Bins[bin]) {
				return fmt.Sprintf("reference %d bin %d: chunks %x, samtools %x", i, bin, g.Bins[bin], w.Bins[bin])
			}
		}
		if !reflect.DeepEqual(g.Linear, w.Linear) {
			return fmt.Sprintf("reference %d linear index:\n%x\nsamtools:\n%x", i, g.Linear, w.Linear)
		}
	}
	return fmt.Sprintf("n_no_coor %d, samtools %d; trailing bytes %d, samtools %d", got.NoCoor, want.NoCoor, got.Trailer, want.Trailer)
}

// samtoolsIndex indexes a copy of file with samtools, returning the index
// or nil when samtools refuses.
func samtoolsIndex(t *testing.T, file string) []byte {
	t.Helper()
	cp := filepath.Join(t.TempDir(), "copy.bam")
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(cp, data, 0o644)
	if exec.Command("samtools", "index", "-b", cp).Run() != nil {
		return nil
	}
	out, err := os.ReadFile(cp + ".bai")
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// checkSameIndex builds our index of file and compares it with samtools':
// the same bins, chunks, linear index and counts, in any bin order; and
// where samtools refuses to index, so do we.
func checkSameIndex(t *testing.T, file string) {
	t.Helper()
	ours, err := buildIndex(t, file)
	theirs := samtoolsIndex(t, file)
	switch {
	case theirs == nil && err == nil:
		t.Fatal("samtools refuses to index this file but the builder did")
	case theirs == nil:
		return
	case err != nil:
		t.Fatalf("samtools indexes this file but the builder refused: %v", err)
	}
	got, want := parseIndex(t, ours), parseIndex(t, theirs)
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("index differs from samtools': %s", describe(got, want))
	}
}

func TestIndexEqualsSamtoolsOnLambda(t *testing.T) {
	aligned, _ := bamtest.Lambda(t)
	checkSameIndex(t, aligned)
}

func TestIndexEqualsSamtoolsOnHtslibCorpus(t *testing.T) {
	indexed := 0
	for _, c := range bamtest.HtslibCorpus(t) {
		t.Run(c.Name, func(t *testing.T) {
			checkSameIndex(t, c.Path)
			if samtoolsIndex(t, c.Path) != nil {
				indexed++
			}
		})
	}
	if indexed < 20 {
		t.Fatalf("samtools indexed only %d corpus files; the comparison proves little", indexed)
	}
}

// A large sorted BAM spreads over many BGZF blocks, and a sparse one has
// bins small enough to merge into their parents and windows without
// records: the cases the small files miss.
func TestIndexEqualsSamtoolsOnManyBlocks(t *testing.T) {
	for _, file := range manyBlocks(t) {
		t.Run(filepath.Base(file), func(t *testing.T) {
			checkSameIndex(t, file)
			region(t, file, 600000)
		})
	}
}

// manyBlocks makes many.bam, ten shifted copies of the lambda alignments
// on a 600 kbp reference followed by unplaced reads, and sparse.bam, 2%
// of it.
func manyBlocks(t *testing.T) []string {
	aligned, _ := bamtest.Lambda(t)
	dir := t.TempDir()
	bamtest.Shell(t, dir, `
samtools view -H `+aligned+` | sed 's/LN:48502/LN:600000/' > h.sam
for i in 0 1 2 3 4 5 6 7 8 9; do
  samtools view -F 4 `+aligned+` | awk -v s=$((i*50000)) 'BEGIN{OFS="\t"} {$4+=s; if ($7=="=") $8+=s; else {$7="*"; $8=0; $9=0}; $1=$1"_"s; print}'
done > body.sam
samtools view `+aligned+` | awk 'BEGIN{OFS="\t"} {$2=4; $3="*"; $4=0; $5=0; $6="*"; $7="*"; $8=0; $9=0; print}' | awk "NR<=2000" > unplaced.sam
cat h.sam body.sam | samtools sort -l 1 -o sorted.bam - 2>/dev/null
samtools view -H sorted.bam > all.sam; samtools view sorted.bam >> all.sam; cat unplaced.sam >> all.sam
samtools view -b -1 -o many.bam all.sam
samtools view -b -s 0.02 -o sparse.bam many.bam`)
	return []string{filepath.Join(dir, "many.bam"), filepath.Join(dir, "sparse.bam")}
}

// region answers random and edge regions through our index and through
// samtools' and compares what samtools view prints.
func region(t *testing.T, file string, length int) {
	ours, err := buildIndex(t, file)
	if err != nil {
		t.Fatal(err)
	}
	ourIndex := filepath.Join(t.TempDir(), "ours.bai")
	os.WriteFile(ourIndex, ours, 0o644)
	theirs := samtoolsIndex(t, file)
	theirIndex := filepath.Join(t.TempDir(), "theirs.bai")
	os.WriteFile(theirIndex, theirs, 0o644)
	for _, r := range testRegions(t, file, length) {
		got := testutil.Run(t, "samtools", "view", "-X", file, ourIndex, r)
		want := testutil.Run(t, "samtools", "view", "-X", file, theirIndex, r)
		if !bytes.Equal(got, want) {
			t.Errorf("region %s: %d bytes through our index, %d through samtools'", r, len(got), len(want))
		}
	}
}

func TestRegionQueriesMatchSamtoolsOnLambda(t *testing.T) {
	aligned, _ := bamtest.Lambda(t)
	region(t, aligned, 48502)
	// idxstats reads the pseudo-bin counts; it finds an index only beside
	// the file.
	ours, err := buildIndex(t, aligned)
	if err != nil {
		t.Fatal(err)
	}
	alone := filepath.Join(t.TempDir(), "alone.bam")
	data, _ := os.ReadFile(aligned)
	os.WriteFile(alone, data, 0o644)
	os.WriteFile(alone+".bai", ours, 0o644)
	got := testutil.Run(t, "samtools", "idxstats", alone)
	os.WriteFile(alone+".bai", samtoolsIndex(t, aligned), 0o644)
	if want := testutil.Run(t, "samtools", "idxstats", alone); !bytes.Equal(got, want) {
		t.Errorf("idxstats through our index:\n%s\nthrough samtools':\n%s", got, want)
	}
}

func BenchmarkAdd(b *testing.B) {
	refs := []sam.Reference{{Name: "chr1", Length: 1 << 29}}
	b.ReportAllocs()
	for b.Loop() {
		bl := bai.NewBuilder(refs)
		for i := range 100000 {
			off := bgzf.MakeVirtualOffset(int64(i/300)*20000, i%300*200)
			bl.Add(0, int64(i)*30, int64(i)*30+150, false, off, off+200)
		}
		bl.Write(io.Discard)
	}
}

// testRegions lists regions of a BAM's first reference, length long, for
// comparing queries: the whole reference, its edges, the edges of the
// first linear-index window, the unplaced reads and random stretches.
func testRegions(t *testing.T, file string, length int) []string {
	ref := strings.Fields(strings.Split(string(testutil.Run(t, "samtools", "view", "-H", file)), "SN:")[1])[0]
	n := strconv.Itoa
	regions := []string{ref, ref + ":1-1", ref + ":1-16384", ref + ":16384-16385", ref + ":16385-16385",
		ref + ":" + n(length-100) + "-" + n(length), ref + ":" + n(length), "*"}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 60 {
		beg := rng.IntN(length) + 1
		regions = append(regions, ref+":"+n(beg)+"-"+n(beg+rng.IntN(1+rng.IntN(3)*20000)))
	}
	return regions
}

package bai_test

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/seqstore/seqstore/internal/format/bai"
	"github.com/seqstore/seqstore/internal/format/bam"
	"github.com/seqstore/seqstore/internal/format/bam/bamtest"
	"github.com/seqstore/seqstore/internal/format/bgzf"
	"github.com/seqstore/seqstore/internal/testutil"
)

// sliceForRegion builds what an htsget client assembles for a region of
// file: the header, the data of the chunks the index query names, and the
// EOF marker.
func sliceForRegion(t *testing.T, file string, idx *bai.Index, region string) []byte {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	info, _ := f.Stat()
	rd, err := bam.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	_, headerEnd := rd.Offsets()
	refs := rd.Header().References
	rd.Close()
	fileEnd := bgzf.MakeVirtualOffset(info.Size()-int64(len(bgzf.EOFMarker)), 0)
	var chunks []bai.Chunk
	if region == "*" {
		chunks = []bai.Chunk{{Begin: max(idx.PlacedEnd(), headerEnd), End: fileEnd}}
	} else {
		name, span, _ := strings.Cut(region, ":")
		ref := -1
		for i, r := range refs {
			if r.Name == name {
				ref = i
			}
		}
		beg, end := int64(0), int64(refs[ref].Length)
		if span != "" {
			b, e, hasEnd := strings.Cut(span, "-")
			beg, _ = strconv.ParseInt(b, 10, 64)
			beg--
			if hasEnd {
				end, _ = strconv.ParseInt(e, 10, 64)
			}
		}
		chunks = idx.Query(ref, beg, end)
	}
	open := func(start, end int64) (io.ReadCloser, error) {
		return io.NopCloser(io.NewSectionReader(f, start, end-start)), nil
	}
	var out bytes.Buffer
	if err := bgzf.CopyVirtual(&out, open, info.Size(), 0, headerEnd); err != nil {
		t.Fatal(err)
	}
	for i, c := range chunks {
		if i > 0 && c.Begin <= chunks[i-1].End {
			t.Fatalf("region %s: chunks %v overlap or touch", region, chunks)
		}
		if err := bgzf.CopyVirtual(&out, open, info.Size(), max(c.Begin, headerEnd), min(c.End, fileEnd)); err != nil {
			t.Fatal(err)
		}
	}
	out.Write(bgzf.EOFMarker)
	return out.Bytes()
}

// indexedCopy copies file into a temporary directory with samtools' index
// beside it, and returns the copy and the index read back.
func indexedCopy(t *testing.T, file string) (string, *bai.Index) {
	t.Helper()
	theirs := samtoolsIndex(t, file)
	idx, err := bai.Read(bytes.NewReader(theirs), int64(len(theirs)))
	if err != nil {
		t.Fatal(err)
	}
	original := filepath.Join(t.TempDir(), "original.bam")
	data, _ := os.ReadFile(file)
	os.WriteFile(original, data, 0o644)
	os.WriteFile(original+".bai", theirs, 0o644)
	return original, idx
}

// checkSlices compares, for many regions, the records samtools finds in
// the region of the original with those it finds in the same region of
// the slice our index query makes, and checks that the slice does not
// carry the whole file for a small region.
func checkSlices(t *testing.T, file string, length int, extra ...string) {
	original, idx := indexedCopy(t, file)
	dir := filepath.Dir(original)
	records := 0
	regions := testRegions(t, file, length)
	for _, span := range extra {
		regions = append(regions, regions[0]+span)
	}
	for i, region := range regions {
		slice := filepath.Join(dir, "slice"+strconv.Itoa(i)+".bam")
		if err := os.WriteFile(slice, sliceForRegion(t, original, idx, region), 0o644); err != nil {
			t.Fatal(err)
		}
		testutil.Run(t, "samtools", "index", slice)
		want := testutil.Run(t, "samtools", "view", original, region)
		got := testutil.Run(t, "samtools", "view", slice, region)
		if !bytes.Equal(got, want) {
			t.Errorf("region %s: %d records in the slice, %d in the original", region, bytes.Count(got, []byte("\n")), bytes.Count(want, []byte("\n")))
		}
		records += bytes.Count(want, []byte("\n"))
	}
	if records == 0 {
		t.Fatal("no region holds records: the comparison proves nothing")
	}
}

func TestSlicesHoldTheRegionsRecords(t *testing.T) {
	files := manyBlocks(t)
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			// Edges of level-4 and level-3 bins, and stretches between the
			// shifted copies where the sparse file has no reads.
			checkSlices(t, file, 600000, ":131072-131073", ":131073-131073", ":131073-131074",
				":262144-262145", ":49000-49900", ":99000-99990", ":599990-600000", ":1-600000")
		})
	}
}

func TestSlicesOnLambda(t *testing.T) {
	aligned, _ := bamtest.Lambda(t)
	checkSlices(t, aligned, 48502)
}

// bgzip cuts blocks every 64 KiB of data, whatever the records, unlike
// htslib's BAM writer: records span blocks.
func TestSlicesOfBlocksThatSplitRecords(t *testing.T) {
	aligned, _ := bamtest.Lambda(t)
	dir := t.TempDir()
	bamtest.Shell(t, dir, "bgzip -dc "+aligned+" | bgzip -c > split.bam")
	checkSlices(t, filepath.Join(dir, "split.bam"), 48502)
}

// A small region of a large file needs a small part of it.
func TestSliceIsSmall(t *testing.T) {
	file := manyBlocks(t)[0]
	theirs := samtoolsIndex(t, file)
	idx, err := bai.Read(bytes.NewReader(theirs), int64(len(theirs)))
	if err != nil {
		t.Fatal(err)
	}
	info, _ := os.Stat(file)
	got := len(sliceForRegion(t, file, idx, testRegions(t, file, 600000)[0]+":300000-300100"))
	if int64(got)*10 > info.Size() {
		t.Errorf("a 100 bp region takes %d of the file's %d bytes", got, info.Size())
	}
}

// A 10 kbp region's slice of a sparse file holds few records beyond the
// region's: samtools merges a bin's chunks across the records of its
// sub-bins, so the chunks of the larger bins are cut to the linear index's
// offset for the region's start and to where records that start after its
// end begin. (Uncut, they hold 13 times the region's records.)
func TestSliceHoldsLittleBeyondTheRegion(t *testing.T) {
	file := manyBlocks(t)[1]
	original, idx := indexedCopy(t, file)
	dir := filepath.Dir(original)
	ref := testRegions(t, file, 600000)[0]
	inRegions, inSlices := 0, 0
	for beg := 3000; beg < 590000; beg += 47000 {
		region := ref + ":" + strconv.Itoa(beg+1) + "-" + strconv.Itoa(beg+10000)
		slice := filepath.Join(dir, "slice.bam")
		os.WriteFile(slice, sliceForRegion(t, original, idx, region), 0o644)
		n := func(args ...string) int {
			v, err := strconv.Atoi(strings.TrimSpace(string(testutil.Run(t, "samtools", append([]string{"view", "-c"}, args...)...))))
			if err != nil {
				t.Fatal(err)
			}
			return v
		}
		inRegions += n(original, region)
		inSlices += n(slice)
	}
	if inRegions == 0 || inSlices > 10*inRegions {
		t.Errorf("the slices of 10 kbp regions hold %d records, the regions %d", inSlices, inRegions)
	}
}

func TestReadRefusesDamagedIndexes(t *testing.T) {
	u32 := func(v uint32) []byte { return []byte{byte(v), byte(v >> 8), byte(v >> 16), byte(v >> 24)} }
	cat := func(parts ...[]byte) []byte { return bytes.Join(parts, nil) }
	tests := []struct {
		name string
		data []byte
		msg  string
	}{
		{"empty", nil, "truncated"},
		{"not a BAI", []byte("CSI\x01\x00\x00\x00\x00"), "not the BAI magic"},
		{"huge reference count", cat([]byte("BAI\x01"), u32(1<<30)), "claims 1073741824 references"},
		{"negative bin count", cat([]byte("BAI\x01"), u32(1), u32(0xffffffff)), "claims -1 bins"},
		{"bin beyond the last", cat([]byte("BAI\x01"), u32(1), u32(1), u32(40000), u32(0), u32(0)), "bin 40000"},
		{"truncated chunks", cat([]byte("BAI\x01"), u32(1), u32(1), u32(4681), u32(1), u32(0)), "truncated"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := bai.Read(bytes.NewReader(tt.data), 1<<20)
			if !errors.Is(err, bai.ErrBadIndex) || !strings.Contains(err.Error(), tt.msg) {
				t.Fatalf("error %v, want ErrBadIndex saying %q", err, tt.msg)
			}
		})
	}
	if _, err := bai.Read(bytes.NewReader(cat([]byte("BAI\x01"), u32(1), u32(0), u32(1000))), 12); !errors.Is(err, bai.ErrBadIndex) {
		t.Errorf("an index over the size limit: error %v", err)
	}
}

func FuzzRead(f *testing.F) {
	f.Add([]byte("BAI\x01\x01\x00\x00\x00\x01\x00\x00\x00\x49\x12\x00\x00\x01\x00\x00\x00" +
		"\x00\x00\x00\x00\x00\x00\x00\x00\x10\x00\x00\x00\x00\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"))
	f.Fuzz(func(t *testing.T, data []byte) {
		idx, err := bai.Read(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			if !errors.Is(err, bai.ErrBadIndex) {
				t.Fatalf("error %v does not wrap ErrBadIndex", err)
			}
			return
		}
		for ref := range idx.Refs {
			chunks := idx.Query(ref, 0, bai.MaxPosition)
			for i := 1; i < len(chunks); i++ {
				if chunks[i].Begin <= chunks[i-1].End {
					t.Fatalf("chunks %v overlap", chunks)
				}
			}
		}
		idx.PlacedEnd()
	})
}

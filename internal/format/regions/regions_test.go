package regions

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/seqstore/seqstore/internal/testutil"
)

// bytesFile is a File over bytes in memory.
type bytesFile []byte

func (b bytesFile) Size() int64 { return int64(len(b)) }

func (b bytesFile) Open(_ context.Context, start, end int64) (io.ReadCloser, error) {
	if start < 0 || end > int64(len(b)) || start > end {
		return nil, fmt.Errorf("range %d-%d outside %d bytes", start, end, len(b))
	}
	return io.NopCloser(bytes.NewReader(b[start:end])), nil
}

// sortedFiles writes a coordinate-sorted SAM of n reads of 100 bases over
// three references, with unplaced unmapped reads at the end, and makes a
// BAM and a CRAM of it with samtools, each with its index. It returns the
// directory.
func sortedFiles(t *testing.T, n int) string {
	t.Helper()
	samtools := testutil.RequireTool(t, "samtools")
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(11, 12))
	lengths := map[string]int{"chrA": 200000, "chrB": 150000, "chrC": 5000}
	names := []string{"chrA", "chrB", "chrC"}
	var fasta, sam strings.Builder
	for _, name := range names {
		seq := make([]byte, lengths[name])
		for i := range seq {
			seq[i] = "ACGT"[rng.IntN(4)]
		}
		fmt.Fprintf(&fasta, ">%s\n%s\n", name, seq)
		fmt.Fprintf(&sam, "@SQ\tSN:%s\tLN:%d\n", name, len(seq))
	}
	refs := map[string]string{}
	for _, rec := range strings.Split(fasta.String(), ">")[1:] {
		name, seq, _ := strings.Cut(strings.TrimSpace(rec), "\n")
		refs[name] = seq
	}
	qual := strings.Repeat("I", 100)
	for _, name := range names {
		var starts []int
		for range n * lengths[name] / 355000 {
			starts = append(starts, rng.IntN(lengths[name]-100))
		}
		slices.Sort(starts)
		for i, pos := range starts {
			fmt.Fprintf(&sam, "r%s.%d\t0\t%s\t%d\t60\t100M\t*\t0\t0\t%s\t%s\n", name, i, name, pos+1, refs[name][pos:pos+100], qual)
		}
	}
	for i := range 200 {
		fmt.Fprintf(&sam, "u%d\t4\t*\t0\t0\t*\t*\t0\t0\t%s\t%s\n", i, refs["chrC"][:100], qual)
	}
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	ref := write("ref.fa", fasta.String())
	in := write("in.sam", "@HD\tVN:1.6\tSO:coordinate\n"+sam.String())
	testutil.Run(t, samtools, "faidx", ref)
	testutil.Run(t, samtools, "view", "-b", "-o", filepath.Join(dir, "a.bam"), in)
	testutil.Run(t, samtools, "index", filepath.Join(dir, "a.bam"))
	// Small containers, so that regions pick some of many.
	testutil.Run(t, samtools, "view", "-C", "-T", ref, "--output-fmt-option", "seqs_per_slice=500", "-o", filepath.Join(dir, "a.cram"), in)
	testutil.Run(t, samtools, "index", filepath.Join(dir, "a.cram"))
	return dir
}

// assemble concatenates what a slice lists, as an htsget client does: for
// BAM, Ranges are virtual offsets, read through OpenBAM.
func assemble(t *testing.T, format string, file bytesFile, s *Slice) []byte {
	t.Helper()
	var out bytes.Buffer
	for _, r := range append([]Range{s.Header}, s.Body...) {
		if format == "BAM" {
			rc, err := OpenBAM(context.Background(), file, r.Start, r.End)
			if err == nil {
				_, err = io.Copy(&out, rc)
				rc.Close()
			}
			if err != nil {
				t.Fatal(err)
			}
			continue
		}
		out.Write(file[r.Start:r.End])
	}
	out.Write(s.Trailer)
	return out.Bytes()
}

// A slice's file is valid, holds every record samtools finds for the
// regions through its own index, and for a region far fewer than the whole
// file; for no regions, every record.
func TestSlicesHoldTheRegionsRecords(t *testing.T) {
	dir := sortedFiles(t, 100000)
	samtools := testutil.RequireTool(t, "samtools")
	view := func(args ...string) []string {
		out := strings.TrimSpace(string(testutil.Run(t, samtools, append([]string{"view"}, args...)...)))
		if out == "" {
			return nil
		}
		return strings.Split(out, "\n")
	}
	for _, format := range []struct {
		name, file, index string
		slice             func(context.Context, File, File, []Region) (*Slice, error)
	}{
		{"BAM", "a.bam", "a.bam.bai", BAM},
		{"CRAM", "a.cram", "a.cram.crai", CRAM},
	} {
		path := filepath.Join(dir, format.file)
		file := bytesFile(readFile(t, path))
		index := bytesFile(readFile(t, filepath.Join(dir, format.index)))
		all := view(path)
		for _, c := range []struct {
			name    string
			regions []Region
			args    []string // samtools' regions
			// share is the most of the file's records the slice may
			// hold. A BAI puts reads that cross a 16 kbp boundary in the
			// bin of the 128 kbp around, so a region's chunks reach that
			// far; htslib's reader stops at the region's end, a ticket's
			// client reads them all.
			share float64
		}{
			{"all", nil, nil, 1},
			{"a stretch of chrA", []Region{{Reference: "chrA", Start: 50000, End: 51000}}, []string{"chrA:50001-51000"}, 0.5},
			{"chrB to its end", []Region{{Reference: "chrB", Start: 140000, End: -1}}, []string{"chrB:140001"}, 0.25},
			{"two regions sharing records", []Region{{Reference: "chrA", Start: 10000, End: 12000}, {Reference: "chrA", Start: 11000, End: 13000}}, []string{"chrA:10001-12000", "chrA:11001-13000"}, 0.5},
			{"the unplaced reads", []Region{{Reference: "*", Start: 0, End: -1}}, []string{"*"}, 0.05},
			{"chrC whole", []Region{{Reference: "chrC", Start: 0, End: -1}}, []string{"chrC"}, 0.05},
		} {
			t.Run(format.name+"/"+c.name, func(t *testing.T) {
				s, err := format.slice(context.Background(), file, index, c.regions)
				if err != nil {
					t.Fatal(err)
				}
				out := filepath.Join(t.TempDir(), "slice."+strings.ToLower(format.name))
				if err := os.WriteFile(out, assemble(t, format.name, file, s), 0o644); err != nil {
					t.Fatal(err)
				}
				got := view(out)
				want := all
				if c.args != nil {
					want = view(append([]string{path}, c.args...)...)
				}
				if len(want) == 0 {
					t.Fatal("samtools finds no records in the regions: the test data is wrong")
				}
				have := map[string]bool{}
				for _, rec := range got {
					have[rec] = true
				}
				for _, rec := range want {
					if !have[rec] {
						t.Fatalf("the slice of %d records misses one of the %d samtools finds: %.60s", len(got), len(want), rec)
					}
				}
				if c.args == nil && len(got) != len(all) {
					t.Errorf("the whole file's slice holds %d records, the file %d", len(got), len(all))
				}
				if float64(len(got)) > c.share*float64(len(all)) {
					t.Errorf("the slice holds %d of the file's %d records, more than %.0f%%", len(got), len(all), 100*c.share)
				}
			})
		}
	}
}

// A client's mistakes are errors of their kind, and region queries need
// an index.
func TestSliceErrors(t *testing.T) {
	dir := sortedFiles(t, 2000)
	for _, format := range []struct {
		name, file, index string
		slice             func(context.Context, File, File, []Region) (*Slice, error)
	}{
		{"BAM", "a.bam", "a.bam.bai", BAM},
		{"CRAM", "a.cram", "a.cram.crai", CRAM},
	} {
		file := bytesFile(readFile(t, filepath.Join(dir, format.file)))
		index := bytesFile(readFile(t, filepath.Join(dir, format.index)))
		for _, c := range []struct {
			name    string
			index   File
			regions []Region
			want    error
		}{
			{"unknown reference", index, []Region{{Reference: "chrZ", Start: 0, End: -1}}, ErrUnknownReference},
			{"start past the end", index, []Region{{Reference: "chrC", Start: 5001, End: -1}}, ErrPastEnd},
			{"regions without an index", nil, []Region{{Reference: "chrA", Start: 0, End: 100}}, ErrNoIndex},
		} {
			t.Run(format.name+"/"+c.name, func(t *testing.T) {
				if _, err := format.slice(context.Background(), file, c.index, c.regions); !errors.Is(err, c.want) {
					t.Errorf("got %v, want %v", err, c.want)
				}
			})
		}
		t.Run(format.name+"/whole file without an index", func(t *testing.T) {
			if _, err := format.slice(context.Background(), file, nil, nil); err != nil {
				t.Error(err)
			}
		})
	}
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

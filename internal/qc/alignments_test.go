package qc

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/seqstore/seqstore/internal/format/sam"
	"github.com/seqstore/seqstore/internal/testutil"
)

// readBAM accumulates every record of a BAM file.
func readBAM(t testing.TB, path string) (*Alignments, *Reads) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, a, err := ScanBAM(context.Background(), f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return a, r
}

// flagstatBAMs returns BAM files with many flag combinations: those of
// htslib-test, its SAM files as BAM, and reads of bowtie2's lambda example
// aligned by minimap2 as pairs and alone.
func flagstatBAMs(t *testing.T) []string {
	samtools := testutil.RequireTool(t, "samtools")
	minimap2 := testutil.RequireTool(t, "minimap2")
	htslib := testutil.RequireDir(t, "/usr/share/htslib-test/test")
	examples := testutil.RequireDir(t, "/usr/share/doc/bowtie2/examples")
	files := testutil.Glob(t, htslib+"/*.bam")
	dir := t.TempDir()
	for _, s := range testutil.Glob(t, htslib+"/*.sam") {
		out := filepath.Join(dir, strings.TrimSuffix(filepath.Base(s), ".sam")+".bam")
		// Some of the SAM files are deliberately broken; samtools
		// refusing one leaves it out.
		if exec.Command(samtools, "view", "--no-PG", "-b", "-o", out, s).Run() == nil {
			files = append(files, out)
		}
	}
	ref := filepath.Join(examples, "reference/lambda_virus.fa.gz")
	r1, r2 := filepath.Join(examples, "reads/reads_1.fq.gz"), filepath.Join(examples, "reads/reads_2.fq.gz")
	for name, reads := range map[string]string{"lambda-pairs.bam": r1 + " " + r2, "lambda-single.bam": r1} {
		out := filepath.Join(dir, name)
		script := minimap2 + " -a -x sr " + ref + " " + reads + " 2>/dev/null | " + samtools + " sort -o " + out + " -"
		if msg, err := exec.Command("bash", "-euo", "pipefail", "-c", script).CombinedOutput(); err != nil {
			t.Fatalf("%s: %v\n%s", script, err, msg)
		}
		files = append(files, out)
	}
	return files
}

// TestMatchesSamtools compares WriteFlagstat with `samtools flagstat`,
// line for line, and WriteStatsSN with the same lines of `samtools
// stats`, on the same files.
func TestMatchesSamtools(t *testing.T) {
	files := flagstatBAMs(t)
	if len(files) < 20 {
		t.Fatalf("only %d BAM files to compare on", len(files))
	}
	for _, path := range files {
		a, _ := readBAM(t, path)
		want := testutil.Run(t, "samtools", "flagstat", path)
		var got bytes.Buffer
		if err := WriteFlagstat(&got, a); err != nil {
			t.Fatal(err)
		}
		if got.String() != string(want) {
			t.Errorf("%s:\nours:\n%s\nsamtools flagstat:\n%s", filepath.Base(path), got.String(), want)
		}

		if strings.Contains(path, "large_seq") {
			// samtools stats takes most of a minute over its one huge read.
			continue
		}
		wantSN := map[string]string{}
		for _, line := range strings.Split(string(testutil.Run(t, "samtools", "stats", path)), "\n") {
			if f := strings.Split(line, "\t"); len(f) >= 3 && f[0] == "SN" {
				wantSN[f[1]] = f[2]
			}
		}
		got.Reset()
		if err := WriteStatsSN(&got, a); err != nil {
			t.Fatal(err)
		}
		for _, line := range strings.Split(strings.TrimSpace(got.String()), "\n") {
			if strings.HasPrefix(line, "#") {
				continue
			}
			f := strings.Split(line, "\t")
			if wantSN[f[1]] != f[2] {
				t.Errorf("%s: SN %s %s, samtools stats %s", filepath.Base(path), f[1], f[2], wantSN[f[1]])
			}
		}
	}
}

func pairedRecord() *sam.Record {
	return &sam.Record{Flag: sam.FlagPaired | flagProperPair | flagRead1, RefID: 0, MateRefID: 0, MapQ: 60, TLen: 300, Seq: []byte("ACGT"), Qual: []byte{30, 30, 30, 30}}
}

func TestAddBAM(t *testing.T) {
	const (
		paired = sam.FlagPaired
		unmap  = sam.FlagUnmapped
		second = sam.FlagSecondary
		supp   = sam.FlagSupplementary
	)
	tests := []struct {
		name string
		recs []sam.Record
		want AlignmentsReport
	}{
		{
			name: "a proper pair",
			recs: []sam.Record{
				// 100M and 5S40M2I3D50M=1X: 100 and 91 aligned bases.
				{Flag: paired | flagProperPair | flagRead1, MapQ: 60, TLen: 300, Cigar: []uint32{100 << 4}},
				{Flag: paired | flagProperPair | flagRead2, MapQ: 60, TLen: -300, Cigar: []uint32{5<<4 | 4, 40 << 4, 2<<4 | 1, 3<<4 | 2, 50 << 4, 1<<4 | 7, 1<<4 | 8}},
			},
			want: AlignmentsReport{
				QCPassed: FlagCounts{Total: 2, Primary: 2, Mapped: 2, PrimaryMapped: 2, PairedInSequencing: 2, Read1: 1, Read2: 1,
					ProperlyPaired: 2, WithItselfAndMateMapped: 2},
				MapQ: []MapQCount{{60, 2}}, InsertSizes: []InsertSizeCount{{300, 1}},
				References: []ReferenceStats{{Name: "chr1", Length: 1000, Reads: 2, AlignedBases: 192, MeanDepth: 0.192}},
			},
		},
		{
			name: "a singleton, its unmapped mate failing QC",
			recs: []sam.Record{
				{Flag: paired | flagMateUnmapped | flagRead1, MapQ: 3},
				{Flag: paired | unmap | flagRead2 | flagQCFail},
			},
			want: AlignmentsReport{
				QCPassed:   FlagCounts{Total: 1, Primary: 1, Mapped: 1, PrimaryMapped: 1, PairedInSequencing: 1, Read1: 1, Singletons: 1},
				QCFailed:   FlagCounts{Total: 1, Primary: 1, PairedInSequencing: 1, Read2: 1},
				MapQ:       []MapQCount{{3, 1}},
				References: []ReferenceStats{{Name: "chr1", Length: 1000, Reads: 1}},
			},
		},
		{
			name: "mates on different references, one a duplicate, with secondary and supplementary records",
			recs: []sam.Record{
				{Flag: paired | flagRead1, RefID: 0, MateRefID: 1, MapQ: 4, TLen: 0},
				{Flag: paired | flagRead2 | flagDuplicate, RefID: 1, MateRefID: 0, MapQ: 5},
				{Flag: second | flagDuplicate, MapQ: 0},
				{Flag: supp | unmap},
			},
			want: AlignmentsReport{
				QCPassed: FlagCounts{Total: 4, Primary: 2, Secondary: 1, Supplementary: 1, Duplicates: 2, PrimaryDuplicates: 1,
					Mapped: 3, PrimaryMapped: 2, PairedInSequencing: 2, Read1: 1, Read2: 1, WithItselfAndMateMapped: 2,
					MateOnDifferentChr: 2, MateOnDifferentChrMapQ5: 1},
				MapQ: []MapQCount{{4, 1}, {5, 1}},
				// Reference 1 is not in the dictionary.
				References: []ReferenceStats{{Name: "chr1", Length: 1000, Reads: 1}, {Name: "#1", Reads: 1}},
			},
		},
		{
			name: "an insert too long to count exactly",
			recs: []sam.Record{{Flag: paired, TLen: MaxInsertSize + 1}},
			want: AlignmentsReport{
				QCPassed: FlagCounts{Total: 1, Primary: 1, Mapped: 1, PrimaryMapped: 1, PairedInSequencing: 1, WithItselfAndMateMapped: 1},
				MapQ:     []MapQCount{{0, 1}}, InsertSizesAbove: 1,
				References: []ReferenceStats{{Name: "chr1", Length: 1000, Reads: 1}},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var a Alignments
			a.SetReferences([]sam.Reference{{Name: "chr1", Length: 1000}})
			for i := range tt.recs {
				a.AddBAM(&tt.recs[i])
			}
			got := a.Report()
			// The summary numbers are checked against samtools stats
			// (TestMatchesSamtools) and for consistency (FuzzAddBAM).
			got.Summary = SummaryNumbers{}
			wantEqual(t, "report", got, &tt.want)
		})
	}
}

// FuzzAddBAM adds records of any flags and checks that the counts add up
// as samtools flagstat's and stats' do.
func FuzzAddBAM(f *testing.F) {
	f.Add(uint16(99), uint8(60), int32(0), int32(0), int32(300), 4)
	f.Add(uint16(0xfff), uint8(0), int32(1), int32(-1), int32(-1<<31), 0)
	f.Fuzz(func(t *testing.T, flag uint16, mapq uint8, ref, mateRef, tlen int32, n int) {
		rec := sam.Record{Flag: flag, MapQ: mapq, RefID: ref, MateRefID: mateRef, TLen: tlen,
			Seq: bytes.Repeat([]byte("A"), min(max(n, 0), 1000)), Cigar: []uint32{5<<4 | 5}}
		var a Alignments
		a.AddBAM(&rec)
		a.AddBAM(&rec)
		rep := a.Report()
		for _, fc := range []FlagCounts{rep.QCPassed, rep.QCFailed} {
			if fc.Primary+fc.Secondary+fc.Supplementary != fc.Total || fc.Mapped > fc.Total ||
				fc.WithItselfAndMateMapped+fc.Singletons > fc.PairedInSequencing || fc.MateOnDifferentChrMapQ5 > fc.MateOnDifferentChr {
				t.Fatalf("flag %#x: counts do not add up: %+v", flag, fc)
			}
		}
		if rep.QCPassed.Total+rep.QCFailed.Total != 2 {
			t.Fatalf("flag %#x: %d records counted, want 2", flag, rep.QCPassed.Total+rep.QCFailed.Total)
		}
		s := rep.Summary
		if s.ReadsMapped+s.ReadsUnmapped != s.RawTotalSequences || s.FirstFragments+s.LastFragments > s.RawTotalSequences {
			t.Fatalf("flag %#x: summary numbers do not add up: %+v", flag, s)
		}
		if err := WriteFlagstat(io.Discard, &a); err != nil {
			t.Fatal(err)
		}
		if err := WriteStatsSN(io.Discard, &a); err != nil {
			t.Fatal(err)
		}
	})
}

// TestReferencesReportedAreBounded: past MaxReferencesReported references
// with reads, those with the fewest are left out and counted, and the rest
// keep the header's order.
func TestReferencesReportedAreBounded(t *testing.T) {
	const extra = 3
	n := MaxReferencesReported + extra
	refs := make([]sam.Reference, n)
	for i := range refs {
		refs[i] = sam.Reference{Name: fmt.Sprintf("contig%d", i), Length: 1000}
	}
	var a Alignments
	a.SetReferences(refs)
	for id := range n {
		// Contigs 1 to extra get one read, every other two.
		reads := 2
		if id >= 1 && id <= extra {
			reads = 1
		}
		for range reads {
			a.AddBAM(&sam.Record{RefID: int32(id), Cigar: []uint32{100 << 4}})
		}
	}
	rep := a.Report()
	if rep.ReferencesOmitted != extra || len(rep.References) != MaxReferencesReported {
		t.Fatalf("%d references reported, %d omitted; want %d and %d", len(rep.References), rep.ReferencesOmitted, MaxReferencesReported, extra)
	}
	if first, second := rep.References[0], rep.References[1]; first.Name != "contig0" || second.Name != fmt.Sprintf("contig%d", extra+1) ||
		first.Reads != 2 || first.AlignedBases != 200 || first.MeanDepth != 0.2 {
		t.Errorf("first references %+v, %+v", first, second)
	}
}

package analyze

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/seqstore/seqstore/internal/etag"
	"github.com/seqstore/seqstore/internal/qc"
	"github.com/seqstore/seqstore/internal/testutil"
)

// asJSON renders a report for comparison, so that a difference shows as
// text.
func asJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.MarshalIndent(v, "", " ")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func sameJSON(t *testing.T, what string, got, want any) {
	t.Helper()
	if g, w := asJSON(t, got), asJSON(t, want); g != w {
		t.Errorf("%s: the ingest pass's QC differs from a pass of its own:\n got %.2000s\nwant %.2000s", what, g, w)
	}
}

// The QC of a FASTQ pair, computed while ingestion hashes and stores it, is
// that of each mate read on its own by package qc (whose numbers are
// checked against FastQC's), mate by mate.
func TestQCOfFASTQInTheIngestPass(t *testing.T) {
	r1, r2 := syntheticPair(300 << 10)
	sources := map[string][2][]byte{"synthetic gzip": {gz(t, r1), gz(t, r2)}, "synthetic plain": {r1, r2}}
	dir := testutil.RequireDir(t, "/usr/share/doc/bowtie2/examples/reads")
	sources["bowtie2 lambda reads"] = [2][]byte{mustRead(t, dir+"/reads_1.fq.gz"), mustRead(t, dir+"/reads_2.fq.gz")}
	for name, pair := range sources {
		t.Run(name, func(t *testing.T) {
			res, err := FASTQ(context.Background(), []io.Reader{bytes.NewReader(pair[0]), bytes.NewReader(pair[1])}, nil, []etag.Family{etag.MD5up}, Limits{})
			if err != nil {
				t.Fatal(err)
			}
			skipped, err := FASTQ(WithoutQC(context.Background()), []io.Reader{bytes.NewReader(pair[0]), bytes.NewReader(pair[1])}, nil, []etag.Family{etag.MD5up}, Limits{})
			if err != nil || skipped.QC != nil || skipped.ReadCount != res.ReadCount {
				t.Errorf("without QC: %v, report %v, %d reads", err, skipped.QC, skipped.ReadCount)
			}
			if res.QC == nil || res.QC.FileType != FileTypeFASTQ || len(res.QC.Sources) != 2 || res.QC.Alignments != nil {
				t.Fatalf("QC report %+v: want FASTQ with two sources and no alignments", res.QC)
			}
			for i, data := range pair {
				want, err := qc.ScanFASTQ(context.Background(), bytes.NewReader(data))
				if err != nil {
					t.Fatal(err)
				}
				src := res.QC.Sources[i]
				if src.Source != "source"+strconv.Itoa(i+1) {
					t.Errorf("source %d is called %q", i+1, src.Source)
				}
				sameJSON(t, src.Source, src.Reads, want.Report())
			}
			if got := res.QC.Sources[0].Reads.Reads + res.QC.Sources[1].Reads.Reads; got != res.ReadCount {
				t.Errorf("QC counts %d reads, the analysis %d", got, res.ReadCount)
			}
		})
	}
}

// The QC of a BAM is that of package qc's own pass, whose flagstat is
// samtools'; the same alignments as CRAM, decoded against their reference,
// give the same report, and its flagstat and per-reference read counts are
// samtools'.
func TestQCOfBAMAndCRAMInTheIngestPass(t *testing.T) {
	bamFile, ref := lambdaBAM(t)
	data := mustRead(t, bamFile)
	res, err := BAM(context.Background(), bytes.NewReader(data), FileTypeBAM, nil, []etag.Family{etag.MD5up}, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	reads, alignments, err := qc.ScanBAM(context.Background(), bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	alignments.SetReferences(res.Header.References)
	if res.QC == nil || res.QC.FileType != FileTypeBAM || len(res.QC.Sources) != 1 {
		t.Fatalf("QC report %+v: want BAM with one source", res.QC)
	}
	sameJSON(t, "BAM reads", res.QC.Sources[0].Reads, reads.Report())
	sameJSON(t, "BAM alignments", res.QC.Alignments, alignments.Report())

	flagstat := string(testutil.Run(t, "samtools", "flagstat", bamFile))
	dir := t.TempDir()
	indexed := filepath.Join(dir, "aligned.bam")
	if err := os.WriteFile(indexed, data, 0o644); err != nil {
		t.Fatal(err)
	}
	testutil.Run(t, "samtools", "index", indexed)
	for _, format := range []string{"cram,version=3.0", "cram,version=3.1,small"} {
		t.Run(format, func(t *testing.T) {
			file := filepath.Join(dir, strings.NewReplacer(",", "_", "=", "").Replace(format)+".cram")
			testutil.Run(t, "samtools", "view", "-T", ref, "-O", format, "-o", file, bamFile)
			cres, err := CRAM(context.Background(), bytes.NewReader(mustRead(t, file)), openRef(t, ref), nil, []etag.Family{etag.MD5up}, Limits{})
			if err != nil {
				t.Fatal(err)
			}
			if cres.QC == nil || cres.QC.FileType != FileTypeCRAM {
				t.Fatalf("QC report %+v: want CRAM", cres.QC)
			}
			sameJSON(t, "CRAM reads", cres.QC.Sources[0].Reads, res.QC.Sources[0].Reads)
			sameJSON(t, "CRAM alignments", cres.QC.Alignments, res.QC.Alignments)
			var got bytes.Buffer
			if err := qc.WriteFlagstatReport(&got, cres.QC.Alignments); err != nil {
				t.Fatal(err)
			}
			if got.String() != flagstat {
				t.Errorf("flagstat of the CRAM:\n%s\nsamtools flagstat:\n%s", got.String(), flagstat)
			}
			refs := cres.QC.Alignments.References
			if len(refs) == 0 {
				t.Fatal("no reference has reads")
			}
			for _, r := range refs {
				want := strings.TrimSpace(string(testutil.Run(t, "samtools", "view", "-c", "-F", "0x904", indexed, r.Name)))
				if strconv.FormatInt(r.Reads, 10) != want || r.Length == 0 || r.MeanDepth <= 0 {
					t.Errorf("reference %s: %d reads (samtools view -c -F 0x904: %s), length %d, mean depth %g", r.Name, r.Reads, want, r.Length, r.MeanDepth)
				}
			}
		})
	}
}

// BenchmarkQCCost analyses the same paired gzip FASTQ (stored copies
// included, as ingestion does; synthetic, or QC_BENCH_R1 and QC_BENCH_R2) and the same BAM with and without the QC
// statistics, alternating, and reports the throughput with QC over that
// without (1 means QC is free), by wall-clock time and by CPU time, which
// other processes on a shared machine disturb less.
func BenchmarkQCCost(b *testing.B) {
	fastqRun := func(b *testing.B) func(context.Context) {
		size := 16 << 20
		if s := os.Getenv("FASTQ_BENCH_MB"); s != "" {
			mb, _ := strconv.Atoi(s)
			size = mb << 20
		}
		var g1, g2 []byte
		if r1, r2 := os.Getenv("QC_BENCH_R1"), os.Getenv("QC_BENCH_R2"); r1 != "" && r2 != "" {
			// A pair of gzip files, such as bench/ingest.sh makes.
			g1, g2 = mustRead(b, r1), mustRead(b, r2)
		} else {
			r1, r2 := syntheticPair(size)
			g1, g2 = gz(b, r1), gz(b, r2)
		}
		return func(ctx context.Context) {
			stored := []io.Writer{io.Discard, io.Discard}
			if _, err := FASTQ(ctx, []io.Reader{bytes.NewReader(g1), bytes.NewReader(g2)}, stored, []etag.Family{etag.MD5up}, Limits{}); err != nil {
				b.Fatal(err)
			}
		}
	}
	bamRun := func(b *testing.B) func(context.Context) {
		data := mustRead(b, bigBAM(b))
		return func(ctx context.Context) {
			if _, err := BAM(ctx, bytes.NewReader(data), FileTypeBAM, io.Discard, []etag.Family{etag.MD5up}, Limits{}); err != nil {
				b.Fatal(err)
			}
		}
	}
	for _, c := range []struct {
		name  string
		setUp func(*testing.B) func(context.Context)
	}{{"FASTQ", fastqRun}, {"BAM", bamRun}} {
		b.Run(c.name, func(b *testing.B) {
			run := c.setUp(b)
			var with, without, withCPU, withoutCPU time.Duration
			timed := func(wall, cpu *time.Duration, ctx context.Context) {
				start, startCPU := time.Now(), cpuTime(syscall.RUSAGE_SELF)
				run(ctx)
				*wall += time.Since(start)
				*cpu += cpuTime(syscall.RUSAGE_SELF) - startCPU
			}
			for b.Loop() {
				timed(&with, &withCPU, context.Background())
				timed(&without, &withoutCPU, WithoutQC(context.Background()))
			}
			b.ReportMetric(float64(without)/float64(with), "wall_with_qc/without")
			b.ReportMetric(float64(withoutCPU)/float64(withCPU), "cpu_with_qc/without")
		})
	}
}

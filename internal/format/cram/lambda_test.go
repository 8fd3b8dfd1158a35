package cram

import (
	"bytes"
	"fmt"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/seqstore/seqstore/internal/testutil"
)

const bowtie2Examples = "/usr/share/doc/bowtie2/examples"

// lambdaFixture holds alignments of bowtie2's lambda phage reads made with
// minimap2, once per test binary: a coordinate-sorted SAM and the
// aligner's (read-name grouped) SAM, and the reference.
type lambdaFixture struct {
	dir, ref, sorted, grouped string
	err                       error
}

var (
	lambdaOnce sync.Once
	lambda     lambdaFixture
)

func shell(dir, script string) error {
	cmd := exec.Command("sh", "-ec", script)
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("%s: %v\n%s", script, err, out)
	}
	return nil
}

func lambdaData(t testing.TB) *lambdaFixture {
	t.Helper()
	testutil.RequireTool(t, "samtools")
	testutil.RequireTool(t, "minimap2")
	testutil.RequireDir(t, bowtie2Examples)
	lambdaOnce.Do(func() {
		dir, err := os.MkdirTemp("", "cram-lambda-")
		if err != nil {
			lambda.err = err
			return
		}
		lambda.dir = dir
		lambda.ref = filepath.Join(dir, "lambda.fa")
		lambda.sorted = filepath.Join(dir, "sorted.sam")
		lambda.grouped = filepath.Join(dir, "grouped.sam")
		// Paired short reads (a few thousand pairs) and long reads, with a
		// tail of reads from another genome so that some stay unmapped.
		ex := bowtie2Examples
		lambda.err = shell(dir, `
zcat `+ex+`/reference/lambda_virus.fa.gz > lambda.fa
zcat `+ex+`/reads/reads_1.fq.gz | head -n 12000 > r1.fq
zcat `+ex+`/reads/reads_2.fq.gz | head -n 12000 > r2.fq
zcat `+ex+`/reads/longreads.fq.gz | head -n 400 > long.fq
minimap2 -a -x sr -t 1 lambda.fa r1.fq r2.fq 2>/dev/null > pairs.sam
minimap2 -a -x map-ont -t 1 lambda.fa long.fq 2>/dev/null | grep -v '^@' > long.body
cat pairs.sam long.body > grouped.sam
samtools sort -o sorted.sam -O sam grouped.sam
`)
	})
	if lambda.err != nil {
		t.Fatal(lambda.err)
	}
	return &lambda
}

func TestLambdaProfiles(t *testing.T) {
	lf := lambdaData(t)
	tmp := t.TempDir()
	for _, input := range []string{lf.sorted, lf.grouped} {
		for i, p := range profiles {
			name := fmt.Sprintf("%s.%d.cram", strings.TrimSuffix(filepath.Base(input), ".sam"), i)
			t.Run(name+"/"+p, func(t *testing.T) {
				c := makeCRAM(t, tmp, input, lf.ref, name, p)
				want := samtoolsView(t, c, lf.ref)
				got, err := decodeFile(t, c, lf.ref)
				if err != nil {
					t.Fatal(err)
				}
				compareSAM(t, c, got, want)
				if len(want) == 0 {
					t.Fatal("samtools printed nothing")
				}
			})
		}
	}
}

// TestMultiReference builds a reference of several sequences (pieces of
// lambda, and one with N runs and lower case) and aligns reads to it, so
// that sorted CRAMs have slices over several references and multi-reference
// slices, and MD/NM see ambiguous reference bases.
func TestMultiReference(t *testing.T) {
	lf := lambdaData(t)
	dir := t.TempDir()
	seq, err := os.ReadFile(lf.ref)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(seq), "\n")
	bases := strings.Join(lines[1:], "")
	rng := rand.New(rand.NewSource(1))
	var fa bytes.Buffer
	for i := 0; i < 5; i++ {
		piece := []byte(bases[i*9000 : i*9000+9500])
		if i == 2 {
			for k := 0; k < 40; k++ {
				at := rng.Intn(len(piece) - 3)
				copy(piece[at:], "NNN")
			}
			for k := 100; k < 400; k++ {
				piece[k] += 'a' - 'A'
			}
		}
		fmt.Fprintf(&fa, ">chr%d\n", i+1)
		for k := 0; k < len(piece); k += 70 {
			fa.Write(piece[k:min(k+70, len(piece))])
			fa.WriteByte('\n')
		}
	}
	ref := filepath.Join(dir, "multi.fa")
	if err := os.WriteFile(ref, fa.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := shell(dir, `
minimap2 -a -x sr -t 1 `+ref+` `+lf.dir+`/r1.fq `+lf.dir+`/r2.fq 2>/dev/null | samtools sort -O sam -o multi.sam -
`); err != nil {
		t.Fatal(err)
	}
	for i, p := range append(profiles, "version=3.0,seqs_per_slice=300", "version=3.1,seqs_per_slice=1000,multi_seq_per_slice=1") {
		name := fmt.Sprintf("multi.%d.cram", i)
		t.Run(p, func(t *testing.T) {
			c := makeCRAM(t, dir, filepath.Join(dir, "multi.sam"), ref, name, p)
			want := samtoolsView(t, c, ref)
			got, err := decodeFile(t, c, ref)
			if err != nil {
				t.Fatal(err)
			}
			compareSAM(t, c, got, want)
		})
	}
}

func TestMain(m *testing.M) {
	code := m.Run()
	if lambda.dir != "" {
		os.RemoveAll(lambda.dir)
	}
	os.Exit(code)
}

package cram

import (
	"crypto/md5"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/seqstore/seqstore/internal/format/fasta"
	"github.com/seqstore/seqstore/internal/format/sam"
	"github.com/seqstore/seqstore/internal/testutil"
)

var (
	benchOnce sync.Once
	benchSAM  string
	benchErr  error
)

// benchData simulates 2x150 reads at 400x over lambda with wgsim, aligns
// them with minimap2 and sorts them: about 130,000 pairs.
func benchData(b *testing.B) (samPath, ref string) {
	lf := lambdaData(b)
	testutil.RequireTool(b, "wgsim")
	benchOnce.Do(func() {
		benchSAM = filepath.Join(lf.dir, "bench.sam")
		benchErr = shell(lf.dir, `
wgsim -S 7 -N 130000 -1 150 -2 150 -e 0.005 lambda.fa w1.fq w2.fq > /dev/null
minimap2 -a -x sr -t 2 lambda.fa w1.fq w2.fq 2>/dev/null | samtools sort -@2 -O sam -o bench.sam -
`)
	})
	if benchErr != nil {
		b.Fatal(benchErr)
	}
	return benchSAM, lf.ref
}

// BenchmarkDecode decodes, renders, MD5s and counts a generated CRAM in
// each profile and reports the time relative to
// `samtools view -@2 -T ref FILE | md5sum` as x_samtools (below 1 is
// faster than samtools).
func BenchmarkDecode(b *testing.B) {
	samPath, ref := benchData(b)
	dir := b.TempDir()
	for _, p := range []string{"version=3.0", "version=3.1,fast", "version=3.1,normal", "version=3.1,small", "version=3.1,archive"} {
		name := strings.NewReplacer("=", "", ",", "-").Replace(p)
		b.Run(name, func(b *testing.B) {
			c := makeCRAM(b, dir, samPath, ref, name+".cram", p)
			st, _ := os.Stat(c)
			b.SetBytes(st.Size())
			fa, err := fasta.Open(ref)
			if err != nil {
				b.Fatal(err)
			}
			defer fa.Close()
			var ours, theirs time.Duration
			for b.Loop() {
				start := time.Now()
				f, err := os.Open(c)
				if err != nil {
					b.Fatal(err)
				}
				rd, err := NewReader(f, fa)
				if err != nil {
					b.Fatal(err)
				}
				h := md5.New()
				var rec sam.Record
				var text []byte
				var reads, bases int64
				for {
					if err := rd.Read(&rec); err == io.EOF {
						break
					} else if err != nil {
						b.Fatal(err)
					}
					if rec.IsPrimary() {
						reads++
						bases += int64(len(rec.Seq))
					}
					text, _ = sam.AppendText(text, &rec, rd.Header().References)
					if len(text) > 256<<10 {
						h.Write(text)
						text = text[:0]
					}
				}
				h.Write(text)
				h.Sum(nil)
				f.Close()
				ours += time.Since(start)

				start = time.Now()
				cmd := exec.Command("sh", "-c", "samtools view -@2 -T "+ref+" "+c+" | md5sum")
				if out, err := cmd.CombinedOutput(); err != nil {
					b.Fatalf("%v: %s", err, out)
				}
				theirs += time.Since(start)
			}
			b.ReportMetric(float64(ours)/float64(theirs), "x_samtools")
		})
	}
}

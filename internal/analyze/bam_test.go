package analyze

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/seqstore/seqstore/internal/etag"
	"github.com/seqstore/seqstore/internal/format/bam/bamtest"
	"github.com/seqstore/seqstore/internal/testutil"
)

// samtoolsTruth is what samtools says about a BAM: the text samtools view
// prints (which the ETag hashes) and the primary records and their bases.
type samtoolsTruth struct {
	text         []byte
	reads, bases int64
}

func truthOf(t *testing.T, file string) samtoolsTruth {
	t.Helper()
	truth := samtoolsTruth{text: testutil.Run(t, "samtools", "view", file)}
	count := strings.TrimSpace(string(testutil.Run(t, "samtools", "view", "-c", "-F", "0x900", file)))
	var err error
	if truth.reads, err = strconv.ParseInt(count, 10, 64); err != nil {
		t.Fatal(err)
	}
	// Bases of primary records, a '*' SEQ counting 0, summed by awk.
	out := testutil.Run(t, "bash", "-c", `samtools view -F 0x900 "$1" | awk -F'\t' '$10 != "*" {s += length($10)} END {printf "%d", s}'`, "-", file)
	if truth.bases, err = strconv.ParseInt(string(out), 10, 64); err != nil {
		t.Fatalf("awk printed %q: %v", out, err)
	}
	return truth
}

func analyzeFile(t *testing.T, file, fileType string, index io.Writer) (*Result, error) {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	return BAM(context.Background(), f, fileType, index, etag.Families, Limits{})
}

// checkAgainstSamtools analyses file and compares the ETags of every family
// and the counts with what samtools and the standard digest tools say.
func checkAgainstSamtools(t *testing.T, file, fileType string) *Result {
	t.Helper()
	res, err := analyzeFile(t, file, fileType, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	truth := truthOf(t, file)
	m, s256, s512 := md5.Sum(truth.text), sha256.Sum256(truth.text), sha512.Sum512(truth.text)
	for family, want := range map[etag.Family]string{
		etag.MD5up: hex.EncodeToString(m[:]), etag.SHA256up: hex.EncodeToString(s256[:]), etag.SHA512up: hex.EncodeToString(s512[:]),
	} {
		if got := res.ETags[family]; len(got) != 1 || got[0] != want {
			t.Errorf("%s ETag %v, digest of samtools view is %s", family, got, want)
		}
	}
	if res.ReadCount != truth.reads || res.BaseCount != truth.bases {
		t.Errorf("counts %d reads / %d bases, samtools %d / %d", res.ReadCount, res.BaseCount, truth.reads, truth.bases)
	}
	// Asked for no ETag (the check before an upload that does not wait),
	// the analysis renders no text but counts the same.
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	bare, err := BAM(context.Background(), f, fileType, nil, nil, Limits{})
	if err != nil {
		t.Fatalf("without ETags: %v", err)
	}
	if bare.ReadCount != truth.reads || bare.BaseCount != truth.bases || len(bare.ETags) != 0 {
		t.Errorf("without ETags: counts %d reads / %d bases and ETags %v; samtools %d / %d, and no ETags", bare.ReadCount, bare.BaseCount, bare.ETags, truth.reads, truth.bases)
	}
	return res
}

func TestBAMMatchesSamtoolsOnLambda(t *testing.T) {
	aligned, _ := bamtest.Lambda(t)
	res := checkAgainstSamtools(t, aligned, FileTypeBAM)
	if res.Alignment != Aligned || !res.Indexed || res.FileType != FileTypeBAM {
		t.Errorf("alignment %s, indexed %v, type %s; want ALIGNED, indexed, BAM", res.Alignment, res.Indexed, res.FileType)
	}
	if res.ReadCount < 20000 {
		t.Errorf("only %d reads: the test data is not what it should be", res.ReadCount)
	}
}

func TestUBAMMatchesSamtools(t *testing.T) {
	testutil.RequireTool(t, "samtools")
	// bowtie2's example uBAM, and one samtools import makes from FASTQ.
	dir := t.TempDir()
	bamtest.Shell(t, dir, `
gzip -dc `+bamtest.BowtieExamples+`/reads/reads_1.fq.gz > r1.fq
gzip -dc `+bamtest.BowtieExamples+`/reads/reads_2.fq.gz > r2.fq
samtools import -1 r1.fq -2 r2.fq -o imported.bam 2>/dev/null`)
	for _, file := range []string{bamtest.Unaligned(t), filepath.Join(dir, "imported.bam")} {
		t.Run(filepath.Base(file), func(t *testing.T) {
			for _, fileType := range []string{FileTypeUBAM, FileTypeBAM} {
				res := checkAgainstSamtools(t, file, fileType)
				if res.Alignment != Unaligned || res.Indexed || res.FileType != fileType {
					t.Errorf("as %s: alignment %s, indexed %v; want UNALIGNED, not indexed", fileType, res.Alignment, res.Indexed)
				}
			}
		})
	}
}

// Every htslib-test file samtools reads gets the ETag and counts samtools
// gives, and is indexed exactly when its header says SO:coordinate and
// samtools can index it.
func TestBAMMatchesSamtoolsOnHtslibCorpus(t *testing.T) {
	for _, c := range bamtest.HtslibCorpus(t) {
		t.Run(c.Name, func(t *testing.T) {
			header := string(testutil.Run(t, "samtools", "view", "-H", c.Path))
			sorted := strings.HasPrefix(header, "@HD") && strings.Contains(strings.SplitN(header, "\n", 2)[0], "\tSO:coordinate")
			copyPath := filepath.Join(t.TempDir(), "c.bam")
			data, _ := os.ReadFile(c.Path)
			os.WriteFile(copyPath, data, 0o644)
			indexable := exec.Command("samtools", "index", copyPath).Run() == nil
			records := bytes.Count(testutil.Run(t, "samtools", "view", c.Path), []byte("\n"))
			res, err := analyzeFile(t, c.Path, FileTypeBAM, io.Discard)
			switch {
			case records == 0:
				if err == nil || !strings.Contains(err.Error(), "no alignment records") {
					t.Fatalf("an empty BAM gave %v", err)
				}
				return
			case sorted && !indexable:
				// The header promises an order samtools cannot index.
				if err == nil || !strings.Contains(err.Error(), "SO:coordinate") {
					t.Fatalf("header says sorted, samtools cannot index, analysis gave %v", err)
				}
				return
			case err != nil:
				t.Fatal(err)
			}
			checkAgainstSamtools(t, c.Path, FileTypeBAM)
			if want := sorted && indexable; res.Indexed != want {
				t.Errorf("indexed %v, want %v (SO:coordinate %v, samtools indexes it %v)", res.Indexed, want, sorted, indexable)
			}
		})
	}
}

func TestBAMDefects(t *testing.T) {
	aligned, ref := bamtest.Lambda(t)
	good, err := os.ReadFile(aligned)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	bamtest.Shell(t, dir, `
samtools view -C -T `+ref+` -o x.cram `+aligned+`
printf '@HD\tVN:1.6\tSO:coordinate\n@SQ\tSN:c\tLN:100\nr1\t0\tc\t50\t60\t4M\t*\t0\t0\tACGT\tIIII\nr2\t0\tc\t10\t60\t4M\t*\t0\t0\tACGT\tIIII\n' | samtools view --no-PG -b -o unsorted.bam -
printf '@HD\tVN:1.6\n@SQ\tSN:c\tLN:100\nu1\t4\t*\t0\t0\t*\t*\t0\t0\tACGT\tIIII\nu2\t4\t*\t0\t0\t*\t*\t0\t0\tACGT\tIIII\nm3\t0\tc\t10\t60\t4M\t*\t0\t0\tACGT\tIIII\n' | samtools view --no-PG -b -o mixed.bam -
printf '@HD\tVN:1.6\n@SQ\tSN:c\tLN:100\n' | samtools view --no-PG -b -o empty.bam -`)
	read := func(name string) []byte {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	eof := 28
	// A block_size made absurd in the first record after the header: the
	// header of a samtools BAM fills its own BGZF block(s), so the first
	// data block holds the first record at offset 0.
	corrupt := append([]byte{}, good...)
	tests := []struct {
		name     string
		data     []byte
		fileType string
		want     string
	}{
		{"an empty file", nil, FileTypeBAM, "source1: the file is empty"},
		{"FASTQ sent as BAM", []byte("@r1\nACGT\n+\nIIII\n"), FileTypeBAM, "source1: this is FASTQ, not BAM"},
		{"VCF sent as BAM", []byte("##fileformat=VCFv4.2\n"), FileTypeBAM, "source1: this is VCF, not BAM"},
		{"CRAM sent as BAM", read("x.cram"), FileTypeBAM, "source1: this is CRAM, not BAM: upload it with file type CRAM"},
		{"bad magic", append([]byte("BAM\x02"), good[4:]...), FileTypeBAM, "source1: this is not BAM: it starts with the bytes"},
		{"a truncated file", good[:len(good)/2], FileTypeBAM, "truncated: the file ends "},
		{"a missing EOF marker", good[:len(good)-eof], FileTypeBAM, "the file ends without the BGZF end-of-file marker: it is truncated"},
		{"a flipped bit in a block", flip(corrupt, len(corrupt)/3), FileTypeBAM, "source1, record "},
		{"mapped reads in a uBAM", read("mixed.bam"), FileTypeUBAM, `source1, record 3 (BGZF block at byte `},
		{"mapped reads in a uBAM, the message", read("mixed.bam"), FileTypeUBAM, `read "m3" is mapped (flag 0 lacks 0x4), but an unaligned BAM holds only unmapped reads`},
		{"SO:coordinate but unsorted", read("unsorted.bam"), FileTypeBAM, "source1: the header says SO:coordinate but records are not sorted by coordinate: record 2 at c:10 follows one at c:50"},
		{"no records", read("empty.bam"), FileTypeBAM, "source1: the BAM holds a header but no alignment records"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := BAM(context.Background(), bytes.NewReader(tt.data), tt.fileType, io.Discard, []etag.Family{etag.MD5up}, Limits{})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v\nwant an error containing %q", err, tt.want)
			}
			var ae *Error
			if !errors.As(err, &ae) || ae.Source != "source1" {
				t.Fatalf("%T %v is not an *analyze.Error for source1", err, err)
			}
		})
	}
}

func flip(b []byte, at int) []byte {
	b[at] ^= 0x10
	return b
}

// failingReader yields data, then fails as a broken connection would.
type failingReader struct {
	data []byte
	err  error
}

func (r *failingReader) Read(p []byte) (int, error) {
	if len(r.data) == 0 {
		return 0, r.err
	}
	n := copy(p, r.data)
	r.data = r.data[n:]
	return n, nil
}

// A source that cannot be read is not a defect of the file: the error
// passes through instead of becoming an *analyze.Error.
func TestBAMPassesReadFailuresThrough(t *testing.T) {
	aligned, _ := bamtest.Lambda(t)
	data, _ := os.ReadFile(aligned)
	broken := errors.New("connection reset")
	_, err := BAM(context.Background(), &failingReader{data: data[:len(data)/2], err: broken}, FileTypeBAM, io.Discard, []etag.Family{etag.MD5up}, Limits{})
	var ae *Error
	if !errors.Is(err, broken) || errors.As(err, &ae) {
		t.Fatalf("got %v (%T), want the read failure itself", err, err)
	}
}

func TestBAMStopsWhenCancelled(t *testing.T) {
	aligned, _ := bamtest.Lambda(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	f, _ := os.Open(aligned)
	defer f.Close()
	if _, err := BAM(ctx, f, FileTypeBAM, nil, []etag.Family{etag.MD5up}, Limits{}); !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v, want context.Canceled", err)
	}
}

func FuzzBAM(f *testing.F) {
	// A small real BAM seeds the fuzzer when samtools is at hand.
	if _, err := exec.LookPath("samtools"); err == nil {
		sam := "@HD\tVN:1.6\tSO:coordinate\n@SQ\tSN:c\tLN:100\nr1\t99\tc\t5\t60\t4M\t=\t20\t19\tACGT\tIIII\tNM:i:0\tXB:B:c,1,-2\nr2\t4\t*\t0\t0\t*\t*\t0\t0\tAC\t*\n"
		cmd := exec.Command("samtools", "view", "--no-PG", "-b", "-")
		cmd.Stdin = strings.NewReader(sam)
		if b, err := cmd.Output(); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		res, err := BAM(context.Background(), bytes.NewReader(b), FileTypeBAM, io.Discard, []etag.Family{etag.MD5up}, Limits{})
		if err != nil {
			var ae *Error
			if !errors.As(err, &ae) {
				t.Fatalf("error %T is not an *analyze.Error: %v", err, err)
			}
			return
		}
		if res.ReadCount < 0 || res.BaseCount < 0 || len(res.ETags[etag.MD5up]) != 1 {
			t.Fatalf("odd result %+v", res)
		}
	})
}

// bigBAM makes a coordinate-sorted BAM of about 50 MB from shifted copies
// of the lambda alignments.
func bigBAM(b *testing.B) string {
	aligned, _ := bamtest.Lambda(b)
	dir := b.TempDir()
	bamtest.Shell(b, dir, `
samtools view -H `+aligned+` | sed 's/LN:48502/LN:600000/' > h.sam
for i in $(seq 0 10); do
  samtools view `+aligned+` | awk -v s=$((i*48502)) 'BEGIN{OFS="\t"} $3!="*" {$4+=s; if ($7=="=") $8+=s; $1=$1"_"s; print}'
done > body.sam
cat h.sam body.sam | samtools view --no-PG -b -@2 -o big.bam -`)
	return filepath.Join(dir, "big.bam")
}

// cpuTime is the user plus system CPU time used so far by this process
// (who is syscall.RUSAGE_SELF) or by its finished children.
func cpuTime(who int) time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(who, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkBAM analyses a ~50 MB BAM, then times samtools view -@2 | md5sum
// on the same file and reports two ratios, samtools over ours (above 1
// means seqstore is faster): wall-clock time, and CPU time, which the other
// processes on a shared machine disturb less.
func BenchmarkBAM(b *testing.B) {
	testutil.RequireTool(b, "md5sum")
	file := bigBAM(b)
	data, err := os.ReadFile(file)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	var wall, cpu time.Duration
	for b.Loop() {
		start, startCPU := time.Now(), cpuTime(syscall.RUSAGE_SELF)
		if _, err := BAM(context.Background(), bytes.NewReader(data), FileTypeBAM, io.Discard, []etag.Family{etag.MD5up}, Limits{}); err != nil {
			b.Fatal(err)
		}
		wall += time.Since(start)
		cpu += cpuTime(syscall.RUSAGE_SELF) - startCPU
	}
	wall /= time.Duration(b.N)
	cpu /= time.Duration(b.N)
	var theirWall, theirCPU time.Duration
	var sum string
	const runs = 3
	for range runs {
		start, startCPU := time.Now(), cpuTime(syscall.RUSAGE_CHILDREN)
		out, err := exec.Command("bash", "-c", "samtools view -@2 "+file+" | md5sum").Output()
		if err != nil {
			b.Fatal(err)
		}
		theirWall += time.Since(start)
		theirCPU += cpuTime(syscall.RUSAGE_CHILDREN) - startCPU
		sum = strings.Fields(string(out))[0]
	}
	theirWall /= runs
	theirCPU /= runs
	b.ReportMetric(float64(theirWall)/float64(wall), "x_samtools_wall")
	b.ReportMetric(float64(theirCPU)/float64(cpu), "x_samtools_cpu")
	b.Logf("%.1f MB BAM: analyze.BAM %v wall, %v CPU; samtools view -@2 | md5sum %v wall, %v CPU (%s)",
		float64(len(data))/1e6, wall.Round(time.Millisecond), cpu.Round(time.Millisecond), theirWall.Round(time.Millisecond), theirCPU.Round(time.Millisecond), sum)
}

// lambdaBAM is the coordinate-sorted lambda BAM and its reference, which
// the CRAM tests convert.
func lambdaBAM(t testing.TB) (bam, ref string) { return bamtest.Lambda(t) }

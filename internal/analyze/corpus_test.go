package analyze

import (
	"bytes"
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/seqstore/seqstore/internal/etag"
	"github.com/seqstore/seqstore/internal/testutil"
)

// Every FASTQ file of Debian's htslib-test and seqkit-examples that seqkit
// reads, seqstore reads to the same counts, with the ETag of its
// uncompressed bytes.
func TestFASTQCorpusAgainstSeqkit(t *testing.T) {
	testutil.RequireTool(t, "seqkit")
	var files []string
	for _, pattern := range []string{
		testutil.RequireDir(t, "/usr/share/htslib-test/test/fastq") + "/*.fq",
		"/usr/share/htslib-test/test/*.fq",
		testutil.RequireDir(t, "/usr/share/doc/seqkit-examples/tests") + "/*.fq*",
	} {
		m, _ := filepath.Glob(pattern)
		files = append(files, m...)
	}
	checked := 0
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			out, err := exec.Command("seqkit", "stats", "-T", f).Output()
			if err != nil {
				t.Skipf("seqkit refuses it: %v", err)
			}
			n, b := parseStats(t, out)
			if n == 0 {
				t.Skip("no records")
			}
			raw, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			res, err := FASTQ(context.Background(), []io.Reader{bytes.NewReader(raw)}, nil, []etag.Family{etag.MD5up}, Limits{})
			if err != nil {
				t.Fatalf("seqkit reads %d records, seqstore refuses: %v", n, err)
			}
			if res.ReadCount != n || res.BaseCount != b {
				t.Errorf("counts %d/%d, seqkit %d/%d", res.ReadCount, res.BaseCount, n, b)
			}
			// gzip -dc -f passes plain files through.
			plain := testutil.Run(t, testutil.RequireTool(t, "gzip"), "-dc", "-f", f)
			if got, want := res.ETags[etag.MD5up][0], digest(t, etag.MD5up, plain); got != want {
				t.Errorf("ETag %s, md5sum of gzip -dc %s", got, want)
			}
			checked++
		})
	}
	if checked < 5 {
		t.Fatalf("only %d corpus files checked", checked)
	}
}

func parseStats(t testing.TB, out []byte) (int64, int64) {
	t.Helper()
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	cols := strings.Split(lines[len(lines)-1], "\t")
	var n, b int64
	for _, c := range cols[3] {
		n = n*10 + int64(c-'0')
	}
	for _, c := range cols[4] {
		b = b*10 + int64(c-'0')
	}
	return n, b
}

package integration

import (
	"bytes"
	"compress/gzip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/omics/types"

	"github.com/seqstore/seqstore/internal/analyze"
)

// A hostile upload fails its read set on a parser limit, named in the
// statusMessage, whether the limit is the default or one the operator set,
// and the server goes on ingesting the next read set.
func TestParserLimitsFailTheReadSet(t *testing.T) {
	d := lambdaData(t)
	dir := t.TempDir()
	// The poison, scaled down: a name line, then one sequence line
	// with no end, past the default 16 MiB line limit. It compresses to a
	// fraction of a megabyte.
	var poison bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&poison, gzip.BestSpeed)
	zw.Write([]byte("@r\n"))
	line := bytes.Repeat([]byte("A"), 1<<20)
	for range 40 {
		zw.Write(line)
	}
	zw.Close()
	poisonPath := filepath.Join(dir, "poison.fastq.gz")
	if err := os.WriteFile(poisonPath, poison.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		name   string
		limits func(cfg *analyze.Limits)
		file   string
		want   string
		// next is a read set the same server must still make ACTIVE.
		next string
	}{
		{"a line past the default limit", func(*analyze.Limits) {}, poisonPath, "max-fastq-line=16MiB", d.r2gz},
		{"an operator's cap on decompressed bytes", func(l *analyze.Limits) { l.Decompressed = 64 << 10 }, d.r1gz, "max-decompressed", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := newConfig(t, backends[0])
			tc.limits(&cfg.ParseLimits)
			in := start(t, backends[0], cfg)
			c := in.goClient(in.rootKey())
			store := newStore(t, c, "")
			id := uploadFiles(t, c, store, types.FileTypeFastq, "", 1<<20, tc.file)
			md := waitIngested(t, c, store, id)
			if md.Status != types.ReadSetStatusUploadFailed {
				t.Fatalf("status %s, want UPLOAD_FAILED", md.Status)
			}
			if msg := aws.ToString(md.StatusMessage); !strings.Contains(msg, tc.want) {
				t.Errorf("statusMessage %q does not name %q", msg, tc.want)
			}
			if tc.next == "" {
				return
			}
			good := uploadFiles(t, c, store, types.FileTypeFastq, "", 1<<20, tc.next)
			if md := waitIngested(t, c, store, good); md.Status != types.ReadSetStatusActive {
				t.Fatalf("the next read set: %s %s", md.Status, aws.ToString(md.StatusMessage))
			}
		})
	}
}

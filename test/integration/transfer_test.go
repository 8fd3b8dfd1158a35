package integration

import (
	"bufio"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
)

// writeFASTQ writes n random 150-base reads named for mate (1 or 2) and
// returns the MD5 of the file.
func writeFASTQ(t *testing.T, path string, n, mate int) string {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h := md5.New()
	w := bufio.NewWriterSize(io.MultiWriter(f, h), 1<<20)
	rng := rand.New(rand.NewPCG(7, 11))
	seq := make([]byte, 150)
	qual := make([]byte, 150)
	for i := range n {
		for j := range seq {
			seq[j] = "ACGT"[rng.IntN(4)]
			qual[j] = byte('!' + 2 + rng.IntN(39))
		}
		fmt.Fprintf(w, "@read%d/%d\n%s\n+\n%s\n", i, mate, seq, qual)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// AWS's transfer tools upload 100 MiB parts, up to 10 at once, both mates
// under one upload, and download parts in parallel. Sources of about 120 MiB
// make two parts each.
func TestBoto3TransferToolsUpload(t *testing.T) {
	if testing.Short() {
		t.Skip("uploads 240 MiB")
	}
	in := start(t, backends[0], nil)
	c := in.goClient(in.rootKey())
	store := newStore(t, c, "")
	dir := t.TempDir()
	const reads = 380_000 // 380k records of ~330 bytes: ~120 MiB per mate
	s1, s2 := filepath.Join(dir, "r1.fq"), filepath.Join(dir, "r2.fq")
	md1, md2 := writeFASTQ(t, s1, reads, 1), writeFASTQ(t, s2, reads, 2)
	out := in.python(t, in.rootKey(), "boto3_transfer.py", store, s1, s2, dir)
	var got struct {
		Status              string
		StatusMessage       string
		PartsUploaded       int
		Source1PartsListed  int
		Etag                map[string]string
		SequenceInformation map[string]any
		Downloads           map[string]struct {
			MD5           string
			TotalParts    int
			ContentLength int64
		}
	}
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("%s: %v", out, err)
	}
	if got.Status != "ACTIVE" {
		t.Fatalf("status %s: %s", got.Status, got.StatusMessage)
	}
	if got.PartsUploaded != 4 || got.Source1PartsListed != 2 {
		t.Errorf("%d parts uploaded, %d listed for SOURCE1; want 4 and 2", got.PartsUploaded, got.Source1PartsListed)
	}
	if got.Etag["source1"] != md1 || got.Etag["source2"] != md2 {
		t.Errorf("etag %v, want %s %s", got.Etag, md1, md2)
	}
	if got.SequenceInformation["totalReadCount"] != float64(2*reads) || got.SequenceInformation["totalBaseCount"] != float64(2*reads*150) {
		t.Errorf("sequenceInformation %v", got.SequenceInformation)
	}
	if got.Downloads["source1"].MD5 != md1 || got.Downloads["source2"].MD5 != md2 {
		t.Errorf("downloads decompress to %v, want %s %s", got.Downloads, md1, md2)
	}
}

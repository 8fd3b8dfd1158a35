package main

import (
	"bufio"
	"compress/gzip"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/seqstore/seqstore/internal/testutil"
)

// An upload whose ingestion kills its server (here with SIGKILL, as the
// kernel's out-of-memory killer would) is not claimed at every restart
// forever: after -ingest-attempts such deaths (3 by default) the next start
// fails the read set and says why.
func TestIngestionThatKillsItsServerFailsAfterThreeAttempts(t *testing.T) {
	bin := buildBinary(t)
	data := t.TempDir()
	addr := freeAddr(t)
	// A short lease lets each restart take over the dead server's claim
	// within a second or two.
	flags := []string{"-ingest-lease", "1s"}
	srv := serveWith(t, bin, data, addr, flags)
	env := exports(t, srv.stderr.String())
	env = append(env, "AWS_MAX_ATTEMPTS=1")

	var store struct{ ID string }
	json.Unmarshal(awsCLI(t, env, "create-sequence-store", "--name", "attempts"), &store)
	var upload struct{ UploadID string }
	json.Unmarshal(awsCLI(t, env, "create-multipart-read-set-upload", "--sequence-store-id", store.ID,
		"--source-file-type", "FASTQ", "--subject-id", "s", "--sample-id", "s", "--name", "slow"), &upload)
	var part struct{ Checksum string }
	json.Unmarshal(awsCLI(t, env, "upload-read-set-part", "--sequence-store-id", store.ID, "--upload-id", upload.UploadID,
		"--part-source", "SOURCE1", "--part-number", "1", "--payload", slowFASTQ(t)), &part)

	// Each server dies as soon as it starts ingesting.
	started := 0
	killWhenIngesting := func(r *running) {
		t.Helper()
		deadline := time.Now().Add(30 * time.Second)
		for strings.Count(r.stderr.String(), "ingesting read set") == 0 {
			if time.Now().After(deadline) {
				t.Fatalf("the server did not start ingesting:\n%s", r.stderr.String())
			}
			time.Sleep(5 * time.Millisecond)
		}
		if strings.Contains(r.stderr.String(), "read set active") {
			t.Fatalf("ingestion finished before the server was killed; the test needs a slower file:\n%s", r.stderr.String())
		}
		testutil.KillTree(r.cmd.Process)
		r.cmd.Wait()
		started++
	}
	var done struct{ ReadSetID string }
	json.Unmarshal(awsCLI(t, env, "complete-multipart-read-set-upload", "--sequence-store-id", store.ID, "--upload-id", upload.UploadID,
		"--parts", `[{"partNumber":1,"partSource":"SOURCE1","checksum":"`+part.Checksum+`"}]`), &done)
	killWhenIngesting(srv)
	for started < 3 {
		killWhenIngesting(serveWith(t, bin, data, addr, flags))
	}

	last := serveWith(t, bin, data, addr, flags)
	deadline := time.Now().Add(60 * time.Second)
	var md struct{ Status, StatusMessage string }
	for {
		json.Unmarshal(awsCLI(t, env, "get-read-set-metadata", "--sequence-store-id", store.ID, "--id", done.ReadSetID), &md)
		if md.Status != "PROCESSING_UPLOAD" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("read set still PROCESSING_UPLOAD a minute after the fourth start:\n%s", last.stderr.String())
		}
		time.Sleep(200 * time.Millisecond)
	}
	if md.Status != "UPLOAD_FAILED" || !strings.Contains(md.StatusMessage, "started 3 times") {
		t.Fatalf("after %d servers died ingesting it, the read set is %s %q; want UPLOAD_FAILED saying ingestion was started 3 times",
			started, md.Status, md.StatusMessage)
	}
	if strings.Contains(last.stderr.String(), "ingesting read set") {
		t.Errorf("the fourth server started ingesting the read set again:\n%s", last.stderr.String())
	}
	last.stop(t)
}

// slowFASTQ writes a small gzip file of a few million identical reads:
// under a megabyte to upload, seconds of work to ingest.
func slowFASTQ(t *testing.T) string {
	t.Helper()
	read := "@r\n" + strings.Repeat("ACGT", 38) + "\n+\n" + strings.Repeat("I", 152) + "\n"
	return gzipFile(t, "slow.fq.gz", func(w *bufio.Writer) {
		for range 2_000_000 {
			w.WriteString(read)
		}
	})
}

// gzipFile writes what write writes, gzip -1, to a file of that name in a
// temporary directory.
func gzipFile(t *testing.T, name string, write func(w *bufio.Writer)) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zw, _ := gzip.NewWriterLevel(f, gzip.BestSpeed)
	w := bufio.NewWriterSize(zw, 1<<20)
	write(w)
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/seqstore/seqstore/internal/testutil"
)

// A server killed with SIGKILL in the middle of an import job finishes the
// job after a restart, with each source imported once: the item it was
// working on is taken up again when its lease runs out, into the read set
// chosen for it when the job started, and nothing is duplicated.
func TestImportJobSurvivesSIGKILL(t *testing.T) {
	bin := buildBinary(t)
	data := t.TempDir()
	root := t.TempDir()
	addr := freeAddr(t)
	slow := slowFASTQ(t)
	small := filepath.Join(root, "small.fq")
	os.WriteFile(small, []byte("@a\nACGT\n+\nIIII\n@b\nGG\n+\nII\n"), 0o644)
	os.Rename(slow, filepath.Join(root, "slow.fq.gz"))
	slow = filepath.Join(root, "slow.fq.gz")
	flags := []string{"-file-root", root, "-job-lease", "1s", "-job-workers", "1"}
	srv := serveWith(t, bin, data, addr, flags)
	env := exports(t, srv.stderr.String())
	env = append(env, "AWS_MAX_ATTEMPTS=1")

	var store struct{ ID string }
	json.Unmarshal(awsCLI(t, env, "create-sequence-store", "--name", "imports"), &store)
	source := func(name, path string) string {
		return fmt.Sprintf(`{"sourceFiles":{"source1":"file://%s"},"sourceFileType":"FASTQ","subjectId":"s","sampleId":"s","name":%q}`, path, name)
	}
	var job struct{ ID string }
	json.Unmarshal(awsCLI(t, env, "start-read-set-import-job", "--sequence-store-id", store.ID,
		"--role-arn", "arn:aws:iam::123456789012:role/import",
		"--sources", "["+source("slow", slow)+","+source("small-1", small)+","+source("small-2", small)+"]"), &job)

	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(srv.stderr.String(), "ingesting read set") {
		if time.Now().After(deadline) {
			t.Fatalf("the server did not start importing:\n%s", srv.stderr.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
	testutil.KillTree(srv.cmd.Process)
	srv.cmd.Wait()
	if strings.Contains(srv.stderr.String(), "read set active") {
		t.Fatalf("a source was imported before the server was killed; the test needs a slower file:\n%s", srv.stderr.String())
	}

	again := serveWith(t, bin, data, addr, flags)
	var got struct {
		Status  string
		Sources []struct{ Status, StatusMessage, ReadSetID string }
	}
	deadline = time.Now().Add(2 * time.Minute)
	for {
		json.Unmarshal(awsCLI(t, env, "get-read-set-import-job", "--sequence-store-id", store.ID, "--id", job.ID), &got)
		if got.Status != "SUBMITTED" && got.Status != "IN_PROGRESS" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("import job still %s two minutes after the restart:\n%s", got.Status, again.stderr.String())
		}
		time.Sleep(200 * time.Millisecond)
	}
	if got.Status != "COMPLETED" {
		t.Fatalf("after a SIGKILL and a restart the job is %s: %+v\n%s", got.Status, got.Sources, again.stderr.String())
	}
	var list struct {
		ReadSets []struct {
			ID, Name, Status    string
			SequenceInformation struct{ TotalReadCount int64 }
		}
	}
	json.Unmarshal(awsCLI(t, env, "list-read-sets", "--sequence-store-id", store.ID), &list)
	if len(list.ReadSets) != 3 {
		t.Fatalf("the store holds %d read sets after the restart, want the 3 imported once each: %+v", len(list.ReadSets), list.ReadSets)
	}
	for _, rs := range list.ReadSets {
		want := int64(2)
		if rs.Name == "slow" {
			want = 2_000_000
		}
		if rs.Status != "ACTIVE" || rs.SequenceInformation.TotalReadCount != want {
			t.Errorf("read set %s (%s): %s with %d reads, want ACTIVE with %d", rs.ID, rs.Name, rs.Status, rs.SequenceInformation.TotalReadCount, want)
		}
	}
	again.stop(t)
}

package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"github.com/seqstore/seqstore/internal/testutil"
	"math/rand/v2"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/seqstore/seqstore/internal/testutil/pgtest"
	"github.com/seqstore/seqstore/internal/testutil/s3server"
)

// A server killed with SIGKILL in the middle of moving a read set to the
// archive tier, and again in the middle of bringing it back, loses
// nothing, on either metadata store: after each restart the move is
// finished by the job item done again, the read set ends ARCHIVED and then
// ACTIVE with its ETag, counts and length as ingested, the file downloads
// (ETag checked by the client) byte for byte as uploaded, and each tier
// holds exactly the objects its status says.
//
// The archive tier is an S3 bucket, stalled (its server paused) before
// each move begins, so the kill always lands while the move waits on it,
// after the item has claimed its work, however fast the machine copies.
func TestArchiveAndActivationSurviveSIGKILL(t *testing.T) {
	bin := buildBinary(t)
	s3, err := s3server.StartProcess(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s3.Resume(); s3.Stop() })
	if err := s3.CreateBucket(context.Background(), "archive"); err != nil {
		t.Fatal(err)
	}
	t.Setenv("SEQSTORE_S3_ACCESS_KEY_ID", s3.AccessKey)
	t.Setenv("SEQSTORE_S3_SECRET_ACCESS_KEY", s3.SecretKey)
	reads := randomReadsGz(t, 400_000)
	uploaded, err := os.ReadFile(reads)
	if err != nil {
		t.Fatal(err)
	}
	for _, metadata := range []string{"sqlite", "postgres"} {
		t.Run(metadata, func(t *testing.T) {
			data := t.TempDir()
			addr := freeAddr(t)
			base := []string{"-job-lease", "2s", "-job-workers", "1",
				"-archive-objects", "s3://archive/" + metadata + "?endpoint=" + url.QueryEscape(s3.Endpoint) + "&region=" + s3.Region}
			if metadata == "postgres" {
				base = append(base, "-metadata", pgtest.NewSchemaDSN(t))
			}
			archiving := append([]string{"-archive-after", "3s", "-archive-sweep", "500ms"}, base...)
			resting := append([]string{"-archive-after", "1h"}, base...)

			srv := serveWith(t, bin, data, addr, resting)
			env := append(exports(t, srv.stderr.String()), "AWS_MAX_ATTEMPTS=1")
			var store struct{ ID string }
			json.Unmarshal(awsCLI(t, env, "create-sequence-store", "--name", "crash"), &store)
			out, errOut, ok := run(t, bin, env, "upload", "-store", store.ID, "-subject", "s", "-sample", "s", "-name", "reads", "-no-check", "-wait", reads)
			if !ok {
				t.Fatalf("upload failed:\n%s%s", out, errOut)
			}
			id := readSetIDs(t, env, store.ID)[0]
			ingested := readSetMetadata(t, env, store.ID, id)
			if ingested.Status != "ACTIVE" || ingested.Files.Source1.ContentLength != int64(len(uploaded)) {
				t.Fatalf("after the upload: %+v, want ACTIVE holding the %d bytes uploaded", ingested, len(uploaded))
			}
			srv.stop(t)

			// Archive: the sweep finds the read set unread; kill the server
			// as soon as the item starts copying.
			srv = serveWith(t, bin, data, addr, archiving)
			pause(t, s3)
			killAt(t, srv, "archiving read set", "read set archived")
			resume(t, s3)
			srv = serveWith(t, bin, data, addr, archiving)
			waitStatus(t, env, store.ID, id, "ARCHIVED", srv)
			checkUnchanged(t, env, store.ID, id, ingested, "ARCHIVED")
			srv.stop(t)
			checkTiers(t, bin, data, base, map[string]int64{"archive": int64(len(uploaded))})

			// Activation: kill the server as soon as the item starts
			// copying back.
			srv = serveWith(t, bin, data, addr, resting)
			pause(t, s3)
			var job struct{ ID string }
			json.Unmarshal(awsCLI(t, env, "start-read-set-activation-job", "--sequence-store-id", store.ID,
				"--sources", fmt.Sprintf(`[{"readSetId":%q}]`, id)), &job)
			killAt(t, srv, "activating read set", "read set activated")
			resume(t, s3)
			srv = serveWith(t, bin, data, addr, resting)
			waitStatus(t, env, store.ID, id, "ACTIVE", srv)
			var got struct{ Status string }
			json.Unmarshal(awsCLI(t, env, "get-read-set-activation-job", "--sequence-store-id", store.ID, "--id", job.ID), &got)
			if got.Status != "COMPLETED" {
				t.Errorf("activation job %s after the restart, want COMPLETED", got.Status)
			}
			checkUnchanged(t, env, store.ID, id, ingested, "ACTIVE")
			dir := t.TempDir()
			if out, errOut, ok := run(t, bin, env, "download", "-store", store.ID, "-o", dir, id); !ok {
				t.Fatalf("download failed:\n%s%s", out, errOut)
			}
			back, err := os.ReadFile(filepath.Join(dir, ingested.Files.Source1.name()))
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(back, uploaded) {
				t.Fatalf("downloaded %d bytes (MD5 %s), uploaded %d (MD5 %s)", len(back), md5hex(back), len(uploaded), md5hex(uploaded))
			}
			srv.stop(t)
			checkTiers(t, bin, data, base, map[string]int64{"active": int64(len(uploaded))})
		})
	}
}

// randomReadsGz writes n random 150-base reads, gzip -1: random bases and
// qualities barely compress, so the stored file is large enough (about
// 40 MB) that copying it between tiers takes a while.
func randomReadsGz(t *testing.T, n int) string {
	t.Helper()
	return gzipFile(t, "reads.fq.gz", func(w *bufio.Writer) {
		rng := rand.New(rand.NewPCG(3, 4))
		seq, qual := make([]byte, 150), make([]byte, 150)
		for i := range n {
			for j := range seq {
				v := rng.Uint32()
				seq[j], qual[j] = "ACGT"[v&3], byte('#'+(v>>8)%40)
			}
			fmt.Fprintf(w, "@A00488:61:HMLGNDSXX:4:1101:%d:%d 1:N:0:CGAGGCTG\n%s\n+\n%s\n", 1000+i%30000, 1000+i/30000, seq, qual)
		}
	})
}

func pause(t *testing.T, s3 *s3server.Server) {
	t.Helper()
	if err := s3.Pause(); err != nil {
		t.Fatal(err)
	}
}

func resume(t *testing.T, s3 *s3server.Server) {
	t.Helper()
	if err := s3.Resume(); err != nil {
		t.Fatal(err)
	}
}

// killAt sends SIGKILL to the server as soon as its log holds line, and
// fails the test if the log shows that the move got to done first.
func killAt(t *testing.T, srv *running, line, done string) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for !strings.Contains(srv.stderr.String(), line) {
		if time.Now().After(deadline) {
			t.Fatalf("the server never logged %q:\n%s", line, srv.stderr.String())
		}
		time.Sleep(2 * time.Millisecond)
	}
	testutil.KillTree(srv.cmd.Process)
	srv.cmd.Wait()
	if strings.Contains(srv.stderr.String(), done) {
		t.Fatalf("the move ended before the kill, although the archive tier was stalled:\n%s", srv.stderr.String())
	}
}

type fileInfo struct {
	ContentLength int64
	TotalParts    int64
	S3Access      struct{ S3URI string }
}

// name is the file's name, the last element of its S3 URI.
func (f fileInfo) name() string { return filepath.Base(f.S3Access.S3URI) }

type readSetInfo struct {
	Status string
	Etag   struct{ Algorithm, Source1 string }
	Files  struct{ Source1 fileInfo }

	SequenceInformation struct{ TotalReadCount, TotalBaseCount int64 }
}

func readSetMetadata(t *testing.T, env []string, store, id string) readSetInfo {
	t.Helper()
	var md readSetInfo
	if err := json.Unmarshal(awsCLI(t, env, "get-read-set-metadata", "--sequence-store-id", store, "--id", id), &md); err != nil {
		t.Fatal(err)
	}
	return md
}

func readSetIDs(t *testing.T, env []string, store string) []string {
	t.Helper()
	var list struct{ ReadSets []struct{ ID string } }
	json.Unmarshal(awsCLI(t, env, "list-read-sets", "--sequence-store-id", store), &list)
	var ids []string
	for _, rs := range list.ReadSets {
		ids = append(ids, rs.ID)
	}
	if len(ids) != 1 {
		t.Fatalf("the store lists %d read sets, want 1", len(ids))
	}
	return ids
}

func waitStatus(t *testing.T, env []string, store, id, want string, srv *running) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		if got := readSetMetadata(t, env, store, id).Status; got == want {
			return
		} else if time.Now().After(deadline) {
			t.Fatalf("read set %s two minutes after the restart, want %s:\n%s", got, want, srv.stderr.String())
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// checkUnchanged compares the read set's metadata with what ingestion
// recorded, but for the status.
func checkUnchanged(t *testing.T, env []string, store, id string, ingested readSetInfo, status string) {
	t.Helper()
	want := ingested
	want.Status = status
	if got := readSetMetadata(t, env, store, id); got != want {
		t.Errorf("metadata %+v, want %+v", got, want)
	}
}

// checkTiers runs `seqstore admin usage` and compares the bytes of read-set
// files in each tier with want: nothing else, no copy left behind.
func checkTiers(t *testing.T, bin, data string, flags []string, want map[string]int64) {
	t.Helper()
	args := []string{"admin", "usage", "-data", data}
	for i, f := range flags {
		if (f == "-metadata" || f == "-archive-objects") && i+1 < len(flags) {
			args = append(args, f, flags[i+1])
		}
	}
	out := mustRun(t, bin, args...)
	got := map[string]int64{}
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) == 5 && f[0] == "123456789012" {
			var n int64
			fmt.Sscan(f[4], &n)
			got[f[2]] += n
		}
	}
	for tier, n := range want {
		if got[tier] != n {
			t.Errorf("the %s tier holds %d bytes, want %d:\n%s", tier, got[tier], n, out)
		}
	}
	for tier, n := range got {
		if _, ok := want[tier]; !ok && n != 0 {
			t.Errorf("the %s tier holds %d bytes, want none:\n%s", tier, n, out)
		}
	}
}

func md5hex(b []byte) string {
	s := md5.Sum(b)
	return hex.EncodeToString(s[:])
}

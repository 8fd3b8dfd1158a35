package integration

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/omics"
	"github.com/aws/aws-sdk-go-v2/service/omics/types"

	"github.com/seqstore/seqstore/internal/blob"
	"github.com/seqstore/seqstore/internal/config"
	"github.com/seqstore/seqstore/internal/readset"
	"github.com/seqstore/seqstore/internal/server"
	"github.com/seqstore/seqstore/internal/testutil"
)

const archiveAfter = 30 * 24 * time.Hour

// lifecycleServer starts a server on b that archives after archiveAfter by
// a fake clock, and a store with one paired FASTQ read set in it.
func lifecycleServer(t *testing.T, b backend) (in *instance, clock *testutil.Clock, c *omics.Client, store, id string) {
	t.Helper()
	return lifecycleServerOf(t, b, lifecycleOptions{})
}

// lifecycleOptions vary lifecycleServer.
type lifecycleOptions struct {
	reads     int           // in each mate; 3000 if 0
	encrypted bool          // the store is encrypted at rest
	sweep     time.Duration // how often the server sweeps itself; the test sweeps if 0
	// deletedRetention is how long deleted read sets stay listed.
	deletedRetention time.Duration
}

// lifecycleServerOf is lifecycleServer as opts say.
func lifecycleServerOf(t *testing.T, b backend, opts lifecycleOptions) (in *instance, clock *testutil.Clock, c *omics.Client, store, id string) {
	t.Helper()
	clock = testutil.NewClock(time.Now().UTC())
	cfg := newConfig(t, b)
	create := &omics.CreateSequenceStoreInput{Name: aws.String("lifecycle")}
	reads := cmp.Or(opts.reads, 3000)
	if opts.encrypted {
		cfg.Keyring = filepath.Join(t.TempDir(), "keyring")
		addKeys(t, cfg.Keyring, labKeyArn+" 1")
		create.SseConfig = &types.SseConfig{Type: types.EncryptionTypeKms, KeyArn: aws.String(labKeyArn)}
	}
	cfg.Now = clock.Now
	cfg.Lifecycle.ArchiveAfter = archiveAfter
	cfg.Lifecycle.ArchiveSweep = cmp.Or(opts.sweep, time.Hour) // by default the test sweeps itself
	cfg.Lifecycle.DeletedRetention = opts.deletedRetention
	cfg.JobPoll = 20 * time.Millisecond
	in = start(t, b, cfg)
	c = in.goClient(in.rootKey())
	st, err := c.CreateSequenceStore(context.Background(), create)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	r1, _ := gzipFASTQ(t, dir, "r1", reads)
	r2, _ := gzipFASTQ(t, dir, "r2", reads)
	id = uploadFiles(t, c, *st.Id, types.FileTypeFastq, "", 16<<20, r1, r2)
	return in, clock, c, *st.Id, id
}

// keysUnder lists the keys of a tier under a prefix.
func keysUnder(t *testing.T, s blob.Store, prefix string) []string {
	t.Helper()
	var keys []string
	if err := s.List(context.Background(), prefix, func(key string, _ blob.Attributes) error {
		keys = append(keys, key)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return keys
}

// waitStatus polls a read set until it has status.
func waitStatus(t *testing.T, c *omics.Client, store, id string, status types.ReadSetStatus) *omics.GetReadSetMetadataOutput {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		md, err := c.GetReadSetMetadata(context.Background(), &omics.GetReadSetMetadataInput{SequenceStoreId: aws.String(store), Id: aws.String(id)})
		if err != nil {
			t.Fatal(err)
		}
		if md.Status == status {
			return md
		}
		if time.Now().After(deadline) {
			t.Fatalf("read set %s is still %s, want %s", id, md.Status, status)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// sweep runs the archive sweep now and returns how many read sets it queued.
func sweep(t *testing.T, in *instance) int {
	t.Helper()
	n, err := in.srv.ReadSets.SweepArchive(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestArchiveAndActivation(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			ctx := context.Background()
			in, clock, c, store, id := lifecycleServer(t, b)
			key := in.rootKey()
			before := fetchReadSet(t, c, store, id)
			prefix := "readsets/" + in.cfg.AccountID + "/" + store + "/" + id + "/"

			// Read a day short of the period: nothing moves.
			clock.Advance(archiveAfter - 24*time.Hour)
			if n := sweep(t, in); n != 0 {
				t.Fatalf("a sweep before the archive period queued %d read sets", n)
			}
			clock.Advance(48 * time.Hour)
			if n := sweep(t, in); n != 1 {
				t.Fatalf("a sweep after the archive period queued %d read sets, want 1", n)
			}
			md := waitStatus(t, c, store, id, types.ReadSetStatusArchived)
			if *md.Etag.Source1 != *before.etag.Source1 || *md.Etag.Source2 != *before.etag.Source2 ||
				*md.SequenceInformation.TotalReadCount != *before.info.TotalReadCount {
				t.Errorf("archived metadata: etag %+v, counts %+v; want %+v, %+v", md.Etag, md.SequenceInformation, before.etag, before.info)
			}
			waitNoKeys(t, in.srv.Blobs, prefix) // the active copy goes just after the status changes
			if keys := keysUnder(t, in.srv.Archive, prefix); len(keys) != len(before.files) {
				t.Errorf("archive tier holds %v, want %d files", keys, len(before.files))
			}
			listed, err := c.ListReadSets(ctx, &omics.ListReadSetsInput{SequenceStoreId: aws.String(store),
				Filter: &types.ReadSetFilter{Status: types.ReadSetStatusArchived}})
			if err != nil || len(listed.ReadSets) != 1 || *listed.ReadSets[0].Id != id {
				t.Fatalf("ListReadSets filtered on ARCHIVED: %+v, %v", listed, err)
			}

			// Downloads are refused with a message that says what to do.
			_, err = c.GetReadSet(ctx, &omics.GetReadSetInput{SequenceStoreId: aws.String(store), Id: aws.String(id), PartNumber: aws.Int32(1)})
			if code := apiErrorCode(t, err); code != "ConflictException" || !strings.Contains(err.Error(), "StartReadSetActivationJob") {
				t.Fatalf("GetReadSet of an archived read set: %v", err)
			}

			// Activation with the AWS CLI and its waiter.
			var started struct{ ID string }
			in.mustCLI(t, key, "start-read-set-activation-job", "--sequence-store-id", store,
				"--sources", `[{"readSetId":"`+id+`"}]`).json(t, &started)
			in.mustCLI(t, key, "wait", "read-set-activation-job-completed", "--sequence-store-id", store, "--id", started.ID)
			job, err := c.GetReadSetActivationJob(ctx, &omics.GetReadSetActivationJobInput{SequenceStoreId: aws.String(store), Id: aws.String(started.ID)})
			if err != nil {
				t.Fatal(err)
			}
			if job.Status != types.ReadSetActivationJobStatusCompleted || job.Sources[0].Status != types.ReadSetActivationJobItemStatusFinished {
				t.Fatalf("activation job: %s, sources %+v", job.Status, job.Sources)
			}
			after := fetchReadSet(t, c, store, id)
			if *after.etag.Source1 != *before.etag.Source1 || *after.etag.Source2 != *before.etag.Source2 {
				t.Errorf("ETags after activation %+v, before %+v", after.etag, before.etag)
			}
			for file, want := range before.contents {
				if !bytesEqual(after.contents[file], want) {
					t.Errorf("%s after activation differs from before (%d bytes, want %d)", file, len(after.contents[file]), len(want))
				}
				if *after.files[file].TotalParts != *before.files[file].TotalParts || *after.files[file].PartSize != *before.files[file].PartSize {
					t.Errorf("%s parts after activation %+v, before %+v", file, after.files[file], before.files[file])
				}
			}
			if keys := keysUnder(t, in.srv.Archive, prefix); len(keys) != 0 {
				t.Errorf("archive copies left after activation: %v", keys)
			}

			// An activation of an ACTIVE read set has nothing to do.
			again, err := c.StartReadSetActivationJob(ctx, &omics.StartReadSetActivationJobInput{SequenceStoreId: aws.String(store),
				Sources: []types.StartReadSetActivationJobSourceItem{{ReadSetId: aws.String(id)}}})
			if err != nil {
				t.Fatal(err)
			}
			done := waitActivation(t, c, store, *again.Id)
			if done.Status != types.ReadSetActivationJobStatusCompleted || aws.ToString(done.Sources[0].StatusMessage) != readset.NoActivationNeeded {
				t.Errorf("activation of an ACTIVE read set: %s, %+v", done.Status, done.Sources)
			}
			jobs, err := c.ListReadSetActivationJobs(ctx, &omics.ListReadSetActivationJobsInput{SequenceStoreId: aws.String(store), MaxResults: aws.Int32(1),
				Filter: &types.ActivateReadSetFilter{Status: types.ReadSetActivationJobStatusCompleted}})
			if err != nil || len(jobs.ActivationJobs) != 1 || jobs.NextToken == nil {
				t.Fatalf("first page of activation jobs: %+v, %v", jobs, err)
			}
			next, err := c.ListReadSetActivationJobs(ctx, &omics.ListReadSetActivationJobsInput{SequenceStoreId: aws.String(store), MaxResults: aws.Int32(1),
				NextToken: jobs.NextToken, Filter: &types.ActivateReadSetFilter{Status: types.ReadSetActivationJobStatusCompleted}})
			if err != nil || len(next.ActivationJobs) != 1 || *next.ActivationJobs[0].Id == *jobs.ActivationJobs[0].Id {
				t.Fatalf("second page of activation jobs: %+v, %v", next, err)
			}

			// Being read restarts the period; then the sweep takes it again.
			clock.Advance(archiveAfter - time.Hour)
			if n := sweep(t, in); n != 0 {
				t.Fatalf("a sweep within the period after activation queued %d", n)
			}
			clock.Advance(2 * time.Hour)
			if n := sweep(t, in); n != 1 {
				t.Fatalf("a sweep after the period since activation queued %d, want 1", n)
			}
			waitStatus(t, c, store, id, types.ReadSetStatusArchived)
		})
	}
}

// waitActivation polls an activation job until it ends.
func waitActivation(t *testing.T, c *omics.Client, store, id string) *omics.GetReadSetActivationJobOutput {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		j, err := c.GetReadSetActivationJob(context.Background(), &omics.GetReadSetActivationJobInput{SequenceStoreId: aws.String(store), Id: aws.String(id)})
		if err != nil {
			t.Fatal(err)
		}
		switch j.Status {
		case types.ReadSetActivationJobStatusSubmitted, types.ReadSetActivationJobStatusInProgress:
		default:
			return j
		}
		if time.Now().After(deadline) {
			t.Fatalf("activation job %s still %s", id, j.Status)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestDeletionReclaimsEveryTier(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			ctx := context.Background()
			// The server sweeps on its own here.
			in, clock, c, store, archivedID := lifecycleServerOf(t, b, lifecycleOptions{sweep: 20 * time.Millisecond})
			waitStatus(t, c, store, archivedID, types.ReadSetStatusActive)
			clock.Advance(archiveAfter + time.Hour)
			waitStatus(t, c, store, archivedID, types.ReadSetStatusArchived)
			waitNoKeys(t, in.srv.Blobs, "readsets/"+in.cfg.AccountID+"/"+store+"/"+archivedID+"/")
			// A second read set stays active, and an upload in progress
			// holds a part.
			dir := t.TempDir()
			r1, _ := gzipFASTQ(t, dir, "a", 500)
			activeID := uploadFiles(t, c, store, types.FileTypeFastq, "", 64<<10, r1)
			waitStatus(t, c, store, activeID, types.ReadSetStatusActive)
			account := in.cfg.AccountID
			tiers := map[string]blob.Store{"active": in.srv.Blobs, "archive": in.srv.Archive}
			for _, id := range []string{archivedID, activeID} {
				held := 0
				for _, s := range tiers {
					held += len(keysUnder(t, s, "readsets/"+account+"/"+store+"/"+id+"/"))
				}
				if held == 0 {
					t.Fatalf("read set %s has no stored files before deletion", id)
				}
			}
			used := storeUsage(t, in.cfg, store)
			for tier, files := range map[string]int{"active": 1, "archive": 2} {
				if used[tier].objects != files || used[tier].bytes == 0 {
					t.Errorf("admin usage before deletion, %s tier: %+v, want %d files", tier, used[tier], files)
				}
			}
			out, err := c.BatchDeleteReadSet(ctx, &omics.BatchDeleteReadSetInput{SequenceStoreId: aws.String(store),
				Ids: []string{archivedID, activeID, "0000000000"}})
			if err != nil {
				t.Fatal(err)
			}
			if len(out.Errors) != 1 || *out.Errors[0].Id != "0000000000" {
				t.Errorf("per-item errors: %+v, want one for the missing read set", out.Errors)
			}
			for name, s := range tiers {
				if keys := keysUnder(t, s, "readsets/"+account+"/"+store+"/"); len(keys) != 0 {
					t.Errorf("%s tier still holds %v after deletion", name, keys)
				}
				if keys := keysUnder(t, s, "uploads/"+account+"/"+store+"/"); len(keys) != 0 {
					t.Errorf("%s tier still holds upload parts %v after deletion", name, keys)
				}
			}
			if used := storeUsage(t, in.cfg, store); len(used) != 0 {
				t.Errorf("admin usage after deletion: %+v, want nothing for the store", used)
			}
			if _, err := c.DeleteSequenceStore(ctx, &omics.DeleteSequenceStoreInput{Id: aws.String(store)}); err != nil {
				t.Errorf("deleting the emptied store: %v", err)
			}
		})
	}
}

// tierUse is one row of `seqstore admin usage`.
type tierUse struct {
	objects int
	bytes   int64
}

// storeUsage runs `seqstore admin usage` on the server's stores and returns
// its rows for one sequence store by tier.
func storeUsage(t *testing.T, cfg *config.Config, store string) map[string]tierUse {
	t.Helper()
	out := admin(t, cfg, "usage", "-data", cfg.DataDir, "-metadata", cfg.Metadata, "-objects", cfg.Objects)
	rows := map[string]tierUse{}
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) != 5 || f[1] != store {
			continue
		}
		var u tierUse
		if _, err := fmt.Sscan(f[3]+" "+f[4], &u.objects, &u.bytes); err != nil {
			t.Fatalf("admin usage line %q: %v", line, err)
		}
		rows[f[2]] = u
	}
	return rows
}

// stopWhenWritten stops the server as soon as a tier holds an object under
// prefix: in the middle of a move of a read set's two files, unless the
// move was faster than the polling.
func stopWhenWritten(t *testing.T, in *instance, tier blob.Store, prefix string) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for len(keysUnder(t, tier, prefix)) == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("nothing written under %s", prefix)
		}
		time.Sleep(time.Millisecond)
	}
	in.stop()
}

// waitNoKeys waits until a tier holds nothing under prefix.
func waitNoKeys(t *testing.T, tier blob.Store, prefix string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		keys := keysUnder(t, tier, prefix)
		if len(keys) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("objects left under %s: %v", prefix, keys)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// stoppedIn checks the status a stopped server left a read set in: want,
// when the stop came in the middle of a move, or the status after it when
// the move finished first (logged: the test then checks less).
func stoppedIn(t *testing.T, cfg *config.Config, store, id, want string) {
	t.Helper()
	m, err := server.OpenMeta(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	rs, err := m.ReadSetGet(context.Background(), cfg.AccountID, store, id)
	switch {
	case err != nil:
		t.Fatal(err)
	case rs.Status == want:
	case rs.Status == "ARCHIVED" && want == "ACTIVE", rs.Status == "ACTIVE" && want == "ACTIVATING":
		t.Logf("the move to %s finished before the stop; the restart below still checks the result", rs.Status)
	default:
		t.Fatalf("after the stop the read set is %s, want %s", rs.Status, want)
	}
}

// A server stopped in the middle of an archive move or of an activation
// loses nothing: the read set stays readable in the tier its status names,
// and the next server finishes the move.
func TestArchiveAndActivationSurviveAStopMidway(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			ctx := context.Background()
			first, clock, c, store, id := lifecycleServerOf(t, b, lifecycleOptions{reads: 60_000})
			before := fetchReadSet(t, c, store, id)
			prefix := "readsets/" + first.cfg.AccountID + "/" + store + "/" + id + "/"
			clock.Advance(archiveAfter + time.Hour)
			if n := sweep(t, first); n != 1 {
				t.Fatalf("sweep queued %d, want 1", n)
			}
			stopWhenWritten(t, first, first.srv.Archive, prefix)
			stoppedIn(t, first.cfg, store, id, "ACTIVE")
			second := start(t, b, first.cfg)
			c = second.goClient(second.rootKey())
			waitStatus(t, c, store, id, types.ReadSetStatusArchived)
			// The active copy goes just after the status changes.
			waitNoKeys(t, second.srv.Blobs, prefix)

			job, err := c.StartReadSetActivationJob(ctx, &omics.StartReadSetActivationJobInput{SequenceStoreId: aws.String(store),
				Sources: []types.StartReadSetActivationJobSourceItem{{ReadSetId: aws.String(id)}}})
			if err != nil {
				t.Fatal(err)
			}
			stopWhenWritten(t, second, second.srv.Blobs, prefix+*job.Id+"/")
			stoppedIn(t, first.cfg, store, id, "ACTIVATING")
			third := start(t, b, first.cfg)
			c = third.goClient(third.rootKey())
			if done := waitActivation(t, c, store, *job.Id); done.Status != types.ReadSetActivationJobStatusCompleted {
				t.Fatalf("activation after a stop midway: %s %+v", done.Status, done.Sources)
			}
			after := fetchReadSet(t, c, store, id)
			if *after.etag.Source1 != *before.etag.Source1 || *after.etag.Source2 != *before.etag.Source2 {
				t.Errorf("ETags after activation %+v, before %+v", after.etag, before.etag)
			}
			for file, want := range before.contents {
				if !bytesEqual(after.contents[file], want) {
					t.Errorf("%s differs after an activation stopped midway", file)
				}
			}
			if keys := keysUnder(t, third.srv.Archive, prefix); len(keys) != 0 {
				t.Errorf("archive copies left after activation: %v", keys)
			}
		})
	}
}

// With -deleted-retention a deleted read set is listed as DELETED, through
// the API, until the retention has passed on the server's clock; it is not
// found by GetReadSetMetadata meanwhile, and does not keep its store from
// being deleted once the purge has run.
func TestDeletedReadSetsListedForTheRetention(t *testing.T) {
	const retention = 7 * 24 * time.Hour
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			in, clock, c, store, id := lifecycleServerOf(t, b, lifecycleOptions{reads: 100, deletedRetention: retention})
			ctx := context.Background()
			waitStatus(t, c, store, id, types.ReadSetStatusActive)
			out, err := c.BatchDeleteReadSet(ctx, &omics.BatchDeleteReadSetInput{SequenceStoreId: aws.String(store), Ids: []string{id}})
			if err != nil || len(out.Errors) != 0 {
				t.Fatalf("BatchDeleteReadSet: %v %+v", err, out)
			}
			listDeleted := func() []string {
				t.Helper()
				list, err := c.ListReadSets(ctx, &omics.ListReadSetsInput{SequenceStoreId: aws.String(store),
					Filter: &types.ReadSetFilter{Status: types.ReadSetStatusDeleted}})
				if err != nil {
					t.Fatal(err)
				}
				var ids []string
				for _, rs := range list.ReadSets {
					if rs.Status != types.ReadSetStatusDeleted {
						t.Errorf("read set %s listed %s under the DELETED filter", *rs.Id, rs.Status)
					}
					ids = append(ids, *rs.Id)
				}
				return ids
			}
			if ids := listDeleted(); len(ids) != 1 || ids[0] != id {
				t.Fatalf("listed as DELETED: %v, want %s", ids, id)
			}
			_, err = c.GetReadSetMetadata(ctx, &omics.GetReadSetMetadataInput{SequenceStoreId: aws.String(store), Id: aws.String(id)})
			var nf *types.ResourceNotFoundException
			if !errors.As(err, &nf) {
				t.Errorf("GetReadSetMetadata of a deleted read set: %v, want ResourceNotFoundException", err)
			}
			clock.Advance(retention - time.Hour)
			if _, err := in.srv.ReadSets.PurgeDeleted(ctx); err != nil {
				t.Fatal(err)
			}
			if ids := listDeleted(); len(ids) != 1 {
				t.Fatalf("an hour before the retention ends, listed as DELETED: %v", ids)
			}
			clock.Advance(2 * time.Hour)
			if n, err := in.srv.ReadSets.PurgeDeleted(ctx); err != nil || n != 1 {
				t.Fatalf("the purge after the retention removed %d: %v", n, err)
			}
			if ids := listDeleted(); len(ids) != 0 {
				t.Fatalf("listed as DELETED after the retention: %v", ids)
			}
			if _, err := c.DeleteSequenceStore(ctx, &omics.DeleteSequenceStoreInput{Id: aws.String(store)}); err != nil {
				t.Errorf("DeleteSequenceStore after the purge: %v", err)
			}
		})
	}
}

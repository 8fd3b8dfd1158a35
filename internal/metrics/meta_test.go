package metrics

import (
	"context"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/seqstore/seqstore"
	"github.com/seqstore/seqstore/internal/meta"
	"github.com/seqstore/seqstore/internal/meta/metatest"
	"github.com/seqstore/seqstore/internal/meta/sqlmeta/sqlitetest"
)

// The decorator passes every call through unchanged.
func TestMetaConformance(t *testing.T) {
	m := New()
	metatest.Run(t, func(t *testing.T) meta.Store { return m.Meta(sqlitetest.Open(t)) })
	if n := testutil.CollectAndCount(m.metaLatency); n == 0 {
		t.Error("the conformance suite's calls were not timed")
	}
}

// Ingestion is counted from the claim to the update that ends it: by file
// type and outcome, with a takeover for a read set claimed again after its
// lease ran out, and no outcome for a read set deleted while it waited.
func TestMetaCountsIngestion(t *testing.T) {
	ctx := context.Background()
	m := New()
	d := m.Meta(sqlitetest.Open(t))
	const account = "123456789012"
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(d.AccountPut(ctx, seqstore.Account{ID: account, Name: "a", CreatedAt: time.Now()}))
	store := &seqstore.SequenceStore{AccountID: account, ID: "1000000001", Name: "s", ETagAlgorithmFamily: "MD5up", CreatedAt: time.Now()}
	must(d.SequenceStoreCreate(ctx, store))
	newReadSet := func(id, fileType string) *seqstore.ReadSet {
		r := &seqstore.ReadSet{AccountID: account, StoreID: store.ID, ID: id, Name: id, SubjectID: "s", SampleID: "s",
			Status: seqstore.ReadSetStatusProcessingUpload, FileType: fileType, CreationType: "UPLOAD",
			SourceParts: []seqstore.UploadPart{{UploadID: "u" + id, Source: "SOURCE1", Number: 1, Size: 1000, Key: "parts/" + id}},
			CreatedAt:   time.Now(), UpdatedAt: time.Now()}
		must(d.ReadSetCreate(ctx, r))
		return r
	}
	end := func(r *seqstore.ReadSet, status string) {
		t.Helper()
		next := *r
		next.Status = status
		must(d.ReadSetUpdate(ctx, &next, seqstore.ReadSetStatusProcessingUpload))
	}
	claim := func(owner string, lease time.Duration) *seqstore.ReadSet {
		t.Helper()
		now := time.Now()
		r, _, err := d.IngestClaim(ctx, owner, now, now.Add(lease))
		must(err)
		return r
	}

	newReadSet("2000000001", "FASTQ")
	end(claim("node-a", time.Hour), seqstore.ReadSetStatusActive)

	newReadSet("2000000002", "BAM")
	claim("node-a", time.Millisecond) // node-a dies; its lease runs out
	time.Sleep(5 * time.Millisecond)
	end(claim("node-b", time.Hour), seqstore.ReadSetStatusUploadFailed)

	deleted := newReadSet("2000000003", "FASTQ")
	end(deleted, seqstore.ReadSetStatusDeleting)

	for _, c := range []struct {
		name      string
		got, want float64
	}{
		{"FASTQ ACTIVE", testutil.ToFloat64(m.ingests.WithLabelValues("FASTQ", "ACTIVE")), 1},
		{"BAM UPLOAD_FAILED", testutil.ToFloat64(m.ingests.WithLabelValues("BAM", "UPLOAD_FAILED")), 1},
		{"FASTQ source bytes", testutil.ToFloat64(m.ingestBytes.WithLabelValues("FASTQ")), 1000},
		{"BAM source bytes", testutil.ToFloat64(m.ingestBytes.WithLabelValues("BAM")), 1000},
		{"takeovers", testutil.ToFloat64(m.takeovers), 1},
		{"outcome series (no DELETING)", float64(testutil.CollectAndCount(m.ingests)), 2},
		{"durations observed", float64(testutil.CollectAndCount(m.ingestTime)), 2},
		{"throughput observed (ACTIVE only)", float64(testutil.CollectAndCount(m.ingestRate)), 1},
	} {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
}

package s3stores

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/seqstore/seqstore"
	"github.com/seqstore/seqstore/internal/arn"
	"github.com/seqstore/seqstore/internal/meta/sqlmeta/sqlitetest"
	"github.com/seqstore/seqstore/internal/s3read"
)

func TestSmallest(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{0, 1, 5, 100, 1000} {
		for _, max := range []int{1, 3, 64, 2000} {
			var all []string
			s := &smallest{max: max}
			for i := range n {
				k := fmt.Sprintf("%08d-%d", rng.IntN(1e6), i)
				all = append(all, k)
				s.offer(&s3read.Object{Key: k})
			}
			slices.Sort(all)
			want := all[:min(max, n)]
			var got []string
			for _, o := range s.sorted() {
				got = append(got, o.Key)
			}
			if !slices.Equal(got, want) || s.full != (n > max) {
				t.Errorf("n %d, max %d: kept %v (full %v), want %v", n, max, got, s.full, want)
			}
		}
	}
}

// TestListing lists a store of many read sets over the real SQLite
// metadata store, in passes far smaller than the store: every visible
// file once, in key order, from wherever the listing starts.
func TestListing(t *testing.T) {
	ctx := context.Background()
	db := sqlitetest.Open(t)
	const account, storeID = "123456789012", "1000000001"
	now := time.Now().UTC().Truncate(time.Millisecond)
	if err := db.AccountPut(ctx, seqstore.Account{ID: account, Name: "root", CreatedAt: now}); err != nil {
		t.Fatal(err)
	}
	if err := db.SequenceStoreCreate(ctx, &seqstore.SequenceStore{AccountID: account, ID: storeID, Name: "s", CreatedAt: now, UpdatedAt: now}); err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(3, 4))
	statuses := []string{seqstore.ReadSetStatusActive, seqstore.ReadSetStatusActive, seqstore.ReadSetStatusArchived, seqstore.ReadSetStatusUploadFailed, seqstore.ReadSetStatusProcessingUpload}
	var want []string
	archived := map[string]bool{}
	for i := range 60 {
		id := fmt.Sprint(1_000_000_000 + rng.IntN(9_000_000_000))
		status := statuses[i%len(statuses)]
		rs := &seqstore.ReadSet{AccountID: account, StoreID: storeID, ID: id, Name: "rs", Status: status, FileType: "BAM",
			SubjectID: "s", SampleID: "s", CreationType: "UPLOAD", CreatedAt: now.Add(time.Duration(rng.IntN(1000)) * time.Second), UpdatedAt: now,
			Files: []seqstore.StoredFile{
				{Kind: seqstore.FileSource1, Key: "readsets/" + id + "/a.bam", Name: "rs.bam", ContentLength: 10, PartSize: 10},
				{Kind: seqstore.FileIndex, Key: "readsets/" + id + "/a.bam.bai", Name: "rs.bam.bai", ContentLength: 5, PartSize: 5},
			}}
		if err := db.ReadSetCreate(ctx, rs); err != nil {
			t.Fatal(err)
		}
		if status == seqstore.ReadSetStatusActive || status == seqstore.ReadSetStatusArchived {
			for _, f := range rs.Files {
				key := arn.ReadSetS3Key(account, storeID, id, f.Name)
				want = append(want, key)
				archived[key] = status == seqstore.ReadSetStatusArchived
			}
		}
	}
	slices.Sort(want)
	b := &Backend{Meta: db, ARN: arn.Builder{Partition: "aws", Region: "us-east-1"}, batch: 7}
	bk, err := b.Bucket(ctx, arn.S3Alias(account, storeID))
	if err != nil {
		t.Fatal(err)
	}
	list := func(prefix, after string, stopAfter int) []string {
		var got []string
		err := b.List(ctx, bk, prefix, after, func(o *s3read.Object) error {
			if o.Archived != archived[o.Key] {
				t.Errorf("%s: archived %v", o.Key, o.Archived)
			}
			got = append(got, o.Key)
			if len(got) == stopAfter {
				return s3read.ErrStop
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	storePrefix := arn.S3KeyPrefix(account, storeID, false)
	if got := list("", "", -1); !slices.Equal(got, want) {
		t.Fatalf("listed %d keys, want %d:\n%v\n%v", len(got), len(want), got, want)
	}
	if got := list(storePrefix+"readSet/", want[10], -1); !slices.Equal(got, want[11:]) {
		t.Errorf("after %s: %v", want[10], got)
	}
	if got := list("", "", 9); !slices.Equal(got, want[:9]) {
		t.Errorf("stopped after 9: %v", got)
	}
	one := want[20][:strings.LastIndexByte(want[20], '/')+1]
	var wantOne []string
	for _, k := range want {
		if strings.HasPrefix(k, one) {
			wantOne = append(wantOne, k)
		}
	}
	if got := list(one, "", -1); len(wantOne) != 2 || !slices.Equal(got, wantOne) {
		t.Errorf("one read set %s: %v, want %v", one, got, wantOne)
	}
	if got := list("999/", "", -1); len(got) != 0 {
		t.Errorf("a prefix outside the store: %v", got)
	}
	if _, err := b.Object(ctx, bk, want[0]); err != nil {
		t.Errorf("Object(%s): %v", want[0], err)
	}
	for _, missing := range []string{want[0] + "x", storePrefix + "readSet/", "other/" + want[0]} {
		if _, err := b.Object(ctx, bk, missing); err != s3read.ErrNoSuchKey {
			t.Errorf("Object(%s): %v, want ErrNoSuchKey", missing, err)
		}
	}
	if _, err := b.Bucket(ctx, arn.S3Alias(account, "1000000002")); err != s3read.ErrNoSuchBucket {
		t.Errorf("the bucket of a store that does not exist: %v", err)
	}
}

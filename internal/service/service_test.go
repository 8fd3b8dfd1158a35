package service

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/seqstore/seqstore"
	"github.com/seqstore/seqstore/internal/arn"
	"github.com/seqstore/seqstore/internal/meta"
	"github.com/seqstore/seqstore/internal/meta/sqlmeta/sqlitetest"
)

const (
	account = "111122223333"
	other   = "444455556666"
)

// newService is a Service over a real, empty SQLite metadata store.
func newService(t *testing.T) *Service {
	t.Helper()
	return &Service{
		Meta: sqlitetest.Open(t),
		ARN:  arn.Builder{Partition: "aws", Region: "us-east-1"},
		Log:  slog.New(slog.DiscardHandler),
	}
}

// wantCode fails the test unless err is a seqstore error with code whose
// message holds every one of words.
func wantCode(t *testing.T, err error, code seqstore.ErrorCode, words ...string) {
	t.Helper()
	var se *seqstore.Error
	if !errors.As(err, &se) || se.Code != code {
		t.Fatalf("error %v, want %s", err, code)
	}
	for _, w := range words {
		if !strings.Contains(se.Error(), w) {
			t.Errorf("message %q does not say %q", se.Error(), w)
		}
	}
}

func manyTags(n int, prefix string) map[string]string {
	tags := map[string]string{}
	for i := range n {
		tags[fmt.Sprintf("%s%d", prefix, i)] = "v"
	}
	return tags
}

// Settings that HealthOmics refuses are refused with a ValidationException
// naming what is wrong, and nothing is created.
func TestCreateSequenceStoreValidation(t *testing.T) {
	for _, tc := range []struct {
		name  string
		p     CreateSequenceStoreParams
		words []string
	}{
		{"unknown ETag family", CreateSequenceStoreParams{Name: "s", ETagAlgorithmFamily: "CRC32"}, []string{"CRC32"}},
		{"SSE type other than KMS", CreateSequenceStoreParams{Name: "s", SSEType: "AES256"}, []string{"KMS"}},
		{"SSE without a keyring", CreateSequenceStoreParams{Name: "s", SSEType: "KMS", SSEKeyArn: "arn:aws:kms:us-east-1:111122223333:key/k"}, []string{"-keyring"}},
		{"six propagated tags", CreateSequenceStoreParams{Name: "s", PropagatedSetLevelTags: []string{"a", "b", "c", "d", "e", "f"}}, []string{"at most 5"}},
		{"a propagated tag twice", CreateSequenceStoreParams{Name: "s", PropagatedSetLevelTags: []string{"a", "a"}}, []string{`"a" twice`}},
		{"a reserved tag key", CreateSequenceStoreParams{Name: "s", Tags: map[string]string{"AWS:owner": "x"}}, []string{"aws:"}},
		{"51 tags", CreateSequenceStoreParams{Name: "s", Tags: manyTags(51, "k")}, []string{"at most 50"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newService(t)
			_, err := s.CreateSequenceStore(context.Background(), account, tc.p)
			wantCode(t, err, seqstore.CodeValidation, tc.words...)
			stores, _, err := s.ListSequenceStores(context.Background(), account, meta.SequenceStoreFilter{}, meta.Page{Limit: 10})
			if err != nil || len(stores) != 0 {
				t.Fatalf("after a refused create the account has stores %v (%v)", stores, err)
			}
		})
	}
}

// A store is created ACTIVE with MD5up unless told otherwise, is seen by its
// account alone, changes only what an update names, and when deleted takes
// its tags with it.
func TestSequenceStoreLifecycle(t *testing.T) {
	ctx := context.Background()
	s := newService(t)
	clock := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	s.Now = func() time.Time { return clock }
	st, err := s.CreateSequenceStore(ctx, account, CreateSequenceStoreParams{Name: "genomes", Description: "d", Tags: map[string]string{"team": "a"}})
	if err != nil {
		t.Fatal(err)
	}
	if st.Status != seqstore.StoreStatusActive || st.ETagAlgorithmFamily != "MD5up" || !st.CreatedAt.Equal(clock) || len(st.ID) != 10 {
		t.Fatalf("created %+v", st)
	}
	if _, err := s.GetSequenceStore(ctx, other, st.ID); err == nil {
		t.Fatal("another account sees the store")
	} else {
		wantCode(t, err, seqstore.CodeNotFound, st.ID)
	}
	storeArn := s.ARN.SequenceStore(account, st.ID)
	if tags, err := s.ListTagsForResource(ctx, account, storeArn); err != nil || tags["team"] != "a" {
		t.Fatalf("tags %v (%v), want team=a", tags, err)
	}

	clock = clock.Add(time.Hour)
	name := "renamed"
	got, err := s.UpdateSequenceStore(ctx, account, st.ID, UpdateSequenceStoreParams{Name: &name, PropagatedSetLevelTags: []string{"team"}})
	if err != nil {
		t.Fatal(err)
	}
	again, err := s.GetSequenceStore(ctx, account, st.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range []*seqstore.SequenceStore{got, again} {
		if r.Name != "renamed" || r.Description != "d" || len(r.PropagatedSetLevelTags) != 1 || !r.UpdatedAt.Equal(clock) {
			t.Errorf("after the update: %+v", r)
		}
	}
	_, err = s.UpdateSequenceStore(ctx, account, st.ID, UpdateSequenceStoreParams{PropagatedSetLevelTags: []string{"a", "b", "c", "d", "e", "f"}})
	wantCode(t, err, seqstore.CodeValidation, "at most 5")
	_, err = s.UpdateSequenceStore(ctx, other, st.ID, UpdateSequenceStoreParams{Name: &name})
	wantCode(t, err, seqstore.CodeNotFound)

	if err := s.DeleteSequenceStore(ctx, account, st.ID); err != nil {
		t.Fatal(err)
	}
	_, err = s.ListTagsForResource(ctx, account, storeArn)
	wantCode(t, err, seqstore.CodeNotFound)
	wantCode(t, s.DeleteSequenceStore(ctx, account, st.ID), seqstore.CodeNotFound, st.ID)
}

// A store that holds a read set is not deleted; the conflict says what to
// delete first.
func TestDeleteSequenceStoreThatHoldsReadSets(t *testing.T) {
	ctx := context.Background()
	s := newService(t)
	st, err := s.CreateSequenceStore(ctx, account, CreateSequenceStoreParams{Name: "full"})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	rs := &seqstore.ReadSet{AccountID: account, StoreID: st.ID, ID: "1234567890", Name: "r", SubjectID: "s", SampleID: "s",
		Status: seqstore.ReadSetStatusActive, FileType: "FASTQ", CreationType: "UPLOAD", CreatedAt: now, UpdatedAt: now}
	if err := s.Meta.ReadSetCreate(ctx, rs); err != nil {
		t.Fatal(err)
	}
	wantCode(t, s.DeleteSequenceStore(ctx, account, st.ID), seqstore.CodeConflict, "BatchDeleteReadSet")
	if _, err := s.GetSequenceStore(ctx, account, st.ID); err != nil {
		t.Fatalf("the store is gone after a refused delete: %v", err)
	}
}

// An account has one reference store unless the operator allows more, and
// the quota is the account's own.
func TestReferenceStoreQuota(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		perAccount int
		allowed    int
		words      []string
	}{
		{perAccount: 0, allowed: 1, words: []string{"one reference store per region", "-reference-stores-per-account"}},
		{perAccount: 1, allowed: 1, words: []string{"one reference store per region"}},
		{perAccount: 3, allowed: 3, words: []string{"already has 3 reference stores"}},
	} {
		t.Run(fmt.Sprint(tc.perAccount), func(t *testing.T) {
			s := newService(t)
			s.ReferenceStoresPerAccount = tc.perAccount
			var first string
			for i := range tc.allowed {
				st, err := s.CreateReferenceStore(ctx, account, CreateReferenceStoreParams{Name: fmt.Sprint("refs", i)})
				if err != nil {
					t.Fatalf("store %d of %d: %v", i+1, tc.allowed, err)
				}
				if i == 0 {
					first = st.ID
				}
			}
			_, err := s.CreateReferenceStore(ctx, account, CreateReferenceStoreParams{Name: "one too many"})
			words := tc.words
			if tc.allowed == 1 {
				words = append(words, first)
			}
			wantCode(t, err, seqstore.CodeQuotaExceeded, words...)
			if _, err := s.CreateReferenceStore(ctx, other, CreateReferenceStoreParams{Name: "theirs"}); err != nil {
				t.Fatalf("another account's first reference store: %v", err)
			}
			if err := s.DeleteReferenceStore(ctx, account, first); err != nil {
				t.Fatal(err)
			}
			if _, err := s.CreateReferenceStore(ctx, account, CreateReferenceStoreParams{Name: "after a delete"}); err != nil {
				t.Fatalf("create after a delete freed the quota: %v", err)
			}
		})
	}
}

// Tags are kept per resource, under a limit of 50 that counts what is
// already there, and only for the caller's own resources that exist.
func TestTags(t *testing.T) {
	ctx := context.Background()
	s := newService(t)
	st, err := s.CreateSequenceStore(ctx, account, CreateSequenceStoreParams{Name: "tagged"})
	if err != nil {
		t.Fatal(err)
	}
	storeArn := s.ARN.SequenceStore(account, st.ID)
	for _, tc := range []struct {
		name string
		arn  string
		code seqstore.ErrorCode
	}{
		{"malformed", "arn:aws:omics:nowhere", seqstore.CodeValidation},
		{"another account's", s.ARN.SequenceStore(other, st.ID), seqstore.CodeNotFound},
		{"another region's", strings.Replace(storeArn, "us-east-1", "eu-west-1", 1), seqstore.CodeNotFound},
		{"a store that does not exist", s.ARN.SequenceStore(account, "9999999999"), seqstore.CodeNotFound},
		{"a read set that does not exist", s.ARN.ReadSet(account, st.ID, "9999999999"), seqstore.CodeNotFound},
		{"a reference store that does not exist", s.ARN.ReferenceStore(account, "9999999999"), seqstore.CodeNotFound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantCode(t, s.TagResource(ctx, account, tc.arn, map[string]string{"k": "v"}), tc.code)
			_, err := s.ListTagsForResource(ctx, account, tc.arn)
			wantCode(t, err, tc.code)
		})
	}

	if err := s.TagResource(ctx, account, storeArn, manyTags(30, "a")); err != nil {
		t.Fatal(err)
	}
	wantCode(t, s.TagResource(ctx, account, storeArn, manyTags(21, "b")), seqstore.CodeQuotaExceeded, "51 tags", "at most 50")
	// Overwriting keys that are set adds none.
	if err := s.TagResource(ctx, account, storeArn, manyTags(30, "a")); err != nil {
		t.Fatalf("overwriting 30 tags: %v", err)
	}
	if err := s.TagResource(ctx, account, storeArn, manyTags(20, "b")); err != nil {
		t.Fatalf("up to 50 tags: %v", err)
	}
	if err := s.UntagResource(ctx, account, storeArn, []string{"a0", "a1", "not-set"}); err != nil {
		t.Fatal(err)
	}
	tags, err := s.ListTagsForResource(ctx, account, storeArn)
	if err != nil || len(tags) != 48 || tags["a0"] != "" || tags["b19"] != "v" {
		t.Fatalf("after untagging two: %d tags %v (%v), want 48", len(tags), tags, err)
	}
}

// An ID that is taken is drawn again, a few times; the IDs are ten digits
// with no leading zero, as AWS's are.
func TestNewIDs(t *testing.T) {
	for range 1000 {
		id := NewID()
		if len(id) != 10 || id[0] == '0' || strings.Trim(id, "0123456789") != "" {
			t.Fatalf("NewID() = %q", id)
		}
	}
	for _, tc := range []struct {
		collisions int
		wantErr    bool
	}{{0, false}, {3, false}, {7, false}, {8, true}, {100, true}} {
		t.Run(fmt.Sprint(tc.collisions), func(t *testing.T) {
			calls := 0
			id, err := createWithNewID(func(string) error {
				calls++
				if calls <= tc.collisions {
					return meta.ErrConflict
				}
				return nil
			})
			if tc.wantErr {
				wantCode(t, err, seqstore.CodeInternal, "try again")
				return
			}
			if err != nil || id == "" || calls != tc.collisions+1 {
				t.Fatalf("id %q, err %v after %d calls", id, err, calls)
			}
		})
	}
	// Errors other than a collision are returned at once.
	boom := errors.New("disk full")
	calls := 0
	if _, err := createWithNewID(func(string) error { calls++; return boom }); !errors.Is(err, boom) || calls != 1 {
		t.Fatalf("err %v after %d calls, want the first error at once", err, calls)
	}
}

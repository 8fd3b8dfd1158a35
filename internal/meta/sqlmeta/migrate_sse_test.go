package sqlmeta

import (
	"context"
	"testing"
	"time"

	"github.com/seqstore/seqstore"
)

// Before version 7 every store claimed sseConfig KMS and none was
// encrypted; the upgrade clears the claim, and only the claim.
func TestUpgradeTo9ClearsTheFalseSSEConfig(t *testing.T) {
	ctx := context.Background()
	forEachDatabase(t, func(t *testing.T, db database) {
		old := mustOpen(t, db, 6)
		when := time.UnixMilli(1_770_000_000_123).UTC()
		seq := &seqstore.SequenceStore{AccountID: acct, ID: "1000000009", Name: "s", SSEType: "KMS", SSEKeyArn: "arn:aws:kms:us-east-1:123456789012:key/k",
			Status: seqstore.StoreStatusActive, CreatedAt: when, UpdatedAt: when}
		ref := &seqstore.ReferenceStore{AccountID: acct, ID: "4000000009", Name: "r", SSEType: "KMS", CreatedAt: when}
		if err := old.SequenceStoreCreate(ctx, seq); err != nil {
			t.Fatal(err)
		}
		if err := old.ReferenceStoreCreate(ctx, ref); err != nil {
			t.Fatal(err)
		}
		old.Close()

		s := mustOpen(t, db, latest)
		defer s.Close()
		gotSeq, err := s.SequenceStoreGet(ctx, acct, seq.ID)
		if err != nil {
			t.Fatal(err)
		}
		gotRef, err := s.ReferenceStoreGet(ctx, acct, ref.ID)
		if err != nil {
			t.Fatal(err)
		}
		if gotSeq.SSEType != "" || gotSeq.SSEKeyArn != "" || gotRef.SSEType != "" || gotSeq.Name != "s" || gotRef.Name != "r" {
			t.Errorf("after the upgrade: sequence store %+v, reference store %+v; want them unchanged but for no sseConfig", gotSeq, gotRef)
		}
		// A store encrypted after the upgrade keeps its sseConfig.
		seq.ID, seq.Name = "1000000010", "later"
		if err := s.SequenceStoreCreate(ctx, seq); err != nil {
			t.Fatal(err)
		}
		s.Close()
		again := mustOpen(t, db, latest)
		defer again.Close()
		if got, err := again.SequenceStoreGet(ctx, acct, seq.ID); err != nil || got.SSEType != "KMS" || got.SSEKeyArn != seq.SSEKeyArn {
			t.Errorf("a store made after the upgrade, reopened: %+v, %v", got, err)
		}
	})
}

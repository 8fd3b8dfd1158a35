package server

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/seqstore/seqstore"
	"github.com/seqstore/seqstore/internal/keyring"
	"github.com/seqstore/seqstore/internal/meta/sqlmeta/sqlitetest"
)

func TestStorePolicyFindsEachObjectsKey(t *testing.T) {
	ctx := context.Background()
	m := sqlitetest.Open(t)
	const acct = "123456789012"
	const lab = "arn:aws:kms:us-east-1:123456789012:key/lab"
	now := time.Now()
	if err := m.AccountPut(ctx, seqstore.Account{ID: acct, Name: "root", CreatedAt: now}); err != nil {
		t.Fatal(err)
	}
	for _, st := range []*seqstore.SequenceStore{
		{ID: "1000000001", Name: "plain"},
		{ID: "1000000002", Name: "lab", SSEType: "KMS", SSEKeyArn: lab},
		{ID: "1000000003", Name: "default", SSEType: "KMS"},
	} {
		st.AccountID, st.Status, st.ETagAlgorithmFamily, st.CreatedAt, st.UpdatedAt = acct, seqstore.StoreStatusActive, "MD5up", now, now
		if err := m.SequenceStoreCreate(ctx, st); err != nil {
			t.Fatal(err)
		}
	}
	if err := m.ReferenceStoreCreate(ctx, &seqstore.ReferenceStore{AccountID: acct, ID: "4000000001", Name: "refs", SSEType: "KMS", SSEKeyArn: lab, CreatedAt: now}); err != nil {
		t.Fatal(err)
	}
	p := storePolicy{m}
	for _, tc := range []struct {
		key, want, err string
	}{
		{key: "readsets/123456789012/1000000001/2000000001/r.bam", want: ""},
		{key: "readsets/123456789012/1000000002/2000000001/r.bam", want: lab},
		{key: "readsets/123456789012/1000000003/2000000001/r.bam.bai", want: keyring.DefaultName},
		{key: "uploads/123456789012/1000000002/3000000001/source1/00001-5000000001", want: lab},
		{key: "references/123456789012/4000000001/5000000001/ref.fa", want: lab},
		{key: "uploads/123456789012/3000000001/source1/00001-5000000001", want: ""}, // before part keys named their store
		{key: "readsets/123456789012/9999999999/2000000001/r.bam", err: "does not exist"},
		{key: "readsets/210987654321/1000000002/2000000001/r.bam", err: "does not exist"}, // another account's
		{key: "exports/1000000002", err: "does not name its store"},
	} {
		got, err := p.KeyName(ctx, tc.key)
		switch {
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("%s: %q, %v; want an error saying %q", tc.key, got, err, tc.err)
		case tc.err == "" && (err != nil || got != tc.want):
			t.Errorf("%s: %q, %v; want %q", tc.key, got, err, tc.want)
		}
	}

	ring := func(names ...string) *keyring.Ring {
		path := filepath.Join(t.TempDir(), "keys")
		for _, n := range names {
			if _, err := keyring.AddVersion(path, n); err != nil {
				t.Fatal(err)
			}
		}
		r, err := keyring.Load(path)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	for _, tc := range []struct {
		ring *keyring.Ring
		err  string
	}{
		{ring(lab, keyring.DefaultName), ""},
		{ring(lab), `key "default"`},
		{ring(keyring.DefaultName), "1000000002"},
		{nil, "no keyring"},
	} {
		err := checkStoreKeys(ctx, m, tc.ring)
		if tc.err == "" && err != nil || tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)) {
			t.Errorf("keyring %v: %v, want %q", tc.ring.Names(), err, tc.err)
		}
	}
}

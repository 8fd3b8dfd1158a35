package metatest

import (
	"sort"
	"testing"

	"github.com/seqstore/seqstore"
	"github.com/seqstore/seqstore/internal/meta"
)

var accountCases = []suiteCase{
	{"an account reads back as it was put", func(t *testing.T, f *fixture) {
		want := seqstore.Account{ID: "333333333333", Name: "carol", CreatedAt: at(5)}
		must(t, "AccountPut", f.s.AccountPut(f.ctx, want))
		got, err := f.s.AccountGet(f.ctx, want.ID)
		must(t, "AccountGet", err)
		equal(t, "AccountGet", *got, want)
	}},
	{"putting an account again renames it", func(t *testing.T, f *fixture) {
		must(t, "AccountPut", f.s.AccountPut(f.ctx, seqstore.Account{ID: accountA, Name: "alice2", CreatedAt: at(0)}))
		got, err := f.s.AccountGet(f.ctx, accountA)
		must(t, "AccountGet", err)
		equal(t, "renamed account", *got, seqstore.Account{ID: accountA, Name: "alice2", CreatedAt: at(0)})
		list, err := f.s.AccountList(f.ctx)
		must(t, "AccountList", err)
		equal(t, "accounts after the rename", len(list), 2)
	}},
	{"a missing account is not found", func(t *testing.T, f *fixture) {
		_, err := f.s.AccountGet(f.ctx, "999999999999")
		wantErr(t, "AccountGet", err, meta.ErrNotFound)
	}},
	{"the account list holds every account", func(t *testing.T, f *fixture) {
		must(t, "AccountPut", f.s.AccountPut(f.ctx, seqstore.Account{ID: "000000000001", Name: "zed", CreatedAt: at(9)}))
		list, err := f.s.AccountList(f.ctx)
		must(t, "AccountList", err)
		sort.Slice(list, func(i, j int) bool { return list[i].ID < list[j].ID })
		equal(t, "AccountList", list, []seqstore.Account{
			{ID: "000000000001", Name: "zed", CreatedAt: at(9)},
			{ID: accountA, Name: "alice", CreatedAt: at(0)},
			{ID: accountB, Name: "bob", CreatedAt: at(0)},
		})
	}},
	{"an access key reads back, lists under its account only, and is gone once deleted", func(t *testing.T, f *fixture) {
		k1 := seqstore.AccessKey{ID: "AKIAAAAAAAAAAAAAAAA1", Secret: "secret-1", AccountID: accountA, CreatedAt: at(1)}
		k2 := seqstore.AccessKey{ID: "AKIAAAAAAAAAAAAAAAA2", Secret: "secret-2", AccountID: accountA, CreatedAt: at(2)}
		kb := seqstore.AccessKey{ID: "AKIABBBBBBBBBBBBBBB1", Secret: "secret-b", AccountID: accountB, CreatedAt: at(1)}
		for _, k := range []seqstore.AccessKey{k2, k1, kb} {
			must(t, "AccessKeyPut "+k.ID, f.s.AccessKeyPut(f.ctx, k))
		}
		got, err := f.s.AccessKeyGet(f.ctx, k1.ID)
		must(t, "AccessKeyGet", err)
		equal(t, "AccessKeyGet", *got, k1)

		listA, err := f.s.AccessKeyList(f.ctx, accountA)
		must(t, "AccessKeyList A", err)
		sort.Slice(listA, func(i, j int) bool { return listA[i].ID < listA[j].ID })
		equal(t, "AccessKeyList A", listA, []seqstore.AccessKey{k1, k2})
		listB, err := f.s.AccessKeyList(f.ctx, accountB)
		must(t, "AccessKeyList B", err)
		equal(t, "AccessKeyList B", listB, []seqstore.AccessKey{kb})

		must(t, "AccessKeyDelete", f.s.AccessKeyDelete(f.ctx, k1.ID))
		_, err = f.s.AccessKeyGet(f.ctx, k1.ID)
		wantErr(t, "AccessKeyGet after delete", err, meta.ErrNotFound)
		wantErr(t, "AccessKeyDelete again", f.s.AccessKeyDelete(f.ctx, k1.ID), meta.ErrNotFound)
		listA, err = f.s.AccessKeyList(f.ctx, accountA)
		must(t, "AccessKeyList A after delete", err)
		equal(t, "AccessKeyList A after delete", listA, []seqstore.AccessKey{k2})
	}},
	{"an access key ID can be put only once", func(t *testing.T, f *fixture) {
		k := seqstore.AccessKey{ID: "AKIAAAAAAAAAAAAAAAA1", Secret: "first", AccountID: accountA, CreatedAt: at(1)}
		must(t, "AccessKeyPut", f.s.AccessKeyPut(f.ctx, k))
		again := seqstore.AccessKey{ID: k.ID, Secret: "second", AccountID: accountB, CreatedAt: at(2)}
		wantErr(t, "AccessKeyPut of an existing ID", f.s.AccessKeyPut(f.ctx, again), meta.ErrConflict)
		got, err := f.s.AccessKeyGet(f.ctx, k.ID)
		must(t, "AccessKeyGet", err)
		equal(t, "the key after the refused put", *got, k)
	}},
	{"a deleted access key ID stays deleted: neither a put nor a rotation brings it back", func(t *testing.T, f *fixture) {
		k := seqstore.AccessKey{ID: "AKIADELETEDKEY000001", Secret: "s", AccountID: accountA, CreatedAt: at(1)}
		must(t, "AccessKeyPut", f.s.AccessKeyPut(f.ctx, k))
		must(t, "AccessKeyDelete", f.s.AccessKeyDelete(f.ctx, k.ID))
		wantErr(t, "AccessKeyPut of the deleted ID", f.s.AccessKeyPut(f.ctx, k), meta.ErrKeyDeleted)
		wantErr(t, "AccessKeyPut of the deleted ID in another account", f.s.AccessKeyPut(f.ctx, seqstore.AccessKey{ID: k.ID, Secret: "t", AccountID: accountB, CreatedAt: at(2)}), meta.ErrKeyDeleted)
		_, err := f.s.AccessKeyRotate(f.ctx, k, "environment")
		wantErr(t, "AccessKeyRotate to the deleted ID", err, meta.ErrKeyDeleted)
		_, err = f.s.AccessKeyGet(f.ctx, k.ID)
		wantErr(t, "AccessKeyGet of the deleted ID", err, meta.ErrNotFound)
		wantErr(t, "AccessKeyDelete again", f.s.AccessKeyDelete(f.ctx, k.ID), meta.ErrNotFound)
	}},
	{"a missing access key is not found", func(t *testing.T, f *fixture) {
		_, err := f.s.AccessKeyGet(f.ctx, "AKIANOTHERE")
		wantErr(t, "AccessKeyGet", err, meta.ErrNotFound)
		wantErr(t, "AccessKeyDelete", f.s.AccessKeyDelete(f.ctx, "AKIANOTHERE"), meta.ErrNotFound)
	}},
}

var keyRotationCases = []suiteCase{
	{"rotating a key replaces the account's key from the same origin and no other", func(t *testing.T, f *fixture) {
		key := func(id, secret, account string) seqstore.AccessKey {
			return seqstore.AccessKey{ID: id, Secret: secret, AccountID: account, CreatedAt: at(1)}
		}
		must(t, "AccessKeyPut", f.s.AccessKeyPut(f.ctx, key("ADMINKEY", "s", accountA)))
		retired, err := f.s.AccessKeyRotate(f.ctx, key("ENVKEY1", "s1", accountA), "environment")
		must(t, "AccessKeyRotate", err)
		equal(t, "retired by the first rotation", len(retired), 0)
		_, err = f.s.AccessKeyRotate(f.ctx, key("ENVKEYB", "sb", accountB), "environment")
		must(t, "AccessKeyRotate in B", err)

		retired, err = f.s.AccessKeyRotate(f.ctx, key("ENVKEY2", "s2", accountA), "environment")
		must(t, "AccessKeyRotate", err)
		equal(t, "retired", retired, []string{"ENVKEY1"})
		_, err = f.s.AccessKeyGet(f.ctx, "ENVKEY1")
		wantErr(t, "AccessKeyGet of the retired key", err, meta.ErrNotFound)
		for _, id := range []string{"ADMINKEY", "ENVKEY2", "ENVKEYB"} {
			_, err := f.s.AccessKeyGet(f.ctx, id)
			must(t, "AccessKeyGet "+id, err)
		}

		retired, err = f.s.AccessKeyRotate(f.ctx, key("ENVKEY2", "s2-new", accountA), "environment")
		must(t, "AccessKeyRotate to a new secret", err)
		equal(t, "retired by a new secret", len(retired), 0)
		got, err := f.s.AccessKeyGet(f.ctx, "ENVKEY2")
		must(t, "AccessKeyGet", err)
		equal(t, "secret", got.Secret, "s2-new")
	}},
}

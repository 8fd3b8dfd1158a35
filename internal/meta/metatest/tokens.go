package metatest

import (
	"testing"

	"github.com/seqstore/seqstore/internal/meta"
)

var bearerTokenCases = []suiteCase{
	{"a bearer token reads back, lists under its account only, and revokes once", func(t *testing.T, f *fixture) {
		t1 := meta.BearerToken{ID: "tok1", AccountID: accountA, Name: "igv", SecretHash: []byte{1, 2, 3, 0xff}, CreatedAt: at(1), ExpiresAt: at(5000)}
		t2 := meta.BearerToken{ID: "tok2", AccountID: accountA, SecretHash: []byte{4}, CreatedAt: at(2)}
		tb := meta.BearerToken{ID: "tokb", AccountID: accountB, Name: "b", SecretHash: []byte{5}, CreatedAt: at(1)}
		for _, tok := range []meta.BearerToken{t2, t1, tb} {
			must(t, "BearerTokenPut "+tok.ID, f.s.BearerTokenPut(f.ctx, tok))
		}
		for _, want := range []meta.BearerToken{t1, t2, tb} {
			got, err := f.s.BearerTokenGet(f.ctx, want.ID)
			must(t, "BearerTokenGet "+want.ID, err)
			equal(t, "BearerTokenGet "+want.ID, *got, want)
		}
		list, err := f.s.BearerTokenList(f.ctx, accountA)
		must(t, "BearerTokenList A", err)
		equal(t, "BearerTokenList A", list, []meta.BearerToken{t1, t2})

		must(t, "BearerTokenRevoke", f.s.BearerTokenRevoke(f.ctx, t1.ID, at(100)))
		must(t, "BearerTokenRevoke again", f.s.BearerTokenRevoke(f.ctx, t1.ID, at(200)))
		got, err := f.s.BearerTokenGet(f.ctx, t1.ID)
		must(t, "BearerTokenGet revoked", err)
		want := t1
		want.RevokedAt = at(100)
		equal(t, "revoked token", *got, want)
		list, err = f.s.BearerTokenList(f.ctx, accountB)
		must(t, "BearerTokenList B", err)
		equal(t, "BearerTokenList B after A's revocation", list, []meta.BearerToken{tb})
	}},
	{"bearer token errors", func(t *testing.T, f *fixture) {
		tok := meta.BearerToken{ID: "tok1", AccountID: accountA, SecretHash: []byte{1}, CreatedAt: at(1)}
		must(t, "BearerTokenPut", f.s.BearerTokenPut(f.ctx, tok))
		for _, c := range []struct {
			name string
			err  error
			want error
		}{
			{"a second token with the same ID", f.s.BearerTokenPut(f.ctx, tok), meta.ErrConflict},
			{"a token of a missing account", f.s.BearerTokenPut(f.ctx, meta.BearerToken{ID: "tok2", AccountID: "999999999999", SecretHash: []byte{1}, CreatedAt: at(1)}), meta.ErrNotFound},
			{"getting a missing token", func() error { _, err := f.s.BearerTokenGet(f.ctx, "nope"); return err }(), meta.ErrNotFound},
			{"revoking a missing token", f.s.BearerTokenRevoke(f.ctx, "nope", at(2)), meta.ErrNotFound},
		} {
			wantErr(t, c.name, c.err, c.want)
		}
		list, err := f.s.BearerTokenList(f.ctx, accountB)
		must(t, "BearerTokenList B", err)
		equal(t, "tokens of an account that has none", len(list), 0)
	}},
}

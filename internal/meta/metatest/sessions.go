package metatest

import (
	"testing"

	"github.com/seqstore/seqstore/internal/meta"
)

func consoleSession(hash string, created, expires, seen int) meta.ConsoleSession {
	return meta.ConsoleSession{IDHash: hash, CSRFToken: "csrf-" + hash, AccountID: accountA, AccessKeyID: "AKIAAAAAAAAAAAAAAAA1",
		CreatedAt: at(created), ExpiresAt: at(expires), LastSeenAt: at(seen)}
}

var sessionCases = []suiteCase{
	{"a console session reads back as it was put, once only", func(t *testing.T, f *fixture) {
		want := consoleSession("h1", 1, 100, 1)
		must(t, "ConsoleSessionPut", f.s.ConsoleSessionPut(f.ctx, want))
		got, err := f.s.ConsoleSessionGet(f.ctx, "h1")
		must(t, "ConsoleSessionGet", err)
		equal(t, "ConsoleSessionGet", *got, want)
		wantErr(t, "ConsoleSessionPut again", f.s.ConsoleSessionPut(f.ctx, consoleSession("h1", 2, 200, 2)), meta.ErrConflict)
		_, err = f.s.ConsoleSessionGet(f.ctx, "h2")
		wantErr(t, "ConsoleSessionGet of a missing session", err, meta.ErrNotFound)
	}},
	{"touching a console session only moves its last use forward", func(t *testing.T, f *fixture) {
		must(t, "ConsoleSessionPut", f.s.ConsoleSessionPut(f.ctx, consoleSession("h1", 1, 100, 10)))
		must(t, "ConsoleSessionTouch later", f.s.ConsoleSessionTouch(f.ctx, "h1", at(20)))
		must(t, "ConsoleSessionTouch earlier", f.s.ConsoleSessionTouch(f.ctx, "h1", at(15)))
		got, err := f.s.ConsoleSessionGet(f.ctx, "h1")
		must(t, "ConsoleSessionGet", err)
		equal(t, "LastSeenAt", got.LastSeenAt, at(20))
		wantErr(t, "ConsoleSessionTouch of a missing session", f.s.ConsoleSessionTouch(f.ctx, "h2", at(20)), meta.ErrNotFound)
	}},
	{"a deleted console session is gone", func(t *testing.T, f *fixture) {
		must(t, "ConsoleSessionPut", f.s.ConsoleSessionPut(f.ctx, consoleSession("h1", 1, 100, 1)))
		must(t, "ConsoleSessionDelete", f.s.ConsoleSessionDelete(f.ctx, "h1"))
		_, err := f.s.ConsoleSessionGet(f.ctx, "h1")
		wantErr(t, "ConsoleSessionGet after delete", err, meta.ErrNotFound)
		wantErr(t, "ConsoleSessionDelete again", f.s.ConsoleSessionDelete(f.ctx, "h1"), meta.ErrNotFound)
	}},
	{"a purge removes the console sessions past their lifetime or idle, and keeps the rest", func(t *testing.T, f *fixture) {
		for _, s := range []meta.ConsoleSession{
			consoleSession("expired", 1, 50, 49),
			consoleSession("idle", 1, 500, 10),
			consoleSession("live", 1, 500, 45),
		} {
			must(t, "ConsoleSessionPut "+s.IDHash, f.s.ConsoleSessionPut(f.ctx, s))
		}
		n, err := f.s.ConsoleSessionsPurge(f.ctx, at(50), at(40))
		must(t, "ConsoleSessionsPurge", err)
		equal(t, "sessions purged", n, int64(2))
		for _, h := range []string{"expired", "idle"} {
			_, err := f.s.ConsoleSessionGet(f.ctx, h)
			wantErr(t, "ConsoleSessionGet "+h, err, meta.ErrNotFound)
		}
		_, err = f.s.ConsoleSessionGet(f.ctx, "live")
		must(t, "ConsoleSessionGet live", err)
	}},
}

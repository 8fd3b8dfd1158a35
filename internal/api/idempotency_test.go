package api

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/seqstore/seqstore"
	"github.com/seqstore/seqstore/internal/meta/sqlmeta/sqlitetest"
)

func newIdempotencyServer(t *testing.T, claimTimeout time.Duration) *Server {
	t.Helper()
	m := sqlitetest.Open(t)
	if err := m.AccountPut(context.Background(), seqstore.Account{ID: "123456789012", Name: "root", CreatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	return &Server{meta: m, log: slog.New(slog.DiscardHandler), claimTimeout: claimTimeout}
}

type created struct{ ID string }

// A client that hangs up once the work is done must not leave its token
// answering "still running": the response is recorded all the same.
func TestIdempotentFinishesAfterTheClientLeaves(t *testing.T) {
	s := newIdempotencyServer(t, time.Hour)
	ctx, hangUp := context.WithCancel(withAccount(context.Background(), "123456789012"))
	out, err := idempotent(ctx, s, "CreateSequenceStore", "tok", map[string]string{"name": "a"}, func() (*created, error) {
		hangUp() // the client goes away while the request runs
		return &created{ID: "1234567890"}, nil
	})
	if err != nil || out.ID != "1234567890" {
		t.Fatalf("first call: %+v %v", out, err)
	}
	ran := false
	again, err := idempotent(withAccount(context.Background(), "123456789012"), s, "CreateSequenceStore", "tok", map[string]string{"name": "a"}, func() (*created, error) {
		ran = true
		return &created{ID: "other"}, nil
	})
	if err != nil || ran || again.ID != "1234567890" {
		t.Fatalf("the retry: %+v %v (ran again: %v); want the first response", again, err, ran)
	}
}

// A claim whose request never finished (its node died) stops blocking
// retries once the claim timeout has passed.
func TestIdempotentClaimIsAbandonedAfterTheTimeout(t *testing.T) {
	s := newIdempotencyServer(t, 50*time.Millisecond)
	ctx := withAccount(context.Background(), "123456789012")
	inFlight := make(chan struct{})
	release := make(chan struct{})
	go idempotent(ctx, s, "CreateSequenceStore", "tok", map[string]string{"name": "a"}, func() (*created, error) {
		close(inFlight)
		<-release // a request that never finishes, as if its node died
		return nil, context.Canceled
	})
	<-inFlight
	defer close(release)
	_, err := idempotent(ctx, s, "CreateSequenceStore", "tok", map[string]string{"name": "a"}, func() (*created, error) { return &created{ID: "x"}, nil })
	if got := mapError(err); got == nil || got.Code != "ConflictException" {
		t.Fatalf("a retry while the first runs: %v, want ConflictException", err)
	}
	time.Sleep(100 * time.Millisecond)
	out, err := idempotent(ctx, s, "CreateSequenceStore", "tok", map[string]string{"name": "a"}, func() (*created, error) { return &created{ID: "retried"}, nil })
	if err != nil || out.ID != "retried" {
		t.Fatalf("a retry after the claim timeout: %+v %v, want the request run", out, err)
	}
}

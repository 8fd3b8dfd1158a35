package console

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"time"

	"github.com/seqstore/seqstore/internal/meta"
)

// session is one signed-in browser. It holds no secret: the access key's
// secret is checked at sign-in and forgotten.
type session struct {
	id          string // what the cookie holds; stored only hashed
	csrf        string
	accountID   string
	accessKeyID string
	expires     time.Time // the end of its lifetime
}

func (s *session) info() sessionInfo {
	return sessionInfo{AccessKeyID: s.accessKeyID, AccountID: s.accountID, CSRFToken: s.csrf, Expires: s.expires}
}

func (s *session) csrfMatches(token string) bool {
	return token != "" && subtle.ConstantTimeCompare([]byte(token), []byte(s.csrf)) == 1
}

// secretMatches compares secrets in time that does not depend on where they
// differ: hashing first also hides their lengths.
func secretMatches(want, got string) bool {
	a, b := sha256.Sum256([]byte(want)), sha256.Sum256([]byte(got))
	return subtle.ConstantTimeCompare(a[:], b[:]) == 1 && want != ""
}

// refusal is an error that says a request's session does not hold, as
// opposed to a failure to find out.
type refusal struct{ msg string }

func (r *refusal) Error() string { return r.msg }

// Refused marks the error as the caller's, for the API's authenticator.
func (r *refusal) Refused() bool { return true }

// sessions keeps the sessions in the metadata store, so that every node
// sharing it honours a session any node opened, and a restart signs no one
// out. Only a hash of each session ID is stored.
type sessions struct {
	store          meta.ConsoleSessions
	lifetime, idle time.Duration
	now            func() time.Time
}

// touchEvery is how stale a session's last use may be stored: a busy page
// writes it at most once a minute, not on every request.
const touchEvery = time.Minute

func hashID(id string) string {
	h := sha256.Sum256([]byte(id))
	return hex.EncodeToString(h[:])
}

// open starts a session for a key, and purges the sessions that have ended,
// so that the table holds little more than the live ones.
func (ss *sessions) open(ctx context.Context, accessKeyID, accountID string) (*session, error) {
	now := ss.now()
	if _, err := ss.store.ConsoleSessionsPurge(ctx, now, now.Add(-ss.idle)); err != nil {
		return nil, err
	}
	s := &session{id: rand.Text() + rand.Text(), csrf: rand.Text() + rand.Text(), accountID: accountID, accessKeyID: accessKeyID,
		expires: now.Add(ss.lifetime)}
	err := ss.store.ConsoleSessionPut(ctx, meta.ConsoleSession{IDHash: hashID(s.id), CSRFToken: s.csrf, AccountID: accountID,
		AccessKeyID: accessKeyID, CreatedAt: now, ExpiresAt: s.expires, LastSeenAt: now})
	if err != nil {
		return nil, err
	}
	return s, nil
}

// get returns a live session and records its use.
func (ss *sessions) get(ctx context.Context, id string) (*session, error) {
	h := hashID(id)
	cs, err := ss.store.ConsoleSessionGet(ctx, h)
	if errors.Is(err, meta.ErrNotFound) {
		return nil, errExpired
	}
	if err != nil {
		return nil, err
	}
	now := ss.now()
	if !now.Before(cs.ExpiresAt) || !now.Before(cs.LastSeenAt.Add(ss.idle)) {
		if err := ss.store.ConsoleSessionDelete(ctx, h); err != nil && !errors.Is(err, meta.ErrNotFound) {
			return nil, err
		}
		return nil, errExpired
	}
	if now.Sub(cs.LastSeenAt) >= touchEvery {
		if err := ss.store.ConsoleSessionTouch(ctx, h, now); err != nil && !errors.Is(err, meta.ErrNotFound) {
			return nil, err
		}
	}
	return &session{id: id, csrf: cs.CSRFToken, accountID: cs.AccountID, accessKeyID: cs.AccessKeyID, expires: cs.ExpiresAt}, nil
}

func (ss *sessions) remove(ctx context.Context, id string) error {
	err := ss.store.ConsoleSessionDelete(ctx, hashID(id))
	if errors.Is(err, meta.ErrNotFound) {
		return nil
	}
	return err
}

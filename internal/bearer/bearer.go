// Package bearer issues and checks the bearer tokens an operator gives an
// account for htsget and refget. Their clients, htslib among them, send
// `Authorization: Bearer TOKEN` (RFC 6750) but cannot sign requests with
// SigV4; a token acts for its account exactly as the account's access keys
// do there, and nowhere else.
//
// A token reads "sqt_" + ID + "_" + secret. The metadata store keeps the
// ID, the account and the SHA-256 of the secret, never the secret, so a
// copy of the database holds no working token. A token is looked up by
// its ID and its secret compared in constant time; every check reads the
// store, so a revocation holds on every node at once.
package bearer

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/seqstore/seqstore/internal/meta"
)

// prefix starts every token, so that one found in a log or a file can be
// told for what it is.
const prefix = "sqt_"

const (
	idBytes     = 8
	secretBytes = 32
)

// New makes a token for account, named name, that expires ttl after now
// (never when ttl is 0). It returns the token, to show the operator once,
// and the record to store.
func New(account, name string, ttl time.Duration, now time.Time) (string, meta.BearerToken) {
	id, secret := make([]byte, idBytes), make([]byte, secretBytes)
	rand.Read(id)
	rand.Read(secret)
	t := meta.BearerToken{
		ID:         hex.EncodeToString(id),
		AccountID:  account,
		Name:       name,
		SecretHash: hash(hex.EncodeToString(secret)),
		CreatedAt:  now.UTC().Truncate(time.Millisecond),
	}
	if ttl > 0 {
		t.ExpiresAt = now.Add(ttl).UTC().Truncate(time.Millisecond)
	}
	return prefix + t.ID + "_" + hex.EncodeToString(secret), t
}

func hash(secret string) []byte {
	sum := sha256.Sum256([]byte(secret))
	return sum[:]
}

// parse splits a token into its ID and secret; ok is false for a string
// that is not shaped like a token.
func parse(token string) (id, secret string, ok bool) {
	rest, ok := strings.CutPrefix(token, prefix)
	if !ok {
		return "", "", false
	}
	id, secret, ok = strings.Cut(rest, "_")
	if !ok || len(id) != 2*idBytes || len(secret) != 2*secretBytes {
		return "", "", false
	}
	return id, secret, true
}

// FromRequest returns the bearer token of a request's Authorization
// header, and whether it has one.
func FromRequest(r *http.Request) (string, bool) {
	scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	return strings.TrimSpace(token), true
}

// Error is a token that does not authenticate its request: 401, as RFC
// 6750's invalid_token.
type Error struct{ msg string }

func (e *Error) Error() string { return e.msg }

// Status is the HTTP status of the answer.
func (e *Error) Status() int { return http.StatusUnauthorized }

// Tokens finds stored tokens; meta.Store is one.
type Tokens interface {
	BearerTokenGet(ctx context.Context, id string) (*meta.BearerToken, error)
}

// Verifier checks tokens against the store.
type Verifier struct {
	Tokens Tokens
	// Now is the clock that expiry is judged by; nil is time.Now.
	Now func() time.Time
}

// Verify returns the account a token acts for, or an *Error saying why it
// does not.
func (v *Verifier) Verify(ctx context.Context, token string) (string, error) {
	id, secret, ok := parse(token)
	if !ok {
		return "", &Error{"the bearer token is not one seqstore issued: tokens start with " + prefix + " (seqstore admin token create)"}
	}
	t, err := v.Tokens.BearerTokenGet(ctx, id)
	if errors.Is(err, meta.ErrNotFound) {
		// Compare anyway, so that an unknown ID takes the time a known
		// one does.
		subtle.ConstantTimeCompare(hash(secret), make([]byte, sha256.Size))
		return "", &Error{"the bearer token is unknown: ask the operator for a token (seqstore admin token create)"}
	}
	if err != nil {
		return "", err
	}
	if subtle.ConstantTimeCompare(hash(secret), t.SecretHash) != 1 {
		return "", &Error{"the bearer token is unknown: ask the operator for a token (seqstore admin token create)"}
	}
	now := time.Now
	if v.Now != nil {
		now = v.Now
	}
	switch {
	case !t.RevokedAt.IsZero():
		return "", &Error{fmt.Sprintf("the bearer token %s was revoked at %s: ask the operator for a new one", t.ID, t.RevokedAt.Format(time.RFC3339))}
	case !t.ExpiresAt.IsZero() && !now().Before(t.ExpiresAt):
		return "", &Error{fmt.Sprintf("the bearer token %s expired at %s: ask the operator for a new one", t.ID, t.ExpiresAt.Format(time.RFC3339))}
	}
	return t.AccountID, nil
}

package api

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/seqstore/seqstore/internal/api/omicsapi"
	"github.com/seqstore/seqstore/internal/auth"
	"github.com/seqstore/seqstore/internal/sigv4"
	"github.com/seqstore/seqstore/internal/throttle"
)

// authenticator checks each request's SigV4 signature (or console session)
// and puts the caller's account in the context.
type authenticator struct {
	verifier *sigv4.Verifier
	throttle *throttle.Limiter // nil: no rate limits
	sessions Sessions          // nil: signatures only
}

// Sessions vouches for requests of the web console, which carry a session
// cookie instead of a signature (see package console).
type Sessions interface {
	// CarriesSession reports whether r claims a session rather than a
	// signature.
	CarriesSession(r *http.Request) bool
	// SessionAccount returns the account and access key ID of the session
	// r carries, or why r may not use it: an error with a Refused method
	// returning true (any other error is a failure to check). readOnly
	// tells an operation that changes nothing.
	SessionAccount(r *http.Request, readOnly bool) (accountID, accessKeyID string, err error)
}

// keyStore adapts auth.Keys to the verifier's credential lookup.
type keyStore struct{ keys *auth.Keys }

func (k keyStore) SecretFor(ctx context.Context, id string) (string, string, error) {
	key, err := k.keys.Lookup(ctx, id)
	if errors.Is(err, auth.ErrUnknownAccessKey) {
		return "", "", fmt.Errorf("%w: %s", sigv4.ErrUnknownAccessKey, id)
	}
	return key.Secret, key.AccountID, err
}

func newAuthenticator(keys *auth.Keys, region string) *authenticator {
	return &authenticator{verifier: &sigv4.Verifier{Credentials: Credentials(keys), Service: "omics", Region: region}}
}

// Credentials is the signature verifiers' view of the access keys, for
// other listeners (the S3 endpoint) that take the same keys.
func Credentials(keys *auth.Keys) sigv4.CredentialStore { return keyStore{keys} }

func (a *authenticator) authenticate(r *http.Request, op *omicsapi.Operation) (context.Context, error) {
	// The cookie first: SDK requests carry none, and pay for no query parse.
	if a.sessions != nil && a.sessions.CarriesSession(r) && !signed(r) {
		return a.authenticateSession(r, op)
	}
	id, err := a.verifier.Verify(r, sigv4.Options{AllowUnsignedPayload: op.UnsignedPayload})
	omicsapi.SetCaller(r.Context(), id.AccessKeyID)
	if err != nil {
		var se *sigv4.Error
		if errors.As(err, &se) {
			return nil, omicsapi.NewError(se.Status(), se.Code(), "%s", se.Message())
		}
		return nil, err
	}
	if err := a.allow(id.AccountID, op); err != nil {
		return nil, err
	}
	ctx := withAccount(r.Context(), id.AccountID)
	if id.Deferred {
		ctx = context.WithValue(ctx, unprovenKey{}, true)
	}
	return ctx, nil
}

// allow holds an account to its request rates.
func (a *authenticator) allow(account string, op *omicsapi.Operation) error {
	if a.throttle != nil && !a.throttle.Allow(account, op.Name, time.Now()) {
		return omicsapi.NewThrottlingException("Rate exceeded: this server allows each account %g %s requests a second; retry with backoff (the AWS clients do)",
			a.throttle.Rate(op.Name), op.Name)
	}
	return nil
}

// signed reports whether r carries a SigV4 signature, in its header or its
// query.
func signed(r *http.Request) bool {
	return r.Header.Get("Authorization") != "" || r.URL.Query().Has("X-Amz-Signature")
}

// authenticateSession takes the account of the console session r carries.
// Its body is not signed, so nothing about the caller stays unproven.
func (a *authenticator) authenticateSession(r *http.Request, op *omicsapi.Operation) (context.Context, error) {
	account, keyID, err := a.sessions.SessionAccount(r, op.ReadOnly)
	omicsapi.SetCaller(r.Context(), keyID)
	var refused interface{ Refused() bool }
	if errors.As(err, &refused) && refused.Refused() {
		return nil, omicsapi.NewAccessDeniedException("%s", err.Error())
	}
	if err != nil {
		return nil, err // a failure to check: the router logs it and answers 500
	}
	if err := a.allow(account, op); err != nil {
		return nil, err
	}
	return withAccount(r.Context(), account), nil
}

type unprovenKey struct{}

// identityUnproven reports whether the caller's signature covers a body the
// handler has not read to the end yet, so who it is stays unproven until
// then (sigv4.Identity.Deferred).
func identityUnproven(ctx context.Context) bool {
	v, _ := ctx.Value(unprovenKey{}).(bool)
	return v
}

// proveBeforeFailing keeps a handler that fails before reading all of an
// unproven caller's body from answering that caller: what the failure says
// (an upload that does not exist, say) is for the account's owner only. It
// reads the rest of the body, which completes the signature check, and
// returns the signature's failure instead of err when the check fails.
func proveBeforeFailing(ctx context.Context, body io.Reader, err error) error {
	if err == nil || body == nil || !identityUnproven(ctx) {
		return err
	}
	if _, rerr := io.Copy(io.Discard, body); rerr != nil {
		var se *sigv4.Error
		if errors.As(rerr, &se) {
			return rerr
		}
	}
	return err
}

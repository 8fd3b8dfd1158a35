package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/seqstore/seqstore/internal/api/omicsapi"
	"github.com/seqstore/seqstore/internal/auth"
	"github.com/seqstore/seqstore/internal/sigv4"
)

// authenticator checks each request's SigV4 signature and puts the caller's
// account in the context.
type authenticator struct {
	verifier *sigv4.Verifier
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
	return &authenticator{verifier: &sigv4.Verifier{Credentials: keyStore{keys}, Service: "omics", Region: region}}
}

func (a *authenticator) authenticate(r *http.Request, op *omicsapi.Operation) (context.Context, error) {
	id, err := a.verifier.Verify(r, sigv4.Options{AllowUnsignedPayload: op.UnsignedPayload})
	if err != nil {
		var se *sigv4.Error
		if errors.As(err, &se) {
			return nil, omicsapi.NewError(se.Status(), se.Code(), "%s", se.Message())
		}
		return nil, err
	}
	return withAccount(r.Context(), id.AccountID), nil
}

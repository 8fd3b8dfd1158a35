// Package api is seqstore's HealthOmics storage API: it implements the
// generated omicsapi.Handler by mapping wire shapes to the domain services
// and domain errors back to the model's exceptions, and it wraps the
// generated router with SigV4 authentication, or, for the web console, a
// session that Options.Sessions vouches for. It knows nothing of file
// formats or of how metadata and objects are stored.
package api

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"os"
	"time"

	"github.com/seqstore/seqstore"
	"github.com/seqstore/seqstore/internal/api/omicsapi"
	"github.com/seqstore/seqstore/internal/auth"
	"github.com/seqstore/seqstore/internal/meta"
	"github.com/seqstore/seqstore/internal/readset"
	"github.com/seqstore/seqstore/internal/reference"
	"github.com/seqstore/seqstore/internal/service"
	"github.com/seqstore/seqstore/internal/sigv4"
	"github.com/seqstore/seqstore/internal/throttle"
)

// Options assemble the API.
type Options struct {
	Service  *service.Service
	ReadSets *readset.Service
	// References runs reference imports, retrieval and deletes.
	References *reference.Service
	Keys       *auth.Keys
	Region     string
	// TokenKey signs pagination tokens.
	TokenKey []byte
	Log      *slog.Logger
	// ClaimTimeout is how long an unfinished clientToken claim holds;
	// zero means DefaultClaimTimeout.
	ClaimTimeout time.Duration
	// Throttle, when set, holds each account to its request rates.
	Throttle *throttle.Limiter
	// Sessions, when set, lets the web console's requests in on its
	// session cookie instead of a signature.
	Sessions Sessions
}

// DefaultClaimTimeout is where Options.ClaimTimeout's zero leads: far longer
// than any create or update takes.
const DefaultClaimTimeout = 5 * time.Minute

// Server implements omicsapi.Handler.
type Server struct {
	omicsapi.UnimplementedHandler
	svc    *service.Service
	rs     *readset.Service
	refs   *reference.Service
	meta   meta.Store
	tokens *pageTokens
	log    *slog.Logger

	claimTimeout time.Duration
}

// New returns the API's HTTP handler.
func New(o Options) http.Handler {
	s := &Server{
		svc:    o.Service,
		rs:     o.ReadSets,
		refs:   o.References,
		meta:   o.Service.Meta,
		tokens: &pageTokens{key: o.TokenKey},
		log:    o.Log,

		claimTimeout: o.ClaimTimeout,
	}
	if s.claimTimeout <= 0 {
		s.claimTimeout = DefaultClaimTimeout
	}
	a := newAuthenticator(o.Keys, o.Region)
	a.throttle = o.Throttle
	a.sessions = o.Sessions
	return omicsapi.NewRouter(s, omicsapi.RouterOptions{
		Authenticate: a.authenticate,
		MapError:     mapError,
		Logger:       o.Log,
		Extra:        []omicsapi.ExtraRoute{{Op: OpGetReadSetQC, Serve: s.getReadSetQC}},
	})
}

// accountKey carries the caller's account ID in the request context.
type accountKey struct{}

func withAccount(ctx context.Context, account string) context.Context {
	return context.WithValue(ctx, accountKey{}, account)
}

// account returns the caller's account; the authenticator always sets it.
func account(ctx context.Context) string {
	a, _ := ctx.Value(accountKey{}).(string)
	return a
}

// mapError turns a domain or metadata error into the model's exception.
func mapError(err error) *omicsapi.Error {
	var ae *omicsapi.Error
	if errors.As(err, &ae) {
		return ae
	}
	// A streamed part whose bytes do not match their signature fails while
	// the handler reads it: that is an authentication failure, not a fault.
	var sig *sigv4.Error
	if errors.As(err, &sig) {
		return omicsapi.NewError(sig.Status(), sig.Code(), "%s", sig.Message())
	}
	var se *seqstore.Error
	if errors.As(err, &se) {
		switch se.Code {
		case seqstore.CodeValidation:
			return omicsapi.NewValidationException("%s", se.Message)
		case seqstore.CodeNotFound:
			return omicsapi.NewResourceNotFoundException("%s", se.Message)
		case seqstore.CodeConflict:
			return omicsapi.NewConflictException("%s", se.Message)
		case seqstore.CodeAccessDenied:
			return omicsapi.NewAccessDeniedException("%s", se.Message)
		case seqstore.CodeQuotaExceeded:
			return omicsapi.NewServiceQuotaExceededException("%s", se.Message)
		case seqstore.CodeNotSupported:
			return omicsapi.NewNotSupportedOperationException("%s", se.Message)
		case seqstore.CodeRangeNotSatisfiable:
			return omicsapi.NewRangeNotSatisfiableException("%s", se.Message)
		}
	}
	switch {
	case errors.Is(err, meta.ErrBadPageKey), errors.Is(err, errBadToken):
		return omicsapi.NewValidationException("%s", errBadToken.Error())
	case errors.Is(err, meta.ErrNotFound):
		return omicsapi.NewResourceNotFoundException("the resource does not exist")
	case errors.Is(err, meta.ErrConflict):
		return omicsapi.NewConflictException("the resource changed while the request ran; try again")
	case errors.Is(err, context.Canceled):
		return omicsapi.NewRequestTimeoutException("the request was cancelled")
	case errors.Is(err, io.ErrUnexpectedEOF):
		// The client closed the connection mid-body: nobody reads this
		// answer, but it is the client's doing, not the server's.
		return omicsapi.NewValidationException("the request body ended before its Content-Length")
	case errors.Is(err, os.ErrDeadlineExceeded):
		// The listener cuts a request body that stops arriving.
		return omicsapi.NewRequestTimeoutException("the request body stopped arriving and was cut (%v); send it again", err)
	}
	return nil // the router logs it and answers InternalServerException
}

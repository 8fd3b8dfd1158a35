package server

import (
	"context"
	"errors"
	"io"
	"net/http"
	"runtime/debug"
	"strings"

	"github.com/seqstore/seqstore"
	"github.com/seqstore/seqstore/internal/bearer"
	"github.com/seqstore/seqstore/internal/reference"
	"github.com/seqstore/seqstore/internal/refget"
	"github.com/seqstore/seqstore/internal/sigv4"
)

// refgetSequences is the reference service as refget's store of sequences.
type refgetSequences struct{ refs *reference.Service }

func (s refgetSequences) Sequence(ctx context.Context, account, digest string) (*refget.Sequence, error) {
	if account == refget.AnyAccount {
		account = reference.AnyAccount
	}
	found, err := s.refs.FindSequence(ctx, account, digest)
	var se *seqstore.Error
	if errors.As(err, &se) && se.Code == seqstore.CodeNotFound {
		return nil, refget.ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	seq := &refget.Sequence{MD5: found.MD5, GA4GH: found.GA4GH, Length: found.Length,
		Open: func(ctx context.Context, start, end int64) (io.ReadCloser, error) {
			return s.refs.OpenSequence(ctx, found, start, end)
		}}
	for _, n := range found.Names {
		// The reference that names the sequence is the naming authority.
		seq.Aliases = append(seq.Aliases, refget.Alias{Alias: n.Name, NamingAuthority: n.ReferenceARN})
	}
	return seq, nil
}

// newRefget serves refget: public, or to callers authenticate names,
// seeing their account's sequences.
func newRefget(refs *reference.Service, authenticate func(*http.Request) (string, error), public bool) *refget.Handler {
	version := "dev"
	if info, ok := debug.ReadBuildInfo(); ok && info.Main.Version != "" && info.Main.Version != "(devel)" {
		version = info.Main.Version
	}
	return &refget.Handler{
		Store:        refgetSequences{refs},
		Public:       public,
		Authenticate: authenticate,
		Version:      version,
		Log:          refs.Log,
	}
}

// signedOrBearer authenticates a request to htsget or refget by its bearer
// token when it carries one, else by its SigV4 signature for the omics
// service: either names the account whose data the caller sees.
func signedOrBearer(verifier *sigv4.Verifier, tokens *bearer.Verifier) func(*http.Request) (string, error) {
	return func(r *http.Request) (string, error) {
		if token, ok := bearer.FromRequest(r); ok {
			return tokens.Verify(r.Context(), token)
		}
		id, err := verifier.Verify(r, sigv4.Options{})
		return id.AccountID, err
	}
}

// byPrefix sends the requests whose path starts with prefix to h, the
// others to next: refget shares the API's listener.
func byPrefix(prefix string, h, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, prefix) {
			h.ServeHTTP(w, r)
			return
		}
		next.ServeHTTP(w, r)
	})
}

package api

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"time"

	"github.com/seqstore/seqstore/internal/api/omicsapi"
	"github.com/seqstore/seqstore/internal/meta"
)

// idempotent runs do once per client token: a repeat of the same request
// with the same token gets the first response again, and the same token on a
// different request is refused. request must not contain the token itself.
// A claim whose request never finished (its node died) is abandoned after
// the server's claim timeout, and a retry then runs the request.
func idempotent[O any](ctx context.Context, s *Server, op, token string, request any, do func() (*O, error)) (*O, error) {
	if token == "" {
		return do()
	}
	body, err := json.Marshal(request)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(body)
	now := time.Now().UTC()
	rec := &meta.IdempotencyRecord{
		AccountID:       account(ctx),
		Operation:       op,
		Token:           token,
		RequestHash:     hex.EncodeToString(sum[:]),
		CreatedAt:       now,
		AbandonedBefore: now.Add(-s.claimTimeout),
	}
	existing, err := s.meta.IdempotencyClaim(ctx, rec)
	if err != nil {
		return nil, err
	}
	if existing != nil {
		if existing.RequestHash != rec.RequestHash {
			return nil, omicsapi.NewValidationException("clientToken %q was already used for a different %s request; use a new token for a new request", token, op)
		}
		if len(existing.Response) == 0 {
			return nil, omicsapi.NewConflictException("a %s request with clientToken %q is still running; retry it shortly", op, token)
		}
		var out O
		if err := json.Unmarshal(existing.Response, &out); err != nil {
			return nil, err
		}
		return &out, nil
	}
	// The claim is settled whatever happens to the request: a client that
	// hangs up must not leave its token answering "still running".
	settle := context.WithoutCancel(ctx)
	out, err := do()
	if err != nil {
		if rerr := s.meta.IdempotencyRelease(settle, rec.AccountID, op, token); rerr != nil {
			s.log.WarnContext(ctx, "could not release a client token", "op", op, "err", rerr)
		}
		return nil, err
	}
	resp, err := json.Marshal(out)
	if err != nil {
		return nil, err
	}
	if err := s.meta.IdempotencyFinish(settle, rec.AccountID, op, token, resp); err != nil {
		return nil, err
	}
	return out, nil
}

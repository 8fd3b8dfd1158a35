package sqlmeta

import (
	"context"
	"encoding/hex"
	"time"

	"github.com/seqstore/seqstore/internal/meta"
)

// BearerTokenPut adds a token: ErrConflict if its ID exists, ErrNotFound if
// its account does not.
func (s *Store) BearerTokenPut(ctx context.Context, t meta.BearerToken) error {
	_, err := s.write.exec(ctx, `INSERT INTO bearer_tokens (id, account_id, name, secret_hash, created_at, expires_at, revoked_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		t.ID, t.AccountID, t.Name, hex.EncodeToString(t.SecretHash), millis(t.CreatedAt), millis(t.ExpiresAt), millis(t.RevokedAt))
	return err
}

const bearerTokenColumns = `id, account_id, name, secret_hash, created_at, expires_at, revoked_at`

func scanBearerToken(row scanner) (meta.BearerToken, error) {
	var t meta.BearerToken
	var hash string
	var created, expires, revoked int64
	if err := row.Scan(&t.ID, &t.AccountID, &t.Name, &hash, &created, &expires, &revoked); err != nil {
		return t, translate(err)
	}
	var err error
	if t.SecretHash, err = hex.DecodeString(hash); err != nil {
		return t, err
	}
	t.CreatedAt, t.ExpiresAt, t.RevokedAt = fromMillis(created), fromMillis(expires), fromMillis(revoked)
	return t, nil
}

// BearerTokenGet returns a token by its ID.
func (s *Store) BearerTokenGet(ctx context.Context, id string) (*meta.BearerToken, error) {
	t, err := scanBearerToken(s.read.queryRow(ctx, `SELECT `+bearerTokenColumns+` FROM bearer_tokens WHERE id = $1`, id))
	if err != nil {
		return nil, err
	}
	return &t, nil
}

// BearerTokenList lists an account's tokens, oldest first.
func (s *Store) BearerTokenList(ctx context.Context, accountID string) ([]meta.BearerToken, error) {
	rows, err := s.read.query(ctx, `SELECT `+bearerTokenColumns+` FROM bearer_tokens WHERE account_id = $1 ORDER BY created_at, id`, accountID)
	return collect(rows, err, scanBearerToken)
}

// BearerTokenRevoke marks a token revoked, keeping the first revocation's
// time.
func (s *Store) BearerTokenRevoke(ctx context.Context, id string, at time.Time) error {
	return affected(s.write.exec(ctx, `UPDATE bearer_tokens SET revoked_at = CASE WHEN revoked_at = 0 THEN $2 ELSE revoked_at END WHERE id = $1`,
		id, millis(at)))
}
